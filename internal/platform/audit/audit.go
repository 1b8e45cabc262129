// Package audit keeps the append-only, hash-chained audit trail (NIST 800-53
// AU-2/3/9). Entries are written in the business transaction: the chain's head
// is locked only in the moment before COMMIT, so concurrent writers serialise
// briefly and the chain stays gap-free on both engines.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
)

// Actor is who performed an action.
type Actor struct {
	// Type is "user", "token", "system" or "cli".
	Type string `json:"type"`
	// ID is the user's id, or 0.
	ID int64 `json:"id,omitempty"`
	// Name is the username or a description of the system actor.
	Name string `json:"name"`
}

// Meta is what the request contributes to every audit entry it causes.
type Meta struct {
	Actor      Actor
	RequestID  string
	ClientAddr string
}

type metaKey struct{}

// WithMeta attaches request metadata to ctx.
func WithMeta(ctx context.Context, m Meta) context.Context {
	return context.WithValue(ctx, metaKey{}, m)
}

// MetaFrom returns the request metadata in ctx; the actor defaults to the system.
func MetaFrom(ctx context.Context) Meta {
	m, _ := ctx.Value(metaKey{}).(Meta)
	if m.Actor.Type == "" {
		m.Actor = Actor{Type: "system", Name: "system"}
	}
	return m
}

// WithActor sets the actor in ctx's metadata, keeping the request id and address.
func WithActor(ctx context.Context, a Actor) context.Context {
	m, _ := ctx.Value(metaKey{}).(Meta)
	m.Actor = a
	return WithMeta(ctx, m)
}

// Change is one field's old and new value.
type Change struct {
	Field string `json:"field"`
	Old   any    `json:"old,omitempty"`
	New   any    `json:"new,omitempty"`
}

// Entry is one audited action on one object.
type Entry struct {
	Action     string
	ObjectType string
	ObjectID   string
	Changes    []Change
}

// Trail writes audit entries.
type Trail struct {
	clock clock.Clock
}

// NewTrail returns a trail that stamps entries with c's time.
func NewTrail(c clock.Clock) *Trail { return &Trail{clock: c} }

type pendingKey struct{}

type pending struct {
	meta    Meta
	entries []Entry
}

// Record adds entries to tx. They are chained and written just before the
// transaction commits, and vanish with it on rollback.
func (t *Trail) Record(ctx context.Context, tx *db.Tx, entries ...Entry) {
	p, _ := tx.Value(pendingKey{}).(*pending)
	if p == nil {
		p = &pending{meta: MetaFrom(ctx)}
		tx.SetValue(pendingKey{}, p)
		tx.BeforeCommit(pendingKey{}, func(ctx context.Context, tx *db.Tx) error {
			return t.flush(ctx, tx, p)
		})
	}
	p.entries = append(p.entries, entries...)
}

// Append writes entries in a transaction of their own, for events that change
// no record: logins, lockouts, denials.
func (t *Trail) Append(ctx context.Context, d *db.DB, entries ...Entry) error {
	return d.InTx(ctx, func(tx *db.Tx) error {
		t.Record(ctx, tx, entries...)
		return nil
	})
}

func (t *Trail) flush(ctx context.Context, tx *db.Tx, p *pending) error {
	if len(p.entries) == 0 {
		return nil
	}
	var seq int64
	var prev string
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`+tx.DB().ForUpdate()).Scan(&seq, &prev); err != nil {
		return fmt.Errorf("lock audit head: %w", err)
	}
	at := t.clock.Now().UnixMilli()
	for _, e := range p.entries {
		seq++
		changes := "[]"
		if len(e.Changes) > 0 {
			b, err := json.Marshal(e.Changes)
			if err != nil {
				return fmt.Errorf("encode audit changes: %w", err)
			}
			changes = string(b)
		}
		row := Row{
			Seq: seq, At: at, ActorType: p.meta.Actor.Type, ActorID: p.meta.Actor.ID, ActorName: p.meta.Actor.Name,
			Action: e.Action, ObjectType: e.ObjectType, ObjectID: e.ObjectID, Changes: changes,
			RequestID: p.meta.RequestID, ClientAddr: p.meta.ClientAddr, PrevHash: prev,
		}
		row.Hash = row.computeHash()
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor_type, actor_id, actor_name, action,
			object_type, object_id, changes, request_id, client_addr, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			row.Seq, row.At, row.ActorType, row.ActorID, row.ActorName, row.Action, row.ObjectType, row.ObjectID,
			row.Changes, row.RequestID, row.ClientAddr, row.PrevHash, row.Hash); err != nil {
			return fmt.Errorf("write audit entry: %w", err)
		}
		prev = row.Hash
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, seq, prev); err != nil {
		return fmt.Errorf("advance audit head: %w", err)
	}
	return nil
}

// Row is one stored audit entry.
type Row struct {
	Seq        int64  `json:"seq"`
	At         int64  `json:"at"`
	ActorType  string `json:"actorType"`
	ActorID    int64  `json:"actorId,omitempty"`
	ActorName  string `json:"actorName"`
	Action     string `json:"action"`
	ObjectType string `json:"objectType"`
	ObjectID   string `json:"objectId"`
	Changes    string `json:"-"`
	RequestID  string `json:"requestId,omitempty"`
	ClientAddr string `json:"clientAddr,omitempty"`
	PrevHash   string `json:"prevHash"`
	Hash       string `json:"hash"`
}

// computeHash hashes every field but Hash, each length-prefixed so that no two rows encode alike.
func (r Row) computeHash() string {
	h := sha256.New()
	for _, s := range []string{
		strconv.FormatInt(r.Seq, 10), strconv.FormatInt(r.At, 10), r.ActorType, strconv.FormatInt(r.ActorID, 10),
		r.ActorName, r.Action, r.ObjectType, r.ObjectID, r.Changes, r.RequestID, r.ClientAddr, r.PrevHash,
	} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Diff lists the fields whose values differ between old and new, in the order of fields.
// Fields absent from both maps are skipped.
func Diff(fields []string, old, new map[string]any) []Change {
	var out []Change
	for _, f := range fields {
		o, n := old[f], new[f]
		if !reflect.DeepEqual(o, n) {
			out = append(out, Change{Field: f, Old: o, New: n})
		}
	}
	return out
}
