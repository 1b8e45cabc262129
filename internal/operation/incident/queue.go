package incident

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

// queueList describes how the desk queue is sorted: by priority, then age
// (oldest first), by default.
var queueList = listing.Spec{
	Columns: map[string]listing.Column{
		"priority":  {SQL: "r.priority", Sortable: true, Kind: "int"},
		"createdAt": {SQL: "r.created_at", Sortable: true, Kind: "int"},
		"updatedAt": {SQL: "r.updated_at", Sortable: true, Kind: "int"},
		"number":    {SQL: "r.number", Sortable: true, Kind: "text"},
		"state":     {SQL: "r.state", Sortable: true, Kind: "text"},
	},
	DefaultSort: "priority,createdAt",
	IDColumn:    "r.id",
}

var paths = []string{PathNormal, PathMajor, PathSecurity}

// stateNames lists the incident's states.
var stateNames = []string{StateNew, StateInProgress, StateOnHold, StateResolved, StateClosed, StateCancelled, StateReclassified}

// Queue pages the incidents matching f that the caller may see, by priority
// then age unless p sorts otherwise, with the names the desk shows: one count
// and one page query, however long the page. Security incidents the caller
// may not see are left out by the SQL, never after it.
func (s *Service) Queue(ctx context.Context, f QueueFilter, p listing.Params) (page listing.Page[Incident], total int64, err error) {
	defer errs.Wrap(&err, "list incidents")
	ctx = begin(ctx)
	page.Items = []Incident{}
	pr, err := principal(ctx)
	if err != nil {
		return page, 0, err
	}
	var fe fieldErrs
	if f.State != "" && !slices.Contains(stateNames, f.State) {
		fe.add("query.state", "one of "+strings.Join(stateNames, ", "), f.State)
	}
	if f.Path != "" && !slices.Contains(paths, f.Path) {
		fe.add("query.path", "one of normal, major, security", f.Path)
	}
	if f.Priority < 0 || f.Priority > 5 {
		fe.add("query.priority", "1 to 5", f.Priority)
	}
	if f.Category != "" && !ValidKey(f.Category) {
		fe.add("query.category", "not a category key", f.Category)
	}
	if err := fe.err(); err != nil {
		return page, 0, err
	}
	p.Fields = ""
	lf := []listing.Filter{{Where: "r.type = ?", Args: []any{Type}}}
	add := func(cond string, args ...any) { lf = append(lf, listing.Filter{Where: cond, Args: args}) }
	if f.TeamID != 0 {
		add("r.team_id = ?", f.TeamID)
	}
	if f.AssigneeID != 0 {
		add("r.assignee_id = ?", f.AssigneeID)
	}
	if f.CallerID != 0 {
		add("r.requester_id = ?", f.CallerID)
	}
	if f.Unassigned {
		add("r.assignee_id IS NULL")
	}
	if f.State != "" {
		add("r.state = ?", f.State)
	}
	if f.Open != nil {
		add("r.closed = ?", !*f.Open)
	}
	joinsRow := false // whether a filter reads the incident's own row
	if f.Path != "" {
		add("i.path = ?", f.Path)
		joinsRow = true
	}
	if f.Priority != 0 {
		add("r.priority = ?", f.Priority)
	}
	if f.ServiceID != 0 {
		add("r.service_id = ?", f.ServiceID)
	}
	if f.CIID != 0 {
		add("i.ci_id = ?", f.CIID)
		joinsRow = true
	}
	if f.Category != "" {
		add("i.category = ?", f.Category)
		joinsRow = true
	}
	from := ` FROM records r`
	if strings.TrimSpace(f.Query) != "" {
		terms := searchTerms(f.Query)
		if len(terms) == 0 {
			return page, 0, nil
		}
		join, cond, arg := textMatch(s.db.Engine(), terms)
		from += join
		add(cond, arg)
	}
	cond, args, err := s.securityCond(ctx, pr)
	if err != nil {
		return page, 0, err
	}
	if cond != "" {
		add(cond, args...)
	}
	lq, err := queueList.Build(p, lf)
	if err != nil {
		return page, 0, err
	}
	count := from
	if joinsRow {
		count += ` JOIN incidents i ON i.record_id = r.id`
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+count+lq.Where, lq.Args...).Scan(&total); err != nil {
		return page, 0, fmt.Errorf("count incidents: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+viewCols+from+viewJoins+lq.Where+lq.Page, append(lq.Args, lq.PageArgs...)...)
	if err != nil {
		return page, 0, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		inc, _, err := scanView(rows)
		if err != nil {
			return page, 0, fmt.Errorf("list incidents: %w", err)
		}
		notePath(ctx, inc.ID, inc.Path)
		page.Items = append(page.Items, inc)
	}
	if err := rows.Err(); err != nil {
		return page, 0, err
	}
	if len(page.Items) > lq.Limit {
		page.Items = page.Items[:lq.Limit]
		last := page.Items[lq.Limit-1]
		var vals []any
		for _, field := range lq.SortValues() {
			switch field {
			case "priority":
				vals = append(vals, int64(last.Priority))
			case "createdAt":
				vals = append(vals, last.CreatedAt.UnixMilli())
			case "updatedAt":
				vals = append(vals, last.UpdatedAt.UnixMilli())
			case "number":
				vals = append(vals, last.Number)
			case "state":
				vals = append(vals, last.State)
			}
		}
		page.NextCursor = lq.NextCursor(vals, last.ID)
	}
	return page, total, nil
}

// textMatch returns the join and condition that keep the records matching
// terms through the kernel's full-text index: SQLite's FTS5 table or
// PostgreSQL's tsvector column. Every term is quoted as a prefix, ANDed.
func textMatch(e db.Engine, terms []string) (join, cond string, arg any) {
	if e == db.Postgres {
		q := make([]string, len(terms))
		for i, t := range terms {
			q[i] = `'` + strings.ReplaceAll(t, `'`, `''`) + `':*`
		}
		return "", `r.search @@ to_tsquery('english', ?)`, strings.Join(q, " & ")
	}
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"*`
	}
	return ` JOIN record_fts ON record_fts.rowid = r.id`, `record_fts MATCH ?`, strings.Join(q, " ")
}
