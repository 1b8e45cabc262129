package outbox

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/db"
)

// dispatchBatch is how many events one Dispatch call fans out.
const dispatchBatch = 500

// Dispatch fans out one batch of undispatched events, in id order: it creates
// a pending delivery per matching active webhook and marks the events
// dispatched, all in one transaction, and reports how many events it took.
// Concurrent dispatchers on PostgreSQL take disjoint batches (SKIP LOCKED).
func (w *Webhooks) Dispatch(ctx context.Context) (n int, err error) {
	now := max(w.clock.Now().UnixMilli(), 1)
	// Look on the reader first, so that an idle poll never takes the write lock.
	var one int
	err = w.db.QueryRowContext(ctx, `SELECT 1 FROM outbox_events WHERE dispatched_at = 0 LIMIT 1`).Scan(&one)
	if db.IsNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("look for undispatched events: %w", err)
	}
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		type event struct {
			id  int64
			typ string
		}
		var events []event
		rows, err := tx.QueryContext(ctx, `SELECT id, type FROM outbox_events WHERE dispatched_at = 0
			ORDER BY id LIMIT ?`+w.db.SkipLocked(), dispatchBatch)
		if err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		for rows.Next() {
			var e event
			if err := rows.Scan(&e.id, &e.typ); err != nil {
				rows.Close()
				return fmt.Errorf("read event: %w", err)
			}
			events = append(events, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read events: %w", err)
		}
		if len(events) == 0 {
			return nil
		}

		type hook struct {
			id    int64
			types []string
		}
		var hooks []hook
		rows, err = tx.QueryContext(ctx, `SELECT id, event_types FROM webhooks WHERE active = TRUE ORDER BY id`)
		if err != nil {
			return fmt.Errorf("read webhooks: %w", err)
		}
		for rows.Next() {
			var h hook
			var types string
			if err := rows.Scan(&h.id, &types); err != nil {
				rows.Close()
				return fmt.Errorf("read webhook: %w", err)
			}
			h.types = strings.Split(types, ",")
			hooks = append(hooks, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read webhooks: %w", err)
		}

		var pairs [][2]int64 // webhook id, event id
		ids := make([]any, 0, len(events)+1)
		ids = append(ids, now)
		for _, e := range events {
			ids = append(ids, e.id)
			for _, h := range hooks {
				if matchTypes(h.types, e.typ) {
					pairs = append(pairs, [2]int64{h.id, e.id})
				}
			}
		}
		const perInsert = 200
		for start := 0; start < len(pairs); start += perInsert {
			chunk := pairs[start:min(start+perInsert, len(pairs))]
			args := make([]any, 0, len(chunk)*4)
			for _, p := range chunk {
				args = append(args, p[0], p[1], now, now)
			}
			values := strings.TrimSuffix(strings.Repeat("(?, ?, 'pending', ?, ?), ", len(chunk)), ", ")
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, status, next_attempt_at, created_at)
				VALUES `+values+` ON CONFLICT (webhook_id, event_id) DO NOTHING`, args...); err != nil {
				return fmt.Errorf("create deliveries: %w", err)
			}
		}
		in := strings.TrimSuffix(strings.Repeat("?, ", len(events)), ", ")
		if _, err := tx.ExecContext(ctx, `UPDATE outbox_events SET dispatched_at = ? WHERE id IN (`+in+`)`, ids...); err != nil {
			return fmt.Errorf("mark events dispatched: %w", err)
		}
		n = len(events)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("dispatch outbox events: %w", err)
	}
	return n, nil
}
