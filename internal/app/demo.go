package app

// The demo: a small, believable defence IT organisation with three months of
// history, loaded into a fresh database through the services themselves, so
// that every record is numbered, guarded by RACI, journalled and audited as if
// people had done the work. `steward demo` (cmd/steward/demo.go) runs it.
//
// The story is a timeline of events, each done by one named person at one
// time. Each area contributes its events (demoParts); the loader plays them in
// time order on a clock of its own, so records, journals, approvals and audit
// rows carry the times the story gives them, and the audit chain's order is
// also the story's order. Later areas (services and CIs, calendars,
// agreements, incidents, requests, problems, changes…) add a part to
// demoParts and schedule their events on the same timeline.

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"steward/internal/design/availability"
	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/platform/calendar"
	"strings"
	"text/tabwriter"
	"time"

	"steward/internal/improvement/controls"
	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb"
)

// DemoPassword is the password of every demo account. It is published in
// README.md, so demo accounts are not made to change it at first sign-in;
// never load the demo into a database that holds real data.
const DemoPassword = "Demo-Password-2026"

// DemoOrganisation names the demo's fictitious organisation.
const DemoOrganisation = "Joint Enterprise Services Center (JESC)"

// DemoRequestID marks every audit row and event the demo loader writes, so an
// auditor can tell the demo's history from real use.
const DemoRequestID = "steward-demo"

// demoDays is how far back the demo's history reaches.
const demoDays = 92

// ErrDemoNotFresh is returned when the database already holds data other than
// the first-start administrator: the demo loads only into a fresh database.
var ErrDemoNotFresh = errors.New("the demo loads only into a fresh database")

// demoPart is one area's share of the demo: it schedules its events on the timeline.
type demoPart struct {
	name     string
	schedule func(d *demo)
}

// demoParts are the areas of the demo, in the order they schedule their
// events (the timeline, not this order, decides when each event happens).
// A new area appends its part here.
var demoParts = []demoPart{
	{"people, teams and platform roles", (*demo).scheduleOrganisation},
	{"process roles", (*demo).scheduleProcessRoles},
	{"process controls: documents, findings and evaluations", (*demo).scheduleControls},
	{"the CMDB: data centres, platforms, applications and services", (*demo).scheduleCMDB},
	{"service operations: incidents, requests and problems", (*demo).scheduleOperations},
	{"service design: agreements, SLA clocks, outages and reviews", (*demo).scheduleServiceLevels},
}

// demoEvent is one thing that happens in the story: who does what, and when.
type demoEvent struct {
	at   time.Time
	seq  int
	what string
	do   func() error
}

// demo is one run of the loader: the services it acts through, on its own
// clock, and the people and teams created so far.
type demo struct {
	app   *App
	clock *clock.Fixed
	// end is the real time the story ends at; every event happens before it.
	end time.Time
	// base is the context every actor's context derives from: it marks audit rows as the demo's.
	base context.Context

	auth     *auth.Service
	raci     *raci.Service
	records  *record.Service
	controls *controls.Service
	cmdb     *cmdb.Service
	// Service Operations: incident, request and problem management (demo_ops.go).
	incidents *incident.Service
	requests  *request.Service
	problems  *problem.Service
	// Service Design: calendars, service levels and availability (demo_sla.go).
	calendars    *calendar.Service
	levels       *servicelevel.Service
	clocks       *tracker.Service
	availability *availability.Service

	events []demoEvent
	// err is the first scheduling mistake: an event outside the story or out of order.
	err   error
	admin auth.User
	// adminPassword is the administrator's one-time password when the loader created the account.
	adminPassword string
	users         map[string]auth.User
	teams         map[string]auth.Team
}

// LoadDemo loads the demo organisation into a's database and writes the demo
// accounts to out. It refuses (ErrDemoNotFresh) a database that has users
// other than the first-start "admin", or any team, role assignment or record;
// it creates "admin" when it is missing and prints its one-time password.
//
// It acts through the same services as the running server, each call as the
// person the story names, on a clock of its own that walks from three months
// ago to now: the services take their clock when they are built, so the loader
// builds its own set over a's database rather than rewriting times afterwards
// (which the audit chain would rightly reject).
func LoadDemo(ctx context.Context, a *App, out io.Writer) error {
	if err := demoFresh(ctx, a.DB); err != nil {
		return err
	}
	end := a.Clock.Now().UTC().Truncate(time.Minute)
	d := newDemo(ctx, a, end)
	for _, p := range demoParts {
		p.schedule(d)
		if d.err != nil {
			return fmt.Errorf("demo: schedule %s: %w", p.name, d.err)
		}
	}
	fmt.Fprintf(out, "Loading the demo organisation %s: %d events from %s to %s…\n",
		DemoOrganisation, len(d.events), d.clock.Now().Format("2 Jan 2006"), end.Format("2 Jan 2006"))
	if err := d.play(); err != nil {
		return fmt.Errorf("demo: %w (the database is now partly loaded: start again with a fresh data directory)", err)
	}
	return d.report(ctx, out)
}

// newDemo wires the services the loader acts through: the same services as
// Open builds (App.WithClock), over a's database, on the demo's own clock.
func newDemo(ctx context.Context, a *App, end time.Time) *demo {
	y, m, day := end.AddDate(0, 0, -demoDays).Date()
	c := clock.NewFixed(time.Date(y, m, day, 0, 0, 0, 0, time.UTC))
	w := a.WithClock(c)
	d := &demo{app: a, clock: c, end: end, users: map[string]auth.User{}, teams: map[string]auth.Team{},
		base: audit.WithMeta(ctx, audit.Meta{RequestID: DemoRequestID})}
	d.auth, d.raci, d.records, d.controls, d.cmdb = w.Auth, w.RACI, w.Records, w.Controls, w.CMDB
	d.incidents, d.requests, d.problems = w.Incidents, w.Requests, w.Problems
	d.calendars, d.levels, d.clocks, d.availability = w.Calendars, w.Levels, w.Clocks, w.Availability
	return d
}

// demoFresh refuses a database that holds anything but the first-start administrator.
func demoFresh(ctx context.Context, q db.Queryer) error {
	var users, teams, assignments, records int64
	if err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE username <> 'admin'), (SELECT COUNT(*) FROM teams),
		(SELECT COUNT(*) FROM raci_assignments), (SELECT COUNT(*) FROM records)`).Scan(&users, &teams, &assignments, &records); err != nil {
		return fmt.Errorf("demo: check the database is fresh: %w", err)
	}
	var held []string
	if users > 0 {
		rows, err := q.QueryContext(ctx, `SELECT username FROM users WHERE username <> 'admin' ORDER BY id LIMIT 3`)
		if err != nil {
			return fmt.Errorf("demo: list users: %w", err)
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		rows.Close()
		more := ""
		if users > int64(len(names)) {
			more = ", …"
		}
		held = append(held, fmt.Sprintf("%d users besides the first-start admin (%s%s)", users, strings.Join(names, ", "), more))
	}
	for _, c := range []struct {
		n    int64
		what string
	}{{teams, "teams"}, {assignments, "process-role assignments"}, {records, "records"}} {
		if c.n > 0 {
			held = append(held, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	if len(held) == 0 {
		return nil
	}
	return fmt.Errorf("%w, and this one already has %s: load the demo into a new data directory "+
		"(steward demo --data-dir DIR) or an empty PostgreSQL database", ErrDemoNotFresh, strings.Join(held, ", "))
}

// ---- the timeline ----

// day is the time hh:mm (UTC) on the day daysAgo days before the story's end.
// The story ignores weekends: the operations centre works every day.
func (d *demo) day(daysAgo, hh, mm int) time.Time {
	y, m, dd := d.end.AddDate(0, 0, -daysAgo).Date()
	return time.Date(y, m, dd, hh, mm, 0, 0, time.UTC)
}

// at schedules an event. Events must happen after the history starts and
// before it ends; a mistake is kept in d.err and stops the load before it starts.
func (d *demo) at(t time.Time, what string, do func() error) {
	if d.err == nil && (t.Before(d.clock.Now()) || !t.Before(d.end)) {
		d.err = fmt.Errorf("%s: %s is outside the story (%s to %s)", what, t.Format(time.DateTime),
			d.clock.Now().Format(time.DateTime), d.end.Format(time.DateTime))
	}
	d.events = append(d.events, demoEvent{at: t, seq: len(d.events), what: what, do: do})
}

// after schedules an event that follows another of the same record, whose time
// last holds; it must come later.
func (d *demo) after(last *time.Time, t time.Time, what string, do func() error) {
	if d.err == nil && !t.After(*last) {
		d.err = fmt.Errorf("%s at %s does not follow the step before it (%s)", what, t.Format(time.DateTime), last.Format(time.DateTime))
	}
	*last = t
	d.at(t, what, do)
}

// play runs the events in time order (in scheduling order at equal times), moving the clock to each.
func (d *demo) play() error {
	slices.SortFunc(d.events, func(a, b demoEvent) int {
		return cmp.Or(a.at.Compare(b.at), cmp.Compare(a.seq, b.seq))
	})
	for _, ev := range d.events {
		if err := d.base.Err(); err != nil {
			return err
		}
		d.clock.Set(ev.at)
		if err := ev.do(); err != nil {
			return fmt.Errorf("%s, %s: %w", ev.at.Format("2 Jan 15:04"), ev.what, err)
		}
	}
	return nil
}

// as is a context acting as the named person ("admin" for the administrator).
func (d *demo) as(username string) context.Context {
	u := d.admin
	if username != "admin" {
		var ok bool
		if u, ok = d.users[username]; !ok {
			// A story mistake: the tests catch it; the service then refuses the anonymous caller.
			return d.base
		}
	}
	return auth.WithPrincipal(d.base, &auth.Principal{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Admin: u.Admin})
}

// user is the id of a demo person, or 0.
func (d *demo) user(username string) int64 { return d.users[username].ID }

// ---- the report ----

// report prints what was loaded and the demo accounts, once.
func (d *demo) report(ctx context.Context, out io.Writer) error {
	var docs, findings, evals, waiting int64
	if err := d.app.DB.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM records WHERE type = ?), (SELECT COUNT(*) FROM records WHERE type = ?),
		(SELECT COUNT(*) FROM records WHERE type = ?), (SELECT COUNT(*) FROM record_steps WHERE state = ?)`,
		controls.DocumentType, controls.FindingType, controls.EvaluationType, string(record.PendingApproval)).
		Scan(&docs, &findings, &evals, &waiting); err != nil {
		return fmt.Errorf("demo: count what was loaded: %w", err)
	}
	assigned, err := d.raci.Assignments(ctx, raci.RoleAssignmentFilter{})
	if err != nil {
		return fmt.Errorf("demo: count role assignments: %w", err)
	}
	ops, err := d.countOps(ctx)
	if err != nil {
		return fmt.Errorf("demo: count the service operations records: %w", err)
	}
	wait := "wait"
	if ops.waiting == 1 {
		wait = "waits"
	}
	fmt.Fprintf(out, "\nLoaded %s: %d people in %d teams, %d process-role assignments;\n"+
		"%d process documents, %d findings and %d evaluations; %d steps wait for approval;\n"+
		"%d incidents (%d not closed, %d of them unassigned; %s), %s with %s,\n"+
		"%d service requests (%d %s for approval).\n\n",
		DemoOrganisation, len(d.users), len(d.teams), len(assigned), docs, findings, evals, waiting,
		ops.incidents, ops.open, ops.unassigned, counted(ops.major, "major incident", "major incidents"),
		counted(ops.problems, "problem", "problems"), counted(ops.knownErrors, "published known error", "published known errors"),
		ops.requests, ops.waiting, wait)
	fmt.Fprintf(out, "Demo accounts (shown only now, and listed in README.md). Every password: %s\n"+
		"They need not change it at first sign-in: this data is for demonstration only.\n\n", DemoPassword)
	tw := tabwriter.NewWriter(out, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  USERNAME\tNAME\tPOSITION\tTEAM")
	for _, p := range demoPeople {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", p.username, p.name, p.title, p.team)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if d.adminPassword != "" {
		fmt.Fprintf(out, "\nCreated the administrator account.\n  username: admin\n  password: %s\n"+
			"This password is shown only now; you must change it at first login.\n", d.adminPassword)
	} else {
		fmt.Fprintln(out, "\nThe administrator account \"admin\" existed already; its password is unchanged.")
	}
	fmt.Fprintf(out, "\nOpen Steward (start it with make run or steward serve if it is not running) and sign in, for example\n"+
		"as david.okafor, who owns Incident Management and has a policy waiting for his approval.\n")
	return nil
}
