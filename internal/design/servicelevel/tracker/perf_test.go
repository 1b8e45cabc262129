package tracker_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/design/servicelevel/tracker"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// TestRecomputeAllThroughput measures RecomputeAll on STEWARD_SLA_PERF
// incidents (say 1000000) of six audit entries each, written straight into
// SQLite (the hash chain is not needed to recompute). It is skipped unless
// the variable is set.
func TestRecomputeAllThroughput(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("STEWARD_SLA_PERF"))
	if n <= 0 {
		t.Skip("set STEWARD_SLA_PERF to the number of incidents")
	}
	ctx := context.Background()
	d := dbtest.Open(t, db.SQLite)
	w := newWorld(t, d, deskSLA(8*time.Hour))
	began := time.Now()
	fill(t, d, n)
	t.Logf("wrote %d incidents with %d audit entries in %s", n, 6*n, time.Since(began))
	w.to(at(30, 9, 0))
	st, err := w.tracker.RecomputeAll(ctx, tracker.RecomputeOptions{Workers: runtime.GOMAXPROCS(0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("RecomputeAll: %+v, %.0f records/s", st, float64(st.Records)/st.Duration.Seconds())
	st, err = w.tracker.RecomputeAll(ctx, tracker.RecomputeOptions{Workers: 4 * runtime.GOMAXPROCS(0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("again (clocks stored): %+v, %.0f records/s", st, float64(st.Records)/st.Duration.Seconds())
}

// fill writes n incidents, each logged, investigated, held awaiting the
// caller, resumed, reprioritised (every third) and resolved.
func fill(t *testing.T, d *db.DB, n int) {
	ctx := context.Background()
	base := at(0, 9, 0).UnixMilli()
	const per = 1000
	seq := int64(1000000)
	for lo := 0; lo < n; lo += per {
		hi := min(n, lo+per)
		var recs, audits strings.Builder
		var rargs, aargs []any
		recs.WriteString(`INSERT INTO records (type, number, title, state, closed, priority, created_at, updated_at) VALUES `)
		audits.WriteString(`INSERT INTO audit_log (seq, at, actor_type, action, object_type, object_id, changes, prev_hash, hash) VALUES `)
		for i := lo; i < hi; i++ {
			num := fmt.Sprintf("INC%07d", i+1)
			t0 := base + int64(i%5000)*60000
			if i > lo {
				recs.WriteString(", ")
			}
			recs.WriteString("(?, ?, ?, ?, ?, ?, ?, ?)")
			rargs = append(rargs, "incident", num, "Mail does not arrive", "resolved", false, 3, t0, t0)
			entries := []struct {
				dt      int64
				action  string
				changes string
			}{
				{0, "record.create", `[{"field":"type","new":"incident"},{"field":"number","new":"` + num + `"},{"field":"title","new":"Mail does not arrive"},{"field":"state","new":"new"},{"field":"priority","new":3},{"field":"requesterId","new":1},{"field":"marking","new":"UNCLASSIFIED"},{"field":"category","new":"software"},{"field":"impact","new":2},{"field":"urgency","new":2},{"field":"path","new":"normal"}]`},
				{3600000, "record.transition", `[{"field":"state","old":"new","new":"in_progress"}]`},
				{7200000, "record.transition", `[{"field":"state","old":"in_progress","new":"on_hold"}]`},
				{7200000, "incident.hold", `[{"field":"holdReason","new":"awaiting_caller"}]`},
				{90000000, "record.transition", `[{"field":"state","old":"on_hold","new":"in_progress"},{"field":"holdReason","old":"awaiting_caller"}]`},
				{100000000, "record.transition", `[{"field":"state","old":"in_progress","new":"resolved"}]`},
			}
			if i%3 == 0 {
				entries[4] = struct {
					dt      int64
					action  string
					changes string
				}{90000000, "record.update", `[{"field":"priority","old":3,"new":2},{"field":"impact","old":2,"new":1}]`}
			}
			for j, e := range entries {
				if i > lo || j > 0 {
					audits.WriteString(", ")
				}
				seq++
				audits.WriteString("(?, ?, 'user', ?, 'record', ?, ?, '', '')")
				aargs = append(aargs, seq, t0+e.dt, e.action, num, e.changes)
			}
		}
		if err := d.InTx(ctx, func(tx *db.Tx) error {
			if _, err := tx.ExecContext(ctx, recs.String(), rargs...); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, audits.String(), aargs...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ? WHERE id = 1`, seq)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}
