package sla

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

var (
	randStates  = []string{"new", "in_progress", "on_hold", "resolved", "closed", "cancelled", "reclassified"}
	randReasons = []string{"awaiting_caller", "awaiting_supplier", "awaiting_change", "awaiting_parts", ""}
	randActions = []string{"record.transition", "incident.hold", "record.assign", "record.update", "record.system.update",
		"record.transition.override", "incident.update", "record.journal.add", "record.step.request", "incident.update.denied",
		"record.link", "access.denied"}
)

// randValue is a field's value in one of the shapes audit changes carry.
func randValue(rng *rand.Rand, field string) any {
	switch field {
	case FieldState:
		return randStates[rng.IntN(len(randStates))]
	case FieldHoldReason:
		if r := randReasons[rng.IntN(len(randReasons))]; r != "" {
			return r
		}
		return nil
	case FieldPriority, FieldTeam, FieldAssignee, FieldService:
		n := rng.IntN(4)
		switch rng.IntN(3) {
		case 0:
			return n
		case 1:
			return float64(n)
		default:
			return json.Number(fmt.Sprint(n))
		}
	case FieldCategory:
		return []any{"network", "software", nil}[rng.IntN(3)]
	}
	return fmt.Sprint("t", rng.IntN(3))
}

// randHistory is a random incident history on minute boundaries: a creation,
// then entries of every kind, some in the same minute, some stamped a little
// earlier than the one before.
func randHistory(rng *rand.Rand) []Entry {
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(14*24*60)) * time.Minute).UnixMilli()
	es := []Entry{{Seq: 1, At: t0, Action: "record.create", Changes: []Change{{Field: "type", New: "incident"}, {Field: "state", New: "new"},
		{Field: "priority", New: float64(1 + rng.IntN(4))}, {Field: "title", New: "x"}, {Field: "teamId", New: 0}}}}
	fields := []string{FieldState, FieldState, FieldHoldReason, FieldPriority, FieldTeam, FieldAssignee, FieldCategory, FieldService, "title"}
	at := t0
	for i := range 2 + rng.IntN(25) {
		switch r := rng.IntN(10); {
		case r == 0:
		case r == 1 && at > t0:
			at -= int64(time.Minute / time.Millisecond)
		default:
			at += int64(rng.IntN(8*60)) * int64(time.Minute/time.Millisecond)
		}
		e := Entry{Seq: int64(i + 2 + rng.IntN(2)*i), At: at, Action: randActions[rng.IntN(len(randActions))]}
		for range 1 + rng.IntN(3) {
			f := fields[rng.IntN(len(fields))]
			e.Changes = append(e.Changes, Change{Field: f, Old: "whatever", New: randValue(rng, f)})
		}
		es = append(es, e)
	}
	slices.SortStableFunc(es, func(a, b Entry) int { return int(a.Seq - b.Seq) })
	return es
}

// randTarget is one of the default clocks or a custom rule with a reset, with
// a duration of whole 20 minutes (so that every threshold is whole minutes).
func randTarget(rng *rand.Rand) Target {
	t := Target{ID: int64(rng.IntN(9)), Duration: time.Duration(1+rng.IntN(60)) * 20 * time.Minute}
	switch rng.IntN(4) {
	case 0:
		t.Kind = KindResponse
	case 1:
		t.Kind = KindResolution
	case 2:
		t.Kind = KindCustom
		t.Rule = Rule{Start: Condition{States: []string{"in_progress"}}, Reset: Condition{Fields: map[string][]string{FieldPriority: {"1"}}},
			Pause: Condition{States: []string{"on_hold"}}, Stop: Condition{States: []string{"resolved", "closed"}},
			Cancel: Condition{States: []string{"cancelled"}}}
	default:
		t.Kind = KindResolution
		t.Rule = Rule{Reset: Condition{Fields: map[string][]string{FieldTeam: {"2", "3"}}}, Pause: Condition{Any: []Condition{
			{States: []string{"on_hold"}}, {Fields: map[string][]string{FieldAssignee: {""}}}}}, Stop: Condition{States: []string{"resolved"}}}
	}
	switch rng.IntN(3) {
	case 0:
		t.Warnings = nil
	case 1:
		t.Warnings = []int{}
	default:
		t.Warnings = []int{90, 25, 0, 50, 25, 120}
	}
	return t
}

func randCorrections(rng *rand.Rand, tl Timeline, now int64) []Correction {
	var cs []Correction
	for range rng.IntN(4) {
		from := tl.Created + int64(rng.IntN(3*24*60))*int64(time.Minute/time.Millisecond)
		cs = append(cs, Correction{From: from, To: from + int64(rng.IntN(6*60))*int64(time.Minute/time.Millisecond)})
	}
	return cs
}

// auditJSON is an entry's changes as the audit log stores them.
func auditJSON(t *testing.T, e Entry) []byte {
	type change struct {
		Field string `json:"field"`
		Old   any    `json:"old,omitempty"`
		New   any    `json:"new,omitempty"`
	}
	cs := make([]change, len(e.Changes))
	for i, c := range e.Changes {
		cs[i] = change{c.Field, c.Old, c.New}
	}
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestIncrementalFold: building a whole history equals building a prefix,
// storing it as JSON, reading it back and folding the rest (with entries seen
// before folded again), and the clocks computed from both are equal; entries
// read from their audit JSON build the same timeline.
func TestIncrementalFold(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(7, 11))
	scheds := []Schedule{always{}, weekdays{}}
	for i := range 2000 {
		es := randHistory(rng)
		all := Build(5, "INC5", es)
		split := rng.IntN(len(es) + 1)
		part := Build(5, "INC5", es[:split])
		data, err := json.Marshal(part)
		if err != nil {
			t.Fatal(err)
		}
		var stored Timeline
		if err := json.Unmarshal(data, &stored); err != nil {
			t.Fatal(err)
		}
		for _, e := range es[max(0, split-2):] {
			stored.Fold(e)
		}
		if !reflect.DeepEqual(all, stored) {
			t.Fatalf("case %d split %d:\n all %+v\nfold %+v", i, split, all, stored)
		}
		var fromAudit []Entry
		for _, e := range es {
			a, _, err := EntryFromAudit(e.Seq, e.At, e.Action, auditJSON(t, e))
			if err != nil {
				t.Fatal(err)
			}
			fromAudit = append(fromAudit, a)
		}
		if got := Build(5, "INC5", fromAudit); !reflect.DeepEqual(all, got) {
			t.Fatalf("case %d from audit JSON:\n want %+v\n got %+v", i, all, got)
		}
		for range 3 {
			target, s := randTarget(rng), scheds[rng.IntN(2)]
			now := time.UnixMilli(all.Created + int64(rng.IntN(5*24*60))*int64(time.Minute/time.Millisecond) + int64(rng.IntN(60000)))
			cs := randCorrections(rng, all, now.UnixMilli())
			a, b := Compute(all, target, s, cs, now), Compute(stored, target, s, cs, now)
			if !reflect.DeepEqual(a, b) {
				t.Fatalf("case %d: Compute differs\n all %+v\nfold %+v", i, a, b)
			}
		}
	}
}

// refClock is what the minute-by-minute reference model works out.
type refClock struct {
	Status                                  Status
	Elapsed, Paused                         time.Duration
	StartedAt, StoppedAt, BreachedAt, DueAt int64
	NextThreshold                           int
	NextAt                                  int64
	Passed                                  []int
	Cycle                                   int
}

// reference walks a clock minute by minute (every instant of the test is on a
// minute boundary): a plain restatement of Compute's rules with none of its
// interval arithmetic.
func reference(tl Timeline, t Target, s testSchedule, cs []Correction, now int64) refClock {
	const minute = int64(time.Minute / time.Millisecond)
	rule := t.Rule
	if reflect.DeepEqual(rule, Rule{}) {
		rule = DefaultRule(t.Kind, tl.Current()[FieldType])
	}
	corrected := func(m int64) bool {
		for _, c := range cs {
			if c.From <= m && m < c.To {
				return true
			}
		}
		return false
	}
	var r refClock
	r.Status = StatusNotStarted
	started, prevReset := false, false
	ph := phaseNotStarted
	if len(tl.Snapshots) == 0 {
		return r
	}
	next := 0
	for m := tl.Snapshots[0].At; m <= now; m += minute {
		if next < len(tl.Snapshots) && tl.Snapshots[next].At == m {
			f := tl.Snapshots[next].Facts
			next++
			reset := rule.Reset.Matches(f)
			if !started && (reflect.DeepEqual(rule.Start, Condition{}) || rule.Start.Matches(f)) {
				started, r.StartedAt = true, m
			} else if started && reset && !prevReset {
				r.Cycle++
				r.Elapsed, r.Paused, r.BreachedAt, r.StartedAt, r.StoppedAt = 0, 0, 0, m, 0
				ph = phaseNotStarted
			}
			prevReset = reset
			var p phase
			switch {
			case !started && rule.Cancel.Matches(f):
				p = phaseCancelled
			case !started:
				p = phaseNotStarted
			case rule.Stop.Matches(f):
				p = phaseStopped
			case rule.Cancel.Matches(f) && ph == phaseStopped:
				p = phaseStopped
			case rule.Cancel.Matches(f):
				p = phaseCancelled
			case rule.Pause.Matches(f):
				p = phasePaused
			default:
				p = phaseRunning
			}
			if (p == phaseStopped || p == phaseCancelled) && p != ph {
				r.StoppedAt = m
			} else if p != phaseStopped && p != phaseCancelled {
				r.StoppedAt = 0
			}
			ph = p
		}
		if m == now {
			break
		}
		working := s.IsWorking(time.UnixMilli(m))
		switch {
		case ph == phaseRunning && !corrected(m):
			if working {
				r.Elapsed += time.Minute
				if r.BreachedAt == 0 && r.Elapsed == t.Duration {
					r.BreachedAt = m + minute
				}
			}
		case ph == phaseRunning || ph == phasePaused:
			if working {
				r.Paused += time.Minute
			}
		}
	}
	running := ph == phaseRunning && !corrected(now)
	switch {
	case ph == phaseCancelled:
		r.Status = StatusCancelled
	case !started:
		r.Status = StatusNotStarted
	case ph == phaseStopped && r.BreachedAt != 0:
		r.Status = StatusBreached
	case ph == phaseStopped:
		r.Status = StatusMet
	case !running:
		r.Status = StatusPaused
	case r.BreachedAt != 0:
		r.Status = StatusBreached
	default:
		r.Status = StatusRunning
	}
	// reach is when the clock, running on from now, has counted d.
	reach := func(d time.Duration) int64 {
		e, m := r.Elapsed, now
		for e < d {
			if s.IsWorking(time.UnixMilli(m)) {
				e += time.Minute
			}
			m += minute
		}
		return m
	}
	if running {
		r.DueAt = r.BreachedAt
		if r.DueAt == 0 {
			r.DueAt = reach(t.Duration)
		}
	}
	var buf [8]int
	for _, p := range thresholds(t.Warnings, buf[:0]) {
		d := t.Duration * time.Duration(p) / 100
		if r.Elapsed >= d {
			r.Passed = append(r.Passed, p)
		} else if r.NextThreshold == 0 && started && (ph == phaseRunning || ph == phasePaused) {
			r.NextThreshold = p
			if running {
				r.NextAt = reach(d)
			}
		}
	}
	return r
}

// TestComputeAgainstReference compares Compute with the minute walk on random
// histories, targets, corrections and instants, on both test schedules.
func TestComputeAgainstReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(3, 5))
	scheds := []testSchedule{always{}, weekdays{}}
	for i := range 1500 {
		tl := Build(1, "INC1", randHistory(rng))
		target, s := randTarget(rng), scheds[rng.IntN(2)]
		now := tl.Created + int64(rng.IntN(4*24*60))*int64(time.Minute/time.Millisecond)
		cs := randCorrections(rng, tl, now)
		got := Compute(tl, target, s, cs, time.UnixMilli(now))
		g := refClock{Status: got.Status, Elapsed: got.Elapsed, Paused: got.Paused, StartedAt: got.StartedAt, StoppedAt: got.StoppedAt,
			BreachedAt: got.BreachedAt, DueAt: got.DueAt, NextThreshold: got.NextThreshold, NextAt: got.NextAt, Passed: got.Passed, Cycle: got.Cycle}
		if w := reference(tl, target, s, cs, now); !reflect.DeepEqual(g, w) {
			t.Fatalf("case %d (%T, target %+v, now %d, corrections %+v)\ntimeline %+v\n got %+v\nwant %+v", i, s, target, now, cs, tl, g, w)
		}
		if got.Remaining != target.Duration-got.Elapsed {
			t.Fatalf("case %d: remaining %v", i, got.Remaining)
		}
		checkIntervals(t, i, got, s, now)
	}
}

// checkIntervals: intervals are ascending and disjoint, alternate or break,
// and their business time adds up to Elapsed and Paused.
func checkIntervals(t *testing.T, i int, c Clock, s Schedule, now int64) {
	t.Helper()
	var run, pause time.Duration
	for j, iv := range c.Intervals {
		end := iv.To
		if end == 0 {
			if j != len(c.Intervals)-1 {
				t.Fatalf("case %d: open interval %d not last: %+v", i, j, c.Intervals)
			}
			end = now
		}
		if end < iv.From || (j > 0 && iv.From < c.Intervals[j-1].To) {
			t.Fatalf("case %d: intervals out of order: %+v", i, c.Intervals)
		}
		if j > 0 && iv.From == c.Intervals[j-1].To && iv.Kind == c.Intervals[j-1].Kind {
			t.Fatalf("case %d: unmerged intervals: %+v", i, c.Intervals)
		}
		w := s.Working(time.UnixMilli(iv.From), time.UnixMilli(end))
		if iv.Kind == IntervalRunning {
			run += w
		} else {
			pause += w
		}
	}
	if run != c.Elapsed || pause != c.Paused {
		t.Fatalf("case %d: intervals sum to %v running, %v paused; clock %v, %v: %+v", i, run, pause, c.Elapsed, c.Paused, c.Intervals)
	}
	open := len(c.Intervals) > 0 && c.Intervals[len(c.Intervals)-1].To == 0
	if open != (c.Status == StatusRunning || c.Status == StatusPaused || (c.Status == StatusBreached && c.StoppedAt == 0)) {
		t.Fatalf("case %d: status %s with intervals %+v", i, c.Status, c.Intervals)
	}
}
