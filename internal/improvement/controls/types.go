package controls

import (
	"context"

	"steward/internal/framework"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// The number prefixes of the controls.
const (
	DocumentPrefix   = "PFD"
	FindingPrefix    = "FND"
	EvaluationPrefix = "EVL"
)

// documentType is the process framework document: draft → in review →
// approved → superseded or retired. Every step performs the Establish
// activity of the document's process; approving and retiring wait for its
// accountable (A) holder.
func (s *Service) documentType() record.Type {
	est := framework.ControlEstablish
	return record.Type{Name: DocumentType, Label: "Process document", Prefix: DocumentPrefix, ProcessPerRecord: true,
		Initial: DocDraft,
		States: []record.State{{Name: DocDraft, Label: "Draft"}, {Name: DocInReview, Label: "In review"},
			{Name: DocApproved, Label: "Approved"}, {Name: DocSuperseded, Label: "Superseded", Terminal: true},
			{Name: DocRetired, Label: "Retired", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "submit", From: []string{DocDraft}, To: DocInReview, Control: est, Label: "Submit for review"},
			{Action: "rework", From: []string{DocInReview}, To: DocDraft, Control: est, Label: "Return to draft"},
			{Action: "approve", From: []string{DocInReview}, To: DocApproved, Control: est, Label: "Approve", Approval: true},
			{Action: "withdraw", From: []string{DocDraft, DocInReview}, To: DocRetired, Control: est, Label: "Withdraw"},
			{Action: "retire", From: []string{DocApproved}, To: DocRetired, Control: est, Label: "Retire", Approval: true},
			{Action: "supersede", From: []string{DocApproved}, To: DocSuperseded, Control: est, Label: "Supersede", System: true},
		},
		CreateControl: est, UpdateControl: est, AssignControl: est,
		Editable: func(r record.Record) error { return documentEditable(r.Number, r.State) },
		Check:    s.checkDocument, AfterApply: s.afterDocument}
}

// checkDocument refuses a document step whose document is not ready: a body
// to review, and, for a new version, a predecessor that is still approved.
func (s *Service) checkDocument(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	row, err := loadDocRow(ctx, q, r.ID)
	if err != nil {
		return err
	}
	switch tr.Action {
	case "submit":
		return documentReady(row.Body)
	case "approve":
		if row.SupersedesID == 0 {
			return nil
		}
		prev, state, err := recordState(ctx, q, row.SupersedesID)
		if err != nil {
			return err
		}
		if state != DocApproved {
			return errs.E(errs.Conflict, "%s would supersede %s, which is %s, no longer approved", r.Number, prev, state)
		}
	}
	return nil
}

// afterDocument stamps an approved document and supersedes the version it replaces.
func (s *Service) afterDocument(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	if a.Transition.Action != "approve" {
		return nil
	}
	if err := setApproved(ctx, tx, a.Record.ID, s.clock.Now().UnixMilli()); err != nil {
		return err
	}
	row, err := loadDocRow(ctx, tx, a.Record.ID)
	if err != nil || row.SupersedesID == 0 {
		return err
	}
	prev, _, err := recordState(ctx, tx, row.SupersedesID)
	if err != nil {
		return err
	}
	_, err = s.records.FollowUp(ctx, tx, prev, "supersede", a)
	return err
}

// findingType is the monitor, manage and report finding: open → action
// planned → verified closed, every step performing the Monitor activity of its
// process. It closes only when every corrective action is done.
func (s *Service) findingType() record.Type {
	mon := framework.ControlMonitor
	return record.Type{Name: FindingType, Label: "Finding", Prefix: FindingPrefix, ProcessPerRecord: true,
		Initial: FindingOpen,
		States: []record.State{{Name: FindingOpen, Label: "Open"}, {Name: FindingPlanned, Label: "Action planned"},
			{Name: FindingClosed, Label: "Verified closed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "plan", From: []string{FindingOpen}, To: FindingPlanned, Control: mon, Label: "Plan corrective action"},
			{Action: "close", From: []string{FindingPlanned}, To: FindingClosed, Control: mon, Label: "Verify and close"},
		},
		CreateControl: mon, UpdateControl: mon, AssignControl: mon,
		Editable: func(r record.Record) error { return findingOpen(r.Number, r.State) },
		Check:    s.checkFinding}
}

// checkFinding refuses planning without a corrective action and closing while one is unfinished.
func (s *Service) checkFinding(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	as, err := loadActions(ctx, q, []int64{r.ID})
	if err != nil {
		return err
	}
	switch tr.Action {
	case "plan":
		return findingPlanned(as[r.ID])
	case "close":
		return findingClosable(as[r.ID])
	}
	return nil
}

// evaluationType is the process performance evaluation: draft → submitted →
// accepted, every step performing the Evaluate activity of its process;
// acceptance waits for its accountable (A) holder.
func (s *Service) evaluationType() record.Type {
	ev := framework.ControlEvaluate
	return record.Type{Name: EvaluationType, Label: "Evaluation", Prefix: EvaluationPrefix, ProcessPerRecord: true,
		Initial: EvalDraft,
		States: []record.State{{Name: EvalDraft, Label: "Draft"}, {Name: EvalSubmitted, Label: "Submitted"},
			{Name: EvalAccepted, Label: "Accepted", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "submit", From: []string{EvalDraft}, To: EvalSubmitted, Control: ev, Label: "Submit"},
			{Action: "rework", From: []string{EvalSubmitted}, To: EvalDraft, Control: ev, Label: "Return to draft"},
			{Action: "accept", From: []string{EvalSubmitted}, To: EvalAccepted, Control: ev, Label: "Accept", Approval: true},
		},
		CreateControl: ev, UpdateControl: ev, AssignControl: ev,
		Editable: func(r record.Record) error { return evaluationEditable(r.Number, r.State) },
		Check:    s.checkEvaluation}
}

// checkEvaluation refuses to submit an evaluation with nothing to evaluate or no gap analysis.
func (s *Service) checkEvaluation(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	if tr.Action != "submit" {
		return nil
	}
	e, err := loadEvalRow(ctx, q, r.ID)
	if err != nil {
		return err
	}
	return evaluationReady(e)
}
