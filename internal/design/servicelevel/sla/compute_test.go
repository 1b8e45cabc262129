package sla

import (
	"reflect"
	"testing"
	"time"
)

// ms reads "01-02 15:04" as that instant of 2026 in UTC, in unix ms.
func ms(s string) int64 {
	t, err := time.Parse("2006-01-02 15:04", "2026-"+s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

func at(s string) time.Time { return time.UnixMilli(ms(s)).UTC() }

// ev is an audit entry at s with field/value pairs; seq is set by history.
func ev(s, action string, kv ...any) Entry {
	e := Entry{At: ms(s), Action: action}
	for i := 0; i < len(kv); i += 2 {
		e.Changes = append(e.Changes, Change{Field: kv[i].(string), New: kv[i+1]})
	}
	return e
}

func history(es ...Entry) Timeline {
	for i := range es {
		es[i].Seq = int64(i + 1)
	}
	return Build(1, "INC1", es)
}

func created(s string, kv ...any) Entry {
	return ev(s, "record.create", append([]any{"type", "incident", "number", "INC1", "state", "new", "priority", 2, "title", "x"}, kv...)...)
}

func to(s, state string) Entry {
	return ev(s, "record.transition", "state", state, "action", "whatever")
}

func iv(kind, from, until string) Interval {
	i := Interval{From: ms(from), Kind: kind}
	if until != "" {
		i.To = ms(until)
	}
	return i
}

// want is what a test expects of a Clock (At, TargetID, Kind, Target and
// Remaining are checked from the inputs).
type want struct {
	Status               Status
	Elapsed, Paused      time.Duration
	StartedAt, StoppedAt string
	DueAt, BreachedAt    string
	NextThreshold        int
	NextAt               string
	Passed               []int
	Cycle                int
	Intervals            []Interval
}

func optMs(s string) int64 {
	if s == "" {
		return 0
	}
	return ms(s)
}

func check(t *testing.T, got Clock, target Target, now time.Time, w want) {
	t.Helper()
	exp := Clock{TargetID: target.ID, Kind: target.Kind, Status: w.Status, At: now.UnixMilli(), StartedAt: optMs(w.StartedAt),
		StoppedAt: optMs(w.StoppedAt), Target: target.Duration, Elapsed: w.Elapsed, Paused: w.Paused,
		Remaining: target.Duration - w.Elapsed, DueAt: optMs(w.DueAt), BreachedAt: optMs(w.BreachedAt), Cycle: w.Cycle,
		NextThreshold: w.NextThreshold, NextAt: optMs(w.NextAt), Passed: w.Passed, Intervals: w.Intervals}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("clock\n got %+v\nwant %+v", got, exp)
	}
}

func resolution(d time.Duration, warnings ...int) Target {
	return Target{ID: 7, Kind: KindResolution, Duration: d, Warnings: warnings}
}

func response(d time.Duration) Target {
	return Target{ID: 8, Kind: KindResponse, Duration: d, Warnings: []int{}}
}

// held puts an incident on hold with a reason (the kernel's transition and
// the area's entry, in the same millisecond).
func held(s, reason string) []Entry {
	return []Entry{to(s, "on_hold"), ev(s, "incident.hold", "holdReason", reason)}
}

func resumed(s string) []Entry {
	return []Entry{to(s, "in_progress"), ev(s, "incident.resume", "holdReason", nil)}
}

func cat(parts ...any) []Entry {
	var out []Entry
	for _, p := range parts {
		switch x := p.(type) {
		case Entry:
			out = append(out, x)
		case []Entry:
			out = append(out, x...)
		}
	}
	return out
}

// TestCompute24x7 checks clocks on a 24×7 schedule against hand-computed figures.
func TestCompute24x7(t *testing.T) {
	t.Parallel()
	// An incident through a hold (awaiting the caller) to resolution.
	holdStory := cat(created("03-09 10:00"), to("03-09 10:30", "in_progress"), held("03-09 11:00", "awaiting_caller"),
		resumed("03-09 12:00"), to("03-09 14:00", "resolved"))
	reopenStory := cat(created("03-09 10:00"), to("03-09 11:00", "resolved"), to("03-09 11:30", "closed"),
		to("03-09 15:00", "in_progress"), to("03-09 16:00", "resolved"))
	tests := []struct {
		name        string
		es          []Entry
		target      Target
		corrections []Correction
		now         string
		want        want
	}{
		{name: "running before the hold", es: holdStory, target: resolution(4*time.Hour, 50, 75), now: "03-09 10:45",
			want: want{Status: StatusRunning, Elapsed: 45 * time.Minute, StartedAt: "03-09 10:00", DueAt: "03-09 14:00",
				NextThreshold: 50, NextAt: "03-09 12:00", Intervals: []Interval{iv("running", "03-09 10:00", "")}}},
		{name: "paused on hold for the caller", es: holdStory, target: resolution(4*time.Hour, 50, 75), now: "03-09 11:30",
			want: want{Status: StatusPaused, Elapsed: time.Hour, Paused: 30 * time.Minute, StartedAt: "03-09 10:00", NextThreshold: 50,
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00"), iv("paused", "03-09 11:00", "")}}},
		{name: "running after resuming: due moves by the hold", es: holdStory, target: resolution(4*time.Hour, 50, 75), now: "03-09 13:00",
			want: want{Status: StatusRunning, Elapsed: 2 * time.Hour, Paused: time.Hour, StartedAt: "03-09 10:00", DueAt: "03-09 15:00",
				NextThreshold: 75, NextAt: "03-09 14:00", Passed: []int{50},
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00"), iv("paused", "03-09 11:00", "03-09 12:00"),
					iv("running", "03-09 12:00", "")}}},
		{name: "resolved within target", es: holdStory, target: resolution(4*time.Hour, 50, 75), now: "03-10 09:00",
			want: want{Status: StatusMet, Elapsed: 3 * time.Hour, Paused: time.Hour, StartedAt: "03-09 10:00", StoppedAt: "03-09 14:00",
				Passed: []int{50, 75},
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00"), iv("paused", "03-09 11:00", "03-09 12:00"),
					iv("running", "03-09 12:00", "03-09 14:00")}}},
		{name: "a hold for another reason does not pause", es: cat(created("03-09 10:00"), to("03-09 10:30", "in_progress"),
			held("03-09 11:00", "awaiting_parts"), resumed("03-09 12:00"), to("03-09 14:00", "resolved")),
			target: resolution(4 * time.Hour), now: "03-09 15:00",
			want: want{Status: StatusBreached, Elapsed: 4 * time.Hour, StartedAt: "03-09 10:00", StoppedAt: "03-09 14:00", BreachedAt: "03-09 14:00",
				Passed: []int{75, 100}, Intervals: []Interval{iv("running", "03-09 10:00", "03-09 14:00")}}},
		{name: "resolved at exactly the target breaches at that instant", es: cat(created("03-09 10:00"), to("03-09 14:00", "resolved")),
			target: resolution(4 * time.Hour), now: "03-09 15:00",
			want: want{Status: StatusBreached, Elapsed: 4 * time.Hour, StartedAt: "03-09 10:00", StoppedAt: "03-09 14:00",
				BreachedAt: "03-09 14:00", Passed: []int{75, 100}, Intervals: []Interval{iv("running", "03-09 10:00", "03-09 14:00")}}},
		{name: "running past the target", es: cat(created("03-09 10:00"), to("03-09 10:10", "in_progress")),
			target: resolution(2 * time.Hour), now: "03-09 13:00",
			want: want{Status: StatusBreached, Elapsed: 3 * time.Hour, StartedAt: "03-09 10:00", DueAt: "03-09 12:00",
				BreachedAt: "03-09 12:00", Passed: []int{75, 100}, Intervals: []Interval{iv("running", "03-09 10:00", "")}}},
		{name: "paused past the target stays paused", es: cat(created("03-09 10:00"), to("03-09 10:10", "in_progress"),
			held("03-09 13:00", "awaiting_supplier")), target: resolution(2 * time.Hour), now: "03-09 14:00",
			want: want{Status: StatusPaused, Elapsed: 3 * time.Hour, Paused: time.Hour, StartedAt: "03-09 10:00", BreachedAt: "03-09 12:00",
				Passed:    []int{75, 100},
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 13:00"), iv("paused", "03-09 13:00", "")}}},
		{name: "reopened: runs on from where it stopped", es: reopenStory, target: resolution(4 * time.Hour), now: "03-09 15:30",
			want: want{Status: StatusRunning, Elapsed: 90 * time.Minute, StartedAt: "03-09 10:00", DueAt: "03-09 18:00",
				NextThreshold: 75, NextAt: "03-09 17:00",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00"), iv("running", "03-09 15:00", "")}}},
		{name: "reopened and resolved again", es: reopenStory, target: resolution(4 * time.Hour), now: "03-09 18:00",
			want: want{Status: StatusMet, Elapsed: 2 * time.Hour, StartedAt: "03-09 10:00", StoppedAt: "03-09 16:00",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00"), iv("running", "03-09 15:00", "03-09 16:00")}}},
		{name: "between resolution and reopening", es: reopenStory, target: resolution(4 * time.Hour), now: "03-09 12:00",
			want: want{Status: StatusMet, Elapsed: time.Hour, StartedAt: "03-09 10:00", StoppedAt: "03-09 11:00",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00")}}},
		{name: "cancelled", es: cat(created("03-09 10:00"), to("03-09 11:00", "cancelled")), target: resolution(4 * time.Hour),
			now: "03-09 12:00",
			want: want{Status: StatusCancelled, Elapsed: time.Hour, StartedAt: "03-09 10:00", StoppedAt: "03-09 11:00",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00")}}},
		{name: "response met by assignment", es: cat(created("03-09 10:00"), ev("03-09 10:20", "record.assign", "teamId", 3, "assigneeId", 9),
			to("03-09 11:00", "in_progress")), target: response(30 * time.Minute), now: "03-09 12:00",
			want: want{Status: StatusMet, Elapsed: 20 * time.Minute, StartedAt: "03-09 10:00", StoppedAt: "03-09 10:20",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:20")}}},
		{name: "response: assigning a team alone does not stop it", es: cat(created("03-09 10:00"),
			ev("03-09 10:20", "record.assign", "teamId", 3, "assigneeId", 0), to("03-09 10:40", "in_progress")),
			target: response(30 * time.Minute), now: "03-09 12:00",
			want: want{Status: StatusBreached, Elapsed: 40 * time.Minute, StartedAt: "03-09 10:00", StoppedAt: "03-09 10:40",
				BreachedAt: "03-09 10:30", Passed: []int{100}, Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:40")}}},
		{name: "response: created assigned is met at once", es: cat(created("03-09 10:00", "assigneeId", 4)),
			target: response(30 * time.Minute), now: "03-09 12:00",
			want: want{Status: StatusMet, StartedAt: "03-09 10:00", StoppedAt: "03-09 10:00"}},
		{name: "response keeps its verdict when the incident is reclassified", es: cat(created("03-09 10:00"),
			to("03-09 10:10", "in_progress"), to("03-09 11:00", "reclassified")), target: response(30 * time.Minute), now: "03-09 12:00",
			want: want{Status: StatusMet, Elapsed: 10 * time.Minute, StartedAt: "03-09 10:00", StoppedAt: "03-09 10:10",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:10")}}},
		{name: "a correction pauses", es: cat(created("03-09 10:00"), to("03-09 10:05", "in_progress")), target: resolution(4 * time.Hour),
			corrections: []Correction{{From: ms("03-09 10:30"), To: ms("03-09 11:00"), Reason: "caller unreachable"}}, now: "03-09 12:00",
			want: want{Status: StatusRunning, Elapsed: 90 * time.Minute, Paused: 30 * time.Minute, StartedAt: "03-09 10:00",
				DueAt: "03-09 14:30", NextThreshold: 75, NextAt: "03-09 13:30",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:30"), iv("paused", "03-09 10:30", "03-09 11:00"),
					iv("running", "03-09 11:00", "")}}},
		{name: "overlapping corrections count once", es: cat(created("03-09 10:00"), to("03-09 10:05", "in_progress")),
			target: resolution(4 * time.Hour), now: "03-09 12:00",
			corrections: []Correction{{From: ms("03-09 10:40"), To: ms("03-09 11:00")}, {From: ms("03-09 10:30"), To: ms("03-09 10:50")},
				{From: ms("03-09 10:45"), To: ms("03-09 10:45")}},
			want: want{Status: StatusRunning, Elapsed: 90 * time.Minute, Paused: 30 * time.Minute, StartedAt: "03-09 10:00",
				DueAt: "03-09 14:30", NextThreshold: 75, NextAt: "03-09 13:30",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:30"), iv("paused", "03-09 10:30", "03-09 11:00"),
					iv("running", "03-09 11:00", "")}}},
		{name: "a correction overlapping a hold", es: cat(created("03-09 10:00"), to("03-09 10:05", "in_progress"),
			held("03-09 10:30", "awaiting_caller"), resumed("03-09 11:00")), target: resolution(4 * time.Hour), now: "03-09 12:00",
			corrections: []Correction{{From: ms("03-09 10:45"), To: ms("03-09 11:15")}},
			want: want{Status: StatusRunning, Elapsed: 75 * time.Minute, Paused: 45 * time.Minute, StartedAt: "03-09 10:00",
				DueAt: "03-09 14:45", NextThreshold: 75, NextAt: "03-09 13:45",
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:30"), iv("paused", "03-09 10:30", "03-09 11:15"),
					iv("running", "03-09 11:15", "")}}},
		{name: "a correction holding now pauses the clock", es: cat(created("03-09 10:00")), target: resolution(4 * time.Hour),
			corrections: []Correction{{From: ms("03-09 11:00"), To: ms("03-09 13:00")}}, now: "03-09 12:00",
			want: want{Status: StatusPaused, Elapsed: time.Hour, Paused: time.Hour, StartedAt: "03-09 10:00", NextThreshold: 75,
				Intervals: []Interval{iv("running", "03-09 10:00", "03-09 11:00"), iv("paused", "03-09 11:00", "")}}},
		{name: "reset on reassignment to a team starts a new cycle", es: cat(created("03-09 10:00", "teamId", 5),
			ev("03-09 12:00", "record.assign", "teamId", 7), ev("03-09 12:30", "record.update", "priority", 1)),
			target: Target{ID: 9, Kind: KindCustom, Duration: 2 * time.Hour, Rule: Rule{Reset: Condition{Fields: map[string][]string{FieldTeam: {"7"}}},
				Stop: Condition{States: []string{"resolved"}}}}, now: "03-09 13:00",
			want: want{Status: StatusRunning, Elapsed: time.Hour, StartedAt: "03-09 12:00", DueAt: "03-09 14:00", Cycle: 1,
				NextThreshold: 75, NextAt: "03-09 13:30", Intervals: []Interval{iv("running", "03-09 12:00", "")}}},
		{name: "not started until its start condition", es: cat(created("03-09 10:00"), to("03-09 11:00", "in_progress")),
			target: Target{ID: 9, Kind: KindCustom, Duration: 2 * time.Hour, Rule: Rule{Start: Condition{States: []string{"in_progress"}},
				Stop: Condition{States: []string{"resolved"}}}}, now: "03-09 10:30",
			want: want{Status: StatusNotStarted}},
		{name: "before the record existed", es: cat(created("03-09 10:00")), target: resolution(time.Hour), now: "03-09 09:00",
			want: want{Status: StatusNotStarted}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tl := history(append([]Entry(nil), tc.es...)...)
			now := at(tc.now)
			check(t, Compute(tl, tc.target, always{}, tc.corrections, now), tc.target, now, tc.want)
		})
	}
}

// TestComputeRequest checks the default fulfilment clock of a service request.
func TestComputeRequest(t *testing.T) {
	t.Parallel()
	req := func(s, state string) Entry { return ev(s, "record.transition", "state", state) }
	es := []Entry{ev("03-09 10:00", "record.create", "type", "service_request", "state", "submitted"),
		req("03-09 10:30", "awaiting_approval"), req("03-09 12:00", "in_fulfilment"), req("03-09 15:00", "awaiting_acceptance"),
		req("03-09 16:00", "in_fulfilment"), req("03-09 16:30", "awaiting_acceptance"), req("03-09 17:00", "closed")}
	target := Target{ID: 3, Kind: KindFulfilment, Duration: 8 * time.Hour, Warnings: []int{}}
	now := at("03-10 10:00")
	check(t, Compute(history(es...), target, always{}, nil, now), target, now, want{Status: StatusMet, Elapsed: 4 * time.Hour,
		Paused: 90 * time.Minute, StartedAt: "03-09 10:00", StoppedAt: "03-09 16:30",
		Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:30"), iv("paused", "03-09 10:30", "03-09 12:00"),
			iv("running", "03-09 12:00", "03-09 15:00"), iv("running", "03-09 16:00", "03-09 16:30")}})
	rejected := []Entry{ev("03-09 10:00", "record.create", "type", "service_request", "state", "submitted"),
		req("03-09 10:30", "awaiting_approval"), req("03-09 11:00", "rejected")}
	check(t, Compute(history(rejected...), target, always{}, nil, now), target, now, want{Status: StatusCancelled,
		Elapsed: 30 * time.Minute, Paused: 30 * time.Minute, StartedAt: "03-09 10:00", StoppedAt: "03-09 11:00",
		Intervals: []Interval{iv("running", "03-09 10:00", "03-09 10:30"), iv("paused", "03-09 10:30", "03-09 11:00")}})
}

// TestComputeBusinessHours checks clocks on Mon–Fri 09:00–17:00 UTC.
// 2026-03-09 is a Monday; 03-13 a Friday.
func TestComputeBusinessHours(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		es     []Entry
		target Target
		now    string
		want   want
	}{
		{name: "over a weekend", es: cat(created("03-13 16:00")), target: resolution(4 * time.Hour), now: "03-14 12:00",
			want: want{Status: StatusRunning, Elapsed: time.Hour, StartedAt: "03-13 16:00", DueAt: "03-16 12:00",
				NextThreshold: 75, NextAt: "03-16 11:00", Intervals: []Interval{iv("running", "03-13 16:00", "")}}},
		{name: "a hold across the night", es: cat(created("03-09 15:00"), to("03-09 15:10", "in_progress"),
			held("03-09 16:00", "awaiting_supplier"), resumed("03-10 10:00"), to("03-10 13:00", "resolved")),
			target: resolution(8 * time.Hour), now: "03-11 09:00",
			want: want{Status: StatusMet, Elapsed: 4 * time.Hour, Paused: 2 * time.Hour, StartedAt: "03-09 15:00", StoppedAt: "03-10 13:00",
				Passed: []int{}[:0:0],
				Intervals: []Interval{iv("running", "03-09 15:00", "03-09 16:00"), iv("paused", "03-09 16:00", "03-10 10:00"),
					iv("running", "03-10 10:00", "03-10 13:00")}}},
		{name: "breach instant inside the next morning", es: cat(created("03-09 14:00"), to("03-09 14:30", "in_progress")),
			target: resolution(4 * time.Hour), now: "03-10 12:00",
			want: want{Status: StatusBreached, Elapsed: 6 * time.Hour, StartedAt: "03-09 14:00", DueAt: "03-10 10:00",
				BreachedAt: "03-10 10:00", Passed: []int{75, 100}, Intervals: []Interval{iv("running", "03-09 14:00", "")}}},
		{name: "logged on a Saturday", es: cat(created("03-14 10:00")), target: resolution(4*time.Hour, 25), now: "03-15 20:00",
			want: want{Status: StatusRunning, StartedAt: "03-14 10:00", DueAt: "03-16 13:00", NextThreshold: 25, NextAt: "03-16 10:00",
				Intervals: []Interval{iv("running", "03-14 10:00", "")}}},
		{name: "ends a working day exactly", es: cat(created("03-09 13:00")), target: resolution(4 * time.Hour), now: "03-09 14:00",
			want: want{Status: StatusRunning, Elapsed: time.Hour, StartedAt: "03-09 13:00", DueAt: "03-09 17:00",
				NextThreshold: 75, NextAt: "03-09 16:00", Intervals: []Interval{iv("running", "03-09 13:00", "")}}},
		{name: "a week-long clock", es: cat(created("03-09 09:00"), held("03-11 09:00", "awaiting_change"), resumed("03-12 09:00")),
			target: resolution(40*time.Hour, 50, 90), now: "03-16 12:00",
			want: want{Status: StatusRunning, Elapsed: 35 * time.Hour, Paused: 8 * time.Hour, StartedAt: "03-09 09:00",
				DueAt: "03-16 17:00", NextThreshold: 90, NextAt: "03-16 13:00", Passed: []int{50},
				Intervals: []Interval{iv("running", "03-09 09:00", "03-11 09:00"), iv("paused", "03-11 09:00", "03-12 09:00"),
					iv("running", "03-12 09:00", "")}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := at(tc.now)
			w := tc.want
			if w.Passed != nil && len(w.Passed) == 0 {
				w.Passed = nil
			}
			check(t, Compute(history(append([]Entry(nil), tc.es...)...), tc.target, weekdays{}, nil, now), tc.target, now, w)
		})
	}
}
