package graph

import (
	"math"
	"strconv"
	"strings"
)

// Text metrics, matching graph.css.
const (
	nameSize   = 13.0 // .g-name, bold
	smallSize  = 11.0 // .g-kind, .g-note, .g-legend-text, .g-head
	maxRelDesc = 6    // relationships spelled out in a node's description
	headY      = topY - 14
	legendY    = 10.0
)

// stateWord is how a state reads in text.
func stateWord(state string) string {
	if state == "root" {
		return "analysed"
	}
	return state
}

// legendEntry is one swatch of the legend.
type legendEntry struct{ class, label string }

// svg writes the laid-out graph as SVG markup.
func (l *layout) svg() string {
	if len(l.items) == 0 {
		return l.empty()
	}
	l.ports()
	p := l.prefix

	// Size: the columns, links swinging out of the outer ones, the legend.
	ncols := len(l.cols)
	outL, outR := 0.0, 0.0
	for k := range l.links {
		lk := &l.links[k]
		if c := l.items[lk.chain[0]].col; len(lk.chain) == 2 && c == l.items[lk.chain[1]].col {
			out := bulge(lk.port[0], lk.port[1]) + 2 - margin
			switch {
			case l.loopsLeft(c):
				outL = max(outL, out)
			case l.visual(c) == ncols-1:
				outR = max(outR, out)
			}
		}
	}
	l.x0 = margin + math.Ceil(outL)
	width := l.x0 + float64(ncols)*nodeW + float64(ncols-1)*colGap + outR + margin
	legend := []legendEntry{{"g-root", "Analysed"}, {"g-down", "Down"}, {"g-degraded", "Degraded"}, {"g-ok", "OK"}}
	if l.more {
		legend = append(legend, legendEntry{"g-more", "Not shown"})
	}
	if l.hot {
		legend = append(legend, legendEntry{"", "Impact path"})
	}
	lw := 0.0
	for _, e := range legend {
		lw += 24 + textWidth(e.label, smallSize, false) + 16
	}
	width = math.Ceil(max(width, lw+2*margin))
	height := 0.0
	for i := range l.items {
		height = max(height, l.items[i].y+l.items[i].h/2)
	}
	height = math.Ceil(height + margin)

	size := 4096
	for k := range l.links {
		size += 260 + 24*len(l.links[k].chain)
	}
	for _, col := range l.cols {
		size += 400 + 800*len(col)
	}
	b := make([]byte, 0, size)
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" class="g-svg" role="group" aria-labelledby="`...)
	b = append(b, p...)
	b = append(b, `-t" aria-describedby="`...)
	b = append(b, p...)
	b = append(b, `-d" width="`...)
	b = appendNum(b, width)
	b = append(b, `" height="`...)
	b = appendNum(b, height)
	b = append(b, `" viewBox="0 0 `...)
	b = appendNum(b, width)
	b = append(b, ' ')
	b = appendNum(b, height)
	b = append(b, `"><title id="`...)
	b = append(b, p...)
	b = append(b, `-t">`...)
	b = appendText(b, l.opt.Title)
	b = append(b, `</title><desc id="`...)
	b = append(b, p...)
	b = append(b, `-d">`...)
	b = appendText(b, l.summary())
	b = append(b, "</desc>\n<defs>"...)
	for _, m := range [2]string{"a", "h"} {
		b = append(b, `<marker id="`...)
		b = append(b, p...)
		b = append(b, '-')
		b = append(b, m...)
		b = append(b, `" class="g-arrow`...)
		if m == "h" {
			b = append(b, ` g-arrow-hot`...)
		}
		b = append(b, `" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="9" markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,1L10,5L0,9z"/></marker>`...)
	}
	b = append(b, `<clipPath id="`...)
	b = append(b, p...)
	b = append(b, `-c"><rect width="`...)
	b = appendNum(b, nodeW-7)
	b = append(b, `" height="`...)
	b = appendNum(b, nodeHN)
	b = append(b, "\"/></clipPath></defs>\n"...)

	b = l.legend(b, legend)
	b = l.edges(b)
	b = l.nodes(b)
	b = append(b, "</svg>"...)
	return string(b)
}

// empty is the drawing of a graph without nodes.
func (l *layout) empty() string {
	var b []byte
	b = append(b, `<svg xmlns="http://www.w3.org/2000/svg" class="g-svg" role="group" aria-labelledby="`...)
	b = append(b, l.prefix...)
	b = append(b, `-t" width="320" height="40" viewBox="0 0 320 40"><title id="`...)
	b = append(b, l.prefix...)
	b = append(b, `-t">`...)
	b = appendText(b, l.opt.Title)
	b = append(b, `</title><text class="g-empty" x="16" y="24">No configuration items to show.</text></svg>`...)
	return string(b)
}

// summary describes the whole graph in a sentence, for its <desc>.
func (l *layout) summary() string {
	n := l.total[0] + l.total[1] + l.total[2] + l.total[3]
	var s strings.Builder
	s.WriteString(plural(n, "configuration item", "configuration items"))
	s.WriteString(" in ")
	s.WriteString(plural(len(l.cols), "layer", "layers"))
	s.WriteString(": ")
	first := true
	for sev, word := range [4]string{"analysed", "down", "degraded", "ok"} {
		if l.total[sev] == 0 {
			continue
		}
		if !first {
			s.WriteString(", ")
		}
		first = false
		s.WriteString(itoa(l.total[sev]))
		s.WriteString(" ")
		s.WriteString(word)
	}
	s.WriteString(".")
	if l.more {
		s.WriteString(" Crowded layers show their most severe items and group the rest.")
	}
	return s.String()
}

// plural is "1 thing" or "n things".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return itoa(n) + " " + many
}

// legend writes the key to the state colours, hidden from screen readers,
// which read each node's state in words.
func (l *layout) legend(b []byte, entries []legendEntry) []byte {
	b = append(b, `<g class="g-legend" aria-hidden="true">`...)
	x := margin
	for _, e := range entries {
		if e.class == "" {
			b = append(b, `<path class="g-edge g-hot" d="M`...)
			b = appendNum(b, x)
			b = append(b, ',')
			b = appendNum(b, legendY+6)
			b = append(b, `h20" marker-end="url(#`...)
			b = append(b, l.prefix...)
			b = append(b, `-h)"/>`...)
		} else {
			b = append(b, `<g class="g-node `...)
			b = append(b, e.class...)
			b = append(b, `"><rect class="g-box" x="`...)
			b = appendNum(b, x+1)
			b = append(b, `" y="`...)
			b = appendNum(b, legendY)
			b = append(b, `" width="18" height="12" rx="2"/></g>`...)
		}
		b = append(b, `<text class="g-legend-text" x="`...)
		b = appendNum(b, x+24)
		b = append(b, `" y="`...)
		b = appendNum(b, legendY+10)
		b = append(b, `">`...)
		b = appendText(b, e.label)
		b = append(b, `</text>`...)
		x += 24 + textWidth(e.label, smallSize, false) + 16
	}
	return append(b, "</g>\n"...)
}

// edges writes the links, under the nodes. Their tooltips name the
// relationships; screen readers get them from the nodes' descriptions.
func (l *layout) edges(b []byte) []byte {
	b = append(b, `<g class="g-edges" aria-hidden="true">`...)
	for k := range l.links {
		lk := &l.links[k]
		b = append(b, "\n<path class=\"g-edge"...)
		marker := "-a)"
		if lk.hot {
			b = append(b, " g-hot"...)
			marker = "-h)"
		}
		b = append(b, `" d="`...)
		b = l.path(b, lk)
		b = append(b, '"')
		if lk.fwd {
			b = append(b, ` marker-end="url(#`...)
			b = append(b, l.prefix...)
			b = append(b, marker...)
			b = append(b, '"')
		}
		if lk.back {
			b = append(b, ` marker-start="url(#`...)
			b = append(b, l.prefix...)
			b = append(b, marker...)
			b = append(b, '"')
		}
		b = append(b, "><title>"...)
		b = l.sentences(b, lk, "; ")
		b = append(b, "</title></path>"...)
	}
	return append(b, "</g>\n"...)
}

// path writes a link's path data: cubic Bézier curves with horizontal
// tangents between columns, straight runs across the columns it passes
// through, and a loop out to the right for a link within one column.
func (l *layout) path(b []byte, lk *link) []byte {
	ch := lk.chain
	a, z := &l.items[ch[0]], &l.items[ch[len(ch)-1]]
	if a.col == z.col {
		x := l.colX(a.col) + nodeW
		y0, y1 := lk.port[0], lk.port[1]
		bx := x + bulge(y0, y1)
		if l.loopsLeft(a.col) {
			x = l.colX(a.col)
			bx = x - bulge(y0, y1)
		}
		b = append(b, 'M')
		b = appendPoint(b, x, y0)
		b = append(b, 'C')
		b = appendPoint(b, bx, y0)
		b = append(b, ' ')
		b = appendPoint(b, bx, y1)
		b = append(b, ' ')
		b = appendPoint(b, x, y1)
		return b
	}
	ax := l.colX(a.col)
	rightward := l.colX(l.items[ch[1]].col) > ax
	sx, sy := ax, lk.port[0]
	if rightward {
		sx += nodeW
	}
	b = append(b, 'M')
	b = appendPoint(b, sx, sy)
	for i := 1; i < len(ch); i++ {
		v := &l.items[ch[i]]
		vx := l.colX(v.col)
		ex, ey := vx, v.y
		if !rightward {
			ex += nodeW
		}
		if i == len(ch)-1 {
			ey = lk.port[1]
		}
		mx := (sx + ex) / 2
		b = append(b, 'C')
		b = appendPoint(b, mx, sy)
		b = append(b, ' ')
		b = appendPoint(b, mx, ey)
		b = append(b, ' ')
		b = appendPoint(b, ex, ey)
		if i < len(ch)-1 {
			sx, sy = vx, ey
			if rightward {
				sx += nodeW
			}
			b = append(b, 'H')
			b = appendNum(b, sx)
		}
	}
	return b
}

// appendPoint appends "x,y".
func appendPoint(b []byte, x, y float64) []byte {
	b = appendNum(b, x)
	b = append(b, ',')
	return appendNum(b, y)
}

// name is how an item is named in text.
func (l *layout) name(v int32) string {
	it := &l.items[v]
	if it.kind == kindMore {
		return it.node.Label
	}
	if s := strings.TrimSpace(it.node.Label); s != "" {
		return s
	}
	return "CI " + itoa(int(it.node.ID))
}

// sentences describes a link's edges, one sentence per direction, such as
// "web-01 runs on esx-03", joined by sep.
func (l *layout) sentences(b []byte, lk *link, sep string) []byte {
	a, z := lk.chain[0], lk.chain[len(lk.chain)-1]
	if lk.fwd {
		b = l.sentence(b, a, z, lk.fwdLabel, lk.fwdN)
	}
	if lk.back {
		if lk.fwd {
			b = append(b, sep...)
		}
		b = l.sentence(b, z, a, lk.backLabel, lk.backN)
	}
	return b
}

// sentence writes "from label to", and how many edges it stands for if more than one.
func (l *layout) sentence(b []byte, from, to int32, label string, n int) []byte {
	b = appendText(b, l.name(from))
	if label == "" {
		b = append(b, " → "...)
	} else {
		b = append(b, ' ')
		b = appendText(b, label)
		b = append(b, ' ')
	}
	b = appendText(b, l.name(to))
	if n > 1 {
		b = append(b, " ("...)
		b = strconv.AppendInt(b, int64(n), 10)
		b = append(b, " relationships)"...)
	}
	return b
}

// nodes writes the columns of nodes, each a group named after its layer.
func (l *layout) nodes(b []byte) []byte {
	// Each item's links, for the nodes' descriptions.
	start := make([]int32, len(l.items)+1)
	for k := range l.links {
		ch := l.links[k].chain
		start[ch[0]+1]++
		start[ch[len(ch)-1]+1]++
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	inc := make([]int32, start[len(start)-1])
	fill := append([]int32(nil), start[:len(l.items)]...)
	for k := range l.links {
		ch := l.links[k].chain
		for _, v := range [2]int32{ch[0], ch[len(ch)-1]} {
			inc[fill[v]] = int32(k)
			fill[v]++
		}
	}

	for c, col := range l.cols {
		n := 0
		for _, v := range col {
			it := &l.items[v]
			switch it.kind {
			case kindReal:
				n++
			case kindMore:
				n += it.hidden[0] + it.hidden[1] + it.hidden[2] + it.hidden[3]
			}
		}
		head := "Analysed"
		if l.layers[c] > 0 {
			head = plural(l.layers[c], "hop away", "hops away")
		}
		b = append(b, `<g class="g-col" role="group" aria-label="`...)
		b = appendText(b, head+": "+plural(n, "configuration item", "configuration items"))
		b = append(b, `"><text class="g-head" aria-hidden="true" x="`...)
		b = appendNum(b, l.colX(c))
		b = append(b, `" y="`...)
		b = appendNum(b, headY)
		b = append(b, `">`...)
		b = appendText(b, head+" ("+itoa(n)+")")
		b = append(b, `</text>`...)
		for _, v := range col {
			if l.items[v].kind != kindDummy {
				b = l.node(b, v, inc[start[v]:start[v+1]])
			}
		}
		b = append(b, "</g>\n"...)
	}
	return b
}

// node writes one node: a link (when it has a safe Href) around a group with
// the box, the name, the class and state, and the note.
func (l *layout) node(b []byte, v int32, links []int32) []byte {
	it := &l.items[v]
	n := &it.node
	href := ""
	if it.kind == kindReal {
		href = safeHref(n.Href)
	}
	kind := strings.TrimSpace(n.Kind)
	if href != "" {
		b = append(b, "\n<a class=\"g-link\" href=\""...)
		b = appendText(b, href)
		b = append(b, `">`...)
		b = l.describe(b, v, kind, links)
	}
	b = append(b, "\n<g class=\"g-node g-"...)
	b = append(b, n.State...)
	b = append(b, '"')
	if it.kind == kindReal {
		b = append(b, ` data-id="`...)
		b = strconv.AppendInt(b, n.ID, 10)
		b = append(b, '"')
	}
	b = append(b, ` transform="translate(`...)
	b = appendPoint(b, l.colX(it.col), it.y-it.h/2)
	b = append(b, `)">`...)
	if href == "" {
		b = l.describe(b, v, kind, links)
	} else {
		for _, ring := range [2]string{"g-ring-out", "g-ring"} {
			b = append(b, `<rect class="`...)
			b = append(b, ring...)
			b = append(b, `" x="-5" y="-5" width="`...)
			b = appendNum(b, nodeW+10)
			b = append(b, `" height="`...)
			b = appendNum(b, it.h+10)
			b = append(b, `" rx="7"/>`...)
		}
	}
	b = append(b, `<rect class="g-box" width="`...)
	b = appendNum(b, nodeW)
	b = append(b, `" height="`...)
	b = appendNum(b, it.h)
	b = append(b, `" rx="4"/><g clip-path="url(#`...)
	b = append(b, l.prefix...)
	b = append(b, `-c)"><text class="g-name" x="10" y="18">`...)
	b = appendFit(b, l.name(v), nameSize, nodeW-2*padX, true)
	b = append(b, `</text><text class="g-kind" x="10" y="34">`...)
	if it.kind == kindReal && n.State != "ok" {
		word := stateWord(n.State)
		room := nodeW - 2*padX - textWidth(word, smallSize, false) - textWidth(" · ", smallSize, false)
		if kind != "" {
			b = appendFit(b, kind, smallSize, room, false)
			b = append(b, " · "...)
		}
		b = append(b, word...)
	} else {
		b = appendFit(b, kind, smallSize, nodeW-2*padX, false)
	}
	b = append(b, `</text>`...)
	if n.Note != "" {
		b = append(b, `<text class="g-note" x="10" y="50">`...)
		b = appendFit(b, n.Note, smallSize, nodeW-2*padX, false)
		b = append(b, `</text>`...)
	}
	b = append(b, `</g></g>`...)
	if href != "" {
		b = append(b, `</a>`...)
	}
	return b
}

// describe writes a node's <title>, "name (class): state", and a <desc>
// spelling out its relationships.
func (l *layout) describe(b []byte, v int32, kind string, links []int32) []byte {
	it := &l.items[v]
	b = append(b, `<title>`...)
	if it.kind == kindMore {
		hidden := it.hidden[0] + it.hidden[1] + it.hidden[2] + it.hidden[3]
		b = appendText(b, plural(hidden, "more configuration item", "more configuration items")+" not shown: "+it.node.Kind)
	} else {
		b = appendText(b, l.name(v))
		if kind != "" {
			b = append(b, " ("...)
			b = appendText(b, kind)
			b = append(b, ')')
		}
		b = append(b, ": "...)
		b = append(b, stateWord(it.node.State)...)
		if note := strings.TrimSpace(it.node.Note); note != "" {
			b = append(b, " — "...)
			b = appendText(b, note)
		}
	}
	b = append(b, `</title>`...)
	if len(links) == 0 {
		return b
	}
	b = append(b, `<desc>`...)
	for i, k := range links {
		if i == maxRelDesc {
			b = append(b, " And "...)
			b = append(b, plural(len(links)-i, "more link.", "more links.")...)
			break
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = l.sentences(b, &l.links[k], ". ")
		b = append(b, '.')
	}
	return append(b, `</desc>`...)
}
