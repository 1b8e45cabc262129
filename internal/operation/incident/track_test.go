package incident_test

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/operation/incident/servicenow"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

// TestTracking checks reassignment counting and history, and hierarchical escalation.
func TestTracking(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		inc := e.log(e.an, incident.NewIncident{CallerID: e.caller.ID, TeamID: e.team})
		n := inc.Number
		second := e.exec(`INSERT INTO teams (name, created_at, updated_at) VALUES ('Mail team', 0, 0) RETURNING id`)
		e.exec(`INSERT INTO team_members (team_id, user_id) VALUES (?, ?) RETURNING team_id`, second, e.manager.ID)
		for _, a := range [][2]int64{{e.team, e.analyst.ID}, {second, e.manager.ID}} {
			r, _ := e.recs.Get(e.an, n)
			if _, err := e.recs.Assign(e.an, n, a[0], a[1], r.Version); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.recs.Assign(e.c, n, e.team, 0, 0); kind(err) != errs.Forbidden {
			t.Fatalf("caller assigns: %v", err)
		}
		tr, err := e.svc.Tracking(e.an, n)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Reassignments != 1 || len(tr.History) != 3 {
			t.Fatalf("tracking: %+v", tr)
		}
		h := tr.History
		if h[0].TeamName != "Service desk" || h[0].AssigneeID != 0 || h[1].AssigneeName != "analyst" || h[1].Reassignment ||
			h[2].TeamName != "Mail team" || h[2].AssigneeName != "manager" || !h[2].Reassignment || h[2].By != "analyst" {
			t.Fatalf("history: %+v", h)
		}

		// Escalation: IM4, 0 → 3, then refused.
		if _, err := e.svc.Escalate(e.c, n, 0, "too slow"); kind(err) != errs.Forbidden {
			t.Fatalf("caller escalates: %v", err)
		}
		if _, err := e.svc.Escalate(e.an, n, 0, " "); !fieldAt(err, "body.reason") {
			t.Fatalf("escalate without a reason: %v", err)
		}
		for level := 1; level <= 3; level++ {
			got, err := e.svc.Escalate(e.an, n, 0, "No progress in 4 hours")
			if err != nil || got.EscalationLevel != level {
				t.Fatalf("escalation %d: %d, %v", level, got.EscalationLevel, err)
			}
		}
		if _, err := e.svc.Escalate(e.an, n, 0, "more"); kind(err) != errs.Conflict {
			t.Fatalf("beyond level 3: %v", err)
		}
		ev := e.events("incident.escalated")
		if len(ev) != 3 || ev[2].Data["level"] != float64(3) || ev[0].Data["reason"] != "No progress in 4 hours" {
			t.Fatalf("escalated events: %+v", ev)
		}
		informed, _ := ev[0].Data["informed"].([]any)
		if len(informed) != 1 || informed[0].(map[string]any)["username"] != "manager" {
			t.Fatalf("informed: %+v", ev[0].Data["informed"])
		}
		j, _ := e.recs.Journal(e.an, n, true)
		if !strings.Contains(j[len(j)-1].Body, "escalationLevel") {
			t.Fatalf("journal: %+v", j[len(j)-1])
		}
		audited := 0
		for _, it := range e.audits("record.update") {
			for _, c := range it.ChangeList {
				if c.Field == "escalationReason" && c.New == "No progress in 4 hours" {
					audited++
				}
			}
		}
		if audited != 3 {
			t.Fatalf("%d escalations audited, want 3", audited)
		}
	})
}

// finder is a test double of problem management's known-error matching.
type finder struct{ got []incident.KnownErrorQuery }

func (f *finder) FindKnownErrors(_ context.Context, q incident.KnownErrorQuery) ([]incident.KnownErrorMatch, error) {
	f.got = append(f.got, q)
	return []incident.KnownErrorMatch{{Number: "KE0000001", Title: "Mail queue disk fills", Workaround: "Purge the queue",
		Score: 0.9, Why: []string{"same CI"}}}, nil
}

// TestKnownErrors checks that investigation offers known errors through the seam, and none without it.
func TestKnownErrors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		inc := e.log(e.c, incident.NewIncident{Title: "Mail stuck", Description: "queue full", CIID: e.server, Subcategory: "email"})
		if ms, err := e.svc.KnownErrors(e.an, inc.Number); err != nil || ms == nil || len(ms) != 0 {
			t.Fatalf("without a finder: %v, %v", ms, err)
		}
		f := &finder{}
		e.svc.SetKnownErrorFinder(f)
		ms, err := e.svc.KnownErrors(e.an, inc.Number)
		if err != nil || len(ms) != 1 || ms[0].Number != "KE0000001" {
			t.Fatalf("matches: %v, %v", ms, err)
		}
		if q := f.got[0]; q.CIID != e.server || q.Category != "software" || q.Subcategory != "email" || !strings.Contains(q.Text, "queue full") || q.Limit != 5 {
			t.Fatalf("query: %+v", q)
		}
		if _, err := e.svc.MatchKnownErrors(e.c, incident.MatchInput{Title: "dns", Category: "Not A Key"}); !fieldAt(err, "body.category") {
			t.Fatalf("bad category: %v", err)
		}
		if ms, err := e.svc.MatchKnownErrors(e.c, incident.MatchInput{Title: "dns timeout", Category: "network", Limit: 3}); err != nil || len(ms) != 1 || f.got[1].Limit != 3 {
			t.Fatalf("match while logging: %v, %v", ms, err)
		}
	})
}

// TestTrends groups recurring incidents by category, CI and service over a period.
func TestTrends(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		start := e.clock.Now()
		var dns []string
		for i := range 7 {
			inc := e.log(e.c, incident.NewIncident{Category: "network", Subcategory: "dns", CIID: e.server, ServiceID: e.service})
			dns = append(dns, inc.Number)
			e.clock.Advance(time.Hour)
			if i < 2 {
				e.log(e.c, incident.NewIncident{Category: "hardware", CIID: e.server})
			}
		}
		e.log(e.c, incident.NewIncident{Category: "access"})
		tr, err := e.svc.Trends(e.an, incident.TrendQuery{By: "category", From: start})
		if err != nil {
			t.Fatal(err)
		}
		if len(tr) != 2 || tr[0].Key != "network" || tr[0].Label != "Network" || tr[0].Count != 7 || tr[1].Key != "hardware" || tr[1].Count != 2 {
			t.Fatalf("by category: %+v", tr)
		}
		slices.Reverse(dns)
		if !slices.Equal(tr[0].Sample, dns[:5]) || !tr[0].First.Equal(start) || !tr[0].Last.Equal(start.Add(6*time.Hour)) {
			t.Fatalf("network group: %+v, want sample %v", tr[0], dns[:5])
		}
		tr, err = e.svc.Trends(e.an, incident.TrendQuery{By: "ci", From: start, Min: 3})
		if err != nil || len(tr) != 1 || tr[0].Label != "mail01" || tr[0].Count != 9 {
			t.Fatalf("by CI: %+v, %v", tr, err)
		}
		tr, err = e.svc.Trends(e.an, incident.TrendQuery{By: "service", From: start})
		if err != nil || len(tr) != 1 || tr[0].Label != "E-mail" || tr[0].Count != 7 {
			t.Fatalf("by service: %+v, %v", tr, err)
		}
		tr, err = e.svc.Trends(e.an, incident.TrendQuery{By: "category", From: start.Add(3 * time.Hour), To: start.Add(5 * time.Hour)})
		if err != nil || len(tr) != 1 || tr[0].Count != 2 {
			t.Fatalf("a window: %+v, %v", tr, err)
		}
		if _, err := e.svc.Trends(e.an, incident.TrendQuery{By: "colour"}); !fieldAt(err, "query.by") {
			t.Fatalf("bad by: %v", err)
		}
		if _, err := e.svc.Trends(e.an, incident.TrendQuery{By: "ci", From: start, To: start}); !fieldAt(err, "query.from") {
			t.Fatalf("empty period: %v", err)
		}
	})
}

// TestSettingsAndTaxonomy checks the settings (IM1, versioned) and the taxonomy's CRUD.
func TestSettingsAndTaxonomy(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		st, err := e.svc.Settings(e.c)
		if err != nil || st.Version != 0 || st.AutoCloseDays != 5 || st.ReopenDays != 10 || st.MajorPriority != 1 || len(st.SecurityCategories) != 9 {
			t.Fatalf("defaults: %+v, %v", st, err)
		}
		st.Matrix = [][]int{{1, 1, 2, 3}, {1, 2, 3, 4}, {2, 3, 4, 5}, {3, 4, 5, 5}}
		st.MajorPriority = 0
		if _, err := e.svc.SaveSettings(e.an, 0, st); kind(err) != errs.Forbidden || !strings.Contains(err.Error(), "IM1") {
			t.Fatalf("analyst saves settings: %v", err)
		}
		bad := st
		bad.Matrix = [][]int{{1, 2}, {3}}
		if _, err := e.svc.SaveSettings(e.o, 0, bad); !fieldAt(err, "body.matrix[1]") {
			t.Fatalf("ragged matrix: %v", err)
		}
		bad = st
		bad.SecurityCategories = []string{"no-such"}
		if _, err := e.svc.SaveSettings(e.o, 0, bad); !fieldAt(err, "body.securityCategories[0]") {
			t.Fatalf("unknown security category: %v", err)
		}
		saved, err := e.svc.SaveSettings(e.o, 0, st)
		if err != nil || saved.Version != 1 {
			t.Fatalf("save: %+v, %v", saved, err)
		}
		if _, err := e.svc.SaveSettings(e.m, 0, st); kind(err) != errs.PreconditionFailed {
			t.Fatalf("stale save: %v", err)
		}
		// The 4×4 matrix takes impact 4; P1 no longer declares major.
		inc := e.log(e.c, incident.NewIncident{Impact: 4, Urgency: 4})
		if inc.Priority != 5 {
			t.Fatalf("4×4: P%d", inc.Priority)
		}
		inc = e.log(e.c, incident.NewIncident{Impact: 1, Urgency: 1})
		if inc.Priority != 1 || inc.Path != incident.PathNormal {
			t.Fatalf("P1 with the threshold off: %s", inc.Path)
		}

		// Taxonomy.
		cats, err := e.svc.Categories(e.c, nil, true)
		if err != nil || len(cats) < 40 || cats[0].Parent != "" {
			t.Fatalf("taxonomy: %d, %v", len(cats), err)
		}
		if _, err := e.svc.AddCategory(e.an, incident.IncidentCategory{Key: "cloud", Label: "Cloud"}); kind(err) != errs.Forbidden {
			t.Fatalf("analyst adds a category: %v", err)
		}
		if _, err := e.svc.AddCategory(e.m, incident.IncidentCategory{Key: "Cloud!", Label: ""}); !fieldAt(err, "body.key") || !fieldAt(err, "body.label") {
			t.Fatalf("bad category: %v", err)
		}
		cloud, err := e.svc.AddCategory(e.m, incident.IncidentCategory{Key: "cloud", Label: "Cloud", Position: 70})
		if err != nil || cloud.ID == 0 || !cloud.Active {
			t.Fatalf("add: %+v, %v", cloud, err)
		}
		if _, err := e.svc.AddCategory(e.m, incident.IncidentCategory{Key: "cloud", Label: "Cloud"}); !fieldAt(err, "body.key") {
			t.Fatalf("duplicate: %v", err)
		}
		if _, err := e.svc.AddCategory(e.m, incident.IncidentCategory{Key: "iaas", Parent: "sky", Label: "IaaS"}); !fieldAt(err, "body.parent") {
			t.Fatalf("unknown parent: %v", err)
		}
		iaas, err := e.svc.AddCategory(e.m, incident.IncidentCategory{Key: "iaas", Parent: "cloud", Label: "IaaS"})
		if err != nil {
			t.Fatal(err)
		}
		used := e.log(e.c, incident.NewIncident{Category: "cloud", Subcategory: "iaas"})
		if used.CategoryLabel != "Cloud" || used.SubcategoryLabel != "IaaS" {
			t.Fatalf("labels: %+v", used)
		}
		if err := e.svc.DeleteCategory(e.m, iaas.ID); kind(err) != errs.Conflict {
			t.Fatalf("delete a used subcategory: %v", err)
		}
		if _, err := e.svc.UpdateCategory(e.m, iaas.ID, 99, incident.IncidentCategoryChange{Active: ptr(false)}); kind(err) != errs.PreconditionFailed {
			t.Fatalf("stale update: %v", err)
		}
		retired, err := e.svc.UpdateCategory(e.m, iaas.ID, iaas.Version, incident.IncidentCategoryChange{Active: ptr(false), Label: ptr("IaaS (old)")})
		if err != nil || retired.Active || retired.Version != 2 {
			t.Fatalf("retire: %+v, %v", retired, err)
		}
		if _, err := e.svc.Create(e.c, incident.NewIncident{Title: "x", Category: "cloud", Subcategory: "iaas", Impact: 3, Urgency: 3}); !fieldAt(err, "body.subcategory") {
			t.Fatalf("a retired subcategory is picked: %v", err)
		}
		if got := e.get(e.an, used.Number); got.SubcategoryLabel != "IaaS (old)" {
			t.Fatalf("a retired label reads: %q", got.SubcategoryLabel)
		}
		paas, _ := e.svc.AddCategory(e.m, incident.IncidentCategory{Key: "paas", Parent: "cloud", Label: "PaaS"})
		if err := e.svc.DeleteCategory(e.m, paas.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Category(e.m, paas.ID); kind(err) != errs.NotFound {
			t.Fatalf("deleted: %v", err)
		}
		if a := e.audits("incident.category.update"); len(a) != 1 {
			t.Fatalf("%d category audits", len(a))
		}
	})
}

// TestImportServiceNow imports the shared ServiceNow sample twice: every
// incident once, backdated, with its counts and names, and nothing the second time.
func TestImportServiceNow(t *testing.T) {
	t.Parallel()
	f, err := os.Open("../../../../shared/data/incident_event_log.sample.csv")
	if err != nil {
		t.Skipf("the shared sample is not here: %v", err)
	}
	list, rep, err := servicenow.Parse(f, servicenow.Options{})
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		if _, err := e.svc.ImportServiceNow(e.c, list); kind(err) != errs.Forbidden {
			t.Fatalf("caller imports: %v", err)
		}
		start := time.Now()
		res, err := e.svc.ImportServiceNow(e.an, list)
		took := time.Since(start)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != rep.Incidents || res.Created < 800 || res.Updated != 0 || res.Unchanged != 0 || len(res.Skipped) != 0 || res.CategoriesAdded == 0 {
			t.Fatalf("first import: %+v (parsed %d)", res, rep.Incidents)
		}
		t.Logf("%s: imported %d incidents in %v", d.Engine(), res.Created, took)
		if took > 10*time.Second && !raceEnabled {
			t.Errorf("the import took %v", took)
		}
		again, err := e.svc.ImportServiceNow(e.an, list)
		if err != nil || again.Created != 0 || again.Updated != 0 || again.Unchanged != res.Created {
			t.Fatalf("second import: %+v, %v", again, err)
		}
		var n int
		if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM records WHERE type = 'incident'`).Scan(&n); err != nil || n != res.Created {
			t.Fatalf("%d incident records, %v", n, err)
		}

		// INC0000045 of the sample: closed, opened 29-02-2016 01:16, by Caller 2403.
		var src servicenow.Incident
		for _, x := range list {
			if x.Number == "INC0000045" {
				src = x
			}
		}
		var number string
		if err := d.QueryRowContext(context.Background(), `SELECT r.number FROM records r JOIN incidents i ON i.record_id = r.id
			WHERE i.external_ref = 'INC0000045'`).Scan(&number); err != nil {
			t.Fatal(err)
		}
		got := e.get(e.an, number)
		if got.State != src.State || got.External == nil || got.External.Caller != "Caller 2403" || got.External.Group != src.AssignmentGroup ||
			!got.CreatedAt.Equal(time.Date(2016, 2, 29, 1, 16, 0, 0, time.UTC)) || got.Category != src.Category ||
			got.CategoryLabel != src.CategoryLabel || got.Channel != "phone" || got.RequesterID != 0 || got.External.Priority != src.Priority ||
			got.Impact != src.Impact || got.Urgency != src.Urgency || got.Reassignments != int64(src.ReassignmentCount) ||
			got.ReopenCount != src.ReopenCount || (src.MadeSLA != nil && (got.External.MadeSLA == nil || *got.External.MadeSLA != *src.MadeSLA)) {
			t.Fatalf("INC0000045 imported as %+v\nexternal %+v\nfrom %+v", got, got.External, src)
		}
		if want, _ := incident.Priority(incident.DefaultMatrix(), src.Impact, src.Urgency); got.Priority != want {
			t.Fatalf("priority %d, want %d", got.Priority, want)
		}
		if src.State == incident.StateClosed && (got.ClosedAt.IsZero() || got.Resolution == nil || !got.Closed) {
			t.Fatalf("closed without its times: %+v", got)
		}

		// A changed export updates only what changed.
		changed := slices.Clone(list)
		for i := range changed {
			if changed[i].Number == "INC0000045" {
				changed[i].ReassignmentCount += 2
				changed[i].AssignedTo = "Resolver 7"
			}
		}
		third, err := e.svc.ImportServiceNow(e.an, changed)
		if err != nil || third.Updated != 1 || third.Unchanged != res.Created-1 || third.Created != 0 {
			t.Fatalf("third import: %+v, %v", third, err)
		}
		upd := e.get(e.an, number)
		if upd.Reassignments != got.Reassignments+2 || upd.External.Assignee != "Resolver 7" || upd.Version != got.Version+1 {
			t.Fatalf("updated: %d %q v%d", upd.Reassignments, upd.External.Assignee, upd.Version)
		}
		// The imported incidents are in the queue and the trends.
		if _, total, err := e.svc.Queue(e.an, incident.QueueFilter{Open: ptr(false)}, listing.Params{Limit: 1}); err != nil || total == 0 {
			t.Fatalf("closed queue: %d, %v", total, err)
		}
		tr, err := e.svc.Trends(e.an, incident.TrendQuery{By: "category", From: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC),
			To: time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil || len(tr) == 0 || tr[0].Count < 10 || !strings.HasPrefix(tr[0].Label, "Category ") {
			t.Fatalf("trends of the import: %+v, %v", tr, err)
		}
		// Incomplete incidents are skipped with a reason.
		res, err = e.svc.ImportServiceNow(e.an, []servicenow.Incident{{Number: "X1", State: "exploded"}, {Number: "", State: "new"}})
		if err != nil || len(res.Skipped) != 2 || res.Created != 0 {
			t.Fatalf("bad incidents: %+v, %v", res, err)
		}
	})
}
