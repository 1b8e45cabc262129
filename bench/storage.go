package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
)

// storageScenarios measure what the storage alone can do, as ceilings for the
// scenarios that go through the server.
func storageScenarios() []Scenario {
	return []Scenario{{
		Name:  "platform.write.storage-limit",
		Phase: Offline,
		Measures: "The write of platform.write without HTTP, authentication or JSON handling: the same transaction " +
			"(team INSERT … RETURNING, audit.Trail.Record, outbox.Emit) through the project's db, audit and outbox " +
			"packages, in-process, against the same database after the server has stopped.",
		Setup: setupStorageWrite,
	}}
}

// setupStorageWrite opens the store the way the server does and returns one
// team-creating transaction as the operation.
func setupStorageWrite(ctx context.Context, env *Env) (Op, func(), error) {
	d, err := db.Open(ctx, env.Store)
	if err != nil {
		return nil, nil, fmt.Errorf("open store: %w", err)
	}
	trail := audit.NewTrail(clock.System{})
	events := outbox.New(clock.System{}, nil)
	var userID int64
	if err := d.QueryRowContext(ctx, `SELECT id FROM users WHERE username = ?`, benchUser).Scan(&userID); err != nil {
		d.Close()
		return nil, nil, fmt.Errorf("find the benchmark user: %w", err)
	}
	actor := audit.Actor{Type: "token", ID: userID, Name: benchUser}
	op := func(ctx context.Context, w *Worker) error {
		// What the server's middleware puts in the context of a request.
		rid := make([]byte, 12)
		_, _ = rand.Read(rid)
		ctx = audit.WithMeta(ctx, audit.Meta{Actor: actor, RequestID: hex.EncodeToString(rid), ClientAddr: "127.0.0.1"})
		name := teamName(env.RunID, "sql", w)
		return d.InTx(ctx, func(tx *db.Tx) error {
			now := time.Now().UTC().UnixMilli()
			var t auth.Team
			var c, u int64
			err := tx.QueryRowContext(ctx, `INSERT INTO teams (name, description, email, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?) RETURNING id, name, description, email, created_at, updated_at, version`,
				name, "", "", now, now).Scan(&t.ID, &t.Name, &t.Description, &t.Email, &c, &u, &t.Version)
			if err != nil {
				return fmt.Errorf("insert team: %w", err)
			}
			t.CreatedAt, t.UpdatedAt = time.UnixMilli(c).UTC(), time.UnixMilli(u).UTC()
			id := strconv.FormatInt(t.ID, 10)
			trail.Record(ctx, tx, audit.Entry{Action: "team.create", ObjectType: "team", ObjectID: id,
				Changes: []audit.Change{{Field: "name", New: t.Name}, {Field: "description", New: t.Description}, {Field: "email", New: t.Email}}})
			return events.Emit(ctx, tx, outbox.Event{Type: "team.created", Subject: "team/" + id, Data: t})
		})
	}
	return op, func() { d.Close() }, nil
}
