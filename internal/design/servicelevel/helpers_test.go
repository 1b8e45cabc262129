package servicelevel_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
)

// env is service level management over a fresh database, with the real RACI
// service holding DESMF's default SLM matrix and its people assigned to SLM:
//
//	                 Owner  Manager  Developer  Analyst
//	SLM2–SLM8          I       A        I          R
//
// The analyst (R) and the manager (A) may take every step; the developer is
// only informed.
type env struct {
	t     testing.TB
	d     *db.DB
	k     *recordtest.Kernel
	clock *clock.Fixed
	recs  *record.Service
	svc   *servicelevel.Service
	auth  *auth.Service
	rc    *recorder

	admin                             *auth.Principal
	root, manager, developer, analyst auth.User
	stranger                          auth.User
	rt, m, dv, an, s                  context.Context
	ciClass                           int64
	clockRecords                      int
}

// recorder is a Recomputer that remembers the agreements it was told about.
type recorder struct {
	mu  sync.Mutex
	ids []int64
}

func (r *recorder) AgreementChanged(_ context.Context, _ *db.Tx, id int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids = append(r.ids, id)
	return nil
}

func (r *recorder) told() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.ids...)
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, d: d, k: k, clock: k.Clock, auth: k.Auth, recs: k.Records, rc: &recorder{}}
	var err error
	if e.svc, err = servicelevel.New(servicelevel.Deps{DB: d, Records: e.recs, Trail: k.Trail, Events: k.Events, Clock: k.Clock,
		RACI: k.RACI}); err != nil {
		t.Fatal(err)
	}
	e.svc.SetRecomputer(e.rc)
	e.root, e.rt = k.User("root", true)
	e.admin = &auth.Principal{UserID: e.root.ID, Username: e.root.Username, Admin: true}
	e.manager, e.m = k.User("manager", false)
	e.developer, e.dv = k.User("developer", false)
	e.analyst, e.an = k.User("analyst", false)
	e.stranger, e.s = k.User("stranger", false)
	k.Assign(e.admin, []raci.RoleAssignment{
		{Subject: servicelevel.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: servicelevel.Process, Role: "process-developer", UserID: e.developer.ID},
		{Subject: servicelevel.Process, Role: "process-analyst", UserID: e.analyst.ID},
	}...)
	return e
}

// service creates a CMDB service with plain SQL (the CMDB area is not imported) and returns its id.
func (e *env) service(name string) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		if e.ciClass == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO ci_classes (name, label, created_at, updated_at)
				VALUES ('service', 'Service', 0, 0) RETURNING id`).Scan(&e.ciClass); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from)
			VALUES (?, ?, 'active', 0, 0, 0) RETURNING id`, e.ciClass, name).Scan(&id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO ci_services (ci_id, kind, criticality) VALUES (?, 'business', 'mission_critical')`, id)
		return err
	}); err != nil {
		e.t.Fatalf("create service %s: %v", name, err)
	}
	return id
}

// team creates a team with plain SQL and returns its id.
func (e *env) team(name string) int64 {
	e.t.Helper()
	var id int64
	ctx := context.Background()
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES (?, 0, 0) RETURNING id`, name).Scan(&id)
	}); err != nil {
		e.t.Fatalf("create team %s: %v", name, err)
	}
	return id
}

// draft drafts an agreement as the analyst on the 24x7 calendar.
func (e *env) draft(kind servicelevel.Kind, title string, services ...int64) servicelevel.AgreementDetail {
	e.t.Helper()
	a, err := e.svc.CreateAgreement(e.an, servicelevel.NewAgreement{Kind: kind, Title: title, Services: services,
		AgreementDetails: servicelevel.AgreementDetails{CalendarID: 1, Customer: "Mission partner", StartsOn: "2026-01-01"}})
	if err != nil {
		e.t.Fatalf("draft %s %q: %v", kind, title, err)
	}
	return a
}

// version reads a record's version.
func (e *env) version(number string) int64 {
	e.t.Helper()
	r, err := e.recs.Get(e.rt, number)
	if err != nil {
		e.t.Fatal(err)
	}
	return r.Version
}

// step performs a step at the record's current version.
func (e *env) step(ctx context.Context, typeName, number, action string) (servicelevel.StepResult, error) {
	r, err := e.recs.Get(ctx, number)
	if err != nil {
		return servicelevel.StepResult{}, err
	}
	return e.svc.Perform(ctx, typeName, number, action, servicelevel.StepInput{Version: r.Version})
}

func (e *env) mustStep(ctx context.Context, typeName, number, action string) servicelevel.StepResult {
	e.t.Helper()
	res, err := e.step(ctx, typeName, number, action)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, number, err)
	}
	if res.Outcome != record.OutcomeApplied {
		e.t.Fatalf("%s %s: outcome %s", action, number, res.Outcome)
	}
	return res
}

// agree takes an agreement from draft to agreed as the analyst and the manager.
func (e *env) agree(number string) {
	e.t.Helper()
	e.mustStep(e.an, servicelevel.AgreementType, number, "negotiate")
	e.mustStep(e.m, servicelevel.AgreementType, number, "agree")
}

// clockRow is a tracker clock to insert directly.
type clockRow struct {
	agreement, target, service int64
	priority                   int
	status                     string
	started                    time.Time
}

// insertClocks writes clocks into the tracker's table, each on a record of its own, in one transaction.
func (e *env) insertClocks(rows []clockRow) {
	e.t.Helper()
	ctx := context.Background()
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		for _, c := range rows {
			e.clockRecords++
			var rid int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO records (type, number, title, state, created_at, updated_at)
				VALUES ('incident', ?, 'measured', 'new', 0, 0) RETURNING id`, fmt.Sprintf("TCK%07d", e.clockRecords)).Scan(&rid); err != nil {
				return err
			}
			at := c.started.UnixMilli()
			period := int64(c.started.UTC().Year()*100 + int(c.started.UTC().Month()))
			if _, err := tx.ExecContext(ctx, `INSERT INTO sla_clocks (record_id, target_id, agreement_id, kind, record_type, service_id,
				priority, status, started_at, target_ms, period, computed_at) VALUES (?, ?, ?, 'resolution', 'incident', ?, ?, ?, ?, 3600000, ?, ?)`,
				rid, c.target, c.agreement, c.service, c.priority, c.status, at, period, at); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		e.t.Fatalf("insert clocks: %v", err)
	}
}

// fieldAt reports whether err is classified (Invalid or Conflict) and names loc.
func fieldAt(err error, loc string) bool { return recordtest.FieldAt(err, loc) }

func kindOf(err error) errs.Kind { return errs.KindOf(err) }

func ptr[T any](v T) *T { return recordtest.Ptr(v) }

func (e *env) count(query string, args ...any) int64 {
	e.t.Helper()
	return recordtest.Count(e.t, e.d, query, args...)
}

// hours is a duration in ms.
func hours(h float64) int64 { return int64(h * float64(time.Hour/time.Millisecond)) }
