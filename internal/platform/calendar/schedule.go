package calendar

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Business time is counted between these years (local time of the calendar's
// zone); before FirstYear and from LastYear on nothing is working, so that a
// zero time or an absurd duration costs a bounded amount of work.
const (
	FirstYear = 1900
	LastYear  = 2400
)

// Schedule is a compiled calendar: it answers how much business time lies
// between two instants and when a stretch of business time ends. It is safe
// for concurrent use; the working spans of each local year are built on first
// use and kept, so that any query costs a few binary searches per year it crosses.
type Schedule struct {
	loc      *time.Location
	week     [7][]dayWindow // by day, Monday first, sorted by start
	holidays map[civil]string

	mu     sync.RWMutex
	chunks map[int]*chunk
}

// Span is a stretch of working time, [From, To).
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// dayWindow is a window of one day in minutes after its local midnight; end may pass 1440.
type dayWindow struct{ start, end int }

// civil is a local calendar date.
type civil struct {
	y int
	m time.Month
	d int
}

func civilOf(t time.Time) civil {
	y, m, d := t.Date()
	return civil{y, m, d}
}

// span is a merged working span in unix seconds with the working time before it in its chunk.
type span struct {
	from, to int64
	cum      time.Duration
}

// chunk holds the working spans of one local year, [start, end) in unix seconds.
type chunk struct {
	year       int
	start, end int64
	spans      []span
	total      time.Duration
}

// Location is the calendar's time zone.
func (s *Schedule) Location() *time.Location { return s.loc }

// Holiday returns the name of the holiday on a local date and whether there is one.
func (s *Schedule) Holiday(y int, m time.Month, d int) (string, bool) {
	n, ok := s.holidays[civil{y, m, d}]
	return n, ok
}

// yearStart is the instant the local year begins.
func (s *Schedule) yearStart(y int) int64 {
	return time.Date(y, time.January, 1, 0, 0, 0, 0, s.loc).Unix()
}

var (
	lowerBound = time.Date(FirstYear, time.January, 1, 0, 0, 0, 0, time.UTC).Unix() - 2*86400
	upperBound = time.Date(LastYear, time.January, 1, 0, 0, 0, 0, time.UTC).Unix() + 2*86400
)

// chunkOf returns the chunk of a local year, building it on first use.
func (s *Schedule) chunkOf(y int) *chunk {
	s.mu.RLock()
	c := s.chunks[y]
	s.mu.RUnlock()
	if c != nil {
		return c
	}
	c = s.build(y)
	s.mu.Lock()
	if old := s.chunks[y]; old != nil {
		c = old
	} else {
		s.chunks[y] = c
	}
	s.mu.Unlock()
	return c
}

// chunkFor returns the chunk holding the instant sec.
func (s *Schedule) chunkFor(sec int64) *chunk {
	y := time.Unix(sec, 0).UTC().Year()
	c := s.chunkOf(y)
	for sec < c.start {
		c = s.chunkOf(c.year - 1)
	}
	for sec >= c.end {
		c = s.chunkOf(c.year + 1)
	}
	return c
}

// build lays out the working spans of local year y: every window of every
// day from the last day of the year before (whose overnight windows spill
// in), with the parts on holidays cut away, clipped to the year, merged.
func (s *Schedule) build(y int) *chunk {
	c := &chunk{year: y, start: s.yearStart(y), end: s.yearStart(y + 1)}
	if y < FirstYear || y >= LastYear {
		return c
	}
	raw := make([]span, 0, 400)
	for k := 0; ; k++ {
		day := time.Date(y, time.January, k, 0, 0, 0, 0, time.UTC) // k = 0 is 31 December of the year before
		if day.Year() > y {
			break
		}
		dy, dm, dd := day.Date()
		ws := s.week[weekdayIndex(day.Weekday())]
		if len(ws) == 0 {
			continue
		}
		_, today := s.holidays[civil{dy, dm, dd}]
		next := day.AddDate(0, 0, 1)
		_, tomorrow := s.holidays[civilOf(next)]
		var midnight int64
		if today || tomorrow {
			midnight = time.Date(dy, dm, dd+1, 0, 0, 0, 0, s.loc).Unix()
		}
		for _, w := range ws {
			from := time.Date(dy, dm, dd, 0, w.start, 0, 0, s.loc).Unix()
			to := time.Date(dy, dm, dd, 0, w.end, 0, 0, s.loc).Unix()
			if today {
				from = max(from, midnight)
			}
			if tomorrow {
				to = min(to, midnight)
			}
			from, to = max(from, c.start), min(to, c.end)
			if to > from {
				raw = append(raw, span{from: from, to: to})
			}
		}
	}
	sort.Slice(raw, func(i, j int) bool { return raw[i].from < raw[j].from })
	merged := raw[:0]
	for _, sp := range raw {
		if n := len(merged); n > 0 && sp.from <= merged[n-1].to {
			merged[n-1].to = max(merged[n-1].to, sp.to)
			continue
		}
		merged = append(merged, sp)
	}
	var cum time.Duration
	for i := range merged {
		merged[i].cum = cum
		cum += time.Duration(merged[i].to-merged[i].from) * time.Second
	}
	c.spans, c.total = slices0(merged), cum
	return c
}

// slices0 returns a right-sized copy so that the build buffer is not kept.
func slices0(in []span) []span {
	out := make([]span, len(in))
	copy(out, in)
	return out
}

// cumAt is the working time of the chunk before the instant (sec, ns).
func (c *chunk) cumAt(sec int64, ns int) time.Duration {
	i := sort.Search(len(c.spans), func(i int) bool { return c.spans[i].to > sec })
	if i == len(c.spans) {
		return c.total
	}
	sp := c.spans[i]
	if sec < sp.from {
		return sp.cum
	}
	return sp.cum + time.Duration(sec-sp.from)*time.Second + time.Duration(ns)
}

// locate is the earliest instant at which the chunk's working time reaches
// target (0 < target <= total).
func (c *chunk) locate(target time.Duration) time.Time {
	i := sort.Search(len(c.spans), func(i int) bool {
		sp := c.spans[i]
		return sp.cum+time.Duration(sp.to-sp.from)*time.Second >= target
	})
	sp := c.spans[i]
	return time.Unix(sp.from, 0).Add(target - sp.cum).UTC()
}

// clampInstant limits an instant to the span of years business time is counted in.
func clampInstant(t time.Time) (int64, int) {
	sec := t.Unix()
	switch {
	case sec < lowerBound:
		return lowerBound, 0
	case sec >= upperBound:
		return upperBound, 0
	}
	return sec, t.Nanosecond()
}

// satAdd adds durations, saturating instead of overflowing.
func satAdd(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// Working is the business time in [from, to); 0 when to is not after from.
func (s *Schedule) Working(from, to time.Time) time.Duration {
	if !to.After(from) {
		return 0
	}
	as, an := clampInstant(from)
	bs, bn := clampInstant(to)
	ca, cb := s.chunkFor(as), s.chunkFor(bs)
	if ca == cb {
		return cb.cumAt(bs, bn) - ca.cumAt(as, an)
	}
	sum := ca.total - ca.cumAt(as, an)
	for y := ca.year + 1; y < cb.year; y++ {
		sum = satAdd(sum, s.chunkOf(y).total)
	}
	return satAdd(sum, cb.cumAt(bs, bn))
}

// Add is the earliest instant at which d of business time has passed since
// from: Working(from, Add(from, d)) == d. Add(from, d) is from for d <= 0. A
// duration that cannot be reached before LastYear ends there.
func (s *Schedule) Add(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	sec, ns := clampInstant(from)
	c := s.chunkFor(sec)
	pos := c.cumAt(sec, ns)
	for {
		if left := c.total - pos; left >= d {
			return c.locate(pos + d)
		} else {
			d -= left
		}
		if c.year >= LastYear {
			if end := time.Unix(c.start, 0).UTC(); end.After(from) {
				return end
			}
			return from
		}
		c, pos = s.chunkOf(c.year+1), 0
	}
}

// IsWorking reports whether the instant falls in working time.
func (s *Schedule) IsWorking(t time.Time) bool {
	sec := t.Unix()
	if sec < lowerBound || sec >= upperBound {
		return false
	}
	c := s.chunkFor(sec)
	i := sort.Search(len(c.spans), func(i int) bool { return c.spans[i].to > sec })
	return i < len(c.spans) && c.spans[i].from <= sec
}

// Spans lists the working spans within [from, to), clipped to it, in
// ascending order, in UTC; spans that touch are joined.
func (s *Schedule) Spans(from, to time.Time) []Span {
	if !to.After(from) {
		return nil
	}
	as, _ := clampInstant(from)
	bs, _ := clampInstant(to)
	var out []Span
	for c := s.chunkFor(as); c.start <= bs && c.year <= LastYear; c = s.chunkOf(c.year + 1) {
		i := sort.Search(len(c.spans), func(i int) bool { return c.spans[i].to > as })
		for ; i < len(c.spans) && c.spans[i].from <= bs; i++ {
			f, t := time.Unix(c.spans[i].from, 0).UTC(), time.Unix(c.spans[i].to, 0).UTC()
			if f.Before(from) {
				f = from.UTC()
			}
			if t.After(to) {
				t = to.UTC()
			}
			if !t.After(f) {
				continue
			}
			if n := len(out); n > 0 && !out[n-1].To.Before(f) {
				out[n-1].To = t
				continue
			}
			out = append(out, Span{From: f, To: t})
		}
		if c.end > bs {
			break
		}
	}
	return out
}
