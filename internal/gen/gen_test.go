package gen_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"steward/internal/gen"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// testScale is small enough for the tests and large enough that every
// generator writes every kind of row.
const testScale = 20_000

// generate runs the generator into a fresh database on engine e.
func generate(t *testing.T, e db.Engine, scale int, seed uint64) (*db.DB, gen.Summary) {
	t.Helper()
	d := dbtest.Open(t, e)
	sum, err := gen.Run(context.Background(), d, gen.Config{Scale: scale, Seed: seed})
	if err != nil {
		t.Fatalf("generate on %s: %v", e, err)
	}
	return d, sum
}

// dump is a stable text copy of every generated table: all rows, ordered by
// every column, booleans as 0/1 (SQLite stores them so), PostgreSQL's derived
// search column and SQLite's contentless full-text table (only its rowids) aside,
// and the run's own audit entry without its time and hash.
func dump(t *testing.T, d *db.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	tables := []string{"record_types"}
	for _, n := range []string{"users", "teams", "team_members", "user_roles", "raci_assignments", "records", "record_journal",
		"record_steps", "record_step_approvers", "control_documents", "control_findings", "control_actions", "control_evaluations",
		"calendars", "agreements", "agreement_services", "agreement_underpins", "agreement_targets", "agreement_terms", "outages"} {
		tables = append(tables, n)
	}
	queries := map[string]string{
		"audit": `SELECT actor_type, actor_name, action, object_type, object_id, changes FROM audit_log WHERE actor_name = 'system:gen'`,
		"history": `SELECT at, actor_type, actor_id, actor_name, action, object_type, object_id, changes FROM audit_log
			WHERE object_type = 'record'`,
	}
	for _, tb := range tables {
		queries[tb] = `SELECT * FROM ` + tb
	}
	if d.Engine() == db.SQLite {
		queries["record_fts"] = `SELECT rowid FROM record_fts`
	}
	out := map[string][]string{}
	for name, q := range queries {
		rows, err := d.QueryContext(ctx, q)
		if err != nil {
			t.Fatalf("dump %s: %v", name, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, v := range vals {
				if cols[i] == "search" {
					continue
				}
				switch x := v.(type) {
				case []byte:
					v = string(x)
				case bool:
					v = map[bool]int{false: 0, true: 1}[x]
				}
				fmt.Fprintf(&b, "%s=%v|", cols[i], v)
			}
			out[name] = append(out[name], b.String())
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		slicesSort(out[name])
	}
	return out
}

// slicesSort sorts a dump's rows (the incident log makes them many: an insertion sort would take minutes).
func slicesSort(s []string) { slices.Sort(s) }

// diff reports the first differences between two dumps.
func diff(t *testing.T, what string, a, b map[string][]string) {
	t.Helper()
	for name, rows := range a {
		other := b[name]
		if len(rows) != len(other) {
			t.Errorf("%s: table %s has %d rows against %d", what, name, len(rows), len(other))
			continue
		}
		for i := range rows {
			if rows[i] != other[i] {
				t.Errorf("%s: table %s differs at row %d:\n%s\n%s", what, name, i, rows[i], other[i])
				break
			}
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			t.Errorf("%s: table %s only on one side", what, name)
		}
	}
}

// TestSameSeedSameData generates twice on each engine and compares every row.
func TestSameSeedSameData(t *testing.T) {
	t.Parallel()
	dumps := map[db.Engine]map[string][]string{}
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			d1, s1 := generate(t, e, testScale, 7)
			d2, _ := generate(t, e, testScale, 7)
			a, b := dump(t, d1), dump(t, d2)
			diff(t, "same seed", a, b)
			if len(a["records"]) == 0 || len(a["users"]) != s1.Plan.Users {
				t.Fatalf("dump has %d records and %d users; plan %+v", len(a["records"]), len(a["users"]), s1.Plan)
			}
			dumps[e] = a
			d3, _ := generate(t, e, testScale, 8)
			if c := dump(t, d3); strings.Join(c["users"], "") == strings.Join(a["users"], "") {
				t.Error("seeds 7 and 8 gave the same users")
			}
		})
	}
	// The engines store the same organisation too (but for SQLite's full-text rows).
	if s, p := dumps[db.SQLite], dumps[db.Postgres]; s != nil && p != nil {
		delete(s, "record_fts")
		for i, row := range s["audit"] {
			if k := strings.Index(row, `{"field":"record_fts"`); k >= 0 {
				s["audit"][i] = row[:k] + row[k+strings.Index(row[k:], "},")+2:]
			}
		}
		diff(t, "sqlite against postgres", s, p)
	}
}

func TestRefusesAnOrganisation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := gen.Run(ctx, d, gen.Config{Scale: 1000, Seed: 1}); err != nil {
			t.Fatal(err)
		}
		_, err := gen.Run(ctx, d, gen.Config{Scale: 1000, Seed: 2})
		if !errors.Is(err, gen.ErrNotEmpty) {
			t.Fatalf("second run: %v, want ErrNotEmpty", err)
		}
	})
}

func TestParseScale(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{"1000": 1000, "100k": 100_000, "1M": 1_000_000, "250K": 250_000, "2m": 2_000_000} {
		if got, err := gen.ParseScale(in); err != nil || got != want {
			t.Errorf("ParseScale(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "big", "1G", "51M"} {
		if _, err := gen.ParseScale(in); err == nil {
			t.Errorf("ParseScale(%q) succeeded", in)
		}
	}
}
