package request

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// requestType is the service request's lifecycle. Every step performs an RF activity:
//
//	submitted ─validate (RF2)→ awaiting_approval ─start_fulfilment (RF2, system)→ in_fulfilment
//	in_fulfilment ─fulfil (RF3)→ awaiting_acceptance ─accept (RF4, requester) or close (RF4)→ closed
//	awaiting_acceptance ─not_done (RF4, requester)→ in_fulfilment
//	submitted, awaiting_approval ─reject (RF2)→ rejected; ─cancel (RF2, requester)→ cancelled
//
// Validating opens the item's approval levels; when there are none the
// request goes on to fulfilment at once (a follow-up of the same RF2 step),
// else when its last level approves. Starting fulfilment opens the tasks of the
// first stage; when the last task of the last stage is done, the request is
// fulfilled (a follow-up of that task's RF3 step). Rejecting and reporting a
// request not done need a reason, which the requester reads as a comment.
func (s *Service) requestType() record.Type {
	return record.Type{Name: RequestType, Label: "Service request", Prefix: RequestPrefix, Process: Process, Initial: Submitted,
		States: []record.State{{Name: Submitted, Label: "Submitted"}, {Name: AwaitingApproval, Label: "Awaiting approval"},
			{Name: InFulfilment, Label: "In fulfilment"}, {Name: AwaitingAcceptance, Label: "Awaiting acceptance"},
			{Name: Closed, Label: "Closed", Closed: true}, {Name: Rejected, Label: "Rejected", Terminal: true},
			{Name: Cancelled, Label: "Cancelled", Terminal: true}},
		Transitions: []record.Transition{
			{Action: ActionValidate, From: []string{Submitted}, To: AwaitingApproval, Activity: ActLog, Label: "Validate"},
			{Action: ActionReject, From: []string{Submitted, AwaitingApproval}, To: Rejected, Activity: ActLog, Label: "Reject"},
			{Action: ActionStartFulfilment, From: []string{AwaitingApproval}, To: InFulfilment, Activity: ActLog, System: true,
				Label: "Start fulfilment"},
			{Action: ActionFulfil, From: []string{InFulfilment}, To: AwaitingAcceptance, Activity: ActFulfil, Label: "Mark fulfilled"},
			{Action: ActionAccept, From: []string{AwaitingAcceptance}, To: Closed, Activity: ActClose, Requester: true, Label: "Accept"},
			{Action: ActionNotDone, From: []string{AwaitingAcceptance}, To: InFulfilment, Activity: ActClose, Requester: true,
				Label: "Report not done"},
			{Action: ActionClose, From: []string{AwaitingAcceptance}, To: Closed, Activity: ActClose, Label: "Close"},
			{Action: ActionCancel, From: []string{Submitted, AwaitingApproval}, To: Cancelled, Activity: ActLog, Requester: true,
				Label: "Cancel"},
		},
		AssignActivity: ActLog, UpdateActivity: ActLog,
		Editable: func(r record.Record) error {
			if r.Closed {
				return errs.E(errs.Conflict, "%s is %s; its record is closed", r.Number, r.State)
			}
			return nil
		},
		Check: s.checkRequest, AfterApply: s.afterRequest}
}

// taskType is a fulfilment task (RF3): open ─start→ in_progress ─complete→ done;
// open or in_progress ─cancel→ cancelled. When the last open task of a stage
// is done or cancelled, the next stage's tasks open, or the request is fulfilled.
func (s *Service) taskType() record.Type {
	return record.Type{Name: TaskType, Label: "Request task", Prefix: TaskPrefix, Process: Process, Initial: TaskOpen,
		States: []record.State{{Name: TaskOpen, Label: "Open"}, {Name: TaskInProgress, Label: "In progress"},
			{Name: TaskDone, Label: "Done", Terminal: true}, {Name: TaskCancelled, Label: "Cancelled", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "start", From: []string{TaskOpen}, To: TaskInProgress, Activity: ActFulfil, Label: "Start"},
			{Action: "complete", From: []string{TaskInProgress}, To: TaskDone, Activity: ActFulfil, Label: "Complete"},
			{Action: "cancel", From: []string{TaskOpen, TaskInProgress}, To: TaskCancelled, Activity: ActFulfil, Label: "Cancel"},
		},
		AssignActivity: ActFulfil, UpdateActivity: ActFulfil,
		Editable: func(r record.Record) error {
			if r.Closed {
				return errs.E(errs.Conflict, "%s is %s; its record is closed", r.Number, r.State)
			}
			return nil
		},
		AfterApply: s.afterTask}
}

// reasonKey carries the reason given with a reject or not_done step.
type reasonKey struct{}

// givenReason is a reason on its way into one step of one request.
type givenReason struct {
	number, action, reason string
}

func withReason(ctx context.Context, number, action, reason string) context.Context {
	return context.WithValue(ctx, reasonKey{}, givenReason{number: number, action: action, reason: strings.TrimSpace(reason)})
}

// checkRequest refuses a step the request is not ready for. A rejection or a
// report that it is not done needs a reason: when the step carries one it is
// kept here, since Check runs inside the kernel's step transaction both when
// the step applies at once and when it is stored to wait for approval, so that
// the reason commits (or rolls back) with the step either way. Marking a
// request fulfilled needs every task done or cancelled and every stage started.
func (s *Service) checkRequest(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	switch tr.Action {
	case ActionReject, ActionNotDone:
		if g, ok := ctx.Value(reasonKey{}).(givenReason); ok && g.number == r.Number && g.action == tr.Action {
			tx, ok := q.(*db.Tx)
			if !ok {
				return fmt.Errorf("the %s check of %s runs outside a transaction", tr.Action, r.Number)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE service_requests SET pending_action = ?, pending_reason = ? WHERE record_id = ?`,
				tr.Action, g.reason, r.ID); err != nil {
				return fmt.Errorf("keep the reason of %s: %w", r.Number, err)
			}
			return nil
		}
		row, err := loadRequestRow(ctx, q, r.ID)
		if err != nil {
			return err
		}
		if row.PendingAction == tr.Action && row.PendingReason != "" {
			return nil
		}
		return errs.E(errs.Conflict, "%s %s needs a reason the requester reads: POST /api/v1/requests/%s/actions/%s with a reason",
			tr.Action, r.Number, r.Number, tr.Action)
	case ActionFulfil:
		open, err := openTasks(ctx, q, r.ID, 0)
		if err != nil {
			return err
		}
		if len(open) > 0 {
			return errs.E(errs.Conflict, "%s has open tasks (%s); complete or cancel them first", r.Number, strings.Join(open, ", "))
		}
		row, err := loadRequestRow(ctx, q, r.ID)
		if err != nil {
			return err
		}
		if next := row.Def.nextStage(row.Stage); next != 0 {
			return errs.E(errs.Conflict, "%s has not started its fulfilment stage %d yet", r.Number, next)
		}
	}
	return nil
}

// afterRequest completes a step that moved a request, in its transaction.
func (s *Service) afterRequest(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	r := a.Record
	switch a.Transition.Action {
	case ActionValidate:
		return s.openApprovals(ctx, tx, a)
	case ActionStartFulfilment:
		return s.startFulfilment(ctx, tx, a)
	case ActionReject:
		return s.afterReject(ctx, tx, a)
	case ActionNotDone:
		row, err := loadRequestRow(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		reason := row.PendingReason
		if _, err := tx.ExecContext(ctx, `UPDATE service_requests SET pending_action = '', pending_reason = '', fulfilled_at = 0
			WHERE record_id = ?`, r.ID); err != nil {
			return fmt.Errorf("reopen %s: %w", r.Number, err)
		}
		if _, err := addJournal(ctx, tx, r.ID, record.Comment, "Not done: "+reason, a.Actor, s.now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "request.not_done", ObjectType: "record", ObjectID: r.Number,
			Changes: []audit.Change{{Field: "reason", New: reason}}})
		return s.emit(ctx, tx, "request.not_done", r, map[string]any{"reason": reason, "reportedBy": a.Actor.UserID})
	case ActionCancel:
		if err := moveApprovals(ctx, tx, r.ID, 0, ApprovalCancelled, ApprovalWaiting, ApprovalPending); err != nil {
			return err
		}
		return s.emit(ctx, tx, "request.cancelled", r, map[string]any{"cancelledBy": a.Actor.UserID})
	case ActionFulfil:
		if err := setRequest(ctx, tx, r.ID, "fulfilled_at", s.now()); err != nil {
			return err
		}
		return s.emit(ctx, tx, "request.fulfilled", r, nil)
	case ActionAccept, ActionClose:
		return s.emit(ctx, tx, "request.closed", r, map[string]any{"accepted": a.Transition.Action == ActionAccept,
			"closedBy": a.Actor.UserID})
	}
	return nil
}

// emit announces a request event whose data carries the request's number, title and requester.
func (s *Service) emit(ctx context.Context, tx *db.Tx, typ string, r record.Record, more map[string]any) error {
	data := map[string]any{"number": r.Number, "title": r.Title, "requesterId": r.RequesterID, "state": r.State}
	for k, v := range more {
		data[k] = v
	}
	return s.events.Emit(ctx, tx, outbox.Event{Type: typ, Subject: "record/" + r.Number, Data: data})
}

// afterReject sends the reason to the requester (a comment on the request
// and request.rejected) and closes the request's approvals.
func (s *Service) afterReject(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	r := a.Record
	row, err := loadRequestRow(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	reason := row.PendingReason
	if _, err := tx.ExecContext(ctx, `UPDATE service_requests SET pending_action = '', pending_reason = '', rejection_reason = ?
		WHERE record_id = ?`, reason, r.ID); err != nil {
		return fmt.Errorf("reject %s: %w", r.Number, err)
	}
	if err := moveApprovals(ctx, tx, r.ID, 0, ApprovalCancelled, ApprovalWaiting, ApprovalPending); err != nil {
		return err
	}
	if _, err := addJournal(ctx, tx, r.ID, record.Comment, "Your request was rejected: "+reason, a.Actor, s.now()); err != nil {
		return err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "request.reject", ObjectType: "record", ObjectID: r.Number,
		Changes: []audit.Change{{Field: "rejectionReason", New: reason}, {Field: "approvalLevel", New: row.Level}}})
	return s.emit(ctx, tx, "request.rejected", r, map[string]any{"reason": reason, "rejectedBy": a.Actor.UserID,
		"rejectedByName": a.Actor.Username, "approvalLevel": row.Level})
}
