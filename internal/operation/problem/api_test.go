package problem_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/operation/problem"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// api is the record and problem API over an env, behind the middleware the application uses.
type api struct {
	e       *env
	handler http.Handler
}

func newAPI(e *env) *api {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Problem API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, e.auth))
	log := slog.New(slog.DiscardHandler)
	japi := &httpx.API{API: hapi, Log: log}
	record.RegisterAPI(japi, e.recs)
	problem.RegisterAPI(japi, e.svc)
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

func (a *api) do(method, path, token string, body any, headers ...string) reply {
	a.e.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			a.e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
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

type problemDoc struct {
	Status int
	Detail string
	Errors []struct {
		Location, Message string
	}
}

func (p problemDoc) names(loc string) bool {
	for _, e := range p.Errors {
		if e.Location == loc {
			return true
		}
	}
	return false
}

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
		ana, mgr, dev, str := a.token(e.analyst), a.token(e.manager), a.token(e.developer), a.token(e.stranger)
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
		a.do("POST", "/api/v1/problems", "", body).want(t, http.StatusUnauthorized)
		var p problemDoc
		a.do("POST", "/api/v1/problems", dev, body).want(t, http.StatusForbidden).decode(t, &p)
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
			a.do("POST", "/api/v1/problems", ana, b).want(t, http.StatusUnprocessableEntity).decode(t, &p)
			if tc.loc != "" && !p.names(tc.loc) {
				t.Errorf("%s: %+v does not name %s", tc.name, p, tc.loc)
			}
		}
		var pd problem.ProblemDetail
		r := a.do("POST", "/api/v1/problems", ana, body).want(t, http.StatusCreated).decode(t, &pd)
		if r.header.Get("ETag") != `"1"` || r.header.Get("Location") != "/api/v1/problems/PRB0000001" || pd.Priority != 1 ||
			len(pd.Incidents) != 5 || pd.Trend == nil || pd.Trend.By != problem.TrendByCI || pd.Origin != problem.OriginTrend {
			t.Fatalf("created: %v %s", r.header, r.body)
		}
		path := "/api/v1/problems/" + pd.Number

		// Lists and reads.
		var list struct {
			Items      []problem.Problem
			NextCursor string
		}
		a.do("POST", "/api/v1/problems", ana, map[string]any{"title": "Printer queue stalls"}).want(t, http.StatusCreated)
		r = a.do("GET", "/api/v1/problems?limit=1&sort=number", str, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Number != pd.Number || r.header.Get("X-Total-Count") != "2" ||
			!strings.Contains(r.header.Get("Link"), "cursor=") {
			t.Fatalf("page 1: %v %s", r.header, r.body)
		}
		r = a.do("GET", "/api/v1/problems?major=true&category=network&ci="+strconv.FormatInt(gw, 10)+"&open=true&q=vpn", str, nil).
			want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].IncidentCount != 5 || list.Items[0].CIName != "vpn-gw-1" {
			t.Fatalf("filtered: %s", r.body)
		}
		a.do("GET", "/api/v1/problems?state=lost", str, nil).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("query.state") {
			t.Fatalf("bad state: %+v", p)
		}
		a.do("GET", "/api/v1/problems?colour=red", str, nil).want(t, http.StatusUnprocessableEntity)
		a.do("GET", "/api/v1/problems/PRB0009999", str, nil).want(t, http.StatusNotFound)
		r = a.do("GET", path, str, nil).want(t, http.StatusOK)
		if r.header.Get("ETag") != `"1"` {
			t.Fatalf("ETag: %v", r.header)
		}

		// PATCH with If-Match: categorise and prioritise (PM3).
		a.do("PATCH", path, ana, map[string]any{"urgency": 2}).want(t, http.StatusPreconditionRequired)
		a.do("PATCH", path, ana, map[string]any{"urgency": 2}, "If-Match", `"7"`).want(t, http.StatusPreconditionFailed)
		a.do("PATCH", path, dev, map[string]any{"urgency": 2}, "If-Match", `"1"`).want(t, http.StatusForbidden)
		a.do("PATCH", path, ana, map[string]any{"urgency": 9}, "If-Match", `"1"`).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.urgency") {
			t.Fatalf("bad urgency: %+v", p)
		}
		r = a.do("PATCH", path, ana, map[string]any{"urgency": 2}, "If-Match", `"1"`).want(t, http.StatusOK).decode(t, &pd)
		if pd.Priority != 2 || r.header.Get("ETag") != `"2"` {
			t.Fatalf("patched: %s", r.body)
		}

		// Link one more incident; an unknown one is refused naming its index.
		extra := e.incident("VPN drop 6", "")
		a.do("POST", path+"/incidents", ana, map[string]any{"incidents": []string{"INC0888888"}}).
			want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.incidents[0]") {
			t.Fatalf("unknown incident: %+v", p)
		}
		a.do("POST", path+"/incidents", ana, map[string]any{"incidents": []string{extra}}).want(t, http.StatusOK).decode(t, &pd)
		if pd.IncidentCount != 6 {
			t.Fatalf("linked: %+v", pd.Problem)
		}

		// Actions: the activity codes and the guard's verdict; a wrong-state step names the allowed ones.
		var acts struct{ Items []record.Action }
		a.do("GET", path+"/actions", ana, nil).want(t, http.StatusOK).decode(t, &acts)
		if len(acts.Items) != 2 || acts.Items[0].Action != "investigate" || acts.Items[0].Activity != "PM4" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("actions: %+v", acts)
		}
		act := func(token, action string, body any, status int) reply {
			t.Helper()
			cur, err := e.recs.Get(e.an, pd.Number)
			if err != nil {
				t.Fatal(err)
			}
			return a.do("POST", path+"/actions/"+action, token, body, "If-Match", httpx.ETag(cur.Version)).want(t, status)
		}
		act(ana, "resolve", nil, http.StatusConflict).decode(t, &p)
		if !strings.Contains(p.Detail, "allowed from logged: investigate, cancel") {
			t.Fatalf("wrong-state step: %+v", p)
		}
		a.do("POST", path+"/actions/investigate", ana, nil).want(t, http.StatusPreconditionRequired)
		var res problem.ProblemStepResult
		r = act(ana, "investigate", map[string]any{"comment": "Looking at the gateway."}, http.StatusOK).decode(t, &res)
		if res.Outcome != record.OutcomeApplied || res.Record.State != problem.Analysing || r.header.Get("ETag") != httpx.ETag(res.Record.Version) {
			t.Fatalf("investigated: %s", r.body)
		}

		// Analysis (PM4): an RCA, a workaround, a known error.
		a.do("POST", path+"/rca", ana, map[string]any{"method": "guessing", "rootCause": "x"}).want(t, http.StatusUnprocessableEntity)
		a.do("POST", path+"/rca", ana, map[string]any{"method": "five_whys", "evidence": []map[string]any{{"attachmentId": 42}},
			"rootCause": "MTU"}).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.evidence[0].attachmentId") {
			t.Fatalf("foreign attachment: %+v", p)
		}
		var rca problem.RCA
		a.do("POST", path+"/rca", ana, map[string]any{"method": "fishbone", "findings": "Fragmentation on the tunnel",
			"evidence": []map[string]any{{"text": "pcap 12:01"}}, "rootCause": "The gateway MTU fragments DNS replies"}).
			want(t, http.StatusCreated).decode(t, &rca)
		var rcas struct{ Items []problem.RCA }
		a.do("GET", path+"/rca", str, nil).want(t, http.StatusOK).decode(t, &rcas)
		if len(rcas.Items) != 1 || rcas.Items[0].ID != rca.ID || rcas.Items[0].Evidence[0].Text != "pcap 12:01" {
			t.Fatalf("analyses: %+v", rcas)
		}
		cur, _ := e.recs.Get(e.an, pd.Number)
		a.do("PUT", path+"/workaround", ana, map[string]any{"workaround": "Lower the client MTU"}).want(t, http.StatusPreconditionRequired)
		a.do("PUT", path+"/workaround", ana, map[string]any{"workaround": "Lower the client MTU"}, "If-Match", httpx.ETag(cur.Version)).
			want(t, http.StatusOK).decode(t, &pd)
		if pd.Workaround != "Lower the client MTU" || pd.RootCause != rca.RootCause {
			t.Fatalf("workaround: %+v", pd.Problem)
		}
		act(ana, "identify_root_cause", nil, http.StatusOK)

		var ke problem.KnownError
		a.do("POST", "/api/v1/known-errors", ana, map[string]any{"problem": "PRB0777777", "symptoms": "x"}).
			want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.problem") {
			t.Fatalf("unknown problem: %+v", p)
		}
		a.do("POST", "/api/v1/known-errors", ana, map[string]any{"problem": pd.Number}).want(t, http.StatusUnprocessableEntity)
		r = a.do("POST", "/api/v1/known-errors", ana, map[string]any{"problem": pd.Number,
			"symptoms": "The VPN drops every few minutes; DNS lookups time out."}).want(t, http.StatusCreated).decode(t, &ke)
		if ke.Number != "KE0000001" || r.header.Get("Location") != "/api/v1/known-errors/KE0000001" || ke.Workaround != "Lower the client MTU" ||
			ke.RootCause != rca.RootCause || ke.State != problem.Draft {
			t.Fatalf("known error: %s", r.body)
		}
		kpath := "/api/v1/known-errors/" + ke.Number
		r = a.do("PATCH", kpath, ana, map[string]any{"title": "VPN drops: gateway MTU"}, "If-Match", `"1"`).want(t, http.StatusOK).decode(t, &ke)
		if ke.Title != "VPN drops: gateway MTU" || r.header.Get("ETag") != `"2"` {
			t.Fatalf("known error patched: %s", r.body)
		}
		a.do("GET", kpath+"/actions", ana, nil).want(t, http.StatusOK).decode(t, &acts)
		if len(acts.Items) != 2 || acts.Items[0].Action != "publish" || acts.Items[0].Activity != "PM4" || acts.Items[1].Activity != "PM6" {
			t.Fatalf("known error actions: %+v", acts)
		}
		a.do("POST", kpath+"/actions/publish", dev, nil, "If-Match", `"2"`).want(t, http.StatusForbidden)
		a.do("POST", kpath+"/actions/publish", ana, nil, "If-Match", `"2"`).want(t, http.StatusOK).decode(t, &res)
		if res.Record.State != problem.Published {
			t.Fatalf("published: %+v", res)
		}
		a.do("POST", kpath+"/actions/publish", ana, nil, "If-Match", `"3"`).want(t, http.StatusConflict)

		// Offered for a new incident, with why; listed and searched.
		var matches struct{ Items []problem.KnownErrorMatch }
		q := url.Values{"text": {"VPN drops, DNS time out"}, "ci": {strconv.FormatInt(gw, 10)}, "category": {"network"}, "subcategory": {"vpn"}}
		a.do("GET", "/api/v1/known-errors/match?"+q.Encode(), str, nil).want(t, http.StatusOK).decode(t, &matches)
		if len(matches.Items) != 1 || matches.Items[0].Number != ke.Number || matches.Items[0].Problem != pd.Number ||
			len(matches.Items[0].Why) != 4 || matches.Items[0].Why[0] != "same CI" {
			t.Fatalf("matches: %+v", matches)
		}
		a.do("GET", "/api/v1/known-errors/match?limit=99", str, nil).want(t, http.StatusUnprocessableEntity)
		var kes struct{ Items []problem.KnownError }
		r = a.do("GET", "/api/v1/known-errors?state=published&q=gateway+mtu&problem="+pd.Number, str, nil).want(t, http.StatusOK).decode(t, &kes)
		if len(kes.Items) != 1 || r.header.Get("X-Total-Count") != "1" {
			t.Fatalf("known errors: %s", r.body)
		}
		a.do("GET", "/api/v1/known-errors?state=lost", str, nil).want(t, http.StatusUnprocessableEntity)
		a.do("GET", "/api/v1/known-errors/"+pd.Number, str, nil).want(t, http.StatusNotFound)

		// Resolution (PM5): the RFC reference is required, then resolve.
		act(ana, "raise_rfc", map[string]any{"comment": "CAB on Tuesday"}, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.rfc") {
			t.Fatalf("raise_rfc without rfc: %+v", p)
		}
		act(ana, "raise_rfc", map[string]any{"rfc": "https://changes.example.org/rfc/42"}, http.StatusOK)
		act(mgr, "resolve", map[string]any{"resolution": "Gateway MTU fixed"}, http.StatusOK)

		// Closure (PM6): the major problem needs its review.
		act(mgr, "close", nil, http.StatusConflict).decode(t, &p)
		if !strings.Contains(p.Detail, "review") {
			t.Fatalf("close without review: %+v", p)
		}
		a.do("POST", path+"/review", mgr, map[string]any{"lessons": "x"}).want(t, http.StatusUnprocessableEntity)
		a.do("POST", path+"/review", dev, map[string]any{"summary": "MTU"}).want(t, http.StatusForbidden)
		a.do("POST", path+"/review", mgr, map[string]any{"summary": "MTU after the upgrade", "lessons": "Check MTU",
			"followUps": []string{"Gateway checklist"}}).want(t, http.StatusOK).decode(t, &pd)
		if pd.Review == nil || pd.Review.Summary != "MTU after the upgrade" {
			t.Fatalf("review: %+v", pd.Review)
		}
		act(mgr, "close", nil, http.StatusOK).decode(t, &res)
		if res.Record.State != problem.Closed || !res.Record.Closed {
			t.Fatalf("closed: %+v", res)
		}
		a.do("GET", kpath, str, nil).want(t, http.StatusOK).decode(t, &ke)
		if ke.State != problem.Retired {
			t.Fatalf("the known error after closing: %s", ke.State)
		}
		a.do("GET", "/api/v1/known-errors/match?"+q.Encode(), str, nil).want(t, http.StatusOK).decode(t, &matches)
		if len(matches.Items) != 0 {
			t.Fatalf("a retired known error is offered: %+v", matches)
		}
		a.do("GET", "/api/v1/openapi.json", "", nil).want(t, http.StatusOK)
	})
}
