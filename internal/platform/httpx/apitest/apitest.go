// Package apitest is test support for API handlers: the JSON API of one or
// more areas served as the application serves it (the same huma configuration,
// the API guard and the middleware chain), with helpers to issue tokens, send
// requests and check the replies. It is imported only by _test.go files.
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/platform/auth"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
)

// The body limits of the application's middleware.
const (
	maxJSONBody = 1 << 20
	maxAnyBody  = 32 << 20
)

// API is a handler for the operations register adds, behind the middleware the
// application uses: request metadata, the body limits, authentication, the
// RACI request cache and problem+json for every API error.
type API struct {
	t    testing.TB
	auth *auth.Service
	// Handler serves the API.
	Handler http.Handler
}

// New builds the API: register adds the operations of the areas under test.
func New(t testing.TB, as *auth.Service, register func(a *httpx.API)) *API {
	t.Helper()
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Steward API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	cfg.Transformers = append(cfg.Transformers, httpx.SelectFields)
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, as))
	log := slog.New(slog.DiscardHandler)
	register(&httpx.API{API: hapi, Log: log})
	return &API{t: t, auth: as, Handler: httpx.Chain(mux, httpx.RequestMeta(), httpx.MaxBody(maxAnyBody),
		httpx.CheckJSONBody(maxJSONBody), auth.Authenticate(as, log, nil), raci.RequestCache, httpx.APIErrorsAsProblems)}
}

// Token issues an API token for u, valid for an hour.
func (a *API) Token(u auth.User) string {
	a.t.Helper()
	secret, _, err := a.auth.CreateToken(context.Background(), u.ID, "test", time.Hour)
	if err != nil {
		a.t.Fatal(err)
	}
	return secret
}

// Do sends a request with token (none when empty) as a bearer token. A nil
// body sends none, a []byte is sent as is as application/octet-stream, and
// anything else as JSON. headers are name, value pairs set last, so they may
// replace the content type.
func (a *API) Do(method, path, token string, body any, headers ...string) Reply {
	a.t.Helper()
	switch b := body.(type) {
	case nil:
		return a.Raw(method, path, token, "", nil, headers...)
	case []byte:
		return a.Raw(method, path, token, "application/octet-stream", b, headers...)
	}
	j, err := json.Marshal(body)
	if err != nil {
		a.t.Fatal(err)
	}
	return a.Raw(method, path, token, "application/json", j, headers...)
}

// Raw sends body as is (none when nil) with contentType (none when empty).
func (a *API) Raw(method, path, token, contentType string, body []byte, headers ...string) Reply {
	a.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	a.Handler.ServeHTTP(w, req)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return Reply{Status: res.StatusCode, Header: res.Header, Body: b}
}

// Reply is a response as the client sees it.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Want fails the test unless the reply has status, and, for an error, a
// problem+json body.
func (r Reply) Want(t testing.TB, status int) Reply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if status >= 400 && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("error without problem+json: %s %s", r.Header.Get("Content-Type"), r.Body)
	}
	return r
}

// Decode unmarshals the JSON body into v, failing the test if it cannot.
func (r Reply) Decode(t testing.TB, v any) Reply {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return r
}

// Detail is the detail of a problem+json body.
func (r Reply) Detail(t testing.TB) string {
	t.Helper()
	var p Problem
	r.Decode(t, &p)
	return p.Detail
}

// Problem is a problem+json body.
type Problem struct {
	Status int
	Detail string
	Errors []FieldError
}

// FieldError is one error of a Problem, at a location such as body.impact.
type FieldError struct {
	Location, Message string
}

// Names reports whether some error of p is at loc.
func (p Problem) Names(loc string) bool {
	for _, e := range p.Errors {
		if e.Location == loc {
			return true
		}
	}
	return false
}
