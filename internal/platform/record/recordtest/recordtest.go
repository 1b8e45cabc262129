// Package recordtest is test support for areas built on the work-record
// kernel: the real kernel services over a test database (a fixed clock, the
// audit trail, the outbox, auth, RACI and records), people created directly
// and assigned process roles, and readers of the outbox and the audit trail.
// It is imported only by _test.go files.
package recordtest

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// Event is one outbox row.
type Event struct {
	Type    string
	Subject string
	Data    map[string]any
}

// Events reads the outbox events of type typ, oldest first.
func Events(t testing.TB, d *db.DB, typ string) []Event {
	t.Helper()
	rows, err := d.QueryContext(context.Background(), `SELECT type, subject, data FROM outbox_events WHERE type = ? ORDER BY id`, typ)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var data string
		if err := rows.Scan(&ev.Type, &ev.Subject, &data); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(data), &ev.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Audits reads the audit items of action (up to 500).
func Audits(t testing.TB, d *db.DB, action string) []audit.Item {
	t.Helper()
	items, _, err := audit.List(context.Background(), d, audit.Filter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// Count runs a query that counts rows, with plain SQL.
func Count(t testing.TB, d *db.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// FieldAt reports whether err is Invalid (or a Conflict) naming loc.
func FieldAt(err error, loc string) bool {
	e, ok := errs.As(err)
	return ok && (e.Kind == errs.Invalid || e.Kind == errs.Conflict) &&
		slices.ContainsFunc(e.Fields, func(f errs.FieldError) bool { return f.Location == loc })
}

// Ptr returns a pointer to a copy of v.
func Ptr[T any](v T) *T { return &v }

// Kernel is the real kernel services over a test database, on a fixed clock.
type Kernel struct {
	T       testing.TB
	D       *db.DB
	Clock   *clock.Fixed
	Model   *framework.Model
	Trail   *audit.Trail
	Events  *outbox.Outbox
	Auth    *auth.Service
	RACI    *raci.Service
	Records *record.Service
}

// NewKernel builds the kernel services over d with the clock fixed at start
// and DESMF's embedded framework model.
func NewKernel(t testing.TB, d *db.DB, start time.Time) *Kernel {
	t.Helper()
	c := clock.NewFixed(start)
	trail, events := audit.NewTrail(c), outbox.New(c, nil)
	model, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	k := &Kernel{T: t, D: d, Clock: c, Model: model, Trail: trail, Events: events}
	k.Auth = auth.NewService(d, trail, events, c, auth.NewHasher(0), auth.DefaultConfig())
	k.RACI = raci.New(d, model, trail, events, c)
	k.Records = record.New(record.Deps{DB: d, Guard: k.RACI, Model: model, Trail: trail, Events: events, Clock: c})
	return k
}

// User creates an account with plain SQL and returns it with a context acting as it.
func (k *Kernel) User(name string, admin bool) (auth.User, context.Context) {
	k.T.Helper()
	return NewUser(k.T, k.D, name, admin)
}

// NewUser creates an account in d with plain SQL (hashing a password per test
// user would dominate the run time) and returns it with a context acting as it.
func NewUser(t testing.TB, d *db.DB, name string, admin bool) (auth.User, context.Context) {
	t.Helper()
	u := auth.User{Username: name, Admin: admin}
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO users (username, is_admin, created_at, updated_at)
			VALUES (?, ?, 0, 0) RETURNING id`, name, admin).Scan(&u.ID)
	}); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u, auth.WithPrincipal(ctx, &auth.Principal{UserID: u.ID, Username: u.Username, Admin: admin})
}

// Assign assigns process roles through raci.Service.Assign as admin, in order.
func (k *Kernel) Assign(admin *auth.Principal, as ...raci.RoleAssignment) {
	k.T.Helper()
	for _, a := range as {
		if _, err := k.RACI.Assign(context.Background(), admin, a); err != nil {
			k.T.Fatalf("assign %s: %v", a.Role, err)
		}
	}
}
