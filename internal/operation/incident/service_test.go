package incident_test

import (
	"strings"
	"testing"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// TestNormalLifecycle walks an incident along the normal path: the caller
// logs it through the portal, the analyst investigates, holds and resumes it,
// resolves it; the caller rejects the resolution, the analyst resolves again,
// the caller confirms; the caller reopens it within the window, and cannot
// once the window has passed.
func TestNormalLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		inc := e.log(e.c, incident.NewIncident{Title: "Cannot send mail", Description: "Outbox stuck since 8:00", Impact: 2, Urgency: 1,
			ServiceID: e.service, CIID: e.server, Category: "software", Subcategory: "email"})
		if inc.Priority != 2 || inc.Path != incident.PathNormal || inc.Channel != "portal" || inc.RequesterID != e.caller.ID ||
			inc.State != incident.StateNew || inc.ServiceName != "E-mail" || inc.CIName != "mail01" || inc.CallerName != "caller" ||
			inc.CategoryLabel != "Software" || inc.SubcategoryLabel != "E-mail and calendar" || !strings.HasPrefix(inc.Number, "INC") {
			t.Fatalf("logged: %+v", inc)
		}
		n := inc.Number

		// The caller may not work the incident.
		if _, err := e.step(e.c, n, "investigate", incident.StepFields{}); kind(err) != errs.Forbidden {
			t.Fatalf("caller investigates: %v", err)
		}
		e.must(e.an, n, "investigate", incident.StepFields{})
		if _, err := e.step(e.an, n, "hold", incident.StepFields{}); !fieldAt(err, "body.holdReason") {
			t.Fatalf("hold without a reason: %v", err)
		}
		inc = e.must(e.an, n, "hold", incident.StepFields{HoldReason: "awaiting_caller"})
		if inc.State != incident.StateOnHold || inc.HoldReason != "awaiting_caller" || inc.HeldAt.IsZero() {
			t.Fatalf("held: %+v", inc)
		}
		inc = e.must(e.an, n, "resume", incident.StepFields{})
		if inc.HoldReason != "" {
			t.Fatalf("resumed but still holding: %q", inc.HoldReason)
		}
		if _, err := e.step(e.an, n, "resolve", incident.StepFields{ResolutionCode: "magic", ResolutionNotes: "x"}); !fieldAt(err, "body.resolutionCode") {
			t.Fatalf("unknown resolution code: %v", err)
		}
		inc = e.must(e.an, n, "resolve", resolution("workaround"))
		if inc.Resolution == nil || inc.Resolution.Code != "workaround" || inc.Resolution.EffortMinutes != 25 ||
			inc.Resolution.ResolvedBy != e.analyst.ID || inc.Resolution.FirstContact {
			t.Fatalf("resolved: %+v", inc.Resolution)
		}
		if ev := e.events("incident.resolved"); len(ev) != 1 || ev[0].Data["number"] != n {
			t.Fatalf("resolved events: %+v", ev)
		}

		// The caller rejects it, with a reason.
		if _, err := e.step(e.c, n, "reject_resolution", incident.StepFields{}); !fieldAt(err, "body.reason") {
			t.Fatalf("reject without a reason: %v", err)
		}
		if _, err := e.step(e.s, n, "reject_resolution", incident.StepFields{Reason: "no"}); kind(err) != errs.Forbidden {
			t.Fatalf("a stranger rejects: %v", err)
		}
		inc = e.must(e.c, n, "reject_resolution", incident.StepFields{Reason: "Still stuck"})
		if inc.State != incident.StateInProgress || inc.Resolution != nil || inc.Rejections != 1 || inc.LastRejection != "Still stuck" {
			t.Fatalf("rejected: %+v", inc)
		}
		e.must(e.an, n, "resolve", incident.StepFields{ResolutionCode: "permanent", ResolutionNotes: "Replaced the queue disk.",
			EffortMinutes: 90, FirstContact: false})

		// The caller confirms; the categorisation is reviewed.
		inc = e.must(e.c, n, "confirm", incident.StepFields{})
		if inc.State != incident.StateClosed || !inc.Closed || inc.ClosedAt.IsZero() || inc.ClosedBy != e.caller.ID ||
			!inc.CategoryReviewed || inc.CategoryChanged {
			t.Fatalf("confirmed: %+v", inc)
		}
		// A closed incident is not edited.
		if _, err := e.svc.Update(e.an, n, 0, incident.Change{Urgency: ptr(3)}); kind(err) != errs.Conflict {
			t.Fatalf("update a closed incident: %v", err)
		}

		// Reopened within the window, resolved and closed by an agent with a categorisation review.
		e.clock.Advance(3 * 24 * time.Hour)
		inc = e.must(e.c, n, "reopen", incident.StepFields{Reason: "It is back"})
		if inc.State != incident.StateInProgress || inc.ReopenCount != 1 || inc.Resolution != nil || !inc.ClosedAt.IsZero() {
			t.Fatalf("reopened: %+v", inc)
		}
		e.must(e.an, n, "resolve", resolution("permanent"))
		if _, err := e.step(e.an, n, "close", incident.StepFields{ClosureCategory: "nope"}); !fieldAt(err, "body.closureCategory") {
			t.Fatalf("close with an unknown category: %v", err)
		}
		if _, err := e.step(e.an, n, "close", incident.StepFields{ClosureCategory: "cnd-cat-7"}); !fieldAt(err, "body.closureCategory") {
			t.Fatalf("close into the security path: %v", err)
		}
		inc = e.must(e.an, n, "close", incident.StepFields{ClosureCategory: "network", ClosureSubcategory: "dns"})
		if inc.Category != "network" || inc.Subcategory != "dns" || !inc.CategoryReviewed || !inc.CategoryChanged ||
			inc.LoggedCategory != "software" || inc.ClosedBy != e.analyst.ID {
			t.Fatalf("closed with review: %+v", inc)
		}

		// After the reopen window (10 days) the caller cannot reopen.
		e.clock.Advance(11 * 24 * time.Hour)
		_, err := e.step(e.c, n, "reopen", incident.StepFields{})
		if kind(err) != errs.Conflict || !strings.Contains(err.Error(), "could be reopened for 10 days") {
			t.Fatalf("reopen after the window: %v", err)
		}

		// The journal tells the story with the activity codes.
		j, err := e.recs.Journal(e.an, n, true)
		if err != nil {
			t.Fatal(err)
		}
		var text []string
		for _, x := range j {
			text = append(text, x.Body)
		}
		all := strings.Join(text, "\n")
		for _, want := range []string{"Investigate (IM4)", "Put on hold (IM4)", "Resolve (IM5)", "Reject the resolution (IM5)",
			"Resolution rejected: Still stuck", "Confirm the resolution (IM6)", "Reopen (IM5)", "Close (IM6)"} {
			if !strings.Contains(all, want) {
				t.Errorf("journal lacks %q:\n%s", want, all)
			}
		}
		if a := e.audits("incident.resolve"); len(a) != 3 {
			t.Errorf("%d resolve audits, want 3", len(a))
		}
	})
}

// TestBadInput covers what a caller can get wrong when logging and acting.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		base := incident.NewIncident{Title: "Printer jam", Category: "hardware", Impact: 3, Urgency: 3}
		for _, tc := range []struct {
			name string
			mod  func(*incident.NewIncident)
			loc  string
		}{
			{"impact 4", func(in *incident.NewIncident) { in.Impact = 4 }, "body.impact"},
			{"impact 0", func(in *incident.NewIncident) { in.Impact = 0 }, "body.impact"},
			{"urgency 9", func(in *incident.NewIncident) { in.Urgency = 9 }, "body.urgency"},
			{"unknown service", func(in *incident.NewIncident) { in.ServiceID = 424242 }, "body.service"},
			{"a CI that is no service", func(in *incident.NewIncident) { in.ServiceID = e.server }, "body.service"},
			{"unknown CI", func(in *incident.NewIncident) { in.CIID = 424242 }, "body.ci"},
			{"disposed CI", func(in *incident.NewIncident) { in.CIID = e.disposed }, "body.ci"},
			{"unknown category", func(in *incident.NewIncident) { in.Category = "weather" }, "body.category"},
			{"bad category key", func(in *incident.NewIncident) { in.Category = "Hard Ware" }, "body.category"},
			{"no category", func(in *incident.NewIncident) { in.Category = "" }, "body.category"},
			{"subcategory of another", func(in *incident.NewIncident) { in.Subcategory = "dns" }, "body.subcategory"},
			{"unknown channel", func(in *incident.NewIncident) { in.Channel = "pigeon" }, "body.channel"},
			{"no title", func(in *incident.NewIncident) { in.Title = "  " }, "body.title"},
		} {
			in := base
			tc.mod(&in)
			if _, err := e.svc.Create(e.an, in); !fieldAt(err, tc.loc) {
				t.Errorf("%s: %v does not name %s", tc.name, err, tc.loc)
			}
		}
		// Logging for someone else, or by phone, takes IM2.
		if _, err := e.svc.Create(e.c, incident.NewIncident{Title: "x", Category: "hardware", Impact: 3, Urgency: 3, CallerID: e.stranger.ID}); kind(err) != errs.Forbidden || !strings.Contains(err.Error(), "IM2") {
			t.Fatalf("caller logs for a stranger: %v", err)
		}
		if _, err := e.svc.Create(e.c, incident.NewIncident{Title: "x", Category: "hardware", Impact: 3, Urgency: 3, Channel: "phone"}); kind(err) != errs.Forbidden {
			t.Fatalf("caller logs by phone: %v", err)
		}
		// Mail arrives uncategorised; the desk categorises it at triage.
		mailed, err := e.svc.Create(e.c, incident.NewIncident{Title: "Screen flickers", Impact: 3, Urgency: 2, Channel: "email"})
		if err != nil || mailed.Category != "" || mailed.Channel != "email" {
			t.Fatalf("an uncategorised e-mail incident: %+v, %v", mailed, err)
		}
		inc, err := e.svc.Create(e.an, incident.NewIncident{Title: "Phone call", Category: "hardware", Impact: 3, Urgency: 2,
			CallerID: e.caller.ID, TeamID: e.team, AssigneeID: e.analyst.ID})
		if err != nil || inc.Channel != "desk" || inc.Priority != 4 || inc.TeamName != "Service desk" || inc.AssigneeName != "analyst" {
			t.Fatalf("desk logs for the caller: %+v, %v", inc, err)
		}

		// An action from the wrong state is a Conflict naming the allowed actions.
		_, err = e.step(e.an, inc.Number, "close", incident.StepFields{})
		if kind(err) != errs.Conflict || !strings.Contains(err.Error(), "investigate, resolve, cancel, reclassify") {
			t.Fatalf("close a new incident: %v", err)
		}
		if _, err := e.step(e.an, inc.Number, "explode", incident.StepFields{}); kind(err) != errs.Invalid {
			t.Fatalf("unknown action: %v", err)
		}
		// Fields an action does not take are refused.
		if _, err := e.step(e.an, inc.Number, "investigate", incident.StepFields{HoldReason: "awaiting_caller"}); !fieldAt(err, "body.holdReason") {
			t.Fatalf("investigate with a hold reason: %v", err)
		}
		// The kernel's own action endpoint cannot resolve without the resolution.
		r, _ := e.recs.Get(e.an, inc.Number)
		_, err = e.recs.Perform(e.an, inc.Number, "resolve", record.PerformInput{Version: r.Version})
		if kind(err) != errs.Conflict || !strings.Contains(err.Error(), "/api/v1/incidents/"+inc.Number+"/actions/resolve") {
			t.Fatalf("resolve through the kernel: %v", err)
		}
		// A stale version is refused.
		if _, err := e.svc.Perform(e.an, inc.Number, "investigate", incident.StepInput{Version: 99}); kind(err) != errs.PreconditionFailed {
			t.Fatalf("stale version: %v", err)
		}
		// Recategorising takes IM3 and validates like logging.
		if _, err := e.svc.Update(e.c, inc.Number, 0, incident.Change{Urgency: ptr(1)}); kind(err) != errs.Forbidden {
			t.Fatalf("caller reprioritises: %v", err)
		}
		if _, err := e.svc.Update(e.an, inc.Number, 0, incident.Change{Impact: ptr(7)}); !fieldAt(err, "body.impact") {
			t.Fatalf("impact 7: %v", err)
		}
		if _, err := e.svc.Update(e.an, inc.Number, 0, incident.Change{CIID: ptr(e.disposed)}); !fieldAt(err, "body.ci") {
			t.Fatalf("disposed CI: %v", err)
		}
		up, err := e.svc.Update(e.an, inc.Number, 0, incident.Change{Impact: ptr(1), Category: ptr("network"), Subcategory: ptr("vpn")})
		if err != nil || up.Priority != 2 || up.Category != "network" || up.Subcategory != "vpn" || up.Path != incident.PathNormal {
			t.Fatalf("reprioritised: %+v, %v", up, err)
		}
	})
}

// TestPriorityDrivesMajor checks that reprioritising to the threshold declares a major incident.
func TestPriorityDrivesMajor(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		inc := e.log(e.c, incident.NewIncident{Impact: 2, Urgency: 2})
		if inc.Path != incident.PathNormal || inc.Priority != 3 {
			t.Fatalf("logged: %s P%d", inc.Path, inc.Priority)
		}
		up, err := e.svc.Update(e.an, inc.Number, inc.Version, incident.Change{Impact: ptr(1), Urgency: ptr(1)})
		if err != nil || up.Priority != 1 || up.Path != incident.PathMajor || up.Major == nil || up.Major.DeclaredBy != 0 {
			t.Fatalf("reprioritised to P1: %+v, %v", up, err)
		}
		if ev := e.events("incident.major_declared"); len(ev) != 1 || ev[0].Data["number"] != inc.Number {
			t.Fatalf("declared events: %+v", ev)
		}
		// Back down to P3: it stays major.
		up, err = e.svc.Update(e.an, inc.Number, up.Version, incident.Change{Impact: ptr(3), Urgency: ptr(1)})
		if err != nil || up.Priority != 3 || up.Path != incident.PathMajor {
			t.Fatalf("lowered: %+v, %v", up, err)
		}
	})
}
