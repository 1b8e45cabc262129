package main

import (
	"context"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Drive says how hard and how long to drive an operation.
type Drive struct {
	// Concurrency is the number of clients, each running one operation at a time.
	Concurrency int
	// Warmup is how long the clients run before anything is recorded.
	Warmup time.Duration
	// Duration is how long the measured part lasts, unless Count is set.
	Duration time.Duration
	// Count, when positive, ends the measured part after this many operations instead.
	Count int64
	// Mark, when not nil, is called as the measured part starts (true) and after it ends (false).
	Mark func(measuring bool)
}

// Stats is what one measured run produced.
type Stats struct {
	// Ops counts the operations that started in the measured part, failed ones included.
	Ops int64
	// Errors counts the operations that failed.
	Errors int64
	// FirstError is the first failure, for the log.
	FirstError error
	// Elapsed is from the start of the measured part until the last operation ended.
	Elapsed time.Duration
	// Latencies holds every measured operation's latency, sorted.
	Latencies []time.Duration
}

// OpsPerSec is the measured throughput.
func (s Stats) OpsPerSec() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Ops) / s.Elapsed.Seconds()
}

// Quantile returns the latency at quantile q (0 < q ≤ 1) by the nearest-rank method.
func (s Stats) Quantile(q float64) time.Duration {
	n := len(s.Latencies)
	if n == 0 {
		return 0
	}
	i := int(q*float64(n)+0.999999999) - 1
	return s.Latencies[min(max(i, 0), n-1)]
}

// Max is the slowest measured operation.
func (s Stats) Max() time.Duration {
	if len(s.Latencies) == 0 {
		return 0
	}
	return s.Latencies[len(s.Latencies)-1]
}

const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// runLoad runs op with a closed loop of l.Concurrency clients: warm-up first,
// then the measured part. Only operations that start in the measured part are
// recorded, each with its own latency (no bucketing, so quantiles are exact).
func runLoad(ctx context.Context, l Drive, seed uint64, op Op) Stats {
	var (
		phase   atomic.Int32
		claimed atomic.Int64
		wg      sync.WaitGroup
		mu      sync.Mutex
		st      Stats
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	expect := 1 << 12
	if l.Count > 0 {
		expect = int(l.Count)/max(l.Concurrency, 1) + 1
	}
	var start time.Time
	measure := func() {
		if l.Mark != nil {
			l.Mark(true)
		}
		start = time.Now()
		phase.Store(phaseMeasure)
	}
	if l.Warmup <= 0 {
		measure() // no warm-up: not even the first operation goes unrecorded
	}
	for i := range l.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &Worker{ID: i, Rand: rand.New(rand.NewPCG(seed, uint64(i)))}
			lat := make([]time.Duration, 0, expect)
			var errs int64
			var first error
			for ctx.Err() == nil {
				p := phase.Load()
				if p == phaseStop {
					break
				}
				measured := p == phaseMeasure
				if measured && l.Count > 0 && claimed.Add(1) > l.Count {
					break
				}
				w.Seq++
				t0 := time.Now()
				err := op(ctx, w)
				d := time.Since(t0)
				if !measured {
					continue
				}
				lat = append(lat, d)
				if err != nil && ctx.Err() == nil {
					errs++
					if first == nil {
						first = err
					}
				}
			}
			mu.Lock()
			st.Latencies = append(st.Latencies, lat...)
			st.Errors += errs
			if st.FirstError == nil {
				st.FirstError = first
			}
			mu.Unlock()
		}()
	}
	if l.Warmup > 0 {
		sleep(ctx, l.Warmup)
		measure()
	}
	if l.Count <= 0 {
		sleep(ctx, l.Duration)
		phase.Store(phaseStop)
	}
	wg.Wait()
	st.Elapsed = time.Since(start)
	if l.Mark != nil {
		l.Mark(false)
	}
	st.Ops = int64(len(st.Latencies))
	slices.Sort(st.Latencies)
	return st
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
