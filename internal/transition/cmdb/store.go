package cmdb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// ciColumns is the select list scanCI reads, over cis aliased c.
const ciColumns = `c.id, c.class_id, c.name, c.status, c.min_up, c.attrs, c.marking, c.version, c.valid_from, c.created_at, c.updated_at,
	COALESCE(c.created_by, 0), COALESCE(c.updated_by, 0)`

type scanner interface{ Scan(dest ...any) error }

func ms(v int64) time.Time { return time.UnixMilli(v).UTC() }

// scanCI reads a CI row; the class name is filled from the catalogue.
func scanCI(row scanner, cat *catalog) (CI, error) {
	var c CI
	var attrs string
	var from, created, updated int64
	if err := row.Scan(&c.ID, &c.ClassID, &c.Name, &c.Status, &c.MinUp, &attrs, &c.Marking, &c.Version, &from, &created, &updated,
		&c.CreatedBy, &c.UpdatedBy); err != nil {
		return c, err
	}
	c.ValidFrom, c.CreatedAt, c.UpdatedAt = ms(from), ms(created), ms(updated)
	if err := decodeAttrs(attrs, &c.Attrs); err != nil {
		return c, fmt.Errorf("CI %d attributes: %w", c.ID, err)
	}
	if cl, ok := cat.classes[c.ClassID]; ok {
		c.Class = cl.Name
	}
	return c, nil
}

// decodeAttrs reads stored attributes, keeping integers as int64.
func decodeAttrs(s string, into *Attrs) error {
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return err
	}
	for k, v := range m {
		if n, ok := v.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				m[k] = i
			} else if f, err := n.Float64(); err == nil {
				m[k] = f
			}
		}
	}
	if m == nil {
		m = map[string]any{}
	}
	*into = m
	return nil
}

func encodeAttrs(a Attrs) string {
	if len(a) == 0 {
		return "{}"
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// getCI reads one current CI; lock takes the row lock on PostgreSQL.
func getCI(ctx context.Context, q db.Queryer, cat *catalog, id int64, lock string) (CI, error) {
	c, err := scanCI(q.QueryRowContext(ctx, `SELECT `+ciColumns+` FROM cis c WHERE c.id = ?`+lock, id), cat)
	if errors.Is(err, sql.ErrNoRows) {
		return c, errs.E(errs.NotFound, "no CI with id %d", id)
	}
	if err != nil {
		return c, fmt.Errorf("read CI %d: %w", id, err)
	}
	return c, nil
}

// inList returns "?, ?, ?" for n placeholders.
func inList(n int) string {
	if n <= 0 {
		return "NULL"
	}
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// refsOf reads the id, name, class and status of CIs, in chunks.
func refsOf(ctx context.Context, q db.Queryer, cat *catalog, ids []int64) (map[int64]CIRef, error) {
	out := make(map[int64]CIRef, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT id, name, class_id, status FROM cis WHERE id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("read CIs: %w", err)
		}
		for rows.Next() {
			var r CIRef
			var class int64
			if err := rows.Scan(&r.ID, &r.Name, &class, &r.Status); err != nil {
				rows.Close()
				return nil, err
			}
			if cl, ok := cat.classes[class]; ok {
				r.Class = cl.Name
			}
			out[r.ID] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// classesOf reads the class of each CI in ids.
func classesOf(ctx context.Context, q db.Queryer, ids []int64) (map[int64]int64, error) {
	out := make(map[int64]int64, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT id, class_id FROM cis WHERE id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("read CI classes: %w", err)
		}
		for rows.Next() {
			var id, class int64
			if err := rows.Scan(&id, &class); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = class
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkRefs refuses reference values that name no CI or a CI of the wrong class.
func checkRefs(ctx context.Context, q db.Queryer, cat *catalog, refs []Ref) error {
	if len(refs) == 0 {
		return nil
	}
	ids := make([]int64, len(refs))
	for i, r := range refs {
		ids[i] = r.CI
	}
	classes, err := classesOf(ctx, q, ids)
	if err != nil {
		return err
	}
	var fe []errs.FieldError
	for _, r := range refs {
		cl, ok := classes[r.CI]
		switch {
		case !ok:
			fe = append(fe, errs.FieldError{Location: r.Field, Message: fmt.Sprintf("no CI with id %d", r.CI), Value: r.CI})
		case r.Attr.RefClassID != 0 && !cat.isA(cl, r.Attr.RefClassID):
			fe = append(fe, errs.FieldError{Location: r.Field, Message: fmt.Sprintf("CI %d is a %s, not a %s", r.CI, cat.classes[cl].Name, r.Attr.RefClass), Value: r.CI})
		}
	}
	return errs.WithFields(fe)
}

// writeIndex replaces a CI's rows in ci_attr_values with its indexed values.
// A unique value another CI already has is a Conflict naming the attribute:
// checked first (PostgreSQL aborts a transaction on a failed insert), and
// guarded by the unique index against a concurrent writer.
func writeIndex(ctx context.Context, tx *db.Tx, cl *Class, id int64, attrs Attrs, replace bool) error {
	if err := checkUnique(ctx, tx, cl, id, attrs); err != nil {
		return err
	}
	if replace {
		if _, err := tx.ExecContext(ctx, `DELETE FROM ci_attr_values WHERE ci_id = ?`, id); err != nil {
			return fmt.Errorf("clear index of CI %d: %w", id, err)
		}
	}
	var args []any
	n := 0
	for i := range cl.Attributes {
		a := &cl.Attributes[i]
		v, ok := attrs[a.Name]
		if !a.Indexed || !ok {
			continue
		}
		args = append(args, a.ID, IndexValue(v), id, a.Unique)
		n++
	}
	if n == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ci_attr_values (attr_id, value, ci_id, is_unique) VALUES `+
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?), ", n), ", "), args...)
	if db.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "a unique attribute value of CI %d was just given to another CI; try again", id)
	}
	if err != nil {
		return fmt.Errorf("index CI %d: %w", id, err)
	}
	return nil
}

// checkUnique refuses unique attribute values another CI holds, naming the attribute.
func checkUnique(ctx context.Context, q db.Queryer, cl *Class, id int64, attrs Attrs) error {
	var fe []errs.FieldError
	for _, a := range cl.Attributes {
		v, ok := attrs[a.Name]
		if !a.Unique || !ok {
			continue
		}
		var other int64
		err := q.QueryRowContext(ctx, `SELECT ci_id FROM ci_attr_values WHERE attr_id = ? AND value = ? AND ci_id <> ?`, a.ID, IndexValue(v), id).Scan(&other)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return fmt.Errorf("check %s is unique: %w", a.Name, err)
		}
		fe = append(fe, errs.FieldError{Location: "body.attributes." + a.Name, Message: fmt.Sprintf("must be unique; CI %d has it", other), Value: v})
	}
	if len(fe) > 0 {
		return &errs.Error{Kind: errs.Conflict, Message: "a unique attribute value is already another CI's", Fields: fe}
	}
	return nil
}
