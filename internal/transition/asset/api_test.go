package asset_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
	"steward/internal/transition/asset"
)

// newAPI serves the record and asset APIs over e as the application serves them.
func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.recs)
		asset.RegisterAPI(a, e.svc)
	})
}

// problem is a problem+json body.
type problem = apitest.Problem

// TestAPI drives asset management over HTTP: creating with every kind of bad
// input refused as problem+json naming the field, reading with ETags,
// changing with If-Match, the lifecycle through the kernel's actions and the
// dispose endpoint, licences, installations, audits, import and export.
func TestAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana, mgr, dev, str := a.Token(e.analyst), a.Token(e.manager), a.Token(e.developer), a.Token(e.stranger)
		room := e.ci("Room 9")

		body := map[string]any{"kind": "hardware", "assetTag": "api-1", "serialNumber": "SN1", "manufacturer": "Lenovo",
			"model": "ThinkPad T14", "costMinor": 140000, "purchaseDate": "2024-03-01", "depreciationMethod": "straight_line",
			"usefulLifeMonths": 48, "locationCiId": room}
		a.Do("POST", "/api/v1/assets", "", body).Want(t, http.StatusUnauthorized)
		var p problem
		a.Do("POST", "/api/v1/assets", dev, body).Want(t, http.StatusForbidden).Decode(t, &p)
		if !strings.Contains(p.Detail, "AM2") {
			t.Fatalf("403 does not name AM2: %+v", p)
		}
		for _, tc := range []struct {
			name   string
			change map[string]any
			status int
			loc    string
		}{
			{"wrong type", map[string]any{"costMinor": "a lot"}, http.StatusUnprocessableEntity, "body.costMinor"},
			{"negative", map[string]any{"costMinor": -5}, http.StatusUnprocessableEntity, "body.costMinor"},
			{"no kind", map[string]any{"kind": nil}, http.StatusUnprocessableEntity, "body.kind"},
			{"unknown kind", map[string]any{"kind": "boat"}, http.StatusUnprocessableEntity, "body.kind"},
			{"unknown user", map[string]any{"assignedUserId": 424242}, http.StatusUnprocessableEntity, "body.assignedUserId"},
			{"unknown CI", map[string]any{"ciId": 424242}, http.StatusUnprocessableEntity, "body.ciId"},
			{"bad date", map[string]any{"purchaseDate": "yesterday"}, http.StatusUnprocessableEntity, "body.purchaseDate"},
			{"unknown field", map[string]any{"colour": "black"}, http.StatusUnprocessableEntity, ""},
		} {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			for k, v := range tc.change {
				if v == nil {
					delete(b, k)
				} else {
					b[k] = v
				}
			}
			var p problem
			a.Do("POST", "/api/v1/assets", ana, b).Want(t, tc.status).Decode(t, &p)
			if tc.loc != "" && !p.Names(tc.loc) {
				t.Errorf("%s: %+v does not name %s", tc.name, p, tc.loc)
			}
		}
		var as asset.Asset
		r := a.Do("POST", "/api/v1/assets", ana, body).Want(t, http.StatusCreated).Decode(t, &as)
		if r.Header.Get("ETag") != `"1"` || as.AssetTag != "API-1" || as.BookValueMinor != 105000 || as.LocationName != "Room 9" {
			t.Fatalf("created: %s %+v", r.Header.Get("ETag"), as)
		}
		a.Do("POST", "/api/v1/assets", ana, body).Want(t, http.StatusConflict).Decode(t, &p)
		if !p.Names("body.assetTag") {
			t.Fatalf("duplicate tag: %+v", p)
		}
		lic := map[string]any{"kind": "licence", "product": "Microsoft Visio 2021", "entitlements": 1}
		a.Do("POST", "/api/v1/assets", mgr, lic).Want(t, http.StatusCreated)

		// Lists, with filters and a Link to the next page.
		var list struct {
			Items      []asset.Asset
			NextCursor string
		}
		r = a.Do("GET", "/api/v1/assets?limit=1&sort=number", str, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Number != as.Number || r.Header.Get("X-Total-Count") != "2" ||
			!strings.Contains(r.Header.Get("Link"), "cursor=") {
			t.Fatalf("page 1: %s %v", r.Body, r.Header)
		}
		a.Do("GET", "/api/v1/assets?kind=licence&product=microsoft-visio-2021", str, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Kind != asset.Licence {
			t.Fatalf("licences: %+v", list.Items)
		}
		a.Do("GET", "/api/v1/assets?q=api&locationCiId="+strconv.FormatInt(room, 10), str, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("by tag and location: %+v", list.Items)
		}
		a.Do("GET", "/api/v1/assets?state=lost", str, nil).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("query.state") {
			t.Fatalf("bad state: %+v", p)
		}
		a.Do("GET", "/api/v1/assets?colour=red", str, nil).Want(t, http.StatusUnprocessableEntity)
		a.Do("GET", "/api/v1/assets/AST9999999", str, nil).Want(t, http.StatusNotFound)

		// PATCH with If-Match: assign the asset to a user.
		path := "/api/v1/assets/" + as.Number
		a.Do("PATCH", path, ana, map[string]any{"assignedUserId": e.stranger.ID}).Want(t, http.StatusPreconditionRequired)
		a.Do("PATCH", path, ana, map[string]any{"assignedUserId": "me"}, "If-Match", `"1"`).Want(t, http.StatusUnprocessableEntity)
		r = a.Do("PATCH", path, ana, map[string]any{"assignedUserId": e.stranger.ID}, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &as)
		if r.Header.Get("ETag") != `"2"` || as.AssignedUserName != "stranger" {
			t.Fatalf("assigned: %+v", as)
		}
		a.Do("PATCH", path, ana, map[string]any{"model": "x"}, "If-Match", `"1"`).Want(t, http.StatusPreconditionFailed)
		a.Do("GET", path, str, nil).Want(t, http.StatusOK)

		// The lifecycle through the kernel's actions and the dispose endpoint.
		act := func(token, action string, version int64, status int) apitest.Reply {
			t.Helper()
			return a.Do("POST", "/api/v1/records/"+as.Number+"/actions/"+action, token, nil, "If-Match", httpx.ETag(version)).Want(t, status)
		}
		act(ana, "receive", 2, http.StatusOK)
		act(ana, "store", 3, http.StatusOK)
		act(dev, "deploy", 4, http.StatusForbidden).Decode(t, &p)
		if !strings.Contains(p.Detail, "AM3") {
			t.Fatalf("the developer deploys: %+v", p)
		}
		act(ana, "deploy", 4, http.StatusOK)
		act(mgr, "retire", 5, http.StatusOK)
		act(mgr, "dispose", 6, http.StatusConflict)
		disposal := map[string]any{"method": "destruction", "date": "2025-03-01", "certificateRef": "DC-77"}
		a.Do("POST", path+"/dispose", mgr, disposal).Want(t, http.StatusPreconditionRequired)
		a.Do("POST", path+"/dispose", mgr, map[string]any{"method": "burning", "date": "2025-03-01", "certificateRef": "x"},
			"If-Match", `"6"`).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.method") {
			t.Fatalf("bad method: %+v", p)
		}
		a.Do("POST", path+"/dispose", dev, disposal, "If-Match", `"6"`).Want(t, http.StatusForbidden)
		var res asset.AssetStepResult
		r = a.Do("POST", path+"/dispose", mgr, disposal, "If-Match", `"6"`).Want(t, http.StatusOK).Decode(t, &res)
		if res.Outcome != record.OutcomeApplied || res.Asset.State != asset.Disposed || res.Asset.Disposal == nil ||
			res.Asset.Disposal.CertificateRef != "DC-77" || r.Header.Get("ETag") != `"7"` {
			t.Fatalf("disposed: %s", r.Body)
		}
		a.Do("PATCH", path, mgr, map[string]any{"model": "x"}, "If-Match", `"7"`).Want(t, http.StatusConflict)

		// Installations and licence compliance.
		host := e.create(laptop("H-1"))
		var inst asset.SoftwareInstallation
		a.Do("POST", "/api/v1/assets/installations", dev, map[string]any{"product": "Visio", "hostAsset": host.Number}).
			Want(t, http.StatusForbidden)
		a.Do("POST", "/api/v1/assets/installations", ana, map[string]any{"product": "Visio"}).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.hostAsset") {
			t.Fatalf("no host: %+v", p)
		}
		a.Do("POST", "/api/v1/assets/installations", ana, map[string]any{"product": "Visio", "hostAsset": "AST9999999"}).
			Want(t, http.StatusUnprocessableEntity)
		for range 2 {
			a.Do("POST", "/api/v1/assets/installations", ana, map[string]any{"product": "Microsoft Visio 2021", "version": "16.0",
				"hostAsset": strings.ToLower(host.Number), "discoveredAt": "2025-02-27T10:00:00Z", "source": "sccm"}).
				Want(t, http.StatusCreated).Decode(t, &inst)
		}
		if inst.Product != "microsoft-visio-2021" || inst.HostAsset != host.Number || inst.DiscoveredAt.Day() != 27 {
			t.Fatalf("installation: %+v", inst)
		}
		var insts struct{ Items []asset.SoftwareInstallation }
		r = a.Do("GET", "/api/v1/assets/installations?hostAsset="+host.Number, str, nil).Want(t, http.StatusOK).Decode(t, &insts)
		if len(insts.Items) != 2 || r.Header.Get("X-Total-Count") != "2" {
			t.Fatalf("installations: %s", r.Body)
		}
		var report asset.LicenceComplianceReport
		a.Do("GET", "/api/v1/assets/licence-compliance", str, nil).Want(t, http.StatusOK).Decode(t, &report)
		if len(report.Items) != 1 || report.Items[0].Status != asset.UnderLicensed || report.Items[0].Shortfall != 1 || report.UnderLicensed != 1 {
			t.Fatalf("compliance: %+v", report)
		}
		a.Do("DELETE", "/api/v1/assets/installations/"+strconv.FormatInt(inst.ID, 10), ana, nil).Want(t, http.StatusNoContent)
		a.Do("DELETE", "/api/v1/assets/installations/"+strconv.FormatInt(inst.ID, 10), ana, nil).Want(t, http.StatusNotFound)
		a.Do("GET", "/api/v1/assets/licence-compliance?product=Microsoft+Visio+2021", str, nil).Want(t, http.StatusOK).Decode(t, &report)
		if report.Items[0].Status != asset.Compliant || report.Compliant != 1 {
			t.Fatalf("compliance after the delete: %+v", report)
		}

		// An inventory audit: dry run (200), then applied (201).
		e.walk(e.an, host.Number, "receive", "store")
		hp := "/api/v1/assets/" + host.Number
		cur := e.get(host.Number)
		a.Do("PATCH", hp, ana, map[string]any{"locationCiId": room}, "If-Match", httpx.ETag(cur.Version)).Want(t, http.StatusOK)
		audit := map[string]any{"locationCiId": room, "observed": []string{"UNKNOWN-7"}}
		var au asset.InventoryAudit
		a.Do("POST", "/api/v1/asset-audits?dryRun=true", dev, audit).Want(t, http.StatusOK).Decode(t, &au)
		if au.ID != 0 || au.Missing != 1 || au.Unexpected != 1 {
			t.Fatalf("dry run: %+v", au)
		}
		a.Do("POST", "/api/v1/asset-audits", dev, audit).Want(t, http.StatusForbidden)
		a.Do("POST", "/api/v1/asset-audits", ana, map[string]any{"observed": "A-1"}).Want(t, http.StatusUnprocessableEntity)
		a.Do("POST", "/api/v1/asset-audits", ana, audit).Want(t, http.StatusCreated).Decode(t, &au)
		if au.ID == 0 || len(au.Items) != 2 || au.Items[1].Remediation == "" || au.Items[1].Step != "Reported missing." {
			t.Fatalf("audit: %+v", au)
		}
		a.Do("GET", "/api/v1/asset-audits/"+strconv.FormatInt(au.ID, 10), str, nil).Want(t, http.StatusOK).Decode(t, &au)
		var audits struct{ Items []asset.InventoryAudit }
		a.Do("GET", "/api/v1/asset-audits?locationCiId="+strconv.FormatInt(room, 10), str, nil).Want(t, http.StatusOK).Decode(t, &audits)
		if len(audits.Items) != 1 || audits.Items[0].ID != au.ID {
			t.Fatalf("audits: %+v", audits)
		}
		a.Do("GET", "/api/v1/asset-audits/999", str, nil).Want(t, http.StatusNotFound)
		a.Do("POST", "/api/v1/records/"+au.Items[1].Remediation+"/actions/resolve", mgr, nil, "If-Match", `"1"`).Want(t, http.StatusOK)

		// Import: a CSV body as text/csv, JSON as application/json.
		csv := "assetTag,kind,model,costMinor\nCSV-1,hardware,X1,1000\nCSV-2,hardware,X2,abc\n"
		var rep asset.AssetImportReport
		a.Raw("POST", "/api/v1/assets/import?format=csv&dryRun=true", ana, "text/csv", []byte(csv)).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Applied || len(rep.Errors) != 1 || rep.Errors[0].Row != 3 || rep.Errors[0].Field != "costMinor" {
			t.Fatalf("import dry run: %+v", rep)
		}
		a.Raw("POST", "/api/v1/assets/import?format=csv", ana, "text/csv", []byte(csv)).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("rows[3].costMinor") {
			t.Fatalf("import with an error: %+v", p)
		}
		csv = strings.Replace(csv, "abc", "2000", 1)
		a.Raw("POST", "/api/v1/assets/import?format=csv", ana, "text/csv", []byte(csv)).Want(t, http.StatusOK).Decode(t, &rep)
		if !rep.Applied || rep.Created != 2 {
			t.Fatalf("import: %+v", rep)
		}
		a.Raw("POST", "/api/v1/assets/import?format=json", ana, "application/json",
			[]byte(`[{"assetTag":"CSV-1","model":"X1 Carbon"}]`)).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Updated != 1 {
			t.Fatalf("JSON import: %+v", rep)
		}
		a.Raw("POST", "/api/v1/assets/import?format=json", ana, "application/json", []byte(`{"items":[{"assetTag":"CSV-1","colour":"red"}]}`)).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("rows[1].colour") {
			t.Fatalf("unknown JSON field: %+v", p)
		}
		a.Raw("POST", "/api/v1/assets/import?format=xml", ana, "text/csv", []byte(csv)).Want(t, http.StatusUnprocessableEntity)

		// Export: the banner as the first line and as a header.
		r = a.Do("GET", "/api/v1/assets/export?format=csv&kind=hardware&q=CSV", str, nil).Want(t, http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") || r.Header.Get("X-Classification") != "CUI" ||
			!strings.HasPrefix(string(r.Body), "CUI\nnumber,state,kind") || strings.Count(string(r.Body), "\n") != 5 ||
			!strings.Contains(r.Header.Get("Content-Disposition"), "assets.csv") {
			t.Fatalf("export: %v\n%s", r.Header, r.Body)
		}
		r = a.Do("GET", "/api/v1/assets/export?format=json&state=disposed", str, nil).Want(t, http.StatusOK)
		var doc struct {
			Classification string
			Items          []asset.Asset
		}
		if err := json.Unmarshal(r.Body, &doc); err != nil || doc.Classification != "CUI" || len(doc.Items) != 1 ||
			doc.Items[0].Disposal == nil {
			t.Fatalf("JSON export: %s", r.Body)
		}
		a.Do("GET", "/api/v1/assets/export?format=pdf", str, nil).Want(t, http.StatusUnprocessableEntity)
		a.Do("GET", "/api/v1/assets/export", "", nil).Want(t, http.StatusUnauthorized)
	})
}
