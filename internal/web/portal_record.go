package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"steward/internal/operation/incident"
	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/record"
)

// The requester's view of one of their incidents or requests in the portal:
// its status, the comments (never work notes), a comment form, and the steps
// the requester may take: confirm or reject a resolution, reopen, accept a
// fulfilment or say it is not done, cancel a request not yet approved.

// portalTypes are the record types the portal shows.
var portalTypes = []string{incident.Type, request.RequestType}

// portalFlashFor is the confirmation after a requester's step.
var portalFlashFor = map[string]string{
	"confirm": "confirmed", "reject_resolution": "rejected", "reopen": "reopened",
	request.ActionAccept: "accepted", request.ActionNotDone: "not-done", request.ActionCancel: "cancelled",
}

// requesterRecord reads a record the user requested; any other is not found,
// so the portal never shows someone else's record.
func (s *site) requesterRecord(r *http.Request, p *auth.Principal) (record.Record, error) {
	number := record.NormalizeNumber(r.PathValue("number"))
	rec, err := s.Records.Get(r.Context(), number)
	if err != nil {
		return rec, err
	}
	if rec.RequesterID != p.UserID || !slices.Contains(portalTypes, rec.Type) ||
		(rec.Type == incident.Type && s.Incidents == nil) || (rec.Type == request.RequestType && s.Requests == nil) {
		return rec, errs.E(errs.NotFound, "you have no incident or request %s", number)
	}
	return rec, nil
}

// portalRecordPage serves GET /portal/records/{number}.
func (s *site) portalRecordPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	rec, err := s.requesterRecord(r, p)
	if err != nil {
		return err
	}
	return s.renderPortalRecord(w, r, p, http.StatusOK, rec, newForm(), newForm())
}

// renderPortalRecord writes the requester's view of rec with its forms.
func (s *site) renderPortalRecord(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, rec record.Record,
	commentForm, actionForm *form) error {
	ctx := r.Context()
	t, err := s.Records.Type(rec.Type)
	if err != nil {
		return err
	}
	d := &portalRecord{Record: rec, TypeLabel: t.Label, StateLabel: rec.State, YourTurn: yourTurn(rec.Type, rec.State),
		CommentForm: commentForm, ActionForm: actionForm}
	if st, ok := t.State(rec.State); ok {
		d.StateLabel = st.Label
	}
	switch rec.Type {
	case incident.Type:
		inc, err := s.Incidents.Incident(ctx, rec.Number)
		if err != nil {
			return err
		}
		d.Incident, d.What = &inc, "Incident"
		if d.Resolution, err = s.resolutionLabel(ctx, &inc); err != nil {
			return err
		}
	case request.RequestType:
		req, err := s.Requests.Request(ctx, rec.Number)
		if err != nil {
			return err
		}
		d.Request, d.What = &req, req.CatalogItemName
	}
	if d.Comments, err = s.Records.Journal(ctx, rec.Number, false); err != nil {
		return err
	}
	actions, err := s.Records.Actions(ctx, rec.Number)
	if err != nil {
		return err
	}
	for _, a := range actions {
		tr := slices.IndexFunc(t.Transitions, func(tr record.Transition) bool { return tr.Action == a.Action })
		if tr < 0 || !t.Transitions[tr].Requester || !a.Decision.Allowed || a.WaitingStep != 0 {
			continue
		}
		req, opt := s.fieldsOf(&rec, a.Action)
		pa := portalAction{Action: a.Action, Label: a.Label, ReasonRequired: slices.Contains(req, "reason"),
			Primary: a.Action == "confirm" || a.Action == request.ActionAccept}
		pa.Reason = pa.ReasonRequired || slices.Contains(opt, "reason")
		if rec.Type == request.RequestType && a.Action == request.ActionCancel {
			pa.Label = "Cancel this request"
		}
		d.Actions = append(d.Actions, pa)
	}
	// People who work the record also have the desk's page.
	d.Desk = p.Admin || rec.AssigneeID == p.UserID
	title := rec.Number + " " + rec.Title
	s.render(w, r, status, "portal-record", &view{Title: title, Section: "portal", User: p, Data: d,
		Flash: portalFlashes[r.URL.Query().Get("m")]})
	return nil
}

// portalComment serves POST /portal/records/{number}/comments: a comment the desk reads.
func (s *site) portalComment(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	rec, err := s.requesterRecord(r, p)
	if err != nil {
		return err
	}
	f := newForm()
	f.Values["comment"] = r.PostFormValue("comment")
	if strings.TrimSpace(f.Values["comment"]) == "" {
		f.Set("comment", "Write your comment.")
		return s.renderPortalRecord(w, r, p, http.StatusUnprocessableEntity, rec, f, newForm())
	}
	if _, err := s.Records.AddJournal(r.Context(), rec.Number, record.Comment, f.Values["comment"]); err != nil {
		if !f.FromError(err) {
			return err
		}
		renameErr(f, "body", "comment")
		return s.renderPortalRecord(w, r, p, http.StatusUnprocessableEntity, rec, f, newForm())
	}
	redirect(w, r, "/portal/records/"+rec.Number+"?m=commented#comments")
	return nil
}

// portalStep serves POST /portal/records/{number}/actions/{action}: a step the
// requester takes, with its reason where it takes one.
func (s *site) portalStep(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	rec, err := s.requesterRecord(r, p)
	if err != nil {
		return err
	}
	ctx := r.Context()
	action := r.PathValue("action")
	f := newForm()
	f.Values["action"] = action
	f.Values[action+"-reason"] = r.PostFormValue(action + "-reason")
	reason := strings.TrimSpace(f.Values[action+"-reason"])
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if version <= 0 {
		f.Error = "The form lacks the record's version. The page now shows the record as it is; try again."
		return s.renderPortalRecord(w, r, p, http.StatusUnprocessableEntity, rec, newForm(), f)
	}
	req, opt := s.fieldsOf(&rec, action)
	if slices.Contains(req, "reason") && reason == "" {
		f.Set(action+"-reason", "Say why, so that the service desk knows what to do next.")
		return s.renderPortalRecord(w, r, p, http.StatusUnprocessableEntity, rec, newForm(), f)
	}
	takesReason := slices.Contains(req, "reason") || slices.Contains(opt, "reason")
	if !takesReason {
		reason = ""
	}
	switch rec.Type {
	case incident.Type:
		_, err = s.Incidents.Perform(ctx, rec.Number, action, incident.StepInput{Version: version, Fields: incident.StepFields{Reason: reason}})
	case request.RequestType:
		_, err = s.Requests.Perform(ctx, rec.Number, action, request.StepInput{Version: version, Reason: reason})
	}
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind == errs.NotFound || e.Kind == errs.Internal {
			return err
		}
		f.Error = sentence(e.Message)
		if e.Kind == errs.PreconditionFailed {
			f.Error = "The service desk changed " + rec.Number + " since you opened it, so nothing was done. The page now shows it as it is: check it, then try again."
		}
		for _, fe := range e.Fields {
			if strings.HasSuffix(fe.Location, ".reason") {
				f.Set(action+"-reason", sentence(fe.Message))
			}
		}
		if rec, err = s.Records.Get(ctx, rec.Number); err != nil {
			return err
		}
		return s.renderPortalRecord(w, r, p, httpx.Status(e.Kind), rec, newForm(), f)
	}
	m := portalFlashFor[action]
	if m == "" {
		m = "done"
	}
	redirect(w, r, "/portal/records/"+rec.Number+"?m="+m)
	return nil
}
