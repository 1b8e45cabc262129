package raci_test

import (
	"slices"
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
)

// TestAssignments: one owner per process and domain, who may assign what, and bad input.
func TestAssignments(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		olga, omar, ann := f.user(t, "olga", false), f.user(t, "omar", false), f.user(t, "ann", false)
		desk := f.team(t, "Service Desk", ann)

		own := f.assign(t, raci.RoleAssignment{Subject: "IM", Role: raci.RoleProcessOwner, UserID: olga.UserID})
		if own.ID == 0 || own.Username != "olga" || own.AssignedBy != f.admin.UserID || !own.AssignedAt.Equal(t0) {
			t.Fatalf("assignment %+v", own)
		}
		_, err := f.s.Assign(f.ctx, f.admin, raci.RoleAssignment{Subject: "IM", Role: raci.RoleProcessOwner, UserID: omar.UserID})
		if e := wantKind(t, err, errs.Conflict, "second process owner"); !strings.Contains(e.Message, "olga") {
			t.Errorf("the conflict does not name the owner: %q", e.Message)
		}
		_, err = f.s.Assign(f.ctx, f.admin, raci.RoleAssignment{Subject: "IM", Role: raci.RoleProcessOwner, TeamID: desk})
		wantKind(t, err, errs.Conflict, "a team as second process owner")
		f.assign(t, raci.RoleAssignment{Subject: "ChM", Role: raci.RoleProcessOwner, UserID: omar.UserID})
		f.assign(t, raci.RoleAssignment{Subject: "SO", Role: raci.RoleDomainOwner, UserID: omar.UserID})
		_, err = f.s.Assign(f.ctx, f.admin, raci.RoleAssignment{Subject: "SO", Role: raci.RoleDomainOwner, UserID: olga.UserID})
		wantKind(t, err, errs.Conflict, "second domain owner")

		// Only administrators assign owners; a process owner assigns the other roles of their process.
		_, err = f.s.Assign(f.ctx, olga, raci.RoleAssignment{Subject: "PM", Role: raci.RoleProcessOwner, UserID: olga.UserID})
		wantKind(t, err, errs.Forbidden, "process owner by a non-admin")
		_, err = f.s.Assign(f.ctx, olga, raci.RoleAssignment{Subject: "SD", Role: raci.RoleDomainOwner, UserID: olga.UserID})
		wantKind(t, err, errs.Forbidden, "domain owner by a non-admin")
		mgr, err := f.s.Assign(f.ctx, olga, raci.RoleAssignment{Subject: "IM", Role: "process-manager", TeamID: desk, Scope: raci.Scope{TeamID: desk}})
		if err != nil || mgr.TeamName != "Service Desk" || mgr.Scope.TeamID != desk {
			t.Fatalf("owner assigns a manager: %+v %v", mgr, err)
		}
		_, err = f.s.Assign(f.ctx, olga, raci.RoleAssignment{Subject: "IM", Role: "process-manager", TeamID: desk, Scope: raci.Scope{TeamID: desk}})
		wantKind(t, err, errs.Conflict, "duplicate assignment")
		_, err = f.s.Assign(f.ctx, olga, raci.RoleAssignment{Subject: "ChM", Role: "process-manager", UserID: ann.UserID})
		if e := wantKind(t, err, errs.Forbidden, "another process's roles"); !strings.Contains(e.Message, "process owner of ChM") {
			t.Errorf("the refusal does not say who may: %q", e.Message)
		}
		_, err = f.s.Assign(f.ctx, olga, raci.RoleAssignment{Subject: "*", Role: "service-owner", UserID: ann.UserID, Scope: raci.Scope{ServiceID: 7}})
		wantKind(t, err, errs.Forbidden, "everywhere by a non-admin")
		// The domain owner assigns roles of the domain.
		if _, err = f.s.Assign(f.ctx, omar, raci.RoleAssignment{Subject: "SO", Role: "process-analyst", UserID: ann.UserID}); err != nil {
			t.Fatalf("domain owner assigns: %v", err)
		}
		wantKind(t, f.s.Unassign(f.ctx, ann, mgr.ID), errs.Forbidden, "unassign by a stranger")

		// Bad input.
		for _, c := range []struct {
			a   raci.RoleAssignment
			loc string
		}{
			{raci.RoleAssignment{Subject: "NOPE", Role: "process-manager", UserID: ann.UserID}, "body.subject"},
			{raci.RoleAssignment{Subject: "IM", Role: "chief-wizard", UserID: ann.UserID}, "body.role"},
			{raci.RoleAssignment{Subject: "IM", Role: "process-manager"}, "body.userId"},
			{raci.RoleAssignment{Subject: "IM", Role: "process-manager", UserID: ann.UserID, TeamID: desk}, "body.userId"},
			{raci.RoleAssignment{Subject: "SO", Role: raci.RoleProcessOwner, UserID: ann.UserID}, "body.subject"},
			{raci.RoleAssignment{Subject: "IM", Role: raci.RoleDomainOwner, UserID: ann.UserID}, "body.subject"},
			{raci.RoleAssignment{Subject: "PM", Role: raci.RoleProcessOwner, UserID: ann.UserID, Scope: raci.Scope{TeamID: desk}}, "body.scope"},
			{raci.RoleAssignment{Subject: "IM", Role: "process-manager", UserID: 999999}, "body.userId"},
			{raci.RoleAssignment{Subject: "IM", Role: "process-manager", TeamID: 999999}, "body.teamId"},
			{raci.RoleAssignment{Subject: "IM", Role: "process-manager", UserID: ann.UserID, Scope: raci.Scope{TeamID: 999999}}, "body.scope.teamId"},
		} {
			_, err := f.s.Assign(f.ctx, f.admin, c.a)
			wantField(t, err, c.loc)
		}

		// Listing, filters and removal.
		list, err := f.s.Assignments(f.ctx, raci.RoleAssignmentFilter{Subject: "IM"})
		if err != nil || len(list) != 2 {
			t.Fatalf("IM assignments: %+v %v", list, err)
		}
		if list, _ = f.s.Assignments(f.ctx, raci.RoleAssignmentFilter{TeamID: desk}); len(list) != 1 || list[0].ID != mgr.ID {
			t.Fatalf("by team: %+v", list)
		}
		if list, _ = f.s.Assignments(f.ctx, raci.RoleAssignmentFilter{Role: raci.RoleProcessOwner}); len(list) != 2 {
			t.Fatalf("by role: %+v", list)
		}
		if err := f.s.Unassign(f.ctx, olga, mgr.ID); err != nil {
			t.Fatal(err)
		}
		wantKind(t, f.s.Unassign(f.ctx, olga, mgr.ID), errs.NotFound, "unassign twice")
		if n := f.countAudit(t, "process-role.assign", "IM/process-manager"); n != 1 {
			t.Errorf("assign audited %d times", n)
		}
		if n := f.countAudit(t, "process-role.unassign", "IM/process-manager"); n != 1 {
			t.Errorf("unassign audited %d times", n)
		}
		if n := f.countEvents(t, "process-role.assigned"); n != 5 {
			t.Errorf("%d process-role.assigned events, want 5", n)
		}
	})
}

// TestGuard: who may perform an activity, through which role and team, in which scope,
// with the administrator override, and who must approve, be consulted or be informed.
func TestGuard(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ann, bob, cat, dan := f.user(t, "ann", false), f.user(t, "bob", false), f.user(t, "cat", false), f.user(t, "dan", false)
		desk := f.team(t, "Service Desk", ann, bob)
		network := f.team(t, "Network", cat)
		// The Service Desk are analysts (R on IM2–IM7) for their own team's incidents only;
		// cat is a manager (A) of IM everywhere; dan is the process owner.
		f.assign(t, raci.RoleAssignment{Subject: "IM", Role: "process-analyst", TeamID: desk, Scope: raci.Scope{TeamID: desk}})
		f.assign(t, raci.RoleAssignment{Subject: "SO", Role: "process-manager", UserID: cat.UserID})
		f.assign(t, raci.RoleAssignment{Subject: "IM", Role: raci.RoleProcessOwner, UserID: dan.UserID})

		ctx := raci.WithRequestCache(f.ctx)
		d1, err := f.s.Decide(ctx, ann, "IM", "IM5", raci.Scope{TeamID: desk})
		if err != nil || !d1.Allowed || d1.Override || d1.Letter != "R" || d1.Role.Code != "process-analyst" || d1.Via != "through team Service Desk" {
			t.Fatalf("ann on a desk incident: %+v %v", d1, err)
		}
		want := "you may perform IM5: you hold R for IM5 (Resolve and Recover Incident) as Incident Management Process Analyst/Practitioner, through team Service Desk"
		if !strings.HasPrefix(d1.Explanation, want) {
			t.Errorf("explanation %q, want it to start %q", d1.Explanation, want)
		}
		if len(d1.Performers) != 2 || d1.Performers[0].Code != "process-manager" || d1.Performers[0].Letters != "A" {
			t.Errorf("performers %+v", d1.Performers)
		}
		// Not for another team's incident, nor without a team.
		for _, sc := range []raci.Scope{{TeamID: network}, {}} {
			d2, _ := f.s.Decide(ctx, ann, "IM", "IM5", sc)
			if d2.Allowed {
				t.Errorf("ann allowed on scope %+v: %+v", sc, d2)
			}
			if !strings.HasPrefix(d2.Explanation, "you may not perform IM5 (Resolve and Recover Incident): it needs R or A, held by Incident Management Process Manager (A), Incident Management Process Analyst/Practitioner (R); you hold none of them") ||
				!strings.Contains(d2.Explanation, "for team") {
				t.Errorf("refusal explanation %q", d2.Explanation)
			}
		}
		// A manager through the domain, everywhere (A); the owner holds only I on IM5 and A on IM1.
		if d3, _ := f.s.Decide(ctx, cat, "IM", "IM5", raci.Scope{TeamID: desk}); !d3.Allowed || d3.Letter != "A" || d3.Via != "directly" {
			t.Errorf("cat: %+v", d3)
		}
		if d4, _ := f.s.Decide(ctx, dan, "IM", "IM5", raci.Scope{}); d4.Allowed {
			t.Errorf("the owner (I) may resolve: %+v", d4)
		}
		if d5, _ := f.s.Decide(ctx, dan, "IM", "IM1", raci.Scope{}); !d5.Allowed || d5.Letter != "A" {
			t.Errorf("the owner may not establish: %+v", d5)
		}
		// The domain assignment counts in every SO process, not elsewhere.
		if d6, _ := f.s.Decide(ctx, cat, "PM", "PM3", raci.Scope{}); !d6.Allowed {
			t.Errorf("cat in PM: %+v", d6)
		}
		if d7, _ := f.s.Decide(ctx, cat, "ChM", "ChM5", raci.Scope{}); d7.Allowed {
			t.Errorf("cat in ChM: %+v", d7)
		}
		// The administrator holds nothing: allowed as an override.
		d8, _ := f.s.Decide(ctx, f.admin, "IM", "IM5", raci.Scope{})
		if !d8.Allowed || !d8.Override || !strings.Contains(d8.Explanation, "administrator (override)") {
			t.Errorf("admin: %+v", d8)
		}
		if d9, _ := f.s.Decide(ctx, nil, "IM", "IM5", raci.Scope{}); d9.Allowed {
			t.Errorf("anonymous allowed: %+v", d9)
		}
		_, err = f.s.Decide(ctx, ann, "IM", "ChM5", raci.Scope{})
		wantKind(t, err, errs.Invalid, "activity of another process")
		_, err = f.s.Decide(ctx, ann, "NOPE", "IM5", raci.Scope{})
		wantKind(t, err, errs.NotFound, "unknown process")

		// Team membership grants the role: a new member is allowed in the next request.
		eve := f.user(t, "eve", false)
		if e, _ := f.s.Decide(f.ctx, eve, "IM", "IM5", raci.Scope{TeamID: desk}); e.Allowed {
			t.Fatal("eve allowed before joining")
		}
		if _, err := f.d.ExecContext(f.ctx, `INSERT INTO team_members (team_id, user_id) VALUES (?, ?)`, desk, eve.UserID); err != nil {
			t.Fatal(err)
		}
		if e, _ := f.s.Decide(f.ctx, eve, "IM", "IM5", raci.Scope{TeamID: desk}); !e.Allowed {
			t.Fatalf("eve not allowed after joining: %+v", e)
		}

		// Holders: A approves, C is consulted, I is informed — in scope, teams expanded.
		names := func(hs []raci.Holder) []string {
			var out []string
			for _, h := range hs {
				out = append(out, h.Username+":"+h.Role)
			}
			slices.Sort(out)
			return out
		}
		ctx = raci.WithRequestCache(f.ctx)
		hs, err := f.s.Holders(ctx, "IM", "IM5", framework.A, raci.Scope{TeamID: desk})
		if err != nil || !slices.Equal(names(hs), []string{"cat:process-manager"}) {
			t.Errorf("A of IM5: %v %v", names(hs), err)
		}
		hs, _ = f.s.Holders(ctx, "IM", "IM5", framework.R, raci.Scope{TeamID: desk})
		if !slices.Equal(names(hs), []string{"ann:process-analyst", "bob:process-analyst", "eve:process-analyst"}) || hs[0].Via != "through team Service Desk" {
			t.Errorf("R of IM5 for the desk: %v %+v", names(hs), hs)
		}
		if hs, _ = f.s.Holders(ctx, "IM", "IM5", framework.R, raci.Scope{TeamID: network}); len(hs) != 0 {
			t.Errorf("R of IM5 for the network team: %v", names(hs))
		}
		hs, _ = f.s.Holders(ctx, "IM", "IM5", framework.I, raci.Scope{})
		if !slices.Equal(names(hs), []string{"dan:process-owner"}) {
			t.Errorf("I of IM5: %v", names(hs))
		}
		hs, _ = f.s.Holders(ctx, "IM", "IM1", framework.C, raci.Scope{TeamID: desk})
		if !slices.Equal(names(hs), []string{"ann:process-analyst", "bob:process-analyst", "eve:process-analyst"}) {
			t.Errorf("C of IM1: %v", names(hs))
		}
		// A disabled user holds nothing.
		if _, err := f.d.ExecContext(f.ctx, `UPDATE users SET disabled = ? WHERE id = ?`, true, bob.UserID); err != nil {
			t.Fatal(err)
		}
		hs, _ = f.s.Holders(raci.WithRequestCache(f.ctx), "IM", "IM5", framework.R, raci.Scope{TeamID: desk})
		if slices.Contains(names(hs), "bob:process-analyst") {
			t.Errorf("a disabled user is a holder: %v", names(hs))
		}
		_, err = f.s.Holders(ctx, "IM", "IM99", framework.A, raci.Scope{})
		wantKind(t, err, errs.Invalid, "holders of an unknown activity")

		// The reverse view and "who does what".
		rh, err := f.s.RoleHolders(f.ctx, "PM", "process-manager")
		if err != nil || len(rh) != 1 || rh[0].Username != "cat" || rh[0].Subject != "SO" {
			t.Errorf("process managers of PM: %+v %v", rh, err)
		}
		if rh, _ = f.s.RoleHolders(f.ctx, "", "process-analyst"); len(rh) != 2 || rh[0].Scope.TeamID != desk {
			t.Errorf("all analysts: %+v", rh)
		}
		_, err = f.s.RoleHolders(f.ctx, "IM", "chief-wizard")
		wantKind(t, err, errs.Invalid, "holders of an unknown role")
		resp, err := f.s.Responsibilities(f.ctx, ann.UserID)
		if err != nil || len(resp) != 1 || resp[0].Via != "through team Service Desk" || len(resp[0].Processes) != 1 {
			t.Fatalf("ann's responsibilities: %+v %v", resp, err)
		}
		duties := resp[0].Processes[0].Duties
		if resp[0].Processes[0].Process != "IM" || len(duties) != 8 || duties[0].Activity != "IM1" || duties[0].Letters != "C" || duties[4].Letters != "R" {
			t.Errorf("ann's duties: %+v", resp[0].Processes[0])
		}
		resp, _ = f.s.Responsibilities(f.ctx, cat.UserID)
		if len(resp) != 1 || len(resp[0].Processes) != 5 {
			t.Errorf("cat manages the SO processes: %+v", resp)
		}
		_, err = f.s.Responsibilities(f.ctx, 999999)
		wantKind(t, err, errs.NotFound, "responsibilities of nobody")

		// A service owner of one service, everywhere: R on DC3 once the matrix has the column.
		f.assign(t, raci.RoleAssignment{Subject: raci.Everywhere, Role: "service-owner", UserID: eve.UserID, Scope: raci.Scope{ServiceID: 7}})
		dc, v, _, _ := f.s.Matrix(f.ctx, "DC")
		dc.Roles = append(dc.Roles, "service-owner")
		if _, err := f.s.SetMatrix(f.ctx, f.admin, "DC", v, edit(dc, "DC3", "service-owner", framework.R)); err != nil {
			t.Fatal(err)
		}
		if dec, _ := f.s.Decide(f.ctx, eve, "DC", "DC3", raci.Scope{ServiceID: 7}); !dec.Allowed || dec.Role.Name != "Service Owner" {
			t.Errorf("service owner on their service: %+v", dec)
		}
		if dec, _ := f.s.Decide(f.ctx, eve, "DC", "DC3", raci.Scope{ServiceID: 8, TeamID: desk}); dec.Allowed ||
			!strings.Contains(dec.Explanation, "Service Owner for service 7 only") {
			t.Errorf("service owner on another service: %+v", dec)
		}
	})
}

// TestRequestCacheQueries: within one request cache, deciding 100 different activities for
// one user costs at most three queries, however many processes they span.
func TestRequestCacheQueries(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		ann := f.user(t, "ann", false)
		desk := f.team(t, "Service Desk", ann)
		f.assign(t, raci.RoleAssignment{Subject: "*", Role: "process-analyst", TeamID: desk})
		f.assign(t, raci.RoleAssignment{Subject: "IM", Role: "process-manager", UserID: ann.UserID})

		acts := f.m.Activities()[:100]
		decide := func(s *raci.Service, p *auth.Principal, cached bool) (int64, int) {
			t.Helper()
			q := &countingQ{Queryer: d}
			s.SetReaderForTest(q)
			ctx := f.ctx
			if cached {
				ctx = raci.WithRequestCache(ctx)
			}
			allowed := 0
			for _, a := range acts {
				dec, err := s.Decide(ctx, p, a.Process, a.Code, raci.Scope{TeamID: desk})
				if err != nil {
					t.Fatal(err)
				}
				if dec.Allowed {
					allowed++
				}
			}
			return q.n.Load(), allowed
		}
		// A cold node: the tailoring (one query) and ann's assignments (one query).
		n, allowed := decide(f.node(), ann, true)
		if n > 3 || allowed == 0 {
			t.Fatalf("cold node: %d queries for 100 decisions (%d allowed)", n, allowed)
		}
		procs := map[string]bool{}
		for _, a := range acts {
			procs[a.Process] = true
		}
		t.Logf("cold node: %d queries for 100 decisions across %d processes (%d allowed)", n, len(procs), allowed)
		// A warm node: ann's assignments only.
		s := f.node()
		decide(s, ann, true)
		if n, _ := decide(s, ann, true); n > 2 {
			t.Fatalf("warm node: %d queries", n)
		} else {
			t.Logf("warm node: %d queries for 100 decisions", n)
		}
		// Without the request cache every decision reads the assignments again.
		if n, _ := decide(s, ann, false); n < 100 {
			t.Fatalf("without a request cache only %d queries: the test measures nothing", n)
		}
		// Holders for many activities of one process: one query per process.
		q := &countingQ{Queryer: d}
		s.SetReaderForTest(q)
		ctx := raci.WithRequestCache(f.ctx)
		for _, a := range f.m.Process("IM").Activities() {
			for _, l := range []framework.Cell{framework.A, framework.C, framework.I} {
				if _, err := s.Holders(ctx, "IM", a.Code, l, raci.Scope{TeamID: desk}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if n := q.n.Load(); n > 2 {
			t.Fatalf("holders: %d queries for 24 look-ups", n)
		}
	})
}

// TestTAXUD: the TAXUD sub-processes have their own matrices (Table 4-1) and roles;
// assignments to ITSCM count in its sub-processes, so its owner tailors them.
func TestTAXUD(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		scm, owner := f.user(t, "scm", false), f.user(t, "owner", false)
		f.assign(t, raci.RoleAssignment{Subject: "ITSCM.2", Role: "itsm-service-continuity-manager", UserID: scm.UserID})
		f.assign(t, raci.RoleAssignment{Subject: "ITSCM", Role: raci.RoleProcessOwner, UserID: owner.UserID})
		dec, err := f.s.Decide(raci.WithRequestCache(f.ctx), scm, "ITSCM.2", "ITSCM.2.7", raci.Scope{})
		if err != nil || !dec.Allowed || dec.Letter != "R" || dec.Role.Letters != "A/R" || dec.Role.Name != "ITSM Service Continuity Manager" {
			t.Fatalf("continuity manager on ITSCM.2.7: %+v %v", dec, err)
		}
		if dec, _ = f.s.Decide(f.ctx, scm, "ITSCM.3", "ITSCM.3.4", raci.Scope{}); dec.Allowed {
			t.Errorf("an ITSCM.2 assignment counts in ITSCM.3: %+v", dec)
		}
		hs, _ := f.s.Holders(f.ctx, "ITSCM.2", "ITSCM.2.9", framework.A, raci.Scope{})
		if len(hs) != 0 {
			t.Errorf("A of ITSCM.2.9 is DG TAXUD A4/ISD, which nobody holds: %+v", hs)
		}
		mx, v, _, _ := f.s.Matrix(f.ctx, "ITSCM.3")
		if _, err := f.s.SetMatrix(f.ctx, owner, "ITSCM.3", v, edit(mx, "ITSCM.3.2", "nas", framework.I)); err != nil {
			t.Fatalf("the ITSCM owner tailors ITSCM.3: %v", err)
		}
		if _, _, err := f.s.AddLocalActivity(f.ctx, owner, "ITSCM.2", raci.NewActivity{Code: "ITSCM.2.7.1", Name: "Review the test specification"}); err != nil {
			t.Fatalf("sub-step of a TAXUD activity: %v", err)
		}
		_, _, err = f.s.AddLocalActivity(f.ctx, owner, "ITSCM.2", raci.NewActivity{Code: "ITSCM.2.12", Name: "x"})
		wantField(t, err, "body.code")
		acts, _ := f.s.Activities(f.ctx, "ITSCM.2")
		if len(acts) != 12 || acts[7].Code != "ITSCM.2.7.1" || acts[7].Parent != "ITSCM.2.7" {
			t.Errorf("ITSCM.2 activities: %+v", acts)
		}
	})
}

// TestConcurrentEdits: of two edits made from the same read, exactly one wins; the other
// gets PreconditionFailed — on the first tailoring (no head row yet) and later.
func TestConcurrentEdits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		def, _, _, _ := f.s.Matrix(f.ctx, "AcM")
		for round, version := range []int64{1, 2} {
			nodes := []*raci.Service{f.node(), f.node()}
			errc := make(chan error, 2)
			for i, n := range nodes {
				go func() {
					_, err := n.SetMatrix(f.ctx, f.admin, "AcM", version, edit(def, "AcM3", "process-owner", []framework.Cell{framework.C, framework.I}[i]))
					errc <- err
				}()
			}
			var ok, stale int
			for range nodes {
				switch err := <-errc; {
				case err == nil:
					ok++
				case errs.Is(err, errs.PreconditionFailed):
					stale++
				default:
					t.Fatalf("round %d: %v", round, err)
				}
			}
			if ok != 1 || stale != 1 {
				t.Fatalf("round %d: %d succeeded, %d stale", round, ok, stale)
			}
		}
	})
}
