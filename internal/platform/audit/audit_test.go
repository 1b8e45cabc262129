package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

func write(t *testing.T, d *db.DB, trail *audit.Trail, n int) {
	t.Helper()
	ctx := audit.WithMeta(context.Background(), audit.Meta{Actor: audit.Actor{Type: "user", ID: 7, Name: "alice"}, RequestID: "req-1", ClientAddr: "10.0.0.1"})
	for i := 0; i < n; i++ {
		err := d.InTx(ctx, func(tx *db.Tx) error {
			trail.Record(ctx, tx, audit.Entry{Action: "team.update", ObjectType: "team", ObjectID: fmt.Sprint(i),
				Changes: []audit.Change{{Field: "name", Old: "a", New: fmt.Sprint("b", i)}}})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestChainDetectsTampering(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		trail := audit.NewTrail(clock.NewFixed(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)))
		write(t, d, trail, 5)

		v, err := audit.Verify(ctx, d)
		if err != nil || !v.OK || v.Rows != 5 {
			t.Fatalf("clean chain: %+v, %v", v, err)
		}
		items, total, err := audit.List(ctx, d, audit.Filter{ObjectType: "team", ObjectID: "3"})
		if err != nil || total != 1 || items[0].ActorName != "alice" || items[0].RequestID != "req-1" ||
			items[0].ClientAddr != "10.0.0.1" || items[0].ChangeList[0].New != "b3" {
			t.Fatalf("list: %+v %d %v", items, total, err)
		}

		cases := []struct {
			name, sql string
			want      int64
		}{
			{"altered field", `UPDATE audit_log SET actor_name = 'mallory' WHERE seq = 3`, 3},
			{"removed row", `DELETE FROM audit_log WHERE seq = 2`, 2},
			{"removed tail", `DELETE FROM audit_log WHERE seq = 5`, 5},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				d2 := dbtest.Open(t, d.Engine())
				write(t, d2, trail, 5)
				if _, err := d2.ExecContext(ctx, c.sql); err != nil {
					t.Fatal(err)
				}
				v, err := audit.Verify(ctx, d2)
				if err != nil {
					t.Fatal(err)
				}
				if v.OK || v.FirstBad != c.want {
					t.Fatalf("verify = %+v, want first bad row %d", v, c.want)
				}
			})
		}
	})
}

func TestRolledBackEntriesVanish(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		trail := audit.NewTrail(clock.System{})
		err := d.InTx(ctx, func(tx *db.Tx) error {
			trail.Record(ctx, tx, audit.Entry{Action: "x"})
			return errors.New("abort")
		})
		if err == nil {
			t.Fatal("expected error")
		}
		v, _ := audit.Verify(ctx, d)
		if v.Rows != 0 || !v.OK {
			t.Fatalf("%+v", v)
		}
	})
}

func TestConcurrentWritersKeepOneChain(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		trail := audit.NewTrail(clock.System{})
		var wg sync.WaitGroup
		errc := make(chan error, 8)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if err := trail.Append(ctx, d, audit.Entry{Action: "a"}, audit.Entry{Action: "b"}); err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		v, err := audit.Verify(ctx, d)
		if err != nil || !v.OK || v.Rows != 160 {
			t.Fatalf("%+v %v", v, err)
		}
	})
}
