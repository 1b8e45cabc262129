package servicelevel_test

import (
	"context"
	"testing"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// seedClocks writes n clocks of one service's SLA spread evenly over the 12
// months of 2026 (and n/4 of another service), with their records, using
// set-based INSERT … SELECT statements as a data generator would. The clocks
// cycle through four targets, five priorities and the decided and running
// statuses.
func seedClocks(tb testing.TB, d *db.DB, service, other, agreement int64, targets [4]int64, n int) {
	tb.Helper()
	ctx := context.Background()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli()
	year := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() - start
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		total := n + n/4
		if _, err := tx.ExecContext(ctx, `INSERT INTO records (type, number, title, state, created_at, updated_at)
			SELECT 'incident', 'BNC' || CAST(1000000000 + i AS TEXT), 'bench', 'new', 0, 0 FROM (
				WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?) SELECT i FROM seq) s`, total); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sla_clocks (record_id, target_id, agreement_id, kind, record_type, service_id, priority,
			status, started_at, target_ms, period, computed_at)
			SELECT r.id,
				CASE r.id % 4 WHEN 0 THEN ? WHEN 1 THEN ? WHEN 2 THEN ? ELSE ? END, ?, 'resolution', 'incident',
				CASE WHEN r.rn <= ? THEN ? ELSE ? END, 1 + r.id % 5,
				CASE r.id % 7 WHEN 0 THEN 'breached' WHEN 1 THEN 'running' WHEN 2 THEN 'cancelled' ELSE 'met' END,
				r.at, 3600000,
				CAST(strftime('%Y%m', r.at / 1000, 'unixepoch') AS INTEGER), r.at
			FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rn, ? + (id * 7919 % ?) * (? / ?) AS at
				FROM records WHERE type = 'incident' AND number LIKE 'BNC%') r`,
			targets[0], targets[1], targets[2], targets[3], agreement, n, service, other, start, total, year, total)
		return err
	}); err != nil {
		tb.Fatalf("seed clocks: %v", err)
	}
}

// BenchmarkReport is the achievement report of a service over 12 months
// with 100,000 clocks in them (and 25,000 of another service) on SQLite; the
// target is well under a second per report:
//
//	go test -run '^$' -bench AchievementReport ./internal/design/servicelevel/
func BenchmarkReport(b *testing.B) {
	d := dbtest.Open(b, db.SQLite)
	e := newEnv(b, d)
	mail, other := e.service("Mail"), e.service("Print")
	a := e.draft(servicelevel.SLA, "Mail SLA", mail)
	var ts []servicelevel.Target
	for i, name := range []string{"P1", "P2", "P3", "Response"} {
		ts = append(ts, servicelevel.Target{Name: name, Kind: servicelevel.Resolution, Priority: i + 1, DurationMs: hours(4)})
	}
	ts[3].Kind, ts[3].Priority = servicelevel.Response, 0
	sd, err := e.svc.SetTargets(e.an, a.Number, e.version(a.Number), ts)
	if err != nil {
		b.Fatal(err)
	}
	seedClocks(b, d, mail, other, a.ID, [4]int64{sd.Targets[0].ID, sd.Targets[1].ID, sd.Targets[2].ID, sd.Targets[3].ID}, 100000)
	q := servicelevel.ReportQuery{ServiceID: mail, From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}
	rep, err := e.svc.Report(e.s, q)
	if err != nil {
		b.Fatal(err)
	}
	if rep.Totals.Total+rep.Totals.Cancelled != 100000 || len(rep.Months) != 12 || len(rep.Agreements[0].Targets) != 4 {
		b.Fatalf("report: %+v over %d months", rep.Totals, len(rep.Months))
	}
	b.ResetTimer()
	for range b.N {
		if _, err := e.svc.Report(e.s, q); err != nil {
			b.Fatal(err)
		}
	}
}
