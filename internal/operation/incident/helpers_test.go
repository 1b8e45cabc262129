package incident_test

import (
	"context"
	"testing"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
)

// env is incident management over a fresh database, with the real RACI
// service holding DESMF's default Incident Management matrix (the generic
// template) and people assigned to IM through raci.Service.Assign:
//
//	                 Owner  Manager  Analyst
//	IM1 (settings)     A       R
//	IM2–IM6            I       A        R
//
// caller and stranger hold no role; security holds a role in ISM.
type env struct {
	t     testing.TB
	d     *db.DB
	k     *recordtest.Kernel
	clock *clock.Fixed
	raci  *raci.Service
	recs  *record.Service
	svc   *incident.Service
	auth  *auth.Service

	admin                                                   *auth.Principal
	root, owner, manager, analyst, caller, stranger, secops auth.User
	rt, o, m, an, c, s, sec                                 context.Context
	team                                                    int64
	ciClass                                                 int64
	service, server, disposed                               int64
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, d: d, k: k, clock: k.Clock, auth: k.Auth, raci: k.RACI, recs: k.Records}
	var err error
	if e.svc, err = incident.New(incident.Deps{DB: d, Records: e.recs, Trail: k.Trail, Events: k.Events, Clock: k.Clock, RACI: e.raci}); err != nil {
		t.Fatal(err)
	}
	e.root, e.rt = e.user("root", true)
	e.admin = auth.PrincipalFrom(e.rt)
	e.owner, e.o = e.user("owner", false)
	e.manager, e.m = e.user("manager", false)
	e.analyst, e.an = e.user("analyst", false)
	e.caller, e.c = e.user("caller", false)
	e.stranger, e.s = e.user("stranger", false)
	e.secops, e.sec = e.user("secops", false)
	e.k.Assign(e.admin, []raci.RoleAssignment{
		{Subject: incident.Process, Role: raci.RoleProcessOwner, UserID: e.owner.ID},
		{Subject: incident.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: incident.Process, Role: "process-analyst", UserID: e.analyst.ID},
		{Subject: incident.SecurityProcess, Role: "process-analyst", UserID: e.secops.ID},
	}...)
	e.team = e.exec(`INSERT INTO teams (name, created_at, updated_at) VALUES ('Service desk', 0, 0) RETURNING id`)
	e.exec(`INSERT INTO team_members (team_id, user_id) VALUES (?, ?) RETURNING team_id`, e.team, e.analyst.ID)
	e.exec(`INSERT INTO team_members (team_id, user_id) VALUES (?, ?) RETURNING team_id`, e.team, e.manager.ID)
	e.ciClass = e.exec(`INSERT INTO ci_classes (name, label, created_at, updated_at) VALUES ('thing', 'Thing', 0, 0) RETURNING id`)
	e.service = e.ci("E-mail", "active")
	e.exec(`INSERT INTO ci_services (ci_id, kind, criticality) VALUES (?, 'business', 'mission_essential') RETURNING ci_id`, e.service)
	e.server = e.ci("mail01", "active")
	e.disposed = e.ci("old01", "disposed")
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

// user creates an account and returns it with a context acting as it.
func (e *env) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	return e.k.User(name, admin)
}

// ci creates a configuration item with plain SQL (the CMDB area is not imported).
func (e *env) ci(name, status string) int64 {
	e.t.Helper()
	return e.exec(`INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from) VALUES (?, ?, ?, 0, 0, 0) RETURNING id`,
		e.ciClass, name, status)
}

// log logs an incident as ctx.
func (e *env) log(ctx context.Context, in incident.NewIncident) incident.Incident {
	e.t.Helper()
	if in.Title == "" {
		in.Title = "Mail does not arrive"
	}
	if in.Category == "" {
		in.Category = "software"
	}
	if in.Impact == 0 {
		in.Impact = 2
	}
	if in.Urgency == 0 {
		in.Urgency = 2
	}
	inc, err := e.svc.Create(ctx, in)
	if err != nil {
		e.t.Fatalf("log %+v: %v", in, err)
	}
	return inc
}

// get reads an incident as ctx.
func (e *env) get(ctx context.Context, number string) incident.Incident {
	e.t.Helper()
	inc, err := e.svc.Incident(ctx, number)
	if err != nil {
		e.t.Fatalf("read %s: %v", number, err)
	}
	return inc
}

// step performs an action as ctx at the incident's current version.
func (e *env) step(ctx context.Context, number, action string, f incident.StepFields) (incident.IncidentStepResult, error) {
	inc, err := e.svc.Incident(e.rt, number)
	if err != nil {
		return incident.IncidentStepResult{}, err
	}
	return e.svc.Perform(ctx, number, action, incident.StepInput{Version: inc.Version, Fields: f})
}

// must performs an action that applies at once and returns the incident after it.
func (e *env) must(ctx context.Context, number, action string, f incident.StepFields) incident.Incident {
	e.t.Helper()
	res, err := e.step(ctx, number, action, f)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, number, err)
	}
	if res.Outcome != record.OutcomeApplied {
		e.t.Fatalf("%s %s: outcome %s", action, number, res.Outcome)
	}
	return res.Incident
}

func resolution(code string) incident.StepFields {
	return incident.StepFields{ResolutionCode: code, ResolutionNotes: "Restarted the mail transfer agent.", EffortMinutes: 25}
}

// event is one outbox row.
type event = recordtest.Event

func (e *env) events(typ string) []event {
	e.t.Helper()
	return recordtest.Events(e.t, e.d, typ)
}

func (e *env) audits(action string) []audit.Item {
	e.t.Helper()
	return recordtest.Audits(e.t, e.d, action)
}

// fieldAt reports whether err is Invalid (or a Conflict) naming loc.
func fieldAt(err error, loc string) bool { return recordtest.FieldAt(err, loc) }

func kind(err error) errs.Kind { return errs.KindOf(err) }

func ptr[T any](v T) *T { return recordtest.Ptr(v) }
