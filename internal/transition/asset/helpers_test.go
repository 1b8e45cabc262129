package asset_test

import (
	"context"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
	"steward/internal/transition/asset"
)

// env is asset management over a fresh database, with the real RACI service
// holding the default Asset Management matrix (DESMF's generic template), and
// its people assigned to AM through raci.Service.Assign:
//
//	                 Owner  Manager  Developer  Analyst
//	AM2–AM6            I       A        I          R
//
// The analyst (R) and the manager (A) may take every step; the owner and the
// developer are only informed.
type env struct {
	t     testing.TB
	d     *db.DB
	k     *recordtest.Kernel
	clock *clock.Fixed
	raci  *raci.Service
	recs  *record.Service
	svc   *asset.Service
	auth  *auth.Service

	admin                                        *auth.Principal
	owner, manager, developer, analyst, stranger auth.User
	o, m, dv, an, s                              context.Context
	ciClass                                      int64
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	return newEnvWithBanner(t, d, func(context.Context) (string, error) { return "CUI", nil })
}

// newEnvWithBanner is newEnv whose exports read their classification from banner.
func newEnvWithBanner(t testing.TB, d *db.DB, banner func(context.Context) (string, error)) *env {
	t.Helper()
	k := recordtest.NewKernel(t, d, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	e := &env{t: t, d: d, k: k, clock: k.Clock, auth: k.Auth, raci: k.RACI, recs: k.Records}
	var err error
	if e.svc, err = asset.New(asset.Deps{DB: d, Records: e.recs, Trail: k.Trail, Events: k.Events, Clock: k.Clock,
		Banner: banner}); err != nil {
		t.Fatal(err)
	}
	root, _ := e.user("root", true)
	e.admin = &auth.Principal{UserID: root.ID, Username: root.Username, Admin: true}
	e.owner, e.o = e.user("owner", false)
	e.manager, e.m = e.user("manager", false)
	e.developer, e.dv = e.user("developer", false)
	e.analyst, e.an = e.user("analyst", false)
	e.stranger, e.s = e.user("stranger", false)
	e.k.Assign(e.admin, []raci.RoleAssignment{
		{Subject: asset.Process, Role: raci.RoleProcessOwner, UserID: e.owner.ID},
		{Subject: asset.Process, Role: "process-manager", UserID: e.manager.ID},
		{Subject: asset.Process, Role: "process-developer", UserID: e.developer.ID},
		{Subject: asset.Process, Role: "process-analyst", UserID: e.analyst.ID},
	}...)
	return e
}

// user creates an account and returns it with a context acting as it.
func (e *env) user(name string, admin bool) (auth.User, context.Context) {
	e.t.Helper()
	return e.k.User(name, admin)
}

// ci creates a configuration item with plain SQL (the CMDB area is not imported) and returns its id.
func (e *env) ci(name string) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		if e.ciClass == 0 {
			if err := tx.QueryRowContext(ctx, `INSERT INTO ci_classes (name, label, created_at, updated_at)
				VALUES ('location', 'Location', 0, 0) RETURNING id`).Scan(&e.ciClass); err != nil {
				return err
			}
		}
		return tx.QueryRowContext(ctx, `INSERT INTO cis (class_id, name, status, created_at, updated_at, valid_from)
			VALUES (?, ?, 'active', 0, 0, 0) RETURNING id`, e.ciClass, name).Scan(&id)
	}); err != nil {
		e.t.Fatalf("create CI %s: %v", name, err)
	}
	return id
}

// create records an asset as the analyst (R for AM2).
func (e *env) create(in asset.NewAsset) asset.Asset {
	e.t.Helper()
	a, err := e.svc.Create(e.an, in)
	if err != nil {
		e.t.Fatalf("create asset %+v: %v", in, err)
	}
	return a
}

// laptop is a hardware asset with a tag.
func laptop(tag string) asset.NewAsset {
	return asset.NewAsset{Details: asset.Details{Kind: asset.Hardware, AssetTag: tag, SerialNumber: "SN-" + tag,
		Manufacturer: "Dell", Model: "Latitude 7440", CostMinor: 180000}}
}

// perform performs a workflow action through the record kernel, at the record's current version.
func (e *env) perform(ctx context.Context, number, action string) (record.Result, error) {
	r, err := e.recs.Get(ctx, number)
	if err != nil {
		return record.Result{}, err
	}
	return e.recs.Perform(ctx, number, action, record.PerformInput{Version: r.Version})
}

func (e *env) mustPerform(ctx context.Context, number, action string, want record.Outcome) record.Result {
	e.t.Helper()
	res, err := e.perform(ctx, number, action)
	if err != nil {
		e.t.Fatalf("%s %s: %v", action, number, err)
	}
	if res.Outcome != want {
		e.t.Fatalf("%s %s: outcome %s, want %s", action, number, res.Outcome, want)
	}
	return res
}

// walk performs actions in order, as ctx, each applying at once.
func (e *env) walk(ctx context.Context, number string, actions ...string) {
	e.t.Helper()
	for _, a := range actions {
		e.mustPerform(ctx, number, a, record.OutcomeApplied)
	}
}

// get reads an asset.
func (e *env) get(number string) asset.Asset {
	e.t.Helper()
	a, err := e.svc.Asset(e.an, number)
	if err != nil {
		e.t.Fatalf("read %s: %v", number, err)
	}
	return a
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

func ptr[T any](v T) *T { return recordtest.Ptr(v) }

func listingParams(limit int) listing.Params { return listing.Params{Limit: limit} }
