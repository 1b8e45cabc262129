// Package outbox writes domain events in the business transaction and, after
// commit, fans them out to subscribed webhooks through the job runner.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
)

// Event is a domain event: something that happened to a record.
type Event struct {
	// Type is a dotted name such as "team.created".
	Type string
	// Subject names the record, such as "team/42".
	Subject string
	// Data is the event body; it is stored as JSON.
	Data any
}

// Outbox writes events into the current transaction.
type Outbox struct {
	clock  clock.Clock
	notify func()
}

// New returns an outbox. notify, when not nil, is called after each commit that
// wrote events, so that the local dispatcher can wake up at once.
func New(c clock.Clock, notify func()) *Outbox { return &Outbox{clock: c, notify: notify} }

// SetNotify sets the after-commit wake-up call.
func (o *Outbox) SetNotify(fn func()) { o.notify = fn }

type notifyKey struct{}

// Emit stores ev in tx. Nothing is published before the transaction commits.
func (o *Outbox) Emit(ctx context.Context, tx *db.Tx, ev Event) error {
	data := []byte("{}")
	if ev.Data != nil {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", ev.Type, err)
		}
		data = b
	}
	m := audit.MetaFrom(ctx)
	if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_events (type, subject, data, actor, request_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, ev.Type, ev.Subject, string(data), m.Actor.Name, m.RequestID, o.clock.Now().UnixMilli()); err != nil {
		return fmt.Errorf("write event %s: %w", ev.Type, err)
	}
	if o.notify != nil && tx.Value(notifyKey{}) == nil {
		tx.SetValue(notifyKey{}, true)
		tx.OnCommit(o.notify)
	}
	return nil
}
