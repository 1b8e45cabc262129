package tracker

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/jobs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// ClockView is one clock of a record as people read it. Times are unix
// milliseconds (0: none); durations are milliseconds of business time.
type ClockView struct {
	TargetID      int64          `json:"targetId"`
	Target        string         `json:"target" doc:"The target's name."`
	Kind          string         `json:"kind" doc:"response, resolution, fulfilment or custom."`
	AgreementID   int64          `json:"agreementId"`
	Agreement     string         `json:"agreement" doc:"The agreement's name."`
	AgreementKind string         `json:"agreementKind" doc:"SLA, OLA or UC."`
	CalendarID    int64          `json:"calendarId"`
	Status        string         `json:"status" doc:"not_started, running, paused, met, breached or cancelled."`
	StartedAt     int64          `json:"startedAt"`
	StoppedAt     int64          `json:"stoppedAt"`
	TargetMs      int64          `json:"targetMs"`
	ElapsedMs     int64          `json:"elapsedMs"`
	PausedMs      int64          `json:"pausedMs"`
	RemainingMs   int64          `json:"remainingMs" doc:"Target minus elapsed; negative once breached."`
	Percent       float64        `json:"percent" doc:"Elapsed in percent of the target."`
	DueAt         int64          `json:"dueAt" doc:"When the clock reaches its target if it runs on; 0 while it does not run."`
	BreachedAt    int64          `json:"breachedAt"`
	Cycle         int            `json:"cycle"`
	NextThreshold int            `json:"nextThreshold"`
	NextAt        int64          `json:"nextAt"`
	Passed        []int          `json:"passed"`
	Intervals     []sla.Interval `json:"intervals"`
}

// HistoryEntry is a clock's figures a recompute replaced.
type HistoryEntry struct {
	ClockID     int64  `json:"clockId"`
	At          int64  `json:"at"`
	Reason      string `json:"reason"`
	OldTargetID int64  `json:"oldTargetId"`
	NewTargetID int64  `json:"newTargetId"`
	OldTargetMs int64  `json:"oldTargetMs"`
	NewTargetMs int64  `json:"newTargetMs"`
	OldDueAt    int64  `json:"oldDueAt"`
	NewDueAt    int64  `json:"newDueAt"`
	OldStatus   string `json:"oldStatus"`
	NewStatus   string `json:"newStatus"`
	OldPriority int64  `json:"oldPriority"`
	NewPriority int64  `json:"newPriority"`
}

// EscalationEntry is a threshold action that fired.
type EscalationEntry struct {
	ClockID   int64  `json:"clockId"`
	Threshold int    `json:"threshold"`
	Cycle     int    `json:"cycle"`
	Action    string `json:"action"`
	FiredAt   int64  `json:"firedAt"`
	Node      string `json:"node"`
	Outcome   string `json:"outcome"`
}

// RecordClocks are a record's clocks computed now from its whole audit
// history, with the figures recomputes replaced, the escalations that fired
// and the corrections.
type RecordClocks struct {
	Number      string            `json:"number"`
	At          int64             `json:"at" doc:"Computed as of (unix ms)."`
	Clocks      []ClockView       `json:"clocks"`
	History     []HistoryEntry    `json:"history"`
	Escalations []EscalationEntry `json:"escalations"`
	Corrections []sla.Correction  `json:"corrections"`
}

// view is the readable form of a computed clock.
func view(cl calc) ClockView {
	c := cl.c
	v := ClockView{TargetID: cl.t.ID, Target: cl.t.Name, Kind: string(cl.t.Kind), AgreementID: cl.t.AgreementID,
		Agreement: cl.t.AgreementName, AgreementKind: cl.t.AgreementKind, CalendarID: cl.t.CalendarID, Status: string(c.Status),
		StartedAt: c.StartedAt, StoppedAt: c.StoppedAt, TargetMs: c.Target.Milliseconds(), ElapsedMs: c.Elapsed.Milliseconds(),
		PausedMs: c.Paused.Milliseconds(), RemainingMs: (c.Target - c.Elapsed).Milliseconds(), DueAt: c.DueAt,
		BreachedAt: c.BreachedAt, Cycle: c.Cycle, NextThreshold: c.NextThreshold, NextAt: c.NextAt,
		Passed: c.Passed, Intervals: c.Intervals}
	if v.Passed == nil {
		v.Passed = []int{}
	}
	if v.Intervals == nil {
		v.Intervals = []sla.Interval{}
	}
	if c.Target > 0 {
		v.Percent = float64(c.Elapsed) / float64(c.Target) * 100
	}
	return v
}

// Clocks returns a record's clocks computed now from its whole audit history
// (exact, whatever the refresh has reached), with the stored history, the
// escalations fired and the corrections. The kernel's visibility applies: a
// record the caller may not see is not found.
func (s *Service) Clocks(ctx context.Context, number string) (out RecordClocks, err error) {
	defer errs.Wrap(&err, "service-level clocks of %s", number)
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return out, err
	}
	now := s.clock.Now()
	e, err := s.newEnv(ctx, now)
	if err != nil {
		return out, err
	}
	tl := sla.Timeline{RecordID: r.ID, Number: r.Number}
	if err := readEntries(ctx, s.db, `SELECT object_id, seq, at, action, changes FROM audit_log
		WHERE object_type = 'record' AND object_id = ? ORDER BY seq`, []any{r.Number},
		func(_ string, en sla.Entry) { tl.Fold(en) }); err != nil {
		return out, err
	}
	if err := e.loadTeams(ctx, s.db, []*sla.Timeline{&tl}); err != nil {
		return out, err
	}
	corr, err := corrections(ctx, s.db, []int64{r.ID})
	if err != nil {
		return out, err
	}
	res := e.compute(recInfo{id: r.ID, number: r.Number, typ: r.Type, closed: r.Closed}, tl, corr[r.ID])
	out = RecordClocks{Number: r.Number, At: now.UnixMilli(), Clocks: []ClockView{}, History: []HistoryEntry{},
		Escalations: []EscalationEntry{}, Corrections: corr[r.ID]}
	if out.Corrections == nil {
		out.Corrections = []sla.Correction{}
	}
	for _, cl := range res.calcs {
		out.Clocks = append(out.Clocks, view(cl))
	}
	slices.SortStableFunc(out.Clocks, func(a, b ClockView) int {
		if c := strings.Compare(a.Agreement, b.Agreement); c != 0 {
			return c
		}
		return strings.Compare(a.Kind, b.Kind)
	})
	rows, err := s.db.QueryContext(ctx, `SELECT clock_id, at, reason, old_target_id, new_target_id, old_target_ms, new_target_ms,
		old_due_at, new_due_at, old_status, new_status, old_priority, new_priority FROM sla_clock_history
		WHERE record_id = ? ORDER BY at, id`, r.ID)
	if err != nil {
		return out, fmt.Errorf("read clock history: %w", err)
	}
	for rows.Next() {
		var h HistoryEntry
		if err := rows.Scan(&h.ClockID, &h.At, &h.Reason, &h.OldTargetID, &h.NewTargetID, &h.OldTargetMs, &h.NewTargetMs,
			&h.OldDueAt, &h.NewDueAt, &h.OldStatus, &h.NewStatus, &h.OldPriority, &h.NewPriority); err != nil {
			rows.Close()
			return out, fmt.Errorf("read clock history: %w", err)
		}
		out.History = append(out.History, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("read clock history: %w", err)
	}
	rows, err = s.db.QueryContext(ctx, `SELECT clock_id, threshold, cycle, action, fired_at, node, outcome FROM sla_escalations
		WHERE record_id = ? ORDER BY fired_at, id`, r.ID)
	if err != nil {
		return out, fmt.Errorf("read escalations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var x EscalationEntry
		if err := rows.Scan(&x.ClockID, &x.Threshold, &x.Cycle, &x.Action, &x.FiredAt, &x.Node, &x.Outcome); err != nil {
			return out, fmt.Errorf("read escalations: %w", err)
		}
		out.Escalations = append(out.Escalations, x)
	}
	return out, rows.Err()
}

// BreachFilter narrows the breaching-soon list.
type BreachFilter struct {
	// Within is how far ahead a due time counts as soon; 4 hours when 0.
	Within time.Duration
	// TeamID and ServiceID, when set, keep the records of that team or service.
	TeamID    int64
	ServiceID int64
}

// BreachRow is a running clock due soon or breached already.
type BreachRow struct {
	ClockID     int64   `json:"clockId"`
	Number      string  `json:"number"`
	Title       string  `json:"title"`
	State       string  `json:"state"`
	Priority    int     `json:"priority,omitempty"`
	TeamID      int64   `json:"teamId,omitempty"`
	Team        string  `json:"team,omitempty"`
	AssigneeID  int64   `json:"assigneeId,omitempty"`
	Assignee    string  `json:"assignee,omitempty"`
	Target      string  `json:"target" doc:"The target's name."`
	Agreement   string  `json:"agreement"`
	Kind        string  `json:"kind"`
	DueAt       int64   `json:"dueAt" doc:"When the clock reaches (or reached) its target (unix ms)."`
	RemainingMs int64   `json:"remainingMs" doc:"Business time left; negative once breached."`
	Percent     float64 `json:"percent" doc:"Elapsed in percent of the target, now."`
	Breached    bool    `json:"breached"`
	targetMS    int64
	calendarID  int64
}

var breachSpec = listing.Spec{
	Columns:     map[string]listing.Column{"dueAt": {SQL: "c.due_at", Sortable: true, Kind: "int"}},
	DefaultSort: "dueAt",
	IDColumn:    "c.id",
}

// BreachingSoon lists the running clocks due within f.Within or breached
// already, soonest first, with the record's state and people; the kernel's
// record visibility applies in SQL.
func (s *Service) BreachingSoon(ctx context.Context, f BreachFilter, p listing.Params) (page listing.Page[BreachRow], total int64, err error) {
	defer errs.Wrap(&err, "list clocks breaching soon")
	if f.Within <= 0 {
		f.Within = 4 * time.Hour
	}
	now := s.clock.Now()
	filters := []listing.Filter{{Where: "c.status IN ('running', 'breached') AND c.due_at > 0 AND c.due_at <= ? AND r.closed = ?",
		Args: []any{now.Add(f.Within).UnixMilli(), false}}}
	if f.TeamID != 0 {
		filters = append(filters, listing.Filter{Where: "r.team_id = ?", Args: []any{f.TeamID}})
	}
	if f.ServiceID != 0 {
		filters = append(filters, listing.Filter{Where: "r.service_id = ?", Args: []any{f.ServiceID}})
	}
	cond, args, err := s.records.VisibleWhere(ctx)
	if err != nil {
		return page, 0, err
	}
	if cond != "" {
		filters = append(filters, listing.Filter{Where: cond, Args: args})
	}
	src := listing.Source[BreachRow]{
		Spec: breachSpec,
		From: `sla_clocks c JOIN records r ON r.id = c.record_id LEFT JOIN teams t ON t.id = r.team_id
			LEFT JOIN users u ON u.id = r.assignee_id`,
		Columns: `c.id, r.number, r.title, r.state, r.priority, r.team_id, t.name, r.assignee_id, u.username, c.target_name,
			c.agreement_name, c.kind, c.due_at, c.target_ms, c.calendar_id`,
		Scan: func(sc listing.Scanner) (BreachRow, error) {
			var b BreachRow
			var prio, team, assignee sql.NullInt64
			var teamName, user sql.NullString
			err := sc.Scan(&b.ClockID, &b.Number, &b.Title, &b.State, &prio, &team, &teamName, &assignee, &user, &b.Target,
				&b.Agreement, &b.Kind, &b.DueAt, &b.targetMS, &b.calendarID)
			b.Priority, b.TeamID, b.Team, b.AssigneeID, b.Assignee = int(prio.Int64), team.Int64, teamName.String, assignee.Int64, user.String
			return b, err
		},
		Key: func(b BreachRow, field string) any { return b.DueAt },
		ID:  func(b BreachRow) int64 { return b.ClockID },
	}
	page, total, err = listing.Fetch(ctx, s.db, src, p, filters)
	if err != nil {
		return page, 0, err
	}
	schedules := map[int64]sla.Schedule{}
	for i := range page.Items {
		b := &page.Items[i]
		sc, ok := schedules[b.calendarID]
		if !ok {
			if sc, err = s.calendars.Schedule(ctx, b.calendarID); err != nil {
				return page, 0, fmt.Errorf("calendar %d: %w", b.calendarID, err)
			}
			schedules[b.calendarID] = sc
		}
		due := time.UnixMilli(b.DueAt)
		if due.After(now) {
			b.RemainingMs = sc.Working(now, due).Milliseconds()
		} else {
			b.RemainingMs = -sc.Working(due, now).Milliseconds()
			b.Breached = true
		}
		if b.targetMS > 0 {
			b.Percent = float64(b.targetMS-b.RemainingMs) / float64(b.targetMS) * 100
		}
	}
	return page, total, nil
}

// AddCorrection records a hand-made pause of every clock of a record (the
// caller could not be reached from c.From to c.To) and recomputes its clocks.
// It must lie within the record's life up to now (422 naming "from" or "to").
// Whoever may change the record's fields (its type's update activity) may.
func (s *Service) AddCorrection(ctx context.Context, number string, c sla.Correction) (out sla.Correction, err error) {
	defer errs.Wrap(&err, "correct the service-level clocks of %s", number)
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return out, errs.E(errs.Unauthenticated, "sign in first")
	}
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return out, err
	}
	c.Reason = strings.TrimSpace(c.Reason)
	now := s.clock.Now().UnixMilli()
	if err := sla.ValidateCorrection(c, r.CreatedAt.UnixMilli(), now); err != nil {
		return out, err
	}
	t, err := s.records.Type(r.Type)
	if err != nil {
		return out, err
	}
	if t.UpdateActivity != "" {
		if _, err := s.records.Authorize(ctx, r.Process, t.UpdateActivity, "correct the service-level clocks of",
			"record/"+r.Number, raci.Scope{TeamID: r.TeamID, ServiceID: r.ServiceID}); err != nil {
			return out, err
		}
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO sla_corrections (record_id, from_at, to_at, reason, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, r.ID, c.From, c.To, c.Reason, p.UserID, now).Scan(&c.ID); err != nil {
			return fmt.Errorf("store the correction: %w", err)
		}
		change := map[string]any{"id": c.ID, "from": c.From, "to": c.To, "reason": c.Reason}
		s.trail.Record(ctx, tx, audit.Entry{Action: "sla.correction.add", ObjectType: "record", ObjectID: r.Number,
			Changes: []audit.Change{{Field: "slaCorrection", New: change}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "sla.corrected", Subject: "record/" + r.Number,
			Data: map[string]any{"number": r.Number, "correction": change}})
	})
	if err != nil {
		return out, err
	}
	recs, err := loadRecords(ctx, s.db, []string{r.Number})
	if err != nil {
		return c, err
	}
	return c, s.recomputeRecords(ctx, recs, reasonCorrection)
}

// mayConfigure asks the guard whether the caller may run service-level
// configuration (SLM1: R or A, administrators as an audited override).
func (s *Service) mayConfigure(ctx context.Context, verb, object string) error {
	_, err := s.records.Authorize(ctx, "SLM", "SLM1", verb, object, raci.Scope{})
	return err
}

// AskRecompute recomputes one record's clocks (number given) or queues a
// recompute of every record's (SLM1 R or A, or an administrator). It reports
// whether it queued.
func (s *Service) AskRecompute(ctx context.Context, number string) (queued bool, err error) {
	defer errs.Wrap(&err, "recompute service-level clocks")
	if err := s.mayConfigure(ctx, "recompute the service-level clocks of", "sla/"+strings.TrimSpace(number)); err != nil {
		return false, err
	}
	if number = strings.TrimSpace(number); number != "" {
		if _, err := s.records.Get(ctx, number); err != nil {
			return false, err
		}
		return false, s.Recompute(ctx, number)
	}
	if s.jobs == nil {
		_, err := s.RecomputeAll(ctx, RecomputeOptions{})
		return false, err
	}
	_, err = s.jobs.Enqueue(ctx, s.db, recomputeJob, recomputePayload{All: true},
		jobs.EnqueueOptions{DedupKey: fmt.Sprintf("%s:all:%d", recomputeJob, s.clock.Now().Unix())})
	return err == nil, err
}
