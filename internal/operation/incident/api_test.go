package incident_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"steward/internal/operation/incident"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
)

// newAPI serves the record and incident APIs over e as the application serves them.
func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.recs)
		incident.RegisterAPI(a, e.svc)
	})
}

// problem is a problem+json body.
type problem = apitest.Problem

// TestAPI drives incident management over HTTP on the three paths, with
// bad input answered as problem+json naming the field.
func TestAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana, mgr, own, cal, str, sec := a.Token(e.analyst), a.Token(e.manager), a.Token(e.owner), a.Token(e.caller),
			a.Token(e.stranger), a.Token(e.secops)

		// Logging.
		body := map[string]any{"title": "VPN drops every hour", "description": "Since Monday", "impact": 2, "urgency": 2,
			"service": e.service, "ci": e.server, "category": "network", "subcategory": "vpn"}
		a.Do("POST", "/api/v1/incidents", "", body).Want(t, http.StatusUnauthorized)
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
			a.Do("POST", "/api/v1/incidents", cal, b).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
			if tc.loc != "" && !p.Names(tc.loc) {
				t.Errorf("%v: %+v does not name %s", tc.change, p, tc.loc)
			}
		}
		var inc incident.Incident
		r := a.Do("POST", "/api/v1/incidents", cal, body).Want(t, http.StatusCreated).Decode(t, &inc)
		n := inc.Number
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/incidents/"+n || inc.Priority != 3 ||
			inc.Channel != "portal" || inc.CallerName != "caller" {
			t.Fatalf("created: %v %+v", r.Header, inc)
		}
		var p problem
		a.Do("POST", "/api/v1/incidents", cal, map[string]any{"title": "x", "category": "network", "impact": 3, "urgency": 3,
			"callerId": e.stranger.ID}).Want(t, http.StatusForbidden).Decode(t, &p)
		if !strings.Contains(p.Detail, "IM2") {
			t.Fatalf("403 does not name IM2: %+v", p)
		}

		// Reading, and recategorising with If-Match.
		a.Do("GET", "/api/v1/incidents/"+strings.ToLower(n), str, nil).Want(t, http.StatusOK).Decode(t, &inc)
		a.Do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 1}).Want(t, http.StatusPreconditionRequired)
		a.Do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 1}, "If-Match", `"7"`).Want(t, http.StatusPreconditionFailed)
		a.Do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 4}, "If-Match", `"1"`).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.urgency") {
			t.Fatalf("urgency 4: %+v", p)
		}
		a.Do("PATCH", "/api/v1/incidents/"+n, cal, map[string]any{"urgency": 1}, "If-Match", `"1"`).Want(t, http.StatusForbidden)
		r = a.Do("PATCH", "/api/v1/incidents/"+n, ana, map[string]any{"urgency": 1}, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &inc)
		if inc.Priority != 2 || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("patched: P%d %s", inc.Priority, r.Header.Get("ETag"))
		}

		// The actions, with their activities and fields.
		var acts struct{ Items []incident.IncidentAction }
		a.Do("GET", "/api/v1/incidents/"+n+"/actions", ana, nil).Want(t, http.StatusOK).Decode(t, &acts)
		found := false
		for _, x := range acts.Items {
			if x.Action.Action == "resolve" {
				found = x.Activity == "IM5" && x.Decision.Allowed && strings.Join(x.Required, ",") == "resolutionCode,resolutionNotes"
			}
		}
		if !found || len(acts.Items) != 4 {
			t.Fatalf("actions: %+v", acts.Items)
		}
		act := func(token, action string, version int64, b map[string]any) apitest.Reply {
			if b == nil {
				return a.Do("POST", "/api/v1/incidents/"+n+"/actions/"+action, token, nil, "If-Match", httpx.ETag(version))
			}
			return a.Do("POST", "/api/v1/incidents/"+n+"/actions/"+action, token, b, "If-Match", httpx.ETag(version))
		}
		act(ana, "close", 2, nil).Want(t, http.StatusConflict).Decode(t, &p)
		if !strings.Contains(p.Detail, "allowed from new: investigate, resolve, cancel, reclassify") {
			t.Fatalf("409: %+v", p)
		}
		act(ana, "resolve", 2, map[string]any{"resolutionCode": "workaround"}).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.resolutionNotes") {
			t.Fatalf("resolve without notes: %+v", p)
		}
		act(ana, "investigate", 2, nil).Want(t, http.StatusOK)
		act(ana, "hold", 3, map[string]any{"holdReason": "sleeping"}).Want(t, http.StatusUnprocessableEntity)
		r = act(ana, "hold", 3, map[string]any{"holdReason": "awaiting_supplier", "comment": "Vendor ticket 42"}).Want(t, http.StatusOK)
		var res incident.IncidentStepResult
		r.Decode(t, &res)
		if res.Incident.HoldReason != "awaiting_supplier" || r.Header.Get("ETag") != `"4"` {
			t.Fatalf("held: %+v %s", res.Incident, r.Header.Get("ETag"))
		}
		act(ana, "resolve", 4, map[string]any{"resolutionCode": "workaround", "resolutionNotes": "Updated the VPN client.",
			"effortMinutes": 30, "firstContact": false}).Want(t, http.StatusOK)
		act(cal, "confirm", 5, map[string]any{"closureCategory": "network", "closureSubcategory": "connectivity"}).Want(t, http.StatusOK).Decode(t, &res)
		if res.Incident.State != "closed" || !res.Incident.CategoryChanged {
			t.Fatalf("confirmed: %+v", res.Incident)
		}
		act(str, "reopen", 6, nil).Want(t, http.StatusForbidden)
		act(cal, "reopen", 6, map[string]any{"reason": "Back again"}).Want(t, http.StatusOK)
		// The kernel's generic action endpoint cannot hold without a reason.
		a.Do("POST", "/api/v1/records/"+n+"/actions/hold", ana, nil, "If-Match", `"7"`).Want(t, http.StatusConflict)

		// Tracking and escalation.
		var esc incident.Incident
		a.Do("POST", "/api/v1/incidents/"+n+"/escalate", ana, map[string]any{"reason": "Breaching"}).Want(t, http.StatusOK).Decode(t, &esc)
		if esc.EscalationLevel != 1 {
			t.Fatalf("escalated: %d", esc.EscalationLevel)
		}
		var tr incident.IncidentTracking
		a.Do("GET", "/api/v1/incidents/"+n+"/tracking", ana, nil).Want(t, http.StatusOK).Decode(t, &tr)
		if tr.EscalationLevel != 1 || tr.History == nil {
			t.Fatalf("tracking: %+v", tr)
		}

		// Known errors (none wired) and trends.
		var kes struct{ Items []incident.KnownErrorMatch }
		a.Do("GET", "/api/v1/incidents/"+n+"/known-errors", ana, nil).Want(t, http.StatusOK).Decode(t, &kes)
		a.Do("POST", "/api/v1/incidents/known-error-matches", cal, map[string]any{"title": "vpn", "category": "network"}).
			Want(t, http.StatusOK).Decode(t, &kes)
		if kes.Items == nil {
			t.Fatal("known errors: null")
		}
		var trends struct{ Items []incident.IncidentTrend }
		a.Do("GET", "/api/v1/incidents/trends?by=category&min=1&from=2025-03-01", ana, nil).Want(t, http.StatusOK).Decode(t, &trends)
		if len(trends.Items) != 1 || trends.Items[0].Key != "network" {
			t.Fatalf("trends: %+v", trends.Items)
		}
		a.Do("GET", "/api/v1/incidents/trends?by=category&from=yesterday", ana, nil).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("query.from") {
			t.Fatalf("bad from: %+v", p)
		}

		// The major path.
		var big incident.Incident
		a.Do("POST", "/api/v1/incidents", ana, map[string]any{"title": "Network core down", "impact": 1, "urgency": 1,
			"category": "network", "callerId": e.caller.ID, "channel": "phone"}).Want(t, http.StatusCreated).Decode(t, &big)
		if big.Path != "major" {
			t.Fatalf("P1 path %s", big.Path)
		}
		m := "/api/v1/incidents/" + big.Number
		a.Do("POST", m+"/major", ana, map[string]any{"managerId": e.manager.ID, "reason": "Everyone down"}).Want(t, http.StatusOK)
		var u incident.MajorUpdate
		a.Do("POST", m+"/major/updates", mgr, map[string]any{"audience": "all", "message": "Core switch replaced at 11:00"}).
			Want(t, http.StatusCreated).Decode(t, &u)
		a.Do("POST", m+"/major/updates", str, map[string]any{"audience": "all", "message": "x"}).Want(t, http.StatusForbidden)
		a.Do("POST", m+"/major/communications", mgr, map[string]any{"channel": "bridge", "party": "Ops centre", "summary": "Status"}).
			Want(t, http.StatusCreated)
		var comms struct{ Items []incident.MajorCommunication }
		a.Do("GET", m+"/major/communications", str, nil).Want(t, http.StatusOK).Decode(t, &comms)
		if len(comms.Items) != 1 {
			t.Fatalf("comms: %+v", comms)
		}
		var child incident.Incident
		a.Do("POST", "/api/v1/incidents", str, map[string]any{"title": "No network", "impact": 3, "urgency": 3, "category": "network"}).
			Want(t, http.StatusCreated).Decode(t, &child)
		var linked struct{ Linked []string }
		a.Do("POST", m+"/children", ana, map[string]any{"numbers": []string{child.Number}}).Want(t, http.StatusOK).Decode(t, &linked)
		if len(linked.Linked) != 1 {
			t.Fatalf("linked: %+v", linked)
		}
		a.Do("POST", m+"/actions/resolve", ana, map[string]any{"resolutionCode": "permanent", "resolutionNotes": "Replaced the core switch"},
			"If-Match", httpx.ETag(big.Version+1)).Want(t, http.StatusOK)
		var kid incident.Incident
		a.Do("GET", "/api/v1/incidents/"+child.Number, str, nil).Want(t, http.StatusOK).Decode(t, &kid)
		if kid.State != "resolved" {
			t.Fatalf("child: %s", kid.State)
		}
		a.Do("POST", m+"/actions/close", ana, nil, "If-Match", httpx.ETag(big.Version+2)).Want(t, http.StatusConflict)
		a.Do("POST", m+"/major/review", mgr, map[string]any{"summary": "s", "rootCause": "Power supply", "lessons": "l", "actions": "a"}).
			Want(t, http.StatusOK)
		a.Do("POST", m+"/actions/close", ana, nil, "If-Match", httpx.ETag(big.Version+3)).Want(t, http.StatusOK)
		var md incident.MajorDetail
		a.Do("GET", m+"/major", str, nil).Want(t, http.StatusOK).Decode(t, &md)
		if md.Review == nil || len(md.Updates) != 1 || len(md.Children) != 1 || md.ManagerName != "manager" {
			t.Fatalf("major: %+v", md)
		}

		// The security path.
		var sinc incident.Incident
		a.Do("POST", "/api/v1/incidents", cal, map[string]any{"title": "Phishing mail clicked", "impact": 2, "urgency": 1,
			"category": "cnd-cat-8"}).Want(t, http.StatusCreated).Decode(t, &sinc)
		s := "/api/v1/incidents/" + sinc.Number
		a.Do("GET", s, str, nil).Want(t, http.StatusNotFound)
		a.Do("GET", s, ana, nil).Want(t, http.StatusNotFound)
		a.Do("GET", "/api/v1/records/"+sinc.Number, str, nil).Want(t, http.StatusNotFound)
		a.Do("GET", s, sec, nil).Want(t, http.StatusOK)
		a.Do("GET", s, cal, nil).Want(t, http.StatusOK)
		var list struct{ Items []incident.Incident }
		r = a.Do("GET", "/api/v1/incidents?q=phishing", str, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 0 || r.Header.Get("X-Total-Count") != "0" {
			t.Fatalf("stranger lists %d: %s", len(list.Items), r.Header.Get("X-Total-Count"))
		}
		r = a.Do("GET", "/api/v1/incidents?q=phishing", sec, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("ISM lists %d", len(list.Items))
		}
		a.Do("POST", s+"/major", mgr, map[string]any{"managerId": e.manager.ID, "reason": "x"}).Want(t, http.StatusNotFound)

		// The queue with its Link header.
		r = a.Do("GET", "/api/v1/incidents?limit=1&open=true", ana, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || !strings.Contains(r.Header.Get("Link"), "cursor=") || r.Header.Get("X-Total-Count") != "2" {
			t.Fatalf("queue: %d items, Link %q, total %s", len(list.Items), r.Header.Get("Link"), r.Header.Get("X-Total-Count"))
		}
		a.Do("GET", "/api/v1/incidents?state=lost", ana, nil).Want(t, http.StatusUnprocessableEntity)

		// Settings and taxonomy.
		var st incident.IncidentSettings
		r = a.Do("GET", "/api/v1/incident-settings", cal, nil).Want(t, http.StatusOK).Decode(t, &st)
		if r.Header.Get("ETag") != `"0"` || len(st.Matrix) != 3 {
			t.Fatalf("settings: %s %+v", r.Header.Get("ETag"), st)
		}
		st.ReopenDays = 3
		a.Do("PUT", "/api/v1/incident-settings", ana, st, "If-Match", `"0"`).Want(t, http.StatusForbidden)
		a.Do("PUT", "/api/v1/incident-settings", own, st).Want(t, http.StatusPreconditionRequired)
		r = a.Do("PUT", "/api/v1/incident-settings", own, st, "If-Match", `"0"`).Want(t, http.StatusOK)
		if r.Header.Get("ETag") != `"1"` {
			t.Fatalf("saved settings: %s", r.Header.Get("ETag"))
		}
		st.Matrix = [][]int{{1, 9}}
		a.Do("PUT", "/api/v1/incident-settings", own, st, "If-Match", `"1"`).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.matrix[0][1]") {
			t.Fatalf("bad matrix: %+v", p)
		}
		var cats struct{ Items []incident.IncidentCategory }
		a.Do("GET", "/api/v1/incident-categories?parent=network", cal, nil).Want(t, http.StatusOK).Decode(t, &cats)
		if len(cats.Items) != 7 {
			t.Fatalf("network subcategories: %d", len(cats.Items))
		}
		var cat incident.IncidentCategory
		a.Do("POST", "/api/v1/incident-categories", ana, map[string]any{"key": "ot", "label": "Operational technology"}).Want(t, http.StatusForbidden)
		a.Do("POST", "/api/v1/incident-categories", mgr, map[string]any{"key": "ot", "label": "Operational technology"}).
			Want(t, http.StatusCreated).Decode(t, &cat)
		a.Do("POST", "/api/v1/incident-categories", mgr, map[string]any{"key": "ot", "label": "Again"}).Want(t, http.StatusConflict)
		a.Do("PATCH", fmt.Sprintf("/api/v1/incident-categories/%d", cat.ID), mgr, map[string]any{"active": false}, "If-Match", `"1"`).
			Want(t, http.StatusOK).Decode(t, &cat)
		if cat.Active {
			t.Fatal("not retired")
		}
		a.Do("DELETE", fmt.Sprintf("/api/v1/incident-categories/%d", cat.ID), mgr, nil).Want(t, http.StatusNoContent)
		a.Do("GET", fmt.Sprintf("/api/v1/incident-categories/%d", cat.ID), mgr, nil).Want(t, http.StatusNotFound)

		// The OpenAPI document lists the endpoints.
		doc := a.Do("GET", "/api/v1/openapi.json", "", nil).Want(t, http.StatusOK).Body
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
		ana := a.Token(e.analyst)
		a.Raw("POST", "/api/v1/incidents/import", a.Token(e.caller), "text/csv", head).Want(t, http.StatusForbidden)
		var rep struct {
			Created, Updated, Unchanged int
			Parsed                      struct {
				Rows, Incidents int
				Skipped         []struct{ Line int }
			}
		}
		a.Raw("POST", "/api/v1/incidents/import", ana, "text/csv", head).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Created == 0 || rep.Created != rep.Parsed.Incidents || len(rep.Parsed.Skipped) != 1 || rep.Parsed.Skipped[0].Line != 201 {
			t.Fatalf("import: %+v", rep)
		}
		first := rep.Created
		a.Raw("POST", "/api/v1/incidents/import", ana, "text/csv", head).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Created != 0 || rep.Unchanged != first {
			t.Fatalf("second import: %+v", rep)
		}
	})
}
