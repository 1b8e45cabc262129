package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// Deps are what incident management needs.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel incidents are records of; its RACI guard decides every step.
	Records *record.Service
	// Trail audits the incident's own fields with each step, and the settings and taxonomy.
	Trail *audit.Trail
	// Events announces what happened, in the same transaction.
	Events *outbox.Outbox
	Clock  clock.Clock
	// RACI names the process manager informed of an escalation and the
	// domain of IM for the security roles; nil informs nobody by name.
	RACI *raci.Service
	// KnownErrors offers known errors while an incident is logged or
	// investigated (IM4); nil offers none.
	KnownErrors KnownErrorFinder
	// Requests opens the service request an incident is reclassified as
	// (IM3); nil refuses reclassification.
	Requests RequestOpener
}

// Service holds the use cases of incident management. Each mutation is one
// transaction of the record kernel, or its own, with its audit entries and outbox events.
type Service struct {
	db       *db.DB
	records  *record.Service
	trail    *audit.Trail
	events   *outbox.Outbox
	clock    clock.Clock
	raci     *raci.Service
	known    KnownErrorFinder
	requests RequestOpener
}

// New returns incident management over d and registers the incident record type with the kernel.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil {
		return nil, fmt.Errorf("incident: DB, Records, Trail and Events are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock, raci: d.RACI,
		known: d.KnownErrors, requests: d.Requests}
	if err := d.Records.Register(s.incidentType()); err != nil {
		return nil, fmt.Errorf("register %s: %w", Type, err)
	}
	return s, nil
}

// MustNew is New for wiring: it panics when the kernel refuses the record
// type, which only a wiring mistake causes (the type registered twice).
func MustNew(d Deps) *Service {
	s, err := New(d)
	if err != nil {
		panic("incident: " + err.Error())
	}
	return s
}

// SetKnownErrorFinder wires the known-error matching of problem management,
// which is built after incident management. Call it before serving.
func (s *Service) SetKnownErrorFinder(f KnownErrorFinder) { s.known = f }

// SetRequestOpener wires the request fulfilment reclassification opens
// requests through. Call it before serving.
func (s *Service) SetRequestOpener(o RequestOpener) { s.requests = o }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// begin prepares a use case's context: the RACI guard's and the service's per-request caches.
func begin(ctx context.Context) context.Context { return withMemo(raci.WithRequestCache(ctx)) }

func principal(ctx context.Context) (*auth.Principal, error) {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "sign in first")
	}
	return p, nil
}

func userID(p *auth.Principal) int64 {
	if p == nil {
		return 0
	}
	return p.UserID
}

func subject(number string) string { return "record/" + number }

// scopeOf is the RACI scope of an incident: its team and service.
func scopeOf(r record.Record) raci.Scope { return raci.Scope{TeamID: r.TeamID, ServiceID: r.ServiceID} }

// authorize asks the guard, outside any transaction, whether the caller may
// perform activity on an incident; a refusal is audited and Forbidden.
func (s *Service) authorize(ctx context.Context, activity, verb string, r record.Record) error {
	_, err := s.records.Authorize(ctx, Process, activity, verb, subject(r.Number), scopeOf(r))
	return err
}

// Incident returns an incident as the desk reads it, with the names its ids
// point to, in one query. A security incident the caller may not see is not found.
func (s *Service) Incident(ctx context.Context, number string) (out Incident, err error) {
	defer errs.Wrap(&err, "read incident %s", number)
	ctx = begin(ctx)
	out, _, err = s.read(ctx, number)
	return out, err
}

// read loads an incident the caller may see, with its own row.
func (s *Service) read(ctx context.Context, number string) (Incident, row, error) {
	p, err := principal(ctx)
	if err != nil {
		return Incident{}, row{}, err
	}
	number = record.NormalizeNumber(number)
	inc, w, err := loadView(ctx, s.db, number)
	if err != nil {
		return inc, w, err
	}
	ok, err := s.sees(ctx, p, &inc.Record, inc.Path)
	if err != nil {
		return inc, w, err
	}
	if !ok {
		return Incident{}, row{}, errs.E(errs.NotFound, "no incident %s", number)
	}
	notePath(ctx, inc.ID, inc.Path)
	return inc, w, nil
}

// Create logs an incident (IM2). Anyone signed in may log their own incident
// through the portal or e-mail; logging on behalf of another caller, through
// another channel, or routed to a team or person at once takes R or A for
// IM2. The priority comes from impact × urgency through the settings' matrix;
// a security category puts it on the security path, and a priority at the
// major threshold declares it major.
func (s *Service) Create(ctx context.Context, in NewIncident) (out Incident, err error) {
	defer errs.Wrap(&err, "log an incident")
	ctx = begin(ctx)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	if err := validateNew(&in); err != nil {
		return out, err
	}
	if in.CallerID == 0 {
		in.CallerID = p.UserID
	}
	if in.Channel == "" {
		in.Channel = "portal"
		if in.CallerID != p.UserID {
			in.Channel = "desk"
		}
	}
	st, err := s.settings(ctx)
	if err != nil {
		return out, err
	}
	prio, err := Priority(st.Matrix, in.Impact, in.Urgency)
	if err != nil {
		return out, err
	}
	if err := checkRefs(ctx, s.db, in.ServiceID, in.CIID, in.Category, in.Subcategory, in.CallerID, bodyLocs); err != nil {
		return out, err
	}
	if in.CallerID != p.UserID || !slices.Contains(selfServiceChannels, in.Channel) || in.TeamID != 0 || in.AssigneeID != 0 {
		verb := "log an incident on behalf of another caller, through the " + in.Channel + " channel, or routed to a team"
		if _, err := s.records.Authorize(ctx, Process, ActLog, verb, "incident/new",
			raci.Scope{TeamID: in.TeamID, ServiceID: in.ServiceID}); err != nil {
			return out, err
		}
	}
	path := pathFor(st, "", in.Category, prio, false)
	w := row{CIID: in.CIID, Category: in.Category, Subcategory: in.Subcategory, LoggedCategory: in.Category,
		LoggedSubcategory: in.Subcategory, Channel: in.Channel, Impact: in.Impact, Urgency: in.Urgency, Path: path}
	r, err := s.records.Create(ctx, Type, record.NewRecord{Title: in.Title, Description: in.Description, Priority: prio,
		TeamID: in.TeamID, AssigneeID: in.AssigneeID, RequesterID: in.CallerID, ServiceID: in.ServiceID, Marking: in.Marking,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			w.RecordID = r.ID
			if path == PathMajor {
				w.DeclaredAt, w.MajorReason = s.now(), thresholdReason(prio)
			}
			if err := insertRow(ctx, tx, &w); err != nil {
				return nil, err
			}
			if path == PathMajor {
				if err := s.announceMajor(ctx, tx, r, w); err != nil {
					return nil, err
				}
			}
			return audit.Diff(rowAudited, map[string]any{}, rowFields(w)), nil
		}})
	if err != nil {
		return out, err
	}
	notePath(ctx, r.ID, path)
	// The logger gets back what they logged even when it went onto the
	// security path they may not read: a desk agent logging one for a caller
	// learns its number, though not what happens to it next.
	out, _, err = loadView(ctx, s.db, r.Number)
	return out, err
}

func thresholdReason(prio int) string {
	return fmt.Sprintf("priority P%d reached the major-incident threshold", prio)
}

// announceMajor emits incident.major_declared for an incident that became major.
func (s *Service) announceMajor(ctx context.Context, tx *db.Tx, r record.Record, w row) error {
	return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.major_declared", Subject: subject(r.Number), Data: map[string]any{
		"number": r.Number, "title": r.Title, "priority": r.Priority, "managerId": w.ManagerID, "reason": w.MajorReason,
		"declaredBy": w.DeclaredBy}})
}

// rowFields is the audited view of an incident's own fields.
func rowFields(w row) map[string]any {
	return map[string]any{"ciId": w.CIID, "category": w.Category, "subcategory": w.Subcategory, "channel": w.Channel,
		"impact": w.Impact, "urgency": w.Urgency, "path": w.Path, "majorManagerId": w.ManagerID, "majorReason": w.MajorReason,
		"escalationLevel": w.Escalation, "holdReason": w.HoldReason, "resolutionCode": w.ResolutionCode,
		"resolutionNotes": w.ResolutionNotes, "effortMinutes": w.Effort, "firstContact": w.FirstContact, "resolvedBy": w.ResolvedBy,
		"rejections": w.Rejections, "lastRejection": w.LastRejection, "closedBy": w.ClosedBy, "reopenCount": w.ReopenCount,
		"categoryReviewed": w.CategoryReviewed, "categoryChanged": w.CategoryChanged, "reclassifiedAs": w.ReclassifiedAs}
}

var rowAudited = []string{"ciId", "category", "subcategory", "channel", "impact", "urgency", "path", "majorManagerId",
	"majorReason", "escalationLevel", "holdReason", "resolutionCode", "resolutionNotes", "effortMinutes", "firstContact",
	"resolvedBy", "rejections", "lastRejection", "closedBy", "reopenCount", "categoryReviewed", "categoryChanged", "reclassifiedAs"}

// Update recategorises or reprioritises an incident (IM3): title,
// description, impact and urgency (the priority follows), service, CI,
// category, channel, marking. A security category moves it to the security
// path, out of one back; a priority at the major threshold declares it major.
func (s *Service) Update(ctx context.Context, number string, version int64, c Change) (out Incident, err error) {
	defer errs.Wrap(&err, "update incident %s", number)
	ctx = begin(ctx)
	if err := validateChange(&c); err != nil {
		return out, err
	}
	inc, w, err := s.read(ctx, number)
	if err != nil {
		return out, err
	}
	if version != 0 && version != inc.Version {
		return out, errs.E(errs.PreconditionFailed, "incident %s changed since version %d (now %d); read it again", inc.Number, version, inc.Version)
	}
	st, err := s.settings(ctx)
	if err != nil {
		return out, err
	}
	n := w
	if c.Impact != nil {
		n.Impact = *c.Impact
	}
	if c.Urgency != nil {
		n.Urgency = *c.Urgency
	}
	prio, err := Priority(st.Matrix, n.Impact, n.Urgency)
	if err != nil {
		return out, err
	}
	service := inc.ServiceID
	if c.ServiceID != nil {
		service = *c.ServiceID
	}
	if c.CIID != nil {
		n.CIID = *c.CIID
	}
	if c.Category != nil && *c.Category != n.Category {
		n.Category, n.Subcategory = *c.Category, ""
	}
	if c.Subcategory != nil {
		n.Subcategory = *c.Subcategory
	}
	if c.Channel != nil {
		n.Channel = *c.Channel
	}
	// Only what changes is checked: an incident keeps a key retired since.
	chk := func(changed bool, v int64) int64 {
		if changed {
			return v
		}
		return 0
	}
	catKey, subKey := "", ""
	if n.Category != w.Category || n.Subcategory != w.Subcategory {
		catKey, subKey = n.Category, n.Subcategory
	}
	if err := checkRefs(ctx, s.db, chk(service != inc.ServiceID, service), chk(n.CIID != w.CIID, n.CIID), catKey, subKey, 0, bodyLocs); err != nil {
		return out, err
	}
	child := false
	if w.Path != PathMajor && st.declaresMajor(prio) {
		parent, err := parentOf(ctx, s.db, inc.ID)
		if err != nil {
			return out, err
		}
		child = parent != ""
	}
	if w.Path == PathMajor && st.isSecurity(n.Category) {
		return out, errs.Field("body.category", "a major incident cannot move to a security category: its updates go to every stakeholder", n.Category)
	}
	n.Path = pathFor(st, w.Path, n.Category, prio, child)
	declared := n.Path == PathMajor && w.Path != PathMajor
	if declared {
		n.DeclaredAt, n.DeclaredBy, n.MajorReason = s.now(), 0, thresholdReason(prio)
	}
	fields := record.Update{Title: c.Title, Description: c.Description, Marking: c.Marking, Priority: &prio}
	if c.ServiceID != nil {
		fields.ServiceID = c.ServiceID
	}
	r, err := s.records.Amend(ctx, inc.Number, record.Amendment{Version: inc.Version, Fields: fields, Verb: "recategorise or reprioritise",
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			changes := audit.Diff(rowAudited, rowFields(w), rowFields(n))
			if len(changes) == 0 {
				return nil, nil
			}
			if err := saveRow(ctx, tx, &n); err != nil {
				return nil, err
			}
			if declared {
				cur.Priority = prio
				if err := s.announceMajor(ctx, tx, cur, n); err != nil {
					return nil, err
				}
			}
			return changes, nil
		}})
	if err != nil {
		return out, err
	}
	notePath(ctx, r.ID, n.Path)
	out, _, err = s.read(ctx, r.Number)
	return out, err
}

// Actions lists the workflow actions allowed from the incident's state, each
// with its activity, the guard's decision for the caller and the body fields it takes.
func (s *Service) Actions(ctx context.Context, number string) (out []IncidentAction, err error) {
	defer errs.Wrap(&err, "actions of %s", number)
	ctx = begin(ctx)
	inc, _, err := s.read(ctx, number)
	if err != nil {
		return nil, err
	}
	as, err := s.records.Actions(ctx, inc.Number)
	if err != nil {
		return nil, err
	}
	out = make([]IncidentAction, len(as))
	for i, a := range as {
		req, opt := ActionFields(a.Action)
		out[i] = IncidentAction{Action: a, Required: req, Optional: opt}
	}
	return out, nil
}

// stepKey carries the fields of a step into the kernel's transaction.
type stepKey struct{}

// givenStep is the fields of one action on one incident.
type givenStep struct {
	number, action string
	fields         StepFields
}

func withStep(ctx context.Context, number, action string, f StepFields) context.Context {
	return context.WithValue(ctx, stepKey{}, givenStep{number: number, action: action, fields: f})
}

// stepFrom returns the fields given with action on number, if the context carries them.
func stepFrom(ctx context.Context, number, action string) (StepFields, bool) {
	g, ok := ctx.Value(stepKey{}).(givenStep)
	if !ok || g.number != number || g.action != action {
		return StepFields{}, false
	}
	return g.fields, true
}

// Perform takes a workflow action on an incident with its fields: a hold
// reason, a resolution, a rejection's reason, a closure's categorisation
// review. The RACI guard decides as for any step (the caller may confirm,
// reject and reopen their own incident). An action not allowed from the
// current state is a Conflict naming the allowed ones; fields the action does
// not take or gets wrong are Invalid, naming them.
func (s *Service) Perform(ctx context.Context, number, action string, in StepInput) (out IncidentStepResult, err error) {
	defer errs.Wrap(&err, "%s incident %s", action, number)
	ctx = begin(ctx)
	inc, _, err := s.read(ctx, number)
	if err != nil {
		return out, err
	}
	t, err := s.records.Type(Type)
	if err != nil {
		return out, err
	}
	if _, err := t.Next(inc.State, action); err != nil {
		return out, err
	}
	st, err := s.settings(ctx)
	if err != nil {
		return out, err
	}
	f := in.Fields
	trimFields(&f)
	if err := validateStep(action, f, st); err != nil {
		return out, err
	}
	comment := in.Comment
	if strings.TrimSpace(comment) == "" {
		switch {
		case action == "reject_resolution":
			comment = "Resolution rejected: " + f.Reason
		case action == "reopen" && f.Reason != "":
			comment = "Reopened: " + f.Reason
		}
	}
	if _, ok := actionFields[action]; ok {
		ctx = withStep(ctx, inc.Number, action, f)
	}
	res, err := s.records.Perform(ctx, inc.Number, action, record.PerformInput{Version: in.Version, Comment: comment})
	if err != nil {
		return out, err
	}
	out.Outcome, out.Step, out.Consultations = res.Outcome, res.Step, res.Consultations
	out.Incident, _, err = s.read(ctx, inc.Number)
	return out, err
}

func trimFields(f *StepFields) {
	for _, p := range []*string{&f.HoldReason, &f.ResolutionCode, &f.Reason, &f.ClosureCategory, &f.ClosureSubcategory} {
		*p = strings.TrimSpace(*p)
	}
}
