package record

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// SavedFilter is a named query of a list page, such as the desk queue
// "P1 and P2 of my teams": the page's path and its query string. Its owner may
// share it with everyone, read-only.
type SavedFilter struct {
	ID     int64 `json:"id"`
	UserID int64 `json:"userId"`
	// Page is the list page the filter belongs to, such as "/desk".
	Page string `json:"page"`
	Name string `json:"name"`
	// Query is the page's URL query string, such as "state=new&priority=1".
	Query string `json:"query"`
	// Shared filters are listed for every user.
	Shared bool `json:"shared"`
	// Mine is true when the caller owns the filter.
	Mine      bool      `json:"mine"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	Version   int64     `json:"version"`
}

var pagePattern = regexp.MustCompile(`^/[a-z0-9/_-]{0,99}$`)

// checkFilter validates a saved filter's fields and normalises its query.
func checkFilter(f *SavedFilter) error {
	var fe []errs.FieldError
	f.Name = strings.TrimSpace(f.Name)
	if n := utf8.RuneCountInString(f.Name); n == 0 || n > 80 || !utf8.ValidString(f.Name) || strings.ContainsFunc(f.Name, isControl) {
		fe = append(fe, errs.FieldError{Location: "body.name", Message: "a name has 1 to 80 characters, without control characters", Value: f.Name})
	}
	if !pagePattern.MatchString(f.Page) {
		fe = append(fe, errs.FieldError{Location: "body.page", Message: "a page path such as /desk", Value: f.Page})
	}
	f.Query = strings.TrimPrefix(strings.TrimSpace(f.Query), "?")
	if len(f.Query) > 2000 {
		fe = append(fe, errs.FieldError{Location: "body.query", Message: "at most 2000 characters"})
	} else if v, err := url.ParseQuery(f.Query); err != nil {
		fe = append(fe, errs.FieldError{Location: "body.query", Message: "not a URL query string: " + err.Error(), Value: f.Query})
	} else {
		// Stored in a canonical order, without the paging of the page it was saved from.
		v.Del("cursor")
		f.Query = v.Encode()
	}
	return errs.WithFields(fe)
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

const filterCols = `id, user_id, page, name, query, shared, created_at, updated_at, version`

func scanFilter(row scanner, caller int64) (SavedFilter, error) {
	var f SavedFilter
	var created, updated int64
	if err := row.Scan(&f.ID, &f.UserID, &f.Page, &f.Name, &f.Query, &f.Shared, &created, &updated, &f.Version); err != nil {
		return f, err
	}
	f.CreatedAt, f.UpdatedAt, f.Mine = db.Time(created), db.Time(updated), f.UserID == caller
	return f, nil
}

// SavedFilters lists the caller's filters of a page and those others shared, the caller's first, by name.
func (s *Service) SavedFilters(ctx context.Context, page string) (out []SavedFilter, err error) {
	defer errs.Wrap(&err, "saved filters of %s", page)
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+filterCols+` FROM saved_filters
		WHERE page = ? AND (user_id = ? OR shared = TRUE)
		ORDER BY CASE WHEN user_id = ? THEN 0 ELSE 1 END, name, id`, page, p.UserID, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out = []SavedFilter{}
	for rows.Next() {
		f, err := scanFilter(rows, p.UserID)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// SaveFilter stores a filter of the caller's, or replaces the one of the same
// page and name (its version rises).
func (s *Service) SaveFilter(ctx context.Context, in SavedFilter) (out SavedFilter, err error) {
	defer errs.Wrap(&err, "save filter %q", in.Name)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	if err := checkFilter(&in); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		out, err = scanFilter(tx.QueryRowContext(ctx, `INSERT INTO saved_filters (user_id, page, name, query, shared, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (user_id, page, name) DO UPDATE SET query = excluded.query, shared = excluded.shared,
			updated_at = excluded.updated_at, version = saved_filters.version + 1
			RETURNING `+filterCols, p.UserID, in.Page, in.Name, in.Query, in.Shared, now, now), p.UserID)
		if err != nil {
			return fmt.Errorf("store filter: %w", err)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "saved_filter.save", ObjectType: "saved_filter", ObjectID: idStr(out.ID),
			Changes: []audit.Change{{Field: "page", New: out.Page}, {Field: "name", New: out.Name}, {Field: "query", New: out.Query},
				{Field: "shared", New: out.Shared}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "saved_filter.saved", Subject: "saved_filter/" + idStr(out.ID), Data: out})
	})
	return out, err
}

// DeleteSavedFilter removes one of the caller's filters; another user's is not found.
func (s *Service) DeleteSavedFilter(ctx context.Context, id int64) (err error) {
	defer errs.Wrap(&err, "delete saved filter %d", id)
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		f, err := scanFilter(tx.QueryRowContext(ctx, `SELECT `+filterCols+` FROM saved_filters WHERE id = ? AND user_id = ?`, id, p.UserID), p.UserID)
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "you have no saved filter %d", id)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM saved_filters WHERE id = ?`, id); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "saved_filter.delete", ObjectType: "saved_filter", ObjectID: idStr(id),
			Changes: []audit.Change{{Field: "name", Old: f.Name}, {Field: "query", Old: f.Query}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "saved_filter.deleted", Subject: "saved_filter/" + idStr(id), Data: f})
	})
}
