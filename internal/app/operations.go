package app

// Service operations wiring: incident management, request fulfilment and
// problem management, and the seams between them. Areas do not import each
// other; the adapters below translate one area's seam into another's use case.

import (
	"context"

	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
)

// wireOperations builds the Service Operations areas over a's kernel and joins their seams.
func (a *App) wireOperations(c clock.Clock) {
	a.Requests = request.MustNew(request.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox, Clock: c,
		RACI: a.RACI, Auth: a.Auth})
	a.Incidents = incident.MustNew(incident.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox, Clock: c,
		RACI: a.RACI})
	a.Problems = problem.MustNew(problem.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox, Clock: c,
		Taxonomy: incidentTaxonomy{a.Incidents}})
	a.Incidents.SetKnownErrorFinder(knownErrors{a.Problems})
	a.Incidents.SetRequestOpener(requestOpener{a.Requests})
}

// knownErrors offers the problem area's published known errors to incident management (IM4).
type knownErrors struct{ p *problem.Service }

func (k knownErrors) FindKnownErrors(ctx context.Context, q incident.KnownErrorQuery) ([]incident.KnownErrorMatch, error) {
	ms, err := k.p.FindKnownErrors(ctx, problem.KnownErrorQuery{Text: q.Text, CIID: q.CIID, ServiceID: q.ServiceID,
		Category: q.Category, Subcategory: q.Subcategory, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]incident.KnownErrorMatch, len(ms))
	for i, m := range ms {
		out[i] = incident.KnownErrorMatch{Number: m.Number, Title: m.Title, Workaround: m.Workaround, Problem: m.Problem,
			Score: m.Score, Why: m.Why}
	}
	return out, nil
}

// requestOpener opens the service request an incident is reclassified as (IM3), in the incident's transaction.
type requestOpener struct{ r *request.Service }

func (o requestOpener) OpenFromIncident(ctx context.Context, tx *db.Tx, in incident.ReclassifiedIncident) (string, error) {
	return o.r.OpenFromIncident(ctx, tx, request.FromIncident{Number: in.Number, Title: in.Title, Description: in.Description,
		RequesterID: in.RequesterID, ServiceID: in.ServiceID, CatalogItemID: in.CatalogItemID})
}

// incidentTaxonomy checks a problem's category keys against the incident taxonomy.
type incidentTaxonomy struct{ i *incident.Service }

// KnownCategory reports whether category (and subcategory, when given) are
// active keys of the taxonomy; a subcategory must belong to its category.
func (t incidentTaxonomy) KnownCategory(ctx context.Context, category, subcategory string) (bool, error) {
	parent := ""
	if subcategory != "" {
		parent = category
	}
	cs, err := t.i.Categories(ctx, &parent, true)
	if err != nil {
		return false, err
	}
	want := category
	if subcategory != "" {
		want = subcategory
	}
	for _, c := range cs {
		if c.Key == want {
			return true, nil
		}
	}
	return false, nil
}
