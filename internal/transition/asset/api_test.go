package asset_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/asset"
)

// api is the record and asset API over an env, behind the middleware the application uses.
type api struct {
	e       *env
	handler http.Handler
}

func newAPI(e *env) *api {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Asset API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, e.auth))
	log := slog.New(slog.DiscardHandler)
	japi := &httpx.API{API: hapi, Log: log}
	record.RegisterAPI(japi, e.recs)
	asset.RegisterAPI(japi, e.svc)
	return &api{e: e, handler: httpx.Chain(mux, httpx.RequestMeta(), httpx.CheckJSONBody(1<<20),
		auth.Authenticate(e.auth, log, nil), raci.RequestCache, httpx.APIErrorsAsProblems)}
}

func (a *api) token(u auth.User) string {
	a.e.t.Helper()
	secret, _, err := a.e.auth.CreateToken(context.Background(), u.ID, "test", time.Hour)
	if err != nil {
		a.e.t.Fatal(err)
	}
	return secret
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (r reply) decode(t testing.TB, v any) reply {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return r
}

// raw sends body as is with its content type.
func (a *api) raw(method, path, token, contentType string, body []byte, headers ...string) reply {
	a.e.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, req)
	return reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

func (a *api) do(method, path, token string, body any, headers ...string) reply {
	a.e.t.Helper()
	if body == nil {
		return a.raw(method, path, token, "", nil, headers...)
	}
	j, err := json.Marshal(body)
	if err != nil {
		a.e.t.Fatal(err)
	}
	return a.raw(method, path, token, "application/json", j, headers...)
}

type problem struct {
	Status int
	Detail string
	Errors []struct {
		Location, Message string
	}
}

func (p problem) names(loc string) bool {
	for _, e := range p.Errors {
		if e.Location == loc {
			return true
		}
	}
	return false
}

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
		ana, mgr, dev, str := a.token(e.analyst), a.token(e.manager), a.token(e.developer), a.token(e.stranger)
		room := e.ci("Room 9")

		body := map[string]any{"kind": "hardware", "assetTag": "api-1", "serialNumber": "SN1", "manufacturer": "Lenovo",
			"model": "ThinkPad T14", "costMinor": 140000, "purchaseDate": "2024-03-01", "depreciationMethod": "straight_line",
			"usefulLifeMonths": 48, "locationCiId": room}
		a.do("POST", "/api/v1/assets", "", body).want(t, http.StatusUnauthorized)
		var p problem
		a.do("POST", "/api/v1/assets", dev, body).want(t, http.StatusForbidden).decode(t, &p)
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
			a.do("POST", "/api/v1/assets", ana, b).want(t, tc.status).decode(t, &p)
			if tc.loc != "" && !p.names(tc.loc) {
				t.Errorf("%s: %+v does not name %s", tc.name, p, tc.loc)
			}
		}
		var as asset.Asset
		r := a.do("POST", "/api/v1/assets", ana, body).want(t, http.StatusCreated).decode(t, &as)
		if r.header.Get("ETag") != `"1"` || as.AssetTag != "API-1" || as.BookValueMinor != 105000 || as.LocationName != "Room 9" {
			t.Fatalf("created: %s %+v", r.header.Get("ETag"), as)
		}
		a.do("POST", "/api/v1/assets", ana, body).want(t, http.StatusConflict).decode(t, &p)
		if !p.names("body.assetTag") {
			t.Fatalf("duplicate tag: %+v", p)
		}
		lic := map[string]any{"kind": "licence", "product": "Microsoft Visio 2021", "entitlements": 1}
		a.do("POST", "/api/v1/assets", mgr, lic).want(t, http.StatusCreated)

		// Lists, with filters and a Link to the next page.
		var list struct {
			Items      []asset.Asset
			NextCursor string
		}
		r = a.do("GET", "/api/v1/assets?limit=1&sort=number", str, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Number != as.Number || r.header.Get("X-Total-Count") != "2" ||
			!strings.Contains(r.header.Get("Link"), "cursor=") {
			t.Fatalf("page 1: %s %v", r.body, r.header)
		}
		a.do("GET", "/api/v1/assets?kind=licence&product=microsoft-visio-2021", str, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Kind != asset.Licence {
			t.Fatalf("licences: %+v", list.Items)
		}
		a.do("GET", "/api/v1/assets?q=api&locationCiId="+strconv.FormatInt(room, 10), str, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 {
			t.Fatalf("by tag and location: %+v", list.Items)
		}
		a.do("GET", "/api/v1/assets?state=lost", str, nil).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("query.state") {
			t.Fatalf("bad state: %+v", p)
		}
		a.do("GET", "/api/v1/assets?colour=red", str, nil).want(t, http.StatusUnprocessableEntity)
		a.do("GET", "/api/v1/assets/AST9999999", str, nil).want(t, http.StatusNotFound)

		// PATCH with If-Match: assign the asset to a user.
		path := "/api/v1/assets/" + as.Number
		a.do("PATCH", path, ana, map[string]any{"assignedUserId": e.stranger.ID}).want(t, http.StatusPreconditionRequired)
		a.do("PATCH", path, ana, map[string]any{"assignedUserId": "me"}, "If-Match", `"1"`).want(t, http.StatusUnprocessableEntity)
		r = a.do("PATCH", path, ana, map[string]any{"assignedUserId": e.stranger.ID}, "If-Match", `"1"`).want(t, http.StatusOK).decode(t, &as)
		if r.header.Get("ETag") != `"2"` || as.AssignedUserName != "stranger" {
			t.Fatalf("assigned: %+v", as)
		}
		a.do("PATCH", path, ana, map[string]any{"model": "x"}, "If-Match", `"1"`).want(t, http.StatusPreconditionFailed)
		a.do("GET", path, str, nil).want(t, http.StatusOK)

		// The lifecycle through the kernel's actions and the dispose endpoint.
		act := func(token, action string, version int64, status int) reply {
			t.Helper()
			return a.do("POST", "/api/v1/records/"+as.Number+"/actions/"+action, token, nil, "If-Match", httpx.ETag(version)).want(t, status)
		}
		act(ana, "receive", 2, http.StatusOK)
		act(ana, "store", 3, http.StatusOK)
		act(dev, "deploy", 4, http.StatusForbidden).decode(t, &p)
		if !strings.Contains(p.Detail, "AM3") {
			t.Fatalf("the developer deploys: %+v", p)
		}
		act(ana, "deploy", 4, http.StatusOK)
		act(mgr, "retire", 5, http.StatusOK)
		act(mgr, "dispose", 6, http.StatusConflict)
		disposal := map[string]any{"method": "destruction", "date": "2025-03-01", "certificateRef": "DC-77"}
		a.do("POST", path+"/dispose", mgr, disposal).want(t, http.StatusPreconditionRequired)
		a.do("POST", path+"/dispose", mgr, map[string]any{"method": "burning", "date": "2025-03-01", "certificateRef": "x"},
			"If-Match", `"6"`).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.method") {
			t.Fatalf("bad method: %+v", p)
		}
		a.do("POST", path+"/dispose", dev, disposal, "If-Match", `"6"`).want(t, http.StatusForbidden)
		var res asset.AssetStepResult
		r = a.do("POST", path+"/dispose", mgr, disposal, "If-Match", `"6"`).want(t, http.StatusOK).decode(t, &res)
		if res.Outcome != record.OutcomeApplied || res.Asset.State != asset.Disposed || res.Asset.Disposal == nil ||
			res.Asset.Disposal.CertificateRef != "DC-77" || r.header.Get("ETag") != `"7"` {
			t.Fatalf("disposed: %s", r.body)
		}
		a.do("PATCH", path, mgr, map[string]any{"model": "x"}, "If-Match", `"7"`).want(t, http.StatusConflict)

		// Installations and licence compliance.
		host := e.create(laptop("H-1"))
		var inst asset.SoftwareInstallation
		a.do("POST", "/api/v1/assets/installations", dev, map[string]any{"product": "Visio", "hostAsset": host.Number}).
			want(t, http.StatusForbidden)
		a.do("POST", "/api/v1/assets/installations", ana, map[string]any{"product": "Visio"}).
			want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.hostAsset") {
			t.Fatalf("no host: %+v", p)
		}
		a.do("POST", "/api/v1/assets/installations", ana, map[string]any{"product": "Visio", "hostAsset": "AST9999999"}).
			want(t, http.StatusUnprocessableEntity)
		for range 2 {
			a.do("POST", "/api/v1/assets/installations", ana, map[string]any{"product": "Microsoft Visio 2021", "version": "16.0",
				"hostAsset": strings.ToLower(host.Number), "discoveredAt": "2025-02-27T10:00:00Z", "source": "sccm"}).
				want(t, http.StatusCreated).decode(t, &inst)
		}
		if inst.Product != "microsoft-visio-2021" || inst.HostAsset != host.Number || inst.DiscoveredAt.Day() != 27 {
			t.Fatalf("installation: %+v", inst)
		}
		var insts struct{ Items []asset.SoftwareInstallation }
		r = a.do("GET", "/api/v1/assets/installations?hostAsset="+host.Number, str, nil).want(t, http.StatusOK).decode(t, &insts)
		if len(insts.Items) != 2 || r.header.Get("X-Total-Count") != "2" {
			t.Fatalf("installations: %s", r.body)
		}
		var report asset.LicenceComplianceReport
		a.do("GET", "/api/v1/assets/licence-compliance", str, nil).want(t, http.StatusOK).decode(t, &report)
		if len(report.Items) != 1 || report.Items[0].Status != asset.UnderLicensed || report.Items[0].Shortfall != 1 || report.UnderLicensed != 1 {
			t.Fatalf("compliance: %+v", report)
		}
		a.do("DELETE", "/api/v1/assets/installations/"+strconv.FormatInt(inst.ID, 10), ana, nil).want(t, http.StatusNoContent)
		a.do("DELETE", "/api/v1/assets/installations/"+strconv.FormatInt(inst.ID, 10), ana, nil).want(t, http.StatusNotFound)
		a.do("GET", "/api/v1/assets/licence-compliance?product=Microsoft+Visio+2021", str, nil).want(t, http.StatusOK).decode(t, &report)
		if report.Items[0].Status != asset.Compliant || report.Compliant != 1 {
			t.Fatalf("compliance after the delete: %+v", report)
		}

		// An inventory audit: dry run (200), then applied (201).
		e.walk(e.an, host.Number, "receive", "store")
		hp := "/api/v1/assets/" + host.Number
		cur := e.get(host.Number)
		a.do("PATCH", hp, ana, map[string]any{"locationCiId": room}, "If-Match", httpx.ETag(cur.Version)).want(t, http.StatusOK)
		audit := map[string]any{"locationCiId": room, "observed": []string{"UNKNOWN-7"}}
		var au asset.InventoryAudit
		a.do("POST", "/api/v1/asset-audits?dryRun=true", dev, audit).want(t, http.StatusOK).decode(t, &au)
		if au.ID != 0 || au.Missing != 1 || au.Unexpected != 1 {
			t.Fatalf("dry run: %+v", au)
		}
		a.do("POST", "/api/v1/asset-audits", dev, audit).want(t, http.StatusForbidden)
		a.do("POST", "/api/v1/asset-audits", ana, map[string]any{"observed": "A-1"}).want(t, http.StatusUnprocessableEntity)
		a.do("POST", "/api/v1/asset-audits", ana, audit).want(t, http.StatusCreated).decode(t, &au)
		if au.ID == 0 || len(au.Items) != 2 || au.Items[1].Remediation == "" || au.Items[1].Step != "Reported missing." {
			t.Fatalf("audit: %+v", au)
		}
		a.do("GET", "/api/v1/asset-audits/"+strconv.FormatInt(au.ID, 10), str, nil).want(t, http.StatusOK).decode(t, &au)
		var audits struct{ Items []asset.InventoryAudit }
		a.do("GET", "/api/v1/asset-audits?locationCiId="+strconv.FormatInt(room, 10), str, nil).want(t, http.StatusOK).decode(t, &audits)
		if len(audits.Items) != 1 || audits.Items[0].ID != au.ID {
			t.Fatalf("audits: %+v", audits)
		}
		a.do("GET", "/api/v1/asset-audits/999", str, nil).want(t, http.StatusNotFound)
		a.do("POST", "/api/v1/records/"+au.Items[1].Remediation+"/actions/resolve", mgr, nil, "If-Match", `"1"`).want(t, http.StatusOK)

		// Import: a CSV body as text/csv, JSON as application/json.
		csv := "assetTag,kind,model,costMinor\nCSV-1,hardware,X1,1000\nCSV-2,hardware,X2,abc\n"
		var rep asset.AssetImportReport
		a.raw("POST", "/api/v1/assets/import?format=csv&dryRun=true", ana, "text/csv", []byte(csv)).want(t, http.StatusOK).decode(t, &rep)
		if rep.Applied || len(rep.Errors) != 1 || rep.Errors[0].Row != 3 || rep.Errors[0].Field != "costMinor" {
			t.Fatalf("import dry run: %+v", rep)
		}
		a.raw("POST", "/api/v1/assets/import?format=csv", ana, "text/csv", []byte(csv)).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("rows[3].costMinor") {
			t.Fatalf("import with an error: %+v", p)
		}
		csv = strings.Replace(csv, "abc", "2000", 1)
		a.raw("POST", "/api/v1/assets/import?format=csv", ana, "text/csv", []byte(csv)).want(t, http.StatusOK).decode(t, &rep)
		if !rep.Applied || rep.Created != 2 {
			t.Fatalf("import: %+v", rep)
		}
		a.raw("POST", "/api/v1/assets/import?format=json", ana, "application/json",
			[]byte(`[{"assetTag":"CSV-1","model":"X1 Carbon"}]`)).want(t, http.StatusOK).decode(t, &rep)
		if rep.Updated != 1 {
			t.Fatalf("JSON import: %+v", rep)
		}
		a.raw("POST", "/api/v1/assets/import?format=json", ana, "application/json", []byte(`{"items":[{"assetTag":"CSV-1","colour":"red"}]}`)).
			want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("rows[1].colour") {
			t.Fatalf("unknown JSON field: %+v", p)
		}
		a.raw("POST", "/api/v1/assets/import?format=xml", ana, "text/csv", []byte(csv)).want(t, http.StatusUnprocessableEntity)

		// Export: the banner as the first line and as a header.
		r = a.do("GET", "/api/v1/assets/export?format=csv&kind=hardware&q=CSV", str, nil).want(t, http.StatusOK)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") || r.header.Get("X-Classification") != "CUI" ||
			!strings.HasPrefix(string(r.body), "CUI\nnumber,state,kind") || strings.Count(string(r.body), "\n") != 5 ||
			!strings.Contains(r.header.Get("Content-Disposition"), "assets.csv") {
			t.Fatalf("export: %v\n%s", r.header, r.body)
		}
		r = a.do("GET", "/api/v1/assets/export?format=json&state=disposed", str, nil).want(t, http.StatusOK)
		var doc struct {
			Classification string
			Items          []asset.Asset
		}
		if err := json.Unmarshal(r.body, &doc); err != nil || doc.Classification != "CUI" || len(doc.Items) != 1 ||
			doc.Items[0].Disposal == nil {
			t.Fatalf("JSON export: %s", r.body)
		}
		a.do("GET", "/api/v1/assets/export?format=pdf", str, nil).want(t, http.StatusUnprocessableEntity)
		a.do("GET", "/api/v1/assets/export", "", nil).want(t, http.StatusUnauthorized)
	})
}
