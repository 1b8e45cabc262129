package listing

import (
	"context"
	"fmt"

	"steward/internal/platform/db"
)

// Scanner is a row that can be scanned: *sql.Row or *sql.Rows.
type Scanner interface{ Scan(dest ...any) error }

// Source says how to read one kind of listable row.
type Source[T any] struct {
	// Spec validates the parameters and builds the SQL fragments.
	Spec Spec
	// From is the FROM clause, e.g. "teams".
	From string
	// Columns is the select list that Scan reads.
	Columns string
	// Scan reads one row.
	Scan func(Scanner) (T, error)
	// Key returns an item's value of a sortable field (as the cursor stores it) and its id.
	Key func(item T, field string) any
	// ID returns the item's id, the cursor's tie-breaker.
	ID func(item T) int64
}

// Fetch counts the matches and reads one page of them, with the cursor of the next page.
func Fetch[T any](ctx context.Context, q db.Queryer, src Source[T], p Params, filters []Filter) (page Page[T], total int64, err error) {
	lq, err := src.Spec.Build(p, filters)
	if err != nil {
		return page, 0, err
	}
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+src.From+lq.Where, lq.Args...).Scan(&total); err != nil {
		return page, 0, fmt.Errorf("count %s: %w", src.From, err)
	}
	rows, err := q.QueryContext(ctx, `SELECT `+src.Columns+` FROM `+src.From+lq.Where+lq.Page, append(lq.Args, lq.PageArgs...)...)
	if err != nil {
		return page, 0, fmt.Errorf("list %s: %w", src.From, err)
	}
	defer rows.Close()
	page.Items = []T{}
	for rows.Next() {
		it, err := src.Scan(rows)
		if err != nil {
			return page, 0, fmt.Errorf("scan %s: %w", src.From, err)
		}
		page.Items = append(page.Items, it)
	}
	if err := rows.Err(); err != nil {
		return page, 0, fmt.Errorf("list %s: %w", src.From, err)
	}
	if len(page.Items) > lq.Limit {
		page.Items = page.Items[:lq.Limit]
		last := page.Items[lq.Limit-1]
		var vals []any
		for _, f := range lq.SortValues() {
			vals = append(vals, src.Key(last, f))
		}
		page.NextCursor = lq.NextCursor(vals, src.ID(last))
	}
	return page, total, nil
}
