package mail

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	gomail "github.com/wneessen/go-mail"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/jobs"
)

// Header fields of every notification.
const (
	// loopHeader marks Steward's own mail; inbound mail carrying it is never taken in.
	loopHeader = "X-Steward-Loop"
	// recordHeader names the record a notification is about.
	recordHeader = "X-Steward-Record"
)

// Sender limits: a claimed message's lease, and the retry backoff, 30s·2^(attempts-1) capped at an hour.
const (
	sendLease  = 2 * time.Minute
	retryBase  = 30 * time.Second
	retryLimit = time.Hour
)

// queued is one claimed message.
type queued struct {
	id                int64
	attempts          int
	to, name, subject string
	body, number      string
	messageID         string
	threadID          string
	createdAt         int64
}

// Send claims one batch of due pending messages under a lease, sends them in
// one SMTP session, and records each outcome: sent; a permanent refusal, or the
// last allowed attempt, marks a message failed; any other failure schedules a
// retry with exponential backoff. It reports how many messages it tried.
func (m *Mailer) Send(ctx context.Context) (int, error) {
	if !m.cfg.SMTP.Enabled {
		return 0, nil
	}
	claimed, err := m.claim(ctx)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	ctx = context.WithoutCancel(ctx) // a claimed batch is finished and recorded even at shutdown
	client, err := m.smtpClient()
	if err == nil {
		err = client.DialWithContext(ctx)
	}
	if err != nil {
		// The relay is unreachable: every message of the batch waits for its next attempt.
		for _, q := range claimed {
			m.record(ctx, q, sendOutcome{err: "connect to the SMTP relay: " + describe(err), temporary: true})
		}
		return len(claimed), nil
	}
	defer client.Close()
	for _, q := range claimed {
		msg, err := m.compose(q)
		if err != nil {
			m.record(ctx, q, sendOutcome{err: "compose: " + err.Error()})
			continue
		}
		err = client.Send(msg)
		switch {
		case err == nil:
			m.record(ctx, q, sendOutcome{})
		default:
			var se *gomail.SendError
			temporary := !errors.As(err, &se) || se.IsTemp() || se.Reason == gomail.ErrConnCheck
			m.record(ctx, q, sendOutcome{err: describe(err), temporary: temporary})
			if errors.As(err, &se) && se.Reason == gomail.ErrConnCheck {
				// The session is gone; the rest wait for the next run.
				for _, rest := range claimed {
					if rest.id > q.id {
						m.release(ctx, rest)
					}
				}
				return len(claimed), nil
			}
		}
	}
	return len(claimed), nil
}

// smtpClient builds a go-mail client for the configured relay.
func (m *Mailer) smtpClient() (*gomail.Client, error) {
	c := m.cfg.SMTP
	opts := []gomail.Option{gomail.WithPort(c.Port), gomail.WithTimeout(DefaultDialTimeout),
		gomail.WithTLSConfig(m.cfg.tlsConfig(c.Host))}
	switch c.TLS {
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if c.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(c.Username),
			gomail.WithPassword(c.Password))
	}
	return gomail.NewClient(c.Host, opts...)
}

// compose builds the MIME message of a queued notification.
func (m *Mailer) compose(q queued) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	var err error
	if m.cfg.SMTP.FromName != "" {
		err = msg.FromFormat(m.cfg.SMTP.FromName, m.cfg.SMTP.From)
	} else {
		err = msg.From(m.cfg.SMTP.From)
	}
	if err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	if q.name != "" {
		err = msg.AddToFormat(q.name, q.to)
	} else {
		err = msg.To(q.to)
	}
	if err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(q.subject)
	msg.SetMessageIDWithValue(q.messageID)
	msg.SetDateWithValue(clock.FromMillis(q.createdAt))
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader(gomail.HeaderXAutoResponseSuppress, "All")
	msg.SetGenHeader(loopHeader, m.domain)
	if q.number != "" {
		msg.SetGenHeader(recordHeader, q.number)
	}
	if q.threadID != "" {
		msg.SetGenHeaderPreformatted(gomail.HeaderInReplyTo, "<"+q.threadID+">")
		msg.SetGenHeaderPreformatted(gomail.HeaderReferences, "<"+q.threadID+">")
	}
	msg.SetBodyString(gomail.TypeTextPlain, q.body)
	return msg, nil
}

// claim leases a batch of due pending messages to this node.
func (m *Mailer) claim(ctx context.Context) ([]queued, error) {
	now := m.clock.Now().UnixMilli()
	var one int
	err := m.db.QueryRowContext(ctx, `SELECT 1 FROM mail_messages
		WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? LIMIT 1`, now, now).Scan(&one)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("send mail: look for due messages: %w", err)
	}
	var out []queued
	err = m.db.InTx(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE mail_messages SET lease_owner = ?, lease_until = ?
			WHERE id IN (SELECT id FROM mail_messages
				WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
				ORDER BY next_attempt_at, id LIMIT ?`+m.db.SkipLocked()+`)
			RETURNING id, attempts, to_addr, to_name, subject, body, record_number, message_id, thread_id, created_at`,
			m.node, now+sendLease.Milliseconds(), now, now, m.batch)
		if err != nil {
			return fmt.Errorf("claim messages: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var q queued
			if err := rows.Scan(&q.id, &q.attempts, &q.to, &q.name, &q.subject, &q.body, &q.number, &q.messageID,
				&q.threadID, &q.createdAt); err != nil {
				return fmt.Errorf("read claimed message: %w", err)
			}
			out = append(out, q)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("send mail: %w", err)
	}
	// RETURNING gives no order; send oldest first.
	slices.SortFunc(out, func(a, b queued) int { return cmp.Compare(a.id, b.id) })
	return out, nil
}

// sendOutcome is what became of one attempt.
type sendOutcome struct {
	err       string
	temporary bool
}

// record stores an attempt's outcome, guarded by the lease so that a node
// that lost it cannot overwrite another's result.
func (m *Mailer) record(ctx context.Context, q queued, o sendOutcome) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	now := m.clock.Now()
	attempts := q.attempts + 1
	const guard = ` WHERE id = ? AND lease_owner = ? AND attempts = ? AND state = 'pending'`
	log := m.log.With("message", q.id, "record", q.number, "attempt", attempts)
	var err error
	switch {
	case o.err == "":
		_, err = m.db.ExecContext(ctx, `UPDATE mail_messages SET state = 'sent', attempts = ?, sent_at = ?, last_error = '',
			lease_owner = '', lease_until = 0`+guard, attempts, now.UnixMilli(), q.id, m.node, q.attempts)
	case !o.temporary || attempts >= m.cfg.SMTP.MaxAttempts:
		_, err = m.db.ExecContext(ctx, `UPDATE mail_messages SET state = 'failed', attempts = ?, last_error = ?,
			lease_owner = '', lease_until = 0`+guard, attempts, o.err, q.id, m.node, q.attempts)
		log.Warn("notification failed for good", "err", o.err)
	default:
		next := now.Add(jobs.Exponential(retryBase, retryLimit, attempts))
		_, err = m.db.ExecContext(ctx, `UPDATE mail_messages SET attempts = ?, next_attempt_at = ?, last_error = ?,
			lease_owner = '', lease_until = 0`+guard, attempts, next.UnixMilli(), o.err, q.id, m.node, q.attempts)
		log.Info("notification not sent; will retry", "err", o.err, "retryAt", next)
	}
	if err != nil {
		log.Error("record notification outcome; it is retried when its lease expires", "err", err)
	}
}

// release gives a claimed message back without using an attempt.
func (m *Mailer) release(ctx context.Context, q queued) {
	if _, err := m.db.ExecContext(ctx, `UPDATE mail_messages SET lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ? AND state = 'pending'`, q.id, m.node); err != nil {
		m.log.Error("release notification", "message", q.id, "err", err)
	}
}

// describe shortens an error for storage, without credentials (go-mail never puts the password in errors).
func describe(err error) string {
	s := strings.TrimSpace(err.Error())
	if len(s) > 500 {
		s = s[:500]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}
