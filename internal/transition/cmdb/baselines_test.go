package cmdb_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
)

// TestBaselineComparison takes a baseline of the servers, then changes an
// attribute, adds and ends a relation, retires a CI and registers another:
// comparing with now shows exactly those differences; a baseline of the
// operational servers sees the retired one as removed instead; two baselines
// compare with each other.
func TestBaselineComparison(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		web := e.ci("server", "web-01", cmdb.Attrs{"os": "Linux", "cpu_count": 4})
		app := e.ci("server", "app-01", cmdb.Attrs{"os": "Linux"})
		dbs := e.ci("server", "db-01", cmdb.Attrs{"os": "Linux"})
		doc := e.ci("document", "runbook", nil) // out of the class scope
		ended := e.relate(web.ID, "depends_on", app.ID)
		e.relate(app.ID, "depends_on", dbs.ID)
		e.relate(web.ID, "depends_on", doc.ID) // its target is out of scope

		all, err := e.svc.CreateBaseline(e.mgr, cmdb.NewBaseline{Name: "servers before", Scope: cmdb.BaselineScope{Class: "server"}})
		if err != nil {
			t.Fatal(err)
		}
		if all.CICount != 3 || all.RelationCount != 2 {
			t.Fatalf("baseline holds %d CIs and %d relations, want 3 and 2", all.CICount, all.RelationCount)
		}
		ops, err := e.svc.CreateBaseline(e.lib, cmdb.NewBaseline{Name: "operational servers",
			Scope: cmdb.BaselineScope{Class: "server", Status: cmdb.StatusOperational}})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)

		// The changes.
		if _, err := e.svc.UpdateCI(e.mgr, web.ID, web.Version, cmdb.CIUpdate{Attrs: cmdb.Attrs{"os": "Windows"}}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.RemoveRelation(e.mgr, ended.ID, ""); err != nil {
			t.Fatal(err)
		}
		e.relate(web.ID, "runs_on", dbs.ID)
		retired := cmdb.StatusRetired
		cur, _ := e.svc.GetCI(e.mgr, dbs.ID)
		if _, err := e.svc.UpdateCI(e.mgr, dbs.ID, cur.Version, cmdb.CIUpdate{Status: &retired}); err != nil {
			t.Fatal(err)
		}
		added := e.ci("server", "web-02", nil)
		e.ci("application", "not a server", nil)

		c, err := e.svc.CompareBaseline(e.str, all.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := cmdb.Comparison{
			Baseline:  cmdb.BaselineRef{ID: all.ID, Name: "servers before", TakenAt: all.TakenAt},
			At:        e.clock.Now(),
			SameScope: true,
			Summary:   cmdb.ComparisonSummary{Added: 1, Changed: 2, Unchanged: 1, RelationsAdded: 1, RelationsRemoved: 1},
			Added:     []cmdb.CIRef{{ID: added.ID, Name: "web-02", Class: "server", Status: cmdb.StatusOperational}},
			Removed:   []cmdb.CIRef{},
			Changed: []cmdb.CIDiff{
				{CIRef: cmdb.CIRef{ID: web.ID, Name: "web-01", Class: "server", Status: cmdb.StatusOperational},
					Changes: []audit.Change{{Field: "attributes.os", Old: "Linux", New: "Windows"}}},
				{CIRef: cmdb.CIRef{ID: dbs.ID, Name: "db-01", Class: "server", Status: cmdb.StatusRetired},
					Changes: []audit.Change{{Field: "status", Old: "operational", New: "retired"}}},
			},
			RelationsAdded:   []cmdb.RelationEnds{{SourceID: web.ID, SourceName: "web-01", Type: "runs_on", TargetID: dbs.ID, TargetName: "db-01"}},
			RelationsRemoved: []cmdb.RelationEnds{{SourceID: web.ID, SourceName: "web-01", Type: "depends_on", TargetID: app.ID, TargetName: "app-01"}},
		}
		if diff := ctlJSONDiff(want, c); diff != "" {
			t.Errorf("comparison with now: %s", diff)
		}

		// Scoped to operational servers, the retired one has left the scope,
		// and so have its relations.
		c, err = e.svc.CompareBaseline(e.str, ops.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Summary; got != (cmdb.ComparisonSummary{Added: 1, Removed: 1, Changed: 1, Unchanged: 1, RelationsRemoved: 2}) {
			t.Errorf("operational scope: summary %+v", got)
		}
		if len(c.Removed) != 1 || c.Removed[0].ID != dbs.ID || c.Removed[0].Status != cmdb.StatusRetired {
			t.Errorf("removed %+v, want db-01, now retired", c.Removed)
		}

		// A later baseline against the first: the same differences.
		later, err := e.svc.CreateBaseline(e.mgr, cmdb.NewBaseline{Name: "servers after", Scope: cmdb.BaselineScope{Class: "server"}})
		if err != nil {
			t.Fatal(err)
		}
		c2, err := e.svc.CompareBaseline(e.str, all.ID, later.ID)
		if err != nil {
			t.Fatal(err)
		}
		want.Against, want.At = &cmdb.BaselineRef{ID: later.ID, Name: "servers after", TakenAt: later.TakenAt}, time.Time{}
		if diff := ctlJSONDiff(want, c2); diff != "" {
			t.Errorf("comparison with a later baseline: %s", diff)
		}
		c3, err := e.svc.CompareBaseline(e.str, all.ID, ops.ID)
		if err != nil || c3.SameScope {
			t.Errorf("baselines of different scopes: sameScope %v, err %v", c3.SameScope, err)
		}

		// The baseline keeps what the CIs were.
		items, total, err := e.svc.BaselineItems(e.str, all.ID, listing.Params{})
		if err != nil || total != 3 {
			t.Fatalf("items: %d, %v", total, err)
		}
		if items.Items[0].Name != "web-01" || items.Items[0].Attrs["os"] != "Linux" || items.Items[2].Status != cmdb.StatusOperational {
			t.Errorf("items %+v", items.Items)
		}
	})
}

// TestBaselineRules covers the scope of a service, who may take a baseline,
// names, empty scopes, and that taking one is audited once with one event.
func TestBaselineRules(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		svc, err := e.svc.CreateService(e.mgr, cmdb.NewService{Name: "Payroll", Kind: "business"})
		if err != nil {
			t.Fatal(err)
		}
		app := e.ci("application", "payroll-app", nil)
		host := e.ci("server", "payroll-host", nil)
		other := e.ci("server", "unrelated", nil)
		e.relate(svc.ID, "depends_on", app.ID)
		e.relate(app.ID, "runs_on", host.ID)
		b, err := e.svc.CreateBaseline(e.lib, cmdb.NewBaseline{Name: "payroll", Scope: cmdb.BaselineScope{ServiceID: svc.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if b.CICount != 3 || b.RelationCount != 2 {
			t.Errorf("service baseline: %d CIs, %d relations; want 3 and 2", b.CICount, b.RelationCount)
		}
		// Explicit CIs, narrowed by class.
		b2, err := e.svc.CreateBaseline(e.mgr, cmdb.NewBaseline{Name: "two servers", Scope: cmdb.BaselineScope{CIs: []int64{host.ID, other.ID, app.ID}, Class: "server"}})
		if err != nil || b2.CICount != 2 {
			t.Fatalf("explicit baseline: %+v, %v", b2, err)
		}

		_, err = e.svc.CreateBaseline(e.str, cmdb.NewBaseline{Name: "nope", Scope: cmdb.BaselineScope{Class: "server"}})
		ctlWantKind(t, err, errs.Forbidden)
		_, err = e.svc.CreateBaseline(e.mgr, cmdb.NewBaseline{Name: "payroll", Scope: cmdb.BaselineScope{Class: "server"}})
		ctlWantKind(t, err, errs.Conflict)
		_, err = e.svc.CreateBaseline(e.mgr, cmdb.NewBaseline{Name: "empty", Scope: cmdb.BaselineScope{Class: "storage"}})
		ctlWantKind(t, err, errs.Invalid)
		_, err = e.svc.CreateBaseline(e.mgr, cmdb.NewBaseline{Name: "bad", Scope: cmdb.BaselineScope{Class: "nope", CIs: []int64{999}, ServiceID: host.ID}})
		if got := ctlLocations(err); !slices.Equal(got, []string{"body.scope.class"}) {
			t.Errorf("bad scope: %v", got)
		}
		_, err = e.svc.CreateBaseline(e.mgr, cmdb.NewBaseline{Name: "bad", Scope: cmdb.BaselineScope{CIs: []int64{999}, ServiceID: host.ID}})
		if got := ctlLocations(err); !slices.Equal(got, []string{"body.scope.cis", "body.scope.serviceId"}) {
			t.Errorf("bad scope: %v", got)
		}
		if n := e.count(`SELECT COUNT(*) FROM ci_baselines`); n != 2 {
			t.Errorf("%d baselines, want 2", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'ci.baseline'`); n != 2 {
			t.Errorf("%d audit entries, want 2", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM outbox_events WHERE type = 'ci.baseline.created'`); n != 2 {
			t.Errorf("%d events, want 2", n)
		}
		if _, err := e.svc.CompareBaseline(e.str, 999, 0); !errs.Is(err, errs.NotFound) {
			t.Errorf("unknown baseline: %v", err)
		}
	})
}

// TestBaselineAPI takes, lists, reads and compares baselines over HTTP.
func TestBaselineAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newCtlEnv(t, d)
		a := newCtlAPI(e)
		mgr, str := a.Token(e.manager), a.Token(e.stranger)
		web := e.ci("server", "web-01", cmdb.Attrs{"os": "Linux"})
		body := map[string]any{"name": "servers", "scope": map[string]any{"class": "server"}}
		a.do(http.MethodPost, "/api/v1/baselines", str, "", body).Want(t, http.StatusForbidden)
		var b cmdb.Baseline
		a.do(http.MethodPost, "/api/v1/baselines", mgr, "", body).Want(t, http.StatusCreated).Decode(t, &b)
		if b.CICount != 1 {
			t.Fatalf("baseline %+v", b)
		}
		a.do(http.MethodPost, "/api/v1/baselines", mgr, "", body).Want(t, http.StatusConflict)
		a.do(http.MethodPost, "/api/v1/baselines", mgr, "", map[string]any{"name": "x", "scope": map[string]any{"status": "gone"}}).
			Want(t, http.StatusUnprocessableEntity)
		for i := range 2 {
			a.do(http.MethodPost, "/api/v1/baselines", mgr, "", map[string]any{"name": fmt.Sprint("more ", i)}).Want(t, http.StatusCreated)
		}
		var list listing.Page[cmdb.Baseline]
		r := a.do(http.MethodGet, "/api/v1/baselines?limit=2", str, "", nil).Want(t, http.StatusOK)
		r.Decode(t, &list)
		if r.Header.Get("X-Total-Count") != "3" || len(list.Items) != 2 || list.Items[0].Name != "more 1" || r.Header.Get("Link") == "" {
			t.Errorf("list: %s %v", r.Body, r.Header)
		}
		a.do(http.MethodGet, "/api/v1/baselines?name=serv", str, "", nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].ID != b.ID {
			t.Errorf("filtered list: %+v", list.Items)
		}
		var got cmdb.Baseline
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/baselines/%d", b.ID), str, "", nil).Want(t, http.StatusOK).Decode(t, &got)
		if got.Name != "servers" || got.Scope.Class != "server" {
			t.Errorf("baseline %+v", got)
		}
		a.do(http.MethodGet, "/api/v1/baselines/999", str, "", nil).Want(t, http.StatusNotFound)
		var items listing.Page[cmdb.BaselineItem]
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/baselines/%d/items", b.ID), str, "", nil).Want(t, http.StatusOK).Decode(t, &items)
		if len(items.Items) != 1 || items.Items[0].CIID != web.ID {
			t.Errorf("items %+v", items)
		}

		if _, err := e.svc.UpdateCI(e.mgr, web.ID, web.Version, cmdb.CIUpdate{Attrs: cmdb.Attrs{"os": "BSD"}}); err != nil {
			t.Fatal(err)
		}
		var c cmdb.Comparison
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/baselines/%d/compare", b.ID), str, "", nil).Want(t, http.StatusOK).Decode(t, &c)
		if c.Summary.Changed != 1 || c.Changed[0].Changes[0].Field != "attributes.os" {
			t.Errorf("comparison %+v", c)
		}
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/baselines/%d/compare?against=%d", b.ID, list.Items[0].ID), str, "", nil).Want(t, http.StatusOK)
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/baselines/%d/compare?against=soon", b.ID), str, "", nil).Want(t, http.StatusUnprocessableEntity)
		a.do(http.MethodGet, fmt.Sprintf("/api/v1/baselines/%d/compare?against=999", b.ID), str, "", nil).Want(t, http.StatusUnprocessableEntity)
	})
}
