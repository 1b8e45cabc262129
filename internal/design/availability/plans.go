package availability

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// planType is the availability plan's lifecycle. Every step performs AvM6:
//
//	draft ─submit→ active ─close→ closed (terminal)
//
// Creating and changing a plan performs AvM6 too; its risks are assessed
// under AvM4 and its actions planned under AvM5. close needs every risk
// treated or accepted and every action done or cancelled.
func (s *Service) planType() record.Type {
	return record.Type{Name: PlanType, Label: "Availability plan", Prefix: PlanPrefix, Process: Process, Initial: Draft,
		States: []record.State{{Name: Draft, Label: "Draft"}, {Name: Active, Label: "Active"},
			{Name: Closed, Label: "Closed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "submit", From: []string{Draft}, To: Active, Activity: ActPlan, Label: "Submit"},
			{Action: "close", From: []string{Active}, To: Closed, Activity: ActPlan, Label: "Close"},
		},
		CreateActivity: ActPlan, UpdateActivity: ActPlan, AssignActivity: ActPlan,
		Editable: func(r record.Record) error {
			if r.State == Closed {
				return errs.E(errs.Conflict, "%s is closed", r.Number)
			}
			return nil
		},
		Check: s.checkPlan}
}

// checkPlan refuses to close a plan with open risks or open actions.
func (s *Service) checkPlan(ctx context.Context, q db.Queryer, r record.Record, tr record.Transition) error {
	if tr.Action != "close" {
		return nil
	}
	risks, actions, err := openItems(ctx, q, r.ID)
	if err != nil {
		return err
	}
	if risks > 0 || actions > 0 {
		return errs.E(errs.Conflict, "%s has %d open risks and %d open actions; treat or accept every risk and finish or cancel "+
			"every action before closing it", r.Number, risks, actions)
	}
	return nil
}

// plan reads a plan record the caller may see; a record of another type is not found.
func (s *Service) plan(ctx context.Context, number string) (record.Record, error) {
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return r, err
	}
	if r.Type != PlanType {
		return r, errs.E(errs.NotFound, "no availability plan %s", record.NormalizeNumber(number))
	}
	return r, nil
}

// authorize asks the AvM RACI whether the caller may perform activity on plan r.
func (s *Service) authorize(ctx context.Context, r record.Record, activity, verb string) error {
	_, err := s.records.Authorize(ctx, Process, activity, verb, "record/"+r.Number, raci.Scope{TeamID: r.TeamID, ServiceID: r.ServiceID})
	return err
}

// planFields is the audited view of a plan's own fields.
func planFields(p NewPlan) map[string]any {
	return map[string]any{"periodFrom": p.PeriodFrom.UnixMilli(), "periodTo": p.PeriodTo.UnixMilli(), "objective": p.Objective}
}

var planAudited = []string{"periodFrom", "periodTo", "objective"}

// CreatePlan creates an availability plan for a service (AvM6: the caller
// needs R or A for it, in the service's scope). A missing title or objective,
// a period whose end is not after its start, or an unknown service is
// Invalid, naming the field.
func (s *Service) CreatePlan(ctx context.Context, in NewPlan) (out AvailabilityPlanDetail, err error) {
	defer errs.Wrap(&err, "create an availability plan")
	in.Title, in.Objective = strings.TrimSpace(in.Title), strings.TrimSpace(in.Objective)
	in.PeriodFrom, in.PeriodTo = in.PeriodFrom.UTC(), in.PeriodTo.UTC()
	if err := validatePlan(in.Title, in.Description, in.Objective, in.PeriodFrom, in.PeriodTo); err != nil {
		return out, err
	}
	if in.ServiceID <= 0 {
		return out, errs.Field("body.serviceId", "a service id", in.ServiceID)
	}
	if err := checkService(ctx, s.db, "body.serviceId", in.ServiceID); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActPlan, "create", PlanType, raci.Scope{ServiceID: in.ServiceID}); err != nil {
		return out, err
	}
	var number string
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		r, err := s.records.CreateIn(ctx, tx, PlanType, record.NewRecord{Title: in.Title, Description: in.Description,
			ServiceID: in.ServiceID, Marking: in.Marking,
			With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
				return audit.Diff(planAudited, map[string]any{}, planFields(in)), insertPlan(ctx, tx, r.ID, in)
			}})
		if err != nil {
			return err
		}
		number = r.Number
		return nil
	})
	if err != nil {
		return out, err
	}
	return s.Plan(ctx, number)
}

// UpdatePlan changes a plan's title, description, period or objective (AvM6)
// at version (the If-Match ETag). A closed plan is not changed (Conflict).
func (s *Service) UpdatePlan(ctx context.Context, number string, version int64, c PlanChange) (out AvailabilityPlanDetail, err error) {
	defer errs.Wrap(&err, "update availability plan %s", number)
	r, err := s.plan(ctx, number)
	if err != nil {
		return out, err
	}
	old, err := loadPlan(ctx, s.db, r.ID)
	if err != nil {
		return out, err
	}
	n := NewPlan{Title: r.Title, Description: r.Description, PeriodFrom: old.PeriodFrom, PeriodTo: old.PeriodTo, Objective: old.Objective}
	if c.Title != nil {
		n.Title = strings.TrimSpace(*c.Title)
		c.Title = &n.Title
	}
	if c.Description != nil {
		n.Description = *c.Description
	}
	if c.PeriodFrom != nil {
		n.PeriodFrom = c.PeriodFrom.UTC()
	}
	if c.PeriodTo != nil {
		n.PeriodTo = c.PeriodTo.UTC()
	}
	if c.Objective != nil {
		n.Objective = strings.TrimSpace(*c.Objective)
	}
	if err := validatePlan(n.Title, n.Description, n.Objective, n.PeriodFrom, n.PeriodTo); err != nil {
		return out, err
	}
	_, err = s.records.Amend(ctx, r.Number, record.Amendment{Version: version,
		Fields: record.Update{Title: c.Title, Description: c.Description},
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			prev, err := loadPlan(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			changes := audit.Diff(planAudited, planFields(NewPlan{PeriodFrom: prev.PeriodFrom, PeriodTo: prev.PeriodTo,
				Objective: prev.Objective}), planFields(n))
			if len(changes) == 0 {
				return nil, nil
			}
			return changes, updatePlan(ctx, tx, cur.ID, n.PeriodFrom, n.PeriodTo, n.Objective)
		}})
	if err != nil {
		return out, err
	}
	return s.Plan(ctx, r.Number)
}

// AvailabilityPlan returns a plan by its number with its risks and actions.
func (s *Service) Plan(ctx context.Context, number string) (out AvailabilityPlanDetail, err error) {
	defer errs.Wrap(&err, "read availability plan %s", number)
	r, err := s.plan(ctx, number)
	if err != nil {
		return out, err
	}
	if out.AvailabilityPlan, err = loadPlan(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	if out.Risks, err = loadRisks(ctx, s.db, r.ID); err != nil {
		return out, err
	}
	out.Actions, err = loadActions(ctx, s.db, r.ID)
	return out, err
}

// Plans pages the plans matching f, newest first unless p sorts otherwise, and counts them all.
func (s *Service) Plans(ctx context.Context, f PlanFilter, p listing.Params) (page listing.Page[AvailabilityPlan], total int64, err error) {
	defer errs.Wrap(&err, "list availability plans")
	page.Items = []AvailabilityPlan{}
	var fe fieldErrs
	if f.State != "" && !slices.Contains([]string{Draft, Active, Closed}, f.State) {
		fe.add("query.state", "one of draft, active, closed", f.State)
	}
	if f.ServiceID < 0 {
		fe.add("query.service", "a service id", f.ServiceID)
	}
	if err := fe.err(); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	if f.State != "" {
		lf = append(lf, listing.Filter{Field: "state", Value: f.State})
	}
	if f.ServiceID != 0 {
		lf = append(lf, listing.Filter{Field: "serviceId", Value: f.ServiceID})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, planSource, p, lf)
}

// PlanActions lists the workflow actions allowed from a plan's state, with the guard's verdict on the caller.
func (s *Service) PlanActions(ctx context.Context, number string) ([]record.Action, error) {
	r, err := s.plan(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.records.Actions(ctx, r.Number)
}

// Perform takes a plan's workflow step (submit, close; AvM6) through the
// kernel, whose RACI guard decides, at version (the If-Match ETag). Closing a
// plan with open risks or actions is a Conflict saying so.
func (s *Service) Perform(ctx context.Context, number, action string, version int64, comment string) (out PlanStepResult, err error) {
	defer errs.Wrap(&err, "%s %s", action, number)
	r, err := s.plan(ctx, number)
	if err != nil {
		return out, err
	}
	res, err := s.records.Perform(ctx, r.Number, action, record.PerformInput{Version: version, Comment: comment})
	if err != nil {
		return out, err
	}
	return PlanStepResult{Outcome: res.Outcome, Record: res.Record, Step: res.Step}, nil
}

// openPlan reads a plan that takes changes to its risks and actions and asks
// the guard for activity: a closed plan is a Conflict.
func (s *Service) openPlan(ctx context.Context, number, activity, verb string) (record.Record, error) {
	r, err := s.plan(ctx, number)
	if err != nil {
		return r, err
	}
	if r.State == Closed {
		return r, errs.E(errs.Conflict, "%s is closed", r.Number)
	}
	return r, s.authorize(ctx, r, activity, verb)
}

// lockPlan locks a plan's record row in tx and refuses a closed plan, so that
// a risk or an action never changes under a closing plan.
func lockPlan(ctx context.Context, tx *db.Tx, r record.Record) error {
	var state string
	if err := tx.QueryRowContext(ctx, `UPDATE records SET version = version WHERE id = ? RETURNING state`, r.ID).Scan(&state); err != nil {
		return fmt.Errorf("lock %s: %w", r.Number, err)
	}
	if state == Closed {
		return errs.E(errs.Conflict, "%s is closed", r.Number)
	}
	return nil
}

func riskFields(in RiskInput) map[string]any {
	return map[string]any{"description": in.Description, "likelihood": in.Likelihood, "impact": in.Impact, "treatment": in.Treatment,
		"ownerId": in.OwnerID, "state": string(in.State)}
}

var riskAudited = []string{"description", "likelihood", "impact", "treatment", "ownerId", "state"}

// AddRisk records a risk to the availability of a plan's service (AvM4: the
// caller needs R or A for it). A closed plan takes none (Conflict).
func (s *Service) AddRisk(ctx context.Context, number string, in RiskInput) (out AvailabilityRisk, err error) {
	defer errs.Wrap(&err, "add a risk to %s", number)
	if err := validateRisk(&in); err != nil {
		return out, err
	}
	r, err := s.openPlan(ctx, number, ActRisks, "assess a risk of")
	if err != nil {
		return out, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockPlan(ctx, tx, r); err != nil {
			return err
		}
		if in.OwnerID != 0 {
			if err := checkUser(ctx, tx, "body.ownerId", in.OwnerID); err != nil {
				return err
			}
		}
		var err error
		if id, err = insertRisk(ctx, tx, r.ID, in, s.now().UnixMilli()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "availability.risk.add", ObjectType: "record", ObjectID: r.Number,
			Changes: append([]audit.Change{{Field: "risk", New: id}}, audit.Diff(riskAudited, map[string]any{}, riskFields(in))...)})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "availability.risk_added", Subject: "record/" + r.Number,
			Data: map[string]any{"number": r.Number, "risk": id, "score": in.Likelihood * in.Impact, "state": string(in.State)}})
	})
	if err != nil {
		return out, err
	}
	return loadRisk(ctx, s.db, r.ID, id)
}

// UpdateRisk changes a plan's risk (AvM4) at version: treating it (with the
// treatment), accepting it, rescoring it. A stale version is PreconditionFailed.
func (s *Service) UpdateRisk(ctx context.Context, number string, id, version int64, in RiskInput) (out AvailabilityRisk, err error) {
	defer errs.Wrap(&err, "update risk %d of %s", id, number)
	if err := validateRisk(&in); err != nil {
		return out, err
	}
	r, err := s.openPlan(ctx, number, ActRisks, "assess a risk of")
	if err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockPlan(ctx, tx, r); err != nil {
			return err
		}
		cur, err := loadRisk(ctx, tx, r.ID, id)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return errs.E(errs.PreconditionFailed, "risk %d changed since you read it (version %d, now %d)", id, version, cur.Version)
		}
		if in.OwnerID != 0 && in.OwnerID != cur.OwnerID {
			if err := checkUser(ctx, tx, "body.ownerId", in.OwnerID); err != nil {
				return err
			}
		}
		changes := audit.Diff(riskAudited, riskFields(RiskInput{Description: cur.Description, Likelihood: cur.Likelihood,
			Impact: cur.Impact, Treatment: cur.Treatment, OwnerID: cur.OwnerID, State: cur.State}), riskFields(in))
		if len(changes) == 0 {
			return nil
		}
		if _, err := updateRisk(ctx, tx, id, version, in, s.now().UnixMilli()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "availability.risk.update", ObjectType: "record", ObjectID: r.Number,
			Changes: append([]audit.Change{{Field: "risk", Old: id, New: id}}, changes...)})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "availability.risk_updated", Subject: "record/" + r.Number,
			Data: map[string]any{"number": r.Number, "risk": id, "score": in.Likelihood * in.Impact, "state": string(in.State)}})
	})
	if err != nil {
		return out, err
	}
	return loadRisk(ctx, s.db, r.ID, id)
}

func actionFields(in ActionInput) map[string]any {
	return map[string]any{"riskId": in.RiskID, "title": in.Title, "ownerId": in.OwnerID, "dueAt": msOf(in.DueAt), "state": string(in.State)}
}

var actionAudited = []string{"riskId", "title", "ownerId", "dueAt", "state"}

// checkActionRefs checks an action's risk (of the same plan) and owner, naming the fields.
func checkActionRefs(ctx context.Context, tx *db.Tx, planID int64, in ActionInput) error {
	if in.RiskID != 0 {
		if _, err := loadRisk(ctx, tx, planID, in.RiskID); errs.Is(err, errs.NotFound) {
			return errs.Field("body.riskId", "no such risk in this plan", in.RiskID)
		} else if err != nil {
			return err
		}
	}
	if in.OwnerID != 0 {
		return checkUser(ctx, tx, "body.ownerId", in.OwnerID)
	}
	return nil
}

// AddAction adds an action to a plan (AvM5: the caller needs R or A for it),
// optionally treating one of its risks. A closed plan takes none (Conflict).
func (s *Service) AddAction(ctx context.Context, number string, in ActionInput) (out AvailabilityAction, err error) {
	defer errs.Wrap(&err, "add an action to %s", number)
	if err := validateAction(&in); err != nil {
		return out, err
	}
	r, err := s.openPlan(ctx, number, ActAction, "plan an action of")
	if err != nil {
		return out, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockPlan(ctx, tx, r); err != nil {
			return err
		}
		if err := checkActionRefs(ctx, tx, r.ID, in); err != nil {
			return err
		}
		now := s.now().UnixMilli()
		var closed int64
		if in.State != ActionOpen {
			closed = now
		}
		var err error
		if id, err = insertAction(ctx, tx, r.ID, in, closed, now); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "availability.action.add", ObjectType: "record", ObjectID: r.Number,
			Changes: append([]audit.Change{{Field: "action", New: id}}, audit.Diff(actionAudited, map[string]any{}, actionFields(in))...)})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "availability.action_added", Subject: "record/" + r.Number,
			Data: map[string]any{"number": r.Number, "action": id, "title": in.Title, "ownerId": in.OwnerID, "state": string(in.State)}})
	})
	if err != nil {
		return out, err
	}
	return loadAction(ctx, s.db, r.ID, id)
}

// UpdateAction changes a plan's action (AvM5) at version; done or cancelled
// stamps when it closed, reopening clears it. A stale version is PreconditionFailed.
func (s *Service) UpdateAction(ctx context.Context, number string, id, version int64, in ActionInput) (out AvailabilityAction, err error) {
	defer errs.Wrap(&err, "update action %d of %s", id, number)
	if err := validateAction(&in); err != nil {
		return out, err
	}
	r, err := s.openPlan(ctx, number, ActAction, "plan an action of")
	if err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := lockPlan(ctx, tx, r); err != nil {
			return err
		}
		cur, err := loadAction(ctx, tx, r.ID, id)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return errs.E(errs.PreconditionFailed, "action %d changed since you read it (version %d, now %d)", id, version, cur.Version)
		}
		if err := checkActionRefs(ctx, tx, r.ID, in); err != nil {
			return err
		}
		changes := audit.Diff(actionAudited, actionFields(ActionInput{RiskID: cur.RiskID, Title: cur.Title, OwnerID: cur.OwnerID,
			DueAt: cur.DueAt, State: cur.State}), actionFields(in))
		if len(changes) == 0 {
			return nil
		}
		now := s.now().UnixMilli()
		closed := msOf(cur.ClosedAt)
		switch {
		case in.State == ActionOpen:
			closed = 0
		case cur.State == ActionOpen:
			closed = now
		}
		if _, err := updateAction(ctx, tx, id, version, in, closed, now); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "availability.action.update", ObjectType: "record", ObjectID: r.Number,
			Changes: append([]audit.Change{{Field: "action", Old: id, New: id}}, changes...)})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "availability.action_updated", Subject: "record/" + r.Number,
			Data: map[string]any{"number": r.Number, "action": id, "title": in.Title, "ownerId": in.OwnerID, "state": string(in.State)}})
	})
	if err != nil {
		return out, err
	}
	return loadAction(ctx, s.db, r.ID, id)
}
