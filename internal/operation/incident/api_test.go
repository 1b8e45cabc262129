package incident_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/operation/incident"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// api is the record and incident API over an env, behind the middleware the application uses.
type api struct {
	e       *env
	handler http.Handler
}

func newAPI(e *env) *api {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Incident API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, e.auth))
	log := slog.New(slog.DiscardHandler)
	japi := &httpx.API{API: hapi, Log: log}
	record.RegisterAPI(japi, e.recs)
	incident.RegisterAPI(japi, e.svc)
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

// TestAPI drives incident management over HTTP on the three paths, with
// bad input answered as problem+json naming the field.
func TestAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana, mgr, own, cal, str, sec := a.token(e.analyst), a.token(e.manager), a.token(e.owner), a.token(e.caller),
			a.token(e.stranger), a.token(e.secops)

		// Logging.
		body := map[string]any{"title": "VPN drops every hour", "description": "Since Monday", "impact": 2, "urgency": 2,
			"service": e.service, "ci": e.server, "category": "network", "subcategory": "vpn"}
		a.do("POST", "/api/v1/incidents", "", body).want(t, http.StatusUnauthorized)
		for _, tc := range []struct {
			change map[string]any
			loc    string
		}{
			{map[string]any{"impact": 4}, "body.impact"},
			{map[string]any{"urgency": 0}, "body.urgency"},
			{map[string]any{"service": 424242}, "body.service"},
			{map[string]any{"ci": 424242}, "body.ci"},
			{map[string]any{"ci": e.disposed}, "body.ci"},
			{map[string]any{"category": "weather"}, "body.category"},
			{map[string]any{"channel": "pigeon"}, "body.channel"},
			{map[string]any{"impact": "high"}, "body.impact"},
			{map[string]any{"colour": "red"}, ""},
		} {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			for k, v := range tc.change {
				b[k] = v
			}
			var p problem
			a.do("POST", "/api/v1/incidents", cal, b).want(t, http.StatusUnprocessableEntity).decode(t, &p)
			if tc.loc != "" && !p.names(tc.loc) {
				t.Errorf("%v: %+v does not name %s", tc.change, p, tc.loc)
			}
		}
		var inc incident.Incident
		r := a.do("POST", "/api/v1/incidents", cal, body).want(t, http.StatusCreated).decode(t, &inc)
		n := inc.Number
		if r.header.Get("ETag") != `"1"` || r.header.Get("Location") != "/api/v1/incidents/"+n || inc.Priority != 3 ||
			inc.Channel != "portal" || inc.CallerName != "caller" {
			t.Fatalf("created: %v %+v", r.header, inc)
		}
		var p problem
		a.do("POST", "/api/v1/incidents", cal, map[string]any{"title": "x", "category": "network", "impact": 3, "urgency": 3,
			"callerId": e.stranger.ID}).want(t, http.StatusForbidden).decode(t, &p)
		if !strings.Contains(p.Detail, "IM2") {
			t.Fatalf("403 does not name IM2: %+v", p)
		}

		// Reading, and recategorising with If-Match.
		a.do("GET", "/api/v1/incidents/"+strings.ToLower(n), str, nil).want(t, http.StatusOK).decode(t, &inc)
		a.do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 1}).want(t, http.StatusPreconditionRequired)
		a.do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 1}, "If-Match", `"7"`).want(t, http.StatusPreconditionFailed)
		a.do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 4}, "If-Match", `"1"`).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.urgency") {
			t.Fatalf("urgency 4: %+v", p)
		}
		a.do("PATCH", "/api/v1/incidents/"+n, cal, map[string]any{"urgency": 1}, "If-Match", `"1"`).want(t, http.StatusForbidden)
		r = a.do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 1}, "If-Match", `"1"`).want(t, http.StatusOK).decode(t, &inc)
		if inc.Priority != 2 || r.header.Get("ETag") != `"2"` {
			t.Fatalf("patched: P%d %s", inc.Priority, r.header.Get("ETag"))
		}

		// The actions, with their activities and fields.
		var acts struct{ Items []incident.IncidentAction }
		a.do("GET", "/api/v1/incidents/"+n+"/actions", ana, nil).want(t, http.StatusOK).decode(t, &acts)
		found := false
		for _, x := range acts.Items {
			if x.Action.Action == "resolve" {
				found = x.Activity == "IM5" && x.Decision.Allowed && strings.Join(x.Required, ",") == "resolutionCode,resolutionNotes"
			}
		}
		if !found || len(acts.Items) != 4 {
			t.Fatalf("actions: %+v", acts.Items)
		}
		act := func(token, action string, version int64, b map[string]any) reply {
			if b == nil {
				return a.do("POST", "/api/v1/incidents/"+n+"/actions/"+action, token, nil, "If-Match", httpx.ETag(version))
			}
			return a.do("POST", "/api/v1/incidents/"+n+"/actions/"+action, token, b, "If-Match", httpx.ETag(version))
		}
		act(ana, "close", 2, nil).want(t, http.StatusConflict).decode(t, &p)
		if !strings.Contains(p.Detail, "allowed from new: investigate, resolve, cancel, reclassify") {
			t.Fatalf("409: %+v", p)
		}
		act(ana, "resolve", 2, map[string]any{"resolutionCode": "workaround"}).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.resolutionNotes") {
			t.Fatalf("resolve without notes: %+v", p)
		}
		act(ana, "investigate", 2, nil).want(t, http.StatusOK)
		act(ana, "hold", 3, map[string]any{"holdReason": "sleeping"}).want(t, http.StatusUnprocessableEntity)
		r = act(ana, "hold", 3, map[string]any{"holdReason": "awaiting_supplier", "comment": "Vendor ticket 42"}).want(t, http.StatusOK)
		var res incident.IncidentStepResult
		r.decode(t, &res)
		if res.Incident.HoldReason != "awaiting_supplier" || r.header.Get("ETag") != `"4"` {
			t.Fatalf("held: %+v %s", res.Incident, r.header.Get("ETag"))
		}
		act(ana, "resolve", 4, map[string]any{"resolutionCode": "workaround", "resolutionNotes": "Updated the VPN client.",
			"effortMinutes": 30, "firstContact": false}).want(t, http.StatusOK)
		act(cal, "confirm", 5, map[string]any{"closureCategory": "network", "closureSubcategory": "connectivity"}).want(t, http.StatusOK).decode(t, &res)
		if res.Incident.State != "closed" || !res.Incident.CategoryChanged {
			t.Fatalf("confirmed: %+v", res.Incident)
		}
		act(str, "reopen", 6, nil).want(t, http.StatusForbidden)
		act(cal, "reopen", 6, map[string]any{"reason": "Back again"}).want(t, http.StatusOK)
		// The kernel's generic action endpoint cannot hold without a reason.
		a.do("POST", "/api/v1/records/"+n+"/actions/hold", ana, nil, "If-Match", `"7"`).want(t, http.StatusConflict)

		// Tracking and escalation.
		var esc incident.Incident
		a.do("POST", "/api/v1/incidents/"+n+"/escalate", ana, map[string]any{"reason": "Breaching"}).want(t, http.StatusOK).decode(t, &esc)
		if esc.EscalationLevel != 1 {
			t.Fatalf("escalated: %d", esc.EscalationLevel)
		}
		var tr incident.IncidentTracking
		a.do("GET", "/api/v1/incidents/"+n+"/tracking", ana, nil).want(t, http.StatusOK).decode(t, &tr)
		if tr.EscalationLevel != 1 || tr.History == nil {
			t.Fatalf("tracking: %+v", tr)
		}

		// Known errors (none wired) and trends.
		var kes struct{ Items []incident.KnownErrorMatch }
		a.do("GET", "/api/v1/incidents/"+n+"/known-errors", ana, nil).want(t, http.StatusOK).decode(t, &kes)
		a.do("POST", "/api/v1/incidents/known-error-matches", cal, map[string]any{"title": "vpn", "category": "network"}).
			want(t, http.StatusOK).decode(t, &kes)
		if kes.Items == nil {
			t.Fatal("known errors: null")
		}
		var trends struct{ Items []incident.IncidentTrend }
		a.do("GET", "/api/v1/incidents/trends?by=category&min=1&from=2025-03-01", ana, nil).want(t, http.StatusOK).decode(t, &trends)
		if len(trends.Items) != 1 || trends.Items[0].Key != "network" {
			t.Fatalf("trends: %+v", trends.Items)
		}
		a.do("GET", "/api/v1/incidents/trends?by=category&from=yesterday", ana, nil).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("query.from") {
			t.Fatalf("bad from: %+v", p)
		}

		// The major path.
		var big incident.Incident
		a.do("POST", "/api/v1/incidents", ana, map[string]any{"title": "Network core down", "impact": 1, "urgency": 1,
			"category": "network", "callerId": e.caller.ID, "channel": "phone"}).want(t, http.StatusCreated).decode(t, &big)
		if big.Path != "major" {
			t.Fatalf("P1 path %s", big.Path)
		}
		m := "/api/v1/incidents/" + big.Number
		a.do("POST", m+"/major", ana, map[string]any{"managerId": e.manager.ID, "reason": "Everyone down"}).want(t, http.StatusOK)
		var u incident.MajorUpdate
		a.do("POST", m+"/major/updates", mgr, map[string]any{"audience": "all", "message": "Core switch replaced at 11:00"}).
			want(t, http.StatusCreated).decode(t, &u)
		a.do("POST", m+"/major/updates", str, map[string]any{"audience": "all", "message": "x"}).want(t, http.StatusForbidden)
		a.do("POST", m+"/major/communications", mgr, map[string]any{"channel": "bridge", "party": "Ops centre", "summary": "Status"}).
			want(t, http.StatusCreated)
		var comms struct{ Items []incident.MajorCommunication }
		a.do("GET", m+"/major/communications", str, nil).want(t, http.StatusOK).decode(t, &comms)
		if len(comms.Items) != 1 {
			t.Fatalf("comms: %+v", comms)
		}
		var child incident.Incident
		a.do("POST", "/api/v1/incidents", str, map[string]any{"title": "No network", "impact": 3, "urgency": 3, "category": "network"}).
			want(t, http.StatusCreated).decode(t, &child)
		var linked struct{ Linked []string }
		a.do("POST", m+"/children", ana, map[string]any{"numbers": []string{child.Number}}).want(t, http.StatusOK).decode(t, &linked)
		if len(linked.Linked) != 1 {
			t.Fatalf("linked: %+v", linked)
		}
		a.do("POST", m+"/actions/resolve", ana, map[string]any{"resolutionCode": "permanent", "resolutionNotes": "Replaced the core switch"},
			"If-Match", httpx.ETag(big.Version+1)).want(t, http.StatusOK)
		var kid incident.Incident
		a.do("GET", "/api/v1/incidents/"+child.Number, str, nil).want(t, http.StatusOK).decode(t, &kid)
		if kid.State != "resolved" {
			t.Fatalf("child: %s", kid.State)
		}
		a.do("POST", m+"/actions/close", ana, nil, "If-Match", httpx.ETag(big.Version+2)).want(t, http.StatusConflict)
		a.do("POST", m+"/major/review", mgr, map[string]any{"summary": "s", "rootCause": "Power supply", "lessons": "l", "actions": "a"}).
			want(t, http.StatusOK)
		a.do("POST", m+"/actions/close", ana, nil, "If-Match", httpx.ETag(big.Version+3)).want(t, http.StatusOK)
		var md incident.MajorDetail
		a.do("GET", m+"/major", str, nil).want(t, http.StatusOK).decode(t, &md)
		if md.Review == nil || len(md.Updates) != 1 || len(md.Children) != 1 || md.ManagerName != "manager" {
			t.Fatalf("major: %+v", md)
		}

		// The security path.
		var sinc incident.Incident
		a.do("POST", "/api/v1/incidents", cal, map[string]any{"title": "Phishing mail clicked", "impact": 2, "urgency": 1,
			"category": "cnd-cat-8"}).want(t, http.StatusCreated).decode(t, &sinc)
		s := "/api/v1/incidents/" + sinc.Number
		a.do("GET", s, str, nil).want(t, http.StatusNotFound)
		a.do("GET", s, ana, nil).want(t, http.StatusNotFound)
		a.do("GET", "/api/v1/records/"+sinc.Number, str, nil).want(t, http.StatusNotFound)
		a.do("GET", s, sec, nil).want(t, http.StatusOK)
		a.do("GET", s, cal, nil).want(t, http.StatusOK)
		var list struct{ Items []incident.Incident }
		r = a.do("GET", "/api/v1/incidents?q=phishing", str, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 0 || r.header.Get("X-Total-Count") != "0" {
			t.Fatalf("stranger lists %d: %s", len(list.Items), r.header.Get("X-Total-Count"))
		}
		r = a.do("GET", "/api/v1/incidents?q=phishing", sec, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || r.header.Get("X-Total-Count") != "1" {
			t.Fatalf("ISM lists %d", len(list.Items))
		}
		a.do("POST", s+"/major", mgr, map[string]any{"managerId": e.manager.ID, "reason": "x"}).want(t, http.StatusNotFound)

		// The queue with its Link header.
		r = a.do("GET", "/api/v1/incidents?limit=1&open=true", ana, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || !strings.Contains(r.header.Get("Link"), "cursor=") || r.header.Get("X-Total-Count") != "2" {
			t.Fatalf("queue: %d items, Link %q, total %s", len(list.Items), r.header.Get("Link"), r.header.Get("X-Total-Count"))
		}
		a.do("GET", "/api/v1/incidents?state=lost", ana, nil).want(t, http.StatusUnprocessableEntity)

		// Settings and taxonomy.
		var st incident.IncidentSettings
		r = a.do("GET", "/api/v1/incident-settings", cal, nil).want(t, http.StatusOK).decode(t, &st)
		if r.header.Get("ETag") != `"0"` || len(st.Matrix) != 3 {
			t.Fatalf("settings: %s %+v", r.header.Get("ETag"), st)
		}
		st.ReopenDays = 3
		a.do("PUT", "/api/v1/incident-settings", ana, st, "If-Match", `"0"`).want(t, http.StatusForbidden)
		a.do("PUT", "/api/v1/incident-settings", own, st).want(t, http.StatusPreconditionRequired)
		r = a.do("PUT", "/api/v1/incident-settings", own, st, "If-Match", `"0"`).want(t, http.StatusOK)
		if r.header.Get("ETag") != `"1"` {
			t.Fatalf("saved settings: %s", r.header.Get("ETag"))
		}
		st.Matrix = [][]int{{1, 9}}
		a.do("PUT", "/api/v1/incident-settings", own, st, "If-Match", `"1"`).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.matrix[0][1]") {
			t.Fatalf("bad matrix: %+v", p)
		}
		var cats struct{ Items []incident.IncidentCategory }
		a.do("GET", "/api/v1/incident-categories?parent=network", cal, nil).want(t, http.StatusOK).decode(t, &cats)
		if len(cats.Items) != 7 {
			t.Fatalf("network subcategories: %d", len(cats.Items))
		}
		var cat incident.IncidentCategory
		a.do("POST", "/api/v1/incident-categories", ana, map[string]any{"key": "ot", "label": "Operational technology"}).want(t, http.StatusForbidden)
		a.do("POST", "/api/v1/incident-categories", mgr, map[string]any{"key": "ot", "label": "Operational technology"}).
			want(t, http.StatusCreated).decode(t, &cat)
		a.do("POST", "/api/v1/incident-categories", mgr, map[string]any{"key": "ot", "label": "Again"}).want(t, http.StatusConflict)
		a.do("PATCH", fmt.Sprintf("/api/v1/incident-categories/%d", cat.ID), mgr, map[string]any{"active": false}, "If-Match", `"1"`).
			want(t, http.StatusOK).decode(t, &cat)
		if cat.Active {
			t.Fatal("not retired")
		}
		a.do("DELETE", fmt.Sprintf("/api/v1/incident-categories/%d", cat.ID), mgr, nil).want(t, http.StatusNoContent)
		a.do("GET", fmt.Sprintf("/api/v1/incident-categories/%d", cat.ID), mgr, nil).want(t, http.StatusNotFound)

		// The OpenAPI document lists the endpoints.
		doc := a.do("GET", "/api/v1/openapi.json", "", nil).want(t, http.StatusOK).body
		for _, path := range []string{"/api/v1/incidents/{number}/actions/{action}", "/api/v1/incidents/trends",
			"/api/v1/incident-settings", "/api/v1/incidents/{number}/major/review", "/api/v1/incidents/import"} {
			if !bytes.Contains(doc, []byte(`"`+path+`"`)) {
				t.Errorf("OpenAPI lacks %s", path)
			}
		}
	})
}

// TestAPIImport imports the head of the shared ServiceNow sample through the API, twice.
func TestAPIImport(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../../../shared/data/incident_event_log.sample.csv")
	if err != nil {
		t.Skipf("the shared sample is not here: %v", err)
	}
	lines := strings.SplitAfter(string(data), "\n")
	head := []byte(strings.Join(lines[:200], "") + "INC9,broken row\n")
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana := a.token(e.analyst)
		a.raw("POST", "/api/v1/incidents/import", a.token(e.caller), "text/csv", head).want(t, http.StatusForbidden)
		var rep struct {
			Created, Updated, Unchanged int
			Parsed                      struct {
				Rows, Incidents int
				Skipped         []struct{ Line int }
			}
		}
		a.raw("POST", "/api/v1/incidents/import", ana, "text/csv", head).want(t, http.StatusOK).decode(t, &rep)
		if rep.Created == 0 || rep.Created != rep.Parsed.Incidents || len(rep.Parsed.Skipped) != 1 || rep.Parsed.Skipped[0].Line != 201 {
			t.Fatalf("import: %+v", rep)
		}
		first := rep.Created
		a.raw("POST", "/api/v1/incidents/import", ana, "text/csv", head).want(t, http.StatusOK).decode(t, &rep)
		if rep.Created != 0 || rep.Unchanged != first {
			t.Fatalf("second import: %+v", rep)
		}
	})
}
