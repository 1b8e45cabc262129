package servicelevel

import (
	"context"
	"fmt"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// The kernel actions of an agreement's negotiation: the same step performs
// SLM2 for an SLA and SLM4 for an OLA or UC, so it is declared twice and
// Service.Perform picks the one of the agreement's kind.
const (
	actNegotiate         = "negotiate"
	actNegotiateUnderpin = "negotiate_underpinning"
)

// agreementType is the agreement's lifecycle:
//
//	draft ─negotiate (SLM2 for an SLA, SLM4 for an OLA or UC)→ negotiated ─agree (SLM5)→ agreed ─archive (SLM5)→ archived
//	negotiated, agreed ─revise (SLM5)→ draft
//
// Drafting and changing an SLA performs SLM2, an OLA or UC SLM4. Agreeing
// needs at least one target (and, for an SLA, a service). Only agreed
// agreements are measured; archived is terminal.
func (s *Service) agreementType() record.Type {
	return record.Type{Name: AgreementType, Label: "Agreement", Prefix: AgreementPrefix, Process: Process, Initial: Draft,
		States: []record.State{{Name: Draft, Label: "Draft"}, {Name: Negotiated, Label: "Negotiated"},
			{Name: Agreed, Label: "Agreed"}, {Name: Archived, Label: "Archived", Terminal: true}},
		Transitions: []record.Transition{
			{Action: actNegotiate, From: []string{Draft}, To: Negotiated, Activity: ActCapture, Label: "Negotiate"},
			{Action: actNegotiateUnderpin, From: []string{Draft}, To: Negotiated, Activity: ActUnderpin,
				Label: "Negotiate (OLA or UC)"},
			{Action: "agree", From: []string{Negotiated}, To: Agreed, Activity: ActAgree, Label: "Agree"},
			{Action: "archive", From: []string{Agreed}, To: Archived, Activity: ActAgree, Label: "Archive"},
			{Action: "revise", From: []string{Negotiated, Agreed}, To: Draft, Activity: ActAgree, Label: "Revise"},
		},
		UpdateActivity: ActCapture, AssignActivity: ActCapture,
		Editable: func(r record.Record) error {
			if r.State == Archived {
				return errs.E(errs.Conflict, "%s is archived; it no longer changes", r.Number)
			}
			return nil
		},
		Check: s.checkAgreement, AfterApply: s.afterAgreement}
}

// reviewType is the service review's lifecycle (every step performs SLM7):
//
//	planned ─start→ in_review ─complete→ completed (terminal)
func (s *Service) reviewType() record.Type {
	return record.Type{Name: ReviewType, Label: "Service review", Prefix: ReviewPrefix, Process: Process, Initial: Planned,
		States: []record.State{{Name: Planned, Label: "Planned"}, {Name: InReview, Label: "In review"},
			{Name: Completed, Label: "Completed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "start", From: []string{Planned}, To: InReview, Activity: ActReview, Label: "Start review"},
			{Action: "complete", From: []string{InReview}, To: Completed, Activity: ActReview, Label: "Complete"},
		},
		CreateActivity: ActReview, UpdateActivity: ActReview, AssignActivity: ActReview,
		Editable: func(r record.Record) error {
			if r.State == Completed {
				return errs.E(errs.Conflict, "%s is completed; it no longer changes", r.Number)
			}
			return nil
		},
		AfterApply: s.afterReview}
}

// planType is the service improvement plan's lifecycle (every step performs SLM8):
//
//	open ─start→ in_progress ─close→ closed (terminal); open ─close→ closed
//
// A plan closes only when none of its items is open.
func (s *Service) planType() record.Type {
	return record.Type{Name: PlanType, Label: "Service improvement plan", Prefix: PlanPrefix, Process: Process, Initial: PlanOpen,
		States: []record.State{{Name: PlanOpen, Label: "Open"}, {Name: PlanInProgress, Label: "In progress"},
			{Name: PlanClosed, Label: "Closed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "start", From: []string{PlanOpen}, To: PlanInProgress, Activity: ActImprove, Label: "Start"},
			{Action: "close", From: []string{PlanOpen, PlanInProgress}, To: PlanClosed, Activity: ActImprove, Label: "Close"},
		},
		CreateActivity: ActImprove, UpdateActivity: ActImprove, AssignActivity: ActImprove,
		Editable: func(r record.Record) error {
			if r.State == PlanClosed {
				return errs.E(errs.Conflict, "%s is closed; it no longer changes", r.Number)
			}
			return nil
		},
		Check: s.checkPlan, AfterApply: s.afterPlan}
}

// negotiation is the kernel action that negotiates an agreement of kind k.
func negotiation(k Kind) string {
	if k == SLA {
		return actNegotiate
	}
	return actNegotiateUnderpin
}

// checkAgreement refuses to negotiate an agreement by the other kind's step,
// and to agree one without targets (or an SLA without a service).
func (s *Service) checkAgreement(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	f, err := loadAgreementFacts(ctx, q, r.ID)
	if err != nil {
		return err
	}
	switch tr.Action {
	case actNegotiate, actNegotiateUnderpin:
		if want := negotiation(f.Kind); tr.Action != want {
			return errs.E(errs.Conflict, "%s is an %s: negotiate it with %s", r.Number, f.Kind, want)
		}
	case "agree":
		if f.Targets == 0 {
			return errs.E(errs.Conflict, "%s has no targets: agreeing needs at least one (PUT /api/v1/agreements/%s/targets)",
				r.Number, r.Number)
		}
		if f.Kind == SLA && f.Services == 0 {
			return errs.E(errs.Conflict, "%s covers no service: an SLA is agreed for services (PUT /api/v1/agreements/%s/services)",
				r.Number, r.Number)
		}
	}
	return nil
}

// afterAgreement tells the tracker when the measured targets change: an
// agreement agreed, archived or revised out of agreed.
func (s *Service) afterAgreement(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	if a.Record.State != Agreed && a.From != Agreed {
		return nil
	}
	if err := s.targetsChanged(ctx, tx, a.Record.ID); err != nil {
		return err
	}
	return s.events.Emit(ctx, tx, outbox.Event{Type: "agreement." + a.Record.State, Subject: "record/" + a.Record.Number,
		Data: map[string]any{"number": a.Record.Number, "title": a.Record.Title, "from": a.From, "state": a.Record.State}})
}

// afterReview announces a completed review.
func (s *Service) afterReview(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	if a.Record.State != Completed {
		return nil
	}
	v, err := loadReview(ctx, tx, a.Record.ID)
	if err != nil {
		return err
	}
	return s.events.Emit(ctx, tx, outbox.Event{Type: "service_review.completed", Subject: "record/" + v.Number,
		Data: map[string]any{"number": v.Number, "serviceId": v.ServiceID, "findings": len(v.Findings)}})
}

// checkPlan refuses to close a plan with an open item.
func (s *Service) checkPlan(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	if tr.Action != "close" {
		return nil
	}
	n, err := openItems(ctx, q, r.ID)
	if err != nil {
		return err
	}
	if n > 0 {
		return errs.E(errs.Conflict, "%s has %d open item(s): mark each done or cancelled before closing the plan", r.Number, n)
	}
	return nil
}

// afterPlan announces a closed plan.
func (s *Service) afterPlan(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	if a.Record.State != PlanClosed {
		return nil
	}
	return s.events.Emit(ctx, tx, outbox.Event{Type: "improvement_plan.closed", Subject: "record/" + a.Record.Number,
		Data: map[string]any{"number": a.Record.Number, "serviceId": a.Record.ServiceID}})
}

// targetsChanged bumps the targets' generation and asks the recomputer, when
// there is one, to recompute the agreement's clocks, in tx.
func (s *Service) targetsChanged(ctx context.Context, tx *db.Tx, agreementID int64) error {
	if err := bumpGeneration(ctx, tx); err != nil {
		return err
	}
	s.mu.Lock()
	rc := s.recomputer
	s.mu.Unlock()
	if rc == nil {
		return nil
	}
	if err := rc.AgreementChanged(ctx, tx, agreementID); err != nil {
		return fmt.Errorf("queue the recompute of agreement %d: %w", agreementID, err)
	}
	return nil
}
