package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/auth"
	"steward/internal/platform/record"
)

// The service desk workspace, GET /desk: the queues as tabs (mine, my teams,
// unassigned, major), filters, saved filters and bulk changes. Rows come from
// the incident queue's read model for incidents and from the kernel's record
// search for the other types (desk_queue.go); saved filters and bulk changes
// are in desk_actions.go, the new-incident form in desk_incident.go.

// deskPageSize is how many rows one queue page lists.
const deskPageSize = 50

// deskPage is the page path saved filters belong to.
const deskPage = "/desk"

// The queues.
const (
	queueMine       = "mine"
	queueTeams      = "teams"
	queueUnassigned = "unassigned"
	queueMajor      = "major"
)

// queueTab is one queue tab.
type queueTab struct {
	Key, Label, Hint string
}

// queueTabs lists the queues. "Breaching soon" is shown only while service
// levels are measured (sla_desk.go): without agreed targets no record has a deadline.
var queueTabs = []queueTab{
	{queueMine, "Mine", "Open records assigned to you"},
	{queueTeams, "My teams", "Open records of your teams"},
	{queueUnassigned, "Unassigned", "Open incidents nobody is assigned to"},
	{queueMajor, "Major", "Open major incidents"},
	{queueBreaching, "Breaching soon", "Service level clocks due within 4 hours, or breached"},
}

// deskTypes are the record types the desk lists, in the order the type filter offers them.
var deskTypes = []string{"incident", "service_request", "request_task", "problem", "known_error"}

// allTypes is the type filter's value for every type the desk lists.
const allTypes = "all"

// option is one choice of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// deskQuery is what a queue page asks for, as read from the URL.
type deskQuery struct {
	Queue    string
	Type     string
	State    string
	Priority int
	Team     int64
	Service  int64
	Cursor   string
}

// values writes the query back as URL values, without the cursor; empty values are left out.
func (q deskQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" && s != "0" {
			v.Set(k, s)
		}
	}
	set("queue", q.Queue)
	set("type", q.Type)
	set("state", q.State)
	set("priority", strconv.Itoa(q.Priority))
	set("team", itoa(q.Team))
	set("service", itoa(q.Service))
	return v
}

// readDeskQuery reads the queue page's query; values that make no sense are
// errors on their fields, and the page shows the queue without them.
func readDeskQuery(v url.Values, f *form) deskQuery {
	q := deskQuery{Queue: v.Get("queue"), Type: v.Get("type"), State: strings.TrimSpace(v.Get("state")), Cursor: v.Get("cursor")}
	if !slices.ContainsFunc(queueTabs, func(t queueTab) bool { return t.Key == q.Queue }) {
		if q.Queue != "" {
			f.Set("queue", "Pick one of the queues.")
		}
		q.Queue = queueMine
	}
	if q.Type != "" && q.Type != allTypes && !slices.Contains(deskTypes, q.Type) {
		f.Set("type", "Pick a type from the list.")
		q.Type = ""
	}
	if len(q.State) > 40 {
		f.Set("state", "Pick a state from the list.")
		q.State = ""
	}
	num := func(name string, max int64) int64 {
		s := strings.TrimSpace(v.Get(name))
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > max {
			f.Set(name, "Pick a value from the list.")
			return 0
		}
		return n
	}
	q.Priority = int(num("priority", 5))
	q.Team = num("team", 1<<62)
	q.Service = num("service", 1<<62)
	return q
}

// deskData is the content of the desk page.
type deskData struct {
	Query deskQuery
	Form  *form
	// Tabs are the queue tabs with their addresses.
	Tabs []tabLink
	// Current is the current queue's tab.
	Current    queueTab
	Types      []option
	States     []option
	Priorities []option
	Teams      []option
	Services   []option
	Rows       []queueRow
	Total      int64
	// Next and First page through the queue; empty when there is no such page.
	Next, First string
	// QueryString is the current filter as a URL query, which "save" stores.
	QueryString string
	// Here is the address of this page, without the cursor.
	Here string
	// Notes say how the queue was narrowed or why a filter did not apply.
	Notes []string
	Saved []savedView
	// SaveForm is the save-filter form with its error.
	SaveForm *form
	// Bulk is the bulk-change form: its choices and its error.
	Bulk bulkView
	// ShowService is set when the service column has anything to show.
	HasCMDB bool
	// Breaching are the rows of the breaching-soon queue, which lists clocks rather than records.
	Breaching []breachRow
}

// savedView is a saved filter with its address.
type savedView struct {
	record.SavedFilter
	Href string
	// Current is set when the page shows the filter's query.
	Current bool
}

// tabLink is a queue tab as the page links it.
type tabLink struct {
	queueTab
	Href    string
	Current bool
}

// bulkView is what the bulk-change form offers.
type bulkView struct {
	Form    *form
	Teams   []option
	Actions []option
}

// desk serves GET /desk.
func (s *site) desk(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.renderDesk(w, r, p, http.StatusOK, newForm(), newForm())
}

// renderDesk writes the desk page for the URL's query, with the save-filter
// and bulk-change forms as given (a failed POST re-renders with its errors).
func (s *site) renderDesk(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, saveForm, bulkForm *form) error {
	ctx := r.Context()
	f := newForm()
	q := readDeskQuery(r.URL.Query(), f)
	if q.Type == "" {
		// The desk works incidents first: their queue is the read model made for it.
		q.Type = allTypes
		if s.hasIncidents() {
			q.Type = "incident"
		}
	}
	d := &deskData{Query: q, Form: f, SaveForm: saveForm, HasCMDB: s.CMDB != nil}
	// The query as asked is what a saved filter keeps and the forms return to;
	// the queue may narrow q (the team of "my teams").
	vals := q.values()
	res, err := s.queue(ctx, p, &q)
	if err != nil {
		if !f.FromError(err) {
			return err
		}
		status = http.StatusUnprocessableEntity
	}
	d.Query = q
	d.Rows, d.Total, d.Notes, d.Breaching = res.rows, res.total, res.notes, res.breaching
	d.QueryString = vals.Encode()
	d.Here = "/desk"
	if d.QueryString != "" {
		d.Here += "?" + d.QueryString
	}
	if res.next != "" {
		nv := q.values()
		nv.Set("cursor", res.next)
		d.Next = "/desk?" + nv.Encode()
	}
	if q.Cursor != "" {
		d.First = d.Here
	}
	measuring, err := s.measuring(ctx)
	if err != nil {
		return err
	}
	for _, t := range queueTabs {
		if t.Key == queueBreaching && !measuring && q.Queue != queueBreaching {
			continue
		}
		tv := url.Values{"queue": {t.Key}}
		if t.Key != queueMajor && t.Key != queueUnassigned && t.Key != queueBreaching {
			tv.Set("type", q.Type)
		}
		d.Tabs = append(d.Tabs, tabLink{queueTab: t, Href: "/desk?" + tv.Encode(), Current: t.Key == q.Queue})
		if t.Key == q.Queue {
			d.Current = t
		}
	}
	if err := s.deskOptions(r, d, res.teams); err != nil {
		return err
	}
	saved, err := s.Records.SavedFilters(ctx, deskPage)
	if err != nil {
		return err
	}
	for _, sf := range saved {
		d.Saved = append(d.Saved, savedView{SavedFilter: sf, Href: deskAddress(sf.Query, ""), Current: sf.Query == d.QueryString})
	}
	d.Bulk = bulkView{Form: bulkForm, Teams: d.Teams, Actions: s.bulkActions(q.Type, d.Rows)}
	if f.Failed() {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "desk-queue", &view{Title: "Service desk: " + d.Current.Label, Section: "desk", User: p, Data: d,
		Flash: deskFlashes[r.URL.Query().Get("m")]})
	return nil
}

// deskOptions fills the filters' choices: types, states, priorities, teams and services.
func (s *site) deskOptions(r *http.Request, d *deskData, teams []option) error {
	q := d.Query
	d.Types = []option{{Value: allTypes, Label: "All types", Selected: q.Type == allTypes}}
	seen := map[string]bool{}
	for _, name := range deskTypes {
		t, err := s.Records.Type(name)
		if err != nil {
			continue
		}
		d.Types = append(d.Types, option{Value: name, Label: plural(t.Label), Selected: q.Type == name})
		if q.Type != allTypes && q.Type != name {
			continue
		}
		for _, st := range t.States {
			if st.Terminal || st.Closed || seen[st.Name] {
				continue
			}
			seen[st.Name] = true
			d.States = append(d.States, option{Value: st.Name, Label: st.Label, Selected: q.State == st.Name})
		}
	}
	d.States = append([]option{{Value: "", Label: "Any open state", Selected: q.State == ""}}, d.States...)
	d.Priorities = []option{{Value: "", Label: "Any priority", Selected: q.Priority == 0}}
	for i := 1; i <= 5; i++ {
		d.Priorities = append(d.Priorities, option{Value: strconv.Itoa(i), Label: "P" + strconv.Itoa(i) + " " + priorityNames[i], Selected: q.Priority == i})
	}
	d.Teams = teams
	services, err := s.allServices(r.Context())
	if err != nil {
		return err
	}
	d.Services = []option{{Value: "", Label: "Any service", Selected: q.Service == 0}}
	for _, sv := range services {
		d.Services = append(d.Services, option{Value: itoa(sv.ID), Label: sv.Name, Selected: q.Service == sv.ID})
	}
	return nil
}

// plural makes a type's label plural for the type filter: "Incidents".
func plural(label string) string {
	switch {
	case label == "":
		return label
	case strings.HasSuffix(label, "s"):
		return label
	case strings.HasSuffix(label, "y") && !strings.HasSuffix(label, "ey"):
		return label[:len(label)-1] + "ies"
	}
	return label + "s"
}

// bulkActions lists the workflow actions the bulk form offers: those of the
// filtered type, or of the types on the page, each once, by label.
func (s *site) bulkActions(typ string, rows []queueRow) []option {
	types := []string{typ}
	if typ == allTypes {
		types = nil
		for _, r := range rows {
			if !slices.Contains(types, r.Type) {
				types = append(types, r.Type)
			}
		}
	}
	var out []option
	seen := map[string]bool{}
	for _, name := range types {
		t, err := s.Records.Type(name)
		if err != nil {
			continue
		}
		for _, tr := range t.Transitions {
			if tr.System || seen[tr.Action] {
				continue
			}
			seen[tr.Action] = true
			label := tr.Label
			if label == "" {
				label = tr.Action
			}
			out = append(out, option{Value: tr.Action, Label: label})
		}
	}
	slices.SortFunc(out, func(a, b option) int { return strings.Compare(a.Label, b.Label) })
	return out
}

// The desk's template functions join the shared ones before any template is
// parsed (Register parses them): they are fixed functions, not state.
func init() {
	templateFuncs["priorityLabel"] = priorityLabel
	templateFuncs["priorityClass"] = priorityClass
	templateFuncs["words"] = words
}
