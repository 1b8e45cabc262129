package availability_test

import (
	"math"
	"testing"
	"time"

	"steward/internal/design/availability"
	"steward/internal/platform/calendar"
)

// businessHours is the test's business calendar: Monday to Friday 08:00–17:00
// in New York, with Juneteenth (Friday 19 June 2026) a holiday. In June 2026
// New York keeps daylight time, UTC−4, so 08:00 local is 12:00Z.
func businessHours(t testing.TB) *calendar.Schedule {
	t.Helper()
	var ws []calendar.Window
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri"} {
		ws = append(ws, calendar.Window{Day: d, Start: "08:00", End: "17:00"})
	}
	s, err := calendar.Calendar{Name: "business", TimeZone: "America/New_York", Windows: ws,
		Holidays: []calendar.Holiday{{Date: "2026-06-19", Name: "Juneteenth"}}}.Compile()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ny is a New York local time in June 2026 (EDT, UTC−4).
func ny(day, hour, minute int) time.Time {
	return time.Date(2026, time.June, day, hour+4, minute, 0, 0, time.UTC)
}

func outage(kind availability.Kind, from, to time.Time) availability.Outage {
	o := availability.Outage{Kind: kind, StartedAt: from}
	if !to.IsZero() {
		o.EndedAt = &to
	}
	return o
}

func i64(v int64) *int64 { return &v }

const hour = int64(time.Hour / time.Millisecond)

// The outages of the tests, in New York local time.
var (
	// outageA: Tuesday 2 June 10:00–12:30, 2.5 h of service time.
	outageA = outage(availability.Unplanned, ny(2, 10, 0), ny(2, 12, 30))
	// outageB: Friday 12 June 16:00 → Monday 15 June 10:00: Friday 16–17 (1 h) + Monday 08–10 (2 h) = 3 h.
	outageB = outage(availability.Unplanned, ny(12, 16, 0), ny(15, 10, 0))
	// outageC: Tuesday 2 June 11:00–13:00, overlapping outageA by 1.5 h.
	outageC = outage(availability.Unplanned, ny(2, 11, 0), ny(2, 13, 0))
	// plannedP: Wednesday 24 June 07:00–09:00, of which 08–09 (1 h) is service time.
	plannedP = outage(availability.Planned, ny(24, 7, 0), ny(24, 9, 0))
)

// TestCompute measures June 2026 on the business calendar. The month's
// service time: 22 weekdays (1–5, 8–12, 15–19, 22–26, 29–30 June) less
// Juneteenth = 21 days × 9 h = 189 h = 680,400,000 ms. The period in UTC,
// 1 June 00:00Z to 1 July 00:00Z, starts on Sunday evening and ends on
// Tuesday 30 June at 20:00 local, outside service hours, so it holds exactly
// those 189 h.
func TestCompute(t *testing.T) {
	t.Parallel()
	sched := businessHours(t)
	from, to := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		outages []availability.Outage
		want    availability.AvailabilityFigures
	}{
		{
			// Two unplanned outages: downtime 2.5 h + 3 h = 5.5 h = 19,800,000 ms; 2 failures.
			// availability = (189 − 5.5) / 189 × 100 = 183.5 / 189 × 100 = 97.0899470899…%
			// MTRS  = 5.5 h / 2 = 2.75 h = 9,900,000 ms
			// MTBF  = (189 − 5.5) h / 2 = 91.75 h = 330,300,000 ms
			// MTBSI = 189 h / 2 = 94.5 h = 340,200,000 ms
			name: "two unplanned outages", outages: []availability.Outage{outageA, outageB},
			want: availability.AvailabilityFigures{AgreedMs: 189 * hour, DowntimeMs: 19_800_000, Percent: 183.5 / 189 * 100, Failures: 2,
				MTRSms: i64(9_900_000), MTBFms: i64(330_300_000), MTBSIms: i64(340_200_000)},
		},
		{
			// A planned outage leaves the agreed time: 189 − 1 = 188 h = 676,800,000 ms; planned 1 h.
			// availability = (188 − 5.5) / 188 × 100 = 182.5 / 188 × 100 = 97.0744680851…%
			// MTRS = 5.5 / 2 = 2.75 h; MTBF = 182.5 / 2 = 91.25 h = 328,500,000 ms; MTBSI = 188 / 2 = 94 h = 338,400,000 ms
			name: "planned outage leaves agreed time", outages: []availability.Outage{outageA, plannedP, outageB},
			want: availability.AvailabilityFigures{AgreedMs: 188 * hour, PlannedMs: hour, DowntimeMs: 19_800_000, Percent: 182.5 / 188 * 100,
				Failures: 2, MTRSms: i64(9_900_000), MTBFms: i64(328_500_000), MTBSIms: i64(338_400_000)},
		},
		{
			// outageC overlaps outageA: their union, 10:00–13:00, is 3 h (not 2.5 + 2 = 4.5 h) and one failure.
			// downtime = 3 + 3 = 6 h = 21,600,000 ms; 2 failures.
			// availability = (189 − 6) / 189 × 100 = 96.8253968253…%
			// MTRS = 6 / 2 = 3 h = 10,800,000 ms; MTBF = 183 / 2 = 91.5 h = 329,400,000 ms; MTBSI = 94.5 h
			name: "overlapping outages count once", outages: []availability.Outage{outageC, outageA, outageB},
			want: availability.AvailabilityFigures{AgreedMs: 189 * hour, DowntimeMs: 6 * hour, Percent: 183.0 / 189 * 100, Failures: 2,
				MTRSms: i64(10_800_000), MTBFms: i64(329_400_000), MTBSIms: i64(340_200_000)},
		},
		{
			// An unplanned outage 08:30–10:00 during the planned one (07:00–09:00): only 09:00–10:00 is downtime.
			// agreed 188 h; downtime 1 h; 1 failure; availability = 187 / 188 × 100 = 99.4680851063…%
			// MTRS = 1 h; MTBF = 187 h = 673,200,000 ms; MTBSI = 188 h = 676,800,000 ms
			name: "unplanned inside planned", outages: []availability.Outage{plannedP,
				outage(availability.Unplanned, ny(24, 8, 30), ny(24, 10, 0))},
			want: availability.AvailabilityFigures{AgreedMs: 188 * hour, PlannedMs: hour, DowntimeMs: hour, Percent: 187.0 / 188 * 100, Failures: 1,
				MTRSms: i64(hour), MTBFms: i64(187 * hour), MTBSIms: i64(188 * hour)},
		},
		{
			// On Saturday 6 June and on the Juneteenth holiday there is no service time: no downtime, no failure.
			name: "outside service hours", outages: []availability.Outage{
				outage(availability.Unplanned, ny(6, 9, 0), ny(6, 12, 0)),
				outage(availability.Unplanned, ny(19, 9, 0), ny(19, 11, 0))},
			want: availability.AvailabilityFigures{AgreedMs: 189 * hour, Percent: 100},
		},
		{
			// Still going on since Tuesday 30 June 16:00: it runs to the end of the period, 1 h of service time.
			// availability = 188 / 189 × 100; MTRS 1 h; MTBF 188 h; MTBSI 189 h
			name: "ongoing outage", outages: []availability.Outage{outage(availability.Unplanned, ny(30, 16, 0), time.Time{})},
			want: availability.AvailabilityFigures{AgreedMs: 189 * hour, DowntimeMs: hour, Percent: 188.0 / 189 * 100, Failures: 1,
				MTRSms: i64(hour), MTBFms: i64(188 * hour), MTBSIms: i64(189 * hour)},
		},
		{
			// From Friday 29 May 16:00 to Monday 1 June 09:00: cut at the period's start, Monday 08–09 is 1 h.
			name: "cut at the period's start", outages: []availability.Outage{
				outage(availability.Unplanned, time.Date(2026, 5, 29, 20, 0, 0, 0, time.UTC), ny(1, 9, 0))},
			want: availability.AvailabilityFigures{AgreedMs: 189 * hour, DowntimeMs: hour, Percent: 188.0 / 189 * 100, Failures: 1,
				MTRSms: i64(hour), MTBFms: i64(188 * hour), MTBSIms: i64(189 * hour)},
		},
		{
			name: "no outages", want: availability.AvailabilityFigures{AgreedMs: 189 * hour, Percent: 100},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := availability.Compute(tc.outages, sched, from, to)
			checkFigures(t, got, tc.want)
		})
	}
}

func checkFigures(t *testing.T, got, want availability.AvailabilityFigures) {
	t.Helper()
	ptr := func(p *int64) string {
		if p == nil {
			return "null"
		}
		return time.Duration(*p * int64(time.Millisecond)).String()
	}
	if got.AgreedMs != want.AgreedMs || got.DowntimeMs != want.DowntimeMs || got.PlannedMs != want.PlannedMs ||
		got.Failures != want.Failures || math.Abs(got.Percent-want.Percent) > 1e-9 || ptr(got.MTBFms) != ptr(want.MTBFms) ||
		ptr(got.MTRSms) != ptr(want.MTRSms) || ptr(got.MTBSIms) != ptr(want.MTBSIms) {
		t.Fatalf("figures\n got agreed %d downtime %d planned %d %.12f%% failures %d MTBF %s MTRS %s MTBSI %s\nwant agreed %d downtime %d planned %d %.12f%% failures %d MTBF %s MTRS %s MTBSI %s",
			got.AgreedMs, got.DowntimeMs, got.PlannedMs, got.Percent, got.Failures, ptr(got.MTBFms), ptr(got.MTRSms), ptr(got.MTBSIms),
			want.AgreedMs, want.DowntimeMs, want.PlannedMs, want.Percent, want.Failures, ptr(want.MTBFms), ptr(want.MTRSms), ptr(want.MTBSIms))
	}
}

// TestMonthly cuts a period into UTC months: 15 May to 1 July 2026 is May
// from the 15th (Friday 15, 18–22, 25–29 May: 11 days × 9 h = 99 h, no
// holiday in this calendar, no outage) and the whole of June, measured as
// TestCompute measures it.
func TestMonthly(t *testing.T) {
	t.Parallel()
	sched := businessHours(t)
	os := []availability.Outage{outageA, outageB}
	from, to := time.Date(2026, 5, 15, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	ms := availability.Monthly(os, sched, from, to)
	if len(ms) != 2 || ms[0].Month != "2026-05" || !ms[0].From.Equal(from) || ms[1].Month != "2026-06" || !ms[1].To.Equal(to) {
		t.Fatalf("months: %+v", ms)
	}
	checkFigures(t, ms[0].AvailabilityFigures, availability.AvailabilityFigures{AgreedMs: 99 * hour, Percent: 100})
	checkFigures(t, ms[1].AvailabilityFigures, availability.Compute(os, sched, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), to))
	if got := availability.Monthly(os, sched, to, to); len(got) != 0 {
		t.Fatalf("empty period: %+v", got)
	}
}

// TestAllHours measures 24×7: June has 30 × 24 = 720 h; one outage of an hour leaves 719 / 720.
func TestAllHours(t *testing.T) {
	t.Parallel()
	from, to := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
	got := availability.Compute([]availability.Outage{outage(availability.Unplanned, ny(6, 9, 0), ny(6, 10, 0))},
		availability.AllHours{}, from, to)
	checkFigures(t, got, availability.AvailabilityFigures{AgreedMs: 720 * hour, DowntimeMs: hour, Percent: 719.0 / 720 * 100, Failures: 1,
		MTRSms: i64(hour), MTBFms: i64(719 * hour), MTBSIms: i64(720 * hour)})
}
