package calendar

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// The service level management activity that establishes calendars: changing
// one needs R or A for it (administrators pass as an audited override).
const (
	Process      = "SLM"
	ActEstablish = "SLM1"
)

// The seeded calendars.
const (
	RoundTheClockID int64 = 1
	BusinessID      int64 = 2
)

// freshFor is how long a cached schedule is used before its version is read again.
const freshFor = time.Second

// Deps are what the calendar service needs.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel, whose RACI guard decides who may change calendars.
	Records *record.Service
	// Trail audits every change.
	Trail *audit.Trail
	// Events announces it, in the same transaction.
	Events *outbox.Outbox
	Clock  clock.Clock
}

// Service keeps business calendars and hands out their compiled schedules.
type Service struct {
	db      *db.DB
	records *record.Service
	trail   *audit.Trail
	events  *outbox.Outbox
	clock   clock.Clock

	fresh    time.Duration // how long a cached schedule is used before its version is read again
	mu       sync.Mutex
	cache    map[int64]*cachedSchedule
	onChange []func(ctx context.Context, tx *db.Tx, calendarID int64) error
}

// cachedSchedule is a compiled calendar at a version, last confirmed current at checked.
type cachedSchedule struct {
	version int64
	sched   *Schedule
	checked time.Time
}

// New returns the calendar service over d.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil {
		return nil, fmt.Errorf("calendar: DB, Records, Trail and Events are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	return &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock,
		fresh: freshFor, cache: map[int64]*cachedSchedule{}}, nil
}

// OnChange adds fn to what Update calls inside its transaction once the
// calendar is saved, so that dependants (the SLA tracker) queue their work
// with it. An error from fn rolls the update back.
func (s *Service) OnChange(fn func(ctx context.Context, tx *db.Tx, calendarID int64) error) {
	s.mu.Lock()
	s.onChange = append(s.onChange, fn)
	s.mu.Unlock()
}

func principal(ctx context.Context) (*auth.Principal, error) {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "sign in to use business calendars")
	}
	return p, nil
}

// List returns every calendar by name.
func (s *Service) List(ctx context.Context) ([]Calendar, error) {
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	return listCalendars(ctx, s.db)
}

// Get returns one calendar.
func (s *Service) Get(ctx context.Context, id int64) (Calendar, error) {
	if _, err := principal(ctx); err != nil {
		return Calendar{}, err
	}
	return loadCalendar(ctx, s.db, id, "")
}

// normalize trims the texts and sorts the holidays by date (after validation, which names them by input position).
func normalize(c *Calendar) {
	c.Name, c.Description, c.TimeZone = strings.TrimSpace(c.Name), strings.TrimSpace(c.Description), strings.TrimSpace(c.TimeZone)
	if c.Windows == nil {
		c.Windows = []Window{}
	}
	if c.Holidays == nil {
		c.Holidays = []Holiday{}
	}
	for i := range c.Holidays {
		c.Holidays[i].Name = strings.TrimSpace(c.Holidays[i].Name)
	}
}

func sortHolidays(c *Calendar) {
	slices.SortStableFunc(c.Holidays, func(a, b Holiday) int { return strings.Compare(a.Date, b.Date) })
}

var audited = []string{"name", "description", "timeZone", "windows", "holidays"}

func fields(c Calendar) map[string]any {
	return map[string]any{"name": c.Name, "description": c.Description, "timeZone": c.TimeZone, "windows": c.Windows,
		"holidays": c.Holidays}
}

func objectID(id int64) string { return strconv.FormatInt(id, 10) }

// authorize asks the SLM RACI whether the caller may establish calendars (SLM1).
func (s *Service) authorize(ctx context.Context, verb, object string) error {
	_, err := s.records.Authorize(ctx, Process, ActEstablish, verb, object, raci.Scope{})
	return err
}

// Create adds a calendar (SLM1). A calendar that does not validate is 422
// naming the field; a name in use is 409.
func (s *Service) Create(ctx context.Context, c Calendar) (out Calendar, err error) {
	defer errs.Wrap(&err, "create calendar")
	if _, err := principal(ctx); err != nil {
		return out, err
	}
	normalize(&c)
	if err := c.Validate(); err != nil {
		return out, err
	}
	sortHolidays(&c)
	if err := s.authorize(ctx, "create", "calendar/new"); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if out, err = insertCalendar(ctx, tx, c, s.clock.Now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "calendar.create", ObjectType: "calendar", ObjectID: objectID(out.ID),
			Changes: audit.Diff(audited, map[string]any{}, fields(out))})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "calendar.created", Subject: "calendar/" + objectID(out.ID), Data: out})
	})
	return out, err
}

// Update replaces a calendar's fields (SLM1) if it is still at version
// (412 otherwise), and calls the OnChange hooks in the same transaction.
func (s *Service) Update(ctx context.Context, id, version int64, c Calendar) (out Calendar, err error) {
	defer errs.Wrap(&err, "update calendar %d", id)
	if _, err := principal(ctx); err != nil {
		return out, err
	}
	normalize(&c)
	if err := c.Validate(); err != nil {
		return out, err
	}
	sortHolidays(&c)
	if err := s.authorize(ctx, "change", "calendar/"+objectID(id)); err != nil {
		return out, err
	}
	s.mu.Lock()
	hooks := slices.Clone(s.onChange)
	s.mu.Unlock()
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadCalendar(ctx, tx, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if cur.Version != version {
			return errs.E(errs.PreconditionFailed, "calendar %d changed since version %d (now %d); read it again", id, version, cur.Version)
		}
		n := cur
		n.Name, n.Description, n.TimeZone, n.Windows, n.Holidays = c.Name, c.Description, c.TimeZone, c.Windows, c.Holidays
		changes := audit.Diff(audited, fields(cur), fields(n))
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if out, err = saveCalendar(ctx, tx, n, version, s.clock.Now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "calendar.update", ObjectType: "calendar", ObjectID: objectID(id), Changes: changes})
		if err := s.events.Emit(ctx, tx, outbox.Event{Type: "calendar.updated", Subject: "calendar/" + objectID(id), Data: out}); err != nil {
			return err
		}
		for _, fn := range hooks {
			if err := fn(ctx, tx, id); err != nil {
				return fmt.Errorf("after calendar %d changed: %w", id, err)
			}
		}
		tx.OnCommit(func() { s.forget(id) })
		return nil
	})
	return out, err
}

// Delete removes a calendar (SLM1) if it is still at version and no agreement
// uses it (409). The seeded 24x7 calendar stays: agreements fall back to it.
func (s *Service) Delete(ctx context.Context, id, version int64) (err error) {
	defer errs.Wrap(&err, "delete calendar %d", id)
	if _, err := principal(ctx); err != nil {
		return err
	}
	if err := s.authorize(ctx, "delete", "calendar/"+objectID(id)); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadCalendar(ctx, tx, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if cur.Version != version {
			return errs.E(errs.PreconditionFailed, "calendar %d changed since version %d (now %d); read it again", id, version, cur.Version)
		}
		if id == RoundTheClockID {
			return errs.E(errs.Conflict, "the 24x7 calendar is built in and cannot be deleted")
		}
		if err := deleteCalendar(ctx, tx, cur); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "calendar.delete", ObjectType: "calendar", ObjectID: objectID(id),
			Changes: audit.Diff(audited, fields(cur), map[string]any{})})
		tx.OnCommit(func() { s.forget(id) })
		return s.events.Emit(ctx, tx, outbox.Event{Type: "calendar.deleted", Subject: "calendar/" + objectID(id), Data: cur})
	})
}

// forget drops a cached schedule.
func (s *Service) forget(id int64) {
	s.mu.Lock()
	delete(s.cache, id)
	s.mu.Unlock()
}

// Schedule returns the compiled schedule of a calendar, for system use (no
// caller is needed). Schedules are cached per node by (id, version); the
// version is read again at most once a second, and a change saved on this
// node drops the entry at once.
func (s *Service) Schedule(ctx context.Context, id int64) (*Schedule, error) {
	s.mu.Lock()
	e := s.cache[id]
	s.mu.Unlock()
	if e != nil && time.Since(e.checked) < s.fresh {
		return e.sched, nil
	}
	if e != nil {
		v, err := calendarVersion(ctx, s.db, id)
		if err != nil {
			if errs.Is(err, errs.NotFound) {
				s.forget(id)
			}
			return nil, err
		}
		if v == e.version {
			s.mu.Lock()
			s.cache[id] = &cachedSchedule{version: v, sched: e.sched, checked: time.Now()}
			s.mu.Unlock()
			return e.sched, nil
		}
	}
	c, err := loadCalendar(ctx, s.db, id, "")
	if err != nil {
		return nil, err
	}
	sched, err := c.Compile()
	if err != nil {
		return nil, fmt.Errorf("compile calendar %d: %w", id, err)
	}
	s.mu.Lock()
	s.cache[id] = &cachedSchedule{version: c.Version, sched: sched, checked: time.Now()}
	s.mu.Unlock()
	return sched, nil
}

// Preview validates an unsaved calendar and lays out the week holding weekStart.
func (s *Service) Preview(c Calendar, weekStart time.Time) (WeekPreview, error) {
	normalize(&c)
	return PreviewWeek(c, weekStart)
}

// PreviewSaved lays out the week holding weekStart of a saved calendar.
func (s *Service) PreviewSaved(ctx context.Context, id int64, weekStart time.Time) (WeekPreview, error) {
	if _, err := principal(ctx); err != nil {
		return WeekPreview{}, err
	}
	sched, err := s.Schedule(ctx, id)
	if err != nil {
		return WeekPreview{}, err
	}
	return sched.Week(weekStart), nil
}

// Now is the service clock's time, for defaults such as this week's preview.
func (s *Service) Now() time.Time { return s.clock.Now() }
