// Package tracker runs the service-level clocks of work records. It tails the
// audit trail by seq with its own cursor, folds each touched record's
// clock-relevant history into a timeline (sla.Timeline, kept in
// sla_timelines), chooses the targets that apply to the record's current
// facts, computes each target's clock on its agreement's business calendar
// with the pure engine (package sla) and stores the result in sla_clocks.
// Targets apply retroactively: a changed priority or target definition
// recomputes the clock over the record's whole history, and the figures it
// replaces are kept in sla_clock_history. A sweeper fires the warning and
// breach thresholds once per clock, threshold and cycle across every node
// (sla_escalations), notifying through the outbox and raising the priority or
// reassigning through the record kernel as the system.
package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/jobs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// TargetSource lists the time-based targets of the agreed agreements
// (servicelevel.Service implements it).
type TargetSource interface {
	Targets(ctx context.Context) ([]sla.Target, error)
}

// ScheduleSource gives the business-time arithmetic of a calendar by its id.
type ScheduleSource interface {
	Schedule(ctx context.Context, calendarID int64) (sla.Schedule, error)
}

// ScheduleFunc adapts a typed schedule lookup, such as calendar.Service.Schedule
// returning *calendar.Schedule, to a ScheduleSource.
type ScheduleFunc[S sla.Schedule] func(ctx context.Context, calendarID int64) (S, error)

// Schedule calls f.
func (f ScheduleFunc[S]) Schedule(ctx context.Context, calendarID int64) (sla.Schedule, error) {
	s, err := f(ctx, calendarID)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Deps are what the tracker needs.
type Deps struct {
	DB *db.DB
	// Records is the kernel: record visibility for reads, and the system's own
	// changes (raise the priority, reassign) for escalations.
	Records *record.Service
	Trail   *audit.Trail
	Events  *outbox.Outbox
	Clock   clock.Clock
	// Targets lists the targets of the agreed agreements.
	Targets TargetSource
	// Calendars gives each target's business calendar.
	Calendars ScheduleSource
	// Jobs queues recomputes after a definition change; nil runs them at once
	// (in tests).
	Jobs *jobs.Runner
	// NodeID names this process in sla_escalations.node; the job runner's
	// node id, or the host name, when empty.
	NodeID string
	// Log receives what background work could not do; nil discards it.
	Log *slog.Logger
}

// Service is the tracker.
type Service struct {
	db        *db.DB
	records   *record.Service
	trail     *audit.Trail
	events    *outbox.Outbox
	clock     clock.Clock
	targets   TargetSource
	calendars ScheduleSource
	jobs      *jobs.Runner
	node      string
	log       *slog.Logger
}

// Tuning of the background work.
const (
	// refreshBatch is how many audit entries one Refresh transaction takes.
	refreshBatch = 2000
	// sweepBatch is how many due clocks one Sweep transaction claims.
	sweepBatch = 200
	// refreshEvery and sweepEvery are the schedules' intervals.
	refreshEvery = 2 * time.Second
	sweepEvery   = 15 * time.Second
	// cursorName is the sla_cursor row of Refresh.
	cursorName = "refresh"
	// recomputeJob is the kind of the queued recompute.
	recomputeJob = "sla.recompute"
)

// New returns the tracker.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil || d.Targets == nil || d.Calendars == nil {
		return nil, fmt.Errorf("tracker: DB, Records, Trail, Events, Targets and Calendars are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	node := d.NodeID
	if node == "" && d.Jobs != nil {
		node = d.Jobs.NodeID()
	}
	if node == "" {
		host, _ := os.Hostname()
		node = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	return &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock, targets: d.Targets,
		calendars: d.Calendars, jobs: d.Jobs, node: node, log: d.Log.With("component", "sla")}, nil
}

// Register adds the tracker's background work to r: "sla.refresh" every 2 s
// (tail the audit trail), "sla.sweep" every 15 s (fire due thresholds) and the
// handler of the queued "sla.recompute" jobs.
func (s *Service) Register(r *jobs.Runner) {
	if s.jobs == nil {
		s.jobs = r
	}
	r.Every("sla.refresh", refreshEvery, func(ctx context.Context) error {
		for range 50 { // at most 100k entries per slot; the next slot goes on
			n, _, err := s.refreshOnce(ctx)
			if err != nil || n == 0 {
				return err
			}
		}
		return nil
	})
	r.Every("sla.sweep", sweepEvery, func(ctx context.Context) error {
		_, err := s.Sweep(ctx)
		return err
	})
	r.Handle(recomputeJob, func(ctx context.Context, j jobs.Job) error {
		var p recomputePayload
		if err := j.Decode(&p); err != nil {
			return jobs.Permanent(err)
		}
		return s.runRecompute(ctx, p)
	})
}

// recomputePayload is what a queued recompute covers.
type recomputePayload struct {
	AgreementID int64 `json:"agreementId,omitempty"`
	CalendarID  int64 `json:"calendarId,omitempty"`
	All         bool  `json:"all,omitempty"`
}

func (s *Service) runRecompute(ctx context.Context, p recomputePayload) error {
	var sc scope
	switch {
	case p.All:
	case p.AgreementID != 0:
		sc = scope{agreement: p.AgreementID}
	case p.CalendarID != 0:
		sc = scope{calendar: p.CalendarID}
	default:
		return nil
	}
	_, err := s.recompute(ctx, RecomputeOptions{}, sc)
	return err
}

// AgreementChanged queues a recompute of the clocks an agreement's change may
// move (called in the transaction that agreed, archived or revised it or
// replaced its targets). Changes within the same second share one job.
func (s *Service) AgreementChanged(ctx context.Context, tx *db.Tx, agreementID int64) error {
	return s.queue(ctx, tx, recomputePayload{AgreementID: agreementID}, fmt.Sprintf("agreement:%d", agreementID))
}

// CalendarChanged queues a recompute of the clocks kept on a calendar
// (calendar.Service.OnChange calls it in the calendar's update transaction).
func (s *Service) CalendarChanged(ctx context.Context, tx *db.Tx, calendarID int64) error {
	return s.queue(ctx, tx, recomputePayload{CalendarID: calendarID}, fmt.Sprintf("calendar:%d", calendarID))
}

// queue enqueues a recompute in tx, deduplicated per key and second and run a
// little later, so that a burst of changes is recomputed once after it has
// committed. Without a job runner the recompute runs once tx has committed.
func (s *Service) queue(ctx context.Context, tx *db.Tx, p recomputePayload, key string) error {
	if s.jobs == nil {
		actx := context.WithoutCancel(ctx)
		tx.OnCommit(func() {
			if err := s.runRecompute(actx, p); err != nil {
				s.log.Error("recompute after a change", "key", key, "err", err)
			}
		})
		return nil
	}
	now := s.clock.Now()
	sec := now.Unix()
	_, err := s.jobs.Enqueue(ctx, tx, recomputeJob, p, jobs.EnqueueOptions{
		RunAt:    time.Unix(sec+2, 0),
		DedupKey: fmt.Sprintf("%s:%s:%d", recomputeJob, key, sec),
	})
	return err
}

// marshal encodes v as JSON text for a TEXT column.
func marshal(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
