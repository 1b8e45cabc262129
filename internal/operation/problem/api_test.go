package problem_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"steward/internal/operation/problem"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
)

// newAPI serves the record and problem APIs over e as the application serves them.
func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.recs)
		problem.RegisterAPI(a, e.svc)
	})
}

// problemDoc is a problem+json body.
type problemDoc = apitest.Problem

// TestAPI drives problem management and the KEDB over HTTP: a problem raised
// from incidents with bad input refused as problem+json naming the field,
// read with its ETag, categorised with If-Match, analysed, its known error
// recorded, published and matched, the RFC raised, resolved, reviewed and
// closed, each step through the actions endpoints.
func TestAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana, mgr, dev, str := a.Token(e.analyst), a.Token(e.manager), a.Token(e.developer), a.Token(e.stranger)
		gw := e.ci("vpn-gw-1", "active", false)
		remote := e.ci("Remote access", "active", true)
		var incidents []string
		for i := range 5 {
			incidents = append(incidents, e.incident("VPN drop "+strconv.Itoa(i), ""))
		}

		body := map[string]any{"title": "Recurring VPN disconnects", "description": "Sessions drop.", "service": remote, "ci": gw,
			"category": "network", "subcategory": "vpn", "impact": 1, "urgency": 1, "major": true, "incidents": incidents,
			"trend": map[string]any{"by": "ci", "key": strconv.FormatInt(gw, 10), "from": "2026-02-01T00:00:00Z",
				"to": "2026-03-01T00:00:00Z", "count": 5}}
		a.Do("POST", "/api/v1/problems", "", body).Want(t, http.StatusUnauthorized)
		var p problemDoc
		a.Do("POST", "/api/v1/problems", dev, body).Want(t, http.StatusForbidden).Decode(t, &p)
		if !strings.Contains(p.Detail, "PM2") {
			t.Fatalf("403 does not name PM2: %+v", p)
		}
		for _, tc := range []struct {
			name   string
			change map[string]any
			loc    string
		}{
			{"unknown incident", map[string]any{"incidents": []string{incidents[0], incidents[1], "INC0999999"}}, "body.incidents[2]"},
			{"impact off the matrix", map[string]any{"impact": 5}, "body.impact"},
			{"unknown service", map[string]any{"service": gw}, "body.service"},
			{"unknown CI", map[string]any{"ci": 987654}, "body.ci"},
			{"bad trend grouping", map[string]any{"trend": map[string]any{"by": "team", "key": "x", "from": "2026-02-01T00:00:00Z",
				"to": "2026-03-01T00:00:00Z"}}, "body.trend.by"},
			{"no title", map[string]any{"title": nil}, "body"},
			{"wrong type", map[string]any{"impact": "high"}, "body.impact"},
			{"unknown field", map[string]any{"colour": "red"}, ""},
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
			var p problemDoc
			a.Do("POST", "/api/v1/problems", ana, b).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
			if tc.loc != "" && !p.Names(tc.loc) {
				t.Errorf("%s: %+v does not name %s", tc.name, p, tc.loc)
			}
		}
		var pd problem.ProblemDetail
		r := a.Do("POST", "/api/v1/problems", ana, body).Want(t, http.StatusCreated).Decode(t, &pd)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != "/api/v1/problems/PRB0000001" || pd.Priority != 1 ||
			len(pd.Incidents) != 5 || pd.Trend == nil || pd.Trend.By != problem.TrendByCI || pd.Origin != problem.OriginTrend {
			t.Fatalf("created: %v %s", r.Header, r.Body)
		}
		path := "/api/v1/problems/" + pd.Number

		// Lists and reads.
		var list struct {
			Items      []problem.Problem
			NextCursor string
		}
		a.Do("POST", "/api/v1/problems", ana, map[string]any{"title": "Printer queue stalls"}).Want(t, http.StatusCreated)
		r = a.Do("GET", "/api/v1/problems?limit=1&sort=number", str, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Number != pd.Number || r.Header.Get("X-Total-Count") != "2" ||
			!strings.Contains(r.Header.Get("Link"), "cursor=") {
			t.Fatalf("page 1: %v %s", r.Header, r.Body)
		}
		r = a.Do("GET", "/api/v1/problems?major=true&category=network&ci="+strconv.FormatInt(gw, 10)+"&open=true&q=vpn", str, nil).
			Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].IncidentCount != 5 || list.Items[0].CIName != "vpn-gw-1" {
			t.Fatalf("filtered: %s", r.Body)
		}
		a.Do("GET", "/api/v1/problems?state=lost", str, nil).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("query.state") {
			t.Fatalf("bad state: %+v", p)
		}
		a.Do("GET", "/api/v1/problems?colour=red", str, nil).Want(t, http.StatusUnprocessableEntity)
		a.Do("GET", "/api/v1/problems/PRB0009999", str, nil).Want(t, http.StatusNotFound)
		r = a.Do("GET", path, str, nil).Want(t, http.StatusOK)
		if r.Header.Get("ETag") != `"1"` {
			t.Fatalf("ETag: %v", r.Header)
		}

		// PATCH with If-Match: categorise and prioritise (PM3).
		a.Do("PATCH", path, ana, map[string]any{"urgency": 2}).Want(t, http.StatusPreconditionRequired)
		a.Do("PATCH", path, ana, map[string]any{"urgency": 2}, "If-Match", `"7"`).Want(t, http.StatusPreconditionFailed)
		a.Do("PATCH", path, dev, map[string]any{"urgency": 2}, "If-Match", `"1"`).Want(t, http.StatusForbidden)
		a.Do("PATCH", path, ana, map[string]any{"urgency": 9}, "If-Match", `"1"`).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.urgency") {
			t.Fatalf("bad urgency: %+v", p)
		}
		r = a.Do("PATCH", path, ana, map[string]any{"urgency": 2}, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &pd)
		if pd.Priority != 2 || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("patched: %s", r.Body)
		}

		// Link one more incident; an unknown one is refused naming its index.
		extra := e.incident("VPN drop 6", "")
		a.Do("POST", path+"/incidents", ana, map[string]any{"incidents": []string{"INC0888888"}}).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.incidents[0]") {
			t.Fatalf("unknown incident: %+v", p)
		}
		a.Do("POST", path+"/incidents", ana, map[string]any{"incidents": []string{extra}}).Want(t, http.StatusOK).Decode(t, &pd)
		if pd.IncidentCount != 6 {
			t.Fatalf("linked: %+v", pd.Problem)
		}

		// Actions: the activity codes and the guard's verdict; a wrong-state step names the allowed ones.
		var acts struct{ Items []record.Action }
		a.Do("GET", path+"/actions", ana, nil).Want(t, http.StatusOK).Decode(t, &acts)
		if len(acts.Items) != 2 || acts.Items[0].Action != "investigate" || acts.Items[0].Activity != "PM4" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("actions: %+v", acts)
		}
		act := func(token, action string, body any, status int) apitest.Reply {
			t.Helper()
			cur, err := e.recs.Get(e.an, pd.Number)
			if err != nil {
				t.Fatal(err)
			}
			return a.Do("POST", path+"/actions/"+action, token, body, "If-Match", httpx.ETag(cur.Version)).Want(t, status)
		}
		act(ana, "resolve", nil, http.StatusConflict).Decode(t, &p)
		if !strings.Contains(p.Detail, "allowed from logged: investigate, cancel") {
			t.Fatalf("wrong-state step: %+v", p)
		}
		a.Do("POST", path+"/actions/investigate", ana, nil).Want(t, http.StatusPreconditionRequired)
		var res problem.ProblemStepResult
		r = act(ana, "investigate", map[string]any{"comment": "Looking at the gateway."}, http.StatusOK).Decode(t, &res)
		if res.Outcome != record.OutcomeApplied || res.Record.State != problem.Analysing || r.Header.Get("ETag") != httpx.ETag(res.Record.Version) {
			t.Fatalf("investigated: %s", r.Body)
		}

		// Analysis (PM4): an RCA, a workaround, a known error.
		a.Do("POST", path+"/rca", ana, map[string]any{"method": "guessing", "rootCause": "x"}).Want(t, http.StatusUnprocessableEntity)
		a.Do("POST", path+"/rca", ana, map[string]any{"method": "five_whys", "evidence": []map[string]any{{"attachmentId": 42}},
			"rootCause": "MTU"}).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.evidence[0].attachmentId") {
			t.Fatalf("foreign attachment: %+v", p)
		}
		var rca problem.RCA
		a.Do("POST", path+"/rca", ana, map[string]any{"method": "fishbone", "findings": "Fragmentation on the tunnel",
			"evidence": []map[string]any{{"text": "pcap 12:01"}}, "rootCause": "The gateway MTU fragments DNS replies"}).
			Want(t, http.StatusCreated).Decode(t, &rca)
		var rcas struct{ Items []problem.RCA }
		a.Do("GET", path+"/rca", str, nil).Want(t, http.StatusOK).Decode(t, &rcas)
		if len(rcas.Items) != 1 || rcas.Items[0].ID != rca.ID || rcas.Items[0].Evidence[0].Text != "pcap 12:01" {
			t.Fatalf("analyses: %+v", rcas)
		}
		cur, _ := e.recs.Get(e.an, pd.Number)
		a.Do("PUT", path+"/workaround", ana, map[string]any{"workaround": "Lower the client MTU"}).Want(t, http.StatusPreconditionRequired)
		a.Do("PUT", path+"/workaround", ana, map[string]any{"workaround": "Lower the client MTU"}, "If-Match", httpx.ETag(cur.Version)).
			Want(t, http.StatusOK).Decode(t, &pd)
		if pd.Workaround != "Lower the client MTU" || pd.RootCause != rca.RootCause {
			t.Fatalf("workaround: %+v", pd.Problem)
		}
		act(ana, "identify_root_cause", nil, http.StatusOK)

		var ke problem.KnownError
		a.Do("POST", "/api/v1/known-errors", ana, map[string]any{"problem": "PRB0777777", "symptoms": "x"}).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.problem") {
			t.Fatalf("unknown problem: %+v", p)
		}
		a.Do("POST", "/api/v1/known-errors", ana, map[string]any{"problem": pd.Number}).Want(t, http.StatusUnprocessableEntity)
		r = a.Do("POST", "/api/v1/known-errors", ana, map[string]any{"problem": pd.Number,
			"symptoms": "The VPN drops every few minutes; DNS lookups time out."}).Want(t, http.StatusCreated).Decode(t, &ke)
		if ke.Number != "KE0000001" || r.Header.Get("Location") != "/api/v1/known-errors/KE0000001" || ke.Workaround != "Lower the client MTU" ||
			ke.RootCause != rca.RootCause || ke.State != problem.Draft {
			t.Fatalf("known error: %s", r.Body)
		}
		kpath := "/api/v1/known-errors/" + ke.Number
		r = a.Do("PATCH", kpath, ana, map[string]any{"title": "VPN drops: gateway MTU"}, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &ke)
		if ke.Title != "VPN drops: gateway MTU" || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("known error patched: %s", r.Body)
		}
		a.Do("GET", kpath+"/actions", ana, nil).Want(t, http.StatusOK).Decode(t, &acts)
		if len(acts.Items) != 2 || acts.Items[0].Action != "publish" || acts.Items[0].Activity != "PM4" || acts.Items[1].Activity != "PM6" {
			t.Fatalf("known error actions: %+v", acts)
		}
		a.Do("POST", kpath+"/actions/publish", dev, nil, "If-Match", `"2"`).Want(t, http.StatusForbidden)
		a.Do("POST", kpath+"/actions/publish", ana, nil, "If-Match", `"2"`).Want(t, http.StatusOK).Decode(t, &res)
		if res.Record.State != problem.Published {
			t.Fatalf("published: %+v", res)
		}
		a.Do("POST", kpath+"/actions/publish", ana, nil, "If-Match", `"3"`).Want(t, http.StatusConflict)

		// Offered for a new incident, with why; listed and searched.
		var matches struct{ Items []problem.KnownErrorMatch }
		q := url.Values{"text": {"VPN drops, DNS time out"}, "ci": {strconv.FormatInt(gw, 10)}, "category": {"network"}, "subcategory": {"vpn"}}
		a.Do("GET", "/api/v1/known-errors/match?"+q.Encode(), str, nil).Want(t, http.StatusOK).Decode(t, &matches)
		if len(matches.Items) != 1 || matches.Items[0].Number != ke.Number || matches.Items[0].Problem != pd.Number ||
			len(matches.Items[0].Why) != 4 || matches.Items[0].Why[0] != "same CI" {
			t.Fatalf("matches: %+v", matches)
		}
		a.Do("GET", "/api/v1/known-errors/match?limit=99", str, nil).Want(t, http.StatusUnprocessableEntity)
		var kes struct{ Items []problem.KnownError }
		r = a.Do("GET", "/api/v1/known-errors?state=published&q=gateway+mtu&problem="+pd.Number, str, nil).Want(t, http.StatusOK).Decode(t, &kes)
		if len(kes.Items) != 1 || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("known errors: %s", r.Body)
		}
		a.Do("GET", "/api/v1/known-errors?state=lost", str, nil).Want(t, http.StatusUnprocessableEntity)
		a.Do("GET", "/api/v1/known-errors/"+pd.Number, str, nil).Want(t, http.StatusNotFound)

		// Resolution (PM5): the RFC reference is required, then resolve.
		act(ana, "raise_rfc", map[string]any{"comment": "CAB on Tuesday"}, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.rfc") {
			t.Fatalf("raise_rfc without rfc: %+v", p)
		}
		act(ana, "raise_rfc", map[string]any{"rfc": "https://changes.example.org/rfc/42"}, http.StatusOK)
		act(mgr, "resolve", map[string]any{"resolution": "Gateway MTU fixed"}, http.StatusOK)

		// Closure (PM6): the major problem needs its review.
		act(mgr, "close", nil, http.StatusConflict).Decode(t, &p)
		if !strings.Contains(p.Detail, "review") {
			t.Fatalf("close without review: %+v", p)
		}
		a.Do("POST", path+"/review", mgr, map[string]any{"lessons": "x"}).Want(t, http.StatusUnprocessableEntity)
		a.Do("POST", path+"/review", dev, map[string]any{"summary": "MTU"}).Want(t, http.StatusForbidden)
		a.Do("POST", path+"/review", mgr, map[string]any{"summary": "MTU after the upgrade", "lessons": "Check MTU",
			"followUps": []string{"Gateway checklist"}}).Want(t, http.StatusOK).Decode(t, &pd)
		if pd.Review == nil || pd.Review.Summary != "MTU after the upgrade" {
			t.Fatalf("review: %+v", pd.Review)
		}
		act(mgr, "close", nil, http.StatusOK).Decode(t, &res)
		if res.Record.State != problem.Closed || !res.Record.Closed {
			t.Fatalf("closed: %+v", res)
		}
		a.Do("GET", kpath, str, nil).Want(t, http.StatusOK).Decode(t, &ke)
		if ke.State != problem.Retired {
			t.Fatalf("the known error after closing: %s", ke.State)
		}
		a.Do("GET", "/api/v1/known-errors/match?"+q.Encode(), str, nil).Want(t, http.StatusOK).Decode(t, &matches)
		if len(matches.Items) != 0 {
			t.Fatalf("a retired known error is offered: %+v", matches)
		}
		a.Do("GET", "/api/v1/openapi.json", "", nil).Want(t, http.StatusOK)
	})
}
