package request

import (
	"context"
	"fmt"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// ---- approvals ----

const approvalCols = `a.id, a.level, a.kind, COALESCE(a.approver_id, 0), COALESCE(NULLIF(au.display_name, ''), au.username, ''), COALESCE(a.team_id, 0),
	COALESCE(at.name, ''), a.state, COALESCE(a.decided_by, 0), COALESCE(NULLIF(du.display_name, ''), du.username, ''), a.decided_at, a.reason`

const approvalFrom = ` FROM request_approvals a LEFT JOIN users au ON au.id = a.approver_id LEFT JOIN teams at ON at.id = a.team_id
	LEFT JOIN users du ON du.id = a.decided_by`

func scanApproval(sc interface{ Scan(...any) error }, more ...any) (RequestApproval, error) {
	var a RequestApproval
	var kind, state string
	var at int64
	err := sc.Scan(append([]any{&a.ID, &a.Level, &kind, &a.ApproverID, &a.ApproverName, &a.TeamID, &a.TeamName, &state, &a.DecidedBy,
		&a.DecidedByName, &at, &a.Reason}, more...)...)
	a.Kind, a.State, a.DecidedAt = ApprovalKind(kind), ApprovalState(state), db.Time(at)
	return a, err
}

// loadApprovals reads a request's approvals, level by level.
func loadApprovals(ctx context.Context, q db.Queryer, requestID int64) ([]RequestApproval, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+approvalCols+approvalFrom+` WHERE a.request_id = ? ORDER BY a.level, a.id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("read approvals: %w", err)
	}
	defer rows.Close()
	var out []RequestApproval
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("read approvals: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// loadApproval reads one approval of a request.
func loadApproval(ctx context.Context, q db.Queryer, requestID, id int64) (RequestApproval, error) {
	a, err := scanApproval(q.QueryRowContext(ctx, `SELECT `+approvalCols+approvalFrom+` WHERE a.id = ? AND a.request_id = ?`, id, requestID))
	if db.IsNoRows(err) {
		return a, errs.E(errs.NotFound, "the request has no approval %d", id)
	}
	if err != nil {
		return a, fmt.Errorf("read approval %d: %w", id, err)
	}
	return a, nil
}

func insertApproval(ctx context.Context, tx *db.Tx, requestID int64, level int, kind ApprovalKind, user, team int64,
	state ApprovalState, now int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO request_approvals (request_id, level, kind, approver_id, team_id, state, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, requestID, level, string(kind), db.NullID(user), db.NullID(team), string(state), now); err != nil {
		return fmt.Errorf("insert approval: %w", err)
	}
	return nil
}

// decideApproval records the decision on one approval that is still pending.
func decideApproval(ctx context.Context, tx *db.Tx, id int64, state ApprovalState, by int64, reason string, now int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE request_approvals SET state = ?, decided_by = ?, decided_at = ?, reason = ?
		WHERE id = ? AND state = 'pending'`, string(state), db.NullID(by), now, reason, id)
	if err != nil {
		return fmt.Errorf("decide approval %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.E(errs.Conflict, "approval %d was decided concurrently", id)
	}
	return nil
}

// moveApprovals moves a request's approvals in one of from (of one level, or any when level is 0) to state to.
func moveApprovals(ctx context.Context, tx *db.Tx, requestID int64, level int, to ApprovalState, from ...ApprovalState) error {
	list, args := db.In(from)
	q := `UPDATE request_approvals SET state = ? WHERE request_id = ? AND state IN ` + list
	args = append([]any{string(to), requestID}, args...)
	if level != 0 {
		q += ` AND level = ?`
		args = append(args, level)
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("move approvals to %s: %w", to, err)
	}
	return nil
}

// levelApprovers lists the users who may decide a level of a request: its
// approvers and the active members of its teams, but never the requester.
func levelApprovers(ctx context.Context, q db.Queryer, requestID int64, level int, requester int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT DISTINCT u.id FROM request_approvals a
		JOIN users u ON u.id = a.approver_id OR u.id IN (SELECT m.user_id FROM team_members m WHERE m.team_id = a.team_id)
		WHERE a.request_id = ? AND a.level = ? AND NOT u.disabled AND u.id <> ? ORDER BY u.id`, requestID, level, requester)
	if err != nil {
		return nil, fmt.Errorf("read approvers: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// mayDecide reports whether user is an approver of a: its approver, or a member of its team.
func mayDecide(ctx context.Context, q db.Queryer, a RequestApproval, user int64) (bool, error) {
	if a.ApproverID != 0 {
		return a.ApproverID == user, nil
	}
	if a.TeamID == 0 {
		return false, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM team_members WHERE team_id = ? AND user_id = ?`, a.TeamID, user).Scan(&n); err != nil {
		return false, fmt.Errorf("check team membership: %w", err)
	}
	return n > 0, nil
}

// teamMembers lists the active members of a team, but not except.
func teamMembers(ctx context.Context, q db.Queryer, team, except int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT u.id FROM team_members m JOIN users u ON u.id = m.user_id
		WHERE m.team_id = ? AND NOT u.disabled AND u.id <> ? ORDER BY u.id`, team, except)
	if err != nil {
		return nil, fmt.Errorf("read team members: %w", err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// ---- tasks ----

func insertTaskRow(ctx context.Context, tx *db.Tx, taskID, requestID int64, stage, position int) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO request_tasks (record_id, request_id, stage, position) VALUES (?, ?, ?, ?)`,
		taskID, requestID, stage, position); err != nil {
		return fmt.Errorf("insert request task: %w", err)
	}
	return nil
}

// taskParent returns the request and the stage of a task.
func taskParent(ctx context.Context, q db.Queryer, taskID int64) (requestID int64, stage int, err error) {
	err = q.QueryRowContext(ctx, `SELECT request_id, stage FROM request_tasks WHERE record_id = ?`, taskID).Scan(&requestID, &stage)
	if err != nil {
		return 0, 0, fmt.Errorf("read the request of task %d: %w", taskID, err)
	}
	return requestID, stage, nil
}

// openTasks lists the numbers of a request's tasks that are not done or
// cancelled, of one stage (or of all, with stage 0).
func openTasks(ctx context.Context, q db.Queryer, requestID int64, stage int) ([]string, error) {
	query := `SELECT r.number FROM request_tasks t JOIN records r ON r.id = t.record_id
		WHERE t.request_id = ? AND r.state NOT IN ('done', 'cancelled')`
	args := []any{requestID}
	if stage != 0 {
		query += ` AND t.stage = ?`
		args = append(args, stage)
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY t.stage, t.position`, args...)
	if err != nil {
		return nil, fmt.Errorf("read open tasks: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// stageTaskRow is an opened task of a request, as the request's stages show it.
type stageTaskRow struct {
	stage, position int
	task            FulfilmentTask
}

// loadStageTasks reads the opened tasks of a request with their team and assignee names.
func loadStageTasks(ctx context.Context, q db.Queryer, requestID int64) ([]stageTaskRow, error) {
	rows, err := q.QueryContext(ctx, `SELECT t.stage, t.position, r.number, r.title, r.state, COALESCE(r.team_id, 0), COALESCE(tm.name, ''),
		COALESCE(r.assignee_id, 0), COALESCE(NULLIF(u.display_name, ''), u.username, '') FROM request_tasks t JOIN records r ON r.id = t.record_id
		LEFT JOIN teams tm ON tm.id = r.team_id LEFT JOIN users u ON u.id = r.assignee_id
		WHERE t.request_id = ? ORDER BY t.stage, t.position`, requestID)
	if err != nil {
		return nil, fmt.Errorf("read request tasks: %w", err)
	}
	defer rows.Close()
	var out []stageTaskRow
	for rows.Next() {
		var s stageTaskRow
		if err := rows.Scan(&s.stage, &s.position, &s.task.Number, &s.task.Name, &s.task.State, &s.task.TeamID, &s.task.TeamName,
			&s.task.AssigneeID, &s.task.AssigneeName); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// taskCols are the columns scanTask reads after the record's.
const taskCols = record.Columns + `, q.number, q.title, t.stage, COALESCE(tm.name, ''), COALESCE(NULLIF(u.display_name, ''), u.username, '')`

const taskFrom = ` FROM records r JOIN request_tasks t ON t.record_id = r.id JOIN records q ON q.id = t.request_id
	LEFT JOIN teams tm ON tm.id = r.team_id LEFT JOIN users u ON u.id = r.assignee_id`

func scanTask(sc interface{ Scan(...any) error }) (RequestTask, error) {
	var t RequestTask
	rec, err := record.Scan(sc, &t.Request, &t.RequestTitle, &t.Stage, &t.TeamName, &t.AssigneeName)
	t.Record = rec
	return t, err
}

// names reads the names of users and CIs by id, for a request's values.
func names(ctx context.Context, q db.Queryer, users, cis []int64) (map[int64]string, map[int64]string, error) {
	un, err := idStates(ctx, q, `SELECT id, username FROM users WHERE id IN `, users)
	if err != nil {
		return nil, nil, err
	}
	cn, err := idStates(ctx, q, `SELECT id, name FROM cis WHERE id IN `, cis)
	return un, cn, err
}
