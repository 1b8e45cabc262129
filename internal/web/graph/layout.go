package graph

import (
	"cmp"
	"math"
	"slices"
	"strings"
)

// Drawing metrics, in CSS pixels (SVG user units).
const (
	nodeW    = 184.0 // width of a node box
	nodeH    = 44.0  // height of a node with a name and a class line
	nodeHN   = 58.0  // height of a node with a note line too
	padX     = 10.0  // space between a box's edge and its text
	colGap   = 76.0  // horizontal space between two columns, where the edges run
	margin   = 12.0  // space around the drawing
	topY     = 64.0  // the highest a node's top may be: the legend and the column headings are above
	gapReal  = 14.0  // vertical space between two boxes
	gapMixed = 9.0   // vertical space between a box and an edge passing through its column
	gapDummy = 6.0   // vertical space between two edges passing through a column
	sweeps   = 8     // barycenter sweeps, alternately left to right and right to left
	rounds   = 4     // rounds of vertical alignment
)

// kind tells a node box from a collapsed "+N more" box and from the point
// where an edge crosses a column it does not stop in.
type kind uint8

const (
	kindReal kind = iota
	kindMore
	kindDummy
)

// severity ranks the states, most severe first; a crowded layer keeps its
// most severe nodes. It indexes layout.total and item.hidden.
func severity(state string) int {
	switch state {
	case "root":
		return 0
	case "down":
		return 1
	case "degraded":
		return 2
	}
	return 3
}

// normState maps a caller's state to one the stylesheet knows.
func normState(s string) string {
	switch s {
	case "root", "down", "degraded", "ok":
		return s
	}
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "root", "down", "degraded":
		return s
	}
	return "ok"
}

// item is one thing placed in a column: a node, a "+N more" node, or a dummy
// that an edge spanning several columns passes through.
type item struct {
	kind kind
	// node is the caller's node, or the made-up "+N more" node.
	node Node
	// key breaks ordering ties: the node's ID, or the number of a dummy's edge.
	key  int64
	col  int
	pos  int
	y    float64 // centre
	h    float64
	bary float64
	// left and right are the items linked to this one in the neighbouring columns.
	left, right []int32
	// hidden counts, for a "+N more" node, the nodes it stands for, by severity.
	hidden [4]int
}

// link is one line drawn between two items, standing for every edge between
// the nodes they show, in either direction.
type link struct {
	// chain runs from the item with the lower index to the other, through one dummy per column crossed.
	chain []int32
	// fwd and back say there are edges along the chain's direction and against it.
	fwd, back bool
	// fwdN and backN count those edges; fwdLabel and backLabel are their distinct labels, joined by " / ".
	fwdN, backN         int
	fwdLabel, backLabel string
	// hot marks a link between two affected nodes (analysed, down or degraded).
	hot bool
	// port is the y of the line's two ends.
	port [2]float64
}

// layout is a graph on its way to becoming SVG.
type layout struct {
	opt    Options
	prefix string // makes the SVG's element ids unique on a page
	items  []item
	cols   [][]int32 // item indices, in drawing order
	layers []int     // each column's layer
	links  []link
	total  [4]int  // all nodes, hidden ones included, by severity
	x0     float64 // left edge of the leftmost column
	more   bool    // some layer is collapsed
	hot    bool    // some link is hot
	// scr and blocks are align's scratch space, reused from column to column.
	scr    []float64
	blocks []int
}

// newLayout sorts the nodes into columns, collapses crowded ones, and turns
// the edges into links, with dummies where they span several columns.
func newLayout(nodes []Node, edges []Edge, opt Options) *layout {
	if opt.MaxPerLayer <= 0 {
		opt.MaxPerLayer = 30
	}
	if strings.TrimSpace(opt.Title) == "" {
		opt.Title = "Impact graph"
	}
	if opt.Direction != "up" {
		opt.Direction = "down"
	}
	l := &layout{opt: opt, prefix: idPrefix(nodes, edges, opt)}

	// Sort the nodes into layers, most severe first, then by ID, dropping repeated IDs.
	type nodeKey struct {
		layer int
		sev   int
		id    int64
		i     int
	}
	seen := make(map[int64]struct{}, len(nodes))
	keys := make([]nodeKey, 0, len(nodes))
	for i := range nodes {
		n := &nodes[i]
		if _, dup := seen[n.ID]; dup {
			continue
		}
		seen[n.ID] = struct{}{}
		keys = append(keys, nodeKey{max(n.Layer, 0), severity(normState(n.State)), n.ID, i})
	}
	slices.SortFunc(keys, func(a, b nodeKey) int {
		switch {
		case a.layer != b.layer:
			return cmp.Compare(a.layer, b.layer)
		case a.sev != b.sev:
			return cmp.Compare(a.sev, b.sev)
		}
		return cmp.Compare(a.id, b.id)
	})

	at := make(map[int64]int32, len(keys)) // node ID → the item showing it
	l.items = make([]item, 0, min(len(keys), 16*(opt.MaxPerLayer+1)))
	for i := 0; i < len(keys); {
		j := i
		for j < len(keys) && keys[j].layer == keys[i].layer {
			j++
		}
		c := len(l.cols)
		l.layers = append(l.layers, keys[i].layer)
		col := make([]int32, 0, min(j-i, opt.MaxPerLayer+1))
		more := int32(-1)
		for k, key := range keys[i:j] {
			l.total[key.sev]++
			if k < opt.MaxPerLayer {
				n := nodes[key.i]
				n.State, n.Layer = normState(n.State), key.layer
				at[n.ID] = int32(len(l.items))
				col = append(col, int32(len(l.items)))
				l.items = append(l.items, item{kind: kindReal, node: n, key: n.ID, col: c})
				continue
			}
			if more < 0 {
				more = int32(len(l.items))
				col = append(col, more)
				l.items = append(l.items, item{kind: kindMore, key: int64(c), col: c})
				l.more = true
			}
			l.items[more].hidden[key.sev]++
			at[key.id] = more
		}
		if more >= 0 {
			m := &l.items[more]
			m.node = Node{ID: -1, Label: "+" + itoa(j-i-opt.MaxPerLayer) + " more", Kind: hiddenSummary(m.hidden), State: "more", Layer: keys[i].layer}
		}
		l.cols = append(l.cols, col)
		i = j
	}

	// One link per pair of items, whatever the direction and number of edges.
	type pair struct{ a, b int32 }
	index := make(map[pair]int, len(edges))
	ends := make([]pair, 0, len(edges))
	for _, e := range edges {
		a, okA := at[e.From]
		b, okB := at[e.To]
		if !okA || !okB || a == b {
			continue
		}
		fwd := a < b
		if !fwd {
			a, b = b, a
		}
		k, ok := index[pair{a, b}]
		if !ok {
			k = len(l.links)
			index[pair{a, b}] = k
			l.links = append(l.links, link{})
			ends = append(ends, pair{a, b})
		}
		lk := &l.links[k]
		if fwd {
			lk.fwd, lk.fwdN, lk.fwdLabel = true, lk.fwdN+1, addLabel(lk.fwdLabel, e.Label)
		} else {
			lk.back, lk.backN, lk.backLabel = true, lk.backN+1, addLabel(lk.backLabel, e.Label)
		}
	}
	// Sort the links by their ends, so the drawing does not depend on the edges' order.
	perm := make([]int32, len(l.links))
	for k := range perm {
		perm[k] = int32(k)
	}
	slices.SortFunc(perm, func(x, y int32) int {
		if ends[x].a != ends[y].a {
			return cmp.Compare(ends[x].a, ends[y].a)
		}
		return cmp.Compare(ends[x].b, ends[y].b)
	})
	sorted := make([]link, len(l.links))
	chains := 0
	for k, p := range perm {
		sorted[k] = l.links[p]
		chains += l.items[ends[p].b].col - l.items[ends[p].a].col + 1
	}
	l.links = sorted

	// Chains, with a dummy in each column a link crosses, and each item's
	// neighbours, all cut from shared arrays.
	arena := make([]int32, 0, chains)
	l.items = slices.Grow(l.items, chains-2*len(l.links))
	for k, p := range perm {
		lk := &l.links[k]
		a, b := ends[p].a, ends[p].b
		lk.hot = affected(&l.items[a]) && affected(&l.items[b])
		l.hot = l.hot || lk.hot
		start := len(arena)
		arena = append(arena, a)
		for c := l.items[a].col + 1; c < l.items[b].col; c++ {
			d := int32(len(l.items))
			l.items = append(l.items, item{kind: kindDummy, key: int64(k), col: c})
			l.cols[c] = append(l.cols[c], d)
			arena = append(arena, d)
		}
		arena = append(arena, b)
		lk.chain = arena[start:len(arena):len(arena)]
	}
	deg := make([]int32, 2*len(l.items))
	for k := range l.links {
		ch := l.links[k].chain
		if l.items[ch[0]].col == l.items[ch[1]].col {
			continue
		}
		for i := 1; i < len(ch); i++ {
			deg[2*ch[i-1]+1]++
			deg[2*ch[i]]++
		}
	}
	total := 0
	for _, d := range deg {
		total += int(d)
	}
	nadj := make([]int32, 0, total)
	for i := range l.items {
		it := &l.items[i]
		n := len(nadj)
		nadj = nadj[:n+int(deg[2*i])+int(deg[2*i+1])]
		it.left = nadj[n : n : n+int(deg[2*i])]
		it.right = nadj[n+int(deg[2*i]) : n+int(deg[2*i]) : len(nadj)]
	}
	for k := range l.links {
		ch := l.links[k].chain
		if l.items[ch[0]].col == l.items[ch[1]].col {
			continue
		}
		for i := 1; i < len(ch); i++ {
			u, w := ch[i-1], ch[i]
			l.items[u].right = append(l.items[u].right, w)
			l.items[w].left = append(l.items[w].left, u)
		}
	}
	for c := range l.cols {
		l.renumber(c)
	}
	return l
}

// affected reports whether an item is a node the analysis touches.
func affected(it *item) bool {
	return it.kind == kindReal && it.node.State != "ok"
}

// labelSep separates the distinct labels of a link's edges.
const labelSep = " / "

// addLabel adds s to a short list of distinct labels joined by labelSep.
func addLabel(labels, s string) string {
	s = strings.TrimSpace(s)
	switch {
	case s == "" || labels == s:
		return labels
	case labels == "":
		return s
	case strings.Count(labels, labelSep) >= 3:
		return labels
	}
	for part := range strings.SplitSeq(labels, labelSep) {
		if part == s {
			return labels
		}
	}
	return labels + labelSep + s
}

// hiddenSummary describes the nodes behind a "+N more" node, such as "2 down · 40 ok".
func hiddenSummary(h [4]int) string {
	var parts []string
	for sev, word := range [4]string{"analysed", "down", "degraded", "ok"} {
		if h[sev] > 0 {
			parts = append(parts, itoa(h[sev])+" "+word)
		}
	}
	return strings.Join(parts, " · ")
}

// order arranges each column to reduce edge crossings: barycenter sweeps,
// alternately left to right and back, keeping the best arrangement seen.
func (l *layout) order() {
	if len(l.cols) < 2 {
		return
	}
	best := l.snapshot(nil)
	bestX := l.crossings()
	for s := 0; s < sweeps && bestX > 0; s++ {
		if s%2 == 0 {
			for c := 1; c < len(l.cols); c++ {
				l.sweep(c, true)
			}
		} else {
			for c := len(l.cols) - 2; c >= 0; c-- {
				l.sweep(c, false)
			}
		}
		if x := l.crossings(); x < bestX {
			bestX, best = x, l.snapshot(best)
		}
	}
	l.restore(best)
}

// sweep sorts column c by the mean position of each item's neighbours in the
// column to its left (or right), as a fraction of that column's length; an
// item without such neighbours keeps its place.
func (l *layout) sweep(c int, fromLeft bool) {
	col := l.cols[c]
	other := c + 1
	if fromLeft {
		other = c - 1
	}
	n := float64(len(l.cols[other]))
	for _, v := range col {
		it := &l.items[v]
		nb := it.right
		if fromLeft {
			nb = it.left
		}
		if len(nb) == 0 {
			it.bary = (float64(it.pos) + 0.5) / float64(len(col))
			continue
		}
		s := 0.0
		for _, u := range nb {
			s += float64(l.items[u].pos) + 0.5
		}
		it.bary = s / float64(len(nb)) / n
	}
	slices.SortFunc(col, func(a, b int32) int {
		x, y := &l.items[a], &l.items[b]
		switch {
		case x.bary != y.bary:
			return cmp.Compare(x.bary, y.bary)
		case x.kind != y.kind:
			return cmp.Compare(x.kind, y.kind)
		}
		return cmp.Compare(x.key, y.key)
	})
	l.renumber(c)
}

// renumber records each item's position in column c.
func (l *layout) renumber(c int) {
	for i, v := range l.cols[c] {
		l.items[v].pos = i
	}
}

// snapshot copies the columns' order into buf.
func (l *layout) snapshot(buf []int32) []int32 {
	buf = buf[:0]
	for _, col := range l.cols {
		buf = append(buf, col...)
	}
	return buf
}

// restore puts back an order taken by snapshot.
func (l *layout) restore(buf []int32) {
	for c, col := range l.cols {
		copy(col, buf[:len(col)])
		buf = buf[len(col):]
		l.renumber(c)
	}
}

// crossings counts the links that cross between neighbouring columns, by
// counting inversions with a Fenwick tree: O(E log V) per pair of columns.
func (l *layout) crossings() int {
	total := 0
	var tree []int
	for c := 0; c+1 < len(l.cols); c++ {
		m := len(l.cols[c+1])
		tree = slices.Grow(tree[:0], m+1)[:m+1]
		clear(tree)
		inserted := 0
		for _, u := range l.cols[c] {
			rs := l.items[u].right
			for _, w := range rs {
				// Links already inserted that end below w cross this one.
				p := l.items[w].pos + 1
				le := 0
				for i := p; i > 0; i -= i & -i {
					le += tree[i]
				}
				total += inserted - le
			}
			for _, w := range rs {
				for i := l.items[w].pos + 1; i <= m; i += i & -i {
					tree[i]++
				}
			}
			inserted += len(rs)
		}
	}
	return total
}

// place gives every item its height and vertical centre: columns start
// stacked and centred, then each item is pulled towards its neighbours while
// keeping its column's order and spacing.
func (l *layout) place() {
	for i := range l.items {
		it := &l.items[i]
		switch {
		case it.kind == kindDummy:
			it.h = 0
		case it.node.Note != "":
			it.h = nodeHN
		default:
			it.h = nodeH
		}
	}
	for _, col := range l.cols {
		y := 0.0
		for i, v := range col {
			if i > 0 {
				y += l.sep(col[i-1], v)
			}
			l.items[v].y = y
		}
		for _, v := range col {
			l.items[v].y -= y / 2
		}
	}
	for r := 0; r < rounds; r++ {
		for c := 1; c < len(l.cols); c++ {
			l.align(c, true, false)
		}
		for c := len(l.cols) - 2; c >= 0; c-- {
			l.align(c, false, true)
		}
	}
	for c := range l.cols {
		l.align(c, true, true)
	}
	top := math.Inf(1)
	for i := range l.items {
		top = min(top, l.items[i].y-l.items[i].h/2)
	}
	for i := range l.items {
		l.items[i].y += topY - top
	}
}

// sep is the least distance between the centres of two items stacked in a column.
func (l *layout) sep(u, v int32) float64 {
	a, b := &l.items[u], &l.items[v]
	gap := gapReal
	switch {
	case a.kind == kindDummy && b.kind == kindDummy:
		gap = gapDummy
	case a.kind == kindDummy || b.kind == kindDummy:
		gap = gapMixed
	}
	return (a.h+b.h)/2 + gap
}

// align moves column c's items as close as their order and spacing allow to
// the mean height of their neighbours on the chosen sides, in the least-squares
// sense: pool-adjacent-violators isotonic regression on the positions with the
// spacing taken out, O(n).
func (l *layout) align(c int, useLeft, useRight bool) {
	col := l.cols[c]
	n := len(col)
	if cap(l.scr) < 5*n {
		l.scr = make([]float64, 5*n)
	}
	off, val, wt, bval, bwt := l.scr[:n], l.scr[n:2*n], l.scr[2*n:3*n], l.scr[3*n:4*n], l.scr[4*n:5*n]
	bstart := l.blocks[:0]
	for i, v := range col {
		it := &l.items[v]
		s, k := 0.0, 0
		if useLeft {
			for _, u := range it.left {
				s += l.items[u].y
			}
			k += len(it.left)
		}
		if useRight {
			for _, u := range it.right {
				s += l.items[u].y
			}
			k += len(it.right)
		}
		want := it.y
		if k > 0 {
			want = s / float64(k)
		}
		if i > 0 {
			off[i] = off[i-1] + l.sep(col[i-1], v)
		} else {
			off[i] = 0
		}
		val[i] = want - off[i]
		wt[i] = 1
		if it.kind == kindDummy {
			wt[i] = 0.5
		}
	}
	// Blocks of pooled values; a block's value is the weighted mean of its members.
	nb := 0
	for i := 0; i < n; i++ {
		bval[nb], bwt[nb] = val[i], wt[i]
		bstart = append(bstart[:nb], i)
		nb++
		for nb > 1 && bval[nb-2] > bval[nb-1] {
			w := bwt[nb-2] + bwt[nb-1]
			bval[nb-2] = (bval[nb-2]*bwt[nb-2] + bval[nb-1]*bwt[nb-1]) / w
			bwt[nb-2] = w
			nb--
		}
	}
	l.blocks = bstart
	for b := 0; b < nb; b++ {
		end := n
		if b+1 < nb {
			end = bstart[b+1]
		}
		for i := bstart[b]; i < end; i++ {
			l.items[col[i]].y = bval[b] + off[i]
		}
	}
}
