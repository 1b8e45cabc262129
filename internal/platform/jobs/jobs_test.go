package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/jobs"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func newRunner(d *db.DB, c clock.Clock, node string, mod ...func(*jobs.Options)) *jobs.Runner {
	o := jobs.Options{NodeID: node, Lease: 30 * time.Second, Poll: 10 * time.Millisecond, Concurrency: 4,
		Backoff: func(int) time.Duration { return time.Minute }}
	for _, m := range mod {
		m(&o)
	}
	return jobs.New(d, c, slog.New(slog.DiscardHandler), o)
}

// eachPair runs fn on each engine with two handles on one database, as two nodes would have.
func eachPair(t *testing.T, fn func(t *testing.T, a, b *db.DB)) {
	t.Helper()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			u := dbtest.URL(t, e)
			open := func() *db.DB {
				d, err := db.Open(context.Background(), db.Config{URL: u})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				return d
			}
			a := open()
			if e == db.SQLite {
				if err := a.Migrate(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			fn(t, a, open())
		})
	}
}

type jobRow struct {
	status    string
	attempts  int
	lastError string
	owner     string
}

func loadJob(t *testing.T, d *db.DB, id int64) jobRow {
	t.Helper()
	var j jobRow
	if err := d.QueryRowContext(context.Background(), `SELECT status, attempts, last_error, lease_owner FROM jobs WHERE id = ?`, id).
		Scan(&j.status, &j.attempts, &j.lastError, &j.owner); err != nil {
		t.Fatalf("load job %d: %v", id, err)
	}
	return j
}

func countJobs(t *testing.T, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM jobs`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestEnqueueDedup(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		r := newRunner(d, clock.NewFixed(t0), "a")

		id1, err := r.Enqueue(ctx, d, "mail.send", map[string]string{"to": "x"}, jobs.EnqueueOptions{DedupKey: "mail:1"})
		if err != nil {
			t.Fatal(err)
		}
		var id2 int64
		err = d.InTx(ctx, func(tx *db.Tx) error {
			id2, err = r.Enqueue(ctx, tx, "mail.send", map[string]string{"to": "y"}, jobs.EnqueueOptions{DedupKey: "mail:1"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if id1 == 0 || id1 != id2 {
			t.Fatalf("dedup ids: %d, %d", id1, id2)
		}
		if n := countJobs(t, d); n != 1 {
			t.Fatalf("jobs after duplicate enqueue: %d, want 1", n)
		}

		// A job enqueued in a transaction that rolls back never exists.
		rollback := errors.New("rollback")
		err = d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := r.Enqueue(ctx, tx, "mail.send", nil, jobs.EnqueueOptions{DedupKey: "mail:2"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatal(err)
		}
		// Jobs without a key never collapse.
		for range 2 {
			if _, err := r.Enqueue(ctx, d, "mail.send", nil, jobs.EnqueueOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if n := countJobs(t, d); n != 3 {
			t.Fatalf("jobs: %d, want 3", n)
		}
		if _, err := r.Enqueue(ctx, d, " ", nil, jobs.EnqueueOptions{}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("empty kind: %v", err)
		}
	})
}

func TestRetries(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	cases := []struct {
		name         string
		maxAttempts  int
		fail         func(attempt int) error
		wantStatus   string
		wantAttempts int
		wantError    string
	}{
		{"fails until exhausted", 3, func(int) error { return boom }, "failed", 3, "boom"},
		{"succeeds on second attempt", 3, func(a int) error {
			if a == 1 {
				return boom
			}
			return nil
		}, "done", 2, ""},
		{"permanent error", 5, func(int) error { return jobs.Permanent(boom) }, "failed", 1, "boom"},
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				clk := clock.NewFixed(t0)
				r := newRunner(d, clk, "a")
				kind := "retry." + c.name
				var runs atomic.Int32
				r.Handle(kind, func(ctx context.Context, j jobs.Job) error {
					runs.Add(1)
					return c.fail(j.Attempt)
				})
				id, err := r.Enqueue(ctx, d, kind, nil, jobs.EnqueueOptions{MaxAttempts: c.maxAttempts})
				if err != nil {
					t.Fatal(err)
				}
				for i := 0; i < c.maxAttempts+2; i++ {
					if _, err := r.RunOnce(ctx); err != nil {
						t.Fatal(err)
					}
					// Backoff holds the job back until the clock reaches it.
					if n, err := r.RunOnce(ctx); err != nil || n != 0 {
						t.Fatalf("run before backoff elapsed: n=%d err=%v", n, err)
					}
					clk.Advance(time.Minute)
				}
				got := loadJob(t, d, id)
				if got.status != c.wantStatus || got.attempts != c.wantAttempts || got.lastError != c.wantError || got.owner != "" {
					t.Fatalf("job = %+v, want status %s attempts %d error %q", got, c.wantStatus, c.wantAttempts, c.wantError)
				}
				if int(runs.Load()) != c.wantAttempts {
					t.Fatalf("handler ran %d times, want %d", runs.Load(), c.wantAttempts)
				}
			})
		}
	})
}

func TestTwoRunnersRunEachJobOnce(t *testing.T) {
	t.Parallel()
	eachPair(t, func(t *testing.T, a, b *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		clk := clock.NewFixed(t0)
		const total = 200
		var mu sync.Mutex
		runs := map[int64]int{}
		byNode := map[string]int{}
		handle := func(node string) jobs.Handler {
			return func(ctx context.Context, j jobs.Job) error {
				mu.Lock()
				runs[j.ID]++
				byNode[node]++
				mu.Unlock()
				time.Sleep(time.Millisecond)
				return nil
			}
		}
		ra, rb := newRunner(a, clk, "node-a"), newRunner(b, clk, "node-b")
		ra.Handle("count", handle("node-a"))
		rb.Handle("count", handle("node-b"))
		for i := range total {
			if _, err := ra.Enqueue(ctx, a, "count", map[string]int{"i": i}, jobs.EnqueueOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for _, r := range []*jobs.Runner{ra, rb} {
			wg.Go(func() { _ = r.Run(ctx) })
		}
		deadline := time.Now().Add(60 * time.Second)
		for {
			var done int
			if err := a.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE status = 'done'`).Scan(&done); err != nil {
				t.Fatal(err)
			}
			if done == total {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d of %d jobs done", done, total)
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if len(runs) != total {
			t.Fatalf("%d distinct jobs ran, want %d", len(runs), total)
		}
		for id, n := range runs {
			if n != 1 {
				t.Errorf("job %d ran %d times", id, n)
			}
		}
		t.Logf("executions per node: %v", byNode)
	})
}

func TestExpiredLeaseIsRunAgain(t *testing.T) {
	t.Parallel()
	eachPair(t, func(t *testing.T, a, b *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		started, release := make(chan struct{}), make(chan struct{})
		var runsA, runsB atomic.Int32
		ra := newRunner(a, clk, "node-a")
		ra.Handle("work", func(ctx context.Context, j jobs.Job) error {
			runsA.Add(1)
			close(started)
			<-release // the node hangs (or dies) mid-job
			return nil
		})
		rb := newRunner(b, clk, "node-b")
		rb.Handle("work", func(ctx context.Context, j jobs.Job) error {
			if j.Attempt != 2 {
				t.Errorf("second run has attempt %d, want 2", j.Attempt)
			}
			runsB.Add(1)
			return nil
		})
		id, err := ra.Enqueue(ctx, a, "work", nil, jobs.EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		doneA := make(chan struct{})
		go func() {
			defer close(doneA)
			if _, err := ra.RunOnce(ctx); err != nil {
				t.Error(err)
			}
		}()
		<-started
		if n, err := rb.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("claim while the lease holds: n=%d err=%v", n, err)
		}
		clk.Advance(31 * time.Second)
		if n, err := rb.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("claim after the lease expired: n=%d err=%v", n, err)
		}
		close(release)
		<-doneA
		got := loadJob(t, a, id)
		if got.status != "done" || got.attempts != 2 || runsA.Load() != 1 || runsB.Load() != 1 {
			t.Fatalf("job %+v, runs a=%d b=%d", got, runsA.Load(), runsB.Load())
		}
	})
}

func TestExpiredLeaseOnLastAttemptFails(t *testing.T) {
	t.Parallel()
	eachPair(t, func(t *testing.T, a, b *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		started, release := make(chan struct{}), make(chan struct{})
		ra := newRunner(a, clk, "node-a")
		ra.Handle("work", func(ctx context.Context, j jobs.Job) error {
			close(started)
			<-release
			return nil
		})
		rb := newRunner(b, clk, "node-b")
		rb.Handle("work", func(ctx context.Context, j jobs.Job) error {
			t.Error("a job past its last attempt ran again")
			return nil
		})
		id, err := ra.Enqueue(ctx, a, "work", nil, jobs.EnqueueOptions{MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		doneA := make(chan struct{})
		go func() {
			defer close(doneA)
			_, _ = ra.RunOnce(ctx)
		}()
		<-started
		clk.Advance(31 * time.Second)
		if n, err := rb.RunOnce(ctx); err != nil || n != 0 {
			t.Fatalf("n=%d err=%v", n, err)
		}
		close(release)
		<-doneA
		if got := loadJob(t, a, id); got.status != "failed" || got.lastError == "" {
			t.Fatalf("job %+v, want failed", got)
		}
	})
}

func TestHeartbeatKeepsLease(t *testing.T) {
	t.Parallel()
	eachPair(t, func(t *testing.T, a, b *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		lease := func(o *jobs.Options) { o.Lease = 150 * time.Millisecond }
		started, release := make(chan struct{}), make(chan struct{})
		ra := newRunner(a, clk, "node-a", lease)
		ra.Handle("long", func(ctx context.Context, j jobs.Job) error {
			close(started)
			<-release
			return nil
		})
		rb := newRunner(b, clk, "node-b", lease)
		rb.Handle("long", func(ctx context.Context, j jobs.Job) error {
			t.Error("a job whose lease is kept alive ran on another node")
			return nil
		})
		id, err := ra.Enqueue(ctx, a, "long", nil, jobs.EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		doneA := make(chan struct{})
		go func() {
			defer close(doneA)
			_, _ = ra.RunOnce(ctx)
		}()
		<-started
		for range 4 { // 400ms of clock time, well past one 150ms lease
			clk.Advance(100 * time.Millisecond)
			time.Sleep(250 * time.Millisecond) // several heartbeats at 50ms
			if n, err := rb.RunOnce(ctx); err != nil || n != 0 {
				t.Fatalf("claim of a live job: n=%d err=%v", n, err)
			}
		}
		close(release)
		<-doneA
		if got := loadJob(t, a, id); got.status != "done" || got.attempts != 1 {
			t.Fatalf("job %+v", got)
		}
	})
}

func TestRunWaitsForInFlightJobs(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		r := newRunner(d, clock.NewFixed(t0), "a")
		started := make(chan struct{})
		var sawCancel atomic.Bool
		r.Handle("slow", func(jctx context.Context, j jobs.Job) error {
			close(started)
			time.Sleep(200 * time.Millisecond)
			sawCancel.Store(jctx.Err() != nil)
			return nil
		})
		id, err := r.Enqueue(ctx, d, "slow", nil, jobs.EnqueueOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ran := make(chan error)
		go func() { ran <- r.Run(ctx) }()
		<-started
		cancel()
		if err := <-ran; err != nil {
			t.Fatal(err)
		}
		if got := loadJob(t, d, id); got.status != "done" || sawCancel.Load() {
			t.Fatalf("after shutdown: job %+v, handler context cancelled: %v", got, sawCancel.Load())
		}
	})
}

func TestScheduleSlotRunsOnceAcrossRunners(t *testing.T) {
	t.Parallel()
	eachPair(t, func(t *testing.T, a, b *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		var runs atomic.Int32
		owners := sync.Map{}
		var runners []*jobs.Runner
		for i, d := range []*db.DB{a, b} {
			r := newRunner(d, clk, fmt.Sprintf("node-%d", i))
			r.Every("sweep", time.Minute, func(ctx context.Context) error {
				runs.Add(1)
				owners.Store(i, true)
				return nil
			})
			runners = append(runners, r)
		}
		step := func() {
			var wg sync.WaitGroup
			for _, r := range runners {
				for range 3 {
					wg.Go(func() {
						if _, err := r.RunOnce(ctx); err != nil {
							t.Error(err)
						}
					})
				}
			}
			wg.Wait()
		}
		for slot := 1; slot <= 4; slot++ {
			step()
			step()
			if got := int(runs.Load()); got != slot {
				t.Fatalf("after slot %d: %d runs", slot, got)
			}
			clk.Advance(time.Minute)
		}
		// Slots missed while no node ran are skipped, not replayed.
		clk.Advance(10 * time.Minute)
		step()
		step()
		if got := runs.Load(); got != 5 {
			t.Fatalf("after a gap: %d runs, want 5", got)
		}
		var next int64
		if err := a.QueryRowContext(ctx, `SELECT next_run_at FROM schedules WHERE name = 'sweep'`).Scan(&next); err != nil {
			t.Fatal(err)
		}
		if want := clk.Now().Add(time.Minute).UnixMilli(); next != want {
			t.Fatalf("next_run_at %d, want %d", next, want)
		}
	})
}

func TestTriggerRunsScheduleNow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		r := newRunner(d, clock.NewFixed(t0), "a", func(o *jobs.Options) { o.Poll = time.Hour })
		ran := make(chan struct{}, 10)
		r.Every("flush", time.Hour, func(ctx context.Context) error {
			ran <- struct{}{}
			return nil
		})
		var wg sync.WaitGroup
		wg.Go(func() { _ = r.Run(ctx) })
		defer wg.Wait()
		defer cancel()
		for i := range 3 {
			if i > 0 {
				r.Trigger("flush")
			}
			select {
			case <-ran:
			case <-time.After(10 * time.Second):
				t.Fatalf("run %d did not happen", i)
			}
		}
	})
}

func TestStatsAndPrune(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		clk := clock.NewFixed(t0)
		r := newRunner(d, clk, "a", func(o *jobs.Options) { o.Concurrency = 1 })
		r.Handle("ok", func(context.Context, jobs.Job) error { return nil })
		r.Handle("bad", func(context.Context, jobs.Job) error { return jobs.Permanent(errors.New("no")) })
		enqueue := func(kind string, o jobs.EnqueueOptions) {
			t.Helper()
			if _, err := r.Enqueue(ctx, d, kind, nil, o); err != nil {
				t.Fatal(err)
			}
		}
		enqueue("bad", jobs.EnqueueOptions{})
		if _, err := r.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		enqueue("ok", jobs.EnqueueOptions{DedupKey: "once"})
		enqueue("other", jobs.EnqueueOptions{})
		enqueue("other", jobs.EnqueueOptions{RunAt: t0.Add(time.Hour)})
		clk.Advance(5 * time.Second)
		ready, running, failed, age, err := r.Stats(ctx)
		if err != nil || ready != 3 || running != 0 || failed != 1 || age != 5*time.Second {
			t.Fatalf("stats: ready=%d running=%d failed=%d age=%v err=%v", ready, running, failed, age, err)
		}
		if n, err := r.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("run ok: n=%d err=%v", n, err)
		}
		clk.Advance(8 * 24 * time.Hour)
		if n, err := r.Prune(ctx, 7*24*time.Hour); err != nil || n != 1 {
			t.Fatalf("prune: n=%d err=%v", n, err)
		}
		// The pruned job's dedup key is free again.
		before := countJobs(t, d)
		enqueue("ok", jobs.EnqueueOptions{DedupKey: "once"})
		if countJobs(t, d) != before+1 {
			t.Fatal("dedup key not freed by prune")
		}
	})
}
