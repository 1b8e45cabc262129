package request_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"steward/internal/operation/request"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// stageStates lists the state of each fulfilment stage of r.
func stageStates(r request.Request) []request.StageState {
	var out []request.StageState
	for _, s := range r.Stages {
		out = append(out, s.State)
	}
	return out
}

// taskOf returns the number of the opened task named name.
func taskOf(t testing.TB, r request.Request, name string) string {
	t.Helper()
	for _, s := range r.Stages {
		for _, k := range s.Tasks {
			if k.Name == name && k.Number != "" {
				return k.Number
			}
		}
	}
	t.Fatalf("%s has no opened task %q: %+v", r.Number, name, r.Stages)
	return ""
}

// A catalog request with two approval levels (the requester's manager, then a
// group) and parallel tasks, from submission to the requester's acceptance.
func TestScenarioTwoApprovalLevelsAndParallelTasks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())

		// Ria requests a laptop for herself through the portal.
		r := e.submit(e.rc, item.ID, e.goodValues())
		if r.State != request.Submitted || r.RequesterID != e.ria.ID || r.ServiceID != e.service || r.CatalogItemName != "New laptop" ||
			r.Title != "New laptop" || r.Channel != "portal" || r.ServiceName != "Workplace" || r.TargetHours != 40 {
			t.Fatalf("submitted request: %+v", r.RequestSummary)
		}
		display := map[string]string{}
		for _, v := range r.Variables {
			display[v.Name] = v.Display
		}
		if display["for_user"] != "ria" || display["replaces"] != "LAPTOP-0042" || display["model"] != "13-inch" || display["monitors"] != "1" {
			t.Fatalf("values as displayed: %v", display)
		}
		if got := stageStates(r); !slices.Equal(got, []request.StageState{request.StageNotStarted, request.StageNotStarted}) {
			t.Fatalf("stages before fulfilment: %v", got)
		}

		// The requester cannot validate her own request; the RF analyst does (RF2).
		_, err := e.step(e.rc, r.Number, request.ActionValidate, "")
		wantKind(t, err, errs.Forbidden, "the requester validates")
		r = e.mustStep(e.ag, r.Number, request.ActionValidate, "").Request
		if r.State != request.AwaitingApproval || r.ApprovalLevel != 1 || len(r.Approvals) != 2 {
			t.Fatalf("validated: state %s level %d approvals %+v", r.State, r.ApprovalLevel, r.Approvals)
		}
		l1, l2 := r.Approvals[0], r.Approvals[1]
		if l1.State != request.ApprovalPending || l1.Kind != request.ManagerApproval || len(l1.Approvals) != 1 || l1.Approvals[0].ApproverID != e.max.ID ||
			l2.State != request.ApprovalWaiting || l2.Kind != request.GroupApproval || l2.Approvals[0].TeamID != e.cab || l2.Approvals[0].TeamName != "cab" {
			t.Fatalf("approval levels: %+v", r.Approvals)
		}
		asked := e.events("request.approval_requested")
		if len(asked) != 1 || !slices.Equal(ids(asked[0].Data["approvers"]), []int64{e.max.ID}) || asked[0].Subject != "record/"+r.Number {
			t.Fatalf("level 1 asked: %+v", asked)
		}

		// Only the current level's approvers decide: not a stranger, not the requester, not level 2 yet.
		_, err = e.svc.Approve(e.st, r.Number, l1.Approvals[0].ID, "")
		wantKind(t, err, errs.Forbidden, "a stranger approves")
		_, err = e.svc.Approve(e.rc, r.Number, l1.Approvals[0].ID, "")
		wantKind(t, err, errs.Forbidden, "the requester approves")
		_, err = e.svc.Approve(e.gl, r.Number, l2.Approvals[0].ID, "")
		wantKind(t, err, errs.Conflict, "level 2 approves before level 1")
		if len(e.audits("request.approval.denied")) != 2 {
			t.Fatalf("the two refusals are audited: %d", len(e.audits("request.approval.denied")))
		}

		// Max, her manager, approves level 1; the cab is asked; Gil approves level 2.
		if r, err = e.svc.Approve(e.mx, r.Number, l1.Approvals[0].ID, "fine by me"); err != nil {
			t.Fatal(err)
		}
		if r.State != request.AwaitingApproval || r.ApprovalLevel != 2 || r.Approvals[0].State != request.ApprovalApproved ||
			r.Approvals[0].Approvals[0].DecidedByName != "max" || r.Approvals[1].State != request.ApprovalPending {
			t.Fatalf("after level 1: %+v", r.Approvals)
		}
		asked = e.events("request.approval_requested")
		if len(asked) != 2 || !slices.Equal(ids(asked[1].Data["approvers"]), []int64{e.gil.ID, e.gus.ID}) {
			t.Fatalf("level 2 asked: %+v", asked)
		}
		if r, err = e.svc.Approve(e.gl, r.Number, pendingOf(t, r), ""); err != nil {
			t.Fatal(err)
		}

		// Fulfilment starts: stage 1's two tasks run in parallel, one per team.
		if r.State != request.InFulfilment || r.Stage != 1 || r.ApprovalLevel != 0 {
			t.Fatalf("after the last approval: state %s stage %d", r.State, r.Stage)
		}
		if got := stageStates(r); !slices.Equal(got, []request.StageState{request.StageInProgress, request.StageNotStarted}) {
			t.Fatalf("stages: %v", got)
		}
		image, port := taskOf(t, r, "Image the laptop"), taskOf(t, r, "Open a network port")
		imageTask, err := e.svc.Task(e.an, image)
		if err != nil || imageTask.TeamID != e.desk || imageTask.Request != r.Number || imageTask.RequesterID != e.ria.ID || imageTask.Stage != 1 {
			t.Fatalf("image task: %+v %v", imageTask, err)
		}
		links, err := e.recs.Links(e.ag, r.Number)
		if err != nil || len(links) != 2 {
			t.Fatalf("the request is the parent of its tasks: %+v %v", links, err)
		}

		// Ben (network) may not work the desk's task; Ana may.
		_, err = e.taskStep(e.bn, image, "start")
		wantKind(t, err, errs.Forbidden, "the network analyst starts the desk's task")
		res := e.mustTask(e.an, image, "start", "complete")
		if res.Task.State != request.TaskDone || res.Request.State != request.InFulfilment || res.Request.Stage != 1 {
			t.Fatalf("after the first parallel task: task %s, request %s stage %d", res.Task.State, res.Request.State, res.Request.Stage)
		}
		// The desk cannot mark the request fulfilled while tasks are open.
		_, err = e.step(e.ag, r.Number, request.ActionFulfil, "")
		wantKind(t, err, errs.Conflict, "fulfil with open tasks")

		res = e.mustTask(e.bn, port, "start", "complete")
		r = res.Request
		if r.Stage != 2 || !slices.Equal(stageStates(r), []request.StageState{request.StageDone, request.StageInProgress}) {
			t.Fatalf("after stage 1: stage %d %v", r.Stage, stageStates(r))
		}
		handover := taskOf(t, r, "Hand over the laptop")
		r = e.mustTask(e.an, handover, "start", "complete").Request

		// The last task fulfils the request (a follow-up of RF3); Ria accepts it (RF4) and it closes.
		if r.State != request.AwaitingAcceptance || r.FulfilledAt.IsZero() {
			t.Fatalf("after the last task: %s", r.State)
		}
		acts, err := e.svc.Actions(e.rc, r.Number)
		if err != nil {
			t.Fatal(err)
		}
		var mine []string
		for _, a := range acts {
			if a.Decision.Allowed {
				mine = append(mine, a.Action)
			}
		}
		if !slices.Equal(mine, []string{request.ActionAccept, request.ActionNotDone}) {
			t.Fatalf("the requester's actions: %v", mine)
		}
		r = e.mustStep(e.rc, r.Number, request.ActionAccept, "").Request
		if r.State != request.Closed || !r.Closed {
			t.Fatalf("accepted: %s", r.State)
		}
		for _, typ := range []string{"request.submitted", "request.fulfilment_started", "request.stage_started", "request.fulfilled", "request.closed"} {
			if len(e.events(typ)) == 0 {
				t.Errorf("no %s event", typ)
			}
		}
		if n := len(e.events("request.stage_started")); n != 2 {
			t.Fatalf("stage_started events: %d, want 2", n)
		}
		if n := len(e.audits("request.approval.approve")); n != 2 {
			t.Fatalf("approval audits: %d, want 2", n)
		}
		journal, err := e.recs.Journal(e.ag, r.Number, true)
		if err != nil {
			t.Fatal(err)
		}
		var text []string
		for _, j := range journal {
			text = append(text, j.Body)
		}
		all := strings.Join(text, "\n")
		for _, want := range []string{"Waiting for approval level 1 of 2", "level 1 of 2 (the requester's manager) approved by max",
			"Fulfilment stage 1 of 2 started", "Fulfilment stage 2 of 2 started", "Accept (RF4)"} {
			if !strings.Contains(all, want) {
				t.Errorf("journal lacks %q:\n%s", want, all)
			}
		}
	})
}

// An approver of level 2 rejects: the request is rejected and the reason
// reaches the requester as a comment and through request.rejected.
func TestRejectionAtLevelTwo(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())
		r := e.submit(e.rc, item.ID, e.goodValues())
		r = e.mustStep(e.ag, r.Number, request.ActionValidate, "").Request
		r, err := e.svc.Approve(e.mx, r.Number, pendingOf(t, r), "")
		if err != nil {
			t.Fatal(err)
		}
		level2 := pendingOf(t, r)
		_, err = e.svc.Reject(e.gs, r.Number, level2, "  ")
		if !fieldAt(err, "body.reason") {
			t.Fatalf("a rejection without a reason: %v", err)
		}
		const why = "Laptops are frozen until the next budget year."
		if r, err = e.svc.Reject(e.gs, r.Number, level2, why); err != nil {
			t.Fatal(err)
		}
		if r.State != request.Rejected || !r.Closed || r.RejectionReason != why || r.Approvals[1].State != request.ApprovalRejected ||
			r.Approvals[1].Approvals[0].DecidedByName != "gus" {
			t.Fatalf("rejected: %s %q %+v", r.State, r.RejectionReason, r.Approvals)
		}
		// The requester reads the reason among the comments she may see.
		journal, err := e.recs.Journal(e.rc, r.Number, true)
		if err != nil {
			t.Fatal(err)
		}
		if len(journal) != 1 || journal[0].Kind != record.Comment || !strings.Contains(journal[0].Body, why) || journal[0].AuthorName != "gus" {
			t.Fatalf("the requester's view of the journal: %+v", journal)
		}
		ev := e.events("request.rejected")
		if len(ev) != 1 || ev[0].Data["reason"] != why || ev[0].Data["requesterId"] != float64(e.ria.ID) || ev[0].Data["approvalLevel"] != 2.0 {
			t.Fatalf("request.rejected: %+v", ev)
		}
		// Nothing is left to decide, and no task was opened.
		_, err = e.svc.Approve(e.gl, r.Number, level2, "")
		wantKind(t, err, errs.Conflict, "approve a rejected request")
		if len(r.Stages) != 2 || r.Stages[0].Tasks[0].Number != "" {
			t.Fatalf("a rejected request opened tasks: %+v", r.Stages)
		}
	})
}

// The desk rejects a request at validation (RF2), with a reason for the requester.
func TestValidationRejection(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())
		r := e.submit(e.rc, item.ID, e.goodValues())

		_, err := e.step(e.ag, r.Number, request.ActionReject, "")
		if !fieldAt(err, "body.reason") {
			t.Fatalf("reject without a reason: %v", err)
		}
		// The kernel's generic step, which carries no reason, is refused too.
		cur, _ := e.recs.Get(e.ag, r.Number)
		_, err = e.recs.Perform(e.ag, r.Number, request.ActionReject, record.PerformInput{Version: cur.Version})
		wantKind(t, err, errs.Conflict, "reject through the kernel without a reason")
		_, err = e.step(e.st, r.Number, request.ActionReject, "no")
		wantKind(t, err, errs.Forbidden, "a stranger rejects")

		const why = "Ask your manager for a loaner instead: this model is discontinued."
		r = e.mustStep(e.ag, r.Number, request.ActionReject, why).Request
		if r.State != request.Rejected || r.RejectionReason != why {
			t.Fatalf("rejected at validation: %s %q", r.State, r.RejectionReason)
		}
		journal, err := e.recs.Journal(e.rc, r.Number, false)
		if err != nil || len(journal) != 1 || !strings.Contains(journal[0].Body, why) {
			t.Fatalf("the requester's comments: %+v %v", journal, err)
		}
		if ev := e.events("request.rejected"); len(ev) != 1 || ev[0].Data["reason"] != why || ev[0].Data["approvalLevel"] != 0.0 {
			t.Fatalf("request.rejected: %+v", ev)
		}
		_, err = e.step(e.ag, r.Number, request.ActionValidate, "")
		if e, ok := errs.As(err); !ok || e.Kind != errs.Conflict || !strings.Contains(e.Message, "allowed from rejected: none") {
			t.Fatalf("validate a rejected request: %v", err)
		}
	})
}

// Submitted values are checked against the item's form, each problem naming its variable.
func TestVariableValidation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())
		disabled, _ := e.user("gone", false)
		if _, err := d.ExecContext(context.Background(), `UPDATE users SET disabled = TRUE WHERE id = ?`, disabled.ID); err != nil {
			t.Fatal(err)
		}
		scrapped := e.ci("LAPTOP-0001", "disposed")
		for _, c := range []struct {
			name string
			edit func(m map[string]any)
			loc  string
		}{
			{"missing required", func(m map[string]any) { delete(m, "model") }, "body.variables.model"},
			{"not a choice", func(m map[string]any) { m["model"] = "17-inch" }, "body.variables.model"},
			{"bad date", func(m map[string]any) { m["needed_by"] = "next week" }, "body.variables.needed_by"},
			{"out of range", func(m map[string]any) { m["monitors"] = 5.0 }, "body.variables.monitors"},
			{"unknown user", func(m map[string]any) { m["for_user"] = 999999.0 }, "body.variables.for_user"},
			{"disabled user", func(m map[string]any) { m["for_user"] = float64(disabled.ID) }, "body.variables.for_user"},
			{"unknown CI", func(m map[string]any) { m["replaces"] = 999999.0 }, "body.variables.replaces"},
			{"disposed CI", func(m map[string]any) { m["replaces"] = float64(scrapped) }, "body.variables.replaces"},
			{"unknown variable", func(m map[string]any) { m["colour"] = "red" }, "body.variables.colour"},
		} {
			m := e.goodValues()
			c.edit(m)
			_, err := e.svc.Submit(e.rc, request.NewRequest{CatalogItemID: item.ID, Variables: m})
			if !fieldAt(err, c.loc) {
				t.Errorf("%s: %v, want a field error at %s", c.name, err, c.loc)
			}
		}
		_, err := e.svc.Submit(e.rc, request.NewRequest{CatalogItemID: 999999, Variables: e.goodValues()})
		if !fieldAt(err, "body.catalogItemId") {
			t.Fatalf("unknown item: %v", err)
		}
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM records WHERE type = 'service_request'`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("refused submissions left %d records (%v)", n, err)
		}
	})
}

// Logging a request for someone else takes RF2; a withdrawn item takes no requests.
func TestOnBehalfAndWithdrawnItems(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())
		_, err := e.svc.Submit(e.st, request.NewRequest{CatalogItemID: item.ID, Variables: e.goodValues(), RequesterID: e.ria.ID})
		wantKind(t, err, errs.Forbidden, "a stranger logs for ria")
		r, err := e.svc.Submit(e.ag, request.NewRequest{CatalogItemID: item.ID, Variables: e.goodValues(), RequesterID: e.ria.ID,
			Channel: "phone", Title: "Laptop for Ria"})
		if err != nil || r.RequesterID != e.ria.ID || r.Channel != "phone" || r.Title != "Laptop for Ria" {
			t.Fatalf("the desk logs for ria: %+v %v", r.RequestSummary, err)
		}
		_, err = e.svc.Submit(e.ag, request.NewRequest{CatalogItemID: item.ID, Variables: e.goodValues(), RequesterID: 999999})
		if !fieldAt(err, "body.requesterId") {
			t.Fatalf("an unknown requester: %v", err)
		}
		_, err = e.svc.Submit(e.rc, request.NewRequest{CatalogItemID: item.ID, Variables: e.goodValues(), Channel: "pigeon"})
		if !fieldAt(err, "body.channel") {
			t.Fatalf("an unknown channel: %v", err)
		}
		if _, err := e.svc.UpdateItem(e.mgr, item.ID, item.Version, request.ItemChange{Active: ptr(false)}); err != nil {
			t.Fatal(err)
		}
		_, err = e.svc.Submit(e.rc, request.NewRequest{CatalogItemID: item.ID, Variables: e.goodValues()})
		if !fieldAt(err, "body.catalogItemId") {
			t.Fatalf("a withdrawn item: %v", err)
		}
		// The request already submitted keeps the item's form.
		if got := e.get(r.Number); len(got.Stages) != 2 || len(got.Variables) != 6 {
			t.Fatalf("the earlier request lost its form: %+v", got)
		}
	})
}

// An item without approvals goes to fulfilment when validated; without tasks the
// desk marks it fulfilled. The requester may report it not done, with a reason,
// and the desk closes it after that. A requester cancels before fulfilment.
func TestNoApprovalsNotDoneAndCancel(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		it := e.laptopItem()
		it.Name, it.Approvals, it.Tasks = "Password reset", []request.CatalogApproval{{Kind: request.NoApproval}}, nil
		it.Variables = nil
		item := e.createItem(it)
		r := e.submit(e.rc, item.ID, nil)
		r = e.mustStep(e.ag, r.Number, request.ActionValidate, "").Request
		if r.State != request.InFulfilment || len(r.Approvals) != 0 || len(r.Stages) != 0 {
			t.Fatalf("validated without approvals: %s %+v", r.State, r)
		}
		r = e.mustStep(e.ag, r.Number, request.ActionFulfil, "").Request
		if r.State != request.AwaitingAcceptance {
			t.Fatalf("fulfilled: %s", r.State)
		}
		_, err := e.step(e.rc, r.Number, request.ActionNotDone, "")
		if !fieldAt(err, "body.reason") {
			t.Fatalf("not done without a reason: %v", err)
		}
		_, err = e.step(e.st, r.Number, request.ActionNotDone, "it is not")
		wantKind(t, err, errs.Forbidden, "a stranger reports not done")
		r = e.mustStep(e.rc, r.Number, request.ActionNotDone, "I still cannot sign in.").Request
		if r.State != request.InFulfilment || !r.FulfilledAt.IsZero() {
			t.Fatalf("not done: %s", r.State)
		}
		comments, _ := e.recs.Journal(e.ag, r.Number, false)
		if len(comments) != 1 || comments[0].Body != "Not done: I still cannot sign in." || comments[0].AuthorName != "ria" {
			t.Fatalf("the not-done comment: %+v", comments)
		}
		r = e.mustStep(e.ag, r.Number, request.ActionFulfil, "").Request
		_, err = e.step(e.st, r.Number, request.ActionClose, "")
		wantKind(t, err, errs.Forbidden, "a stranger closes")
		r = e.mustStep(e.mgr, r.Number, request.ActionClose, "").Request
		if r.State != request.Closed {
			t.Fatalf("closed by the desk: %s", r.State)
		}

		// Cancelling: the requester, before fulfilment, with approvals open; not a stranger.
		laptop := e.createItem(e.laptopItem())
		c := e.submit(e.rc, laptop.ID, e.goodValues())
		c = e.mustStep(e.ag, c.Number, request.ActionValidate, "").Request
		_, err = e.step(e.st, c.Number, request.ActionCancel, "")
		wantKind(t, err, errs.Forbidden, "a stranger cancels")
		c = e.mustStep(e.rc, c.Number, request.ActionCancel, "").Request
		if c.State != request.Cancelled || c.Approvals[0].State != request.ApprovalCancelled || c.Approvals[1].State != request.ApprovalCancelled {
			t.Fatalf("cancelled: %s %+v", c.State, c.Approvals)
		}
		if pending, err := e.svc.PendingApprovals(e.mx); err != nil || len(pending) != 0 {
			t.Fatalf("max still has approvals of a cancelled request: %+v %v", pending, err)
		}
	})
}

// Validation needs someone to decide every level: a requester without a
// manager, or a service without an owner, is named and the request stays submitted.
func TestValidationNeedsApprovers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())
		r := e.submit(e.st, item.ID, e.goodValues())
		_, err := e.step(e.ag, r.Number, request.ActionValidate, "")
		if ee, ok := errs.As(err); !ok || ee.Kind != errs.Conflict || !strings.Contains(ee.Message, "stranger has none") {
			t.Fatalf("validate without a manager: %v", err)
		}
		if got := e.get(r.Number); got.State != request.Submitted || len(got.Approvals) != 0 {
			t.Fatalf("a refused validation left %s with %d levels", got.State, len(got.Approvals))
		}

		owned := e.laptopItem()
		owned.Name, owned.Approvals = "Software licence", []request.CatalogApproval{{Kind: request.ServiceOwnerApproval}}
		sw := e.createItem(owned)
		// The service owner approves a request of ria's; olga's own request has no one else to approve it.
		r = e.submit(e.rc, sw.ID, e.goodValues())
		r = e.mustStep(e.ag, r.Number, request.ActionValidate, "").Request
		if len(r.Approvals) != 1 || r.Approvals[0].Approvals[0].ApproverID != e.olga.ID {
			t.Fatalf("service owner level: %+v", r.Approvals)
		}
		pending, err := e.svc.PendingApprovals(e.ol)
		if err != nil || len(pending) != 1 || pending[0].Request != r.Number || pending[0].RequesterName != "ria" {
			t.Fatalf("olga's pending approvals: %+v %v", pending, err)
		}
		if r, err = e.svc.Approve(e.ol, r.Number, pendingOf(t, r), ""); err != nil || r.State != request.InFulfilment {
			t.Fatalf("the owner approves: %v", err)
		}
		own := e.submit(e.ol, sw.ID, e.goodValues())
		_, err = e.step(e.ag, own.Number, request.ActionValidate, "")
		wantKind(t, err, errs.Conflict, "the owner's own request has no other approver")
	})
}

// OpenFromIncident creates a request inside the incident's transaction: it
// commits with it, or leaves nothing behind when it rolls back.
func TestOpenFromIncident(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		item := e.createItem(e.laptopItem())
		in := request.FromIncident{Number: "inc0000042", Title: "Needs a laptop", Description: "Called the desk: laptop died.",
			RequesterID: e.ria.ID, ServiceID: e.service, CatalogItemID: item.ID}

		var rolledBack string
		err := d.InTx(e.ag, func(tx *db.Tx) error {
			n, err := e.svc.OpenFromIncident(e.ag, tx, in)
			if err != nil {
				return err
			}
			rolledBack = n
			return errs.E(errs.Conflict, "the incident's step failed")
		})
		wantKind(t, err, errs.Conflict, "the incident's transaction")
		if rolledBack == "" {
			t.Fatal("no number was returned inside the transaction")
		}
		var records, rows, events, approvals int
		if err := d.QueryRowContext(context.Background(), `SELECT (SELECT COUNT(*) FROM records WHERE type = 'service_request'),
			(SELECT COUNT(*) FROM service_requests), (SELECT COUNT(*) FROM outbox_events WHERE type LIKE 'request.%' OR type = 'record.created'),
			(SELECT COUNT(*) FROM audit_log WHERE object_id = ?)`, rolledBack).Scan(&records, &rows, &events, &approvals); err != nil {
			t.Fatal(err)
		}
		if records+rows+events+approvals != 0 {
			t.Fatalf("a rolled-back reclassification left %d records, %d rows, %d events, %d audit entries", records, rows, events, approvals)
		}
		if _, err := e.svc.Request(e.ag, rolledBack); !errs.Is(err, errs.NotFound) {
			t.Fatalf("the rolled-back request reads as %v", err)
		}

		var number string
		if err := d.InTx(e.ag, func(tx *db.Tx) error {
			var err error
			number, err = e.svc.OpenFromIncident(e.ag, tx, in)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		r := e.get(number)
		if r.State != request.Submitted || r.SourceIncident != "INC0000042" || r.RequesterID != e.ria.ID || r.Title != "Needs a laptop" ||
			r.CatalogItemID != item.ID || len(r.Stages) != 2 || r.Channel != "desk" {
			t.Fatalf("the reclassified request: %+v", r)
		}
		if ev := e.events("request.submitted"); len(ev) != 1 || ev[0].Data["sourceIncident"] != "INC0000042" {
			t.Fatalf("request.submitted: %+v", ev)
		}
		// Without a catalog item it belongs to the incident's service and needs no approval.
		if err := d.InTx(e.ag, func(tx *db.Tx) error {
			var err error
			number, err = e.svc.OpenFromIncident(e.ag, tx, request.FromIncident{Number: "INC0000043", RequesterID: e.ria.ID, ServiceID: e.service})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		r = e.mustStep(e.ag, number, request.ActionValidate, "").Request
		if r.Title != "Request from INC0000043" || r.ServiceID != e.service || r.State != request.InFulfilment {
			t.Fatalf("a request without an item: %+v", r.RequestSummary)
		}
		err = d.InTx(e.ag, func(tx *db.Tx) error {
			_, err := e.svc.OpenFromIncident(e.ag, tx, request.FromIncident{Number: "INC0000044", RequesterID: e.ria.ID, CatalogItemID: 999999})
			return err
		})
		if !fieldAt(err, "body.catalogItemId") {
			t.Fatalf("an unknown item: %v", err)
		}
	})
}
