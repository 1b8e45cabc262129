package gen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/app"
	"steward/internal/gen"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// cmdbScale is the scale of the CMDB tests: 8,000 CIs and about 24,000 relations.
const cmdbScale = 8_000

// openApp opens the application on a fresh database of engine e, which
// migrates it and seeds the CMDB's class tree, as "steward gen" does.
func openApp(t *testing.T, e db.Engine) *app.App {
	t.Helper()
	cfg := app.Config{DatabaseURL: dbtest.URL(t, e), DataDir: t.TempDir(), Addr: "127.0.0.1:0",
		LockoutThreshold: 5, LockoutDuration: time.Minute, ShutdownTimeout: 5 * time.Second}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open the app on %s: %v", e, err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

// generateCMDB opens the app on engine e and generates scale n into it.
func generateCMDB(t *testing.T, e db.Engine, n int, seed uint64) (*app.App, gen.Summary) {
	t.Helper()
	a := openApp(t, e)
	sum, err := gen.Run(context.Background(), a.DB, gen.Config{Scale: n, Seed: seed, Model: a.Model})
	if err != nil {
		t.Fatalf("generate on %s: %v", e, err)
	}
	return a, sum
}

// one runs a one-value query.
func one[T any](t *testing.T, d *db.DB, q string, args ...any) T {
	t.Helper()
	var v T
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// closure counts the CIs a failure of roots reaches, from the relation rows
// and the relation types' propagation, independently of the impact engine.
func closure(t *testing.T, d *db.DB, roots ...int64) int {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT r.source_id, r.target_id, t.propagation FROM ci_relations r
		JOIN ci_relation_types t ON t.id = r.type_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	next := map[int64][]int64{}
	for rows.Next() {
		var s, d int64
		var p string
		if err := rows.Scan(&s, &d, &p); err != nil {
			t.Fatal(err)
		}
		if p == "to_source" || p == "both" {
			next[d] = append(next[d], s)
		}
		if p == "to_target" || p == "both" {
			next[s] = append(next[s], d)
		}
	}
	seen := map[int64]bool{}
	queue := append([]int64(nil), roots...)
	for _, r := range roots {
		seen[r] = true
	}
	for i := 0; i < len(queue); i++ {
		for _, n := range next[queue[i]] {
			if !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	return len(queue)
}

// TestCMDBShape checks the generated CMDB against its plan: every kind of CI
// in its proportion, about three relations per CI with a power-law fan-in,
// clusters with sound thresholds, unique serial numbers and asset tags,
// history, services with owners and partners, and the benchmarks' markers.
func TestCMDBShape(t *testing.T) {
	t.Parallel()
	a, sum := generateCMDB(t, db.SQLite, cmdbScale, 1)
	d := a.DB
	plan := gen.CMDBPlanFor(cmdbScale)
	if sum.Rows["cis"] != int64(plan.CIs) {
		t.Errorf("%d CIs, want %d", sum.Rows["cis"], plan.CIs)
	}
	if rel := float64(sum.Rows["ci_relations"]) / float64(plan.CIs); rel < 2.7 || rel > 3.3 {
		t.Errorf("%.2f relations per CI, want about 3", rel)
	}
	byClass := map[string]int64{}
	rows, err := d.QueryContext(context.Background(), `SELECT k.name, COUNT(*) FROM cis c JOIN ci_classes k ON k.id = c.class_id GROUP BY k.name`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		var c int64
		if err := rows.Scan(&n, &c); err != nil {
			t.Fatal(err)
		}
		byClass[n] = c
	}
	rows.Close()
	for class, want := range map[string]int{"location": plan.Locations, "server": plan.Servers, "virtual_server": plan.VMs,
		"database": plan.Databases} {
		if byClass[class] != int64(want) {
			t.Errorf("%d CIs of class %s, want %d", byClass[class], class, want)
		}
	}
	if byClass["business_service"]+byClass["technical_service"] != int64(plan.Services) || byClass["application"] < int64(plan.CIs)/3 ||
		byClass["network_device"] == 0 || byClass["cluster"] == 0 {
		t.Errorf("CIs by class: %v", byClass)
	}
	// Power law: a few databases and applications have many dependents, most a handful.
	top := one[int64](t, d, `SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM ci_relations WHERE type_id =
		(SELECT id FROM ci_relation_types WHERE name = 'depends_on') GROUP BY target_id) s`)
	if top < 100 {
		t.Errorf("the most depended-on CI has %d dependents, want a hub", top)
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM (SELECT c.id, c.min_up, COUNT(r.id) AS members FROM cis c
		JOIN ci_relations r ON r.target_id = c.id AND r.type_id = (SELECT id FROM ci_relation_types WHERE name = 'member_of')
		WHERE c.class_id = (SELECT id FROM ci_classes WHERE name = 'cluster')
		GROUP BY c.id, c.min_up HAVING COUNT(r.id) < 2 OR COUNT(r.id) > 9 OR c.min_up >= COUNT(r.id)) s`); n != 0 {
		t.Errorf("%d clusters with fewer than 2 or more than 9 members or a min_up not below their size", n)
	}
	for _, attr := range []string{"serial_number", "asset_tag", "hostname"} {
		if n := one[int64](t, d, `SELECT COUNT(*) - COUNT(DISTINCT value) FROM ci_attr_values WHERE attr_id IN
			(SELECT id FROM ci_attributes WHERE name = ?)`, attr); n != 0 {
			t.Errorf("%d repeated values of %s", n, attr)
		}
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM cis WHERE class_id IN (SELECT id FROM ci_classes WHERE name IN ('server', 'network_device'))
		AND id NOT IN (SELECT ci_id FROM ci_attr_values WHERE attr_id = (SELECT id FROM ci_attributes WHERE name = 'asset_tag'))`); n != 0 {
		t.Errorf("%d physical devices without an asset tag", n)
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM cis c WHERE c.version <> 1 + (SELECT COUNT(*) FROM ci_versions v WHERE v.ci_id = c.id)
		OR c.valid_from < c.created_at OR c.updated_at <> c.valid_from OR c.valid_from >= ?`, gen.EpochMillis); n != 0 {
		t.Errorf("%d CIs whose version, times or history disagree", n)
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM ci_versions v JOIN cis c ON c.id = v.ci_id WHERE v.valid_from >= v.valid_to
		OR v.valid_to > c.valid_from OR (v.version = 1 AND v.valid_from <> c.created_at)
		OR (v.version > 1 AND v.valid_from <> (SELECT p.valid_to FROM ci_versions p WHERE p.ci_id = v.ci_id AND p.version = v.version - 1))`); n != 0 {
		t.Errorf("%d versions whose validity does not chain", n)
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM ci_versions`); n < cmdbScale/20 {
		t.Errorf("%d older versions, want some history", n)
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM ci_relations_ended e WHERE e.created_at >= e.ended_at
		OR e.id IN (SELECT id FROM ci_relations)`); n != 0 || sum.Rows["ci_relations_ended"] == 0 {
		t.Errorf("%d ended relations of %d are inconsistent", n, sum.Rows["ci_relations_ended"])
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM ci_services s WHERE
		(SELECT COUNT(*) FROM raci_assignments a WHERE a.subject = '*' AND a.scope_service_id = s.ci_id AND a.role IN ('service-owner', 'service-manager')) <> 2
		OR NOT EXISTS (SELECT 1 FROM ci_service_partners p WHERE p.service_id = s.ci_id)`); n != 0 {
		t.Errorf("%d services without an owner, a manager and a mission partner", n)
	}
	// Relations come after their ends, and ids rise with time.
	if n := one[int64](t, d, `SELECT COUNT(*) FROM ci_relations r JOIN cis s ON s.id = r.source_id JOIN cis d ON d.id = r.target_id
		WHERE r.created_at < s.created_at OR r.created_at < d.created_at`); n != 0 {
		t.Errorf("%d relations older than one of their CIs", n)
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM cis a JOIN cis b ON b.id = a.id + 1 WHERE b.created_at < a.created_at`); n != 0 {
		t.Errorf("%d CIs registered before the CI with the id before theirs", n)
	}
	// The markers: one each, the what-if servers at one site.
	for _, name := range []string{gen.CMDBImpactHub, gen.CMDBRelationsHub} {
		if n := one[int64](t, d, `SELECT COUNT(*) FROM cis WHERE name = ?`, name); n != 1 {
			t.Errorf("%d CIs named %s", n, name)
		}
	}
	if n := one[int64](t, d, `SELECT COUNT(DISTINCT r.target_id) FROM cis c JOIN ci_relations r ON r.source_id = c.id
		AND r.type_id = (SELECT id FROM ci_relation_types WHERE name = 'located_at') WHERE c.name LIKE ?`, gen.CMDBWhatIfPrefix+"%"); n != 1 {
		t.Errorf("the what-if servers are at %d sites, want one", n)
	}
	if n := one[int64](t, d, `SELECT COUNT(*) FROM cis WHERE name LIKE ?`, gen.CMDBWhatIfPrefix+"%"); n != gen.CMDBWhatIf {
		t.Errorf("%d what-if servers, want %d", n, gen.CMDBWhatIf)
	}
	hub := one[int64](t, d, `SELECT id FROM cis WHERE name = ?`, gen.CMDBImpactHub)
	if n := closure(t, d, hub); n < 500 {
		t.Errorf("the impact hub reaches %d CIs, want a hub", n)
	}
	// A few cycles.
	cyclic := one[int64](t, d, `SELECT COUNT(*) FROM ci_relations a JOIN ci_relations b ON b.source_id = a.target_id
		JOIN ci_relations c ON c.source_id = b.target_id AND c.target_id = a.source_id`)
	if cyclic == 0 {
		t.Error("no dependency cycles")
	}
}

// TestCMDBSameSeedSameData generates the CMDB twice per engine and compares
// every row, and the engines with each other.
func TestCMDBSameSeedSameData(t *testing.T) {
	t.Parallel()
	tables := []string{"mission_partners", "cis", "ci_versions", "ci_attr_values", "ci_services", "ci_service_partners",
		"ci_relations", "ci_relations_ended", "raci_assignments"}
	dumps := map[db.Engine]map[string][]string{}
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			a1, _ := generateCMDB(t, e, 2_000, 11)
			a2, _ := generateCMDB(t, e, 2_000, 11)
			x, y := dumpTables(t, a1.DB, tables), dumpTables(t, a2.DB, tables)
			diff(t, "same seed", x, y)
			if len(x["cis"]) != 2_000 {
				t.Fatalf("%d CIs", len(x["cis"]))
			}
			dumps[e] = x
		})
	}
	if s, p := dumps[db.SQLite], dumps[db.Postgres]; s != nil && p != nil {
		diff(t, "sqlite against postgres", s, p)
	}
}

// dumpTables is dump for the named tables.
func dumpTables(t *testing.T, d *db.DB, tables []string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, tb := range tables {
		rows, err := d.QueryContext(context.Background(), `SELECT * FROM `+tb)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				switch x := v.(type) {
				case []byte:
					v = string(x)
				case bool:
					v = map[bool]int{false: 0, true: 1}[x]
				}
				fmt.Fprintf(&b, "%s=%v|", cols[i], v)
			}
			out[tb] = append(out[tb], b.String())
		}
		rows.Close()
		slicesSort(out[tb])
	}
	return out
}

// api is an authenticated client of a running app.
type api struct {
	t     *testing.T
	url   string
	token string
}

func serve(t *testing.T, a *app.App) *api {
	t.Helper()
	ctx := context.Background()
	h, err := a.Handler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	u, err := a.Auth.CreateUser(ctx, authUser("cmdb-admin"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Auth.CreateToken(ctx, u.ID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &api{t: t, url: srv.URL, token: tok}
}

// do sends a request and decodes a JSON answer into out (when not nil); it returns the status and ETag.
func (c *api) do(method, path string, body any, header map[string]string, out any) (int, string) {
	c.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.url+path, r)
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 && out != nil {
		c.t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header.Get("ETag")
}

// TestCMDBReadsBackThroughTheAPI checks that the generated CMDB is what the
// service would have written: the application's own API reads every kind of
// CI, its relations, history and impact (the impact engine reaching exactly
// the closure of the relation rows), finds CIs by indexed attributes, and
// carries on from where the generator stopped.
func TestCMDBReadsBackThroughTheAPI(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			a, _ := generateCMDB(t, e, cmdbScale, 2)
			d, c := a.DB, serve(t, a)
			type ci struct {
				ID         int64          `json:"id"`
				Class      string         `json:"class"`
				Name       string         `json:"name"`
				Version    int64          `json:"version"`
				Attributes map[string]any `json:"attributes"`
			}
			// Every class reads back, attributes stored as the service encodes them.
			rows, err := d.QueryContext(context.Background(), `SELECT MIN(id) FROM cis GROUP BY class_id`)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			rows.Close()
			if len(ids) != 9 {
				t.Errorf("CIs of %d classes, want 9", len(ids))
			}
			for _, id := range ids {
				var got ci
				if st, _ := c.do("GET", "/api/v1/cis/"+strconv.FormatInt(id, 10), nil, nil, &got); st != 200 || got.ID != id || got.Class == "" {
					t.Errorf("GET CI %d: %d %+v", id, st, got)
				}
				stored := one[string](t, d, `SELECT attrs FROM cis WHERE id = ?`, id)
				var m map[string]any
				if err := json.Unmarshal([]byte(stored), &m); err != nil {
					t.Fatal(err)
				}
				if canon, _ := json.Marshal(m); string(canon) != stored {
					t.Errorf("CI %d attributes stored as %s, the service would store %s", id, stored, canon)
				}
			}
			// Impact: the engine reaches exactly the closure of the relation rows.
			type impact struct {
				Down, Degraded int
				Nodes          []struct{ ID int64 }
				Services       []struct {
					Partners []string `json:"missionPartners"`
				}
				Truncated bool
			}
			hub := one[int64](t, d, `SELECT id FROM cis WHERE name = ?`, gen.CMDBImpactHub)
			var imp impact
			if st, _ := c.do("GET", fmt.Sprintf("/api/v1/cis/%d/impact", hub), nil, nil, &imp); st != 200 {
				t.Fatalf("impact of the hub: %d", st)
			}
			if want := closure(t, d, hub); len(imp.Nodes) != want || imp.Down+imp.Degraded != want || imp.Truncated {
				t.Errorf("impact of the hub: %d nodes (%d down, %d degraded), the relations reach %d", len(imp.Nodes), imp.Down, imp.Degraded, want)
			}
			var sim []int64
			rows, err = d.QueryContext(context.Background(), `SELECT id FROM cis WHERE name LIKE ? ORDER BY id`, gen.CMDBWhatIfPrefix+"%")
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id int64
				rows.Scan(&id)
				sim = append(sim, id)
			}
			rows.Close()
			if st, _ := c.do("POST", "/api/v1/impact/simulate", map[string]any{"cis": sim}, nil, &imp); st != 200 || len(imp.Nodes) != closure(t, d, sim...) {
				t.Errorf("what-if of %d servers: %d, %d nodes, the relations reach %d", len(sim), st, len(imp.Nodes), closure(t, d, sim...))
			}
			// Relations: the CI with about a thousand of them (at this scale, its most related CI).
			relHub := one[int64](t, d, `SELECT id FROM cis WHERE name = ?`, gen.CMDBRelationsHub)
			var rels struct {
				Outgoing, Incoming []struct {
					Other struct{ Name string }
				}
			}
			want := one[int64](t, d, `SELECT COUNT(*) FROM ci_relations WHERE source_id = ? OR target_id = ?`, relHub, relHub)
			if st, _ := c.do("GET", fmt.Sprintf("/api/v1/cis/%d/relations", relHub), nil, nil, &rels); st != 200 ||
				int64(len(rels.Outgoing)+len(rels.Incoming)) != want || want < 50 {
				t.Errorf("relations of %d: %d, %d+%d, want %d", relHub, st, len(rels.Outgoing), len(rels.Incoming), want)
			}
			// History: versions with their changes, and the CI as it was.
			var withHistory, oldest int64
			if err := d.QueryRowContext(context.Background(), `SELECT ci_id, MIN(valid_from) FROM ci_versions
				GROUP BY ci_id HAVING COUNT(*) >= 2 ORDER BY ci_id`).Scan(&withHistory, &oldest); err != nil {
				t.Fatal(err)
			}
			var hist struct {
				Versions []struct {
					Version int64
					Changes []struct{ Field string }
				}
			}
			if st, _ := c.do("GET", fmt.Sprintf("/api/v1/cis/%d/history", withHistory), nil, nil, &hist); st != 200 || len(hist.Versions) < 3 {
				t.Errorf("history of %d: %d, %+v", withHistory, st, hist)
			}
			for _, v := range hist.Versions {
				if len(v.Changes) == 0 {
					t.Errorf("version %d of CI %d changes nothing", v.Version, withHistory)
				}
			}
			at := time.UnixMilli(oldest + 1).UTC().Format(time.RFC3339)
			if st, _ := c.do("GET", fmt.Sprintf("/api/v1/cis/%d/history?at=%s", withHistory, at), nil, nil, nil); st != 200 {
				t.Errorf("CI %d as it was at %s: %d", withHistory, at, st)
			}
			// Services with owner, manager and partners.
			svc := one[int64](t, d, `SELECT MIN(ci_id) FROM ci_services`)
			var sc struct {
				Kind     string
				Owner    *struct{ ID int64 }
				Manager  *struct{ ID int64 }
				Partners []string `json:"missionPartners"`
			}
			if st, _ := c.do("GET", fmt.Sprintf("/api/v1/services/%d", svc), nil, nil, &sc); st != 200 || sc.Owner == nil || sc.Manager == nil || len(sc.Partners) == 0 {
				t.Errorf("service %d: %d %+v", svc, st, sc)
			}
			// Identification by indexed attributes.
			serial := one[string](t, d, `SELECT v.value FROM ci_attr_values v JOIN ci_attributes a ON a.id = v.attr_id
				WHERE a.name = 'serial_number' ORDER BY v.ci_id LIMIT 1`)
			var page struct{ Items []ci }
			if st, _ := c.do("GET", "/api/v1/cis?attr=serial_number&value="+strings.ToUpper(serial), nil, nil, &page); st != 200 || len(page.Items) != 1 {
				t.Errorf("find serial %s: %d, %d CIs", serial, st, len(page.Items))
			}
			// The service carries on: a new CI gets the next id, a taken asset tag is refused, a generated CI changes.
			tag := one[string](t, d, `SELECT v.value FROM ci_attr_values v JOIN ci_attributes a ON a.id = v.attr_id WHERE a.name = 'asset_tag' LIMIT 1`)
			last := one[int64](t, d, `SELECT MAX(id) FROM cis`)
			var created ci
			if st, _ := c.do("POST", "/api/v1/cis", map[string]any{"class": "server", "name": "after-the-load",
				"attributes": map[string]any{"asset_tag": "NEW-1"}}, nil, &created); st != 201 || created.ID != last+1 {
				t.Errorf("a CI after the load: %d, id %d after %d", st, created.ID, last)
			}
			if st, _ := c.do("POST", "/api/v1/cis", map[string]any{"class": "server", "name": "dup", "attributes": map[string]any{"asset_tag": strings.ToUpper(tag)}},
				nil, nil); st != http.StatusConflict {
				t.Errorf("a taken asset tag %s: %d, want 409", tag, st)
			}
			var got ci
			_, etag := c.do("GET", fmt.Sprintf("/api/v1/cis/%d", hub), nil, nil, &got)
			if st, _ := c.do("PATCH", fmt.Sprintf("/api/v1/cis/%d", hub), map[string]any{"attributes": map[string]any{"environment": "test"}},
				map[string]string{"If-Match": etag}, &got); st != 200 || got.Version < 2 {
				t.Errorf("change the hub: %d, version %d", st, got.Version)
			}
			if st, _ := c.do("POST", fmt.Sprintf("/api/v1/cis/%d/relations", created.ID), map[string]any{"type": "depends_on", "targetId": hub}, nil, nil); st != 201 {
				t.Errorf("relate the new CI to the hub: %d", st)
			}
		})
	}
}

// TestCMDBNeedsTheClassTree checks that a database without the seeded class
// tree gets no CMDB (and no error).
func TestCMDBNeedsTheClassTree(t *testing.T) {
	t.Parallel()
	_, sum := generate(t, db.SQLite, 2_000, 1)
	if sum.Rows["cis"] != 0 {
		t.Errorf("%d CIs without a class tree", sum.Rows["cis"])
	}
}

// TestCMDBScale generates the CMDB of STEWARD_GEN_CMDB_SCALE (such as 1M)
// and reports its rows and time; it is skipped without it.
func TestCMDBScale(t *testing.T) {
	s := os.Getenv("STEWARD_GEN_CMDB_SCALE")
	if s == "" {
		t.Skip("STEWARD_GEN_CMDB_SCALE not set")
	}
	n, err := gen.ParseScale(s)
	if err != nil {
		t.Fatal(err)
	}
	e := db.Engine(os.Getenv("STEWARD_GEN_CMDB_ENGINE"))
	if e == "" {
		e = db.SQLite
	}
	a, sum := generateCMDB(t, e, n, 1)
	t.Logf("%s scale %d: %d rows in %s (%.0f rows/s)", e, n, sum.Total, sum.Elapsed, sum.RowsPerSec())
	for _, st := range sum.Steps {
		t.Logf("  %-14s %9d rows in %s", st.Name, st.Rows, st.Elapsed)
	}
	for _, tb := range sum.Tables() {
		t.Logf("  %-24s %9d", tb, sum.Rows[tb])
	}
	d := a.DB
	for _, name := range []string{gen.CMDBImpactHub, gen.CMDBRelationsHub} {
		id := one[int64](t, d, `SELECT id FROM cis WHERE name = ?`, name)
		t.Logf("%s: CI %d, %d relations, closure %d", name, id,
			one[int64](t, d, `SELECT COUNT(*) FROM ci_relations WHERE source_id = ? OR target_id = ?`, id, id), closure(t, d, id))
	}
}

// authUser is an administrator to act as through the API.
func authUser(name string) auth.NewUser {
	return auth.NewUser{Username: name, Password: "correct-horse-battery-staple-42", Admin: true}
}

// TestCMDBSmallScales generates the smallest CMDBs (every relation unique,
// or the unique index refuses the load) and none below scale 1,000.
func TestCMDBSmallScales(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 999, 1_000, 1_234, 3_000} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			_, sum := generateCMDB(t, db.SQLite, n, uint64(n))
			if want := int64(n); n < 1_000 && sum.Rows["cis"] != 0 || n >= 1_000 && sum.Rows["cis"] != want {
				t.Errorf("scale %d: %d CIs", n, sum.Rows["cis"])
			}
		})
	}
}
