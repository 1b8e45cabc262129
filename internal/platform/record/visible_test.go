package record_test

import (
	"context"
	"testing"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// secretType is a record only its requester (or an administrator) sees, said
// both per record and in SQL.
func secretType() record.Type {
	t := record.Type{Name: "secret", Label: "Secret", Prefix: "SEC", Process: "IM", Initial: "open",
		States:      []record.State{{Name: "open", Label: "Open"}, {Name: "done", Label: "Done", Terminal: true}},
		Transitions: []record.Transition{{Action: "finish", From: []string{"open"}, To: "done", Activity: "IM5", Label: "Finish"}}}
	t.Visible = func(_ context.Context, p *auth.Principal, r *record.Record) bool {
		return p != nil && (p.Admin || p.UserID == r.RequesterID)
	}
	t.VisibleWhere = func(_ context.Context, p *auth.Principal) (string, []any, error) {
		if p != nil && p.Admin {
			return "", nil, nil
		}
		var uid int64
		if p != nil {
			uid = p.UserID
		}
		return "r.requester_id = ?", []any{uid}, nil
	}
	return t
}

// TestVisibleWhere checks that lists and searches leave out the records a
// type hides, in their pages and in their counts, while other types' records
// stay.
func TestVisibleWhere(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		if err := e.svc.Register(secretType()); err != nil {
			t.Fatal(err)
		}
		_, alice := e.user("alice", false)
		_, bob := e.user("bob", false)
		_, root := e.user("root", true)
		for _, ctx := range []context.Context{alice, alice, bob} {
			if _, err := e.svc.Create(ctx, "secret", record.NewRecord{Title: "payroll breach"}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := e.svc.Create(bob, "ticket", record.NewRecord{Title: "payroll printer"}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			ctx   context.Context
			f     record.Filter
			total int64
		}{
			{"alice lists all", alice, record.Filter{}, 3},
			{"alice lists secrets", alice, record.Filter{Type: "secret"}, 2},
			{"bob lists all", bob, record.Filter{}, 2},
			{"bob searches", bob, record.Filter{Query: "payroll"}, 2},
			{"alice searches secrets", alice, record.Filter{Query: "payroll", Type: "secret"}, 2},
			{"the administrator lists all", root, record.Filter{}, 4},
			{"the administrator searches", root, record.Filter{Query: "payroll"}, 4},
		} {
			page, total, err := e.svc.Search(c.ctx, c.f, listing.Params{Limit: 50})
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if total != c.total || int64(len(page.Items)) != c.total {
				t.Errorf("%s: total %d, %d items; want %d", c.name, total, len(page.Items), c.total)
			}
		}
	})
}
