package servicelevel

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// toJSON encodes a list or rule for a TEXT column.
func toJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	return string(b), nil
}

// ---- references ----

// checkService refuses an id that is not a CMDB service (a CI with a row in
// ci_services) or is a disposed one, naming loc.
func checkService(ctx context.Context, q db.Queryer, loc string, id int64) error {
	var status string
	err := q.QueryRowContext(ctx, `SELECT c.status FROM ci_services s JOIN cis c ON c.id = s.ci_id WHERE s.ci_id = ?`, id).Scan(&status)
	switch {
	case db.IsNoRows(err):
		return errs.Field(loc, "no such service in the CMDB", id)
	case err != nil:
		return fmt.Errorf("check service %d: %w", id, err)
	case status == "disposed":
		return errs.Field(loc, "the service is disposed of", id)
	}
	return nil
}

// checkServices checks every service of a list, naming loc[i].
func checkServices(ctx context.Context, q db.Queryer, loc string, ids []int64) error {
	var f fieldErrs
	for i, id := range ids {
		err := checkService(ctx, q, fmt.Sprintf("%s[%d]", loc, i), id)
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			f = append(f, e.Fields...)
			continue
		}
		if err != nil {
			return err
		}
	}
	return f.err()
}

// checkCalendar refuses an id that names no business calendar, naming loc.
func checkCalendar(ctx context.Context, q db.Queryer, loc string, id int64) error {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM calendars WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("check calendar %d: %w", id, err)
	}
	if n == 0 {
		return errs.Field(loc, "no such business calendar", id)
	}
	return nil
}

// checkTargetRefs checks the teams the targets name (customer teams, teams to reassign to).
func checkTargetRefs(ctx context.Context, q db.Queryer, ts []Target) error {
	var f fieldErrs
	known := map[int64]bool{}
	team := func(loc string, id int64) error {
		ok, seen := known[id]
		if !seen {
			var n int64
			if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE id = ?`, id).Scan(&n); err != nil {
				return fmt.Errorf("check team %d: %w", id, err)
			}
			ok = n > 0
			known[id] = ok
		}
		if !ok {
			f.add(loc, "no such team", id)
		}
		return nil
	}
	for i, t := range ts {
		for j, id := range t.CustomerTeams {
			if err := team(fmt.Sprintf("body.targets[%d].customerTeams[%d]", i, j), id); err != nil {
				return err
			}
		}
		for j, e := range t.Escalations {
			if e.TeamID > 0 {
				if err := team(fmt.Sprintf("body.targets[%d].escalations[%d].teamId", i, j), e.TeamID); err != nil {
					return err
				}
			}
		}
	}
	return f.err()
}

// checkUser refuses an id that names no account, naming loc.
func checkUser(ctx context.Context, q db.Queryer, loc string, id int64) error {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("check user %d: %w", id, err)
	}
	if n == 0 {
		return errs.Field(loc, "no such user", id)
	}
	return nil
}

// bumpGeneration tells every node's Targets cache that the agreements changed.
func bumpGeneration(ctx context.Context, tx *db.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE agreement_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump the agreement generation: %w", err)
	}
	return nil
}

func readGeneration(ctx context.Context, q db.Queryer) (int64, error) {
	var g int64
	if err := q.QueryRowContext(ctx, `SELECT generation FROM agreement_generation WHERE id = 1`).Scan(&g); err != nil {
		return 0, fmt.Errorf("read the agreement generation: %w", err)
	}
	return g, nil
}

// ---- agreements ----

func insertAgreement(ctx context.Context, tx *db.Tx, id int64, kind Kind, d AgreementDetails) error {
	start, _ := parseDate(d.StartsOn)
	end, _ := parseDate(d.EndsOn)
	if _, err := tx.ExecContext(ctx, `INSERT INTO agreements (record_id, kind, customer, supplier, calendar_id, starts_on, ends_on,
		review_months, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, string(kind), d.Customer, d.Supplier, d.CalendarID, start, end, d.ReviewMonths, d.Notes); err != nil {
		return fmt.Errorf("insert agreement: %w", err)
	}
	return nil
}

func updateAgreement(ctx context.Context, tx *db.Tx, id int64, d AgreementDetails) error {
	start, _ := parseDate(d.StartsOn)
	end, _ := parseDate(d.EndsOn)
	if _, err := tx.ExecContext(ctx, `UPDATE agreements SET customer = ?, supplier = ?, calendar_id = ?, starts_on = ?, ends_on = ?,
		review_months = ?, notes = ? WHERE record_id = ?`,
		d.Customer, d.Supplier, d.CalendarID, start, end, d.ReviewMonths, d.Notes, id); err != nil {
		return fmt.Errorf("update agreement: %w", err)
	}
	return nil
}

// agreementCols are the agreement columns scanAgreement reads after the record's, from agreementFrom.
const agreementCols = `, a.kind, a.customer, a.supplier, a.calendar_id, COALESCE(cal.name, ''), a.starts_on, a.ends_on,
	a.review_months, a.notes`

const agreementFrom = ` FROM records r JOIN agreements a ON a.record_id = r.id LEFT JOIN calendars cal ON cal.id = a.calendar_id`

func scanAgreement(sc listing.Scanner) (Agreement, error) {
	var a Agreement
	var kind string
	var start, end int64
	r, err := record.Scan(sc, &kind, &a.Customer, &a.Supplier, &a.CalendarID, &a.CalendarName, &start, &end, &a.ReviewMonths, &a.Notes)
	a.Record, a.AgreementKind, a.StartsOn, a.EndsOn = r, Kind(kind), formatDate(start), formatDate(end)
	return a, err
}

func loadAgreement(ctx context.Context, q db.Queryer, id int64) (Agreement, error) {
	a, err := scanAgreement(q.QueryRowContext(ctx, `SELECT `+record.Columns+agreementCols+agreementFrom+` WHERE r.id = ?`, id))
	if db.IsNoRows(err) {
		return a, errs.E(errs.NotFound, "no agreement with record id %d", id)
	}
	if err != nil {
		return a, fmt.Errorf("read agreement %d: %w", id, err)
	}
	return a, nil
}

// agreementList describes how agreements are listed, sorted and filtered.
var agreementList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "r.id", Kind: "int"},
		"number":    {SQL: "r.number", Sortable: true, Kind: "text"},
		"title":     {SQL: "r.title", Sortable: true, Kind: "text"},
		"state":     {SQL: "r.state", Sortable: true, Kind: "text"},
		"kind":      {SQL: "a.kind", Sortable: true, Kind: "text"},
		"createdAt": {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt": {SQL: "r.updated_at", Sortable: true, Kind: "int"},
	},
	DefaultSort: "number",
	IDColumn:    "r.id",
}

// recordKey is the cursor value of a record's sortable fields.
func recordKey(r record.Record, field string) any {
	switch field {
	case "number":
		return r.Number
	case "title":
		return r.Title
	case "state":
		return r.State
	case "createdAt":
		return r.CreatedAt.UnixMilli()
	case "updatedAt":
		return r.UpdatedAt.UnixMilli()
	}
	return nil
}

var agreementSource = listing.Source[Agreement]{
	Spec:    agreementList,
	From:    strings.TrimPrefix(agreementFrom, " FROM "),
	Columns: record.Columns + agreementCols,
	Scan:    scanAgreement,
	Key: func(a Agreement, field string) any {
		if field == "kind" {
			return string(a.AgreementKind)
		}
		return recordKey(a.Record, field)
	},
	ID: func(a Agreement) int64 { return a.ID },
}

func loadServices(ctx context.Context, q db.Queryer, agreementID int64) ([]ServiceRef, error) {
	rows, err := q.QueryContext(ctx, `SELECT s.service_id, COALESCE(c.name, '') FROM agreement_services s
		LEFT JOIN cis c ON c.id = s.service_id WHERE s.agreement_id = ? ORDER BY c.name, s.service_id`, agreementID)
	if err != nil {
		return nil, fmt.Errorf("read the services of agreement %d: %w", agreementID, err)
	}
	defer rows.Close()
	out := []ServiceRef{}
	for rows.Next() {
		var s ServiceRef
		if err := rows.Scan(&s.ID, &s.Name); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// setServices replaces an agreement's services.
func setServices(ctx context.Context, tx *db.Tx, agreementID int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM agreement_services WHERE agreement_id = ?`, agreementID); err != nil {
		return fmt.Errorf("clear the services of agreement %d: %w", agreementID, err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO agreement_services (agreement_id, service_id) VALUES (?, ?)`, agreementID, id); err != nil {
			return fmt.Errorf("add service %d to agreement %d: %w", id, agreementID, err)
		}
	}
	return nil
}

// loadRelated reads the agreements on one side of agreement_underpins: the
// underpins of an SLA (side "sla_id") or the SLAs of an underpin ("underpin_id").
func loadRelated(ctx context.Context, q db.Queryer, agreementID int64, underpinsOf bool) ([]AgreementRef, error) {
	where, other := "u.sla_id", "u.underpin_id"
	if !underpinsOf {
		where, other = "u.underpin_id", "u.sla_id"
	}
	rows, err := q.QueryContext(ctx, `SELECT r.id, r.number, r.title, a.kind, r.state FROM agreement_underpins u
		JOIN records r ON r.id = `+other+` JOIN agreements a ON a.record_id = r.id WHERE `+where+` = ? ORDER BY r.number`, agreementID)
	if err != nil {
		return nil, fmt.Errorf("read the related agreements of %d: %w", agreementID, err)
	}
	defer rows.Close()
	out := []AgreementRef{}
	for rows.Next() {
		var a AgreementRef
		var kind string
		if err := rows.Scan(&a.ID, &a.Number, &a.Title, &kind, &a.State); err != nil {
			return nil, err
		}
		a.Kind = Kind(kind)
		out = append(out, a)
	}
	return out, rows.Err()
}

// agreementRefs reads agreements by number, naming loc[i] for one that is unknown.
func agreementRefs(ctx context.Context, q db.Queryer, loc string, numbers []string) ([]AgreementRef, error) {
	var f fieldErrs
	out := make([]AgreementRef, 0, len(numbers))
	for i, n := range numbers {
		var a AgreementRef
		var kind string
		err := q.QueryRowContext(ctx, `SELECT r.id, r.number, r.title, a.kind, r.state FROM records r
			JOIN agreements a ON a.record_id = r.id WHERE r.number = ?`, record.NormalizeNumber(n)).Scan(&a.ID, &a.Number, &a.Title, &kind, &a.State)
		if db.IsNoRows(err) {
			f.add(fmt.Sprintf("%s[%d]", loc, i), "no such agreement", n)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read agreement %s: %w", n, err)
		}
		a.Kind = Kind(kind)
		out = append(out, a)
	}
	return out, f.err()
}

func setUnderpins(ctx context.Context, tx *db.Tx, slaID int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM agreement_underpins WHERE sla_id = ?`, slaID); err != nil {
		return fmt.Errorf("clear the underpins of %d: %w", slaID, err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO agreement_underpins (sla_id, underpin_id) VALUES (?, ?)`, slaID, id); err != nil {
			return fmt.Errorf("add underpin %d to %d: %w", id, slaID, err)
		}
	}
	return nil
}

// targetCols are the columns scanTarget reads, from "agreement_targets t".
const targetCols = `t.id, t.name, t.kind, COALESCE(t.priority, 0), t.duration_ms, t.percent, t.record_types, t.categories,
	t.customer_teams, t.rule, t.warnings, t.escalations, t.position`

func scanTarget(sc listing.Scanner, more ...any) (Target, int, error) {
	var t Target
	var kind, types, cats, teams, rule, warnings, escalations string
	var position int
	if err := sc.Scan(append([]any{&t.ID, &t.Name, &kind, &t.Priority, &t.DurationMs, &t.Percent, &types, &cats, &teams, &rule,
		&warnings, &escalations, &position}, more...)...); err != nil {
		return t, 0, err
	}
	t.Kind = TargetKind(kind)
	for _, c := range []struct {
		src string
		dst any
	}{{types, &t.RecordTypes}, {cats, &t.Categories}, {teams, &t.CustomerTeams}, {warnings, &t.Warnings},
		{escalations, &t.Escalations}} {
		if err := json.Unmarshal([]byte(c.src), c.dst); err != nil {
			return t, 0, fmt.Errorf("read target %d: %w", t.ID, err)
		}
	}
	if rule != "" {
		t.Rule = &sla.Rule{}
		if err := json.Unmarshal([]byte(rule), t.Rule); err != nil {
			return t, 0, fmt.Errorf("read the rule of target %d: %w", t.ID, err)
		}
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
	if t.Warnings == nil {
		t.Warnings = []int{}
	}
	if t.Escalations == nil {
		t.Escalations = []sla.Escalation{}
	}
	return t, position, nil
}

func loadTargets(ctx context.Context, q db.Queryer, agreementID int64) ([]Target, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+targetCols+` FROM agreement_targets t WHERE t.agreement_id = ? ORDER BY t.position, t.id`,
		agreementID)
	if err != nil {
		return nil, fmt.Errorf("read the targets of agreement %d: %w", agreementID, err)
	}
	defer rows.Close()
	out := []Target{}
	for rows.Next() {
		t, _, err := scanTarget(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// targetColumns encodes the stored columns of a target.
func targetColumns(t Target) ([]any, error) {
	var enc []string
	for _, v := range []any{t.RecordTypes, t.Categories, t.CustomerTeams, t.Warnings, t.Escalations} {
		s, err := toJSON(v)
		if err != nil {
			return nil, err
		}
		enc = append(enc, s)
	}
	rule := ""
	if t.Rule != nil {
		s, err := toJSON(t.Rule)
		if err != nil {
			return nil, err
		}
		rule = s
	}
	var prio any
	if t.Priority > 0 {
		prio = t.Priority
	}
	return []any{t.Name, string(t.Kind), prio, t.DurationMs, t.Percent, enc[0], enc[1], enc[2], rule, enc[3], enc[4]}, nil
}

// replaceTargets makes ts an agreement's targets: a target with the id of one
// it has is changed in place (its clocks keep their target), the others are
// inserted, and the targets not listed are deleted with their terms. The ids
// are filled in.
func replaceTargets(ctx context.Context, tx *db.Tx, agreementID int64, ts []Target) error {
	old, err := loadTargets(ctx, tx, agreementID)
	if err != nil {
		return err
	}
	var f fieldErrs
	for i, t := range ts {
		if t.ID != 0 && !slices.ContainsFunc(old, func(o Target) bool { return o.ID == t.ID }) {
			f.add(fmt.Sprintf("body.targets[%d].id", i), "not a target of this agreement; 0 for a new target", t.ID)
		}
	}
	if err := f.err(); err != nil {
		return err
	}
	for _, o := range old {
		if !slices.ContainsFunc(ts, func(t Target) bool { return t.ID == o.ID }) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM agreement_terms WHERE target_id = ?`, o.ID); err != nil {
				return fmt.Errorf("delete the terms of target %d: %w", o.ID, err)
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM agreement_targets WHERE id = ?`, o.ID); err != nil {
				return fmt.Errorf("delete target %d: %w", o.ID, err)
			}
		}
	}
	for i := range ts {
		cols, err := targetColumns(ts[i])
		if err != nil {
			return err
		}
		if ts[i].ID != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE agreement_targets SET name = ?, kind = ?, priority = ?, duration_ms = ?, percent = ?,
				record_types = ?, categories = ?, customer_teams = ?, rule = ?, warnings = ?, escalations = ?, position = ?
				WHERE id = ?`, append(cols, i, ts[i].ID)...); err != nil {
				return fmt.Errorf("update target %d: %w", ts[i].ID, err)
			}
			continue
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO agreement_targets (name, kind, priority, duration_ms, percent, record_types,
			categories, customer_teams, rule, warnings, escalations, position, agreement_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, append(cols, i, agreementID)...).Scan(&ts[i].ID); err != nil {
			return fmt.Errorf("insert target %q: %w", ts[i].Name, err)
		}
	}
	return nil
}

func loadTerms(ctx context.Context, q db.Queryer, agreementIDs ...int64) (map[int64][]Term, error) {
	out := map[int64][]Term{}
	if len(agreementIDs) == 0 {
		return out, nil
	}
	list, args := db.In(agreementIDs)
	rows, err := q.QueryContext(ctx, `SELECT agreement_id, id, COALESCE(target_id, 0), kind, trigger, threshold, amount, currency,
		description FROM agreement_terms WHERE agreement_id IN `+list+` ORDER BY agreement_id, position, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read terms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t Term
		var agreement int64
		var kind, trigger string
		if err := rows.Scan(&agreement, &t.ID, &t.TargetID, &kind, &trigger, &t.Threshold, &t.Amount, &t.Currency, &t.Description); err != nil {
			return nil, err
		}
		t.Kind, t.Trigger = TermKind(kind), Trigger(trigger)
		out[agreement] = append(out[agreement], t)
	}
	return out, rows.Err()
}

func replaceTerms(ctx context.Context, tx *db.Tx, agreementID int64, ts []Term) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM agreement_terms WHERE agreement_id = ?`, agreementID); err != nil {
		return fmt.Errorf("clear the terms of agreement %d: %w", agreementID, err)
	}
	for i := range ts {
		t := &ts[i]
		if err := tx.QueryRowContext(ctx, `INSERT INTO agreement_terms (agreement_id, target_id, kind, trigger, threshold, amount,
			currency, description, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, agreementID, db.NullID(t.TargetID),
			string(t.Kind), string(t.Trigger), t.Threshold, t.Amount, t.Currency, t.Description, i).Scan(&t.ID); err != nil {
			return fmt.Errorf("insert term: %w", err)
		}
	}
	return nil
}

// agreementFacts is what the workflow checks of an agreement read.
type agreementFacts struct {
	Kind     Kind
	Targets  int64
	Services int64
}

func loadAgreementFacts(ctx context.Context, q db.Queryer, id int64) (agreementFacts, error) {
	var f agreementFacts
	var kind string
	err := q.QueryRowContext(ctx, `SELECT a.kind,
		(SELECT COUNT(*) FROM agreement_targets t WHERE t.agreement_id = a.record_id),
		(SELECT COUNT(*) FROM agreement_services s WHERE s.agreement_id = a.record_id)
		FROM agreements a WHERE a.record_id = ?`, id).Scan(&kind, &f.Targets, &f.Services)
	if err != nil {
		return f, fmt.Errorf("read agreement %d: %w", id, err)
	}
	f.Kind = Kind(kind)
	return f, nil
}

// ---- reviews ----

const reviewCols = `, COALESCE(sv.name, ''), COALESCE(ag.number, ''), v.period_from, v.period_to, v.report, v.penalties, v.minutes`

const reviewFrom = ` FROM records r JOIN service_reviews v ON v.record_id = r.id LEFT JOIN cis sv ON sv.id = v.service_id
	LEFT JOIN records ag ON ag.id = v.agreement_id`

func scanReview(sc listing.Scanner) (Review, error) {
	var v Review
	var from, to int64
	var report, findings string
	r, err := record.Scan(sc, &v.ServiceName, &v.Agreement, &from, &to, &report, &findings, &v.Minutes)
	if err != nil {
		return v, err
	}
	v.Record, v.PeriodFrom, v.PeriodTo = r, db.Time(from), db.Time(to)
	if err := json.Unmarshal([]byte(report), &v.AchievementReport); err != nil {
		return v, fmt.Errorf("read the report of %s: %w", r.Number, err)
	}
	if err := json.Unmarshal([]byte(findings), &v.Findings); err != nil {
		return v, fmt.Errorf("read the findings of %s: %w", r.Number, err)
	}
	if v.Findings == nil {
		v.Findings = []TermFinding{}
	}
	return v, nil
}

func loadReview(ctx context.Context, q db.Queryer, id int64) (Review, error) {
	v, err := scanReview(q.QueryRowContext(ctx, `SELECT `+record.Columns+reviewCols+reviewFrom+` WHERE r.id = ?`, id))
	if db.IsNoRows(err) {
		return v, errs.E(errs.NotFound, "no service review with record id %d", id)
	}
	if err != nil {
		return v, fmt.Errorf("read service review %d: %w", id, err)
	}
	return v, nil
}

func insertReview(ctx context.Context, tx *db.Tx, id int64, in NewReview, agreementID int64, rep AchievementReport, findings []TermFinding) error {
	repJSON, err := toJSON(rep)
	if err != nil {
		return err
	}
	fJSON, err := toJSON(findings)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO service_reviews (record_id, service_id, agreement_id, period_from, period_to, report,
		penalties) VALUES (?, ?, ?, ?, ?, ?, ?)`, id, in.ServiceID, db.NullID(agreementID), in.From.UnixMilli(), in.To.UnixMilli(),
		repJSON, fJSON); err != nil {
		return fmt.Errorf("insert service review: %w", err)
	}
	return nil
}

// recordListSpec describes how reviews and plans are listed, sorted and filtered.
var recordListSpec = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "r.id", Kind: "int"},
		"number":    {SQL: "r.number", Sortable: true, Kind: "text"},
		"title":     {SQL: "r.title", Sortable: true, Kind: "text"},
		"state":     {SQL: "r.state", Sortable: true, Kind: "text"},
		"createdAt": {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt": {SQL: "r.updated_at", Sortable: true, Kind: "int"},
		"serviceId": {SQL: "r.service_id", Kind: "int"},
	},
	DefaultSort: "-createdAt",
	IDColumn:    "r.id",
}

var reviewSource = listing.Source[Review]{
	Spec:    recordListSpec,
	From:    strings.TrimPrefix(reviewFrom, " FROM "),
	Columns: record.Columns + reviewCols,
	Scan:    scanReview,
	Key:     func(v Review, field string) any { return recordKey(v.Record, field) },
	ID:      func(v Review) int64 { return v.ID },
}

// ---- plans ----

const planCols = `, COALESCE(sv.name, ''), COALESCE(rv.number, ''), p.objective,
	(SELECT COUNT(*) FROM improvement_actions x WHERE x.plan_id = r.id AND x.state = 'open')`

const planFrom = ` FROM records r JOIN improvement_plans p ON p.record_id = r.id LEFT JOIN cis sv ON sv.id = p.service_id
	LEFT JOIN records rv ON rv.id = p.review_id`

func scanPlan(sc listing.Scanner) (ImprovementPlan, error) {
	var p ImprovementPlan
	r, err := record.Scan(sc, &p.ServiceName, &p.Review, &p.Objective, &p.OpenItems)
	p.Record, p.Items = r, []PlanItem{}
	return p, err
}

func loadPlan(ctx context.Context, q db.Queryer, id int64) (ImprovementPlan, error) {
	p, err := scanPlan(q.QueryRowContext(ctx, `SELECT `+record.Columns+planCols+planFrom+` WHERE r.id = ?`, id))
	if db.IsNoRows(err) {
		return p, errs.E(errs.NotFound, "no improvement plan with record id %d", id)
	}
	if err != nil {
		return p, fmt.Errorf("read improvement plan %d: %w", id, err)
	}
	return p, nil
}

var planSource = listing.Source[ImprovementPlan]{
	Spec:    recordListSpec,
	From:    strings.TrimPrefix(planFrom, " FROM "),
	Columns: record.Columns + planCols,
	Scan:    scanPlan,
	Key:     func(p ImprovementPlan, field string) any { return recordKey(p.Record, field) },
	ID:      func(p ImprovementPlan) int64 { return p.ID },
}

const itemCols = `x.id, x.title, COALESCE(x.owner_id, 0), COALESCE(u.username, ''), x.due_at, x.state, x.closed_at, x.note, x.version,
	x.created_at, x.updated_at`

func scanItem(sc listing.Scanner) (PlanItem, error) {
	var it PlanItem
	var due, closed, c, u int64
	err := sc.Scan(&it.ID, &it.Title, &it.OwnerID, &it.OwnerName, &due, &it.State, &closed, &it.Note, &it.Version, &c, &u)
	it.DueAt, it.ClosedAt, it.CreatedAt, it.UpdatedAt = db.TimePtr(due), db.TimePtr(closed), db.Time(c), db.Time(u)
	return it, err
}

func loadItems(ctx context.Context, q db.Queryer, planID int64) ([]PlanItem, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+itemCols+` FROM improvement_actions x LEFT JOIN users u ON u.id = x.owner_id
		WHERE x.plan_id = ? ORDER BY x.id`, planID)
	if err != nil {
		return nil, fmt.Errorf("read the items of plan %d: %w", planID, err)
	}
	defer rows.Close()
	out := []PlanItem{}
	for rows.Next() {
		it, err := scanItem(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func loadItem(ctx context.Context, q db.Queryer, planID, id int64) (PlanItem, error) {
	it, err := scanItem(q.QueryRowContext(ctx, `SELECT `+itemCols+` FROM improvement_actions x LEFT JOIN users u ON u.id = x.owner_id
		WHERE x.plan_id = ? AND x.id = ?`, planID, id))
	if db.IsNoRows(err) {
		return it, errs.E(errs.NotFound, "no item %d in this plan", id)
	}
	if err != nil {
		return it, fmt.Errorf("read item %d: %w", id, err)
	}
	return it, nil
}

func openItems(ctx context.Context, q db.Queryer, planID int64) (int64, error) {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM improvement_actions WHERE plan_id = ? AND state = 'open'`, planID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the open items of plan %d: %w", planID, err)
	}
	return n, nil
}

// timeMs is a time as stored: 0 for none.
func timeMs(t *time.Time) int64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// ---- clocks (the tracker's table) ----

// clockGroups counts the tracker's clocks started in [from, to) by agreement,
// target, month, priority and status: one GROUP BY over the month index.
func clockGroups(ctx context.Context, q db.Queryer, rq ReportQuery) ([]clockGroup, error) {
	first, last := monthOf(rq.From), monthOf(rq.To.Add(-time.Millisecond))
	where := []string{"period BETWEEN ? AND ?"}
	args := []any{int64(first), int64(last)}
	if rq.ServiceID != 0 {
		where = append(where, "service_id = ?")
		args = append(args, rq.ServiceID)
	}
	if rq.AgreementID != 0 {
		where = append(where, "agreement_id = ?")
		args = append(args, rq.AgreementID)
	}
	// Whole months need no look at started_at; a period cut inside a month does.
	if !rq.From.Equal(first.start()) {
		where = append(where, "started_at >= ?")
		args = append(args, rq.From.UnixMilli())
	}
	if !rq.To.Equal(monthOf(rq.To).start()) {
		where = append(where, "started_at < ?")
		args = append(args, rq.To.UnixMilli())
	}
	rows, err := q.QueryContext(ctx, `SELECT agreement_id, target_id, period, priority, status, COUNT(*) FROM sla_clocks
		WHERE `+strings.Join(where, " AND ")+` AND status <> 'not_started'
		GROUP BY agreement_id, target_id, period, priority, status`, args...)
	if err != nil {
		return nil, fmt.Errorf("count clocks: %w", err)
	}
	defer rows.Close()
	var out []clockGroup
	for rows.Next() {
		var g clockGroup
		var period int64
		var status string
		if err := rows.Scan(&g.AgreementID, &g.TargetID, &period, &g.Priority, &status, &g.N); err != nil {
			return nil, err
		}
		g.Period, g.Status = month(period), sla.Status(status)
		out = append(out, g)
	}
	return out, rows.Err()
}

// reportNames reads the targets and agreements the report's clocks name.
func reportNames(ctx context.Context, q db.Queryer, groups []clockGroup) (map[int64]targetInfo, map[int64]AgreementRef, error) {
	targets, agreements := map[int64]targetInfo{}, map[int64]AgreementRef{}
	var tids, aids []int64
	for _, g := range groups {
		if !slices.Contains(tids, g.TargetID) {
			tids = append(tids, g.TargetID)
		}
		if !slices.Contains(aids, g.AgreementID) {
			aids = append(aids, g.AgreementID)
		}
	}
	if len(tids) > 0 {
		list, args := db.In(tids)
		rows, err := q.QueryContext(ctx, `SELECT `+targetCols+` FROM agreement_targets t WHERE t.id IN `+list, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("read report targets: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			t, pos, err := scanTarget(rows)
			if err != nil {
				return nil, nil, err
			}
			targets[t.ID] = targetInfo{Target: t, position: pos}
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	if len(aids) > 0 {
		list, args := db.In(aids)
		rows, err := q.QueryContext(ctx, `SELECT r.id, r.number, r.title, a.kind, r.state FROM records r
			JOIN agreements a ON a.record_id = r.id WHERE r.id IN `+list, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("read report agreements: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a AgreementRef
			var kind string
			if err := rows.Scan(&a.ID, &a.Number, &a.Title, &kind, &a.State); err != nil {
				return nil, nil, err
			}
			a.Kind = Kind(kind)
			agreements[a.ID] = a
		}
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	return targets, agreements, nil
}
