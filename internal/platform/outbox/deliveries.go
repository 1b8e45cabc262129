package outbox

import (
	"context"
	"fmt"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/jobs"
)

// Delivery is one event's delivery to one webhook.
type Delivery struct {
	ID        int64  `json:"id"`
	WebhookID int64  `json:"webhookId"`
	EventID   int64  `json:"eventId"`
	EventType string `json:"eventType"`
	// Status is "pending", "delivered" or "dead".
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"nextAttemptAt"`
	LastStatus    int        `json:"lastStatus,omitempty"`
	LastError     string     `json:"lastError,omitempty"`
	CreatedAt     time.Time  `json:"createdAt"`
	DeliveredAt   *time.Time `json:"deliveredAt,omitempty"`
}

// Stats is the delivery pipeline's state, for metrics.
type Stats struct {
	// Undispatched counts events not yet fanned out to webhooks.
	Undispatched int64
	// Pending counts deliveries waiting for their first or next attempt.
	Pending int64
	// Dead counts deliveries that ran out of attempts.
	Dead int64
	// UndispatchedAge is the age of the oldest undispatched event.
	UndispatchedAge time.Duration
	// PendingAge is the age of the oldest pending delivery.
	PendingAge time.Duration
}

// Schedule names under which Register runs the pipeline.
const (
	DispatchSchedule = "outbox.dispatch"
	DeliverSchedule  = "outbox.deliver"
)

// Register schedules Dispatch and Deliver every second on r. Afterwards Notify
// makes r run them on this node at once; pass it to outbox.New or Outbox.SetNotify.
func (w *Webhooks) Register(r *jobs.Runner) {
	r.Every(DispatchSchedule, time.Second, func(ctx context.Context) error {
		total := 0
		for ctx.Err() == nil {
			n, err := w.Dispatch(ctx)
			total += n
			if err != nil {
				return err
			}
			if n < dispatchBatch {
				break
			}
		}
		if total > 0 {
			r.Trigger(DeliverSchedule)
		}
		return nil
	})
	r.Every(DeliverSchedule, time.Second, func(ctx context.Context) error {
		for ctx.Err() == nil {
			n, err := w.Deliver(ctx)
			if err != nil || n < w.batch {
				return err
			}
		}
		return nil
	})
	w.runner.Store(r)
}

// Notify asks the registered runner to dispatch new events now; it does nothing before Register.
func (w *Webhooks) Notify() {
	if r := w.runner.Load(); r != nil {
		r.Trigger(DispatchSchedule)
	}
}

const deliveryColumns = `d.id, d.webhook_id, d.event_id, e.type, d.status, d.attempts, d.next_attempt_at,
	d.last_status, d.last_error, d.created_at, d.delivered_at`

func (w *Webhooks) listDeliveries(ctx context.Context, where string, limit int, args ...any) ([]Delivery, error) {
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	rows, err := w.db.QueryContext(ctx, `SELECT `+deliveryColumns+`
		FROM webhook_deliveries d JOIN outbox_events e ON e.id = d.event_id
		WHERE `+where+` ORDER BY d.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var next, created, delivered int64
		if err := rows.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &next,
			&d.LastStatus, &d.LastError, &created, &delivered); err != nil {
			return nil, err
		}
		d.NextAttemptAt, d.CreatedAt = clock.FromMillis(next), clock.FromMillis(created)
		if delivered > 0 {
			t := clock.FromMillis(delivered)
			d.DeliveredAt = &t
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// DeadLetters returns the newest deliveries that ran out of attempts, at most limit (default 50, at most 500).
func (w *Webhooks) DeadLetters(ctx context.Context, limit int) ([]Delivery, error) {
	out, err := w.listDeliveries(ctx, `d.status = 'dead'`, limit)
	if err != nil {
		return nil, fmt.Errorf("list dead webhook deliveries: %w", err)
	}
	return out, nil
}

// Deliveries returns a webhook's newest deliveries, at most limit (default 50, at most 500).
func (w *Webhooks) Deliveries(ctx context.Context, webhookID int64, limit int) ([]Delivery, error) {
	out, err := w.listDeliveries(ctx, `d.webhook_id = ?`, limit, webhookID)
	if err != nil {
		return nil, fmt.Errorf("list deliveries of webhook %d: %w", webhookID, err)
	}
	return out, nil
}

// Replay resets a dead delivery to pending with no attempts used, so that it
// is sent again at once. The webhook must be active.
func (w *Webhooks) Replay(ctx context.Context, deliveryID int64) (err error) {
	defer errs.Wrap(&err, "replay webhook delivery %d", deliveryID)
	return w.db.InTx(ctx, func(tx *db.Tx) error {
		var webhookID, eventID int64
		var status string
		var active bool
		err := tx.QueryRowContext(ctx, `SELECT d.webhook_id, d.event_id, d.status, w.active
			FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = ?`+w.db.ForUpdate(), deliveryID).
			Scan(&webhookID, &eventID, &status, &active)
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "webhook delivery %d not found", deliveryID)
		}
		if err != nil {
			return fmt.Errorf("load: %w", err)
		}
		if status != "dead" {
			return errs.E(errs.Conflict, "webhook delivery %d is %s; only dead deliveries can be replayed", deliveryID, status)
		}
		if !active {
			return errs.E(errs.Conflict, "webhook %d is inactive; activate it before replaying its deliveries", webhookID)
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?,
				lease_owner = '', lease_until = 0
			WHERE id = ? AND status = 'dead'`, w.clock.Now().UnixMilli(), deliveryID)
		if err != nil {
			return fmt.Errorf("reset: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.Conflict, "webhook delivery %d changed while being replayed", deliveryID)
		}
		w.trail.Record(ctx, tx, audit.Entry{Action: "webhook.replay", ObjectType: "webhook", ObjectID: objectID(webhookID),
			Changes: []audit.Change{
				{Field: "delivery", New: deliveryID},
				{Field: "event", New: eventID},
				{Field: "status", Old: "dead", New: "pending"},
			}})
		tx.OnCommit(func() {
			if r := w.runner.Load(); r != nil {
				r.Trigger(DeliverSchedule)
			}
		})
		return nil
	})
}

// Stats reports the delivery pipeline's backlog and lag.
func (w *Webhooks) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	now := w.clock.Now().UnixMilli()
	var oldestEvent, oldestPending int64
	if err := w.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MIN(created_at), 0)
		FROM outbox_events WHERE dispatched_at = 0`).Scan(&s.Undispatched, &oldestEvent); err != nil {
		return Stats{}, fmt.Errorf("outbox stats: %w", err)
	}
	if err := w.db.QueryRowContext(ctx, `SELECT
			COUNT(*) FILTER (WHERE status = 'pending'),
			COUNT(*) FILTER (WHERE status = 'dead'),
			COALESCE(MIN(created_at) FILTER (WHERE status = 'pending'), 0)
		FROM webhook_deliveries WHERE status IN ('pending', 'dead')`).Scan(&s.Pending, &s.Dead, &oldestPending); err != nil {
		return Stats{}, fmt.Errorf("webhook delivery stats: %w", err)
	}
	age := func(ms int64) time.Duration {
		if ms == 0 || ms > now {
			return 0
		}
		return time.Duration(now-ms) * time.Millisecond
	}
	s.UndispatchedAge, s.PendingAge = age(oldestEvent), age(oldestPending)
	return s, nil
}
