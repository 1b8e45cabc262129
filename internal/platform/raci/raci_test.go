package raci_test

import (
	"context"
	"database/sql"
	"strings"
	"sync/atomic"
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
)

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	ctx   context.Context
	d     *db.DB
	m     *framework.Model
	clk   *clock.Fixed
	trail *audit.Trail
	ob    *outbox.Outbox
	s     *raci.Service
	admin *auth.Principal
}

func setup(t testing.TB, d *db.DB) *fixture {
	t.Helper()
	m, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{ctx: context.Background(), d: d, m: m, clk: clock.NewFixed(t0)}
	f.trail = audit.NewTrail(f.clk)
	f.ob = outbox.New(f.clk, nil)
	f.s = raci.New(d, m, f.trail, f.ob, f.clk)
	f.admin = f.user(t, "root", true)
	return f
}

// node returns a second service over the same database: another node of the cluster.
func (f *fixture) node() *raci.Service { return raci.New(f.d, f.m, f.trail, f.ob, f.clk) }

// user creates an account directly (no password: these tests need no login).
func (f *fixture) user(t testing.TB, name string, admin bool) *auth.Principal {
	t.Helper()
	var id int64
	now := t0.UnixMilli()
	if err := f.d.InTx(f.ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(f.ctx, `INSERT INTO users (username, is_admin, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id`,
			name, admin, now, now).Scan(&id)
	}); err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return &auth.Principal{UserID: id, Username: name, Admin: admin}
}

// team creates a team with members.
func (f *fixture) team(t testing.TB, name string, members ...*auth.Principal) int64 {
	t.Helper()
	var id int64
	now := t0.UnixMilli()
	if err := f.d.InTx(f.ctx, func(tx *db.Tx) error {
		if err := tx.QueryRowContext(f.ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES (?, ?, ?) RETURNING id`, name, now, now).Scan(&id); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.ExecContext(f.ctx, `INSERT INTO team_members (team_id, user_id) VALUES (?, ?)`, id, m.UserID); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatalf("create team %s: %v", name, err)
	}
	return id
}

// assign makes an assignment as the administrator.
func (f *fixture) assign(t testing.TB, a raci.RoleAssignment) raci.RoleAssignment {
	t.Helper()
	out, err := f.s.Assign(f.ctx, f.admin, a)
	if err != nil {
		t.Fatalf("assign %+v: %v", a, err)
	}
	return out
}

func (f *fixture) countAudit(t testing.TB, action, objectID string) int64 {
	t.Helper()
	_, n, err := audit.List(f.ctx, f.d, audit.Filter{Action: action, ObjectID: objectID, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func (f *fixture) countEvents(t testing.TB, typ string) int64 {
	t.Helper()
	var n int64
	if err := f.d.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM outbox_events WHERE type = ?`, typ).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantKind(t testing.TB, err error, k errs.Kind, what string) *errs.Error {
	t.Helper()
	if got := errs.KindOf(err); err == nil || got != k {
		t.Fatalf("%s: err = %v (%v), want %v", what, err, got, k)
	}
	e, _ := errs.As(err)
	return e
}

// wantField checks that err is Invalid with a field error at loc whose message has every one of words.
func wantField(t testing.TB, err error, loc string, words ...string) {
	t.Helper()
	e := wantKind(t, err, errs.Invalid, loc)
	for _, f := range e.Fields {
		if f.Location != loc {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(f.Message, w)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no field error at %s with %q in %+v", loc, words, e.Fields)
}

// edit returns a copy of mx with one cell set (0 empties it).
func edit(mx framework.Matrix, activity, role string, c framework.Cell) framework.Matrix {
	mx = mx.Clone()
	for i := range mx.Rows {
		if mx.Rows[i].Activity == activity {
			if c == 0 {
				delete(mx.Rows[i].Cells, role)
			} else {
				mx.Rows[i].Cells[role] = c
			}
		}
	}
	return mx
}

// countingQ counts the statements sent through it.
type countingQ struct {
	db.Queryer
	n atomic.Int64
}

func (c *countingQ) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.n.Add(1)
	return c.Queryer.ExecContext(ctx, q, args...)
}

func (c *countingQ) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.n.Add(1)
	return c.Queryer.QueryContext(ctx, q, args...)
}

func (c *countingQ) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c.n.Add(1)
	return c.Queryer.QueryRowContext(ctx, q, args...)
}
