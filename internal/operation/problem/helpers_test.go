package problem_test

import (
	"context"
	"testing"
	"time"

	"steward/internal/operation/problem"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
)

// env is problem management over a fresh database, with the real RACI service
// holding the default Problem Management matrix (DESMF's generic template),
// and its people assigned to PM through raci.Service.Assign:
//
//	                 Owner  Manager  Developer  Analyst
//	PM2–PM6            I       A        I          R
//
// The analyst (R) and the manager (A) may take every step; the owner and the
// developer are only informed. The analyst is also an incident analyst, so
// that the test's incidents can be logged.
//
// The incident area is not imported: the env registers a minimal incident
// type of process IM (logged → resolved), whose records marked SECRET only an
// administrator sees, standing in for security incidents.
type env struct {
	t     testing.TB
	d     *db.DB
	k     *recordtest.Kernel
	clock *clock.Fixed
	raci  *raci.Service
	recs  *record.Service
	svc   *problem.Service
	auth  *auth.Service

	admin                                    *auth.Principal
	root, owner, manager, developer, analyst auth.User
	stranger                                 auth.User
	rt, o, m, dv, an, s                      context.Context
	ciClass                                  int64
}

const incidentType = "incident"

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	return newEnvWith(t, d, nil)
}

// newEnvWith is newEnv whose problem management checks categories against tax.
func newEnvWith(t testing.TB, d *db.DB, tax problem.Taxonomy) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, d: d, k: k, clock: k.Clock, auth: k.Auth, raci: k.RACI, recs: k.Records}
	var err error
	if err := e.recs.Register(record.Type{Name: incidentType, Label: "Incident", Prefix: "INC", Process: problem.IncidentProcess,
		Initial: "new", States: []record.State{{Name: "new", Label: "New"}, {Name: "resolved", Label: "Resolved", Terminal: true}},
		Transitions:    []record.Transition{{Action: "resolve", From: []string{"new"}, To: "resolved", Activity: "IM5", Label: "Resolve"}},
		CreateActivity: "IM2",
		Visible: func(_ context.Context, p *auth.Principal, r *record.Record) bool {
			return r.Marking != "SECRET" || (p != nil && p.Admin)
		}}); err != nil {
		t.Fatal(err)
	}
	if e.svc, err = problem.New(problem.Deps{DB: d, Records: e.recs, Trail: k.Trail, Events: k.Events, Clock: k.Clock,
		Taxonomy: tax}); err != nil {
		t.Fatal(err)
	}
	e.root, e.rt = e.user("root", true)
	e.admin = &auth.Principal{UserID: e.root.ID, Username: e.root.Username, Admin: true}
	e.owner, e.o = e.user("owner", false)
	e.manager, e.m = e.user("manager", false)
	e.developer, e.dv = e.user("developer", false)
	e.analyst, e.an = e.user("analyst", false)
	e.stranger, e.s = e.user("stranger", false)
	e.k.Assign(e.admin, []raci.RoleAssignment{
		{Subject: problem.Process, Role: raci.RoleProcessOwner, UserID: e.owner.ID},
		{Subject: problem.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: problem.Process, Role: "process-developer", UserID: e.developer.ID},
		{Subject: problem.Process, Role: "process-analyst", UserID: e.analyst.ID},
		{Subject: problem.IncidentProcess, Role: "process-analyst", UserID: e.analyst.ID},
	}...)
	return e
}

// user creates an account and returns it with a context acting as it.
func (e *env) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	return e.k.User(name, admin)
}

// ci creates a configuration item with plain SQL (the CMDB area is not
// imported) in status and returns its id; service makes it a service too.
func (e *env) ci(name, status string, service bool) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		if e.ciClass == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO ci_classes (name, label, created_at, updated_at)
				VALUES ('thing', 'Thing', 0, 0) RETURNING id`).Scan(&e.ciClass); err != nil {
				return err
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from)
			VALUES (?, ?, ?, 0, 0, 0) RETURNING id`, e.ciClass, name, status).Scan(&id); err != nil {
			return err
		}
		if service {
			_, err := tx.ExecContext(ctx, `INSERT INTO ci_services (ci_id, kind, criticality) VALUES (?, 'business', 'mission_essential')`, id)
			return err
		}
		return nil
	}); err != nil {
		e.t.Fatalf("create CI %s: %v", name, err)
	}
	return id
}

// incident logs an incident of the test's incident type as the analyst and returns its number.
func (e *env) incident(title, marking string) string {
	e.t.Helper()
	r, err := e.recs.Create(e.an, incidentType, record.NewRecord{Title: title, Marking: marking})
	if err != nil {
		e.t.Fatalf("log incident %q: %v", title, err)
	}
	return r.Number
}

// create logs a problem as the analyst (R for PM2).
func (e *env) create(in problem.NewProblem) problem.ProblemDetail {
	e.t.Helper()
	p, err := e.svc.Create(e.an, in)
	if err != nil {
		e.t.Fatalf("log problem %+v: %v", in, err)
	}
	return p
}

// step performs a problem's step at its current version.
func (e *env) step(ctx context.Context, number, action string, in problem.StepInput) (problem.ProblemStepResult, error) {
	r, err := e.recs.Get(ctx, number)
	if err != nil {
		return problem.ProblemStepResult{}, err
	}
	in.Version = r.Version
	return e.svc.Perform(ctx, number, action, in)
}

func (e *env) mustStep(ctx context.Context, number, action string, in problem.StepInput) problem.ProblemStepResult {
	e.t.Helper()
	res, err := e.step(ctx, number, action, in)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, number, err)
	}
	if res.Outcome != record.OutcomeApplied {
		e.t.Fatalf("%s %s: outcome %s", action, number, res.Outcome)
	}
	return res
}

// keStep performs a known error's step at its current version.
func (e *env) keStep(ctx context.Context, number, action string) (problem.ProblemStepResult, error) {
	r, err := e.recs.Get(ctx, number)
	if err != nil {
		return problem.ProblemStepResult{}, err
	}
	return e.svc.PerformKnownError(ctx, number, action, r.Version, "")
}

// get reads a problem.
func (e *env) get(number string) problem.ProblemDetail {
	e.t.Helper()
	p, err := e.svc.Problem(e.s, number)
	if err != nil {
		e.t.Fatalf("read %s: %v", number, err)
	}
	return p
}

// count counts rows with plain SQL.
func (e *env) count(query string, args ...any) int64 {
	e.t.Helper()
	return recordtest.Count(e.t, e.d, query, args...)
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

// fieldAt reports whether err is classified (Invalid or Conflict) and names loc.
func fieldAt(err error, loc string) bool { return recordtest.FieldAt(err, loc) }

func kindOf(err error) errs.Kind { return errs.KindOf(err) }

func ptr[T any](v T) *T { return recordtest.Ptr(v) }

// checkWordCounts fails unless the word counts of the KEDB match its words
// and its published known errors, as every write must keep them.
func (e *env) checkWordCounts() {
	e.t.Helper()
	if n, want := e.count(`SELECT COALESCE(MAX(n), 0) FROM known_error_word_counts WHERE word = ''`),
		e.count(`SELECT COUNT(*) FROM known_errors WHERE state = 'published'`); n != want {
		e.t.Fatalf("published count %d, want %d", n, want)
	}
	if n := e.count(`SELECT COUNT(*) FROM known_error_word_counts c WHERE c.word <> '' AND c.n <> (SELECT COUNT(*) FROM known_error_words w WHERE w.word = c.word)`); n != 0 {
		e.t.Fatalf("%d word counts are off", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM known_error_words w JOIN known_errors k ON k.record_id = w.record_id WHERE k.state = 'retired'`); n != 0 {
		e.t.Fatalf("%d words of retired known errors", n)
	}
}
