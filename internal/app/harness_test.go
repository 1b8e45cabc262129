package app_test

// The end-to-end harness: the real App on a fresh database of each engine,
// served by httptest, with helpers to make users and tokens through the account
// service and to send JSON requests and read problem+json answers.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"steward/internal/app"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// testPassword satisfies the password policy and contains no test username.
const testPassword = "correct-horse-battery-staple-42"

// engines are the database engines every end-to-end test runs on.
var engines = []db.Engine{db.SQLite, db.Postgres}

// eachEngine runs fn as a parallel subtest per engine.
func eachEngine(t *testing.T, fn func(t *testing.T, e db.Engine)) {
	t.Helper()
	for _, e := range engines {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			fn(t, e)
		})
	}
}

// harness is a running Steward.
type harness struct {
	Engine db.Engine
	DBURL  string
	Config app.Config
	App    *app.App
	Srv    *httptest.Server
	// Admin is an administrator's bearer token.
	Admin string
	// Logs holds the server's log output.
	Logs *syncBuffer

	names atomic.Int64
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testConfig is the configuration of a test server on dbURL: no rate limit.
func testConfig(t testing.TB, dbURL string) app.Config {
	return app.Config{DatabaseURL: dbURL, DataDir: t.TempDir(), Addr: "127.0.0.1:0", RateLimit: 0,
		LockoutThreshold: 5, LockoutDuration: 15 * time.Minute, ShutdownTimeout: 5 * time.Second}
}

// newHarness starts the app on a fresh database of engine e. tweak, when given,
// adjusts the configuration first.
func newHarness(t testing.TB, e db.Engine, tweak ...func(*app.Config)) *harness {
	t.Helper()
	h := &harness{Engine: e, DBURL: dbtest.URL(t, e)}
	h.Config = testConfig(t, h.DBURL)
	for _, f := range tweak {
		f(&h.Config)
	}
	h.start(t)
	_, h.Admin = h.user(t, "admin-e2e", true)
	return h
}

// start opens the app on h.Config and serves it; the test's cleanup stops both.
func (h *harness) start(t testing.TB) {
	t.Helper()
	h.Logs = &syncBuffer{}
	var w io.Writer = h.Logs
	if os.Getenv("STEWARD_TEST_LOG") == "1" {
		w = io.MultiWriter(h.Logs, os.Stderr)
	}
	log := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx := context.Background()
	a, err := app.Open(ctx, h.Config, log)
	if err != nil {
		t.Fatalf("open app on %s: %v", h.Engine, err)
	}
	handler, err := a.Handler(ctx)
	if err != nil {
		a.Close()
		t.Fatalf("build handler: %v", err)
	}
	h.App, h.Srv = a, httptest.NewServer(handler)
	srv := h.Srv
	t.Cleanup(func() {
		srv.Close()
		a.Close()
	})
}

// stop closes the server and the app (for restart tests).
func (h *harness) stop() {
	h.Srv.Close()
	h.App.Close()
}

// name returns a unique name with prefix, for users, roles and teams.
func (h *harness) name(prefix string) string {
	return fmt.Sprintf("%s-%d", prefix, h.names.Add(1))
}

// user creates an account through the service, grants it a fresh role holding
// perms (when any), and issues an API token; it returns the user and the token.
func (h *harness) user(t testing.TB, username string, admin bool, perms ...auth.Permission) (auth.User, string) {
	t.Helper()
	ctx := context.Background()
	u, err := h.App.Auth.CreateUser(ctx, auth.NewUser{Username: username, Password: testPassword, Admin: admin})
	if err != nil {
		t.Fatalf("create user %s: %v", username, err)
	}
	if len(perms) > 0 {
		r, err := h.App.Auth.CreateRole(ctx, auth.Role{Name: h.name("role-" + username), Permissions: perms})
		if err != nil {
			t.Fatalf("create role: %v", err)
		}
		if err := h.App.Auth.GrantRole(ctx, u.ID, r.ID); err != nil {
			t.Fatalf("grant role: %v", err)
		}
	}
	secret, _, err := h.App.Auth.CreateToken(ctx, u.ID, "e2e", time.Hour)
	if err != nil {
		t.Fatalf("create token: %v", err)
	}
	return u, secret
}

// response is a read HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// req describes a request: a JSON value, raw bytes or nothing as the body.
type req struct {
	Method  string
	Path    string
	Token   string
	JSON    any
	Raw     []byte
	Headers map[string]string
}

// do sends r to the server and reads the whole answer.
func (h *harness) do(t testing.TB, r req) *response {
	t.Helper()
	var body io.Reader
	var ctype string
	switch {
	case r.Raw != nil:
		body, ctype = bytes.NewReader(r.Raw), "application/json"
	case r.JSON != nil:
		b, err := json.Marshal(r.JSON)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	hr, err := http.NewRequest(r.Method, h.Srv.URL+r.Path, body)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if ctype != "" {
		hr.Header.Set("Content-Type", ctype)
	}
	if r.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Headers {
		if v == "" {
			hr.Header.Del(k)
		} else {
			hr.Header.Set(k, v)
		}
	}
	res, err := h.Srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.Path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read %s %s: %v", r.Method, r.Path, err)
	}
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// get is a GET with a token.
func (h *harness) get(t testing.TB, path, token string) *response {
	t.Helper()
	return h.do(t, req{Method: http.MethodGet, Path: path, Token: token})
}

// String describes the response for failure messages.
func (r *response) String() string {
	b := r.Body
	if len(b) > 600 {
		b = b[:600]
	}
	return fmt.Sprintf("%d %s: %s", r.Status, r.Header.Get("Content-Type"), b)
}

// want fails the test unless the status is one of codes.
func (r *response) want(t testing.TB, codes ...int) *response {
	t.Helper()
	for _, c := range codes {
		if r.Status == c {
			return r
		}
	}
	t.Fatalf("want status %v, got %s", codes, r)
	return r
}

// decode decodes the JSON body into v.
func (r *response) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// problem is an RFC 9457 problem document.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
	Errors   []struct {
		Message  string `json:"message"`
		Location string `json:"location"`
		Value    any    `json:"value"`
	} `json:"errors"`
}

// problemErr reports what is wrong with r as a problem+json answer of status
// (any status when 0), or "" when nothing is.
func problemErr(r *response, status int) string {
	if status != 0 && r.Status != status {
		return fmt.Sprintf("want status %d, got %s", status, r)
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/problem+json" {
		return fmt.Sprintf("want Content-Type application/problem+json, got %s", r)
	}
	var p problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		return fmt.Sprintf("problem body is not JSON (%v): %s", err, r)
	}
	if p.Status != r.Status || p.Title == "" {
		return fmt.Sprintf("problem body lacks a matching status or a title: %s", r)
	}
	if leak := leaked(r.Body); leak != "" {
		return fmt.Sprintf("problem body leaks internal detail (%q): %s", leak, r)
	}
	return ""
}

// problem asserts r is a problem+json answer of status and returns it.
func (r *response) problem(t testing.TB, status int) problem {
	t.Helper()
	if msg := problemErr(r, status); msg != "" {
		t.Fatal(msg)
	}
	var p problem
	r.decode(t, &p)
	return p
}

// leakMarkers are strings that only internal errors would put in a body.
var leakMarkers = []string{"sql", "SQLSTATE", "pq:", "pgx", "sqlite", "goroutine ", "panic", ".go:", "/home/", "/root/", "/work/", "/usr/", "runtime."}

// leaked returns the first internal-detail marker found in body, or "".
func leaked(body []byte) string {
	s := string(body)
	for _, m := range leakMarkers {
		if strings.Contains(strings.ToLower(s), strings.ToLower(m)) {
			return m
		}
	}
	return ""
}

// count returns the number of rows of table matching where (SQL with ? args).
func (h *harness) count(t testing.TB, table, where string, args ...any) int64 {
	t.Helper()
	q := "SELECT COUNT(*) FROM " + table
	if where != "" {
		q += " WHERE " + where
	}
	var n int64
	if err := h.App.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// state is a snapshot of what a rejected request must not change.
type state struct{ Teams, Users, Roles, Tokens, Settings, Audit int64 }

// snapshot counts the business rows and the audit rows that are not about authentication.
func (h *harness) snapshot(t testing.TB) state {
	t.Helper()
	return state{
		Teams: h.count(t, "teams", ""), Users: h.count(t, "users", ""), Roles: h.count(t, "roles", ""),
		Tokens: h.count(t, "api_tokens", ""), Settings: h.count(t, "settings", ""),
		Audit: h.count(t, "audit_log", "action NOT LIKE ?", "auth.%"),
	}
}

// team is the API's team.
type team struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Email       string    `json:"email"`
	Members     []int64   `json:"members"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// createTeam creates a team through the API as the administrator.
func (h *harness) createTeam(t testing.TB, name string) team {
	t.Helper()
	r := h.do(t, req{Method: http.MethodPost, Path: "/api/v1/teams", Token: h.Admin, JSON: map[string]any{"name": name}})
	r.want(t, http.StatusCreated)
	var tm team
	r.decode(t, &tm)
	return tm
}
