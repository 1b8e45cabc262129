package mail

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/record"
)

// cursorName is the mail_cursors row of the notification consumer.
const cursorName = "notifications"

// Consumer limits.
const (
	// eventBatch is how many new events one read takes.
	eventBatch = 200
	// gapWait is how long an event id the cursor passed is waited for: longer
	// than any transaction that emits events runs.
	gapWait = 5 * time.Minute
	// maxNewGaps bounds the ids one read remembers as missing.
	maxNewGaps = 1000
)

// event is one outbox row.
type event struct {
	id        int64
	typ       string
	subject   string
	data      string
	actor     string
	createdAt int64
}

// outMessage is one notification about to be queued.
type outMessage struct {
	eventID   int64
	eventType string
	userID    int64
	to, name  string
	subject   string
	body      string
	number    string
	messageID string
	threadID  string
}

// Queue reads one batch of outbox events after the consumer's cursor (and the
// events it passed before they were visible), queues one message per
// recipient for each record event, and moves the cursor, in one transaction.
// It reports how many events it read and how many messages it queued. While
// another node holds the cursor (PostgreSQL) it reads nothing; with outbound
// mail off it moves the cursor without queueing.
func (m *Mailer) Queue(ctx context.Context) (events, queued int, err error) {
	return m.queueBatch(ctx)
}

func (m *Mailer) queueBatch(ctx context.Context) (events, queued int, err error) {
	// Look on the reader first, so that an idle poll never takes the write lock.
	var one int
	err = m.db.QueryRowContext(ctx, `SELECT 1 FROM mail_cursors c WHERE c.name = ?
		AND (EXISTS (SELECT 1 FROM outbox_events e WHERE e.id > c.last_id) OR EXISTS (SELECT 1 FROM mail_event_gaps))`,
		cursorName).Scan(&one)
	if db.IsNoRows(err) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, fmt.Errorf("queue notifications: look for new events: %w", err)
	}
	banner := ""
	if m.cfg.SMTP.Enabled {
		if banner, err = m.classification(ctx); err != nil {
			return 0, 0, fmt.Errorf("queue notifications: %w", err)
		}
	}
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, `SELECT last_id FROM mail_cursors WHERE name = ?`+m.db.SkipLocked(), cursorName).Scan(&last)
		if db.IsNoRows(err) {
			return nil // another node is reading
		}
		if err != nil {
			return fmt.Errorf("lock the cursor: %w", err)
		}
		now := m.clock.Now().UnixMilli()
		filled, err := readEvents(ctx, tx, `SELECT e.id, e.type, e.subject, e.data, e.actor, e.created_at
			FROM mail_event_gaps g JOIN outbox_events e ON e.id = g.event_id ORDER BY e.id`)
		if err != nil {
			return err
		}
		fresh, err := readEvents(ctx, tx, `SELECT id, type, subject, data, actor, created_at FROM outbox_events
			WHERE id > ? ORDER BY id LIMIT ?`, last, eventBatch)
		if err != nil {
			return err
		}
		if err := m.trackGaps(ctx, tx, last, fresh, filled, now); err != nil {
			return err
		}
		c := newBatchCache()
		var notes []*note
		var atts []*attachment
		for _, ev := range append(filled, fresh...) {
			if !m.cfg.SMTP.Enabled || ev.createdAt < now-m.cfg.SMTP.MaxEventAge.Milliseconds() {
				continue
			}
			nt, att, err := m.readEvent(ctx, tx, c, ev)
			if err != nil {
				return fmt.Errorf("event %d (%s): %w", ev.id, ev.typ, err)
			}
			if nt != nil {
				notes = append(notes, nt)
			}
			if att != nil {
				atts = append(atts, att)
			}
		}
		if queued, err = insertMessages(ctx, tx, m.letters(notes, atts, banner), now); err != nil {
			return err
		}
		if len(fresh) > 0 {
			last = fresh[len(fresh)-1].id
			if _, err := tx.ExecContext(ctx, `UPDATE mail_cursors SET last_id = ?, updated_at = ? WHERE name = ?`,
				last, now, cursorName); err != nil {
				return fmt.Errorf("move the cursor: %w", err)
			}
		}
		events = len(fresh) + len(filled)
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("queue notifications: %w", err)
	}
	return events, queued, nil
}

func readEvents(ctx context.Context, tx *db.Tx, q string, args ...any) ([]event, error) {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []event
	for rows.Next() {
		var e event
		if err := rows.Scan(&e.id, &e.typ, &e.subject, &e.data, &e.actor, &e.createdAt); err != nil {
			return nil, fmt.Errorf("read event: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// trackGaps remembers the ids the cursor passes that no visible event has
// (a transaction that drew an earlier id may still commit), forgets the gaps
// that filled, and gives up on the ones waited for long enough.
func (m *Mailer) trackGaps(ctx context.Context, tx *db.Tx, last int64, fresh, filled []event, now int64) error {
	var missing []int64
	next := last + 1
	for _, e := range fresh {
		for id := next; id < e.id && len(missing) < maxNewGaps; id++ {
			missing = append(missing, id)
		}
		next = e.id + 1
	}
	if len(missing) == maxNewGaps {
		m.log.Warn("many outbox event ids missing; only the first are waited for", "after", last, "waited", maxNewGaps)
	}
	for start := 0; start < len(missing); start += 200 {
		chunk := missing[start:min(start+200, len(missing))]
		args := make([]any, 0, 2*len(chunk))
		for _, id := range chunk {
			args = append(args, id, now)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_event_gaps (event_id, noticed_at) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?), ", len(chunk)), ", ")+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("remember missing events: %w", err)
		}
	}
	args := []any{now - gapWait.Milliseconds()}
	for _, e := range filled {
		args = append(args, e.id)
	}
	q := `DELETE FROM mail_event_gaps WHERE noticed_at < ?`
	if len(filled) > 0 {
		q += ` OR event_id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(filled)), ", ") + `)`
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("forget filled gaps: %w", err)
	}
	return nil
}

func insertMessages(ctx context.Context, tx *db.Tx, msgs []outMessage, now int64) (int, error) {
	n := 0
	for _, o := range msgs {
		res, err := tx.ExecContext(ctx, `INSERT INTO mail_messages (event_id, event_type, user_id, to_addr, to_name, subject, body,
				record_number, message_id, thread_id, state, next_attempt_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT DO NOTHING`,
			o.eventID, o.eventType, db.NullID(o.userID), o.to, o.name, o.subject, o.body, o.number, o.messageID, o.threadID, now, now)
		if err != nil {
			return n, fmt.Errorf("queue message to %s: %w", o.to, err)
		}
		k, _ := res.RowsAffected()
		n += int(k)
	}
	return n, nil
}

// classification is the banner text notifications carry.
func (m *Mailer) classification(ctx context.Context) (string, error) {
	if m.banner == nil {
		return record.DefaultMarking, nil
	}
	b, err := m.banner(ctx)
	if err != nil {
		return "", fmt.Errorf("read the classification banner: %w", err)
	}
	if b = headerSafe(b); b == "" {
		return record.DefaultMarking, nil
	}
	return b, nil
}

// newMessageID returns a fresh Message-ID (without angle brackets) for an event's message to a user.
func (m *Mailer) newMessageID(eventID, userID int64) string {
	b := make([]byte, 6)
	_, _ = crand.Read(b)
	return fmt.Sprintf("steward.%d.%d.%s@%s", eventID, userID, hex.EncodeToString(b), m.domain)
}

// recordLink is the page of a record.
func (m *Mailer) recordLink(number string) string { return m.cfg.BaseURL + "/records/" + number }
