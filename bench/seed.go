package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"steward/internal/platform/db"
)

// The seeding below writes straight into the tables with database/sql in large
// transactions, bypassing the services (so no audit entries or events). It is a
// stand-in: the data generator of a later issue replaces this file.

// seedBatch is the rows per INSERT statement: 5 parameters a row stays far below
// both engines' parameter limits (SQLite 32766, PostgreSQL 65535).
const seedBatch = 1000

// seedTxRows is the rows per transaction.
const seedTxRows = 50_000

// seedTeams inserts n teams named "seed-team-NNNNNNN" into the migrated, otherwise
// unused database that cfg opens, and returns the ids of all seeded teams.
func seedTeams(ctx context.Context, cfg db.Config, n int) ([]int64, error) {
	d, err := db.Open(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store for seeding: %w", err)
	}
	defer d.Close()
	w := d.Writer()
	now := time.Now().UTC().UnixMilli()
	stmts := map[int]string{}
	for done := 0; done < n; {
		txRows := min(seedTxRows, n-done)
		tx, err := w.BeginTx(ctx, nil)
		if err != nil {
			return nil, fmt.Errorf("seed teams: begin: %w", err)
		}
		for off := 0; off < txRows; off += seedBatch {
			rows := min(seedBatch, txRows-off)
			q, ok := stmts[rows]
			if !ok {
				q = d.Rebind(`INSERT INTO teams (name, description, email, created_at, updated_at) VALUES ` +
					strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?), ", rows), ", "))
				stmts[rows] = q
			}
			args := make([]any, 0, rows*5)
			for i := range rows {
				k := done + off + i + 1
				args = append(args, fmt.Sprintf("seed-team-%07d", k), fmt.Sprintf("Seeded team number %d", k),
					fmt.Sprintf("team%d@example.org", k), now, now)
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				_ = tx.Rollback()
				return nil, fmt.Errorf("seed teams: insert: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return nil, fmt.Errorf("seed teams: commit: %w", err)
		}
		done += txRows
	}
	if d.Engine() == db.Postgres {
		// Fresh statistics, as autovacuum would have them on a database that grew slowly.
		if _, err := w.ExecContext(ctx, `ANALYZE teams`); err != nil {
			return nil, fmt.Errorf("analyze teams: %w", err)
		}
	}
	return seededTeamIDs(ctx, d)
}

// seededTeamIDs lists the ids of the seeded teams.
func seededTeamIDs(ctx context.Context, d *db.DB) ([]int64, error) {
	rows, err := d.QueryContext(ctx, `SELECT id FROM teams WHERE name LIKE 'seed-team-%' ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list seeded teams: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list seeded teams: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
