package asset_test

import (
	"strings"
	"testing"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/transition/asset"
)

// TestCreateRefusesBadInput: every broken rule is Invalid naming its field;
// unknown users and CIs too; a tag another asset has is a Conflict naming assetTag.
func TestCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		e.create(laptop("DUP-1"))
		hw := func(f func(d *asset.Details)) asset.NewAsset {
			in := laptop("NEW-1")
			f(&in.Details)
			return in
		}
		for _, tc := range []struct {
			name  string
			in    asset.NewAsset
			field string
			kind  errs.Kind
		}{
			{"no kind", hw(func(d *asset.Details) { d.Kind = "" }), "body.kind", errs.Invalid},
			{"unknown kind", hw(func(d *asset.Details) { d.Kind = "vehicle" }), "body.kind", errs.Invalid},
			{"tag with a space", hw(func(d *asset.Details) { d.AssetTag = "A 1" }), "body.assetTag", errs.Invalid},
			{"negative cost", hw(func(d *asset.Details) { d.CostMinor = -1 }), "body.costMinor", errs.Invalid},
			{"currency", hw(func(d *asset.Details) { d.Currency = "DOLLAR" }), "body.currency", errs.Invalid},
			{"purchase date", hw(func(d *asset.Details) { d.PurchaseDate = "2025-02-30" }), "body.purchaseDate", errs.Invalid},
			{"warranty end", hw(func(d *asset.Details) { d.WarrantyEnd = "31/12/2026" }), "body.warrantyEnd", errs.Invalid},
			{"method", hw(func(d *asset.Details) { d.Depreciation = "sum_of_years" }), "body.depreciationMethod", errs.Invalid},
			{"life missing", hw(func(d *asset.Details) { d.Depreciation, d.PurchaseDate = asset.StraightLine, "2025-01-01" }),
				"body.usefulLifeMonths", errs.Invalid},
			{"purchase missing", hw(func(d *asset.Details) { d.Depreciation, d.UsefulLifeMonths = asset.DecliningBalance, 60 }),
				"body.purchaseDate", errs.Invalid},
			{"salvage above cost", hw(func(d *asset.Details) { d.SalvageMinor = d.CostMinor + 1 }), "body.salvageMinor", errs.Invalid},
			{"hardware product", hw(func(d *asset.Details) { d.Product = "visio" }), "body.product", errs.Invalid},
			{"hardware seats", hw(func(d *asset.Details) { d.Entitlements = 5 }), "body.entitlements", errs.Invalid},
			{"hardware metric", hw(func(d *asset.Details) { d.LicenceMetric = asset.PerUser }), "body.licenceMetric", errs.Invalid},
			{"licence without product", asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Entitlements: 1}}, "body.product", errs.Invalid},
			{"licence without seats", asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Product: "visio"}}, "body.entitlements", errs.Invalid},
			{"licence metric", asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Product: "visio", Entitlements: 1,
				LicenceMetric: "per_core"}}, "body.licenceMetric", errs.Invalid},
			{"unknown user", hw(func(d *asset.Details) { d.AssignedUserID = 99999 }), "body.assignedUserId", errs.Invalid},
			{"unknown CI", hw(func(d *asset.Details) { d.CIID = 99999 }), "body.ciId", errs.Invalid},
			{"unknown location", hw(func(d *asset.Details) { d.LocationCIID = 99999 }), "body.locationCiId", errs.Invalid},
			{"taken tag", hw(func(d *asset.Details) { d.AssetTag = " dup-1 " }), "body.assetTag", errs.Conflict},
			{"title", asset.NewAsset{Title: strings.Repeat("x", 201), Details: asset.Details{Kind: asset.Facility}}, "body.title", errs.Invalid},
		} {
			_, err := e.svc.Create(e.an, tc.in)
			if !errs.Is(err, tc.kind) || !fieldAt(err, tc.field) {
				t.Errorf("%s: %v, want %s naming %s", tc.name, err, tc.kind, tc.field)
			}
		}
		if _, total, _ := e.svc.List(e.s, asset.ListFilter{}, listing.Params{}); total != 1 {
			t.Errorf("refused creates left %d assets", total)
		}
	})
}

// TestUpdateAndList changes assets under optimistic concurrency and lists them through every filter.
func TestUpdateAndList(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		room := e.ci("Room 7")
		a := e.create(laptop("L-1"))
		e.clock.Advance(time.Minute)
		b := e.create(laptop("L-2"))
		e.clock.Advance(time.Minute)
		lic := e.create(asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Product: "Microsoft Visio 2021", Entitlements: 5}})
		e.clock.Advance(time.Minute)
		fac := e.create(asset.NewAsset{Title: "Server room UPS", Details: asset.Details{Kind: asset.Facility, LocationCIID: room}})

		if _, err := e.svc.Update(e.an, a.Number, a.Version, asset.Change{AssetTag: ptr("l-2")}); !errs.Is(err, errs.Conflict) ||
			!fieldAt(err, "body.assetTag") {
			t.Fatalf("take another asset's tag: %v", err)
		}
		a2, err := e.svc.Update(e.an, a.Number, a.Version, asset.Change{AssignedUserID: ptr(e.manager.ID), Model: ptr("Latitude 9450"),
			CostMinor: ptr(int64(250000))})
		if err != nil || a2.Model != "Latitude 9450" || a2.AssignedUserID != e.manager.ID || a2.Version != a.Version+1 {
			t.Fatalf("update: %+v, %v", a2, err)
		}
		if _, err := e.svc.Update(e.an, a.Number, a.Version, asset.Change{Model: ptr("x")}); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale version: %v", err)
		}
		same, err := e.svc.Update(e.an, a.Number, a2.Version, asset.Change{Model: ptr("Latitude 9450")})
		if err != nil || same.Version != a2.Version {
			t.Fatalf("an update that changes nothing: %+v, %v", same, err)
		}
		if _, err := e.svc.Update(e.an, a.Number, a2.Version, asset.Change{AssignedUserID: ptr(int64(424242))}); !fieldAt(err, "body.assignedUserId") {
			t.Fatalf("assign to nobody: %v", err)
		}
		if _, err := e.svc.Update(e.an, lic.Number, lic.Version, asset.Change{Entitlements: ptr(int64(0))}); !fieldAt(err, "body.entitlements") {
			t.Fatalf("a licence without seats: %v", err)
		}
		e.walk(e.an, b.Number, "receive")

		for _, tc := range []struct {
			name string
			f    asset.ListFilter
			want []string
		}{
			{"all, newest first", asset.ListFilter{}, []string{fac.Number, lic.Number, b.Number, a.Number}},
			{"kind", asset.ListFilter{Kind: asset.Hardware}, []string{b.Number, a.Number}},
			{"state", asset.ListFilter{State: asset.Received}, []string{b.Number}},
			{"user", asset.ListFilter{AssignedUserID: e.manager.ID}, []string{a.Number}},
			{"location", asset.ListFilter{LocationCIID: room}, []string{fac.Number}},
			{"product by name", asset.ListFilter{Product: "microsoft visio 2021"}, []string{lic.Number}},
			{"tag prefix", asset.ListFilter{Q: "l-"}, []string{b.Number, a.Number}},
			{"serial prefix", asset.ListFilter{Q: "sn-l-2"}, []string{b.Number}},
			{"like is escaped", asset.ListFilter{Q: "%"}, nil},
		} {
			page, total, err := e.svc.List(e.s, tc.f, listing.Params{})
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			var got []string
			for _, it := range page.Items {
				got = append(got, it.Number)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") || total != int64(len(tc.want)) {
				t.Errorf("%s: %v (%d), want %v", tc.name, got, total, tc.want)
			}
		}

		// Keyset pages by tag.
		var seen []string
		p := listing.Params{Limit: 1, Sort: "assetTag"}
		for {
			page, _, err := e.svc.List(e.s, asset.ListFilter{Q: "L"}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range page.Items {
				seen = append(seen, it.AssetTag)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		if strings.Join(seen, ",") != "L-1,L-2" {
			t.Errorf("pages by tag: %v", seen)
		}

		for _, tc := range []struct {
			f     asset.ListFilter
			p     listing.Params
			field string
		}{
			{asset.ListFilter{State: "lost"}, listing.Params{}, "query.state"},
			{asset.ListFilter{Kind: "vehicle"}, listing.Params{}, "query.kind"},
			{asset.ListFilter{}, listing.Params{Sort: "cost"}, "query.sort"},
			{asset.ListFilter{}, listing.Params{Cursor: "garbage"}, "query.cursor"},
		} {
			if _, _, err := e.svc.List(e.s, tc.f, tc.p); !fieldAt(err, tc.field) {
				t.Errorf("list %+v %+v: %v, want a field error at %s", tc.f, tc.p, err, tc.field)
			}
		}
		if _, err := e.svc.Asset(e.s, "AST9999999"); !errs.Is(err, errs.NotFound) {
			t.Errorf("an unknown asset: %v", err)
		}
	})
}
