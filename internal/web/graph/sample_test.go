package graph

import (
	"fmt"
	"html/template"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sample is a switch failure: the switch takes one of three servers down, the
// cluster they form is degraded, and so are the applications and services on it.
func sample() ([]Node, []Edge) {
	nodes := []Node{
		{ID: 1, Label: "core-sw-01", Kind: "Network switch", State: "root", Layer: 0, Href: "/cmdb/ci/1"},
		{ID: 11, Label: "esx-01.prod.example.mil", Kind: "Server", State: "down", Layer: 1, Href: "/cmdb/ci/11"},
		{ID: 12, Label: "esx-02.prod.example.mil", Kind: "Server", State: "ok", Layer: 1, Href: "/cmdb/ci/12"},
		{ID: 13, Label: "esx-03.prod.example.mil", Kind: "Server", State: "ok", Layer: 1, Href: "/cmdb/ci/13"},
		{ID: 21, Label: "Production VM cluster", Kind: "Cluster", State: "degraded", Layer: 2, Href: "/cmdb/ci/21", Note: "1/3 members down"},
		{ID: 31, Label: "Payroll application", Kind: "Application", State: "degraded", Layer: 3, Href: "/cmdb/ci/31"},
		{ID: 32, Label: "Directory (LDAP)", Kind: "Application", State: "down", Layer: 3, Href: "/cmdb/ci/32"},
		{ID: 41, Label: "Identity & access service", Kind: "Business service", State: "down", Layer: 4, Href: "/cmdb/ci/41"},
		{ID: 42, Label: "Pay and personnel self-service portal", Kind: "Business service", State: "degraded", Layer: 4, Href: "/cmdb/ci/42"},
	}
	edges := []Edge{
		{From: 1, To: 11, Label: "connects"},
		{From: 1, To: 12, Label: "connects"},
		{From: 1, To: 13, Label: "connects"},
		{From: 11, To: 21, Label: "is a member of"},
		{From: 12, To: 21, Label: "is a member of"},
		{From: 13, To: 21, Label: "is a member of"},
		{From: 21, To: 31, Label: "hosts"},
		{From: 21, To: 32, Label: "hosts"},
		{From: 11, To: 32, Label: "hosts the database of"}, // spans two layers
		{From: 31, To: 42, Label: "supports"},
		{From: 32, To: 41, Label: "supports"},
		{From: 42, To: 41, Label: "signs in through"}, // within a layer
	}
	return nodes, edges
}

// crowded is a layer of 240 servers behind one switch, collapsed to 30 and "+210 more".
func crowded() ([]Node, []Edge) {
	nodes := []Node{{ID: 1, Label: "dc-spine-01", Kind: "Network switch", State: "root"}}
	var edges []Edge
	for i := range 240 {
		id := int64(100 + i)
		state := "ok"
		switch {
		case i%40 == 0:
			state = "down"
		case i%25 == 0:
			state = "degraded"
		}
		nodes = append(nodes, Node{ID: id, Label: fmt.Sprintf("host-%03d", i), Kind: "Server", State: state, Layer: 1})
		edges = append(edges, Edge{From: 1, To: id, Label: "connects"}, Edge{From: id, To: 900 + int64(i%3), Label: "runs"})
	}
	for i := range 3 {
		nodes = append(nodes, Node{ID: 900 + int64(i), Label: fmt.Sprintf("Application %c", 'A'+i), Kind: "Application", State: []string{"degraded", "ok", "ok"}[i], Layer: 2})
	}
	edges = append(edges, Edge{From: 901, To: 1, Label: "manages"}) // backwards, closing a cycle
	return nodes, edges
}

// TestPreview writes a page with sample graphs that links the real stylesheets,
// to look at in a browser. To keep the page:
//
//	GRAPH_PREVIEW=/tmp/x.html go test -run TestPreview ./internal/web/graph
//	chromium --headless --no-sandbox --disable-gpu --screenshot=/tmp/graph.png --window-size=1400,900 file:///tmp/x.html
func TestPreview(t *testing.T) {
	t.Parallel()
	out := os.Getenv("GRAPH_PREVIEW")
	if out == "" {
		out = filepath.Join(t.TempDir(), "preview.html")
	}
	static, err := filepath.Abs(filepath.Join("..", "static"))
	if err != nil {
		t.Fatal(err)
	}
	n, e := sample()
	cn, ce := crowded()
	gn, ge := big(120, 200)
	sections := []struct {
		title string
		svg   template.HTML
	}{
		{"Impact of core-sw-01", Render(n, e, Options{Title: "Impact of core-sw-01"})},
		{"What the portal depends on (up)", Render(n, e, Options{Title: "Dependencies", Direction: "up"})},
		{"A crowded layer", Render(cn, ce, Options{Title: "Impact of dc-spine-01"})},
		{"Generated: 120 nodes, 200 edges, 12 a layer", Render(gn, ge, Options{Title: "Generated", MaxPerLayer: 12})},
	}
	var page strings.Builder
	fmt.Fprintf(&page, `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Impact graph preview</title>
<link rel="stylesheet" href="file://%s/steward.css"><link rel="stylesheet" href="file://%s/graph.css"></head>
<body><main>`, filepath.ToSlash(static), filepath.ToSlash(static))
	for _, s := range sections {
		fmt.Fprintf(&page, "<section class=\"panel\"><h2>%s</h2><div class=\"g-scroll\">%s</div></section>\n", template.HTMLEscapeString(s.title), s.svg)
	}
	page.WriteString("</main></body></html>\n")
	if err := os.WriteFile(out, []byte(page.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out)
}
