package impact

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
)

// The relation types of the test CMDB.
const (
	dependsOn   int64 = 1 // to_source
	runsOn      int64 = 2 // to_source
	memberOf    int64 = 3 // to_target, redundancy
	provides    int64 = 4 // to_target
	consumes    int64 = 5 // to_source
	connectedTo int64 = 6 // none
	mirrors     int64 = 7 // both
)

var testTypes = []RelType{
	{ID: dependsOn, Propagation: PropagateToSource},
	{ID: runsOn, Propagation: PropagateToSource},
	{ID: memberOf, Propagation: PropagateToTarget, Redundancy: true},
	{ID: provides, Propagation: PropagateToTarget},
	{ID: consumes, Propagation: PropagateToSource},
	{ID: connectedTo, Propagation: PropagateNone},
	{ID: mirrors, Propagation: PropagateBoth},
}

// graph is a test CMDB: relations, and the min_up of the CIs that are groups.
type graph struct {
	edges []Edge
	minUp map[int64]int
}

// rel is a relation written as it reads: source —type→ target.
func rel(source int64, typ int64, target int64) Edge {
	return Edge{Source: source, Target: target, Type: typ}
}

// fakeSource is an in-memory Source that counts its calls and the largest batch it was given.
type fakeSource struct {
	bySource, byTarget map[int64][]Edge
	cis                map[int64]bool
	minUp              map[int64]int
	err                error

	mu              sync.Mutex
	calls, maxBatch int
}

func newFake(g graph) *fakeSource {
	f := &fakeSource{bySource: map[int64][]Edge{}, byTarget: map[int64][]Edge{}, cis: map[int64]bool{}, minUp: g.minUp}
	for _, e := range g.edges {
		f.bySource[e.Source] = append(f.bySource[e.Source], e)
		f.byTarget[e.Target] = append(f.byTarget[e.Target], e)
		f.cis[e.Source], f.cis[e.Target] = true, true
	}
	for id := range g.minUp {
		f.cis[id] = true
	}
	return f
}

func (f *fakeSource) call(ids []int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.maxBatch = max(f.maxBatch, len(ids))
	return f.err
}

func (f *fakeSource) BySource(_ context.Context, ids, types []int64) ([]Edge, error) {
	if err := f.call(ids); err != nil {
		return nil, err
	}
	var out []Edge
	for _, id := range ids {
		for _, e := range f.bySource[id] {
			if slices.Contains(types, e.Type) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (f *fakeSource) ByTarget(_ context.Context, ids, types []int64) ([]Edge, error) {
	if err := f.call(ids); err != nil {
		return nil, err
	}
	var out []Edge
	for _, id := range ids {
		for _, e := range f.byTarget[id] {
			if slices.Contains(types, e.Type) {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

func (f *fakeSource) Groups(_ context.Context, ids, redundancyTypes []int64) (map[int64]Group, error) {
	if err := f.call(ids); err != nil {
		return nil, err
	}
	out := map[int64]Group{}
	for _, id := range ids {
		if !f.cis[id] {
			continue
		}
		members := map[int64]bool{}
		for _, e := range f.byTarget[id] {
			if slices.Contains(redundancyTypes, e.Type) {
				members[e.Source] = true
			}
		}
		out[id] = Group{Members: len(members), MinUp: max(f.minUp[id], 1)}
	}
	return out, nil
}

// n writes an expected node: id, state, depth, via, via type.
func n(id int64, s State, depth int, via, viaType int64) Node {
	return Node{ID: id, State: s, Depth: depth, Via: via, ViaType: viaType}
}

// grp writes an expected redundancy group node.
func grp(id int64, s State, depth int, via, viaType int64, down, members int) Node {
	return Node{ID: id, State: s, Depth: depth, Via: via, ViaType: viaType, MembersDown: down, Members: members}
}

func show(nodes []Node) string {
	var b strings.Builder
	for _, x := range nodes {
		fmt.Fprintf(&b, "\n  %+v", x)
	}
	return b.String()
}

func checkNodes(t *testing.T, got, want []Node) {
	t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("nodes:%s\nwant:%s", show(got), show(want))
	}
}

// chain is 1 ← 2 ← 3 ← 4 ← 5 by depends_on (each depends on the previous).
var chain = graph{edges: []Edge{rel(2, dependsOn, 1), rel(3, dependsOn, 2), rel(4, dependsOn, 3), rel(5, dependsOn, 4)}}

func TestDownstream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		g      graph
		failed []int64
		opt    Options
		want   []Node
	}{
		{
			name: "chain", g: chain, failed: []int64{1},
			want: []Node{n(1, Down, 0, 0, 0), n(2, Down, 1, 1, dependsOn), n(3, Down, 2, 2, dependsOn), n(4, Down, 3, 3, dependsOn), n(5, Down, 4, 4, dependsOn)},
		},
		{
			name: "to_source: the host failing takes its VM down", g: graph{edges: []Edge{rel(10, runsOn, 20)}}, failed: []int64{20},
			want: []Node{n(20, Down, 0, 0, 0), n(10, Down, 1, 20, runsOn)},
		},
		{
			name: "to_source: the VM failing leaves its host alone", g: graph{edges: []Edge{rel(10, runsOn, 20)}}, failed: []int64{10},
			want: []Node{n(10, Down, 0, 0, 0)},
		},
		{
			name: "to_target: the application failing takes the service it provides down", g: graph{edges: []Edge{rel(10, provides, 20)}}, failed: []int64{10},
			want: []Node{n(10, Down, 0, 0, 0), n(20, Down, 1, 10, provides)},
		},
		{
			name: "to_target: the service failing leaves its provider alone", g: graph{edges: []Edge{rel(10, provides, 20)}}, failed: []int64{20},
			want: []Node{n(20, Down, 0, 0, 0)},
		},
		{
			name: "both: from the source", g: graph{edges: []Edge{rel(10, mirrors, 20)}}, failed: []int64{10},
			want: []Node{n(10, Down, 0, 0, 0), n(20, Down, 1, 10, mirrors)},
		},
		{
			name: "both: from the target", g: graph{edges: []Edge{rel(10, mirrors, 20)}}, failed: []int64{20},
			want: []Node{n(20, Down, 0, 0, 0), n(10, Down, 1, 20, mirrors)},
		},
		{
			name: "none is not followed either way", g: graph{edges: []Edge{rel(10, connectedTo, 20), rel(20, connectedTo, 30)}}, failed: []int64{20},
			want: []Node{n(20, Down, 0, 0, 0)},
		},
		{
			name: "service consumes service", g: graph{edges: []Edge{rel(10, provides, 20), rel(30, consumes, 20), rel(40, consumes, 30)}}, failed: []int64{10},
			want: []Node{n(10, Down, 0, 0, 0), n(20, Down, 1, 10, provides), n(30, Down, 2, 20, consumes), n(40, Down, 3, 30, consumes)},
		},
		{
			name: "cycle terminates and reports each CI once",
			g:    graph{edges: []Edge{rel(2, dependsOn, 1), rel(3, dependsOn, 2), rel(1, dependsOn, 3), rel(4, dependsOn, 3)}}, failed: []int64{1},
			want: []Node{n(1, Down, 0, 0, 0), n(2, Down, 1, 1, dependsOn), n(3, Down, 2, 2, dependsOn), n(4, Down, 3, 3, dependsOn)},
		},
		{
			name: "depth limit", g: chain, failed: []int64{1}, opt: Options{Depth: 2},
			want: []Node{n(1, Down, 0, 0, 0), n(2, Down, 1, 1, dependsOn), n(3, Down, 2, 2, dependsOn)},
		},
		{
			name: "type filter follows only the given types",
			g:    graph{edges: []Edge{rel(10, runsOn, 1), rel(11, dependsOn, 1), rel(12, runsOn, 10)}}, failed: []int64{1}, opt: Options{Types: []int64{runsOn, 99}},
			want: []Node{n(1, Down, 0, 0, 0), n(10, Down, 1, 1, runsOn), n(12, Down, 2, 10, runsOn)},
		},
		{
			name: "type filter of only non-propagating types reports the failed set",
			g:    chain, failed: []int64{1}, opt: Options{Types: []int64{connectedTo}},
			want: []Node{n(1, Down, 0, 0, 0)},
		},
		{
			name: "what-if: several failed CIs, duplicates and overlap",
			g:    chain, failed: []int64{4, 1, 3, 1},
			want: []Node{n(1, Down, 0, 0, 0), n(3, Down, 0, 0, 0), n(4, Down, 0, 0, 0), n(2, Down, 1, 1, dependsOn), n(5, Down, 1, 4, dependsOn)},
		},
		{
			name: "via is the smallest of the CIs at the previous depth, then the smallest type",
			g:    graph{edges: []Edge{rel(30, dependsOn, 8), rel(30, runsOn, 7), rel(30, dependsOn, 7), rel(31, dependsOn, 9)}}, failed: []int64{9, 8, 7},
			want: []Node{n(7, Down, 0, 0, 0), n(8, Down, 0, 0, 0), n(9, Down, 0, 0, 0), n(30, Down, 1, 7, dependsOn), n(31, Down, 1, 9, dependsOn)},
		},
		{
			name: "an unknown CI fails alone", g: chain, failed: []int64{99},
			want: []Node{n(99, Down, 0, 0, 0)},
		},
		{name: "nothing failed", g: chain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := newFake(tt.g)
			res, err := New(testTypes, src).Downstream(context.Background(), tt.failed, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkNodes(t, res.Nodes, tt.want)
			if res.Truncated {
				t.Error("truncated")
			}
			if res.Queries != src.calls {
				t.Errorf("Queries = %d, the source saw %d calls", res.Queries, src.calls)
			}
		})
	}
}

// cluster is a redundancy group: hosts 11, 12, 13 are members of cluster 10
// (min_up 2); application 20 runs on the cluster and provides service 30, which
// service 40 consumes.
var cluster = graph{
	edges: []Edge{
		rel(11, memberOf, 10), rel(12, memberOf, 10), rel(13, memberOf, 10),
		rel(20, runsOn, 10), rel(20, provides, 30), rel(40, consumes, 30),
	},
	minUp: map[int64]int{10: 2},
}

func with(g graph, edges ...Edge) graph {
	h := graph{edges: slices.Concat(g.edges, edges), minUp: map[int64]int{}}
	for k, v := range g.minUp {
		h.minUp[k] = v
	}
	return h
}

func TestDownstreamRedundancy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		g      graph
		failed []int64
		opt    Options
		want   []Node
	}{
		{
			name: "one member down of three with min_up 2 degrades the cluster and what rests on it",
			g:    cluster, failed: []int64{11},
			want: []Node{
				n(11, Down, 0, 0, 0), grp(10, Degraded, 1, 11, memberOf, 1, 3),
				n(20, Degraded, 2, 10, runsOn), n(30, Degraded, 3, 20, provides), n(40, Degraded, 4, 30, consumes),
			},
		},
		{
			name: "two members down takes the cluster and what rests on it down",
			g:    cluster, failed: []int64{11, 12},
			want: []Node{
				n(11, Down, 0, 0, 0), n(12, Down, 0, 0, 0), grp(10, Down, 1, 11, memberOf, 2, 3),
				n(20, Down, 2, 10, runsOn), n(30, Down, 3, 20, provides), n(40, Down, 4, 30, consumes),
			},
		},
		{
			name: "a member that falls later turns the degraded cluster down",
			// Host 12 runs on hypervisor 50: failing 11 and 50 degrades the cluster in
			// the first round and takes it down in the second.
			g: with(cluster, rel(12, runsOn, 50)), failed: []int64{11, 50},
			want: []Node{
				n(11, Down, 0, 0, 0), n(50, Down, 0, 0, 0), grp(10, Down, 1, 11, memberOf, 2, 3), n(12, Down, 1, 50, runsOn),
				n(20, Down, 2, 10, runsOn), n(30, Down, 3, 20, provides), n(40, Down, 4, 30, consumes),
			},
		},
		{
			name: "a node reached as degraded, then down through a longer path, ends down at its first depth",
			// 20 is degraded through the cluster at depth 2, then down through 60 ← 61 ← 62 at depth 3.
			g:      with(cluster, rel(61, dependsOn, 60), rel(62, dependsOn, 61), rel(20, dependsOn, 62)),
			failed: []int64{11, 60},
			want: []Node{
				n(11, Down, 0, 0, 0), n(60, Down, 0, 0, 0), grp(10, Degraded, 1, 11, memberOf, 1, 3), n(61, Down, 1, 60, dependsOn),
				n(20, Down, 2, 10, runsOn), n(62, Down, 2, 61, dependsOn), n(30, Down, 3, 20, provides), n(40, Down, 4, 30, consumes),
			},
		},
		{
			name: "a degraded member degrades the group but never takes it down",
			// Hosts 11 and 12 run on cluster 70 (members 71, 72, min_up 1): 71 failing
			// degrades 70, so two members of 10 are degraded, none down.
			g:      with(cluster, rel(71, memberOf, 70), rel(72, memberOf, 70), rel(11, runsOn, 70), rel(12, runsOn, 70)),
			failed: []int64{71},
			want: []Node{
				n(71, Down, 0, 0, 0), grp(70, Degraded, 1, 71, memberOf, 1, 2),
				n(11, Degraded, 2, 70, runsOn), n(12, Degraded, 2, 70, runsOn),
				grp(10, Degraded, 3, 11, memberOf, 0, 3), n(20, Degraded, 4, 10, runsOn), n(30, Degraded, 5, 20, provides), n(40, Degraded, 6, 30, consumes),
			},
		},
		{
			name:   "a group with min_up equal to its size goes down with one member",
			g:      graph{edges: []Edge{rel(11, memberOf, 10), rel(12, memberOf, 10), rel(20, runsOn, 10)}, minUp: map[int64]int{10: 2}},
			failed: []int64{12},
			want:   []Node{n(12, Down, 0, 0, 0), grp(10, Down, 1, 12, memberOf, 1, 2), n(20, Down, 2, 10, runsOn)},
		},
		{
			name: "a failed group is down whatever its members, and still shows them",
			g:    cluster, failed: []int64{10, 11},
			want: []Node{
				grp(10, Down, 0, 0, 0, 1, 3), n(11, Down, 0, 0, 0), n(20, Down, 1, 10, runsOn),
				n(30, Down, 2, 20, provides), n(40, Down, 3, 30, consumes),
			},
		},
		{
			name: "a group that is also a plain dependant takes the worse state",
			// 10 mirrors 80: 80 failing takes 10 down although only member 11 is also down.
			g:      with(cluster, rel(10, mirrors, 80)),
			failed: []int64{11, 80},
			want: []Node{
				n(11, Down, 0, 0, 0), n(80, Down, 0, 0, 0), grp(10, Down, 1, 11, memberOf, 1, 3),
				n(20, Down, 2, 10, runsOn), n(30, Down, 3, 20, provides), n(40, Down, 4, 30, consumes),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := newFake(tt.g)
			res, err := New(testTypes, src).Downstream(context.Background(), tt.failed, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkNodes(t, res.Nodes, tt.want)
			if res.Queries != src.calls {
				t.Errorf("Queries = %d, the source saw %d calls", res.Queries, src.calls)
			}
		})
	}
}

// serviceStack is what service 100 rests on: application 20 provides it and
// depends on database 30; 20 runs on cluster 10 of hosts 11 and 12, which are
// located at site 50; 100 consumes service 200, provided by 210; a monitoring
// link (connected_to) and a dependant of 100 are not part of it.
var serviceStack = graph{
	edges: []Edge{
		rel(20, provides, 100), rel(20, dependsOn, 30), rel(20, runsOn, 10),
		rel(11, memberOf, 10), rel(12, memberOf, 10), rel(11, located, 50), rel(12, located, 50),
		rel(100, consumes, 200), rel(210, provides, 200),
		rel(100, connectedTo, 300), rel(400, consumes, 100),
	},
	minUp: map[int64]int{10: 1},
}

const located = dependsOn // located_at propagates like depends_on

func TestUpstream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		g     graph
		roots []int64
		opt   Options
		want  []Node
	}{
		{
			name: "what a service rests on", g: serviceStack, roots: []int64{100},
			want: []Node{
				n(100, "", 0, 0, 0), n(20, "", 1, 100, provides), n(200, "", 1, 100, consumes),
				n(10, "", 2, 20, runsOn), n(30, "", 2, 20, dependsOn), n(210, "", 2, 200, provides),
				n(11, "", 3, 10, memberOf), n(12, "", 3, 10, memberOf), n(50, "", 4, 11, dependsOn),
			},
		},
		{
			name: "depth limit", g: serviceStack, roots: []int64{100}, opt: Options{Depth: 1},
			want: []Node{n(100, "", 0, 0, 0), n(20, "", 1, 100, provides), n(200, "", 1, 100, consumes)},
		},
		{
			name: "type filter", g: serviceStack, roots: []int64{100}, opt: Options{Types: []int64{provides, runsOn}},
			want: []Node{n(100, "", 0, 0, 0), n(20, "", 1, 100, provides), n(10, "", 2, 20, runsOn)},
		},
		{
			name: "both is followed either way and the cycle ends",
			g:    graph{edges: []Edge{rel(1, mirrors, 2), rel(3, mirrors, 1), rel(2, dependsOn, 3)}}, roots: []int64{1},
			want: []Node{n(1, "", 0, 0, 0), n(2, "", 1, 1, mirrors), n(3, "", 1, 1, mirrors)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := newFake(tt.g)
			res, err := New(testTypes, src).Upstream(context.Background(), tt.roots, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkNodes(t, res.Nodes, tt.want)
			if res.Queries != src.calls {
				t.Errorf("Queries = %d, the source saw %d calls", res.Queries, src.calls)
			}
		})
	}
}

// star is hub 1 with leaves 2..leaves+1, each depending on the hub.
func star(leaves int) graph {
	g := graph{}
	for i := range leaves {
		g.edges = append(g.edges, rel(int64(i+2), dependsOn, 1))
	}
	return g
}

func TestLimit(t *testing.T) {
	t.Parallel()
	g := with(star(10), rel(20, dependsOn, 2), rel(21, dependsOn, 20))
	e := New(testTypes, newFake(g))
	full, err := e.Downstream(context.Background(), []int64{1}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Nodes) != 13 || full.Truncated {
		t.Fatalf("full walk: %d nodes, truncated %v", len(full.Nodes), full.Truncated)
	}
	for _, limit := range []int{1, 4, 11, 12, 13, 14} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			t.Parallel()
			res, err := e.Downstream(context.Background(), []int64{1}, Options{Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			want := full.Nodes[:min(limit, len(full.Nodes))]
			checkNodes(t, res.Nodes, want)
			if res.Truncated != (limit < len(full.Nodes)) {
				t.Errorf("Truncated = %v", res.Truncated)
			}
		})
	}
	t.Run("more failed CIs than the limit", func(t *testing.T) {
		t.Parallel()
		res, err := e.Downstream(context.Background(), []int64{5, 3, 1, 4}, Options{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		checkNodes(t, res.Nodes, []Node{n(1, Down, 0, 0, 0), n(3, Down, 0, 0, 0)})
		if !res.Truncated || res.Queries != 0 {
			t.Errorf("Truncated = %v, Queries = %d", res.Truncated, res.Queries)
		}
	})
	t.Run("upstream", func(t *testing.T) {
		t.Parallel()
		res, err := New(testTypes, newFake(serviceStack)).Upstream(context.Background(), []int64{100}, Options{Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		checkNodes(t, res.Nodes, []Node{n(100, "", 0, 0, 0), n(20, "", 1, 100, provides), n(200, "", 1, 100, consumes), n(10, "", 2, 20, runsOn)})
		if !res.Truncated {
			t.Error("not truncated")
		}
	})
}

// TestQueries checks that the walk costs a few batched calls per level, never one per CI.
func TestQueries(t *testing.T) {
	t.Parallel()
	// 600 hosts depend on hub 1 and are each the only member of their own cluster.
	clusters := star(600)
	for i := range 600 {
		clusters.edges = append(clusters.edges, rel(int64(i+2), memberOf, int64(10_000+i)))
	}
	tests := []struct {
		name   string
		g      graph
		failed []int64
		opt    Options
		nodes  int
		calls  int
	}{
		// Round 1: the hub, 2 calls; round 2: 2,000 leaves in 4 chunks of 500, 2 calls each.
		{name: "star of 2000", g: star(2000), failed: []int64{1}, nodes: 2001, calls: 2 + 8},
		// Only to_source types: one direction, one call per chunk.
		{name: "star of 2000, to_source types only", g: star(2000), failed: []int64{1}, opt: Options{Types: []int64{dependsOn, runsOn}}, nodes: 2001, calls: 1 + 4},
		// Five rounds of one CI each, two directions.
		{name: "chain", g: chain, failed: []int64{1}, nodes: 5, calls: 2 * 5},
		// Round 2 reaches 600 clusters: their sizes come in 2 Groups calls; round 3 expands them in 2 chunks.
		{name: "600 clusters", g: clusters, failed: []int64{1}, nodes: 1201, calls: 2 + (4 + 2) + 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := newFake(tt.g)
			res, err := New(testTypes, src).Downstream(context.Background(), tt.failed, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Nodes) != tt.nodes {
				t.Errorf("%d nodes, want %d", len(res.Nodes), tt.nodes)
			}
			if res.Queries != tt.calls || src.calls != tt.calls {
				t.Errorf("Queries = %d, source calls = %d, want %d", res.Queries, src.calls, tt.calls)
			}
			if src.maxBatch > chunkSize {
				t.Errorf("a call was given %d ids, more than %d", src.maxBatch, chunkSize)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	t.Run("source", func(t *testing.T) {
		t.Parallel()
		src := newFake(chain)
		src.err = errors.New("disk on fire")
		_, err := New(testTypes, src).Downstream(context.Background(), []int64{1}, Options{})
		if !errors.Is(err, src.err) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := New(testTypes, newFake(chain)).Upstream(ctx, []int64{5}, Options{})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v", err)
		}
	})
}
