package calendar_test

import (
	"net/http"
	"strings"
	"testing"

	"steward/internal/platform/calendar"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
)

func calendarBody() map[string]any {
	return map[string]any{"name": "Service desk", "timeZone": "Europe/Brussels", "description": "Desk hours.",
		"windows": []map[string]any{
			{"day": "mon", "start": "08:00", "end": "12:00"},
			{"day": "mon", "start": "13:00", "end": "17:00"},
			{"day": "sun", "start": "22:00", "end": "06:00", "endsNextDay": true},
		},
		"holidays": []map[string]any{{"date": "2026-03-10", "name": "Desk away day"}}}
}

// TestAPI drives the calendar endpoints: bad input as problem+json naming
// the field, create with its ETag, replace with If-Match (428 without, 412
// stale), the week preview of a saved and of an unsaved calendar, the
// presets, the guard, and delete.
func TestAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := apitest.New(t, e.k.Auth, func(a *httpx.API) { calendar.RegisterAPI(a, e.svc) })
		mgr, ana := a.Token(e.manager), a.Token(e.analyst)

		a.Do("GET", "/api/v1/calendars", "", nil).Want(t, http.StatusUnauthorized)
		var list struct{ Items []calendar.Calendar }
		a.Do("GET", "/api/v1/calendars", ana, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 2 {
			t.Fatalf("seeded list: %+v", list.Items)
		}

		for _, tc := range []struct {
			name   string
			change func(b map[string]any)
			loc    string
		}{
			{"window end not after start", func(b map[string]any) {
				b["windows"].([]map[string]any)[1]["end"] = "13:00"
			}, "body.windows[1].end"},
			{"unknown time zone", func(b map[string]any) { b["timeZone"] = "Mars/Olympus_Mons" }, "body.timeZone"},
			{"overlapping windows", func(b map[string]any) {
				b["windows"] = append(b["windows"].([]map[string]any), map[string]any{"day": "mon", "start": "05:00", "end": "09:00"})
			}, "body.windows[3]"},
			{"bad day", func(b map[string]any) { b["windows"].([]map[string]any)[0]["day"] = "xyz" }, "body.windows[0].day"},
			{"bad holiday", func(b map[string]any) {
				b["holidays"] = []map[string]any{{"date": "2026-13-01"}}
			}, "body.holidays[0].date"},
		} {
			b := calendarBody()
			tc.change(b)
			var p apitest.Problem
			a.Do("POST", "/api/v1/calendars", mgr, b).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
			if !p.Names(tc.loc) {
				t.Fatalf("%s: 422 does not name %s: %+v", tc.name, tc.loc, p)
			}
			a.Do("POST", "/api/v1/calendars/preview", mgr, b).Want(t, http.StatusUnprocessableEntity)
		}
		var p apitest.Problem
		a.Do("POST", "/api/v1/calendars", ana, calendarBody()).Want(t, http.StatusForbidden).Decode(t, &p)
		if !strings.Contains(p.Detail, "SLM1") {
			t.Fatalf("403 does not name SLM1: %+v", p)
		}

		var c calendar.Calendar
		r := a.Do("POST", "/api/v1/calendars", mgr, calendarBody()).Want(t, http.StatusCreated).Decode(t, &c)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/calendars/"+itoa(c.ID) || len(c.Windows) != 3 {
			t.Fatalf("created %+v, headers %v", c, r.Header)
		}
		a.Do("POST", "/api/v1/calendars", mgr, calendarBody()).Want(t, http.StatusConflict)
		path := "/api/v1/calendars/" + itoa(c.ID)
		r = a.Do("GET", path, ana, nil).Want(t, http.StatusOK)
		if r.Header.Get("ETag") != `"1"` {
			t.Fatalf("ETag %q", r.Header.Get("ETag"))
		}
		a.Do("GET", "/api/v1/calendars/999999", ana, nil).Want(t, http.StatusNotFound)

		b := calendarBody()
		b["windows"] = append(b["windows"].([]map[string]any), map[string]any{"day": "fri", "start": "09:00", "end": "24:00"})
		a.Do("PUT", path, mgr, b).Want(t, http.StatusPreconditionRequired)
		a.Do("PUT", path, mgr, b, "If-Match", `"7"`).Want(t, http.StatusPreconditionFailed)
		bad := calendarBody()
		bad["windows"].([]map[string]any)[2]["end"] = "23:00"
		a.Do("PUT", path, mgr, bad, "If-Match", `"1"`).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.windows[2].end") {
			t.Fatalf("overnight end after start: %+v", p)
		}
		r = a.Do("PUT", path, mgr, b, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &c)
		if r.Header.Get("ETag") != `"2"` || len(c.Windows) != 4 {
			t.Fatalf("replaced %+v", c)
		}
		a.Do("PUT", path, mgr, b, "If-Match", `"1"`).Want(t, http.StatusPreconditionFailed)

		// The week of 9 March 2026: Monday 8 h and Sunday night's spill 00:00–06:00; Tuesday the away day cuts nothing
		// (no window); Friday 09:00–24:00 is 15 h; Sunday 22:00–24:00 is 2 h.
		var wp calendar.WeekPreview
		a.Do("GET", path+"/preview?week=2026-03-11", ana, nil).Want(t, http.StatusOK).Decode(t, &wp)
		if wp.WeekStart != "2026-03-09" || wp.TimeZone != bru || wp.TotalHours != 6+8+15+2 || wp.Days[1].Holiday != "Desk away day" {
			t.Fatalf("preview %+v", wp)
		}
		if s := wp.Days[0].Spans; len(s) != 3 || s[0].Start != "00:00" || s[0].End != "06:00" || s[2].End != "17:00" {
			t.Fatalf("Monday %+v", wp.Days[0])
		}
		a.Do("GET", path+"/preview", ana, nil).Want(t, http.StatusOK).Decode(t, &wp)
		if wp.WeekStart != "2026-03-09" {
			t.Fatalf("this week's preview starts %s", wp.WeekStart)
		}
		a.Do("GET", path+"/preview?week=9%20March", ana, nil).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("query.week") {
			t.Fatalf("bad week: %+v", p)
		}
		unsaved := calendarBody()
		unsaved["windows"] = []map[string]any{{"day": "tue", "start": "08:00", "end": "10:00"}}
		a.Do("POST", "/api/v1/calendars/preview?week=2026-03-16", ana, unsaved).Want(t, http.StatusOK).Decode(t, &wp)
		if wp.WeekStart != "2026-03-16" || wp.TotalHours != 2 {
			t.Fatalf("unsaved preview %+v", wp)
		}

		var presets calendar.PresetList
		a.Do("GET", "/api/v1/calendar-presets", ana, nil).Want(t, http.StatusOK).Decode(t, &presets)
		if len(presets.Presets) != 5 || len(presets.Holidays) != 2 {
			t.Fatalf("presets %+v", presets)
		}

		a.Do("DELETE", path, mgr, nil).Want(t, http.StatusPreconditionRequired)
		a.Do("DELETE", path, ana, nil, "If-Match", `"2"`).Want(t, http.StatusForbidden)
		a.Do("DELETE", path, mgr, nil, "If-Match", `"2"`).Want(t, http.StatusNoContent)
		a.Do("GET", path, ana, nil).Want(t, http.StatusNotFound)
		a.Do("DELETE", "/api/v1/calendars/1", mgr, nil, "If-Match", `"1"`).Want(t, http.StatusConflict)
	})
}
