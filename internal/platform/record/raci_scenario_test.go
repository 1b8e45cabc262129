package record_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// TestScenarioWithTheRACIService runs the ticket workflow against the real
// RACI service: the organisation's default IM matrix (manager A, analyst R,
// owner and developer I), tailored so that the developer is also consulted on
// IM5, with IM6 flagged to wait for approval. A stranger is refused naming
// IM5; the analyst (R, scoped to the service desk) investigates; resolving
// waits for the developer's consultation; closing waits for the manager's
// approval; the I holders get raci.informed after each step.
func TestScenarioWithTheRACIService(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		c := clock.NewFixed(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
		trail, events := audit.NewTrail(c), outbox.New(c, nil)
		model, err := framework.Embedded()
		if err != nil {
			t.Fatal(err)
		}
		rs := raci.New(d, model, trail, events, c)
		e := &env{t: t, d: d, clock: c, gates: map[string]record.Gate{}}
		e.auth = auth.NewService(d, trail, events, c, auth.NewHasher(0), auth.DefaultConfig())
		e.svc = record.New(record.Deps{DB: d, Guard: rs, Model: model, Trail: trail, Events: events, Clock: c})
		if err := e.svc.Register(ticketType()); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		adminUser, _ := e.user("root", true)
		admin := &auth.Principal{UserID: adminUser.ID, Username: adminUser.Username, Admin: true}
		analyst, actx := e.user("analyst", false)
		manager, mctx := e.user("manager", false)
		owner, _ := e.user("owner", false)
		developer, dctx := e.user("developer", false)
		_, sctx := e.user("stranger", false)
		desk := e.team("service-desk", analyst)
		for _, a := range []raci.RoleAssignment{
			{Subject: "IM", Role: raci.RoleProcessOwner, UserID: owner.ID},
			{Subject: "IM", Role: "process-manager", UserID: manager.ID},
			{Subject: "IM", Role: "process-analyst", UserID: analyst.ID, Scope: raci.Scope{TeamID: desk.ID}},
			{Subject: "IM", Role: "process-developer", UserID: developer.ID},
		} {
			if _, err := rs.Assign(ctx, admin, a); err != nil {
				t.Fatalf("assign %s: %v", a.Role, err)
			}
		}
		mx, v, _, err := rs.Matrix(ctx, "IM")
		if err != nil {
			t.Fatal(err)
		}
		mx = mx.Clone()
		for i := range mx.Rows {
			if mx.Rows[i].Activity == "IM5" {
				mx.Rows[i].Cells["process-developer"] = framework.I | framework.C
			}
		}
		if v, err = rs.SetMatrix(ctx, admin, "IM", v, mx); err != nil {
			t.Fatalf("tailor IM5: %v", err)
		}
		yes := true
		if _, v, err = rs.SetActivitySettings(ctx, admin, "IM", v, "IM6", raci.ActivitySettings{RequiresApproval: &yes}); err != nil {
			t.Fatalf("flag IM6: %v", err)
		}
		if _, _, err = rs.SetActivitySettings(ctx, admin, "IM", v, "IM5", raci.ActivitySettings{RequiresConsultation: &yes}); err != nil {
			t.Fatalf("flag IM5: %v", err)
		}

		r := e.ticket(actx, "Payroll run failed", record.NewRecord{TeamID: desk.ID, AssigneeID: analyst.ID})

		// Refused: the stranger holds neither R nor A for IM5.
		_, err = perform(e, sctx, r, "resolve")
		if !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "IM5") || !strings.Contains(err.Error(), "(R)") ||
			!strings.Contains(err.Error(), "(A)") {
			t.Fatalf("stranger: %v", err)
		}
		// The analyst's role is scoped to the service desk.
		other := e.ticket(actx, "Another team's ticket")
		if _, err := perform(e, actx, other, "investigate"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("out of scope: %v", err)
		}

		acts, err := e.svc.Actions(actx, r.Number)
		if err != nil || len(acts) != 2 || !acts[0].Decision.Allowed || acts[0].Decision.Letter != "R" || !acts[1].Consultation {
			t.Fatalf("actions: %+v, %v", acts, err)
		}
		res := mustPerform(e, actx, r, "investigate", record.OutcomeApplied)

		// Resolve waits for the consulted developer.
		res = mustPerform(e, actx, res.Record, "resolve", record.OutcomeAwaitingConsultation)
		if len(res.Consultations) != 1 || res.Consultations[0].UserID != developer.ID {
			t.Fatalf("consultations: %+v", res.Consultations)
		}
		done, err := e.svc.AnswerConsultation(dctx, res.Consultations[0].ID, "no payroll change pending")
		if err != nil || done.Outcome != record.OutcomeApplied || done.Record.State != "resolved" {
			t.Fatalf("answer: %+v, %v", done, err)
		}
		informed := e.events("raci.informed")
		if len(informed) != 2 || informed[0].Data["activity"] != "IM4" || informed[1].Data["activity"] != "IM5" ||
			!slices.Equal(usernames(informed[1]), []string{"developer", "owner"}) {
			t.Fatalf("informed of IM5: %+v", informed)
		}

		// Close waits for the accountable manager.
		res = mustPerform(e, actx, done.Record, "close", record.OutcomeAwaitingApproval)
		if !slices.Equal(res.Step.Approvers, []int64{manager.ID}) {
			t.Fatalf("approvers: %+v", res.Step.Approvers)
		}
		if _, err := e.svc.Approve(actx, res.Step.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("analyst approves: %v", err)
		}
		closed, err := e.svc.Approve(mctx, res.Step.ID, "payroll re-run confirmed")
		if err != nil || closed.Record.State != "closed" {
			t.Fatalf("approve: %+v, %v", closed, err)
		}
		informed = e.events("raci.informed")
		if len(informed) != 3 || informed[2].Data["activity"] != "IM6" || !slices.Equal(usernames(informed[2]), []string{"developer", "owner"}) {
			t.Fatalf("informed of IM6: %+v", informed)
		}
	})
}

func usernames(ev event) []string {
	var out []string
	for _, u := range ev.Data["users"].([]any) {
		out = append(out, u.(map[string]any)["username"].(string))
	}
	slices.Sort(out)
	return out
}
