package graph_test

import (
	"html/template"
	"os"

	"steward/internal/web/graph"
)

// A page embeds the graph in a scrolling container; graph.css styles it.
func ExampleRender() {
	nodes := []graph.Node{
		{ID: 1, Label: "core-sw-01", Kind: "Network switch", State: "root", Href: "/cmdb/ci/1"},
		{ID: 2, Label: "esx-01", Kind: "Server", State: "down", Layer: 1, Href: "/cmdb/ci/2"},
		{ID: 3, Label: "Payroll", Kind: "Application", State: "degraded", Layer: 2, Note: "1 of 2 servers down"},
	}
	edges := []graph.Edge{{From: 1, To: 2, Label: "connects"}, {From: 2, To: 3, Label: "hosts"}}
	page := template.Must(template.New("impact").Parse(`<div class="g-scroll">{{.}}</div>`))
	_ = page.Execute(os.Stdout, graph.Render(nodes, edges, graph.Options{Title: "Impact of core-sw-01"}))
}
