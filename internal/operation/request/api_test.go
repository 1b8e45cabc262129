package request_test

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

	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// api is the record and request API over an env, behind the middleware the application uses.
type api struct {
	e       *env
	handler http.Handler
}

func newAPI(e *env) *api {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Request API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, e.auth))
	log := slog.New(slog.DiscardHandler)
	japi := &httpx.API{API: hapi, Log: log}
	record.RegisterAPI(japi, e.recs)
	request.RegisterAPI(japi, e.svc)
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

// itemJSON is the laptop item as a client sends it.
func (e *env) itemJSON() map[string]any {
	return map[string]any{"name": "New laptop", "category": "hardware", "serviceId": e.service, "targetHours": 40,
		"variables": []map[string]any{
			{"name": "model", "label": "Model", "type": "choice", "required": true, "choices": []string{"13-inch", "15-inch"}},
			{"name": "needed_by", "label": "Needed by", "type": "date", "required": true},
			{"name": "monitors", "type": "number", "min": 0, "max": 2},
			{"name": "for_user", "type": "user"},
		},
		"approvals": []map[string]any{{"kind": "manager"}, {"kind": "group", "teamId": e.cab}},
		"tasks": []map[string]any{{"name": "Image the laptop", "teamId": e.desk, "stage": 1},
			{"name": "Open a network port", "teamId": e.network, "stage": 1}, {"name": "Hand over the laptop", "teamId": e.desk, "stage": 2}}}
}

// TestAPIScenario drives a catalog request with two approval levels (the
// requester's manager, then a group) and parallel tasks through HTTP, by
// users holding the RF roles: the catalog manager defines the item, the
// requester submits, the desk validates, the approvers approve, two teams
// work stage 1 in parallel and the desk stage 2, and the requester accepts.
func TestAPIScenario(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		mgr, agent, ria, max, gil, ana, ben, str := a.token(e.manager), a.token(e.agent), a.token(e.ria), a.token(e.max), a.token(e.gil),
			a.token(e.ana), a.token(e.ben), a.token(e.stranger)

		// The catalog: RF1, with every problem named.
		var p problem
		a.do("POST", "/api/v1/catalog/items", str, e.itemJSON()).want(t, http.StatusForbidden).decode(t, &p)
		if !strings.Contains(p.Detail, "RF1") {
			t.Fatalf("403 does not name RF1: %+v", p)
		}
		bad := e.itemJSON()
		bad["variables"] = append(bad["variables"].([]map[string]any)[:2], map[string]any{"name": "colour", "type": "choice"})
		a.do("POST", "/api/v1/catalog/items", mgr, bad).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.variables[2].choices") {
			t.Fatalf("a choice without choices: %+v", p)
		}
		bad = e.itemJSON()
		bad["serviceId"] = e.laptop
		a.do("POST", "/api/v1/catalog/items", mgr, bad).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.serviceId") {
			t.Fatalf("not a service: %+v", p)
		}
		var item request.CatalogItem
		r := a.do("POST", "/api/v1/catalog/items", mgr, e.itemJSON()).want(t, http.StatusCreated).decode(t, &item)
		itemPath := "/api/v1/catalog/items/" + strconv.FormatInt(item.ID, 10)
		if r.header.Get("ETag") != `"1"` || r.header.Get("Location") != itemPath || !item.Active || len(item.Tasks) != 3 {
			t.Fatalf("created item: %v %+v", r.header, item)
		}
		a.do("PATCH", itemPath, mgr, map[string]any{"description": "Imaged and enrolled."}).want(t, http.StatusPreconditionRequired)
		a.do("PATCH", itemPath, mgr, map[string]any{"description": "Imaged and enrolled."}, "If-Match", `"1"`).want(t, http.StatusOK)
		a.do("PATCH", itemPath, mgr, map[string]any{"name": "x"}, "If-Match", `"1"`).want(t, http.StatusPreconditionFailed)
		var items struct{ Items []request.CatalogItem }
		r = a.do("GET", "/api/v1/catalog/items?active=true&q=laptop", ria, nil).want(t, http.StatusOK).decode(t, &items)
		if len(items.Items) != 1 || r.header.Get("X-Total-Count") != "1" || items.Items[0].Description != "Imaged and enrolled." {
			t.Fatalf("the catalog: %s", r.body)
		}

		// Ria submits; bad values are named body.variables.<name>.
		values := map[string]any{"model": "13-inch", "needed_by": "2025-03-15", "monitors": 1, "for_user": e.ria.ID}
		a.do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID,
			"variables": map[string]any{"model": "13-inch", "needed_by": "soon", "monitors": 9}}).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.variables.needed_by") || !p.names("body.variables.monitors") {
			t.Fatalf("bad values: %+v", p)
		}
		var req request.Request
		r = a.do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID, "variables": values}).
			want(t, http.StatusCreated).decode(t, &req)
		path := "/api/v1/requests/" + req.Number
		if r.header.Get("Location") != path || r.header.Get("ETag") != `"1"` || req.State != request.Submitted || req.Channel != "api" ||
			len(req.Variables) != 4 || req.Variables[3].Display != "ria" {
			t.Fatalf("submitted: %v %s", r.header, r.body)
		}

		// The desk validates (RF2) with If-Match; steps not allowed now are 409 naming the allowed ones.
		var acts struct{ Items []record.Action }
		a.do("GET", path+"/actions", agent, nil).want(t, http.StatusOK).decode(t, &acts)
		if len(acts.Items) != 3 || acts.Items[0].Action != "validate" || acts.Items[0].Activity != "RF2" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("the desk's actions: %+v", acts.Items)
		}
		a.do("POST", path+"/actions/validate", agent, nil).want(t, http.StatusPreconditionRequired)
		a.do("POST", path+"/actions/validate", agent, nil, "If-Match", `"7"`).want(t, http.StatusPreconditionFailed)
		a.do("POST", path+"/actions/fulfil", agent, nil, "If-Match", `"1"`).want(t, http.StatusConflict).decode(t, &p)
		if !strings.Contains(p.Detail, "validate, reject, cancel") {
			t.Fatalf("409 does not name the allowed actions: %+v", p)
		}
		var res request.RequestStepResult
		r = a.do("POST", path+"/actions/validate", agent, map[string]any{"comment": "checked"}, "If-Match", `"1"`).
			want(t, http.StatusOK).decode(t, &res)
		if res.Request.State != request.AwaitingApproval || r.header.Get("ETag") != `"2"` || len(res.Request.Approvals) != 2 {
			t.Fatalf("validated: %s", r.body)
		}

		// Approvals: only the level's approvers; Max then the cab's Gil.
		level1 := pendingOf(t, res.Request)
		approve := func(token string, id int64) string {
			return path + "/approvals/" + strconv.FormatInt(id, 10) + "/approve"
		}
		a.do("POST", approve(str, level1), str, nil).want(t, http.StatusForbidden)
		a.do("POST", approve(ria, level1), ria, nil).want(t, http.StatusForbidden)
		var pending struct {
			Items []request.PendingRequestApproval
		}
		a.do("GET", "/api/v1/request-approvals", max, nil).want(t, http.StatusOK).decode(t, &pending)
		if len(pending.Items) != 1 || pending.Items[0].Request != req.Number || pending.Items[0].ID != level1 {
			t.Fatalf("max's approvals: %+v", pending.Items)
		}
		a.do("POST", approve(max, level1), max, map[string]any{"reason": "ok"}).want(t, http.StatusOK).decode(t, &req)
		a.do("POST", approve(gil, pendingOf(t, req)), gil, nil).want(t, http.StatusOK).decode(t, &req)
		if req.State != request.InFulfilment || req.Stage != 1 {
			t.Fatalf("after the approvals: %s stage %d", req.State, req.Stage)
		}

		// Stage 1's tasks in parallel, each by its own team; then stage 2.
		work := func(token, number string, actions ...string) request.RequestStepResult {
			t.Helper()
			var out request.RequestStepResult
			for _, act := range actions {
				var tk request.RequestTask
				r := a.do("GET", "/api/v1/request-tasks/"+number, token, nil).want(t, http.StatusOK).decode(t, &tk)
				a.do("POST", "/api/v1/request-tasks/"+number+"/actions/"+act, token, nil, "If-Match", r.header.Get("ETag")).
					want(t, http.StatusOK).decode(t, &out)
			}
			return out
		}
		image, port := taskOf(t, req, "Image the laptop"), taskOf(t, req, "Open a network port")
		var tk request.RequestTask
		r = a.do("GET", "/api/v1/request-tasks/"+image, ben, nil).want(t, http.StatusOK).decode(t, &tk)
		a.do("POST", "/api/v1/request-tasks/"+image+"/actions/start", ben, nil, "If-Match", r.header.Get("ETag")).want(t, http.StatusForbidden)
		a.do("GET", "/api/v1/request-tasks/"+image+"/actions", ana, nil).want(t, http.StatusOK).decode(t, &acts)
		if len(acts.Items) != 2 || acts.Items[0].Action != "start" || acts.Items[0].Activity != "RF3" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("ana's task actions: %+v", acts.Items)
		}
		var queue struct{ Items []request.RequestTask }
		r = a.do("GET", "/api/v1/request-tasks?team="+strconv.FormatInt(e.network, 10)+"&open=true", ben, nil).want(t, http.StatusOK).decode(t, &queue)
		if len(queue.Items) != 1 || queue.Items[0].Number != port {
			t.Fatalf("the network queue: %s", r.body)
		}
		work(ana, image, "start", "complete")
		out := work(ben, port, "start", "complete")
		if out.Task.State != request.TaskDone || out.Request.Stage != 2 {
			t.Fatalf("after stage 1: %+v", out.Request.RequestSummary)
		}
		out = work(ana, taskOf(t, out.Request, "Hand over the laptop"), "start", "complete")
		if out.Request.State != request.AwaitingAcceptance {
			t.Fatalf("after stage 2: %s", out.Request.State)
		}

		// Ria accepts (RF4, as the requester) and the request closes.
		r = a.do("GET", path, ria, nil).want(t, http.StatusOK).decode(t, &req)
		a.do("POST", path+"/actions/accept", ria, nil, "If-Match", r.header.Get("ETag")).want(t, http.StatusOK).decode(t, &res)
		if res.Request.State != request.Closed {
			t.Fatalf("accepted: %s", res.Request.State)
		}
		var list struct {
			Items []request.RequestSummary
		}
		r = a.do("GET", "/api/v1/requests?requester="+strconv.FormatInt(e.ria.ID, 10)+"&open=false", agent, nil).want(t, http.StatusOK).decode(t, &list)
		if r.header.Get("X-Total-Count") != "1" || list.Items[0].Number != req.Number || list.Items[0].CatalogItemName != "New laptop" {
			t.Fatalf("ria's closed requests: %s", r.body)
		}
		a.do("GET", "/api/v1/requests?state=lost", agent, nil).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("query.state") {
			t.Fatalf("an unknown state: %+v", p)
		}
		a.do("DELETE", itemPath, mgr, nil, "If-Match", `"2"`).want(t, http.StatusConflict)
	})
}

// TestAPIRejection: a level-2 approver rejects with a reason that the requester reads.
func TestAPIRejection(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newAPI(newEnv(t, d))
		mgr, agent, ria, max, gil := e.token(e.e.manager), e.token(e.e.agent), e.token(e.e.ria), e.token(e.e.max), e.token(e.e.gil)
		var item request.CatalogItem
		e.do("POST", "/api/v1/catalog/items", mgr, e.e.itemJSON()).want(t, http.StatusCreated).decode(t, &item)
		var req request.Request
		e.do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID,
			"variables": map[string]any{"model": "15-inch", "needed_by": "2025-04-01"}}).want(t, http.StatusCreated).decode(t, &req)
		path := "/api/v1/requests/" + req.Number
		var res request.RequestStepResult
		e.do("POST", path+"/actions/validate", agent, nil, "If-Match", `"1"`).want(t, http.StatusOK).decode(t, &res)
		id := strconv.FormatInt(pendingOf(t, res.Request), 10)
		e.do("POST", path+"/approvals/"+id+"/approve", max, nil).want(t, http.StatusOK).decode(t, &req)
		reject := path + "/approvals/" + strconv.FormatInt(pendingOf(t, req), 10) + "/reject"
		e.do("POST", reject, gil, map[string]any{}).want(t, http.StatusUnprocessableEntity)
		e.do("POST", reject, gil, map[string]any{"reason": "Over budget."}).want(t, http.StatusOK).decode(t, &req)
		if req.State != request.Rejected || req.RejectionReason != "Over budget." {
			t.Fatalf("rejected: %s %q", req.State, req.RejectionReason)
		}
		var journal struct{ Items []record.JournalEntry }
		e.do("GET", "/api/v1/records/"+req.Number+"/journal", ria, nil).want(t, http.StatusOK).decode(t, &journal)
		var seen bool
		for _, j := range journal.Items {
			seen = seen || (j.Kind == record.Comment && strings.Contains(j.Body, "Over budget."))
		}
		if !seen {
			t.Fatalf("the requester does not read the reason: %+v", journal.Items)
		}
		// reject through the request's actions needs a reason too.
		var other request.Request
		e.do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID,
			"variables": map[string]any{"model": "15-inch", "needed_by": "2025-04-01"}}).want(t, http.StatusCreated).decode(t, &other)
		var p problem
		e.do("POST", "/api/v1/requests/"+other.Number+"/actions/reject", agent, map[string]any{"comment": "no"}, "If-Match", `"1"`).
			want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if !p.names("body.reason") {
			t.Fatalf("reject without a reason: %+v", p)
		}
		e.do("POST", "/api/v1/requests/"+other.Number+"/actions/reject", agent, map[string]any{"reason": "Duplicate of " + req.Number},
			"If-Match", `"1"`).want(t, http.StatusOK)
		e.do("GET", "/api/v1/request-tasks/"+req.Number, agent, nil).want(t, http.StatusNotFound)
		var list struct{ Items []request.RequestSummary }
		r := e.do("GET", "/api/v1/requests?limit=1&sort=number", agent, nil).want(t, http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Number != req.Number || r.header.Get("X-Total-Count") != "2" ||
			!strings.Contains(r.header.Get("Link"), "cursor=") {
			t.Fatalf("page 1 of the requests: %v %s", r.header, r.body)
		}

		// The OpenAPI document describes the area.
		var doc struct {
			Paths map[string]any
		}
		e.do("GET", "/api/v1/openapi.json", agent, nil).want(t, http.StatusOK).decode(t, &doc)
		for _, p := range []string{"/api/v1/catalog/items", "/api/v1/catalog/items/{id}", "/api/v1/requests", "/api/v1/requests/{number}",
			"/api/v1/requests/{number}/actions", "/api/v1/requests/{number}/actions/{action}", "/api/v1/requests/{number}/approvals/{id}/approve",
			"/api/v1/requests/{number}/approvals/{id}/reject", "/api/v1/request-tasks/{number}", "/api/v1/request-tasks/{number}/actions/{action}"} {
			if doc.Paths[p] == nil {
				t.Errorf("the OpenAPI document lacks %s", p)
			}
		}
	})
}
