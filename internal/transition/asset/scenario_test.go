package asset_test

import (
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/asset"
)

// TestAssetLifecycle is Asset Management as its process: the analyst (R for
// AM2–AM6) records a laptop, receives it (AM2), stores, deploys, sends it for
// repair and deploys it again (AM3); the manager (A) retires it (AM6); the
// organisation makes AM6 wait for approval, so the analyst's disposal, with
// its disposal record, waits for the manager, and applies when the manager
// approves. The developer, only informed of AM3, is refused a step, naming
// AM3 and the roles that may. The book value follows straight-line
// depreciation; the assignment to a user and a location is audited old and new.
func TestAssetLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		room := e.ci("Building 12, room 101")

		// AM6 waits for its accountable holder's approval.
		_, v, _, err := e.raci.Matrix(e.o, asset.Process)
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, _, err := e.raci.SetActivitySettings(e.o, e.admin, asset.Process, v, asset.ActRetire,
			raci.ActivitySettings{RequiresApproval: &yes}); err != nil {
			t.Fatalf("flag AM6: %v", err)
		}

		in := laptop("ast-1001")
		in.PurchaseDate, in.Depreciation, in.UsefulLifeMonths = "2024-03-01", asset.StraightLine, 36
		if _, err := e.svc.Create(e.dv, in); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "AM2") {
			t.Fatalf("the developer records an asset: %v", err)
		}
		a := e.create(in)
		if !strings.HasPrefix(a.Number, asset.AssetPrefix) || a.State != asset.Ordered || a.Process != asset.Process ||
			a.AssetTag != "AST-1001" || a.Title != "Dell Latitude 7440 (AST-1001)" || a.Currency != "USD" {
			t.Fatalf("created: %+v", a)
		}
		if a.BookValueMinor != 120000 {
			t.Errorf("book value after 12 of 36 months: %d, want 120000", a.BookValueMinor)
		}
		acts, err := e.recs.Actions(e.an, a.Number)
		if err != nil || len(acts) != 2 || acts[0].Action != "receive" || acts[0].Activity != asset.ActRecord || !acts[0].Decision.Allowed ||
			acts[1].Action != "report_missing" || acts[1].Activity != asset.ActAudit {
			t.Fatalf("actions of an ordered asset: %+v, %v", acts, err)
		}

		e.walk(e.an, a.Number, "receive", "store")

		// Deploying needs a user or a location.
		if _, err := e.perform(e.an, a.Number, "deploy"); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "assignedUserId") {
			t.Fatalf("deploy without a user or location: %v", err)
		}
		// The refused step: the developer holds only I for AM3.
		_, err = e.perform(e.dv, a.Number, "deploy")
		if !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "AM3") || !strings.Contains(err.Error(), "(R)") ||
			!strings.Contains(err.Error(), "(A)") {
			t.Fatalf("the developer deploys: %v", err)
		}
		if _, err := e.svc.Update(e.dv, a.Number, 0, asset.Change{AssignedUserID: ptr(e.stranger.ID)}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the developer assigns: %v", err)
		}

		// Assignment is an AM3 update, audited old and new.
		cur := e.get(a.Number)
		a, err = e.svc.Update(e.an, a.Number, cur.Version, asset.Change{AssignedUserID: ptr(e.stranger.ID), LocationCIID: ptr(room)})
		if err != nil {
			t.Fatal(err)
		}
		if a.AssignedUserName != "stranger" || a.LocationName != "Building 12, room 101" || a.Version != cur.Version+1 {
			t.Fatalf("assigned: %+v", a)
		}
		var assigned bool
		for _, it := range e.audits("record.update") {
			if it.ObjectID != a.Number {
				continue
			}
			for _, c := range it.ChangeList {
				if c.Field == "assignedUserId" && c.Old == float64(0) && c.New == float64(e.stranger.ID) {
					assigned = true
				}
			}
		}
		if !assigned {
			t.Errorf("assignment not audited with old and new: %+v", e.audits("record.update"))
		}

		e.walk(e.an, a.Number, "deploy", "repair", "deploy")
		if got := e.get(a.Number); got.State != asset.Deployed {
			t.Fatalf("after repair: %s", got.State)
		}
		informed := e.events("raci.informed")
		if len(informed) == 0 || informed[len(informed)-1].Data["activity"] != asset.ActMaintain {
			t.Fatalf("nobody informed of the deploy: %+v", informed)
		}

		// The manager (A for AM6) retires: holding A, the manager needs no one's approval.
		e.mustPerform(e.m, a.Number, "retire", record.OutcomeApplied)

		// The kernel's dispose action without a disposal record is refused.
		if _, err := e.perform(e.m, a.Number, "dispose"); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "disposal record") {
			t.Fatalf("dispose without a disposal record: %v", err)
		}
		bad := asset.Disposal{Method: "burn", Date: "2025-13-01"}
		if _, err := e.svc.Dispose(e.an, a.Number, 0, bad, ""); !fieldAt(err, "body.method") || !fieldAt(err, "body.date") ||
			!fieldAt(err, "body.certificateRef") {
			t.Fatalf("a bad disposal record: %v", err)
		}

		// The analyst's disposal waits for the manager's approval, with its record.
		cur = e.get(a.Number)
		disp := asset.Disposal{Method: asset.Recycling, Date: "2025-03-01", CertificateRef: "CERT-2025-0042", Notes: "Drive wiped (NIST 800-88)."}
		res, err := e.svc.Dispose(e.an, a.Number, cur.Version, disp, "End of life")
		if err != nil {
			t.Fatal(err)
		}
		if res.Outcome != record.OutcomeAwaitingApproval || res.Step == nil || !slices.Equal(res.Step.Approvers, []int64{e.manager.ID}) {
			t.Fatalf("dispose: %+v", res)
		}
		if res.Asset.State != asset.Retired || res.Asset.Disposal == nil || !res.Asset.Disposal.AppliedAt.IsZero() ||
			res.Asset.Disposal.CertificateRef != "CERT-2025-0042" {
			t.Fatalf("waiting disposal: %+v", res.Asset)
		}
		if _, err := e.recs.Approve(e.an, res.Step.ID, ""); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the analyst approves their own disposal: %v", err)
		}
		approved, err := e.recs.Approve(e.m, res.Step.ID, "certificate checked")
		if err != nil || approved.Record.State != asset.Disposed {
			t.Fatalf("the manager approves: %+v, %v", approved, err)
		}
		a = e.get(a.Number)
		if !a.Closed || a.Disposal == nil || a.Disposal.AppliedAt.IsZero() || a.Disposal.Method != asset.Recycling ||
			a.Disposal.Date != "2025-03-01" || a.Disposal.RecordedBy != e.analyst.ID {
			t.Fatalf("disposed: %+v %+v", a, a.Disposal)
		}
		if ev := e.events("asset.disposed"); len(ev) != 1 || ev[0].Data["number"] != a.Number {
			t.Fatalf("asset.disposed: %+v", ev)
		}
		if len(e.audits("asset.dispose")) != 1 || len(e.audits("asset.disposal.record")) != 1 {
			t.Fatalf("disposal audit: %+v / %+v", e.audits("asset.dispose"), e.audits("asset.disposal.record"))
		}
		if _, err := e.svc.Update(e.m, a.Number, a.Version, asset.Change{Model: ptr("x")}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("change a disposed asset: %v", err)
		}
		if _, err := e.perform(e.m, a.Number, "report_missing"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("report a disposed asset missing: %v", err)
		}
	})
}

// TestLicenceCompliance sets licence assets against discovered installations:
// Visio has 10 seats and 4 installations (over-licensed by 6); Acrobat 2 seats
// (a third licence is retired and no longer counts) and 3 installations
// (under-licensed by 1); Project is licensed per user, 2 seats for 3
// installations on the hosts of 2 users (compliant); WinRAR has no licence
// (under-licensed by 1). Recording installations performs AM4.
func TestLicenceCompliance(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		licence := func(product string, seats int64, metric asset.Metric) asset.Asset {
			return e.create(asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Product: product, Entitlements: seats,
				LicenceMetric: metric, CostMinor: 10000 * seats}})
		}
		licence("Microsoft Visio 2021", 10, "")
		licence("adobe-acrobat-pro", 2, asset.PerInstall)
		old := licence("Adobe Acrobat Pro", 5, asset.PerInstall)
		e.walk(e.an, old.Number, "receive", "store", "retire")
		licence("Microsoft Project 2021", 2, asset.PerUser)

		var hosts []asset.Asset
		for i, u := range []int64{e.analyst.ID, e.analyst.ID, e.manager.ID, 0} {
			in := laptop("LT-" + string(rune('A'+i)))
			in.AssignedUserID = u
			hosts = append(hosts, e.create(in))
		}
		server := e.ci("srv-app-01")
		install := func(product string, host string, ci int64) {
			t.Helper()
			if _, err := e.svc.RecordInstallation(e.an, asset.NewSoftwareInstallation{Product: product, Version: "1", HostAsset: host,
				HostCIID: ci, Source: "sccm"}); err != nil {
				t.Fatalf("install %s on %s: %v", product, host, err)
			}
		}
		for _, h := range hosts {
			install("Microsoft Visio 2021", h.Number, 0)
		}
		install("Adobe Acrobat Pro", hosts[0].Number, 0)
		install("Adobe Acrobat Pro", hosts[1].Number, 0)
		install("adobe acrobat pro", "", server)
		install("Microsoft Project 2021", hosts[0].Number, 0)
		install("Microsoft Project 2021", hosts[1].Number, 0)
		install("Microsoft Project 2021", hosts[2].Number, 0)
		install("WinRAR", hosts[3].Number, 0)

		if _, err := e.svc.RecordInstallation(e.dv, asset.NewSoftwareInstallation{Product: "x", HostCIID: server}); !errs.Is(err, errs.Forbidden) ||
			!strings.Contains(err.Error(), "AM4") {
			t.Fatalf("the developer records an installation: %v", err)
		}
		if _, err := e.svc.RecordInstallation(e.an, asset.NewSoftwareInstallation{Product: "x"}); !fieldAt(err, "body.hostAsset") {
			t.Fatalf("an installation without a host: %v", err)
		}
		if _, err := e.svc.RecordInstallation(e.an, asset.NewSoftwareInstallation{Product: "x", HostCIID: 99999}); !fieldAt(err, "body.hostCiId") {
			t.Fatalf("an installation on an unknown CI: %v", err)
		}

		rows, err := e.svc.Compliance(e.s, "")
		if err != nil {
			t.Fatal(err)
		}
		want := []asset.LicencePosition{
			{Product: "adobe-acrobat-pro", Metric: asset.PerInstall, Entitlements: 2, Licences: 1, Installations: 3, Consumption: 3,
				Status: asset.UnderLicensed, Shortfall: 1},
			{Product: "microsoft-project-2021", Metric: asset.PerUser, Entitlements: 2, Licences: 1, Installations: 3, Consumption: 2,
				Status: asset.Compliant},
			{Product: "microsoft-visio-2021", Metric: asset.PerInstall, Entitlements: 10, Licences: 1, Installations: 4, Consumption: 4,
				Status: asset.OverLicensed, Surplus: 6},
			{Product: "winrar", Metric: asset.PerInstall, Installations: 1, Consumption: 1, Status: asset.UnderLicensed, Shortfall: 1},
		}
		if !slices.Equal(rows, want) {
			t.Fatalf("compliance:\n got %+v\nwant %+v", rows, want)
		}
		one, err := e.svc.Compliance(e.s, "Microsoft Visio 2021")
		if err != nil || len(one) != 1 || one[0].Surplus != 6 {
			t.Fatalf("one product: %+v, %v", one, err)
		}

		// Deleting an installation (AM4) changes the position.
		page, total, err := e.svc.Installations(e.s, asset.SoftwareInstallationFilter{Product: "WinRAR"}, listingParams(50))
		if err != nil || total != 1 || len(page.Items) != 1 || page.Items[0].HostAsset != hosts[3].Number {
			t.Fatalf("installations of winrar: %+v %d %v", page, total, err)
		}
		if err := e.svc.DeleteInstallation(e.dv, page.Items[0].ID); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("the developer deletes an installation: %v", err)
		}
		if err := e.svc.DeleteInstallation(e.an, page.Items[0].ID); err != nil {
			t.Fatal(err)
		}
		rows, _ = e.svc.Compliance(e.s, "")
		if len(rows) != 3 || rows[2].Product != "microsoft-visio-2021" {
			t.Fatalf("after deleting winrar's installation: %+v", rows)
		}
		if len(e.audits("asset.installation.create")) != 11 || len(e.audits("asset.installation.delete")) != 1 {
			t.Error("installations not audited")
		}
	})
}
