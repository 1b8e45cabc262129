package tracker_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/operation/incident"
	"steward/internal/platform/auth"
	"steward/internal/platform/calendar"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/raci"
	"steward/internal/platform/record/recordtest"
)

// Monday 3 March 2025, 09:00 UTC: the scenarios' start.
var start = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

// at is a time in the scenario's week: day 0 is Monday 3 March 2025 (UTC).
func at(day, hour, minute int) time.Time {
	return time.Date(2025, 3, 3+day, hour, minute, 0, 0, time.UTC)
}

// The test calendars.
const (
	cal24x7     = 1
	calBusiness = 2
)

// schedules are the test's calendars: 24×7 and Mon–Fri 08:00–17:00 UTC, built
// with the platform's calendar package.
type schedules map[int64]*calendar.Schedule

func newSchedules(t testing.TB) schedules {
	t.Helper()
	var week []calendar.Window
	for _, d := range calendar.Days[:5] {
		week = append(week, calendar.Window{Day: d, Start: "08:00", End: "17:00"})
	}
	var all []calendar.Window
	for _, d := range calendar.Days {
		all = append(all, calendar.Window{Day: d, Start: "00:00", End: "24:00"})
	}
	out := schedules{}
	for id, c := range map[int64]calendar.Calendar{
		cal24x7:     {Name: "24x7", TimeZone: "UTC", Windows: all},
		calBusiness: {Name: "business", TimeZone: "UTC", Windows: week},
	} {
		s, err := c.Compile()
		if err != nil {
			t.Fatal(err)
		}
		out[id] = s
	}
	return out
}

func (s schedules) Schedule(_ context.Context, id int64) (sla.Schedule, error) {
	return s[id], nil
}

// targets is a fixed set of targets the test may replace, standing for the
// agreed agreements (test data, as servicelevel.Service would resolve them).
type targets struct {
	mu sync.Mutex
	ts []sla.Target
}

func (t *targets) Targets(context.Context) ([]sla.Target, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ts, nil
}

func (t *targets) set(ts []sla.Target) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.ts = ts
}

// deskSLA is the desk's agreement: response in 2 business hours, resolution
// in 8 (P2) or 16 (P3) business hours, on the business calendar; p2 is the
// P2 resolution time.
func deskSLA(p2 time.Duration, esc ...sla.Escalation) []sla.Target {
	inc := []string{incident.Type}
	base := sla.Target{AgreementID: 7, AgreementName: "Desk SLA", AgreementKind: "SLA", CalendarID: calBusiness}
	resp, res2, res3 := base, base, base
	resp.ID, resp.Name, resp.Kind, resp.Duration = 71, "Response", sla.KindResponse, 2*time.Hour
	resp.Selector = sla.Selector{RecordTypes: inc}
	res2.ID, res2.Name, res2.Kind, res2.Duration = 72, "Resolution P2", sla.KindResolution, p2
	res2.Selector = sla.Selector{RecordTypes: inc, Priorities: []int{1, 2}}
	res2.Escalations = esc
	res3.ID, res3.Name, res3.Kind, res3.Duration = 73, "Resolution P3", sla.KindResolution, 16*time.Hour
	res3.Selector = sla.Selector{RecordTypes: inc, Priorities: []int{3, 4, 5}}
	res3.Escalations = esc
	for _, t := range []*sla.Target{&resp, &res2, &res3} {
		t.Rule = sla.DefaultRule(t.Kind, incident.Type)
	}
	return []sla.Target{resp, res2, res3}
}

// world is incident management and the tracker over one database.
type world struct {
	t       testing.TB
	d       *db.DB
	k       *recordtest.Kernel
	clock   *clock.Fixed
	inc     *incident.Service
	tracker *tracker.Service
	targets *targets
	sched   schedules

	admin           *auth.Principal
	root, analyst   auth.User
	rt, an, caller  context.Context
	team, otherTeam int64
}

func newWorld(t testing.TB, d *db.DB, ts []sla.Target) *world {
	t.Helper()
	k := recordtest.NewKernel(t, d, start)
	w := &world{t: t, d: d, k: k, clock: k.Clock, targets: &targets{ts: ts}, sched: newSchedules(t)}
	var err error
	if w.inc, err = incident.New(incident.Deps{DB: d, Records: k.Records, Trail: k.Trail, Events: k.Events, Clock: k.Clock, RACI: k.RACI}); err != nil {
		t.Fatal(err)
	}
	w.tracker = w.newTracker(d, k, nil)
	w.root, w.rt = k.User("root", true)
	w.admin = auth.PrincipalFrom(w.rt)
	w.analyst, w.an = k.User("analyst", false)
	_, w.caller = k.User("caller", false)
	k.Assign(w.admin, raci.RoleAssignment{Subject: incident.Process, Role: "process-analyst", UserID: w.analyst.ID})
	w.team = w.exec(`INSERT INTO teams (name, created_at, updated_at) VALUES ('Service desk', 0, 0) RETURNING id`)
	w.otherTeam = w.exec(`INSERT INTO teams (name, created_at, updated_at) VALUES ('Second line', 0, 0) RETURNING id`)
	w.exec(`INSERT INTO team_members (team_id, user_id) VALUES (?, ?) RETURNING team_id`, w.team, w.analyst.ID)
	return w
}

// newTracker builds a tracker over d with the world's targets, calendars and clock.
func (w *world) newTracker(d *db.DB, k *recordtest.Kernel, node *string) *tracker.Service {
	w.t.Helper()
	deps := tracker.Deps{DB: d, Records: k.Records, Trail: k.Trail, Events: k.Events, Clock: w.clock,
		Targets: w.targets, Calendars: w.sched}
	if node != nil {
		deps.NodeID = *node
	}
	s, err := tracker.New(deps)
	if err != nil {
		w.t.Fatal(err)
	}
	return s
}

func (w *world) exec(q string, args ...any) int64 {
	w.t.Helper()
	var id int64
	ctx := context.Background()
	if err := w.d.InTx(ctx, func(tx *db.Tx) error { return tx.QueryRowContext(ctx, q, args...).Scan(&id) }); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return id
}

// to moves the clock to tm.
func (w *world) to(tm time.Time) {
	w.t.Helper()
	if tm.Before(w.clock.Now()) {
		w.t.Fatalf("the clock cannot go back from %s to %s", w.clock.Now(), tm)
	}
	w.clock.Set(tm)
}

// refresh runs the tracker's refresh.
func (w *world) refresh() {
	w.t.Helper()
	if _, err := w.tracker.Refresh(context.Background()); err != nil {
		w.t.Fatalf("refresh: %v", err)
	}
}

// log logs an incident as the analyst (impact and urgency give the priority).
func (w *world) log(impact, urgency int) string {
	w.t.Helper()
	inc, err := w.inc.Create(w.an, incident.NewIncident{Title: "Mail does not arrive", Category: "software", Impact: impact,
		Urgency: urgency, CallerID: w.root.ID, Channel: "phone"})
	if err != nil {
		w.t.Fatalf("log: %v", err)
	}
	return inc.Number
}

// step performs an incident action as the analyst.
func (w *world) step(number, action string, f incident.StepFields) {
	w.t.Helper()
	inc, err := w.inc.Incident(w.rt, number)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.inc.Perform(w.an, number, action, incident.StepInput{Version: inc.Version, Fields: f}); err != nil {
		w.t.Fatalf("%s %s: %v", action, number, err)
	}
}

// impact changes an incident's impact as the analyst (its priority follows).
func (w *world) impact(number string, impact int) {
	w.t.Helper()
	inc, err := w.inc.Incident(w.rt, number)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.inc.Update(w.an, number, inc.Version, incident.Change{Impact: &impact}); err != nil {
		w.t.Fatalf("change the impact of %s: %v", number, err)
	}
}

// stored is a stored clock's figures.
type stored struct {
	TargetID, TargetMS, ElapsedMS, PausedMS, StartedAt, StoppedAt, DueAt, BreachedAt int64
	Status                                                                           string
	Priority, Cycle, NextThreshold, NextAt, Fired                                    int64
}

// clocks reads a record's stored clocks by target kind.
func (w *world) clocks(d *db.DB, number string) map[string]stored {
	w.t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT c.kind, c.target_id, c.target_ms, c.elapsed_ms, c.paused_ms,
		c.started_at, c.stopped_at, c.due_at, c.breached_at, c.status, c.priority, c.cycle, c.next_threshold, c.next_at, c.fired
		FROM sla_clocks c JOIN records r ON r.id = c.record_id WHERE r.number = ?`, number)
	if err != nil {
		w.t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]stored{}
	for rows.Next() {
		var kind string
		var s stored
		if err := rows.Scan(&kind, &s.TargetID, &s.TargetMS, &s.ElapsedMS, &s.PausedMS, &s.StartedAt, &s.StoppedAt, &s.DueAt,
			&s.BreachedAt, &s.Status, &s.Priority, &s.Cycle, &s.NextThreshold, &s.NextAt, &s.Fired); err != nil {
			w.t.Fatal(err)
		}
		if _, dup := out[kind]; dup {
			w.t.Fatalf("%s has two %s clocks", number, kind)
		}
		out[kind] = s
	}
	if err := rows.Err(); err != nil {
		w.t.Fatal(err)
	}
	return out
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func hours(h float64) int64 { return int64(h * float64(time.Hour/time.Millisecond)) }
