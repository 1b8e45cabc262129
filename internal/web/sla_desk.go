package web

import (
	"context"
	"math"
	"slices"
	"strconv"
	"time"

	"steward/internal/design/servicelevel/tracker"
	"steward/internal/platform/listing"
)

// What the desk and the record page show of service levels: the "Breaching
// soon" queue (tracker.Service.BreachingSoon) and the record page's panel of
// the record's clocks (tracker.Service.Clocks).

// queueBreaching is the queue of clocks due soon or breached.
const queueBreaching = "breaching"

// breachWithin is how far ahead the breaching-soon queue looks.
const breachWithin = 4 * time.Hour

// breachRow is one clock of the breaching-soon queue as the desk lists it.
type breachRow struct {
	tracker.BreachRow
	Due                  time.Time
	Remaining, StateWord string
}

// PriorityLabel is the record's priority as text.
func (r breachRow) PriorityLabel() string { return priorityLabel(r.Priority) }

// PriorityClass is the badge class of the record's priority.
func (r breachRow) PriorityClass() string { return priorityClass(r.Priority) }

// Bar is the progress bar's classes: its fill step and its state.
func (r breachRow) Bar() string { return barClass(r.Percent, r.Breached, false, false) }

// Pct is the elapsed share as a whole percentage.
func (r breachRow) Pct() int { return int(math.Floor(r.Percent)) }

// measuring reports whether clocks run: the tracker is wired and some agreed
// agreement has time-based targets. Without them the desk has no breaching queue.
func (s *site) measuring(ctx context.Context) (bool, error) {
	if s.Clocks == nil || s.Levels == nil {
		return false, nil
	}
	ts, err := s.Levels.Targets(ctx)
	return len(ts) > 0, err
}

// breachingQueue reads one page of the clocks due within four hours or
// breached, soonest first, narrowed by the team and service filters.
func (s *site) breachingQueue(ctx context.Context, q *deskQuery, res queueResult) (queueResult, error) {
	if s.Clocks == nil {
		res.notes = append(res.notes, "This queue needs service level management, which is not set up on this server.")
		return res, nil
	}
	if q.Priority != 0 || q.State != "" {
		res.notes = append(res.notes, "The breaching-soon queue filters by team and service only.")
		q.Priority, q.State = 0, ""
	}
	page, total, err := s.Clocks.BreachingSoon(ctx, tracker.BreachFilter{Within: breachWithin, TeamID: q.Team, ServiceID: q.Service},
		listing.Params{Limit: deskPageSize, Cursor: q.Cursor, Sort: "dueAt"})
	if err != nil {
		return res, err
	}
	for _, b := range page.Items {
		row := breachRow{BreachRow: b, Due: time.UnixMilli(b.DueAt), StateWord: words(b.State), Remaining: spanMs(b.RemainingMs)}
		if b.Breached {
			row.Remaining = spanMs(-b.RemainingMs) + " over"
		}
		res.breaching = append(res.breaching, row)
	}
	res.total, res.next = total, page.NextCursor
	return res, nil
}

// clockPanel is the record page's "Service levels" panel.
type clockPanel struct {
	Clocks      []clockRow
	Escalations []escalationRow
	Corrections int
	At          time.Time
}

// clockRow is one clock as the panel shows it.
type clockRow struct {
	tracker.ClockView
	StatusLabel, StatusClass string
	// Bar is the progress bar's classes; Pct the elapsed share in whole percent.
	Bar                                 string
	Pct                                 int
	Elapsed, Remaining, Paused, Allowed string
	// PctText is the elapsed share as people read it, "over 999 %" past that.
	PctText                         string
	Due, Breached, Started, Stopped time.Time
	Running                         bool
	History                         []historyRow
}

// historyRow is one replaced figure of a clock.
type historyRow struct {
	At                               time.Time
	Reason                           string
	OldTarget, NewTarget             string
	OldDue, NewDue                   time.Time
	OldStatus, NewStatus             string
	OldPriority, NewPriority         string
	TargetChanged, DueChanged, Moved bool
}

// escalationRow is an escalation that fired.
type escalationRow struct {
	tracker.EscalationEntry
	Fired time.Time
}

// clockStatus names a clock status and its badge.
var clockStatus = map[string]string{"not_started": "Not started", "running": "Running", "paused": "Paused", "met": "Met",
	"breached": "Breached", "cancelled": "Cancelled"}

// barClass is a progress bar's classes: the fill in 10 % steps and its state.
func barClass(pct float64, breached, paused, done bool) string {
	step := int(math.Floor(min(max(pct, 0), 100)/10)) * 10
	cls := "sla-p" + itoa(int64(step))
	switch {
	case breached:
		cls += " sla-over"
	case done:
		cls += " sla-done"
	case paused:
		cls += " sla-paused"
	case pct >= 75:
		cls += " sla-warn"
	}
	return cls
}

// clocksPanel reads the record's clocks for its page; nil when the tracker
// is not wired or the record has no clock and never had one.
func (s *site) clocksPanel(ctx context.Context, number string) (*clockPanel, error) {
	if s.Clocks == nil {
		return nil, nil
	}
	rc, err := s.Clocks.Clocks(ctx, number)
	if err != nil {
		return nil, err
	}
	if len(rc.Clocks) == 0 && len(rc.History) == 0 {
		return nil, nil
	}
	p := &clockPanel{At: time.UnixMilli(rc.At), Corrections: len(rc.Corrections)}
	at := func(ms int64) time.Time {
		if ms == 0 {
			return time.Time{}
		}
		return time.UnixMilli(ms)
	}
	for _, c := range rc.Clocks {
		running := c.StoppedAt == 0 && (c.Status == "running" || c.Status == "breached")
		row := clockRow{ClockView: c, StatusLabel: clockStatus[c.Status], StatusClass: "tag st-" + c.Status,
			Bar:     barClass(c.Percent, c.Status == "breached", c.Status == "paused", c.Status == "met" || c.Status == "cancelled"),
			Pct:     int(math.Floor(c.Percent)),
			Elapsed: spanMs(c.ElapsedMs), Paused: spanMs(c.PausedMs), Allowed: spanMs(c.TargetMs),
			Due: at(c.DueAt), Breached: at(c.BreachedAt), Started: at(c.StartedAt), Stopped: at(c.StoppedAt), Running: running}
		row.PctText = strconv.Itoa(row.Pct) + " %"
		if row.Pct > 999 {
			row.PctText = "over 999 %"
		}
		if row.StatusLabel == "" {
			row.StatusLabel = words(c.Status)
		}
		switch {
		case c.RemainingMs < 0:
			row.Remaining = spanMs(-c.RemainingMs) + " over"
		default:
			row.Remaining = spanMs(c.RemainingMs)
		}
		for _, h := range rc.History {
			if h.NewTargetID != c.TargetID && h.OldTargetID != c.TargetID {
				continue
			}
			row.History = append(row.History, historyRow{At: at(h.At), Reason: h.Reason,
				OldTarget: spanMs(h.OldTargetMs), NewTarget: spanMs(h.NewTargetMs), OldDue: at(h.OldDueAt), NewDue: at(h.NewDueAt),
				OldStatus: words(h.OldStatus), NewStatus: words(h.NewStatus), OldPriority: priorityLabel(int(h.OldPriority)), NewPriority: priorityLabel(int(h.NewPriority)),
				TargetChanged: h.OldTargetMs != h.NewTargetMs, DueChanged: h.OldDueAt != h.NewDueAt, Moved: h.OldTargetID != h.NewTargetID})
		}
		slices.Reverse(row.History)
		p.Clocks = append(p.Clocks, row)
	}
	for _, e := range rc.Escalations {
		p.Escalations = append(p.Escalations, escalationRow{EscalationEntry: e, Fired: at(e.FiredAt)})
	}
	return p, nil
}
