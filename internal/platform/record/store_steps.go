package record

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

const stepCols = `s.id, s.record_id, r.number, r.type, s.action, s.activity, s.from_state, s.to_state, s.state, s.needs_approval,
	s.comment, s.requested_by, s.requested_at, s.performer_override, COALESCE(s.decided_by, 0), s.decided_at, s.reason, s.decision_override`

const stepFrom = ` FROM record_steps s JOIN records r ON r.id = s.record_id`

func scanStep(row scanner) (Step, error) {
	var st Step
	var state string
	var req, dec int64
	err := row.Scan(&st.ID, &st.RecordID, &st.Record, &st.RecordType, &st.Action, &st.Activity, &st.FromState, &st.ToState,
		&state, &st.NeedsApproval, &st.Comment, &st.RequestedBy, &req, &st.PerformerOverride, &st.DecidedBy, &dec,
		&st.Reason, &st.DecisionOverride)
	st.State, st.RequestedAt, st.DecidedAt = StepState(state), db.Time(req), db.Time(dec)
	st.Approvers = []int64{}
	return st, err
}

// loadStep reads a step; lock takes its row lock (after the caller locked the record).
func loadStep(ctx context.Context, q db.Queryer, d *db.DB, id int64, lock bool) (Step, error) {
	suffix := ""
	if lock && d.Engine() == db.Postgres {
		suffix = " FOR UPDATE OF s"
	}
	st, err := scanStep(q.QueryRowContext(ctx, `SELECT `+stepCols+stepFrom+` WHERE s.id = ?`+suffix, id))
	if db.IsNoRows(err) {
		return st, errs.E(errs.NotFound, "no step %d", id)
	}
	if err != nil {
		return st, fmt.Errorf("load step %d: %w", id, err)
	}
	return st, nil
}

// openSteps lists a record's waiting steps.
func openSteps(ctx context.Context, q db.Queryer, recordID int64) ([]Step, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+stepCols+stepFrom+` WHERE s.record_id = ? AND s.state IN ('consulting', 'pending_approval') ORDER BY s.id`, recordID)
	if err != nil {
		return nil, fmt.Errorf("open steps: %w", err)
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		st, err := scanStep(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

func insertStep(ctx context.Context, tx *db.Tx, st *Step, now int64) error {
	err := tx.QueryRowContext(ctx, `INSERT INTO record_steps (record_id, action, activity, from_state, to_state, state,
		needs_approval, comment, requested_by, requested_at, performer_override) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		st.RecordID, st.Action, st.Activity, st.FromState, st.ToState, string(st.State), st.NeedsApproval, st.Comment,
		st.RequestedBy, now, st.PerformerOverride).Scan(&st.ID)
	if db.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "%s on %s already waits for consultation or approval", st.Action, st.Record)
	}
	if err != nil {
		return fmt.Errorf("insert step: %w", err)
	}
	st.RequestedAt = db.Time(now)
	return nil
}

// setStepState moves a waiting step on; by, reason and override record a decision.
func setStepState(ctx context.Context, tx *db.Tx, st *Step, state StepState, by int64, reason string, override bool, now int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE record_steps SET state = ?, decided_by = ?, decided_at = ?, reason = ?, decision_override = ?
		WHERE id = ? AND state = ?`, string(state), db.NullID(by), now, reason, override, st.ID, string(st.State))
	if err != nil {
		return fmt.Errorf("update step %d: %w", st.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.E(errs.Conflict, "step %d was decided concurrently", st.ID)
	}
	st.State, st.DecidedBy, st.DecidedAt, st.Reason, st.DecisionOverride = state, by, db.Time(now), reason, override
	return nil
}

func addApprovers(ctx context.Context, tx *db.Tx, st *Step, users []int64) error {
	for _, u := range users {
		if _, err := tx.ExecContext(ctx, `INSERT INTO record_step_approvers (step_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, st.ID, u); err != nil {
			return fmt.Errorf("add approver: %w", err)
		}
	}
	st.Approvers = append(st.Approvers, users...)
	return nil
}

// fillApprovers loads the approvers of steps in one query.
func fillApprovers(ctx context.Context, q db.Queryer, steps []Step) error {
	if len(steps) == 0 {
		return nil
	}
	idx := map[int64]int{}
	args := make([]any, len(steps))
	for i, st := range steps {
		idx[st.ID] = i
		args[i] = st.ID
	}
	rows, err := q.QueryContext(ctx, `SELECT step_id, user_id FROM record_step_approvers WHERE step_id IN (`+
		strings.TrimSuffix(strings.Repeat("?,", len(steps)), ",")+`) ORDER BY step_id, user_id`, args...)
	if err != nil {
		return fmt.Errorf("load approvers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s, u int64
		if err := rows.Scan(&s, &u); err != nil {
			return err
		}
		steps[idx[s]].Approvers = append(steps[idx[s]].Approvers, u)
	}
	return rows.Err()
}

// cancelOpenSteps cancels a record's waiting steps other than except, with
// their open consultations, and returns their ids.
func cancelOpenSteps(ctx context.Context, tx *db.Tx, recordID, except, now int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE record_steps SET state = 'cancelled', decided_at = ?, reason = 'the record moved on'
		WHERE record_id = ? AND id <> ? AND state IN ('consulting', 'pending_approval') RETURNING id`, now, recordID, except)
	if err != nil {
		return nil, fmt.Errorf("cancel steps: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := cancelConsultations(ctx, tx, id, now); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func cancelConsultations(ctx context.Context, tx *db.Tx, stepID, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE record_consultations SET state = 'cancelled', decided_at = ? WHERE step_id = ? AND state = 'open'`,
		now, stepID); err != nil {
		return fmt.Errorf("cancel consultations: %w", err)
	}
	return nil
}

const consultCols = `c.id, c.step_id, r.id, r.number, r.type, s.action, s.activity, c.user_id, c.roles, c.state, c.answer,
	COALESCE(c.decided_by, 0), c.decided_at, c.created_at`

const consultFrom = ` FROM record_consultations c JOIN record_steps s ON s.id = c.step_id JOIN records r ON r.id = s.record_id`

func scanConsultation(row scanner) (Consultation, error) {
	var c Consultation
	var state string
	var dec, created int64
	err := row.Scan(&c.ID, &c.StepID, &c.RecordID, &c.Record, &c.RecordType, &c.Action, &c.Activity, &c.UserID, &c.Roles, &state, &c.Answer,
		&c.DecidedBy, &dec, &created)
	c.State, c.DecidedAt, c.CreatedAt = ConsultationState(state), db.Time(dec), db.Time(created)
	return c, err
}

func loadConsultation(ctx context.Context, q db.Queryer, id int64) (Consultation, error) {
	c, err := scanConsultation(q.QueryRowContext(ctx, `SELECT `+consultCols+consultFrom+` WHERE c.id = ?`, id))
	if db.IsNoRows(err) {
		return c, errs.E(errs.NotFound, "no consultation %d", id)
	}
	if err != nil {
		return c, fmt.Errorf("load consultation %d: %w", id, err)
	}
	return c, nil
}

func insertConsultation(ctx context.Context, tx *db.Tx, c *Consultation, now int64) error {
	if err := tx.QueryRowContext(ctx, `INSERT INTO record_consultations (step_id, user_id, roles, state, created_at)
		VALUES (?, ?, ?, 'open', ?) RETURNING id`, c.StepID, c.UserID, c.Roles, now).Scan(&c.ID); err != nil {
		return fmt.Errorf("insert consultation: %w", err)
	}
	c.State, c.CreatedAt = ConsultationOpen, db.Time(now)
	return nil
}

// closeConsultationRow answers or waives an open consultation.
func closeConsultationRow(ctx context.Context, tx *db.Tx, c *Consultation, state ConsultationState, text string, by, now int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE record_consultations SET state = ?, answer = ?, decided_by = ?, decided_at = ?
		WHERE id = ? AND state = 'open'`, string(state), text, by, now, c.ID)
	if err != nil {
		return fmt.Errorf("close consultation %d: %w", c.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errs.E(errs.Conflict, "consultation %d is no longer open", c.ID)
	}
	c.State, c.Answer, c.DecidedBy, c.DecidedAt = state, text, by, db.Time(now)
	return nil
}

func countOpenConsultations(ctx context.Context, q db.Queryer, stepID int64) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM record_consultations WHERE step_id = ? AND state = 'open'`, stepID).Scan(&n); err != nil {
		return 0, fmt.Errorf("count consultations: %w", err)
	}
	return n, nil
}

// stepConsultations lists a step's consultations.
func stepConsultations(ctx context.Context, q db.Queryer, stepID int64) ([]Consultation, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+consultCols+consultFrom+` WHERE c.step_id = ? ORDER BY c.id`, stepID)
	if err != nil {
		return nil, fmt.Errorf("step consultations: %w", err)
	}
	return scanConsultations(rows)
}

func scanConsultations(rows *sql.Rows) ([]Consultation, error) {
	defer rows.Close()
	out := []Consultation{}
	for rows.Next() {
		c, err := scanConsultation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// extraWhere adds a condition the listing spec cannot express to a built query.
func extraWhere(q *listing.Query, cond string, args ...any) {
	if q.Where == "" {
		q.Where = " WHERE " + cond
		q.Page = strings.Replace(q.Page, " WHERE ", " AND ", 1)
	} else {
		q.Where += " AND " + cond
	}
	q.Args = append(q.Args, args...)
}
