package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"steward/internal/framework"
	"steward/internal/operation/incident"
	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// recordData is the content of a record's page.
type recordData struct {
	Record record.Record
	Type   record.Type
	// StateLabel is the record's state as people read it.
	StateLabel string
	Process    *framework.Process
	// Team, Assignee and Requester name the people and team on the record.
	Team, Assignee, Requester string
	Actions                   []actionView
	// AnyAllowed is set when the user may perform at least one action.
	AnyAllowed  bool
	Waiting     []waitingStep
	Journal     []record.JournalEntry
	Links       []record.Link
	Watchers    []record.Watcher
	Attachments []record.Attachment
	// ActionForm holds the comment sent with an action and the error of the last try.
	ActionForm *form
	// NoteForm is the add-to-journal form.
	NoteForm *form
	// StepError is the error of a decision on one of the record's waiting steps.
	StepError *itemError
	// SeesInternal is set when the user may read internal notes; step comments
	// and consultation answers are internal.
	SeesInternal bool
	// Incident is the incident's own panel, when the record is an incident.
	Incident *incidentPanel
	// Request is the service request's form, approvals and stages, when the record is one.
	Request *request.Request
	// Around is the affected service and the CIs one relation around it, with the CMDB.
	Around *neighbourhood
	// Portal is the requester's view of the record in the self-service portal, when it has one.
	Portal string
	// Clocks are the record's service level clocks, when service levels are measured.
	Clocks *clockPanel
}

// actionView is one workflow action of a record with the guard's verdict.
type actionView struct {
	record.Action
	Index int
	// Fields are the inputs the action takes beyond its comment (an incident's resolution, say).
	Fields []actionField
	// Open shows the action's fields at once: the last try of the action failed.
	Open bool
}

// OK reports whether the user may take the action now.
func (a actionView) OK() bool { return a.Decision.Allowed && a.WaitingStep == 0 }

// waitingStep is a step of the record that waits for consultation or approval.
type waitingStep struct {
	Step          record.Step
	Label         string
	RequestedBy   string
	Approvers     []string
	Consultations []consultView
	// MayDecide is set when the user may approve or reject the step.
	MayDecide bool
}

// consultView is one consultation task with what the user may do with it.
type consultView struct {
	record.Consultation
	User                string
	MayAnswer, MayWaive bool
}

// itemError is the error of a form about one step or consultation, with what was typed.
type itemError struct {
	// Kind is "step", "request" (a service request's catalog approval) or "consultation".
	Kind    string
	ID      int64
	Message string
	Text    string
}

// For reports whether the error belongs to the item of kind with id.
func (e *itemError) For(kind string, id int64) bool { return e != nil && e.Kind == kind && e.ID == id }

// userNames names users for people, each looked up once; an unknown id reads "user N".
type userNames struct {
	s     *site
	ctx   context.Context
	names map[int64]string
}

func (s *site) newUserNames(ctx context.Context) *userNames {
	return &userNames{s: s, ctx: ctx, names: map[int64]string{}}
}

// name returns a user's username, or "" for id 0.
func (n *userNames) name(id int64) string {
	if id == 0 {
		return ""
	}
	if v, ok := n.names[id]; ok {
		return v
	}
	v := "user " + itoa(id)
	if u, err := n.s.Auth.GetUser(n.ctx, id); err == nil {
		v = u.Username
	}
	n.names[id] = v
	return v
}

// recordPage serves GET /records/{number}: the record, the actions the user
// may or may not perform and why, its waiting steps, journal and related items.
func (s *site) recordPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.renderRecord(w, r, p, http.StatusOK, r.PathValue("number"), newForm(), newForm(), nil)
}

func (s *site) renderRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, number string,
	actionForm, noteForm *form, stepErr *itemError) error {
	return s.renderRecordWith(w, r, p, status, number, actionForm, noteForm, stepErr, newForm())
}

// renderRecordWith writes the record page with its forms as given: the
// action's comment and fields, the journal entry, a step decision's error and
// a major incident's update, communication or review.
func (s *site) renderRecordWith(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, number string,
	actionForm, noteForm *form, stepErr *itemError, majorForm *form) error {
	ctx := r.Context()
	rec, err := s.Records.Get(ctx, number)
	if err != nil {
		return err
	}
	t, err := s.Records.Type(rec.Type)
	if err != nil {
		return err
	}
	if noteForm.Value("kind") == "" {
		noteForm.Values["kind"] = string(record.WorkNote)
	}
	process := rec.Process
	if process == "" {
		process = t.Process
	}
	d := &recordData{Record: rec, Type: t, Process: s.Model.Process(process), ActionForm: actionForm, NoteForm: noteForm, StepError: stepErr}
	d.StateLabel = rec.State
	if st, ok := t.State(rec.State); ok {
		d.StateLabel = st.Label
	}
	names := s.newUserNames(ctx)
	d.Assignee, d.Requester = names.name(rec.AssigneeID), names.name(rec.RequesterID)
	member := false
	if rec.TeamID != 0 {
		d.Team = "team " + itoa(rec.TeamID)
		if team, err := s.Auth.GetTeam(ctx, rec.TeamID); err == nil {
			d.Team, member = team.Name, slices.Contains(team.Members, p.UserID)
		}
	}
	// The kernel's rule for the journal: a requester who does not work the record reads no internal notes.
	d.SeesInternal = p.Admin || p.UserID != rec.RequesterID || p.UserID == rec.AssigneeID || member
	actions, err := s.Records.Actions(ctx, rec.Number)
	if err != nil {
		return err
	}
	choices := &fieldChoices{}
	failed := actionForm.Value("action")
	for i, a := range actions {
		d.Actions = append(d.Actions, actionView{Action: a, Index: i, Open: failed == a.Action})
		d.AnyAllowed = d.AnyAllowed || (a.Decision.Allowed && a.WaitingStep == 0)
		if a.WaitingStep != 0 {
			ws, err := s.waitingStep(ctx, p, &rec, t, a, names)
			if err != nil {
				return err
			}
			d.Waiting = append(d.Waiting, ws)
		}
	}
	if d.Journal, err = s.Records.Journal(ctx, rec.Number, true); err != nil {
		return err
	}
	if d.Links, err = s.Records.Links(ctx, rec.Number); err != nil {
		return err
	}
	if d.Watchers, err = s.Records.Watchers(ctx, rec.Number); err != nil {
		return err
	}
	if d.Attachments, err = s.Records.Attachments(ctx, rec.Number); err != nil {
		return err
	}
	if err := s.recordExtras(ctx, p, d, majorForm); err != nil {
		return err
	}
	var inc *incident.Incident
	if d.Incident != nil {
		inc = &d.Incident.Inc // the closure review's categories default to the incident's own
	}
	for i := range d.Actions {
		if d.Actions[i].OK() {
			if d.Actions[i].Fields, err = s.actionFields(ctx, &rec, inc, d.Actions[i].Action.Action, actionForm, choices); err != nil {
				return err
			}
		}
	}
	if rec.RequesterID == p.UserID && (rec.Type == incident.Type && s.Incidents != nil || rec.Type == request.RequestType && s.Requests != nil) {
		d.Portal = "/portal/records/" + rec.Number
	}
	s.render(w, r, status, "record", &view{Title: rec.Number + " " + rec.Title, Section: "", User: p, Data: d,
		Flash: deskFlashes[r.URL.Query().Get("m")]})
	return nil
}

// waitingStep describes an action's waiting step and what the user may do with it.
func (s *site) waitingStep(ctx context.Context, p *auth.Principal, rec *record.Record, t record.Type, a record.Action, names *userNames) (waitingStep, error) {
	st, cs, err := s.Records.Step(ctx, a.WaitingStep)
	if err != nil {
		return waitingStep{}, err
	}
	ws := waitingStep{Step: st, Label: a.Label, RequestedBy: names.name(st.RequestedBy)}
	for _, id := range st.Approvers {
		ws.Approvers = append(ws.Approvers, names.name(id))
	}
	ws.MayDecide = st.State == record.PendingApproval && (p.Admin || slices.Contains(st.Approvers, p.UserID))
	accountable := p.Admin || st.RequestedBy == p.UserID
	if !accountable {
		process := rec.Process
		if process == "" {
			process = t.Process
		}
		hs, err := s.RACI.Holders(ctx, process, st.Activity, framework.A, raci.Scope{TeamID: rec.TeamID, ServiceID: rec.ServiceID})
		if err != nil {
			return ws, err
		}
		accountable = slices.ContainsFunc(hs, func(h raci.Holder) bool { return h.UserID == p.UserID })
	}
	for _, c := range cs {
		open := c.State == record.ConsultationOpen
		ws.Consultations = append(ws.Consultations, consultView{Consultation: c, User: names.name(c.UserID),
			MayAnswer: open && c.UserID == p.UserID, MayWaive: open && accountable})
	}
	return ws, nil
}

// performAction serves POST /records/{number}/actions/{action}: it performs a
// workflow action at the version the user read. A refusal, a conflict or a
// change made meanwhile re-shows the record with the reason and the comment.
func (s *site) performAction(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	number := record.NormalizeNumber(r.PathValue("number"))
	action := r.PathValue("action")
	f := newForm()
	f.Values["comment"], f.Values["action"] = r.PostFormValue("comment"), action
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if version <= 0 {
		f.Error = "The form lacks the record's version. The page now shows the record as it is; try again."
		return s.renderRecord(w, r, p, http.StatusUnprocessableEntity, number, f, newForm(), nil)
	}
	rec, err := s.Records.Get(r.Context(), number)
	if err != nil {
		return err
	}
	outcome, handled, err := s.performWithFields(r, &rec, action, version, f)
	if !handled {
		var res record.Result
		res, err = s.Records.Perform(r.Context(), number, action, record.PerformInput{Version: version, Comment: f.Values["comment"]})
		outcome = res.Outcome
	}
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind == errs.NotFound {
			return err
		}
		f.Error = sentence(e.Message)
		if e.Kind == errs.PreconditionFailed {
			f.Error = "Someone else changed " + number + " since you opened it, so nothing was done. The page now shows the record as it is: check it, then try again."
		}
		req, opt := s.fieldsOf(&rec, action)
		for _, fe := range e.Fields {
			name := fe.Location[strings.LastIndexByte(fe.Location, '.')+1:]
			if slices.Contains(req, name) || slices.Contains(opt, name) {
				f.Set(action+"-"+name, actionFieldMessage(name, fe.Message))
				continue
			}
			f.Set("comment", sentence(fe.Message))
		}
		if len(f.Errors) > 0 && f.Error == sentence(e.Message) && e.Kind == errs.Invalid {
			f.Error = ""
		}
		return s.renderRecord(w, r, p, httpx.Status(e.Kind), number, f, newForm(), nil)
	}
	m := "action-applied"
	switch outcome {
	case record.OutcomeAwaitingConsultation:
		m = "action-consulting"
	case record.OutcomeAwaitingApproval:
		m = "action-approval"
	}
	redirect(w, r, "/records/"+number+"?m="+m)
	return nil
}

// addJournal serves POST /records/{number}/journal: a work note or a comment.
func (s *site) addJournal(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	number := record.NormalizeNumber(r.PathValue("number"))
	f := newForm()
	f.Values["kind"], f.Values["body"] = r.PostFormValue("kind"), r.PostFormValue("body")
	if strings.TrimSpace(f.Values["body"]) == "" {
		f.Set("body", "Write the entry.")
		return s.renderRecord(w, r, p, http.StatusUnprocessableEntity, number, newForm(), f, nil)
	}
	if _, err := s.Records.AddJournal(r.Context(), number, record.JournalKind(f.Values["kind"]), f.Values["body"]); err != nil {
		if !f.FromError(err) {
			return err
		}
		return s.renderRecord(w, r, p, http.StatusUnprocessableEntity, number, newForm(), f, nil)
	}
	redirect(w, r, "/records/"+number+"?m=note-added#journal")
	return nil
}
