package problem_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"steward/internal/operation/problem"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/record"
)

// BenchmarkFindKnownErrors matches 30-word incident texts against a KEDB of
// 10,000 published known errors whose words follow a Zipf distribution (so
// some words are in nearly every known error), on each engine:
//
//	go test -run '^$' -bench FindKnownErrors ./internal/operation/problem/
func BenchmarkFindKnownErrors(b *testing.B) {
	for _, engine := range []db.Engine{db.SQLite, db.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			d := dbtest.Open(b, engine)
			e := newEnv(b, d)
			vocab := make([]string, 3000)
			for i := range vocab {
				vocab[i] = fmt.Sprintf("w%dx%s", i, strings.Repeat("q", i%5))
			}
			zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 2, uint64(len(vocab)-1))
			text := func(n int) string {
				words := make([]string, n)
				for i := range words {
					words[i] = vocab[zipf.Uint64()]
				}
				return strings.Join(words, " ")
			}
			seedKEDB(b, d, 10000, func(i int) (title, symptoms, workaround, category string) {
				return text(6), text(25), text(12), fmt.Sprint("c", i%20)
			})
			queries := make([]problem.KnownErrorQuery, 100)
			for i := range queries {
				queries[i] = problem.KnownErrorQuery{Text: text(30), CIID: int64(i), Category: "c3", Subcategory: "s", Limit: 5}
			}
			b.ResetTimer()
			for i := range b.N {
				if _, err := e.svc.FindKnownErrors(e.s, queries[i%len(queries)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// seedKEDB writes n published known errors with plain SQL, as the data
// generator would: records, rows, the full-text index, the words and their counts.
func seedKEDB(tb testing.TB, d *db.DB, n int, ke func(i int) (title, symptoms, workaround, category string)) {
	tb.Helper()
	ctx := context.Background()
	if err := d.InTx(ctx, func(tx *db.Tx) error {
		for i := range n {
			title, symptoms, workaround, category := ke(i)
			var id int64
			if err := tx.QueryRowContext(ctx, `INSERT INTO records (type, number, process, title, description, state, created_at, updated_at)
				VALUES ('known_error', ?, 'PM', ?, ?, 'published', 0, 0) RETURNING id`,
				record.FormatNumber("KX", int64(i+1)), title, symptoms).Scan(&id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO known_errors (record_id, state, workaround, category)
				VALUES (?, 'published', ?, ?)`, id, workaround, category); err != nil {
				return err
			}
			for _, w := range problem.WordsOf(title, symptoms, workaround) {
				if _, err := tx.ExecContext(ctx, `INSERT INTO known_error_words (word, record_id) VALUES (?, ?)`, w, id); err != nil {
					return err
				}
			}
			var err error
			if d.Engine() == db.Postgres {
				_, err = tx.ExecContext(ctx, `UPDATE known_errors SET search = setweight(to_tsvector('english', ?), 'A') ||
					setweight(to_tsvector('english', ?), 'B') || setweight(to_tsvector('english', ?), 'C') WHERE record_id = ?`,
					title, symptoms, workaround, id)
			} else {
				_, err = tx.ExecContext(ctx, `INSERT INTO known_error_fts (rowid, title, symptoms, workaround) VALUES (?, ?, ?, ?)`,
					id, title, symptoms, workaround)
			}
			if err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO known_error_word_counts (word, n) SELECT word, COUNT(*) FROM known_error_words GROUP BY word`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO known_error_word_counts (word, n) SELECT '', COUNT(*) FROM known_errors WHERE state = 'published'`)
		return err
	}); err != nil {
		tb.Fatal(err)
	}
	if d.Engine() == db.Postgres {
		if _, err := d.ExecContext(ctx, `ANALYZE`); err != nil {
			tb.Fatal(err)
		}
	}
}
