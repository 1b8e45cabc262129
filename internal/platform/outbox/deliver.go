package outbox

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/jobs"
)

// deliveryTimeout bounds one HTTP attempt.
const deliveryTimeout = 10 * time.Second

// Delivery backoff: 10s·2^(attempts-1), capped at an hour, plus jitter.
const (
	retryBase  = 10 * time.Second
	retryLimit = time.Hour
)

// attempt is one claimed delivery with what it takes to send it.
type attempt struct {
	id, webhookID, eventID int64
	attempts, maxAttempts  int
	active                 bool
	url, secretEnc         string
	eventType, subject     string
	data                   string
	createdAt              int64
}

// outcome is the result of one HTTP attempt.
type outcome struct {
	status  int
	err     string
	skipped bool // no request was made; the delivery goes dead without using an attempt
}

// Deliver claims one batch of due pending deliveries under a lease, POSTs each
// as a signed CloudEvent, records the outcomes, and reports how many it tried.
// A 2xx response marks a delivery delivered; anything else schedules a retry
// with exponential backoff, and the webhook's last allowed attempt marks it dead.
func (w *Webhooks) Deliver(ctx context.Context) (int, error) {
	if w.keyErr != nil {
		return 0, fmt.Errorf("deliver webhooks: %w", w.keyErr)
	}
	claimed, err := w.claim(ctx)
	if err != nil {
		return 0, fmt.Errorf("deliver webhooks: %w", err)
	}
	sem := make(chan struct{}, w.parallel)
	var wg sync.WaitGroup
	for _, a := range claimed {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			var o outcome
			if a.active {
				o = w.send(ctx, a)
			} else {
				// An inactive webhook's deliveries go to the dead letters unsent, to be replayed once it is active.
				o = outcome{err: "webhook is inactive", skipped: true}
			}
			w.record(context.WithoutCancel(ctx), a, o)
		})
	}
	wg.Wait()
	return len(claimed), nil
}

func (w *Webhooks) claim(ctx context.Context) ([]attempt, error) {
	now := w.clock.Now().UnixMilli()
	// Look on the reader first, so that an idle poll never takes the write lock.
	var one int
	err := w.db.QueryRowContext(ctx, `SELECT 1 FROM webhook_deliveries
		WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ? LIMIT 1`, now, now).Scan(&one)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for due deliveries: %w", err)
	}
	var out []attempt
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		rows, err := tx.QueryContext(ctx, `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?
			WHERE id IN (SELECT id FROM webhook_deliveries
				WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
				ORDER BY next_attempt_at, id LIMIT ?`+w.db.SkipLocked()+`)
			RETURNING id`, w.node, now+w.lease.Milliseconds(), now, now, w.batch)
		if err != nil {
			return fmt.Errorf("claim deliveries: %w", err)
		}
		var ids []any
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("read claimed delivery: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
		rows, err = tx.QueryContext(ctx, `SELECT d.id, d.webhook_id, d.event_id, d.attempts, w.max_attempts, w.active,
				w.url, w.secret_enc, e.type, e.subject, e.data, e.created_at
			FROM webhook_deliveries d
			JOIN webhooks w ON w.id = d.webhook_id
			JOIN outbox_events e ON e.id = d.event_id
			WHERE d.id IN (`+in+`) ORDER BY d.id`, ids...)
		if err != nil {
			return fmt.Errorf("load claimed deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a attempt
			if err := rows.Scan(&a.id, &a.webhookID, &a.eventID, &a.attempts, &a.maxAttempts, &a.active,
				&a.url, &a.secretEnc, &a.eventType, &a.subject, &a.data, &a.createdAt); err != nil {
				return fmt.Errorf("load claimed delivery: %w", err)
			}
			out = append(out, a)
		}
		return rows.Err()
	})
	return out, err
}

// cloudEvent is the CloudEvents 1.0 structured-mode JSON envelope.
type cloudEvent struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"`
	Time            string          `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// body renders the delivery's event as a CloudEvent.
func (w *Webhooks) body(a attempt) ([]byte, error) {
	data := json.RawMessage(a.data)
	if !json.Valid(data) {
		b, err := json.Marshal(a.data)
		if err != nil {
			return nil, err
		}
		data = b
	}
	return json.Marshal(cloudEvent{
		SpecVersion: "1.0", ID: strconv.FormatInt(a.eventID, 10), Source: w.source, Type: "steward." + a.eventType,
		Subject: a.subject, Time: clock.FromMillis(a.createdAt).Format(time.RFC3339Nano),
		DataContentType: "application/json", Data: data,
	})
}

// send makes one signed POST to the stored URL.
func (w *Webhooks) send(ctx context.Context, a attempt) outcome {
	secret, err := open(w.aead, a.secretEnc)
	if err != nil {
		w.log.Error("webhook secret unusable", "webhook", a.webhookID, "err", err)
		return outcome{err: err.Error()}
	}
	body, err := w.body(a)
	if err != nil {
		return outcome{err: "encode event: " + err.Error()}
	}
	msgID := strconv.FormatInt(a.eventID, 10)
	ts := w.clock.Now().Unix()
	ctx, cancel := context.WithTimeout(ctx, deliveryTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.url, bytes.NewReader(body))
	if err != nil {
		return outcome{err: "build request: invalid URL"}
	}
	req.Header.Set("Content-Type", "application/cloudevents+json")
	req.Header.Set("User-Agent", "Steward-Webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sign(secret, msgID, ts, body))
	resp, err := w.client.Do(req)
	if err != nil {
		return outcome{err: transportError(err)}
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return outcome{status: resp.StatusCode}
	}
	msg := "HTTP " + strconv.Itoa(resp.StatusCode)
	if s := strings.TrimSpace(strings.ToValidUTF8(string(snippet), "")); s != "" {
		msg += ": " + s
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		msg += " (redirects are not followed)"
	}
	return outcome{status: resp.StatusCode, err: msg}
}

// transportError describes a failed request without the URL, which may carry a token.
func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
		if ue.Timeout() {
			return "timed out after " + deliveryTimeout.String()
		}
	}
	s := err.Error()
	if len(s) > 500 {
		s = s[:500]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
	}
	return s
}

// record stores an attempt's outcome, guarded by the claim so that a node that
// lost its lease cannot overwrite another's result.
func (w *Webhooks) record(ctx context.Context, a attempt, o outcome) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	now := w.clock.Now()
	attempts := a.attempts + 1
	if o.skipped {
		attempts = a.attempts
	}
	const guard = ` WHERE id = ? AND lease_owner = ? AND attempts = ? AND status = 'pending'`
	log := w.log.With("delivery", a.id, "webhook", a.webhookID, "event", a.eventID, "attempt", attempts)
	var res sql.Result
	var err error
	switch {
	case o.err == "":
		res, err = w.db.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'delivered', attempts = ?, delivered_at = ?,
			last_status = ?, last_error = '', lease_owner = '', lease_until = 0`+guard,
			attempts, now.UnixMilli(), o.status, a.id, w.node, a.attempts)
	case o.skipped || attempts >= a.maxAttempts:
		res, err = w.db.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'dead', attempts = ?, last_status = ?,
			last_error = ?, lease_owner = '', lease_until = 0`+guard,
			attempts, o.status, o.err, a.id, w.node, a.attempts)
		log.Warn("webhook delivery dead", "status", o.status, "err", o.err)
	default:
		next := now.Add(jobs.Exponential(retryBase, retryLimit, attempts))
		res, err = w.db.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = ?, next_attempt_at = ?, last_status = ?,
			last_error = ?, lease_owner = '', lease_until = 0`+guard,
			attempts, next.UnixMilli(), o.status, o.err, a.id, w.node, a.attempts)
		log.Info("webhook delivery failed; will retry", "status", o.status, "err", o.err, "retryAt", next)
	}
	if err != nil {
		log.Error("record webhook delivery outcome; it will be retried when its lease expires", "err", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		log.Warn("webhook delivery lease was lost before its outcome was recorded")
	}
}
