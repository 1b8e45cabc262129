package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"steward/internal/platform/db"
)

// errLeaseLost is the cancellation cause of a job whose lease another node took.
var errLeaseLost = errors.New("job lease lost")

// Run claims and runs jobs and scheduled work until ctx ends. It then stops
// claiming and returns once in-flight work has finished; work still running
// after ShutdownTimeout has its context cancelled, and Run returns at most five
// seconds later (a handler that ignores cancellation is left to its lease).
func (r *Runner) Run(ctx context.Context) error {
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	var wg sync.WaitGroup
	slots := make(chan struct{}, r.opts.Concurrency)
	timer := time.NewTimer(r.opts.Poll)
	defer timer.Stop()
	var lastPrune time.Time
	for {
		saturated := false
		if _, err := r.tick(ctx, work, &wg); err != nil && ctx.Err() == nil {
			r.log.Error("run schedules", "err", err)
		}
		if free := cap(slots) - len(slots); free > 0 {
			claimed, err := r.claim(ctx, free)
			if err != nil && ctx.Err() == nil {
				r.log.Error("claim jobs", "err", err)
			}
			for _, j := range claimed {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer func() {
						<-slots
						r.signalFreed()
					}()
					r.execute(work, j)
				}()
			}
			saturated = len(claimed) == free
		} else {
			saturated = true
		}
		if r.opts.Retention > 0 && time.Since(lastPrune) >= time.Hour && ctx.Err() == nil {
			lastPrune = time.Now()
			if n, err := r.Prune(ctx, r.opts.Retention); err != nil {
				r.log.Error("prune jobs", "err", err)
			} else if n > 0 {
				r.log.Info("pruned done jobs", "count", n)
			}
		}
		// When every slot is busy, a finished job is a reason to claim again.
		var freed <-chan struct{}
		if saturated {
			freed = r.freed
		}
		timer.Reset(r.opts.Poll)
		select {
		case <-ctx.Done():
			r.drain(&wg, cancelWork)
			return nil
		case <-r.wake:
		case <-freed:
		case <-timer.C:
		}
	}
}

func (r *Runner) signalFreed() {
	select {
	case r.freed <- struct{}{}:
	default:
	}
}

// drain waits for in-flight work, cancelling it after the shutdown timeout.
func (r *Runner) drain(wg *sync.WaitGroup, cancel context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	grace := time.NewTimer(r.opts.ShutdownTimeout)
	defer grace.Stop()
	select {
	case <-done:
		return
	case <-grace.C:
	}
	r.log.Warn("shutdown timeout reached; cancelling in-flight jobs")
	cancel()
	last := time.NewTimer(5 * time.Second)
	defer last.Stop()
	select {
	case <-done:
	case <-last.C:
		r.log.Error("in-flight jobs ignored cancellation; their leases will expire and another node will run them")
	}
}

// RunOnce runs the due schedule slots and one batch of at most Concurrency due
// jobs, waits for all of them, and reports how many jobs and slots it ran.
func (r *Runner) RunOnce(ctx context.Context) (n int, err error) {
	var wg sync.WaitGroup
	defer wg.Wait()
	n, err = r.tick(ctx, ctx, &wg)
	if err != nil {
		return n, err
	}
	claimed, err := r.claim(ctx, r.opts.Concurrency)
	if err != nil {
		return n, err
	}
	for _, j := range claimed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.execute(ctx, j)
		}()
	}
	return n + len(claimed), nil
}

func (r *Runner) handler(kind string) Handler {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.handlers[kind]
}

// claim takes up to limit due jobs of the kinds this runner handles: ready jobs
// whose run_at has come, and running jobs whose lease expired. Running jobs
// whose lease expired on their last attempt are marked failed instead.
func (r *Runner) claim(ctx context.Context, limit int) ([]Job, error) {
	r.mu.Lock()
	kinds := r.kinds
	r.mu.Unlock()
	if len(kinds) == 0 || limit <= 0 {
		return nil, nil
	}
	now := r.clock.Now().UnixMilli()
	in := placeholders(len(kinds))
	// Look on the reader first, so that an idle poll never takes the write lock.
	var one int
	err := r.db.QueryRowContext(ctx, `SELECT 1 FROM jobs WHERE kind IN (`+in+`)
		AND ((status = 'ready' AND run_at <= ?) OR (status = 'running' AND lease_until <= ?)) LIMIT 1`,
		append(anys(kinds), now, now)...).Scan(&one)
	if db.IsNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("look for due jobs: %w", err)
	}
	var out []Job
	err = r.db.InTx(ctx, func(tx *db.Tx) error {
		args := append([]any{now, "lease expired on the last attempt", now}, anys(kinds)...)
		if _, err := tx.ExecContext(ctx, `UPDATE jobs SET status = 'failed', finished_at = ?, last_error = ?,
				lease_owner = '', lease_until = 0
			WHERE status = 'running' AND lease_until <= ? AND attempts >= max_attempts AND kind IN (`+in+`)`, args...); err != nil {
			return fmt.Errorf("fail exhausted jobs: %w", err)
		}
		args = []any{r.opts.NodeID, now + r.opts.Lease.Milliseconds()}
		args = append(args, anys(kinds)...)
		args = append(args, now, now, limit)
		rows, err := tx.QueryContext(ctx, `UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE id IN (SELECT id FROM jobs
				WHERE kind IN (`+in+`)
				  AND ((status = 'ready' AND run_at <= ?) OR (status = 'running' AND lease_until <= ?))
				ORDER BY run_at, id LIMIT ?`+r.db.SkipLocked()+`)
			RETURNING id, kind, payload, COALESCE(dedup_key, ''), attempts, max_attempts, run_at`, args...)
		if err != nil {
			return fmt.Errorf("claim: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var j Job
			var payload string
			var runAt int64
			if err := rows.Scan(&j.ID, &j.Kind, &payload, &j.DedupKey, &j.Attempt, &j.MaxAttempts, &runAt); err != nil {
				return fmt.Errorf("read claimed job: %w", err)
			}
			j.Payload = []byte(payload)
			j.RunAt = time.UnixMilli(runAt).UTC()
			out = append(out, j)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim jobs: %w", err)
	}
	return out, nil
}

// execute runs one claimed job with a heartbeat and records its outcome.
func (r *Runner) execute(ctx context.Context, j Job) {
	h := r.handler(j.Kind)
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop, stopped := make(chan struct{}), make(chan struct{})
	go r.heartbeat(jctx, j, cancel, stop, stopped)
	start := time.Now()
	err := r.call(jctx, h, j)
	close(stop)
	<-stopped
	r.finish(context.WithoutCancel(ctx), j, err, time.Since(start))
}

func (r *Runner) call(ctx context.Context, h Handler, j Job) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("job panicked", "job", j.ID, "kind", j.Kind, "panic", p, "stack", string(debug.Stack()))
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	if h == nil {
		return Permanent(fmt.Errorf("no handler for kind %q", j.Kind))
	}
	return h(ctx, j)
}

// heartbeat extends the job's lease every third of the lease until stop is
// closed, and cancels the job when another node has taken it over.
func (r *Runner) heartbeat(ctx context.Context, j Job, cancel context.CancelCauseFunc, stop <-chan struct{}, stopped chan<- struct{}) {
	defer close(stopped)
	t := time.NewTicker(max(r.opts.Lease/3, time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		until := r.clock.Now().Add(r.opts.Lease).UnixMilli()
		res, err := r.db.ExecContext(ctx, `UPDATE jobs SET lease_until = ?
			WHERE id = ? AND lease_owner = ? AND attempts = ? AND status = 'running'`, until, j.ID, r.opts.NodeID, j.Attempt)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			r.log.Warn("extend job lease", "job", j.ID, "kind", j.Kind, "err", err)
			continue
		}
		if n, _ := res.RowsAffected(); n == 0 {
			r.log.Warn("job lease lost to another node; cancelling", "job", j.ID, "kind", j.Kind)
			cancel(errLeaseLost)
			return
		}
	}
}

// finish records a job's outcome, guarded by the claim (owner and attempt) so
// that a node that lost its lease cannot overwrite the new owner's state.
func (r *Runner) finish(ctx context.Context, j Job, jobErr error, took time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	now := r.clock.Now()
	guard := []any{j.ID, r.opts.NodeID, j.Attempt}
	const where = ` WHERE id = ? AND lease_owner = ? AND attempts = ? AND status = 'running'`
	log := r.log.With("job", j.ID, "kind", j.Kind, "attempt", j.Attempt, "took", took)
	var res sql.Result
	var err error
	switch {
	case jobErr == nil:
		res, err = r.db.ExecContext(ctx, `UPDATE jobs SET status = 'done', finished_at = ?, last_error = '',
			lease_owner = '', lease_until = 0`+where, append([]any{now.UnixMilli()}, guard...)...)
		log.Debug("job done")
	case isPermanent(jobErr) || j.Attempt >= j.MaxAttempts:
		res, err = r.db.ExecContext(ctx, `UPDATE jobs SET status = 'failed', finished_at = ?, last_error = ?,
			lease_owner = '', lease_until = 0`+where, append([]any{now.UnixMilli(), truncate(jobErr.Error())}, guard...)...)
		log.Error("job failed", "err", jobErr)
	default:
		retryAt := now.Add(r.opts.Backoff(j.Attempt))
		res, err = r.db.ExecContext(ctx, `UPDATE jobs SET status = 'ready', run_at = ?, last_error = ?,
			lease_owner = '', lease_until = 0`+where, append([]any{retryAt.UnixMilli(), truncate(jobErr.Error())}, guard...)...)
		log.Warn("job failed; will retry", "err", jobErr, "retryAt", retryAt)
	}
	if err != nil {
		log.Error("record job outcome; the job will run again when its lease expires", "err", err)
		return
	}
	if n, _ := res.RowsAffected(); n == 0 {
		log.Warn("job lease was lost before it finished; another node may have run it too")
	}
}

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// truncate shortens an error message for last_error, keeping it valid UTF-8.
func truncate(s string) string {
	const limit = 2000
	if len(s) > limit {
		s = s[:limit]
	}
	return strings.ToValidUTF8(s, "")
}
