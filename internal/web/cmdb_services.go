package web

import (
	"net/http"
	"net/url"
	"strings"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
)

// The services list and the open unauthorised-change flags.

// serviceRow is one service in the list.
type serviceRow struct {
	cmdb.ServiceCI
	Status            statusBadge
	Kind, Criticality string
}

// servicesData is the content of the services list.
type servicesData struct {
	Kind, Criticality, Name string
	Criticalities           []string
	Items                   []serviceRow
	Total                   int64
	Next                    string
	Paged                   bool
	Form                    *form
}

// cmdbServices serves GET /cmdb/services: business and technical services
// with their criticality, owner, manager and mission partners.
func (s *site) cmdbServices(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	q := r.URL.Query()
	d := &servicesData{Kind: q.Get("kind"), Criticality: q.Get("criticality"), Name: strings.TrimSpace(q.Get("name")), Form: newForm(), Paged: q.Get("cursor") != ""}
	for _, c := range cmdb.Criticalities {
		d.Criticalities = append(d.Criticalities, string(c))
	}
	if d.Kind != "" && d.Kind != "business" && d.Kind != "technical" {
		d.Kind = ""
	}
	status := http.StatusOK
	page, total, err := s.CMDB.ListServices(r.Context(), cmdb.ServiceFilter{Kind: d.Kind, Criticality: cmdb.Criticality(d.Criticality), Name: d.Name},
		listing.Params{Limit: cmdbPageSize, Cursor: q.Get("cursor"), Sort: "name"})
	switch {
	case err == nil:
		d.Total = total
		for _, sc := range page.Items {
			d.Items = append(d.Items, serviceRow{ServiceCI: sc, Status: badge(sc.Status), Kind: words(sc.Kind), Criticality: words(string(sc.Criticality))})
		}
		if page.NextCursor != "" {
			next := url.Values{"cursor": {page.NextCursor}}
			for k, v := range map[string]string{"kind": d.Kind, "criticality": d.Criticality, "name": d.Name} {
				if v != "" {
					next.Set(k, v)
				}
			}
			d.Next = "/cmdb/services?" + next.Encode()
		}
	case d.Form.FromError(err):
		status = http.StatusUnprocessableEntity
	default:
		return err
	}
	s.render(w, r, status, "cmdb-services", &view{Title: "Services", Section: "cmdb", User: p, Data: d})
	return nil
}

// unauthorisedData is the content of the list of open unauthorised-change flags.
type unauthorisedData struct {
	Items []flagRow
	Total int64
	Next  string
	Paged bool
}

// cmdbUnauthorised serves GET /cmdb/unauthorised: the open flags of changes
// made to CIs with no approved change, newest first.
func (s *site) cmdbUnauthorised(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	cursor := r.URL.Query().Get("cursor")
	page, total, err := s.CMDB.UnauthorisedChanges(ctx, cmdb.UnauthorisedFilter{Open: true}, listing.Params{Limit: cmdbPageSize, Cursor: cursor})
	if err != nil {
		if errs.KindOf(err) == errs.Invalid {
			redirect(w, r, "/cmdb/unauthorised")
			return nil
		}
		return err
	}
	ids := make([]int64, len(page.Items))
	for i, u := range page.Items {
		ids[i] = u.ActorID
	}
	names, err := s.cmdbUsernames(ctx, ids)
	if err != nil {
		return err
	}
	d := &unauthorisedData{Total: total, Paged: cursor != ""}
	for _, u := range page.Items {
		d.Items = append(d.Items, flagRow{UnauthorisedChange: u, By: names[u.ActorID]})
	}
	if page.NextCursor != "" {
		d.Next = "/cmdb/unauthorised?" + url.Values{"cursor": {page.NextCursor}}.Encode()
	}
	s.render(w, r, http.StatusOK, "cmdb-unauthorised", &view{Title: "Unauthorised changes", Section: "cmdb", User: p, Data: d})
	return nil
}
