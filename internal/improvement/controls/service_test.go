package controls_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/improvement/controls"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

func fieldAt(err error, loc string) bool {
	e, ok := errs.As(err)
	return ok && e.Kind == errs.Invalid && slices.ContainsFunc(e.Fields, func(f errs.FieldError) bool { return f.Location == loc })
}

// TestPolicyLifecycle is the Establish control of Incident Management: the
// process manager (R for IM1) drafts a policy and submits it; approval waits for
// the process owner (A for IM1) and applies when the owner approves; the
// developer (I for IM1) is informed. A user without R or A is refused, naming
// IM1. A new version supersedes the old one when it is approved.
func TestPolicyLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		in := controls.NewDocument{Title: "Incident Management policy", Kind: controls.Policy,
			Body: "Every incident is logged, categorised and prioritised."}

		// Refused: the stranger holds nothing, the analyst only C for IM1.
		for _, ctx := range []context.Context{e.s, e.an} {
			_, err := e.svc.CreateDocument(ctx, "IM", in)
			if !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "IM1") {
				t.Fatalf("create without R or A: %v", err)
			}
		}

		v1, err := e.svc.CreateDocument(e.m, "im", in)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Process != "IM" || v1.State != controls.DocDraft || v1.VersionNumber != 1 || !strings.HasPrefix(v1.Number, "PFD") {
			t.Fatalf("created: %+v", v1)
		}
		acts, err := e.recs.Actions(e.m, v1.Number)
		if err != nil || len(acts) != 2 || acts[0].Action != "submit" || acts[0].Activity != "IM1" || !acts[0].Decision.Allowed {
			t.Fatalf("draft actions: %+v, %v", acts, err)
		}
		if _, err := e.perform(e.s, v1.Number, v1.Version, "submit"); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "IM1") {
			t.Fatalf("stranger submits: %v", err)
		}
		res := e.mustPerform(e.m, v1.Number, v1.Version, "submit", record.OutcomeApplied)
		acts, _ = e.recs.Actions(e.m, v1.Number)
		if i := slices.IndexFunc(acts, func(a record.Action) bool { return a.Action == "approve" }); i < 0 ||
			acts[i].Activity != "IM1" || !acts[i].Approval {
			t.Fatalf("review actions: %+v", acts)
		}

		// The manager's approval waits for the owner, the A holder of IM1.
		res = e.mustPerform(e.m, v1.Number, res.Record.Version, "approve", record.OutcomeAwaitingApproval)
		if res.Step.Activity != "IM1" || !slices.Equal(res.Step.Approvers, []int64{e.owner.ID}) {
			t.Fatalf("approval step: %+v", res.Step)
		}
		if _, err := e.recs.Approve(e.m, res.Step.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the manager approves their own step: %v", err)
		}
		if d, _ := e.svc.Document(e.m, v1.Number); d.State != controls.DocInReview {
			t.Fatalf("approved before the owner decided: %s", d.State)
		}
		approved, err := e.recs.Approve(e.o, res.Step.ID, "fit for purpose")
		if err != nil || approved.Record.State != controls.DocApproved {
			t.Fatalf("owner approves: %+v, %v", approved, err)
		}
		ev := e.events("raci.informed")
		if len(ev) == 0 {
			t.Fatal("nobody informed")
		}
		last := ev[len(ev)-1]
		if last.Data["process"] != "IM" || last.Data["activity"] != "IM1" || last.Data["action"] != "approve" ||
			!slices.Equal(informed(last), []string{"developer"}) {
			t.Fatalf("informed of the approval: %+v", last)
		}
		v1, _ = e.svc.Document(e.m, v1.Number)
		if v1.ApprovedAt.IsZero() {
			t.Error("approval not stamped")
		}

		// An approved document changes only through a new version.
		if _, err := e.svc.UpdateDocument(e.m, v1.Number, v1.Version, controls.DocumentUpdate{Body: ptr("changed")}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("edit an approved document: %v", err)
		}
		if _, err := e.recs.Update(e.o, v1.Number, v1.Version, record.Update{Title: ptr("renamed")}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("rename an approved document through the kernel: %v", err)
		}
		if _, err := e.svc.NewVersion(e.s, v1.Number, controls.NewVersion{}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("stranger starts a version: %v", err)
		}
		e.clock.Advance(24 * time.Hour)
		v2, err := e.svc.NewVersion(e.m, v1.Number, controls.NewVersion{Body: ptr("Every incident is logged within 15 minutes.")})
		if err != nil {
			t.Fatal(err)
		}
		if v2.VersionNumber != 2 || v2.Supersedes != v1.Number || v2.State != controls.DocDraft || v2.Title != v1.Title || v2.Process != "IM" {
			t.Fatalf("version 2: %+v", v2)
		}
		if _, err := e.svc.NewVersion(e.m, v1.Number, controls.NewVersion{}); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), v2.Number) {
			t.Fatalf("second new version: %v", err)
		}
		if d, _ := e.svc.Document(e.m, v1.Number); d.NextVersion != v2.Number || d.SupersededBy != "" {
			t.Fatalf("lineage while drafting: %+v", d)
		}
		v2, err = e.svc.UpdateDocument(e.m, v2.Number, v2.Version, controls.DocumentUpdate{Title: ptr("Incident Management policy v2")})
		if err != nil || v2.Title != "Incident Management policy v2" {
			t.Fatalf("edit the draft: %+v, %v", v2, err)
		}
		if _, err := e.svc.UpdateDocument(e.m, v2.Number, v2.Version-1, controls.DocumentUpdate{Body: ptr("x")}); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale edit: %v", err)
		}

		// The owner holds A, so approving applies at once; v1 is superseded.
		res = e.mustPerform(e.m, v2.Number, v2.Version, "submit", record.OutcomeApplied)
		e.mustPerform(e.o, v2.Number, res.Record.Version, "approve", record.OutcomeApplied)
		old, _ := e.svc.Document(e.m, v1.Number)
		cur, _ := e.svc.Document(e.m, v2.Number)
		if old.State != controls.DocSuperseded || !old.Closed || old.SupersededBy != v2.Number || cur.State != controls.DocApproved {
			t.Fatalf("after approving v2: old %+v, new %+v", old, cur)
		}
		if _, err := e.perform(e.o, v2.Number, cur.Version, "supersede"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("supersede on its own: %v", err)
		}
		if _, err := e.svc.NewVersion(e.m, v1.Number, controls.NewVersion{}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("new version of a superseded document: %v", err)
		}

		// Listing per process.
		page, total, err := e.svc.Documents(e.an, "IM", controls.ListFilter{}, listing.Params{})
		if err != nil || total != 2 || len(page.Items) != 2 || page.Items[0].Number != v2.Number {
			t.Fatalf("list: %+v %d %v", page, total, err)
		}
		page, total, err = e.svc.Documents(e.an, "IM", controls.ListFilter{State: controls.DocApproved}, listing.Params{})
		if err != nil || total != 1 || page.Items[0].Number != v2.Number {
			t.Fatalf("list approved: %+v %d %v", page, total, err)
		}
		if _, _, err := e.svc.Documents(e.an, "IM", controls.ListFilter{State: "open"}, listing.Params{}); !fieldAt(err, "query.state") {
			t.Fatalf("list by an unknown state: %v", err)
		}
		if page, total, _ := e.svc.Documents(e.an, "PM", controls.ListFilter{}, listing.Params{}); total != 0 || len(page.Items) != 0 {
			t.Fatalf("PM documents: %+v", page)
		}
	})
}

// TestUnknownProcesses refuses control records of an unknown process, and of
// processes without the common controls, naming the field.
func TestUnknownProcesses(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		for _, code := range []string{"NOPE", "EVAL", "CSI", "ITSCM.2", ""} {
			_, err := e.svc.CreateDocument(e.m, code, controls.NewDocument{Title: "x", Kind: controls.Policy})
			if !fieldAt(err, "path.code") {
				t.Errorf("document of %q: %v", code, err)
			}
			if _, err := e.svc.CreateFinding(e.m, code, controls.NewFinding{Title: "x", Severity: controls.Low, Observation: "o"}); !fieldAt(err, "path.code") {
				t.Errorf("finding of %q: %v", code, err)
			}
			if _, err := e.svc.CreateEvaluation(e.m, code, controls.NewEvaluation{Title: "x"}); !fieldAt(err, "path.code") {
				t.Errorf("evaluation of %q: %v", code, err)
			}
			if _, _, err := e.svc.Findings(e.m, code, controls.ListFilter{}, listing.Params{}); !fieldAt(err, "path.code") {
				t.Errorf("findings of %q: %v", code, err)
			}
		}
		_, err := e.svc.CreateDocument(e.m, "EVAL", controls.NewDocument{Title: "x", Kind: controls.Policy})
		if ee, ok := errs.As(err); !ok || len(ee.Fields) == 0 || !strings.Contains(ee.Fields[0].Message, "no activities") {
			t.Errorf("EVAL's refusal does not say why: %+v", ee.Fields)
		}
		// A record of another type is not a control record.
		doc, err := e.svc.CreateDocument(e.m, "IM", controls.NewDocument{Title: "KPI", Kind: controls.KPIDefinition,
			KPI: &controls.KPI{Unit: "%", Target: 70, Direction: controls.HigherIsBetter, Frequency: "monthly"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Finding(e.m, doc.Number); !errs.Is(err, errs.NotFound) {
			t.Errorf("a document read as a finding: %v", err)
		}
		if _, err := e.svc.CreateDocument(e.m, "IM", controls.NewDocument{Title: "KPI", Kind: controls.KPIDefinition}); !fieldAt(err, "body.kpi") {
			t.Errorf("KPI definition without its KPI: %v", err)
		}
	})
}

// TestConsultedOnEstablish flags IM1 to consult its C holders: submitting a
// policy waits for the process analyst (C for IM1), and applies once they answer.
func TestConsultedOnEstablish(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		ctx := context.Background()
		_, v, _, err := e.raci.Matrix(ctx, "IM")
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, _, err := e.raci.SetActivitySettings(ctx, e.admin, "IM", v, "IM1", raci.ActivitySettings{RequiresConsultation: &yes}); err != nil {
			t.Fatal(err)
		}
		doc, err := e.svc.CreateDocument(e.m, "IM", controls.NewDocument{Title: "Major incident procedure", Kind: controls.Procedure, Body: "Steps."})
		if err != nil {
			t.Fatal(err)
		}
		res := e.mustPerform(e.m, doc.Number, doc.Version, "submit", record.OutcomeAwaitingConsultation)
		if len(res.Consultations) != 1 || res.Consultations[0].UserID != e.analyst.ID || res.Consultations[0].Activity != "IM1" {
			t.Fatalf("consultations: %+v", res.Consultations)
		}
		done, err := e.recs.AnswerConsultation(e.an, res.Consultations[0].ID, "add the bridge call step")
		if err != nil || done.Outcome != record.OutcomeApplied || done.Record.State != controls.DocInReview {
			t.Fatalf("answer: %+v, %v", done, err)
		}
	})
}
