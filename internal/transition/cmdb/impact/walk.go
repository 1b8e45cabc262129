package impact

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// chunkSize is the most ids the walk passes to one Source call.
const chunkSize = 500

// level orders the states; a node's level only ever rises.
type level uint8

// The levels: not impacted, degraded, down.
const (
	levelNone level = iota
	levelDegraded
	levelDown
)

func (l level) state() State {
	switch l {
	case levelDown:
		return Down
	case levelDegraded:
		return Degraded
	}
	return ""
}

// item is a reached CI while the walk runs.
type item struct {
	id, via, viaType int64
	depth            int32
	level            level // current
	snap             level // at the start of the round that expands it
	expand           int32 // the round that last expanded it
	queued           int32 // the round that last put it on the next frontier
}

// group tracks a redundancy group's members that the walk has impacted.
type group struct {
	members, minUp       int
	seen, down, degraded int
}

func (g *group) level() level {
	m := max(g.members, g.seen) // relations may change between queries; never count fewer members than seen
	switch {
	case g.down > 0 && m-g.down < g.minUp:
		return levelDown
	case g.down > 0 || g.degraded > 0:
		return levelDegraded
	}
	return levelNone
}

// walk is one level-synchronous breadth-first walk.
type walk struct {
	e          *Engine
	opt        Options
	plan       plan
	downstream bool

	idx     map[int64]int32 // CI id → index in items
	items   []item
	groups  map[int64]*group
	members map[[2]int64]level // (group, member) → the member's level counted in the group

	frontier, next []int32
	ids            []int64 // the current chunk's ids
	in, out        []Edge  // this round's relations: found by target, found by source
	pending        []int64 // groups first reached this round
	round          int32
	queries        int
	truncated      bool
}

func newWalk(e *Engine, opt Options, downstream bool) *walk {
	return &walk{e: e, opt: opt, plan: e.planFor(opt), downstream: downstream}
}

// expandable says whether a node at depth d is followed.
func (w *walk) expandable(d int32) bool {
	return w.opt.Depth <= 0 || int(d) < w.opt.Depth
}

func (w *walk) run(ctx context.Context, roots []int64) (Result, error) {
	roots = slices.Clone(roots)
	slices.Sort(roots)
	roots = slices.Compact(roots)
	if w.opt.Limit > 0 && len(roots) > w.opt.Limit {
		roots = roots[:w.opt.Limit]
		w.truncated = true
	}
	w.idx = make(map[int64]int32, max(256, len(roots)*8))
	w.items = make([]item, 0, max(256, len(roots)*8))
	initial := levelNone
	if w.downstream {
		initial = levelDown
	}
	for _, id := range roots {
		w.idx[id] = int32(len(w.items))
		w.items = append(w.items, item{id: id, level: initial})
		if !w.truncated && w.expandable(0) {
			w.frontier = append(w.frontier, int32(len(w.items)-1))
		}
	}
	for len(w.frontier) > 0 {
		if err := ctx.Err(); err != nil {
			return Result{}, fmt.Errorf("impact walk: %w", err)
		}
		w.round++
		start := len(w.items)
		if err := w.load(ctx); err != nil {
			return Result{}, err
		}
		w.apply()
		if w.opt.Limit > 0 && len(w.items) > w.opt.Limit {
			w.cut(start)
			break
		}
		w.frontier, w.next = w.next, w.frontier[:0]
	}
	return w.result(), nil
}

// load fetches the relations along which the frontier's impact travels, and
// the size of every redundancy group they reach for the first time.
func (w *walk) load(ctx context.Context) error {
	// Downstream, a frontier CI that is a target impacts sources along
	// to_source types; upstream, a frontier CI that is a target rests on
	// sources along to_target types.
	inTypes, outTypes := w.plan.toSource, w.plan.toTarget
	if !w.downstream {
		inTypes, outTypes = outTypes, inTypes
	}
	w.in, w.out = w.in[:0], w.out[:0]
	for _, i := range w.frontier {
		w.items[i].snap = w.items[i].level
		w.items[i].expand = w.round
	}
	for lo := 0; lo < len(w.frontier); lo += chunkSize {
		part := w.frontier[lo:min(lo+chunkSize, len(w.frontier))]
		w.ids = w.ids[:0]
		for _, i := range part {
			w.ids = append(w.ids, w.items[i].id)
		}
		if len(inTypes) > 0 {
			es, err := w.e.src.ByTarget(ctx, w.ids, inTypes)
			w.queries++
			if err != nil {
				return fmt.Errorf("impact: load relations by target of %d CIs: %w", len(w.ids), err)
			}
			w.in = append(w.in, es...)
		}
		if len(outTypes) > 0 {
			es, err := w.e.src.BySource(ctx, w.ids, outTypes)
			w.queries++
			if err != nil {
				return fmt.Errorf("impact: load relations by source of %d CIs: %w", len(w.ids), err)
			}
			w.out = append(w.out, es...)
		}
	}
	if !w.downstream || len(w.plan.groups) == 0 {
		return nil
	}
	w.pending = w.pending[:0]
	for _, e := range w.out {
		if !w.isGroupType(e.Type) {
			continue
		}
		if _, ok := w.groups[e.Target]; ok {
			continue
		}
		if w.groups == nil {
			w.groups = make(map[int64]*group)
			w.members = make(map[[2]int64]level)
		}
		w.groups[e.Target] = nil // placeholder: fetched below
		w.pending = append(w.pending, e.Target)
	}
	for lo := 0; lo < len(w.pending); lo += chunkSize {
		part := w.pending[lo:min(lo+chunkSize, len(w.pending))]
		gs, err := w.e.src.Groups(ctx, part, w.plan.groups)
		w.queries++
		if err != nil {
			return fmt.Errorf("impact: load %d redundancy groups: %w", len(part), err)
		}
		for _, id := range part {
			g := gs[id]
			w.groups[id] = &group{members: g.Members, minUp: max(g.MinUp, 1)}
		}
	}
	return nil
}

func (w *walk) isGroupType(t int64) bool {
	for _, g := range w.plan.groups {
		if g == t {
			return true
		}
	}
	return false
}

// apply spreads the frontier's states over this round's relations.
func (w *walk) apply() {
	for _, e := range w.in {
		if from, ok := w.idx[e.Target]; ok {
			w.reach(from, e.Source, e.Type, false)
		}
	}
	for _, e := range w.out {
		if from, ok := w.idx[e.Source]; ok {
			w.reach(from, e.Target, e.Type, w.downstream && w.isGroupType(e.Type))
		}
	}
}

// reach records that the frontier node at index from reaches CI to through a
// relation of type t; member says the relation makes to a redundancy group.
func (w *walk) reach(from int32, to, t int64, member bool) {
	f := w.items[from]
	if f.expand != w.round {
		// Not on this round's frontier: the Source returned a relation it was not asked for.
		return
	}
	l := f.snap
	if member {
		l = w.countMember(to, f.id, l)
	}
	d := f.depth + 1
	i, ok := w.idx[to]
	if !ok {
		i = int32(len(w.items))
		w.idx[to] = i
		w.items = append(w.items, item{id: to, via: f.id, viaType: t, depth: d, level: l, queued: w.round})
		if w.expandable(d) {
			w.next = append(w.next, i)
		}
		return
	}
	it := &w.items[i]
	if it.depth == d && (f.id < it.via || f.id == it.via && t < it.viaType) {
		it.via, it.viaType = f.id, t
	}
	if l > it.level {
		it.level = l
		if it.queued != w.round && w.expandable(it.depth) {
			it.queued = w.round
			w.next = append(w.next, i)
		}
	}
}

// countMember records member's level l against group g and returns the group's level.
func (w *walk) countMember(g, member int64, l level) level {
	gr := w.groups[g]
	if gr == nil { // not returned by the Source: a group of unknown size that any failure takes down
		gr = &group{minUp: 1}
		w.groups[g] = gr
	}
	key := [2]int64{g, member}
	old, seen := w.members[key]
	if !seen {
		gr.seen++
	}
	if l > old {
		w.members[key] = l
		switch old {
		case levelDegraded:
			gr.degraded--
		case levelDown:
			gr.down--
		}
		switch l {
		case levelDegraded:
			gr.degraded++
		case levelDown:
			gr.down++
		}
	}
	return gr.level()
}

// cut keeps the first Limit nodes, dropping the highest ids among those reached
// this round, so that a truncated result is a prefix of the full one.
func (w *walk) cut(start int) {
	tail := w.items[start:]
	slices.SortFunc(tail, func(a, b item) int { return cmp.Compare(a.id, b.id) })
	for i := start; i < len(w.items); i++ {
		if i < w.opt.Limit {
			w.idx[w.items[i].id] = int32(i)
		} else {
			delete(w.idx, w.items[i].id)
		}
	}
	w.items = w.items[:w.opt.Limit]
	w.truncated = true
}

func (w *walk) result() Result {
	nodes := make([]Node, len(w.items))
	for i, it := range w.items {
		nodes[i] = Node{ID: it.id, State: it.level.state(), Depth: int(it.depth), Via: it.via, ViaType: it.viaType}
	}
	for id, g := range w.groups {
		i, ok := w.idx[id]
		if !ok || g == nil {
			continue
		}
		nodes[i].MembersDown = g.down
		nodes[i].Members = max(g.members, g.seen)
	}
	slices.SortFunc(nodes, func(a, b Node) int {
		if c := cmp.Compare(a.Depth, b.Depth); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return Result{Nodes: nodes, Truncated: w.truncated, Queries: w.queries}
}
