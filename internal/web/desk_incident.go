package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"steward/internal/operation/incident"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
)

// The new-incident form of the desk, GET and POST /desk/incidents/new: the
// caller, the affected service and CI (picked from the CMDB; a CI found by
// the start of its name), the category and subcategory, impact and urgency,
// title and description. "Check known errors" re-shows the form with the
// known errors and workarounds that match what was typed; "Log incident"
// creates it through incident management. A failed save keeps every value.

// maxFoundCIs is how many CIs a CI search offers.
const maxFoundCIs = 20

// categoryGroup is a category of the taxonomy with its subcategories.
type categoryGroup struct {
	option
	Subs []option
}

// levelOption is one impact or urgency level with what it means.
type levelOption struct {
	Value    int
	Label    string
	Meaning  string
	Selected bool
}

// incidentFormData is the content of the new-incident form (desk) and of the
// report-an-issue form (portal).
type incidentFormData struct {
	Form *form
	// Categories are the taxonomy's active categories with their subcategories.
	Categories []categoryGroup
	Services   []option
	// CIs are the CIs found by the CI search, or the one picked.
	CIs []option
	// CISearched is set when the CI search ran.
	CISearched bool
	Teams      []option
	Channels   []option
	Impacts    []levelOption
	Urgencies  []levelOption
	// Users are the usernames the caller field suggests.
	Users []string
	// Checked is set when known errors were looked for; Matches are what matched.
	Checked bool
	Matches []incident.KnownErrorMatch
	HasCMDB bool
}

// impactMeanings and urgencyMeanings say what each level of the default 3×3 matrix means.
var (
	impactMeanings  = []string{"High: a whole service, a site or many users", "Medium: a team or a department", "Low: one user"}
	urgencyMeanings = []string{"High: work has stopped", "Medium: work is hampered", "Low: it can wait"}
	// portalUrgency asks the caller how much the issue stops them working.
	portalUrgency = []string{"I cannot work at all", "I can work, but slowly or with a workaround", "It is an annoyance; my work goes on"}
)

// levels lists n levels with their meanings (generic past the list's end).
func levels(n, selected int, meanings []string, names []string) []levelOption {
	out := make([]levelOption, n)
	for i := range n {
		v := i + 1
		out[i] = levelOption{Value: v, Label: fmt.Sprintf("%d", v), Selected: v == selected}
		if i < len(names) {
			out[i].Label = names[i]
		}
		if n == len(meanings) {
			out[i].Meaning = meanings[i]
		}
	}
	return out
}

// incidentFields are the form fields of a new incident that are kept as typed.
var incidentFields = []string{"caller", "service", "ciq", "ci", "category", "subcategory", "impact", "urgency", "title", "description",
	"channel", "team", "me"}

// readIncidentForm reads the posted new-incident form into f.Values.
func readIncidentForm(r *http.Request) *form {
	f := newForm()
	for _, k := range incidentFields {
		f.Values[k] = r.PostFormValue(k)
	}
	for _, k := range []string{"caller", "ciq", "title", "category", "subcategory", "channel"} {
		f.Values[k] = strings.TrimSpace(f.Values[k])
	}
	return f
}

// formID reads a numeric form field that names a thing by its id; empty is 0.
func formID(f *form, name, what string) int64 {
	v := strings.TrimSpace(f.Values[name])
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		f.Set(name, "Pick "+what+" from the list.")
		return 0
	}
	return n
}

// formLevel reads an impact or urgency level; empty is 0, which the service refuses.
func formLevel(f *form, name string) int {
	v := strings.TrimSpace(f.Values[name])
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		f.Set(name, "Pick one of the levels.")
	}
	return n
}

// newIncidentForm serves GET /desk/incidents/new.
func (s *site) newIncidentForm(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !s.hasIncidents() {
		return errs.E(errs.NotFound, "incident management is not set up on this server")
	}
	f := newForm()
	f.Values["channel"] = "phone"
	return s.renderIncidentForm(w, r, p, http.StatusOK, f, false, nil)
}

// logIncident serves POST /desk/incidents/new: op "find-ci" searches CIs,
// "check" looks for matching known errors, and anything else logs the incident.
func (s *site) logIncident(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if !s.hasIncidents() {
		return errs.E(errs.NotFound, "incident management is not set up on this server")
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	f := readIncidentForm(r)
	in := incident.NewIncident{Title: f.Values["title"], Description: f.Values["description"], Category: f.Values["category"],
		Subcategory: f.Values["subcategory"], Channel: f.Values["channel"]}
	in.ServiceID = formID(f, "service", "a service")
	in.CIID = formID(f, "ci", "a CI")
	in.TeamID = formID(f, "team", "a team")
	in.Impact, in.Urgency = formLevel(f, "impact"), formLevel(f, "urgency")
	if f.Values["me"] != "" {
		in.AssigneeID = p.UserID
	}
	switch r.PostFormValue("op") {
	case "find-ci":
		return s.renderIncidentForm(w, r, p, http.StatusOK, f, false, nil)
	case "check":
		matches, err := s.Incidents.MatchKnownErrors(ctx, incident.MatchInput{Title: in.Title, Description: in.Description,
			CIID: in.CIID, ServiceID: in.ServiceID, Category: in.Category, Subcategory: in.Subcategory, Limit: 5})
		status := http.StatusOK
		if err != nil {
			if !f.FromError(err) {
				return err
			}
			status = http.StatusUnprocessableEntity
		}
		return s.renderIncidentForm(w, r, p, status, f, true, matches)
	}
	if name := f.Values["caller"]; name != "" {
		u, err := s.Auth.UserByName(ctx, name)
		switch {
		case err == nil:
			in.CallerID = u.ID
		case errs.KindOf(err) == errs.NotFound:
			f.Set("caller", fmt.Sprintf("There is no user named %q: check the username.", name))
		default:
			return err
		}
	} else {
		f.Set("caller", "Name the caller: the username of the person who reports the incident.")
	}
	requireIncidentFields(f, in)
	if in.CIID == 0 && f.Values["ciq"] != "" && s.CMDB != nil {
		id, err := s.exactCI(ctx, f.Values["ciq"])
		if err != nil {
			return err
		}
		if id == 0 {
			f.Set("ci", "Press Find CI and pick the CI from the list, or clear the CI search.")
		}
		if in.CIID = id; id != 0 {
			f.Values["ci"] = itoa(id)
		}
	}
	if f.Failed() {
		return s.renderIncidentForm(w, r, p, http.StatusUnprocessableEntity, f, false, nil)
	}
	inc, err := s.Incidents.Create(ctx, in)
	if err != nil {
		if !f.FromError(err) {
			return err
		}
		renameErr(f, "callerId", "caller")
		renameErr(f, "teamId", "team")
		renameErr(f, "assigneeId", "me")
		return s.renderIncidentForm(w, r, p, httpx.Status(errs.KindOf(err)), f, false, nil)
	}
	redirect(w, r, "/records/"+inc.Number+"?m=incident-logged")
	return nil
}

// requireIncidentFields names the required fields left empty, so that a
// refused form lists every missing field at once (the service checks the rest).
func requireIncidentFields(f *form, in incident.NewIncident) {
	if strings.TrimSpace(in.Title) == "" {
		f.Set("title", "Give a title: what is wrong, in a few words.")
	}
	if in.Category == "" {
		f.Set("category", "Pick a category.")
	}
	if in.Impact == 0 && f.Err("impact") == "" {
		f.Set("impact", "Pick the impact: how widely the issue is felt.")
	}
	if in.Urgency == 0 && f.Err("urgency") == "" {
		f.Set("urgency", "Pick the urgency: how soon it must be solved.")
	}
}

// exactCI is the one CI whose name is exactly name, or 0 when none or several are.
func (s *site) exactCI(ctx context.Context, name string) (int64, error) {
	page, _, err := s.CMDB.ListCIs(ctx, cmdb.CIFilter{Name: name}, listing.Params{Limit: 10, Sort: "name"})
	if err != nil {
		return 0, err
	}
	var id int64
	for _, c := range page.Items {
		if c.Name == name && c.Status != cmdb.StatusDisposed {
			if id != 0 {
				return 0, nil
			}
			id = c.ID
		}
	}
	return id, nil
}

// renameErr moves a field's error to another field name (the service's name
// for a field and the form's differ).
func renameErr(f *form, from, to string) {
	msg, ok := f.Errors[from]
	if !ok {
		return
	}
	delete(f.Errors, from)
	if _, taken := f.Errors[to]; !taken {
		f.Errors[to] = msg
	}
	for i, n := range f.order {
		if n == from {
			f.order[i] = to
		}
	}
	f.order = slices.Compact(f.order)
}

// renderIncidentForm writes the new-incident form with its choices.
func (s *site) renderIncidentForm(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, f *form, checked bool,
	matches []incident.KnownErrorMatch) error {
	ctx := r.Context()
	d := &incidentFormData{Form: f, Checked: checked, Matches: matches, HasCMDB: s.CMDB != nil}
	if err := s.incidentChoices(ctx, d, false); err != nil {
		return err
	}
	teams, err := s.allTeams(ctx)
	if err != nil {
		return err
	}
	d.Teams = teamOptions(teams, formIDQuiet(f.Values["team"]), "No team yet")
	for _, c := range incident.Channels {
		if c == "import" || c == "event" || c == "api" {
			continue
		}
		d.Channels = append(d.Channels, option{Value: c, Label: words(c), Selected: f.Values["channel"] == c})
	}
	users, _, err := s.Auth.ListUsers(ctx, listing.Params{Limit: maxPick, Sort: "username"}, nil)
	if err != nil {
		return err
	}
	for _, u := range users.Items {
		if !u.Disabled {
			d.Users = append(d.Users, u.Username)
		}
	}
	if err := s.findCIs(ctx, d); err != nil {
		return err
	}
	if f.Failed() && status == http.StatusOK {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "desk-incident", &view{Title: "New incident", Section: "desk", User: p, Data: d})
	return nil
}

// formIDQuiet reads an id without complaint: 0 when it is not one.
func formIDQuiet(v string) int64 {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

// incidentChoices fills the choices both incident forms share: the taxonomy,
// the services, impact and urgency. The portal leaves out the security
// categories, which the desk assigns.
func (s *site) incidentChoices(ctx context.Context, d *incidentFormData, portal bool) error {
	f := d.Form
	st, err := s.Incidents.Settings(ctx)
	if err != nil {
		return err
	}
	cats, err := s.Incidents.Categories(ctx, nil, true)
	if err != nil {
		return err
	}
	for _, c := range cats {
		if c.Parent == "" {
			if portal && slices.Contains(st.SecurityCategories, c.Key) {
				continue
			}
			d.Categories = append(d.Categories, categoryGroup{option: option{Value: c.Key, Label: c.Label, Selected: f.Values["category"] == c.Key}})
			continue
		}
		for i := range d.Categories {
			if d.Categories[i].Value == c.Parent {
				d.Categories[i].Subs = append(d.Categories[i].Subs, option{Value: c.Key, Label: c.Label,
					Selected: f.Values["category"] == c.Parent && f.Values["subcategory"] == c.Key})
			}
		}
	}
	services, err := s.allServices(ctx)
	if err != nil {
		return err
	}
	for _, sv := range services {
		if sv.Status == cmdb.StatusDisposed {
			continue
		}
		d.Services = append(d.Services, option{Value: itoa(sv.ID), Label: sv.Name, Selected: f.Values["service"] == itoa(sv.ID)})
	}
	rows := len(st.Matrix)
	cols := 0
	if rows > 0 {
		cols = len(st.Matrix[0])
	}
	imp, _ := strconv.Atoi(f.Values["impact"])
	urg, _ := strconv.Atoi(f.Values["urgency"])
	d.Impacts = levels(rows, imp, impactMeanings, nil)
	if portal {
		d.Urgencies = levels(cols, urg, nil, portalUrgency)
		if cols != len(portalUrgency) {
			d.Urgencies = levels(cols, urg, nil, nil)
		}
	} else {
		d.Urgencies = levels(cols, urg, urgencyMeanings, nil)
	}
	for i := range d.Impacts {
		if d.Impacts[i].Meaning != "" {
			d.Impacts[i].Label = strings.SplitN(d.Impacts[i].Meaning, ":", 2)[0]
			d.Impacts[i].Meaning = strings.TrimSpace(strings.SplitN(d.Impacts[i].Meaning, ":", 2)[1])
		}
	}
	if !portal {
		for i := range d.Urgencies {
			if d.Urgencies[i].Meaning != "" {
				d.Urgencies[i].Label = strings.SplitN(d.Urgencies[i].Meaning, ":", 2)[0]
				d.Urgencies[i].Meaning = strings.TrimSpace(strings.SplitN(d.Urgencies[i].Meaning, ":", 2)[1])
			}
		}
	}
	return nil
}

// findCIs fills the CI choice: the CIs whose name starts with the CI search,
// or the one already picked. A search that finds exactly one CI picks it.
func (s *site) findCIs(ctx context.Context, d *incidentFormData) error {
	if s.CMDB == nil {
		return nil
	}
	f := d.Form
	picked := formIDQuiet(f.Values["ci"])
	q := f.Values["ciq"]
	if q != "" {
		d.CISearched = true
		page, _, err := s.CMDB.ListCIs(ctx, cmdb.CIFilter{Name: q}, listing.Params{Limit: maxFoundCIs, Sort: "name"})
		if err != nil {
			return err
		}
		for _, c := range page.Items {
			if c.Status == cmdb.StatusDisposed {
				continue
			}
			d.CIs = append(d.CIs, option{Value: itoa(c.ID), Label: c.Name + " (" + words(c.Class) + ")", Selected: c.ID == picked})
		}
		if len(d.CIs) == 1 {
			d.CIs[0].Selected = true
		}
	}
	if picked != 0 && !slices.ContainsFunc(d.CIs, func(o option) bool { return o.Selected }) {
		c, err := s.CMDB.GetCI(ctx, picked)
		switch {
		case err == nil:
			d.CIs = append([]option{{Value: itoa(c.ID), Label: c.Name + " (" + words(c.Class) + ")", Selected: true}}, d.CIs...)
		case errs.KindOf(err) != errs.NotFound:
			return err
		}
	}
	return nil
}
