package calendar

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

const calendarColumns = `id, name, description, time_zone, windows, holidays, created_at, updated_at, version`

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanCalendar(sc scanner) (Calendar, error) {
	var c Calendar
	var windows, holidays string
	var created, updated int64
	if err := sc.Scan(&c.ID, &c.Name, &c.Description, &c.TimeZone, &windows, &holidays, &created, &updated, &c.Version); err != nil {
		return c, err
	}
	if err := json.Unmarshal([]byte(windows), &c.Windows); err != nil {
		return c, fmt.Errorf("calendar %d: read windows: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(holidays), &c.Holidays); err != nil {
		return c, fmt.Errorf("calendar %d: read holidays: %w", c.ID, err)
	}
	if c.Windows == nil {
		c.Windows = []Window{}
	}
	if c.Holidays == nil {
		c.Holidays = []Holiday{}
	}
	c.CreatedAt, c.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	return c, nil
}

// listCalendars reads every calendar by name.
func listCalendars(ctx context.Context, q db.Queryer) ([]Calendar, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+calendarColumns+` FROM calendars ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list calendars: %w", err)
	}
	defer rows.Close()
	out := []Calendar{}
	for rows.Next() {
		c, err := scanCalendar(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// loadCalendar reads one calendar; lock is "" or the dialect's FOR UPDATE.
func loadCalendar(ctx context.Context, q db.Queryer, id int64, lock string) (Calendar, error) {
	c, err := scanCalendar(q.QueryRowContext(ctx, `SELECT `+calendarColumns+` FROM calendars WHERE id = ?`+lock, id))
	if db.IsNoRows(err) {
		return c, errs.E(errs.NotFound, "no calendar %d", id)
	}
	if err != nil {
		return c, fmt.Errorf("read calendar %d: %w", id, err)
	}
	return c, nil
}

// calendarVersion reads a calendar's version.
func calendarVersion(ctx context.Context, q db.Queryer, id int64) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT version FROM calendars WHERE id = ?`, id).Scan(&v)
	if db.IsNoRows(err) {
		return 0, errs.E(errs.NotFound, "no calendar %d", id)
	}
	if err != nil {
		return 0, fmt.Errorf("read calendar %d version: %w", id, err)
	}
	return v, nil
}

// encode writes the windows and holidays as JSON.
func encode(c Calendar) (string, string, error) {
	w, err := json.Marshal(c.Windows)
	if err != nil {
		return "", "", err
	}
	h, err := json.Marshal(c.Holidays)
	if err != nil {
		return "", "", err
	}
	return string(w), string(h), nil
}

// nameTaken is the error for a name another calendar has.
func nameTaken(name string) error {
	return &errs.Error{Kind: errs.Conflict, Message: fmt.Sprintf("a calendar named %q exists already", name),
		Fields: []errs.FieldError{{Location: "body.name", Message: "another calendar has this name", Value: name}}}
}

// insertCalendar writes a new calendar at version 1.
func insertCalendar(ctx context.Context, tx *db.Tx, c Calendar, now time.Time) (Calendar, error) {
	w, h, err := encode(c)
	if err != nil {
		return c, err
	}
	ms := now.UnixMilli()
	err = tx.QueryRowContext(ctx, `INSERT INTO calendars (name, description, time_zone, windows, holidays, created_at, updated_at, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`, c.Name, c.Description, c.TimeZone, w, h, ms, ms).Scan(&c.ID)
	if db.IsUniqueViolation(err) {
		return c, nameTaken(c.Name)
	}
	if err != nil {
		return c, fmt.Errorf("insert calendar: %w", err)
	}
	c.Version, c.CreatedAt, c.UpdatedAt = 1, clock.FromMillis(ms), clock.FromMillis(ms)
	return c, nil
}

// saveCalendar replaces a calendar's fields if it is still at version, bumping it.
func saveCalendar(ctx context.Context, tx *db.Tx, c Calendar, version int64, now time.Time) (Calendar, error) {
	w, h, err := encode(c)
	if err != nil {
		return c, err
	}
	ms := now.UnixMilli()
	res, err := tx.ExecContext(ctx, `UPDATE calendars SET name = ?, description = ?, time_zone = ?, windows = ?, holidays = ?,
		updated_at = ?, version = version + 1 WHERE id = ? AND version = ?`, c.Name, c.Description, c.TimeZone, w, h, ms, c.ID, version)
	if db.IsUniqueViolation(err) {
		return c, nameTaken(c.Name)
	}
	if err != nil {
		return c, fmt.Errorf("update calendar %d: %w", c.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return c, err
	} else if n != 1 {
		return c, errs.E(errs.PreconditionFailed, "calendar %d changed since version %d; read it again", c.ID, version)
	}
	c.Version, c.UpdatedAt = version+1, clock.FromMillis(ms)
	return c, nil
}

// deleteCalendar removes a calendar nothing refers to.
func deleteCalendar(ctx context.Context, tx *db.Tx, c Calendar) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM calendars WHERE id = ?`, c.ID)
	if db.IsForeignKeyViolation(err) {
		return errs.E(errs.Conflict, "calendar %s is in use by an agreement; change the agreement's calendar first", c.Name)
	}
	if err != nil {
		return fmt.Errorf("delete calendar %d: %w", c.ID, err)
	}
	return nil
}
