package calendar_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/calendar"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record/recordtest"
)

// env is the calendar service over a fresh database with the default SLM
// matrix (generic template) and its people:
//
//	        Owner  Manager  Developer  Analyst
//	SLM1      A       R         I         C
//
// The owner and the manager may change calendars; the analyst, only
// consulted, and the stranger may not; an administrator passes as an override.
type env struct {
	t   testing.TB
	d   *db.DB
	k   *recordtest.Kernel
	svc *calendar.Service

	root, owner, manager, analyst, stranger auth.User
	rt, o, m, an, s                         context.Context
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2026, 3, 11, 9, 0, 0, 0, time.UTC))
	svc, err := calendar.New(calendar.Deps{DB: d, Records: k.Records, Trail: k.Trail, Events: k.Events, Clock: k.Clock})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, k: k, svc: svc}
	e.root, e.rt = k.User("root", true)
	e.owner, e.o = k.User("owner", false)
	e.manager, e.m = k.User("manager", false)
	e.analyst, e.an = k.User("analyst", false)
	e.stranger, e.s = k.User("stranger", false)
	admin := &auth.Principal{UserID: e.root.ID, Username: e.root.Username, Admin: true}
	k.Assign(admin, []raci.RoleAssignment{
		{Subject: calendar.Process, Role: raci.RoleProcessOwner, UserID: e.owner.ID},
		{Subject: calendar.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: calendar.Process, Role: "process-analyst", UserID: e.analyst.ID},
	}...)
	return e
}

func opsCalendar() calendar.Calendar {
	return calendar.Calendar{Name: "Brussels operations", Description: "Office hours in Brussels.", TimeZone: bru,
		Windows: []calendar.Window{{Day: "mon", Start: "08:00", End: "12:00"}, {Day: "mon", Start: "13:00", End: "17:00"},
			{Day: "wed", Start: "22:00", End: "06:00", EndsNextDay: true}},
		Holidays: []calendar.Holiday{{Date: "2026-12-25", Name: "Christmas"}, {Date: "2026-07-21", Name: "National Day"}}}
}

// TestSeeded checks the two calendars the migration seeds against the presets and the holiday rules.
func TestSeeded(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		cs, err := e.svc.List(e.s)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]calendar.Calendar{}
		for _, c := range cs {
			byID[c.ID] = c
		}
		rtc, biz := byID[calendar.RoundTheClockID], byID[calendar.BusinessID]
		if rtc.Name != "24x7" || rtc.TimeZone != "UTC" || biz.Name != "business" || biz.TimeZone != ny {
			t.Fatalf("seeded: %+v / %+v", rtc, biz)
		}
		ps := calendar.Presets()
		if !slices.Equal(rtc.Windows, ps[0].Calendar.Windows) || !slices.Equal(biz.Windows, ps[1].Calendar.Windows) {
			t.Fatalf("seeded windows differ from the presets: %+v / %+v", rtc.Windows, biz.Windows)
		}
		if want := append(calendar.USFederalHolidays(2026), calendar.USFederalHolidays(2027)...); !slices.Equal(biz.Holidays, want) {
			t.Fatalf("seeded holidays %+v, want %+v", biz.Holidays, want)
		}
		sc, err := e.svc.Schedule(context.Background(), calendar.BusinessID)
		if err != nil {
			t.Fatal(err)
		}
		// Thanksgiving week 2026: Monday to Wednesday and Friday, 4 × 9 h.
		if got := sc.Working(at(t, ny, "2026-11-23 00:00"), at(t, ny, "2026-11-30 00:00")); got != 36*time.Hour {
			t.Fatalf("Thanksgiving week = %v", got)
		}
		if _, err := e.svc.List(context.Background()); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("anonymous list: %v", err)
		}
	})
}

// TestLifecycle creates, updates and deletes a calendar: the SLM1 guard,
// validation naming the field, a name in use, stale versions, the audit
// trail and the events, the OnChange hook inside the update's transaction,
// the schedule cache, and a calendar in use.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		for _, ctx := range []context.Context{e.an, e.s} {
			if _, err := e.svc.Create(ctx, opsCalendar()); !errs.Is(err, errs.Forbidden) {
				t.Fatalf("create without R/A on SLM1: %v", err)
			}
		}
		if _, err := e.svc.Create(context.Background(), opsCalendar()); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("anonymous create: %v", err)
		}
		bad := opsCalendar()
		bad.Windows = append(bad.Windows, calendar.Window{Day: "wed", Start: "20:00", End: "23:00"})
		if _, err := e.svc.Create(e.m, bad); !recordtest.FieldAt(err, "body.windows[3]") {
			t.Fatalf("overlapping window: %v", err)
		}
		bad = opsCalendar()
		bad.TimeZone = "Europe/Atlantis"
		if _, err := e.svc.Create(e.m, bad); !recordtest.FieldAt(err, "body.timeZone") {
			t.Fatalf("unknown zone: %v", err)
		}

		c, err := e.svc.Create(e.m, opsCalendar())
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 0 || c.Version != 1 || c.Holidays[0].Date != "2026-07-21" {
			t.Fatalf("created %+v (holidays sorted by date)", c)
		}
		if _, err := e.svc.Create(e.o, opsCalendar()); !errs.Is(err, errs.Conflict) || !recordtest.FieldAt(err, "body.name") {
			t.Fatalf("duplicate name: %v", err)
		}
		if a := recordtest.Audits(t, d, "calendar.create"); len(a) != 1 {
			t.Fatalf("create audits: %d", len(a))
		}
		if ev := recordtest.Events(t, d, "calendar.created"); len(ev) != 1 || ev[0].Subject != "calendar/"+itoa(c.ID) {
			t.Fatalf("created events: %+v", ev)
		}

		sc, err := e.svc.Schedule(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		week := func(sc *calendar.Schedule) time.Duration {
			return sc.Working(at(t, bru, "2026-03-09 00:00"), at(t, bru, "2026-03-16 00:00"))
		}
		if got := week(sc); got != 16*time.Hour {
			t.Fatalf("week before the change: %v", got)
		}
		if again, _ := e.svc.Schedule(context.Background(), c.ID); again != sc {
			t.Fatal("the schedule is not cached")
		}

		var hooked []int64
		e.svc.OnChange(func(ctx context.Context, tx *db.Tx, id int64) error {
			var v int64
			if err := tx.QueryRowContext(ctx, `SELECT version FROM calendars WHERE id = ?`, id).Scan(&v); err != nil {
				return err
			}
			if v != 2 {
				return errors.New("the hook does not see the saved calendar")
			}
			hooked = append(hooked, id)
			return nil
		})
		change := opsCalendar()
		change.Windows = append(change.Windows, calendar.Window{Day: "fri", Start: "09:00", End: "11:00"})
		if _, err := e.svc.Update(e.an, c.ID, 1, change); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("update by the analyst: %v", err)
		}
		if _, err := e.svc.Update(e.o, c.ID, 7, change); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale update: %v", err)
		}
		bad = change
		bad.Windows = append(slices.Clone(change.Windows), calendar.Window{Day: "sat", Start: "12:00", End: "12:00"})
		if _, err := e.svc.Update(e.o, c.ID, 1, bad); !recordtest.FieldAt(err, "body.windows[4].end") {
			t.Fatalf("end not after start: %v", err)
		}
		u, err := e.svc.Update(e.o, c.ID, 1, change)
		if err != nil {
			t.Fatal(err)
		}
		if u.Version != 2 || len(u.Windows) != 4 || !slices.Equal(hooked, []int64{c.ID}) {
			t.Fatalf("updated %+v, hooked %v", u, hooked)
		}
		if a := recordtest.Audits(t, d, "calendar.update"); len(a) != 1 || len(a[0].ChangeList) != 1 || a[0].ChangeList[0].Field != "windows" {
			t.Fatalf("update audits: %+v", a)
		}
		if ev := recordtest.Events(t, d, "calendar.updated"); len(ev) != 1 {
			t.Fatalf("updated events: %+v", ev)
		}
		sc2, err := e.svc.Schedule(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got := week(sc2); got != 18*time.Hour {
			t.Fatalf("week after the change: %v", got)
		}
		same, err := e.svc.Update(e.o, c.ID, 2, change)
		if err != nil || same.Version != 2 {
			t.Fatalf("an update changing nothing: %+v %v", same, err)
		}

		e.svc.OnChange(func(context.Context, *db.Tx, int64) error { return errors.New("queue full") })
		change.Description = "rolled back"
		if _, err := e.svc.Update(e.o, c.ID, 2, change); err == nil {
			t.Fatal("a failing hook did not fail the update")
		}
		if got, _ := e.svc.Get(e.s, c.ID); got.Version != 2 || got.Description == "rolled back" {
			t.Fatalf("a failing hook did not roll back: %+v", got)
		}

		if _, err := d.ExecContext(context.Background(), `CREATE TABLE calendar_users (id BIGINT PRIMARY KEY,
			calendar_id BIGINT NOT NULL REFERENCES calendars(id))`); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ExecContext(context.Background(), `INSERT INTO calendar_users (id, calendar_id) VALUES (1, ?)`, c.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(e.o, c.ID, 2); !errs.Is(err, errs.Conflict) {
			t.Fatalf("delete of a calendar in use: %v", err)
		}
		if _, err := d.ExecContext(context.Background(), `DELETE FROM calendar_users`); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.Delete(e.o, c.ID, 1); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale delete: %v", err)
		}
		if err := e.svc.Delete(e.rt, calendar.RoundTheClockID, 1); !errs.Is(err, errs.Conflict) {
			t.Fatalf("delete of 24x7: %v", err)
		}
		if err := e.svc.Delete(e.an, c.ID, 2); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("delete by the analyst: %v", err)
		}
		if err := e.svc.Delete(e.o, c.ID, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Get(e.s, c.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("deleted calendar: %v", err)
		}
		if _, err := e.svc.Schedule(context.Background(), c.ID); !errs.Is(err, errs.NotFound) {
			t.Fatalf("schedule of a deleted calendar: %v", err)
		}
		if ev := recordtest.Events(t, d, "calendar.deleted"); len(ev) != 1 {
			t.Fatalf("deleted events: %+v", ev)
		}
		if _, err := e.svc.Create(e.rt, calendar.Calendar{Name: "Admin's", TimeZone: "UTC",
			Windows: []calendar.Window{{Day: "sun", Start: "00:00", End: "24:00"}}}); err != nil {
			t.Fatalf("an administrator's override: %v", err)
		}
	})
}

// TestScheduleAcrossNodes checks that a node sees another node's change once it reads the version again.
func TestScheduleAcrossNodes(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		other, err := calendar.New(calendar.Deps{DB: d, Records: e.k.Records, Trail: e.k.Trail, Events: e.k.Events, Clock: e.k.Clock})
		if err != nil {
			t.Fatal(err)
		}
		other.SetFresh(time.Hour)
		c, err := e.svc.Create(e.m, opsCalendar())
		if err != nil {
			t.Fatal(err)
		}
		before, err := other.Schedule(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		c.Windows = c.Windows[:1]
		if _, err := e.svc.Update(e.m, c.ID, 1, c); err != nil {
			t.Fatal(err)
		}
		if got, _ := other.Schedule(context.Background(), c.ID); got != before {
			t.Fatal("a fresh cache entry was read again")
		}
		other.SetFresh(0)
		after, err := other.Schedule(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		from, to := at(t, bru, "2026-03-09 00:00"), at(t, bru, "2026-03-10 00:00")
		if after == before || after.Working(from, to) != 4*time.Hour {
			t.Fatalf("the other node kept the old schedule: %v", after.Working(from, to))
		}
	})
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
