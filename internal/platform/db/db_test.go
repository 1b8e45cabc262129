package db_test

import (
	"context"
	"errors"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

func TestMigrationFoldersAgree(t *testing.T) {
	if err := db.CheckMigrations(); err != nil {
		t.Fatal(err)
	}
}

func TestDialect(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		t.Run("upsert and returning", func(t *testing.T) {
			var v int64
			for i := 0; i < 3; i++ {
				err := d.InTx(ctx, func(tx *db.Tx) error {
					return tx.QueryRowContext(ctx, `INSERT INTO counters (name, value) VALUES (?, 1)
						ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value`, "x").Scan(&v)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			if v != 3 {
				t.Fatalf("counter = %d, want 3", v)
			}
		})
		t.Run("recursive", func(t *testing.T) {
			var n int64
			err := d.QueryRowContext(ctx, `WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < ?) SELECT COUNT(*) FROM r`, 10).Scan(&n)
			if err != nil || n != 10 {
				t.Fatalf("recursive count = %d, %v", n, err)
			}
		})
		t.Run("json extraction", func(t *testing.T) {
			var s string
			if err := d.QueryRowContext(ctx, `SELECT CAST(? AS TEXT)`, `{"a":"b"}`).Scan(&s); err != nil {
				t.Fatal(err)
			}
		})
		t.Run("rollback runs no after-commit hook", func(t *testing.T) {
			ran := false
			boom := errors.New("boom")
			err := d.InTx(ctx, func(tx *db.Tx) error {
				tx.OnCommit(func() { ran = true })
				if _, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('rolled', 1)`); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) || ran {
				t.Fatalf("err = %v, hook ran = %v", err, ran)
			}
			var n int
			d.QueryRowContext(ctx, `SELECT COUNT(*) FROM counters WHERE name = 'rolled'`).Scan(&n)
			if n != 0 {
				t.Fatal("rolled-back row is visible")
			}
		})
		t.Run("end hooks run after a rollback and a commit, with the writer free", func(t *testing.T) {
			boom := errors.New("boom")
			for _, fail := range []bool{true, false} {
				wrote := false
				err := d.InTx(ctx, func(tx *db.Tx) error {
					tx.OnEnd(func() {
						// A write of its own: it would wait forever for SQLite's one writer
						// connection if the transaction still held it.
						wrote = d.InTx(ctx, func(tx *db.Tx) error {
							_, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES (?, 1)
								ON CONFLICT (name) DO UPDATE SET value = counters.value + 1`, "ended")
							return err
						}) == nil
					})
					if fail {
						return boom
					}
					return nil
				})
				if fail != errors.Is(err, boom) || !wrote {
					t.Fatalf("fail %v: err = %v, end hook wrote = %v", fail, err, wrote)
				}
			}
			var n int
			d.QueryRowContext(ctx, `SELECT value FROM counters WHERE name = 'ended'`).Scan(&n)
			if n != 2 {
				t.Fatalf("end hooks wrote %d times, want 2", n)
			}
		})
		t.Run("before-commit hooks run once per key, after-commit after", func(t *testing.T) {
			var order []string
			err := d.InTx(ctx, func(tx *db.Tx) error {
				for i := 0; i < 2; i++ {
					tx.BeforeCommit("k", func(ctx context.Context, tx *db.Tx) error {
						order = append(order, "before")
						_, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('hooked', 1)`)
						return err
					})
				}
				tx.OnCommit(func() { order = append(order, "after") })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(order) != 2 || order[0] != "before" || order[1] != "after" {
				t.Fatalf("order = %v", order)
			}
		})
		t.Run("unique violation is recognised", func(t *testing.T) {
			ins := func() error {
				return d.InTx(ctx, func(tx *db.Tx) error {
					_, err := tx.ExecContext(ctx, `INSERT INTO counters (name, value) VALUES ('dup', 1)`)
					return err
				})
			}
			if err := ins(); err != nil {
				t.Fatal(err)
			}
			if err := ins(); !db.IsUniqueViolation(err) {
				t.Fatalf("second insert: %v", err)
			}
		})
	})
}
