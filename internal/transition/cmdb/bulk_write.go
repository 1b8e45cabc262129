package cmdb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// reserveIDs takes n ids for new CIs inside tx: past the largest id on
// SQLite, whose single writer holds the lock; from the identity sequence on
// PostgreSQL.
func reserveIDs(ctx context.Context, tx *db.Tx, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if tx.Engine() != db.Postgres {
		var top int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM cis`).Scan(&top); err != nil {
			return nil, fmt.Errorf("reserve CI ids: %w", err)
		}
		for i := range n {
			ids = append(ids, top+1+int64(i))
		}
		return ids, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('cis', 'id')) FROM generate_series(1, ?)`, n)
	if err != nil {
		return nil, fmt.Errorf("reserve CI ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
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
// multi-row VALUES of up to 500 rows (under 30,000 arguments); the next
// batch is encoded while the database writes the previous one.
//
// (SQLite's json_each, one statement per 5,000 rows from one JSON argument,
// was measured: its JSON extraction costs more than the SQL parsing it saves.)
func bulkWrite(ctx context.Context, tx *db.Tx, table string, cols, constCols []string, consts []any, n int, fill func(i int, w *rowWriter)) error {
	if n == 0 {
		return nil
	}
	width := len(cols) + len(constCols)
	per := min(500, 30000/width)
	head := `INSERT INTO ` + table + ` (` + strings.Join(append(slices.Clone(cols), constCols...), ", ") + `) VALUES `
	tuple := "(" + inList(width) + ")"
	full := head + strings.TrimSuffix(strings.Repeat(tuple+", ", per), ", ")
	type batch struct {
		args []any
		m    int
	}
	batches := make(chan batch, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(batches)
		for start := 0; start < n; start += per {
			m := min(per, n-start)
			w := &rowWriter{args: make([]any, 0, m*width)}
			for i := start; i < start+m; i++ {
				fill(i, w)
				w.args = append(w.args, consts...)
			}
			select {
			case batches <- batch{w.args, m}:
			case <-stop:
				return
			}
		}
	}()
	for b := range batches {
		q := full
		if b.m != per {
			q = head + strings.TrimSuffix(strings.Repeat(tuple+", ", b.m), ", ")
		}
		_, err := tx.ExecContext(ctx, q, b.args...)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a unique value in the file was just given to another CI; import again")
		}
		if err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
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

// writeIndexRows inserts index rows, sorted so that each index grows at
// few places rather than at random ones.
func writeIndexRows(ctx context.Context, tx *db.Tx, idx []indexRow) error {
	slices.SortFunc(idx, func(a, b indexRow) int {
		if a.attr != b.attr {
			return cmp.Compare(a.attr, b.attr)
		}
		return strings.Compare(a.value, b.value)
	})
	return bulkWrite(ctx, tx, "ci_attr_values", []string{"attr_id", "value", "ci_id", "is_unique"}, nil, nil, len(idx),
		func(i int, w *rowWriter) {
			r := &idx[i]
			w.Int(r.attr)
			w.Str(r.value)
			w.Int(r.ci)
			w.Any(r.unique)
		})
}

// writeCreates inserts the new CIs with their index rows and service rows,
// returning the first and last id given.
func (s *Service) writeCreates(ctx context.Context, tx *db.Tx, cat *catalog, rows []ciRow, n int) (int64, int64, error) {
	if n == 0 {
		return 0, 0, nil
	}
	ids, err := reserveIDs(ctx, tx, n)
	if err != nil {
		return 0, 0, err
	}
	news := make([]*ciRow, 0, n)
	for i := range rows {
		if !rows[i].bad && rows[i].id == 0 {
			rows[i].newCI.ID = ids[len(news)]
			news = append(news, &rows[i])
		}
	}
	now, by := s.now(), actor(ctx)
	err = bulkWrite(ctx, tx, "cis", []string{"id", "class_id", "name", "status", "min_up", "attrs", "marking"},
		[]string{"created_at", "created_by", "updated_at", "updated_by", "valid_from"}, []any{now, by, now, by, now}, len(news),
		func(i int, w *rowWriter) {
			c := &news[i].newCI
			w.Int(c.ID)
			w.Int(c.ClassID)
			w.Str(c.Name)
			w.Str(string(c.Status))
			w.Int(c.MinUp)
			w.Str(news[i].attrsJSON)
			w.Str(c.Marking)
		})
	if err != nil {
		return 0, 0, err
	}
	var idx []indexRow
	type svcRow struct {
		id   int64
		kind string
	}
	var svcs []svcRow
	svc := cat.byName["service"]
	for _, r := range news {
		idx = indexRows(r.class, r.newCI.ID, r.newCI.Attrs, idx)
		if svc != nil && cat.isA(r.class.ID, svc.ID) {
			kind := "technical"
			if r.class.Name == "business_service" {
				kind = "business"
			}
			svcs = append(svcs, svcRow{r.newCI.ID, kind})
		}
	}
	if err := writeIndexRows(ctx, tx, idx); err != nil {
		return 0, 0, fmt.Errorf("index CIs: %w", err)
	}
	if err := bulkWrite(ctx, tx, "ci_services", []string{"ci_id", "kind"}, []string{"criticality"}, []any{string(CriticalitySupport)}, len(svcs),
		func(i int, w *rowWriter) {
			w.Int(svcs[i].id)
			w.Str(svcs[i].kind)
		}); err != nil {
		return 0, 0, fmt.Errorf("insert services: %w", err)
	}
	return slices.Min(ids), slices.Max(ids), nil
}

// writeUpdates changes the matched CIs, keeping each superseded version in
// ci_versions and flagging each change no approved change covers.
func (s *Service) writeUpdates(ctx context.Context, tx *db.Tx, rows []ciRow, changeRef string) error {
	var ups []*ciRow
	for i := range rows {
		if r := &rows[i]; !r.bad && r.id != 0 && !r.unchanged {
			ups = append(ups, r)
		}
	}
	if len(ups) == 0 {
		return nil
	}
	now, by := s.now(), actor(ctx)
	// Each UPDATE expects the version the file was checked against: a CI
	// changed in the meantime fails the import rather than losing that change.
	for _, r := range ups {
		res, err := tx.ExecContext(ctx, `UPDATE cis SET name = ?, status = ?, min_up = ?, attrs = ?, marking = ?, version = version + 1,
			updated_at = ?, updated_by = ?, valid_from = ? WHERE id = ? AND version = ?`, r.newCI.Name, string(r.newCI.Status), r.newCI.MinUp,
			r.attrsJSON, r.newCI.Marking, now, by, now, r.id, r.old.Version)
		if err != nil {
			return fmt.Errorf("update CI %d: %w", r.id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.PreconditionFailed, "CI %d (row %d) changed while the file was checked; import it again", r.id, r.line)
		}
	}
	if err := bulkWrite(ctx, tx, "ci_versions", []string{"ci_id", "version", "class_id", "name", "status", "min_up", "attrs", "marking", "valid_from", "changed_by"},
		[]string{"valid_to"}, []any{now}, len(ups), func(i int, w *rowWriter) {
			o := ups[i].old
			w.Int(o.ID)
			w.Int(o.Version)
			w.Int(o.ClassID)
			w.Str(o.Name)
			w.Str(string(o.Status))
			w.Int(o.MinUp)
			w.Str(encodeAttrs(o.Attrs))
			w.Str(o.Marking)
			w.Int(o.ValidFrom.UnixMilli())
			w.Any(nilIfZero(o.UpdatedBy))
		}); err != nil {
		return fmt.Errorf("keep versions: %w", err)
	}
	var reindex []int64
	var idx []indexRow
	for _, r := range ups {
		if r.indexChanged {
			reindex = append(reindex, r.id)
			idx = indexRows(r.class, r.id, r.newCI.Attrs, idx)
		}
	}
	for start := 0; start < len(reindex); start += 500 {
		chunk := reindex[start:min(start+500, len(reindex))]
		if _, err := tx.ExecContext(ctx, `DELETE FROM ci_attr_values WHERE ci_id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...); err != nil {
			return fmt.Errorf("clear index: %w", err)
		}
	}
	if err := writeIndexRows(ctx, tx, idx); err != nil {
		return fmt.Errorf("index CIs: %w", err)
	}
	for _, r := range ups {
		if err := s.flagUnauthorised(ctx, tx, r.id, r.old.Version+1, "import: "+describe(r.changes), changeRef); err != nil {
			return err
		}
	}
	return nil
}
