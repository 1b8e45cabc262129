package cmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/errs"
)

// Snapshot is a CI and its relations as they were at a moment.
type Snapshot struct {
	At        time.Time `json:"at"`
	CI        CI        `json:"ci"`
	Relations Relations `json:"relations"`
}

// CIAt reads a CI and its relations as they were at a moment (CfM4,
// configuration status accounting). A CI that did not exist yet is NotFound.
func (s *Service) CIAt(ctx context.Context, id int64, at time.Time) (out Snapshot, err error) {
	defer errs.Wrap(&err, "CI %d at %s", id, at.Format(time.RFC3339))
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	cur, err := getCI(ctx, s.db, cat, id, "")
	if err != nil {
		return out, err
	}
	t := at.UnixMilli()
	if cur.CreatedAt.UnixMilli() > t {
		return out, errs.E(errs.NotFound, "CI %d did not exist at %s; it was registered at %s", id, at.UTC().Format(time.RFC3339), cur.CreatedAt.Format(time.RFC3339))
	}
	out.At, out.CI = at.UTC(), cur
	if cur.ValidFrom.UnixMilli() > t {
		var attrs string
		var from, by int64
		err := s.db.QueryRowContext(ctx, `SELECT version, class_id, name, status, min_up, attrs, marking, valid_from, COALESCE(changed_by, 0)
			FROM ci_versions WHERE ci_id = ? AND valid_from <= ? AND valid_to > ? ORDER BY version DESC LIMIT 1`, id, t, t).
			Scan(&out.CI.Version, &out.CI.ClassID, &out.CI.Name, &out.CI.Status, &out.CI.MinUp, &attrs, &out.CI.Marking, &from, &by)
		if errors.Is(err, sql.ErrNoRows) {
			return out, errs.E(errs.NotFound, "no version of CI %d was valid at %s", id, at.UTC().Format(time.RFC3339))
		}
		if err != nil {
			return out, fmt.Errorf("read version: %w", err)
		}
		if err := decodeAttrs(attrs, &out.CI.Attrs); err != nil {
			return out, err
		}
		out.CI.ValidFrom, out.CI.UpdatedAt, out.CI.UpdatedBy = ms(from), ms(from), by
		out.CI.Class = cat.classes[out.CI.ClassID].Name
	}
	out.Relations, err = s.Relations(ctx, id, at)
	return out, err
}

// Version is one version of a CI in its history, with what changed from the one before.
type Version struct {
	Version   int64          `json:"version"`
	ValidFrom time.Time      `json:"validFrom"`
	ValidTo   time.Time      `json:"validTo,omitzero"`
	ChangedBy int64          `json:"changedBy,omitempty"`
	Changes   []audit.Change `json:"changes"`
	CI        CI             `json:"ci"`
}

// Versions lists every version of a CI, newest first, each with its changes.
func (s *Service) Versions(ctx context.Context, id int64) (out []Version, err error) {
	defer errs.Wrap(&err, "history of CI %d", id)
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	cur, err := getCI(ctx, s.db, cat, id, "")
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT version, class_id, name, status, min_up, attrs, marking, valid_from, valid_to, COALESCE(changed_by, 0)
		FROM ci_versions WHERE ci_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var vs []Version
	for rows.Next() {
		var v Version
		var attrs string
		var from, to int64
		if err := rows.Scan(&v.CI.Version, &v.CI.ClassID, &v.CI.Name, &v.CI.Status, &v.CI.MinUp, &attrs, &v.CI.Marking, &from, &to, &v.ChangedBy); err != nil {
			return nil, err
		}
		if err := decodeAttrs(attrs, &v.CI.Attrs); err != nil {
			return nil, err
		}
		v.CI.ID, v.CI.Class = id, cat.classes[v.CI.ClassID].Name
		v.Version, v.ValidFrom, v.ValidTo = v.CI.Version, ms(from), ms(to)
		v.CI.ValidFrom = v.ValidFrom
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	vs = append(vs, Version{Version: cur.Version, ValidFrom: cur.ValidFrom, ChangedBy: cur.UpdatedBy, CI: cur})
	prev := CI{}
	for i := range vs {
		vs[i].Changes = ciChanges(prev, vs[i].CI)
		if vs[i].Changes == nil {
			vs[i].Changes = []audit.Change{}
		}
		prev = vs[i].CI
	}
	for i, j := 0, len(vs)-1; i < j; i, j = i+1, j-1 {
		vs[i], vs[j] = vs[j], vs[i]
	}
	return vs, nil
}
