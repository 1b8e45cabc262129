package controls_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"steward/internal/improvement/controls"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
)

// env is the controls over a fresh database, with the real RACI service
// holding the default Incident Management matrix, and the people of DESMF's
// generic RACI template assigned to IM through raci.Service.Assign:
//
//	              Owner  Manager  Developer  Analyst
//	IM1 Establish   A       R        I          C
//	IM7 Monitor     I       A        I          R
//	IM8 Evaluate    A       R        R          R
type env struct {
	t     testing.TB
	d     *db.DB
	k     *recordtest.Kernel
	clock *clock.Fixed
	raci  *raci.Service
	recs  *record.Service
	svc   *controls.Service
	auth  *auth.Service

	admin                                        *auth.Principal
	owner, manager, developer, analyst, stranger auth.User
	o, m, dv, an, s                              context.Context
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, d: d, k: k, clock: k.Clock, auth: k.Auth, raci: k.RACI, recs: k.Records}
	var err error
	if e.svc, err = controls.New(controls.Deps{DB: d, Records: e.recs, Model: k.Model, Clock: k.Clock}); err != nil {
		t.Fatal(err)
	}
	root, _ := e.user("root", true)
	admin := &auth.Principal{UserID: root.ID, Username: root.Username, Admin: true}
	e.admin = admin
	e.owner, e.o = e.user("owner", false)
	e.manager, e.m = e.user("manager", false)
	e.developer, e.dv = e.user("developer", false)
	e.analyst, e.an = e.user("analyst", false)
	e.stranger, e.s = e.user("stranger", false)
	e.k.Assign(admin, []raci.RoleAssignment{
		{Subject: "IM", Role: raci.RoleProcessOwner, UserID: e.owner.ID},
		{Subject: "IM", Role: "process-manager", UserID: e.manager.ID},
		{Subject: "IM", Role: "process-developer", UserID: e.developer.ID},
		{Subject: "IM", Role: "process-analyst", UserID: e.analyst.ID},
	}...)
	return e
}

// user creates an account and returns it with a context acting as it.
func (e *env) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	return e.k.User(name, admin)
}

// perform performs a workflow action through the record kernel.
func (e *env) perform(ctx context.Context, number string, version int64, action string) (record.Result, error) {
	return e.recs.Perform(ctx, number, action, record.PerformInput{Version: version})
}

func (e *env) mustPerform(ctx context.Context, number string, version int64, action string, want record.Outcome) record.Result {
	e.t.Helper()
	res, err := e.perform(ctx, number, version, action)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, number, err)
	}
	if res.Outcome != want {
		e.t.Fatalf("%s %s: outcome %s, want %s", action, number, res.Outcome, want)
	}
	return res
}

// event is one outbox row.
type event = recordtest.Event

func (e *env) events(typ string) []event {
	e.t.Helper()
	return recordtest.Events(e.t, e.d, typ)
}

// informed lists the usernames a raci.informed event names, sorted.
func informed(ev event) []string {
	var out []string
	for _, u := range ev.Data["users"].([]any) {
		out = append(out, u.(map[string]any)["username"].(string))
	}
	slices.Sort(out)
	return out
}

func (e *env) audits(action string) []audit.Item {
	e.t.Helper()
	return recordtest.Audits(e.t, e.d, action)
}

func ptr[T any](v T) *T { return recordtest.Ptr(v) }
