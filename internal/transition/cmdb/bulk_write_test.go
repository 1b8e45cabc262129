package cmdb

import (
	"math"
	"testing"

	"steward/internal/platform/db"
)

// TestValuesList numbers a bulk INSERT's constants once and its values after
// them, in each engine's placeholders.
func TestValuesList(t *testing.T) {
	for _, c := range []struct {
		engine  db.Engine
		c, w, m int
		want    string
	}{
		{db.SQLite, 2, 2, 2, "(?1, ?2, ?, ?), (?1, ?2, ?, ?)"},
		{db.Postgres, 2, 2, 2, "($1, $2, $3, $4), ($1, $2, $5, $6)"},
		{db.SQLite, 0, 2, 2, "(?, ?), (?, ?)"},
		{db.Postgres, 0, 1, 3, "($1), ($2), ($3)"},
	} {
		if got := valuesList(c.engine, c.c, c.w, c.m); got != c.want {
			t.Errorf("valuesList(%s, %d, %d, %d) = %q, want %q", c.engine, c.c, c.w, c.m, got, c.want)
		}
	}
}

// FuzzAttrsJSON holds attrsJSON, the bulk writer's encoder, to encodeAttrs
// byte for byte.
func FuzzAttrsJSON(f *testing.F) {
	f.Add("hostname", "web-01", "<b>&\"\\\u2028é\x00\t", int64(-7), 4.5, true)
	f.Add("", "", "\xff", int64(math.MaxInt64), 1e21, false)
	f.Add("a\"b", "x", "y", int64(0), 1e-7, false)
	f.Add("k", "v", "w", int64(1), math.Copysign(0, -1), true)
	f.Fuzz(func(t *testing.T, k, s1, s2 string, n int64, x float64, b bool) {
		for _, a := range []Attrs{
			{k: s1, "s": s2, "n": n, "x": x, "b": b},
			{k: x},
			{"s": s1, "t": s2},
			{k: nil},
			{"list": []any{s1}},
			{},
		} {
			if got, want := attrsJSON(a), encodeAttrs(a); got != want {
				t.Fatalf("attrsJSON(%#v) = %s, encodeAttrs = %s", a, got, want)
			}
		}
	})
}
