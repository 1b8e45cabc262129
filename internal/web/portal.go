package web

import (
	"net/http"
	"slices"
	"strings"

	"steward/internal/operation/incident"
	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// The self-service portal, for every signed-in user, no process role needed:
// report an issue (an incident the user is the caller of, channel portal),
// request something from the catalog (portal_catalog.go), follow one's own
// incidents and requests with their status, comment on them, and confirm or
// reject a resolution that waits for one (portal_record.go). The portal shows
// the requester's view: comments only, never work notes.

// portalListSize is how many of the user's incidents and of their requests the portal lists.
const portalListSize = 50

// portalFlashes are the confirmations the portal shows after a redirect (?m=…).
var portalFlashes = map[string]string{
	"reported":  "Thank you: your issue was reported. The service desk will get back to you here.",
	"requested": "Your request was submitted. You can follow it here.",
	"commented": "Your comment was added.",
	"confirmed": "Thank you: the incident is closed.",
	"rejected":  "The resolution was rejected: the incident is back with the service desk.",
	"reopened":  "The incident was reopened: it is back with the service desk.",
	"accepted":  "Thank you: the request is closed.",
	"not-done":  "The request is back with the service desk.",
	"cancelled": "The request was cancelled.",
	"done":      "Done.",
}

// portalRow is one of the user's incidents or requests in the portal's lists.
type portalRow struct {
	queueRow
	// What is "Incident" or the catalog item's name.
	What string
	// YourTurn says what the record waits for from the user, or "".
	YourTurn string
}

// portalData is the content of the portal's home page.
type portalData struct {
	HasIncidents, HasRequests bool
	// Waiting are the records that wait for the user.
	Waiting   []portalRow
	Incidents []portalRow
	Requests  []portalRow
}

// yourTurn says what a record in state waits for from its requester.
func yourTurn(typ, state string) string {
	switch {
	case typ == incident.Type && state == incident.StateResolved:
		return "Confirm or reject the resolution"
	case typ == request.RequestType && state == request.AwaitingAcceptance:
		return "Accept what was delivered, or say what is not done"
	}
	return ""
}

// portal serves GET /portal: what the user can do and their own incidents and requests.
func (s *site) portal(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	d := &portalData{HasIncidents: s.Incidents != nil, HasRequests: s.Requests != nil}
	if s.Incidents != nil {
		page, _, err := s.Incidents.Queue(ctx, incident.QueueFilter{CallerID: p.UserID}, listing.Params{Limit: portalListSize, Sort: "-createdAt"})
		if err != nil {
			return err
		}
		for _, row := range incidentRows(s, page.Items) {
			pr := portalRow{queueRow: row, What: "Incident", YourTurn: yourTurn(row.Type, row.State)}
			d.Incidents = append(d.Incidents, pr)
			if pr.YourTurn != "" {
				d.Waiting = append(d.Waiting, pr)
			}
		}
	}
	if s.Requests != nil {
		page, _, err := s.Requests.MyRequests(ctx, listing.Params{Limit: portalListSize, Sort: "-createdAt"})
		if err != nil {
			return err
		}
		t, _ := s.Records.Type(request.RequestType)
		for _, q := range page.Items {
			row := queueRow{Number: q.Number, Title: q.Title, Type: q.Type, State: q.State, StateLabel: q.State, Closed: q.Closed,
				Service: q.ServiceName, Team: q.TeamName, CreatedAt: q.CreatedAt, UpdatedAt: q.UpdatedAt, Version: q.Version}
			if st, ok := t.State(q.State); ok {
				row.StateLabel = st.Label
			}
			pr := portalRow{queueRow: row, What: q.CatalogItemName, YourTurn: yourTurn(q.Type, q.State)}
			if pr.What == "" {
				pr.What = "Request"
			}
			d.Requests = append(d.Requests, pr)
			if pr.YourTurn != "" {
				d.Waiting = append(d.Waiting, pr)
			}
		}
	}
	s.render(w, r, http.StatusOK, "portal-home", &view{Title: "Self-service portal", Section: "portal", User: p, Data: d,
		Flash: portalFlashes[r.URL.Query().Get("m")]})
	return nil
}

// reportForm serves GET /portal/report: the report-an-issue form.
func (s *site) reportForm(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if s.Incidents == nil {
		return errs.E(errs.NotFound, "incident management is not set up on this server")
	}
	return s.renderReport(w, r, p, http.StatusOK, newForm())
}

// report serves POST /portal/report: the user's own incident, through the
// portal channel. The impact is the matrix's lowest until the desk assesses
// it; the urgency is the user's answer to "how much does this stop you working".
func (s *site) report(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if s.Incidents == nil {
		return errs.E(errs.NotFound, "incident management is not set up on this server")
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	f := newForm()
	for _, k := range []string{"title", "description", "category", "service", "urgency"} {
		f.Values[k] = r.PostFormValue(k)
	}
	st, err := s.Incidents.Settings(ctx)
	if err != nil {
		return err
	}
	in := incident.NewIncident{Title: f.Values["title"], Description: f.Values["description"], Category: strings.TrimSpace(f.Values["category"]),
		Channel: "portal", Impact: len(st.Matrix)}
	in.ServiceID = formID(f, "service", "a service")
	in.Urgency = formLevel(f, "urgency")
	if strings.TrimSpace(in.Title) == "" {
		f.Set("title", "Say what is wrong, in a few words.")
	}
	if in.Category == "" {
		f.Set("category", "Pick what the issue is about.")
	}
	if in.Urgency == 0 && f.Err("urgency") == "" {
		f.Set("urgency", "Say how much this stops you working.")
	}
	if slices.Contains(st.SecurityCategories, in.Category) {
		f.Set("category", "Pick what the issue is about from the list.")
	}
	if f.Failed() {
		return s.renderReport(w, r, p, http.StatusUnprocessableEntity, f)
	}
	inc, err := s.Incidents.Create(ctx, in)
	if err != nil {
		if !f.FromError(err) {
			return err
		}
		return s.renderReport(w, r, p, httpx.Status(errs.KindOf(err)), f)
	}
	redirect(w, r, "/portal/records/"+inc.Number+"?m=reported")
	return nil
}

// renderReport writes the report-an-issue form.
func (s *site) renderReport(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, f *form) error {
	d := &incidentFormData{Form: f, HasCMDB: s.CMDB != nil}
	if err := s.incidentChoices(r.Context(), d, true); err != nil {
		return err
	}
	s.render(w, r, status, "portal-report", &view{Title: "Report an issue", Section: "portal", User: p, Data: d})
	return nil
}

// portalRecord is the requester's view of one of their records.
type portalRecord struct {
	Record     record.Record
	TypeLabel  string
	StateLabel string
	What       string
	// YourTurn says what the record waits for from the user.
	YourTurn string
	// Comments are the journal entries the requester reads.
	Comments []record.JournalEntry
	// Actions are the steps the user may take as the requester, with the fields they take.
	Actions []portalAction
	// CommentForm and ActionForm keep what was typed when a post failed.
	CommentForm, ActionForm *form
	Incident                *incident.Incident
	Request                 *request.Request
	// Resolution names the incident's resolution code.
	Resolution string
	// Desk is the record's desk page, for a user who may work it.
	Desk bool
}

// portalAction is a step the requester may take.
type portalAction struct {
	Action, Label string
	// Reason is set when the step takes a reason; ReasonRequired when it must have one.
	Reason, ReasonRequired bool
	// Primary marks the step the page offers first (confirm, accept).
	Primary bool
}
