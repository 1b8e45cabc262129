package asset_test

import (
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
	"steward/internal/transition/asset"
)

// TestInventoryAudit audits room 101: two assets recorded there are observed
// (one by its serial number, in lower case), one is not (missing), one in
// repair is not expected to be there, one recorded in room 102 and an unknown
// tag are observed (unexpected), and so is an asset recorded as missing. The
// dry run changes nothing; applying (AM4) reports the missing asset missing
// through the kernel and opens a remediation task, linked to its asset, for
// each missing or unexpected row. Finding the missing asset again (AM5)
// resolves its remediation task as a follow-up; the others are resolved or
// closed through the kernel by an AM5 holder.
func TestInventoryAudit(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		r101, r102 := e.ci("Room 101"), e.ci("Room 102")
		at := func(tag string, loc int64, actions ...string) asset.Asset {
			in := laptop(tag)
			in.LocationCIID = loc
			a := e.create(in)
			e.walk(e.an, a.Number, actions...)
			return e.get(a.Number)
		}
		stored := at("A-1", r101, "receive", "store")
		deployed := at("A-2", r101, "receive", "store", "deploy")
		gone := at("A-3", r101, "receive", "store")
		repair := at("A-4", r101, "receive", "store", "repair")
		elsewhere := at("A-5", r102, "receive", "store")
		lost := at("A-6", r101, "receive", "store", "report_missing")
		licence := e.create(asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Product: "visio", Entitlements: 1, LocationCIID: r101}})

		observed := []string{"a-1", " " + strings.ToLower(deployed.SerialNumber), "A-5", "NOPE-99", "A-1", "A-6"}
		in := asset.NewInventoryAudit{LocationCIID: r101, Observed: observed, Note: "Quarterly count", DryRun: true}

		// The dry run is open to anyone signed in and changes nothing.
		dry, err := e.svc.RunAudit(e.dv, in)
		if err != nil {
			t.Fatal(err)
		}
		type row struct {
			Result asset.AuditResult
			Asset  string
		}
		var got []row
		for _, it := range dry.Items {
			got = append(got, row{it.Result, it.Asset})
		}
		want := []row{{asset.Found, stored.Number}, {asset.Found, deployed.Number}, {asset.Unexpected, elsewhere.Number},
			{asset.Unexpected, ""}, {asset.Unexpected, lost.Number}, {asset.NotObserved, gone.Number}}
		if !slices.Equal(got, want) {
			t.Fatalf("dry run rows:\n got %+v\nwant %+v", got, want)
		}
		if dry.ID != 0 || !dry.DryRun || dry.Observed != 5 || dry.Found != 2 || dry.Missing != 1 || dry.Unexpected != 3 ||
			dry.LocationName != "Room 101" {
			t.Fatalf("dry run: %+v", dry)
		}
		if !strings.Contains(dry.Items[2].Reason, "another location") || !strings.Contains(dry.Items[4].Reason, "missing") {
			t.Errorf("reasons: %+v", dry.Items)
		}
		if g := e.get(gone.Number); g.State != asset.InStorage {
			t.Fatalf("the dry run moved %s to %s", gone.Number, g.State)
		}
		if _, total, _ := e.svc.Audits(e.s, 0, listingParams(10)); total != 0 {
			t.Fatalf("the dry run stored %d audits", total)
		}

		// Applying needs R or A for AM4.
		in.DryRun = false
		if _, err := e.svc.RunAudit(e.dv, in); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "AM4") {
			t.Fatalf("the developer applies an audit: %v", err)
		}
		if _, err := e.svc.RunAudit(e.an, asset.NewInventoryAudit{LocationCIID: 99999}); !fieldAt(err, "body.locationCiId") {
			t.Fatalf("an audit of an unknown location: %v", err)
		}
		res, err := e.svc.RunAudit(e.an, in)
		if err != nil {
			t.Fatal(err)
		}
		if res.ID == 0 || res.DryRun || len(res.Items) != 6 || res.Missing != 1 || res.Unexpected != 3 || res.Note != "Quarterly count" {
			t.Fatalf("applied: %+v", res)
		}
		miss := res.Items[5]
		if miss.Result != asset.NotObserved || miss.Step != "Reported missing." || miss.Remediation == "" || miss.State != asset.InStorage {
			t.Fatalf("missing row: %+v", miss)
		}
		if g := e.get(gone.Number); g.State != asset.Missing {
			t.Fatalf("%s is %s after the audit", gone.Number, g.State)
		}
		for _, r := range []asset.Asset{stored, deployed, repair, elsewhere, licence} {
			if g := e.get(r.Number); g.State != r.State {
				t.Errorf("%s moved from %s to %s", r.Number, r.State, g.State)
			}
		}
		var tasks []string
		for _, it := range res.Items {
			if (it.Result == asset.Found) != (it.Remediation == "") {
				t.Errorf("row %+v: remediation %q", it, it.Remediation)
			}
			if it.Remediation != "" {
				tasks = append(tasks, it.Remediation)
			}
		}
		if len(tasks) != 4 {
			t.Fatalf("remediation tasks: %v", tasks)
		}
		task, err := e.recs.Get(e.an, miss.Remediation)
		if err != nil || task.Type != asset.RemediationType || task.State != asset.RemediationOpen ||
			!strings.HasPrefix(task.Number, asset.RemediationPrefix) || !strings.Contains(task.Title, gone.Number) {
			t.Fatalf("remediation task: %+v, %v", task, err)
		}
		links, err := e.recs.Links(e.an, miss.Remediation)
		if err != nil || len(links) != 1 || links[0].Record != gone.Number || links[0].Type != record.RelatedTo {
			t.Fatalf("links: %+v, %v", links, err)
		}
		unknown := res.Items[3]
		if links, _ := e.recs.Links(e.an, unknown.Remediation); len(links) != 0 || unknown.Observed != "NOPE-99" {
			t.Fatalf("an unknown tag's task: %+v %+v", unknown, links)
		}
		stored2, err := e.svc.Audit(e.s, res.ID)
		if err != nil || len(stored2.Items) != 6 || stored2.Items[5].Remediation != miss.Remediation || stored2.CreatedByName != "analyst" {
			t.Fatalf("stored audit: %+v, %v", stored2, err)
		}
		list, total, err := e.svc.Audits(e.s, r101, listingParams(10))
		if err != nil || total != 1 || list.Items[0].ID != res.ID || list.Items[0].Missing != 1 {
			t.Fatalf("audits: %+v %d %v", list, total, err)
		}

		// Finding the asset (AM5) resolves its remediation task as a follow-up.
		e.mustPerform(e.an, gone.Number, "found", record.OutcomeApplied)
		if task, _ := e.recs.Get(e.an, miss.Remediation); task.State != asset.RemediationResolved {
			t.Fatalf("remediation after found: %s", task.State)
		}
		// The developer (I for AM5) may not resolve; the manager (A) may.
		if _, err := e.perform(e.dv, unknown.Remediation, "resolve"); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "AM5") {
			t.Fatalf("the developer resolves: %v", err)
		}
		e.mustPerform(e.m, unknown.Remediation, "close", record.OutcomeApplied)
		e.mustPerform(e.an, res.Items[2].Remediation, "resolve", record.OutcomeApplied)
		if ev := e.events("asset.audit_recorded"); len(ev) != 1 {
			t.Errorf("asset.audit_recorded: %+v", ev)
		}
	})
}

// TestAuditWithoutLocation audits every physical asset: an asset in storage
// anywhere that is not observed is missing; licences are never expected.
func TestAuditWithoutLocation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := e.create(laptop("W-1"))
		e.walk(e.an, a.Number, "receive", "store")
		b := e.create(laptop("W-2"))
		e.walk(e.an, b.Number, "receive")
		e.create(laptop("W-3")) // ordered: not expected anywhere
		e.create(asset.NewAsset{Details: asset.Details{Kind: asset.Licence, Product: "visio", Entitlements: 3}})
		res, err := e.svc.RunAudit(e.an, asset.NewInventoryAudit{Observed: []string{"W-1", "W-3"}, DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Items) != 3 || res.Items[0].Result != asset.Found || res.Items[1].Result != asset.Unexpected ||
			res.Items[2].Result != asset.NotObserved || res.Items[2].Asset != b.Number {
			t.Fatalf("rows: %+v", res.Items)
		}
	})
}
