package request_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"steward/internal/operation/request"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
)

// env is request fulfilment over a fresh database, with the real RACI service
// holding the default Request Fulfilment matrix (DESMF's generic template) and
// its people assigned to RF through raci.Service.Assign:
//
//	                    Owner  Manager  Analyst
//	RF1 (catalog)         A       R        C
//	RF2–RF4               I       A        R
//
// The catalog manager ("manager") is the RF process manager; "agent" is an RF
// analyst everywhere; "ana" and "ben" are RF analysts only for their teams'
// records (desk and network). "ria" requests; her manager is "max"; the
// approvers team "cab" has "gil" and "gus"; "olga" owns the service.
type env struct {
	t     testing.TB
	d     *db.DB
	k     *recordtest.Kernel
	clock *clock.Fixed
	raci  *raci.Service
	recs  *record.Service
	svc   *request.Service
	auth  *auth.Service

	admin                                    *auth.Principal
	rfOwner, manager, agent, ana, ben        auth.User
	ria, max, gil, gus, olga, stranger       auth.User
	own, mgr, ag, an, bn, rc, mx, gl, gs, ol context.Context
	st                                       context.Context
	desk, network, cab                       int64
	service, laptop                          int64
	ciClass                                  int64
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, d: d, k: k, clock: k.Clock, auth: k.Auth, raci: k.RACI, recs: k.Records}
	var err error
	if e.svc, err = request.New(request.Deps{DB: d, Records: e.recs, Trail: k.Trail, Events: k.Events, Clock: k.Clock, RACI: e.raci,
		Auth: e.auth}); err != nil {
		t.Fatal(err)
	}
	root, _ := e.user("root", true)
	e.admin = &auth.Principal{UserID: root.ID, Username: root.Username, Admin: true}
	e.rfOwner, e.own = e.user("owner", false)
	e.manager, e.mgr = e.user("manager", false)
	e.agent, e.ag = e.user("agent", false)
	e.ana, e.an = e.user("ana", false)
	e.ben, e.bn = e.user("ben", false)
	e.max, e.mx = e.user("max", false)
	e.ria, e.rc = e.user("ria", false)
	e.gil, e.gl = e.user("gil", false)
	e.gus, e.gs = e.user("gus", false)
	e.olga, e.ol = e.user("olga", false)
	e.stranger, e.st = e.user("stranger", false)
	if _, err := d.ExecContext(context.Background(), `UPDATE users SET manager_id = ? WHERE id = ?`, e.max.ID, e.ria.ID); err != nil {
		t.Fatal(err)
	}
	e.desk = e.team("desk", e.ana)
	e.network = e.team("network", e.ben)
	e.cab = e.team("cab", e.gil, e.gus)
	e.k.Assign(e.admin, []raci.RoleAssignment{
		{Subject: request.Process, Role: raci.RoleProcessOwner, UserID: e.rfOwner.ID},
		{Subject: request.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: request.Process, Role: "process-analyst", UserID: e.agent.ID},
		{Subject: request.Process, Role: "process-analyst", UserID: e.ana.ID, Scope: raci.Scope{TeamID: e.desk}},
		{Subject: request.Process, Role: "process-analyst", UserID: e.ben.ID, Scope: raci.Scope{TeamID: e.network}},
	}...)
	e.service = e.serviceCI("Workplace")
	ctx := auth.WithPrincipal(context.Background(), e.admin)
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		_, err := e.raci.SetServiceHolder(ctx, tx, e.admin, raci.RoleServiceOwner, e.service, e.olga.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.laptop = e.ci("LAPTOP-0042", "active")
	return e
}

// user creates an account and returns it with a context acting as it.
func (e *env) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	return e.k.User(name, admin)
}

// team creates a team with members.
func (e *env) team(name string, members ...auth.User) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES (?, 0, 0) RETURNING id`, name).Scan(&id); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id) VALUES (?, ?)`, id, m.ID); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		e.t.Fatalf("create team %s: %v", name, err)
	}
	return id
}

// ci creates a configuration item with plain SQL (the CMDB area is not imported) and returns its id.
func (e *env) ci(name, status string) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		if e.ciClass == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO ci_classes (name, label, created_at, updated_at)
				VALUES ('rq_thing', 'Thing', 0, 0) RETURNING id`).Scan(&e.ciClass); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from)
			VALUES (?, ?, ?, 0, 0, 0) RETURNING id`, e.ciClass, name, status).Scan(&id)
	}); err != nil {
		e.t.Fatalf("create CI %s: %v", name, err)
	}
	return id
}

// serviceCI creates a CMDB service: a CI with a row in ci_services.
func (e *env) serviceCI(name string) int64 {
	e.t.Helper()
	id := e.ci(name, "active")
	if _, err := e.d.ExecContext(context.Background(), `INSERT INTO ci_services (ci_id, kind, criticality)
		VALUES (?, 'business', 'administrative')`, id); err != nil {
		e.t.Fatal(err)
	}
	return id
}

func ptr[T any](v T) *T { return recordtest.Ptr(v) }

// laptopItem is the catalog item of the scenario: a form, two approval levels
// (the requester's manager, then the cab team) and three tasks, two in
// parallel in stage 1 (desk and network) and one in stage 2 (desk).
func (e *env) laptopItem() request.CatalogItem {
	return request.CatalogItem{Name: "New laptop", Description: "A standard laptop, imaged and enrolled.", Category: "hardware",
		ServiceID: e.service, Active: true, TargetHours: 40,
		Form: request.Form{
			Variables: []request.FormVariable{
				{Name: "model", Label: "Model", Type: request.Choice, Required: true, Choices: []string{"13-inch", "15-inch"}},
				{Name: "needed_by", Label: "Needed by", Type: request.Date, Required: true},
				{Name: "monitors", Label: "Extra monitors", Type: request.Number, Min: ptr(0.0), Max: ptr(2.0)},
				{Name: "for_user", Label: "For", Type: request.UserRef},
				{Name: "replaces", Label: "Replaces", Type: request.CIRef},
				{Name: "notes", Label: "Notes", Type: request.Text},
			},
			Approvals: []request.CatalogApproval{{Kind: request.ManagerApproval}, {Kind: request.GroupApproval, TeamID: e.cab}},
			Tasks: []request.CatalogTask{
				{Name: "Image the laptop", TeamID: e.desk, Stage: 1},
				{Name: "Open a network port", TeamID: e.network, Stage: 1},
				{Name: "Hand over the laptop", TeamID: e.desk, Stage: 2},
			},
		}}
}

// createItem adds an item to the catalog as the RF process manager (R for RF1).
func (e *env) createItem(it request.CatalogItem) request.CatalogItem {
	e.t.Helper()
	out, err := e.svc.CreateItem(e.mgr, it)
	if err != nil {
		e.t.Fatalf("create item %s: %v", it.Name, err)
	}
	return out
}

// goodValues are values that fit laptopItem's form.
func (e *env) goodValues() map[string]any {
	return map[string]any{"model": "13-inch", "needed_by": "2025-03-15", "monitors": 1.0, "for_user": float64(e.ria.ID),
		"replaces": float64(e.laptop), "notes": "docking station too"}
}

// submit submits a request for item as ctx.
func (e *env) submit(ctx context.Context, item int64, values map[string]any) request.Request {
	e.t.Helper()
	r, err := e.svc.Submit(ctx, request.NewRequest{CatalogItemID: item, Variables: values})
	if err != nil {
		e.t.Fatalf("submit: %v", err)
	}
	return r
}

// step performs a request's action as ctx at its current version.
func (e *env) step(ctx context.Context, number, action, reason string) (request.RequestStepResult, error) {
	r, err := e.recs.Get(ctx, number)
	if err != nil {
		return request.RequestStepResult{}, err
	}
	return e.svc.Perform(ctx, number, action, request.StepInput{Version: r.Version, Reason: reason})
}

func (e *env) mustStep(ctx context.Context, number, action, reason string) request.RequestStepResult {
	e.t.Helper()
	res, err := e.step(ctx, number, action, reason)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, number, err)
	}
	if res.Outcome != record.OutcomeApplied {
		e.t.Fatalf("%s %s: outcome %s", action, number, res.Outcome)
	}
	return res
}

// taskStep performs a task's action as ctx at its current version.
func (e *env) taskStep(ctx context.Context, number, action string) (request.RequestStepResult, error) {
	r, err := e.recs.Get(ctx, number)
	if err != nil {
		return request.RequestStepResult{}, err
	}
	return e.svc.PerformTask(ctx, number, action, request.StepInput{Version: r.Version})
}

func (e *env) mustTask(ctx context.Context, number string, actions ...string) request.RequestStepResult {
	e.t.Helper()
	var res request.RequestStepResult
	for _, a := range actions {
		var err error
		if res, err = e.taskStep(ctx, number, a); err != nil {
			e.t.Fatalf("%s %s: %v", a, number, err)
		}
	}
	return res
}

// get reads a request.
func (e *env) get(number string) request.Request {
	e.t.Helper()
	r, err := e.svc.Request(e.ag, number)
	if err != nil {
		e.t.Fatalf("read %s: %v", number, err)
	}
	return r
}

// pendingOf returns the id of the pending approval of the request's current level.
func pendingOf(t testing.TB, r request.Request) int64 {
	t.Helper()
	for _, l := range r.Approvals {
		for _, a := range l.Approvals {
			if a.State == request.ApprovalPending {
				return a.ID
			}
		}
	}
	t.Fatalf("%s has no pending approval: %+v", r.Number, r.Approvals)
	return 0
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

// fieldAt reports whether err is Invalid naming loc.
func fieldAt(err error, loc string) bool {
	e, ok := errs.As(err)
	return ok && e.Kind == errs.Invalid && slices.ContainsFunc(e.Fields, func(f errs.FieldError) bool { return f.Location == loc })
}

func wantKind(t testing.TB, err error, k errs.Kind, what string) {
	t.Helper()
	if got := errs.KindOf(err); err == nil || got != k {
		t.Fatalf("%s: err = %v (%v), want %v", what, err, got, k)
	}
}

// ids lists the numbers of float64 ids in an event's data.
func ids(v any) []int64 {
	var out []int64
	list, _ := v.([]any)
	for _, x := range list {
		if f, ok := x.(float64); ok {
			out = append(out, int64(f))
		}
	}
	return out
}
