package tracker_test

import (
	"context"
	"testing"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/calendar"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// TestBreachReassigns: a reassign escalation at the breach moves the record
// to the escalation's team as the system, audited with the target it breached,
// once.
func TestBreachReassigns(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, d, nil)
		w.targets.set(deskSLA(8*time.Hour, sla.Escalation{Threshold: 100, Action: "reassign", TeamID: w.otherTeam}))
		n := w.log(2, 2) // P3: 16 business hours, due Tue 16:00
		w.refresh()
		if c := w.clocks(d, n)["resolution"]; c.DueAt != ms(at(1, 16, 0)) {
			t.Fatalf("resolution due %d, want Tue 16:00", c.DueAt)
		}
		w.to(at(1, 16, 30))
		w.refresh()
		for range 2 { // the second sweep finds nothing left to do
			if _, err := w.tracker.Sweep(ctx); err != nil {
				t.Fatal(err)
			}
		}
		r, err := w.k.Records.Get(w.rt, n)
		if err != nil || r.TeamID != w.otherTeam {
			t.Fatalf("after the breach %s is with team %d (%v), want %d", n, r.TeamID, err, w.otherTeam)
		}
		var moves, escalations int64
		if err := d.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM audit_log WHERE object_type = 'record' AND object_id = ? AND action LIKE 'record.system.%'),
			(SELECT COUNT(*) FROM sla_escalations WHERE action = 'reassign')`, n).Scan(&moves, &escalations); err != nil {
			t.Fatal(err)
		}
		if moves != 1 || escalations != 1 {
			t.Fatalf("%d system changes and %d reassign escalations, want 1 and 1", moves, escalations)
		}
	})
}

// TestCalendarChangeRecomputes: when a calendar changes, the clocks kept on it
// are recomputed with its new hours (in the changing transaction's wake).
func TestCalendarChangeRecomputes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		ctx := context.Background()
		w := newWorld(t, d, deskSLA(8*time.Hour))
		n := w.log(2, 2) // P3 on Mon–Fri 08:00–17:00: due Tue 16:00
		w.refresh()
		if c := w.clocks(d, n)["resolution"]; c.DueAt != ms(at(1, 16, 0)) {
			t.Fatalf("resolution due %d, want Tue 16:00", c.DueAt)
		}
		// The business day becomes 08:00–18:00: 9 h on Monday, 7 h more on Tuesday.
		var week []calendar.Window
		for _, day := range calendar.Days[:5] {
			week = append(week, calendar.Window{Day: day, Start: "08:00", End: "18:00"})
		}
		s, err := calendar.Calendar{Name: "business", TimeZone: "UTC", Windows: week}.Compile()
		if err != nil {
			t.Fatal(err)
		}
		w.sched[calBusiness] = s
		if err := d.InTx(ctx, func(tx *db.Tx) error { return w.tracker.CalendarChanged(ctx, tx, calBusiness) }); err != nil {
			t.Fatal(err)
		}
		c := w.clocks(d, n)["resolution"]
		if c.DueAt != ms(at(1, 15, 0)) {
			t.Fatalf("resolution due %s after the calendar change, want Tue 15:00", time.UnixMilli(c.DueAt).UTC())
		}
		var history int64
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_clock_history WHERE old_due_at = ? AND new_due_at = ?`,
			ms(at(1, 16, 0)), ms(at(1, 15, 0))).Scan(&history); err != nil || history != 1 {
			t.Fatalf("history rows of the move: %d (%v)", history, err)
		}
	})
}
