package sla

import (
	"time"
)

// The kinds of Interval.
const (
	IntervalRunning = "running"
	IntervalPaused  = "paused"
)

// phase is where a clock is during one snapshot.
type phase uint8

const (
	phaseNotStarted phase = iota
	phaseRunning
	phasePaused
	phaseStopped
	phaseCancelled
)

// span is a half-open stretch of unix milliseconds.
type span struct{ from, to int64 }

// Compute is target t's clock on the record of tl as of now (truncated to the
// millisecond), on the schedule of the target's calendar, with the record's
// corrections. Only snapshots at or before now count.
//
// Per snapshot, the rule decides the clock's phase; t.Rule with no condition
// at all stands for DefaultRule(t.Kind, the record's current type):
//   - not started until the first snapshot where Start matches (an empty Start
//     matches at once); it stays started from then on;
//   - stopped while Stop matches; cancelled while Cancel matches (before it
//     started too), except that a stopped clock keeps its verdict; paused while
//     Pause matches; running otherwise. Stop and cancel are re-evaluated per
//     snapshot, so a reopened record's clock runs on with the time it had;
//   - Reset: when it becomes true (it did not match at the snapshot before)
//     on a started clock, a new cycle begins there: Cycle+1, Elapsed, Paused,
//     BreachedAt, Passed and Intervals start afresh and StartedAt is that instant.
//
// Corrections (merged where they overlap) turn running time into paused time.
// Elapsed is the business time (s.Working) of the running stretches and Paused
// that of the paused ones, both in the current cycle, up to now or the stop.
// BreachedAt is the instant Elapsed reached Target (s.Add inside the running
// stretch that crossed it, rounded up to the millisecond like DueAt and NextAt;
// reaching it exactly counts); it stays set
// through pauses, stops and reopenings until a reset. Target <= 0 never breaches
// and has no thresholds.
//
// Status at now: not_started; cancelled; met or breached (BreachedAt set)
// when stopped; paused when a pause or a correction holds now (even past the
// target); breached when running past the target; running otherwise.
// StoppedAt is when the current stop or cancellation began (0 otherwise).
//
// DueAt is set only while running: the instant Elapsed reaches Target if the
// clock runs on (s.Add from the start of the current running stretch, so it
// does not move with now), or BreachedAt once breached; 0 in every other status.
//
// Thresholds are t.Warnings (nil: [75]; values outside 1..99 ignored, sorted,
// deduplicated) and 100. Passed are those with Elapsed >= pct×Target in this
// cycle, ascending (nil when none). NextThreshold is the smallest one not
// passed while the clock is running or paused (0 when all passed, or in any
// other status); NextAt is the instant it is reached, only while running
// (0 otherwise). A running clock always has NextAt > now until it breaches,
// after which NextThreshold and NextAt are 0.
//
// Intervals are the current cycle's running and paused stretches, adjacent
// ones of a kind merged; the stretch holding now (running or paused) is last
// with To 0.
func Compute(tl Timeline, t Target, s Schedule, corrections []Correction, now time.Time) Clock {
	nowMs := now.UnixMilli()
	c := Clock{TargetID: t.ID, Kind: t.Kind, Status: StatusNotStarted, At: nowMs, Target: t.Duration}
	rule := &t.Rule
	if rule.isZero() {
		rule = defaultRule(t.Kind, tl.Current()[FieldType])
	}

	// Corrections: valid ones, sorted by start, overlapping ones merged.
	var cbuf [4]span
	cs := cbuf[:0]
	for _, k := range corrections {
		if k.To > k.From {
			cs = append(cs, span{k.From, k.To})
		}
	}
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].from < cs[j-1].from; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
	if len(cs) > 1 {
		m := 1
		for _, x := range cs[1:] {
			if last := &cs[m-1]; x.from <= last.to {
				last.to = max(last.to, x.to)
				continue
			}
			cs[m] = x
			m++
		}
		cs = cs[:m]
	}

	snaps := tl.Snapshots
	if len(snaps) > 0 && snaps[0].At <= nowMs {
		c.Intervals = make([]Interval, 0, min(len(snaps), 32)+2*len(cs)+1)
	}
	var (
		started, prevReset bool
		ph                 = phaseNotStarted
		ci                 int
		// the last running piece: where it began, where it ended, Elapsed before it
		runFrom, runTo int64 = 0, -1
		runBefore      time.Duration
	)
	addInterval := func(a, b int64, kind string) {
		if n := len(c.Intervals); n > 0 && c.Intervals[n-1].Kind == kind && c.Intervals[n-1].To == a {
			c.Intervals[n-1].To = b
			return
		}
		c.Intervals = append(c.Intervals, Interval{From: a, To: b, Kind: kind})
	}
	for i := 0; i < len(snaps) && snaps[i].At <= nowMs; i++ {
		f := snaps[i].Facts
		from, to := snaps[i].At, nowMs
		if i+1 < len(snaps) && snaps[i+1].At < nowMs {
			to = snaps[i+1].At
		}
		reset := rule.Reset.Matches(f)
		if !started {
			if rule.Start.matchesStart(f) {
				started = true
				c.StartedAt = from
			}
		} else if reset && !prevReset {
			c.Cycle++
			c.Elapsed, c.Paused, c.BreachedAt, c.StartedAt, c.StoppedAt = 0, 0, 0, from, 0
			c.Intervals = c.Intervals[:0]
			runTo = -1
			ph = phaseNotStarted
		}
		prevReset = reset

		var next phase
		switch {
		case !started:
			next = phaseNotStarted
			if rule.Cancel.Matches(f) {
				next = phaseCancelled
			}
		case rule.Stop.Matches(f):
			next = phaseStopped
		case rule.Cancel.Matches(f):
			next = phaseCancelled
			if ph == phaseStopped {
				next = phaseStopped
			}
		case rule.Pause.Matches(f):
			next = phasePaused
		default:
			next = phaseRunning
		}
		if next == phaseStopped || next == phaseCancelled {
			if next != ph {
				c.StoppedAt = from
			}
		} else {
			c.StoppedAt = 0
		}
		ph = next
		if to <= from {
			continue
		}
		switch ph {
		case phasePaused:
			c.Paused += s.Working(time.UnixMilli(from), time.UnixMilli(to))
			addInterval(from, to, IntervalPaused)
		case phaseRunning:
			for a := from; a < to; {
				for ci < len(cs) && cs[ci].to <= a {
					ci++
				}
				if ci < len(cs) && cs[ci].from <= a {
					b := min(cs[ci].to, to)
					c.Paused += s.Working(time.UnixMilli(a), time.UnixMilli(b))
					addInterval(a, b, IntervalPaused)
					a = b
					continue
				}
				b := to
				if ci < len(cs) && cs[ci].from < to {
					b = cs[ci].from
				}
				at := time.UnixMilli(a)
				before := c.Elapsed
				c.Elapsed += s.Working(at, time.UnixMilli(b))
				if c.BreachedAt == 0 && t.Duration > 0 && c.Elapsed >= t.Duration {
					c.BreachedAt = ceilMs(s.Add(at, t.Duration-before))
				}
				runFrom, runTo, runBefore = a, b, before
				addInterval(a, b, IntervalRunning)
				a = b
			}
		}
	}
	c.Remaining = t.Duration - c.Elapsed

	corrected := false
	for _, k := range cs {
		if k.from <= nowMs && nowMs < k.to {
			corrected = true
			break
		}
	}
	running := ph == phaseRunning && !corrected
	switch {
	case ph == phaseCancelled:
		c.Status = StatusCancelled
	case !started:
		c.Status = StatusNotStarted
	case ph == phaseStopped && c.BreachedAt != 0:
		c.Status = StatusBreached
	case ph == phaseStopped:
		c.Status = StatusMet
	case !running:
		c.Status = StatusPaused
	case c.BreachedAt != 0:
		c.Status = StatusBreached
	default:
		c.Status = StatusRunning
	}
	if started && (ph == phaseRunning || ph == phasePaused) {
		kind := IntervalPaused
		if running {
			kind = IntervalRunning
		}
		n := len(c.Intervals)
		if n == 0 || c.Intervals[n-1].Kind != kind || c.Intervals[n-1].To != nowMs {
			c.Intervals = append(c.Intervals, Interval{From: nowMs, Kind: kind})
		} else {
			c.Intervals[n-1].To = 0
		}
	}
	if len(c.Intervals) == 0 {
		c.Intervals = nil
	}

	// anchor: the start of the running stretch holding now, with Elapsed there.
	anchor, anchorElapsed := nowMs, c.Elapsed
	if runTo == nowMs {
		anchor, anchorElapsed = runFrom, runBefore
	}
	if running && t.Duration > 0 {
		if c.BreachedAt != 0 {
			c.DueAt = c.BreachedAt
		} else {
			c.DueAt = ceilMs(s.Add(time.UnixMilli(anchor), t.Duration-anchorElapsed))
		}
	}
	if t.Duration <= 0 {
		return c
	}
	var tbuf [8]int
	ths := thresholds(t.Warnings, tbuf[:0])
	for _, p := range ths {
		d := percentOf(t.Duration, p)
		if c.Elapsed >= d {
			if c.Passed == nil {
				c.Passed = make([]int, 0, len(ths))
			}
			c.Passed = append(c.Passed, p)
			continue
		}
		if c.NextThreshold == 0 && started && (ph == phaseRunning || ph == phasePaused) {
			c.NextThreshold = p
			if running {
				c.NextAt = ceilMs(s.Add(time.UnixMilli(anchor), d-anchorElapsed))
			}
		}
	}
	return c
}

// ceilMs is t in unix milliseconds, rounded up, so that the figure reached at
// an instant is reached at the millisecond stored for it.
func ceilMs(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}

// percentOf is p percent of d, without overflowing for long targets.
func percentOf(d time.Duration, p int) time.Duration {
	return d/100*time.Duration(p) + d%100*time.Duration(p)/100
}

// thresholds appends a target's thresholds to buf: the warnings (nil: 75) in
// 1..99, ascending and distinct, then 100.
func thresholds(warnings []int, buf []int) []int {
	if warnings == nil {
		return append(buf, 75, 100)
	}
	for _, w := range warnings {
		if w <= 0 || w >= 100 {
			continue
		}
		i := len(buf)
		for i > 0 && buf[i-1] > w {
			i--
		}
		if i > 0 && buf[i-1] == w {
			continue
		}
		buf = append(buf, 0)
		copy(buf[i+1:], buf[i:])
		buf[i] = w
	}
	return append(buf, 100)
}
