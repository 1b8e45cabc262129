package servicelevel

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/errs"
)

// Limits on the fields of agreements, reviews and plans.
const (
	maxTitle       = 200
	maxName        = 200
	maxText        = 32000
	maxShortText   = 2000
	maxTargets     = 100
	maxTerms       = 100
	maxServices    = 200
	maxUnderpins   = 200
	maxWarnings    = 5
	maxEscalations = 20
	maxListItems   = 50
	maxDuration    = 366 * 24 * time.Hour
	maxMonths      = 36
	// DefaultReviewMonths is how often an agreement that names none is reviewed.
	DefaultReviewMonths = 12
)

// DefaultWarnings are the warning thresholds of a target that names none.
var DefaultWarnings = []int{75}

var (
	typePattern     = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	keyPattern      = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
	audiencePattern = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
)

// escalationActions are the actions a threshold may take.
var escalationActions = []string{"notify", "reassign", "raise_priority"}

// fieldErrs collects field errors.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

// text checks a text field: valid UTF-8, at most max characters, no control
// characters but line breaks and tabs.
func (f *fieldErrs) text(loc, s string, max int) {
	switch {
	case !utf8.ValidString(s):
		f.add(loc, "text must be valid UTF-8", nil)
	case utf8.RuneCountInString(s) > max:
		f.add(loc, fmt.Sprintf("at most %d characters", max), nil)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		f.add(loc, "no control characters", nil)
	}
}

// required checks a text field that may not be blank.
func (f *fieldErrs) required(loc, s string, max int) {
	if strings.TrimSpace(s) == "" {
		f.add(loc, "required", nil)
		return
	}
	f.text(loc, s, max)
}

func (f fieldErrs) err() error { return errs.WithFields(f) }

// parseDate reads a date such as 2026-01-31 as its UTC midnight in ms; "" is 0.
func parseDate(s string) (int64, bool) {
	if s == "" {
		return 0, true
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, false
	}
	return t.UnixMilli(), true
}

// formatDate writes a stored date; 0 is "".
func formatDate(v int64) string {
	if v == 0 {
		return ""
	}
	return time.UnixMilli(v).UTC().Format(time.DateOnly)
}

// validKind reports whether k is a kind of agreement.
func validKind(k Kind) bool { return slices.Contains(Kinds, k) }

// validateDetails checks an agreement's own fields, naming body.<field>.
func validateDetails(d *AgreementDetails) error {
	var f fieldErrs
	d.Customer, d.Supplier = strings.TrimSpace(d.Customer), strings.TrimSpace(d.Supplier)
	f.text("body.customer", d.Customer, maxName)
	f.text("body.supplier", d.Supplier, maxName)
	f.text("body.notes", d.Notes, maxText)
	if d.CalendarID <= 0 {
		f.add("body.calendarId", "the business calendar the agreement's clocks run on (the seeded 24x7 calendar is 1)", d.CalendarID)
	}
	if d.ReviewMonths == 0 {
		d.ReviewMonths = DefaultReviewMonths
	}
	if d.ReviewMonths < 1 || d.ReviewMonths > 120 {
		f.add("body.reviewMonths", "1 to 120 months", d.ReviewMonths)
	}
	start, okStart := parseDate(d.StartsOn)
	if !okStart {
		f.add("body.startsOn", "a date such as 2026-01-01", d.StartsOn)
	}
	end, okEnd := parseDate(d.EndsOn)
	if !okEnd {
		f.add("body.endsOn", "a date such as 2026-12-31", d.EndsOn)
	}
	if okStart && okEnd && start != 0 && end != 0 && end <= start {
		f.add("body.endsOn", "after startsOn", d.EndsOn)
	}
	return f.err()
}

// normalizeServices checks a list of service ids: positive and distinct.
func normalizeServices(loc string, ids []int64) ([]int64, error) {
	var f fieldErrs
	if len(ids) > maxServices {
		f.add(loc, fmt.Sprintf("at most %d services", maxServices), len(ids))
		return nil, f.err()
	}
	seen := map[int64]bool{}
	out := make([]int64, 0, len(ids))
	for i, id := range ids {
		switch {
		case id <= 0:
			f.add(fmt.Sprintf("%s[%d]", loc, i), "a service id", id)
		case seen[id]:
			f.add(fmt.Sprintf("%s[%d]", loc, i), "listed twice", id)
		default:
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, f.err()
}

// defaultRecordType is the record type the default rule of a kind measures.
func defaultRecordType(k TargetKind) string {
	switch k {
	case Response, Resolution:
		return IncidentType
	case Fulfilment:
		return RequestType
	}
	return ""
}

// emptyCondition reports whether c matches nothing as a stop condition.
func emptyCondition(c sla.Condition) bool {
	if len(c.States) > 0 {
		return false
	}
	for _, vs := range c.Fields {
		if len(vs) > 0 {
			return false
		}
	}
	for _, a := range c.Any {
		if !emptyCondition(a) {
			return false
		}
	}
	return true
}

// checkCondition checks the field names of a rule condition and its alternatives.
func checkCondition(f *fieldErrs, loc string, c sla.Condition) {
	for i, a := range c.Any {
		checkCondition(f, fmt.Sprintf("%s.any[%d]", loc, i), a)
	}
	for i, s := range c.States {
		if !typePattern.MatchString(s) {
			f.add(fmt.Sprintf("%s.states[%d]", loc, i), "a state name", s)
		}
	}
	for field := range c.Fields {
		if !slices.Contains(sla.TrackedFields, field) {
			f.add(loc+".fields."+field, "one of the tracked fields: "+strings.Join(sla.TrackedFields, ", "), field)
		}
	}
}

// validateTargets checks an agreement's targets, naming body.targets[i].<field>,
// and fills what a target leaves to its default (warnings; empty lists).
func validateTargets(ts []Target) error {
	var f fieldErrs
	if len(ts) > maxTargets {
		f.add("body.targets", fmt.Sprintf("at most %d targets", maxTargets), len(ts))
		return f.err()
	}
	names := map[string]int{}
	ids := map[int64]bool{}
	for i := range ts {
		t := &ts[i]
		loc := fmt.Sprintf("body.targets[%d]", i)
		t.Name = strings.TrimSpace(t.Name)
		f.required(loc+".name", t.Name, maxName)
		if j, dup := names[strings.ToLower(t.Name)]; dup && t.Name != "" {
			f.add(loc+".name", fmt.Sprintf("the name of targets[%d] too", j), t.Name)
		} else {
			names[strings.ToLower(t.Name)] = i
		}
		if t.ID < 0 || (t.ID > 0 && ids[t.ID]) {
			f.add(loc+".id", "the id of one of the agreement's targets, listed once; 0 for a new target", t.ID)
		}
		ids[t.ID] = t.ID > 0
		if !slices.Contains(TargetKinds, t.Kind) {
			f.add(loc+".kind", "one of response, resolution, fulfilment, availability, custom", t.Kind)
			continue
		}
		if t.Priority < 0 || t.Priority > 5 {
			f.add(loc+".priority", "1 (highest) to 5, or 0 for every priority", t.Priority)
		}
		if t.RecordTypes == nil {
			t.RecordTypes = []string{}
		}
		if t.Categories == nil {
			t.Categories = []string{}
		}
		if t.CustomerTeams == nil {
			t.CustomerTeams = []int64{}
		}
		if t.Escalations == nil {
			t.Escalations = []sla.Escalation{}
		}
		if !t.Kind.timed() {
			validateAvailability(&f, loc, t)
			continue
		}
		validateTimed(&f, loc, t)
	}
	return f.err()
}

// validateAvailability checks an availability target: a percentage and nothing of a clock.
func validateAvailability(f *fieldErrs, loc string, t *Target) {
	if !(t.Percent > 0 && t.Percent <= 100) || math.IsNaN(t.Percent) {
		f.add(loc+".percent", "the availability to reach: above 0, at most 100", t.Percent)
	}
	if t.DurationMs != 0 {
		f.add(loc+".durationMs", "an availability target has no duration", t.DurationMs)
	}
	if t.Priority != 0 {
		f.add(loc+".priority", "an availability target applies to the service, not to a priority", t.Priority)
	}
	for name, n := range map[string]int{"recordTypes": len(t.RecordTypes), "categories": len(t.Categories),
		"customerTeams": len(t.CustomerTeams), "escalations": len(t.Escalations), "warnings": len(t.Warnings)} {
		if n > 0 {
			f.add(loc+"."+name, "an availability target measures the service, not records", nil)
		}
	}
	if t.Rule != nil {
		f.add(loc+".rule", "an availability target has no clock rule", nil)
	}
	t.Warnings = []int{}
}

// validateTimed checks a time-based target.
func validateTimed(f *fieldErrs, loc string, t *Target) {
	if t.DurationMs <= 0 || time.Duration(t.DurationMs)*time.Millisecond > maxDuration {
		f.add(loc+".durationMs", "the business time allowed, in ms: above 0, at most 366 days", t.DurationMs)
	}
	if t.Percent < 0 || t.Percent > 100 || math.IsNaN(t.Percent) {
		f.add(loc+".percent", "the share of clocks that must meet the target: 0 (none stated) to 100", t.Percent)
	}
	if len(t.RecordTypes) > maxListItems || len(t.Categories) > maxListItems || len(t.CustomerTeams) > maxListItems {
		f.add(loc, fmt.Sprintf("at most %d record types, categories and customer teams each", maxListItems), nil)
	}
	for j, rt := range t.RecordTypes {
		if !typePattern.MatchString(rt) || slices.Index(t.RecordTypes, rt) != j {
			f.add(fmt.Sprintf("%s.recordTypes[%d]", loc, j), "a record type name, listed once", rt)
		}
	}
	for j, c := range t.Categories {
		if !keyPattern.MatchString(c) || slices.Index(t.Categories, c) != j {
			f.add(fmt.Sprintf("%s.categories[%d]", loc, j), "a category key, listed once", c)
		}
	}
	for j, team := range t.CustomerTeams {
		if team <= 0 || slices.Index(t.CustomerTeams, team) != j {
			f.add(fmt.Sprintf("%s.customerTeams[%d]", loc, j), "a team id, listed once", team)
		}
	}
	switch {
	case t.Rule == nil && t.Kind == Custom:
		f.add(loc+".rule", "a custom target needs its clock rule: when it starts, pauses, stops and resets", nil)
	case t.Rule == nil && len(t.RecordTypes) > 1:
		f.add(loc+".recordTypes", "the default rule measures one record type; give a rule to measure several", t.RecordTypes)
	case t.Rule != nil:
		if emptyCondition(t.Rule.Stop) {
			f.add(loc+".rule.stop", "a clock must stop somewhere: name the states (or field values) that stop it", nil)
		}
		checkCondition(f, loc+".rule.start", t.Rule.Start)
		checkCondition(f, loc+".rule.pause", t.Rule.Pause)
		checkCondition(f, loc+".rule.stop", t.Rule.Stop)
		checkCondition(f, loc+".rule.reset", t.Rule.Reset)
		checkCondition(f, loc+".rule.cancel", t.Rule.Cancel)
	}
	if len(t.Warnings) == 0 {
		t.Warnings = slices.Clone(DefaultWarnings)
	}
	if len(t.Warnings) > maxWarnings {
		f.add(loc+".warnings", fmt.Sprintf("at most %d thresholds", maxWarnings), len(t.Warnings))
	}
	for j, w := range t.Warnings {
		if w < 1 || w > 99 || (j > 0 && w <= t.Warnings[j-1]) {
			f.add(fmt.Sprintf("%s.warnings[%d]", loc, j), "a percentage of the duration from 1 to 99, ascending", w)
		}
	}
	if len(t.Escalations) > maxEscalations {
		f.add(loc+".escalations", fmt.Sprintf("at most %d escalations", maxEscalations), len(t.Escalations))
	}
	for j, e := range t.Escalations {
		el := fmt.Sprintf("%s.escalations[%d]", loc, j)
		if e.Threshold != 100 && !slices.Contains(t.Warnings, e.Threshold) {
			f.add(el+".threshold", "one of the warning thresholds, or 100 (the breach)", e.Threshold)
		}
		if !slices.Contains(escalationActions, e.Action) {
			f.add(el+".action", "one of notify, reassign, raise_priority", e.Action)
		}
		if e.Action == "reassign" && e.TeamID <= 0 {
			f.add(el+".teamId", "the team to reassign to", e.TeamID)
		}
		if e.Action != "reassign" && e.TeamID != 0 {
			f.add(el+".teamId", "only a reassignment names a team", e.TeamID)
		}
		if e.Action == "notify" && len(e.Audience) == 0 {
			f.add(el+".audience", "whom to notify: assignee, team, service_owner or a role code", nil)
		}
		for k, a := range e.Audience {
			if !audiencePattern.MatchString(a) {
				f.add(fmt.Sprintf("%s.audience[%d]", el, k), "assignee, team, service_owner or a role code", a)
			}
		}
	}
}

// validateTerms checks an agreement's terms against its targets (by id),
// naming body.terms[i].<field>.
func validateTerms(ts []Term, targets []Target) error {
	var f fieldErrs
	if len(ts) > maxTerms {
		f.add("body.terms", fmt.Sprintf("at most %d terms", maxTerms), len(ts))
		return f.err()
	}
	for i := range ts {
		t := &ts[i]
		loc := fmt.Sprintf("body.terms[%d]", i)
		if t.Kind != Penalty && t.Kind != Credit {
			f.add(loc+".kind", "penalty or credit", t.Kind)
		}
		switch t.Trigger {
		case BreachesOver:
			if t.Threshold < 0 || t.Threshold != math.Trunc(t.Threshold) {
				f.add(loc+".threshold", "the number of breaches the term tolerates: a whole number, 0 or more", t.Threshold)
			}
		case AchievementBelow:
			if !(t.Threshold > 0 && t.Threshold <= 100) {
				f.add(loc+".threshold", "the achievement in percent below which the term applies: above 0, at most 100", t.Threshold)
			}
		default:
			f.add(loc+".trigger", "breaches_over or achievement_below", t.Trigger)
		}
		if t.Amount < 0 || math.IsNaN(t.Amount) || math.IsInf(t.Amount, 0) {
			f.add(loc+".amount", "0 or more", t.Amount)
		}
		t.Currency = strings.TrimSpace(t.Currency)
		if t.Currency != "" && !currencyPattern.MatchString(t.Currency) {
			f.add(loc+".currency", "an ISO 4217 code such as EUR", t.Currency)
		}
		if t.Amount > 0 && t.Currency == "" {
			f.add(loc+".currency", "the currency of the amount", nil)
		}
		f.text(loc+".description", t.Description, maxShortText)
		if t.TargetID != 0 {
			k := slices.IndexFunc(targets, func(x Target) bool { return x.ID == t.TargetID })
			switch {
			case k < 0:
				f.add(loc+".targetId", "one of the agreement's targets, or 0 for the agreement as a whole", t.TargetID)
			case targets[k].Kind == Availability:
				f.add(loc+".targetId", "an availability target is reviewed by availability management, not by clocks", t.TargetID)
			}
		}
	}
	return f.err()
}

// validateItem checks an improvement item's fields, naming body.<field>.
func validateItem(title string, ownerID int64, note string) error {
	var f fieldErrs
	f.required("body.title", title, maxTitle)
	if ownerID < 0 {
		f.add("body.ownerId", "a user id, or 0 for none", ownerID)
	}
	f.text("body.note", note, maxText)
	return f.err()
}

// month is a report month: yyyymm.
type month int

func monthOf(t time.Time) month {
	t = t.UTC()
	return month(t.Year()*100 + int(t.Month()))
}

func (m month) start() time.Time {
	return time.Date(int(m)/100, time.Month(int(m)%100), 1, 0, 0, 0, 0, time.UTC)
}

// String writes the month as 2026-03.
func (m month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/100, int(m)%100) }

func (m month) next() month { return monthOf(m.start().AddDate(0, 1, 0)) }

// months lists the months a report over [from, to) spans.
func months(from, to time.Time) []month {
	var out []month
	last := monthOf(to.Add(-time.Millisecond))
	for m := monthOf(from); m <= last; m = m.next() {
		out = append(out, m)
	}
	return out
}

// validateReportQuery checks a report's period, naming query.<field>.
func validateReportQuery(q ReportQuery) error {
	var f fieldErrs
	if q.ServiceID < 0 {
		f.add("query.service", "a service id", q.ServiceID)
	}
	if q.AgreementID < 0 {
		f.add("query.agreement", "an agreement", q.AgreementID)
	}
	switch {
	case q.From.IsZero():
		f.add("query.from", "the start of the period", nil)
	case q.To.IsZero():
		f.add("query.to", "the end of the period", nil)
	case !q.To.After(q.From):
		f.add("query.to", "after from", q.To)
	case len(months(q.From, q.To)) > maxMonths:
		f.add("query.to", fmt.Sprintf("a report spans at most %d months", maxMonths), q.To)
	}
	return f.err()
}

// clockGroup is one row of the report query: the clocks of one agreement,
// target, month, priority and status.
type clockGroup struct {
	AgreementID, TargetID int64
	Period                month
	Priority              int
	Status                sla.Status
	N                     int64
}

// add counts n clocks of status.
func (c *Counts) add(status sla.Status, n int64) {
	switch status {
	case sla.StatusMet:
		c.Met += n
	case sla.StatusBreached:
		c.Breached += n
	case sla.StatusRunning, sla.StatusPaused:
		c.Running += n
	case sla.StatusCancelled:
		c.Cancelled += n
		return
	default:
		return
	}
	c.Total += n
}

// finish computes the achievement.
func (c *Counts) finish() {
	c.Achievement = nil
	if d := c.Met + c.Breached; d > 0 {
		a := math.Round(float64(c.Met)/float64(d)*10000) / 100
		c.Achievement = &a
	}
}

// targetInfo is what a report says about a target and its agreement.
type targetInfo struct {
	Target
	position int
}

// buildReport assembles the report from the grouped clock counts and what the
// store knows of the targets and agreements they name.
func buildReport(q ReportQuery, groups []clockGroup, targets map[int64]targetInfo, agreements map[int64]AgreementRef) AchievementReport {
	ms := months(q.From, q.To)
	rep := AchievementReport{ServiceID: q.ServiceID, AgreementID: q.AgreementID, From: q.From.UTC(), To: q.To.UTC(),
		Months: make([]string, len(ms)), ByMonth: make([]MonthCounts, len(ms)), ByPriority: []PriorityCounts{},
		Agreements: []AgreementReport{}}
	index := map[month]int{}
	for i, m := range ms {
		rep.Months[i], rep.ByMonth[i].Month, index[m] = m.String(), m.String(), i
	}
	newTrend := func() []MonthCounts {
		tr := make([]MonthCounts, len(ms))
		for i := range ms {
			tr[i].Month = rep.Months[i]
		}
		return tr
	}
	agIdx, tgIdx, prIdx := map[int64]int{}, map[[2]int64]int{}, map[int]int{}
	for _, g := range groups {
		mi, ok := index[g.Period]
		if !ok {
			continue
		}
		rep.Totals.add(g.Status, g.N)
		rep.ByMonth[mi].add(g.Status, g.N)
		pi, ok := prIdx[g.Priority]
		if !ok {
			pi = len(rep.ByPriority)
			prIdx[g.Priority] = pi
			rep.ByPriority = append(rep.ByPriority, PriorityCounts{Priority: g.Priority})
		}
		rep.ByPriority[pi].add(g.Status, g.N)
		ai, ok := agIdx[g.AgreementID]
		if !ok {
			ai = len(rep.Agreements)
			agIdx[g.AgreementID] = ai
			ref, known := agreements[g.AgreementID]
			if !known {
				ref = AgreementRef{ID: g.AgreementID, Number: fmt.Sprintf("#%d", g.AgreementID)}
			}
			rep.Agreements = append(rep.Agreements, AgreementReport{ID: ref.ID, Number: ref.Number, Title: ref.Title, Kind: ref.Kind,
				State: ref.State, Targets: []TargetReport{}})
		}
		ar := &rep.Agreements[ai]
		ar.add(g.Status, g.N)
		key := [2]int64{g.AgreementID, g.TargetID}
		ti, ok := tgIdx[key]
		if !ok {
			ti = len(ar.Targets)
			tgIdx[key] = ti
			tr := TargetReport{ID: g.TargetID, Name: fmt.Sprintf("target #%d (removed)", g.TargetID), Trend: newTrend()}
			if t, known := targets[g.TargetID]; known {
				tr.Name, tr.Kind, tr.Priority, tr.DurationMs, tr.Goal = t.Name, t.Kind, t.Priority, t.DurationMs, t.Percent
			}
			ar.Targets = append(ar.Targets, tr)
		}
		tr := &ar.Targets[ti]
		tr.add(g.Status, g.N)
		tr.Trend[mi].add(g.Status, g.N)
	}
	rep.Totals.finish()
	for i := range rep.ByMonth {
		rep.ByMonth[i].finish()
	}
	slices.SortFunc(rep.ByPriority, func(a, b PriorityCounts) int {
		pa, pb := a.Priority, b.Priority
		if pa == 0 {
			pa = 99
		}
		if pb == 0 {
			pb = 99
		}
		return pa - pb
	})
	for i := range rep.ByPriority {
		rep.ByPriority[i].finish()
	}
	slices.SortFunc(rep.Agreements, func(a, b AgreementReport) int { return strings.Compare(a.Number, b.Number) })
	for i := range rep.Agreements {
		ar := &rep.Agreements[i]
		ar.finish()
		slices.SortFunc(ar.Targets, func(a, b TargetReport) int {
			pa, pb := targets[a.ID].position, targets[b.ID].position
			if pa != pb {
				return pa - pb
			}
			return int(a.ID - b.ID)
		})
		for j := range ar.Targets {
			tr := &ar.Targets[j]
			tr.finish()
			for k := range tr.Trend {
				tr.Trend[k].finish()
			}
			if tr.Goal > 0 && tr.Achievement != nil {
				met := *tr.Achievement >= tr.Goal
				tr.GoalMet = &met
			}
		}
	}
	return rep
}

// identify lists the penalties and credits the terms of the reviewed
// agreements identify in a report: a term applies when its target (or its
// agreement as a whole) had more breaches than the threshold, or an
// achievement below it.
func identify(rep AchievementReport, terms map[int64][]Term) []TermFinding {
	out := []TermFinding{}
	for _, ar := range rep.Agreements {
		for _, t := range terms[ar.ID] {
			counts, name := ar.Counts, ""
			if t.TargetID != 0 {
				k := slices.IndexFunc(ar.Targets, func(x TargetReport) bool { return x.ID == t.TargetID })
				if k < 0 {
					continue
				}
				counts, name = ar.Targets[k].Counts, ar.Targets[k].Name
			}
			var actual float64
			applies := false
			switch t.Trigger {
			case BreachesOver:
				actual = float64(counts.Breached)
				applies = actual > t.Threshold
			case AchievementBelow:
				if counts.Achievement != nil {
					actual = *counts.Achievement
					applies = actual < t.Threshold
				}
			}
			if applies {
				out = append(out, TermFinding{TermID: t.ID, AgreementID: ar.ID, AgreementNumber: ar.Number, TargetID: t.TargetID,
					TargetName: name, Kind: t.Kind, Trigger: t.Trigger, Threshold: t.Threshold, Actual: actual, Amount: t.Amount,
					Currency: t.Currency, Description: t.Description})
			}
		}
	}
	return out
}
