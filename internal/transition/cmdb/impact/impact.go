// Package impact computes what a failure does to the CMDB: which CIs go down
// or degrade when a set of CIs fails (downstream, the impact of one CI and the
// what-if outage of many) and what a set of CIs rests on (upstream). It walks
// the typed, directed relations level by level, loading each level's
// relations in a few batched queries, and honours redundancy groups whose
// min_up threshold turns one member's failure into a degradation only.
package impact

import (
	"context"
	"slices"
)

// Propagation says which end of a relation a failure travels to.
type Propagation string

// The propagation kinds of a relation type.
const (
	// PropagateNone: a failure at either end leaves the other alone (connected_to).
	PropagateNone Propagation = "none"
	// PropagateToSource: the target failing impacts the source (depends_on, runs_on, consumes, located_at).
	PropagateToSource Propagation = "to_source"
	// PropagateToTarget: the source failing impacts the target (provides, member_of).
	PropagateToTarget Propagation = "to_target"
	// PropagateBoth: a failure at either end impacts the other.
	PropagateBoth Propagation = "both"
)

// RelType is what the walk needs to know about a relation type.
type RelType struct {
	ID          int64
	Propagation Propagation
	// Redundancy makes the target a group whose members' failures count against its min_up.
	Redundancy bool
}

// Edge is one current relation, Source —Type→ Target.
type Edge struct {
	Source, Target, Type int64
}

// Group is a redundancy group's size and the number of its members that must stay up.
type Group struct {
	Members int
	MinUp   int
}

// Source loads relations and group sizes for the walk, one batch per call, without keeping the slices it is given.
type Source interface {
	// BySource returns the current relations whose source is one of ids and whose type is one of types.
	BySource(ctx context.Context, ids, types []int64) ([]Edge, error)
	// ByTarget returns the current relations whose target is one of ids and whose type is one of types.
	ByTarget(ctx context.Context, ids, types []int64) ([]Edge, error)
	// Groups returns, for each of ids, its number of members through the given redundancy types and its min_up.
	Groups(ctx context.Context, ids, redundancyTypes []int64) (map[int64]Group, error)
}

// State is how badly a CI is impacted.
type State string

// The impact states, in rising order of severity.
const (
	// Degraded: the CI still works but with reduced redundancy or through a degraded dependency.
	Degraded State = "degraded"
	// Down: the CI does not work.
	Down State = "down"
)

// Node is one CI reached by a walk.
type Node struct {
	ID int64 `json:"id"`
	// State is the CI's final impact state (downstream walks only).
	State State `json:"state,omitempty"`
	// Depth is the shortest number of hops from the failed or root set (0 for its members).
	Depth int `json:"depth"`
	// Via is the CI through which this one was first reached (the smallest id among those at Depth-1).
	Via int64 `json:"via,omitempty"`
	// ViaType is the relation type of the Via hop.
	ViaType int64 `json:"viaType,omitempty"`
	// MembersDown counts the group's members that are down, for a group reached through redundancy.
	MembersDown int `json:"membersDown,omitempty"`
	// Members is the group's current number of members, for a group reached through redundancy.
	Members int `json:"members,omitempty"`
}

// Options bound a walk.
type Options struct {
	// Depth, when positive, is the farthest hop reported; nodes at that depth are not followed.
	Depth int
	// Types, when not empty, are the only relation types followed.
	Types []int64
	// Limit, when positive, is the most nodes reported (the failed or root set included);
	// the walk stops at the level where it is reached and sets Result.Truncated.
	Limit int
}

// Result is the outcome of a walk.
type Result struct {
	// Nodes are sorted by depth, then id.
	Nodes []Node `json:"nodes"`
	// Truncated says Options.Limit cut the walk short.
	Truncated bool `json:"truncated"`
	// Queries counts the calls made to the Source.
	Queries int `json:"-"`
}

// Engine walks the CMDB's relations over a Source; it is safe for concurrent use.
type Engine struct {
	src   Source
	types map[int64]RelType
	all   plan // the plan for walks that follow every type
}

// plan is the relation types a walk follows, by the direction it asks for them.
type plan struct {
	// toSource holds the types along which a target's failure reaches the source (to_source, both).
	toSource []int64
	// toTarget holds the types along which a source's failure reaches the target (to_target, both).
	toTarget []int64
	// groups holds the redundancy types among toTarget.
	groups []int64
}

// New returns an engine that follows the given relation types (never one it is not given, nor one
// whose propagation is none or unknown) and reads the relations from src.
func New(types []RelType, src Source) *Engine {
	e := &Engine{src: src, types: make(map[int64]RelType, len(types))}
	ids := make([]int64, 0, len(types))
	for _, t := range types {
		if _, dup := e.types[t.ID]; !dup {
			ids = append(ids, t.ID)
		}
		e.types[t.ID] = t
	}
	e.all = e.plan(ids)
	return e
}

func (e *Engine) plan(ids []int64) plan {
	var p plan
	for _, id := range ids {
		t, ok := e.types[id]
		if !ok {
			continue
		}
		switch t.Propagation {
		case PropagateToSource:
			p.toSource = append(p.toSource, id)
		case PropagateToTarget:
			p.toTarget = append(p.toTarget, id)
		case PropagateBoth:
			p.toSource = append(p.toSource, id)
			p.toTarget = append(p.toTarget, id)
		default:
			continue
		}
		if t.Redundancy && t.Propagation != PropagateToSource {
			p.groups = append(p.groups, id)
		}
	}
	for _, s := range [][]int64{p.toSource, p.toTarget, p.groups} {
		slices.Sort(s)
	}
	p.toSource = slices.Compact(p.toSource)
	p.toTarget = slices.Compact(p.toTarget)
	p.groups = slices.Compact(p.groups)
	return p
}

func (e *Engine) planFor(opt Options) plan {
	if len(opt.Types) == 0 {
		return e.all
	}
	return e.plan(opt.Types)
}

// Downstream reports what fails or degrades when the CIs in failed fail (the
// impact of one CI, or the what-if outage of a set), with the failed CIs
// themselves down at depth 0.
func (e *Engine) Downstream(ctx context.Context, failed []int64, opt Options) (Result, error) {
	w := newWalk(e, opt, true)
	return w.run(ctx, failed)
}

// Upstream reports what the roots rest on (a service's applications, their
// hosts, a cluster's members) by walking against the direction in which
// failures propagate, with no states.
func (e *Engine) Upstream(ctx context.Context, roots []int64, opt Options) (Result, error) {
	w := newWalk(e, opt, false)
	return w.run(ctx, roots)
}
