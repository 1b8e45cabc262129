package record_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// hostile are queries full of FTS5 and tsquery syntax.
var hostile = []string{`"`, `*`, `NEAR(`, `-`, `OR`, `)`, `(`, `'`, `\`, `:*`, `&|!`, `<->`, `title:x`, `a AND`, `"unterminated`,
	`NOT`, `^`, `{x}`, "\x00", `NEAR(a b, 2)`, `"a" OR "b"`, `* OR *`, `-printer`, `printer*`, `'printer':*`, `a & b`,
	`column:title`, `'); DROP TABLE records; --`, strings.Repeat("(", 300), strings.Repeat("word ", 200), "é\u0301", "🔥"}

func seedSearch(e *env, ctx context.Context) map[string]record.Record {
	rs := map[string]record.Record{}
	for _, s := range []struct{ key, title, desc string }{
		{"jam", "Printer jam on floor three", "Paper stuck in tray two"},
		{"tray", "Paper supply", "The printer tray is empty"},
		{"mail", "Mail delivery delayed", "The Exchange queue backs up after the night batch"},
		{"vpn", "VPN drops every hour", "Printing from home fails as well"},
	} {
		rs[s.key] = e.ticket(ctx, s.title, record.NewRecord{Description: s.desc})
	}
	return rs
}

func numbers(rs []record.Record) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Number)
	}
	return out
}

func TestSearch(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		_, ctx := e.user("alice", false)
		rs := seedSearch(e, ctx)
		search := func(q string, f ...record.Filter) []string {
			t.Helper()
			var flt record.Filter
			if len(f) > 0 {
				flt = f[0]
			}
			flt.Query = q
			page, total, err := e.svc.Search(ctx, flt, listing.Params{Limit: 50})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			if int(total) != len(page.Items) {
				t.Fatalf("search %q: total %d for %d items", q, total, len(page.Items))
			}
			return numbers(page.Items)
		}
		// A title match ranks above a description match.
		if got := search("printer"); !slices.Equal(got, []string{rs["jam"].Number, rs["tray"].Number}) {
			t.Fatalf("printer: %v", got)
		}
		// Words are prefixes and are stemmed alike on both engines.
		if got := search("print"); len(got) != 3 {
			t.Fatalf("print: %v", got)
		}
		if got := search("exchange QUEUE"); !slices.Equal(got, []string{rs["mail"].Number}) {
			t.Fatalf("description words: %v", got)
		}
		if got := search("exchange printer"); len(got) != 0 {
			t.Fatalf("words are ANDed: %v", got)
		}
		if got := search(strings.ToLower(rs["vpn"].Number)); !slices.Equal(got, []string{rs["vpn"].Number}) {
			t.Fatalf("by number: %v", got)
		}
		if got := search("printer", record.Filter{State: "resolved"}); len(got) != 0 {
			t.Fatalf("state filter: %v", got)
		}
		if got := search("printer", record.Filter{Type: "ticket"}); len(got) != 2 {
			t.Fatalf("type filter: %v", got)
		}
		// Query syntax in the input is never interpreted and never an error.
		for _, q := range hostile {
			search(q)
		}
		if got := search(`(printer* -"jam`); !slices.Equal(got, []string{rs["jam"].Number}) {
			t.Fatalf("hostile with words: %v", got)
		}
		if got := search(`NEAR(printer`); len(got) != 0 {
			t.Fatalf("NEAR as a word: %v", got)
		}
		// Ranked pages continue with the cursor.
		p1, total, err := e.svc.Search(ctx, record.Filter{Query: "print"}, listing.Params{Limit: 2})
		if err != nil || len(p1.Items) != 2 || total != 3 || p1.NextCursor == "" {
			t.Fatalf("page 1: %+v %d %v", p1, total, err)
		}
		p2, _, err := e.svc.Search(ctx, record.Filter{Query: "print"}, listing.Params{Limit: 2, Cursor: p1.NextCursor})
		if err != nil || len(p2.Items) != 1 || p2.NextCursor != "" || slices.Contains(numbers(p1.Items), p2.Items[0].Number) {
			t.Fatalf("page 2: %+v %v", p2, err)
		}
		if _, _, err := e.svc.Search(ctx, record.Filter{Query: "print"}, listing.Params{Sort: "number"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("sort with q: %v", err)
		}
		if _, _, err := e.svc.Search(ctx, record.Filter{Query: "print"}, listing.Params{Cursor: "garbage"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

func TestListRecords(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		alice, ctx := e.user("alice", false)
		desk := e.team("desk", alice)
		var made []record.Record
		for i, p := range []int{3, 0, 1, 5, 1} {
			n := record.NewRecord{Priority: p}
			if i%2 == 0 {
				n.TeamID, n.AssigneeID = desk.ID, alice.ID
			}
			made = append(made, e.ticket(ctx, "ticket", n))
			e.clock.Advance(time.Second)
		}
		list := func(f record.Filter, p listing.Params) []string {
			t.Helper()
			page, _, err := e.svc.Search(ctx, f, p)
			if err != nil {
				t.Fatal(err)
			}
			return numbers(page.Items)
		}
		if got := list(record.Filter{}, listing.Params{}); !slices.Equal(got, []string{made[4].Number, made[3].Number, made[2].Number, made[1].Number, made[0].Number}) {
			t.Fatalf("newest first: %v", got)
		}
		if got := list(record.Filter{TeamID: desk.ID}, listing.Params{Sort: "number"}); !slices.Equal(got, []string{made[0].Number, made[2].Number, made[4].Number}) {
			t.Fatalf("team filter: %v", got)
		}
		if got := list(record.Filter{AssigneeID: alice.ID, State: "new", Type: "ticket"}, listing.Params{}); len(got) != 3 {
			t.Fatalf("assignee filter: %v", got)
		}
		open := false
		if got := list(record.Filter{Open: &open}, listing.Params{}); len(got) != 0 {
			t.Fatalf("closed: %v", got)
		}
		// Priority sorts 1 first and the unset last, across pages.
		var all []string
		p := listing.Params{Limit: 2, Sort: "priority"}
		for {
			page, total, err := e.svc.Search(ctx, record.Filter{}, p)
			if err != nil || total != 5 {
				t.Fatalf("%d, %v", total, err)
			}
			all = append(all, numbers(page.Items)...)
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		want := []string{made[2].Number, made[4].Number, made[0].Number, made[3].Number, made[1].Number}
		if !slices.Equal(all, want) {
			t.Fatalf("by priority: %v, want %v", all, want)
		}
		if _, _, err := e.svc.Search(ctx, record.Filter{}, listing.Params{Sort: "title"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unsortable field: %v", err)
		}
	})
}

// FuzzSearchQuery checks that no query text makes the search fail on SQLite
// (the PostgreSQL half is covered by TestSearch's hostile list).
func FuzzSearchQuery(f *testing.F) {
	for _, q := range hostile {
		f.Add(q)
	}
	e := newEnv(f, dbtest.Open(f, db.SQLite))
	_, ctx := e.user("fuzz", false)
	seedSearch(e, ctx)
	f.Fuzz(func(t *testing.T, q string) {
		if _, _, err := e.svc.Search(ctx, record.Filter{Query: q}, listing.Params{Limit: 5}); err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
	})
}
