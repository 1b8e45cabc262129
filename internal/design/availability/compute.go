package availability

import (
	"slices"
	"time"
)

// Schedule is the service hours availability is measured over: the working
// time of a calendar between two instants. *calendar.Schedule satisfies it.
type Schedule interface {
	Working(from, to time.Time) time.Duration
}

// AllHours is the 24×7 schedule: every instant is service time. It stands in
// when a service has no agreed availability target (and so no calendar).
type AllHours struct{}

// Working returns to − from, or 0 when to is not after from.
func (AllHours) Working(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	return to.Sub(from)
}

// AvailabilityFigures are the availability measures of a service over a period, in
// milliseconds of service time (the schedule's working time).
type AvailabilityFigures struct {
	// AgreedMs is the agreed service time: the working time of the period less the planned outages.
	AgreedMs int64 `json:"agreedMs"`
	// DowntimeMs is the agreed service time lost to unplanned outages.
	DowntimeMs int64 `json:"downtimeMs"`
	// PlannedMs is the working time of the period taken out by planned outages.
	PlannedMs int64 `json:"plannedMs"`
	// Percent is (agreed − downtime) / agreed × 100; 100 when nothing was agreed.
	Percent float64 `json:"percent"`
	// Failures counts the service interruptions: unplanned outages (overlapping
	// ones merged into one) that cost agreed service time in the period.
	Failures int64 `json:"failures"`
	// MTBFms is the mean time between failures, (agreed − downtime) / failures; null without failures.
	MTBFms *int64 `json:"mtbfMs"`
	// MTRSms is the mean time to restore service, downtime / failures; null without failures.
	MTRSms *int64 `json:"mtrsMs"`
	// MTBSIms is the mean time between service incidents, agreed / failures; null without failures.
	MTBSIms *int64 `json:"mtbsiMs"`
}

// Month is the figures of one calendar month (UTC) of a period, cut to the period.
type AvailabilityMonth struct {
	// Month is the month as YYYY-MM.
	Month string    `json:"month"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	AvailabilityFigures
}

// span is a half-open interval [from, to).
type span struct{ from, to time.Time }

// clipped returns the outages of kind as intervals cut to [from, to), an
// ongoing one running to the end of the period, merged where they overlap or touch.
func clipped(outages []Outage, kind Kind, from, to time.Time) []span {
	var out []span
	for _, o := range outages {
		if o.Kind != kind {
			continue
		}
		s, e := o.StartedAt, to
		if o.EndedAt != nil {
			e = *o.EndedAt
		}
		if s.Before(from) {
			s = from
		}
		if e.After(to) {
			e = to
		}
		if e.After(s) {
			out = append(out, span{s, e})
		}
	}
	return merge(out)
}

// merge sorts spans and joins those that overlap or touch, so that no instant counts twice.
func merge(ss []span) []span {
	if len(ss) < 2 {
		return ss
	}
	slices.SortFunc(ss, func(a, b span) int { return a.from.Compare(b.from) })
	out := ss[:1]
	for _, s := range ss[1:] {
		last := &out[len(out)-1]
		if !s.from.After(last.to) {
			if s.to.After(last.to) {
				last.to = s.to
			}
			continue
		}
		out = append(out, s)
	}
	return out
}

// subtract returns the parts of each span of a outside every span of b (both merged and sorted).
func subtract(a, b []span) [][]span {
	out := make([][]span, len(a))
	for i, s := range a {
		cur := s.from
		for _, p := range b {
			if !p.to.After(cur) || !p.from.Before(s.to) {
				continue
			}
			if p.from.After(cur) {
				out[i] = append(out[i], span{cur, p.from})
			}
			cur = p.to
			if !cur.Before(s.to) {
				break
			}
		}
		if cur.Before(s.to) {
			out[i] = append(out[i], span{cur, s.to})
		}
	}
	return out
}

func working(sched Schedule, ss []span) time.Duration {
	var d time.Duration
	for _, s := range ss {
		d += sched.Working(s.from, s.to)
	}
	return d
}

// Compute measures availability over [from, to) on sched's service hours.
// Planned outages are removed from the agreed service time; unplanned ones
// are downtime, except where a planned outage already covers them. Outages
// overlapping each other count once: their union is measured, and
// overlapping unplanned outages are one failure. An unplanned outage that
// falls wholly outside the service hours (or inside a planned one) costs
// nothing and is no failure. An outage without an end runs to the end of the
// period. Outages of both kinds may be of any services: the caller picks them.
func Compute(outages []Outage, sched Schedule, from, to time.Time) AvailabilityFigures {
	var f AvailabilityFigures
	if !to.After(from) {
		f.Percent = 100
		return f
	}
	planned := clipped(outages, Planned, from, to)
	unplanned := clipped(outages, Unplanned, from, to)
	total := sched.Working(from, to)
	plannedTime := working(sched, planned)
	var down time.Duration
	for _, parts := range subtract(unplanned, planned) {
		d := working(sched, parts)
		if d > 0 {
			down += d
			f.Failures++
		}
	}
	agreed := total - plannedTime
	f.AgreedMs, f.PlannedMs, f.DowntimeMs = agreed.Milliseconds(), plannedTime.Milliseconds(), down.Milliseconds()
	f.Percent = 100
	if f.AgreedMs > 0 {
		f.Percent = float64(f.AgreedMs-f.DowntimeMs) / float64(f.AgreedMs) * 100
	}
	if f.Failures > 0 {
		mtbf, mtrs, mtbsi := (f.AgreedMs-f.DowntimeMs)/f.Failures, f.DowntimeMs/f.Failures, f.AgreedMs/f.Failures
		f.MTBFms, f.MTRSms, f.MTBSIms = &mtbf, &mtrs, &mtbsi
	}
	return f
}

// Monthly is Compute per calendar month (UTC) of [from, to), the first and
// last months cut to the period, oldest first.
func Monthly(outages []Outage, sched Schedule, from, to time.Time) []AvailabilityMonth {
	out := []AvailabilityMonth{}
	from, to = from.UTC(), to.UTC()
	for start := from; start.Before(to); {
		next := time.Date(start.Year(), start.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		end := next
		if end.After(to) {
			end = to
		}
		out = append(out, AvailabilityMonth{Month: start.Format("2006-01"), From: start, To: end, AvailabilityFigures: Compute(outages, sched, start, end)})
		start = next
	}
	return out
}
