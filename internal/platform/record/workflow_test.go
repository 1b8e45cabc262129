package record_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// cast is the people of a workflow test: an analyst who holds R for IM4 and
// IM5 in the service desk's scope, a manager who holds A for IM5 and IM6, an
// owner informed (I) of IM5 and IM6, two consulted (C) experts, a stranger who
// holds nothing, and an administrator.
type cast struct {
	analyst, manager, owner, expert1, expert2, stranger, admin auth.User
	desk                                                       auth.Team
	a, m, o, x1, x2, s, adm                                    context.Context
}

func newCast(e *env) *cast {
	c := &cast{}
	c.analyst, c.a = e.user("analyst", false)
	c.manager, c.m = e.user("manager", false)
	c.owner, c.o = e.user("owner", false)
	c.expert1, c.x1 = e.user("expert1", false)
	c.expert2, c.x2 = e.user("expert2", false)
	c.stranger, c.s = e.user("stranger", false)
	c.admin, c.adm = e.user("root", true)
	c.desk = e.team("service-desk", c.analyst)
	deskScope := raci.Scope{TeamID: c.desk.ID}
	e.guard.give("IM4", framework.R, c.analyst, "Incident Analyst", deskScope)
	e.guard.give("IM5", framework.R|framework.C, c.analyst, "Incident Analyst", deskScope)
	e.guard.give("IM5", framework.A, c.manager, "Incident Manager")
	e.guard.give("IM6", framework.A, c.manager, "Incident Manager")
	e.guard.give("IM6", framework.R, c.analyst, "Incident Analyst", deskScope)
	e.guard.give("IM5", framework.I, c.owner, "Service Owner")
	e.guard.give("IM6", framework.I, c.owner, "Service Owner")
	for _, act := range []string{"IM5", "IM6"} {
		e.guard.give(act, framework.C, c.expert1, "Problem Manager")
		e.guard.give(act, framework.C, c.expert2, "Security Officer")
	}
	return c
}

func (c *cast) ticket(e *env, title string) record.Record {
	return e.ticket(c.a, title, record.NewRecord{TeamID: c.desk.ID, AssigneeID: c.analyst.ID})
}

func perform(e *env, ctx context.Context, r record.Record, action string) (record.Result, error) {
	return e.svc.Perform(ctx, r.Number, action, record.PerformInput{Version: r.Version})
}

func mustPerform(e *env, ctx context.Context, r record.Record, action string, want record.Outcome) record.Result {
	e.t.Helper()
	res, err := perform(e, ctx, r, action)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, r.Number, err)
	}
	if res.Outcome != want {
		e.t.Fatalf("%s %s: outcome %s, want %s", action, r.Number, res.Outcome, want)
	}
	return res
}

// TestScenarioGuardedTransitions moves a ticket through its workflow three
// ways: refused to a user without R or A, performed by the R holder, and
// through the approval-gated close, which waits for the A holder; the I holders
// get a raci.informed event after each step.
func TestScenarioGuardedTransitions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		e.setGate("IM6", record.Gate{Approval: true})
		r := c.ticket(e, "Mail server down")

		// 1. Without R or A: refused, naming the activity and the roles; audited; nothing changes.
		_, err := perform(e, c.s, r, "resolve")
		if !errs.Is(err, errs.Forbidden) {
			t.Fatalf("stranger resolves: %v", err)
		}
		for _, want := range []string{"IM5", "Incident Analyst (R)", "Incident Manager (A)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("refusal %q does not name %s", err, want)
			}
		}
		if denied := e.audits("record.denied"); len(denied) != 1 || denied[0].ObjectID != r.Number || denied[0].ActorName != "stranger" {
			t.Fatalf("denial audit: %+v", denied)
		}
		if got, _ := e.svc.Get(c.s, r.Number); got.State != "new" || got.Version != r.Version {
			t.Fatalf("refused step changed the record: %+v", got)
		}
		// The R holder's role is scoped to the service desk: on another team's ticket it does not count.
		elsewhere := e.ticket(c.a, "Not our team")
		if _, err := perform(e, c.a, elsewhere, "investigate"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("out of scope: %v", err)
		}

		// 2. The R holder investigates and resolves; the I holder is informed of IM5.
		res := mustPerform(e, c.a, r, "investigate", record.OutcomeApplied)
		if res.Record.State != "in_progress" || res.Record.Version != r.Version+1 || res.Decision == nil || res.Decision.Letter != "R" {
			t.Fatalf("investigate: %+v", res)
		}
		_, err = perform(e, c.a, res.Record, "reopen")
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "resolve") {
			t.Fatalf("reopen from in_progress: %v", err)
		}
		res = mustPerform(e, c.a, res.Record, "resolve", record.OutcomeApplied)
		if res.Record.State != "resolved" || res.Record.Closed {
			t.Fatalf("resolve: %+v", res.Record)
		}
		informed := e.events("raci.informed")
		if len(informed) != 1 || informed[0].Data["activity"] != "IM5" || informed[0].Data["record"] != r.Number {
			t.Fatalf("informed after IM5: %+v", informed)
		}
		if users := informed[0].Data["users"].([]any); len(users) != 1 || users[0].(map[string]any)["username"] != "owner" {
			t.Fatalf("informed users: %+v", users)
		}
		trans := e.events("record.transitioned")
		if len(trans) != 2 || trans[0].Data["activity"] != "IM4" || trans[1].Data["activity"] != "IM5" {
			t.Fatalf("transition events: %+v", trans)
		}
		if tr := e.audits("record.transition"); len(tr) != 2 {
			t.Fatalf("%d transition audits", len(tr))
		} else if ch, _ := changeOf(tr[0], "state"); ch.Old != "in_progress" || ch.New != "resolved" {
			t.Fatalf("transition audit: %+v", tr[0].ChangeList)
		}

		// An action not allowed from the state: 409 naming the allowed ones.
		_, err = perform(e, c.a, res.Record, "investigate")
		if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "reopen, close") {
			t.Fatalf("investigate a resolved ticket: %v", err)
		}

		// 3. Close waits for the A holder's approval.
		resolved := res.Record
		res = mustPerform(e, c.a, resolved, "close", record.OutcomeAwaitingApproval)
		if res.Step == nil || res.Step.State != record.PendingApproval || !slices.Equal(res.Step.Approvers, []int64{c.manager.ID}) ||
			res.Record.State != "resolved" {
			t.Fatalf("close: %+v", res)
		}
		step := res.Step.ID
		if got, _ := e.svc.Get(c.a, r.Number); got.State != "resolved" || got.Version != resolved.Version {
			t.Fatalf("the record moved before approval: %+v", got)
		}
		if len(e.events("raci.informed")) != 1 {
			t.Fatal("informed before the step completed")
		}
		if _, err := perform(e, c.a, resolved, "close"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("close again while waiting: %v", err)
		}
		mine, err := e.svc.Approvals(c.m, record.StepFilter{State: "pending", Mine: true}, listing.Params{})
		if err != nil || len(mine.Items) != 1 || mine.Items[0].ID != step {
			t.Fatalf("manager's approvals: %+v, %v", mine, err)
		}
		if notMine, _ := e.svc.Approvals(c.a, record.StepFilter{State: "pending", Mine: true}, listing.Params{}); len(notMine.Items) != 0 {
			t.Fatalf("analyst's approvals: %+v", notMine)
		}
		acts, err := e.svc.Actions(c.a, r.Number)
		if err != nil || len(acts) != 2 || acts[1].Action != "close" || acts[1].WaitingStep != step || !acts[1].Approval {
			t.Fatalf("actions while waiting: %+v, %v", acts, err)
		}
		// The R holder may not approve their own step.
		if _, err := e.svc.Approve(c.a, step, ""); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "Incident Manager") {
			t.Fatalf("analyst approves: %v", err)
		}
		res, err = e.svc.Approve(c.m, step, "looks done")
		if err != nil || res.Outcome != record.OutcomeApplied || res.Record.State != "closed" || !res.Record.Closed ||
			res.Step.State != record.Applied || res.Step.DecidedBy != c.manager.ID {
			t.Fatalf("approve: %+v, %v", res, err)
		}
		informed = e.events("raci.informed")
		if len(informed) != 2 || informed[1].Data["activity"] != "IM6" {
			t.Fatalf("informed after IM6: %+v", informed)
		}
		trans = e.events("record.transitioned")
		if last := trans[len(trans)-1]; last.Data["activity"] != "IM6" || last.Data["performedBy"] != float64(c.analyst.ID) ||
			last.Data["appliedBy"] != float64(c.manager.ID) {
			t.Fatalf("close event: %+v", last)
		}
		if len(e.audits("record.approval.approve")) != 1 || len(e.events("record.approved")) != 1 || len(e.events("record.approval_requested")) != 1 {
			t.Fatal("approval not audited or emitted")
		}
		if _, err := e.svc.Approve(c.m, step, ""); !errs.Is(err, errs.Conflict) {
			t.Fatalf("approve twice: %v", err)
		}
		j, _ := e.svc.Journal(c.a, r.Number, true)
		var system []string
		for _, en := range j {
			if en.Kind == record.System {
				system = append(system, en.Body)
			}
		}
		if len(system) != 5 || !strings.Contains(system[4], "Close (IM6): Resolved → Closed") {
			t.Fatalf("system journal: %q", system)
		}
	})
}

func TestApprovalRejectedAndAccountablePerformer(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		e.setGate("IM5", record.Gate{Approval: true})
		r := c.ticket(e, "Disk full")
		res := mustPerform(e, c.a, r, "resolve", record.OutcomeAwaitingApproval)
		if _, err := e.svc.Reject(c.m, res.Step.ID, "  "); !errs.Is(err, errs.Invalid) {
			t.Fatalf("reject without reason: %v", err)
		}
		if _, err := e.svc.Reject(c.s, res.Step.ID, "no"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("stranger rejects: %v", err)
		}
		rej, err := e.svc.Reject(c.m, res.Step.ID, "not fixed yet")
		if err != nil || rej.Outcome != record.OutcomeRejected || rej.Record.State != "new" || rej.Step.Reason != "not fixed yet" {
			t.Fatalf("reject: %+v, %v", rej, err)
		}
		if len(e.events("raci.informed")) != 0 || len(e.audits("record.approval.reject")) != 1 || len(e.events("record.rejected")) != 1 {
			t.Fatal("rejection effects")
		}
		// The accountable holder approves by performing the step: it applies at once.
		cur, _ := e.svc.Get(c.m, r.Number)
		e.guard.give("IM5", framework.R, c.manager, "Incident Manager")
		mustPerform(e, c.m, cur, "resolve", record.OutcomeApplied)
	})
}

func TestConsultation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		e.setGate("IM5", record.Gate{Consultation: true})
		r := c.ticket(e, "Suspicious logins")

		// The analyst, consulted too, is not asked to consult themselves.
		res := mustPerform(e, c.a, r, "resolve", record.OutcomeAwaitingConsultation)
		if len(res.Consultations) != 2 || res.Step.State != record.Consulting {
			t.Fatalf("consultations: %+v", res.Consultations)
		}
		byUser := map[int64]record.Consultation{}
		for _, cn := range res.Consultations {
			byUser[cn.UserID] = cn
		}
		c1, c2 := byUser[c.expert1.ID], byUser[c.expert2.ID]
		if c1.ID == 0 || c2.ID == 0 || c1.Roles != "Problem Manager" {
			t.Fatalf("consulted: %+v", res.Consultations)
		}
		mine, err := e.svc.Consultations(c.x1, record.ConsultationFilter{Mine: true, State: "open"}, listing.Params{})
		if err != nil || len(mine.Items) != 1 || mine.Items[0].ID != c1.ID || mine.Items[0].Record != r.Number {
			t.Fatalf("expert1's consultations: %+v, %v", mine, err)
		}
		if _, err := e.svc.AnswerConsultation(c.x2, c1.ID, "mine to answer"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("expert2 answers for expert1: %v", err)
		}
		if _, err := e.svc.WaiveConsultation(c.s, c2.ID, "skip"); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("stranger waives: %v", err)
		}
		if _, err := e.svc.WaiveConsultation(c.a, c2.ID, ""); !errs.Is(err, errs.Invalid) {
			t.Fatalf("waive without a reason: %v", err)
		}
		ans, err := e.svc.AnswerConsultation(c.x1, c1.ID, "no link to the known problem")
		if err != nil || ans.Outcome != record.OutcomeAwaitingConsultation || ans.Record.State != "new" {
			t.Fatalf("first answer: %+v, %v", ans, err)
		}
		if _, err := e.svc.AnswerConsultation(c.x1, c1.ID, "again"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("answer twice: %v", err)
		}
		// The performer waives the last one; the step completes.
		done, err := e.svc.WaiveConsultation(c.a, c2.ID, "security officer on leave")
		if err != nil || done.Outcome != record.OutcomeApplied || done.Record.State != "resolved" || done.Step.State != record.Applied {
			t.Fatalf("waive: %+v, %v", done, err)
		}
		states := map[int64]record.ConsultationState{}
		for _, cn := range done.Consultations {
			states[cn.ID] = cn.State
		}
		if states[c1.ID] != record.ConsultationAnswered || states[c2.ID] != record.ConsultationWaived {
			t.Fatalf("consultation states: %+v", states)
		}
		if inf := e.events("raci.informed"); len(inf) != 1 || inf[0].Data["activity"] != "IM5" {
			t.Fatalf("informed: %+v", inf)
		}
		if len(e.audits("record.consultation.answer")) != 1 || len(e.audits("record.consultation.waive")) != 1 {
			t.Fatal("consultation decisions not audited")
		}

		// Consultation, then approval: the A holder waives one consultation and then approves.
		e.setGate("IM6", record.Gate{Approval: true, Consultation: true})
		res = mustPerform(e, c.a, done.Record, "close", record.OutcomeAwaitingConsultation)
		for _, cn := range res.Consultations {
			if cn.UserID == c.expert1.ID {
				if _, err := e.svc.AnswerConsultation(c.x1, cn.ID, "fine by me"); err != nil {
					t.Fatal(err)
				}
			} else if out, err := e.svc.WaiveConsultation(c.m, cn.ID, "not needed for closure"); err != nil || out.Outcome != record.OutcomeAwaitingApproval {
				t.Fatalf("manager waives: %+v, %v", out, err)
			}
		}
		res, err = e.svc.Approve(c.m, res.Step.ID, "")
		if err != nil || res.Record.State != "closed" {
			t.Fatalf("approve after consultation: %+v, %v", res, err)
		}
	})
}

func TestAdminOverrideIsAudited(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		e.setGate("IM6", record.Gate{Approval: true})
		r := c.ticket(e, "Override me")
		res := mustPerform(e, c.adm, r, "resolve", record.OutcomeApplied)
		if !res.Decision.Override {
			t.Fatalf("decision: %+v", res.Decision)
		}
		ov := e.audits("record.transition.override")
		if len(ov) != 1 || ov[0].ActorName != "root" || ov[0].ObjectID != r.Number {
			t.Fatalf("override audit: %+v", ov)
		}
		if len(e.audits("record.transition")) != 0 {
			t.Fatal("override audited as an ordinary transition")
		}
		// The override performs the step, but an approval-gated step still waits; the admin approves through the override too.
		res = mustPerform(e, c.adm, res.Record, "close", record.OutcomeAwaitingApproval)
		if !res.Step.PerformerOverride {
			t.Fatalf("step: %+v", res.Step)
		}
		if res, err := e.svc.Approve(c.adm, res.Step.ID, "break glass"); err != nil || !res.Step.DecisionOverride || res.Record.State != "closed" {
			t.Fatalf("admin approves: %+v, %v", res, err)
		}
		if len(e.audits("record.approval.approve.override")) != 1 || len(e.audits("record.transition.override")) != 2 {
			t.Fatal("approval override not audited")
		}
	})
}

func TestTransitionVersionAndMovedOnSteps(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		e.setGate("IM6", record.Gate{Approval: true})
		r := c.ticket(e, "Stale")
		if _, err := e.svc.Perform(c.a, r.Number, "investigate", record.PerformInput{Version: r.Version + 5}); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale version: %v", err)
		}
		if _, err := e.svc.Perform(c.a, r.Number, "explode", record.PerformInput{}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown action: %v", err)
		}
		res, err := e.svc.Perform(c.a, r.Number, "resolve", record.PerformInput{Comment: "restarted the spooler"})
		if err != nil || res.Outcome != record.OutcomeApplied {
			t.Fatalf("area call without a version: %+v, %v", res, err)
		}
		pending := mustPerform(e, c.a, res.Record, "close", record.OutcomeAwaitingApproval)
		// Reopening moves the record on: the waiting close is cancelled and can no longer be approved.
		reopened := mustPerform(e, c.a, res.Record, "reopen", record.OutcomeApplied)
		if ev := e.events("record.transitioned"); len(ev[len(ev)-1].Data["cancelledSteps"].([]any)) != 1 {
			t.Fatalf("cancelled steps: %+v", ev[len(ev)-1].Data)
		}
		if _, err := e.svc.Approve(c.m, pending.Step.ID, ""); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "cancelled") {
			t.Fatalf("approve a cancelled step: %v", err)
		}
		if reopened.Record.State != "in_progress" {
			t.Fatal(reopened.Record.State)
		}
		j, _ := e.svc.Journal(c.a, r.Number, true)
		if !slices.ContainsFunc(j, func(en record.JournalEntry) bool {
			return en.Kind == record.WorkNote && en.Body == "restarted the spooler"
		}) {
			t.Fatal("the comment is not in the journal")
		}
		if _, err := e.svc.Perform(context.Background(), r.Number, "resolve", record.PerformInput{}); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("anonymous: %v", err)
		}
	})
}

func TestActionsAskTheGuardOncePerAction(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, db.SQLite))
	c := newCast(e)
	r := c.ticket(e, "Which actions?")
	before, _ := e.guard.calls()
	for _, tc := range []struct {
		ctx     context.Context
		allowed []bool
	}{{c.a, []bool{true, true}}, {c.s, []bool{false, false}}, {c.m, []bool{false, true}}} {
		acts, err := e.svc.Actions(tc.ctx, r.Number)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		var allowed []bool
		for _, a := range acts {
			names = append(names, a.Action+"/"+a.Activity)
			allowed = append(allowed, a.Decision.Allowed)
		}
		if !slices.Equal(names, []string{"investigate/IM4", "resolve/IM5"}) || !slices.Equal(allowed, tc.allowed) {
			t.Fatalf("actions %v allowed %v, want %v", names, allowed, tc.allowed)
		}
	}
	if after, _ := e.guard.calls(); after-before != 6 {
		t.Fatalf("%d guard calls for 3 × 2 actions", after-before)
	}
}
