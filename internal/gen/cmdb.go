package gen

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/transition/cmdb"
)

// The CMDB generator writes the configuration management database of an
// organisation of scale N: N configuration items and about 3N relations
// between them, on the default class tree (which the application seeds at
// start-up; "steward gen" opens the application, so it is there).
//
// The estate: sites (locations, one per 2,000 CIs, their sizes a power law:
// a few large data centres, many small sites) with network devices (a core
// switch, access switches, routers, firewalls, load balancers), physical
// servers located at a site and depending on its network, half of them
// hypervisors running virtual servers; clusters of 2 to 8 servers with a
// min_up of 1 to members-1; databases running on database clusters or
// servers; applications in three tiers (platform, back-end and front-end)
// running on virtual servers, servers or application clusters and depending
// on databases and on the tier below, their targets drawn from a Zipf law so
// that a few hubs have thousands of dependents while most have a handful;
// a few dependency cycles; business and technical services (one per 500 CIs)
// provided by applications, business services consuming technical ones, each
// with mission partners, a criticality and a service owner and manager (RACI
// assignments scoped to the service). Hardware has unique serial numbers and
// asset tags, host names in a site domain and addresses; every indexed
// attribute is in ci_attr_values as the service writes it. About one CI in
// eight has older versions (a lifecycle from build to operational, upgrades,
// virtual servers moved to another host), and moved hosts and dropped
// database dependencies are ended relations, so that history has content.
//
// Three names mark what the benchmarks look for (see bench/cmdb.go).

// Bench markers: CIs named so that "make bench" finds them.
const (
	// CMDBImpactHub names the CI whose downstream impact closure is nearest
	// CMDBImpactTarget CIs (itself included), among the CIs with the most direct dependents.
	CMDBImpactHub = "bench-hub-10k"
	// CMDBImpactTarget is the closure size CMDBImpactHub is chosen for.
	CMDBImpactTarget = 10_000
	// CMDBRelationsHub names the CI whose number of current relations is nearest CMDBRelationsTarget.
	CMDBRelationsHub = "bench-rel-1000"
	// CMDBRelationsTarget is the relation count CMDBRelationsHub is chosen for.
	CMDBRelationsTarget = 1_000
	// CMDBWhatIfPrefix starts the names of the CMDBWhatIf physical servers of one
	// site that the what-if simulation fails together: bench-sim-01 … bench-sim-50.
	CMDBWhatIfPrefix = "bench-sim-"
	// CMDBWhatIf is how many CIs the what-if set holds (fewer on a tiny CMDB).
	CMDBWhatIf = 50
)

// CMDBPlan is the size of the generated CMDB at scale N.
type CMDBPlan struct {
	// CIs is every configuration item: N.
	CIs int
	// Locations are the sites: N/2,000.
	Locations int
	// Servers are the physical servers (14 %), VMs the virtual servers (30 %),
	// Databases 9 %; network devices and clusters follow from the servers, and
	// applications take the rest (about 42 %).
	Servers, VMs, Databases int
	// Services are the business (two in five) and technical services: N/500.
	Services int
	// Partners are the mission partners: a quarter of the services.
	Partners int
}

// CMDBPlanFor derives the CMDB of scale n.
func CMDBPlanFor(n int) CMDBPlan {
	s := max(5, n/500)
	return CMDBPlan{CIs: n, Locations: max(2, n/2000), Servers: n * 14 / 100, VMs: n * 30 / 100, Databases: n * 9 / 100,
		Services: s, Partners: max(3, s/4)}
}

// ciKind is what a generated CI is.
type ciKind uint8

const (
	kLocation ciKind = iota
	kNetwork
	kServer
	kVM
	kCluster
	kDatabase
	kApp
	kBusiness
	kTechnical
	nKinds
)

// kindClasses is each kind's CI class in the default tree.
func kindClasses() [nKinds]string {
	return [nKinds]string{"location", "network_device", "server", "virtual_server", "cluster", "database",
		"application", "business_service", "technical_service"}
}

// The relation types the generator uses, by index into relNames.
const (
	rDependsOn uint8 = iota
	rRunsOn
	rConnectedTo
	rMemberOf
	rProvides
	rConsumes
	rLocatedAt
	nRelTypes
)

// relNames is each relation type's name.
func relNames() [nRelTypes]string {
	return [nRelTypes]string{"depends_on", "runs_on", "connected_to", "member_of", "provides", "consumes", "located_at"}
}

// Application tiers (gci.sub of an application).
const (
	tierPlatform uint8 = iota
	tierBackEnd
	tierFrontEnd
)

// cmdbSpan is how far back the CMDB's history goes: three years, in seconds.
const cmdbSpan = 3 * 365 * 24 * 3600

// cmdbStart is when the CMDB's history begins, in unix ms.
const cmdbStart = EpochMillis - int64(cmdbSpan)*1000

// gci is one generated CI while the graph is built; ids come later.
type gci struct {
	kind ciKind
	// sub is the device type of a network device (0 is a core switch), 1 for a
	// hypervisor server, the cluster type, or the application tier.
	sub uint8
	// members and minUp describe a cluster.
	members, minUp uint8
	// loc is the site of a network device or physical server, -1 otherwise.
	loc int32
	// seq numbers the CI within its kind, for names.
	seq int32
	// created is when it was registered, in seconds from cmdbStart.
	created int32
	// host is the server a virtual server runs on; moved is when it moved
	// there (0: never), and oldHost where it ran before.
	host, moved, oldHost int32
}

// grel is one generated relation, current or ended.
type grel struct {
	src, dst int32
	typ      uint8
	created  int32
	ended    int32 // 0: current
}

// cmdbGen builds one CMDB.
type cmdbGen struct {
	w    *World
	plan CMDBPlan
	cis  []gci
	rels []grel
	// byKind lists the CIs of each kind, in structural order.
	byKind [nKinds][]int32
	// siteServers lists each site's physical servers.
	siteServers [][]int32

	hub, relHub int32
	whatIf      []int32
}

// minCMDBScale is the smallest scale that generates a CMDB; below it the step writes nothing.
const minCMDBScale = 1000

// genCMDB writes the CMDB (see the comment at the top of this file). It writes
// nothing when the database has no CI class tree (the application seeds it at
// start-up, and a database that was only migrated has none) or below minCMDBScale.
func genCMDB(ctx context.Context, w *World) error {
	if w.Plan.Scale < minCMDBScale {
		// Too few CIs for the estate's shape (sites, clusters, tiers): the
		// samplers would draw from empty ranges and repeat relations.
		return nil
	}
	cat, err := readCatalogue(ctx, w.out.tx)
	if err != nil || cat == nil {
		return err
	}
	var existing int64
	if err := w.out.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cis`).Scan(&existing); err != nil {
		return fmt.Errorf("count CIs: %w", err)
	}
	if existing > 0 {
		return fmt.Errorf("%w: the CMDB holds %d CIs", ErrNotEmpty, existing)
	}
	restore, err := bigCache(ctx, w.out.tx)
	if err != nil {
		return err
	}
	defer restore()
	g := &cmdbGen{w: w, plan: CMDBPlanFor(w.Plan.Scale)}
	g.build()
	g.mark(cat.prop)
	em := &cmdbEmitter{g: g, cat: cat}
	if err := em.emit(ctx); err != nil {
		return err
	}
	if err := w.out.flush(); err != nil {
		return err
	}
	if w.out.tx.Engine() == db.Postgres {
		for _, t := range []string{"cis", "ci_relations", "mission_partners"} {
			if _, err := w.out.tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), (SELECT MAX(id) FROM `+t+`))`); err != nil {
				return fmt.Errorf("advance the id sequence of %s: %w", t, err)
			}
		}
	}
	return nil
}

// bigCache gives SQLite's writer connection a page cache that holds the
// CMDB's indexes while they grow (512 MiB, taken only as used), and returns
// what puts the old size back.
func bigCache(ctx context.Context, tx *db.Tx) (func(), error) {
	if tx.Engine() != db.SQLite {
		return func() {}, nil
	}
	var old int64
	if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&old); err != nil {
		return nil, fmt.Errorf("read the cache size: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = -524288`); err != nil {
		return nil, fmt.Errorf("grow the cache: %w", err)
	}
	return func() {
		_, _ = tx.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = `+strconv.FormatInt(old, 10))
	}, nil
}

// add registers a CI of kind k and returns its index.
func (g *cmdbGen) add(k ciKind, sub uint8, loc int32, created int32) int32 {
	i := int32(len(g.cis))
	g.cis = append(g.cis, gci{kind: k, sub: sub, loc: loc, seq: int32(len(g.byKind[k])), created: created})
	g.byKind[k] = append(g.byKind[k], i)
	return i
}

// relate adds a current relation src —typ→ dst, registered shortly after both ends.
func (g *cmdbGen) relate(src, dst int32, typ uint8) {
	at := max(g.cis[src].created, g.cis[dst].created) + int32(g.w.R.IntN(3*24*3600))
	g.rels = append(g.rels, grel{src: src, dst: dst, typ: typ, created: min(at, cmdbSpan-1)})
}

// when draws a registration time: a share of the CIs came with the initial
// discovery load in the first months, the rest arrived evenly since.
func (g *cmdbGen) when(initial float64, from int32) int32 {
	r := g.w.R
	if r.Float64() < initial {
		return from + int32(r.IntN(60*24*3600))
	}
	return from + int32(r.IntN(cmdbSpan-int(from)-24*3600))
}

// build lays out the estate and its relations.
func (g *cmdbGen) build() {
	r, p := g.w.R, g.plan
	g.cis = make([]gci, 0, p.CIs)
	g.rels = make([]grel, 0, p.CIs*31/10)
	const month = 30 * 24 * 3600
	for range p.Locations {
		g.add(kLocation, 0, int32(len(g.byKind[kLocation])), int32(r.IntN(month)))
	}
	// Physical servers at sites of power-law sizes; half are hypervisors.
	g.siteServers = make([][]int32, p.Locations)
	pickSite := Zipf(p.Locations, 1.0)
	for range p.Servers {
		l := pickSite.Sample(r)
		var hyper uint8
		if r.Float64() < 0.5 {
			hyper = 1
		}
		i := g.add(kServer, hyper, int32(l), g.when(0.5, month))
		g.siteServers[l] = append(g.siteServers[l], i)
	}
	// Each site's network: core switches and one device per five servers.
	devices := NewDiscrete([]float64{0, 45, 15, 15, 15, 10}) // core, switch, router, firewall, load balancer, access point
	siteNet := make([][]int32, p.Locations)
	for l := range p.Locations {
		loc := g.byKind[kLocation][l]
		cores := 1 + len(g.siteServers[l])/400
		for k := range cores + len(g.siteServers[l])/5 {
			var sub uint8
			if k >= cores {
				sub = uint8(devices.Sample(r))
			}
			d := g.add(kNetwork, sub, int32(l), g.when(0.6, g.cis[loc].created))
			siteNet[l] = append(siteNet[l], d)
			g.relate(d, loc, rLocatedAt)
			if k >= cores {
				g.relate(d, siteNet[l][r.IntN(cores)], rDependsOn)
			} else if l > 0 && k == 0 {
				g.relate(d, siteNet[0][0], rConnectedTo) // the site's WAN link to the first site
			}
		}
		for _, s := range g.siteServers[l] {
			g.relate(s, loc, rLocatedAt)
			net := siteNet[l]
			first := net[r.IntN(len(net))]
			g.relate(s, first, rDependsOn)
			if second := net[r.IntN(len(net))]; second != first && r.Float64() < 0.5 {
				g.relate(s, second, rDependsOn)
			}
		}
	}
	var hypervisors []int32
	for _, s := range g.byKind[kServer] {
		if g.cis[s].sub == 1 {
			hypervisors = append(hypervisors, s)
		}
	}
	if len(hypervisors) == 0 {
		hypervisors = g.byKind[kServer]
	}
	// Virtual servers on hypervisors; some moved from another host.
	for range p.VMs {
		host := hypervisors[r.IntN(len(hypervisors))]
		v := g.add(kVM, 0, -1, max(g.when(0.3, month), g.cis[host].created+3600))
		vm := &g.cis[v]
		vm.host = host
		if old := hypervisors[r.IntN(len(hypervisors))]; old != host && r.Float64() < 0.06 {
			from := max(vm.created, g.cis[old].created, g.cis[host].created) + 3600
			if from < cmdbSpan-3*24*3600 {
				vm.oldHost = old
				vm.moved = from + 1 + int32(r.IntN(cmdbSpan-int(from)-24*3600))
				g.rels = append(g.rels, grel{src: v, dst: old, typ: rRunsOn, created: from, ended: vm.moved})
				g.rels = append(g.rels, grel{src: v, dst: host, typ: rRunsOn, created: vm.moved})
				continue
			}
		}
		g.relate(v, host, rRunsOn)
	}
	g.clusters()
	g.software()
	g.services()
	// A few dependency cycles among back-end applications (which otherwise
	// depend only on platform applications, so only a cycle drawn twice could
	// repeat a relation).
	back := g.tier(tierBackEnd)
	cyclic := map[[2]int32]bool{}
	for range max(2, p.CIs/100_000) {
		if len(back) < 3 {
			break
		}
		a, b, c := back[r.IntN(len(back))], back[r.IntN(len(back))], back[r.IntN(len(back))]
		if a == b || b == c || a == c || cyclic[[2]int32{a, b}] || cyclic[[2]int32{b, c}] || cyclic[[2]int32{c, a}] {
			continue
		}
		for _, e := range [][2]int32{{a, b}, {b, c}, {c, a}} {
			cyclic[e] = true
			g.relate(e[0], e[1], rDependsOn)
		}
	}
}

// clusters groups some servers (a third of the physical, a twelfth of the
// virtual) into clusters of 2 to 8 members.
func (g *cmdbGen) clusters() {
	r := g.w.R
	var pool []int32
	for _, s := range g.byKind[kServer] {
		if r.Float64() < 0.35 {
			pool = append(pool, s)
		}
	}
	for _, v := range g.byKind[kVM] {
		if r.Float64() < 0.08 {
			pool = append(pool, v)
		}
	}
	r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	types := NewDiscrete([]float64{15, 55, 0, 0, 30}) // compute, database, network, storage, application
	for len(pool) >= 2 {
		n := min(2+r.IntN(7), len(pool))
		if len(pool)-n == 1 {
			n++
		}
		members := pool[:n]
		pool = pool[n:]
		var from int32
		for _, m := range members {
			from = max(from, g.cis[m].created)
		}
		c := g.add(kCluster, uint8(types.Sample(r)), -1, min(from+int32(r.IntN(7*24*3600)), cmdbSpan-2*24*3600))
		g.cis[c].members, g.cis[c].minUp = uint8(n), uint8(1+r.IntN(n-1))
		for _, m := range members {
			g.relate(m, c, rMemberOf)
		}
	}
}

// tier lists the applications of one tier.
func (g *cmdbGen) tier(t uint8) []int32 {
	var out []int32
	for _, a := range g.byKind[kApp] {
		if g.cis[a].sub == t {
			out = append(out, a)
		}
	}
	return out
}

// software places the databases and applications and draws their dependencies.
func (g *cmdbGen) software() {
	r, p := g.w.R, g.plan
	const month = 30 * 24 * 3600
	var dbClusters, appClusters []int32
	for _, c := range g.byKind[kCluster] {
		switch g.cis[c].sub {
		case 1:
			dbClusters = append(dbClusters, c)
		case 4:
			appClusters = append(appClusters, c)
		}
	}
	servers, vms := g.byKind[kServer], g.byKind[kVM]
	host := func(cluster []int32, pCluster, pVM float64) int32 {
		u := r.Float64()
		switch {
		case u < pCluster && len(cluster) > 0:
			return cluster[r.IntN(len(cluster))]
		case u < pCluster+pVM && len(vms) > 0:
			return vms[r.IntN(len(vms))]
		}
		return servers[r.IntN(len(servers))]
	}
	for range p.Databases {
		d := g.add(kDatabase, 0, -1, g.when(0.4, month))
		g.relate(d, host(dbClusters, 0.5, 0.35), rRunsOn)
	}
	apps := p.CIs - len(g.cis) - p.Services
	tiers := NewDiscrete([]float64{6, 34, 60})
	for range max(apps, 3) {
		a := g.add(kApp, uint8(tiers.Sample(r)), -1, g.when(0.4, month))
		g.relate(a, host(appClusters, 0.15, 0.65), rRunsOn)
	}
	dbs := g.byKind[kDatabase]
	platform, backEnd := g.tier(tierPlatform), g.tier(tierBackEnd)
	pickDB, pickPlatform, pickBackEnd := Zipf(len(dbs), 0.8), Zipf(len(platform), 0.8), Zipf(len(backEnd), 0.8)
	var seen []int32
	// dep adds up to n distinct dependencies of a drawn by pick.
	dep := func(a int32, n int, pick func() int32) {
		seen = seen[:0]
		for range n {
			t := pick()
			if t < 0 || t == a || slices.Contains(seen, t) {
				continue
			}
			seen = append(seen, t)
			g.relate(a, t, rDependsOn)
		}
	}
	dbCount := NewDiscrete([]float64{0, 70, 25, 5})
	var uses []int32 // the databases the application uses
	for _, a := range g.byKind[kApp] {
		t := g.cis[a].sub
		seen = seen[:0]
		switch {
		case len(dbs) == 0:
		case t == tierPlatform:
			dep(a, dbCount.Sample(r), func() int32 { return dbs[r.IntN(len(dbs))] })
		case t == tierBackEnd && r.Float64() < 0.9, t == tierFrontEnd && r.Float64() < 0.4:
			dep(a, dbCount.Sample(r), func() int32 { return dbs[pickDB.Sample(r)] })
		}
		uses = append(uses[:0], seen...)
		switch {
		case t == tierPlatform && r.Float64() < 0.2 && len(platform) > 1:
			// Platform services build on older platform services: identity, messaging…
			dep(a, 1, func() int32 {
				if c := platform[pickPlatform.Sample(r)]; c < a {
					return c
				}
				return -1
			})
		case t == tierBackEnd && len(platform) > 0:
			dep(a, Pareto{Xm: 1.5, Alpha: 1.5}.Int(r, 40), func() int32 { return platform[pickPlatform.Sample(r)] })
		case t == tierFrontEnd && len(backEnd) > 0:
			dep(a, Pareto{Xm: 1.5, Alpha: 1.3}.Int(r, 60), func() int32 {
				if r.Float64() < 0.2 && len(platform) > 0 {
					return platform[pickPlatform.Sample(r)]
				}
				return backEnd[pickBackEnd.Sample(r)]
			})
		}
		if t != tierPlatform && len(dbs) > 1 && r.Float64() < 0.03 {
			// A database it no longer uses.
			old := dbs[r.IntN(len(dbs))]
			from := max(g.cis[a].created, g.cis[old].created) + 3600
			if from < cmdbSpan-2*24*3600 && !slices.Contains(uses, old) {
				g.rels = append(g.rels, grel{src: a, dst: old, typ: rDependsOn, created: from,
					ended: from + 1 + int32(r.IntN(cmdbSpan-int(from)-24*3600))})
			}
		}
	}
}

// services registers the business and technical services, provided by
// applications, business services consuming technical ones.
func (g *cmdbGen) services() {
	r, p := g.w.R, g.plan
	business := p.Services * 2 / 5
	for i := range p.Services {
		k := kTechnical
		if i < business {
			k = kBusiness
		}
		g.add(k, 0, -1, g.when(0.6, 0))
	}
	var inner []int32
	for _, a := range g.byKind[kApp] {
		if g.cis[a].sub != tierFrontEnd {
			inner = append(inner, a)
		}
	}
	front := g.tier(tierFrontEnd)
	var seen []int32
	provide := func(svc int32, n int, from []int32) {
		seen = seen[:0]
		for range n {
			if len(from) == 0 {
				return
			}
			if a := from[r.IntN(len(from))]; !slices.Contains(seen, a) {
				seen = append(seen, a)
				g.relate(a, svc, rProvides)
			}
		}
	}
	tech := g.byKind[kTechnical]
	pickTech := Zipf(len(tech), 1.0)
	for _, s := range tech {
		provide(s, 1+r.IntN(4), inner)
	}
	for _, s := range g.byKind[kBusiness] {
		provide(s, 1+r.IntN(5), front)
		seen = seen[:0]
		for range 1 + r.IntN(3) {
			if t := tech[pickTech.Sample(r)]; !slices.Contains(seen, t) {
				seen = append(seen, t)
				g.relate(s, t, rConsumes)
			}
		}
	}
}

// impactGraph is the current relations in the direction a failure travels:
// the CIs out[off[i]:off[i+1]] are impacted when CI i fails.
type impactGraph struct {
	off []int32
	out []int32
}

// impactEdges builds the graph with the relation types' propagation prop.
func (g *cmdbGen) impactEdges(prop [nRelTypes]string) impactGraph {
	n := len(g.cis)
	ig := impactGraph{off: make([]int32, n+1)}
	each := func(f func(from, to int32)) {
		for _, e := range g.rels {
			if e.ended != 0 {
				continue
			}
			switch prop[e.typ] {
			case "to_source":
				f(e.dst, e.src)
			case "to_target":
				f(e.src, e.dst)
			case "both":
				f(e.dst, e.src)
				f(e.src, e.dst)
			}
		}
	}
	each(func(from, _ int32) { ig.off[from+1]++ })
	for i := range n {
		ig.off[i+1] += ig.off[i]
	}
	ig.out = make([]int32, ig.off[n])
	fill := slices.Clone(ig.off[:n])
	each(func(from, to int32) { ig.out[fill[from]] = to; fill[from]++ })
	return ig
}

// closure counts the CIs a failure of roots reaches, roots included, stopping past limit.
func (ig impactGraph) closure(roots []int32, limit int, seen []int32, stamp int32) int {
	queue := make([]int32, 0, 1024)
	for _, r := range roots {
		if seen[r] != stamp {
			seen[r] = stamp
			queue = append(queue, r)
		}
	}
	for i := 0; i < len(queue) && len(queue) <= limit; i++ {
		for _, t := range ig.out[ig.off[queue[i]]:ig.off[queue[i]+1]] {
			if seen[t] != stamp {
				seen[t] = stamp
				queue = append(queue, t)
			}
		}
	}
	return len(queue)
}

// mark chooses the CIs the benchmarks use: the impact hub, the CI with about
// a thousand relations and the what-if servers.
func (g *cmdbGen) mark(prop [nRelTypes]string) {
	ig := g.impactEdges(prop)
	n := len(g.cis)
	seen := make([]int32, n)
	// The impact hub: among the 600 CIs with the most direct dependents, the
	// one whose closure is nearest the target.
	cands := make([]int32, n)
	for i := range cands {
		cands[i] = int32(i)
	}
	fan := func(i int32) int32 { return ig.off[i+1] - ig.off[i] }
	slices.SortStableFunc(cands, func(a, b int32) int { return int(fan(b) - fan(a)) })
	best, bestDiff := int32(0), -1
	for k, c := range cands[:min(600, n)] {
		size := ig.closure([]int32{c}, 3*CMDBImpactTarget, seen, int32(k+1))
		diff := size - CMDBImpactTarget
		if diff < 0 {
			diff = -diff
		}
		if bestDiff < 0 || diff < bestDiff {
			best, bestDiff = c, diff
		}
		if diff <= CMDBImpactTarget/100 {
			break
		}
	}
	g.hub = best
	// The CI with about a thousand current relations.
	deg := make([]int32, n)
	for _, e := range g.rels {
		if e.ended == 0 {
			deg[e.src]++
			deg[e.dst]++
		}
	}
	g.relHub, bestDiff = -1, -1
	for i, d := range deg {
		diff := int(d) - CMDBRelationsTarget
		if diff < 0 {
			diff = -diff
		}
		if int32(i) != g.hub && (bestDiff < 0 || diff < bestDiff) {
			g.relHub, bestDiff = int32(i), diff
		}
	}
	// The what-if set: the first physical servers of the smallest site that has enough.
	site := -1
	for l, ss := range g.siteServers {
		if len(ss) >= CMDBWhatIf+2 && (site < 0 || len(ss) < len(g.siteServers[site])) {
			site = l
		}
	}
	pool := g.byKind[kServer]
	if site >= 0 {
		pool = g.siteServers[site]
	}
	for _, s := range pool {
		if len(g.whatIf) < CMDBWhatIf && s != g.hub && s != g.relHub {
			g.whatIf = append(g.whatIf, s)
		}
	}
}

// catalogue is what the generator reads of the seeded class model.
type catalogue struct {
	class [nKinds]int64
	// attrs are each kind's attributes by name: the declaring attribute's id and index flags.
	attrs [nKinds]map[string]attrInfo
	rel   [nRelTypes]int64
	prop  [nRelTypes]string
}

// attrInfo is one attribute of a class, own or inherited.
type attrInfo struct {
	id              int64
	indexed, unique bool
}

// readCatalogue reads the class tree, the attributes and the relation types;
// it returns nil when there are no classes at all.
func readCatalogue(ctx context.Context, tx *db.Tx) (*catalogue, error) {
	type class struct {
		id, parent int64
		own        map[string]attrInfo
	}
	classes := map[string]*class{}
	byID := map[int64]*class{}
	rows, err := tx.QueryContext(ctx, `SELECT id, name, COALESCE(parent_id, 0) FROM ci_classes`)
	if err != nil {
		return nil, fmt.Errorf("read CI classes: %w", err)
	}
	for rows.Next() {
		c := &class{own: map[string]attrInfo{}}
		var name string
		if err := rows.Scan(&c.id, &name, &c.parent); err != nil {
			rows.Close()
			return nil, err
		}
		classes[name], byID[c.id] = c, c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(classes) == 0 {
		return nil, nil
	}
	rows, err = tx.QueryContext(ctx, `SELECT id, class_id, name, indexed, is_unique FROM ci_attributes`)
	if err != nil {
		return nil, fmt.Errorf("read CI attributes: %w", err)
	}
	for rows.Next() {
		var a attrInfo
		var class int64
		var name string
		if err := rows.Scan(&a.id, &class, &name, &a.indexed, &a.unique); err != nil {
			rows.Close()
			return nil, err
		}
		if c := byID[class]; c != nil {
			c.own[name] = a
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cat := &catalogue{}
	for k, name := range kindClasses() {
		c := classes[name]
		if c == nil {
			return nil, fmt.Errorf("the CMDB has no class %s: the default class tree is incomplete", name)
		}
		cat.class[k] = c.id
		cat.attrs[k] = map[string]attrInfo{}
		var chain []*class
		for x := c; x != nil && len(chain) < 64; x = byID[x.parent] {
			chain = append(chain, x)
		}
		for i := len(chain) - 1; i >= 0; i-- { // the nearest declaration wins, as in the service
			for n, a := range chain[i].own {
				cat.attrs[k][n] = a
			}
		}
	}
	rows, err = tx.QueryContext(ctx, `SELECT id, name, propagation FROM ci_relation_types`)
	if err != nil {
		return nil, fmt.Errorf("read relation types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name, prop string
		if err := rows.Scan(&id, &name, &prop); err != nil {
			return nil, err
		}
		names := relNames()
		if i := slices.Index(names[:], name); i >= 0 {
			cat.rel[i], cat.prop[i] = id, prop
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i, id := range cat.rel {
		if id == 0 {
			return nil, fmt.Errorf("the CMDB has no relation type %s", relNames()[i])
		}
	}
	return cat, nil
}

// attrKV is one attribute value: a string, an int64 or a float64.
type attrKV struct {
	k string
	v any
}

// attrJSON encodes attributes as the service stores them (encoding/json's
// output for the map: keys sorted, no spaces).
func attrJSON(kvs []attrKV) string {
	slices.SortFunc(kvs, func(a, b attrKV) int { return strings.Compare(a.k, b.k) })
	var b strings.Builder
	b.WriteByte('{')
	for i, kv := range kvs {
		if i > 0 {
			b.WriteByte(',')
		}
		jsonString(&b, kv.k)
		b.WriteByte(':')
		switch v := kv.v.(type) {
		case string:
			jsonString(&b, v)
		case int64:
			b.WriteString(strconv.FormatInt(v, 10))
		case float64:
			j, _ := json.Marshal(v)
			b.Write(j)
		}
	}
	b.WriteByte('}')
	return b.String()
}

// jsonString writes s as a JSON string, as encoding/json does.
func jsonString(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			j, _ := json.Marshal(s)
			b.Write(j)
			return
		}
	}
	b.WriteByte('"')
	b.WriteString(s)
	b.WriteByte('"')
}

// get returns the value of key k, or nil.
func get(kvs []attrKV, k string) any {
	for _, kv := range kvs {
		if kv.k == k {
			return kv.v
		}
	}
	return nil
}

// set replaces (or adds) the value of key k in a copy of kvs.
func set(kvs []attrKV, k string, v any) []attrKV {
	out := slices.Clone(kvs)
	for i := range out {
		if out[i].k == k {
			out[i].v = v
			return out
		}
	}
	return append(out, attrKV{k, v})
}

// The vocabularies of generated names, most common first where it matters.
const (
	// placesText lists sites as "name/code/country".
	placesText = `Fort Meade/MEAD/United States|Scott AFB/SCOT/United States|Norfolk/NORF/United States|
San Diego/SAND/United States|Fort Bragg/BRAG/United States|Colorado Springs/COSP/United States|
Pearl Harbor/PRLH/United States|Ramstein/RAMS/Germany|Naples/NAPL/Italy|Bahrain/BAHR/Bahrain|
Fort Hood/HOOD/United States|Tinker AFB/TINK/United States|Okinawa/OKIN/Japan|Guam/GUAM/United States|
Fort Gordon/GORD/United States|Wright-Patterson/WPAF/United States|Jacksonville/JAXN/United States|
Kings Bay/KBAY/United States|Camp Lejeune/LEJN/United States|Fort Carson/CARS/United States|
Joint Base Lewis-McChord/JBLM/United States|Fort Belvoir/BELV/United States|Pentagon/PENT/United States|
Quantico/QUAN/United States|Fort Leavenworth/LEAV/United States|Ogden/OGDN/United States|
Mechanicsburg/MECH/United States|Columbus/COLU/United States|Indianapolis/INDY/United States|
Oklahoma City/OKCY/United States|St. Louis/STLS/United States|Huntsville/HSVL/United States|Stuttgart/STUT/Germany|
Vicenza/VICE/Italy|Rota/ROTA/Spain|Yokosuka/YOKO/Japan|Camp Humphreys/HUMP/Korea|Djibouti/DJIB/Djibouti|
Anchorage/ANCH/United States|Honolulu/HONO/United States`
	appWordsText = `Logistics|Personnel|Finance|Medical|Maintenance|Supply|Training|Readiness|Travel|Payroll|Procurement|
Contracts|Facilities|Fleet|Inventory|Learning|Records|Case|Portal|Analytics|Messaging|Document|Geospatial|Weather|
Scheduling|Mission Planning|Asset|Help Desk|Budget|Recruiting|Housing|Transportation|Ammunition|Fuel|Engineering|
Safety|Security|Audit|Legal|Claims|Pharmacy|Dental|Laboratory|Imaging|Family Support|Chaplaincy|Veterinary|Environment`
	appSuffixText = `Portal|Service|API|Gateway|Tracker|Manager|Hub|Engine|Reporting|Workflow|Console|Exchange|Registry|Viewer|
Scheduler|Broker|Dashboard|Processor`
	platformText = `Enterprise Directory|Single Sign-On|Message Bus|API Gateway|Logging Platform|Certificate Authority|
Integration Broker|Notification Service|Search Platform|Identity Federation|Secrets Vault|Service Registry|
Configuration Store|Metrics Platform|File Transfer Gateway|Workflow Engine|Reporting Platform|Data Warehouse`
	businessText = `Pay and Personnel|Medical Readiness|Logistics Support|Training Management|Mission Planning|
Fleet Maintenance|Supply Chain|Travel and Expenses|Financial Management|Recruiting|Facilities Management|
Family Support|Legal Services|Contract Management|Records Management|Command and Control|Weather Services|
Geospatial Intelligence|Health Records|Asset Accountability`
	technicalText = `Hosting|Identity and Access|Email and Calendaring|Database Platform|Network Transport|
Backup and Recovery|Monitoring|Container Platform|Directory Services|Public Key Infrastructure|Voice Services|
Video Teleconferencing|Storage|Web Hosting|Messaging Middleware|Endpoint Management|Remote Access|Print Services`
	partnerUnitsText = `Infantry Division|Armored Brigade|Logistics Command|Signal Battalion|Medical Brigade|Air Wing|
Fleet|Expeditionary Force|Support Group|Sustainment Command|Engineer Brigade|Aviation Regiment|Maintenance Group|
Cyber Brigade|Intelligence Battalion|Special Operations Group`
)

// cmdbWords are the vocabularies of one run's names and attribute values.
type cmdbWords struct {
	places                                                 [][]string // name, code, country
	appWords, appSuffixes, platform, business, technical   []string
	partnerUnits, regions                                  []string
	pickApp, pickSuffix, pickPlatform, pickBiz, pickTech   Discrete
	serverMakers, serialPrefixes, netMakers, netModels     []string
	serverModels                                           [][]string
	deviceTypes, devicePrefix, oses, hypervisorOS          []string
	clusterTypes, dbEngines, dbVendors, appVendors, envs   []string
	dbVersions                                             [][]string
	dbPorts                                                []int64
	memories                                               []float64
	pickEnv, pickStatus, pickCriticality, pickVersionCount Discrete
	statuses                                               []cmdb.Status
}

func newCMDBWords() *cmdbWords {
	wd := &cmdbWords{
		appWords: lines(appWordsText, "|"), appSuffixes: lines(appSuffixText, "|"), platform: lines(platformText, "|"),
		business: lines(businessText, "|"), technical: lines(technicalText, "|"), partnerUnits: lines(partnerUnitsText, "|"),
		regions:      lines(sitesText, "|"),
		serverMakers: []string{"Dell", "HPE", "Lenovo", "Cisco", "Supermicro"},
		serverModels: [][]string{{"PowerEdge R740", "PowerEdge R750", "PowerEdge R650"}, {"ProLiant DL380 Gen10", "ProLiant DL360 Gen10",
			"ProLiant DL380 Gen11"}, {"ThinkSystem SR650", "ThinkSystem SR630"}, {"UCS C240 M5", "UCS B200 M6"}, {"SuperServer 1029P"}},
		serialPrefixes: []string{"", "CZ", "J", "FCH", "S"},
		netMakers:      []string{"Cisco", "Cisco", "Juniper", "Palo Alto Networks", "F5", "Cisco"},
		netModels:      []string{"Catalyst 9500", "Catalyst 9300", "MX204", "PA-5220", "BIG-IP i5800", "Catalyst 9120AX"},
		deviceTypes:    []string{"switch", "switch", "router", "firewall", "load_balancer", "access_point"},
		devicePrefix:   []string{"core", "sw", "rtr", "fw", "lb", "ap"},
		oses: []string{"Red Hat Enterprise Linux 7.9", "Red Hat Enterprise Linux 8.8", "Red Hat Enterprise Linux 9.2",
			"Windows Server 2016", "Windows Server 2019", "Windows Server 2022", "Ubuntu 20.04 LTS", "Ubuntu 22.04 LTS"},
		hypervisorOS: []string{"VMware ESXi 7.0", "VMware ESXi 8.0"},
		clusterTypes: []string{"compute", "database", "network", "storage", "application"},
		dbEngines:    []string{"postgresql", "oracle", "sqlserver", "mysql"},
		dbVendors:    []string{"PostgreSQL Global Development Group", "Oracle", "Microsoft", "Oracle"},
		dbVersions:   [][]string{{"12", "13", "14", "15", "16"}, {"12c", "18c", "19c", "21c"}, {"2016", "2017", "2019", "2022"}, {"5.7", "8.0"}},
		dbPorts:      []int64{5432, 1521, 1433, 3306},
		appVendors:   []string{"In-house", "In-house", "In-house", "SAP", "Oracle", "Microsoft", "ServiceNow", "Salesforce", "IBM"},
		envs:         []string{"production", "staging", "test", "development"},
		memories:     []float64{16, 32, 64, 128, 256, 512},
		statuses: []cmdb.Status{cmdb.StatusOperational, cmdb.StatusMaintenance, cmdb.StatusRetired, cmdb.StatusBuild,
			cmdb.StatusTest, cmdb.StatusPlanned, cmdb.StatusDisposed},
		pickEnv:          NewDiscrete([]float64{70, 10, 10, 10}),
		pickStatus:       NewDiscrete([]float64{88, 3, 3, 2, 2, 1.5, 0.5}),
		pickCriticality:  NewDiscrete([]float64{10, 25, 45, 20}),
		pickVersionCount: NewDiscrete([]float64{0, 60, 30, 10}),
	}
	for _, p := range lines(placesText, "|") {
		wd.places = append(wd.places, strings.Split(p, "/"))
	}
	wd.pickApp, wd.pickSuffix = Zipf(len(wd.appWords), 0.7), Zipf(len(wd.appSuffixes), 0.8)
	wd.pickPlatform, wd.pickBiz, wd.pickTech = Zipf(len(wd.platform), 0.6), Zipf(len(wd.business), 0.5), Zipf(len(wd.technical), 0.7)
	return wd
}

// cmdbEmitter writes one built CMDB's rows.
type cmdbEmitter struct {
	g   *cmdbGen
	cat *catalogue
	wd  *cmdbWords
	// ids is each CI's id, by structural index.
	ids      []int64
	partners []int64
	// hw counts hardware, for unique serial numbers, asset tags and addresses.
	hw, tags, oldIPs int64
	// taken counts the CIs per base name, for numbered repeats.
	taken       map[string]int
	whatIf      map[int32]int
	pickPartner Discrete
}

// ms turns generator seconds into unix ms.
func ms(sec int32) int64 { return cmdbStart + int64(sec)*1000 }

// emit writes the mission partners, the CIs in the order of their
// registration (so that ids rise with time) with their versions, index rows
// and service rows, then every relation, current and ended, in time order.
func (e *cmdbEmitter) emit(ctx context.Context) error {
	g, w := e.g, e.g.w
	e.wd, e.taken, e.whatIf = newCMDBWords(), map[string]int{}, map[int32]int{}
	for k, s := range g.whatIf {
		e.whatIf[s] = k + 1
	}
	var ciBase, relBase, endedBase, partnerBase int64
	if err := w.out.tx.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(id), 0) FROM cis), (SELECT COALESCE(MAX(id), 0) FROM ci_relations),
		(SELECT COALESCE(MAX(id), 0) FROM ci_relations_ended), (SELECT COALESCE(MAX(id), 0) FROM mission_partners)`).
		Scan(&ciBase, &relBase, &endedBase, &partnerBase); err != nil {
		return fmt.Errorf("read the last CMDB ids: %w", err)
	}
	relBase = max(relBase, endedBase)
	units := e.wd.partnerUnits
	for i := range g.plan.Partners {
		id := partnerBase + int64(i) + 1
		e.partners = append(e.partners, id)
		name := ordinal(i/len(units)+1) + " " + units[i%len(units)]
		if err := w.add("mission_partners", id, name, cmdbStart+int64(i)*60_000); err != nil {
			return err
		}
	}
	e.pickPartner = Zipf(len(e.partners), 0.9)
	order := sortedBy(len(g.cis), func(i int) int64 { return int64(g.cis[i].created) })
	e.ids = make([]int64, len(g.cis))
	for rank, i := range order {
		e.ids[i] = ciBase + int64(rank) + 1
	}
	for _, i := range order {
		if err := e.ci(i); err != nil {
			return err
		}
	}
	// A CI's relations are numbered together, in the order of the CIs' ids:
	// the table and its source index then grow at their ends, and only the
	// target index takes rows all over (which is what makes a bulk load slow).
	for rank, k := range sortedBy(len(g.rels), func(i int) int64 {
		return (e.ids[g.rels[i].src]-ciBase)<<32 | int64(g.rels[i].created)
	}) {
		rel, id := g.rels[k], relBase+int64(rank)+1
		src, typ, dst := e.ids[rel.src], e.cat.rel[rel.typ], e.ids[rel.dst]
		var err error
		if rel.ended == 0 {
			err = w.add("ci_relations", id, src, typ, dst, ms(rel.created), e.actor())
		} else {
			err = w.add("ci_relations_ended", id, src, typ, dst, ms(rel.created), e.actor(), ms(rel.ended), e.actor())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// sortedBy returns the indexes 0…n-1 ordered by key (below 2^63), then index.
func sortedBy(n int, key func(i int) int64) []int32 {
	type entry struct {
		key int64
		i   int32
	}
	keys := make([]entry, n)
	for i := range keys {
		keys[i] = entry{key(i), int32(i)}
	}
	slices.SortFunc(keys, func(a, b entry) int {
		if a.key != b.key {
			return cmp.Compare(a.key, b.key)
		}
		return cmp.Compare(a.i, b.i)
	})
	out := make([]int32, n)
	for i, k := range keys {
		out[i] = k.i
	}
	return out
}

func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return strconv.Itoa(n) + suffix
}

// actor is who registered or changed something: a staff member, or nobody
// (discovery and imports run as the system) three times in ten.
func (e *cmdbEmitter) actor() any {
	w := e.g.w
	if w.R.Float64() < 0.3 || len(w.staff) == 0 {
		return nil
	}
	return w.users[w.staff[w.R.IntN(len(w.staff))]].id
}

// numbered returns base, or base with a number when it was used before.
func (e *cmdbEmitter) numbered(base string) string {
	e.taken[base]++
	if n := e.taken[base]; n > 1 {
		return base + " " + strconv.Itoa(n)
	}
	return base
}

// site returns a site's name, code, country and domain.
func (e *cmdbEmitter) site(l int32) (name, code, country, domain string) {
	p := e.wd.places[int(l)%len(e.wd.places)]
	n := int(l)/len(e.wd.places) + 1
	code = fmt.Sprintf("%s%02d", p[1], n)
	kind := " Site"
	if len(e.g.siteServers[l]) >= 200 {
		kind = " Data Center"
	}
	name = p[0] + kind
	if n > 1 {
		name += " " + strconv.Itoa(n)
	}
	return name, code, p[2], strings.ToLower(code) + ".example.org"
}

// hardware returns the next unique serial number (with a maker's prefix; a
// maker numbers its products in the order it ships them) and address.
func (e *cmdbEmitter) hardware(prefix string) (serial, ip string) {
	e.hw++
	k := e.hw
	s := strings.ToUpper(strconv.FormatInt(k+1_000_000, 36))
	serial = prefix + strings.Repeat("0", max(0, 7-len(s))) + s
	return serial, fmt.Sprintf("10.%d.%d.%d", k>>16&255, k>>8&255, k&255)
}

// assetTag returns the next unique asset tag.
func (e *cmdbEmitter) assetTag() string {
	e.tags++
	return fmt.Sprintf("ST%07d", e.tags)
}

// describe returns a CI's name and current attributes.
func (e *cmdbEmitter) describe(i int32) (string, []attrKV) {
	g, wd, r := e.g, e.wd, e.g.w.R
	c := &g.cis[i]
	env := func() attrKV { return attrKV{"environment", wd.envs[wd.pickEnv.Sample(r)]} }
	switch c.kind {
	case kLocation:
		name, code, country, _ := e.site(c.loc)
		addr := fmt.Sprintf("Building %d, %d %s Road", 100+r.IntN(9900), 1+r.IntN(999), wd.appWords[r.IntN(len(wd.appWords))])
		return name, []attrKV{{"site_code", code}, {"address", addr}, {"country", country}}
	case kNetwork:
		_, code, _, domain := e.site(c.loc)
		host := fmt.Sprintf("%s-%s%04d", strings.ToLower(code), wd.devicePrefix[c.sub], c.seq)
		serial, ip := e.hardware("FOC")
		return host, []attrKV{{"device_type", wd.deviceTypes[c.sub]}, {"manufacturer", wd.netMakers[c.sub]}, {"model", wd.netModels[c.sub]},
			{"serial_number", serial}, {"asset_tag", e.assetTag()}, {"hostname", host}, {"domain", domain}, {"ip_address", ip},
			{"environment", "production"}}
	case kServer:
		_, code, _, domain := e.site(c.loc)
		role, os := "srv", wd.oses[r.IntN(len(wd.oses))]
		if c.sub == 1 {
			role, os = "esx", wd.hypervisorOS[r.IntN(len(wd.hypervisorOS))]
		}
		host := fmt.Sprintf("%s-%s%05d", strings.ToLower(code), role, c.seq)
		m := r.IntN(len(wd.serverMakers))
		serial, ip := e.hardware(wd.serialPrefixes[m])
		return host, []attrKV{{"manufacturer", wd.serverMakers[m]}, {"model", wd.serverModels[m][r.IntN(len(wd.serverModels[m]))]},
			{"serial_number", serial}, {"asset_tag", e.assetTag()}, {"hostname", host}, {"domain", domain}, {"ip_address", ip},
			{"os", os}, {"cpu_count", int64(8 << r.IntN(5))}, {"memory_gb", wd.memories[1+r.IntN(5)]}, env()}
	case kVM:
		_, code, _, domain := e.site(g.cis[c.host].loc)
		host := fmt.Sprintf("%s-vm%06d", strings.ToLower(code), c.seq)
		serial, ip := e.hardware("VMW")
		return host, []attrKV{{"serial_number", serial}, {"hostname", host}, {"domain", domain}, {"ip_address", ip},
			{"os", wd.oses[r.IntN(len(wd.oses))]}, {"cpu_count", int64(2 << r.IntN(4))}, {"memory_gb", wd.memories[r.IntN(4)] / 2},
			{"hypervisor", e.ids[c.host]}, env()}
	case kCluster:
		t := wd.clusterTypes[c.sub]
		return fmt.Sprintf("%s-cl%04d", t[:3], c.seq), []attrKV{{"cluster_type", t},
			{"description", fmt.Sprintf("%d-node %s cluster; up while %d members are.", c.members, t, c.minUp)}, env()}
	case kDatabase:
		k := r.IntN(len(wd.dbEngines))
		vs := wd.dbVersions[k]
		v := vs[len(vs)/2+r.IntN(len(vs)-len(vs)/2)]
		return fmt.Sprintf("%s-db%05d", slug(wd.appWords[wd.pickApp.Sample(r)]), c.seq), []attrKV{{"engine", wd.dbEngines[k]},
			{"port", wd.dbPorts[k]}, {"vendor", wd.dbVendors[k]}, {"version", v}, {"product", wd.dbEngines[k] + "-" + strings.ToLower(v)}, env()}
	case kApp:
		base := wd.appWords[wd.pickApp.Sample(r)] + " " + wd.appSuffixes[wd.pickSuffix.Sample(r)]
		if c.sub == tierPlatform {
			base = wd.platform[wd.pickPlatform.Sample(r)]
		}
		vendor := wd.appVendors[r.IntN(len(wd.appVendors))]
		return e.numbered(base), []attrKV{{"vendor", vendor}, {"version", fmt.Sprintf("%d.%d.%d", 1+r.IntN(9), r.IntN(20), r.IntN(10))},
			{"product", slug(vendor + " " + base)}, {"url", "https://" + slug(base) + ".apps.example.org/"}, env()}
	case kBusiness:
		base := wd.business[wd.pickBiz.Sample(r)] + " - " + wd.regions[r.IntN(len(wd.regions))]
		return e.numbered(base), []attrKV{{"description", "Business service: " + base + "."}}
	}
	base := wd.technical[wd.pickTech.Sample(r)] + " - " + wd.regions[r.IntN(len(wd.regions))]
	return e.numbered(base), []attrKV{{"description", "Technical service: " + base + "."}}
}

// undo returns the attributes before one change to them.
func (e *cmdbEmitter) undo(k ciKind, a []attrKV) []attrKV {
	wd, r := e.wd, e.g.w.R
	switch k {
	case kServer, kVM:
		if m, _ := get(a, "memory_gb").(float64); m >= 8 && r.Float64() < 0.5 {
			return set(a, "memory_gb", m/2)
		}
		if os, _ := get(a, "os").(string); slices.Index(wd.oses, os) > 0 && r.Float64() < 0.6 {
			return set(a, "os", wd.oses[slices.Index(wd.oses, os)-1])
		}
		e.oldIPs++
		return set(a, "ip_address", fmt.Sprintf("172.16.%d.%d", e.oldIPs>>8&255, e.oldIPs&255))
	case kNetwork:
		e.oldIPs++
		return set(a, "ip_address", fmt.Sprintf("172.16.%d.%d", e.oldIPs>>8&255, e.oldIPs&255))
	case kDatabase, kApp:
		v, _ := get(a, "version").(string)
		return set(a, "version", v+"-rc"+strconv.Itoa(1+r.IntN(3)))
	case kLocation:
		return set(a, "address", fmt.Sprintf("Building %d", 100+r.IntN(9900)))
	}
	d, _ := get(a, "description").(string)
	return set(a, "description", strings.TrimSuffix(d, ".")+" (draft).")
}

// ci writes one CI: its row, older versions, index rows and service rows.
func (e *cmdbEmitter) ci(i int32) error {
	g, w, wd, r := e.g, e.g.w, e.wd, e.g.w.R
	c := &g.cis[i]
	id, class := e.ids[i], e.cat.class[c.kind]
	name, cur := e.describe(i)
	switch {
	case i == g.hub:
		name = CMDBImpactHub
	case i == g.relHub:
		name = CMDBRelationsHub
	case e.whatIf[i] > 0:
		name = fmt.Sprintf("%s%02d", CMDBWhatIfPrefix, e.whatIf[i])
	}
	status := cmdb.StatusOperational
	switch c.kind {
	case kLocation, kBusiness, kTechnical, kCluster:
	default:
		status = wd.statuses[wd.pickStatus.Sample(r)]
	}
	marking := "UNCLASSIFIED"
	if (c.kind == kDatabase || c.kind == kApp) && r.Float64() < 0.05 {
		marking = "CUI"
	}
	minUp := int64(1)
	if c.kind == kCluster {
		minUp = int64(c.minUp)
	}
	// History: older versions, each ended by a change (one of them a move to another host).
	created := ms(c.created)
	var changes []int64
	if r.Float64() < 0.12 {
		for range wd.pickVersionCount.Sample(r) {
			changes = append(changes, created+1+r.Int64N(EpochMillis-created-1))
		}
	}
	moved := int64(-1)
	if c.kind == kVM && c.moved != 0 {
		moved = ms(c.moved)
		changes = append(changes, moved)
	}
	slices.Sort(changes)
	for j := 1; j < len(changes); j++ {
		changes[j] = max(changes[j], changes[j-1]+1)
	}
	older := make([][]attrKV, len(changes))
	a := cur
	for j := len(changes) - 1; j >= 0; j-- {
		if changes[j] == moved {
			a = set(a, "hypervisor", e.ids[c.oldHost])
		} else {
			a = e.undo(c.kind, a)
		}
		older[j] = a
	}
	by := make([]any, len(changes)+1)
	for j := range by {
		by[j] = e.actor()
	}
	validFrom := created
	if len(changes) > 0 {
		validFrom = changes[len(changes)-1]
	}
	if err := w.add("cis", id, class, name, string(status), minUp, attrJSON(cur), marking, int64(len(changes)+1),
		created, by[0], validFrom, by[len(changes)], validFrom); err != nil {
		return err
	}
	first := r.Float64() < 0.5
	for j, old := range older {
		st := status
		if status == cmdb.StatusOperational || status == cmdb.StatusMaintenance || status == cmdb.StatusRetired {
			st = cmdb.StatusOperational
			if j == 0 && first {
				st = cmdb.StatusBuild
			}
		}
		from, to := created, changes[j]
		if j > 0 {
			from = changes[j-1]
		}
		if err := w.add("ci_versions", id, int64(j+1), class, name, string(st), minUp, attrJSON(old), marking, from, to, by[j]); err != nil {
			return err
		}
	}
	for _, kv := range cur {
		a, ok := e.cat.attrs[c.kind][kv.k]
		if !ok {
			return fmt.Errorf("class %s has no attribute %s", kindClasses()[c.kind], kv.k)
		}
		if a.indexed {
			if err := w.add("ci_attr_values", a.id, cmdb.IndexValue(kv.v), id, a.unique); err != nil {
				return err
			}
		}
	}
	if c.kind == kBusiness || c.kind == kTechnical {
		return e.service(c, id, created)
	}
	return nil
}

// service writes a service's kind and criticality, its mission partners and
// its owner and manager (role assignments scoped to it, as SetServiceHolder writes them).
func (e *cmdbEmitter) service(c *gci, id, created int64) error {
	w, wd, r := e.g.w, e.wd, e.g.w.R
	kind := "technical"
	if c.kind == kBusiness {
		kind = "business"
	}
	if err := w.add("ci_services", id, kind, string(cmdb.Criticalities[wd.pickCriticality.Sample(r)])); err != nil {
		return err
	}
	var seen []int64
	for range 1 + r.IntN(4) {
		if p := e.partners[e.pickPartner.Sample(r)]; !slices.Contains(seen, p) {
			seen = append(seen, p)
		}
	}
	slices.Sort(seen)
	for _, p := range seen {
		if err := w.add("ci_service_partners", id, p); err != nil {
			return err
		}
	}
	if len(w.staff) < 2 {
		return nil
	}
	owner := w.staff[r.IntN(len(w.staff))]
	manager := w.staff[r.IntN(len(w.staff))]
	for manager == owner {
		manager = w.staff[r.IntN(len(w.staff))]
	}
	for _, h := range []struct {
		role string
		ui   int
	}{{"service-owner", owner}, {"service-manager", manager}} {
		if err := w.add("raci_assignments", w.nextID("raci_assignments"), "*", h.role, w.users[h.ui].id, nil, nil, id,
			int64(0), created); err != nil {
			return err
		}
	}
	return nil
}
