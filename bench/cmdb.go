package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"steward/internal/gen"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/transition/cmdb/impact"
)

// The CMDB scenarios run on the estate the generator's cmdb step writes
// (internal/gen/cmdb.go): N CIs and about 3N relations at scale N, with three
// named markers: bench-hub-10k, whose downstream impact reaches about 10,000
// CIs; bench-rel-1000, with about 1,000 relations; and bench-sim-01 … 50, the
// physical servers of one site.

// importBatch is how many CIs one cmdb.import operation imports.
const importBatch = 2_000

// cmdbScenarios measure impact analysis, the CI page, the what-if simulation
// and the bulk import on the generated CMDB.
func cmdbScenarios() []Scenario {
	return []Scenario{
		{
			Name:  "cmdb.impact",
			Phase: Online,
			Measures: "GET /api/v1/cis/{id}/impact of " + gen.CMDBImpactHub + ", the CI whose failure reaches about 10,000 CIs: " +
				"the level-by-level walk, the CIs' names and classes, the services reached with their partners, JSON.",
			Setup: setupCMDBImpact,
		},
		{
			Name:  "cmdb.ci_page",
			Phase: Online,
			Measures: "The page /cmdb/cis/{id} of " + gen.CMDBRelationsHub + ", the CI with about 1,000 relations, in a browser session " +
				"(on a server without the CMDB pages: GET /api/v1/cis/{id} and its /relations).",
			Setup: setupCMDBPage,
		},
		{
			Name:  "cmdb.simulate",
			Phase: Online,
			Measures: "POST /api/v1/impact/simulate failing the 50 physical servers of one site (" + gen.CMDBWhatIfPrefix +
				"01 … 50) together: what fails or degrades, honouring cluster redundancy.",
			Setup: setupCMDBSimulate,
		},
		{
			Name:  "cmdb.import",
			Phase: Online,
			Measures: fmt.Sprintf("POST /api/v1/cis/import of a CSV file of %d new servers (host name, domain, unique serial number and "+
				"asset tag, address, OS, CPUs, memory): identification, validation, one transaction. CIs/s is %d × ops/s.", importBatch, importBatch),
			Setup: setupCMDBImport,
		},
	}
}

// logf prints a scenario's own notes where bench prints its progress.
func logf(format string, args ...any) { fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...) }

// ciIDs reads the ids of the CIs with the given names, in the names' order.
func ciIDs(ctx context.Context, d *db.DB, names ...string) ([]int64, error) {
	out := make([]int64, len(names))
	for i, n := range names {
		if err := d.QueryRowContext(ctx, `SELECT id FROM cis WHERE name = ? ORDER BY id LIMIT 1`, n).Scan(&out[i]); err != nil {
			if err == sql.ErrNoRows {
				return nil, fmt.Errorf("no CI named %s: the generated organisation has no CMDB (was the class tree seeded?)", n)
			}
			return nil, fmt.Errorf("find CI %s: %w", n, err)
		}
	}
	return out, nil
}

// impactSummary is the part of an impact answer the log reports.
type impactSummary struct {
	Down, Degraded int
	Nodes          []json.RawMessage
	Services       []json.RawMessage
	Truncated      bool
}

// getJSON makes one request and decodes its JSON answer.
func (env *Env) getJSON(ctx context.Context, method, path string, body []byte, into any) error {
	req, err := http.NewRequestWithContext(ctx, method, env.BaseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+env.Token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := env.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b[:min(len(b), 300)]))
	}
	return json.Unmarshal(b, into)
}

// countingQueryer counts the queries made through it.
type countingQueryer struct {
	db.Queryer
	n atomic.Int64
}

func (c *countingQueryer) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.n.Add(1)
	return c.Queryer.QueryContext(ctx, q, args...)
}

func (c *countingQueryer) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c.n.Add(1)
	return c.Queryer.QueryRowContext(ctx, q, args...)
}

// engineQueries walks the impact of roots in-process with the impact engine
// over a counting source, and returns the CIs reached and the queries it took.
func engineQueries(ctx context.Context, d *db.DB, roots []int64) (nodes, queries int, err error) {
	rows, err := d.QueryContext(ctx, `SELECT id, propagation, redundancy FROM ci_relation_types`)
	if err != nil {
		return 0, 0, err
	}
	var types []impact.RelType
	for rows.Next() {
		var t impact.RelType
		if err := rows.Scan(&t.ID, &t.Propagation, &t.Redundancy); err != nil {
			rows.Close()
			return 0, 0, err
		}
		types = append(types, t)
	}
	rows.Close()
	q := &countingQueryer{Queryer: d}
	res, err := impact.New(types, impact.NewSQLSource(q)).Downstream(ctx, roots, impact.Options{Limit: 200_000})
	if err != nil {
		return 0, 0, err
	}
	return len(res.Nodes), int(q.n.Load()), nil
}

// describeImpact logs what an impact answer holds and what the walk costs in queries.
func describeImpact(ctx context.Context, env *Env, what string, roots []int64, s impactSummary) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return
	}
	defer d.Close()
	nodes, queries, err := engineQueries(ctx, d, roots)
	if err != nil {
		logf("%s: the in-process walk failed: %v", what, err)
		return
	}
	logf("%s %s: reaches %d CIs (%d down, %d degraded, truncated %v) and %d services; the engine's walk alone takes %d queries "+
		"(in-process, %d CIs), and reading the CIs' names %d more", env.Engine, what, len(s.Nodes), s.Down, s.Degraded, s.Truncated,
		len(s.Services), queries, nodes, (len(s.Nodes)+499)/500)
}

func setupCMDBImpact(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	ids, err := ciIDs(ctx, d, gen.CMDBImpactHub)
	d.Close()
	if err != nil {
		return nil, nil, err
	}
	path := fmt.Sprintf("/api/v1/cis/%d/impact", ids[0])
	var s impactSummary
	if err := env.getJSON(ctx, http.MethodGet, path, nil, &s); err != nil {
		return nil, nil, err
	}
	describeImpact(ctx, env, "cmdb.impact of "+gen.CMDBImpactHub, ids, s)
	return func(ctx context.Context, w *Worker) error {
		return env.Call(ctx, http.MethodGet, path, nil, http.StatusOK)
	}, nil, nil
}

func setupCMDBSimulate(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	names := make([]string, gen.CMDBWhatIf)
	for i := range names {
		names[i] = fmt.Sprintf("%s%02d", gen.CMDBWhatIfPrefix, i+1)
	}
	ids, err := ciIDs(ctx, d, names...)
	if err != nil {
		return nil, nil, err
	}
	body, _ := json.Marshal(map[string]any{"cis": ids})
	var s impactSummary
	if err := env.getJSON(ctx, http.MethodPost, "/api/v1/impact/simulate", body, &s); err != nil {
		return nil, nil, err
	}
	describeImpact(ctx, env, fmt.Sprintf("cmdb.simulate of %d servers", len(ids)), ids, s)
	return func(ctx context.Context, w *Worker) error {
		return env.Call(ctx, http.MethodPost, "/api/v1/impact/simulate", body, http.StatusOK)
	}, nil, nil
}

// setupCMDBPage signs a fresh administrator in, as a browser would, and
// returns a read of the CI page of the CI with about a thousand relations.
func setupCMDBPage(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	ids, err := ciIDs(ctx, d, gen.CMDBRelationsHub)
	if err != nil {
		return nil, nil, err
	}
	var rels int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM ci_relations WHERE source_id = ? OR target_id = ?`, ids[0], ids[0]).Scan(&rels); err != nil {
		return nil, nil, err
	}
	c := clock.System{}
	as := auth.NewService(d, audit.NewTrail(c), outbox.New(c, nil), c, auth.NewHasher(1), auth.Config{})
	actx := audit.WithActor(ctx, audit.Actor{Type: "cli", Name: "cli:bench"})
	name := "bench-pages-" + env.RunID
	if _, err := as.CreateUser(actx, auth.NewUser{Username: name, Password: benchPassword, Admin: true}); err != nil {
		return nil, nil, fmt.Errorf("create the page reader: %w", err)
	}
	session, _, err := as.Login(actx, name, benchPassword, "127.0.0.1", "bench")
	if err != nil {
		return nil, nil, fmt.Errorf("sign the page reader in: %w", err)
	}
	client := *env.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	page := fmt.Sprintf("/cmdb/cis/%d", ids[0])
	get := func(ctx context.Context, path string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, env.BaseURL+path, nil)
		if err != nil {
			return 0, err
		}
		req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: session})
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, err
	}
	status, err := get(ctx, page)
	if err != nil {
		return nil, nil, err
	}
	switch status {
	case http.StatusOK:
		logf("%s cmdb.ci_page: %s (CI %d) has %d relations; reading the page %s", env.Engine, gen.CMDBRelationsHub, ids[0], rels, page)
		return func(ctx context.Context, w *Worker) error {
			st, err := get(ctx, page)
			if err == nil && st != http.StatusOK {
				err = fmt.Errorf("GET %s: status %d", page, st)
			}
			return err
		}, nil, nil
	case http.StatusNotFound:
		logf("%s cmdb.ci_page: the server has no CMDB pages; reading the CI and its %d relations through the API instead", env.Engine, rels)
		return func(ctx context.Context, w *Worker) error {
			if err := env.Call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/cis/%d", ids[0]), nil, http.StatusOK); err != nil {
				return err
			}
			return env.Call(ctx, http.MethodGet, fmt.Sprintf("/api/v1/cis/%d/relations", ids[0]), nil, http.StatusOK)
		}, nil, nil
	}
	return nil, nil, fmt.Errorf("GET %s in a browser session: status %d", page, status)
}

// setupCMDBImport checks the import endpoint with a dry run and returns one
// import of importBatch new servers, every value unique to the run, the
// client and the operation.
func setupCMDBImport(ctx context.Context, env *Env) (Op, func(), error) {
	file := func(w *Worker, n int) []byte {
		var b bytes.Buffer
		b.WriteString("class,name,status,hostname,domain,serial_number,asset_tag,ip_address,os,cpu_count,memory_gb,environment\n")
		for k := range n {
			id := fmt.Sprintf("%s-%d-%d-%d", env.RunID, w.ID, w.Seq, k)
			fmt.Fprintf(&b, "server,imp-%s,operational,imp-%s,import.example.org,BI%s,BT%s,10.%d.%d.%d,Red Hat Enterprise Linux 9.2,%d,%d,production\n",
				id, id, strings.ToUpper(id), strings.ToUpper(id), w.ID, (w.Seq/250)%250, k%250, 8<<(k%4), 32<<(k%3))
		}
		return b.Bytes()
	}
	post := func(ctx context.Context, query string, body []byte) (int, []byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, env.BaseURL+"/api/v1/cis/import?"+query, bytes.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+env.Token)
		req.Header.Set("Content-Type", "text/csv")
		req.Header.Set("Accept", "application/json")
		resp, err := env.HTTP.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	probe := &Worker{ID: 999}
	st, b, err := post(ctx, "dryRun=true&source=bench-probe.csv", file(probe, 2))
	if err != nil {
		return nil, nil, err
	}
	if st == http.StatusNotFound || st == http.StatusMethodNotAllowed {
		return nil, nil, fmt.Errorf("the server has no POST /api/v1/cis/import (status %d)", st)
	}
	if st != http.StatusOK {
		return nil, nil, fmt.Errorf("dry-run import: status %d: %s", st, bytes.TrimSpace(b[:min(len(b), 300)]))
	}
	return func(ctx context.Context, w *Worker) error {
		st, b, err := post(ctx, "source=bench.csv", file(w, importBatch))
		if err != nil {
			return err
		}
		var rep struct {
			Created int  `json:"created"`
			Applied bool `json:"applied"`
		}
		if st == http.StatusOK {
			err = json.Unmarshal(b, &rep)
		}
		if err == nil && (st != http.StatusOK || rep.Created != importBatch || !rep.Applied) {
			err = fmt.Errorf("import: status %d, %d created: %s", st, rep.Created, bytes.TrimSpace(b[:min(len(b), 300)]))
		}
		return err
	}, nil, nil
}
