package record

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

// textIndex is the full-text index over records, one implementation per
// engine behind this one interface: SQLite FTS5 (a contentless table the store
// keeps in step in the same transaction) and PostgreSQL tsvector (a generated
// column under a GIN index, which keeps itself in step).
type textIndex interface {
	// put indexes r, or indexes it again after its number, title or description changed.
	put(ctx context.Context, tx *db.Tx, r Record) error
	// match returns the SQL that narrows "FROM records r" to the records
	// matching terms, and the expression that ranks them best first.
	match(terms []string) matchSQL
}

// matchSQL is an engine's contribution to a search query.
type matchSQL struct {
	// Join follows "FROM records r"; JoinArgs are its arguments.
	Join     string
	JoinArgs []any
	// Cond is the WHERE condition; CondArgs are its arguments.
	Cond     string
	CondArgs []any
	// Order ranks matches, best first.
	Order string
}

func newTextIndex(e db.Engine) textIndex {
	if e == db.Postgres {
		return pgText{}
	}
	return sqliteText{}
}

// sqliteText is FTS5 over the contentless record_fts table, rowid = records.id.
type sqliteText struct{}

func (sqliteText) put(ctx context.Context, tx *db.Tx, r Record) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM record_fts WHERE rowid = ?`, r.ID); err != nil {
		return fmt.Errorf("unindex record %s: %w", r.Number, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO record_fts (rowid, number, title, description) VALUES (?, ?, ?, ?)`,
		r.ID, r.Number, r.Title, r.Description); err != nil {
		return fmt.Errorf("index record %s: %w", r.Number, err)
	}
	return nil
}

// ftsQuery quotes every term as an FTS5 string (a quote inside is doubled,
// though searchTerms leaves none) and makes it a prefix, so that no operator,
// column filter or bracket from the user reaches FTS5; terms are ANDed.
func ftsQuery(terms []string) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"*`
	}
	return strings.Join(q, " ")
}

func (sqliteText) match(terms []string) matchSQL {
	return matchSQL{
		Join:     ` JOIN record_fts ON record_fts.rowid = r.id`,
		Cond:     `record_fts MATCH ?`,
		CondArgs: []any{ftsQuery(terms)},
		// bm25 is lower for better matches; the number and title weigh more than the description.
		Order: `bm25(record_fts, 10.0, 4.0, 1.0)`,
	}
}

// pgText is the generated records.search tsvector.
type pgText struct{}

func (pgText) put(context.Context, *db.Tx, Record) error { return nil }

// tsQuery writes terms as a tsquery of quoted prefix lexemes ANDed together.
// Terms hold only letters, digits and marks, so the quoting cannot be escaped.
func tsQuery(terms []string) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `'` + strings.ReplaceAll(t, `'`, `''`) + `':*`
	}
	return strings.Join(q, " & ")
}

func (pgText) match(terms []string) matchSQL {
	return matchSQL{
		Join:     ` CROSS JOIN to_tsquery('english', ?) AS fq`,
		JoinArgs: []any{tsQuery(terms)},
		Cond:     `r.search @@ fq`,
		Order:    `ts_rank(r.search, fq) DESC`,
	}
}

// Filter narrows a listing or a search of records.
type Filter struct {
	// Query is free text; words match the number, title and description, ranked by relevance.
	Query string
	Type  string
	// Process keeps the records governed by this process.
	Process    string
	State      string
	TeamID     int64
	AssigneeID int64
	// Open, when set, keeps records whose closed flag is its opposite.
	Open *bool
}

// List describes how records are listed, sorted and filtered.
var List = listing.Spec{
	Columns: map[string]listing.Column{
		"id":         {SQL: "id", Sortable: true, Kind: "int"},
		"number":     {SQL: "number", Sortable: true, Kind: "text"},
		"type":       {SQL: "type", Kind: "text"},
		"process":    {SQL: "process", Kind: "text"},
		"state":      {SQL: "state", Sortable: true, Kind: "text"},
		"priority":   {SQL: "COALESCE(priority, 6)", Sortable: true, Kind: "int"},
		"teamId":     {SQL: "team_id", Kind: "int"},
		"assigneeId": {SQL: "assignee_id", Kind: "int"},
		"closed":     {SQL: "closed", Kind: "bool"},
		"createdAt":  {SQL: "created_at", Sortable: true, Kind: "int"},
		"updatedAt":  {SQL: "updated_at", Sortable: true, Kind: "int"},
	},
	Fields: []string{"id", "type", "number", "process", "title", "description", "state", "closed", "priority", "teamId", "assigneeId",
		"requesterId", "serviceId", "marking", "reassignments", "createdAt", "updatedAt", "version"},
	DefaultSort: "-createdAt",
	IDColumn:    "id",
}

// searchCursor is the opaque cursor of a ranked search: how many matches came before.
type searchCursor struct {
	Offset int `json:"o"`
}

// Search lists records: by relevance when the filter has a query, else in the
// order p.Sort asks for with keyset pages. It returns one page and the total
// count of matches. A query without a single word finds nothing.
func (s *Service) Search(ctx context.Context, f Filter, p listing.Params) (page listing.Page[Record], total int64, err error) {
	defer errs.Wrap(&err, "search records")
	page.Items = []Record{}
	if strings.TrimSpace(f.Query) != "" {
		return s.searchText(ctx, f, p)
	}
	var lf []listing.Filter
	if f.Type != "" {
		lf = append(lf, listing.Filter{Field: "type", Value: f.Type})
	}
	if f.Process != "" {
		lf = append(lf, listing.Filter{Field: "process", Value: f.Process})
	}
	if f.State != "" {
		lf = append(lf, listing.Filter{Field: "state", Value: f.State})
	}
	if f.TeamID != 0 {
		lf = append(lf, listing.Filter{Field: "teamId", Value: f.TeamID})
	}
	if f.AssigneeID != 0 {
		lf = append(lf, listing.Filter{Field: "assigneeId", Value: f.AssigneeID})
	}
	if f.Open != nil {
		lf = append(lf, listing.Filter{Field: "closed", Value: !*f.Open})
	}
	vis, visArgs, err := s.visibleWhere(ctx, f.Type)
	if err != nil {
		return page, 0, err
	}
	if vis != "" {
		lf = append(lf, listing.Filter{Where: vis, Args: visArgs})
	}
	q, err := List.Build(p, lf)
	if err != nil {
		return page, 0, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records r`+q.Where, q.Args...).Scan(&total); err != nil {
		return page, 0, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+recordCols+` FROM records r`+q.Where+q.Page, append(q.Args, q.PageArgs...)...)
	if err != nil {
		return page, 0, err
	}
	items, err := scanRecords(rows)
	if err != nil {
		return page, 0, err
	}
	if len(items) > q.Limit {
		items = items[:q.Limit]
		last := items[q.Limit-1]
		var vals []any
		for _, field := range q.SortValues() {
			switch field {
			case "id":
				vals = append(vals, last.ID)
			case "number":
				vals = append(vals, last.Number)
			case "state":
				vals = append(vals, last.State)
			case "priority":
				pr := int64(last.Priority)
				if pr == 0 {
					pr = 6
				}
				vals = append(vals, pr)
			case "createdAt":
				vals = append(vals, last.CreatedAt.UnixMilli())
			case "updatedAt":
				vals = append(vals, last.UpdatedAt.UnixMilli())
			}
		}
		page.NextCursor = q.NextCursor(vals, last.ID)
	}
	page.Items = s.visibleOnly(ctx, items)
	return page, total, nil
}

func (s *Service) searchText(ctx context.Context, f Filter, p listing.Params) (page listing.Page[Record], total int64, err error) {
	page.Items = []Record{}
	if p.Sort != "" {
		return page, 0, errs.Field("query.sort", "search results are ranked by relevance; leave sort out when you give q", p.Sort)
	}
	if err := List.CheckFields(p.Fields); err != nil {
		return page, 0, err
	}
	if p.Limit <= 0 {
		p.Limit = 50
	}
	if p.Limit > listing.MaxLimit {
		return page, 0, errs.Field("query.limit", fmt.Sprintf("at most %d", listing.MaxLimit), p.Limit)
	}
	var cur searchCursor
	if p.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(p.Cursor)
		if err != nil || json.Unmarshal(b, &cur) != nil || cur.Offset <= 0 {
			return page, 0, errs.Field("query.cursor", "not a cursor this list issued", nil)
		}
	}
	terms := searchTerms(f.Query)
	if len(terms) == 0 {
		return page, 0, nil
	}
	m := s.text.match(terms)
	where := " WHERE " + m.Cond
	args := append(append([]any{}, m.JoinArgs...), m.CondArgs...)
	add := func(cond string, v any) { where += " AND " + cond; args = append(args, v) }
	if f.Type != "" {
		add("r.type = ?", f.Type)
	}
	if f.Process != "" {
		add("r.process = ?", f.Process)
	}
	if f.State != "" {
		add("r.state = ?", f.State)
	}
	if f.TeamID != 0 {
		add("r.team_id = ?", f.TeamID)
	}
	if f.AssigneeID != 0 {
		add("r.assignee_id = ?", f.AssigneeID)
	}
	if f.Open != nil {
		add("r.closed = ?", !*f.Open)
	}
	vis, visArgs, err := s.visibleWhere(ctx, f.Type)
	if err != nil {
		return page, 0, err
	}
	if vis != "" {
		where += " AND " + vis
		args = append(args, visArgs...)
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records r`+m.Join+where, args...).Scan(&total); err != nil {
		return page, 0, err
	}
	cols := "r." + strings.ReplaceAll(recordCols, ", ", ", r.")
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+` FROM records r`+m.Join+where+` ORDER BY `+m.Order+`, r.id LIMIT ? OFFSET ?`,
		append(args, p.Limit+1, cur.Offset)...)
	if err != nil {
		return page, 0, err
	}
	items, err := scanRecords(rows)
	if err != nil {
		return page, 0, err
	}
	if len(items) > p.Limit {
		items = items[:p.Limit]
		b, _ := json.Marshal(searchCursor{Offset: cur.Offset + p.Limit})
		page.NextCursor = base64.RawURLEncoding.EncodeToString(b)
	}
	page.Items = s.visibleOnly(ctx, items)
	return page, total, nil
}

// visibleWhere joins the VisibleWhere conditions of the registered types (of
// typeName alone when given) into one condition on "records r": a record of
// such a type is kept only when its type's condition holds.
func (s *Service) visibleWhere(ctx context.Context, typeName string) (string, []any, error) {
	s.mu.RLock()
	types := make([]*Type, 0, len(s.types))
	for _, t := range s.types {
		if t.VisibleWhere != nil && (typeName == "" || t.Name == typeName) {
			types = append(types, t)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(types, func(a, b *Type) int { return strings.Compare(a.Name, b.Name) })
	p := auth.PrincipalFrom(ctx)
	var conds []string
	var args []any
	for _, t := range types {
		cond, a, err := t.VisibleWhere(ctx, p)
		if err != nil {
			return "", nil, fmt.Errorf("visibility of %s: %w", t.Name, err)
		}
		if cond == "" {
			continue
		}
		conds = append(conds, "(r.type <> ? OR "+cond+")")
		args = append(append(args, t.Name), a...)
	}
	return strings.Join(conds, " AND "), args, nil
}

func scanRecords(rows interface {
	scanner
	Next() bool
	Err() error
	Close() error
}) ([]Record, error) {
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
