package cmdb

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// checkCIRows validates each row as a new CI or as a change of its CI (and
// refuses two rows that update one CI); checkAcrossRows does the rest.
func (s *Service) checkCIRows(ctx context.Context, cat *catalog, rows []ciRow, bad *rowErrors) error {
	var ids []int64
	for i := range rows {
		if rows[i].id != 0 && !rows[i].bad {
			ids = append(ids, rows[i].id)
		}
	}
	slices.Sort(ids)
	current, err := readCIs(ctx, s.db, cat, slices.Compact(ids))
	if err != nil {
		return err
	}
	target := map[int64]int{} // CI → line of the row that updates it
	for i := range rows {
		r := &rows[i]
		if r.bad || r.id == 0 {
			continue
		}
		if _, ok := current[r.id]; !ok {
			bad.add(r.line, "id", fmt.Sprintf("no CI with id %d", r.id))
			r.bad = true
		} else if l, ok := target[r.id]; ok {
			bad.add(r.line, "", fmt.Sprintf("row %d already updates CI %d", l, r.id))
			r.bad = true
		} else {
			target[r.id] = r.line
		}
	}
	inParallel(len(rows), bad, func(lo, hi int, bad *rowErrors) {
		for i := lo; i < hi; i++ {
			r := &rows[i]
			switch {
			case r.bad:
				continue
			case r.id == 0:
				r.checkNew(bad)
			default:
				r.checkChange(cat, current[r.id], bad)
			}
		}
	})
	return nil
}

// checkAcrossRows checks, in batches, what no row can check alone: repeated
// identities among the new CIs, references and unique values. It only ever
// sets rows' bad flags, so the rows can be written meanwhile (see startImport).
func (s *Service) checkAcrossRows(ctx context.Context, cat *catalog, rows []ciRow, rules []identRule, bad *rowErrors) error {
	creates := make(map[string]int, len(rows)*len(rules)) // rule + key → line of the row that creates it
	for i := range rows {
		r := &rows[i]
		if r.bad || r.id != 0 {
			continue
		}
		for ri, rule := range rules {
			if k := r.identKey(ri, rule); k != nil {
				kk := rule.name + "\x00" + strings.Join(k, "\x00")
				if l, ok := creates[kk]; ok {
					bad.add(r.line, "", fmt.Sprintf("row %d creates a CI with the same %s", l, rule.name))
					r.bad = true
					break
				}
				creates[kk] = r.line
			}
		}
	}
	if err := s.checkRowRefs(ctx, cat, rows, bad); err != nil {
		return err
	}
	return s.checkRowUniques(ctx, rows, bad)
}

// checkNew validates a row that creates a CI, as insertCI would.
func (r *ciRow) checkNew(bad *rowErrors) {
	c := CI{ClassID: r.cl.ID, Class: r.cl.Name, Name: r.name, Status: StatusOperational, MinUp: 1, Marking: r.marking, Attrs: r.attrs}
	if r.hasStatus {
		c.Status = r.status
	}
	if r.hasMinUp {
		c.MinUp = r.minUp
	}
	fe := checkCore(&c.Name, c.Status, c.MinUp, &c.Marking)
	if r.cl.Abstract {
		fe = append(fe, errs.FieldError{Location: "class", Message: "class " + r.cl.Name + " is abstract; choose one of its subclasses"})
	}
	fe = append(fe, MissingRequired(r.cl, c.Attrs, "attributes")...)
	if len(fe) > 0 {
		bad.addFields(r.line, fe)
		r.bad = true
		return
	}
	r.newCI, r.class = c, r.cl
	r.indexChanged = true
}

// checkChange validates a row that updates old, as updateCI would, and works
// out what changes; an empty cell leaves its field as it is.
func (r *ciRow) checkChange(cat *catalog, old CI, bad *rowErrors) {
	cl := cat.classes[old.ClassID]
	if r.cl != nil && !cat.isA(old.ClassID, r.cl.ID) {
		how := "by id"
		if r.rule != "" {
			how = "by " + r.rule
		}
		bad.add(r.line, "class", fmt.Sprintf("CI %d (matched %s) is a %s, not a %s; an import does not change a CI's class", old.ID, how, cl.Name, r.cl.Name))
		r.bad = true
		return
	}
	if r.cl == nil {
		refs, fe := CheckAttrs(cl, r.attrs, "attributes", true)
		if len(fe) > 0 {
			bad.addFields(r.line, fe)
			r.bad = true
			return
		}
		r.refs = refs
	}
	old.Attrs = canonical(cl, old.Attrs)
	neu := old
	neu.Attrs = maps.Clone(old.Attrs)
	if r.hasName {
		neu.Name = r.name
	}
	if r.hasStatus {
		neu.Status = r.status
	}
	if r.hasMinUp {
		neu.MinUp = r.minUp
	}
	if r.hasMarking {
		neu.Marking = r.marking
	}
	fe := checkCore(&neu.Name, neu.Status, neu.MinUp, &neu.Marking)
	maps.Copy(neu.Attrs, r.attrs)
	fe = append(fe, MissingRequired(cl, neu.Attrs, "attributes")...)
	if len(fe) == 0 && r.hasStatus {
		if err := CheckStatusChange(old.Status, neu.Status); err != nil {
			e, _ := errs.As(err)
			fe = append(fe, errs.FieldError{Location: "status", Message: e.Message})
		}
	}
	if len(fe) > 0 {
		bad.addFields(r.line, fe)
		r.bad = true
		return
	}
	r.old, r.newCI, r.class = &old, neu, cl
	r.changes = ciChanges(old, neu)
	r.unchanged = len(r.changes) == 0
	r.indexChanged = indexChanged(cl, old.Attrs, neu.Attrs)
}

// canonical returns attrs with each value in the stored form of its
// attribute's type (so that 4 and 4.0 of a number attribute compare equal).
func canonical(cl *Class, attrs Attrs) Attrs {
	out := maps.Clone(attrs)
	for i := range cl.Attributes {
		a := &cl.Attributes[i]
		if v, ok := out[a.Name]; ok {
			if n, msg := normalise(a, v); msg == "" && n != nil {
				out[a.Name] = n
			}
		}
	}
	return out
}

// readCIs reads current CIs by id, in chunks.
func readCIs(ctx context.Context, q db.Queryer, cat *catalog, ids []int64) (map[int64]CI, error) {
	out := make(map[int64]CI, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT `+ciColumns+` FROM cis c WHERE c.id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, fmt.Errorf("read CIs: %w", err)
		}
		for rows.Next() {
			c, err := scanCI(rows, cat)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[c.ID] = c
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkRowRefs checks every reference value of the rows in a few queries.
func (s *Service) checkRowRefs(ctx context.Context, cat *catalog, rows []ciRow, bad *rowErrors) error {
	var ids []int64
	for i := range rows {
		if !rows[i].unchanged { // rows already in error too, to report every problem
			for _, ref := range rows[i].refs {
				ids = append(ids, ref.CI)
			}
		}
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	classes, err := classesOf(ctx, s.db, slices.Compact(ids))
	if err != nil {
		return err
	}
	for i := range rows {
		r := &rows[i]
		if r.unchanged {
			continue
		}
		for _, ref := range r.refs {
			cl, ok := classes[ref.CI]
			switch {
			case !ok:
				bad.add(r.line, ref.Field, fmt.Sprintf("no CI with id %d", ref.CI))
				r.bad = true
			case ref.Attr.RefClassID != 0 && !cat.isA(cl, ref.Attr.RefClassID):
				bad.add(r.line, ref.Field, fmt.Sprintf("CI %d is a %s, not a %s", ref.CI, cat.classes[cl].Name, ref.Attr.RefClass))
				r.bad = true
			}
		}
	}
	return nil
}

// checkRowUniques refuses unique values another CI holds, or another row
// gives. An update checks only the unique values it changes.
func (s *Service) checkRowUniques(ctx context.Context, rows []ciRow, bad *rowErrors) error {
	type uk struct {
		attr  int64
		value string
	}
	given := make(map[uk]int, len(rows)) // → line
	byAttr := map[int64][]string{}
	type use struct {
		row  int
		key  uk
		name string
	}
	uses := make([]use, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		if r.bad || r.unchanged {
			continue
		}
		for _, a := range r.class.Attributes {
			v, ok := r.newCI.Attrs[a.Name]
			if !a.Unique || !ok {
				continue
			}
			k := uk{a.ID, IndexValue(v)}
			if r.id != 0 {
				if o, ok := r.old.Attrs[a.Name]; ok && IndexValue(o) == k.value {
					continue
				}
			}
			if l, ok := given[k]; ok {
				bad.add(r.line, "attributes."+a.Name, fmt.Sprintf("must be unique; row %d gives it too", l))
				r.bad = true
				continue
			}
			given[k] = r.line
			byAttr[a.ID] = append(byAttr[a.ID], k.value)
			uses = append(uses, use{row: i, key: k, name: a.Name})
		}
	}
	if len(uses) == 0 {
		return nil
	}
	owner := map[uk]int64{}
	for attr, values := range byAttr {
		err := valueOwners(ctx, s.db, func(n int) string {
			return `SELECT value, ci_id FROM ci_attr_values WHERE attr_id = ? AND is_unique AND value IN (` + inList(n) + `)`
		}, []any{attr}, values, func(v string, id int64) { owner[uk{attr, v}] = id })
		if err != nil {
			return fmt.Errorf("check unique values: %w", err)
		}
	}
	for _, u := range uses {
		r := &rows[u.row]
		if id, ok := owner[u.key]; ok && id != r.id {
			bad.add(r.line, "attributes."+u.name, fmt.Sprintf("must be unique; CI %d has it", id))
			r.bad = true
		}
	}
	return nil
}
