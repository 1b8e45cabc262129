package record

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// recordCols are the columns scanRecord reads, in order.
const recordCols = `id, type, number, process, title, description, state, closed, priority, team_id, assignee_id, requester_id, service_id, marking, reassignments, created_at, updated_at, version`

type scanner interface{ Scan(...any) error }

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func scanRecord(row scanner) (Record, error) { return Scan(row) }

// Columns are the record columns Scan reads, of "records r": for areas that
// read their own rows joined to their records.
const Columns = `r.id, r.type, r.number, r.process, r.title, r.description, r.state, r.closed, r.priority, r.team_id,
	r.assignee_id, r.requester_id, r.service_id, r.marking, r.reassignments, r.created_at, r.updated_at, r.version`

// Scan reads a record's Columns (or recordCols), then more destinations.
func Scan(sc interface{ Scan(...any) error }, more ...any) (Record, error) {
	var r Record
	var prio, team, assignee, requester, service sql.NullInt64
	var c, u int64
	err := sc.Scan(append([]any{&r.ID, &r.Type, &r.Number, &r.Process, &r.Title, &r.Description, &r.State, &r.Closed, &prio, &team,
		&assignee, &requester, &service, &r.Marking, &r.Reassignments, &c, &u, &r.Version}, more...)...)
	r.Priority = int(prio.Int64)
	r.TeamID, r.AssigneeID, r.RequesterID, r.ServiceID = team.Int64, assignee.Int64, requester.Int64, service.Int64
	r.CreatedAt, r.UpdatedAt = db.Time(c), db.Time(u)
	return r, err
}

// loadRecord reads a record by number; lock takes the row lock in a transaction.
func loadRecord(ctx context.Context, q db.Queryer, d *db.DB, number string, lock bool) (Record, error) {
	suffix := ""
	if lock {
		suffix = d.ForUpdate()
	}
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordCols+` FROM records WHERE number = ?`+suffix, number))
	if db.IsNoRows(err) {
		return r, errs.E(errs.NotFound, "no record %s", number)
	}
	if err != nil {
		return r, fmt.Errorf("load record %s: %w", number, err)
	}
	return r, nil
}

// loadRecordByID reads a record by id.
func loadRecordByID(ctx context.Context, q db.Queryer, d *db.DB, id int64, lock bool) (Record, error) {
	suffix := ""
	if lock {
		suffix = d.ForUpdate()
	}
	r, err := scanRecord(q.QueryRowContext(ctx, `SELECT `+recordCols+` FROM records WHERE id = ?`+suffix, id))
	if db.IsNoRows(err) {
		return r, errs.E(errs.NotFound, "no record with id %d", id)
	}
	if err != nil {
		return r, fmt.Errorf("load record %d: %w", id, err)
	}
	return r, nil
}

// nextNumber draws the next number of a type from its counter row, creating
// the row with the type's default prefix on first use.
func nextNumber(ctx context.Context, tx *db.Tx, t *Type, now int64) (string, error) {
	var prefix string
	var n int64
	err := tx.QueryRowContext(ctx, `INSERT INTO record_types (name, prefix, last_number, updated_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (name) DO UPDATE SET last_number = record_types.last_number + 1 RETURNING prefix, last_number`,
		t.Name, t.Prefix, now).Scan(&prefix, &n)
	if db.IsUniqueViolation(err) {
		return "", errs.E(errs.Conflict, "the prefix %s of %s is in use by another record type; set another", t.Prefix, t.Name)
	}
	if err != nil {
		return "", fmt.Errorf("draw number for %s: %w", t.Name, err)
	}
	return FormatNumber(prefix, n), nil
}

func insertRecord(ctx context.Context, tx *db.Tx, r Record, now int64) (Record, error) {
	out, err := scanRecord(tx.QueryRowContext(ctx, `INSERT INTO records (type, number, process, title, description, state, closed, priority,
		team_id, assignee_id, requester_id, service_id, marking, reassignments, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?) RETURNING `+recordCols,
		r.Type, r.Number, r.Process, r.Title, r.Description, r.State, r.Closed, db.NullID(int64(r.Priority)), db.NullID(r.TeamID),
		db.NullID(r.AssigneeID), db.NullID(r.RequesterID), db.NullID(r.ServiceID), r.Marking, now, now))
	if db.IsUniqueViolation(err) {
		return out, errs.E(errs.Conflict, "record number %s is taken; retry", r.Number)
	}
	if db.IsForeignKeyViolation(err) {
		return out, errs.E(errs.Invalid, "the team, assignee or requester does not exist")
	}
	if err != nil {
		return out, fmt.Errorf("insert record: %w", err)
	}
	return out, nil
}

// saveRecord writes every mutable field of r if its version is still current
// and returns the stored row with its new version.
func saveRecord(ctx context.Context, tx *db.Tx, r Record, now int64) (Record, error) {
	out, err := scanRecord(tx.QueryRowContext(ctx, `UPDATE records SET title = ?, description = ?, state = ?, closed = ?,
		priority = ?, team_id = ?, assignee_id = ?, service_id = ?, marking = ?, reassignments = ?, updated_at = ?,
		version = version + 1 WHERE id = ? AND version = ? RETURNING `+recordCols,
		r.Title, r.Description, r.State, r.Closed, db.NullID(int64(r.Priority)), db.NullID(r.TeamID), db.NullID(r.AssigneeID),
		db.NullID(r.ServiceID), r.Marking, r.Reassignments, now, r.ID, r.Version))
	if db.IsNoRows(err) {
		return out, errs.E(errs.PreconditionFailed, "record %s changed concurrently; read it again", r.Number)
	}
	if db.IsForeignKeyViolation(err) {
		return out, errs.E(errs.Invalid, "the team or assignee does not exist")
	}
	if err != nil {
		return out, fmt.Errorf("save record %s: %w", r.Number, err)
	}
	return out, nil
}

// addJournal writes one journal entry in tx.
func addJournal(ctx context.Context, tx *db.Tx, recordID int64, kind JournalKind, body string, authorID int64, author string, now int64) (JournalEntry, error) {
	e := JournalEntry{RecordID: recordID, Kind: kind, Body: body, AuthorID: authorID, AuthorName: author, CreatedAt: db.Time(now)}
	err := tx.QueryRowContext(ctx, `INSERT INTO record_journal (record_id, kind, body, author_id, author_name, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, recordID, string(kind), body, db.NullID(authorID), author, now).Scan(&e.ID)
	if err != nil {
		return e, fmt.Errorf("write journal entry: %w", err)
	}
	return e, nil
}

// loadJournal reads a record's journal, oldest first; internal includes work notes and system entries.
func loadJournal(ctx context.Context, q db.Queryer, recordID int64, internal bool) ([]JournalEntry, error) {
	where := ""
	if !internal {
		where = ` AND kind = 'comment'`
	}
	rows, err := q.QueryContext(ctx, `SELECT id, record_id, kind, body, COALESCE(author_id, 0), author_name, created_at
		FROM record_journal WHERE record_id = ?`+where+` ORDER BY id`, recordID)
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	defer rows.Close()
	out := []JournalEntry{}
	for rows.Next() {
		var e JournalEntry
		var kind string
		var at int64
		if err := rows.Scan(&e.ID, &e.RecordID, &kind, &e.Body, &e.AuthorID, &e.AuthorName, &at); err != nil {
			return nil, fmt.Errorf("read journal: %w", err)
		}
		e.Kind, e.CreatedAt = JournalKind(kind), db.Time(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// isTeamMember reports whether user belongs to team.
func isTeamMember(ctx context.Context, q db.Queryer, team, user int64) (bool, error) {
	if team == 0 || user == 0 {
		return false, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM team_members WHERE team_id = ? AND user_id = ?`, team, user).Scan(&n); err != nil {
		return false, fmt.Errorf("check team membership: %w", err)
	}
	return n > 0, nil
}

// checkAssignment validates a team and an assignee: both exist, the assignee
// is an active account, and is a member of the team when one is set.
func checkAssignment(ctx context.Context, q db.Queryer, team, assignee int64) error {
	var fe []errs.FieldError
	if team < 0 || assignee < 0 {
		return errs.Field("body", "ids are positive", nil)
	}
	if team != 0 {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM teams WHERE id = ?`, team).Scan(&n); err != nil {
			return fmt.Errorf("check team: %w", err)
		}
		if n == 0 {
			fe = append(fe, errs.FieldError{Location: "body.teamId", Message: "no such team", Value: team})
		}
	}
	if assignee != 0 {
		var disabled bool
		err := q.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, assignee).Scan(&disabled)
		switch {
		case db.IsNoRows(err):
			fe = append(fe, errs.FieldError{Location: "body.assigneeId", Message: "no such user", Value: assignee})
		case err != nil:
			return fmt.Errorf("check assignee: %w", err)
		case disabled:
			fe = append(fe, errs.FieldError{Location: "body.assigneeId", Message: "the account is disabled", Value: assignee})
		}
	}
	if len(fe) == 0 && team != 0 && assignee != 0 {
		ok, err := isTeamMember(ctx, q, team, assignee)
		if err != nil {
			return err
		}
		if !ok {
			fe = append(fe, errs.FieldError{Location: "body.assigneeId", Message: "the assignee is not a member of the team", Value: assignee})
		}
	}
	return errs.WithFields(fe)
}

// userExists reports whether a user id names an account.
func userExists(ctx context.Context, q db.Queryer, id int64) (bool, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("check user: %w", err)
	}
	return n > 0, nil
}

// currentPrefix returns the prefix numbers of type name are drawn with: the
// stored one, or def before the type's first record.
func currentPrefix(ctx context.Context, q db.Queryer, name, def string) (string, int64, error) {
	var p string
	var v int64
	err := q.QueryRowContext(ctx, `SELECT prefix, version FROM record_types WHERE name = ?`, name).Scan(&p, &v)
	if db.IsNoRows(err) {
		return def, 0, nil
	}
	if err != nil {
		return "", 0, fmt.Errorf("read prefix of %s: %w", name, err)
	}
	return p, v, nil
}
