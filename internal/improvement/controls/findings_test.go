package controls_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/improvement/controls"
	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// TestFindingClosesWhenAllActionsDone is the Monitor, Manage and Report
// control of Incident Management: the analyst (R for IM7) records a finding
// with two corrective actions; it closes only when both are done. An action's
// owner reports its status without holding R or A; changing its due date takes
// R or A for IM7.
func TestFindingClosesWhenAllActionsDone(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		in := controls.NewFinding{Title: "First call resolution below target", Severity: controls.High,
			Observation: "First call resolution fell to 52% in February against a 70% target."}
		if _, err := e.svc.CreateFinding(e.dv, "IM", in); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "IM7") {
			t.Fatalf("the developer (I for IM7) records a finding: %v", err)
		}
		f, err := e.svc.CreateFinding(e.an, "IM", in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(f.Number, "FND") || f.State != controls.FindingOpen || f.Process != "IM" || len(f.CorrectiveActions) != 0 {
			t.Fatalf("created: %+v", f)
		}
		acts, err := e.recs.Actions(e.an, f.Number)
		if err != nil || len(acts) != 1 || acts[0].Action != "plan" || acts[0].Activity != "IM7" {
			t.Fatalf("actions: %+v, %v", acts, err)
		}
		if _, err := e.perform(e.an, f.Number, f.Version, "plan"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("plan without actions: %v", err)
		}

		if _, err := e.svc.AddCorrectiveAction(e.dv, f.Number, f.Version, controls.NewAction{Description: "x",
			OwnerID: e.developer.ID, DueDate: "2025-03-31"}); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "IM7") {
			t.Fatalf("the developer adds an action: %v", err)
		}
		if _, err := e.svc.AddCorrectiveAction(e.an, f.Number, f.Version, controls.NewAction{Description: "x",
			OwnerID: e.developer.ID, DueDate: "2025-02-01"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("an action due in the past: %v", err)
		}
		if _, err := e.svc.AddCorrectiveAction(e.an, f.Number, f.Version, controls.NewAction{Description: "x",
			OwnerID: 99999, DueDate: "2025-03-31"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("an action of nobody: %v", err)
		}
		f, err = e.svc.AddCorrectiveAction(e.an, f.Number, f.Version, controls.NewAction{
			Description: "Refresh the service desk's known-error scripts", OwnerID: e.analyst.ID, DueDate: "2025-03-15"})
		if err != nil {
			t.Fatal(err)
		}
		f, err = e.svc.AddCorrectiveAction(e.m, f.Number, f.Version, controls.NewAction{
			Description: "Give the service desk read access to the CMDB", OwnerID: e.developer.ID, DueDate: "2025-03-31"})
		if err != nil {
			t.Fatal(err)
		}
		if len(f.CorrectiveActions) != 2 || f.CorrectiveActions[1].OwnerName != "developer" || f.CorrectiveActions[0].Status != controls.ActionOpen {
			t.Fatalf("actions: %+v", f.CorrectiveActions)
		}
		a1, a2 := f.CorrectiveActions[0].ID, f.CorrectiveActions[1].ID
		res := e.mustPerform(e.an, f.Number, f.Version, "plan", record.OutcomeApplied)

		// Closing waits for every action.
		_, err = e.perform(e.m, f.Number, res.Record.Version, "close")
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "#1") && !strings.Contains(err.Error(), "not done") {
			t.Fatalf("close with open actions: %v", err)
		}
		// The developer owns a2: they may report it done, not move its due date.
		done := controls.ActionDone
		if _, err := e.svc.UpdateCorrectiveAction(e.dv, f.Number, a2, res.Record.Version, controls.ActionUpdate{DueDate: ptr("2025-04-30")}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the owner moves the due date: %v", err)
		}
		if _, err := e.svc.UpdateCorrectiveAction(e.dv, f.Number, a1, res.Record.Version, controls.ActionUpdate{Status: &done}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the developer reports someone else's action: %v", err)
		}
		f, err = e.svc.UpdateCorrectiveAction(e.dv, f.Number, a2, res.Record.Version, controls.ActionUpdate{Status: &done, Note: ptr("granted")})
		if err != nil {
			t.Fatal(err)
		}
		if f.CorrectiveActions[1].Status != controls.ActionDone || f.CorrectiveActions[1].CompletedAt.IsZero() {
			t.Fatalf("a2 after done: %+v", f.CorrectiveActions[1])
		}
		_, err = e.perform(e.m, f.Number, f.Version, "close")
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "#") {
			t.Fatalf("close with one open action: %v", err)
		}
		upd := e.audits("record.update")
		if !slices.ContainsFunc(upd[0].ChangeList, func(c audit.Change) bool {
			return c.Field == "correctiveActions[#"+strconv.FormatInt(a2, 10)+"].status" && c.New == "done"
		}) {
			t.Fatalf("the status change is not audited: %+v", upd[0])
		}

		// Overdue shows once the due date has passed.
		e.clock.Advance(20 * 24 * time.Hour)
		f, _ = e.svc.Finding(e.m, f.Number)
		if !f.CorrectiveActions[0].Overdue || f.CorrectiveActions[1].Overdue {
			t.Fatalf("overdue: %+v", f.CorrectiveActions)
		}
		f, err = e.svc.UpdateCorrectiveAction(e.an, f.Number, a1, f.Version, controls.ActionUpdate{Status: &done})
		if err != nil {
			t.Fatal(err)
		}
		res = e.mustPerform(e.m, f.Number, f.Version, "close", record.OutcomeApplied)
		if res.Record.State != controls.FindingClosed || !res.Record.Closed {
			t.Fatalf("closed: %+v", res.Record)
		}
		if _, err := e.svc.AddCorrectiveAction(e.an, f.Number, res.Record.Version, controls.NewAction{Description: "late",
			OwnerID: e.analyst.ID, DueDate: "2025-04-30"}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("an action on a closed finding: %v", err)
		}
		ev := e.events("raci.informed")
		last := ev[len(ev)-1]
		if last.Data["activity"] != "IM7" || !slices.Equal(informed(last), []string{"developer", "owner"}) {
			t.Fatalf("informed of the close: %+v", last)
		}
	})
}
