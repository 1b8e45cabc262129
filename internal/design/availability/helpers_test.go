package availability_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"steward/internal/design/availability"
	"steward/internal/operation/incident"
	"steward/internal/platform/auth"
	"steward/internal/platform/calendar"
	"steward/internal/platform/db"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record/recordtest"
)

// businessCalendar is the id the test's targets give the business calendar.
const businessCalendar = 2

// env is availability management over a fresh database with the real
// incident management beside it (the source of major incidents), the real
// RACI service holding DESMF's default matrices, and people assigned:
//
//	                 Manager  Analyst
//	AvM2–AvM6           A        R
//	IM2–IM6                      R
//
// The stranger holds no role. The e-mail service has an availability target
// of 99.5 % on the business calendar (a fixed target standing in for service
// level management); the VPN service has none, so it is measured 24×7.
type env struct {
	t   testing.TB
	d   *db.DB
	k   *recordtest.Kernel
	svc *availability.Service
	inc *incident.Service

	root, manager, analyst, stranger auth.User
	rt, m, an, s                     context.Context
	ciClass, mail, vpn, server       int64
}

// fixedTargets gives one service a fixed availability target.
type fixedTargets struct {
	serviceID int64
	target    availability.AgreedAvailability
}

func (f *fixedTargets) AvailabilityTarget(_ context.Context, serviceID int64) (availability.AgreedAvailability, bool, error) {
	if serviceID != f.serviceID {
		return availability.AgreedAvailability{}, false, nil
	}
	return f.target, true, nil
}

// schedules compiles the test's calendars by id.
type schedules map[int64]*calendar.Schedule

func (s schedules) Schedule(_ context.Context, id int64) (*calendar.Schedule, error) {
	if sc, ok := s[id]; ok {
		return sc, nil
	}
	return nil, fmt.Errorf("no calendar %d", id)
}

// majors adapts incident management to availability's seam, as the application does.
type majors struct{ inc *incident.Service }

func (m majors) MajorSpans(ctx context.Context, from, to int64) ([]availability.MajorSpan, error) {
	spans, err := m.inc.MajorSpans(ctx, from, to)
	if err != nil {
		return nil, err
	}
	out := make([]availability.MajorSpan, len(spans))
	for i, s := range spans {
		out[i] = availability.MajorSpan{Number: s.Number, ServiceID: s.ServiceID, CIID: s.CIID, Start: s.Start, End: s.End}
	}
	return out, nil
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, d: d, k: k}
	var err error
	if e.inc, err = incident.New(incident.Deps{DB: d, Records: k.Records, Trail: k.Trail, Events: k.Events, Clock: k.Clock, RACI: k.RACI}); err != nil {
		t.Fatal(err)
	}
	e.ciClass = e.exec(`INSERT INTO ci_classes (name, label, created_at, updated_at) VALUES ('thing', 'Thing', 0, 0) RETURNING id`)
	e.mail = e.service("E-mail")
	e.vpn = e.service("VPN")
	e.server = e.exec(`INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from) VALUES (?, 'mail01', 'active', 0, 0, 0)
		RETURNING id`, e.ciClass)
	targets := &fixedTargets{serviceID: e.mail, target: availability.AgreedAvailability{Percent: 99.5, Agreement: "AGR0000001", CalendarID: businessCalendar}}
	if e.svc, err = availability.New(availability.Deps{DB: d, Records: k.Records, Trail: k.Trail, Events: k.Events, Clock: k.Clock,
		Targets: targets, Calendars: schedules{businessCalendar: businessHours(t)}, Majors: majors{e.inc}}); err != nil {
		t.Fatal(err)
	}
	e.root, e.rt = k.User("root", true)
	e.manager, e.m = k.User("manager", false)
	e.analyst, e.an = k.User("analyst", false)
	e.stranger, e.s = k.User("stranger", false)
	k.Assign(auth.PrincipalFrom(e.rt), []raci.RoleAssignment{
		{Subject: availability.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: availability.Process, Role: "process-analyst", UserID: e.analyst.ID},
		{Subject: incident.Process, Role: "process-analyst", UserID: e.analyst.ID},
	}...)
	return e
}

// exec runs one statement that returns one id.
func (e *env) exec(q string, args ...any) int64 {
	e.t.Helper()
	var id int64
	ctx := context.Background()
	if err := e.d.InTx(ctx, func(tx *db.Tx) error { return tx.QueryRowContext(ctx, q, args...).Scan(&id) }); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
	return id
}

// service creates a CMDB service with plain SQL (the CMDB area is not imported).
func (e *env) service(name string) int64 {
	e.t.Helper()
	id := e.exec(`INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from) VALUES (?, ?, 'active', 0, 0, 0) RETURNING id`,
		e.ciClass, name)
	e.exec(`INSERT INTO ci_services (ci_id, kind, criticality) VALUES (?, 'business', 'mission_essential') RETURNING ci_id`, id)
	return id
}

// record records an outage of the e-mail service as the analyst.
func (e *env) record(o availability.Outage) availability.Outage {
	e.t.Helper()
	out, err := e.svc.RecordOutage(e.an, availability.OutageInput{ServiceID: e.mail, Kind: o.Kind, StartedAt: o.StartedAt,
		EndedAt: o.EndedAt, Description: "test outage"})
	if err != nil {
		e.t.Fatalf("record %+v: %v", o, err)
	}
	return out
}

// step performs an incident's step as ctx at its current version.
func (e *env) step(ctx context.Context, number, action string, f incident.StepFields) {
	e.t.Helper()
	inc, err := e.inc.Incident(e.rt, number)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.inc.Perform(ctx, number, action, incident.StepInput{Version: inc.Version, Fields: f}); err != nil {
		e.t.Fatalf("%s %s: %v", action, number, err)
	}
}

// listPage is the first page of a list, sorted by the default.
func listPage() listing.Params { return listing.Params{Limit: 50} }
