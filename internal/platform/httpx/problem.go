// Package httpx holds the HTTP conventions every endpoint follows: RFC 9457
// problem responses, request ids, logging, metrics, rate limits, body checks,
// ETags and the registration of API operations with their permission.
package httpx

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/errs"
)

// Status maps an error kind to its HTTP status. It is the one such table.
func Status(k errs.Kind) int {
	switch k {
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.PreconditionFailed:
		return http.StatusPreconditionFailed
	case errs.PreconditionRequired:
		return http.StatusPreconditionRequired
	case errs.TooLarge:
		return http.StatusRequestEntityTooLarge
	case errs.RateLimited:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// Problem is an RFC 9457 problem document; it has the shape of huma's ErrorModel
// so that every error of the server looks alike.
type Problem struct {
	Type     string              `json:"type,omitempty"`
	Title    string              `json:"title,omitempty"`
	Status   int                 `json:"status,omitempty"`
	Detail   string              `json:"detail,omitempty"`
	Instance string              `json:"instance,omitempty"`
	Errors   []*huma.ErrorDetail `json:"errors,omitempty"`
}

// ToHuma converts a service error into the huma error the API returns. Internal
// errors are logged with the request id and replaced by a generic message.
func ToHuma(ctx context.Context, log *slog.Logger, err error) error {
	if err == nil {
		return nil
	}
	var se huma.StatusError
	if errors.As(err, &se) {
		return err
	}
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		if errors.Is(err, context.Canceled) {
			return huma.NewError(499, "the request was cancelled")
		}
		rid := RequestID(ctx)
		log.ErrorContext(ctx, "internal error", "err", err.Error(), "request_id", rid)
		return huma.NewError(http.StatusInternalServerError, "internal error; quote request id "+rid+" to an administrator")
	}
	details := make([]error, 0, len(e.Fields))
	for _, f := range e.Fields {
		details = append(details, &huma.ErrorDetail{Message: f.Message, Location: f.Location, Value: f.Value})
	}
	return huma.NewError(Status(e.Kind), e.Message, details...)
}

// WriteProblem writes a problem+json response outside huma (middleware, pages' API fallbacks).
func WriteProblem(w http.ResponseWriter, r *http.Request, status int, detail string, fields ...errs.FieldError) {
	p := Problem{Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path}
	for _, f := range fields {
		p.Errors = append(p.Errors, &huma.ErrorDetail{Message: f.Message, Location: f.Location, Value: f.Value})
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// WriteError writes err as problem+json, hiding internal detail.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		rid := RequestID(r.Context())
		log.ErrorContext(r.Context(), "internal error", "err", err.Error(), "request_id", rid)
		WriteProblem(w, r, http.StatusInternalServerError, "internal error; quote request id "+rid+" to an administrator")
		return
	}
	WriteProblem(w, r, Status(e.Kind), e.Message, e.Fields...)
}

var sanitizeOnce sync.Once

// InstallErrorSanitizer makes every huma error safe to send: a detail keeps its
// offending value only when that is a short scalar, never for the whole body and
// never for a field named like a password, secret or token. Without it huma echoes
// the request body (passwords included) in validation errors. huma's error
// constructor is a package variable, so this is installed once per process.
func InstallErrorSanitizer() {
	sanitizeOnce.Do(func() {
		orig := huma.NewError
		huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
			se := orig(status, msg, errs...)
			if em, ok := se.(*huma.ErrorModel); ok {
				for _, d := range em.Errors {
					if d != nil {
						d.Value = safeValue(d.Location, d.Value)
					}
				}
			}
			return se
		}
	})
}

func safeValue(location string, v any) any {
	loc := strings.ToLower(location)
	if loc == "" || loc == "body" || strings.Contains(loc, "password") || strings.Contains(loc, "secret") ||
		strings.Contains(loc, "token") || strings.Contains(loc, "authorization") {
		return nil
	}
	switch x := v.(type) {
	case nil, bool, int, int64, float64, json.Number:
		return x
	case string:
		if len(x) <= 100 {
			return x
		}
	}
	return nil
}
