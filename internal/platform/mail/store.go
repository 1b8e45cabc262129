package mail

import (
	"context"
	"fmt"
	"time"

	"steward/internal/platform/clock"
)

// Notification is a queued or sent message.
type Notification struct {
	ID        int64  `json:"id"`
	EventID   int64  `json:"eventId"`
	EventType string `json:"eventType"`
	UserID    int64  `json:"userId,omitempty"`
	To        string `json:"to"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	Record    string `json:"record,omitempty"`
	MessageID string `json:"messageId"`
	// State is pending, sent or failed.
	State         string     `json:"state" enum:"pending,sent,failed"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"nextAttemptAt"`
	LastError     string     `json:"lastError,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	SentAt        *time.Time `json:"sentAt,omitempty"`
}

// NotificationQuery filters Notifications.
type NotificationQuery struct {
	// Record limits the list to one record's notifications.
	Record string
	// State limits it to pending, sent or failed.
	State string
	// Limit defaults to 50, at most 500.
	Limit int
}

func limitOf(n int) int {
	switch {
	case n <= 0:
		return 50
	case n > 500:
		return 500
	}
	return n
}

// Notifications lists queued and sent messages, newest first.
func (m *Mailer) Notifications(ctx context.Context, q NotificationQuery) ([]Notification, error) {
	where, args := "1 = 1", []any{}
	if q.Record != "" {
		where += " AND record_number = ?"
		args = append(args, q.Record)
	}
	if q.State != "" {
		where += " AND state = ?"
		args = append(args, q.State)
	}
	rows, err := m.db.QueryContext(ctx, `SELECT id, event_id, event_type, COALESCE(user_id, 0), to_addr, subject, body,
			record_number, message_id, state, attempts, next_attempt_at, last_error, created_at, sent_at
		FROM mail_messages WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limitOf(q.Limit))...)
	if err != nil {
		return nil, fmt.Errorf("list notifications: %w", err)
	}
	defer rows.Close()
	out := []Notification{}
	for rows.Next() {
		var n Notification
		var next, created, sent int64
		if err := rows.Scan(&n.ID, &n.EventID, &n.EventType, &n.UserID, &n.To, &n.Subject, &n.Body, &n.Record, &n.MessageID,
			&n.State, &n.Attempts, &next, &n.LastError, &created, &sent); err != nil {
			return nil, fmt.Errorf("list notifications: %w", err)
		}
		n.NextAttemptAt, n.CreatedAt = clock.FromMillis(next), clock.FromMillis(created)
		if sent > 0 {
			t := clock.FromMillis(sent)
			n.SentAt = &t
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Received is an inbound message and what became of it.
type Received struct {
	ID        int64  `json:"id"`
	MessageID string `json:"messageId"`
	From      string `json:"from"`
	Subject   string `json:"subject"`
	// Status is processing, replied, created, skipped, rejected or failed.
	Status    string    `json:"status" enum:"processing,replied,created,skipped,rejected,failed"`
	Reason    string    `json:"reason,omitempty"`
	Record    string    `json:"record,omitempty"`
	Attempts  int       `json:"attempts"`
	Date      time.Time `json:"date,omitzero"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// ReceivedMessages lists the newest inbound messages, at most limit (default 50, at most 500);
// status, when set, keeps those with that outcome.
func (m *Mailer) ReceivedMessages(ctx context.Context, status string, limit int) ([]Received, error) {
	where, args := "1 = 1", []any{}
	if status != "" {
		where, args = "status = ?", append(args, status)
	}
	rows, err := m.db.QueryContext(ctx, `SELECT id, message_key, from_addr, subject, status, reason, record_number, attempts,
			mail_date, created_at, updated_at
		FROM mail_inbound WHERE `+where+` ORDER BY id DESC LIMIT ?`, append(args, limitOf(limit))...)
	if err != nil {
		return nil, fmt.Errorf("list received mail: %w", err)
	}
	defer rows.Close()
	out := []Received{}
	for rows.Next() {
		var r Received
		var date, created, updated int64
		if err := rows.Scan(&r.ID, &r.MessageID, &r.From, &r.Subject, &r.Status, &r.Reason, &r.Record, &r.Attempts,
			&date, &created, &updated); err != nil {
			return nil, fmt.Errorf("list received mail: %w", err)
		}
		if date != 0 {
			r.Date = clock.FromMillis(date)
		}
		r.CreatedAt, r.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
		out = append(out, r)
	}
	return out, rows.Err()
}

// Stats is the mail pipeline's state, for metrics.
type Stats struct {
	// Unread counts outbox events after the consumer's cursor.
	Unread int64
	// Pending counts messages waiting to be sent; PendingAge is the oldest one's age.
	Pending    int64
	PendingAge time.Duration
	// Failed counts messages that will not be sent.
	Failed int64
}

// Stats reports the backlog of notifications.
func (m *Mailer) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	if err := m.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM outbox_events
		WHERE id > (SELECT last_id FROM mail_cursors WHERE name = ?)`, cursorName).Scan(&s.Unread); err != nil {
		return s, fmt.Errorf("mail stats: %w", err)
	}
	var oldest int64
	if err := m.db.QueryRowContext(ctx, `SELECT
			COUNT(*) FILTER (WHERE state = 'pending'), COUNT(*) FILTER (WHERE state = 'failed'),
			COALESCE(MIN(created_at) FILTER (WHERE state = 'pending'), 0)
		FROM mail_messages WHERE state IN ('pending', 'failed')`).Scan(&s.Pending, &s.Failed, &oldest); err != nil {
		return s, fmt.Errorf("mail stats: %w", err)
	}
	if now := m.clock.Now().UnixMilli(); oldest > 0 && oldest < now {
		s.PendingAge = time.Duration(now-oldest) * time.Millisecond
	}
	return s, nil
}
