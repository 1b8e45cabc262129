package record_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
)

// ticketType is a generic ticket of process IM: investigate (IM4), resolve
// (IM5), reopen (IM4) and close (IM6, which waits for approval when the
// organisation flags it).
func ticketType() record.Type {
	return record.Type{Name: "ticket", Label: "Ticket", Prefix: "TKT", Process: "IM", Initial: "new",
		States: []record.State{{Name: "new", Label: "New"}, {Name: "in_progress", Label: "In progress"},
			{Name: "resolved", Label: "Resolved"}, {Name: "closed", Label: "Closed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "investigate", From: []string{"new"}, To: "in_progress", Activity: "IM4", Label: "Investigate"},
			{Action: "resolve", From: []string{"new", "in_progress"}, To: "resolved", Activity: "IM5", Label: "Resolve"},
			{Action: "reopen", From: []string{"resolved"}, To: "in_progress", Activity: "IM4", Label: "Reopen"},
			{Action: "close", From: []string{"resolved"}, To: "closed", Activity: "IM6", Label: "Close"},
		}}
}

// grant is one role a test user holds for one activity.
type grant struct {
	activity string
	letters  framework.Cell
	user     auth.User
	role     string
	scope    raci.Scope
}

// testGuard is a RACI guard over a fixed table of grants. It counts its calls.
type testGuard struct {
	mu      sync.Mutex
	grants  []grant
	decides int
	holders int
}

func (g *testGuard) give(activity string, letters framework.Cell, u auth.User, role string, sc ...raci.Scope) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gr := grant{activity: activity, letters: letters, user: u, role: role}
	if len(sc) > 0 {
		gr.scope = sc[0]
	}
	g.grants = append(g.grants, gr)
}

func covers(s, target raci.Scope) bool {
	return (s.TeamID == 0 || s.TeamID == target.TeamID) && (s.ServiceID == 0 || s.ServiceID == target.ServiceID)
}

func (g *testGuard) Decide(_ context.Context, p *auth.Principal, process, activity string, sc raci.Scope) (raci.Decision, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.decides++
	d := raci.Decision{Process: process, Activity: activity, ActivityName: "activity " + activity, Performers: []raci.RoleRef{}}
	seen := map[string]bool{}
	for _, gr := range g.grants {
		if gr.activity != activity || gr.letters&(framework.R|framework.A) == 0 {
			continue
		}
		if !seen[gr.role] {
			seen[gr.role] = true
			d.Performers = append(d.Performers, raci.RoleRef{Code: gr.role, Name: gr.role, Letters: gr.letters.String()})
		}
		if p != nil && gr.user.ID == p.UserID && covers(gr.scope, sc) && !d.Allowed {
			d.Allowed, d.Role = true, &raci.RoleRef{Code: gr.role, Name: gr.role, Letters: gr.letters.String()}
			d.Letter = "R"
			if !gr.letters.Has(framework.R) {
				d.Letter = "A"
			}
			d.Explanation = fmt.Sprintf("you hold %s for %s as %s", d.Letter, activity, gr.role)
		}
	}
	if !d.Allowed && p != nil && p.Admin {
		d.Allowed, d.Override = true, true
		d.Explanation = "administrator override"
	}
	if !d.Allowed {
		d.Explanation = "you hold neither R nor A for " + activity
	}
	return d, nil
}

func (g *testGuard) Holders(_ context.Context, _, activity string, letter framework.Cell, sc raci.Scope) ([]raci.Holder, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.holders++
	var out []raci.Holder
	for _, gr := range g.grants {
		if gr.activity == activity && gr.letters.Has(letter) && covers(gr.scope, sc) {
			out = append(out, raci.Holder{UserID: gr.user.ID, Username: gr.user.Username, Role: gr.role, Via: "directly"})
		}
	}
	return out, nil
}

func (g *testGuard) calls() (int, int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.decides, g.holders
}

// env is the kernel over a fresh database with the ticket type, a test guard and settable gates.
type env struct {
	t     testing.TB
	d     *db.DB
	svc   *record.Service
	auth  *auth.Service
	guard *testGuard
	clock *clock.Fixed

	mu    sync.Mutex
	gates map[string]record.Gate
}

func newEnv(t testing.TB, d *db.DB, cfg ...record.Config) *env {
	t.Helper()
	c := clock.NewFixed(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	trail := audit.NewTrail(c)
	events := outbox.New(c, nil)
	e := &env{t: t, d: d, guard: &testGuard{}, clock: c, gates: map[string]record.Gate{}}
	e.auth = auth.NewService(d, trail, events, c, auth.NewHasher(0), auth.DefaultConfig())
	deps := record.Deps{DB: d, Guard: e.guard, Trail: trail, Events: events, Clock: c, Gates: e.gate}
	if len(cfg) > 0 {
		deps.Config = cfg[0]
	}
	if m, err := framework.Embedded(); err == nil {
		deps.Model = m
	} else {
		t.Fatalf("reference model: %v", err)
	}
	e.svc = record.New(deps)
	if err := e.svc.Register(ticketType()); err != nil {
		t.Fatalf("register ticket: %v", err)
	}
	return e
}

func (e *env) gate(_ context.Context, _, activity string) (record.Gate, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.gates[activity], nil
}

func (e *env) setGate(activity string, g record.Gate) {
	e.mu.Lock()
	e.gates[activity] = g
	e.mu.Unlock()
}

// user creates an account and returns it with a context acting as it.
func (e *env) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	// Written directly: hashing a password per test user would dominate the run time.
	return recordtest.NewUser(e.t, e.d, name, admin)
}

func (e *env) as(u auth.User) context.Context {
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: u.ID, Username: u.Username, Admin: u.Admin})
}

// team creates a team with members.
func (e *env) team(name string, members ...auth.User) auth.Team {
	e.t.Helper()
	ctx := context.Background()
	tm, err := e.auth.CreateTeam(ctx, auth.Team{Name: name})
	if err != nil {
		e.t.Fatal(err)
	}
	ids := []int64{}
	for _, m := range members {
		ids = append(ids, m.ID)
	}
	if tm, err = e.auth.UpdateTeam(ctx, tm.ID, tm.Version, auth.TeamUpdate{Members: &ids}); err != nil {
		e.t.Fatal(err)
	}
	return tm
}

func (e *env) ticket(ctx context.Context, title string, in ...record.NewRecord) record.Record {
	e.t.Helper()
	n := record.NewRecord{Title: title}
	if len(in) > 0 {
		n = in[0]
		n.Title = title
	}
	r, err := e.svc.Create(ctx, "ticket", n)
	if err != nil {
		e.t.Fatalf("create ticket %q: %v", title, err)
	}
	return r
}

// event is one outbox row.
type event = recordtest.Event

func (e *env) events(typ string) []event {
	e.t.Helper()
	return recordtest.Events(e.t, e.d, typ)
}

func (e *env) audits(action string) []audit.Item {
	e.t.Helper()
	return recordtest.Audits(e.t, e.d, action)
}

func changeOf(it audit.Item, field string) (audit.Change, bool) {
	i := slices.IndexFunc(it.ChangeList, func(c audit.Change) bool { return c.Field == field })
	if i < 0 {
		return audit.Change{}, false
	}
	return it.ChangeList[i], true
}
