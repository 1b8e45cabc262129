package app_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"steward/internal/app"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/transition/cmdb"
)

// TestCMDBQueryCounts holds the CI page's reads and impact analysis to a
// fixed number of queries, however many relations a CI has: a hub with 1,000
// dependents costs what a CI with a handful costs.
func TestCMDBQueryCounts(t *testing.T) {
	eachEngine(t, func(t *testing.T, e db.Engine) {
		ctx := context.Background()
		a, err := app.Open(ctx, testConfig(t, dbtest.URL(t, e)), slog.New(slog.NewJSONHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		admin := auth.WithPrincipal(ctx, &auth.Principal{UserID: 1, Username: "admin", Admin: true})
		hub, err := a.CMDB.CreateCI(admin, cmdb.NewCI{Class: "database", Name: "hub-db"})
		if err != nil {
			t.Fatal(err)
		}
		svc, err := a.CMDB.CreateService(admin, cmdb.NewService{Name: "Hub service", Kind: "business", Partners: []string{"Partner A"}})
		if err != nil {
			t.Fatal(err)
		}
		small, err := a.CMDB.CreateCI(admin, cmdb.NewCI{Class: "database", Name: "small-db"})
		if err != nil {
			t.Fatal(err)
		}
		// 1,000 applications depend on the hub, 3 on the small database; each provides the service.
		now := time.Now().UnixMilli()
		fill := func(target int64, n int, prefix string) {
			err := a.DB.InTx(ctx, func(tx *db.Tx) error {
				var class, dep, prov int64
				if err := tx.QueryRowContext(ctx, `SELECT (SELECT id FROM ci_classes WHERE name = 'application'),
					(SELECT id FROM ci_relation_types WHERE name = 'depends_on'), (SELECT id FROM ci_relation_types WHERE name = 'provides')`).Scan(&class, &dep, &prov); err != nil {
					return err
				}
				for i := 0; i < n; i++ {
					var id int64
					if err := tx.QueryRowContext(ctx, `INSERT INTO cis (class_id, name, status, attrs, created_at, updated_at, valid_from)
						VALUES (?, ?, 'operational', '{}', ?, ?, ?) RETURNING id`, class, prefix+itoa(int64(i)), now, now, now).Scan(&id); err != nil {
						return err
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO ci_relations (source_id, type_id, target_id, created_at) VALUES (?, ?, ?, ?), (?, ?, ?, ?)`,
						id, dep, target, now, id, prov, svc.ID, now); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		fill(hub.ID, 1000, "app-")
		fill(small.ID, 3, "small-app-")

		page := func(id int64) int64 {
			c, n := db.CountQueries(admin)
			if _, err := a.CMDB.GetCI(c, id); err != nil {
				t.Fatal(err)
			}
			rels, err := a.CMDB.Relations(c, id, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.CMDB.Versions(c, id); err != nil {
				t.Fatal(err)
			}
			if id == hub.ID && len(rels.Incoming) != 1000 {
				t.Fatalf("hub has %d incoming relations", len(rels.Incoming))
			}
			return n()
		}
		page(small.ID) // warm the class catalogue
		if big, few := page(hub.ID), page(small.ID); big != few || big > 6 {
			t.Errorf("CI page reads: %d queries with 1,000 relations, %d with 3; want the same, at most 6", big, few)
		}
		analyze := func(id int64) (int64, cmdb.Impact) {
			c, n := db.CountQueries(admin)
			res, err := a.CMDB.Analyze(c, cmdb.ImpactQuery{CIs: []int64{id}})
			if err != nil {
				t.Fatal(err)
			}
			return n(), res
		}
		big, res := analyze(hub.ID)
		if len(res.Nodes) != 1002 || len(res.Services) != 1 || res.Services[0].State != "down" {
			t.Fatalf("hub impact: %d nodes, services %+v", len(res.Nodes), res.Services)
		}
		few, _ := analyze(small.ID)
		// The walk batches 500 CIs a query and reads names in batches too:
		// 1,000 dependents cost a few more batches, not 1,000 more queries.
		if big > 20 || big-few > 8 {
			t.Errorf("impact of the hub: %d queries (a CI with 3 dependents: %d); want at most 20 and a few batches more", big, few)
		}
		t.Logf("%s: CI page %d queries; impact %d queries (hub) vs %d (small)", e, page(hub.ID), big, few)
	})
}
