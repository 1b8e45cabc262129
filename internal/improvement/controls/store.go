package controls

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// in writes the placeholders and arguments of an IN list of ids.
func in(ids []int64) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", len(ids)), ",") + ")", args
}

// recordState reads the number and state of a record by id.
func recordState(ctx context.Context, q db.Queryer, id int64) (number, state string, err error) {
	err = q.QueryRowContext(ctx, `SELECT number, state FROM records WHERE id = ?`, id).Scan(&number, &state)
	if err != nil {
		return "", "", fmt.Errorf("read record %d: %w", id, err)
	}
	return number, state, nil
}

// checkUser refuses an id that names no active account.
func checkUser(ctx context.Context, q db.Queryer, field string, id int64) error {
	var disabled bool
	err := q.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, id).Scan(&disabled)
	switch {
	case db.IsNoRows(err):
		return errs.Field(field, "no such user", id)
	case err != nil:
		return fmt.Errorf("check user %d: %w", id, err)
	case disabled:
		return errs.Field(field, "the account is disabled", id)
	}
	return nil
}

// ---- documents ----

// docRow is a document's own row.
type docRow struct {
	Kind          DocumentKind
	VersionNumber int64
	Body          string
	KPI           *KPI
	SupersedesID  int64
	ApprovedAt    int64
	// Supersedes is the number of SupersedesID, when read with it.
	Supersedes string
}

func encodeKPI(k *KPI) (string, error) {
	if k == nil {
		return "", nil
	}
	b, err := json.Marshal(k)
	return string(b), err
}

func decodeKPI(s string) (*KPI, error) {
	if s == "" {
		return nil, nil
	}
	var k KPI
	if err := json.Unmarshal([]byte(s), &k); err != nil {
		return nil, fmt.Errorf("decode KPI: %w", err)
	}
	return &k, nil
}

const docCols = `d.record_id, d.kind, d.version_number, d.body, d.kpi, COALESCE(d.supersedes_id, 0), d.approved_at, COALESCE(p.number, '')`

const docFrom = ` FROM control_documents d LEFT JOIN records p ON p.id = d.supersedes_id`

func scanDoc(sc interface{ Scan(...any) error }) (int64, docRow, error) {
	var id int64
	var r docRow
	var kind, kpi string
	if err := sc.Scan(&id, &kind, &r.VersionNumber, &r.Body, &kpi, &r.SupersedesID, &r.ApprovedAt, &r.Supersedes); err != nil {
		return 0, r, err
	}
	r.Kind = DocumentKind(kind)
	k, err := decodeKPI(kpi)
	r.KPI = k
	return id, r, err
}

// loadDocRow reads one document's row.
func loadDocRow(ctx context.Context, q db.Queryer, id int64) (docRow, error) {
	_, r, err := scanDoc(q.QueryRowContext(ctx, `SELECT `+docCols+docFrom+` WHERE d.record_id = ?`, id))
	if err != nil {
		return r, fmt.Errorf("read document %d: %w", id, err)
	}
	return r, nil
}

// lineage is what later versions say of a document.
type lineage struct {
	// supersededBy is the approved successor; next one in draft or review.
	supersededBy, next string
}

// loadDocs reads the rows and lineage of documents, in two queries.
func loadDocs(ctx context.Context, q db.Queryer, ids []int64) (map[int64]docRow, map[int64]lineage, error) {
	rows := map[int64]docRow{}
	lines := map[int64]lineage{}
	if len(ids) == 0 {
		return rows, lines, nil
	}
	list, args := in(ids)
	rs, err := q.QueryContext(ctx, `SELECT `+docCols+docFrom+` WHERE d.record_id IN `+list, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read documents: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		id, r, err := scanDoc(rs)
		if err != nil {
			return nil, nil, fmt.Errorf("read documents: %w", err)
		}
		rows[id] = r
	}
	if err := rs.Err(); err != nil {
		return nil, nil, err
	}
	rs.Close()
	succ, err := q.QueryContext(ctx, `SELECT d.supersedes_id, r.number, r.state FROM control_documents d
		JOIN records r ON r.id = d.record_id WHERE d.supersedes_id IN `+list+` ORDER BY r.id`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("read later versions: %w", err)
	}
	defer succ.Close()
	for succ.Next() {
		var of int64
		var number, state string
		if err := succ.Scan(&of, &number, &state); err != nil {
			return nil, nil, err
		}
		l := lines[of]
		switch state {
		case DocApproved, DocSuperseded:
			l.supersededBy = number
		case DocDraft, DocInReview:
			l.next = number
		}
		lines[of] = l
	}
	return rows, lines, succ.Err()
}

func insertDoc(ctx context.Context, tx *db.Tx, id int64, r docRow) error {
	kpi, err := encodeKPI(r.KPI)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO control_documents (record_id, kind, version_number, body, kpi, supersedes_id)
		VALUES (?, ?, ?, ?, ?, ?)`, id, string(r.Kind), r.VersionNumber, r.Body, kpi, db.NullID(r.SupersedesID)); err != nil {
		return fmt.Errorf("insert document: %w", err)
	}
	return nil
}

func updateDoc(ctx context.Context, tx *db.Tx, id int64, r docRow) error {
	kpi, err := encodeKPI(r.KPI)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE control_documents SET body = ?, kpi = ? WHERE record_id = ?`, r.Body, kpi, id); err != nil {
		return fmt.Errorf("update document: %w", err)
	}
	return nil
}

func setApproved(ctx context.Context, tx *db.Tx, id, at int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE control_documents SET approved_at = ? WHERE record_id = ?`, at, id); err != nil {
		return fmt.Errorf("stamp approval: %w", err)
	}
	return nil
}

// ---- findings and corrective actions ----

// findingRow is a finding's own row.
type findingRow struct {
	Severity    Severity
	Observation string
}

func loadFindings(ctx context.Context, q db.Queryer, ids []int64) (map[int64]findingRow, error) {
	out := map[int64]findingRow{}
	if len(ids) == 0 {
		return out, nil
	}
	list, args := in(ids)
	rows, err := q.QueryContext(ctx, `SELECT record_id, severity, observation FROM control_findings WHERE record_id IN `+list, args...)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var sev string
		var f findingRow
		if err := rows.Scan(&id, &sev, &f.Observation); err != nil {
			return nil, err
		}
		f.Severity = Severity(sev)
		out[id] = f
	}
	return out, rows.Err()
}

func insertFinding(ctx context.Context, tx *db.Tx, id int64, f findingRow) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO control_findings (record_id, severity, observation) VALUES (?, ?, ?)`,
		id, string(f.Severity), f.Observation); err != nil {
		return fmt.Errorf("insert finding: %w", err)
	}
	return nil
}

func updateFinding(ctx context.Context, tx *db.Tx, id int64, f findingRow) error {
	if _, err := tx.ExecContext(ctx, `UPDATE control_findings SET severity = ?, observation = ? WHERE record_id = ?`,
		string(f.Severity), f.Observation, id); err != nil {
		return fmt.Errorf("update finding: %w", err)
	}
	return nil
}

// loadActions reads the corrective actions of findings, oldest first, with their owners' names.
func loadActions(ctx context.Context, q db.Queryer, ids []int64) (map[int64][]CorrectiveAction, error) {
	out := map[int64][]CorrectiveAction{}
	if len(ids) == 0 {
		return out, nil
	}
	list, args := in(ids)
	rows, err := q.QueryContext(ctx, `SELECT a.record_id, a.id, a.description, a.owner_id, COALESCE(u.username, ''), a.due_at,
		a.status, a.note, a.completed_at, a.created_at, a.updated_at
		FROM control_actions a LEFT JOIN users u ON u.id = a.owner_id WHERE a.record_id IN `+list+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("read corrective actions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rid, due, done, created, updated int64
		var a CorrectiveAction
		var status string
		if err := rows.Scan(&rid, &a.ID, &a.Description, &a.OwnerID, &a.OwnerName, &due, &status, &a.Note, &done, &created, &updated); err != nil {
			return nil, err
		}
		a.Status, a.DueDate = ActionStatus(status), db.Time(due).Format(dateStyle)
		a.CompletedAt, a.CreatedAt, a.UpdatedAt = db.Time(done), db.Time(created), db.Time(updated)
		out[rid] = append(out[rid], a)
	}
	return out, rows.Err()
}

func insertAction(ctx context.Context, tx *db.Tx, recordID int64, a NewAction, due time.Time, now int64) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO control_actions (record_id, description, owner_id, due_at, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, 'open', ?, ?) RETURNING id`, recordID, a.Description, a.OwnerID, due.UnixMilli(), now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert corrective action: %w", err)
	}
	return id, nil
}

func updateAction(ctx context.Context, tx *db.Tx, a CorrectiveAction, now int64) error {
	due, err := time.Parse(dateStyle, a.DueDate)
	if err != nil {
		return fmt.Errorf("due date %q: %w", a.DueDate, err)
	}
	var done int64
	if !a.CompletedAt.IsZero() {
		done = a.CompletedAt.UnixMilli()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE control_actions SET description = ?, owner_id = ?, due_at = ?, status = ?, note = ?,
		completed_at = ?, updated_at = ? WHERE id = ?`, a.Description, a.OwnerID, due.UnixMilli(), string(a.Status), a.Note,
		done, now, a.ID); err != nil {
		return fmt.Errorf("update corrective action %d: %w", a.ID, err)
	}
	return nil
}

// ---- evaluations ----

const evalCols = `record_id, period, feedback, measurements, gap_analysis, initiatives`

func scanEval(sc interface{ Scan(...any) error }) (int64, Evaluation, error) {
	var id int64
	var e Evaluation
	var fb, ms, in string
	if err := sc.Scan(&id, &e.Period, &fb, &ms, &e.GapAnalysis, &in); err != nil {
		return 0, e, err
	}
	for _, x := range []struct {
		raw string
		v   any
	}{{fb, &e.Feedback}, {ms, &e.Measurements}, {in, &e.Initiatives}} {
		if err := json.Unmarshal([]byte(x.raw), x.v); err != nil {
			return 0, e, fmt.Errorf("decode evaluation %d: %w", id, err)
		}
	}
	return id, e, nil
}

func loadEvalRow(ctx context.Context, q db.Queryer, id int64) (Evaluation, error) {
	_, e, err := scanEval(q.QueryRowContext(ctx, `SELECT `+evalCols+` FROM control_evaluations WHERE record_id = ?`, id))
	if err != nil {
		return e, fmt.Errorf("read evaluation %d: %w", id, err)
	}
	return e, nil
}

func loadEvals(ctx context.Context, q db.Queryer, ids []int64) (map[int64]Evaluation, error) {
	out := map[int64]Evaluation{}
	if len(ids) == 0 {
		return out, nil
	}
	list, args := in(ids)
	rows, err := q.QueryContext(ctx, `SELECT `+evalCols+` FROM control_evaluations WHERE record_id IN `+list, args...)
	if err != nil {
		return nil, fmt.Errorf("read evaluations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		id, e, err := scanEval(rows)
		if err != nil {
			return nil, err
		}
		out[id] = e
	}
	return out, rows.Err()
}

// saveEval inserts or replaces an evaluation's own row.
func saveEval(ctx context.Context, tx *db.Tx, id int64, e Evaluation) error {
	fb, err := json.Marshal(nonNil(e.Feedback))
	if err != nil {
		return err
	}
	ms, err := json.Marshal(nonNil(e.Measurements))
	if err != nil {
		return err
	}
	in, err := json.Marshal(nonNil(e.Initiatives))
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO control_evaluations (record_id, period, feedback, measurements, gap_analysis, initiatives)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET period = excluded.period, feedback = excluded.feedback,
		measurements = excluded.measurements, gap_analysis = excluded.gap_analysis, initiatives = excluded.initiatives`,
		id, e.Period, string(fb), string(ms), e.GapAnalysis, string(in)); err != nil {
		return fmt.Errorf("save evaluation: %w", err)
	}
	return nil
}

// nonNil turns a nil list into an empty one, so that it is stored and shown as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
