package record

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// stepContext is a waiting step with its record, type and resolved transition, read before a decision.
type stepContext struct {
	st      Step
	rec     Record
	t       *Type
	tr      Transition
	process string
}

// loadStepContext reads a step the caller may see, with its record, type and transition.
func (s *Service) loadStepContext(ctx context.Context, id int64) (sc stepContext, err error) {
	if sc.st, err = loadStep(ctx, s.db, s.db, id, false); err != nil {
		return sc, err
	}
	if sc.rec, sc.t, err = s.read(ctx, sc.st.Record); err != nil {
		return sc, err
	}
	for _, tr := range sc.t.Transitions {
		if tr.Action == sc.st.Action && tr.To == sc.st.ToState && slices.Contains(tr.From, sc.st.FromState) {
			sc.tr, sc.process, err = s.resolve(sc.t, &sc.rec, tr)
			// The step keeps the activity it was requested for.
			sc.tr.Activity = sc.st.Activity
			return sc, err
		}
	}
	return sc, fmt.Errorf("step %d: %s no longer has the action %s from %s", id, sc.t.Name, sc.st.Action, sc.st.FromState)
}

// accountable tells whether p holds A for the step's activity in the record's
// scope; an administrator who does not is allowed through the override. Anyone
// else is refused, and the refusal audited. It returns the A holders too.
func (s *Service) accountable(ctx context.Context, p *auth.Principal, sc *stepContext, verb string) (override bool, err error) {
	hs, err := s.holders(ctx, sc.process, sc.st.Activity, framework.A, &sc.rec)
	if err != nil {
		return false, err
	}
	if slices.Contains(holderIDs(hs), p.UserID) {
		return false, nil
	}
	if p.Admin {
		return true, nil
	}
	var roles []string
	for _, h := range hs {
		for _, r := range strings.Split(h.Roles, ", ") {
			if r != "" && !slices.Contains(roles, r) {
				roles = append(roles, r)
			}
		}
	}
	who := "nobody holds A for it in this scope"
	if len(roles) > 0 {
		who = "A is held through " + strings.Join(roles, ", ")
	}
	refused := errs.E(errs.Forbidden, "you may not %s step %d on %s: only an accountable (A) holder of %s may, and %s",
		verb, sc.st.ID, sc.st.Record, sc.st.Activity, who)
	_ = s.trail.Append(ctx, s.db, audit.Entry{Action: "record.denied", ObjectType: "record.step", ObjectID: idStr(sc.st.ID),
		Changes: []audit.Change{{Field: "action", New: verb}, {Field: "activity", New: sc.st.Activity}, {Field: "reason", New: refused.Error()}}})
	return false, refused
}

// Approve approves a step that waits for approval and applies it. Only an A
// holder of the activity in the record's scope may, or an administrator
// through the override (audited as record.approval.approve.override).
func (s *Service) Approve(ctx context.Context, stepID int64, reason string) (res Result, err error) {
	defer errs.Wrap(&err, "approve step %d", stepID)
	return s.decide(ctx, stepID, reason, true)
}

// Reject refuses a step that waits for approval, with a reason; the record stays where it is.
func (s *Service) Reject(ctx context.Context, stepID int64, reason string) (res Result, err error) {
	defer errs.Wrap(&err, "reject step %d", stepID)
	if err := validateReason("body.reason", reason); err != nil {
		return res, err
	}
	return s.decide(ctx, stepID, reason, false)
}

func (s *Service) decide(ctx context.Context, stepID int64, reason string, approve bool) (res Result, err error) {
	ctx = raci.WithRequestCache(ctx)
	p, err := principal(ctx)
	if err != nil {
		return res, err
	}
	if utf8.RuneCountInString(reason) > 4000 || !utf8.ValidString(reason) {
		return res, errs.Field("body.reason", "at most 4000 characters of text", nil)
	}
	sc, err := s.loadStepContext(ctx, stepID)
	if err != nil {
		return res, err
	}
	if sc.st.State != PendingApproval {
		return res, errs.E(errs.Conflict, "step %d does not wait for approval: it is %s", stepID, sc.st.State)
	}
	verb := "reject"
	if approve {
		verb = "approve"
	}
	override, err := s.accountable(ctx, p, &sc, verb)
	if err != nil {
		return res, err
	}
	var informed []holder
	if approve {
		if informed, err = s.holders(ctx, sc.process, sc.st.Activity, framework.I, &sc.rec); err != nil {
			return res, err
		}
	}
	var moved bool
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadRecordByID(ctx, tx, s.db, sc.rec.ID, true)
		if err != nil {
			return err
		}
		st, err := loadStep(ctx, tx, s.db, stepID, true)
		if err != nil {
			return err
		}
		if st.State != PendingApproval {
			return errs.E(errs.Conflict, "step %d was decided concurrently: it is %s", stepID, st.State)
		}
		now := s.now()
		res.Record, res.Step = cur, &st
		if approve && cur.State != st.FromState {
			moved = true
			return s.cancelStep(ctx, tx, &cur, &st, p, now)
		}
		state, action, event := Rejected, "record.approval.reject", "record.rejected"
		if approve {
			state, action, event = Applied, "record.approval.approve", "record.approved"
		}
		if override {
			action += ".override"
		}
		if err := setStepState(ctx, tx, &st, state, p.UserID, reason, override, now); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record.step", ObjectID: idStr(st.ID), Changes: []audit.Change{
			{Field: "record", New: st.Record}, {Field: "activity", New: st.Activity}, {Field: "state", Old: string(PendingApproval), New: string(state)},
			{Field: "reason", New: reason}}})
		if err := s.events.Emit(ctx, tx, outbox.Event{Type: event, Subject: subject(&cur), Data: st}); err != nil {
			return err
		}
		if !approve {
			_, err := addJournal(ctx, tx, cur.ID, System, fmt.Sprintf("%s (%s) rejected: %s", sc.tr.Label, st.Activity, reason), p.UserID, p.Username, now)
			return err
		}
		res.Record, err = s.apply(ctx, tx, transition{t: sc.t, process: sc.process, rec: cur, tr: sc.tr, actor: p, performer: st.RequestedBy,
			override: st.PerformerOverride, informed: informed, step: &st})
		return err
	})
	if err != nil {
		return res, err
	}
	if moved {
		return res, errs.E(errs.Conflict, "%s moved on to %s since step %d was requested; the step is cancelled", res.Record.Number, res.Record.State, stepID)
	}
	if err := fillApprovers(ctx, s.db, []Step{*res.Step}); err != nil {
		return res, err
	}
	res.Outcome = outcomeOf(res.Step.State)
	return res, nil
}

// cancelStep cancels a waiting step whose record moved on.
func (s *Service) cancelStep(ctx context.Context, tx *db.Tx, r *Record, st *Step, p *auth.Principal, now int64) error {
	if err := setStepState(ctx, tx, st, Cancelled, 0, "the record moved on", false, now); err != nil {
		return err
	}
	if err := cancelConsultations(ctx, tx, st.ID, now); err != nil {
		return err
	}
	if _, err := addJournal(ctx, tx, r.ID, System, fmt.Sprintf("%s (%s) cancelled: the record is now %s.", st.Action, st.Activity, r.State),
		p.UserID, p.Username, now); err != nil {
		return err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "record.step.cancel", ObjectType: "record.step", ObjectID: idStr(st.ID),
		Changes: []audit.Change{{Field: "record", New: st.Record}, {Field: "state", New: string(Cancelled)}}})
	return s.events.Emit(ctx, tx, outbox.Event{Type: "record.step_cancelled", Subject: subject(r), Data: st})
}

// AnswerConsultation records the consulted user's answer. When it was the last
// open consultation of its step, the step moves on: to approval if it needs it,
// else the record moves. Only the consulted user may answer, or an
// administrator through the override (audited).
func (s *Service) AnswerConsultation(ctx context.Context, id int64, answer string) (res Result, err error) {
	defer errs.Wrap(&err, "answer consultation %d", id)
	if err := validateReason("body.answer", answer); err != nil {
		return res, err
	}
	return s.closeConsultation(ctx, id, answer, ConsultationAnswered)
}

// WaiveConsultation closes a consultation without an answer, with a reason.
// The step's performer or an A holder may waive, or an administrator through the override.
func (s *Service) WaiveConsultation(ctx context.Context, id int64, reason string) (res Result, err error) {
	defer errs.Wrap(&err, "waive consultation %d", id)
	if err := validateReason("body.reason", reason); err != nil {
		return res, err
	}
	return s.closeConsultation(ctx, id, reason, ConsultationWaived)
}

func (s *Service) closeConsultation(ctx context.Context, id int64, text string, state ConsultationState) (res Result, err error) {
	ctx = raci.WithRequestCache(ctx)
	p, err := principal(ctx)
	if err != nil {
		return res, err
	}
	c, err := loadConsultation(ctx, s.db, id)
	if err != nil {
		return res, err
	}
	if c.State != ConsultationOpen {
		return res, errs.E(errs.Conflict, "consultation %d is %s", id, c.State)
	}
	sc, err := s.loadStepContext(ctx, c.StepID)
	if err != nil {
		return res, err
	}
	override := false
	switch {
	case state == ConsultationAnswered && c.UserID == p.UserID:
	case state == ConsultationWaived && sc.st.RequestedBy == p.UserID:
	case state == ConsultationWaived:
		if override, err = s.accountable(ctx, p, &sc, "waive a consultation of"); err != nil {
			return res, err
		}
	case p.Admin:
		override = true
	default:
		refused := errs.E(errs.Forbidden, "consultation %d asks another user; only they may answer it", id)
		_ = s.trail.Append(ctx, s.db, audit.Entry{Action: "record.denied", ObjectType: "record.consultation", ObjectID: idStr(id),
			Changes: []audit.Change{{Field: "action", New: "answer"}, {Field: "reason", New: refused.Error()}}})
		return res, refused
	}
	// Resolve who the step involves next, in case this is its last open consultation.
	var pl stepPlan
	if sc.st.NeedsApproval {
		pl.approvers, err = s.holders(ctx, sc.process, sc.st.Activity, framework.A, &sc.rec)
	} else {
		pl.informed, err = s.holders(ctx, sc.process, sc.st.Activity, framework.I, &sc.rec)
	}
	if err != nil {
		return res, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadRecordByID(ctx, tx, s.db, sc.rec.ID, true)
		if err != nil {
			return err
		}
		st, err := loadStep(ctx, tx, s.db, sc.st.ID, true)
		if err != nil {
			return err
		}
		if st.State != Consulting {
			return errs.E(errs.Conflict, "step %d no longer waits for consultation: it is %s", st.ID, st.State)
		}
		now := s.now()
		if err := closeConsultationRow(ctx, tx, &c, state, text, p.UserID, now); err != nil {
			return err
		}
		action, event, kind, note := "record.consultation.answer", "record.consultation_answered", WorkNote,
			fmt.Sprintf("Consulted on %s (%s): %s", sc.tr.Label, st.Activity, text)
		if state == ConsultationWaived {
			action, event, kind, note = "record.consultation.waive", "record.consultation_waived", System,
				fmt.Sprintf("Consultation %d on %s (%s) waived: %s", c.ID, sc.tr.Label, st.Activity, text)
		}
		if override {
			action += ".override"
		}
		if _, err := addJournal(ctx, tx, cur.ID, kind, note, p.UserID, p.Username, now); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record.consultation", ObjectID: idStr(c.ID), Changes: []audit.Change{
			{Field: "record", New: c.Record}, {Field: "step", New: st.ID}, {Field: "state", Old: string(ConsultationOpen), New: string(state)},
			{Field: "text", New: text}}})
		if err := s.events.Emit(ctx, tx, outbox.Event{Type: event, Subject: subject(&cur), Data: c}); err != nil {
			return err
		}
		res.Record, res.Step = cur, &st
		open, err := countOpenConsultations(ctx, tx, st.ID)
		if err != nil || open > 0 {
			return err
		}
		if cur.State != st.FromState {
			return s.cancelStep(ctx, tx, &cur, &st, p, now)
		}
		if st.NeedsApproval {
			if err := setStepState(ctx, tx, &st, PendingApproval, 0, "", false, now); err != nil {
				return err
			}
			if _, err := addJournal(ctx, tx, cur.ID, System, fmt.Sprintf("%s (%s): consultation done; waiting for approval by %s.",
				sc.tr.Label, st.Activity, approverNames(pl.approvers)), p.UserID, p.Username, now); err != nil {
				return err
			}
			return s.awaitApproval(ctx, tx, &cur, &st, pl.approvers)
		}
		if err := setStepState(ctx, tx, &st, Applied, 0, "", false, now); err != nil {
			return err
		}
		res.Record, err = s.apply(ctx, tx, transition{t: sc.t, process: sc.process, rec: cur, tr: sc.tr, actor: p, performer: st.RequestedBy,
			override: st.PerformerOverride, informed: pl.informed, step: &st})
		return err
	})
	if err != nil {
		return res, err
	}
	if res.Consultations, err = stepConsultations(ctx, s.db, res.Step.ID); err != nil {
		return res, err
	}
	if err := fillApprovers(ctx, s.db, []Step{*res.Step}); err != nil {
		return res, err
	}
	res.Outcome = outcomeOf(res.Step.State)
	return res, nil
}

// Step returns a step with its approvers and consultations.
func (s *Service) Step(ctx context.Context, id int64) (st Step, cs []Consultation, err error) {
	defer errs.Wrap(&err, "step %d", id)
	sc, err := s.loadStepContext(ctx, id)
	if err != nil {
		return st, nil, err
	}
	steps := []Step{sc.st}
	if err := fillApprovers(ctx, s.db, steps); err != nil {
		return st, nil, err
	}
	cs, err = stepConsultations(ctx, s.db, id)
	return steps[0], cs, err
}

// StepFilter narrows a listing of approvals.
type StepFilter struct {
	// State is pending, approved, rejected, cancelled or consulting; empty means any.
	State string
	// Mine keeps the steps the caller was asked to approve.
	Mine bool
	// Record keeps one record's steps.
	Record string
}

// StepList describes how approvals are listed.
var StepList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":            {SQL: "s.id", Sortable: true, Kind: "int"},
		"requestedAt":   {SQL: "s.requested_at", Sortable: true, Kind: "int"},
		"state":         {SQL: "s.state", Kind: "text"},
		"needsApproval": {SQL: "s.needs_approval", Kind: "bool"},
		"record":        {SQL: "r.number", Kind: "text"},
	},
	Fields: []string{"id", "recordId", "record", "recordType", "action", "activity", "fromState", "toState", "state",
		"needsApproval", "comment", "requestedBy", "performerOverride", "requestedAt", "approvers", "decidedBy", "decidedAt",
		"reason", "decisionOverride"},
	DefaultSort: "-id",
	IDColumn:    "s.id",
}

var approvalStates = map[string]StepState{"pending": PendingApproval, "approved": Applied, "rejected": Rejected,
	"cancelled": Cancelled, "consulting": Consulting}

// Approvals lists the steps that need an accountable holder's approval.
func (s *Service) Approvals(ctx context.Context, f StepFilter, p listing.Params) (page listing.Page[Step], err error) {
	defer errs.Wrap(&err, "list approvals")
	pr, err := principal(ctx)
	if err != nil {
		return page, err
	}
	lf := []listing.Filter{{Field: "needsApproval", Value: true}}
	if f.State != "" {
		st, ok := approvalStates[f.State]
		if !ok {
			return page, errs.Field("query.state", "one of pending, approved, rejected, cancelled, consulting", f.State)
		}
		lf = append(lf, listing.Filter{Field: "state", Value: string(st)})
	}
	if f.Record != "" {
		lf = append(lf, listing.Filter{Field: "record", Value: NormalizeNumber(f.Record)})
	}
	q, err := StepList.Build(p, lf)
	if err != nil {
		return page, err
	}
	if f.Mine {
		extraWhere(q, `EXISTS (SELECT 1 FROM record_step_approvers a WHERE a.step_id = s.id AND a.user_id = ?)`, pr.UserID)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+stepCols+stepFrom+q.Where+q.Page, append(q.Args, q.PageArgs...)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	page.Items = []Step{}
	for rows.Next() {
		st, err := scanStep(rows)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, st)
	}
	if err := rows.Err(); err != nil {
		return page, err
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		last := page.Items[q.Limit-1]
		var vals []any
		for _, field := range q.SortValues() {
			switch field {
			case "id":
				vals = append(vals, last.ID)
			case "requestedAt":
				vals = append(vals, last.RequestedAt.UnixMilli())
			}
		}
		page.NextCursor = q.NextCursor(vals, last.ID)
	}
	page.Items = slices.DeleteFunc(page.Items, func(st Step) bool { return s.hidden(ctx, st.RecordType, st.RecordID) })
	return page, fillApprovers(ctx, s.db, page.Items)
}

// ConsultationFilter narrows a listing of consultations.
type ConsultationFilter struct {
	// State is open, answered, waived or cancelled; empty means any.
	State string
	// Mine keeps the caller's own consultations.
	Mine bool
	// Record keeps one record's consultations.
	Record string
}

// ConsultationList describes how consultations are listed.
var ConsultationList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "c.id", Sortable: true, Kind: "int"},
		"createdAt": {SQL: "c.created_at", Sortable: true, Kind: "int"},
		"state":     {SQL: "c.state", Kind: "text"},
		"userId":    {SQL: "c.user_id", Kind: "int"},
		"record":    {SQL: "r.number", Kind: "text"},
	},
	Fields: []string{"id", "stepId", "record", "recordType", "action", "activity", "userId", "roles", "state", "answer",
		"decidedBy", "decidedAt", "createdAt"},
	DefaultSort: "-id",
	IDColumn:    "c.id",
}

// Consultations lists consultation tasks.
func (s *Service) Consultations(ctx context.Context, f ConsultationFilter, p listing.Params) (page listing.Page[Consultation], err error) {
	defer errs.Wrap(&err, "list consultations")
	pr, err := principal(ctx)
	if err != nil {
		return page, err
	}
	var lf []listing.Filter
	if f.State != "" {
		if !slices.Contains([]ConsultationState{ConsultationOpen, ConsultationAnswered, ConsultationWaived, ConsultationCancelled}, ConsultationState(f.State)) {
			return page, errs.Field("query.state", "one of open, answered, waived, cancelled", f.State)
		}
		lf = append(lf, listing.Filter{Field: "state", Value: f.State})
	}
	if f.Mine {
		lf = append(lf, listing.Filter{Field: "userId", Value: pr.UserID})
	}
	if f.Record != "" {
		lf = append(lf, listing.Filter{Field: "record", Value: NormalizeNumber(f.Record)})
	}
	q, err := ConsultationList.Build(p, lf)
	if err != nil {
		return page, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+consultCols+consultFrom+q.Where+q.Page, append(q.Args, q.PageArgs...)...)
	if err != nil {
		return page, err
	}
	if page.Items, err = scanConsultations(rows); err != nil {
		return page, err
	}
	page.Items = slices.DeleteFunc(page.Items, func(c Consultation) bool { return s.hidden(ctx, c.RecordType, c.RecordID) })
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		last := page.Items[q.Limit-1]
		var vals []any
		for _, field := range q.SortValues() {
			switch field {
			case "id":
				vals = append(vals, last.ID)
			case "createdAt":
				vals = append(vals, last.CreatedAt.UnixMilli())
			}
		}
		page.NextCursor = q.NextCursor(vals, last.ID)
	}
	return page, nil
}
