package sla

import "time"

// always is a 24×7 schedule: every instant is business time.
type always struct{}

func (always) Working(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

func (always) Add(from time.Time, d time.Duration) time.Time { return from.Add(d) }

func (always) IsWorking(time.Time) bool { return true }

// weekdays is business time Monday to Friday 09:00–17:00 UTC, computed from a
// cumulative count since a Monday so that long spans cost nothing.
type weekdays struct{}

const (
	day      = 24 * time.Hour
	week     = 7 * day
	dayOpen  = 9 * time.Hour
	dayHours = 8 * time.Hour
)

// monday is a Monday 00:00 UTC before every instant the tests use.
var monday = time.Date(1970, 1, 5, 0, 0, 0, 0, time.UTC)

// cumulative is the business time from monday to t.
func (weekdays) cumulative(t time.Time) time.Duration {
	x := t.Sub(monday)
	weeks, r := x/week, x%week
	total := weeks * 5 * dayHours
	d, rd := r/day, r%day
	if d >= 5 {
		return total + 5*dayHours
	}
	return total + d*dayHours + min(max(rd-dayOpen, 0), dayHours)
}

func (w weekdays) Working(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	return w.cumulative(to) - w.cumulative(from)
}

func (w weekdays) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	k := w.cumulative(from) + d
	weeks := (k - 1) / (5 * dayHours)
	r := k - weeks*5*dayHours
	dd := (r - 1) / dayHours
	rr := r - dd*dayHours
	return monday.Add(weeks*week + dd*day + dayOpen + rr)
}

func (weekdays) IsWorking(t time.Time) bool {
	r := t.Sub(monday) % week
	d, rd := r/day, r%day
	return d < 5 && rd >= dayOpen && rd < dayOpen+dayHours
}

// testSchedule is a Schedule that can say whether an instant is business time.
type testSchedule interface {
	Schedule
	IsWorking(t time.Time) bool
}
