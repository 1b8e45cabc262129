package problem

import (
	"context"
	"fmt"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// problemType is the problem's lifecycle. Every step performs a PM activity:
//
//	logged ─investigate (PM4)→ analysing ─identify_root_cause (PM4)→ root_cause_known
//	root_cause_known ─raise_rfc (PM5)→ awaiting_change ─resolve (PM5)→ resolved ─close (PM6)→ closed
//	resolved, closed ─reopen (PM4)→ analysing
//	logged, analysing, root_cause_known, awaiting_change ─cancel (PM6)→ cancelled (terminal)
//
// Logging performs PM2; changing the category, impact, urgency, major flag,
// service or CI performs PM3 (and so does assigning). identify_root_cause
// needs an analysis with a root cause statement; raise_rfc needs the RFC
// reference (Service.Perform gives it with the step); close needs the review
// of a major problem. Closed is a closed state that reopen may leave.
func (s *Service) problemType() record.Type {
	return record.Type{Name: ProblemType, Label: "Problem", Prefix: ProblemPrefix, Process: Process, Initial: Logged,
		States: []record.State{{Name: Logged, Label: "Logged"}, {Name: Analysing, Label: "Analysing"},
			{Name: RootCauseKnown, Label: "Root cause known"}, {Name: AwaitingChange, Label: "Awaiting change"},
			{Name: Resolved, Label: "Resolved"}, {Name: Closed, Label: "Closed", Closed: true},
			{Name: Cancelled, Label: "Cancelled", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "investigate", From: []string{Logged}, To: Analysing, Activity: ActInvestigate, Label: "Investigate"},
			{Action: "identify_root_cause", From: []string{Analysing}, To: RootCauseKnown, Activity: ActInvestigate,
				Label: "Root cause identified"},
			{Action: "raise_rfc", From: []string{RootCauseKnown}, To: AwaitingChange, Activity: ActResolve, Label: "Raise RFC"},
			{Action: "resolve", From: []string{AwaitingChange}, To: Resolved, Activity: ActResolve, Label: "Resolve"},
			{Action: "close", From: []string{Resolved}, To: Closed, Activity: ActClose, Label: "Close"},
			{Action: "reopen", From: []string{Resolved, Closed}, To: Analysing, Activity: ActInvestigate, Label: "Reopen"},
			{Action: "cancel", From: []string{Logged, Analysing, RootCauseKnown, AwaitingChange}, To: Cancelled,
				Activity: ActClose, Label: "Cancel"},
		},
		CreateActivity: ActLog, UpdateActivity: ActCategorise, AssignActivity: ActCategorise,
		Editable: func(r record.Record) error {
			if r.State == Closed || r.State == Cancelled {
				return errs.E(errs.Conflict, "%s is %s; reopen it before changing it", r.Number, r.State)
			}
			return nil
		},
		Check: s.checkProblem, AfterApply: s.afterProblem}
}

// knownErrorType is the known error's lifecycle:
//
//	draft ─publish (PM4)→ published ─retire (PM6)→ retired (terminal); draft ─retire (PM6)→ retired
//
// Recording and changing a known error performs PM4. Publishing needs the
// symptoms and a root cause or a workaround. Closing its problem retires it
// (a follow-up of the same PM6 step).
func (s *Service) knownErrorType() record.Type {
	return record.Type{Name: KnownErrorType, Label: "Known error", Prefix: KnownErrorPrefix, Process: Process, Initial: Draft,
		States: []record.State{{Name: Draft, Label: "Draft"}, {Name: Published, Label: "Published"},
			{Name: Retired, Label: "Retired", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "publish", From: []string{Draft}, To: Published, Activity: ActInvestigate, Label: "Publish to agents"},
			{Action: "retire", From: []string{Draft, Published}, To: Retired, Activity: ActClose, Label: "Retire"},
		},
		CreateActivity: ActInvestigate, UpdateActivity: ActInvestigate, AssignActivity: ActInvestigate,
		Editable: func(r record.Record) error {
			if r.State == Retired {
				return errs.E(errs.Conflict, "%s is retired; its record is closed", r.Number)
			}
			return nil
		},
		Check: s.checkKnownError, AfterApply: s.afterKnownError}
}

// stepKey carries what Service.Perform gives with a problem's step.
type stepKey struct{}

// givenStep is the input of one problem's step on its way into the step's transaction.
type givenStep struct {
	number string
	in     StepInput
}

// checkProblem refuses a step the problem is not ready for. When
// Service.Perform gives an RFC reference or a resolution with the step, it
// is written here: Check runs inside the kernel's step transaction both when
// the step applies at once and when it is stored to wait for approval or
// consultation, so it commits (or rolls back) with the step either way.
func (s *Service) checkProblem(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	given, ok := ctx.Value(stepKey{}).(givenStep)
	ok = ok && given.number == r.Number
	write := func() (*db.Tx, error) {
		tx, isTx := q.(*db.Tx)
		if !isTx {
			return nil, fmt.Errorf("the %s check of %s runs outside a transaction", tr.Action, r.Number)
		}
		return tx, nil
	}
	st, err := loadProblemState(ctx, q, r.ID)
	if err != nil {
		return err
	}
	switch tr.Action {
	case "identify_root_cause":
		if !st.HasRootCause {
			return errs.E(errs.Conflict, "identifying the root cause of %s needs a root-cause analysis with a root cause statement: "+
				"POST /api/v1/problems/%s/rca", r.Number, r.Number)
		}
	case "raise_rfc":
		if ok && given.in.RFC != "" {
			tx, err := write()
			if err != nil {
				return err
			}
			if err := setRFC(ctx, tx, r.ID, given.in.RFC, 0); err != nil {
				return err
			}
			s.trail.Record(ctx, tx, audit.Entry{Action: "problem.rfc.record", ObjectType: "record", ObjectID: r.Number,
				Changes: []audit.Change{{Field: "rfc", Old: st.RFC, New: given.in.RFC}}})
			return nil
		}
		if st.RFC == "" {
			return errs.E(errs.Conflict, "raising an RFC for %s needs its reference: POST /api/v1/problems/%s/actions/raise_rfc "+
				"with rfc (such as RFC-2026-0042 or a URL)", r.Number, r.Number)
		}
	case "resolve":
		if ok && given.in.Resolution != "" {
			tx, err := write()
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE problems SET resolution = ? WHERE record_id = ?`, given.in.Resolution, r.ID); err != nil {
				return fmt.Errorf("store the resolution: %w", err)
			}
			s.trail.Record(ctx, tx, audit.Entry{Action: "problem.resolution.record", ObjectType: "record", ObjectID: r.Number,
				Changes: []audit.Change{{Field: "resolution", New: given.in.Resolution}}})
		}
	case "close":
		if st.Major && !st.HasReview {
			return errs.E(errs.Conflict, "%s is a major problem: it closes only after its review (PM6): POST /api/v1/problems/%s/review",
				r.Number, r.Number)
		}
	}
	return nil
}

// afterProblem completes a step that moved a problem: raising the RFC and
// resolving stamp their time; reopening forgets the RFC and the resolution
// (the audit trail keeps them); closing retires the problem's known errors.
func (s *Service) afterProblem(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	now := s.clock.Now().UnixMilli()
	id, number := a.Record.ID, a.Record.Number
	switch a.Transition.Action {
	case "raise_rfc":
		st, err := loadProblemState(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := setRFC(ctx, tx, id, st.RFC, now); err != nil {
			return err
		}
		return s.events.Emit(ctx, tx, outbox.Event{Type: "problem.rfc_raised", Subject: "record/" + number,
			Data: map[string]any{"number": number, "rfc": st.RFC}})
	case "resolve":
		if _, err := tx.ExecContext(ctx, `UPDATE problems SET resolved_at = ? WHERE record_id = ?`, now, id); err != nil {
			return fmt.Errorf("stamp the resolution: %w", err)
		}
	case "reopen":
		st, err := loadProblemState(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := setRFC(ctx, tx, id, "", 0); err != nil {
			return err
		}
		if err := setResolution(ctx, tx, id, "", 0); err != nil {
			return err
		}
		if st.RFC != "" {
			s.trail.Record(ctx, tx, audit.Entry{Action: "problem.rfc.clear", ObjectType: "record", ObjectID: number,
				Changes: []audit.Change{{Field: "rfc", Old: st.RFC, New: ""}}})
		}
	case "close":
		open, err := openKnownErrors(ctx, tx, id)
		if err != nil {
			return err
		}
		for _, n := range open {
			if _, err := s.records.FollowUp(ctx, tx, n, "retire", a); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkKnownError refuses to publish a known error without its symptoms and a
// root cause or a workaround (its own or its problem's).
func (s *Service) checkKnownError(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	if tr.Action != "publish" {
		return nil
	}
	k, err := loadKnownError(ctx, q, r.ID)
	if err != nil {
		return err
	}
	return publishable(r.Number, k.Symptoms, k.RootCause, k.Workaround)
}

// afterKnownError mirrors the known error's state into its own row (which
// matching reads), counts the published known errors, forgets the words of a
// retired one (which no longer count towards how common a word is) and
// announces a publication to agents.
func (s *Service) afterKnownError(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	if err := setKnownErrorState(ctx, tx, a.Record.ID, a.Record.State); err != nil {
		return err
	}
	switch {
	case a.From == Published && a.Record.State != Published:
		if err := countPublished(ctx, tx, -1); err != nil {
			return err
		}
	case a.From != Published && a.Record.State == Published:
		if err := countPublished(ctx, tx, 1); err != nil {
			return err
		}
	}
	if a.Record.State == Retired {
		return forgetWords(ctx, tx, a.Record.ID)
	}
	if a.Transition.Action != "publish" {
		return nil
	}
	k, err := loadKnownError(ctx, tx, a.Record.ID)
	if err != nil {
		return err
	}
	return s.events.Emit(ctx, tx, outbox.Event{Type: "known_error.published", Subject: "record/" + k.Number,
		Data: map[string]any{"number": k.Number, "title": k.Title, "problem": k.Problem, "workaround": k.Workaround,
			"category": k.Category, "subcategory": k.Subcategory, "serviceId": k.ServiceID, "ciId": k.CIID}})
}
