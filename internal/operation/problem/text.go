package problem

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/db"
)

// textIndex is the full-text index over known errors (title, symptoms and the
// effective workaround), one implementation per engine behind this interface,
// as the record kernel does for records: SQLite FTS5 (the contentless
// known_error_fts table) and PostgreSQL tsvector (known_errors.search under a
// GIN index). Both are written in the transaction that writes the known error,
// and so is the known error's row of words (putWords), which says cheaply how
// common a word is.
type textIndex interface {
	// put indexes a known error, or indexes it again after its text changed.
	put(ctx context.Context, tx *db.Tx, id int64, title, symptoms, workaround string) error
	// anyWord returns a query of the ids of the published known errors holding
	// any of terms (each as a word, stemmed by the engine), best first, at most limit.
	anyWord(terms []string, limit int) (string, []any)
	// everyWord returns a condition on "known_errors k" keeping the known errors
	// that hold every one of terms.
	everyWord(terms []string) (string, []any)
}

func newTextIndex(e db.Engine) textIndex {
	if e == db.Postgres {
		return pgText{}
	}
	return sqliteText{}
}

// ftsQuery quotes every term as an FTS5 string (terms hold only letters,
// digits and marks; a quote would be doubled), a prefix when prefix is set,
// joined by op, so that no operator, column filter or bracket of the caller's
// text reaches FTS5.
func ftsQuery(terms []string, op string, prefix bool) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if prefix {
			q[i] += "*"
		}
	}
	return strings.Join(q, op)
}

// tsQuery writes terms as a tsquery of quoted lexemes, prefixes when prefix
// is set, joined by op.
func tsQuery(terms []string, op string, prefix bool) string {
	q := make([]string, len(terms))
	for i, t := range terms {
		q[i] = `'` + strings.ReplaceAll(t, `'`, `''`) + `'`
		if prefix {
			q[i] += ":*"
		}
	}
	return strings.Join(q, op)
}

// sqliteText is FTS5 over known_error_fts, rowid = known_errors.record_id.
type sqliteText struct{}

func (sqliteText) put(ctx context.Context, tx *db.Tx, id int64, title, symptoms, workaround string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM known_error_fts WHERE rowid = ?`, id); err != nil {
		return fmt.Errorf("unindex known error %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO known_error_fts (rowid, title, symptoms, workaround) VALUES (?, ?, ?, ?)`,
		id, title, symptoms, workaround); err != nil {
		return fmt.Errorf("index known error %d: %w", id, err)
	}
	return nil
}

func (sqliteText) anyWord(terms []string, limit int) (string, []any) {
	// bm25 is lower for better matches; the title weighs more than the symptoms,
	// those more than the workaround. CROSS JOIN keeps the full-text match the
	// outer loop: SQLite would otherwise walk the published known errors.
	return `SELECT known_error_fts.rowid AS id FROM known_error_fts CROSS JOIN known_errors kt ON kt.record_id = known_error_fts.rowid
		WHERE known_error_fts MATCH ? AND kt.state = ? ORDER BY bm25(known_error_fts, 3.0, 2.0, 1.0) LIMIT ?`,
		[]any{ftsQuery(terms, " OR ", false), Published, limit}
}

func (sqliteText) everyWord(terms []string) (string, []any) {
	return `k.record_id IN (SELECT rowid FROM known_error_fts WHERE known_error_fts MATCH ?)`, []any{ftsQuery(terms, " ", true)}
}

// pgText is the known_errors.search tsvector.
type pgText struct{}

func (pgText) put(ctx context.Context, tx *db.Tx, id int64, title, symptoms, workaround string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE known_errors SET search = setweight(to_tsvector('english', ?), 'A') ||
		setweight(to_tsvector('english', ?), 'B') || setweight(to_tsvector('english', ?), 'C') WHERE record_id = ?`,
		title, symptoms, workaround, id); err != nil {
		return fmt.Errorf("index known error %d: %w", id, err)
	}
	return nil
}

func (pgText) anyWord(terms []string, limit int) (string, []any) {
	return `SELECT kt.record_id AS id FROM known_errors kt CROSS JOIN to_tsquery('english', ?) AS fq
		WHERE kt.search @@ fq AND kt.state = ? ORDER BY ts_rank(kt.search, fq) DESC, kt.record_id DESC LIMIT ?`,
		[]any{tsQuery(terms, " | ", false), Published, limit}
}

func (pgText) everyWord(terms []string) (string, []any) {
	return `k.search @@ to_tsquery('english', ?)`, []any{tsQuery(terms, " & ", true)}
}
