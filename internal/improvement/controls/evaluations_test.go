package controls_test

import (
	"slices"
	"strings"
	"testing"

	"steward/internal/improvement/controls"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// TestEvaluationSubmittedAndAccepted is the Evaluate Process Performance
// control of Incident Management: the developer (R for IM8) drafts an
// evaluation with measurements, submits it once it has a gap analysis, and
// acceptance waits for the process owner (A for IM8).
func TestEvaluationSubmittedAndAccepted(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		target := 70.0
		in := controls.NewEvaluation{Title: "IM performance, Q1", Period: "FY2025 Q1",
			Feedback: []controls.Feedback{{Source: "Service Desk", Text: "Scripts are out of date."}},
			Measurements: []controls.Measurement{
				{Name: "First call resolution", Value: 52, Unit: "%", Target: &target, Direction: controls.HigherIsBetter},
				{Name: "Incidents logged", Value: 1840},
			},
			Initiatives: []controls.Initiative{{Title: "Refresh known-error scripts", Priority: "high"}}}
		if _, err := e.svc.CreateEvaluation(e.s, "IM", in); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "IM8") {
			t.Fatalf("stranger evaluates: %v", err)
		}
		bad := in
		bad.Measurements = append(slices.Clone(in.Measurements), controls.Measurement{Name: "first call resolution", Value: 1})
		if _, err := e.svc.CreateEvaluation(e.dv, "IM", bad); !fieldAt(err, "body.measurements[2].name") {
			t.Fatalf("a measurement twice: %v", err)
		}
		ev, err := e.svc.CreateEvaluation(e.dv, "IM", in)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(ev.Number, "EVL") || ev.State != controls.EvalDraft || len(ev.Measurements) != 2 {
			t.Fatalf("created: %+v", ev)
		}
		if m := ev.Measurements[0].Met; m == nil || *m {
			t.Fatalf("52%% meets a 70%% target: %+v", ev.Measurements[0])
		}
		if ev.Measurements[1].Met != nil {
			t.Fatalf("a measurement without target is met or not: %+v", ev.Measurements[1])
		}
		if _, err := e.perform(e.dv, ev.Number, ev.Version, "submit"); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "gap analysis") {
			t.Fatalf("submit without gap analysis: %v", err)
		}
		ev, err = e.svc.UpdateEvaluation(e.dv, ev.Number, ev.Version, controls.EvaluationUpdate{
			GapAnalysis: ptr("First call resolution is 18 points below target: scripts and CMDB access are missing.")})
		if err != nil {
			t.Fatal(err)
		}
		res := e.mustPerform(e.dv, ev.Number, ev.Version, "submit", record.OutcomeApplied)
		if _, err := e.svc.UpdateEvaluation(e.dv, ev.Number, res.Record.Version, controls.EvaluationUpdate{Period: ptr("Q2")}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("edit a submitted evaluation: %v", err)
		}
		res = e.mustPerform(e.dv, ev.Number, res.Record.Version, "accept", record.OutcomeAwaitingApproval)
		if res.Step.Activity != "IM8" || !slices.Equal(res.Step.Approvers, []int64{e.owner.ID}) {
			t.Fatalf("acceptance step: %+v", res.Step)
		}
		acc, err := e.recs.Approve(e.o, res.Step.ID, "")
		if err != nil || acc.Record.State != controls.EvalAccepted || !acc.Record.Closed {
			t.Fatalf("owner accepts: %+v, %v", acc, err)
		}
		got, err := e.svc.Evaluation(e.an, ev.Number)
		if err != nil || got.GapAnalysis == "" || len(got.Feedback) != 1 || len(got.Initiatives) != 1 || got.Period != "FY2025 Q1" {
			t.Fatalf("read back: %+v, %v", got, err)
		}
		// The Evaluate row of the template informs nobody; the transition is announced.
		evs := e.events("record.transitioned")
		if last := evs[len(evs)-1]; last.Data["process"] != "IM" || last.Data["activity"] != "IM8" || last.Data["action"] != "accept" {
			t.Fatalf("transitioned: %+v", last)
		}
		if n := len(e.events("raci.informed")); n != 0 {
			t.Fatalf("%d raci.informed events for IM8, whose row has no I", n)
		}
	})
}
