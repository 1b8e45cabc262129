package cmdb_test

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
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
	k     *recordtest.Kernel
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
	k := recordtest.NewKernel(t, d, time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC))
	e := &ctlEnv{t: t, d: d, k: k, clock: k.Clock, auth: k.Auth, raci: k.RACI, recs: k.Records}
	var err error
	if e.svc, err = cmdb.New(cmdb.Deps{DB: d, Records: e.recs, RACI: e.raci, Trail: k.Trail, Events: k.Events, Clock: k.Clock}); err != nil {
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
	e.k.Assign(admin, []raci.RoleAssignment{
		{Subject: cmdb.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: cmdb.Process, Role: "process-analyst", UserID: e.librarian.ID},
	}...)
	return e
}

// user creates an account and returns it with a context acting as it.
func (e *ctlEnv) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	return e.k.User(name, admin)
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
	return recordtest.Count(e.t, e.d, query, args...)
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
	*apitest.API
	e *ctlEnv
}

func newCtlAPI(e *ctlEnv) *ctlAPI {
	return &ctlAPI{API: apitest.New(e.t, e.auth, func(a *httpx.API) { cmdb.RegisterAPI(a, e.svc) }), e: e}
}

// ctlProblem is a problem+json body.
type ctlProblem = apitest.Problem

// do sends a request with contentType: a []byte or string body as is, and
// any other non-nil body as JSON (application/json unless contentType says otherwise).
func (a *ctlAPI) do(method, path, token, contentType string, body any) apitest.Reply {
	a.e.t.Helper()
	switch b := body.(type) {
	case nil:
		return a.Raw(method, path, token, contentType, nil)
	case []byte:
		return a.Raw(method, path, token, contentType, b)
	case string:
		return a.Raw(method, path, token, contentType, append([]byte{}, b...))
	}
	if contentType == "" {
		return a.Do(method, path, token, body)
	}
	return a.Do(method, path, token, body, "Content-Type", contentType)
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
