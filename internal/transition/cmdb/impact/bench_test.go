package impact

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// The benchmark CMDB: CIs 1..benchTree form a random recursive tree (each CI
// hangs off a uniformly chosen earlier one, so fan-out follows a power law
// and depth grows with the logarithm) that is the downstream closure of CI 1.
// Every tenth tree relation is a membership of a two-member group with
// min_up 1, so part of the closure is only degraded. The rest of the CIs are
// noise: five layers where each CI depends on and runs on two CIs of the next
// layer and has a non-propagating link, and every tree CI depends on a noise
// CI (upstream of it, so outside its closure). At the default size that is
// 1,000,000 CIs and about 3,000,000 relations; STEWARD_BENCH_CIS changes it.
const benchTree = 10_000

const backsUp int64 = 8 // a second non-propagating type

var benchTypes = append(slices.Clone(testTypes), RelType{ID: backsUp, Propagation: PropagateNone})

// benchDB opens the benchmark database: a fresh one, or the one at
// STEWARD_BENCH_DB, which is kept between runs and reused when it exists (it
// must have been built completely, with the same STEWARD_BENCH_CIS).
func benchDB(b *testing.B) (d *db.DB, reused bool) {
	path := os.Getenv("STEWARD_BENCH_DB")
	if path == "" {
		return dbtest.Open(b, db.SQLite), false
	}
	_, err := os.Stat(path)
	reused = err == nil
	d, err = db.Open(context.Background(), db.Config{URL: "sqlite:" + path})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if err := d.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return d, reused
}

// benchGraph returns the benchmark CMDB and its number of CIs.
func benchGraph(b *testing.B) (*db.DB, int) {
	b.Helper()
	n := 1_000_000
	if s := os.Getenv("STEWARD_BENCH_CIS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 3*benchTree {
			b.Fatalf("STEWARD_BENCH_CIS=%q: want an integer of at least %d", s, 3*benchTree)
		}
		n = v
	}
	start := time.Now()
	ctx := context.Background()
	d, reused := benchDB(b)
	if reused {
		return d, n
	}
	// The writer is one connection: give it room to build the indexes in
	// memory, and skip the foreign-key checks that generated rows do not need.
	stmts := []string{`PRAGMA cache_size = -524288`, `PRAGMA foreign_keys = OFF`,
		`INSERT INTO ci_classes (id, name, label, created_at, updated_at) VALUES (1, 'thing', 'Thing', 1, 1)`}
	for _, rt := range benchTypes {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO ci_relation_types (id, name, label, inverse_label, propagation, redundancy, created_at)
			VALUES (%d, 'type%[1]d', 'type%[1]d', 'type%[1]d', '%s', %t, 1)`, rt.ID, rt.Propagation, rt.Redundancy))
	}
	const rel = `INSERT OR IGNORE INTO ci_relations (source_id, type_id, target_id, created_at) `
	noise := n - benchTree
	layer := noise / 5 // CIs per noise layer
	stmts = append(stmts,
		fmt.Sprintf(`WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %d)
			INSERT INTO cis (id, class_id, name, status, created_at, updated_at, valid_from)
			SELECT i, 1, 'ci' || i, 'live', 1, 1, 1 FROM s`, n),
		// The tree: i hangs off p, a hash of i below i. i depends on p (6 in
		// 10), runs on p (2 in 10), is provided by p (1 in 10), or is a group
		// with p as a member (1 in 10).
		rel+fmt.Sprintf(`SELECT CASE WHEN i %% 10 < 8 THEN i ELSE p END,
				CASE WHEN i %% 10 < 6 THEN %d WHEN i %% 10 < 8 THEN %d WHEN i %% 10 = 8 THEN %d ELSE %d END,
				CASE WHEN i %% 10 < 8 THEN p ELSE i END, 1
			FROM (SELECT id AS i, 1 + (id * 2654435761) %% (id - 1) AS p FROM cis WHERE id BETWEEN 2 AND %d)`,
			dependsOn, runsOn, provides, memberOf, benchTree),
		// Each group's second member comes from the noise.
		rel+fmt.Sprintf(`SELECT id + %d, %d, id, 1 FROM cis WHERE id <= %d AND id %% 10 = 9`, benchTree, memberOf, benchTree),
		// Every tree CI depends on a noise CI.
		rel+fmt.Sprintf(`SELECT id, %d, %d + (id * 7919) %% %d, 1 FROM cis WHERE id <= %d`, dependsOn, benchTree+1, noise, benchTree),
		// Noise CI j has rank r = j - benchTree - 1 and layer r % 5: layers 0-3
		// depend on and run on CIs of the next layer, layer 4 has
		// non-propagating links instead; every noise CI has one more link.
		rel+fmt.Sprintf(`SELECT j, CASE WHEN r %% 5 < 4 THEN %d ELSE %d END, %d + ((r * 2654435761) %% %d) * 5 + (r %% 5 + 1) %% 5, 1
			FROM (SELECT id AS j, id - %d AS r FROM cis WHERE id > %d)`, dependsOn, connectedTo, benchTree+1, layer, benchTree+1, benchTree),
		rel+fmt.Sprintf(`SELECT j, CASE WHEN r %% 5 < 4 THEN %d ELSE %d END, %d + ((r * 40503 + 977) %% %d) * 5 + (r %% 5 + 1) %% 5, 1
			FROM (SELECT id AS j, id - %d AS r FROM cis WHERE id > %d)`, runsOn, backsUp, benchTree+1, layer, benchTree+1, benchTree),
		rel+fmt.Sprintf(`SELECT id, %d, %d + (id * 1000003) %% %d, 1 FROM cis WHERE id > %d`, connectedTo, benchTree+1, noise, benchTree),
		`PRAGMA foreign_keys = ON`, `PRAGMA cache_size = -2000`, `PRAGMA wal_checkpoint(TRUNCATE)`,
	)
	for _, s := range stmts {
		if _, err := d.ExecContext(ctx, s); err != nil {
			b.Fatalf("build the benchmark CMDB: %v\n%s", err, s)
		}
	}
	var rels int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM ci_relations`).Scan(&rels); err != nil {
		b.Fatal(err)
	}
	b.Logf("benchmark CMDB: %d CIs, %d relations, built in %s", n, rels, time.Since(start).Round(time.Millisecond))
	return d, n
}

// cpuTime is the CPU time the process has used so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// measure runs walk under b.Loop and reports the p99 latency, nodes and queries of a walk.
func measure(b *testing.B, walk func() (Result, error)) {
	b.Helper()
	var times []time.Duration
	var res Result
	cpu0 := cpuTime()
	for b.Loop() {
		t0 := time.Now()
		var err error
		res, err = walk()
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(t0))
	}
	// CPU time per walk (the process's, GC included) is steadier than wall time on a shared machine.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(len(times)), "cpu-ms/op")
	slices.Sort(times)
	p99 := times[max(0, (len(times)*99+99)/100-1)]
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(len(res.Nodes)), "nodes")
	b.ReportMetric(float64(res.Queries), "queries")
}

func BenchmarkDownstream10k(b *testing.B) {
	d, _ := benchGraph(b)
	e := New(benchTypes, NewSQLSource(d))
	ctx := context.Background()
	res, err := e.Downstream(ctx, []int64{1}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Nodes) != benchTree {
		b.Fatalf("closure of CI 1: %d CIs, want %d", len(res.Nodes), benchTree)
	}
	measure(b, func() (Result, error) { return e.Downstream(ctx, []int64{1}, Options{}) })
}

// BenchmarkWhatIf50 fails CI 1 and 49 CIs of the noise's bottom layer at once.
func BenchmarkWhatIf50(b *testing.B) {
	d, n := benchGraph(b)
	e := New(benchTypes, NewSQLSource(d))
	layer := (n - benchTree) / 5
	failed := []int64{1}
	for k := range 49 {
		failed = append(failed, int64(benchTree+1+((k*104729)%layer)*5+4))
	}
	ctx := context.Background()
	measure(b, func() (Result, error) { return e.Downstream(ctx, failed, Options{}) })
}
