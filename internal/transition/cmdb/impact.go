package cmdb

import (
	"context"
	"fmt"
	"slices"

	"steward/internal/platform/errs"
	"steward/internal/transition/cmdb/impact"
)

// The directions of impact analysis.
const (
	// Downstream: what fails or degrades if the CIs fail.
	Downstream = "down"
	// Upstream: what the CIs depend on.
	Upstream = "up"
)

// ImpactQuery asks for an impact analysis.
type ImpactQuery struct {
	// CIs are the failed CIs (down) or the CIs whose dependencies are wanted (up).
	CIs []int64
	// Direction is Downstream or Upstream.
	Direction string
	// Depth limits the hops; 0 means no limit.
	Depth int
	// Types limits the relation types followed, by name; empty follows all.
	Types []string
	// Limit caps the CIs reported; 0 means the default, MaxImpactNodes.
	Limit int
}

// MaxImpactNodes is the most CIs one analysis reports; a larger closure is truncated.
const MaxImpactNodes = 200_000

// ImpactedCI is one CI an analysis reached.
type ImpactedCI struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Class string `json:"class"`
	// Status is the CI's lifecycle status.
	Status Status `json:"status"`
	// State is "down" or "degraded" downstream, empty upstream.
	State string `json:"state,omitempty"`
	Depth int    `json:"depth"`
	// Via is the CI through which this one was first reached, and ViaType the relation type.
	Via     int64  `json:"via,omitempty"`
	ViaType string `json:"viaType,omitempty"`
	// MembersDown and Members describe a redundant group reached through its members.
	MembersDown int `json:"membersDown,omitempty"`
	Members     int `json:"members,omitempty"`
}

// AffectedService is a service an analysis reached.
type AffectedService struct {
	ID          int64       `json:"id"`
	Name        string      `json:"name"`
	Kind        string      `json:"kind"`
	Criticality Criticality `json:"criticality"`
	State       string      `json:"state,omitempty"`
	Partners    []string    `json:"missionPartners"`
}

// Impact is the outcome of an impact analysis.
type Impact struct {
	Direction string  `json:"direction"`
	CIs       []int64 `json:"cis"`
	Depth     int     `json:"depth,omitempty"`
	// Down and Degraded count the CIs in each state (downstream), roots included.
	Down     int `json:"down"`
	Degraded int `json:"degraded"`
	// Services are the services reached, most critical first.
	Services []AffectedService `json:"services"`
	// MissionPartners are the partners of the services reached, sorted.
	MissionPartners []string `json:"missionPartners"`
	// Nodes are every CI reached, by depth, each once.
	Nodes     []ImpactedCI `json:"nodes"`
	Truncated bool         `json:"truncated"`
}

// Analyzer is the impact analysis other areas call: incidents, changes,
// events and continuity plans ask what a failure reaches, or what a service
// depends on.
type Analyzer interface {
	// Analyze runs one impact analysis.
	Analyze(ctx context.Context, q ImpactQuery) (Impact, error)
}

var _ Analyzer = (*Service)(nil)

// Analyze runs an impact analysis: downstream, what fails or degrades if the
// given CIs fail (the impact of one CI, or a what-if outage of several),
// honouring cluster redundancy; upstream, what they depend on. Cycles are
// walked once. Any signed-in user may run it.
func (s *Service) Analyze(ctx context.Context, q ImpactQuery) (out Impact, err error) {
	defer errs.Wrap(&err, "impact analysis")
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	var fe []errs.FieldError
	if q.Direction == "" {
		q.Direction = Downstream
	}
	if q.Direction != Downstream && q.Direction != Upstream {
		fe = append(fe, errs.FieldError{Location: "direction", Message: "direction is down or up", Value: q.Direction})
	}
	if q.Depth < 0 || q.Depth > 1000 {
		fe = append(fe, errs.FieldError{Location: "depth", Message: "depth is 0 (no limit) to 1000", Value: q.Depth})
	}
	if len(q.CIs) == 0 || len(q.CIs) > 10_000 {
		fe = append(fe, errs.FieldError{Location: "cis", Message: "name 1 to 10,000 CIs"})
	}
	var types []int64
	for _, n := range q.Types {
		t, err := cat.relType("types", n)
		if err != nil {
			return out, err
		}
		types = append(types, t.ID)
	}
	if err := errs.WithFields(fe); err != nil {
		return out, err
	}
	roots := slices.Clone(q.CIs)
	slices.Sort(roots)
	roots = slices.Compact(roots)
	known, err := classesOf(ctx, s.db, roots)
	if err != nil {
		return out, err
	}
	for _, id := range roots {
		if _, ok := known[id]; !ok {
			return out, errs.Field("cis", fmt.Sprintf("no CI with id %d", id), id)
		}
	}
	limit := q.Limit
	if limit <= 0 || limit > MaxImpactNodes {
		limit = MaxImpactNodes
	}
	opt := impact.Options{Depth: q.Depth, Types: types, Limit: limit}
	eng := cat.engine(s.db)
	var res impact.Result
	if q.Direction == Downstream {
		res, err = eng.Downstream(ctx, roots, opt)
	} else {
		res, err = eng.Upstream(ctx, roots, opt)
	}
	if err != nil {
		return out, err
	}
	out = Impact{Direction: q.Direction, CIs: roots, Depth: q.Depth, Truncated: res.Truncated,
		Nodes: make([]ImpactedCI, len(res.Nodes)), Services: []AffectedService{}, MissionPartners: []string{}}
	ids := make([]int64, len(res.Nodes))
	for i, n := range res.Nodes {
		ids[i] = n.ID
	}
	refs, err := refsOf(ctx, s.db, cat, ids)
	if err != nil {
		return out, err
	}
	svcClass := cat.byName["service"]
	var svcIDs []int64
	state := map[int64]string{}
	for i, n := range res.Nodes {
		r := refs[n.ID]
		in := ImpactedCI{ID: n.ID, Name: r.Name, Class: r.Class, Status: r.Status, State: string(n.State), Depth: n.Depth, Via: n.Via,
			MembersDown: n.MembersDown, Members: n.Members}
		if t, ok := cat.relTypes[n.ViaType]; ok {
			in.ViaType = t.Name
		}
		switch n.State {
		case impact.Down:
			out.Down++
		case impact.Degraded:
			out.Degraded++
		}
		out.Nodes[i] = in
		if cl, ok := cat.byName[r.Class]; ok && svcClass != nil && cat.isA(cl.ID, svcClass.ID) {
			svcIDs = append(svcIDs, n.ID)
			state[n.ID] = string(n.State)
		}
	}
	if len(svcIDs) == 0 {
		return out, nil
	}
	cis := make([]CI, len(svcIDs))
	for i, id := range svcIDs {
		cis[i] = CI{ID: id, Name: refs[id].Name, Class: refs[id].Class, Status: refs[id].Status}
	}
	svcs, err := s.decorate(ctx, s.db, cis)
	if err != nil {
		return out, err
	}
	partners := map[string]bool{}
	for _, sc := range svcs {
		out.Services = append(out.Services, AffectedService{ID: sc.ID, Name: sc.Name, Kind: sc.Kind, Criticality: sc.Criticality,
			State: state[sc.ID], Partners: sc.Partners})
		for _, p := range sc.Partners {
			partners[p] = true
		}
	}
	slices.SortFunc(out.Services, func(a, b AffectedService) int {
		ia, ib := slices.Index(Criticalities, a.Criticality), slices.Index(Criticalities, b.Criticality)
		if ia != ib {
			return ia - ib
		}
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	})
	for p := range partners {
		out.MissionPartners = append(out.MissionPartners, p)
	}
	slices.Sort(out.MissionPartners)
	return out, nil
}
