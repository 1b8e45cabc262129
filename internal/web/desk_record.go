package web

import (
	"context"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb"
	"steward/internal/web/graph"
)

// What the record page shows beyond the kernel's record: the affected service
// and the CI graph one hop around it, and for an incident its own fields, the
// known errors that match it, the fields each action takes and, when it is
// major, its timeline of stakeholder updates, its communications log and its
// review; for a service request its form, approvals and fulfilment stages.

// maxNeighbours is how many CIs around the affected CI or service the record page draws.
const maxNeighbours = 40

// neighbourhood is the affected service and CI of a record with the CIs one
// relation away from the one at its centre.
type neighbourhood struct {
	ServiceID   int64
	ServiceName string
	CIID        int64
	CIName      string
	// Centre is the CI the graph is drawn around: the affected CI, else the service.
	Centre     int64
	CentreName string
	Graph      template.HTML
	// Relations list the neighbours as text, for those who do not read the graph.
	Relations []neighbour
	More      int
}

// neighbour is one CI next to the centre.
type neighbour struct {
	ID          int64
	Name, Class string
	Label       string
	Status      statusBadge
}

// incidentPanel is what the record page shows of an incident.
type incidentPanel struct {
	Inc incident.Incident
	// KnownErrors are the known errors that match it, while it is open.
	KnownErrors []incident.KnownErrorMatch
	// Major is the major-incident detail of a major incident.
	Major *incident.MajorDetail
	// MayWorkMajor is set when the user may post updates and log communications.
	MayWorkMajor bool
	// MajorForm holds the update, communication and review forms' values and errors.
	MajorForm *form
	Audiences []option
	Channels  []option
	// NeedsReview is set when the major incident is resolved and its review is missing.
	NeedsReview bool
	// Impact and Urgency say what the levels mean.
	Impact, Urgency string
	// ResolutionLabel names the resolution's code.
	ResolutionLabel string
}

// resolutionLabel names a resolution code through the settings' list.
func (s *site) resolutionLabel(ctx context.Context, inc *incident.Incident) (string, error) {
	if inc.Resolution == nil {
		return "", nil
	}
	st, err := s.Incidents.Settings(ctx)
	if err != nil {
		return "", err
	}
	for _, c := range st.ResolutionCodes {
		if c.Key == inc.Resolution.Code {
			return c.Label, nil
		}
	}
	return words(inc.Resolution.Code), nil
}

// actionField is one field an action takes, as the record page asks for it.
type actionField struct {
	// ID is the input's id and name: the action and the field, "resolve-resolutionCode".
	ID, Name, Label, Hint string
	// Kind is select, textarea, number or checkbox.
	Kind     string
	Options  []option
	Value    string
	Error    string
	Required bool
}

// incidentFieldLabels are the labels of the fields incident actions take.
var incidentFieldLabels = map[string]string{
	"holdReason": "Why it waits", "resolutionCode": "Resolution code", "resolutionNotes": "Resolution notes",
	"effortMinutes": "Effort (minutes)", "firstContact": "Resolved at first contact", "reason": "Reason",
	"closureCategory": "Category at closure", "closureSubcategory": "Subcategory at closure", "catalogItemId": "Catalog item",
}

// requestActionFields are the fields request actions take: a reason the requester reads.
var requestActionFields = map[string][]string{request.ActionReject: {"reason"}, request.ActionNotDone: {"reason"}}

// fieldsOf lists the fields an action of rec takes beyond its comment, or none
// when the record's area is not wired.
func (s *site) fieldsOf(rec *record.Record, action string) (required, optional []string) {
	switch {
	case rec.Type == incident.Type && s.Incidents != nil:
		return incident.ActionFields(action)
	case rec.Type == request.RequestType && s.Requests != nil:
		return requestActionFields[action], nil
	}
	return nil, nil
}

// actionFields builds the inputs an action takes, with what was typed and its errors.
func (s *site) actionFields(ctx context.Context, rec *record.Record, inc *incident.Incident, action string, f *form,
	cache *fieldChoices) ([]actionField, error) {
	req, opt := s.fieldsOf(rec, action)
	var out []actionField
	for _, name := range append(append([]string{}, req...), opt...) {
		id := action + "-" + name
		af := actionField{ID: id, Name: name, Label: incidentFieldLabels[name], Kind: "text", Value: f.Value(id), Error: f.Err(id),
			Required: slices.Contains(req, name)}
		switch name {
		case "holdReason":
			af.Kind = "select"
			for _, h := range incident.HoldReasons {
				af.Options = append(af.Options, option{Value: h, Label: words(h), Selected: af.Value == h})
			}
		case "resolutionCode":
			af.Kind = "select"
			st, err := cache.settings(ctx, s)
			if err != nil {
				return nil, err
			}
			for _, c := range st.ResolutionCodes {
				af.Options = append(af.Options, option{Value: c.Key, Label: c.Label, Selected: af.Value == c.Key})
			}
		case "resolutionNotes":
			af.Kind, af.Hint = "textarea", "What was done; the caller reads it."
		case "reason":
			af.Kind = "textarea"
			if rec.Type == request.RequestType {
				af.Hint = "The requester reads it."
			}
		case "effortMinutes":
			af.Kind = "number"
		case "firstContact":
			af.Kind = "checkbox"
		case "closureCategory", "closureSubcategory":
			af.Kind = "select"
			cats, err := cache.categories(ctx, s)
			if err != nil {
				return nil, err
			}
			cur := ""
			if inc != nil {
				cur = inc.Category
				if name == "closureSubcategory" {
					cur = inc.Subcategory
				}
			}
			if af.Value == "" && !f.Failed() {
				af.Value = cur
			}
			af.Hint = "Review the categorisation: change it if it was wrong."
			st, err := cache.settings(ctx, s)
			if err != nil {
				return nil, err
			}
			// The review never crosses the security line (the service refuses it):
			// a security incident keeps a security category, any other keeps a desk one.
			secure := inc != nil && inc.Path == incident.PathSecurity
			for _, c := range cats {
				if (name == "closureCategory") != (c.Parent == "") {
					continue
				}
				top := c.Key
				if c.Parent != "" {
					top = c.Parent
				}
				if slices.Contains(st.SecurityCategories, top) != secure {
					continue
				}
				label := c.Label
				if c.Parent != "" {
					label = c.Parent + " › " + c.Label
				}
				af.Options = append(af.Options, option{Value: c.Key, Label: label, Selected: af.Value == c.Key})
			}
		case "catalogItemId":
			af.Kind = "number"
			af.Label, af.Hint = "Catalog item id", "Optional: the catalog item the request is for."
		}
		out = append(out, af)
	}
	return out, nil
}

// fieldChoices reads the incident settings and the taxonomy once per page.
type fieldChoices struct {
	st   *incident.IncidentSettings
	cats []incident.IncidentCategory
}

func (c *fieldChoices) settings(ctx context.Context, s *site) (incident.IncidentSettings, error) {
	if c.st == nil {
		st, err := s.Incidents.Settings(ctx)
		if err != nil {
			return st, err
		}
		c.st = &st
	}
	return *c.st, nil
}

func (c *fieldChoices) categories(ctx context.Context, s *site) ([]incident.IncidentCategory, error) {
	if c.cats == nil {
		cats, err := s.Incidents.Categories(ctx, nil, true)
		if err != nil {
			return nil, err
		}
		c.cats = cats
	}
	return c.cats, nil
}

// actionFieldMessage is a service's message about an action's field as the
// form shows it: named by the field's label, a list of keys read as "pick one".
func actionFieldMessage(name, msg string) string {
	label := incidentFieldLabels[name]
	if label == "" {
		return sentence(msg)
	}
	if strings.HasPrefix(msg, "one of ") {
		msg = "pick one from the list"
	}
	return label + ": " + strings.TrimSuffix(msg, ".") + "."
}

// readStepFields reads the fields an action takes from a posted record form
// (named "action-field"), keeping them on f.
func readStepFields(r *http.Request, action string, req, opt []string, f *form) incident.StepFields {
	var sf incident.StepFields
	for _, name := range append(append([]string{}, req...), opt...) {
		id := action + "-" + name
		v := r.PostFormValue(id)
		f.Values[id] = v
		v = strings.TrimSpace(v)
		switch name {
		case "holdReason":
			sf.HoldReason = v
		case "resolutionCode":
			sf.ResolutionCode = v
		case "resolutionNotes":
			sf.ResolutionNotes = v
		case "effortMinutes":
			if v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					f.Set(id, "Give the effort as a whole number of minutes.")
				}
				sf.EffortMinutes = n
			}
		case "firstContact":
			sf.FirstContact = v != ""
		case "reason":
			sf.Reason = v
		case "closureCategory":
			sf.ClosureCategory = v
		case "closureSubcategory":
			sf.ClosureSubcategory = v
		case "catalogItemId":
			if v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n <= 0 {
					f.Set(id, "Give the catalog item's id, a number.")
				}
				sf.CatalogItemID = n
			}
		}
	}
	return sf
}

// performWithFields performs an action of an incident or a service request
// through its area, with the fields it takes. It reports handled=false for
// records whose area is not wired, which the kernel performs.
func (s *site) performWithFields(r *http.Request, rec *record.Record, action string, version int64, f *form) (record.Outcome, bool, error) {
	req, opt := s.fieldsOf(rec, action)
	ctx := r.Context()
	switch {
	case rec.Type == incident.Type && s.Incidents != nil:
		sf := readStepFields(r, action, req, opt, f)
		if f.Failed() {
			return "", true, errs.E(errs.Invalid, "check the fields of the action")
		}
		res, err := s.Incidents.Perform(ctx, rec.Number, action, incident.StepInput{Version: version, Comment: f.Values["comment"], Fields: sf})
		return res.Outcome, true, err
	case rec.Type == request.RequestType && s.Requests != nil:
		sf := readStepFields(r, action, req, opt, f)
		res, err := s.Requests.Perform(ctx, rec.Number, action, request.StepInput{Version: version, Comment: f.Values["comment"], Reason: sf.Reason})
		return res.Outcome, true, err
	}
	return "", false, nil
}

// recordExtras fills what the record page shows beyond the kernel's record.
func (s *site) recordExtras(ctx context.Context, p *auth.Principal, d *recordData, majorForm *form) error {
	rec := &d.Record
	var ciID int64
	if rec.Type == incident.Type && s.Incidents != nil {
		inc, err := s.Incidents.Incident(ctx, rec.Number)
		if err != nil {
			return err
		}
		ip := &incidentPanel{Inc: inc, MajorForm: majorForm}
		ciID = inc.CIID
		ip.Impact, ip.Urgency = levelWord(inc.Impact, impactMeanings), levelWord(inc.Urgency, urgencyMeanings)
		if ip.ResolutionLabel, err = s.resolutionLabel(ctx, &inc); err != nil {
			return err
		}
		if !rec.Closed {
			if ip.KnownErrors, err = s.Incidents.KnownErrors(ctx, rec.Number); err != nil {
				return err
			}
		}
		if inc.Path == incident.PathMajor {
			md, err := s.Incidents.MajorDetail(ctx, rec.Number)
			if err != nil {
				return err
			}
			ip.Major = &md
			ip.NeedsReview = md.Review == nil && (rec.State == incident.StateResolved || rec.State == incident.StateInProgress || rec.State == incident.StateOnHold)
			ip.MayWorkMajor = p.Admin || (md.ManagerID != 0 && md.ManagerID == p.UserID) || d.AnyAllowed
			for _, a := range incident.Audiences {
				ip.Audiences = append(ip.Audiences, option{Value: a, Label: words(a), Selected: majorForm.Value("audience") == a})
			}
			for _, c := range incident.CommChannels {
				ip.Channels = append(ip.Channels, option{Value: c, Label: words(c), Selected: majorForm.Value("commChannel") == c})
			}
		}
		d.Incident = ip
	}
	if rec.Type == request.RequestType && s.Requests != nil {
		req, err := s.Requests.Request(ctx, rec.Number)
		if err != nil {
			return err
		}
		d.Request = &req
	}
	clocks, err := s.clocksPanel(ctx, rec.Number)
	if err != nil {
		return err
	}
	d.Clocks = clocks
	if s.CMDB != nil && (rec.ServiceID != 0 || ciID != 0) {
		nb, err := s.neighbourhood(ctx, rec.ServiceID, ciID)
		if err != nil {
			return err
		}
		d.Around = nb
	}
	return nil
}

// levelWord is what an impact or urgency level means, such as "High".
func levelWord(level int, meanings []string) string {
	if level < 1 || level > len(meanings) {
		return strconv.Itoa(level)
	}
	return strings.SplitN(meanings[level-1], ":", 2)[0]
}

// neighbourhood draws the affected CI (or, without one, the affected service)
// with the CIs one relation away, in a fixed number of queries.
func (s *site) neighbourhood(ctx context.Context, serviceID, ciID int64) (*neighbourhood, error) {
	nb := &neighbourhood{ServiceID: serviceID, CIID: ciID, Centre: ciID}
	if nb.Centre == 0 {
		nb.Centre = serviceID
	}
	ix, err := s.cmdbClasses(ctx)
	if err != nil {
		return nil, err
	}
	var centre cmdb.CI
	for _, id := range []int64{serviceID, ciID} {
		if id == 0 {
			continue
		}
		c, err := s.CMDB.GetCI(ctx, id)
		if errs.KindOf(err) == errs.NotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		if id == serviceID {
			nb.ServiceName = c.Name
		}
		if id == ciID {
			nb.CIName = c.Name
		}
		if id == nb.Centre {
			centre = c
		}
	}
	if centre.ID == 0 {
		return nb, nil
	}
	nb.CentreName = centre.Name
	rels, err := s.CMDB.Relations(ctx, centre.ID, time.Time{})
	if err != nil {
		return nil, err
	}
	nodes := []graph.Node{{ID: centre.ID, Label: centre.Name, Kind: ix.label(centre.Class), State: "root", Layer: 0, Href: "/cmdb/cis/" + itoa(centre.ID)}}
	var edges []graph.Edge
	seen := map[int64]bool{centre.ID: true}
	for _, rel := range append(append([]cmdb.Relation{}, rels.Outgoing...), rels.Incoming...) {
		if rel.Other == nil || seen[rel.Other.ID] {
			continue
		}
		if len(nb.Relations) >= maxNeighbours {
			nb.More++
			continue
		}
		seen[rel.Other.ID] = true
		o := rel.Other
		nb.Relations = append(nb.Relations, neighbour{ID: o.ID, Name: o.Name, Class: ix.label(o.Class), Label: rel.Label, Status: badge(o.Status)})
		nodes = append(nodes, graph.Node{ID: o.ID, Label: o.Name, Kind: ix.label(o.Class), State: "ok", Layer: 1, Href: "/cmdb/cis/" + itoa(o.ID)})
		edges = append(edges, graph.Edge{From: centre.ID, To: o.ID, Label: rel.Label})
	}
	nb.Graph = graph.Render(nodes, edges, graph.Options{Title: "CIs around " + centre.Name, Direction: "down"})
	return nb, nil
}

// majorUpdate serves POST /records/{number}/major/updates: a stakeholder update on a major incident's timeline.
func (s *site) majorUpdate(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.majorChange(w, r, p, "update", func(ctx context.Context, number string, f *form) error {
		_, err := s.Incidents.PostUpdate(ctx, number, f.Values["audience"], f.Values["message"])
		return err
	}, "audience", "message")
}

// majorCommunication serves POST /records/{number}/major/communications: an entry of the communications log.
func (s *site) majorCommunication(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.majorChange(w, r, p, "communication", func(ctx context.Context, number string, f *form) error {
		_, err := s.Incidents.LogCommunication(ctx, number, incident.MajorCommunication{Channel: f.Values["commChannel"],
			Party: f.Values["party"], Summary: f.Values["summary"]})
		renameErr(f, "channel", "commChannel")
		return err
	}, "commChannel", "party", "summary")
}

// majorReview serves POST /records/{number}/major/review: the review a major incident needs before it closes.
func (s *site) majorReview(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.majorChange(w, r, p, "review", func(ctx context.Context, number string, f *form) error {
		_, err := s.Incidents.RecordReview(ctx, number, incident.MajorReview{Summary: f.Values["rvSummary"], RootCause: f.Values["rootCause"],
			Lessons: f.Values["lessons"], Actions: f.Values["followUp"]})
		renameErr(f, "summary", "rvSummary")
		renameErr(f, "actions", "followUp")
		return err
	}, "rvSummary", "rootCause", "lessons", "followUp")
}

// majorChange runs one of the major incident's forms: a refusal re-shows the
// record with the form's values and errors; success returns to the timeline.
func (s *site) majorChange(w http.ResponseWriter, r *http.Request, p *auth.Principal, which string,
	do func(ctx context.Context, number string, f *form) error, fields ...string) error {
	if s.Incidents == nil {
		return errs.E(errs.NotFound, "incident management is not set up on this server")
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	number := record.NormalizeNumber(r.PathValue("number"))
	f := newForm()
	f.Values["form"] = which
	for _, k := range fields {
		f.Values[k] = r.PostFormValue(k)
	}
	if err := do(r.Context(), number, f); err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind == errs.NotFound || e.Kind == errs.Internal {
			return err
		}
		if e.Kind == errs.Conflict {
			// The page has no major-incident panel to show the refusal in when the incident is not major.
			if inc, gerr := s.Incidents.Incident(r.Context(), number); gerr != nil || inc.Path != incident.PathMajor {
				return err
			}
		}
		if !f.FromError(err) {
			f.Error = sentence(e.Message)
		}
		// The service names fields as the API does; the forms' inputs have their own ids.
		switch which {
		case "communication":
			renameErr(f, "channel", "commChannel")
		case "review":
			renameErr(f, "summary", "rvSummary")
			renameErr(f, "actions", "followUp")
		}
		return s.renderRecordWith(w, r, p, httpx.Status(e.Kind), number, newForm(), newForm(), nil, f)
	}
	redirect(w, r, "/records/"+number+"?m=major-"+which+"#major")
	return nil
}
