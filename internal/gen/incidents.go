package gen

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"

	"steward/internal/operation/incident"
	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// The incident generator writes the incident log of Incident Management
// (DESMF §9.4.3, internal/operation/incident) as the services would have
// written it over the two generated years: N incidents (INC0000001 …, record
// type "incident", process IM) at scale N, with their own rows, the
// full-text entries of their records on SQLite, their journals in the
// kernel's words, the links of major incidents to their children, the major
// incidents' stakeholder updates, communications and reviews, and the
// categories the taxonomy needs beyond the ones the migration seeds.
//
// Who and what. Callers are generated users (enabled, registered before they
// called); an incident reaches the desk through the portal, the phone, e-mail,
// the desk, chat, monitoring events, walk-ins or the API. Those logged through
// the portal or e-mail are logged by their caller, the rest by an agent of the
// service desk (the largest group). The resolver group is one of the groups
// that hold the IM analyst role (and the service desk), drawn by the groups'
// sizes; the assignee is one of its members. The category is drawn from a
// Zipf law over 21 desk categories (the six the migration seeds and 15 more,
// added to the taxonomy) and the subcategory from a Zipf law within it (87
// curated subcategories, and one per application family under software as
// the scale grows, following the 30 categories and 100 subcategories
// per 1,000 incidents up to the taxonomy's size: see IncidentPlan). With the
// CMDB generated, the affected service is a CMDB service (85 %, a Zipf law
// over the services) and the CI one of the class the category is about (a
// server for storage, a database for database incidents, an application for
// software …; a Zipf law, so that some CIs recur: the trend view and
// problem management have something to find); never a disposed one, never one
// registered after the incident.
//
// Priority. PriorityMix draws the priority class (2 % critical, 4 % high,
// 85 % moderate, 9 % low), turned into impact × urgency cells of the default
// ITIL matrix (low spreads over P4 and P5). Half of the critical draws become
// major incidents: P1, declared by the threshold of the default settings,
// with an IM process manager as major-incident manager, two to four
// stakeholder updates, one or two entries in the communications log and,
// once resolved, the review that closing waits for. The other half are
// further reports of a major incident still open (logged in the 48 hours
// since it was declared): P2 children, linked to it (parent_of) and resolved
// with it, as the service's follow-up step does, or, when no major incident
// is open, high-priority (P2) incidents of their own. So about 1 % of the
// incidents are major, and at scale 1M about 1 % are their children (fewer
// at small scales, where majors are days apart). 0.5 % are security incidents (a CND
// category of CJCSM 6510.01B, the security path), assigned to a cyber-defence,
// endpoint-security or vulnerability group when there is one.
//
// Lifecycle. Every incident's life is drawn when it is logged and replayed up
// to the end of the generated years: triage assigns it (a log-normal delay,
// median 10 minutes), the assignee starts investigating, and it is resolved
// after ResolutionHours (scaled by priority: P1 ten times faster, P2 three
// times); the caller confirms the resolution (55 %, a median of 6 hours later)
// or the auto-close timer closes it after the default five days. 22 % of the
// incidents logged by phone, chat, walk-in or at the desk are first-contact
// resolutions by the desk agent; 1.5 % are cancelled soon after logging. At
// closure the categorisation is reviewed, and 8 % were recategorised then (the
// logged category differs). Whatever has not happened by the end of the
// generated years has not happened: the last weeks hold the open backlog
// (new, in progress, a quarter of those on hold with a reason, resolved and
// waiting for the caller), older incidents are closed. Reassignments draws how
// often an incident changed group; the count is the record's reassignments.
//
// Journal volume. A real incident has about ten state changes and three
// interactions. To keep the load near a few rows per incident, the journal
// holds the entries of the steps that change the state and one assignment,
// exactly as the kernel writes them: "Incident INC… logged as New.", "Assigned
// to <group> / <user>.", "Investigate (IM4): New → In progress.", "Put on hold
// (IM4): …", "Resume (IM4): …", "Resolve (IM5): … → Resolved.", "Confirm the
// resolution (IM6): …" or the system's "Close (IM6): …", "Cancel (IM2): …",
// both "Linked: …" entries of a child, and "Changed priority, impact …." of a
// reprioritisation. About 22 % of the incidents resolved after an
// investigation waited on the way (a hold for the caller, a supplier or a
// change, resumed before the resolution) and 10 % of those worked on were
// logged at a neighbouring priority and reprioritised: both are drawn from a
// random source of their own (incidents_audit.go). Intermediate reassignments
// (counted, not journalled), comments and work notes are left out; every
// record's version is one more than its journalled saves, as the kernel keeps
// it. That is about five journal entries per closed incident, and one audit
// entry per journalled save (two for a step that changes the incident row).
//
// Reclassification into service requests, reopened incidents and rejected
// resolutions are not generated.

// IncidentPlan is the size of the generated incident log at scale N.
type IncidentPlan struct {
	// Incidents is N.
	Incidents int
	// Categories is how many desk categories incidents use: 30 per 1,000
	// incidents, at least the six the migration seeds, at most the 21 desk
	// categories of the generated taxonomy (the nine CND categories of the
	// security path come on top).
	Categories int
	// Subcategories is how many subcategories they use: 100 per 1,000
	// incidents, at most the generated taxonomy's (about 135); at least those
	// of the categories in use.
	Subcategories int
}

// IncidentPlanFor derives the incident log of scale n.
func IncidentPlanFor(n int) IncidentPlan {
	return IncidentPlan{Incidents: n, Categories: max(6, n*30/1000), Subcategories: n * 100 / 1000}
}

// The shares of the incident log (see the comment at the top of this file).
const (
	imSecurityShare = 0.005
	imCancelShare   = 0.015
	imFCRShare      = 0.22
	imConfirmShare  = 0.55
	imRecatShare    = 0.08
	imHoldShare     = 0.25
	// imChildShare is the share of critical draws that become children of an open major incident.
	imChildShare = 0.5
)

// imMinute and imHourMs are spans in milliseconds.
const (
	imMinute int64 = 60_000
	imHourMs int64 = 60 * imMinute
)

// The incident states, as the incident package names them.
const (
	imNew        = "new"
	imInProgress = "in_progress"
	imOnHold     = "on_hold"
	imResolved   = "resolved"
	imClosed     = "closed"
	imCancelled  = "cancelled"
)

// ciPool is the class of CI a category's incidents affect.
type ciPool uint8

const (
	poolNone ciPool = iota
	poolServer
	poolVM
	poolNetwork
	poolDatabase
	poolApp
	poolLocation
	nPools
)

// poolOfClass is the pool of a CI class of the default tree.
func poolOfClass(class string) (ciPool, bool) {
	switch class {
	case "server":
		return poolServer, true
	case "virtual_server":
		return poolVM, true
	case "network_device":
		return poolNetwork, true
	case "database":
		return poolDatabase, true
	case "application":
		return poolApp, true
	case "location":
		return poolLocation, true
	}
	return poolNone, false
}

// imPools says which CIs a category's (or subcategory's) incidents affect.
func imPools() map[string]ciPool {
	return map[string]ciPool{
		"software": poolApp, "network": poolNetwork, "facilities": poolLocation, "database": poolDatabase, "messaging": poolApp,
		"collaboration": poolApp, "storage-backup": poolServer, "identity": poolApp, "web": poolApp, "erp": poolApp,
		"cloud": poolVM, "middleware": poolApp, "monitoring": poolServer, "data-center": poolLocation, "security": poolServer,
		"hardware/server": poolServer, "hardware/storage": poolServer, "endpoint/patching": poolVM, "identity/service-account": poolServer,
	}
}

// imCI is a CI or service incidents may name.
type imCI struct {
	id, created int64
	name        string
}

// imCat is a category in use with its subcategories.
type imCat struct {
	key, label string
	subs       []imSub
	pickSub    Discrete
	titles     []string
	pool       ciPool
}

// imSub is a subcategory in use.
type imSub struct {
	key, label string
	pool       ciPool
}

// imMajor is a major incident children may still attach to.
type imMajor struct {
	id                 int64
	number, title      string
	created, resolveAt int64
	resolver, manager  int
	team               int
	cat                *imCat
	sub                *imSub
	ci, svc            *imCI
	code, notes        string
}

// Journal and other time-ordered rows, as kinds of imEv.
const (
	evJournal uint8 = iota
	evLink
	evUpdate
	evComm
	evAudit
)

// imEv is a row that takes an id (or a sequence number) in time order: a
// journal entry, a link, a stakeholder update, a communication or an audit entry.
type imEv struct {
	at, rec int64
	seq     int64
	kind    uint8
	// author is a user index, -1 for the system.
	author   int32
	body     string
	x, y     string
	from, to int64
	// number is the audited record's number (of a link: the parent's, and x the child's);
	// action and changes are an audit entry's.
	number, action, changes string
}

func (a *imEv) less(b *imEv) bool {
	if a.at != b.at {
		return a.at < b.at
	}
	if a.rec != b.rec {
		return a.rec < b.rec
	}
	return a.seq < b.seq
}

// evHeap is a min-heap of pending rows, earliest first.
type evHeap []imEv

func (h *evHeap) push(e imEv) {
	*h = append(*h, e)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(&s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *evHeap) pop() imEv {
	s := *h
	top := s[0]
	n := len(s) - 1
	s[0] = s[n]
	s = s[:n]
	for i := 0; ; {
		l, m := 2*i+1, i
		if l < n && s[l].less(&s[m]) {
			m = l
		}
		if l+1 < n && s[l+1].less(&s[m]) {
			m = l + 1
		}
		if m == i {
			break
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
	*h = s
	return top
}

// imGen generates one incident log.
type imGen struct {
	w    *World
	typ  record.Type
	plan IncidentPlan
	h    *processHolders

	prefix  string
	counter int64
	firstAt int64
	// steps holds the kernel's journal text of each action from each state.
	steps map[[2]string]string
	// logged is "Incident %s logged as New."'s format.
	logged string

	cats, sec      []*imCat
	pickCat        Discrete
	pickSec        Discrete
	services       []imCI
	pickSvc        Discrete
	pools          [nPools][]imCI
	pickPool       [nPools]Discrete
	callers        []int
	created        []int64 // per user index: when the account was registered
	teams          []int
	pickTeam       Discrete
	secTeams       []int
	desk           int
	pickPrio       Discrete
	pickChannel    Discrete
	channels       []string
	pickCode       Discrete
	codes          []string
	pickHold       Discrete
	triage, pickup LogNormal
	confirm        LogNormal
	effort         LogNormal
	resolution     LogNormal
	majors         []*imMajor

	openings, details, errors, notes, ups []string
	fallbackCI                            []string

	heap                      evHeap
	seq                       int64
	linkID, updateID, commID  int64
	catID                     int64
	deskChannels, logsOwn     map[string]bool
	securityOK                bool
	resolutionFactor          [6]float64
	matrix                    [][]int
	partyNames, commChannels  []string
	audiences                 []string
	pickAudience, pickCommsCh Discrete
	pickModerate              Discrete
	// imTeams are the groups that hold the IM analyst role, by team id.
	imTeams map[int64]bool
	// hist writes the audit history (incidents_audit.go).
	hist *imHistory
}

// genIncidents writes the incident log (see the comment at the top of this file).
func genIncidents(ctx context.Context, w *World) error {
	h := w.holders[incident.Process]
	if h == nil || len(h.managers) == 0 || len(w.teams) == 0 {
		return nil // no Incident Management in the model, or nobody to work on incidents
	}
	g := &imGen{w: w, plan: IncidentPlanFor(w.Plan.Scale), h: h, imTeams: map[int64]bool{}}
	if err := g.kernelType(); err != nil {
		return err
	}
	restore, err := bigCache(ctx, w.out.tx)
	if err != nil {
		return err
	}
	defer restore()
	if err := g.readStart(ctx); err != nil {
		return err
	}
	if err := g.openHistory(ctx); err != nil {
		return err
	}
	if err := g.taxonomy(ctx); err != nil {
		return err
	}
	if err := g.readCMDB(ctx); err != nil {
		return err
	}
	g.people()
	g.samplers()
	for _, t := range g.times() {
		if err := g.flushUntil(t); err != nil {
			return err
		}
		if err := g.incident(t); err != nil {
			return err
		}
	}
	if err := g.flushUntil(math.MaxInt64); err != nil {
		return err
	}
	if err := g.closeHistory(ctx); err != nil {
		return err
	}
	return g.finish(ctx)
}

// kernelType reads the incident record type by registering incident
// management with a record kernel, as the application does, and prepares the
// journal texts of its steps.
func (g *imGen) kernelType() error {
	w := g.w
	c := clock.System{}
	rs := record.New(record.Deps{DB: w.out.tx.DB(), Model: w.Model})
	if _, err := incident.New(incident.Deps{DB: w.out.tx.DB(), Records: rs, Trail: audit.NewTrail(c), Events: outbox.New(c, nil)}); err != nil {
		return err
	}
	t, err := rs.Type(incident.Type)
	if err != nil {
		return err
	}
	g.typ = t
	label := t.Label
	if label == "" {
		label = t.Name
	}
	st, ok := t.State(t.Initial)
	if !ok {
		return fmt.Errorf("the incident type has no initial state %s", t.Initial)
	}
	g.logged = label + " %s logged as " + st.Label + "."
	g.steps = map[[2]string]string{}
	for _, tr := range t.Transitions {
		to, _ := t.State(tr.To)
		for _, f := range tr.From {
			from, _ := t.State(f)
			g.steps[[2]string{f, tr.Action}] = fmt.Sprintf("%s (%s): %s → %s.", tr.Label, tr.Activity, from.Label, to.Label)
		}
	}
	for _, need := range [][2]string{{imNew, "investigate"}, {imInProgress, "hold"}, {imNew, "resolve"}, {imInProgress, "resolve"},
		{imResolved, "confirm"}, {imResolved, "close"}, {imNew, "cancel"}} {
		if g.steps[need] == "" {
			return fmt.Errorf("the incident type has no step %s from %s", need[1], need[0])
		}
	}
	return nil
}

// step returns the journal text of action from state.
func (g *imGen) step(from, action string) string { return g.steps[[2]string{from, action}] }

// readStart reads where the incident numbers and the ids of the tables this generator writes continue.
func (g *imGen) readStart(ctx context.Context) error {
	tx := g.w.out.tx
	err := tx.QueryRowContext(ctx, `SELECT prefix, last_number FROM record_types WHERE name = ?`, incident.Type).Scan(&g.prefix, &g.counter)
	if db.IsNoRows(err) {
		g.prefix, g.counter, err = g.typ.Prefix, 0, nil
	}
	if err != nil {
		return fmt.Errorf("read the incident number counter: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT (SELECT COALESCE(MAX(id), 0) FROM record_links), (SELECT COALESCE(MAX(id), 0) FROM incident_major_updates),
		(SELECT COALESCE(MAX(id), 0) FROM incident_major_comms), (SELECT COALESCE(MAX(id), 0) FROM incident_categories)`).
		Scan(&g.linkID, &g.updateID, &g.commID, &g.catID); err != nil {
		return fmt.Errorf("read the last incident ids: %w", err)
	}
	created := map[int64]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT id, created_at FROM users`)
	if err != nil {
		return fmt.Errorf("read when the users were registered: %w", err)
	}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			rows.Close()
			return err
		}
		created[id] = at
	}
	if err := rows.Close(); err != nil {
		return err
	}
	g.created = make([]int64, len(g.w.users))
	for i, u := range g.w.users {
		g.created[i] = created[u.id]
	}
	rows, err = tx.QueryContext(ctx, `SELECT DISTINCT team_id FROM raci_assignments WHERE subject = ? AND role = 'process-analyst'
		AND team_id IS NOT NULL`, incident.Process)
	if err != nil {
		return fmt.Errorf("read the groups working in IM: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		g.imTeams[id] = true
	}
	return rows.Err()
}

// taxonomy reads the seeded taxonomy, adds the generated categories and
// subcategories the plan uses, and prepares the samplers over them.
func (g *imGen) taxonomy(ctx context.Context) error {
	w := g.w
	type entry struct{ parent, key, label string }
	var have []entry
	rows, err := w.out.tx.QueryContext(ctx, `SELECT parent_key, cat_key, label FROM incident_categories WHERE active ORDER BY position, id`)
	if err != nil {
		return fmt.Errorf("read the incident taxonomy: %w", err)
	}
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.parent, &e.key, &e.label); err != nil {
			rows.Close()
			return err
		}
		have = append(have, e)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	exists := map[[2]string]string{}
	for _, e := range have {
		exists[[2]string{e.parent, e.key}] = e.label
	}
	// The categories and subcategories, seeded or to add, by category.
	byCat := map[string]*imCat{}
	var added []entry
	for _, e := range have {
		if e.parent == "" {
			byCat[e.key] = &imCat{key: e.key, label: e.label}
		}
	}
	for _, e := range have {
		if c := byCat[e.parent]; c != nil {
			c.subs = append(c.subs, imSub{key: e.key, label: e.label})
		}
	}
	for _, block := range lines(imExtraCategoriesText, "|") {
		head, rest, _ := strings.Cut(block, ":")
		key, label, _ := strings.Cut(strings.TrimSpace(head), "/")
		c := byCat[key]
		if c == nil {
			c = &imCat{key: key, label: label}
			byCat[key] = c
			added = append(added, entry{"", key, label})
		}
		for _, s := range strings.Split(rest, ";") {
			sk, sl, _ := strings.Cut(strings.TrimSpace(s), "/")
			if _, ok := exists[[2]string{key, sk}]; ok || sk == "" {
				continue
			}
			c.subs = append(c.subs, imSub{key: sk, label: sl})
			added = append(added, entry{key, sk, sl})
		}
	}
	// The categories in use, most common first.
	order := strings.Fields(imCategoryOrder)
	want := g.plan.Categories
	var inUse []*imCat
	for _, k := range order {
		if c := byCat[k]; c != nil && len(inUse) < want {
			inUse = append(inUse, c)
		}
	}
	if len(inUse) == 0 {
		return fmt.Errorf("the incident taxonomy has none of the desk categories %s", imCategoryOrder)
	}
	subs := 0
	for _, c := range inUse {
		subs += len(c.subs)
	}
	// One subcategory per application family under software, as far as the plan asks for more.
	if sw := byCat["software"]; sw != nil && slices.Contains(inUse, sw) {
		for _, word := range lines(appWordsText, "|") {
			if subs >= g.plan.Subcategories {
				break
			}
			key := "app-" + slug(word)
			if _, ok := exists[[2]string{"software", key}]; ok {
				continue
			}
			sw.subs = append(sw.subs, imSub{key: key, label: word + " applications"})
			added = append(added, entry{"software", key, word + " applications"})
			subs++
		}
	}
	// Write the added entries the incidents use (a category in use, a subcategory of one).
	used := map[string]bool{}
	for _, c := range inUse {
		used[c.key] = true
	}
	at := EpochMillis - window - 30*day
	pos := map[string]int64{}
	for _, e := range added {
		parent := e.parent
		if parent == "" {
			parent = e.key
		}
		if !used[parent] {
			continue
		}
		pos[e.parent] += 10
		g.catID++
		if err := w.add("incident_categories", g.catID, e.parent, e.key, e.label, "", true, 1000+pos[e.parent], int64(1), at, at); err != nil {
			return err
		}
	}
	pools, titles := imPools(), imTitles()
	for _, c := range inUse {
		c.pool = pools[c.key]
		c.titles = titles[c.key]
		if len(c.titles) == 0 {
			c.titles = []string{"{sub}: problem with {ci}"}
		}
		for i := range c.subs {
			p, ok := pools[c.key+"/"+c.subs[i].key]
			if !ok {
				p = c.pool
			}
			c.subs[i].pool = p
		}
		c.pickSub = Zipf(len(c.subs), 0.8)
	}
	g.cats, g.pickCat = inUse, Zipf(len(inUse), 1.0)
	for _, k := range strings.Fields(imSecurityOrder) {
		if c := byCat[k]; c != nil {
			c.pool, c.titles = pools["security"], titles["security"]
			g.sec = append(g.sec, c)
		}
	}
	g.securityOK = len(g.sec) > 0
	g.pickSec = Zipf(max(1, len(g.sec)), 0.9)
	return nil
}

// imTitles reads imTitlesText.
func imTitles() map[string][]string {
	out := map[string][]string{}
	for _, block := range lines(imTitlesText, "|") {
		key, rest, _ := strings.Cut(block, ":")
		for _, t := range strings.Split(rest, ";") {
			if t = strings.TrimSpace(t); t != "" {
				out[strings.TrimSpace(key)] = append(out[strings.TrimSpace(key)], t)
			}
		}
	}
	return out
}

// readCMDB reads the services and CIs incidents may name: none disposed.
// Without a CMDB incidents name no service and no CI.
func (g *imGen) readCMDB(ctx context.Context) error {
	tx := g.w.out.tx
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.name, c.created_at FROM ci_services s JOIN cis c ON c.id = s.ci_id
		WHERE c.status <> 'disposed' ORDER BY c.id`)
	if err != nil {
		return fmt.Errorf("read the services: %w", err)
	}
	for rows.Next() {
		var c imCI
		if err := rows.Scan(&c.id, &c.name, &c.created); err != nil {
			rows.Close()
			return err
		}
		g.services = append(g.services, c)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT c.id, k.name, c.name, c.created_at FROM cis c JOIN ci_classes k ON k.id = c.class_id
		WHERE c.status <> 'disposed' AND k.name IN ('server', 'virtual_server', 'network_device', 'database', 'application', 'location')
		ORDER BY c.id`)
	if err != nil {
		return fmt.Errorf("read the CIs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c imCI
		var class string
		if err := rows.Scan(&c.id, &class, &c.name, &c.created); err != nil {
			return err
		}
		if p, ok := poolOfClass(class); ok {
			g.pools[p] = append(g.pools[p], c)
		}
	}
	return rows.Err()
}

// people chooses the callers, the resolver groups and the desk.
func (g *imGen) people() {
	w := g.w
	for i, u := range w.users {
		if !u.disabled {
			g.callers = append(g.callers, i)
		}
	}
	slices.SortStableFunc(g.callers, func(a, b int) int { return cmp.Compare(g.created[a], g.created[b]) })
	// The largest group is the headquarters service desk (see genTeams).
	g.desk = 0
	weights := make([]float64, 0, len(w.teams))
	for ti, t := range w.teams {
		if !g.imTeam(ti) && ti != g.desk {
			continue
		}
		g.teams = append(g.teams, ti)
		weights = append(weights, float64(len(t.members)))
		if strings.Contains(t.name, "Cyber Defense") || strings.Contains(t.name, "Endpoint Security") ||
			strings.Contains(t.name, "Vulnerability") {
			g.secTeams = append(g.secTeams, ti)
		}
	}
	if len(g.secTeams) == 0 {
		for ti, t := range w.teams {
			if strings.Contains(t.name, "Cyber Defense") || strings.Contains(t.name, "Endpoint Security") ||
				strings.Contains(t.name, "Vulnerability") {
				g.secTeams = append(g.secTeams, ti)
			}
		}
	}
	if len(g.secTeams) == 0 {
		g.secTeams = []int{g.desk}
	}
	g.pickTeam = NewDiscrete(weights)
}

// imTeam reports whether a group holds the IM analyst role (scoped to itself).
func (g *imGen) imTeam(ti int) bool { return g.imTeams[g.w.teams[ti].id] }

// samplers prepares the distributions and word lists.
func (g *imGen) samplers() {
	r := g.w.R
	g.pickPrio = PriorityMix()
	g.channels = []string{"portal", "phone", "email", "desk", "chat", "event", "walk_in", "api"}
	g.pickChannel = NewDiscrete([]float64{30, 25, 20, 8, 7, 5, 3, 2})
	g.deskChannels = map[string]bool{"phone": true, "desk": true, "chat": true, "walk_in": true}
	g.logsOwn = map[string]bool{"portal": true, "email": true}
	g.codes = []string{"workaround", "permanent", "remote_workaround", "remote_permanent", "known_error", "not_reproducible",
		"too_costly", "by_caller"}
	g.pickCode = NewDiscrete([]float64{20, 30, 10, 20, 5, 7, 1, 7})
	g.pickHold = NewDiscrete([]float64{50, 30, 20})
	g.pickModerate = NewDiscrete([]float64{1, 3, 1})
	g.triage = LogNormalFromMedianP90(10, 120)
	g.pickup = LogNormalFromMedianP90(20, 360)
	g.confirm = LogNormalFromMedianP90(6, 72)
	g.effort = LogNormalFromMedianP90(30, 240)
	g.resolution = ResolutionHours()
	g.resolutionFactor = [6]float64{1, 0.1, 0.3, 1, 1.3, 1.3}
	g.matrix = incident.DefaultMatrix()
	g.openings, g.details, g.errors = lines(imOpeningsText, "|"), lines(imDetailsText, "|"), lines(imErrorsText, "|")
	g.notes, g.ups = lines(imResolutionNotesText, "|"), lines(imUpdatesText, "|")
	g.fallbackCI = []string{"my computer", "the application", "my laptop", "the shared drive", "my phone", "the system"}
	g.audiences = []string{"all", "users", "stakeholders", "management", "technical"}
	g.pickAudience = NewDiscrete([]float64{40, 25, 15, 10, 10})
	g.commChannels = []string{"bridge", "email", "phone", "chat", "meeting"}
	g.pickCommsCh = NewDiscrete([]float64{35, 30, 15, 10, 10})
	g.partyNames = []string{"Service owner", "Mission partners", "Senior leadership", "Supplier", "Watch officer", "Affected units"}
	// Services and CIs in a random order of popularity, drawn from Zipf laws.
	r.Shuffle(len(g.services), func(i, j int) { g.services[i], g.services[j] = g.services[j], g.services[i] })
	g.pickSvc = Zipf(max(1, len(g.services)), 0.9)
	for p := range g.pools {
		pool := g.pools[p]
		r.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		g.pickPool[p] = Zipf(max(1, len(pool)), 0.7)
	}
}

// times draws when each incident was logged, in order: mostly in working
// hours on weekdays, a trickle at night and at weekends.
func (g *imGen) times() []int64 {
	r := g.w.R
	hourW := [24]float64{.12, .1, .1, .1, .12, .18, .3, .6, 1, 1, 1, 1, .8, 1, 1, 1, .9, .6, .35, .3, .25, .2, .18, .15}
	start := EpochMillis - window
	out := make([]int64, g.plan.Incidents)
	for i := range out {
		for {
			t := start + r.Int64N(window-imMinute)
			hour := (t / imHourMs) % 24
			// 1970-01-01 was a Thursday: day 0 is Thursday, days 2 and 3 the weekend.
			wd := (t / day) % 7
			p := hourW[hour]
			if wd == 2 || wd == 3 {
				p *= 0.3
			}
			if r.Float64() < p {
				out[i] = t
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

// pick draws a CI of pool registered before t, or nil.
func (g *imGen) pickCI(p ciPool, t int64) *imCI {
	pool := g.pools[p]
	if p == poolNone || len(pool) == 0 {
		return nil
	}
	for range 4 {
		if c := &pool[g.pickPool[p].Sample(g.w.R)]; c.created < t {
			return c
		}
	}
	return nil
}

// caller draws an enabled user registered before t (callers are in the order of their registration).
func (g *imGen) caller(t int64) int {
	n, _ := slices.BinarySearchFunc(g.callers, t, func(ui int, t int64) int { return cmp.Compare(g.created[ui], t) })
	return g.callers[g.w.R.IntN(max(1, n))]
}

// member draws a member of team ti.
func (g *imGen) member(ti int) int {
	m := g.w.teams[ti].members
	return m[g.w.R.IntN(len(m))]
}

// span draws a log-normal span in the unit unit, at least one minute.
func (g *imGen) span(l LogNormal, unit int64) int64 {
	return max(imMinute, int64(l.Sample(g.w.R)*float64(unit)))
}

// cell turns a priority class into impact and urgency of the default
// matrix. A critical draw is P1 when it stays critical (a major or security
// incident), P2 when it became a further report.
func (g *imGen) cell(class int, critical bool) (int, int) {
	r := g.w.R
	switch {
	case class == 0 && critical:
		return 1, 1
	case class == 0 || class == 1:
		if r.IntN(2) == 0 {
			return 1, 2
		}
		return 2, 1
	case class == 2:
		switch g.pickModerate.Sample(r) {
		case 0:
			return 1, 3
		case 1:
			return 2, 2
		}
		return 3, 1
	}
	switch r.IntN(3) {
	case 0:
		return 2, 3
	case 1:
		return 3, 2
	}
	return 3, 3
}

// openMajor returns the newest major incident logged in the last 48 hours
// and not resolved within the next hour, if any.
func (g *imGen) openMajor(t int64) *imMajor {
	k := 0
	for k < len(g.majors) && g.majors[k].created < t-48*imHourMs {
		k++
	}
	g.majors = g.majors[k:]
	for i := len(g.majors) - 1; i >= 0; i-- {
		if m := g.majors[i]; m.resolveAt > t+imHourMs {
			return m
		}
	}
	return nil
}

// emit queues a time-ordered row.
func (g *imGen) emit(e imEv) {
	g.seq++
	e.seq = g.seq
	g.heap.push(e)
}

// journal queues a system journal entry of record rec.
func (g *imGen) journal(rec, at int64, author int, body string) {
	g.emit(imEv{at: at, rec: rec, kind: evJournal, author: int32(author), body: body})
}

// flushUntil writes the queued rows earlier than t, in time order, with their ids.
func (g *imGen) flushUntil(t int64) error {
	w := g.w
	for len(g.heap) > 0 && g.heap[0].at < t {
		e := g.heap.pop()
		var author, name any = nil, "system"
		if e.author >= 0 {
			u := w.users[e.author]
			author, name = u.id, u.username
		}
		var err error
		switch e.kind {
		case evJournal:
			err = w.add("record_journal", w.nextID("record_journal"), e.rec, "system", e.body, author, name, e.at)
		case evLink:
			g.linkID++
			if err = w.add("record_links", g.linkID, e.from, e.to, string(record.ParentOf), author, e.at); err == nil {
				err = g.writeAudit(&imEv{at: e.at, author: e.author, action: "record.link", number: e.number,
					changes: fmt.Sprintf(`[{"field":"link","new":%d},{"field":"type","new":%q},{"field":"target","new":%q}]`,
						g.linkID, record.ParentOf, e.x)})
			}
		case evUpdate:
			g.updateID++
			err = w.add("incident_major_updates", g.updateID, e.rec, e.x, e.body, author, name, e.at)
		case evComm:
			g.commID++
			err = w.add("incident_major_comms", g.commID, e.rec, e.x, e.y, e.body, author, name, e.at)
		case evAudit:
			err = g.writeAudit(&e)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// digits replaces each # of s by a random digit.
func (g *imGen) digits(s string) string {
	if !strings.Contains(s, "#") {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c == '#' {
			b[i] = byte('0' + g.w.R.IntN(10))
		}
	}
	return string(b)
}

// text writes an incident's title and description.
func (g *imGen) text(c *imCat, sub *imSub, ci, svc *imCI) (string, string) {
	r := g.w.R
	ciName := g.fallbackCI[r.IntN(len(g.fallbackCI))]
	if ci != nil {
		ciName = ci.name
	}
	svcName := "the portal"
	if svc != nil {
		svcName = svc.name
	}
	subLabel := c.label
	if sub != nil {
		subLabel = sub.label
	}
	tpl := c.titles[r.IntN(len(c.titles))]
	title := strings.NewReplacer("{ci}", ciName, "{svc}", svcName, "{sub}", subLabel).Replace(tpl)
	if len(title) > 0 {
		title = strings.ToUpper(title[:1]) + title[1:]
	}
	var d strings.Builder
	d.WriteString(g.openings[r.IntN(len(g.openings))])
	d.WriteByte(' ')
	d.WriteString(strings.ToLower(title[:1]) + title[1:])
	d.WriteString(". ")
	d.WriteString(g.details[r.IntN(len(g.details))])
	if r.Float64() < 0.5 {
		d.WriteByte(' ')
		d.WriteString(g.digits(g.errors[r.IntN(len(g.errors))]))
	}
	if ci != nil {
		d.WriteString(" Affected CI: " + ci.name + ".")
	}
	if svc != nil {
		d.WriteString(" Service: " + svc.name + ".")
	}
	return amCut(title), d.String()
}

// imRow is an incident's own row, as it stands at the end of the generated years.
type imRow struct {
	ci                             int64
	cat, sub, loggedCat, loggedSub string
	channel                        string
	impact, urgency                int
	path                           string
	manager                        int
	declaredAt                     int64
	reason, holdReason             string
	heldAt, resolvedAt             int64
	resolvedBy                     int
	code, notes                    string
	effort                         int64
	firstContact                   bool
	closedAt                       int64
	closedBy                       int
	reviewed, changed              bool
	state                          string
	team, assignee                 int
	version, updated               int64
	reassignments                  int64
	service                        int64
}

// incident generates one incident logged at t.
func (g *imGen) incident(t int64) error {
	w, r := g.w, g.w.R
	id := w.nextID("records")
	g.counter++
	number := record.FormatNumber(g.prefix, g.counter)
	if g.firstAt == 0 {
		g.firstAt = t
	}
	class := g.pickPrio.Sample(r)
	security := g.securityOK && r.Float64() < imSecurityShare
	var parent *imMajor
	major := false
	if !security && class == 0 {
		if r.Float64() < imChildShare {
			// A further report: of an open major incident, or a high-priority incident of its own.
			parent = g.openMajor(t)
		} else {
			major = true
		}
	}
	impact, urgency := g.cell(class, major || security)
	prio := g.matrix[impact-1][urgency-1]
	row := imRow{impact: impact, urgency: urgency, path: incident.PathNormal, state: imNew, version: 1, updated: t,
		manager: -1, resolvedBy: -1, closedBy: -1, assignee: -1}
	switch {
	case security:
		row.path = incident.PathSecurity
	case major:
		row.path = incident.PathMajor
	}

	// What is affected: a further report of a major incident names its service, CI and categorisation.
	var c *imCat
	var sub *imSub
	var ci, svc *imCI
	switch {
	case parent != nil:
		c, sub, ci, svc = parent.cat, parent.sub, parent.ci, parent.svc
	case security:
		c = g.sec[g.pickSec.Sample(r)]
	default:
		c = g.cats[g.pickCat.Sample(r)]
		if r.Float64() < 0.96 {
			sub = &c.subs[c.pickSub.Sample(r)]
		}
	}
	if parent == nil {
		pool := c.pool
		if sub != nil {
			pool = sub.pool
		}
		if pool != poolNone && r.Float64() < 0.8 {
			ci = g.pickCI(pool, t)
		}
		if len(g.services) > 0 && r.Float64() < 0.85 {
			if s := &g.services[g.pickSvc.Sample(r)]; s.created < t {
				svc = s
			}
		}
	}
	title, desc := g.text(c, sub, ci, svc)
	if parent != nil {
		title = parent.title
	}
	row.cat = c.key
	if sub != nil {
		row.sub = sub.key
	}
	if ci != nil {
		row.ci = ci.id
	}
	if svc != nil {
		row.service = svc.id
	}
	row.loggedCat, row.loggedSub = row.cat, row.sub

	// Who.
	caller := g.caller(t)
	row.channel = g.channels[g.pickChannel.Sample(r)]
	logger := g.member(g.desk)
	if g.logsOwn[row.channel] {
		logger = caller
	}
	final := g.teams[g.pickTeam.Sample(r)]
	switch {
	case security:
		final = g.secTeams[r.IntN(len(g.secTeams))]
	case parent != nil:
		final = parent.team
	}
	cancel := !security && !major && parent == nil && r.Float64() < imCancelShare
	fcr := !cancel && !security && !major && parent == nil && g.deskChannels[row.channel] && r.Float64() < imFCRShare
	if fcr {
		final = g.desk
	}
	assignee := g.member(final)
	if fcr {
		assignee = logger
	}
	k := 0
	if !fcr && !cancel && parent == nil {
		k = Reassignments(r)
	}
	row.team = final
	if k > 0 {
		row.team = g.desk
		if final == g.desk {
			row.team = g.teams[r.IntN(len(g.teams))]
		}
	}
	if row.team == final {
		k = 0 // routed to the right group at once: the assignment hands it to a person only
	}

	// When.
	res := int64(g.resolution.Sample(r) * g.resolutionFactor[prio] * float64(imHourMs))
	res = max(res, 10*imMinute)
	if fcr {
		res = (3 + r.Int64N(23)) * imMinute
	}
	resolveAt := t + res
	if parent != nil {
		resolveAt = parent.resolveAt
	}
	assignAt := t + min(g.span(g.triage, imMinute), res/4) + 1
	if fcr {
		assignAt = t + imMinute
	}
	investigateAt := assignAt + min(g.span(g.pickup, imMinute), (resolveAt-assignAt)/2) + 1
	code, notes := g.codes[g.pickCode.Sample(r)], g.notes[r.IntN(len(g.notes))]
	effort := int64(g.effort.Sample(r))
	if fcr {
		effort = 5 + r.Int64N(16)
	}
	confirmed := r.Float64() < imConfirmShare
	closeAt := resolveAt + 5*day
	if confirmed {
		closeAt = resolveAt + min(g.span(g.confirm, imHourMs), 5*day-imMinute)
	}
	var reviewAt int64
	if major {
		reviewAt = resolveAt + day + r.Int64N(2*day)
		closeAt = max(closeAt, reviewAt+(10+r.Int64N(110))*imMinute)
	}

	// The journal and the audit history, as far as the end of the generated years.
	logged := imLogged{number: number, title: title, description: desc, caller: caller, logger: logger, team: row.team,
		priority: prio, impact: impact, urgency: urgency, manager: -1}
	g.journal(id, t, logger, fmt.Sprintf(g.logged, number))
	bump := func(at int64) {
		row.version++
		row.updated = max(row.updated, at)
	}
	do := func(at int64, author int, from, action string) bool {
		if at >= EpochMillis {
			return false
		}
		g.journal(id, at, author, g.step(from, action))
		bump(at)
		return true
	}
	var manager, resolver int = -1, assignee
	if parent != nil {
		at := t + (5+r.Int64N(25))*imMinute
		if at < EpochMillis {
			text := fmt.Sprintf("Linked: %s %s %s.", parent.number, record.ParentOf, number)
			g.emit(imEv{at: at, rec: id, kind: evLink, author: int32(parent.manager), from: parent.id, to: id, number: parent.number, x: number})
			g.journal(parent.id, at, parent.manager, text)
			g.journal(id, at, parent.manager, text)
		}
		resolver = parent.resolver
		code, notes, effort = parent.code, fmt.Sprintf("Resolved with major incident %s: %s", parent.number, parent.notes), 0
	}
	if major {
		manager = g.h.managers[r.IntN(len(g.h.managers))]
		row.manager, row.declaredAt = manager, t
		row.reason = fmt.Sprintf("priority P%d reached the major-incident threshold", prio)
		logged.manager, logged.reason = manager, row.reason
	}
	var err error
	switch {
	case cancel:
		at, agent := t+(2+r.Int64N(238))*imMinute, g.member(g.desk)
		if do(at, agent, imNew, "cancel") {
			row.state, row.closedAt, row.closedBy = imCancelled, at, agent
			err = g.transition(id, number, at, agent, imNew, "cancel", "",
				[]audit.Change{{Field: "closedBy", Old: int64(0), New: g.userRef(agent)}})
		}
	case parent != nil:
		if do(resolveAt, resolver, imNew, "resolve") {
			row.state = imResolved
			err = g.transition(id, number, resolveAt, resolver, imNew, "resolve",
				fmt.Sprintf("follow-up of %s on %s (%s)", "Resolve", parent.number, g.hist.activity["resolve"]),
				g.resolved(code, notes, effort, false, resolver))
		}
	default:
		if assignAt < EpochMillis {
			g.journal(id, assignAt, assignee, "Assigned to "+w.teams[final].name+" / "+w.users[assignee].username+".")
			bump(assignAt)
			err = g.assigned(id, number, assignAt, assignee, row.team, final, assignee, int64(k))
			row.team, row.assignee, row.reassignments = final, assignee, int64(k)
		}
		if !major && !security && !fcr && err == nil {
			// Logged at a neighbouring priority, reprioritised once someone looked at it.
			i0, u0, p0, at := g.reprioritise(impact, urgency, prio, assignAt, min(resolveAt, EpochMillis))
			if at != 0 {
				logged.priority, logged.impact, logged.urgency = p0, i0, u0
				var text string
				text, err = g.reprioritised(id, number, at, assignee, p0, prio, i0, impact, u0, urgency)
				g.journal(id, at, assignee, text)
				bump(at)
			}
		}
		from := imNew
		if !fcr && err == nil && do(investigateAt, assignee, imNew, "investigate") {
			row.state, from = imInProgress, imInProgress
			err = g.transition(id, number, investigateAt, assignee, imNew, "investigate", "", nil)
		}
		if from == imInProgress && resolveAt < EpochMillis && err == nil {
			// Waited for the caller, a supplier or a change on the way, and resumed.
			if holdAt, resumeAt, reason := g.pause(investigateAt, resolveAt); holdAt != 0 {
				g.journal(id, holdAt, assignee, g.step(imInProgress, "hold"))
				g.journal(id, resumeAt, assignee, g.step(imOnHold, "resume"))
				bump(holdAt)
				bump(resumeAt)
				if err = g.transition(id, number, holdAt, assignee, imInProgress, "hold", "",
					[]audit.Change{{Field: "holdReason", Old: "", New: reason}}); err == nil {
					err = g.transition(id, number, resumeAt, assignee, imOnHold, "resume", "",
						[]audit.Change{{Field: "holdReason", Old: reason, New: ""}})
				}
			}
		}
		if do(resolveAt, assignee, from, "resolve") {
			row.state = imResolved
			if err == nil {
				err = g.transition(id, number, resolveAt, assignee, from, "resolve", "", g.resolved(code, notes, effort, fcr, assignee))
			}
		} else if row.state == imInProgress && r.Float64() < imHoldShare {
			at := investigateAt + 1 + r.Int64N(max(1, EpochMillis-investigateAt-2))
			if do(at, assignee, imInProgress, "hold") {
				row.state, row.heldAt = imOnHold, at
				row.holdReason = incident.HoldReasons[g.pickHold.Sample(r)]
				if err == nil {
					err = g.transition(id, number, at, assignee, imInProgress, "hold", "",
						[]audit.Change{{Field: "holdReason", Old: "", New: row.holdReason}})
				}
			}
		}
	}
	if err != nil {
		return err
	}
	if row.state == imResolved {
		row.resolvedAt, row.resolvedBy, row.code, row.notes, row.effort, row.firstContact = resolveAt, resolver, code, notes, effort, fcr
		closer, action := -1, "close"
		if confirmed {
			closer, action = caller, "confirm"
		}
		if major && reviewAt >= EpochMillis {
			closeAt = EpochMillis // waits for its review
		}
		if do(closeAt, closer, imResolved, action) {
			row.state, row.closedAt, row.closedBy, row.reviewed = imClosed, closeAt, closer, true
			if r.Float64() < imRecatShare && !security && parent == nil {
				// Logged under another category; the review at closure corrected it.
				lc := g.cats[g.pickCat.Sample(r)]
				row.loggedCat, row.loggedSub = lc.key, ""
				if len(lc.subs) > 0 {
					row.loggedSub = lc.subs[lc.pickSub.Sample(r)].key
				}
				row.changed = row.loggedCat != row.cat || row.loggedSub != row.sub
			}
			decision := ""
			if closer < 0 {
				decision = imAutoCloseReason
			}
			if err := g.transition(id, number, closeAt, closer, imResolved, action, decision, g.closedFields(&row, closer)); err != nil {
				return err
			}
		}
	}
	logged.category, logged.subcategory = row.loggedCat, row.loggedSub
	if err := g.logCreate(id, t, logged, &row); err != nil {
		return err
	}
	if err := g.write(id, number, title, desc, caller, t, prio, &row); err != nil {
		return err
	}
	if !major {
		return nil
	}
	g.majors = append(g.majors, &imMajor{id: id, number: number, title: title, created: t, resolveAt: resolveAt,
		resolver: resolver, manager: manager, team: final, cat: c, sub: sub, ci: ci, svc: svc, code: code, notes: notes})
	return g.major(id, t, resolveAt, reviewAt, manager, row.state, title)
}

// major queues a major incident's stakeholder updates and communications and writes its review.
func (g *imGen) major(id, t, resolveAt, reviewAt int64, manager int, state, title string) error {
	r := g.w.R
	end := min(resolveAt, EpochMillis-1)
	n := 2 + r.IntN(3)
	for k := range n {
		at := t + int64(k)*(end-t)/int64(n) + (5+r.Int64N(10))*imMinute
		msg := g.ups[min(k, len(g.ups)-2)]
		if k == n-1 && resolveAt+10*imMinute < EpochMillis {
			at, msg = resolveAt+10*imMinute, g.ups[len(g.ups)-1]
		}
		if at >= EpochMillis {
			continue
		}
		g.emit(imEv{at: at, rec: id, kind: evUpdate, author: int32(manager), x: g.audiences[g.pickAudience.Sample(r)], body: msg})
	}
	for k := range 1 + r.IntN(2) {
		at := t + (20+int64(k)*60+r.Int64N(40))*imMinute
		if at >= EpochMillis {
			continue
		}
		g.emit(imEv{at: at, rec: id, kind: evComm, author: int32(manager), x: g.commChannels[g.pickCommsCh.Sample(r)],
			y: g.partyNames[r.IntN(len(g.partyNames))], body: "Briefed on the impact of " + strings.ToLower(title[:1]) + title[1:] +
				" and the expected restoration."})
	}
	if state != imResolved && state != imClosed || reviewAt >= EpochMillis {
		return nil
	}
	w := g.w
	return w.add("incident_major_reviews", id, "Outage: "+title+".", "A configuration change on the affected CI exhausted its capacity.",
		"Monitoring thresholds were too high to warn before users noticed.", "Lower the thresholds; add the check to the change template.",
		w.users[manager].id, reviewAt)
}

// userID is a user index's id, or NULL for none (-1).
func (g *imGen) userID(ui int) any {
	if ui < 0 {
		return nil
	}
	return g.w.users[ui].id
}

// write writes an incident's record row, its full-text entry and its own row.
func (g *imGen) write(id int64, number, title, desc string, caller int, t int64, prio int, row *imRow) error {
	w := g.w
	closed := row.state == imClosed || row.state == imCancelled
	if err := w.add("records", id, incident.Type, number, incident.Process, title, desc, row.state, closed, int64(prio),
		w.teams[row.team].id, g.userID(row.assignee), w.users[caller].id, db.NullID(row.service), record.DefaultMarking,
		row.reassignments, t, row.updated, row.version); err != nil {
		return err
	}
	if err := w.add("record_fts", id, number, title, desc); err != nil {
		return err
	}
	var declaredAt int64
	if row.manager >= 0 {
		declaredAt = row.declaredAt
	}
	return w.add("incidents", id, db.NullID(row.ci), row.cat, row.sub, row.loggedCat, row.loggedSub, row.channel, int64(row.impact),
		int64(row.urgency), row.path, g.userID(row.manager), declaredAt, row.reason, row.holdReason, row.heldAt, row.resolvedAt,
		g.userID(row.resolvedBy), row.code, row.notes, row.effort, row.firstContact, row.closedAt, g.userID(row.closedBy),
		row.reviewed, row.changed)
}

// finish advances the incident number counter and PostgreSQL's sequences.
func (g *imGen) finish(ctx context.Context) error {
	w := g.w
	if err := w.out.flush(); err != nil {
		return err
	}
	tx := w.out.tx
	if g.firstAt != 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO record_types (name, prefix, last_number, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET last_number = excluded.last_number`, incident.Type, g.prefix, g.counter, g.firstAt); err != nil {
			return fmt.Errorf("advance the incident number counter: %w", err)
		}
	}
	if tx.Engine() != db.Postgres {
		return nil
	}
	for _, t := range []string{"incident_categories", "incident_major_updates", "incident_major_comms", "record_links"} {
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), GREATEST((SELECT MAX(id) FROM `+t+`), 1))`); err != nil {
			return fmt.Errorf("advance the id sequence of %s: %w", t, err)
		}
	}
	return nil
}
