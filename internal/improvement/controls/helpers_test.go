package controls_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"steward/internal/framework"
	"steward/internal/improvement/controls"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
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
	c := clock.NewFixed(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	trail, events := audit.NewTrail(c), outbox.New(c, nil)
	model, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, clock: c}
	e.auth = auth.NewService(d, trail, events, c, auth.NewHasher(0), auth.DefaultConfig())
	e.raci = raci.New(d, model, trail, events, c)
	e.recs = record.New(record.Deps{DB: d, Guard: e.raci, Model: model, Trail: trail, Events: events, Clock: c})
	if e.svc, err = controls.New(controls.Deps{DB: d, Records: e.recs, Model: model, Clock: c}); err != nil {
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
	for _, a := range []raci.RoleAssignment{
		{Subject: "IM", Role: raci.RoleProcessOwner, UserID: e.owner.ID},
		{Subject: "IM", Role: "process-manager", UserID: e.manager.ID},
		{Subject: "IM", Role: "process-developer", UserID: e.developer.ID},
		{Subject: "IM", Role: "process-analyst", UserID: e.analyst.ID},
	} {
		if _, err := e.raci.Assign(context.Background(), admin, a); err != nil {
			t.Fatalf("assign %s: %v", a.Role, err)
		}
	}
	return e
}

// user creates an account and returns it with a context acting as it.
func (e *env) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	u := auth.User{Username: name, Admin: admin}
	ctx := context.Background()
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO users (username, is_admin, created_at, updated_at)
			VALUES (?, ?, 0, 0) RETURNING id`, name, admin).Scan(&u.ID)
	}); err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	return u, auth.WithPrincipal(ctx, &auth.Principal{UserID: u.ID, Username: u.Username, Admin: admin})
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
type event struct {
	Type string
	Data map[string]any
}

func (e *env) events(typ string) []event {
	e.t.Helper()
	rows, err := e.d.QueryContext(context.Background(), `SELECT type, data FROM outbox_events WHERE type = ? ORDER BY id`, typ)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var ev event
		var data string
		if err := rows.Scan(&ev.Type, &data); err != nil {
			e.t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, ev)
	}
	return out
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
	items, _, err := audit.List(context.Background(), e.d, audit.Filter{Action: action, Limit: 500})
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

func ptr[T any](v T) *T { return &v }
