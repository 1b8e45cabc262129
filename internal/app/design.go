package app

// Service Design wiring: business calendars, service level management
// (agreements, reports, reviews, improvement plans), the SLA clocks that run
// on every record, and availability management, with the seams between them.
// Areas do not import each other; the adapters below translate one area's seam
// into another's use case.

import (
	"context"

	"steward/internal/design/availability"
	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/operation/incident"
	"steward/internal/platform/calendar"
	"steward/internal/platform/clock"
)

// wireDesign builds the Service Design areas over a's kernel and joins their seams.
func (a *App) wireDesign(c clock.Clock) {
	a.Calendars = must(calendar.New(calendar.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox, Clock: c}))
	a.Levels = must(servicelevel.New(servicelevel.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox, Clock: c,
		RACI: a.RACI}))
	a.Clocks = must(tracker.New(tracker.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox, Clock: c,
		Targets: a.Levels, Calendars: tracker.ScheduleFunc[*calendar.Schedule](a.Calendars.Schedule)}))
	a.Levels.SetRecomputer(a.Clocks)
	a.Calendars.OnChange(a.Clocks.CalendarChanged)
	a.Availability = must(availability.New(availability.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox,
		Clock: c, Targets: agreedAvailability{a.Levels}, Calendars: a.Calendars, Majors: majorIncidents{a.Incidents}}))
}

// must panics when a service cannot be built: that is a programming error in
// the wiring (a record type registered twice, say), never a run-time condition.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// agreedAvailability gives availability management a service's agreed availability (SLM → AvM).
type agreedAvailability struct{ l *servicelevel.Service }

func (t agreedAvailability) AvailabilityTarget(ctx context.Context, serviceID int64) (availability.AgreedAvailability, bool, error) {
	at, ok, err := t.l.AvailabilityTarget(ctx, serviceID)
	if err != nil || !ok {
		return availability.AgreedAvailability{}, ok, err
	}
	return availability.AgreedAvailability{Percent: at.Percent, Agreement: at.AgreementNumber, CalendarID: at.CalendarID}, true, nil
}

// majorIncidents lists major incidents as outages for availability management (IM → AvM).
type majorIncidents struct{ i *incident.Service }

func (m majorIncidents) MajorSpans(ctx context.Context, from, to int64) ([]availability.MajorSpan, error) {
	spans, err := m.i.MajorSpans(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]availability.MajorSpan, len(spans))
	for i, s := range spans {
		out[i] = availability.MajorSpan{Number: s.Number, ServiceID: s.ServiceID, CIID: s.CIID, Start: s.Start, End: s.End}
	}
	return out, nil
}
