package calendar_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"time"

	"steward/internal/platform/calendar"
)

// compile builds a schedule or fails the test.
func compile(t testing.TB, c calendar.Calendar) *calendar.Schedule {
	t.Helper()
	if c.Name == "" {
		c.Name = "test"
	}
	s, err := c.Compile()
	if err != nil {
		t.Fatalf("compile %+v: %v", c, err)
	}
	return s
}

// preset returns a standard calendar in a zone with holidays.
func preset(t testing.TB, key, zone string, holidays ...string) calendar.Calendar {
	t.Helper()
	for _, p := range calendar.Presets() {
		if p.Key == key {
			c := p.Calendar
			c.TimeZone = zone
			for _, h := range holidays {
				c.Holidays = append(c.Holidays, calendar.Holiday{Date: h, Name: "holiday"})
			}
			return c
		}
	}
	t.Fatalf("no preset %s", key)
	return calendar.Calendar{}
}

func windows(ws ...calendar.Window) calendar.Calendar {
	return calendar.Calendar{Name: "custom", TimeZone: "UTC", Windows: ws}
}

// at is a local wall time in a zone.
func at(t testing.TB, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

const (
	ny  = "America/New_York"
	bru = "Europe/Brussels"
	utc = "UTC"
)

// TestWorking checks business time against hand-computed figures: DST
// weekends in New York and Brussels, window edges in a skipped hour,
// holidays (also cutting an overnight window's spill), 29 February 2028,
// overnight and split shifts, year ends and round the clock.
func TestWorking(t *testing.T) {
	t.Parallel()
	sunday := func(zone, start, end string, next bool) calendar.Calendar {
		c := windows(calendar.Window{Day: "sun", Start: start, End: end, EndsNextDay: next})
		c.TimeZone = zone
		return c
	}
	for _, tc := range []struct {
		name     string
		cal      calendar.Calendar
		zone     string
		from, to string
		want     time.Duration
	}{
		{"24x7 New York spring forward weekend", preset(t, "24x7", ny), ny, "2026-03-07 00:00", "2026-03-09 00:00", 47 * time.Hour},
		{"24x7 New York fall back weekend", preset(t, "24x7", ny), ny, "2026-10-31 00:00", "2026-11-02 00:00", 49 * time.Hour},
		{"24x7 Brussels spring forward weekend", preset(t, "24x7", bru), bru, "2026-03-28 00:00", "2026-03-30 00:00", 47 * time.Hour},
		{"24x7 Brussels fall back weekend", preset(t, "24x7", bru), bru, "2026-10-24 00:00", "2026-10-26 00:00", 49 * time.Hour},
		{"business New York over the spring weekend", preset(t, "business", ny), ny, "2026-03-06 12:00", "2026-03-09 12:00", 9 * time.Hour},
		{"business Brussels over the fall weekend", preset(t, "business", bru), bru, "2026-10-23 16:00", "2026-10-26 09:00", 2 * time.Hour},
		{"New York Sunday 01-04 on spring forward is 2h", sunday(ny, "01:00", "04:00", false), ny, "2026-03-08 00:00", "2026-03-09 00:00", 2 * time.Hour},
		{"New York Sunday 01-04 on fall back is 4h", sunday(ny, "01:00", "04:00", false), ny, "2026-11-01 00:00", "2026-11-02 00:00", 4 * time.Hour},
		{"Brussels Sunday 00-12 on spring forward is 11h", sunday(bru, "00:00", "12:00", false), bru, "2026-03-29 00:00", "2026-03-30 00:00", 11 * time.Hour},
		{"Brussels Sunday 00-12 on fall back is 13h", sunday(bru, "00:00", "12:00", false), bru, "2026-10-25 00:00", "2026-10-26 00:00", 13 * time.Hour},
		{"Brussels Sunday 00-12 on an ordinary Sunday is 12h", sunday(bru, "00:00", "12:00", false), bru, "2026-10-18 00:00", "2026-10-19 00:00", 12 * time.Hour},
		// time.Date puts New York's skipped 02:30 at 01:30 EST and Brussels' at 03:30 CEST.
		{"start in New York's skipped hour normalises like time.Date", sunday(ny, "02:30", "05:00", false), ny, "2026-03-08 00:00", "2026-03-09 00:00", 150 * time.Minute},
		{"start in Brussels' skipped hour normalises like time.Date", sunday(bru, "02:30", "05:00", false), bru, "2026-03-29 00:00", "2026-03-30 00:00", 90 * time.Minute},
		{"overnight Saturday into the spring forward Sunday", calendar.Calendar{Name: "n", TimeZone: ny,
			Windows: []calendar.Window{{Day: "sat", Start: "22:00", End: "06:00", EndsNextDay: true}}}, ny, "2026-03-07 00:00", "2026-03-09 00:00", 7 * time.Hour},
		{"Christmas holiday", preset(t, "business", ny, "2026-12-25"), ny, "2026-12-24 12:00", "2026-12-28 12:00", 9 * time.Hour},
		{"without the holiday", preset(t, "business", ny), ny, "2026-12-24 12:00", "2026-12-28 12:00", 18 * time.Hour},
		{"29 February 2028 is a working Tuesday", preset(t, "business", utc), utc, "2028-02-28 00:00", "2028-03-01 00:00", 18 * time.Hour},
		{"29 February 2028 as a holiday", preset(t, "business", utc, "2028-02-29"), utc, "2028-02-28 00:00", "2028-03-01 00:00", 9 * time.Hour},
		{"24x7 across 29 February 2028", preset(t, "24x7", utc), utc, "2028-02-28 12:00", "2028-03-01 12:00", 48 * time.Hour},
		{"nights over a weekend", preset(t, "nights", utc), utc, "2026-03-13 00:00", "2026-03-16 00:00", 8 * time.Hour},
		{"nights with Monday a holiday cut the spill and the window", preset(t, "nights", utc, "2026-03-16"), utc, "2026-03-15 00:00", "2026-03-17 12:00", 8 * time.Hour},
		{"nights without the holiday", preset(t, "nights", utc), utc, "2026-03-15 00:00", "2026-03-17 12:00", 16 * time.Hour},
		{"nights across the year end", preset(t, "nights", utc), utc, "2026-12-31 20:00", "2027-01-01 10:00", 8 * time.Hour},
		{"nights across the year end with New Year's Day off", preset(t, "nights", utc, "2027-01-01"), utc, "2026-12-31 20:00", "2027-01-01 10:00", 2 * time.Hour},
		{"split shift over lunch", preset(t, "split-shift", utc), utc, "2026-03-09 11:00", "2026-03-09 14:00", 2 * time.Hour},
		{"split shift a whole week", preset(t, "split-shift", utc), utc, "2026-03-09 00:00", "2026-03-16 00:00", 50 * time.Hour},
		{"extended a whole week", preset(t, "extended", utc), utc, "2026-03-09 00:00", "2026-03-16 00:00", 72 * time.Hour},
		{"business a whole year with US holidays", preset(t, "business", ny, holidayDates(2026)...), ny, "2026-01-01 00:00", "2027-01-01 00:00",
			(261 - 11) * 9 * time.Hour},
		{"24x7 a leap year", preset(t, "24x7", utc), utc, "2028-01-01 00:00", "2029-01-01 00:00", 366 * 24 * time.Hour},
		{"to before from", preset(t, "24x7", utc), utc, "2026-03-09 00:00", "2026-03-08 00:00", 0},
		{"window ending at 24:00 meets the next day's", windows(calendar.Window{Day: "mon", Start: "20:00", End: "24:00"},
			calendar.Window{Day: "tue", Start: "00:00", End: "02:00"}), utc, "2026-03-09 00:00", "2026-03-11 00:00", 6 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := compile(t, tc.cal)
			from, to := at(t, tc.zone, tc.from), at(t, tc.zone, tc.to)
			if got := s.Working(from, to); got != tc.want {
				t.Fatalf("Working(%s, %s) = %v, want %v", tc.from, tc.to, got, tc.want)
			}
			var sum time.Duration
			for _, sp := range s.Spans(from, to) {
				sum += sp.To.Sub(sp.From)
			}
			if sum != tc.want {
				t.Fatalf("spans sum to %v, want %v", sum, tc.want)
			}
		})
	}
}

func holidayDates(y int) []string {
	var out []string
	for _, h := range calendar.USFederalHolidays(y) {
		out = append(out, h.Date)
	}
	return out
}

// TestAdd checks when a stretch of business time ends.
func TestAdd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cal  calendar.Calendar
		zone string
		from string
		d    time.Duration
		want string
	}{
		{"zero is the start itself", preset(t, "business", ny), ny, "2026-03-07 03:00", 0, "2026-03-07 03:00"},
		{"over the spring forward weekend", preset(t, "business", ny), ny, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 09:00"},
		{"ends exactly at closing time", preset(t, "business", ny), ny, "2026-03-09 08:00", 9 * time.Hour, "2026-03-09 17:00"},
		{"starts outside hours", preset(t, "business", ny), ny, "2026-03-09 06:00", time.Minute, "2026-03-09 08:01"},
		{"over Christmas", preset(t, "business", ny, "2026-12-25"), ny, "2026-12-24 16:00", 2 * time.Hour, "2026-12-28 09:00"},
		{"into 29 February 2028", preset(t, "business", utc), utc, "2028-02-28 16:00", 2 * time.Hour, "2028-02-29 09:00"},
		{"over 29 February 2028 as a holiday", preset(t, "business", utc, "2028-02-29"), utc, "2028-02-28 16:00", 2 * time.Hour, "2028-03-01 09:00"},
		{"split shift across lunch", preset(t, "split-shift", utc), utc, "2026-03-09 11:30", time.Hour, "2026-03-09 13:30"},
		{"nights through the morning", preset(t, "nights", utc), utc, "2026-03-09 23:00", 8 * time.Hour, "2026-03-10 23:00"},
		{"nights over Friday and Saturday", preset(t, "nights", utc), utc, "2026-03-13 05:00", 2 * time.Hour, "2026-03-15 23:00"},
		{"24x7 across the fall back night", preset(t, "24x7", ny), ny, "2026-11-01 00:00", 3 * time.Hour, "2026-11-01 02:00"},
		{"24x7 Brussels across the spring forward night", preset(t, "24x7", bru), bru, "2026-03-29 00:00", 3 * time.Hour, "2026-03-29 04:00"},
		{"across the year end", preset(t, "business", utc, "2027-01-01"), utc, "2026-12-31 16:00", 2 * time.Hour, "2027-01-04 09:00"},
		{"a year of business time", preset(t, "24x7", utc), utc, "2026-06-01 00:00", 365 * 24 * time.Hour, "2027-06-01 00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := compile(t, tc.cal)
			from := at(t, tc.zone, tc.from)
			got := s.Add(from, tc.d)
			want := at(t, tc.zone, tc.want)
			if !got.Equal(want) {
				t.Fatalf("Add(%s, %v) = %v, want %v", tc.from, tc.d, got.In(want.Location()), want)
			}
			if w := s.Working(from, got); w != tc.d {
				t.Fatalf("Working(from, Add(from, d)) = %v, want %v", w, tc.d)
			}
		})
	}
}

// TestIsWorking checks instants at and around window edges.
func TestIsWorking(t *testing.T) {
	t.Parallel()
	s := compile(t, preset(t, "business", ny, "2026-12-25"))
	for _, tc := range []struct {
		at   string
		want bool
	}{
		{"2026-03-09 08:00", true}, {"2026-03-09 07:59", false}, {"2026-03-09 16:59", true}, {"2026-03-09 17:00", false},
		{"2026-03-08 12:00", false}, {"2026-12-25 12:00", false}, {"2026-12-24 12:00", true},
	} {
		if got := s.IsWorking(at(t, ny, tc.at)); got != tc.want {
			t.Errorf("IsWorking(%s) = %v, want %v", tc.at, got, tc.want)
		}
	}
	if s.IsWorking(time.Time{}) {
		t.Error("the zero time is working")
	}
}

// TestSpans lists working spans clipped to the range and joined where they touch.
func TestSpans(t *testing.T) {
	t.Parallel()
	s := compile(t, preset(t, "split-shift", utc))
	got := s.Spans(at(t, utc, "2026-03-09 09:00"), at(t, utc, "2026-03-10 08:00"))
	want := []calendar.Span{
		{From: at(t, utc, "2026-03-09 09:00"), To: at(t, utc, "2026-03-09 12:00")},
		{From: at(t, utc, "2026-03-09 13:00"), To: at(t, utc, "2026-03-09 18:00")},
		{From: at(t, utc, "2026-03-10 07:00"), To: at(t, utc, "2026-03-10 08:00")},
	}
	if !slices.EqualFunc(got, want, func(a, b calendar.Span) bool { return a.From.Equal(b.From) && a.To.Equal(b.To) }) {
		t.Fatalf("Spans = %v, want %v", got, want)
	}
	all := compile(t, preset(t, "24x7", ny)).Spans(at(t, ny, "2026-12-30 00:00"), at(t, ny, "2027-01-02 00:00"))
	if len(all) != 1 || all[0].To.Sub(all[0].From) != 72*time.Hour {
		t.Fatalf("24x7 across the year end is not one span: %v", all)
	}
}

// TestFarRange keeps absurd inputs bounded: the zero time and a century-long duration.
func TestFarRange(t *testing.T) {
	t.Parallel()
	s := compile(t, preset(t, "business", utc))
	to := at(t, utc, "1900-01-08 00:00")
	if got := s.Working(time.Time{}, to); got != 5*9*time.Hour {
		t.Fatalf("Working from the zero time = %v", got)
	}
	from := at(t, utc, "2026-01-01 00:00")
	end := s.Add(from, 200*365*24*time.Hour)
	if end.Year() != calendar.LastYear {
		t.Fatalf("an unreachable duration ends at %v", end)
	}
	if got := s.Add(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC), time.Hour); got.Year() != 3000 {
		t.Fatalf("Add past the last year went back to %v", got)
	}
}

// reference is a plain, chunk-free computation of business time: every
// window of every local day near [from, to), less holidays, unioned.
func reference(c calendar.Calendar, from, to time.Time) time.Duration {
	loc, _ := time.LoadLocation(c.TimeZone)
	hol := map[string]bool{}
	for _, h := range c.Holidays {
		hol[h.Date] = true
	}
	var iv [][2]time.Time
	lf := from.In(loc)
	for day := time.Date(lf.Year(), lf.Month(), lf.Day()-2, 0, 0, 0, 0, time.UTC); ; day = day.AddDate(0, 0, 1) {
		start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
		if start.After(to) {
			break
		}
		wd := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}[day.Weekday()]
		next := day.AddDate(0, 0, 1)
		mid := time.Date(next.Year(), next.Month(), next.Day(), 0, 0, 0, 0, loc)
		for _, w := range c.Windows {
			if w.Day != wd {
				continue
			}
			var sh, sm, eh, em int
			fmt.Sscanf(w.Start, "%d:%d", &sh, &sm)
			fmt.Sscanf(w.End, "%d:%d", &eh, &em)
			if w.EndsNextDay {
				eh += 24
			}
			a := time.Date(day.Year(), day.Month(), day.Day(), sh, sm, 0, 0, loc)
			b := time.Date(day.Year(), day.Month(), day.Day(), eh, em, 0, 0, loc)
			if hol[day.Format(time.DateOnly)] && a.Before(mid) {
				a = mid
			}
			if hol[next.Format(time.DateOnly)] && b.After(mid) {
				b = mid
			}
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				iv = append(iv, [2]time.Time{a, b})
			}
		}
	}
	sort.Slice(iv, func(i, j int) bool { return iv[i][0].Before(iv[j][0]) })
	var sum time.Duration
	var cur [2]time.Time
	for i, x := range iv {
		if i > 0 && !x[0].After(cur[1]) {
			if x[1].After(cur[1]) {
				cur[1] = x[1]
			}
			continue
		}
		if i > 0 {
			sum += cur[1].Sub(cur[0])
		}
		cur = x
	}
	if len(iv) > 0 {
		sum += cur[1].Sub(cur[0])
	}
	return sum
}

var zones = []string{utc, ny, bru, "Australia/Lord_Howe", "Asia/Kathmandu", "America/Santiago", "Pacific/Apia"}

// randomCalendar makes a valid calendar of random windows and holidays.
func randomCalendar(r *rand.Rand) calendar.Calendar {
	c := calendar.Calendar{Name: "random", TimeZone: zones[r.IntN(len(zones))]}
	for range 1 + r.IntN(8) {
		start := r.IntN(48) * 30
		length := 30 * (1 + r.IntN(48))
		end := start + length
		w := calendar.Window{Day: calendar.Days[r.IntN(7)], Start: fmt.Sprintf("%02d:%02d", start/60, start%60)}
		if end > 1440 {
			end -= 1440
			w.EndsNextDay = true
		}
		w.End = fmt.Sprintf("%02d:%02d", end/60, end%60)
		next := c
		next.Windows = append(slices.Clone(c.Windows), w)
		if next.Validate() == nil {
			c = next
		}
	}
	if len(c.Windows) == 0 {
		c.Windows = []calendar.Window{{Day: "wed", Start: "09:00", End: "10:00"}}
	}
	for range r.IntN(30) {
		d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(3*366)).Format(time.DateOnly)
		if !slices.ContainsFunc(c.Holidays, func(h calendar.Holiday) bool { return h.Date == d }) {
			c.Holidays = append(c.Holidays, calendar.Holiday{Date: d})
		}
	}
	return c
}

// randomInstant is an instant in 2025–2029 at a random second, or at a round hour to hit edges.
func randomInstant(r *rand.Rand) time.Time {
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	if r.IntN(3) == 0 {
		return base.Add(time.Duration(r.IntN(4*365*24)) * time.Hour)
	}
	return base.Add(time.Duration(r.Int64N(int64(4 * 365 * 24 * time.Hour))))
}

// TestProperties checks, over random calendars and instants: additivity,
// Working(a, Add(a, d)) == d, Add monotone in both arguments, Working never
// more than the elapsed time, Spans summing to Working, IsWorking agreeing
// with Spans, and agreement with the plain reference computation.
func TestProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 11))
	fixed := []calendar.Calendar{preset(t, "24x7", utc), preset(t, "business", ny, holidayDates(2026)...),
		preset(t, "split-shift", bru, "2026-03-30"), preset(t, "nights", ny, "2026-03-09", "2026-11-02"), preset(t, "extended", bru)}
	for i := range 300 {
		var c calendar.Calendar
		if i < len(fixed)*20 {
			c = fixed[i%len(fixed)]
		} else {
			c = randomCalendar(r)
		}
		s := compile(t, c)
		ts := []time.Time{randomInstant(r), randomInstant(r), randomInstant(r)}
		if r.IntN(2) == 0 {
			ts[1] = ts[0].Add(time.Duration(r.Int64N(int64(72 * time.Hour))))
		}
		slices.SortFunc(ts, func(x, y time.Time) int { return x.Compare(y) })
		a, b, cc := ts[0], ts[1], ts[2]
		wab, wbc, wac := s.Working(a, b), s.Working(b, cc), s.Working(a, cc)
		if wab+wbc != wac {
			t.Fatalf("%d %+v: W(a,b)+W(b,c) = %v+%v != W(a,c) = %v (a=%v b=%v c=%v)", i, c, wab, wbc, wac, a, b, cc)
		}
		if wab > b.Sub(a) || wab < 0 {
			t.Fatalf("%d: W(a,b) = %v > b-a = %v", i, wab, b.Sub(a))
		}
		if ref := reference(c, a, b); ref != wab {
			t.Fatalf("%d %+v: W(%v, %v) = %v, reference %v", i, c, a, b, wab, ref)
		}
		var sum time.Duration
		spans := s.Spans(a, b)
		for j, sp := range spans {
			sum += sp.To.Sub(sp.From)
			if !sp.To.After(sp.From) || sp.From.Before(a) || sp.To.After(b) || (j > 0 && !sp.From.After(spans[j-1].To)) {
				t.Fatalf("%d: bad span %d of %v", i, j, spans)
			}
			if !s.IsWorking(sp.From) || (sp.To.Before(b) && s.IsWorking(sp.To)) {
				t.Fatalf("%d: IsWorking disagrees with span %v", i, sp)
			}
		}
		if sum != wab {
			t.Fatalf("%d: spans sum %v != W %v", i, sum, wab)
		}
		d1 := time.Duration(r.Int64N(int64(40 * 24 * time.Hour)))
		d2 := d1 + time.Duration(r.Int64N(int64(10*24*time.Hour)))
		e1, e2 := s.Add(a, d1), s.Add(a, d2)
		if got := s.Working(a, e1); got != d1 {
			t.Fatalf("%d %+v: W(a, Add(a, %v)) = %v (a=%v, end=%v)", i, c, d1, got, a, e1)
		}
		if e2.Before(e1) {
			t.Fatalf("%d: Add not monotone in d: %v then %v", i, e1, e2)
		}
		if e3 := s.Add(b, d1); e3.Before(e1) {
			t.Fatalf("%d: Add not monotone in from: Add(a)=%v Add(b)=%v", i, e1, e3)
		}
		if d1 > 0 && !s.IsWorking(e1.Add(-time.Nanosecond)) {
			t.Fatalf("%d: Add does not end in working time: %v", i, e1)
		}
	}
}

// BenchmarkWorkingYear measures Working over a year on the business calendar.
func BenchmarkWorkingYear(b *testing.B) {
	s := compile(b, preset(b, "business", ny, append(holidayDates(2026), holidayDates(2027)...)...))
	from := at(b, ny, "2026-02-03 10:17")
	to := at(b, ny, "2027-02-03 15:41")
	s.Working(from, to)
	b.ResetTimer()
	for b.Loop() {
		s.Working(from, to)
	}
}

// BenchmarkAddYear measures Add of a year's business time on the business calendar.
func BenchmarkAddYear(b *testing.B) {
	s := compile(b, preset(b, "business", ny, append(holidayDates(2026), holidayDates(2027)...)...))
	from := at(b, ny, "2026-02-03 10:17")
	d := 250 * 9 * time.Hour
	s.Add(from, d)
	for b.Loop() {
		s.Add(from, d)
	}
}

// BenchmarkWorkingCold measures Working over a year on a freshly compiled schedule (the years built on first use).
func BenchmarkWorkingCold(b *testing.B) {
	c := preset(b, "business", ny, append(holidayDates(2026), holidayDates(2027)...)...)
	from := at(b, ny, "2026-02-03 10:17")
	to := at(b, ny, "2027-02-03 15:41")
	for b.Loop() {
		s, _ := c.Compile()
		s.Working(from, to)
	}
}

// TestConcurrent builds the years of one schedule from many goroutines at once
// and checks they all agree with a schedule used from one (run with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	c := preset(t, "business", ny, holidayDates(2026)...)
	shared, alone := compile(t, c), compile(t, c)
	from := at(t, ny, "2020-01-01 00:00")
	want := make([]time.Duration, 16)
	for i := range want {
		want[i] = alone.Working(from, from.AddDate(i, 3, 0))
	}
	done := make(chan error, 8)
	for g := range 8 {
		go func() {
			for k := range want {
				i := (k + g) % len(want)
				if got := shared.Working(from, from.AddDate(i, 3, 0)); got != want[i] {
					done <- fmt.Errorf("goroutine %d: %d years: %v, want %v", g, i, got, want[i])
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
