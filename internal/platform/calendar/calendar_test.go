package calendar_test

import (
	"strings"
	"testing"
	"time"

	"steward/internal/platform/calendar"
	"steward/internal/platform/errs"
)

// TestValidate refuses bad calendars naming the field at fault.
func TestValidate(t *testing.T) {
	t.Parallel()
	w := func(day, start, end string, next bool) calendar.Window {
		return calendar.Window{Day: day, Start: start, End: end, EndsNextDay: next}
	}
	good := calendar.Calendar{Name: "Ops", TimeZone: "Europe/Brussels", Windows: []calendar.Window{w("mon", "08:00", "17:00", false)}}
	for _, tc := range []struct {
		name   string
		change func(c *calendar.Calendar)
		loc    string
		msg    string
	}{
		{"valid", func(c *calendar.Calendar) {}, "", ""},
		{"no name", func(c *calendar.Calendar) { c.Name = " " }, "body.name", "required"},
		{"unknown time zone", func(c *calendar.Calendar) { c.TimeZone = "Mars/Olympus" }, "body.timeZone", "unknown time zone"},
		{"empty time zone", func(c *calendar.Calendar) { c.TimeZone = "" }, "body.timeZone", "unknown time zone"},
		{"local time zone", func(c *calendar.Calendar) { c.TimeZone = "Local" }, "body.timeZone", "unknown time zone"},
		{"no windows", func(c *calendar.Calendar) { c.Windows = nil }, "body.windows", "at least one"},
		{"bad day", func(c *calendar.Calendar) { c.Windows[0].Day = "monday" }, "body.windows[0].day", "one of"},
		{"bad start", func(c *calendar.Calendar) { c.Windows[0].Start = "8:00" }, "body.windows[0].start", "HH:MM"},
		{"start 24:00", func(c *calendar.Calendar) { c.Windows[0].Start = "24:00" }, "body.windows[0].start", "HH:MM"},
		{"bad minutes", func(c *calendar.Calendar) { c.Windows[0].End = "17:60" }, "body.windows[0].end", "HH:MM"},
		{"end not after start", func(c *calendar.Calendar) {
			c.Windows = append(c.Windows, w("tue", "09:00", "09:00", false))
		}, "body.windows[1].end", "after the start"},
		{"end before start", func(c *calendar.Calendar) {
			c.Windows = append(c.Windows, w("tue", "18:00", "06:00", false))
		}, "body.windows[1].end", "endsNextDay"},
		{"overnight ending after its start", func(c *calendar.Calendar) {
			c.Windows = append(c.Windows, w("tue", "18:00", "19:00", true))
		}, "body.windows[1].end", "no later than its start"},
		{"overnight 24:00", func(c *calendar.Calendar) {
			c.Windows = append(c.Windows, w("tue", "18:00", "24:00", true))
		}, "body.windows[1].end", "next day"},
		{"overlap same day", func(c *calendar.Calendar) {
			c.Windows = append(c.Windows, w("tue", "08:00", "12:00", false), w("mon", "16:00", "18:00", false))
		}, "body.windows[2]", "overlaps windows[0]"},
		{"overlap by spill past midnight", func(c *calendar.Calendar) {
			c.Windows = append(c.Windows, w("sun", "22:00", "06:00", true), w("tue", "07:00", "09:00", false),
				w("mon", "22:00", "08:30", true))
		}, "body.windows[3]", "overlaps windows[2]"},
		{"overlap Sunday night into Monday", func(c *calendar.Calendar) {
			c.Windows = append(c.Windows, w("sun", "22:00", "08:30", true))
		}, "body.windows[1]", "overlaps windows[0]"},
		{"bad holiday date", func(c *calendar.Calendar) {
			c.Holidays = []calendar.Holiday{{Date: "2026-02-30", Name: "x"}}
		}, "body.holidays[0].date", "YYYY-MM-DD"},
		{"duplicate holiday", func(c *calendar.Calendar) {
			c.Holidays = []calendar.Holiday{{Date: "2026-12-25"}, {Date: "2026-12-26"}, {Date: "2026-12-25"}}
		}, "body.holidays[2].date", "holidays[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := good
			c.Windows = append([]calendar.Window(nil), good.Windows...)
			tc.change(&c)
			err := c.Validate()
			if tc.loc == "" {
				if err != nil {
					t.Fatalf("valid calendar refused: %v", err)
				}
				return
			}
			e, ok := errs.As(err)
			if !ok || e.Kind != errs.Invalid {
				t.Fatalf("want an Invalid error, got %v", err)
			}
			for _, f := range e.Fields {
				if f.Location == tc.loc && strings.Contains(f.Message, tc.msg) {
					if _, err := c.Compile(); !errs.Is(err, errs.Invalid) {
						t.Fatalf("Compile accepted what Validate refused: %v", err)
					}
					return
				}
			}
			t.Fatalf("want %s %q, got %+v", tc.loc, tc.msg, e.Fields)
		})
	}
}

// TestPresets checks that every preset is a valid calendar with the hours its description gives.
func TestPresets(t *testing.T) {
	t.Parallel()
	hours := map[string]float64{"24x7": 168, "business": 45, "extended": 72, "split-shift": 50, "nights": 40}
	for _, p := range calendar.Presets() {
		wp, err := calendar.PreviewWeek(p.Calendar, time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatalf("preset %s: %v", p.Key, err)
		}
		if wp.TotalHours != hours[p.Key] {
			t.Errorf("preset %s: %v hours a week, want %v", p.Key, wp.TotalHours, hours[p.Key])
		}
	}
	hp := calendar.HolidayPresets()
	if len(hp) != 2 || hp[0].Key != "us-federal-2026" || hp[1].Key != "us-federal-2027" {
		t.Fatalf("holiday presets: %+v", hp)
	}
	want := map[string][]string{
		"us-federal-2026": {"2026-01-01", "2026-01-19", "2026-02-16", "2026-05-25", "2026-06-19", "2026-07-03", "2026-09-07",
			"2026-10-12", "2026-11-11", "2026-11-26", "2026-12-25"},
		"us-federal-2027": {"2027-01-01", "2027-01-18", "2027-02-15", "2027-05-31", "2027-06-18", "2027-07-05", "2027-09-06",
			"2027-10-11", "2027-11-11", "2027-11-25", "2027-12-24", "2027-12-31"},
	}
	for _, p := range hp {
		var got []string
		for _, h := range p.Holidays {
			got = append(got, h.Date)
		}
		if strings.Join(got, ",") != strings.Join(want[p.Key], ",") {
			t.Errorf("%s = %v, want %v", p.Key, got, want[p.Key])
		}
	}
}

// TestPreviewWeek lays out the spring-forward week in New York with a holiday.
func TestPreviewWeek(t *testing.T) {
	t.Parallel()
	c := preset(t, "nights", ny, "2026-03-10")
	wp, err := calendar.PreviewWeek(c, time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)) // a Sunday: the week of Monday 2 March
	if err != nil {
		t.Fatal(err)
	}
	if wp.WeekStart != "2026-03-02" || len(wp.Days) != 7 || wp.Days[6].Date != "2026-03-08" {
		t.Fatalf("week %s, days %d", wp.WeekStart, len(wp.Days))
	}
	sun := wp.Days[6]
	if len(sun.Spans) != 1 || sun.Spans[0].Start != "22:00" || sun.Spans[0].End != "24:00" || sun.Hours != 2 {
		t.Fatalf("Sunday: %+v", sun)
	}
	wp, err = calendar.PreviewWeek(c, time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	mon, tue, wed := wp.Days[0], wp.Days[1], wp.Days[2]
	// Monday: Sunday night's spill 00:00–06:00 and 22:00–24:00; Tuesday is a holiday: nothing;
	// Wednesday: Tuesday night's spill 00:00–06:00 (the holiday is Tuesday) and 22:00–24:00.
	if mon.Hours != 8 || len(mon.Spans) != 2 || mon.Spans[0].StartMinute != 0 || mon.Spans[0].EndMinute != 360 {
		t.Fatalf("Monday: %+v", mon)
	}
	if tue.Holiday != "holiday" || tue.Hours != 0 || len(tue.Spans) != 0 {
		t.Fatalf("Tuesday: %+v", tue)
	}
	if wed.Hours != 8 || wed.Spans[0].End != "06:00" || wp.TotalHours != 8+0+8+8+6+0+2 {
		t.Fatalf("Wednesday %+v, total %v", wed, wp.TotalHours)
	}
	if _, err := calendar.PreviewWeek(calendar.Calendar{Name: "x", TimeZone: "UTC"}, time.Now()); !errs.Is(err, errs.Invalid) {
		t.Fatalf("an empty calendar previewed: %v", err)
	}
}
