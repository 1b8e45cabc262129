package graph

import (
	"cmp"
	"math"
	"slices"
)

// visual is the position of column c from the left.
func (l *layout) visual(c int) int {
	if l.opt.Direction == "up" {
		return len(l.cols) - 1 - c
	}
	return c
}

// colX is the left edge of column c.
func (l *layout) colX(c int) float64 {
	return l.x0 + float64(l.visual(c))*(nodeW+colGap)
}

// loopsLeft reports whether links within column c swing out to its left:
// they do in the leftmost of several columns, where nothing else runs, and
// to the right everywhere else.
func (l *layout) loopsLeft(c int) bool {
	return len(l.cols) > 1 && l.visual(c) == 0
}

// bulge is how far a link within one column swings out to the right.
func bulge(y0, y1 float64) float64 {
	return min(22+math.Abs(y1-y0)/5, colGap*0.42)
}

// ports spreads the ends of the links meeting one side of a node over the
// middle of that side, ordered by where the links come from, so they fan out
// instead of piling onto one point.
func (l *layout) ports() {
	type end struct {
		other float64
		link  int32
		which int32
	}
	// Bucket the ends by node side (2·item, +1 for the right side).
	side := func(k int, which int) (int32, float64) {
		ch := l.links[k].chain
		me, nb := ch[0], ch[1]
		if which == 1 {
			me, nb = ch[len(ch)-1], ch[len(ch)-2]
		}
		c := l.items[me].col
		right := l.colX(l.items[nb].col) > l.colX(c)
		if len(ch) == 2 && c == l.items[nb].col {
			right = !l.loopsLeft(c)
		}
		s := 2 * me
		if right {
			s++
		}
		return s, l.items[nb].y
	}
	start := make([]int32, 2*len(l.items)+1)
	for k := range l.links {
		for which := range 2 {
			s, _ := side(k, which)
			start[s+1]++
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	ends := make([]end, 2*len(l.links))
	fill := append([]int32(nil), start[:len(start)-1]...)
	for k := range l.links {
		for which := range 2 {
			s, other := side(k, which)
			ends[fill[s]] = end{other, int32(k), int32(which)}
			fill[s]++
		}
	}
	for s := 0; s+1 < len(start); s++ {
		group := ends[start[s]:start[s+1]]
		n := len(group)
		if n == 0 {
			continue
		}
		slices.SortFunc(group, func(x, y end) int {
			switch {
			case x.other != y.other:
				return cmp.Compare(x.other, y.other)
			case x.link != y.link:
				return cmp.Compare(x.link, y.link)
			}
			return cmp.Compare(x.which, y.which)
		})
		it := &l.items[s/2]
		span := 0.0
		if n > 1 {
			span = min(it.h-16, float64(n-1)*7)
		}
		for i, e := range group {
			y := it.y
			if n > 1 {
				y += -span/2 + span*float64(i)/float64(n-1)
			}
			l.links[e.link].port[e.which] = y
		}
	}
}
