package audit_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// TestAppendChangesMatchesJSON checks that the quick encoder writes exactly what encoding/json writes.
func TestAppendChangesMatchesJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		changes []audit.Change
	}{
		{"none", nil},
		{"plain", []audit.Change{{Field: "state", Old: "new", New: "in_progress"}, {Field: "priority", Old: 3, New: int64(2)}}},
		{"zero values kept", []audit.Change{{Field: "teamId", New: int64(0)}, {Field: "holdReason", Old: "awaiting_caller", New: ""},
			{Field: "firstContact", New: false}}},
		{"nil omitted", []audit.Change{{Field: "x"}, {Field: "y", Old: nil, New: true}}},
		{"escapes", []audit.Change{{Field: "title", New: `Can't print <b>"report"</b> & more` + "\n\ttab é → \u2028"},
			{Field: "bad", New: string([]byte{0xff, 'a'})}}},
		{"other types", []audit.Change{{Field: "ids", New: []int64{1, 2}}, {Field: "m", New: map[string]any{"a": 1.5}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := audit.AppendChanges(nil, c.changes)
			if err != nil {
				t.Fatal(err)
			}
			want := []byte("[]")
			if len(c.changes) > 0 {
				if want, err = json.Marshal(c.changes); err != nil {
					t.Fatal(err)
				}
			}
			if string(got) != string(want) {
				t.Fatalf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestChainContinuesTheTrail writes rows through a Chain between entries of
// the Trail and checks that the whole log verifies.
func TestChainContinuesTheTrail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		trail := audit.NewTrail(clock.NewFixed(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		write(t, d, trail, 2)
		err := d.InTx(ctx, func(tx *db.Tx) error {
			c, err := audit.OpenChain(ctx, tx)
			if err != nil {
				return err
			}
			for i := range 3 {
				ch, err := audit.AppendChanges(nil, []audit.Change{{Field: "state", Old: "new", New: "résolu"}, {Field: "n", New: i}})
				if err != nil {
					return err
				}
				r := audit.Row{At: int64(1_700_000_000_000 + i), ActorType: "user", ActorID: int64(40 + i), ActorName: "bob",
					Action: "record.transition", ObjectType: "record", ObjectID: "INC0000001", Changes: string(ch)}
				c.Link(&r)
				if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (seq, at, actor_type, actor_id, actor_name, action,
					object_type, object_id, changes, request_id, client_addr, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					r.Seq, r.At, r.ActorType, r.ActorID, r.ActorName, r.Action, r.ObjectType, r.ObjectID, r.Changes, r.RequestID,
					r.ClientAddr, r.PrevHash, r.Hash); err != nil {
					return err
				}
			}
			if c.Seq() != 5 {
				t.Errorf("chain at %d, want 5", c.Seq())
			}
			return c.Close(ctx)
		})
		if err != nil {
			t.Fatal(err)
		}
		write(t, d, trail, 2)
		if v, err := audit.Verify(ctx, d); err != nil || !v.OK || v.Rows != 7 {
			t.Fatalf("verify: %+v, %v", v, err)
		}
	})
}
