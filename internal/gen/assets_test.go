package gen_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"steward/internal/app"
	"steward/internal/gen"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
	"steward/internal/transition/asset"
)

// assetScale is the scale of the asset tests: with its CMDB of 6,000 CIs,
// about 1,700 assets, 2 sites and their audits.
const assetScale = 6_000

// amApp opens the application on a fresh database of engine e (migrated, with
// the CMDB's class tree) and generates scale n with seed into it.
func amApp(t *testing.T, e db.Engine, n int, seed uint64) (*app.App, gen.Summary) {
	t.Helper()
	cfg := app.Config{DatabaseURL: dbtest.URL(t, e), DataDir: t.TempDir(), Addr: "127.0.0.1:0",
		LockoutThreshold: 5, LockoutDuration: time.Minute, ShutdownTimeout: 5 * time.Second}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("open the app on %s: %v", e, err)
	}
	t.Cleanup(func() { a.Close() })
	sum, err := gen.Run(context.Background(), a.DB, gen.Config{Scale: n, Seed: seed, Model: a.Model})
	if err != nil {
		t.Fatalf("generate on %s: %v", e, err)
	}
	return a, sum
}

// amCount runs a query of one number.
func amCount(t *testing.T, d *db.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := d.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// amUser is a context acting as the first enabled holder of role in AM.
func amUser(t *testing.T, d *db.DB, role string) context.Context {
	t.Helper()
	var id int64
	var name string
	if err := d.QueryRowContext(context.Background(), `SELECT u.id, u.username FROM raci_assignments a JOIN users u ON u.id = a.user_id
		WHERE a.subject = 'AM' AND a.role = ? AND a.scope_team_id IS NULL AND NOT u.disabled ORDER BY a.id`, role).Scan(&id, &name); err != nil {
		t.Fatalf("the AM %s: %v", role, err)
	}
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: id, Username: name})
}

// TestAssetsReadBack checks that the generated register reads back through
// asset.Service on both engines: the lists count what the tables hold, every
// asset reads with its details, the compliance report shows every status, the
// audits read with their rows, and the services carry on (the next asset
// number, an audit that finds a generated asset, the audit chain).
func TestAssetsReadBack(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			a, sum := amApp(t, e, assetScale, 11) // skips PostgreSQL without a server
			d, s := a.DB, a.Assets
			ctx := amUser(t, d, "process-analyst")
			plan := gen.AssetPlanFor(assetScale)

			// Counts: the lists and the tables agree, and follow the plan.
			var total int64
			for _, k := range asset.Kinds {
				_, n, err := s.List(ctx, asset.ListFilter{Kind: k}, listing.Params{Limit: 1})
				if err != nil {
					t.Fatalf("list %s: %v", k, err)
				}
				if want := amCount(t, d, `SELECT COUNT(*) FROM assets WHERE kind = ?`, string(k)); n != want || n == 0 {
					t.Errorf("%s: the list counts %d, the table %d", k, n, want)
				}
				total += n
			}
			hardware := int64(plan.EndUser + plan.Servers + plan.Network + plan.Storage)
			if n := amCount(t, d, `SELECT COUNT(*) FROM assets WHERE kind = 'hardware'`); n != hardware {
				t.Errorf("%d hardware assets, want %d", n, hardware)
			}
			if total != sum.Rows["assets"] || total != amCount(t, d, `SELECT COUNT(*) FROM records WHERE type = 'asset'`) {
				t.Errorf("%d assets listed, %d written", total, sum.Rows["assets"])
			}
			// Every server of the CMDB is an asset, with the CI's tag.
			if n := amCount(t, d, `SELECT COUNT(*) FROM cis c JOIN ci_classes k ON k.id = c.class_id WHERE k.name = 'server'
				AND NOT EXISTS (SELECT 1 FROM assets a WHERE a.ci_id = c.id)`); n != 0 {
				t.Errorf("%d server CIs without an asset", n)
			}

			// The lifecycle mix: most deployed, every other state present.
			states := map[string]int64{}
			for _, st := range []string{asset.Ordered, asset.Received, asset.InStorage, asset.Deployed, asset.InRepair, asset.Missing,
				asset.Retired, asset.Disposed} {
				_, n, err := s.List(ctx, asset.ListFilter{State: st}, listing.Params{Limit: 1})
				if err != nil || n == 0 {
					t.Errorf("assets in %s: %d, %v", st, n, err)
				}
				states[st] = n
			}
			if states[asset.Deployed]*2 < total {
				t.Errorf("states %v: want most deployed", states)
			}
			if n := amCount(t, d, `SELECT COUNT(*) FROM records r WHERE r.type = 'asset' AND (r.state = 'disposed') <>
				EXISTS (SELECT 1 FROM asset_disposals x WHERE x.record_id = r.id AND x.applied_at > 0)`); n != 0 {
				t.Errorf("%d assets whose disposal record does not match their state", n)
			}

			// Each kind reads in full: a deployed laptop has its user and location, a server its CI.
			page, _, err := s.List(ctx, asset.ListFilter{Kind: asset.Hardware, State: asset.Deployed, Q: "ST"}, listing.Params{Limit: 200})
			if err != nil || len(page.Items) == 0 {
				t.Fatalf("deployed hardware: %d, %v", len(page.Items), err)
			}
			var withUser, withCI bool
			for _, it := range page.Items {
				got, err := s.Asset(ctx, it.Number)
				if err != nil {
					t.Fatalf("read %s: %v", it.Number, err)
				}
				if got.AssignedUserID == 0 && got.LocationCIID == 0 {
					t.Errorf("%s is deployed to nobody and nowhere", got.Number)
				}
				withUser = withUser || got.AssignedUserName != "" && got.LocationName != ""
				withCI = withCI || got.CIName != ""
				if got.PurchaseDate == "" || got.CostMinor <= 0 || got.Supplier == "" || got.Title == "" {
					t.Errorf("%s: %+v", got.Number, got.Details)
				}
				if got.Depreciation != asset.NoDepreciation && got.BookValueMinor > got.CostMinor {
					t.Errorf("%s: book value %d above cost %d", got.Number, got.BookValueMinor, got.CostMinor)
				}
			}
			if !withUser || !withCI {
				t.Errorf("deployed hardware: one with a user and location %v, one with a CI %v", withUser, withCI)
			}
			disposed, _, err := s.List(ctx, asset.ListFilter{State: asset.Disposed}, listing.Params{Limit: 5})
			if err != nil {
				t.Fatal(err)
			}
			if got, err := s.Asset(ctx, disposed.Items[0].Number); err != nil || got.Disposal == nil || got.Disposal.CertificateRef == "" ||
				got.Disposal.AppliedAt.IsZero() {
				t.Errorf("a disposed asset: %+v, %v", got.Disposal, err)
			}

			// Licence compliance: every status.
			rows, err := s.Compliance(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			by := map[asset.Compliance]int{}
			for _, p := range rows {
				by[p.Status]++
			}
			if by[asset.Compliant] == 0 || by[asset.UnderLicensed] == 0 || by[asset.OverLicensed] == 0 {
				t.Errorf("compliance: %v over %d products", by, len(rows))
			}
			if len(rows) != plan.Products || amCount(t, d, `SELECT COUNT(*) FROM asset_installations`) == 0 {
				t.Errorf("%d products in the report, plan %d", len(rows), plan.Products)
			}

			// The audits read back with their rows; their remediation tasks name their assets.
			audits, n, err := s.Audits(ctx, 0, listing.Params{Limit: 50})
			if err != nil || n == 0 || n != sum.Rows["asset_audits"] {
				t.Fatalf("audits: %d of %d, %v", n, sum.Rows["asset_audits"], err)
			}
			var missing int64
			for _, x := range audits.Items {
				au, err := s.Audit(ctx, x.ID)
				if err != nil || int64(len(au.Items)) != au.Found+au.Missing+au.Unexpected || au.LocationName == "" {
					t.Fatalf("audit %d: %d rows for %d+%d+%d, %v", x.ID, len(au.Items), au.Found, au.Missing, au.Unexpected, err)
				}
				for _, it := range au.Items {
					if it.Result != asset.Found && it.Remediation == "" {
						t.Errorf("audit %d: %+v without a remediation task", x.ID, it)
					}
					if it.Result == asset.NotObserved {
						missing++
					}
				}
			}
			if n := amCount(t, d, `SELECT COUNT(*) FROM records WHERE type = 'asset_remediation'`); n != sum.Rows["asset_remediations"] {
				t.Errorf("%d remediation records, %d rows", n, sum.Rows["asset_remediations"])
			}
			if n := amCount(t, d, `SELECT COUNT(*) FROM asset_remediations m WHERE m.asset_id IS NOT NULL AND NOT EXISTS
				(SELECT 1 FROM record_links l WHERE l.type = 'related_to' AND (l.from_id = m.record_id AND l.to_id = m.asset_id
				OR l.to_id = m.record_id AND l.from_id = m.asset_id))`); n != 0 {
				t.Errorf("%d remediation tasks not linked to their asset", n)
			}
			t.Logf("%s: %d assets (%v), %d products, %d audits with %d missing rows, %d installations", e, total, states, len(rows),
				len(audits.Items), missing, sum.Rows["asset_installations"])

			// The kernel's invariants hold for the asset records too.
			if n := amCount(t, d, `SELECT COUNT(*) FROM records r WHERE r.type IN ('asset', 'asset_remediation') AND (r.version <> 1 +
				(SELECT COUNT(*) FROM record_journal j WHERE j.record_id = r.id AND j.kind = 'system' AND j.body NOT LIKE '% logged as %'
				AND j.body NOT LIKE 'Linked: %')
				OR r.updated_at <> (SELECT MAX(created_at) FROM record_journal j WHERE j.record_id = r.id AND j.body NOT LIKE 'Linked: %')
				OR r.closed <> (r.state IN ('disposed', 'resolved', 'closed')) OR r.created_at < ? OR r.updated_at >= ?)`,
				gen.EpochMillis-730*24*3600*1000, gen.EpochMillis); n != 0 {
				t.Errorf("%d asset records break the kernel's invariants", n)
			}

			// The services carry on: the next number, an audit that finds a generated asset, the audit chain.
			f, err := s.Create(ctx, asset.NewAsset{Details: asset.Details{Kind: asset.Hardware, AssetTag: "AFTER-LOAD", Manufacturer: "Dell",
				Model: "Latitude 7440", CostMinor: 150000}})
			if err != nil || f.Number != record.FormatNumber(asset.AssetPrefix, total+1) {
				t.Errorf("a new asset after %d generated: %q, %v", total, f.Number, err)
			}
			got, err := s.Asset(ctx, page.Items[0].Number)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Create(ctx, asset.NewAsset{Details: asset.Details{Kind: asset.Hardware, AssetTag: got.AssetTag}}); !errs.Is(err, errs.Conflict) {
				t.Errorf("the generated tag %s is free: %v", got.AssetTag, err)
			}
			run, err := s.RunAudit(ctx, asset.NewInventoryAudit{LocationCIID: got.LocationCIID, Observed: []string{got.AssetTag}, DryRun: true})
			if err != nil || run.Found != 1 {
				t.Errorf("a dry-run audit observing %s at %d: %d found, %v", got.AssetTag, got.LocationCIID, run.Found, err)
			}
			if _, err := s.RecordInstallation(ctx, asset.NewSoftwareInstallation{Product: "Microsoft Visio Professional 2021",
				HostAsset: got.Number}); err != nil {
				t.Errorf("record an installation after the load: %v", err)
			}
			// The counters and id sequences continue after the generated rows.
			if n := amCount(t, d, `SELECT last_number FROM record_types WHERE name = 'asset_remediation'`); n != sum.Rows["asset_remediations"] {
				t.Errorf("the remediation counter is at %d after %d tasks", n, sum.Rows["asset_remediations"])
			}
			if e == db.Postgres {
				for _, tb := range []string{"asset_installations", "asset_audits", "asset_audit_items", "record_links"} {
					if n := amCount(t, d, `SELECT COUNT(*) FROM `+tb+` WHERE id > COALESCE(pg_sequence_last_value(pg_get_serial_sequence('`+tb+`', 'id')), 0)`); n != 0 {
						t.Errorf("%s: %d rows beyond the id sequence", tb, n)
					}
				}
			}
			if v, err := audit.Verify(context.Background(), d); err != nil || !v.OK {
				t.Errorf("audit verify: %+v, %v", v, err)
			}
		})
	}
}

// amDump is a text copy of the asset tables, in a stable order.
func amDump(t *testing.T, d *db.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT r.number, r.title, r.state, r.version, r.created_at, r.updated_at, a.kind, COALESCE(a.asset_tag, ''), a.serial_number,
			COALESCE(a.ci_id, 0), a.cost_minor, a.purchase_date, a.warranty_end, COALESCE(a.assigned_user_id, 0), COALESCE(a.location_ci_id, 0),
			a.product, a.entitlements FROM records r JOIN assets a ON a.record_id = r.id ORDER BY r.id`,
		`SELECT id, product, version, COALESCE(host_asset_id, 0), COALESCE(host_ci_id, 0), discovered_at FROM asset_installations ORDER BY id`,
		`SELECT id, audit_id, result, observed, COALESCE(asset_id, 0), state, reason, step, remediation FROM asset_audit_items ORDER BY id`,
		`SELECT r.number, r.title, r.state, m.reason FROM asset_remediations m JOIN records r ON r.id = m.record_id ORDER BY r.id`,
		`SELECT record_id, method, disposed_on, certificate_ref FROM asset_disposals ORDER BY record_id`,
		`SELECT j.record_id, j.kind, j.body, j.created_at FROM record_journal j JOIN records r ON r.id = j.record_id
			WHERE r.type IN ('asset', 'asset_remediation') ORDER BY j.id`,
	} {
		rows, err := d.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				if x, ok := v.([]byte); ok {
					v = string(x)
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			b.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// TestAssetsDeterministic generates the register twice with one seed, on
// SQLite and on PostgreSQL, and compares the asset tables.
func TestAssetsDeterministic(t *testing.T) {
	t.Parallel()
	const n = 3_000
	a1, _ := amApp(t, db.SQLite, n, 5)
	a2, _ := amApp(t, db.SQLite, n, 5)
	first := amDump(t, a1.DB)
	if first == "" || first != amDump(t, a2.DB) {
		t.Fatal("the same seed gave different asset registers on SQLite")
	}
	t.Run("postgres", func(t *testing.T) {
		p, _ := amApp(t, db.Postgres, n, 5) // skips without a PostgreSQL server
		if got := amDump(t, p.DB); got != first {
			a, b := strings.Split(first, "\n"), strings.Split(got, "\n")
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] {
					t.Fatalf("SQLite and PostgreSQL differ at line %d:\n%s\n%s", i, a[i], b[i])
				}
			}
			t.Fatalf("SQLite has %d lines, PostgreSQL %d", len(a), len(b))
		}
	})
}
