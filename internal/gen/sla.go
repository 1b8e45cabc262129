package gen

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// The SLA generator writes service level management (DESMF SLM,
// internal/design/servicelevel) and the outages of availability management
// (AvM, internal/design/availability) on top of the CMDB and the incident log,
// as the services would have written them before the generated years began:
//
//   - Calendars: besides the seeded 24x7 (id 1) and business (id 2, whose
//     holidays are those of 2026 and 2027), the calendars the generated years
//     need: US business hours and extended support hours (Monday to Saturday
//     07:00–19:00) in New York time less the US federal holidays of 2024 and
//     2025, and European business hours (Brussels) for a supplier.
//   - SLAs: one per critical service (mission critical or mission essential),
//     and per service among the ten with the most incidents, with its mission
//     partners as customer: a response and a resolution target for each
//     priority P1–P5 on incidents (the default clock rules: response stops
//     when the incident leaves new or is assigned; resolution pauses on hold
//     for the caller, a supplier or a change and stops when resolved), on
//     24×7 for mission-critical services, extended hours for mission-essential
//     ones and business hours for the rest, with warnings at 50 and 75 % and
//     notifications, and an availability target (99.9, 99.5 or 99 %); a
//     penalty when P1 resolutions breach more than twice in a period and a
//     service credit when resolution achievement falls below 90 %.
//   - OLAs: one per resolver team that resolves most incidents of one or more
//     SLA services, covering those services and underpinning their SLAs: a
//     resolution target per priority whose clock runs only while the team
//     holds the incident (a rule starting on teamId), about half the SLA's.
//   - UCs: an underpinning contract with a network carrier and one with a
//     hardware maintainer, on the incidents of their categories on SLA
//     services, whose clock runs while the incident waits for the supplier;
//     with a penalty per breach over two.
//   - Every agreement goes draft → negotiated (SLM2 for an SLA, SLM4 for an
//     OLA or UC) → agreed (SLM5), by service level managers, in the kernel's
//     words, months before the generated years, so every generated incident
//     falls under them.
//   - Outages: a monthly maintenance window (planned) on each SLA service and
//     a quarterly one on the others, early on a Sunday; unplanned outages by
//     hand (a Poisson number per service, log-normal durations: median 40
//     minutes); and one per major incident with a service (source incident,
//     its number as reference, from logging to resolution), as the
//     availability sync would have mirrored it.

// slaCalendar is a calendar the generator adds.
type slaCalendar struct {
	name, description, zone string
	windows                 []slaWindow
	holidays                [][2]string
}

// slaWindow is a weekly working window, as internal/platform/calendar stores it.
type slaWindow struct {
	Day         string `json:"day"`
	Start       string `json:"start"`
	End         string `json:"end"`
	EndsNextDay bool   `json:"endsNextDay"`
}

// slaHoliday is a holiday, as internal/platform/calendar stores it.
type slaHoliday struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// usFederal20242025 are the US federal holidays of the generated years.
var usFederal20242025 = [][2]string{
	{"2024-01-01", "New Year's Day"}, {"2024-01-15", "Birthday of Martin Luther King, Jr."}, {"2024-02-19", "Washington's Birthday"},
	{"2024-05-27", "Memorial Day"}, {"2024-06-19", "Juneteenth National Independence Day"}, {"2024-07-04", "Independence Day"},
	{"2024-09-02", "Labor Day"}, {"2024-10-14", "Columbus Day"}, {"2024-11-11", "Veterans Day"}, {"2024-11-28", "Thanksgiving Day"},
	{"2024-12-25", "Christmas Day"},
	{"2025-01-01", "New Year's Day"}, {"2025-01-20", "Birthday of Martin Luther King, Jr."}, {"2025-02-17", "Washington's Birthday"},
	{"2025-05-26", "Memorial Day"}, {"2025-06-19", "Juneteenth National Independence Day"}, {"2025-07-04", "Independence Day"},
	{"2025-09-01", "Labor Day"}, {"2025-10-13", "Columbus Day"}, {"2025-11-11", "Veterans Day"}, {"2025-11-27", "Thanksgiving Day"},
	{"2025-12-25", "Christmas Day"},
}

// belgian20242025 are the public holidays in Belgium of the generated years.
var belgian20242025 = [][2]string{
	{"2024-01-01", "New Year's Day"}, {"2024-04-01", "Easter Monday"}, {"2024-05-01", "Labour Day"}, {"2024-05-09", "Ascension Day"},
	{"2024-05-20", "Whit Monday"}, {"2024-07-21", "National Day"}, {"2024-08-15", "Assumption"}, {"2024-11-01", "All Saints' Day"},
	{"2024-11-11", "Armistice Day"}, {"2024-12-25", "Christmas Day"},
	{"2025-01-01", "New Year's Day"}, {"2025-04-21", "Easter Monday"}, {"2025-05-01", "Labour Day"}, {"2025-05-29", "Ascension Day"},
	{"2025-06-09", "Whit Monday"}, {"2025-07-21", "National Day"}, {"2025-08-15", "Assumption"}, {"2025-11-01", "All Saints' Day"},
	{"2025-11-11", "Armistice Day"}, {"2025-12-25", "Christmas Day"},
}

// slaCalendars are the calendars the generator adds, in id order.
func slaCalendars() []slaCalendar {
	days := func(names []string, start, end string) []slaWindow {
		out := make([]slaWindow, len(names))
		for i, d := range names {
			out[i] = slaWindow{Day: d, Start: start, End: end}
		}
		return out
	}
	weekdays := []string{"mon", "tue", "wed", "thu", "fri"}
	return []slaCalendar{
		{name: "us-business-2024-2025", zone: "America/New_York", windows: days(weekdays, "08:00", "17:00"), holidays: usFederal20242025,
			description: "Business hours: Monday to Friday, 08:00 to 17:00 New York time, less the US federal holidays of 2024 and 2025."},
		{name: "us-extended-2024-2025", zone: "America/New_York", windows: days(append(weekdays, "sat"), "07:00", "19:00"),
			holidays:    usFederal20242025,
			description: "Extended support hours: Monday to Saturday, 07:00 to 19:00 New York time, less the US federal holidays of 2024 and 2025."},
		{name: "eu-business-2024-2025", zone: "Europe/Brussels", windows: days(weekdays, "08:30", "17:30"), holidays: belgian20242025,
			description: "A European supplier's business hours: Monday to Friday, 08:30 to 17:30 Brussels time, less the Belgian public holidays of 2024 and 2025."},
	}
}

// slaTier is the service level an SLA's criticality buys.
type slaTier struct {
	calendar     int // index: 0 = 24x7, then slaCalendars' order (1 = US business, 2 = US extended)
	response     [6]time.Duration
	resolution   [6]time.Duration
	availability float64
}

// slaTiers are the tiers by criticality; services the desk sees most get business hours.
var slaTiers = map[string]slaTier{
	"mission_critical": {calendar: 0, availability: 99.9,
		response:   [6]time.Duration{0, 15 * time.Minute, 30 * time.Minute, time.Hour, 4 * time.Hour, 8 * time.Hour},
		resolution: [6]time.Duration{0, 4 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour, 14 * 24 * time.Hour, 21 * 24 * time.Hour}},
	"mission_essential": {calendar: 2, availability: 99.5,
		response:   [6]time.Duration{0, 30 * time.Minute, time.Hour, 2 * time.Hour, 6 * time.Hour, 12 * time.Hour},
		resolution: [6]time.Duration{0, 6 * time.Hour, 24 * time.Hour, 60 * time.Hour, 120 * time.Hour, 180 * time.Hour}},
	"": {calendar: 1, availability: 99.0,
		response:   [6]time.Duration{0, 30 * time.Minute, time.Hour, 4 * time.Hour, 8 * time.Hour, 16 * time.Hour},
		resolution: [6]time.Duration{0, 8 * time.Hour, 18 * time.Hour, 45 * time.Hour, 90 * time.Hour, 180 * time.Hour}},
}

// slaService is a CMDB service with what its agreements need.
type slaService struct {
	id, created int64
	name        string
	criticality string
	partners    []string
	incidents   int64
	// resolver is the team (index) that holds most of its incidents, -1 for none.
	resolver int
	sla      *rec
}

// slaAgreement is an agreement being generated with its own rows.
type slaAgreement struct {
	r          *rec
	kind       string
	customer   string
	supplier   string
	calendar   int64
	starts     int64
	review     int
	notes      string
	services   []*slaService
	targets    []slaTargetRow
	terms      []slaTermRow
	underpinOf []*slaAgreement
}

// slaTargetRow is a target of an agreement.
type slaTargetRow struct {
	id                int64
	name, kind        string
	priority          int
	duration          time.Duration
	percent           float64
	recordTypes, cats []string
	rule              *sla.Rule
	warnings          []int
	escalations       []sla.Escalation
}

// slaTermRow is a term of an agreement; target is an index into its targets, or -1.
type slaTermRow struct {
	target              int
	kind, trigger       string
	threshold, amount   float64
	currency, describes string
}

// slaGen generates the service levels of one run.
type slaGen struct {
	w         *World
	k         *kernel
	calendars []int64 // 24x7, then slaCalendars' ids
	services  []*slaService
	managers  []int
	ags       []*slaAgreement
	cats      map[string]bool
}

// genSLA writes the calendars, agreements and outages (see the comment at the top of this file).
func genSLA(ctx context.Context, w *World) error {
	h := w.holders[servicelevel.Process]
	if h == nil || len(w.teams) == 0 {
		return nil // no service level management in the model, or nobody to agree with
	}
	g := &slaGen{w: w, managers: append(append([]int{}, h.managers...), h.owner), cats: map[string]bool{}}
	if err := g.read(ctx); err != nil {
		return err
	}
	if len(g.services) == 0 {
		return nil // no CMDB: nothing to agree on
	}
	if err := g.writeCalendars(); err != nil {
		return err
	}
	k, err := g.kernel()
	if err != nil {
		return err
	}
	g.k = k
	if err := g.agreements(); err != nil {
		return err
	}
	if err := g.k.write(ctx); err != nil {
		return err
	}
	if err := g.writeAgreementRows(); err != nil {
		return err
	}
	if err := g.outages(ctx); err != nil {
		return err
	}
	return g.finish(ctx)
}

// kernel reads the agreement type by registering service level management with a record kernel, as the application does.
func (g *slaGen) kernel() (*kernel, error) {
	w := g.w
	c := clock.System{}
	rs := record.New(record.Deps{DB: w.out.tx.DB(), Model: w.Model})
	if _, err := servicelevel.New(servicelevel.Deps{DB: w.out.tx.DB(), Records: rs, Trail: audit.NewTrail(c), Events: outbox.New(c, nil)}); err != nil {
		return nil, err
	}
	t, err := rs.Type(servicelevel.AgreementType)
	if err != nil {
		return nil, err
	}
	return &kernel{w: w, types: map[string]record.Type{servicelevel.AgreementType: t}}, nil
}

// read reads the services with their partners, incident counts and main
// resolver team, the categories in use, the calendars and where ids continue.
func (g *slaGen) read(ctx context.Context) error {
	w := g.w
	tx := w.out.tx
	for _, t := range []string{"calendars", "agreement_targets", "agreement_terms", "outages"} {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM `+t).Scan(&n); err != nil {
			return fmt.Errorf("read the last id of %s: %w", t, err)
		}
		w.ids[t] = n
	}
	var allDay int64
	if err := tx.QueryRowContext(ctx, `SELECT id FROM calendars WHERE name = '24x7'`).Scan(&allDay); err != nil {
		return fmt.Errorf("read the 24x7 calendar: %w", err)
	}
	g.calendars = []int64{allDay}
	rows, err := tx.QueryContext(ctx, `SELECT c.id, c.name, c.created_at, s.criticality FROM ci_services s JOIN cis c ON c.id = s.ci_id
		WHERE c.status <> 'disposed' ORDER BY c.id`)
	if err != nil {
		return fmt.Errorf("read the services: %w", err)
	}
	byID := map[int64]*slaService{}
	for rows.Next() {
		s := &slaService{resolver: -1}
		if err := rows.Scan(&s.id, &s.name, &s.created, &s.criticality); err != nil {
			rows.Close()
			return err
		}
		g.services = append(g.services, s)
		byID[s.id] = s
	}
	if err := rows.Close(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT sp.service_id, p.name FROM ci_service_partners sp JOIN mission_partners p ON p.id = sp.partner_id
		ORDER BY sp.service_id, p.id`)
	if err != nil {
		return fmt.Errorf("read the services' partners: %w", err)
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return err
		}
		if s := byID[id]; s != nil {
			s.partners = append(s.partners, name)
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	teamIndex := map[int64]int{}
	for i, t := range w.teams {
		teamIndex[t.id] = i
	}
	rows, err = tx.QueryContext(ctx, `SELECT service_id, team_id, COUNT(*) FROM records WHERE type = 'incident'
		AND service_id IS NOT NULL AND team_id IS NOT NULL GROUP BY service_id, team_id ORDER BY service_id, team_id`)
	if err != nil {
		return fmt.Errorf("read the services' resolver teams: %w", err)
	}
	best := map[int64]int64{}
	for rows.Next() {
		var sid, tid, n int64
		if err := rows.Scan(&sid, &tid, &n); err != nil {
			rows.Close()
			return err
		}
		s := byID[sid]
		ti, ok := teamIndex[tid]
		if s == nil || !ok {
			continue
		}
		s.incidents += n
		if n > best[sid] {
			best[sid], s.resolver = n, ti
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	rows, err = tx.QueryContext(ctx, `SELECT cat_key FROM incident_categories WHERE parent_key = '' AND active ORDER BY cat_key`)
	if err != nil {
		return fmt.Errorf("read the incident categories: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		if err := rows.Scan(&key); err != nil {
			return err
		}
		g.cats[key] = true
	}
	return rows.Err()
}

// start is when the agreements were drafted: four months before the generated years.
func (g *slaGen) start() int64 { return EpochMillis - window - 120*day }

// writeCalendars adds the calendars of the generated years.
func (g *slaGen) writeCalendars() error {
	w := g.w
	at := g.start() - 14*day
	for _, c := range slaCalendars() {
		hs := make([]slaHoliday, len(c.holidays))
		for i, h := range c.holidays {
			hs[i] = slaHoliday{Date: h[0], Name: h[1]}
		}
		ws, err := json.Marshal(c.windows)
		if err != nil {
			return err
		}
		hj, err := json.Marshal(hs)
		if err != nil {
			return err
		}
		id := w.nextID("calendars")
		if err := w.add("calendars", id, c.name, c.description, c.zone, string(ws), string(hj), at, at, int64(1)); err != nil {
			return err
		}
		g.calendars = append(g.calendars, id)
	}
	return nil
}

// manager draws a service level manager.
func (g *slaGen) manager() int { return g.managers[g.w.R.IntN(len(g.managers))] }

// agreements drafts, negotiates and agrees the SLAs, OLAs and UCs.
func (g *slaGen) agreements() error {
	w, r := g.w, g.w.R
	// The services with an SLA: the critical ones and the ten the desk sees most.
	busiest := slices.Clone(g.services)
	slices.SortStableFunc(busiest, func(a, b *slaService) int { return cmp.Compare(b.incidents, a.incidents) })
	covered := map[int64]bool{}
	for i, s := range busiest {
		if i < 10 && s.incidents > 0 || s.criticality == "mission_critical" || s.criticality == "mission_essential" {
			covered[s.id] = true
		}
	}
	at := g.start()
	var slas []*slaAgreement
	for _, s := range g.services {
		if !covered[s.id] {
			continue
		}
		tier, ok := slaTiers[s.criticality]
		if !ok {
			tier = slaTiers[""]
		}
		customer := "All mission partners"
		if len(s.partners) > 0 {
			customer = strings.Join(s.partners, ", ")
		}
		title := "SLA: " + s.name
		desc := fmt.Sprintf("Service level agreement for %s with %s: incident response and resolution per priority on the %s calendar, "+
			"and %.1f %% availability.", s.name, customer, slaCalendarName(tier.calendar), tier.availability)
		a := &slaAgreement{kind: "SLA", customer: customer, supplier: "IT service provider", calendar: g.calendars[tier.calendar],
			starts: EpochMillis - window, review: 12, services: []*slaService{s},
			notes: "Measured on incidents of the service; priorities from impact × urgency."}
		a.r = g.k.create(servicelevel.AgreementType, servicelevel.Process, title, desc, "", g.manager(), at+r.Int64N(20*day))
		for p := 1; p <= 5; p++ {
			a.targets = append(a.targets, slaTargetRow{name: fmt.Sprintf("P%d response", p), kind: "response", priority: p,
				duration: tier.response[p], recordTypes: []string{"incident"}, warnings: []int{50, 75}, escalations: slaEscalations(p)})
		}
		for p := 1; p <= 5; p++ {
			a.targets = append(a.targets, slaTargetRow{name: fmt.Sprintf("P%d resolution", p), kind: "resolution", priority: p,
				duration: tier.resolution[p], percent: 90, recordTypes: []string{"incident"}, warnings: []int{50, 75}, escalations: slaEscalations(p)})
		}
		a.targets = append(a.targets, slaTargetRow{name: "Availability", kind: "availability", percent: tier.availability})
		a.terms = []slaTermRow{
			{target: 5, kind: "penalty", trigger: "breaches_over", threshold: 2, amount: 2500, currency: "USD",
				describes: "Service penalty for each reviewed period with more than two P1 resolution breaches."},
			{target: -1, kind: "credit", trigger: "achievement_below", threshold: 90, amount: 5, currency: "%",
				describes: "A 5 % service credit on the period's charge when resolution achievement falls below 90 %."},
		}
		s.sla = a.r
		slas = append(slas, a)
	}
	// OLAs: per team that resolves most incidents of SLA services, covering them.
	byTeam := map[int][]*slaAgreement{}
	var teams []int
	for _, a := range slas {
		s := a.services[0]
		if s.resolver < 0 {
			continue
		}
		if _, ok := byTeam[s.resolver]; !ok {
			teams = append(teams, s.resolver)
		}
		byTeam[s.resolver] = append(byTeam[s.resolver], a)
	}
	var olas []*slaAgreement
	for _, ti := range teams {
		t := w.teams[ti]
		a := &slaAgreement{kind: "OLA", customer: "Service level management", supplier: t.name, calendar: g.calendars[1],
			starts: EpochMillis - window, review: 6, underpinOf: byTeam[ti],
			notes: "Measures the team's own share: the clock runs while the team holds the incident."}
		var names []string
		for _, sa := range byTeam[ti] {
			a.services = append(a.services, sa.services[0])
			names = append(names, sa.services[0].name)
		}
		a.r = g.k.create(servicelevel.AgreementType, servicelevel.Process, "OLA: "+t.name,
			fmt.Sprintf("Operational level agreement with %s for the incidents of %s it resolves.", t.name, strings.Join(names, ", ")),
			"", g.manager(), at+r.Int64N(30*day))
		rule := sla.DefaultRule(sla.KindResolution, "incident")
		rule.Start = sla.Condition{Fields: map[string][]string{sla.FieldTeam: {fmt.Sprint(t.id)}}}
		ola := slaTiers[""].resolution
		for p := 1; p <= 5; p++ {
			rr := rule
			a.targets = append(a.targets, slaTargetRow{name: fmt.Sprintf("P%d resolution by the team", p), kind: "resolution", priority: p,
				duration: ola[p] / 2, recordTypes: []string{"incident"}, rule: &rr, warnings: []int{75},
				escalations: []sla.Escalation{{Threshold: 100, Action: "notify", Audience: []string{"team"}}}})
		}
		olas = append(olas, a)
	}
	// UCs: suppliers on the incidents of their categories that wait for them.
	var ucs []*slaAgreement
	for _, uc := range []struct{ supplier, category, what string }{
		{"Northwind Carrier Services", "network", "wide-area network circuits and carrier equipment"},
		{"Contoso Hardware Maintenance", "hardware", "server and storage hardware under maintenance"},
	} {
		if !g.cats[uc.category] || len(slas) == 0 {
			continue
		}
		a := &slaAgreement{kind: "UC", customer: "IT service provider", supplier: uc.supplier, calendar: g.calendars[3],
			starts: EpochMillis - window, review: 12, underpinOf: slas,
			notes: "The clock runs while an incident waits for the supplier (on hold, awaiting supplier)."}
		for _, sa := range slas {
			a.services = append(a.services, sa.services[0])
		}
		a.r = g.k.create(servicelevel.AgreementType, servicelevel.Process, "UC: "+uc.supplier,
			fmt.Sprintf("Underpinning contract with %s for %s.", uc.supplier, uc.what), "", g.manager(), at+r.Int64N(30*day))
		rule := sla.Rule{
			Start:  sla.Condition{States: []string{"on_hold"}, Fields: map[string][]string{sla.FieldHoldReason: {"awaiting_supplier"}}},
			Stop:   sla.Condition{States: []string{"in_progress", "resolved", "closed"}},
			Cancel: sla.Condition{States: []string{"cancelled", "reclassified"}},
		}
		a.targets = []slaTargetRow{{name: "Supplier fix", kind: "resolution", duration: 16 * time.Hour, percent: 95,
			recordTypes: []string{"incident"}, cats: []string{uc.category}, rule: &rule, warnings: []int{75},
			escalations: []sla.Escalation{{Threshold: 75, Action: "notify", Audience: []string{"assignee"}}}}}
		a.terms = []slaTermRow{{target: 0, kind: "penalty", trigger: "breaches_over", threshold: 2, amount: 1000, currency: "USD",
			describes: "The supplier pays for each reviewed period with more than two breached fixes."}}
		ucs = append(ucs, a)
	}
	g.ags = slices.Concat(slas, olas, ucs)
	// Negotiated within weeks, agreed before the generated years.
	for _, a := range g.ags {
		act := "negotiate"
		if a.kind != "SLA" {
			act = "negotiate_underpinning"
		}
		neg := a.r.created + (3+r.Int64N(20))*day
		if err := g.k.step(a.r, act, g.manager(), neg); err != nil {
			return err
		}
		if err := g.k.step(a.r, "agree", g.manager(), neg+(2+r.Int64N(30))*day); err != nil {
			return err
		}
		a.r.own = g.ownRow(a)
	}
	return nil
}

// slaCalendarName names a tier's calendar for descriptions.
func slaCalendarName(i int) string {
	return [...]string{"24×7", "US business hours", "US extended support hours"}[i]
}

// slaEscalations are an SLA target's escalations: the assignee and team are
// told at 75 %, and for P1 and P2 the service owner too at the breach.
func slaEscalations(p int) []sla.Escalation {
	out := []sla.Escalation{{Threshold: 75, Action: "notify", Audience: []string{"assignee", "team"}}}
	if p <= 2 {
		out = append(out, sla.Escalation{Threshold: 100, Action: "notify", Audience: []string{"team", "service_owner"}})
	}
	return out
}

// ownRow writes an agreement's own row once its record has an id.
func (g *slaGen) ownRow(a *slaAgreement) func(r *rec) error {
	return func(r *rec) error {
		return g.w.add("agreements", r.id, a.kind, a.customer, a.supplier, a.calendar, a.starts, int64(0), int64(a.review), a.notes)
	}
}

// jsonList encodes a list as the service level tables keep it ("[]" for none).
func jsonList[T any](v []T) (string, error) {
	if len(v) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}

// writeAgreementRows writes the agreements' services, underpins, targets and terms.
func (g *slaGen) writeAgreementRows() error {
	w := g.w
	for _, a := range g.ags {
		for _, s := range a.services {
			if err := w.add("agreement_services", a.r.id, s.id); err != nil {
				return err
			}
		}
		for _, s := range a.underpinOf {
			if err := w.add("agreement_underpins", s.r.id, a.r.id); err != nil {
				return err
			}
		}
		for i := range a.targets {
			t := &a.targets[i]
			t.id = w.nextID("agreement_targets")
			types, err := jsonList(t.recordTypes)
			if err != nil {
				return err
			}
			cats, err := jsonList(t.cats)
			if err != nil {
				return err
			}
			warnings, err := jsonList(t.warnings)
			if err != nil {
				return err
			}
			escalations, err := jsonList(t.escalations)
			if err != nil {
				return err
			}
			rule := ""
			if t.rule != nil {
				b, err := json.Marshal(t.rule)
				if err != nil {
					return err
				}
				rule = string(b)
			}
			var prio any
			if t.priority > 0 {
				prio = int64(t.priority)
			}
			if err := w.add("agreement_targets", t.id, a.r.id, t.name, t.kind, prio, t.duration.Milliseconds(), t.percent, types, cats,
				"[]", rule, warnings, escalations, int64(i)); err != nil {
				return err
			}
		}
		for i, term := range a.terms {
			var target any
			if term.target >= 0 {
				target = a.targets[term.target].id
			}
			if err := w.add("agreement_terms", w.nextID("agreement_terms"), a.r.id, target, term.kind, term.trigger, term.threshold,
				term.amount, term.currency, term.describes, int64(i)); err != nil {
				return err
			}
		}
	}
	return nil
}

// slaOutage is an outage to write.
type slaOutage struct {
	service, ci       int64
	kind, source, ref string
	started, ended    int64
	description       string
	by                int
	created, updated  int64
}

// slaOutageTexts describe unplanned outages recorded by hand.
var slaOutageTexts = []string{
	"%s unreachable: a core switch rebooted after a power dip.",
	"%s timed out: storage latency on the shared array.",
	"%s down: an expired certificate on the front end.",
	"%s degraded then down: the database failed over and did not come back cleanly.",
	"%s unavailable: the upstream carrier lost a circuit.",
	"%s stopped answering: the application pool exhausted its memory.",
}

// outages writes the services' planned maintenance, the unplanned outages
// recorded by hand and those mirrored from major incidents, ids in time order.
func (g *slaGen) outages(ctx context.Context) error {
	w, r := g.w, g.w.R
	by := g.managers
	if h := w.holders["AvM"]; h != nil && len(h.managers)+len(h.analysts) > 0 {
		by = append(append([]int{}, h.managers...), h.analysts...)
	}
	pick := func() int { return by[r.IntN(len(by))] }
	hasSLA := map[int64]bool{}
	for _, a := range g.ags {
		if a.kind == "SLA" {
			hasSLA[a.services[0].id] = true
		}
	}
	start := EpochMillis - window
	duration := LogNormalFromMedianP90(40, 240)
	var out []slaOutage
	for _, s := range g.services {
		// Maintenance early on a Sunday (06:00 UTC, 01:00 or 02:00 in New York), monthly or quarterly.
		every := 3
		if hasSLA[s.id] {
			every = 1
		}
		week := r.IntN(4)
		for m := 0; m < 24; m += every {
			month := time.UnixMilli(start).UTC().AddDate(0, m, 0)
			d := time.Date(month.Year(), month.Month(), 1, 6, 0, 0, 0, time.UTC)
			for d.Weekday() != time.Sunday {
				d = d.AddDate(0, 0, 1)
			}
			d = d.AddDate(0, 0, 7*week)
			from := d.UnixMilli()
			if from <= s.created || from >= EpochMillis {
				continue
			}
			span := (1 + r.Int64N(4)) * imHourMs
			out = append(out, slaOutage{service: s.id, kind: "planned", source: "manual", started: from, ended: from + span,
				description: "Maintenance window: patches and restart of " + s.name + ".", by: pick(), created: from - 7*day,
				updated: from + span})
		}
		mean := 8.0
		switch s.criticality {
		case "mission_critical":
			mean = 4
		case "mission_essential":
			mean = 6
		}
		for range Poisson(r, mean) {
			from := max(start, s.created) + r.Int64N(max(1, EpochMillis-max(start, s.created)-day))
			span := g.span(duration)
			out = append(out, slaOutage{service: s.id, kind: "unplanned", source: "manual", started: from, ended: from + span,
				description: fmt.Sprintf(slaOutageTexts[r.IntN(len(slaOutageTexts))], s.name), by: pick(),
				created: from + span + (10+r.Int64N(120))*imMinute, updated: from + span + (10+r.Int64N(120))*imMinute})
		}
	}
	rows, err := w.out.tx.QueryContext(ctx, `SELECT r.number, r.title, r.service_id, COALESCE(i.ci_id, 0), r.created_at, i.resolved_at
		FROM records r JOIN incidents i ON i.record_id = r.id WHERE r.type = 'incident' AND i.path = 'major' AND r.service_id IS NOT NULL
		ORDER BY r.id`)
	if err != nil {
		return fmt.Errorf("read the major incidents: %w", err)
	}
	for rows.Next() {
		var o slaOutage
		var title string
		if err := rows.Scan(&o.ref, &title, &o.service, &o.ci, &o.started, &o.ended); err != nil {
			rows.Close()
			return err
		}
		o.kind, o.source, o.by = "unplanned", "incident", -1
		o.description = "Major incident " + o.ref + ": " + title
		o.created, o.updated = o.started+imMinute, max(o.started+imMinute, o.ended)
		out = append(out, o)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	slices.SortStableFunc(out, func(a, b slaOutage) int { return cmp.Compare(a.started, b.started) })
	for _, o := range out {
		// A created_at never past the end of the generated years.
		o.created, o.updated = min(o.created, EpochMillis-1), min(max(o.updated, o.created), EpochMillis-1)
		var ref, author any
		if o.ref != "" {
			ref = o.ref
		}
		if o.by >= 0 {
			author = w.users[o.by].id
		}
		if err := w.add("outages", w.nextID("outages"), o.service, db.NullID(o.ci), o.kind, o.source, ref, o.started, o.ended,
			o.description, author, o.created, o.updated, int64(1)); err != nil {
			return err
		}
	}
	return nil
}

// span draws an outage's length, at least a minute.
func (g *slaGen) span(l LogNormal) int64 {
	return max(imMinute, int64(l.Sample(g.w.R)*float64(imMinute)))
}

// finish bumps the targets' generation and advances PostgreSQL's sequences.
func (g *slaGen) finish(ctx context.Context) error {
	tx := g.w.out.tx
	if err := g.w.out.flush(); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE agreement_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump the agreements' generation: %w", err)
	}
	if tx.Engine() != db.Postgres {
		return nil
	}
	for _, t := range []string{"calendars", "agreement_targets", "agreement_terms", "outages"} {
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('`+t+`', 'id'), GREATEST((SELECT MAX(id) FROM `+t+`), 1))`); err != nil {
			return fmt.Errorf("advance the id sequence of %s: %w", t, err)
		}
	}
	return nil
}
