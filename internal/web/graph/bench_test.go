package graph

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// big is a generated graph of n nodes over layers of varied width and m edges,
// most between neighbouring layers, some spanning several, backwards or within a layer.
func big(n, m int) ([]Node, []Edge) {
	r := rand.New(rand.NewPCG(1, 2))
	states := []string{"ok", "ok", "ok", "ok", "degraded", "down"}
	nodes := make([]Node, n)
	byLayer := map[int][]int64{}
	for i := range nodes {
		layer := 0
		if i > 0 {
			layer = 1 + r.IntN(8)
		}
		id := int64(i + 1)
		nodes[i] = Node{ID: id, Label: fmt.Sprintf("ci-%05d.example.mil", i), Kind: "Server", State: states[r.IntN(len(states))], Layer: layer, Href: fmt.Sprintf("/cmdb/ci/%d", id)}
		if i == 0 {
			nodes[i].State = "root"
		}
		byLayer[layer] = append(byLayer[layer], id)
	}
	edges := make([]Edge, 0, m)
	for len(edges) < m {
		from := nodes[r.IntN(n)]
		to := from.Layer + 1
		switch r.IntN(10) {
		case 0:
			to = from.Layer + 2 + r.IntN(3)
		case 1:
			to = from.Layer - 1 - r.IntN(2)
		case 2:
			to = from.Layer
		}
		cands := byLayer[to]
		if len(cands) == 0 {
			continue
		}
		edges = append(edges, Edge{From: from.ID, To: cands[r.IntN(len(cands))], Label: "runs on"})
	}
	return nodes, edges
}

// BenchmarkRender draws 1,000 nodes and 2,000 edges, with crowded layers
// collapsed to the default 30 nodes and with every node shown.
func BenchmarkRender(b *testing.B) {
	nodes, edges := big(1000, 2000)
	for _, bc := range []struct {
		name string
		max  int
	}{{"collapsed", 0}, {"all", 1000}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				size = len(Render(nodes, edges, Options{MaxPerLayer: bc.max}))
			}
			b.ReportMetric(float64(size), "bytes/svg")
		})
	}
}
