package record

import (
	"context"
	"fmt"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// Link joins two records: "number <type> target", e.g. INC0000002 caused_by
// PRB0000001. Inverse names are accepted and stored the canonical way round;
// self-links and a second link of the same type between the same two records
// (either way round) are refused.
func (s *Service) Link(ctx context.Context, number string, typ LinkType, target string) (l Link, err error) {
	defer errs.Wrap(&err, "link %s %s %s", number, typ, target)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		l, err = s.link(ctx, tx, number, typ, target)
		return err
	})
	return l, err
}

// LinkIn is Link inside a transaction an area already holds, so that a record
// and its links commit together (a problem raised from incidents, say). It
// sees records created earlier in the same transaction.
func (s *Service) LinkIn(ctx context.Context, tx *db.Tx, number string, typ LinkType, target string) (l Link, err error) {
	defer errs.Wrap(&err, "link %s %s %s", number, typ, target)
	return s.link(ctx, tx, number, typ, target)
}

// readIn loads a record the caller may see, with its type, through tx.
func (s *Service) readIn(ctx context.Context, tx *db.Tx, number string) (Record, *Type, error) {
	r, err := loadRecord(ctx, tx, s.db, NormalizeNumber(number), false)
	if err != nil {
		return r, nil, err
	}
	t, err := s.typ(r.Type)
	if err != nil {
		return r, nil, fmt.Errorf("record %s has the unregistered type %s: %w", r.Number, r.Type, err)
	}
	return r, t, s.visible(ctx, t, &r)
}

func (s *Service) link(ctx context.Context, tx *db.Tx, number string, typ LinkType, target string) (l Link, err error) {
	p, err := principal(ctx)
	if err != nil {
		return l, err
	}
	a, _, err := s.readIn(ctx, tx, number)
	if err != nil {
		return l, err
	}
	b, _, err := s.readIn(ctx, tx, target)
	if errs.Is(err, errs.NotFound) {
		return l, errs.Field("body.target", "no such record", target)
	}
	if err != nil {
		return l, err
	}
	stored, from, to, err := canonicalLink(typ, a.ID, b.ID)
	if err != nil {
		return l, err
	}
	now := s.now()
	err = tx.QueryRowContext(ctx, `INSERT INTO record_links (from_id, to_id, type, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		from, to, string(stored), p.UserID, now).Scan(&l.ID)
	if db.IsUniqueViolation(err) {
		return l, errs.E(errs.Conflict, "%s and %s are already linked as %s", a.Number, b.Number, stored)
	}
	if db.IsForeignKeyViolation(err) {
		return l, errs.E(errs.NotFound, "a record of the link is gone")
	}
	if err != nil {
		return l, fmt.Errorf("insert link: %w", err)
	}
	l.Type, l.Record, l.RecordType, l.RecordTitle, l.RecordState = typ, b.Number, b.Type, b.Title, b.State
	l.CreatedBy, l.CreatedAt = p.UserID, db.Time(now)
	for _, r := range []Record{a, b} {
		if _, err := addJournal(ctx, tx, r.ID, System, fmt.Sprintf("Linked: %s %s %s.", a.Number, typ, b.Number), p.UserID, p.Username, now); err != nil {
			return l, err
		}
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "record.link", ObjectType: "record", ObjectID: a.Number, Changes: []audit.Change{
		{Field: "link", New: l.ID}, {Field: "type", New: string(typ)}, {Field: "target", New: b.Number}}})
	return l, s.events.Emit(ctx, tx, outbox.Event{Type: "record.linked", Subject: subject(&a), Data: map[string]any{
		"id": l.ID, "from": a.Number, "type": typ, "to": b.Number}})
}

// Unlink removes a link of the record.
func (s *Service) Unlink(ctx context.Context, number string, linkID int64) (err error) {
	defer errs.Wrap(&err, "unlink %d from %s", linkID, number)
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	r, _, err := s.read(ctx, number)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var from, to int64
		var typ, fromNo, toNo string
		err := tx.QueryRowContext(ctx, `SELECT l.from_id, l.to_id, l.type, a.number, b.number FROM record_links l
			JOIN records a ON a.id = l.from_id JOIN records b ON b.id = l.to_id
			WHERE l.id = ? AND (l.from_id = ? OR l.to_id = ?)`, linkID, r.ID, r.ID).Scan(&from, &to, &typ, &fromNo, &toNo)
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "%s has no link %d", r.Number, linkID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM record_links WHERE id = ?`, linkID); err != nil {
			return fmt.Errorf("delete link: %w", err)
		}
		now := s.now()
		for _, id := range []int64{from, to} {
			if _, err := addJournal(ctx, tx, id, System, fmt.Sprintf("Unlinked: %s %s %s.", fromNo, typ, toNo), p.UserID, p.Username, now); err != nil {
				return err
			}
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "record.unlink", ObjectType: "record", ObjectID: r.Number, Changes: []audit.Change{
			{Field: "link", Old: linkID}, {Field: "type", Old: typ}, {Field: "from", Old: fromNo}, {Field: "to", Old: toNo}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "record.unlinked", Subject: subject(&r), Data: map[string]any{
			"id": linkID, "from": fromNo, "type": typ, "to": toNo}})
	})
}

// Links lists a record's links as the record reads them, oldest first.
func (s *Service) Links(ctx context.Context, number string) (out []Link, err error) {
	defer errs.Wrap(&err, "links of %s", number)
	r, _, err := s.read(ctx, number)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT l.id, l.type, l.from_id = ?, o.id, o.number, o.type, o.title, o.state,
		COALESCE(l.created_by, 0), l.created_at
		FROM record_links l JOIN records o ON o.id = CASE WHEN l.from_id = ? THEN l.to_id ELSE l.from_id END
		WHERE l.from_id = ? OR l.to_id = ? ORDER BY l.id`, r.ID, r.ID, r.ID, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out = []Link{}
	var others []int64
	for rows.Next() {
		var l Link
		var typ string
		var outgoing bool
		var other, at int64
		if err := rows.Scan(&l.ID, &typ, &outgoing, &other, &l.Record, &l.RecordType, &l.RecordTitle, &l.RecordState, &l.CreatedBy, &at); err != nil {
			return nil, err
		}
		others = append(others, other)
		l.Type, l.CreatedAt = LinkType(typ), db.Time(at)
		if !outgoing {
			l.Type = l.Type.Inverse()
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	visible := out[:0]
	for i, l := range out {
		if !s.hidden(ctx, l.RecordType, others[i]) {
			visible = append(visible, l)
		}
	}
	return visible, nil
}

// Watch makes a user follow a record. Anyone may watch for themselves; adding
// someone else takes an administrator, the assignee or a member of the record's team.
func (s *Service) Watch(ctx context.Context, number string, userID int64) (err error) {
	defer errs.Wrap(&err, "watch %s", number)
	return s.changeWatch(ctx, number, userID, true)
}

// Unwatch stops a user following a record, with the same rule as Watch.
func (s *Service) Unwatch(ctx context.Context, number string, userID int64) (err error) {
	defer errs.Wrap(&err, "unwatch %s", number)
	return s.changeWatch(ctx, number, userID, false)
}

func (s *Service) changeWatch(ctx context.Context, number string, userID int64, watch bool) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	r, _, err := s.read(ctx, number)
	if err != nil {
		return err
	}
	member := false
	if userID != p.UserID && !p.Admin && p.UserID != r.AssigneeID {
		if member, err = isTeamMember(ctx, s.db, r.TeamID, p.UserID); err != nil {
			return err
		}
	}
	if !mayManageWatchers(p, &r, userID, member) {
		return errs.E(errs.Forbidden, "you may watch or unwatch %s for yourself; changing another user's watch takes the assignee, its team or an administrator", r.Number)
	}
	if ok, err := userExists(ctx, s.db, userID); err != nil {
		return err
	} else if !ok {
		return errs.E(errs.NotFound, "no user %d", userID)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var res interface{ RowsAffected() (int64, error) }
		var err error
		if watch {
			res, err = tx.ExecContext(ctx, `INSERT INTO record_watchers (record_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`,
				r.ID, userID, s.now())
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM record_watchers WHERE record_id = ? AND user_id = ?`, r.ID, userID)
		}
		if err != nil {
			return fmt.Errorf("change watchers: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already so: nothing changed, nothing to audit
		}
		action, event, change := "record.watch", "record.watcher_added", audit.Change{Field: "watcher", New: userID}
		if !watch {
			action, event, change = "record.unwatch", "record.watcher_removed", audit.Change{Field: "watcher", Old: userID}
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record", ObjectID: r.Number, Changes: []audit.Change{change}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: event, Subject: subject(&r), Data: map[string]any{
			"number": r.Number, "type": r.Type, "userId": userID}})
	})
}

// Watchers lists the users who follow a record.
func (s *Service) Watchers(ctx context.Context, number string) (out []Watcher, err error) {
	defer errs.Wrap(&err, "watchers of %s", number)
	r, _, err := s.read(ctx, number)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT w.user_id, u.username, w.created_at FROM record_watchers w
		JOIN users u ON u.id = w.user_id WHERE w.record_id = ? ORDER BY u.username`, r.ID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out = []Watcher{}
	for rows.Next() {
		var w Watcher
		var at int64
		if err := rows.Scan(&w.UserID, &w.Username, &at); err != nil {
			return nil, err
		}
		w.CreatedAt = db.Time(at)
		out = append(out, w)
	}
	return out, rows.Err()
}
