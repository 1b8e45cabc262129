package app_test

// The demo loads into a fresh database of each engine, through the services:
// the organisation is there, the history is consistent (every approval by the
// accountable owner, every closed finding's actions done, every record's
// journal in time order), the audit trail verifies, and a second load is refused.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/app"
	"steward/internal/improvement/controls"
	"steward/internal/operation/incident"
	pm "steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb"
)

func TestDemo(t *testing.T) {
	eachEngine(t, func(t *testing.T, e db.Engine) {
		ctx := context.Background()
		a, err := app.Open(ctx, testConfig(t, dbtest.URL(t, e)), slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		var out bytes.Buffer
		start := time.Now()
		if err := app.LoadDemo(ctx, a, &out); err != nil {
			t.Fatalf("load the demo: %v\n%s", err, out.String())
		}
		t.Logf("%s: loaded in %v", e, time.Since(start).Round(time.Millisecond))
		end := time.Now()

		admin, err := a.Auth.UserByName(ctx, "admin")
		if err != nil || !admin.Admin || !admin.MustChangePassword {
			t.Fatalf("the first-start admin: %+v, %v", admin, err)
		}
		asAdmin := auth.WithPrincipal(ctx, &auth.Principal{UserID: admin.ID, Username: admin.Username, Admin: true})

		t.Run("output", func(t *testing.T) {
			for _, want := range []string{"Every password: " + app.DemoPassword, "username: admin", "david.okafor", "elena.petrova"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("the output lacks %q:\n%s", want, out.String())
				}
			}
		})
		t.Run("organisation", func(t *testing.T) { checkDemoOrganisation(t, a) })
		t.Run("audit", func(t *testing.T) { checkDemoAudit(t, a, start, end) })
		t.Run("records", func(t *testing.T) { checkDemoRecords(t, a, asAdmin, start, end) })
		t.Run("cmdb", func(t *testing.T) { checkDemoCMDB(t, a, asAdmin) })
		t.Run("operations", func(t *testing.T) { checkDemoOps(t, a, asAdmin, out.String(), end) })
		t.Run("second load refused", func(t *testing.T) {
			var again bytes.Buffer
			err := app.LoadDemo(ctx, a, &again)
			if !errors.Is(err, app.ErrDemoNotFresh) {
				t.Fatalf("second load: %v, want ErrDemoNotFresh", err)
			}
			if !strings.Contains(err.Error(), "26 users besides the first-start admin") || again.Len() != 0 {
				t.Errorf("refusal %q, output %q", err, again.String())
			}
		})
	})
}

// TestDemoRefusesUsedDatabase: a database with someone else's users or teams is refused before anything is written.
func TestDemoRefusesUsedDatabase(t *testing.T) {
	ctx := context.Background()
	a, err := app.Open(ctx, testConfig(t, dbtest.URL(t, db.SQLite)), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Auth.CreateTeam(ctx, auth.Team{Name: "Real team"}); err != nil {
		t.Fatal(err)
	}
	err = app.LoadDemo(ctx, a, io.Discard)
	if !errors.Is(err, app.ErrDemoNotFresh) || !strings.Contains(err.Error(), "1 teams") {
		t.Fatalf("load into a used database: %v", err)
	}
	var users int64
	if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&users); err != nil || users != 0 {
		t.Fatalf("users after a refused load: %d, %v", users, err)
	}
}

// TestDemoAccountsInREADME: the README lists every demo account and the password.
func TestDemoAccountsInREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	if !strings.Contains(readme, app.DemoPassword) {
		t.Errorf("README.md does not give the demo password %s", app.DemoPassword)
	}
	for _, acc := range app.DemoAccounts() {
		if !strings.Contains(readme, "`"+acc.Username+"`") {
			t.Errorf("README.md does not list the demo account %s", acc.Username)
		}
	}
}

func checkDemoOrganisation(t *testing.T, a *app.App) {
	ctx := context.Background()
	accounts := app.DemoAccounts()
	if len(accounts) < 20 {
		t.Errorf("%d demo accounts, want about 25", len(accounts))
	}
	teams, total, err := a.Auth.ListTeams(ctx, listing.Params{Limit: 100}, nil)
	if err != nil || total < 7 {
		t.Fatalf("teams: %d, %v", total, err)
	}
	for _, tm := range teams.Items {
		full, err := a.Auth.GetTeam(ctx, tm.ID)
		if err != nil || len(full.Members) == 0 {
			t.Errorf("team %s has no members (%v)", tm.Name, err)
		}
	}
	// Demo people sign in with the published password and are not made to change it.
	for _, who := range []string{"david.okafor", "elena.petrova"} {
		if _, u, err := a.Auth.Login(ctx, who, app.DemoPassword, "127.0.0.1", "test"); err != nil || u.MustChangePassword {
			t.Errorf("login as %s: %v (must change: %v)", who, err, u.MustChangePassword)
		}
	}
	// Platform roles: the auditor reads the audit trail.
	elena, _ := a.Auth.UserByName(ctx, "elena.petrova")
	roles, _ := a.Auth.Roles(ctx)
	held, _ := a.Auth.UserRoles(ctx, elena.ID)
	auditor := slices.IndexFunc(roles, func(r auth.Role) bool { return r.Name == "Auditor" })
	if auditor < 0 || !slices.Contains(held, roles[auditor].ID) {
		t.Errorf("elena.petrova holds roles %v, not the Auditor role", held)
	}
	// Every process of Service Operations and Service Transition has an owner, a manager and an analyst.
	for _, dom := range []string{"SO", "ST"} {
		for _, p := range a.Model.ProcessesIn(dom) {
			for _, role := range []string{raci.RoleProcessOwner, "process-manager", "process-analyst"} {
				hs, err := a.RACI.RoleHolders(ctx, p.Code, role)
				if err != nil || len(hs) == 0 {
					t.Errorf("%s %s: no holder (%v)", p.Code, role, err)
				}
			}
		}
	}
	for _, dom := range a.Model.Domains() {
		if as, err := a.RACI.Assignments(ctx, raci.RoleAssignmentFilter{Subject: dom.Code, Role: raci.RoleDomainOwner}); err != nil || len(as) != 1 {
			t.Errorf("domain %s: %d owners (%v)", dom.Code, len(as), err)
		}
	}
	all, err := a.RACI.Assignments(ctx, raci.RoleAssignmentFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(all, func(x raci.RoleAssignment) bool { return x.Scope.TeamID != 0 }) {
		t.Error("no role assignment is scoped to a team")
	}
	if !slices.ContainsFunc(all, func(x raci.RoleAssignment) bool { return x.TeamID != 0 }) {
		t.Error("no role is held by a team")
	}
}

// checkDemoAudit: the chain verifies, and the demo's rows are marked and in the story's time order.
func checkDemoAudit(t *testing.T, a *app.App, start, end time.Time) {
	ctx := context.Background()
	v, err := audit.Verify(ctx, a.DB)
	if err != nil || !v.OK {
		t.Fatalf("audit trail: %+v, %v", v, err)
	}
	rows, err := a.DB.QueryContext(ctx, `SELECT seq, at FROM audit_log WHERE request_id = ? ORDER BY seq`, app.DemoRequestID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var n, last int64
	for rows.Next() {
		var seq, at int64
		if err := rows.Scan(&seq, &at); err != nil {
			t.Fatal(err)
		}
		if at < last {
			t.Errorf("audit row %d is older than the row before it", seq)
		}
		if at < start.AddDate(0, 0, -93).UnixMilli() || at > end.UnixMilli() {
			t.Errorf("audit row %d at %v is outside the three months", seq, time.UnixMilli(at).UTC())
		}
		last = at
		n++
	}
	if n < 300 {
		t.Errorf("%d audit rows marked as the demo's, want every mutation", n)
	}
}

// owner is the user id of a process's owner.
func owner(t *testing.T, a *app.App, process string) int64 {
	as, err := a.RACI.Assignments(context.Background(), raci.RoleAssignmentFilter{Subject: process, Role: raci.RoleProcessOwner})
	if err != nil || len(as) != 1 {
		t.Fatalf("owner of %s: %v, %v", process, as, err)
	}
	return as[0].UserID
}

// steps lists a record's steps that needed approval.
func steps(t *testing.T, a *app.App, ctx context.Context, number string) []record.Step {
	page, err := a.Records.Approvals(ctx, record.StepFilter{Record: number}, listing.Params{Limit: 100})
	if err != nil {
		t.Fatalf("steps of %s: %v", number, err)
	}
	return page.Items
}

// approvedBy checks that a record has exactly one applied step of action, requested by
// someone else and decided by the process's owner, and returns it.
func approvedBy(t *testing.T, a *app.App, ctx context.Context, r record.Record, action string) record.Step {
	t.Helper()
	var applied []record.Step
	for _, st := range steps(t, a, ctx, r.Number) {
		if st.Action == action && st.State == record.Applied {
			applied = append(applied, st)
		}
	}
	if len(applied) != 1 {
		t.Fatalf("%s (%s): %d applied %s steps, want 1", r.Number, r.State, len(applied), action)
	}
	st := applied[0]
	if o := owner(t, a, r.Process); st.DecidedBy != o || st.RequestedBy == o || st.DecisionOverride || st.PerformerOverride {
		t.Errorf("%s: %s requested by %d, decided by %d (override %v/%v); the owner is %d", r.Number, action,
			st.RequestedBy, st.DecidedBy, st.PerformerOverride, st.DecisionOverride, o)
	}
	if st.DecidedAt.Before(st.RequestedAt) || st.RequestedAt.Before(r.CreatedAt) {
		t.Errorf("%s: created %v, requested %v, decided %v", r.Number, r.CreatedAt, st.RequestedAt, st.DecidedAt)
	}
	return st
}

// waitsForOwner checks that a record has one step waiting for the owner's approval.
func waitsForOwner(t *testing.T, a *app.App, ctx context.Context, r record.Record) {
	t.Helper()
	var waiting []record.Step
	for _, st := range steps(t, a, ctx, r.Number) {
		if st.State == record.PendingApproval {
			waiting = append(waiting, st)
		}
	}
	if len(waiting) != 1 || !slices.Contains(waiting[0].Approvers, owner(t, a, r.Process)) {
		t.Errorf("%s (%s): waiting steps %+v, want one waiting for the owner", r.Number, r.State, waiting)
	}
}

func checkDemoRecords(t *testing.T, a *app.App, ctx context.Context, start, end time.Time) {
	page, total, err := a.Records.Search(ctx, record.Filter{}, listing.Params{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]int{}
	overdue := 0
	for _, r := range page.Items {
		states[r.Type+"/"+r.State]++
		if r.CreatedAt.Before(start.AddDate(0, 0, -93)) || r.UpdatedAt.After(end) || r.UpdatedAt.Before(r.CreatedAt) {
			t.Errorf("%s: created %v, updated %v: outside the story", r.Number, r.CreatedAt, r.UpdatedAt)
		}
		journal, err := a.Records.Journal(ctx, r.Number, true)
		if err != nil || len(journal) == 0 || !strings.Contains(journal[0].Body, "logged as") {
			t.Fatalf("%s journal: %v, %v", r.Number, journal, err)
		}
		for i := 1; i < len(journal); i++ {
			if journal[i].CreatedAt.Before(journal[i-1].CreatedAt) {
				t.Errorf("%s: journal entry %d is older than the one before it", r.Number, journal[i].ID)
			}
		}
		switch r.Type {
		case controls.DocumentType:
			checkDemoDocument(t, a, ctx, r)
		case controls.FindingType:
			overdue += checkDemoFinding(t, a, ctx, r, end)
		case controls.EvaluationType:
			switch r.State {
			case controls.EvalAccepted:
				approvedBy(t, a, ctx, r, "accept")
			case controls.EvalSubmitted:
				waitsForOwner(t, a, ctx, r)
			}
		}
	}
	if total != int64(len(page.Items)) {
		t.Fatalf("%d records, read %d", total, len(page.Items))
	}
	// The shapes the demo promises: something in every state worth showing.
	for _, want := range []string{"process_document/approved", "process_document/superseded", "process_document/in_review",
		"process_document/draft", "finding/open", "finding/action_planned", "finding/closed",
		"evaluation/accepted", "evaluation/submitted", "evaluation/draft"} {
		if states[want] == 0 {
			t.Errorf("no %s record; have %v", want, states)
		}
	}
	if states["process_document/approved"] < 10 {
		t.Errorf("%d approved documents, want the policies and procedures of several processes", states["process_document/approved"])
	}
	if overdue < 2 {
		t.Errorf("%d overdue corrective actions, want some", overdue)
	}
}

func checkDemoDocument(t *testing.T, a *app.App, ctx context.Context, r record.Record) {
	doc, err := a.Controls.Document(ctx, r.Number)
	if err != nil {
		t.Fatal(err)
	}
	switch r.State {
	case controls.DocApproved, controls.DocSuperseded:
		st := approvedBy(t, a, ctx, r, "approve")
		if !doc.ApprovedAt.Equal(st.DecidedAt) {
			t.Errorf("%s: approved at %v, the owner decided at %v", r.Number, doc.ApprovedAt, st.DecidedAt)
		}
		if r.State == controls.DocSuperseded {
			next, err := a.Controls.Document(ctx, doc.SupersededBy)
			if err != nil || next.State != controls.DocApproved || next.Supersedes != r.Number ||
				next.VersionNumber != doc.VersionNumber+1 || !next.ApprovedAt.After(doc.ApprovedAt) {
				t.Errorf("%s superseded by %q: %+v, %v", r.Number, doc.SupersededBy, next, err)
			}
		}
	case controls.DocInReview:
		waitsForOwner(t, a, ctx, r)
	case controls.DocDraft:
		if !doc.ApprovedAt.IsZero() {
			t.Errorf("draft %s has an approval time", r.Number)
		}
	}
}

// checkDemoFinding checks a finding's actions against its state and returns how many are overdue.
func checkDemoFinding(t *testing.T, a *app.App, ctx context.Context, r record.Record, end time.Time) (overdue int) {
	f, err := a.Controls.Finding(ctx, r.Number)
	if err != nil {
		t.Fatal(err)
	}
	switch r.State {
	case controls.FindingClosed:
		for _, c := range f.CorrectiveActions {
			if c.Status != controls.ActionDone || c.CompletedAt.IsZero() || c.CompletedAt.After(r.UpdatedAt) {
				t.Errorf("closed %s: action %d is %s, completed %v, closed %v", r.Number, c.ID, c.Status, c.CompletedAt, r.UpdatedAt)
			}
		}
	case controls.FindingPlanned:
		if len(f.CorrectiveActions) == 0 {
			t.Errorf("%s is planned without a corrective action", r.Number)
		}
	}
	for _, c := range f.CorrectiveActions {
		due, err := time.Parse(time.DateOnly, c.DueDate)
		if err != nil || due.Before(f.CreatedAt.Truncate(24*time.Hour)) || c.OwnerID == 0 {
			t.Errorf("%s: action %d due %q, owner %d", r.Number, c.ID, c.DueDate, c.OwnerID)
		}
		if c.Overdue != (!c.Status.Finished() && due.Before(end.UTC().Truncate(24*time.Hour))) {
			t.Errorf("%s: action %d overdue %v (due %s, %s)", r.Number, c.ID, c.Overdue, c.DueDate, c.Status)
		}
		if c.Overdue {
			overdue++
		}
	}
	return overdue
}

// checkDemoCMDB: the demo estate answers impact questions the way its story
// says: the Norfolk core switch takes the replacement cluster below its
// redundancy threshold, so both mission services go down; and the history
// keeps the failed node's retirement and the flagged, resolved OS upgrade.
func checkDemoCMDB(t *testing.T, a *app.App, ctx context.Context) {
	cis, total, err := a.CMDB.ListCIs(ctx, cmdb.CIFilter{Name: "ndc-core-sw01"}, listing.Params{Limit: 5})
	if err != nil || total != 1 {
		t.Fatalf("the core switch: %d, %v", total, err)
	}
	res, err := a.CMDB.Analyze(ctx, cmdb.ImpactQuery{CIs: []int64{cis.Items[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, n := range res.Nodes {
		states[n.Name] = n.State
	}
	for _, name := range []string{"logistics-db-cluster", "ndc-vsphere-cluster", "Fleet Logistics", "Identity and Access"} {
		if states[name] != "down" {
			t.Errorf("core switch down: %s is %q, want down (%v)", name, states[name], states)
		}
	}
	if len(res.MissionPartners) != 3 {
		t.Errorf("mission partners reached: %v", res.MissionPartners)
	}
	flags, _, err := a.CMDB.UnauthorisedChanges(ctx, cmdb.UnauthorisedFilter{}, listing.Params{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	resolved := 0
	for _, f := range flags.Items {
		if !f.ResolvedAt.IsZero() {
			resolved++
		}
	}
	if resolved != 1 {
		t.Errorf("%d resolved unauthorised changes, want 1", resolved)
	}
}

// as is a context acting as the named demo person.
func as(t *testing.T, a *app.App, username string) context.Context {
	t.Helper()
	u, err := a.Auth.UserByName(context.Background(), username)
	if err != nil {
		t.Fatalf("demo person %s: %v", username, err)
	}
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: u.ID, Username: u.Username})
}

// checkDemoOps: the Service Operations story left what it tells, as each
// person reads it: incidents closed by their callers and by the timer, one
// rejected once, one handed to the NOC and escalated; a major incident with
// its children, updates, communications and review; a security incident only
// Information Assurance and its caller see; a problem from five recurring
// incidents with its analysis and a published known error that the desk is
// offered; catalog requests in every state; and an open queue for the desk.
func checkDemoOps(t *testing.T, a *app.App, ctx context.Context, out string, end time.Time) {
	for _, want := range []string{"32 incidents (", "1 major incident", "1 problem with 1 published known error", "1 waits for approval"} {
		if !strings.Contains(out, want) {
			t.Errorf("the report lacks %q:\n%s", want, out)
		}
	}
	page, total, err := a.Incidents.Queue(ctx, incident.QueueFilter{}, listing.Params{Limit: 200})
	if err != nil || total < 30 {
		t.Fatalf("incidents: %d, %v", total, err)
	}
	byTitle := map[string]incident.Incident{}
	states := map[string]int{}
	for _, inc := range page.Items {
		byTitle[inc.Title] = inc
		states[inc.State]++
	}
	get := func(title string) incident.Incident {
		t.Helper()
		inc, ok := byTitle[title]
		if !ok {
			t.Fatalf("no incident %q", title)
		}
		return inc
	}
	if states[incident.StateClosed] < 20 || states[incident.StateCancelled] != 1 || states[incident.StateReclassified] != 1 {
		t.Errorf("incident states %v", states)
	}

	// Closed by the caller, by the timer, after a rejection.
	system := 0
	for _, inc := range page.Items {
		if inc.State != incident.StateClosed {
			continue
		}
		j, err := a.Records.Journal(ctx, inc.Number, true)
		if err != nil {
			t.Fatal(err)
		}
		if last := j[len(j)-1]; last.AuthorName == "system" && strings.Contains(last.Body, "Close (IM6)") {
			system++
			if inc.ClosedBy != 0 || inc.Resolution == nil || inc.Resolution.ResolvedAt.After(inc.ClosedAt.Add(-72*time.Hour)) {
				t.Errorf("%s closed by the timer %v after its resolution %+v", inc.Number, inc.ClosedAt, inc.Resolution)
			}
		}
	}
	if system < 3 {
		t.Errorf("%d incidents closed by the auto-close timer, want several", system)
	}
	plotter := get("Operations-room plotter prints nothing")
	if plotter.State != incident.StateClosed || plotter.Rejections != 1 || plotter.Resolution == nil || plotter.Resolution.Code != "permanent" ||
		plotter.ClosedBy != plotter.RequesterID {
		t.Errorf("the rejected resolution: %+v", plotter)
	}
	if vpn := get("Cannot connect to the build server from home"); !vpn.CategoryChanged || vpn.Category != "network" || vpn.LoggedCategory != "software" {
		t.Errorf("the recategorised incident: %s/%s logged as %s, changed %v", vpn.Category, vpn.Subcategory, vpn.LoggedCategory, vpn.CategoryChanged)
	}

	// Handed to the NOC and escalated.
	slow := get("Logistics Portal very slow from San Diego")
	tr, err := a.Incidents.Tracking(ctx, slow.Number)
	if err != nil || slow.TeamName != "Network Operations" || slow.EscalationLevel != 1 || tr.Reassignments != 1 || len(tr.History) != 2 ||
		tr.History[0].TeamName != "Service Desk" || !tr.History[1].Reassignment {
		t.Errorf("the NOC incident: team %s, level %d, tracking %+v, %v", slow.TeamName, slow.EscalationLevel, tr, err)
	}

	// The major incident.
	major := get("Fleet Logistics Portal down: database connections refused")
	marcus, _ := a.Auth.UserByName(context.Background(), "marcus.bell")
	if major.Path != incident.PathMajor || major.Priority != 1 || major.State != incident.StateClosed || major.Major == nil ||
		major.Major.ManagerID != marcus.ID || major.ServiceName != "Fleet Logistics" || !major.CategoryChanged || major.Category != "hardware" {
		t.Errorf("the major incident: %+v", major)
	}
	md, err := a.Incidents.MajorDetail(ctx, major.Number)
	if err != nil || len(md.Children) != 2 || len(md.Updates) < 3 || len(md.Communications) < 3 || md.Review == nil || !md.Reviewed {
		t.Fatalf("the major incident's detail: %+v, %v", md, err)
	}
	for _, n := range md.Children {
		c, err := a.Incidents.Incident(ctx, n)
		if err != nil || c.State != incident.StateClosed || c.Resolution == nil ||
			!strings.Contains(c.Resolution.Notes, "Resolved with major incident "+major.Number) {
			t.Errorf("child %s: %+v, %v", n, c, err)
		}
	}

	// The security incident: Information Assurance and the caller see it, the desk does not.
	sec := get("Malicious macro attachment opened")
	if sec.Path != incident.PathSecurity || sec.TeamName != "Information Assurance" || sec.State != incident.StateClosed {
		t.Errorf("the security incident: %+v", sec)
	}
	for who, sees := range map[string]bool{"linda.park": true, "daniel.foster": true, "rachel.kim": true, "marcus.bell": false, "priya.natarajan": false} {
		_, err := a.Incidents.Incident(as(t, a, who), sec.Number)
		if (err == nil) != sees {
			t.Errorf("%s reads the security incident: %v, want seen %v", who, err, sees)
		}
	}

	// The problem, its analysis and known error, offered to the desk on the open incident.
	probs, _, err := a.Problems.List(ctx, pm.ListFilter{}, listing.Params{Limit: 10})
	if err != nil || len(probs.Items) != 1 {
		t.Fatalf("problems: %+v, %v", probs.Items, err)
	}
	prb, err := a.Problems.Problem(ctx, probs.Items[0].Number)
	if err != nil || prb.State != pm.AwaitingChange || prb.Origin != pm.OriginIncidents || len(prb.Incidents) != 6 ||
		len(prb.RCAs) != 1 || prb.RCAs[0].Method != pm.FiveWhys || prb.RootCause == "" || prb.Workaround == "" ||
		prb.RFC != "RFC-2026-0117" || prb.CIName != "idm01" || len(prb.KnownErrors) != 1 || prb.KnownErrors[0].State != pm.Published {
		t.Fatalf("the problem: %+v, %v", prb, err)
	}
	six := get("Changed my password, the Logistics Portal still wants the old one")
	offered, err := a.Incidents.KnownErrors(as(t, a, "priya.natarajan"), six.Number)
	if err != nil || len(offered) == 0 || offered[0].Number != prb.KnownErrors[0].Number || six.State != incident.StateResolved ||
		six.Resolution == nil || six.Resolution.Code != "known_error" {
		t.Errorf("the known error offered on %s (%s): %+v, %v", six.Number, six.State, offered, err)
	}
	trends, err := a.Incidents.Trends(ctx, incident.TrendQuery{By: "ci", From: end.AddDate(0, 0, -60), To: end})
	if err != nil || len(trends) == 0 || trends[0].Label != "idm01" || trends[0].Count != 6 {
		t.Errorf("incident trends by CI: %+v, %v", trends, err)
	}

	// The desk's queue at the end.
	desk := as(t, a, "priya.natarajan")
	deskTeam, _, _ := a.Auth.ListTeams(context.Background(), listing.Params{Limit: 20}, nil)
	var deskID int64
	for _, tm := range deskTeam.Items {
		if tm.Name == "Service Desk" {
			deskID = tm.ID
		}
	}
	open := true
	queue, _, err := a.Incidents.Queue(desk, incident.QueueFilter{TeamID: deskID, Open: &open}, listing.Params{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	prios, qstates := map[int]bool{}, map[string]int{}
	for _, inc := range queue.Items {
		prios[inc.Priority] = true
		qstates[inc.State]++
	}
	if len(queue.Items) < 6 || len(prios) < 3 || qstates[incident.StateOnHold] != 1 || qstates[incident.StateNew] < 2 ||
		qstates[incident.StateInProgress] < 2 || qstates[incident.StateResolved] < 1 {
		t.Errorf("the desk's open queue: %d incidents, priorities %v, states %v", len(queue.Items), prios, qstates)
	}
	unassigned, _, err := a.Incidents.Queue(desk, incident.QueueFilter{Unassigned: true, Open: &open}, listing.Params{Limit: 50})
	if err != nil || len(unassigned.Items) < 2 {
		t.Errorf("unassigned open incidents: %d, %v", len(unassigned.Items), err)
	}

	// The catalog requests.
	reqs, _, err := a.Requests.Requests(ctx, request.Filter{}, listing.Params{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	rstates := map[string][]string{}
	for _, r := range reqs.Items {
		rstates[r.State] = append(rstates[r.State], r.Number)
	}
	if len(rstates[request.Closed]) != 3 || len(rstates[request.Rejected]) != 1 || len(rstates[request.AwaitingApproval]) != 1 ||
		len(rstates[request.AwaitingAcceptance]) != 1 || len(rstates[request.Submitted]) != 1 {
		t.Fatalf("request states: %v", rstates)
	}
	rejected, err := a.Requests.Request(ctx, rstates[request.Rejected][0])
	if err != nil || rejected.RejectionReason == "" || rejected.Approvals[0].State != request.ApprovalRejected {
		t.Errorf("the rejected request: %+v, %v", rejected, err)
	}
	var laptop request.Request
	for _, n := range rstates[request.Closed] {
		r, err := a.Requests.Request(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		if r.CatalogItemName == "New laptop" {
			laptop = r
		}
	}
	laura, _ := a.Auth.UserByName(context.Background(), "laura.simmons")
	robert, _ := a.Auth.UserByName(context.Background(), "robert.haines")
	if laura.ManagerID != robert.ID || len(laptop.Approvals) != 2 || laptop.Approvals[0].Kind != request.ManagerApproval ||
		laptop.Approvals[0].State != request.ApprovalApproved || laptop.Approvals[0].Approvals[0].DecidedBy != robert.ID ||
		laptop.Approvals[1].Kind != request.GroupApproval || laptop.Approvals[1].State != request.ApprovalApproved ||
		len(laptop.Stages) != 2 || len(laptop.Stages[0].Tasks) != 2 || laptop.Stages[1].State != request.StageDone {
		t.Errorf("the laptop request: %+v", laptop)
	}
	for _, st := range laptop.Stages {
		for _, tk := range st.Tasks {
			if tk.State != request.TaskDone || tk.AssigneeID == 0 {
				t.Errorf("laptop task %s: %s, assignee %d", tk.Number, tk.State, tk.AssigneeID)
			}
		}
	}
	pending, err := a.Requests.PendingApprovals(as(t, a, "rachel.kim"))
	if err != nil || len(pending) != 1 || pending[0].Request != rstates[request.AwaitingApproval][0] {
		t.Errorf("rachel.kim's pending approvals: %+v, %v", pending, err)
	}
}
