package graph

import (
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// elem is a parsed XML element.
type elem struct {
	name   string
	attr   map[string]string
	text   string
	kids   []*elem
	parent *elem
}

// class reports whether the element has the CSS class c.
func (e *elem) class(c string) bool {
	return strings.Contains(" "+e.attr["class"]+" ", " "+c+" ")
}

// all lists the element and its descendants that satisfy keep, in document order.
func (e *elem) all(keep func(*elem) bool) []*elem {
	var out []*elem
	var walk func(*elem)
	walk = func(x *elem) {
		if keep(x) {
			out = append(out, x)
		}
		for _, k := range x.kids {
			walk(k)
		}
	}
	walk(e)
	return out
}

// child is the first child element named name, or nil.
func (e *elem) child(name string) *elem {
	for _, k := range e.kids {
		if k.name == name {
			return k
		}
	}
	return nil
}

// parse checks that svg is well-formed XML and returns its root element.
func parse(t *testing.T, svg template.HTML) *elem {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(string(svg)))
	d.Strict = true
	var root, cur *elem
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			e := &elem{name: tok.Name.Local, attr: map[string]string{}, parent: cur}
			for _, a := range tok.Attr {
				e.attr[a.Name.Local] = a.Value
			}
			if cur == nil {
				if root != nil {
					t.Fatalf("more than one root element")
				}
				root = e
			} else {
				cur.kids = append(cur.kids, e)
			}
			cur = e
		case xml.EndElement:
			cur = cur.parent
		case xml.CharData:
			if cur != nil {
				cur.text += string(tok)
			} else if strings.TrimSpace(string(tok)) != "" {
				t.Fatalf("text outside the root element: %q", tok)
			}
		}
	}
	if root == nil || root.name != "svg" {
		t.Fatalf("root is not <svg>: %s", svg)
	}
	return root
}

// nodeBox is where a node with data-id was drawn.
type nodeBox struct {
	x, y float64
	el   *elem
}

var translate = regexp.MustCompile(`^translate\(([-0-9.]+),([-0-9.]+)\)$`)

// boxes maps each drawn node's ID to its box.
func boxes(t *testing.T, root *elem) map[int64]nodeBox {
	t.Helper()
	out := map[int64]nodeBox{}
	for _, g := range root.all(func(e *elem) bool { return e.class("g-node") && e.attr["data-id"] != "" }) {
		id, err := strconv.ParseInt(g.attr["data-id"], 10, 64)
		if err != nil {
			t.Fatalf("data-id %q: %v", g.attr["data-id"], err)
		}
		m := translate.FindStringSubmatch(g.attr["transform"])
		if m == nil {
			t.Fatalf("node %d: transform %q", id, g.attr["transform"])
		}
		x, _ := strconv.ParseFloat(m[1], 64)
		y, _ := strconv.ParseFloat(m[2], 64)
		if _, dup := out[id]; dup {
			t.Fatalf("node %d drawn twice", id)
		}
		out[id] = nodeBox{x, y, g}
	}
	return out
}

// titleOf is the tooltip of a drawn node: on its link, or on its group.
func titleOf(b nodeBox) string {
	if b.el.parent.name == "a" {
		return b.el.parent.child("title").text
	}
	return b.el.child("title").text
}

// hostile has labels that try to break out of the markup.
func hostile() ([]Node, []Edge) {
	return []Node{
			{ID: 1, Label: `<script>alert("x")</script> & 'q'`, Kind: `<b>class</b>`, State: "root", Href: `/ci/1?a=1&b="2"<x>`, Note: `"quoted" & <i>`},
			{ID: 2, Label: "]]><!-- \x00\x01\x7f\uFFFE bad\xffutf8", Kind: "k\"", State: "DOWN", Layer: 1, Href: "javascript:alert(1)"},
			{ID: 3, Label: "", Kind: "", State: "weird", Layer: 1, Href: " JavaScript:alert(1)"},
			{ID: 4, Label: "tab\tnew\nline", State: "degraded", Layer: 2, Href: "data:text/html,<script>"},
		}, []Edge{
			{From: 1, To: 2, Label: `<"runs on">`},
			{From: 2, To: 4, Label: "&amp;"},
			{From: 4, To: 1, Label: "'back'"},
		}
}

// cases are the graphs most tests draw.
func cases() map[string]func() ([]Node, []Edge, Options) {
	return map[string]func() ([]Node, []Edge, Options){
		"sample": func() ([]Node, []Edge, Options) { n, e := sample(); return n, e, Options{Title: "Impact"} },
		"sample up": func() ([]Node, []Edge, Options) {
			n, e := sample()
			return n, e, Options{Direction: "up"}
		},
		"crowded": func() ([]Node, []Edge, Options) { n, e := crowded(); return n, e, Options{} },
		"hostile": func() ([]Node, []Edge, Options) {
			n, e := hostile()
			return n, e, Options{Title: `<title> & "x"`}
		},
		"big":   func() ([]Node, []Edge, Options) { n, e := big(300, 600); return n, e, Options{MaxPerLayer: 20} },
		"empty": func() ([]Node, []Edge, Options) { return nil, nil, Options{} },
		"one": func() ([]Node, []Edge, Options) {
			return []Node{{ID: 7, Label: "alone", State: "root"}}, nil, Options{}
		},
	}
}

func TestWellFormedAndAccessible(t *testing.T) {
	t.Parallel()
	for name, mk := range cases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			svg := Render(mk())
			root := parse(t, svg)
			if root.attr["role"] != "group" {
				t.Errorf("role = %q, want group (the graph holds links)", root.attr["role"])
			}
			ids := map[string]*elem{}
			for _, e := range root.all(func(e *elem) bool { return e.attr["id"] != "" }) {
				if ids[e.attr["id"]] != nil {
					t.Errorf("id %q used twice", e.attr["id"])
				}
				ids[e.attr["id"]] = e
			}
			if title := ids[root.attr["aria-labelledby"]]; title == nil || title.name != "title" || strings.TrimSpace(title.text) == "" {
				t.Errorf("aria-labelledby %q does not name a <title>", root.attr["aria-labelledby"])
			}
			for _, ref := range regexp.MustCompile(`url\(#([^)]+)\)`).FindAllStringSubmatch(string(svg), -1) {
				if ids[ref[1]] == nil {
					t.Errorf("reference to missing id %q", ref[1])
				}
			}
			if _, err := strconv.ParseFloat(root.attr["width"], 64); err != nil {
				t.Errorf("width %q: %v", root.attr["width"], err)
			}
			if root.attr["viewBox"] != "0 0 "+root.attr["width"]+" "+root.attr["height"] {
				t.Errorf("viewBox %q does not match width %q and height %q", root.attr["viewBox"], root.attr["width"], root.attr["height"])
			}
			for _, bad := range []string{"NaN", "Inf"} {
				if strings.Contains(string(svg), bad) {
					t.Errorf("output contains %s", bad)
				}
			}
			for id, b := range boxes(t, root) {
				if !regexp.MustCompile(`^.+: (analysed|down|degraded|ok)( — .+)?$`).MatchString(titleOf(b)) {
					t.Errorf("node %d: title %q is not \"name (class): state\"", id, titleOf(b))
				}
			}
		})
	}
}

func TestNoInlineStyles(t *testing.T) {
	t.Parallel()
	for name, mk := range cases() {
		svg := strings.ToLower(string(Render(mk())))
		if strings.Contains(svg, "style=") || strings.Contains(svg, "<style") || strings.Contains(svg, "<script") {
			t.Errorf("%s: output has a style attribute, a style element or a script", name)
		}
	}
}

func TestLabelsEscaped(t *testing.T) {
	t.Parallel()
	nodes, edges := hostile()
	svg := Render(nodes, edges, Options{Title: `<title> & "x"`})
	for _, raw := range []string{"<script", "<b>", "<i>", "<!--", "]]>", `b="2"`, "javascript:", "data:"} {
		if strings.Contains(string(svg), raw) {
			t.Errorf("output contains %q unescaped", raw)
		}
	}
	root := parse(t, svg)
	if got := root.child("title").text; got != `<title> & "x"` {
		t.Errorf("graph title = %q", got)
	}
	b := boxes(t, root)
	if got, want := titleOf(b[1]), `<script>alert("x")</script> & 'q' (<b>class</b>): analysed — "quoted" & <i>`; got != want {
		t.Errorf("node 1 title = %q, want %q", got, want)
	}
	if got := b[1].el.parent.attr["href"]; got != `/ci/1?a=1&b="2"<x>` {
		t.Errorf("node 1 href = %q", got)
	}
	if got, want := titleOf(b[2]), "]]><!--  bad\uFFFDutf8 (k\"): down"; got != want {
		t.Errorf("node 2 title = %q, want %q", got, want)
	}
	if got := titleOf(b[3]); got != "CI 3: ok" {
		t.Errorf("node 3 title = %q", got)
	}
	if got := titleOf(b[4]); got != "tab new line: degraded" {
		t.Errorf("node 4 title = %q", got)
	}
	var names []string
	for _, e := range root.all(func(e *elem) bool { return e.class("g-name") }) {
		names = append(names, e.text)
	}
	for _, want := range []string{"]]><!--  bad\uFFFDutf8", "CI 3", "tab new line"} {
		if !contains(names, want) {
			t.Errorf("label %q not drawn; drawn: %q", want, names)
		}
	}
	if !strings.HasPrefix(names[0], `<script>alert("x")`) || !strings.HasSuffix(names[0], "…") {
		t.Errorf("long label %q not drawn shortened with an ellipsis", names[0])
	}
	var edgeTitles []string
	for _, p := range root.all(func(e *elem) bool { return e.name == "path" && e.class("g-edge") && e.child("title") != nil }) {
		edgeTitles = append(edgeTitles, p.child("title").text)
	}
	if want := `<script>alert("x")</script> & 'q' <"runs on"> ]]><!--  bad` + "\uFFFDutf8"; !contains(edgeTitles, want) {
		t.Errorf("edge titles %q lack %q", edgeTitles, want)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestLongLabelShortened(t *testing.T) {
	t.Parallel()
	long := "a-very-long-configuration-item-name.with.many.parts.example.mil"
	root := parse(t, Render([]Node{{ID: 1, Label: long, Kind: "Server", State: "down", Note: strings.Repeat("note ", 30)}}, nil, Options{}))
	b := boxes(t, root)[1]
	name := b.el.all(func(e *elem) bool { return e.class("g-name") })[0].text
	if !strings.HasSuffix(name, "…") || !strings.HasPrefix(long, strings.TrimSuffix(name, "…")) || len(name) > 30 {
		t.Errorf("drawn name %q, want a prefix of %q with an ellipsis", name, long)
	}
	if got := titleOf(b); !strings.HasPrefix(got, long+" (Server): down — note") {
		t.Errorf("title %q lacks the full name", got)
	}
	if kind := b.el.all(func(e *elem) bool { return e.class("g-kind") })[0].text; kind != "Server · down" {
		t.Errorf("class line %q", kind)
	}
}

func TestCollapse(t *testing.T) {
	t.Parallel()
	nodes := []Node{{ID: 1, Label: "sw", State: "root"}, {ID: 5000, Label: "app", Layer: 2}}
	var edges []Edge
	for i := range 100 {
		id := int64(1000 + i)
		state := "ok"
		if i >= 97 {
			state = "down" // highest IDs, but most severe: they must be shown
		}
		nodes = append(nodes, Node{ID: id, Label: fmt.Sprintf("host-%d", i), State: state, Layer: 1})
		edges = append(edges, Edge{From: 1, To: id, Label: "connects"}, Edge{From: id, To: 5000, Label: "runs"})
	}
	root := parse(t, Render(nodes, edges, Options{MaxPerLayer: 10}))
	b := boxes(t, root)
	shown := 0
	for id := range b {
		if id >= 1000 && id < 1100 {
			shown++
		}
	}
	if shown != 10 {
		t.Errorf("%d nodes of layer 1 shown, want 10", shown)
	}
	for _, id := range []int64{1097, 1098, 1099, 1000} {
		if _, ok := b[id]; !ok {
			t.Errorf("node %d not shown; the down ones and then the lowest IDs should be", id)
		}
	}
	more := root.all(func(e *elem) bool { return e.class("g-more") && e.class("g-node") && e.attr["transform"] != "" })
	if len(more) != 1 {
		t.Fatalf("%d collapsed nodes, want 1", len(more))
	}
	if got := more[0].all(func(e *elem) bool { return e.class("g-name") })[0].text; got != "+90 more" {
		t.Errorf("collapsed node reads %q, want +90 more", got)
	}
	if got := more[0].child("title").text; got != "90 more configuration items not shown: 90 ok" {
		t.Errorf("collapsed node title %q", got)
	}
	if x := more[0].attr["transform"]; !strings.HasPrefix(x, fmt.Sprintf("translate(%g,", b[1000].x)) {
		t.Errorf("collapsed node at %s, not in layer 1's column (x=%g)", x, b[1000].x)
	}
	var titles []string
	for _, p := range root.all(func(e *elem) bool { return e.name == "path" && e.class("g-edge") && e.child("title") != nil }) {
		titles = append(titles, p.child("title").text)
	}
	for _, want := range []string{"sw connects +90 more (90 relationships)", "+90 more runs app (90 relationships)", "host-97 runs app"} {
		if !contains(titles, want) {
			t.Errorf("no edge %q among %q", want, titles)
		}
	}
	if len(titles) != 22 {
		t.Errorf("%d edges drawn, want 22 (11 in, 11 out)", len(titles))
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	for name, mk := range cases() {
		nodes, edges, opt := mk()
		first := Render(nodes, edges, opt)
		if again := Render(nodes, edges, opt); again != first {
			t.Errorf("%s: two renderings differ", name)
		}
		if name == "hostile" {
			continue // its edges' labels would be listed in another order
		}
		// The same graph given in another order draws the same.
		r := rand.New(rand.NewPCG(3, 4))
		n2, e2 := append([]Node(nil), nodes...), append([]Edge(nil), edges...)
		r.Shuffle(len(n2), func(i, j int) { n2[i], n2[j] = n2[j], n2[i] })
		r.Shuffle(len(e2), func(i, j int) { e2[i], e2[j] = e2[j], e2[i] })
		if shuffled := Render(n2, e2, opt); shuffled != first {
			t.Errorf("%s: rendering depends on the order of the input", name)
		}
	}
}

func TestLinks(t *testing.T) {
	t.Parallel()
	nodes, edges := sample()
	nodes[2].Href = ""
	root := parse(t, Render(nodes, edges, Options{}))
	b := boxes(t, root)
	for _, n := range nodes {
		box, ok := b[n.ID]
		if !ok {
			t.Fatalf("node %d not drawn", n.ID)
		}
		a := box.el.parent
		switch {
		case n.Href == "" && a.name == "a":
			t.Errorf("node %d is a link without an Href", n.ID)
		case n.Href != "" && (a.name != "a" || a.attr["href"] != n.Href || !a.class("g-link")):
			t.Errorf("node %d: parent <%s href=%q>, want a link to %q", n.ID, a.name, a.attr["href"], n.Href)
		}
	}
	links := root.all(func(e *elem) bool { return e.name == "a" })
	if len(links) != len(nodes)-1 {
		t.Errorf("%d links, want %d", len(links), len(nodes)-1)
	}
}

func TestLayersLeftToRight(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"down", "up", ""} {
		for name, mk := range cases() {
			nodes, edges, opt := mk()
			opt.Direction = dir
			b := boxes(t, parse(t, Render(nodes, edges, opt)))
			layer := map[int64]int{}
			for _, n := range nodes {
				layer[n.ID] = max(n.Layer, 0)
			}
			for i, p := range b {
				for j, q := range b {
					li, lj := layer[i], layer[j]
					switch {
					case li == lj && p.x != q.x:
						t.Errorf("%s %q: nodes %d and %d of layer %d at x %g and %g", name, dir, i, j, li, p.x, q.x)
					case li < lj && dir != "up" && p.x >= q.x:
						t.Errorf("%s %q: layer %d at x %g, not left of layer %d at x %g", name, dir, li, p.x, lj, q.x)
					case li < lj && dir == "up" && p.x <= q.x:
						t.Errorf("%s %q: layer %d at x %g, not right of layer %d at x %g", name, dir, li, p.x, lj, q.x)
					}
				}
			}
		}
	}
}

func TestCyclesAndBackwardEdges(t *testing.T) {
	t.Parallel()
	nodes := []Node{
		{ID: 1, Label: "A", State: "root"},
		{ID: 2, Label: "B", State: "down", Layer: 1},
		{ID: 3, Label: "C", State: "degraded", Layer: 2},
		{ID: 4, Label: "D", Layer: 1},
		{ID: 4, Label: "D again", Layer: 2}, // a repeated ID: the first one counts
	}
	edges := []Edge{
		{From: 1, To: 2, Label: "feeds"},
		{From: 2, To: 3, Label: "feeds"},
		{From: 3, To: 2, Label: "calls back"}, // against the layers, next door
		{From: 3, To: 1, Label: "manages"},    // against the layers, two columns back
		{From: 2, To: 4, Label: "peers with"}, // within a layer
		{From: 2, To: 3, Label: "also feeds"}, // a second edge between the same pair
		{From: 1, To: 1, Label: "self"},       // dropped
		{From: 1, To: 99, Label: "unknown"},   // dropped
	}
	root := parse(t, Render(nodes, edges, Options{}))
	if n := len(boxes(t, root)); n != 4 {
		t.Errorf("%d nodes drawn, want 4", n)
	}
	paths := map[string]*elem{}
	for _, p := range root.all(func(e *elem) bool { return e.name == "path" && e.child("title") != nil }) {
		paths[p.child("title").text] = p
	}
	if len(paths) != 4 {
		t.Fatalf("edges %q, want 4", keys(paths))
	}
	bc := paths["B feeds / also feeds C (2 relationships); C calls back B"]
	if bc == nil || bc.attr["marker-end"] == "" || bc.attr["marker-start"] == "" || !bc.class("g-hot") {
		t.Errorf("B↔C should be one hot path with an arrow at each end: %q", keys(paths))
	}
	ca := paths["C manages A"]
	if ca == nil || ca.attr["marker-start"] == "" || ca.attr["marker-end"] != "" || !strings.Contains(ca.attr["d"], "H") {
		t.Errorf("C→A should run back through layer 1 with its arrow at A: %+v", ca)
	}
	bd := paths["B peers with D"]
	if bd == nil || strings.Count(bd.attr["d"], "C") != 1 || bd.class("g-hot") {
		t.Errorf("B→D should be one plain curve within the column: %+v", bd)
	}
}

func keys(m map[string]*elem) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestOrderingRemovesCrossings(t *testing.T) {
	t.Parallel()
	// In ID order every edge crosses every other one; reversing a layer removes all crossings.
	nodes := []Node{{ID: 1, State: "root"}, {ID: 2, State: "root"}, {ID: 3, State: "root"},
		{ID: 10, Layer: 1}, {ID: 11, Layer: 1}, {ID: 12, Layer: 1}, {ID: 20, Layer: 2}, {ID: 21, Layer: 2}}
	edges := []Edge{{From: 1, To: 12}, {From: 2, To: 11}, {From: 3, To: 10}, {From: 10, To: 21}, {From: 12, To: 20}, {From: 11, To: 20}}
	l := newLayout(nodes, edges, Options{})
	if x := l.crossings(); x == 0 {
		t.Fatalf("the test graph starts with no crossings")
	}
	b := boxes(t, parse(t, Render(nodes, edges, Options{})))
	for _, e := range edges {
		for _, f := range edges {
			if b[e.From].x != b[f.From].x {
				continue
			}
			if (b[e.From].y < b[f.From].y) != (b[e.To].y < b[f.To].y) && e.From != f.From && e.To != f.To {
				t.Errorf("edges %d→%d and %d→%d cross", e.From, e.To, f.From, f.To)
			}
		}
	}
}

func TestSafeHref(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/cmdb/ci/1":              "/cmdb/ci/1",
		"ci/1?tab=impact#graph":   "ci/1?tab=impact#graph",
		"https://cmdb.example/1":  "https://cmdb.example/1",
		"HTTP://x":                "HTTP://x",
		"mailto:ops@example.mil":  "mailto:ops@example.mil",
		"javascript:alert(1)":     "",
		" jAvAsCrIpT:alert(1)":    "",
		"data:text/html,x":        "",
		"vbscript:x":              "",
		"/a\nb":                   "",
		"":                        "",
		"/path/with:colon":        "/path/with:colon",
		"?q=javascript:alert(1)":  "?q=javascript:alert(1)",
		"#frag:ment":              "#frag:ment",
		"java\tscript:alert(1)":   "",
		"//cmdb.example/ci/1":     "//cmdb.example/ci/1",
		"ftp://files.example/x":   "",
		"https:/\\evil.example/x": "https:/\\evil.example/x",
	} {
		if got := safeHref(in); got != want {
			t.Errorf("safeHref(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEmpty(t *testing.T) {
	t.Parallel()
	root := parse(t, Render(nil, []Edge{{From: 1, To: 2}}, Options{}))
	if got := root.child("title").text; got != "Impact graph" {
		t.Errorf("default title %q", got)
	}
	if len(root.all(func(e *elem) bool { return e.class("g-empty") })) != 1 {
		t.Errorf("an empty graph should say so")
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	nodes, edges := sample()
	got := []byte(Render(nodes, edges, Options{Title: "Impact of core-sw-01"}) + "\n")
	path := filepath.Join("testdata", "sample.svg")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("output differs from %s (run go test -update and review the diff):\n%s", path, firstDiff(string(want), string(got)))
	}
}

// firstDiff shows the first line where two texts differ.
func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n- %s\n+ %s", i+1, x, y)
		}
	}
	return ""
}

func FuzzRender(f *testing.F) {
	f.Add("core-sw-01", "Switch", "root", "/ci/1", "", 0, uint8(5), "runs on")
	f.Add(`<a href="x">&amp;</a>`, "\x00\xff", "down", "javascript:x", "]]>", 3, uint8(40), "'")
	f.Add("", "", "", "", "", -5, uint8(0), "")
	f.Fuzz(func(t *testing.T, label, kind, state, href, note string, layer int, n uint8, edgeLabel string) {
		nodes := []Node{{ID: 0, Label: label, Kind: kind, State: state, Href: href, Note: note, Layer: layer % 4}}
		var edges []Edge
		for i := 1; i <= int(n); i++ {
			nodes = append(nodes, Node{ID: int64(i), Label: label, Kind: kind, State: state, Layer: i % 5, Href: href})
			edges = append(edges, Edge{From: int64(i - 1), To: int64(i), Label: edgeLabel}, Edge{From: int64(i), To: int64(i * 7 % (i + 1)), Label: edgeLabel})
		}
		svg := Render(nodes, edges, Options{Title: label, MaxPerLayer: int(n % 7), Direction: state})
		parse(t, svg)
		if s := strings.ToLower(string(svg)); strings.Contains(s, "style=") || strings.Contains(s, "<style") || strings.Contains(s, "<script") {
			t.Fatalf("style or script in output")
		}
	})
}
