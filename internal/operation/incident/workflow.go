package incident

import (
	"context"
	"fmt"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// incidentType is the incident's lifecycle. Every step performs an IM activity:
//
//	new ─investigate (IM4)→ in_progress ─hold (IM4)→ on_hold ─resume (IM4)→ in_progress
//	new, in_progress, on_hold ─resolve (IM5)→ resolved
//	resolved ─confirm (IM6, the caller)→ closed; ─close (IM6, agents or the auto-close timer)→ closed
//	resolved ─reject_resolution (IM5, the caller)→ in_progress
//	closed ─reopen (IM5, the caller, within the reopen window)→ in_progress
//	new ─cancel (IM2)→ cancelled; new, in_progress ─reclassify (IM3)→ reclassified
//
// Recategorising and reprioritising are IM3, and so is assignment.
func (s *Service) incidentType() record.Type {
	return record.Type{Name: Type, Label: "Incident", Prefix: Prefix, Process: Process, Initial: StateNew,
		States: []record.State{{Name: StateNew, Label: "New"}, {Name: StateInProgress, Label: "In progress"}, {Name: StateOnHold, Label: "On hold"},
			{Name: StateResolved, Label: "Resolved"}, {Name: StateClosed, Label: "Closed", Closed: true},
			{Name: StateCancelled, Label: "Cancelled", Terminal: true}, {Name: StateReclassified, Label: "Reclassified as a request", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "investigate", From: []string{StateNew}, To: StateInProgress, Activity: ActInvestigate, Label: "Investigate"},
			{Action: "hold", From: []string{StateInProgress}, To: StateOnHold, Activity: ActInvestigate, Label: "Put on hold"},
			{Action: "resume", From: []string{StateOnHold}, To: StateInProgress, Activity: ActInvestigate, Label: "Resume"},
			{Action: "resolve", From: []string{StateNew, StateInProgress, StateOnHold}, To: StateResolved, Activity: ActResolve, Label: "Resolve"},
			{Action: "confirm", From: []string{StateResolved}, To: StateClosed, Activity: ActClose, Label: "Confirm the resolution", Requester: true},
			{Action: "reject_resolution", From: []string{StateResolved}, To: StateInProgress, Activity: ActResolve, Label: "Reject the resolution",
				Requester: true},
			{Action: "close", From: []string{StateResolved}, To: StateClosed, Activity: ActClose, Label: "Close"},
			{Action: "reopen", From: []string{StateClosed}, To: StateInProgress, Activity: ActResolve, Label: "Reopen", Requester: true},
			{Action: "cancel", From: []string{StateNew}, To: StateCancelled, Activity: ActLog, Label: "Cancel"},
			{Action: "reclassify", From: []string{StateNew, StateInProgress}, To: StateReclassified, Activity: ActCategorise,
				Label: "Reclassify as a service request"},
		},
		UpdateActivity: ActCategorise, AssignActivity: ActCategorise,
		Visible: s.visibleHook, VisibleWhere: s.securityCond,
		Editable: func(r record.Record) error {
			if r.Closed {
				return errs.E(errs.Conflict, "%s is %s; reopen it first (a cancelled or reclassified incident stays as it is)", r.Number, r.State)
			}
			return nil
		},
		Check: s.checkStep, AfterApply: s.afterStep}
}

// checkStep refuses a step the incident is not ready for, and keeps the
// fields given with it. It runs inside the kernel's step transaction both when
// the step applies at once and when it is stored to wait for approval or
// consultation (and again when it applies), so the fields commit with the step:
//   - hold, resolve and reject_resolution need their fields, which only
//     POST /api/v1/incidents/{number}/actions/{action} gives;
//   - a major incident closes (confirm, close) only after its review;
//   - reopening is allowed only within the settings' reopen window;
//   - reclassifying needs request fulfilment wired.
func (s *Service) checkStep(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	if f, ok := stepFrom(ctx, r.Number, tr.Action); ok {
		tx, isTx := q.(*db.Tx)
		if !isTx {
			return fmt.Errorf("the %s check of %s runs outside a transaction", tr.Action, r.Number)
		}
		if err := saveStepFields(ctx, tx, r.ID, tr.Action, f, userID(auth.PrincipalFrom(ctx)), s.now()); err != nil {
			return err
		}
	} else if needsFields(tr.Action) {
		if _, kept, err := loadStepFields(ctx, q, r.ID, tr.Action); err != nil || kept {
			return err
		}
		req, _ := ActionFields(tr.Action)
		return errs.E(errs.Conflict, "%s on %s needs %v: POST /api/v1/incidents/%s/actions/%s with them",
			tr.Action, r.Number, req, r.Number, tr.Action)
	}
	switch tr.Action {
	case "confirm", "close":
		w, err := loadRow(ctx, q, r.ID)
		if err != nil {
			return err
		}
		if w.Path == PathMajor {
			ok, err := hasReview(ctx, q, r.ID)
			if err != nil {
				return err
			}
			if !ok {
				return errs.E(errs.Conflict, "%s is a major incident: record its review first (POST /api/v1/incidents/%s/major/review)",
					r.Number, r.Number)
			}
		}
	case "reopen":
		w, err := loadRow(ctx, q, r.ID)
		if err != nil {
			return err
		}
		st, err := loadSettings(ctx, q)
		if err != nil {
			return err
		}
		return checkReopen(r.Number, db.Time(w.ClosedAt), s.clock.Now(), st.ReopenDays)
	case "reclassify":
		if s.requests == nil {
			return errs.E(errs.Conflict, "%s cannot be reclassified: request fulfilment is not wired in this installation", r.Number)
		}
	}
	return nil
}

// afterStep completes a step that moved an incident: it writes the fields the
// step gave (a resolution, a hold reason, the closure's review…), resolves a
// major incident's open children with it, opens the request a reclassified
// incident becomes, and audits and announces it, in the step's transaction.
func (s *Service) afterStep(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	action := a.Transition.Action
	var f StepFields
	if _, takes := actionFields[action]; takes {
		given, ok := stepFrom(ctx, a.Record.Number, action)
		if !ok {
			var err error
			if given, _, err = loadStepFields(ctx, tx, a.Record.ID, action); err != nil {
				return err
			}
		}
		f = given
		if err := dropStepFields(ctx, tx, a.Record.ID, action); err != nil {
			return err
		}
	}
	w, err := loadRow(ctx, tx, a.Record.ID)
	if err != nil {
		return err
	}
	old := w
	now := s.now()
	var by int64
	if a.Actor != nil {
		by = a.Actor.UserID
	}
	event := ""
	switch action {
	case "investigate":
		return nil
	case "hold":
		w.HoldReason, w.HeldAt = f.HoldReason, now
		event = "incident.held"
	case "resume":
		w.HoldReason, w.HeldAt = "", 0
		event = "incident.resumed"
	case "resolve":
		w.HoldReason, w.HeldAt = "", 0
		w.ResolvedAt, w.ResolvedBy = now, a.Performer
		w.ResolutionCode, w.ResolutionNotes, w.Effort, w.FirstContact = f.ResolutionCode, f.ResolutionNotes, f.EffortMinutes, f.FirstContact
		event = "incident.resolved"
	case "reject_resolution":
		w.Rejections++
		w.LastRejection = f.Reason
		clearResolution(&w)
		event = "incident.resolution_rejected"
	case "confirm", "close":
		w.ClosedAt, w.ClosedBy = now, by
		if err := s.reviewCategory(ctx, tx, &w, f); err != nil {
			return err
		}
		event = "incident.closed"
	case "reopen":
		w.ReopenCount++
		w.ClosedAt, w.ClosedBy = 0, 0
		w.CategoryReviewed, w.CategoryChanged = false, false
		clearResolution(&w)
		event = "incident.reopened"
	case "cancel":
		w.ClosedAt, w.ClosedBy = now, by
		event = "incident.cancelled"
	case "reclassify":
		number, err := s.reclassify(ctx, tx, a.Record, f)
		if err != nil {
			return err
		}
		w.ReclassifiedAs, w.ClosedAt, w.ClosedBy = number, now, by
		event = "incident.reclassified"
	}
	if err := saveRow(ctx, tx, &w); err != nil {
		return err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "incident." + action, ObjectType: "record", ObjectID: a.Record.Number,
		Changes: audit.Diff(rowAudited, rowFields(old), rowFields(w))})
	data := map[string]any{"number": a.Record.Number, "title": a.Record.Title, "state": a.Record.State, "path": w.Path,
		"callerId": a.Record.RequesterID, "action": action}
	switch action {
	case "resolve":
		data["resolution"] = map[string]any{"code": w.ResolutionCode, "notes": w.ResolutionNotes, "effortMinutes": w.Effort,
			"firstContact": w.FirstContact}
	case "hold":
		data["holdReason"] = w.HoldReason
	case "reclassify":
		data["request"] = w.ReclassifiedAs
	case "reject_resolution":
		data["reason"] = w.LastRejection
	}
	if err := s.events.Emit(ctx, tx, outbox.Event{Type: event, Subject: subject(a.Record.Number), Data: data}); err != nil {
		return err
	}
	if action == "resolve" && w.Path == PathMajor {
		return s.resolveChildren(ctx, tx, a, w)
	}
	return nil
}

func clearResolution(w *row) {
	w.ResolvedAt, w.ResolvedBy, w.ResolutionCode, w.ResolutionNotes, w.Effort, w.FirstContact = 0, 0, "", "", 0, false
}

// reviewCategory records the categorisation review at closure (IM6): a
// closure category given replaces the category (it must exist and keep the
// incident on its side of the security line); whether the final
// categorisation differs from the one logged is kept.
func (s *Service) reviewCategory(ctx context.Context, tx *db.Tx, w *row, f StepFields) error {
	if f.ClosureCategory != "" {
		if err := checkRefs(ctx, tx, 0, 0, f.ClosureCategory, f.ClosureSubcategory, 0, closureLocs); err != nil {
			return err
		}
		st, err := loadSettings(ctx, tx)
		if err != nil {
			return err
		}
		if st.isSecurity(f.ClosureCategory) != (w.Path == PathSecurity) {
			return errs.Field("body.closureCategory", "the review at closure cannot move an incident into or out of the security path; "+
				"recategorise it before resolving", f.ClosureCategory)
		}
		w.Category, w.Subcategory = f.ClosureCategory, f.ClosureSubcategory
	}
	w.CategoryReviewed = true
	w.CategoryChanged = w.Category != w.LoggedCategory || w.Subcategory != w.LoggedSubcategory
	return nil
}

// resolveChildren resolves a major incident's open children in its
// transaction, as follow-ups of the same IM5 step, with its resolution.
func (s *Service) resolveChildren(ctx context.Context, tx *db.Tx, a record.AppliedStep, w row) error {
	kids, err := children(ctx, tx, a.Record.ID)
	if err != nil {
		return err
	}
	for _, c := range kids {
		if c.State != StateNew && c.State != StateInProgress && c.State != StateOnHold {
			continue
		}
		f := StepFields{ResolutionCode: w.ResolutionCode, FirstContact: false,
			ResolutionNotes: fmt.Sprintf("Resolved with major incident %s: %s", a.Record.Number, w.ResolutionNotes)}
		if _, err := s.records.FollowUp(withStep(ctx, c.Number, "resolve", f), tx, c.Number, "resolve", a); err != nil {
			return err
		}
	}
	return nil
}

// reclassify opens the service request an incident becomes (IM3) and links it.
func (s *Service) reclassify(ctx context.Context, tx *db.Tx, r record.Record, f StepFields) (string, error) {
	if s.requests == nil {
		return "", errs.E(errs.Conflict, "%s cannot be reclassified: request fulfilment is not wired in this installation", r.Number)
	}
	number, err := s.requests.OpenFromIncident(ctx, tx, ReclassifiedIncident{Number: r.Number, Title: r.Title,
		Description: r.Description, RequesterID: r.RequesterID, ServiceID: r.ServiceID, CatalogItemID: f.CatalogItemID})
	if err != nil {
		return "", fmt.Errorf("open the request: %w", err)
	}
	if _, err := s.records.LinkIn(ctx, tx, r.Number, record.RelatedTo, number); err != nil {
		return "", err
	}
	return number, nil
}
