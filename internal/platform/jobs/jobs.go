// Package jobs runs background work on the jobs and schedules tables.
//
// A job is claimed under a lease by one node at a time, retried with
// exponential backoff when its handler fails, and marked failed after its last
// attempt. Scheduled work (Every) runs once per slot across all the nodes that
// share the database: the node whose conditional UPDATE of the schedule row
// succeeds runs the slot.
//
// Handlers must be idempotent. Delivery is at least once: when a node dies or
// stalls past its lease, another node claims the job again, and a handler that
// was still running on the first node may also finish. Write handlers so that a
// second run does no harm (upserts, dedup keys, conditional updates).
package jobs

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// Options tunes a Runner; the zero value gives the defaults.
type Options struct {
	// NodeID names this process in lease_owner; defaults to hostname-pid-random.
	NodeID string
	// Lease is how long a claim lasts without a heartbeat; defaults to 30s.
	Lease time.Duration
	// Poll is the interval between claims when nothing wakes the runner; defaults to 1s.
	Poll time.Duration
	// Concurrency bounds the jobs this runner executes at once; defaults to 4.
	Concurrency int
	// Backoff gives the delay before retry number attempt (1 after the first
	// failure); defaults to 1s·2^(attempt-1), capped at 1h, plus up to 10% jitter.
	Backoff func(attempt int) time.Duration
	// ShutdownTimeout bounds how long Run waits for in-flight work after its
	// context ends before cancelling the handlers' contexts; defaults to Lease.
	ShutdownTimeout time.Duration
	// Retention is how long finished (done) jobs are kept before Run prunes
	// them; defaults to 7 days, and a negative value disables pruning.
	Retention time.Duration
}

// Handler runs one job; see the package comment on idempotency.
type Handler func(ctx context.Context, j Job) error

// Job is one claimed unit of work as a handler sees it.
type Job struct {
	// ID is the job's row id.
	ID int64
	// Kind selects the handler.
	Kind string
	// Payload is the JSON given to Enqueue.
	Payload json.RawMessage
	// DedupKey is the key given to Enqueue, or "".
	DedupKey string
	// Attempt is 1 on the first run and grows with each claim.
	Attempt int
	// MaxAttempts is the number of runs after which a failing job is marked failed.
	MaxAttempts int
	// RunAt is when the job became due.
	RunAt time.Time
}

// Decode unmarshals the payload into v.
func (j Job) Decode(v any) error {
	if err := json.Unmarshal(j.Payload, v); err != nil {
		return fmt.Errorf("decode %s job %d payload: %w", j.Kind, j.ID, err)
	}
	return nil
}

// EnqueueOptions tunes one Enqueue call; the zero value runs the job now with 5 attempts.
type EnqueueOptions struct {
	// RunAt delays the job; zero means now.
	RunAt time.Time
	// DedupKey, when set, makes a second Enqueue with the same key a no-op for
	// as long as the first job's row exists (including after it finished).
	DedupKey string
	// MaxAttempts bounds the runs of a failing job; zero means 5.
	MaxAttempts int
}

// Runner claims and runs jobs and scheduled work.
type Runner struct {
	db    *db.DB
	clock clock.Clock
	log   *slog.Logger
	opts  Options

	mu        sync.Mutex
	handlers  map[string]Handler
	kinds     []string // sorted handler kinds, the claim filter
	schedules map[string]*schedule
	ensured   bool // every registered schedule has its row

	wake  chan struct{}
	freed chan struct{}
}

// New returns a runner on d; register handlers and schedules before calling Run.
func New(d *db.DB, c clock.Clock, logger *slog.Logger, opts Options) *Runner {
	if opts.NodeID == "" {
		opts.NodeID = defaultNodeID()
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.ShutdownTimeout <= 0 {
		opts.ShutdownTimeout = opts.Lease
	}
	if opts.Retention == 0 {
		opts.Retention = 7 * 24 * time.Hour
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{
		db: d, clock: c, log: logger.With("component", "jobs", "node", opts.NodeID), opts: opts,
		handlers: map[string]Handler{}, schedules: map[string]*schedule{},
		wake: make(chan struct{}, 1), freed: make(chan struct{}, 1),
	}
}

func defaultNodeID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// DefaultBackoff waits 1s·2^(attempt-1), capped at one hour, plus up to 10% jitter.
func DefaultBackoff(attempt int) time.Duration {
	return Exponential(time.Second, time.Hour, attempt)
}

// Exponential returns base·2^(attempt-1) capped at limit, plus up to 10% jitter
// so that retries of many failures spread out.
func Exponential(base, limit time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	d = min(d, limit)
	return d + rand.N(d/10+1)
}

// NodeID is the name this runner writes into lease_owner.
func (r *Runner) NodeID() string { return r.opts.NodeID }

// Handle registers fn for jobs of kind; the runner claims only kinds it has handlers for.
func (r *Runner) Handle(kind string, fn Handler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.handlers[kind] = fn
	if !slices.Contains(r.kinds, kind) {
		r.kinds = append(r.kinds, kind)
		slices.Sort(r.kinds)
	}
}

// Wake makes the run loop poll now instead of at its next interval.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Enqueue adds a job of kind with payload encoded as JSON. q is a *db.Tx, to
// enqueue as part of a business transaction, or a *db.DB. With a DedupKey, a
// second Enqueue with the same key does nothing and returns the first job's id.
func (r *Runner) Enqueue(ctx context.Context, q db.Queryer, kind string, payload any, o EnqueueOptions) (id int64, err error) {
	defer errs.Wrap(&err, "enqueue %s job", kind)
	if strings.TrimSpace(kind) == "" {
		return 0, errs.Field("kind", "must not be empty", kind)
	}
	if o.MaxAttempts < 0 {
		return 0, errs.Field("maxAttempts", "must not be negative", o.MaxAttempts)
	}
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 5
	}
	data := []byte("{}")
	if payload != nil {
		if data, err = json.Marshal(payload); err != nil {
			return 0, fmt.Errorf("encode payload: %w", err)
		}
	}
	now := r.clock.Now()
	runAt := o.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	var dedup any
	if o.DedupKey != "" {
		dedup = o.DedupKey
	}
	insert := func(q db.Queryer) error {
		err := q.QueryRowContext(ctx, `INSERT INTO jobs (kind, payload, dedup_key, status, run_at, max_attempts, created_at)
			VALUES (?, ?, ?, 'ready', ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING RETURNING id`,
			kind, string(data), dedup, runAt.UnixMilli(), o.MaxAttempts, now.UnixMilli()).Scan(&id)
		if db.IsNoRows(err) && o.DedupKey != "" {
			err = q.QueryRowContext(ctx, `SELECT id FROM jobs WHERE dedup_key = ?`, o.DedupKey).Scan(&id)
		}
		return err
	}
	due := !runAt.After(now)
	switch q := q.(type) {
	case *db.DB:
		if err := q.InTx(ctx, func(tx *db.Tx) error { return insert(tx) }); err != nil {
			return 0, err
		}
		if due {
			r.Wake()
		}
	case *db.Tx:
		if err := insert(q); err != nil {
			return 0, err
		}
		if due {
			q.OnCommit(r.Wake)
		}
	default:
		if err := insert(q); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// Stats reports the number of ready jobs (due or not), running and failed jobs,
// and how long the oldest due ready job has waited, for metrics.
func (r *Runner) Stats(ctx context.Context) (ready, running, failed int64, oldestReadyAge time.Duration, err error) {
	now := r.clock.Now().UnixMilli()
	var oldest int64
	err = r.db.QueryRowContext(ctx, `SELECT
			COUNT(*) FILTER (WHERE status = 'ready'),
			COUNT(*) FILTER (WHERE status = 'running'),
			COUNT(*) FILTER (WHERE status = 'failed'),
			COALESCE(MIN(run_at) FILTER (WHERE status = 'ready' AND run_at <= ?), 0)
		FROM jobs WHERE status IN ('ready', 'running', 'failed')`, now).Scan(&ready, &running, &failed, &oldest)
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("job stats: %w", err)
	}
	if oldest > 0 {
		oldestReadyAge = time.Duration(now-oldest) * time.Millisecond
	}
	return ready, running, failed, oldestReadyAge, nil
}

// Prune deletes done jobs that finished more than olderThan ago, which also
// frees their dedup keys, and reports how many it deleted.
func (r *Runner) Prune(ctx context.Context, olderThan time.Duration) (int64, error) {
	cut := r.clock.Now().Add(-olderThan).UnixMilli()
	res, err := r.db.ExecContext(ctx, `DELETE FROM jobs WHERE status = 'done' AND finished_at < ?`, cut)
	if err != nil {
		return 0, fmt.Errorf("prune done jobs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// permanentError marks a handler error that must not be retried.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent wraps err so that the runner marks the job failed at once instead of retrying it.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

func isPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}
