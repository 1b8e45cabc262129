package cmdb

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/transition/cmdb/reconcile"
)

// DefaultRules are the identification rules of imports and audits: the
// serial number, then host name plus domain.
func DefaultRules() []reconcile.Rule {
	return []reconcile.Rule{{Name: "serial_number", Fields: []string{"serial_number"}},
		{Name: "hostname+domain", Fields: []string{"hostname", "domain"}}}
}

// ParseRules reads rules written as "serial_number;hostname+domain": rules in
// priority order separated by semicolons, each one's fields joined by "+".
func ParseRules(field, s string) ([]reconcile.Rule, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []reconcile.Rule
	for _, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		r := reconcile.Rule{Name: part}
		for _, f := range strings.Split(part, "+") {
			r.Fields = append(r.Fields, strings.TrimSpace(f))
		}
		out = append(out, r)
	}
	if err := reconcile.ValidateRules(out); err != nil {
		return nil, errs.Field(field, err.Error(), s)
	}
	return out, nil
}

// identField is one field of an identification rule: a CI's name, or an
// indexed attribute (every indexed attribute of that name, in any class).
type identField struct {
	name  string
	attrs []int64
}

type identRule struct {
	name   string
	fields []identField
}

// identRules checks rules for imports: their fields must be findable without a scan.
func (c *catalog) identRules(field string, rules []reconcile.Rule) ([]identRule, error) {
	if rules == nil {
		rules = DefaultRules()
	}
	if err := reconcile.ValidateRules(rules); err != nil {
		return nil, errs.Field(field, err.Error(), nil)
	}
	var fe []errs.FieldError
	out := make([]identRule, len(rules))
	for i, r := range rules {
		out[i].name = r.Name
		for _, f := range r.Fields {
			idf := identField{name: f}
			if f != "name" {
				for _, id := range c.attrsByName[f] {
					if c.attrs[id].Indexed {
						idf.attrs = append(idf.attrs, id)
					}
				}
				if len(idf.attrs) == 0 {
					fe = append(fe, errs.FieldError{Location: field, Message: "rule " + r.Name + ": " + f +
						" is not an indexed attribute (nor name), so it cannot identify a CI", Value: f})
				}
			}
			out[i].fields = append(out[i].fields, idf)
		}
	}
	return out, errs.WithFields(fe)
}

// lookupValues finds the CIs holding each value of an identification field.
func lookupValues(ctx context.Context, q db.Queryer, f identField, values []string) (map[string][]int64, error) {
	out := make(map[string][]int64, len(values))
	query := func(n int) string { return `SELECT name, id FROM cis WHERE name IN (` + inList(n) + `)` }
	if f.attrs != nil {
		query = func(n int) string {
			return `SELECT value, ci_id FROM ci_attr_values WHERE attr_id IN (` + inList(len(f.attrs)) + `) AND value IN (` + inList(n) + `)`
		}
	}
	err := valueOwners(ctx, q, query, int64Args(f.attrs), values, func(v string, id int64) { out[v] = append(out[v], id) })
	if err != nil {
		return nil, fmt.Errorf("look up %s: %w", f.name, err)
	}
	return out, nil
}

// valueOwners runs query(n), a query of (value, CI id) rows whose last
// parameters are n values, over values in chunks of 1,000, with args before
// each chunk, and calls add for every row. Where q can prepare, the query of
// a full chunk is prepared once.
func valueOwners(ctx context.Context, q db.Queryer, query func(n int) string, args []any, values []string, add func(v string, id int64)) error {
	const chunk = 1000
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	a := make([]any, 0, len(args)+min(chunk, len(values)))
	for start := 0; start < len(values); start += chunk {
		part := values[start:min(start+chunk, len(values))]
		a = append(a[:0], args...)
		for _, v := range part {
			a = append(a, v)
		}
		var rows *sql.Rows
		var err error
		if p, ok := q.(preparer); ok && len(part) == chunk && len(values) > chunk {
			if full == nil {
				if full, err = p.PrepareContext(ctx, query(chunk)); err != nil {
					return err
				}
			}
			rows, err = full.QueryContext(ctx, a...)
		} else {
			rows, err = q.QueryContext(ctx, query(len(part)), a...)
		}
		if err != nil {
			return err
		}
		for rows.Next() {
			var v string
			var id int64
			if err := rows.Scan(&v, &id); err != nil {
				rows.Close()
				return err
			}
			add(v, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// preparer prepares statements: *db.DB (on its reader pool) and *db.Tx.
type preparer interface {
	PrepareContext(ctx context.Context, q string) (*sql.Stmt, error)
}

// valuesOf reads an identification field's value of each CI.
func valuesOf(ctx context.Context, q db.Queryer, f identField, ids []int64) (map[int64]string, error) {
	out := make(map[int64]string, len(ids))
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		var query string
		var args []any
		if f.attrs == nil {
			query = `SELECT id, name FROM cis WHERE id IN (` + inList(len(part)) + `)`
		} else {
			query = `SELECT ci_id, value FROM ci_attr_values WHERE attr_id IN (` + inList(len(f.attrs)) + `) AND ci_id IN (` + inList(len(part)) + `)`
			args = int64Args(f.attrs)
		}
		rows, err := q.QueryContext(ctx, query, append(args, int64Args(part)...)...)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.name, err)
		}
		for rows.Next() {
			var id int64
			var v string
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// identify finds the CI each row without an id updates, trying the rules in
// order; the first rule whose fields the row fills and whose key some CI
// holds decides. Several CIs holding the key, or a CI of another class, is
// the row's error: an import never guesses and never changes a CI's class.
func (s *Service) identify(ctx context.Context, rows []ciRow, rules []identRule, bad *rowErrors) error {
	pending := make([]int, 0, len(rows))
	for i := range rows {
		if !rows[i].bad && !rows[i].byID {
			pending = append(pending, i)
		}
	}
	if len(pending) == 0 {
		return nil
	}
	// Every rule's keys are looked up at once, side by side on the reader
	// pool: in a file of new CIs every row reaches every rule anyway.
	type ruleMatch struct {
		found  map[string][]int64 // first field's value → CIs
		others []map[int64]string // other fields' values of those CIs
		err    error
	}
	matches := make([]ruleMatch, len(rules))
	keys := make([][]string, len(pending)*len(rules))
	for n, i := range pending {
		rows[i].keys = keys[n*len(rules) : (n+1)*len(rules) : (n+1)*len(rules)]
	}
	var wg sync.WaitGroup
	for ri, rule := range rules {
		wg.Go(func() {
			m := &matches[ri]
			seen := make(map[string]bool, len(pending))
			var firsts []string
			for _, i := range pending {
				k := rows[i].key(rule)
				rows[i].keys[ri] = k
				if k != nil && !seen[k[0]] {
					seen[k[0]] = true
					firsts = append(firsts, k[0])
				}
			}
			if m.found, m.err = lookupValues(ctx, s.db, rule.fields[0], firsts); m.err != nil || len(rule.fields) == 1 {
				return
			}
			var cands []int64
			for _, ids := range m.found {
				cands = append(cands, ids...)
			}
			slices.Sort(cands)
			cands = slices.Compact(cands)
			m.others = make([]map[int64]string, len(rule.fields))
			for j := 1; j < len(rule.fields) && m.err == nil; j++ {
				m.others[j], m.err = valuesOf(ctx, s.db, rule.fields[j], cands)
			}
		})
	}
	wg.Wait()
	done := make([]bool, len(pending))
	for ri, rule := range rules {
		m := &matches[ri]
		if m.err != nil {
			return m.err
		}
		for n, i := range pending {
			k := rows[i].keys[ri]
			if done[n] || k == nil {
				continue
			}
			var match []int64
		cand:
			for _, id := range m.found[k[0]] {
				for j := 1; j < len(k); j++ {
					if m.others[j][id] != k[j] {
						continue cand
					}
				}
				match = append(match, id)
			}
			r := &rows[i]
			switch {
			case len(match) > 1:
				bad.add(r.line, "", fmt.Sprintf("CIs %s all match by %s; name the one to update in the id column", joinIDs(match), rule.name))
				r.bad, done[n] = true, true
			case len(match) == 1:
				r.id, r.rule, done[n] = match[0], rule.name, true
			}
		}
	}
	return nil
}

// key is the row's identification key for a rule, in index form, or nil
// when the row leaves one of the rule's fields empty.
func (r *ciRow) key(rule identRule) []string {
	k := make([]string, len(rule.fields))
	for j, f := range rule.fields {
		var v string
		if f.attrs == nil {
			v = strings.TrimSpace(r.name)
		} else if a, ok := r.attrs[f.name]; ok {
			v = IndexValue(a)
		}
		if v == "" {
			return nil
		}
		k[j] = v
	}
	return k
}

// identKey is the row's key for rules[ri], as identify worked it out.
func (r *ciRow) identKey(ri int, rule identRule) []string {
	if r.keys == nil {
		return r.key(rule)
	}
	return r.keys[ri]
}

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}
