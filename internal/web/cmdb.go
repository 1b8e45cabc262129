package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/transition/cmdb"
)

// The configuration management pages: the CI list and a CI's page with its
// attributes, relations, history and a view as of a past moment. Editing is in
// cmdb_edit.go, the impact graph and the what-if outage in cmdb_impact.go,
// the services and the unauthorised-change flags in cmdb_services.go.

// cmdbPageSize is how many CIs, services or flags one list page shows.
const cmdbPageSize = 50

// maxVersionsShown is how many versions a CI page's history lists.
const maxVersionsShown = 50

// statusBadge is a CI lifecycle status (or an impact state) as a badge: its
// word, which carries the meaning, and a colour class.
type statusBadge struct{ Text, Class string }

// badge is the badge of a lifecycle status.
func badge(s cmdb.Status) statusBadge {
	c := "tag-expired"
	switch s {
	case cmdb.StatusOperational:
		c = "tag-active"
	case cmdb.StatusMaintenance:
		c = "tag-public"
	case cmdb.StatusPlanned, cmdb.StatusOrdered, cmdb.StatusBuild, cmdb.StatusTest:
		c = "tag-current"
	}
	return statusBadge{Text: string(s), Class: c}
}

// stateBadge is the badge of an impact state: down, degraded, or unaffected.
func stateBadge(state string) statusBadge {
	switch state {
	case "down":
		return statusBadge{Text: "down", Class: "tag-revoked"}
	case "degraded":
		return statusBadge{Text: "degraded", Class: "tag-public"}
	}
	return statusBadge{}
}

// words turns a machine value such as "mission_critical" into "Mission critical".
func words(s string) string {
	s = strings.ReplaceAll(s, "_", " ")
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// classIndex is the CI class tree, looked up by name.
type classIndex struct {
	list []cmdb.Class
	by   map[string]*cmdb.Class
}

// cmdbClasses reads the class tree (from the service's cached catalogue).
func (s *site) cmdbClasses(ctx context.Context) (*classIndex, error) {
	list, err := s.CMDB.Classes(ctx)
	if err != nil {
		return nil, err
	}
	ix := &classIndex{list: list, by: make(map[string]*cmdb.Class, len(list))}
	for i := range list {
		ix.by[list[i].Name] = &list[i]
	}
	return ix, nil
}

// label is a class's label, or its name when unknown.
func (ix *classIndex) label(name string) string {
	if c, ok := ix.by[name]; ok {
		return c.Label
	}
	return name
}

// isA reports whether class name is ancestor or one of its descendants.
func (ix *classIndex) isA(name, ancestor string) bool {
	for c, n := ix.by[name], 0; c != nil && n < 64; c, n = ix.by[c.Parent], n+1 {
		if c.Name == ancestor {
			return true
		}
	}
	return false
}

// depth is how many ancestors a class has.
func (ix *classIndex) depth(name string) int {
	d := 0
	for c := ix.by[name]; c != nil && c.Parent != "" && d < 64; c = ix.by[c.Parent] {
		d++
	}
	return d
}

// classOption is a class in a select or the class tree, indented by its depth.
type classOption struct {
	Name, Label string
	// Indent is the label with one step of indentation per ancestor, for a select.
	Indent   string
	Depth    int
	Abstract bool
	Selected bool
}

func (ix *classIndex) options(selected string) []classOption {
	out := make([]classOption, len(ix.list))
	for i, c := range ix.list {
		d := ix.depth(c.Name)
		out[i] = classOption{Name: c.Name, Label: c.Label, Indent: strings.Repeat("\u00a0\u00a0\u00a0", d) + c.Label,
			Depth: min(d, 6), Abstract: c.Abstract, Selected: c.Name == selected}
	}
	return out
}

// cmdbUsernames names the users in ids with one query, whatever their number
// (up to a page of the user listing); an unknown id reads "user N".
func (s *site) cmdbUsernames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	var want []int64
	for _, id := range ids {
		if id != 0 && !slices.Contains(want, id) {
			want = append(want, id)
		}
	}
	for start := 0; start < len(want); start += listing.MaxLimit {
		chunk := want[start:min(start+listing.MaxLimit, len(want))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		page, _, err := s.Auth.ListUsers(ctx, listing.Params{Limit: listing.MaxLimit},
			[]listing.Filter{{Where: "id IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ") + ")", Args: args}})
		if err != nil {
			return nil, err
		}
		for _, u := range page.Items {
			out[u.ID] = u.Username
		}
	}
	for _, id := range want {
		if _, ok := out[id]; !ok {
			out[id] = "user " + itoa(id)
		}
	}
	return out, nil
}

// ciPathID reads the {id} of a CMDB page's path; anything but a positive
// integer is no page.
func ciPathID(r *http.Request) (int64, error) {
	id, ok := pathID(r)
	if !ok {
		return 0, errs.E(errs.NotFound, "there is no page at this address")
	}
	return id, nil
}

// ---- the CI list ----

// ciListRow is one CI in the list.
type ciListRow struct {
	CI         cmdb.CI
	ClassLabel string
	Status     statusBadge
}

// attrOption is an indexed attribute the list can filter by.
type attrOption struct {
	Name, Label string
	Selected    bool
}

// ciListData is the content of the CI list.
type ciListData struct {
	Filter   cmdb.CIFilter
	Sort     string
	Classes  []classOption
	Statuses []string
	Attrs    []attrOption
	Items    []ciListRow
	Total    int64
	// Next is the address of the next page, or "" on the last one; Paged is set after the first.
	Next  string
	Paged bool
	// First is the address of the first page with the same filters.
	First string
	Form  *form
}

// ciSorts are the orders the CI list offers, with their labels.
var ciSorts = []struct{ Value, Label string }{{"name", "Name"}, {"-updatedAt", "Recently updated"}, {"id", "Registration"}}

// cmdbList serves GET /cmdb: the CIs, filtered by class (with its
// subclasses), status, name prefix or an indexed attribute, a page at a time.
func (s *site) cmdbList(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	q := r.URL.Query()
	f := cmdb.CIFilter{Class: q.Get("class"), Status: cmdb.Status(q.Get("status")), Name: strings.TrimSpace(q.Get("name")),
		Attr: q.Get("attr"), Value: strings.TrimSpace(q.Get("value"))}
	d := &ciListData{Filter: f, Sort: "name", Form: newForm(), Paged: q.Get("cursor") != ""}
	for _, o := range ciSorts {
		if q.Get("sort") == o.Value {
			d.Sort = o.Value
		}
	}
	ix, err := s.cmdbClasses(ctx)
	if err != nil {
		return err
	}
	d.Classes = ix.options(f.Class)
	for _, st := range cmdb.Statuses {
		d.Statuses = append(d.Statuses, string(st))
	}
	seen := map[string]bool{}
	for _, c := range ix.list {
		for _, a := range c.Attributes {
			if a.Indexed && !seen[a.Name] {
				seen[a.Name] = true
				d.Attrs = append(d.Attrs, attrOption{Name: a.Name, Label: a.Label, Selected: a.Name == f.Attr})
			}
		}
	}
	slices.SortFunc(d.Attrs, func(a, b attrOption) int { return strings.Compare(a.Label, b.Label) })
	// A value needs an attribute; an attribute without a value filters nothing.
	if f.Value == "" {
		f.Attr = ""
	} else if f.Attr == "" {
		d.Form.Set("attr", "Choose the attribute whose value to match.")
	}
	status := http.StatusOK
	if !d.Form.Failed() {
		page, total, err := s.CMDB.ListCIs(ctx, f, listing.Params{Limit: cmdbPageSize, Cursor: q.Get("cursor"), Sort: d.Sort})
		switch {
		case err == nil:
			d.Total = total
			for _, c := range page.Items {
				d.Items = append(d.Items, ciListRow{CI: c, ClassLabel: ix.label(c.Class), Status: badge(c.Status)})
			}
			base := url.Values{}
			for k, v := range map[string]string{"class": f.Class, "status": string(f.Status), "name": f.Name, "attr": f.Attr, "value": f.Value} {
				if v != "" {
					base.Set(k, v)
				}
			}
			base.Set("sort", d.Sort)
			d.First = "/cmdb?" + base.Encode()
			if page.NextCursor != "" {
				base.Set("cursor", page.NextCursor)
				d.Next = "/cmdb?" + base.Encode()
			}
		case d.Form.FromError(err):
			status = http.StatusUnprocessableEntity
			if d.Form.Err("cursor") != "" {
				d.Form.Errors["cursor"] = "The page link is out of date. Start again from the first page."
			}
		default:
			return err
		}
	} else {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "cmdb-list", &view{Title: "Configuration items", Section: "cmdb", User: p, Data: d})
	return nil
}

// ---- a CI's page ----

// attrRow is one attribute of a CI as people read it.
type attrRow struct {
	Name, Label, Value string
	// Text marks a multi-line text value.
	Text bool
	// Ref is the CI a reference attribute points at, with its name.
	Ref     int64
	RefName string
}

// relRow is one relation of a CI, from the CI's side.
type relRow struct {
	ID         int64
	Other      cmdb.CIRef
	ClassLabel string
	Status     statusBadge
	Since      time.Time
	Ended      time.Time
}

// relGroup is a CI's relations of one type in one direction: "depends on", "used by".
type relGroup struct {
	Label string
	// Outgoing is set when the CI is the relation's source.
	Outgoing bool
	Rows     []relRow
}

// changeRow is one field a version changed, old → new.
type changeRow struct{ Field, Old, New string }

// versionRow is one version of a CI in its history.
type versionRow struct {
	Version  int64
	From, To time.Time
	By       string
	Changes  []changeRow
	// AsOf marks the version the page shows as of a past moment.
	AsOf bool
}

// serviceView is the service record of a service CI.
type serviceView struct {
	Kind, Criticality string
	Owner, Manager    *cmdb.Person
	Partners          []string
}

// flagRow is an open unauthorised-change flag.
type flagRow struct {
	cmdb.UnauthorisedChange
	By string
}

// ciPageData is the content of a CI's page (and of a service's page).
type ciPageData struct {
	CI         cmdb.CI
	ClassLabel string
	// ClassPath is the class's ancestors, root first, then the class.
	ClassPath []string
	Status    statusBadge
	Attrs     []attrRow
	Groups    []relGroup
	RelCount  int
	Versions  []versionRow
	// OlderVersions counts the versions not listed.
	OlderVersions int
	// AsOf is the past moment the page shows, or zero for now.
	AsOf time.Time
	// AtValue is the "view as of" input's value; AtError says why it was not used.
	AtValue, AtError string
	// Current is the CI's current version, when the page shows a past one.
	Current int64
	Service *serviceView
	Flags   []flagRow
	// FlagTotal counts the CI's open flags.
	FlagTotal int64
	// Edit is the edit form, or nil; EditDenied says why the user may not edit.
	Edit       *ciEdit
	EditDenied string
}

// parseAt reads a "view as of" time: a datetime-local value, taken as UTC, or RFC 3339.
func parseAt(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.UTC); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time")
}

// cmdbCI serves GET /cmdb/cis/{id}: the CI now, or as of ?at=.
func (s *site) cmdbCI(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := ciPathID(r)
	if err != nil {
		return err
	}
	return s.renderCI(w, r, p, http.StatusOK, id, nil, false)
}

// cmdbService serves GET /cmdb/services/{id}: a service's CI page with its service record.
func (s *site) cmdbService(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := ciPathID(r)
	if err != nil {
		return err
	}
	return s.renderCI(w, r, p, http.StatusOK, id, nil, true)
}

// renderCI writes a CI's page. Its cost does not grow with the CI's relations:
// the relations are two queries and every other part is a fixed number.
// edit, when not nil, is a failed edit to show again with its errors.
func (s *site) renderCI(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, id int64, edit *form, servicePage bool) error {
	ctx := r.Context()
	ix, err := s.cmdbClasses(ctx)
	if err != nil {
		return err
	}
	cur, err := s.CMDB.GetCI(ctx, id)
	if err != nil {
		return err
	}
	d := &ciPageData{CI: cur}
	var rels cmdb.Relations
	if v := r.URL.Query().Get("at"); v != "" && r.Method == http.MethodGet {
		d.AtValue = v
		at, perr := parseAt(v)
		if perr != nil {
			d.AtError = "Give the moment as a date and time, such as 2026-01-31T12:00 (UTC)."
		} else {
			snap, err := s.CMDB.CIAt(ctx, id, at)
			switch {
			case err == nil:
				d.CI, rels, d.AsOf, d.Current = snap.CI, snap.Relations, snap.At, cur.Version
				d.AtValue = snap.At.Format("2006-01-02T15:04")
			case errs.KindOf(err) == errs.NotFound:
				d.AtError = sentence(errMessage(err)) + " The page shows it as it is now."
			default:
				return err
			}
		}
	}
	if d.AsOf.IsZero() {
		if rels, err = s.CMDB.Relations(ctx, id, time.Time{}); err != nil {
			return err
		}
	}
	isService := ix.isA(cur.Class, "service")
	if servicePage && !isService {
		return errs.E(errs.NotFound, "CI %d is not a service", id)
	}
	c := d.CI
	d.ClassLabel, d.Status = ix.label(c.Class), badge(c.Status)
	// The path leaves out the root class every CI has, unless the CI is of it.
	for cl := ix.by[c.Class]; cl != nil && len(d.ClassPath) < 64; cl = ix.by[cl.Parent] {
		if cl.Parent != "" || len(d.ClassPath) == 0 {
			d.ClassPath = append([]string{cl.Label}, d.ClassPath...)
		}
	}
	class := ix.by[c.Class]
	if d.Attrs, err = s.attrRows(ctx, class, c.Attrs); err != nil {
		return err
	}
	d.Groups, d.RelCount = relGroups(ix, rels)

	versions, err := s.CMDB.Versions(ctx, id)
	if err != nil {
		return err
	}
	flags, total, err := s.CMDB.UnauthorisedChanges(ctx, cmdb.UnauthorisedFilter{CIID: id, Open: true}, listing.Params{Limit: 10})
	if err != nil {
		return err
	}
	d.FlagTotal = total
	var people []int64
	for _, v := range versions[:min(len(versions), maxVersionsShown)] {
		people = append(people, v.ChangedBy)
	}
	for _, f := range flags.Items {
		people = append(people, f.ActorID)
	}
	names, err := s.cmdbUsernames(ctx, people)
	if err != nil {
		return err
	}
	for i, v := range versions {
		if i == maxVersionsShown {
			d.OlderVersions = len(versions) - i
			break
		}
		vr := versionRow{Version: v.Version, From: v.ValidFrom, To: v.ValidTo, By: names[v.ChangedBy], AsOf: !d.AsOf.IsZero() && v.Version == d.CI.Version}
		for _, ch := range v.Changes {
			vr.Changes = append(vr.Changes, changeRow{Field: ch.Field, Old: valueText(ch.Old), New: valueText(ch.New)})
		}
		d.Versions = append(d.Versions, vr)
	}
	for _, f := range flags.Items {
		d.Flags = append(d.Flags, flagRow{UnauthorisedChange: f, By: names[f.ActorID]})
	}
	scope := raci.Scope{}
	if isService {
		sc, err := s.CMDB.GetService(ctx, id)
		if err != nil {
			return err
		}
		d.Service = &serviceView{Kind: words(sc.Kind), Criticality: words(string(sc.Criticality)), Owner: sc.Owner, Manager: sc.Manager, Partners: sc.Partners}
		scope.ServiceID = id
	}
	if d.AsOf.IsZero() && class != nil {
		dec, err := s.RACI.Decide(ctx, p, cmdb.Process, cmdb.ActControl, scope)
		if err != nil {
			return err
		}
		if dec.Allowed {
			d.Edit = editForm(cur, class, edit, ix.isA(cur.Class, "cluster"))
		} else {
			d.EditDenied = sentence(dec.Explanation)
		}
	}
	title := c.Name
	v := &view{Title: title, Section: "cmdb", User: p, Data: d}
	switch r.URL.Query().Get("saved") {
	case "1":
		v.Flash = "Saved: the CI is now version " + itoa(cur.Version) + "."
	case "none":
		v.Flash = "Nothing changed, so nothing was saved."
	}
	s.render(w, r, status, "cmdb-ci", v)
	return nil
}

// errMessage is the message of a service error, without what was being done.
func errMessage(err error) string {
	if e, ok := errs.As(err); ok && e.Message != "" {
		return e.Message
	}
	return err.Error()
}

// attrRows lists a CI's attributes in its class's order (inherited ones
// first), then any value the class no longer declares. A reference attribute
// names the CI it points at: one read per reference attribute of the class.
func (s *site) attrRows(ctx context.Context, class *cmdb.Class, attrs cmdb.Attrs) ([]attrRow, error) {
	var out []attrRow
	declared := map[string]bool{}
	if class != nil {
		for _, a := range class.Attributes {
			declared[a.Name] = true
			v, ok := attrs[a.Name]
			row := attrRow{Name: a.Name, Label: a.Label, Text: a.Type == cmdb.TypeText}
			if ok {
				row.Value = valueText(v)
				if a.Type == cmdb.TypeBoolean {
					row.Value = map[bool]string{true: "Yes", false: "No"}[v == true]
				}
			}
			if a.Type == cmdb.TypeReference && ok {
				if n, isInt := v.(int64); isInt {
					row.Ref, row.RefName = n, "CI "+itoa(n)
					if other, err := s.CMDB.GetCI(ctx, n); err == nil {
						row.RefName = other.Name
					} else if errs.KindOf(err) != errs.NotFound {
						return nil, err
					}
				}
			}
			out = append(out, row)
		}
	}
	var extra []string
	for k := range attrs {
		if !declared[k] {
			extra = append(extra, k)
		}
	}
	slices.Sort(extra)
	for _, k := range extra {
		out = append(out, attrRow{Name: k, Label: k, Value: valueText(attrs[k])})
	}
	return out, nil
}

// relGroups groups a CI's relations by type and direction, outgoing first,
// each row with the other CI's class label and status.
func relGroups(ix *classIndex, rels cmdb.Relations) ([]relGroup, int) {
	var out []relGroup
	add := func(list []cmdb.Relation, outgoing bool) {
		for _, rel := range list {
			n := len(out)
			if n == 0 || out[n-1].Outgoing != outgoing || out[n-1].Label != rel.Label {
				out = append(out, relGroup{Label: rel.Label, Outgoing: outgoing})
				n++
			}
			row := relRow{ID: rel.ID, Since: rel.CreatedAt, Ended: rel.EndedAt}
			if rel.Other != nil {
				row.Other, row.ClassLabel, row.Status = *rel.Other, ix.label(rel.Other.Class), badge(rel.Other.Status)
			}
			out[n-1].Rows = append(out[n-1].Rows, row)
		}
	}
	add(rels.Outgoing, true)
	add(rels.Incoming, false)
	return out, len(rels.Outgoing) + len(rels.Incoming)
}

// valueText writes an attribute or history value for people; absent is "".
func valueText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case cmdb.Status:
		return string(x)
	case fmt.Stringer:
		return x.String()
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
