package request

import (
	"context"
	"encoding/json"
	"fmt"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// ---- catalog items ----

const itemCols = `i.id, i.name, i.description, i.category, i.service_id, COALESCE(s.name, ''), i.active, i.form, i.target_hours,
	COALESCE(i.created_by, 0), i.created_at, COALESCE(i.updated_by, 0), i.updated_at, i.version`

const itemFrom = `catalog_items i LEFT JOIN cis s ON s.id = i.service_id`

func scanItem(sc interface{ Scan(...any) error }) (CatalogItem, error) {
	var it CatalogItem
	var form string
	var c, u int64
	if err := sc.Scan(&it.ID, &it.Name, &it.Description, &it.Category, &it.ServiceID, &it.ServiceName, &it.Active, &form,
		&it.TargetHours, &it.CreatedBy, &c, &it.UpdatedBy, &u, &it.Version); err != nil {
		return it, err
	}
	it.CreatedAt, it.UpdatedAt = db.Time(c), db.Time(u)
	if err := json.Unmarshal([]byte(form), &it.Form); err != nil {
		return it, fmt.Errorf("catalog item %d has a malformed form: %w", it.ID, err)
	}
	it.Form = it.Form.nonNil()
	return it, nil
}

// nonNil gives a form empty lists instead of nil ones, so that JSON shows [].
func (fm Form) nonNil() Form {
	if fm.Variables == nil {
		fm.Variables = []FormVariable{}
	}
	if fm.Approvals == nil {
		fm.Approvals = []CatalogApproval{}
	}
	if fm.Tasks == nil {
		fm.Tasks = []CatalogTask{}
	}
	return fm
}

func formJSON(fm Form) string {
	b, _ := json.Marshal(fm.nonNil())
	return string(b)
}

// loadItem reads a catalog item.
func loadItem(ctx context.Context, q db.Queryer, id int64) (CatalogItem, error) {
	it, err := scanItem(q.QueryRowContext(ctx, `SELECT `+itemCols+` FROM `+itemFrom+` WHERE i.id = ?`, id))
	if db.IsNoRows(err) {
		return it, errs.E(errs.NotFound, "no catalog item %d", id)
	}
	if err != nil {
		return it, fmt.Errorf("read catalog item %d: %w", id, err)
	}
	return it, nil
}

func insertItem(ctx context.Context, tx *db.Tx, it CatalogItem, by, now int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO catalog_items (name, description, category, service_id, active, form, target_hours,
		created_by, created_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		it.Name, it.Description, it.Category, it.ServiceID, it.Active, formJSON(it.Form), it.TargetHours, db.NullID(by), now,
		db.NullID(by), now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert catalog item: %w", err)
	}
	return id, nil
}

func updateItem(ctx context.Context, tx *db.Tx, it CatalogItem, version, by, now int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE catalog_items SET name = ?, description = ?, category = ?, service_id = ?, active = ?,
		form = ?, target_hours = ?, updated_by = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`,
		it.Name, it.Description, it.Category, it.ServiceID, it.Active, formJSON(it.Form), it.TargetHours, db.NullID(by), now, it.ID, version)
	if err != nil {
		return fmt.Errorf("update catalog item %d: %w", it.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.PreconditionFailed, "catalog item %d changed concurrently; read it again", it.ID)
	}
	return nil
}

// checkService refuses a service id that names no CMDB service, or a disposed one.
func checkService(ctx context.Context, q db.Queryer, field string, id int64) error {
	var status string
	err := q.QueryRowContext(ctx, `SELECT c.status FROM ci_services s JOIN cis c ON c.id = s.ci_id WHERE s.ci_id = ?`, id).Scan(&status)
	switch {
	case db.IsNoRows(err):
		return errs.Field(field, "no such CMDB service", id)
	case err != nil:
		return fmt.Errorf("check service %d: %w", id, err)
	case status == "disposed":
		return errs.Field(field, "the service is disposed of", id)
	}
	return nil
}

// checkTeams refuses a form whose group levels or tasks name teams that do not exist.
func checkTeams(ctx context.Context, q db.Queryer, fm Form) error {
	var ids []int64
	for _, l := range fm.Approvals {
		if l.Kind == GroupApproval {
			ids = append(ids, l.TeamID)
		}
	}
	for _, t := range fm.Tasks {
		ids = append(ids, t.TeamID)
	}
	if len(ids) == 0 {
		return nil
	}
	list, args := db.In(ids)
	rows, err := q.QueryContext(ctx, `SELECT id FROM teams WHERE id IN `+list, args...)
	if err != nil {
		return fmt.Errorf("check teams: %w", err)
	}
	defer rows.Close()
	known := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		known[id] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var f fieldErrs
	for i, l := range fm.Approvals {
		if l.Kind == GroupApproval && !known[l.TeamID] {
			f.add(fmt.Sprintf("body.approvals[%d].teamId", i), "no such team", l.TeamID)
		}
	}
	for i, t := range fm.Tasks {
		if !known[t.TeamID] {
			f.add(fmt.Sprintf("body.tasks[%d].teamId", i), "no such team", t.TeamID)
		}
	}
	return f.err()
}

// ---- requests ----

// requestRow is a service request's own row.
type requestRow struct {
	RecordID        int64
	ItemID          int64
	Def             definition
	Values          map[string]any
	Channel         string
	SourceIncident  string
	TargetHours     int64
	Level           int
	Stage           int
	PendingAction   string
	PendingReason   string
	RejectionReason string
	FulfilledAt     int64
}

const requestRowCols = `record_id, COALESCE(catalog_item_id, 0), definition, variables, channel, source_incident, target_hours,
	approval_level, stage, pending_action, pending_reason, rejection_reason, fulfilled_at`

func scanRequestRow(sc interface{ Scan(...any) error }) (requestRow, error) {
	var r requestRow
	var def, vals string
	if err := sc.Scan(&r.RecordID, &r.ItemID, &def, &vals, &r.Channel, &r.SourceIncident, &r.TargetHours, &r.Level, &r.Stage,
		&r.PendingAction, &r.PendingReason, &r.RejectionReason, &r.FulfilledAt); err != nil {
		return r, err
	}
	var err error
	r.Def, r.Values, err = decodeRow(r.RecordID, def, vals)
	return r, err
}

// decodeRow decodes a request's stored definition and values.
func decodeRow(id int64, def, vals string) (definition, map[string]any, error) {
	var d definition
	var v map[string]any
	if err := json.Unmarshal([]byte(def), &d); err != nil {
		return d, nil, fmt.Errorf("request %d has a malformed definition: %w", id, err)
	}
	d.Form = d.Form.nonNil()
	if err := json.Unmarshal([]byte(vals), &v); err != nil {
		return d, nil, fmt.Errorf("request %d has malformed values: %w", id, err)
	}
	if v == nil {
		v = map[string]any{}
	}
	return d, v, nil
}

// loadRequestRow reads a request's own row.
func loadRequestRow(ctx context.Context, q db.Queryer, id int64) (requestRow, error) {
	r, err := scanRequestRow(q.QueryRowContext(ctx, `SELECT `+requestRowCols+` FROM service_requests WHERE record_id = ?`, id))
	if db.IsNoRows(err) {
		return r, fmt.Errorf("record %d has no service request row", id)
	}
	return r, err
}

func insertRequest(ctx context.Context, tx *db.Tx, r requestRow) error {
	vals, err := json.Marshal(r.Values)
	if err != nil {
		return fmt.Errorf("encode values: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO service_requests (record_id, catalog_item_id, definition, variables, channel,
		source_incident, target_hours) VALUES (?, ?, ?, ?, ?, ?, ?)`, r.RecordID, db.NullID(r.ItemID), r.Def.marshal(), string(vals),
		r.Channel, r.SourceIncident, r.TargetHours); err != nil {
		return fmt.Errorf("insert service request: %w", err)
	}
	return nil
}

// setRequest writes one column (never from input) of a request's row.
func setRequest(ctx context.Context, tx *db.Tx, id int64, column string, v any) error {
	if _, err := tx.ExecContext(ctx, `UPDATE service_requests SET `+column+` = ? WHERE record_id = ?`, v, id); err != nil {
		return fmt.Errorf("update service request %d: %w", id, err)
	}
	return nil
}

// lockRecord takes the row lock of a record (a request, before its approvals or tasks change), and returns its state.
func lockRecord(ctx context.Context, tx *db.Tx, id int64) (string, error) {
	var state string
	if err := tx.QueryRowContext(ctx, `SELECT state FROM records WHERE id = ?`+tx.DB().ForUpdate(), id).Scan(&state); err != nil {
		return "", fmt.Errorf("lock record %d: %w", id, err)
	}
	return state, nil
}

// addJournal writes an entry of a request's or task's journal in the caller's transaction: the
// public comment that carries a rejection's reason to the requester, or a system entry on approvals.
func addJournal(ctx context.Context, tx *db.Tx, recordID int64, kind record.JournalKind, body string, p *auth.Principal, now int64) (int64, error) {
	var author int64
	name := "system"
	if p != nil {
		author, name = p.UserID, p.Username
	}
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO record_journal (record_id, kind, body, author_id, author_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, recordID, string(kind), body, db.NullID(author), name, now).Scan(&id); err != nil {
		return 0, fmt.Errorf("write journal entry: %w", err)
	}
	return id, nil
}

// checkRefs checks that the users and CIs a request's values name exist: active accounts, CIs not disposed of.
func checkRefs(ctx context.Context, q db.Queryer, refs []ref) error {
	var users, cis []int64
	for _, r := range refs {
		if r.kind == UserRef {
			users = append(users, r.id)
		} else {
			cis = append(cis, r.id)
		}
	}
	userState, err := idStates(ctx, q, `SELECT id, CASE WHEN disabled THEN 'disabled' ELSE 'active' END FROM users WHERE id IN `, users)
	if err != nil {
		return err
	}
	ciState, err := idStates(ctx, q, `SELECT id, status FROM cis WHERE id IN `, cis)
	if err != nil {
		return err
	}
	var f fieldErrs
	for _, r := range refs {
		loc := valueLoc(r.name)
		if r.kind == UserRef {
			switch userState[r.id] {
			case "":
				f.add(loc, "no such user", r.id)
			case "disabled":
				f.add(loc, "the account is disabled", r.id)
			}
			continue
		}
		switch ciState[r.id] {
		case "":
			f.add(loc, "no such configuration item", r.id)
		case "disposed":
			f.add(loc, "the configuration item is disposed of", r.id)
		}
	}
	return f.err()
}

// idStates runs query (ending in "IN ") over ids and maps each id found to its second column.
func idStates(ctx context.Context, q db.Queryer, query string, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	list, args := db.In(ids)
	rows, err := q.QueryContext(ctx, query+list, args...)
	if err != nil {
		return nil, fmt.Errorf("check references: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s string
		if err := rows.Scan(&id, &s); err != nil {
			return nil, err
		}
		out[id] = s
	}
	return out, rows.Err()
}

// checkRequester refuses a requester who is not an active account.
func checkRequester(ctx context.Context, q db.Queryer, id int64) error {
	var disabled bool
	err := q.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, id).Scan(&disabled)
	switch {
	case db.IsNoRows(err):
		return errs.Field("body.requesterId", "no such user", id)
	case err != nil:
		return fmt.Errorf("check requester %d: %w", id, err)
	case disabled:
		return errs.Field("body.requesterId", "the account is disabled", id)
	}
	return nil
}

// summaryCols are the columns scanSummary reads after the record's.
const summaryCols = record.Columns + `, COALESCE(q.catalog_item_id, 0), COALESCE(ci.name, ''), COALESCE(NULLIF(ru.display_name, ''), ru.username, ''),
	COALESCE(sv.name, ''), COALESCE(tm.name, ''), q.channel, q.approval_level, q.stage`

const summaryFrom = ` FROM records r JOIN service_requests q ON q.record_id = r.id
	LEFT JOIN catalog_items ci ON ci.id = q.catalog_item_id LEFT JOIN users ru ON ru.id = r.requester_id
	LEFT JOIN cis sv ON sv.id = r.service_id LEFT JOIN teams tm ON tm.id = r.team_id`

func scanSummary(sc interface{ Scan(...any) error }, more ...any) (RequestSummary, error) {
	var s RequestSummary
	rec, err := record.Scan(sc, append([]any{&s.CatalogItemID, &s.CatalogItemName, &s.RequesterName, &s.ServiceName, &s.TeamName,
		&s.Channel, &s.ApprovalLevel, &s.Stage}, more...)...)
	s.Record = rec
	return s, err
}
