package tracker

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
)

// env is what one run of computes shares: the targets as they are now, the
// calendars' schedules and the requesters' teams (when a target selects by
// customer team).
type env struct {
	now       time.Time
	targets   []sla.Target
	byID      map[int64]*sla.Target
	schedules map[int64]sla.Schedule
	usesTeams bool
	// byService lists, per service, the targets (indexes into targets,
	// ascending) that name it; anyService those that name no service. A record
	// is matched only against its service's and the service-less targets: an
	// organisation has thousands of targets, a record a handful.
	byService  map[int64][]int
	anyService []int

	mu    sync.Mutex
	teams map[int64][]int64 // requester → teams, filled per batch
}

// newEnv reads the targets and the schedules of their calendars.
func (s *Service) newEnv(ctx context.Context, now time.Time) (*env, error) {
	ts, err := s.targets.Targets(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the service-level targets: %w", err)
	}
	e := &env{now: now, targets: ts, byID: make(map[int64]*sla.Target, len(ts)), schedules: map[int64]sla.Schedule{},
		teams: map[int64][]int64{}}
	e.byService = map[int64][]int{}
	for i := range ts {
		t := &e.targets[i]
		e.byID[t.ID] = t
		if len(t.Selector.ServiceIDs) == 0 {
			e.anyService = append(e.anyService, i)
		}
		for _, sv := range t.Selector.ServiceIDs {
			if l := e.byService[sv]; len(l) == 0 || l[len(l)-1] != i {
				e.byService[sv] = append(l, i)
			}
		}
		if len(t.Selector.CustomerTeams) > 0 {
			e.usesTeams = true
		}
		if _, ok := e.schedules[t.CalendarID]; ok {
			continue
		}
		sc, err := s.calendars.Schedule(ctx, t.CalendarID)
		if err != nil {
			return nil, fmt.Errorf("calendar %d of target %s (%s): %w", t.CalendarID, t.Name, t.AgreementName, err)
		}
		e.schedules[t.CalendarID] = sc
	}
	return e, nil
}

// loadTeams reads the teams of the requesters not read yet, when a target
// selects by customer team.
func (e *env) loadTeams(ctx context.Context, q db.Queryer, tls []*sla.Timeline) error {
	if !e.usesTeams {
		return nil
	}
	e.mu.Lock()
	var ask []any
	for _, tl := range tls {
		id := factInt(tl.Current(), sla.FieldRequester)
		if _, ok := e.teams[id]; !ok && id != 0 {
			e.teams[id] = nil
			ask = append(ask, id)
		}
	}
	e.mu.Unlock()
	for len(ask) > 0 {
		n := min(len(ask), 500)
		chunk := ask[:n]
		ask = ask[n:]
		rows, err := q.QueryContext(ctx, `SELECT user_id, team_id FROM team_members WHERE user_id IN (`+db.Marks(len(chunk))+`)`, chunk...)
		if err != nil {
			return fmt.Errorf("read the requesters' teams: %w", err)
		}
		got := map[int64][]int64{}
		for rows.Next() {
			var u, t int64
			if err := rows.Scan(&u, &t); err != nil {
				rows.Close()
				return fmt.Errorf("read a requester's team: %w", err)
			}
			got[u] = append(got[u], t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read the requesters' teams: %w", err)
		}
		e.mu.Lock()
		for u, ts := range got {
			e.teams[u] = ts
		}
		e.mu.Unlock()
	}
	return nil
}

func (e *env) teamsOf(user int64) []int64 {
	if !e.usesTeams || user == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.teams[user]
}

// calc is one target's clock on one record.
type calc struct {
	t *sla.Target
	c sla.Clock
}

// result is one record's clocks as computed now.
type result struct {
	rec    recInfo
	tl     sla.Timeline
	saveTL bool
	facts  sla.Facts
	calcs  []calc
}

// compute chooses the targets that apply to the record's current facts and
// computes their clocks over its whole timeline.
func (e *env) compute(rec recInfo, tl sla.Timeline, corrections []sla.Correction) result {
	r := result{rec: rec, tl: tl, facts: tl.Current()}
	if len(tl.Snapshots) == 0 {
		return r
	}
	teams := e.teamsOf(factInt(r.facts, sla.FieldRequester))
	for _, i := range e.candidates(factInt(r.facts, sla.FieldService)) {
		t := &e.targets[i]
		if !t.Selector.Covers(tl.Created) || !t.Selector.Matches(r.facts, teams) {
			continue
		}
		r.calcs = append(r.calcs, calc{t: t, c: sla.Compute(tl, *t, e.schedules[t.CalendarID], corrections, e.now)})
	}
	return r
}

// candidates are the targets that may apply to a record of the service, in
// the targets' order: the service's own merged with the service-less ones.
func (e *env) candidates(service int64) []int {
	own := e.byService[service]
	if len(own) == 0 {
		return e.anyService
	}
	if len(e.anyService) == 0 {
		return own
	}
	out := make([]int, 0, len(own)+len(e.anyService))
	a, b := own, e.anyService
	for len(a) > 0 && len(b) > 0 {
		if a[0] < b[0] {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// thresholds are a target's thresholds in percent, ascending, ending with the breach (100).
func thresholds(t *sla.Target) []int {
	ws := t.Warnings
	if ws == nil {
		ws = []int{75}
	}
	out := make([]int, 0, len(ws)+1)
	for _, w := range ws {
		if w > 0 && w < 100 {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return append(out, 100)
}

// running reports whether a clock counts time now.
func running(c sla.Clock) bool {
	return c.Status == sla.StatusRunning || (c.Status == sla.StatusBreached && c.StoppedAt == 0)
}

// pending lists the thresholds of the clock's cycle that it has passed but
// that have not fired yet (fired is the highest fired in firedCycle).
func pending(t *sla.Target, c sla.Clock, fired, firedCycle int) []int {
	if !running(c) {
		return nil
	}
	if firedCycle != c.Cycle {
		fired = 0
	}
	var out []int
	for _, th := range thresholds(t) {
		if th > fired && slices.Contains(c.Passed, th) {
			out = append(out, th)
		}
	}
	return out
}

// next is the next threshold to fire and when: now for one passed but not
// fired yet, the instant it is reached for the next one not passed, none
// while the clock does not run.
func next(t *sla.Target, c sla.Clock, fired, firedCycle int, now int64) (int, int64) {
	if !running(c) {
		return 0, 0
	}
	if firedCycle != c.Cycle {
		fired = 0
	}
	for _, th := range thresholds(t) {
		if th <= fired {
			continue
		}
		if slices.Contains(c.Passed, th) {
			return th, now
		}
		if c.NextThreshold == th && c.NextAt > 0 {
			return th, c.NextAt
		}
		return th, c.DueAt
	}
	return 0, 0
}

// period is yyyymm of an instant in UTC, 0 for none.
func period(at int64) int {
	if at <= 0 {
		return 0
	}
	t := time.UnixMilli(at).UTC()
	return t.Year()*100 + int(t.Month())
}

// factInt reads a numeric fact, 0 when absent or not a number.
func factInt(f sla.Facts, field string) int64 {
	v, err := strconv.ParseInt(f[field], 10, 64)
	if err != nil {
		return 0
	}
	return v
}
