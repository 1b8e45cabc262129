// Package errs defines the handful of error kinds Steward uses and the helpers that wrap errors with context.
package errs

import (
	"errors"
	"fmt"
)

// Kind classifies an error so that every layer maps it to one HTTP status and one message policy.
type Kind int

// The kinds of error. Internal is the zero value so that an unclassified error never leaks detail.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Forbidden
	Unauthenticated
	PreconditionFailed
	PreconditionRequired
	TooLarge
	RateLimited
)

func (k Kind) String() string {
	switch k {
	case Invalid:
		return "invalid"
	case NotFound:
		return "not found"
	case Conflict:
		return "conflict"
	case Forbidden:
		return "forbidden"
	case Unauthenticated:
		return "unauthenticated"
	case PreconditionFailed:
		return "precondition failed"
	case PreconditionRequired:
		return "precondition required"
	case TooLarge:
		return "too large"
	case RateLimited:
		return "rate limited"
	default:
		return "internal"
	}
}

// FieldError names one field (or rule) that a request broke.
type FieldError struct {
	// Location is the field path, such as "body.name" or "query.limit".
	Location string `json:"location,omitempty"`
	// Message says what is wrong with it.
	Message string `json:"message"`
	// Value is the offending value, when it is safe to echo.
	Value any `json:"value,omitempty"`
}

// Error is a classified error with a message that is safe to show to the caller.
type Error struct {
	Kind    Kind
	Message string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		if e.Message == "" {
			return e.Err.Error()
		}
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// E builds a classified error whose message is shown to the caller.
func E(kind Kind, format string, args ...any) *Error {
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Field builds an Invalid error naming one field.
func Field(location, message string, value any) *Error {
	return &Error{Kind: Invalid, Message: "validation failed", Fields: []FieldError{{Location: location, Message: message, Value: value}}}
}

// WithFields returns an Invalid error carrying several field errors, or nil when there are none.
func WithFields(fields []FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return &Error{Kind: Invalid, Message: "validation failed", Fields: fields}
}

// KindOf reports the kind of the first classified error in err's chain, or Internal.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return Internal
}

// As returns the first classified error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err is classified as kind.
func Is(err error, kind Kind) bool {
	e, ok := As(err)
	return ok && e.Kind == kind
}

// Wrap annotates *errp with the operation that was under way, keeping its kind.
// Use it as `defer errs.Wrap(&err, "store.GetUser(%d)", id)`.
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
