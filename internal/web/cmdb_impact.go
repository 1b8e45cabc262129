package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
	"steward/internal/web/graph"
)

// The CMDB impact view: one CI's impact graph, downstream (what fails or
// degrades if it fails) or upstream (what it depends on), and the what-if
// outage of several CIs together.

// maxImpactRows is how many impacted CIs the table lists.
const maxImpactRows = 500

// maxSimulateLines is how many CIs the what-if form accepts.
const maxSimulateLines = 200

// relTypeOption is a relation type the impact form can follow.
type relTypeOption struct {
	Name, Label string
	Checked     bool
}

// impactRow is one CI an analysis reached.
type impactRow struct {
	ID                int64
	Name, ClassLabel  string
	Status            statusBadge
	State             statusBadge
	Depth             int
	ViaID             int64
	ViaName, ViaLabel string
	Note              string
}

// affectedRow is one service an analysis reached.
type affectedRow struct {
	cmdb.AffectedService
	Kind, Criticality string
	State             statusBadge
}

// impactData is the content of the impact view and of the what-if outage.
type impactData struct {
	// Simulate is set on the what-if page, whose roots come from Lines.
	Simulate bool
	// Root is the analysed CI of a single-CI view.
	Root      cmdb.CI
	RootClass string
	Roots     []cmdb.CIRef
	Lines     string
	Direction string
	Depth     string
	Types     []relTypeOption
	Form      *form
	Ran       bool
	Impact    cmdb.Impact
	Graph     template.HTML
	Rows      []impactRow
	More      int
	Services  []affectedRow
	// Reached counts the CIs reached, the analysed ones left out.
	Reached    int
	Upstream   bool
	GraphTitle string
	// Fit scales the graph down to the page's width; Toggle is the address that flips it.
	Fit    bool
	Toggle string
}

// impactForm reads the direction, depth and relation types of an impact query.
func (s *site) impactForm(ctx context.Context, q url.Values, d *impactData) (cmdb.ImpactQuery, error) {
	iq := cmdb.ImpactQuery{Direction: cmdb.Downstream}
	d.Direction, d.Depth = cmdb.Downstream, strings.TrimSpace(q.Get("depth"))
	if q.Get("direction") == cmdb.Upstream && !d.Simulate {
		iq.Direction, d.Direction = cmdb.Upstream, cmdb.Upstream
	}
	if d.Depth != "" && d.Depth != "0" {
		n, err := strconv.Atoi(d.Depth)
		if err != nil || n < 0 || n > 1000 {
			d.Form.Set("depth", "Give the depth as a number of hops from 1 to 1000, or leave it empty for no limit.")
		} else {
			iq.Depth = n
		}
	}
	types, err := s.CMDB.RelationTypes(ctx)
	if err != nil {
		return iq, err
	}
	picked := q["type"]
	for _, t := range types {
		if t.Propagation == "none" {
			continue
		}
		on := slices.Contains(picked, t.Name)
		d.Types = append(d.Types, relTypeOption{Name: t.Name, Label: t.Label, Checked: on})
		if on {
			iq.Types = append(iq.Types, t.Name)
		}
	}
	return iq, nil
}

// cmdbImpact serves GET /cmdb/cis/{id}/impact?direction=down|up&depth=N&type=…:
// the CI's impact graph with the services and mission partners it reaches.
func (s *site) cmdbImpact(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := ciPathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	root, err := s.CMDB.GetCI(ctx, id)
	if err != nil {
		return err
	}
	ix, err := s.cmdbClasses(ctx)
	if err != nil {
		return err
	}
	d := &impactData{Root: root, RootClass: ix.label(root.Class), Form: newForm()}
	iq, err := s.impactForm(ctx, r.URL.Query(), d)
	if err != nil {
		return err
	}
	iq.CIs = []int64{id}
	title := "Impact of " + root.Name
	if iq.Direction == cmdb.Upstream {
		title = "Dependencies of " + root.Name
	}
	return s.runImpact(w, r, p, ix, d, iq, title)
}

// cmdbSimulate serves GET /cmdb/simulate: the what-if outage. The user lists
// CIs by id or exact name, one a line, and sees what fails if they fail together.
func (s *site) cmdbSimulate(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	q := r.URL.Query()
	ix, err := s.cmdbClasses(ctx)
	if err != nil {
		return err
	}
	d := &impactData{Simulate: true, Lines: q.Get("cis"), Form: newForm()}
	iq, err := s.impactForm(ctx, q, d)
	if err != nil {
		return err
	}
	if !q.Has("cis") {
		s.render(w, r, http.StatusOK, "cmdb-impact", &view{Title: "What-if outage", Section: "cmdb", User: p, Data: d})
		return nil
	}
	ids, err := s.resolveCIs(ctx, d)
	if err != nil {
		return err
	}
	iq.CIs = ids
	return s.runImpact(w, r, p, ix, d, iq, "What-if outage")
}

// resolveCIs reads the what-if form's lines: a number is a CI's id, anything
// else a CI's exact name. Problems go on the form's "cis" field.
func (s *site) resolveCIs(ctx context.Context, d *impactData) ([]int64, error) {
	var lines []string
	for _, l := range strings.Split(d.Lines, "\n") {
		if l = strings.TrimSpace(l); l != "" && !slices.Contains(lines, l) {
			lines = append(lines, l)
		}
	}
	switch {
	case len(lines) == 0:
		d.Form.Set("cis", "Name at least one CI: its id or its exact name, one a line.")
		return nil, nil
	case len(lines) > maxSimulateLines:
		d.Form.Set("cis", fmt.Sprintf("Name at most %d CIs here; the API takes more (POST /api/v1/impact/simulate).", maxSimulateLines))
		return nil, nil
	}
	var ids []int64
	var problems []string
	for _, l := range lines {
		if n, err := strconv.ParseInt(l, 10, 64); err == nil && n > 0 {
			c, err := s.CMDB.GetCI(ctx, n)
			if err == nil {
				ids = append(ids, c.ID)
				d.Roots = append(d.Roots, cmdb.CIRef{ID: c.ID, Name: c.Name, Class: c.Class, Status: c.Status})
				continue
			}
			if errs.KindOf(err) != errs.NotFound {
				return nil, err
			}
		}
		// Names sort before longer names they start, so the exact matches come first.
		page, _, err := s.CMDB.ListCIs(ctx, cmdb.CIFilter{Name: l}, listing.Params{Limit: 10, Sort: "name"})
		if err != nil {
			return nil, err
		}
		var found []cmdb.CI
		for _, c := range page.Items {
			if c.Name == l {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			problems = append(problems, fmt.Sprintf("no CI has the id or the exact name %q", l))
		case 1:
			c := found[0]
			ids = append(ids, c.ID)
			d.Roots = append(d.Roots, cmdb.CIRef{ID: c.ID, Name: c.Name, Class: c.Class, Status: c.Status})
		default:
			problems = append(problems, fmt.Sprintf("%d or more CIs are named %q; give the id of the one you mean", len(found), l))
		}
	}
	if len(problems) > 0 {
		d.Form.Set("cis", sentence(strings.Join(problems, "; ")))
	}
	return ids, nil
}

// runImpact runs the analysis unless the form failed, and writes the view.
func (s *site) runImpact(w http.ResponseWriter, r *http.Request, p *auth.Principal, ix *classIndex, d *impactData, iq cmdb.ImpactQuery, title string) error {
	status := http.StatusOK
	if d.Form.Failed() {
		status = http.StatusUnprocessableEntity
	} else {
		im, err := s.CMDB.Analyze(r.Context(), iq)
		switch {
		case err == nil:
			types, err := s.CMDB.RelationTypes(r.Context())
			if err != nil {
				return err
			}
			d.Ran, d.Impact, d.Upstream = true, im, im.Direction == cmdb.Upstream
			d.GraphTitle = title
			d.Graph = impactGraph(ix, types, im, title)
			d.Rows, d.More = impactRows(ix, types, im)
			layers := 0
			for _, n := range im.Nodes {
				if n.Depth > 0 {
					d.Reached++
				}
				layers = max(layers, n.Depth+1)
			}
			d.Fit, d.Toggle = fitGraph(r.URL, layers)
			for _, sv := range im.Services {
				if d.Upstream && slices.Contains(im.CIs, sv.ID) {
					continue // what a service depends on leaves the service itself out
				}
				d.Services = append(d.Services, affectedRow{AffectedService: sv, Kind: words(sv.Kind), Criticality: words(string(sv.Criticality)), State: stateBadge(sv.State)})
			}
		case d.Form.FromError(err):
			status = http.StatusUnprocessableEntity
		default:
			return err
		}
	}
	s.render(w, r, status, "cmdb-impact", &view{Title: title, Section: "cmdb", User: p, Data: d})
	return nil
}

// maxFittedLayers is the most layers a graph is scaled down to the page's
// width by default; a deeper one would shrink its text too far, so it keeps
// its size and scrolls.
const maxFittedLayers = 5

// fitGraph says whether the graph is scaled down to the page's width (?fit=1,
// or by default when it has at most maxFittedLayers layers; ?fit=0 keeps its
// size), and returns the address that flips it.
func fitGraph(u *url.URL, layers int) (bool, string) {
	q := u.Query()
	fit := layers <= maxFittedLayers
	switch q.Get("fit") {
	case "1":
		fit = true
	case "0":
		fit = false
	}
	if fit {
		q.Set("fit", "0")
	} else {
		q.Set("fit", "1")
	}
	return fit, u.Path + "?" + q.Encode()
}

// edgeLabel reads a relation type along the way an analysis walked it: from
// the CI it came through to the CI it reached. Downstream a failure travels
// against a to_source relation ("server hosts app") and along a to_target one
// ("server member of cluster"); upstream the other way round.
func edgeLabel(t cmdb.RelationType, downstream bool) string {
	along := t.Propagation == "to_target" || t.Propagation == "both"
	if along == downstream {
		return t.Label
	}
	return t.InverseLabel
}

// impactGraph draws an analysis: the analysed CIs at layer 0, each CI at its
// depth, an arrow from the CI through which it was reached.
func impactGraph(ix *classIndex, types []cmdb.RelationType, im cmdb.Impact, title string) template.HTML {
	byName := map[string]cmdb.RelationType{}
	for _, t := range types {
		byName[t.Name] = t
	}
	down := im.Direction != cmdb.Upstream
	nodes := make([]graph.Node, 0, len(im.Nodes))
	var edges []graph.Edge
	for _, n := range im.Nodes {
		state := "ok"
		switch {
		case n.Depth == 0:
			state = "root"
		case down && n.State != "":
			state = n.State
		}
		gn := graph.Node{ID: n.ID, Label: n.Name, Kind: ix.label(n.Class), State: state, Layer: n.Depth, Href: "/cmdb/cis/" + itoa(n.ID)}
		if n.Members > 0 {
			gn.Note = fmt.Sprintf("%d/%d members down", n.MembersDown, n.Members)
		}
		nodes = append(nodes, gn)
		if n.Via != 0 {
			edges = append(edges, graph.Edge{From: n.Via, To: n.ID, Label: edgeLabel(byName[n.ViaType], down)})
		}
	}
	dir := "down"
	if !down {
		dir = "up"
	}
	return graph.Render(nodes, edges, graph.Options{Title: title, Direction: dir})
}

// impactRows lists the first maxImpactRows CIs of an analysis, each with the
// CI it was reached through; it returns how many more there are.
func impactRows(ix *classIndex, types []cmdb.RelationType, im cmdb.Impact) ([]impactRow, int) {
	byName := map[string]cmdb.RelationType{}
	for _, t := range types {
		byName[t.Name] = t
	}
	names := make(map[int64]string, len(im.Nodes))
	for _, n := range im.Nodes {
		names[n.ID] = n.Name
	}
	down := im.Direction != cmdb.Upstream
	rows := make([]impactRow, 0, min(len(im.Nodes), maxImpactRows))
	for _, n := range im.Nodes[:min(len(im.Nodes), maxImpactRows)] {
		row := impactRow{ID: n.ID, Name: n.Name, ClassLabel: ix.label(n.Class), Status: badge(n.Status), Depth: n.Depth, ViaID: n.Via, ViaName: names[n.Via]}
		if down {
			row.State = stateBadge(n.State)
		}
		if n.Via != 0 {
			row.ViaLabel = edgeLabel(byName[n.ViaType], down)
		}
		if n.Members > 0 {
			row.Note = fmt.Sprintf("%d of %d members down", n.MembersDown, n.Members)
		}
		rows = append(rows, row)
	}
	return rows, len(im.Nodes) - len(rows)
}
