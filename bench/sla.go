package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/framework"
	"steward/internal/gen"
	"steward/internal/operation/incident"
	"steward/internal/platform/audit"
	"steward/internal/platform/calendar"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// The service-level scenarios run on the agreements, calendars and outages
// the generator's sla step writes (internal/gen/sla.go) over the incident log
// and its audit history: an SLA per critical service (and per service among
// the ten busiest), an OLA per main resolver team, two UCs. The clocks are
// computed once per engine before the server starts (Prepare), with
// tracker.Service.RecomputeAll, so that the report has figures to count.

// slaSweepEscalations is how many escalations sla.sweep fires per operation.
const slaSweepEscalations = 100_000

// slaSweepers is how many trackers sweep at once, each with its own connection pool, as nodes would.
const slaSweepers = 2

// slaScenarios measure recomputing every clock, sweeping due escalations, the SLA report and the availability figures.
func slaScenarios() []Scenario {
	return []Scenario{
		{
			Name:  "sla.report",
			Phase: Online,
			Measures: "GET /api/v1/reports/sla?service={id}&from=&to= over the last 12 generated months for the service with the most " +
				"incidents: per agreement and target the clocks met, breached and running, achievement, the monthly trend and the " +
				"breaches by priority, from sla_clocks grouped by period.",
			Prepare: prepareClocks,
			Setup:   setupSLAReport,
		},
		{
			Name:  "availability",
			Phase: Online,
			Measures: "GET /api/v1/services/{id}/availability?from=&to= over the last 12 generated months for the service with the most " +
				"outages: its agreed service time on the SLA's calendar, planned and unplanned outages merged, availability %, " +
				"MTBF, MTRS, MTBSI and the monthly series.",
			Setup: setupAvailability,
		},
		{
			Name:  "sla.recompute",
			Phase: Offline,
			Measures: "tracker.Service.RecomputeAll over every record of the generated database, in-process: the audit trail read in " +
				"(object_id, seq) order, each record's timeline folded and every applicable target's clock computed on its calendar " +
				"by parallel workers, written in batches; the first operation starts from no clocks, the second recomputes over them " +
				"(notes: records/s and clocks of each).",
			Prepare: prepareClocks,
			Clients: 1,
			Runs:    2,
			Setup:   setupSLARecompute,
		},
		{
			Name:  "sla.sweep",
			Phase: Offline,
			Measures: fmt.Sprintf("%d due escalations fired by %d trackers sweeping at once, each with its own connection pool as a "+
				"node would have (FOR UPDATE SKIP LOCKED on PostgreSQL): the due thresholds of the running clocks are made due "+
				"again (fired reset, escalations deleted) as often as it takes; one operation is the whole run (notes: "+
				"escalations/s of sweeping alone, duplicates: escalation rows or notifications beyond one per clock, threshold, "+
				"cycle and action, which must be 0).", slaSweepEscalations, slaSweepers),
			Prepare: prepareClocks,
			Clients: 1,
			Runs:    1,
			Setup:   setupSLASweep,
		},
	}
}

// slaStack is the service-level stack over one database, wired as the application wires it.
type slaStack struct {
	db      *db.DB
	tracker *tracker.Service
}

// openSLAStack opens the store and wires the kernel, incident management,
// calendars, service level management and a tracker named node.
func openSLAStack(ctx context.Context, env *Env, node string) (*slaStack, error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	st, err := wireSLA(d, node)
	if err != nil {
		d.Close()
		return nil, err
	}
	return st, nil
}

func wireSLA(d *db.DB, node string) (*slaStack, error) {
	m, err := framework.Embedded()
	if err != nil {
		return nil, err
	}
	c := clock.System{}
	trail, events := audit.NewTrail(c), outbox.New(c, nil)
	recs := record.New(record.Deps{DB: d, Model: m, Trail: trail, Events: events, Clock: c})
	if _, err := incident.New(incident.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c}); err != nil {
		return nil, err
	}
	levels, err := servicelevel.New(servicelevel.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c})
	if err != nil {
		return nil, err
	}
	cals, err := calendar.New(calendar.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c})
	if err != nil {
		return nil, err
	}
	tr, err := tracker.New(tracker.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c, Targets: levels,
		Calendars: tracker.ScheduleFunc[*calendar.Schedule](cals.Schedule), NodeID: node})
	if err != nil {
		return nil, err
	}
	return &slaStack{db: d, tracker: tr}, nil
}

// prepareClocks computes every clock once, unless they are there already.
func prepareClocks(ctx context.Context, env *Env) error {
	st, err := openSLAStack(ctx, env, "bench-prepare")
	if err != nil {
		return err
	}
	defer st.db.Close()
	var n int64
	if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_clocks`).Scan(&n); err != nil {
		return fmt.Errorf("count the clocks: %w", err)
	}
	if n > 0 {
		return nil
	}
	stats, err := st.tracker.RecomputeAll(ctx, tracker.RecomputeOptions{})
	if err != nil {
		return err
	}
	logf("%s sla: computed %d clocks of %d records in %s (%.0f records/s)", env.Engine, stats.Clocks, stats.Records,
		stats.Duration.Round(time.Millisecond), float64(stats.Records)/max(stats.Duration.Seconds(), 1e-9))
	return nil
}

// slaPeriod is the last 12 generated months, as the report and availability queries take them.
func slaPeriod() (string, string) {
	to := time.UnixMilli(gen.EpochMillis).UTC()
	return to.AddDate(-1, 0, 0).Format(time.RFC3339), to.Format(time.RFC3339)
}

// setupSLAReport finds the service with the most incidents and checks that its report has clocks.
func setupSLAReport(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	var service, incidents, clocks int64
	if err := d.QueryRowContext(ctx, `SELECT service_id, COUNT(*) FROM records WHERE type = 'incident' AND service_id IS NOT NULL
		GROUP BY service_id ORDER BY COUNT(*) DESC, service_id LIMIT 1`).Scan(&service, &incidents); err != nil {
		return nil, nil, fmt.Errorf("find the service with the most incidents: %w", err)
	}
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_clocks WHERE service_id = ?`, service).Scan(&clocks); err != nil {
		return nil, nil, fmt.Errorf("count its clocks: %w", err)
	}
	from, to := slaPeriod()
	path := "/api/v1/reports/sla?" + url.Values{"service": {strconv.FormatInt(service, 10)}, "from": {from}, "to": {to}}.Encode()
	if err := env.Call(ctx, http.MethodGet, path, nil, http.StatusOK); err != nil {
		return nil, nil, err
	}
	logf("%s sla.report: service %d with %d incidents and %d clocks", env.Engine, service, incidents, clocks)
	env.Note("incidents", float64(incidents))
	env.Note("clocks", float64(clocks))
	return func(ctx context.Context, w *Worker) error {
		return env.Call(ctx, http.MethodGet, path, nil, http.StatusOK)
	}, nil, nil
}

// setupAvailability finds the service with the most outages.
func setupAvailability(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	defer d.Close()
	var service, outages int64
	if err := d.QueryRowContext(ctx, `SELECT service_id, COUNT(*) FROM outages GROUP BY service_id ORDER BY COUNT(*) DESC, service_id
		LIMIT 1`).Scan(&service, &outages); err != nil {
		return nil, nil, fmt.Errorf("find the service with the most outages (was the organisation generated with its SLAs?): %w", err)
	}
	from, to := slaPeriod()
	path := fmt.Sprintf("/api/v1/services/%d/availability?", service) + url.Values{"from": {from}, "to": {to}}.Encode()
	if err := env.Call(ctx, http.MethodGet, path, nil, http.StatusOK); err != nil {
		return nil, nil, err
	}
	logf("%s availability: service %d with %d outages", env.Engine, service, outages)
	env.Note("outages", float64(outages))
	return func(ctx context.Context, w *Worker) error {
		return env.Call(ctx, http.MethodGet, path, nil, http.StatusOK)
	}, nil, nil
}

// setupSLARecompute removes the clocks, so that the first RecomputeAll starts from none.
func setupSLARecompute(ctx context.Context, env *Env) (Op, func(), error) {
	st, err := openSLAStack(ctx, env, "bench-recompute")
	if err != nil {
		return nil, nil, err
	}
	for _, q := range []string{`DELETE FROM sla_escalations`, `DELETE FROM sla_clock_history`, `DELETE FROM sla_clocks`,
		`DELETE FROM sla_timelines`} {
		if _, err := st.db.ExecContext(ctx, q); err != nil {
			st.db.Close()
			return nil, nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	var mu sync.Mutex
	run := 0
	return func(ctx context.Context, w *Worker) error {
		stats, err := st.tracker.RecomputeAll(ctx, tracker.RecomputeOptions{})
		if err != nil {
			return err
		}
		mu.Lock()
		run++
		k := run
		mu.Unlock()
		rate := float64(stats.Records) / max(stats.Duration.Seconds(), 1e-9)
		logf("%s sla.recompute run %d: %d records, %d clocks (%d inserted, %d updated, %d deleted, %d history) in %s: %.0f records/s",
			env.Engine, k, stats.Records, stats.Clocks, stats.Inserted, stats.Updated, stats.Deleted, stats.History,
			stats.Duration.Round(time.Millisecond), rate)
		env.Note(fmt.Sprintf("run%d_records", k), float64(stats.Records))
		env.Note(fmt.Sprintf("run%d_clocks", k), float64(stats.Clocks))
		env.Note(fmt.Sprintf("run%d_records_per_sec", k), round(rate, 0))
		return nil
	}, func() { st.db.Close() }, nil
}

// setupSLASweep opens the sweeping trackers, each on a connection pool of its own.
func setupSLASweep(ctx context.Context, env *Env) (Op, func(), error) {
	var stacks []*slaStack
	release := func() {
		for _, s := range stacks {
			s.db.Close()
		}
	}
	for i := range slaSweepers {
		st, err := openSLAStack(ctx, env, fmt.Sprintf("bench-sweeper-%d", i+1))
		if err != nil {
			release()
			return nil, nil, err
		}
		stacks = append(stacks, st)
	}
	d := stacks[0].db
	return func(ctx context.Context, w *Worker) error {
		var fired, rounds, events, rows, dups int64
		var sweeping time.Duration
		var failed []error
		for fired < slaSweepEscalations {
			due, err := slaMakeDue(ctx, d)
			if err != nil {
				return err
			}
			if due == 0 {
				return errors.New("no running clock to escalate: were the clocks computed?")
			}
			var before int64
			if err := d.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM outbox_events`).Scan(&before); err != nil {
				return fmt.Errorf("read the outbox: %w", err)
			}
			t0 := time.Now()
			n, fails, err := slaSweepAll(ctx, stacks)
			sweeping += time.Since(t0)
			failed = append(failed, fails...)
			if err != nil {
				return err
			}
			var r, distinct, e int64
			if err := d.QueryRowContext(ctx, `SELECT COUNT(*), (SELECT COUNT(*) FROM (SELECT DISTINCT clock_id, threshold, cycle, action
				FROM sla_escalations) x), (SELECT COUNT(*) FROM outbox_events WHERE id > ? AND type IN ('sla.warning', 'sla.breached'))
				FROM sla_escalations`, before).Scan(&r, &distinct, &e); err != nil {
				return fmt.Errorf("count the escalations: %w", err)
			}
			if n == 0 {
				return fmt.Errorf("round %d: %d clocks due but nothing fired", rounds+1, due)
			}
			fired += n
			rows += r
			events += e
			dups += (r - distinct) + (e - r) + (n - r)
			rounds++
		}
		rate := float64(fired) / max(sweeping.Seconds(), 1e-9)
		logf("%s sla.sweep: %d escalations (%d rows, %d notifications) in %d rounds by %d sweepers, %s sweeping: %.0f escalations/s, "+
			"%d duplicates, %d failed sweeps", env.Engine, fired, rows, events, rounds, slaSweepers, sweeping.Round(time.Millisecond), rate,
			dups, len(failed))
		env.Note("escalations", float64(fired))
		env.Note("rounds", float64(rounds))
		env.Note("sweep_seconds", round(sweeping.Seconds(), 3))
		env.Note("escalations_per_sec", round(rate, 0))
		env.Note("duplicates", float64(dups))
		env.Note("failed_sweeps", float64(len(failed)))
		if dups != 0 {
			return fmt.Errorf("%d duplicate escalations", dups)
		}
		if len(failed) > 0 {
			return fmt.Errorf("%d sweeps failed (and were retried), the first: %w", len(failed), failed[0])
		}
		return nil
	}, release, nil
}

// slaMakeDue makes every passed threshold of the running clocks due again:
// the escalations are deleted and the clocks marked as having fired nothing.
// It returns how many clocks are due.
func slaMakeDue(ctx context.Context, d *db.DB) (int64, error) {
	now := time.Now().UnixMilli()
	var due int64
	err := d.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sla_escalations`); err != nil {
			return fmt.Errorf("delete the escalations: %w", err)
		}
		res, err := tx.ExecContext(ctx, `UPDATE sla_clocks SET fired = 0, fired_cycle = 0, next_at = ?
			WHERE status = 'running' OR status = 'breached' AND stopped_at = 0`, now-1)
		if err != nil {
			return fmt.Errorf("make the running clocks due: %w", err)
		}
		due, err = res.RowsAffected()
		return err
	})
	return due, err
}

// slaSweepAll runs every tracker's Sweep at once, each again until no clock is
// due, and returns how many escalations they fired together and the sweeps
// that failed (a node would log them and sweep again at its next run, as
// these do; an error is returned after 100 failures, or when nothing fires
// for 30 seconds).
func slaSweepAll(ctx context.Context, stacks []*slaStack) (int64, []error, error) {
	var wg sync.WaitGroup
	fired := make([]int64, len(stacks))
	errs := make([]error, len(stacks))
	var failedMu sync.Mutex
	var failed []error
	for i, st := range stacks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			progress, last := time.Now(), int64(-1)
			for {
				n, err := st.tracker.Sweep(ctx)
				fired[i] += int64(n)
				if err != nil {
					failedMu.Lock()
					failed = append(failed, err)
					k := len(failed)
					failedMu.Unlock()
					if k > 100 || ctx.Err() != nil {
						errs[i] = err
						return
					}
				}
				var due int64
				if err := st.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_clocks WHERE next_at > 0 AND next_at <= ?`,
					time.Now().UnixMilli()).Scan(&due); err != nil {
					errs[i] = err
					return
				}
				if due == 0 {
					return
				}
				if n > 0 || due != last {
					progress, last = time.Now(), due
				} else if time.Since(progress) > 30*time.Second {
					errs[i] = fmt.Errorf("%d clocks stay due but nothing fires", due)
					return
				}
				if n == 0 {
					time.Sleep(10 * time.Millisecond) // the other sweepers hold the rest
				}
			}
		}()
	}
	wg.Wait()
	var total int64
	for i := range stacks {
		total += fired[i]
	}
	return total, failed, errors.Join(errs...)
}
