package cmdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// NewRelation is a relation to add: source —type→ target.
type NewRelation struct {
	SourceID int64
	Type     string
	TargetID int64
	// ChangeRef names the approved change that authorises it; see CIUpdate.
	ChangeRef string
}

// AddRelation relates two CIs (CfM3). A CI cannot relate to itself; cycles
// through other CIs are allowed, and impact analysis handles them.
func (s *Service) AddRelation(ctx context.Context, in NewRelation) (out Relation, err error) {
	defer errs.Wrap(&err, "relate CI %d to CI %d", in.SourceID, in.TargetID)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	src, err := getCI(ctx, s.db, cat, in.SourceID, "")
	if err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActControl, "change the relations of", ciObject(src.ID), scopeOf(cat, src.ClassID, src.ID)); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		out, err = s.insertRelation(ctx, tx, cat, in, "body")
		return err
	})
	return out, err
}

// insertRelation validates and writes a relation inside tx.
func (s *Service) insertRelation(ctx context.Context, tx *db.Tx, cat *catalog, in NewRelation, field string) (Relation, error) {
	t, err := cat.relType(field+".type", in.Type)
	if err != nil {
		return Relation{}, err
	}
	if in.SourceID == in.TargetID {
		return Relation{}, errs.Field(field+".targetId", "a CI cannot "+t.Label+" itself", in.TargetID)
	}
	ends, err := refsOf(ctx, tx, cat, []int64{in.SourceID, in.TargetID})
	if err != nil {
		return Relation{}, err
	}
	var fe []errs.FieldError
	if _, ok := ends[in.SourceID]; !ok {
		fe = append(fe, errs.FieldError{Location: field + ".sourceId", Message: fmt.Sprintf("no CI with id %d", in.SourceID), Value: in.SourceID})
	}
	if _, ok := ends[in.TargetID]; !ok {
		fe = append(fe, errs.FieldError{Location: field + ".targetId", Message: fmt.Sprintf("no CI with id %d", in.TargetID), Value: in.TargetID})
	}
	if err := errs.WithFields(fe); err != nil {
		return Relation{}, err
	}
	var exists int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM ci_relations WHERE source_id = ? AND type_id = ? AND target_id = ?`, in.SourceID, t.ID, in.TargetID).Scan(&exists)
	if err == nil {
		return Relation{}, errs.E(errs.Conflict, "CI %d already %s CI %d (relation %d)", in.SourceID, t.Label, in.TargetID, exists)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Relation{}, fmt.Errorf("check relation: %w", err)
	}
	now := s.now()
	r := Relation{SourceID: in.SourceID, Type: t.Name, TargetID: in.TargetID, Label: t.Label, CreatedAt: ms(now)}
	if err := tx.QueryRowContext(ctx, `INSERT INTO ci_relations (source_id, type_id, target_id, created_at, created_by) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		in.SourceID, t.ID, in.TargetID, now, actor(ctx)).Scan(&r.ID); err != nil {
		return r, fmt.Errorf("insert relation: %w", err)
	}
	other := ends[in.TargetID]
	r.Other = &other
	what := fmt.Sprintf("relation %s %s %d added", t.Name, "CI", in.TargetID)
	s.trail.Record(ctx, tx, audit.Entry{Action: "ci.relate", ObjectType: "ci", ObjectID: ciObject(in.SourceID),
		Changes: []audit.Change{{Field: "relations." + t.Name, New: in.TargetID}}})
	var version int64
	if err := tx.QueryRowContext(ctx, `SELECT version FROM cis WHERE id = ?`, in.SourceID).Scan(&version); err != nil {
		return r, err
	}
	if err := s.flagUnauthorised(ctx, tx, in.SourceID, version, what, in.ChangeRef); err != nil {
		return r, err
	}
	return r, s.events.Emit(ctx, tx, outbox.Event{Type: "ci.related", Subject: ciObject(in.SourceID), Data: r})
}

// RemoveRelation ends a relation (CfM3); it stays in the CI's history.
func (s *Service) RemoveRelation(ctx context.Context, id int64, changeRef string) (err error) {
	defer errs.Wrap(&err, "end relation %d", id)
	cat, err := s.catalog(ctx)
	if err != nil {
		return err
	}
	var src, typ, dst, created int64
	var by sql.NullInt64
	err = s.db.QueryRowContext(ctx, `SELECT source_id, type_id, target_id, created_at, created_by FROM ci_relations WHERE id = ?`, id).Scan(&src, &typ, &dst, &created, &by)
	if errors.Is(err, sql.ErrNoRows) {
		return errs.E(errs.NotFound, "no current relation with id %d", id)
	}
	if err != nil {
		return err
	}
	source, err := getCI(ctx, s.db, cat, src, "")
	if err != nil {
		return err
	}
	if _, err := s.records.Authorize(ctx, Process, ActControl, "change the relations of", ciObject(src), scopeOf(cat, source.ClassID, src)); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		res, err := tx.ExecContext(ctx, `DELETE FROM ci_relations WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete relation: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no current relation with id %d", id)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ci_relations_ended (id, source_id, type_id, target_id, created_at, created_by, ended_at, ended_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, id, src, typ, dst, created, by, now, actor(ctx)); err != nil {
			return fmt.Errorf("keep ended relation: %w", err)
		}
		name := cat.relTypes[typ].Name
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci.unrelate", ObjectType: "ci", ObjectID: ciObject(src),
			Changes: []audit.Change{{Field: "relations." + name, Old: dst}}})
		var version int64
		if err := tx.QueryRowContext(ctx, `SELECT version FROM cis WHERE id = ?`, src).Scan(&version); err != nil {
			return err
		}
		if err := s.flagUnauthorised(ctx, tx, src, version, fmt.Sprintf("relation %s CI %d ended", name, dst), changeRef); err != nil {
			return err
		}
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.unrelated", Subject: ciObject(src),
			Data: map[string]any{"id": id, "sourceId": src, "type": name, "targetId": dst}})
	})
}

// Relations are a CI's relations seen from it: Outgoing (it —type→ other)
// and Incoming (other —type→ it), each read with its own label.
type Relations struct {
	CIID     int64      `json:"ciId"`
	Outgoing []Relation `json:"outgoing"`
	Incoming []Relation `json:"incoming"`
	// At is the moment they are shown as of, or zero for now.
	At time.Time `json:"at,omitzero"`
}

// Relations lists a CI's relations now, or as they were at (when non-zero).
// It costs two queries now, four at a past moment, however many relations there are.
func (s *Service) Relations(ctx context.Context, id int64, at time.Time) (out Relations, err error) {
	defer errs.Wrap(&err, "relations of CI %d", id)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	var exists int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM cis WHERE id = ?`, id).Scan(&exists); err != nil {
		return out, err
	}
	if exists == 0 {
		return out, errs.E(errs.NotFound, "no CI with id %d", id)
	}
	out = Relations{CIID: id, Outgoing: []Relation{}, Incoming: []Relation{}, At: at}
	for _, dir := range []struct {
		mine, other string
		into        *[]Relation
	}{{"source_id", "target_id", &out.Outgoing}, {"target_id", "source_id", &out.Incoming}} {
		q := `SELECT r.id, r.source_id, r.type_id, r.target_id, r.created_at, 0, c.name, c.class_id, c.status
			FROM ci_relations r JOIN cis c ON c.id = r.` + dir.other + ` WHERE r.` + dir.mine + ` = ?`
		args := []any{id}
		if !at.IsZero() {
			t := at.UnixMilli()
			q += ` AND r.created_at <= ?
			UNION ALL SELECT r.id, r.source_id, r.type_id, r.target_id, r.created_at, r.ended_at, c.name, c.class_id, c.status
			FROM ci_relations_ended r JOIN cis c ON c.id = r.` + dir.other + ` WHERE r.` + dir.mine + ` = ? AND r.created_at <= ? AND r.ended_at > ?`
			args = append(args, t, id, t, t)
		}
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return out, err
		}
		for rows.Next() {
			var r Relation
			var typ, created, ended, class int64
			var o CIRef
			if err := rows.Scan(&r.ID, &r.SourceID, &typ, &r.TargetID, &created, &ended, &o.Name, &class, &o.Status); err != nil {
				rows.Close()
				return out, err
			}
			r.CreatedAt = ms(created)
			if ended != 0 {
				r.EndedAt = ms(ended)
			}
			t := cat.relTypes[typ]
			r.Type, r.Label = t.Name, t.Label
			if dir.mine == "target_id" {
				r.Label = t.InverseLabel
			}
			o.ID = r.TargetID
			if dir.mine == "target_id" {
				o.ID = r.SourceID
			}
			if cl, ok := cat.classes[class]; ok {
				o.Class = cl.Name
			}
			r.Other = &o
			*dir.into = append(*dir.into, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return out, err
		}
		slices.SortFunc(*dir.into, func(a, b Relation) int {
			if a.Type != b.Type {
				if a.Type < b.Type {
					return -1
				}
				return 1
			}
			return int(a.ID - b.ID)
		})
	}
	return out, nil
}
