// Package record is the work-record kernel every process record stands on:
// incidents, RFCs, DRP tests, access requests. It numbers records per type
// (INC0000001), moves them through the states and transitions each area
// declares in Go, where every transition performs a DESMF or TAXUD activity
// and passes the RACI guard (R or A may perform it, A approves it where the
// process asks, C is consulted first, I is informed afterwards through the
// outbox), and keeps their assignment, journal, attachments, watchers, typed
// links and full-text index.
//
// The rules in this file and rules.go are pure code; store*.go holds the SQL,
// service.go, workflow.go and the other use-case files one transaction each.
package record

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// DefaultMarking is the classification marking of a record that names none.
const DefaultMarking = "UNCLASSIFIED"

// NumberDigits is how many digits follow the prefix in a record number.
const NumberDigits = 7

// State is one state a record of a type can be in.
type State struct {
	// Name is the stored, stable name, such as "in_progress".
	Name string `json:"name"`
	// Label is the name people read, such as "In progress".
	Label string `json:"label"`
	// Terminal states end the record's life: nothing leaves them.
	Terminal bool `json:"terminal,omitempty"`
	// Closed states close the record (Record.Closed) without ending its life:
	// the type may still declare a step out of one, such as reopening an
	// incident within a grace period (which the type's Check enforces).
	Closed bool `json:"closed,omitempty"`
}

// closes reports whether a record in the state counts as closed.
func (s State) closes() bool { return s.Terminal || s.Closed }

// Transition is a workflow step: an action that moves a record from one of
// From to To by performing a DESMF or TAXUD activity.
type Transition struct {
	// Action is the verb callers name, such as "resolve".
	Action string `json:"action"`
	// From lists the states the action is allowed from.
	From []string `json:"from"`
	// To is the state the action leads to.
	To string `json:"to"`
	// Activity is the activity the step performs, such as "IM5"; the RACI guard decides on it.
	Activity string `json:"activity,omitempty"`
	// Control, given instead of Activity, names the common process control the
	// step performs (establish, monitor or evaluate, DESMF §6): the activity is
	// that control activity of the record's process, resolved through the
	// reference model each time the step is listed or performed.
	Control framework.ControlKind `json:"control,omitempty" enum:"establish,monitor,evaluate"`
	// System steps are applied only by their area, as the follow-up of another
	// step (Service.FollowUp); callers cannot perform them and Actions does not list them.
	System bool `json:"system,omitempty"`
	// Requester lets the record's requester (an incident's caller) perform the
	// step without holding R or A for its activity: confirming or rejecting a
	// resolution, say. A requester's step neither waits for approval nor for
	// consultation; the I holders are informed as for any step.
	Requester bool `json:"requester,omitempty"`
	// Label is the button text, such as "Resolve".
	Label string `json:"label"`
	// Approval makes the step always wait for an accountable (A) holder's
	// approval; the organisation's activity settings may ask for it too.
	Approval bool `json:"approval,omitempty"`
	// Consultation makes the step always wait for the consulted (C) holders;
	// the organisation's activity settings may ask for it too.
	Consultation bool `json:"consultation,omitempty"`
}

// Visibility decides whether p may see r. It is the hook for record-level
// visibility (security incidents and the like); a refusal reads as "not found".
type Visibility func(ctx context.Context, p *auth.Principal, r *Record) bool

// Type is a kind of record an area registers: its number prefix, its process,
// its states and its transitions.
type Type struct {
	// Name is the stable type name, such as "incident".
	Name string `json:"name"`
	// Label is the name people read, such as "Incident".
	Label string `json:"label"`
	// Prefix is the default number prefix, such as "INC"; an administrator may change it.
	Prefix string `json:"prefix"`
	// Process is the DESMF or TAXUD process whose RACI governs the type, such as "IM".
	// It is empty when ProcessPerRecord is set.
	Process string `json:"process,omitempty"`
	// ProcessPerRecord makes every record name its own process (NewRecord.Process,
	// fixed at creation), whose RACI governs it: the process controls of §6 are
	// records of any process. Such a type names controls, not activity codes.
	ProcessPerRecord bool `json:"processPerRecord,omitempty"`
	// Initial is the state a new record starts in.
	Initial string `json:"initial"`
	// States lists every state.
	States []State `json:"states"`
	// Transitions lists every workflow step.
	Transitions []Transition `json:"transitions"`
	// AssignActivity, when set, is the activity whose R or A holders may assign
	// records of the type; otherwise any signed-in user may.
	AssignActivity string `json:"assignActivity,omitempty"`
	// UpdateActivity, when set, is the activity whose R or A holders may change
	// a record's title, description, priority or marking; otherwise any signed-in user may.
	UpdateActivity string `json:"updateActivity,omitempty"`
	// CreateActivity, when set, is the activity whose R or A holders may create
	// records of the type; otherwise the area decides who may.
	CreateActivity string `json:"createActivity,omitempty"`
	// CreateControl, AssignControl and UpdateControl name a common control
	// instead of CreateActivity, AssignActivity and UpdateActivity, resolved per
	// record like Transition.Control.
	CreateControl framework.ControlKind `json:"createControl,omitempty" enum:"establish,monitor,evaluate"`
	AssignControl framework.ControlKind `json:"assignControl,omitempty" enum:"establish,monitor,evaluate"`
	UpdateControl framework.ControlKind `json:"updateControl,omitempty" enum:"establish,monitor,evaluate"`
	// Visible, when set, decides who may see a record; nil lets every signed-in user see it.
	Visible Visibility `json:"-"`
	// VisibleWhere, given with Visible, says the same in SQL: a condition on
	// "records r" (that table and alias only) that keeps the records of the
	// type p may see, with its arguments, or "" when p sees them all. The
	// kernel's lists and searches add it, so that their pages and counts
	// never hold a hidden record and need no query per record.
	VisibleWhere func(ctx context.Context, p *auth.Principal) (cond string, args []any, err error) `json:"-"`
	// Editable, when set, may refuse any change to a record's fields (Update,
	// Amend) in its current state: an approved document changes only through a
	// new version, say. It is asked inside the transaction, on the locked record.
	Editable func(r Record) error `json:"-"`
	// Check, when set, may refuse a step: it is asked inside the transaction
	// before a step is requested and again before it applies (after an approval
	// or a consultation too). Refuse with a Conflict that says what is missing.
	Check func(ctx context.Context, q db.Queryer, r Record, tr Transition) error `json:"-"`
	// AfterApply, when set, runs inside the transaction that applied a step to
	// a record of the type, after the record moved; an error undoes the step.
	AfterApply func(ctx context.Context, tx *db.Tx, a AppliedStep) error `json:"-"`
}

// AppliedStep is a step that has just moved a record, as Type.AfterApply sees it.
type AppliedStep struct {
	// Record is the record as it is now.
	Record Record
	// From is the state it left.
	From string
	// Transition is the step, with its Activity resolved.
	Transition Transition
	// Process is the process whose activity the step performed.
	Process string
	// Actor applied the step now: the performer, or the approver or consulted user whose answer completed it.
	Actor *auth.Principal
	// Performer asked for the step.
	Performer int64
	// Step is the waiting step that completed, or 0 when the step applied at once.
	Step int64
}

// controlKinds are the control kinds a type may name.
var controlKinds = []framework.ControlKind{framework.ControlEstablish, framework.ControlMonitor, framework.ControlEvaluate}

var (
	namePattern   = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	prefixPattern = regexp.MustCompile(`^[A-Z]{2,8}$`)
)

// ValidatePrefix checks a number prefix: two to eight capital letters, so that
// a number always reads as its prefix followed by digits.
func ValidatePrefix(field, prefix string) error {
	if !prefixPattern.MatchString(prefix) {
		return errs.Field(field, "a prefix is 2 to 8 capital letters A-Z", prefix)
	}
	return nil
}

// FormatNumber writes a record number: the prefix and the counter in seven digits or more.
func FormatNumber(prefix string, n int64) string {
	return fmt.Sprintf("%s%0*d", prefix, NumberDigits, n)
}

// NormalizeNumber upper-cases and trims a record number given by a caller.
func NormalizeNumber(number string) string { return strings.ToUpper(strings.TrimSpace(number)) }

// Validate checks that a type is complete and consistent: names, prefix, an
// initial state, transitions that start and end in known states, one target per
// action and state, and no way out of a terminal state.
func (t *Type) Validate() error {
	var fe []errs.FieldError
	add := func(loc, msg string, v any) { fe = append(fe, errs.FieldError{Location: loc, Message: msg, Value: v}) }
	if !namePattern.MatchString(t.Name) {
		add("type.name", "a type name is 1 to 40 lower-case letters, digits or '_', starting with a letter", t.Name)
	}
	if !prefixPattern.MatchString(t.Prefix) {
		add("type.prefix", "a prefix is 2 to 8 capital letters A-Z", t.Prefix)
	}
	switch {
	case t.ProcessPerRecord && t.Process != "":
		add("type.process", "a type whose records name their process has no process of its own", t.Process)
	case !t.ProcessPerRecord && strings.TrimSpace(t.Process) == "":
		add("type.process", "name the process whose RACI governs the type", nil)
	}
	for _, ref := range []struct {
		loc, code string
		control   framework.ControlKind
	}{{"type.createActivity", t.CreateActivity, t.CreateControl}, {"type.assignActivity", t.AssignActivity, t.AssignControl},
		{"type.updateActivity", t.UpdateActivity, t.UpdateControl}} {
		if msg := checkRef(t, ref.code, ref.control, true); msg != "" {
			add(ref.loc, msg, ref.code+string(ref.control))
		}
	}
	states := map[string]State{}
	for i, s := range t.States {
		if !namePattern.MatchString(s.Name) {
			add(fmt.Sprintf("type.states[%d].name", i), "a state name is 1 to 40 lower-case letters, digits or '_'", s.Name)
		}
		if s.Terminal && s.Closed {
			add(fmt.Sprintf("type.states[%d].closed", i), "a terminal state is closed already; mark it terminal or closed, not both", s.Name)
		}
		if _, dup := states[s.Name]; dup {
			add(fmt.Sprintf("type.states[%d].name", i), "state declared twice", s.Name)
		}
		states[s.Name] = s
	}
	if s, ok := states[t.Initial]; !ok {
		add("type.initial", "the initial state is not one of the type's states", t.Initial)
	} else if s.closes() {
		add("type.initial", "the initial state cannot be terminal or closed", t.Initial)
	}
	seen := map[[2]string]bool{}
	for i, tr := range t.Transitions {
		loc := fmt.Sprintf("type.transitions[%d]", i)
		if !namePattern.MatchString(tr.Action) {
			add(loc+".action", "an action is 1 to 40 lower-case letters, digits or '_'", tr.Action)
		}
		if msg := checkRef(t, tr.Activity, tr.Control, false); msg != "" {
			add(loc+".activity", msg, tr.Action)
		}
		if _, ok := states[tr.To]; !ok {
			add(loc+".to", "unknown state", tr.To)
		}
		if len(tr.From) == 0 {
			add(loc+".from", "a transition starts from at least one state", tr.Action)
		}
		for _, f := range tr.From {
			s, ok := states[f]
			switch {
			case !ok:
				add(loc+".from", "unknown state", f)
			case s.Terminal:
				add(loc+".from", "nothing leaves a terminal state", f)
			}
			if seen[[2]string{tr.Action, f}] {
				add(loc+".from", "the action is declared twice from this state", tr.Action+" from "+f)
			}
			seen[[2]string{tr.Action, f}] = true
		}
	}
	if len(fe) > 0 {
		return &errs.Error{Kind: errs.Invalid, Message: "record type " + t.Name + " is not valid", Fields: fe}
	}
	return nil
}

// checkRef checks one activity reference of a type: a code or a control, not
// both; a control of a known kind; no code on a type whose records name their
// process. It returns what is wrong, or "".
func checkRef(t *Type, code string, control framework.ControlKind, optional bool) string {
	code = strings.TrimSpace(code)
	switch {
	case code != "" && control != "":
		return "name an activity or a control, not both"
	case control != "" && !slices.Contains(controlKinds, control):
		return "a control is establish, monitor or evaluate"
	case code != "" && t.ProcessPerRecord:
		return "a type whose records name their process names controls, not activity codes"
	case code == "" && control == "" && !optional:
		return "every transition performs an activity"
	}
	return ""
}

// Controls lists the common controls the type's transitions and settings name, each once.
func (t *Type) Controls() []framework.ControlKind {
	var out []framework.ControlKind
	for _, tr := range t.Transitions {
		if tr.Control != "" {
			out = append(out, tr.Control)
		}
	}
	for _, c := range []framework.ControlKind{t.CreateControl, t.AssignControl, t.UpdateControl} {
		if c != "" {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Activities lists the activity codes the type's transitions and settings perform, each once.
// Controls resolved per record are not among them (see Controls).
func (t *Type) Activities() []string {
	var out []string
	for _, tr := range t.Transitions {
		if tr.Activity != "" {
			out = append(out, tr.Activity)
		}
	}
	for _, a := range []string{t.CreateActivity, t.AssignActivity, t.UpdateActivity} {
		if a != "" {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// State returns the named state.
func (t *Type) State(name string) (State, bool) {
	for _, s := range t.States {
		if s.Name == name {
			return s, true
		}
	}
	return State{}, false
}

// Allowed lists the transitions allowed from state, in declaration order.
func (t *Type) Allowed(state string) []Transition {
	var out []Transition
	for _, tr := range t.Transitions {
		if slices.Contains(tr.From, state) {
			out = append(out, tr)
		}
	}
	return out
}

// Next returns the transition action performs from state. An action the type
// does not know is Invalid; one not allowed from state is a Conflict; both name
// the actions that are allowed.
func (t *Type) Next(state, action string) (Transition, error) {
	allowed := t.Allowed(state)
	for _, tr := range allowed {
		if tr.Action == action {
			return tr, nil
		}
	}
	names := make([]string, len(allowed))
	for i, tr := range allowed {
		names[i] = tr.Action
	}
	list := "none"
	if len(names) > 0 {
		list = strings.Join(names, ", ")
	}
	known := slices.ContainsFunc(t.Transitions, func(tr Transition) bool { return tr.Action == action })
	if !known {
		return Transition{}, errs.E(errs.Invalid, "a %s has no action %q; allowed from %s: %s", t.Name, action, state, list)
	}
	return Transition{}, errs.E(errs.Conflict, "cannot %s a %s that is %s; allowed from %s: %s", action, t.Name, state, state, list)
}

// Record is one work record: an incident, an RFC, an access request…
type Record struct {
	ID     int64  `json:"id"`
	Type   string `json:"type"`
	Number string `json:"number"`
	// Process is the process whose RACI governs the record: its type's, or the
	// one it names when its type's records name their process.
	Process     string `json:"process,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description"`
	State       string `json:"state"`
	// Closed is true in a terminal state.
	Closed bool `json:"closed"`
	// Priority is 1 (highest) to 5, or 0 when not set.
	Priority    int   `json:"priority,omitempty" minimum:"0" maximum:"5"`
	TeamID      int64 `json:"teamId,omitempty"`
	AssigneeID  int64 `json:"assigneeId,omitempty"`
	RequesterID int64 `json:"requesterId,omitempty"`
	// ServiceID names the CMDB service the record is about, or 0.
	ServiceID int64 `json:"serviceId,omitempty"`
	// Marking is the classification marking, such as "UNCLASSIFIED".
	Marking string `json:"marking"`
	// Reassignments counts how often the record changed hands after its first assignment.
	Reassignments int64     `json:"reassignments"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
	// Version is the ETag; every change raises it.
	Version int64 `json:"version"`
}

// NewRecord is what a record is created from.
type NewRecord struct {
	Title       string
	Description string
	// Priority is 1 to 5, or 0 for none.
	Priority   int
	TeamID     int64
	AssigneeID int64
	// RequesterID defaults to the caller.
	RequesterID int64
	ServiceID   int64
	// Marking defaults to DefaultMarking.
	Marking string
	// Process is the record's process, for a type whose records name their
	// process (Type.ProcessPerRecord); leave it empty for any other type.
	Process string
	// With, when set, stores the area's own fields of the new record inside the
	// kernel's transaction; the changes it returns are audited with the record.
	With func(ctx context.Context, tx *db.Tx, r Record) ([]audit.Change, error)
}

// Update holds the fields of a record to change; nil leaves a field as it is.
type Update struct {
	Title       *string
	Description *string
	// Priority 0 clears the priority.
	Priority  *int
	ServiceID *int64
	Marking   *string
}

var markingPattern = regexp.MustCompile(`^[A-Z0-9][A-Z0-9 /,()-]{0,63}$`)

// validateFields checks the editable fields of r.
func validateFields(r *Record) error {
	var fe []errs.FieldError
	r.Title = strings.TrimSpace(r.Title)
	if n := utf8.RuneCountInString(r.Title); n == 0 || n > 200 {
		fe = append(fe, errs.FieldError{Location: "body.title", Message: "a title has 1 to 200 characters"})
	}
	if utf8.RuneCountInString(r.Description) > 32000 {
		fe = append(fe, errs.FieldError{Location: "body.description", Message: "at most 32000 characters"})
	}
	if !utf8.ValidString(r.Title) || !utf8.ValidString(r.Description) {
		fe = append(fe, errs.FieldError{Location: "body", Message: "text must be valid UTF-8"})
	}
	if r.Priority < 0 || r.Priority > 5 {
		fe = append(fe, errs.FieldError{Location: "body.priority", Message: "a priority is 1 (highest) to 5, or 0 for none", Value: r.Priority})
	}
	if r.ServiceID < 0 {
		fe = append(fe, errs.FieldError{Location: "body.serviceId", Message: "not a service id", Value: r.ServiceID})
	}
	r.Marking = strings.TrimSpace(r.Marking)
	if r.Marking == "" {
		r.Marking = DefaultMarking
	}
	if !markingPattern.MatchString(r.Marking) {
		fe = append(fe, errs.FieldError{Location: "body.marking", Message: "a marking is up to 64 capital letters, digits, spaces and / , ( ) -", Value: r.Marking})
	}
	return errs.WithFields(fe)
}
