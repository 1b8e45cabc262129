package impact

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// load writes the relation types and graph g into the CMDB tables, with one
// class and a row for every CI g mentions.
func load(t testing.TB, d *db.DB, g graph) {
	t.Helper()
	ctx := context.Background()
	err := d.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ci_classes (id, name, label, created_at, updated_at) VALUES (1, 'thing', 'Thing', 1, 1)`); err != nil {
			return err
		}
		for _, rt := range testTypes {
			name := fmt.Sprintf("type%d", rt.ID)
			if _, err := tx.ExecContext(ctx, `INSERT INTO ci_relation_types (id, name, label, inverse_label, propagation, redundancy, created_at)
				VALUES (?, ?, ?, ?, ?, ?, 1)`, rt.ID, name, name, name, string(rt.Propagation), rt.Redundancy); err != nil {
				return err
			}
		}
		seen := map[int64]bool{}
		ci := func(id int64) error {
			if seen[id] {
				return nil
			}
			seen[id] = true
			_, err := tx.ExecContext(ctx, `INSERT INTO cis (id, class_id, name, status, min_up, created_at, updated_at, valid_from)
				VALUES (?, 1, ?, 'live', ?, 1, 1, 1)`, id, fmt.Sprint("ci", id), max(g.minUp[id], 1))
			return err
		}
		for id := range g.minUp {
			if err := ci(id); err != nil {
				return err
			}
		}
		for _, e := range g.edges {
			if err := ci(e.Source); err != nil {
				return err
			}
			if err := ci(e.Target); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ci_relations (source_id, type_id, target_id, created_at) VALUES (?, ?, ?, 1)`,
				e.Source, e.Type, e.Target); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("load graph: %v", err)
	}
}

// TestSQLSource runs the walks over the CMDB tables on both engines and
// expects exactly what they give over the in-memory source.
func TestSQLSource(t *testing.T) {
	t.Parallel()
	type walk struct {
		name     string
		upstream bool
		ids      []int64
		opt      Options
	}
	// One database holds every test graph: their ids do not overlap.
	var g graph
	g.minUp = map[int64]int{}
	add := func(h graph, offset int64) {
		for _, e := range h.edges {
			g.edges = append(g.edges, Edge{Source: e.Source + offset, Target: e.Target + offset, Type: e.Type})
		}
		for id, m := range h.minUp {
			g.minUp[id+offset] = m
		}
	}
	add(chain, 0)
	add(with(cluster, rel(12, runsOn, 50), rel(61, dependsOn, 60), rel(62, dependsOn, 61), rel(20, dependsOn, 62)), 1000)
	add(with(cluster, rel(71, memberOf, 70), rel(72, memberOf, 70), rel(11, runsOn, 70), rel(12, runsOn, 70)), 2000)
	add(serviceStack, 3000)
	// A star wide enough to need three chunks, with a tail of uneven chunk sizes behind it.
	big := star(1200)
	for i := range 300 {
		big.edges = append(big.edges, rel(int64(5000+i), dependsOn, int64(2+i)), rel(int64(2+i), memberOf, 4000))
	}
	big.minUp = map[int64]int{4000: 250}
	add(big, 10_000)
	add(graph{edges: []Edge{rel(1, mirrors, 2), rel(3, mirrors, 1), rel(2, dependsOn, 3), rel(2, connectedTo, 4)}}, 20_000)

	walks := []walk{
		{name: "chain", ids: []int64{1}},
		{name: "chain, depth 2", ids: []int64{1}, opt: Options{Depth: 2}},
		{name: "chain, limit 3", ids: []int64{1}, opt: Options{Limit: 3}},
		{name: "one cluster member", ids: []int64{1011}},
		{name: "two cluster members", ids: []int64{1011, 1012}},
		{name: "a member falls later", ids: []int64{1011, 1050}},
		{name: "degraded then down", ids: []int64{1011, 1060}},
		{name: "degraded members", ids: []int64{2071}},
		{name: "degraded members, type filter", ids: []int64{2071}, opt: Options{Types: []int64{memberOf, runsOn}}},
		{name: "provider of a service", ids: []int64{3020}},
		{name: "site", ids: []int64{3050}},
		{name: "star", ids: []int64{10_001}},
		{name: "star, limit", ids: []int64{10_001}, opt: Options{Limit: 700}},
		{name: "what-if", ids: []int64{10_001, 1011, 1012, 3050, 20_001}},
		{name: "both", ids: []int64{20_002}},
		{name: "upstream of a service", upstream: true, ids: []int64{3100}},
		{name: "upstream of a cluster", upstream: true, ids: []int64{1010}},
		{name: "upstream of a star's group", upstream: true, ids: []int64{14_000}},
		{name: "upstream, depth 1", upstream: true, ids: []int64{3100}, opt: Options{Depth: 1}},
		{name: "upstream of both", upstream: true, ids: []int64{20_001}},
	}
	fake := New(testTypes, newFake(g))
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		load(t, d, g)
		sql := New(testTypes, NewSQLSource(d))
		for _, w := range walks {
			t.Run(w.name, func(t *testing.T) {
				t.Parallel() // the engines are shared: they are safe for concurrent use
				ctx := context.Background()
				run := func(e *Engine) (Result, error) {
					if w.upstream {
						return e.Upstream(ctx, w.ids, w.opt)
					}
					return e.Downstream(ctx, w.ids, w.opt)
				}
				want, err := run(fake)
				if err != nil {
					t.Fatal(err)
				}
				got, err := run(sql)
				if err != nil {
					t.Fatal(err)
				}
				if len(want.Nodes) < 2 {
					t.Fatalf("the walk reaches nothing; the test is wrong: %+v", want)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("SQL source: %d queries, truncated %v:%s\nin-memory source: %d queries, truncated %v:%s",
						got.Queries, got.Truncated, show(got.Nodes), want.Queries, want.Truncated, show(want.Nodes))
				}
			})
		}
	})
}

func TestSQLSourceCalls(t *testing.T) {
	t.Parallel()
	g := with(cluster, rel(11, connectedTo, 10), rel(14, runsOn, 10))
	g.minUp[90] = 3 // a CI with no members
	// 700 relations from one source, to check that a Source given more than a chunk still answers them all.
	for i := range 700 {
		g.edges = append(g.edges, rel(500, dependsOn, int64(1000+i)))
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		load(t, d, g)
		ctx := context.Background()
		src := NewSQLSource(d)
		fake := newFake(g)

		groups, err := src.Groups(ctx, []int64{10, 90, 777}, []int64{memberOf})
		if err != nil {
			t.Fatal(err)
		}
		wantGroups := map[int64]Group{10: {Members: 3, MinUp: 2}, 90: {Members: 0, MinUp: 3}}
		if !reflect.DeepEqual(groups, wantGroups) {
			t.Errorf("Groups = %v, want %v", groups, wantGroups)
		}
		groups, err = src.Groups(ctx, []int64{10}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[int64]Group{10: {MinUp: 2}}; !reflect.DeepEqual(groups, want) {
			t.Errorf("Groups without types = %v, want %v", groups, want)
		}

		ids := []int64{10, 11, 20, 30}
		for i := range 700 {
			ids = append(ids, int64(1000+i))
		}
		ids = append(ids, 500)
		types := []int64{dependsOn, runsOn, memberOf, provides, consumes, connectedTo, mirrors}
		for _, q := range []struct {
			name string
			sql  func(context.Context, []int64, []int64) ([]Edge, error)
			fake func(context.Context, []int64, []int64) ([]Edge, error)
		}{
			{"BySource", src.BySource, fake.BySource},
			{"ByTarget", src.ByTarget, fake.ByTarget},
		} {
			for _, tt := range [][]int64{{runsOn}, {memberOf, connectedTo}, types} {
				got, err := q.sql(ctx, ids, tt)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := q.fake(ctx, ids, tt)
				if !sameEdges(got, want) {
					t.Errorf("%s(types %v) = %d relations %v, want %d %v", q.name, tt, len(got), head(got), len(want), head(want))
				}
			}
			if got, err := q.sql(ctx, nil, types); err != nil || len(got) != 0 {
				t.Errorf("%s(no ids) = %v, %v", q.name, got, err)
			}
		}
	})
}

func sameEdges(a, b []Edge) bool {
	count := map[Edge]int{}
	for _, e := range a {
		count[e]++
	}
	for _, e := range b {
		count[e]--
	}
	for _, c := range count {
		if c != 0 {
			return false
		}
	}
	return len(a) == len(b)
}

func head(es []Edge) []Edge { return es[:min(len(es), 5)] }

// TestSQLiteQueryPlans checks that the relation queries read only the
// covering indexes and that the group query reads cis by its key.
func TestSQLiteQueryPlans(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite)
	src := NewSQLSource(d).(*sqlSource)
	for _, tt := range []struct {
		key  queryKey
		want []string
	}{
		{queryKey{qBySource, 1, 1}, []string{"COVERING INDEX ci_relations_source"}},
		{queryKey{qBySource, 500, 3}, []string{"COVERING INDEX ci_relations_source"}},
		{queryKey{qByTarget, 64, 4}, []string{"COVERING INDEX ci_relations_target"}},
		{queryKey{qGroups, 128, 1}, []string{"INTEGER PRIMARY KEY", "COVERING INDEX ci_relations_target"}},
	} {
		q := src.query(tt.key)
		args := make([]any, tt.key.ids+tt.key.types)
		for i := range args {
			args[i] = int64(i + 1)
		}
		rows, err := d.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan strings.Builder
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			plan.WriteString(detail + "\n")
		}
		rows.Close()
		for _, w := range tt.want {
			if !strings.Contains(plan.String(), w) {
				t.Errorf("plan of %s\n%s\nlacks %q", q[:60], plan.String(), w)
			}
		}
		if strings.Contains(plan.String(), "SCAN ci_relations") || strings.Contains(plan.String(), "SCAN cis") {
			t.Errorf("plan of %s scans a table:\n%s", q[:60], plan.String())
		}
	}
}
