package cmdb

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// growPageCache lets SQLite hold about kib KiB of pages (at most 256 MiB)
// until the transaction ends, so that a bulk write does not spill dirty pages
// to the WAL and read them back before COMMIT (measured: 56 MiB for 100,000
// new servers). The returned function restores the connection's setting;
// nothing changes on PostgreSQL.
func growPageCache(ctx context.Context, tx *db.Tx, kib int64) (func(), error) {
	kib = min(kib, 256<<10)
	if tx.Engine() != db.SQLite {
		return func() {}, nil
	}
	var old int64 // negative: KiB; positive: pages
	if err := tx.QueryRowContext(ctx, `PRAGMA cache_size`).Scan(&old); err != nil {
		return nil, fmt.Errorf("read the page cache size: %w", err)
	}
	if old < 0 && -old >= kib || old > 0 && old*4 >= kib {
		return func() {}, nil
	}
	if _, err := tx.ExecContext(ctx, `PRAGMA cache_size = `+strconv.FormatInt(-kib, 10)); err != nil {
		return nil, fmt.Errorf("grow the page cache: %w", err)
	}
	return func() {
		// Failing leaves a larger cache on the writer connection: memory, not harm.
		_, _ = tx.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = `+strconv.FormatInt(old, 10))
	}, nil
}

// rowWriter collects the arguments of one multi-row INSERT.
type rowWriter struct {
	args []any
}

// Int adds an integer value.
func (w *rowWriter) Int(v int64) { w.args = append(w.args, v) }

// Str adds a text value.
func (w *rowWriter) Str(v string) { w.args = append(w.args, v) }

// Any adds any value the driver takes.
func (w *rowWriter) Any(v any) { w.args = append(w.args, v) }

// bulkWrite inserts n rows into table: fill writes row i's values of cols,
// and every row takes consts as its constCols. Each statement is a
// multi-row VALUES of up to 500 rows (under 30,000 arguments) that binds
// consts once, as its first parameters, which every row names by number
// (binding an argument is a good part of the cost of a row); the next
// batch is encoded while the database writes the previous one.
//
// (SQLite's json_each, one statement per 5,000 rows from one JSON argument,
// was measured: its JSON extraction costs more than the SQL parsing it saves.)
func bulkWrite(ctx context.Context, tx *db.Tx, table string, cols, constCols []string, consts []any, n int, fill func(i int, w *rowWriter)) error {
	if n == 0 {
		return nil
	}
	per := min(500, 30000/(len(cols)+len(constCols)))
	head := `INSERT INTO ` + table + ` (` + strings.Join(append(slices.Clone(constCols), cols...), ", ") + `) VALUES `
	full := head + valuesList(tx.Engine(), len(consts), len(cols), per)
	type batch struct {
		args []any
		m    int
	}
	batches := make(chan batch, 1)
	spare := make(chan []any, 2) // argument slices the database is done with
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(batches)
		for start := 0; start < n; start += per {
			m := min(per, n-start)
			var w rowWriter
			select {
			case w.args = <-spare:
			default:
				w.args = make([]any, 0, len(consts)+per*len(cols))
			}
			w.args = append(w.args[:0], consts...)
			for i := start; i < start+m; i++ {
				fill(i, &w)
			}
			select {
			case batches <- batch{w.args, m}:
			case <-stop:
				return
			}
		}
	}()
	// Every batch but the last has per rows: its statement is prepared once.
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	for b := range batches {
		var err error
		if b.m == per {
			if stmt == nil {
				if stmt, err = tx.PrepareContext(ctx, full); err != nil {
					return fmt.Errorf("insert into %s: %w", table, err)
				}
			}
			_, err = stmt.ExecContext(ctx, b.args...)
		} else {
			_, err = tx.ExecContext(ctx, head+valuesList(tx.Engine(), len(consts), len(cols), b.m), b.args...)
		}
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a unique value in the file was just given to another CI; import again")
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		select {
		case spare <- b.args:
		default:
		}
	}
	return nil
}

// valuesList is the VALUES of m rows of c constants and w values each: the
// constants are parameters 1 to c in every row, the values the parameters
// after them, in order. On SQLite a bare ? takes the number after the
// largest so far, so "(?1, ?2, ?, ?), (?1, ?2, ?, ?)" numbers the values
// 3 to 6; PostgreSQL numbers every parameter ($1 … $6), so there is nothing
// for Rebind to change.
func valuesList(engine db.Engine, c, w, m int) string {
	var b strings.Builder
	b.Grow(m * (c + w) * 7)
	next := c + 1
	for r := range m {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range c + w {
			if j > 0 {
				b.WriteString(", ")
			}
			switch {
			case j < c && engine == db.Postgres:
				b.WriteString("$" + strconv.Itoa(j+1))
			case j < c:
				b.WriteString("?" + strconv.Itoa(j+1))
			case engine == db.Postgres:
				b.WriteString("$" + strconv.Itoa(next))
				next++
			default:
				b.WriteByte('?')
			}
		}
		b.WriteByte(')')
	}
	return b.String()
}

// attrsJSON is encodeAttrs(a), byte for byte, without encoding/json's
// reflection for the values attributes hold (text, integers, numbers and
// booleans); anything less plain goes through encodeAttrs. It is the hot
// path of writing CIs in bulk.
func attrsJSON(a Attrs) string {
	if len(a) == 0 {
		return encodeAttrs(a)
	}
	var kb [16]string
	keys := kb[:0]
	for k := range a {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var bb [512]byte
	b := append(bb[:0], '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendJSONString(b, k); !ok {
			return encodeAttrs(a)
		}
		b = append(b, ':')
		switch v := a[k].(type) {
		case string:
			if b, ok = appendJSONString(b, v); !ok {
				return encodeAttrs(a)
			}
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case bool:
			b = strconv.AppendBool(b, v)
		case float64:
			// encoding/json writes these with an exponent, and refuses NaN and ±Inf.
			if abs := math.Abs(v); abs != 0 && (abs < 1e-6 || abs >= 1e21) || math.IsNaN(v) {
				return encodeAttrs(a)
			}
			b = strconv.AppendFloat(b, v, 'f', -1, 64)
		default:
			return encodeAttrs(a)
		}
	}
	return string(append(b, '}'))
}

// appendJSONString appends s quoted as encoding/json quotes it, when s is
// ASCII text with nothing to escape but quotes and backslashes; otherwise it
// reports false.
func appendJSONString(b []byte, s string) ([]byte, bool) {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x80 || c == '<' || c == '>' || c == '&':
			return b, false
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		default:
			b = append(b, c)
		}
	}
	return append(b, '"'), true
}

// indexRow is one row of ci_attr_values.
type indexRow struct {
	attr   int64
	value  string
	ci     int64
	unique bool
}

func indexRows(cl *Class, id int64, attrs Attrs, into []indexRow) []indexRow {
	for i := range cl.Attributes {
		a := &cl.Attributes[i]
		if v, ok := attrs[a.Name]; ok && a.Indexed {
			into = append(into, indexRow{a.ID, IndexValue(v), id, a.Unique})
		}
	}
	return into
}

// sortIndexRows orders index rows by attribute and value, so that each index
// grows at few places rather than at random ones. The rows are grouped by
// attribute first, keeping their order: a file's values often come sorted
// already, and the sort then only checks them.
func sortIndexRows(idx []indexRow) {
	at := map[int64]int{} // attribute → its count, then where its rows go
	for i := range idx {
		at[idx[i].attr]++
	}
	next := 0
	for _, a := range slices.Sorted(maps.Keys(at)) {
		next, at[a] = next+at[a], next
	}
	grouped := make([]indexRow, len(idx))
	for i := range idx {
		grouped[at[idx[i].attr]] = idx[i]
		at[idx[i].attr]++
	}
	copy(idx, grouped)
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && idx[hi].attr == idx[lo].attr {
			hi++
		}
		slices.SortFunc(idx[lo:hi], func(a, b indexRow) int { return strings.Compare(a.value, b.value) })
		lo = hi
	}
}

// writeIndexRows inserts index rows, in the order sortIndexRows gives them:
// the rows of each attribute together, whose id and uniqueness are then
// bound once a statement.
func writeIndexRows(ctx context.Context, tx *db.Tx, idx []indexRow) error {
	for lo := 0; lo < len(idx); {
		hi := lo + 1
		for hi < len(idx) && idx[hi].attr == idx[lo].attr && idx[hi].unique == idx[lo].unique {
			hi++
		}
		part := idx[lo:hi]
		if err := bulkWrite(ctx, tx, "ci_attr_values", []string{"value", "ci_id"}, []string{"attr_id", "is_unique"}, []any{part[0].attr, part[0].unique}, len(part),
			func(i int, w *rowWriter) {
				w.Str(part[i].value)
				w.Int(part[i].ci)
			}); err != nil {
			return err
		}
		lo = hi
	}
	return nil
}
