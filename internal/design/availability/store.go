package availability

import (
	"context"
	"fmt"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// msOf is a time as stored: unix milliseconds, 0 for none.
func msOf(t *time.Time) int64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return t.UnixMilli()
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

// checkCI refuses an id that names no CMDB configuration item, naming loc.
func checkCI(ctx context.Context, q db.Queryer, loc string, id int64) error {
	var n int64
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM cis WHERE id = ?`, id).Scan(&n); err != nil {
		return fmt.Errorf("check CI %d: %w", id, err)
	}
	if n == 0 {
		return errs.Field(loc, "no such configuration item in the CMDB", id)
	}
	return nil
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

// serviceName reads the name of a CMDB service, "" when there is none.
func serviceName(ctx context.Context, q db.Queryer, id int64) (string, error) {
	var name string
	err := q.QueryRowContext(ctx, `SELECT c.name FROM ci_services s JOIN cis c ON c.id = s.ci_id WHERE s.ci_id = ?`, id).Scan(&name)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read service %d: %w", id, err)
	}
	return name, nil
}

// ---- outages ----

const outageCols = `o.id, o.service_id, COALESCE(sv.name, ''), COALESCE(o.ci_id, 0), o.kind, o.source, COALESCE(o.source_ref, ''),
	o.started_at, o.ended_at, o.description, COALESCE(o.created_by, 0), o.created_at, o.updated_at, o.version`

const outageFrom = `outages o LEFT JOIN cis sv ON sv.id = o.service_id`

func scanOutage(sc listing.Scanner) (Outage, error) {
	var o Outage
	var kind, source string
	var started, ended, created, updated int64
	err := sc.Scan(&o.ID, &o.ServiceID, &o.ServiceName, &o.CIID, &kind, &source, &o.SourceRef, &started, &ended, &o.Description,
		&o.CreatedBy, &created, &updated, &o.Version)
	o.Kind, o.Source = Kind(kind), Source(source)
	o.StartedAt, o.EndedAt, o.CreatedAt, o.UpdatedAt = db.Time(started), db.TimePtr(ended), db.Time(created), db.Time(updated)
	return o, err
}

// loadOutage reads an outage by id.
func loadOutage(ctx context.Context, q db.Queryer, id int64) (Outage, error) {
	o, err := scanOutage(q.QueryRowContext(ctx, `SELECT `+outageCols+` FROM `+outageFrom+` WHERE o.id = ?`, id))
	if db.IsNoRows(err) {
		return o, errs.E(errs.NotFound, "no outage %d", id)
	}
	if err != nil {
		return o, fmt.Errorf("read outage %d: %w", id, err)
	}
	return o, nil
}

// outageBySource reads the outage mirroring a source reference; false when there is none.
func outageBySource(ctx context.Context, q db.Queryer, ref string) (Outage, bool, error) {
	o, err := scanOutage(q.QueryRowContext(ctx, `SELECT `+outageCols+` FROM `+outageFrom+` WHERE o.source_ref = ?`, ref))
	if db.IsNoRows(err) {
		return o, false, nil
	}
	if err != nil {
		return o, false, fmt.Errorf("read the outage of %s: %w", ref, err)
	}
	return o, true, nil
}

func insertOutage(ctx context.Context, tx *db.Tx, in OutageInput, source Source, ref string, by, now int64) (int64, error) {
	var refArg any
	if ref != "" {
		refArg = ref
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO outages (service_id, ci_id, kind, source, source_ref, started_at, ended_at, description,
		created_by, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`,
		in.ServiceID, db.NullID(in.CIID), string(in.Kind), string(source), refArg, in.StartedAt.UnixMilli(), msOf(in.EndedAt),
		in.Description, db.NullID(by), now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert outage: %w", err)
	}
	return id, nil
}

// updateOutage writes an outage's fields if it is still at version; false when it is not.
func updateOutage(ctx context.Context, tx *db.Tx, id, version int64, in OutageInput, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE outages SET service_id = ?, ci_id = ?, kind = ?, started_at = ?, ended_at = ?, description = ?,
		updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`, in.ServiceID, db.NullID(in.CIID), string(in.Kind),
		in.StartedAt.UnixMilli(), msOf(in.EndedAt), in.Description, now, id, version)
	if err != nil {
		return false, fmt.Errorf("update outage %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// deleteOutage deletes an outage if it is still at version; false when it is not.
func deleteOutage(ctx context.Context, tx *db.Tx, id, version int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `DELETE FROM outages WHERE id = ? AND version = ?`, id, version)
	if err != nil {
		return false, fmt.Errorf("delete outage %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// overlapping is the condition on "outages o" of the outages overlapping [?, ?): to, then from.
const overlapping = `o.started_at < ? AND (o.ended_at = 0 OR o.ended_at > ?)`

// serviceOutages reads a service's outages overlapping [from, to), oldest first.
func serviceOutages(ctx context.Context, q db.Queryer, serviceID int64, from, to time.Time) ([]Outage, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+outageCols+` FROM `+outageFrom+` WHERE o.service_id = ? AND `+overlapping+`
		ORDER BY o.started_at, o.id`, serviceID, to.UnixMilli(), from.UnixMilli())
	if err != nil {
		return nil, fmt.Errorf("read outages: %w", err)
	}
	defer rows.Close()
	out := []Outage{}
	for rows.Next() {
		o, err := scanOutage(rows)
		if err != nil {
			return nil, fmt.Errorf("read outages: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// sourcedOutages reads the outages of source overlapping [from, to).
func sourcedOutages(ctx context.Context, q db.Queryer, source Source, from, to int64) ([]Outage, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+outageCols+` FROM `+outageFrom+` WHERE o.source = ? AND `+overlapping+` ORDER BY o.id`,
		string(source), to, from)
	if err != nil {
		return nil, fmt.Errorf("read %s outages: %w", source, err)
	}
	defer rows.Close()
	var out []Outage
	for rows.Next() {
		o, err := scanOutage(rows)
		if err != nil {
			return nil, fmt.Errorf("read %s outages: %w", source, err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// outageList describes how outages are listed, sorted and filtered.
var outageList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "o.id", Sortable: true, Kind: "int"},
		"startedAt": {SQL: "o.started_at", Sortable: true, Kind: "int"},
		"serviceId": {SQL: "o.service_id", Kind: "int"},
		"kind":      {SQL: "o.kind", Kind: "text"},
		"source":    {SQL: "o.source", Kind: "text"},
	},
	DefaultSort: "-startedAt",
	IDColumn:    "o.id",
}

// outageSource reads pages of outages: one count and one page query.
var outageSource = listing.Source[Outage]{
	Spec:    outageList,
	From:    outageFrom,
	Columns: outageCols,
	Scan:    scanOutage,
	Key: func(o Outage, field string) any {
		switch field {
		case "id":
			return o.ID
		case "startedAt":
			return o.StartedAt.UnixMilli()
		}
		return nil
	},
	ID: func(o Outage) int64 { return o.ID },
}

// ---- plans ----

const planCols = `, COALESCE(sv.name, ''), p.period_from, p.period_to, p.objective,
	(SELECT COUNT(*) FROM availability_risks x WHERE x.plan_id = r.id AND x.state = 'open'),
	(SELECT COUNT(*) FROM availability_actions a WHERE a.plan_id = r.id AND a.state = 'open')`

const planFrom = `records r JOIN availability_plans p ON p.record_id = r.id LEFT JOIN cis sv ON sv.id = p.service_id`

func scanPlan(sc listing.Scanner) (AvailabilityPlan, error) {
	var p AvailabilityPlan
	var from, to int64
	r, err := record.Scan(sc, &p.ServiceName, &from, &to, &p.Objective, &p.OpenRisks, &p.OpenActions)
	p.Record, p.PeriodFrom, p.PeriodTo = r, db.Time(from), db.Time(to)
	return p, err
}

// loadPlan reads a plan with its record, by record id.
func loadPlan(ctx context.Context, q db.Queryer, id int64) (AvailabilityPlan, error) {
	p, err := scanPlan(q.QueryRowContext(ctx, `SELECT `+record.Columns+planCols+` FROM `+planFrom+` WHERE r.id = ?`, id))
	if db.IsNoRows(err) {
		return p, errs.E(errs.NotFound, "no availability plan with record id %d", id)
	}
	if err != nil {
		return p, fmt.Errorf("read availability plan %d: %w", id, err)
	}
	return p, nil
}

func insertPlan(ctx context.Context, tx *db.Tx, id int64, in NewPlan) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO availability_plans (record_id, service_id, period_from, period_to, objective)
		VALUES (?, ?, ?, ?, ?)`, id, in.ServiceID, in.PeriodFrom.UnixMilli(), in.PeriodTo.UnixMilli(), in.Objective); err != nil {
		return fmt.Errorf("insert availability plan: %w", err)
	}
	return nil
}

func updatePlan(ctx context.Context, tx *db.Tx, id int64, from, to time.Time, objective string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE availability_plans SET period_from = ?, period_to = ?, objective = ? WHERE record_id = ?`,
		from.UnixMilli(), to.UnixMilli(), objective, id); err != nil {
		return fmt.Errorf("update availability plan: %w", err)
	}
	return nil
}

// openItems counts a plan's open risks and open actions.
func openItems(ctx context.Context, q db.Queryer, planID int64) (risks, actions int64, err error) {
	err = q.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM availability_risks WHERE plan_id = ? AND state = 'open'),
		(SELECT COUNT(*) FROM availability_actions WHERE plan_id = ? AND state = 'open')`, planID, planID).Scan(&risks, &actions)
	if err != nil {
		return 0, 0, fmt.Errorf("count the open items of plan %d: %w", planID, err)
	}
	return risks, actions, nil
}

// planList describes how plans are listed, sorted and filtered.
var planList = listing.Spec{
	Columns: map[string]listing.Column{
		"number":    {SQL: "r.number", Sortable: true, Kind: "text"},
		"state":     {SQL: "r.state", Sortable: true, Kind: "text"},
		"createdAt": {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"serviceId": {SQL: "p.service_id", Kind: "int"},
	},
	DefaultSort: "-createdAt",
	IDColumn:    "r.id",
}

// planSource reads pages of plans: one count and one page query.
var planSource = listing.Source[AvailabilityPlan]{
	Spec:    planList,
	From:    planFrom,
	Columns: record.Columns + planCols,
	Scan:    scanPlan,
	Key: func(p AvailabilityPlan, field string) any {
		switch field {
		case "number":
			return p.Number
		case "state":
			return p.State
		case "createdAt":
			return p.CreatedAt.UnixMilli()
		}
		return nil
	},
	ID: func(p AvailabilityPlan) int64 { return p.ID },
}

// ---- risks and actions ----

const riskCols = `id, description, likelihood, impact, treatment, COALESCE(owner_id, 0), state, created_at, updated_at, version`

func scanRisk(sc listing.Scanner) (AvailabilityRisk, error) {
	var r AvailabilityRisk
	var state string
	var c, u int64
	err := sc.Scan(&r.ID, &r.Description, &r.Likelihood, &r.Impact, &r.Treatment, &r.OwnerID, &state, &c, &u, &r.Version)
	r.State, r.Score, r.CreatedAt, r.UpdatedAt = RiskState(state), r.Likelihood*r.Impact, db.Time(c), db.Time(u)
	return r, err
}

func loadRisks(ctx context.Context, q db.Queryer, planID int64) ([]AvailabilityRisk, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+riskCols+` FROM availability_risks WHERE plan_id = ? ORDER BY id`, planID)
	if err != nil {
		return nil, fmt.Errorf("read risks: %w", err)
	}
	defer rows.Close()
	out := []AvailabilityRisk{}
	for rows.Next() {
		r, err := scanRisk(rows)
		if err != nil {
			return nil, fmt.Errorf("read risks: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// loadRisk reads a risk of a plan; another plan's is not found.
func loadRisk(ctx context.Context, q db.Queryer, planID, id int64) (AvailabilityRisk, error) {
	r, err := scanRisk(q.QueryRowContext(ctx, `SELECT `+riskCols+` FROM availability_risks WHERE plan_id = ? AND id = ?`, planID, id))
	if db.IsNoRows(err) {
		return r, errs.E(errs.NotFound, "no risk %d in this plan", id)
	}
	if err != nil {
		return r, fmt.Errorf("read risk %d: %w", id, err)
	}
	return r, nil
}

func insertRisk(ctx context.Context, tx *db.Tx, planID int64, in RiskInput, now int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO availability_risks (plan_id, description, likelihood, impact, treatment, owner_id, state,
		created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`, planID, in.Description, in.Likelihood,
		in.Impact, in.Treatment, db.NullID(in.OwnerID), string(in.State), now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert risk: %w", err)
	}
	return id, nil
}

func updateRisk(ctx context.Context, tx *db.Tx, id, version int64, in RiskInput, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE availability_risks SET description = ?, likelihood = ?, impact = ?, treatment = ?, owner_id = ?,
		state = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`, in.Description, in.Likelihood, in.Impact,
		in.Treatment, db.NullID(in.OwnerID), string(in.State), now, id, version)
	if err != nil {
		return false, fmt.Errorf("update risk %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

const actionCols = `id, COALESCE(risk_id, 0), title, COALESCE(owner_id, 0), due_at, state, closed_at, created_at, updated_at, version`

func scanAction(sc listing.Scanner) (AvailabilityAction, error) {
	var a AvailabilityAction
	var state string
	var due, closed, c, u int64
	err := sc.Scan(&a.ID, &a.RiskID, &a.Title, &a.OwnerID, &due, &state, &closed, &c, &u, &a.Version)
	a.State, a.DueAt, a.ClosedAt, a.CreatedAt, a.UpdatedAt = ActionState(state), db.TimePtr(due), db.TimePtr(closed), db.Time(c), db.Time(u)
	return a, err
}

func loadActions(ctx context.Context, q db.Queryer, planID int64) ([]AvailabilityAction, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+actionCols+` FROM availability_actions WHERE plan_id = ? ORDER BY id`, planID)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	defer rows.Close()
	out := []AvailabilityAction{}
	for rows.Next() {
		a, err := scanAction(rows)
		if err != nil {
			return nil, fmt.Errorf("read actions: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// loadAction reads an action of a plan; another plan's is not found.
func loadAction(ctx context.Context, q db.Queryer, planID, id int64) (AvailabilityAction, error) {
	a, err := scanAction(q.QueryRowContext(ctx, `SELECT `+actionCols+` FROM availability_actions WHERE plan_id = ? AND id = ?`, planID, id))
	if db.IsNoRows(err) {
		return a, errs.E(errs.NotFound, "no action %d in this plan", id)
	}
	if err != nil {
		return a, fmt.Errorf("read action %d: %w", id, err)
	}
	return a, nil
}

func insertAction(ctx context.Context, tx *db.Tx, planID int64, in ActionInput, closedAt, now int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO availability_actions (plan_id, risk_id, title, owner_id, due_at, state, closed_at,
		created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`, planID, db.NullID(in.RiskID), in.Title,
		db.NullID(in.OwnerID), msOf(in.DueAt), string(in.State), closedAt, now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert action: %w", err)
	}
	return id, nil
}

func updateAction(ctx context.Context, tx *db.Tx, id, version int64, in ActionInput, closedAt, now int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE availability_actions SET risk_id = ?, title = ?, owner_id = ?, due_at = ?, state = ?,
		closed_at = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`, db.NullID(in.RiskID), in.Title,
		db.NullID(in.OwnerID), msOf(in.DueAt), string(in.State), closedAt, now, id, version)
	if err != nil {
		return false, fmt.Errorf("update action %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
