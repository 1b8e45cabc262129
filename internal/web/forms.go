package web

import (
	"net/http"
	"strings"

	"steward/internal/platform/errs"
)

// maxFormBytes bounds the body of every form the pages accept.
const maxFormBytes = 64 << 10

// form is a submitted form: the values to show again and the errors to show
// next to the fields. Passwords are never put in Values.
type form struct {
	Values map[string]string
	Errors map[string]string
	// order is the fields with errors, in the order they were found.
	order []string
	// Error is the message about the form as a whole.
	Error string
}

func newForm() *form { return &form{Values: map[string]string{}, Errors: map[string]string{}} }

// Value is what the user typed into field name.
func (f *form) Value(name string) string {
	if f == nil {
		return ""
	}
	return f.Values[name]
}

// Err is the error message of field name, or "".
func (f *form) Err(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// Failed reports whether the form has any error.
func (f *form) Failed() bool { return f != nil && (f.Error != "" || len(f.Errors) > 0) }

// Set records an error on field name (the first one wins).
func (f *form) Set(name, msg string) {
	if _, ok := f.Errors[name]; !ok {
		f.Errors[name] = msg
		f.order = append(f.order, name)
	}
}

// fieldMessage is one field's error, for the summary at the top of a form.
type fieldMessage struct{ Name, Message string }

// List is the field errors in the order they were found.
func (f *form) List() []fieldMessage {
	out := make([]fieldMessage, len(f.order))
	for i, n := range f.order {
		out[i] = fieldMessage{Name: n, Message: f.Errors[n]}
	}
	return out
}

// FromError puts a validation error's field messages on the fields; it reports
// false when err is not a validation error, which the caller must then handle.
func (f *form) FromError(err error) bool {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return false
	}
	for _, fe := range e.Fields {
		name := fe.Location
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			name = name[i+1:]
		}
		if name == "" {
			f.Error = sentence(fe.Message)
			continue
		}
		f.Set(name, sentence(fe.Message))
	}
	if len(e.Fields) == 0 {
		f.Error = sentence(e.Message)
	}
	return true
}

// parseForm reads a POSTed form of bounded size.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return errs.E(errs.Invalid, "the form could not be read")
	}
	return nil
}
