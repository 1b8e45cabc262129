package raci

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"steward/internal/framework"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// tailoringSQL loads the whole tailoring in one query: the generation (g), process heads (h),
// cells (c), local roles (r), role names (n), local activities (a) and activity settings (s).
const tailoringSQL = `
SELECT 'g', '', '', '', '', '', '', generation, 0 FROM raci_state WHERE id = 1
UNION ALL SELECT 'h', process, '', role_columns, '', '', '', version, CASE WHEN tailored THEN 1 ELSE 0 END FROM raci_processes
UNION ALL SELECT 'c', process, activity, role, letters, '', '', 0, 0 FROM raci_cells
UNION ALL SELECT 'r', process, code, name, description, '', '', id, 0 FROM raci_roles
UNION ALL SELECT 'n', process, role, name, '', '', '', 0, 0 FROM raci_role_names
UNION ALL SELECT 'a', process, code, name, description, parent, after_activity, id, 0 FROM raci_activities
UNION ALL SELECT 's', process, activity, '', '', '', '',
	CASE WHEN requires_approval THEN 1 ELSE 0 END, CASE WHEN requires_consultation THEN 1 ELSE 0 END FROM raci_activity_settings`

// loadTailoring reads the tailoring with one query.
func loadTailoring(ctx context.Context, q db.Queryer) (*tailoring, error) {
	rows, err := q.QueryContext(ctx, tailoringSQL)
	if err != nil {
		return nil, fmt.Errorf("load process tailoring: %w", err)
	}
	defer rows.Close()
	t := newTailoring()
	for rows.Next() {
		var kind, process, code, s1, s2, s3, s4 string
		var n1, n2 int64
		if err := rows.Scan(&kind, &process, &code, &s1, &s2, &s3, &s4, &n1, &n2); err != nil {
			return nil, fmt.Errorf("load process tailoring: %w", err)
		}
		switch kind {
		case "g":
			t.generation = n1
		case "h":
			h := head{version: n1, tailored: n2 == 1}
			if s1 != "" {
				h.columns = strings.Split(s1, ",")
			}
			t.heads[process] = h
		case "c":
			c, err := framework.ParseCell(s2)
			if err != nil {
				return nil, fmt.Errorf("load process tailoring: cell %s/%s/%s: %w", process, code, s1, err)
			}
			acts := t.cells[process]
			if acts == nil {
				acts = map[string]map[string]framework.Cell{}
				t.cells[process] = acts
			}
			if acts[code] == nil {
				acts[code] = map[string]framework.Cell{}
			}
			acts[code][s1] = c
		case "r":
			t.roles = append(t.roles, localRole{id: n1, process: process, code: code, name: s1, description: s2})
		case "n":
			if t.names[process] == nil {
				t.names[process] = map[string]string{}
			}
			t.names[process][code] = s1
		case "a":
			t.activities = append(t.activities, localActivity{id: n1, process: process, code: code, name: s1, description: s2, parent: s3, after: s4})
		case "s":
			if t.settings[process] == nil {
				t.settings[process] = map[string]flags{}
			}
			t.settings[process][code] = flags{approval: n1 == 1, consultation: n2 == 1}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load process tailoring: %w", err)
	}
	slices.SortFunc(t.roles, func(a, b localRole) int { return cmp.Compare(a.id, b.id) })
	slices.SortFunc(t.activities, func(a, b localActivity) int { return cmp.Compare(a.id, b.id) })
	return t, nil
}

// loadGeneration reads the tailoring's generation.
func loadGeneration(ctx context.Context, q db.Queryer) (int64, error) {
	var g int64
	if err := q.QueryRowContext(ctx, `SELECT generation FROM raci_state WHERE id = 1`).Scan(&g); err != nil {
		return 0, fmt.Errorf("read tailoring generation: %w", err)
	}
	return g, nil
}

// headWrite is what a tailoring writes to a process's head row.
type headWrite struct {
	process  string
	tailored bool
	columns  []string
	by       int64
	now      int64
}

// lockHead locks a process's head row, creating it at version 1 (the default) if the process
// was never tailored, so that concurrent tailorings of one process queue on it; then it
// checks the version the caller read (0 skips the check). A version that is no longer
// current is errs.PreconditionFailed.
func lockHead(ctx context.Context, tx *db.Tx, process string, expect, now int64) (cur int64, err error) {
	if _, err := tx.ExecContext(ctx, `INSERT INTO raci_processes (process, version, updated_at) VALUES (?, 1, ?)
		ON CONFLICT (process) DO NOTHING`, process, now); err != nil {
		return 0, fmt.Errorf("create the head of %s: %w", process, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT version FROM raci_processes WHERE process = ?`+tx.DB().ForUpdate(), process).Scan(&cur); err != nil {
		return 0, fmt.Errorf("lock process %s: %w", process, err)
	}
	if expect != 0 && expect != cur {
		return 0, errs.E(errs.PreconditionFailed, "process %s was changed since version %d (now %d); reload and try again", process, expect, cur)
	}
	return cur, nil
}

// advanceHead writes the head row with the next version and advances the tailoring's
// generation. It returns the new version.
func advanceHead(ctx context.Context, tx *db.Tx, w headWrite, cur int64) (int64, error) {
	var next int64
	err := tx.QueryRowContext(ctx, `UPDATE raci_processes SET version = version + 1, tailored = ?, role_columns = ?, updated_at = ?, updated_by = ?
		WHERE process = ? AND version = ? RETURNING version`, w.tailored, strings.Join(w.columns, ","), w.now, w.by, w.process, cur).Scan(&next)
	if db.IsNoRows(err) {
		return 0, errs.E(errs.PreconditionFailed, "process %s was changed concurrently; reload and try again", w.process)
	}
	if err != nil {
		return 0, fmt.Errorf("advance process %s: %w", w.process, err)
	}
	if err := bumpGeneration(ctx, tx); err != nil {
		return 0, err
	}
	return next, nil
}

// bumpGeneration tells every node that the tailoring changed.
func bumpGeneration(ctx context.Context, tx *db.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE raci_state SET generation = generation + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("advance tailoring generation: %w", err)
	}
	return nil
}

// writeCells replaces the stored cells of a process with mx's (nothing when mx is nil).
func writeCells(ctx context.Context, tx *db.Tx, process string, mx *framework.Matrix) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM raci_cells WHERE process = ?`, process); err != nil {
		return fmt.Errorf("clear cells of %s: %w", process, err)
	}
	if mx == nil {
		return nil
	}
	const batch = 200
	var args []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		q := `INSERT INTO raci_cells (process, activity, role, letters) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("write cells of %s: %w", process, err)
		}
		args, n = args[:0], 0
		return nil
	}
	for _, row := range mx.Rows {
		for _, role := range slices.Sorted(maps.Keys(row.Cells)) {
			if c := row.Cells[role]; c != 0 {
				args = append(args, process, row.Activity, role, c.String())
				if n++; n == batch {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
	}
	return flush()
}

// insertLocalRole stores a local role; a taken code is errs.Conflict.
func insertLocalRole(ctx context.Context, tx *db.Tx, r localRole, by, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO raci_roles (process, code, name, description, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)`,
		r.process, r.code, r.name, r.description, now, by)
	if db.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "a role with code %q exists", r.code)
	}
	if err != nil {
		return fmt.Errorf("add role %s: %w", r.code, err)
	}
	return nil
}

// writeRoleName sets (or, with name "", removes) a role's display name in a process.
func writeRoleName(ctx context.Context, tx *db.Tx, process, role, name string, now int64) error {
	var err error
	if name == "" {
		_, err = tx.ExecContext(ctx, `DELETE FROM raci_role_names WHERE process = ? AND role = ?`, process, role)
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO raci_role_names (process, role, name, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (process, role) DO UPDATE SET name = excluded.name, updated_at = excluded.updated_at`, process, role, name, now)
	}
	if err != nil {
		return fmt.Errorf("rename role %s in %s: %w", role, process, err)
	}
	return nil
}

// insertLocalActivity stores a local activity; a taken code is errs.Conflict.
func insertLocalActivity(ctx context.Context, tx *db.Tx, a localActivity, by, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO raci_activities (process, code, parent, after_activity, name, description, created_at, created_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, a.process, a.code, a.parent, a.after, a.name, a.description, now, by)
	if db.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "an activity with code %q exists", a.code)
	}
	if err != nil {
		return fmt.Errorf("add activity %s: %w", a.code, err)
	}
	return nil
}

// writeSettings stores an activity's workflow settings.
func writeSettings(ctx context.Context, tx *db.Tx, process, activity string, f flags, now int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO raci_activity_settings (process, activity, requires_approval, requires_consultation, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (process, activity) DO UPDATE SET requires_approval = excluded.requires_approval,
		requires_consultation = excluded.requires_consultation, updated_at = excluded.updated_at`, process, activity, f.approval, f.consultation, now)
	if err != nil {
		return fmt.Errorf("set settings of %s: %w", activity, err)
	}
	return nil
}

// ---- assignments ----

const assignmentCols = `a.id, a.subject, a.role, COALESCE(a.user_id, 0), COALESCE(a.team_id, 0), COALESCE(a.scope_team_id, 0),
	a.scope_service_id, a.assigned_by, a.assigned_at, COALESCE(u.username, ''), COALESCE(t.name, '')`

const assignmentFrom = ` FROM raci_assignments a LEFT JOIN users u ON u.id = a.user_id LEFT JOIN teams t ON t.id = a.team_id`

func scanAssignment(row interface{ Scan(...any) error }, extra ...any) (RoleAssignment, error) {
	var a RoleAssignment
	var at int64
	err := row.Scan(append([]any{&a.ID, &a.Subject, &a.Role, &a.UserID, &a.TeamID, &a.Scope.TeamID, &a.Scope.ServiceID,
		&a.AssignedBy, &at, &a.Username, &a.TeamName}, extra...)...)
	a.AssignedAt = clock.FromMillis(at)
	return a, err
}

// via says how a user holds an assignment.
func via(a RoleAssignment) string {
	if a.TeamID == 0 {
		return "directly"
	}
	return "through team " + a.TeamName
}

// listAssignments returns the assignments matching f, by subject, role and id.
func listAssignments(ctx context.Context, q db.Queryer, f RoleAssignmentFilter) ([]RoleAssignment, error) {
	var where []string
	var args []any
	if f.Subject != "" {
		where, args = append(where, "a.subject = ?"), append(args, f.Subject)
	}
	if f.Role != "" {
		where, args = append(where, "a.role = ?"), append(args, f.Role)
	}
	if f.UserID != 0 {
		where, args = append(where, "a.user_id = ?"), append(args, f.UserID)
	}
	if f.TeamID != 0 {
		where, args = append(where, "a.team_id = ?"), append(args, f.TeamID)
	}
	sql := `SELECT ` + assignmentCols + assignmentFrom
	if len(where) > 0 {
		sql += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := q.QueryContext(ctx, sql+` ORDER BY a.subject, a.role, a.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list role assignments: %w", err)
	}
	defer rows.Close()
	out := []RoleAssignment{}
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, fmt.Errorf("list role assignments: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// getAssignment returns one assignment.
func getAssignment(ctx context.Context, q db.Queryer, id int64) (RoleAssignment, error) {
	a, err := scanAssignment(q.QueryRowContext(ctx, `SELECT `+assignmentCols+assignmentFrom+` WHERE a.id = ?`, id))
	if db.IsNoRows(err) {
		return a, errs.E(errs.NotFound, "no role assignment with id %d", id)
	}
	if err != nil {
		return a, fmt.Errorf("get role assignment %d: %w", id, err)
	}
	return a, nil
}

// loadHeld returns, with one query, every assignment a user holds: their own and those of
// the teams they are a member of.
func loadHeld(ctx context.Context, q db.Queryer, userID int64) ([]held, error) {
	// Two indexed branches instead of one OR, which PostgreSQL would answer with a scan.
	rows, err := q.QueryContext(ctx, `SELECT `+assignmentCols+assignmentFrom+` WHERE a.user_id = ?
		UNION ALL
		SELECT `+assignmentCols+assignmentFrom+` WHERE a.team_id IN (SELECT team_id FROM team_members WHERE user_id = ?)
		ORDER BY 2, 3, 1`, userID, userID)
	if err != nil {
		return nil, fmt.Errorf("load roles of user %d: %w", userID, err)
	}
	defer rows.Close()
	out := []held{}
	for rows.Next() {
		a, err := scanAssignment(rows)
		if err != nil {
			return nil, fmt.Errorf("load roles of user %d: %w", userID, err)
		}
		out = append(out, held{RoleAssignment: a, via: via(a)})
	}
	return out, rows.Err()
}

// loadHolders returns the assignments to any of subjects (all when none are given), limited
// to roles when given, expanded to the enabled users who hold them (team members for a team).
func loadHolders(ctx context.Context, q db.Queryer, subjects, roles []string) ([]holderRow, error) {
	var where []string
	var args []any
	in := func(col string, vals []string) {
		if len(vals) > 0 {
			where = append(where, col+" IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ")+")")
			for _, v := range vals {
				args = append(args, v)
			}
		}
	}
	in("a.subject", subjects)
	in("a.role", roles)
	where = append(where, "h.disabled = ?")
	args = append(args, false)
	cond := strings.Join(where, " AND ")
	// Direct holders and team members in two branches that each use an index
	// (a join on COALESCE(user_id, member) could not).
	rows, err := q.QueryContext(ctx, `SELECT `+assignmentCols+`, h.id, h.username`+assignmentFrom+`
		JOIN users h ON h.id = a.user_id WHERE `+cond+`
		UNION ALL
		SELECT `+assignmentCols+`, h.id, h.username`+assignmentFrom+`
		JOIN team_members m ON m.team_id = a.team_id JOIN users h ON h.id = m.user_id WHERE `+cond+`
		ORDER BY 13, 1`, append(args, args...)...)
	if err != nil {
		return nil, fmt.Errorf("load role holders: %w", err)
	}
	defer rows.Close()
	out := []holderRow{}
	for rows.Next() {
		var r holderRow
		a, err := scanAssignment(rows, &r.userID, &r.username)
		if err != nil {
			return nil, fmt.Errorf("load role holders: %w", err)
		}
		r.held = held{RoleAssignment: a, via: via(a)}
		out = append(out, r)
	}
	return out, rows.Err()
}

// subjectsOf lists the subjects whose assignments count in process p (see applies).
func subjectsOf(p *framework.Process) []string {
	s := []string{p.Code, p.Domain, Everywhere}
	if p.Parent != "" {
		s = append(s, p.Parent)
	}
	return s
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
