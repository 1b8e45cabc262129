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
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// Outcome says what became of a workflow step.
type Outcome string

// The outcomes.
const (
	// OutcomeApplied: the record moved.
	OutcomeApplied Outcome = "applied"
	// OutcomeAwaitingConsultation: the step waits for the consulted (C) holders.
	OutcomeAwaitingConsultation Outcome = "awaiting_consultation"
	// OutcomeAwaitingApproval: the step waits for an accountable (A) holder.
	OutcomeAwaitingApproval Outcome = "awaiting_approval"
	// OutcomeRejected: an accountable holder refused the step.
	OutcomeRejected Outcome = "rejected"
	// OutcomeCancelled: the record moved on before the step completed.
	OutcomeCancelled Outcome = "cancelled"
)

func outcomeOf(st StepState) Outcome {
	switch st {
	case Consulting:
		return OutcomeAwaitingConsultation
	case PendingApproval:
		return OutcomeAwaitingApproval
	case Rejected:
		return OutcomeRejected
	case Cancelled:
		return OutcomeCancelled
	}
	return OutcomeApplied
}

// PerformInput is what a caller sends with a workflow action.
type PerformInput struct {
	// Version is the record version the caller read (the If-Match ETag); 0 skips the check (areas only).
	Version int64
	// Comment is kept as a work note with the step.
	Comment string
}

// Result is what a workflow call did: the record as it is now and, when the
// step waits or waited, the step.
type Result struct {
	Outcome Outcome `json:"outcome" enum:"applied,awaiting_consultation,awaiting_approval,rejected,cancelled"`
	Record  Record  `json:"record"`
	Step    *Step   `json:"step,omitempty"`
	// Consultations are the step's consultation tasks, when it has any.
	Consultations []Consultation `json:"consultations,omitempty"`
	// Decision is the guard's verdict on the caller, for a Perform.
	Decision *raci.Decision `json:"decision,omitempty"`
}

// Action is a workflow step available from a record's current state, with the
// guard's verdict on the caller.
type Action struct {
	Action   string `json:"action"`
	Label    string `json:"label"`
	Activity string `json:"activity"`
	To       string `json:"to"`
	ToLabel  string `json:"toLabel"`
	// Approval and Consultation say what the step waits for.
	Approval     bool          `json:"approval"`
	Consultation bool          `json:"consultation"`
	Decision     raci.Decision `json:"decision"`
	// WaitingStep is the id of this action's step that already waits, or 0.
	WaitingStep int64 `json:"waitingStep,omitempty"`
}

// gate combines what a (resolved) transition declares with the organisation's settings.
func (s *Service) gate(ctx context.Context, process string, tr Transition) (Gate, error) {
	g := Gate{Approval: tr.Approval, Consultation: tr.Consultation}
	if s.gates == nil {
		return g, nil
	}
	o, err := s.gates(ctx, process, tr.Activity)
	if err != nil {
		return g, fmt.Errorf("activity settings of %s: %w", tr.Activity, err)
	}
	g.Approval = g.Approval || o.Approval
	g.Consultation = g.Consultation || o.Consultation
	return g, nil
}

// Actions lists the steps allowed from the record's state, each with its
// activity (a control resolved for the record's process, such as "approve
// performs IM1") and the guard's decision for the caller. It reads the record and its
// waiting steps once and asks the guard once per action; with the guard's
// request cache that costs no further queries.
func (s *Service) Actions(ctx context.Context, number string) (out []Action, err error) {
	defer errs.Wrap(&err, "actions of %s", number)
	ctx = raci.WithRequestCache(ctx)
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	r, t, err := s.read(ctx, number)
	if err != nil {
		return nil, err
	}
	waiting, err := openSteps(ctx, s.db, r.ID)
	if err != nil {
		return nil, err
	}
	out = []Action{}
	for _, tr := range t.Allowed(r.State) {
		if tr.System {
			continue
		}
		tr, process, err := s.resolve(t, &r, tr)
		if err != nil {
			return nil, err
		}
		d, err := s.guard.Decide(ctx, p, process, tr.Activity, scope(&r))
		if err != nil {
			return nil, fmt.Errorf("decide on %s: %w", tr.Activity, err)
		}
		g, err := s.gate(ctx, process, tr)
		if err != nil {
			return nil, err
		}
		if asRequester(tr, &r, p, d) {
			d, g = requesterDecision(d, r.Number, tr), Gate{}
		}
		to, _ := t.State(tr.To)
		a := Action{Action: tr.Action, Label: tr.Label, Activity: tr.Activity, To: tr.To, ToLabel: to.Label,
			Approval: g.Approval, Consultation: g.Consultation, Decision: d}
		for _, st := range waiting {
			if st.Action == tr.Action {
				a.WaitingStep = st.ID
			}
		}
		out = append(out, a)
	}
	return out, nil
}

// asRequester reports whether p performs tr on r as its requester: the step
// lets the requester perform it, p is the requester, and the guard gives p no
// R or A of its own (an administrator's override does not count).
func asRequester(tr Transition, r *Record, p *auth.Principal, d raci.Decision) bool {
	return tr.Requester && r.RequesterID != 0 && r.RequesterID == p.UserID && (!d.Allowed || d.Override)
}

// requesterDecision is the guard's decision rewritten for a requester's step.
func requesterDecision(d raci.Decision, number string, tr Transition) raci.Decision {
	d.Allowed, d.Override, d.Letter, d.Role, d.Via = true, false, "", nil, "as the requester"
	d.Explanation = fmt.Sprintf("you may %s %s as its requester", strings.ToLower(tr.Label), number)
	return d
}

// holder is one user holding a role for an activity, with all the roles through which they hold it.
type holder struct {
	UserID   int64
	Username string
	Roles    string
}

// holders asks the guard who holds letter for an activity of process in r's scope, one entry per user.
func (s *Service) holders(ctx context.Context, process, activity string, letter framework.Cell, r *Record) ([]holder, error) {
	hs, err := s.guard.Holders(ctx, process, activity, letter, scope(r))
	if err != nil {
		return nil, fmt.Errorf("holders of %s for %s: %w", letter, activity, err)
	}
	var out []holder
	idx := map[int64]int{}
	for _, h := range hs {
		if i, ok := idx[h.UserID]; ok {
			if !strings.Contains(out[i].Roles, h.Role) {
				out[i].Roles += ", " + h.Role
			}
			continue
		}
		idx[h.UserID] = len(out)
		out = append(out, holder{UserID: h.UserID, Username: h.Username, Roles: h.Role})
	}
	return out, nil
}

func holderIDs(hs []holder) []int64 {
	out := make([]int64, len(hs))
	for i, h := range hs {
		out[i] = h.UserID
	}
	return out
}

// stepPlan is who a step involves, resolved before its transaction opens.
type stepPlan struct {
	needsApproval bool
	approvers     []holder
	consulted     []holder
	informed      []holder
}

func (p stepPlan) waits() bool { return p.needsApproval || len(p.consulted) > 0 }

// plan resolves a step's approvers (A), consulted (C) and informed (I). A
// performer who holds A approves by performing; the performer is not consulted.
func (s *Service) plan(ctx context.Context, p *auth.Principal, process string, r *Record, tr Transition, g Gate) (stepPlan, error) {
	var pl stepPlan
	var err error
	if g.Approval {
		if pl.approvers, err = s.holders(ctx, process, tr.Activity, framework.A, r); err != nil {
			return pl, err
		}
		pl.needsApproval = !slices.Contains(holderIDs(pl.approvers), p.UserID)
	}
	if g.Consultation {
		cs, err := s.holders(ctx, process, tr.Activity, framework.C, r)
		if err != nil {
			return pl, err
		}
		for _, c := range cs {
			if c.UserID != p.UserID {
				pl.consulted = append(pl.consulted, c)
			}
		}
	}
	if !pl.waits() {
		if pl.informed, err = s.holders(ctx, process, tr.Activity, framework.I, r); err != nil {
			return pl, err
		}
	}
	return pl, nil
}

// Perform moves a record by an action. The guard must allow the caller (R or A
// for the activity, in the record's team and service scope; an administrator's
// override is allowed and audited as such). When the activity asks for
// consultation, the C holders get consultation tasks first; when it asks for
// approval, the step waits for an A holder. Otherwise, or once those are done,
// the record moves, and the I holders are informed through the outbox.
func (s *Service) Perform(ctx context.Context, number, action string, in PerformInput) (res Result, err error) {
	defer errs.Wrap(&err, "%s %s", action, number)
	ctx = raci.WithRequestCache(ctx)
	p, err := principal(ctx)
	if err != nil {
		return res, err
	}
	r, t, err := s.read(ctx, number)
	if err != nil {
		return res, err
	}
	if err := checkVersion(&r, in.Version); err != nil {
		return res, err
	}
	tr, err := t.Next(r.State, action)
	if err != nil {
		return res, err
	}
	if tr.System {
		return res, errs.E(errs.Invalid, "%s on a %s is applied by Steward as part of another step; it cannot be performed on its own", action, t.Name)
	}
	tr, process, err := s.resolve(t, &r, tr)
	if err != nil {
		return res, err
	}
	if utf8.RuneCountInString(in.Comment) > 32000 || !utf8.ValidString(in.Comment) {
		return res, errs.Field("body.comment", "at most 32000 characters of text", nil)
	}
	var d raci.Decision
	var g Gate
	if tr.Requester && r.RequesterID == p.UserID {
		// The requester's own step: allowed unless the guard allows more (R or A).
		if d, err = s.guard.Decide(ctx, p, process, tr.Activity, scope(&r)); err != nil {
			return res, fmt.Errorf("decide on %s: %w", tr.Activity, err)
		}
	} else if d, err = s.authorize(ctx, p, process, &r, tr.Activity, action); err != nil {
		return res, err
	}
	byRequester := asRequester(tr, &r, p, d)
	if byRequester {
		d = requesterDecision(d, r.Number, tr)
	} else if g, err = s.gate(ctx, process, tr); err != nil {
		return res, err
	}
	res.Decision = &d
	pl, err := s.plan(ctx, p, process, &r, tr, g)
	if err != nil {
		return res, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadRecord(ctx, tx, s.db, r.Number, true)
		if err != nil {
			return err
		}
		if cur.Version != r.Version {
			return errs.E(errs.PreconditionFailed, "record %s changed concurrently; read it again", r.Number)
		}
		now := s.now()
		if strings.TrimSpace(in.Comment) != "" {
			// A requester's step (one they take without a role) keeps its words as a
			// comment they read back; anyone else's are a work note.
			kind := WorkNote
			if byRequester {
				kind = Comment
			}
			if _, err := addJournal(ctx, tx, cur.ID, kind, in.Comment, p.UserID, p.Username, now); err != nil {
				return err
			}
		}
		if err := s.check(ctx, tx, t, cur, tr); err != nil {
			return err
		}
		if !pl.waits() {
			res.Outcome = OutcomeApplied
			res.Record, err = s.apply(ctx, tx, transition{t: t, process: process, rec: cur, tr: tr, actor: p, performer: p.UserID,
				override: d.Override, via: d.Explanation, informed: pl.informed, checked: true})
			return err
		}
		res.Record = cur
		res.Step, res.Consultations, err = s.request(ctx, tx, p, t, &cur, tr, d, pl, in.Comment, now)
		if err == nil {
			res.Outcome = outcomeOf(res.Step.State)
		}
		return err
	})
	return res, err
}

// request stores a waiting step with its consultation tasks or its approvers.
func (s *Service) request(ctx context.Context, tx *db.Tx, p *auth.Principal, t *Type, r *Record, tr Transition,
	d raci.Decision, pl stepPlan, comment string, now int64) (*Step, []Consultation, error) {
	st := &Step{RecordID: r.ID, Record: r.Number, RecordType: r.Type, Action: tr.Action, Activity: tr.Activity,
		FromState: r.State, ToState: tr.To, State: PendingApproval, NeedsApproval: pl.needsApproval, Comment: comment,
		RequestedBy: p.UserID, PerformerOverride: d.Override, Approvers: []int64{}}
	if len(pl.consulted) > 0 {
		st.State = Consulting
	}
	if err := insertStep(ctx, tx, st, now); err != nil {
		return nil, nil, err
	}
	var cs []Consultation
	var journal string
	if st.State == Consulting {
		names := make([]string, len(pl.consulted))
		for i, h := range pl.consulted {
			c := Consultation{StepID: st.ID, Record: r.Number, RecordType: r.Type, Action: tr.Action, Activity: tr.Activity,
				UserID: h.UserID, Roles: h.Roles}
			if err := insertConsultation(ctx, tx, &c, now); err != nil {
				return nil, nil, err
			}
			cs = append(cs, c)
			names[i] = h.Username
		}
		journal = fmt.Sprintf("%s (%s) requested; waiting for %s to be consulted.", tr.Label, tr.Activity, strings.Join(names, ", "))
		if err := s.events.Emit(ctx, tx, outbox.Event{Type: "record.consultation_requested", Subject: subject(r),
			Data: map[string]any{"step": st, "consultations": cs}}); err != nil {
			return nil, nil, err
		}
	} else {
		if err := s.awaitApproval(ctx, tx, r, st, pl.approvers); err != nil {
			return nil, nil, err
		}
		journal = fmt.Sprintf("%s (%s) requested; waiting for approval by %s.", tr.Label, tr.Activity, approverNames(pl.approvers))
	}
	if _, err := addJournal(ctx, tx, r.ID, System, journal, p.UserID, p.Username, now); err != nil {
		return nil, nil, err
	}
	action := "record.step.request"
	if d.Override {
		action = "record.step.request.override"
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record", ObjectID: r.Number, Changes: []audit.Change{
		{Field: "step", New: st.ID}, {Field: "action", New: tr.Action}, {Field: "activity", New: tr.Activity},
		{Field: "state", Old: r.State, New: tr.To}, {Field: "waitsFor", New: string(st.State)}}})
	return st, cs, nil
}

func approverNames(hs []holder) string {
	if len(hs) == 0 {
		return "an accountable (A) holder (nobody holds A in this scope; an administrator must decide)"
	}
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.Username
	}
	return strings.Join(names, ", ")
}

// awaitApproval records the approvers of a step that now waits for approval.
func (s *Service) awaitApproval(ctx context.Context, tx *db.Tx, r *Record, st *Step, approvers []holder) error {
	if err := addApprovers(ctx, tx, st, holderIDs(approvers)); err != nil {
		return err
	}
	return s.events.Emit(ctx, tx, outbox.Event{Type: "record.approval_requested", Subject: subject(r), Data: st})
}

// transition is one application of a (resolved) transition to a locked record.
type transition struct {
	t       *Type
	process string
	rec     Record
	tr      Transition
	// actor is who applies it now; performer is who asked for it (the same, unless it waited).
	actor     *auth.Principal
	performer int64
	override  bool
	via       string
	informed  []holder
	step      *Step
	// checked is true when the type's Check already passed in this transaction.
	checked bool
}

// check asks the type's Check hook, if any, whether tr may move r.
func (s *Service) check(ctx context.Context, tx *db.Tx, t *Type, r Record, tr Transition) error {
	if t.Check == nil {
		return nil
	}
	return t.Check(ctx, tx, r, tr)
}

// apply moves a locked record, cancels the steps that waited from its old
// state, journals, audits, emits record.transitioned and raci.informed, and
// runs the type's AfterApply.
func (s *Service) apply(ctx context.Context, tx *db.Tx, a transition) (Record, error) {
	if !a.checked {
		if err := s.check(ctx, tx, a.t, a.rec, a.tr); err != nil {
			return a.rec, err
		}
	}
	now := s.now()
	n := a.rec
	to, _ := a.t.State(a.tr.To)
	from, _ := a.t.State(a.rec.State)
	n.State, n.Closed = to.Name, to.closes()
	out, err := saveRecord(ctx, tx, n, now)
	if err != nil {
		return out, err
	}
	var stepID int64
	if a.step != nil {
		stepID = a.step.ID
	}
	cancelled, err := cancelOpenSteps(ctx, tx, out.ID, stepID, now)
	if err != nil {
		return out, err
	}
	text := fmt.Sprintf("%s (%s): %s → %s.", a.tr.Label, a.tr.Activity, from.Label, to.Label)
	if len(cancelled) > 0 {
		text += fmt.Sprintf(" Cancelled %d waiting step(s).", len(cancelled))
	}
	if _, err := addJournal(ctx, tx, out.ID, System, text, a.actor.UserID, a.actor.Username, now); err != nil {
		return out, err
	}
	action := "record.transition"
	if a.override {
		action = "record.transition.override"
	}
	changes := []audit.Change{{Field: "state", Old: a.rec.State, New: out.State}, {Field: "action", New: a.tr.Action},
		{Field: "activity", New: a.tr.Activity}, {Field: "performedBy", New: a.performer}}
	if a.via != "" {
		changes = append(changes, audit.Change{Field: "decision", New: a.via})
	}
	if stepID != 0 {
		changes = append(changes, audit.Change{Field: "step", New: stepID})
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record", ObjectID: out.Number, Changes: changes})
	if err := s.events.Emit(ctx, tx, outbox.Event{Type: "record.transitioned", Subject: subject(&out), Data: map[string]any{
		"number": out.Number, "type": out.Type, "action": a.tr.Action, "activity": a.tr.Activity, "process": a.process,
		"from": a.rec.State, "to": out.State, "performedBy": a.performer, "appliedBy": a.actor.UserID, "override": a.override,
		"step": stepID, "cancelledSteps": cancelled, "version": out.Version}}); err != nil {
		return out, err
	}
	if len(a.informed) > 0 {
		users := make([]map[string]any, len(a.informed))
		for i, h := range a.informed {
			users[i] = map[string]any{"userId": h.UserID, "username": h.Username, "roles": h.Roles}
		}
		if err := s.events.Emit(ctx, tx, outbox.Event{Type: "raci.informed", Subject: subject(&out), Data: map[string]any{
			"process": a.process, "activity": a.tr.Activity, "record": out.Number, "type": out.Type, "action": a.tr.Action,
			"state": out.State, "users": users}}); err != nil {
			return out, err
		}
	}
	if a.t.AfterApply == nil {
		return out, nil
	}
	return out, a.t.AfterApply(ctx, tx, AppliedStep{Record: out, From: a.rec.State, Transition: a.tr, Process: a.process,
		Actor: a.actor, Performer: a.performer, Step: stepID})
}
