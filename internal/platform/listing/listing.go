// Package listing turns the list conventions of the API (limit, cursor, sort,
// field filters and field selection) into safe SQL with keyset pagination.
package listing

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/errs"
)

// MaxLimit is the largest page a list endpoint returns.
const MaxLimit = 500

// Params are the list query parameters every list endpoint accepts.
type Params struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
	Sort   string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields; a leading '-' sorts descending."`
	Fields string `query:"fields" maxLength:"1000" doc:"Comma-separated fields to return; all when empty."`
}

// FieldsParam is the field selection a single-record GET accepts.
type FieldsParam struct {
	Fields string `query:"fields" maxLength:"1000" doc:"Comma-separated fields to return; all when empty."`
}

// Column describes one sortable or filterable field.
type Column struct {
	// SQL is the column expression; it is never taken from input.
	SQL string
	// Sortable allows sort on this field.
	Sortable bool
	// Kind is "text" or "int"; cursors round-trip values of this kind.
	Kind string
}

// Spec describes a listable resource.
type Spec struct {
	// Columns maps API field names to columns.
	Columns map[string]Column
	// Fields are the API field names a caller may select.
	Fields []string
	// DefaultSort is used when the caller gives none, e.g. "name".
	DefaultSort string
	// IDColumn is the unique tie-breaker, e.g. "id".
	IDColumn string
}

// Query is a built list query.
type Query struct {
	// Where is " WHERE …" for the filters (without the cursor), or "".
	Where string
	// Args are the filter arguments.
	Args []any
	// Page is " AND/WHERE cursor… ORDER BY … LIMIT ?" to append after Where.
	Page string
	// PageArgs are its arguments.
	PageArgs []any
	// Limit is the page size asked for; one more row is fetched to detect a next page.
	Limit    int
	sortKeys []sortKey
	idCol    string
}

type sortKey struct {
	field string
	col   Column
	desc  bool
}

// Filter is one equality (or prefix, with Prefix) condition from a query parameter.
type Filter struct {
	Field  string
	Value  any
	Prefix bool
	// Where, when set, is a condition the area wrote itself (never from input),
	// such as "class_id IN (?, ?)", with its arguments in Args; Field is then ignored.
	Where string
	Args  []any
}

// Build validates p and the filters against the spec and returns SQL fragments.
func (s Spec) Build(p Params, filters []Filter) (*Query, error) {
	var fe []errs.FieldError
	if p.Limit <= 0 {
		p.Limit = 50
	}
	if p.Limit > MaxLimit {
		fe = append(fe, errs.FieldError{Location: "query.limit", Message: fmt.Sprintf("at most %d", MaxLimit), Value: p.Limit})
	}
	if err := s.CheckFields(p.Fields); err != nil {
		return nil, err
	}
	q := &Query{Limit: p.Limit, idCol: s.IDColumn}
	sortSpec := p.Sort
	if sortSpec == "" {
		sortSpec = s.DefaultSort
	}
	for _, part := range strings.Split(sortSpec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		desc := strings.HasPrefix(part, "-")
		name := strings.TrimPrefix(part, "-")
		c, ok := s.Columns[name]
		if !ok || !c.Sortable {
			fe = append(fe, errs.FieldError{Location: "query.sort", Message: "cannot sort by this field; sortable: " + strings.Join(s.sortable(), ", "), Value: name})
			continue
		}
		q.sortKeys = append(q.sortKeys, sortKey{field: name, col: c, desc: desc})
	}
	var where []string
	for _, f := range filters {
		if f.Where != "" {
			where = append(where, "("+f.Where+")")
			q.Args = append(q.Args, f.Args...)
			continue
		}
		c, ok := s.Columns[f.Field]
		if !ok {
			fe = append(fe, errs.FieldError{Location: "query." + f.Field, Message: "cannot filter by this field"})
			continue
		}
		if f.Prefix {
			where = append(where, c.SQL+" LIKE ? ESCAPE '\\'")
			q.Args = append(q.Args, escapeLike(fmt.Sprint(f.Value))+"%")
		} else {
			where = append(where, c.SQL+" = ?")
			q.Args = append(q.Args, f.Value)
		}
	}
	if len(fe) > 0 {
		return nil, errs.WithFields(fe)
	}
	if len(where) > 0 {
		q.Where = " WHERE " + strings.Join(where, " AND ")
	}
	var cond string
	if p.Cursor != "" {
		vals, err := decodeCursor(p.Cursor, len(q.sortKeys)+1)
		if err != nil {
			return nil, errs.Field("query.cursor", "not a cursor this list issued", nil)
		}
		cond, q.PageArgs, err = q.after(vals)
		if err != nil {
			return nil, errs.Field("query.cursor", "not a cursor this list issued", nil)
		}
	}
	var b strings.Builder
	if cond != "" {
		if q.Where == "" {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		b.WriteString(cond)
	}
	b.WriteString(" ORDER BY ")
	for _, k := range q.sortKeys {
		b.WriteString(k.col.SQL)
		if k.desc {
			b.WriteString(" DESC")
		}
		b.WriteString(", ")
	}
	b.WriteString(s.IDColumn)
	b.WriteString(" LIMIT ?")
	q.PageArgs = append(q.PageArgs, p.Limit+1)
	q.Page = b.String()
	return q, nil
}

func (s Spec) sortable() []string {
	var out []string
	for name, c := range s.Columns {
		if c.Sortable {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// CheckFields validates a fields= selection.
func (s Spec) CheckFields(fields string) error {
	if fields == "" {
		return nil
	}
	for _, f := range strings.Split(fields, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(s.Fields, f) {
			return errs.Field("query.fields", "unknown field; fields: "+strings.Join(s.Fields, ", "), f)
		}
	}
	return nil
}

// after builds the keyset condition "row comes after vals" for the sort keys plus the id.
func (q *Query) after(vals []any) (string, []any, error) {
	keys := append(slices.Clone(q.sortKeys), sortKey{col: Column{SQL: q.idCol, Kind: "int"}})
	var ors []string
	var args []any
	for i := range keys {
		var ands []string
		for j := 0; j < i; j++ {
			ands = append(ands, keys[j].col.SQL+" = ?")
			v, err := norm(vals[j], keys[j].col.Kind)
			if err != nil {
				return "", nil, err
			}
			args = append(args, v)
		}
		op := " > ?"
		if keys[i].desc {
			op = " < ?"
		}
		ands = append(ands, keys[i].col.SQL+op)
		v, err := norm(vals[i], keys[i].col.Kind)
		if err != nil {
			return "", nil, err
		}
		args = append(args, v)
		ors = append(ors, "("+strings.Join(ands, " AND ")+")")
	}
	return "(" + strings.Join(ors, " OR ") + ")", args, nil
}

func norm(v any, kind string) (any, error) {
	switch kind {
	case "int":
		f, ok := v.(float64)
		if !ok {
			return nil, fmt.Errorf("cursor value is not a number")
		}
		return int64(f), nil
	default:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("cursor value is not text")
		}
		return s, nil
	}
}

// SortValues names the fields whose values a row must report for NextCursor, in order.
func (q *Query) SortValues() []string {
	out := make([]string, len(q.sortKeys))
	for i, k := range q.sortKeys {
		out[i] = k.field
	}
	return out
}

// NextCursor encodes the cursor after the last row, given that row's sort values and id.
func (q *Query) NextCursor(sortValues []any, id int64) string {
	b, _ := json.Marshal(append(slices.Clone(sortValues), id))
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, n int) ([]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	var vals []any
	if err := json.Unmarshal(b, &vals); err != nil {
		return nil, err
	}
	if len(vals) != n {
		return nil, fmt.Errorf("cursor has %d values, want %d", len(vals), n)
	}
	return vals, nil
}

func escapeLike(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s)
}

// Page is the body of every list response.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty" doc:"Pass as cursor to get the next page; absent on the last page."`
}

// NextLink is the Link header value that continues a list after cursor: the same
// path, limit, sort, field selection and filters (empty and "0" filter values are
// left out). It is "" on the last page.
func NextLink(path string, p Params, filters url.Values, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := url.Values{}
	for k, vs := range filters {
		for _, v := range vs {
			if v != "" && v != "0" {
				q.Add(k, v)
			}
		}
	}
	if p.Limit > 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Sort != "" {
		q.Set("sort", p.Sort)
	}
	if p.Fields != "" {
		q.Set("fields", p.Fields)
	}
	q.Set("cursor", cursor)
	return "<" + path + "?" + q.Encode() + `>; rel="next"`
}
