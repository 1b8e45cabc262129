package cmdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb"
)

// ctlEnv is configuration management over a fresh database, with the real
// RACI, record and auth services, and people holding the default CfM matrix's
// roles through raci.Service.Assign:
//
//	              configuration manager   librarian   stranger
//	              (process-manager)       (analyst)
//	CfM2 Identify        A                    R           -
//	CfM3 Control         A                    R           -
//	CfM5 Verify          A                    R           -
type ctlEnv struct {
	t     testing.TB
	d     *db.DB
	clock *clock.Fixed
	auth  *auth.Service
	raci  *raci.Service
	recs  *record.Service
	svc   *cmdb.Service

	manager, librarian, stranger auth.User
	mgr, lib, str                context.Context
}

func newCtlEnv(t testing.TB, d *db.DB) *ctlEnv {
	t.Helper()
	c := clock.NewFixed(time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC))
	trail, events := audit.NewTrail(c), outbox.New(c, nil)
	model, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	e := &ctlEnv{t: t, d: d, clock: c}
	e.auth = auth.NewService(d, trail, events, c, auth.NewHasher(0), auth.DefaultConfig())
	e.raci = raci.New(d, model, trail, events, c)
	e.recs = record.New(record.Deps{DB: d, Guard: e.raci, Model: model, Trail: trail, Events: events, Clock: c})
	if e.svc, err = cmdb.New(cmdb.Deps{DB: d, Records: e.recs, RACI: e.raci, Trail: trail, Events: events, Clock: c}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	root, _ := e.user("root", true)
	admin := &auth.Principal{UserID: root.ID, Username: root.Username, Admin: true}
	e.manager, e.mgr = e.user("cfg-manager", false)
	e.librarian, e.lib = e.user("librarian", false)
	e.stranger, e.str = e.user("stranger", false)
	for _, a := range []raci.RoleAssignment{
		{Subject: cmdb.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: cmdb.Process, Role: "process-analyst", UserID: e.librarian.ID},
	} {
		if _, err := e.raci.Assign(context.Background(), admin, a); err != nil {
			t.Fatalf("assign %s: %v", a.Role, err)
		}
	}
	return e
}

// user creates an account and returns it with a context acting as it.
func (e *ctlEnv) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	u := auth.User{Username: name, Admin: admin}
	ctx := context.Background()
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO users (username, is_admin, created_at, updated_at) VALUES (?, ?, 0, 0) RETURNING id`,
			name, admin).Scan(&u.ID)
	}); err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	return u, auth.WithPrincipal(ctx, &auth.Principal{UserID: u.ID, Username: u.Username, Admin: admin})
}

// ci registers a CI as the configuration manager.
func (e *ctlEnv) ci(class, name string, attrs cmdb.Attrs) cmdb.CI {
	e.t.Helper()
	c, err := e.svc.CreateCI(e.mgr, cmdb.NewCI{Class: class, Name: name, Attrs: attrs})
	if err != nil {
		e.t.Fatalf("create %s %s: %v", class, name, err)
	}
	return c
}

// relate relates two CIs as the configuration manager.
func (e *ctlEnv) relate(src int64, typ string, dst int64) cmdb.Relation {
	e.t.Helper()
	r, err := e.svc.AddRelation(e.mgr, cmdb.NewRelation{SourceID: src, Type: typ, TargetID: dst})
	if err != nil {
		e.t.Fatalf("relate %d %s %d: %v", src, typ, dst, err)
	}
	return r
}

// count counts rows of a query.
func (e *ctlEnv) count(query string, args ...any) int64 {
	e.t.Helper()
	var n int64
	if err := e.d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// ctlWantKind fails unless err is classified as kind.
func ctlWantKind(t testing.TB, err error, kind errs.Kind) *errs.Error {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %s", kind)
	}
	e, ok := errs.As(err)
	if !ok || e.Kind != kind {
		t.Fatalf("error %v, want kind %s", err, kind)
	}
	return e
}

// locations lists the field locations of a classified error.
func ctlLocations(err error) []string {
	e, ok := errs.As(err)
	if !ok {
		return nil
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Location
	}
	return out
}

// ctlApproving is a change authority that approves one change reference.
type ctlApproving struct {
	ref string
	mu  sync.Mutex
	// asked records each CI asked about.
	asked []int64
}

func (a *ctlApproving) Approved(_ context.Context, ci int64, ref string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, ci)
	return ref != "" && ref == a.ref, nil
}

// ctlAPI is the configuration management API over a ctlEnv, behind the
// middleware the application uses.
type ctlAPI struct {
	e       *ctlEnv
	handler http.Handler
}

func newCtlAPI(e *ctlEnv) *ctlAPI {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("CMDB API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, e.auth))
	log := slog.New(slog.DiscardHandler)
	japi := &httpx.API{API: hapi, Log: log}
	cmdb.RegisterAPI(japi, e.svc)
	return &ctlAPI{e: e, handler: httpx.Chain(mux, httpx.RequestMeta(), httpx.MaxBody(32<<20), httpx.CheckJSONBody(1<<20),
		auth.Authenticate(e.auth, log, nil), raci.RequestCache, httpx.APIErrorsAsProblems)}
}

func (a *ctlAPI) token(u auth.User) string {
	a.e.t.Helper()
	secret, _, err := a.e.auth.CreateToken(context.Background(), u.ID, "test", time.Hour)
	if err != nil {
		a.e.t.Fatal(err)
	}
	return secret
}

type ctlReply struct {
	status int
	header http.Header
	body   []byte
}

func (r ctlReply) want(t testing.TB, status int) ctlReply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (r ctlReply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// ctlProblem is a problem+json body.
type ctlProblem struct {
	Detail string
	Errors []struct{ Location, Message string }
}

// do sends a request; a non-nil body that is not []byte is sent as JSON.
func (a *ctlAPI) do(method, path, token, contentType string, body any) ctlReply {
	a.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(body)
		if err != nil {
			a.e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
		if contentType == "" {
			contentType = "application/json"
		}
	}
	req := httptest.NewRequest(method, path, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, req)
	return ctlReply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

// ctlJSONDiff compares two values by their JSON form, returning both when they differ.
func ctlJSONDiff(want, got any) string {
	w, _ := json.MarshalIndent(want, "", "  ")
	g, _ := json.MarshalIndent(got, "", "  ")
	if bytes.Equal(w, g) {
		return ""
	}
	return "\nwant " + string(w) + "\ngot  " + string(g)
}
