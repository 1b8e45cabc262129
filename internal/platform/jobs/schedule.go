package jobs

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// schedule is one registered periodic function; running and triggered are guarded by Runner.mu.
type schedule struct {
	name      string
	interval  time.Duration
	fn        func(ctx context.Context) error
	running   bool
	triggered bool
}

// Every registers fn to run every interval. Each slot runs once across all the
// nodes sharing the database, on the node that claims it; a slot whose run
// fails is logged and not retried (the next slot runs as usual), and slots
// missed while no node was running are skipped, not replayed. A node never runs
// two slots of the same schedule at once, but two nodes may overlap when a run
// takes longer than the interval.
func (r *Runner) Every(name string, interval time.Duration, fn func(ctx context.Context) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.schedules[name] = &schedule{name: name, interval: max(interval, time.Millisecond), fn: fn}
	r.ensured = false
}

// Trigger asks this node to run the named schedule's function at once, outside
// its slots (which stay as they are). When the function is running already it
// runs again right after. Triggers are coalesced; an unknown name is ignored.
func (r *Runner) Trigger(name string) {
	r.mu.Lock()
	s := r.schedules[name]
	if s != nil {
		s.triggered = true
	}
	r.mu.Unlock()
	if s != nil {
		r.Wake()
	}
}

// ensureSchedules inserts a row for every registered schedule, due now, and
// updates the interval of rows whose interval changed.
func (r *Runner) ensureSchedules(ctx context.Context) error {
	r.mu.Lock()
	if r.ensured {
		r.mu.Unlock()
		return nil
	}
	list := make([]schedule, 0, len(r.schedules))
	for _, s := range r.schedules {
		list = append(list, schedule{name: s.name, interval: s.interval})
	}
	r.ensured = true
	r.mu.Unlock()
	now := r.clock.Now().UnixMilli()
	for _, s := range list {
		if _, err := r.db.ExecContext(ctx, `INSERT INTO schedules (name, interval_ms, next_run_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET interval_ms = excluded.interval_ms,
				next_run_at = CASE WHEN schedules.next_run_at > excluded.next_run_at + excluded.interval_ms
					THEN excluded.next_run_at ELSE schedules.next_run_at END
			WHERE schedules.interval_ms <> excluded.interval_ms`, s.name, s.interval.Milliseconds(), now); err != nil {
			r.mu.Lock()
			r.ensured = false
			r.mu.Unlock()
			return fmt.Errorf("register schedule %s: %w", s.name, err)
		}
	}
	return nil
}

// tick starts the triggered schedules and the due slots this node claims, each
// in a goroutine under wg using work as its context, and reports how many it started.
func (r *Runner) tick(ctx, work context.Context, wg *sync.WaitGroup) (int, error) {
	r.mu.Lock()
	empty := len(r.schedules) == 0
	r.mu.Unlock()
	if empty {
		return 0, nil
	}
	if err := r.ensureSchedules(ctx); err != nil {
		return 0, err
	}
	now := r.clock.Now().UnixMilli()
	type slot struct {
		name             string
		next, intervalMS int64
	}
	var due []slot
	rows, err := r.db.QueryContext(ctx, `SELECT name, next_run_at, interval_ms FROM schedules WHERE next_run_at <= ?`, now)
	if err != nil {
		return 0, fmt.Errorf("read due schedules: %w", err)
	}
	for rows.Next() {
		var s slot
		if err := rows.Scan(&s.name, &s.next, &s.intervalMS); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read due schedule: %w", err)
		}
		due = append(due, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("read due schedules: %w", err)
	}

	started := 0
	r.mu.Lock()
	for _, s := range r.schedules {
		if s.triggered && !s.running {
			s.triggered, s.running = false, true
			started++
			r.start(work, wg, s)
		}
	}
	r.mu.Unlock()

	for _, d := range due {
		r.mu.Lock()
		s := r.schedules[d.name]
		if s == nil || s.running {
			r.mu.Unlock()
			continue
		}
		s.running = true
		r.mu.Unlock()
		won, err := r.claimSlot(ctx, d.name, d.next, max(d.intervalMS, 1), now)
		r.mu.Lock()
		if err != nil || !won {
			s.running = false
			r.mu.Unlock()
			if err != nil {
				return started, err
			}
			continue
		}
		started++
		r.start(work, wg, s)
		r.mu.Unlock()
	}
	return started, nil
}

// claimSlot moves the schedule's next_run_at past now if it still equals slot,
// and reports whether this node won the slot.
func (r *Runner) claimSlot(ctx context.Context, name string, slot, intervalMS, now int64) (bool, error) {
	next := slot + intervalMS*((now-slot)/intervalMS+1)
	res, err := r.db.ExecContext(ctx, `UPDATE schedules SET next_run_at = ?, last_owner = ?, last_run_at = ?
		WHERE name = ? AND next_run_at = ?`, next, r.opts.NodeID, now, name, slot)
	if err != nil {
		return false, fmt.Errorf("claim schedule %s slot: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("claim schedule %s slot: %w", name, err)
	}
	return n == 1, nil
}

// start runs s in a goroutine; the caller holds r.mu and has set s.running.
func (r *Runner) start(ctx context.Context, wg *sync.WaitGroup, s *schedule) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			r.mu.Lock()
			s.running = false
			again := s.triggered
			r.mu.Unlock()
			if again {
				r.Wake()
			}
		}()
		if err := r.runSchedule(ctx, s); err != nil {
			r.log.Error("scheduled job failed", "schedule", s.name, "err", err)
		}
	}()
}

func (r *Runner) runSchedule(ctx context.Context, s *schedule) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("scheduled job panicked", "schedule", s.name, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return s.fn(ctx)
}
