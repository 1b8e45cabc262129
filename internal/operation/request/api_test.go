package request_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"steward/internal/operation/request"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
)

// newAPI serves the record and request APIs over e as the application serves them.
func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.recs)
		request.RegisterAPI(a, e.svc)
	})
}

// problem is a problem+json body.
type problem = apitest.Problem

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
		mgr, agent, ria, max, gil, ana, ben, str := a.Token(e.manager), a.Token(e.agent), a.Token(e.ria), a.Token(e.max), a.Token(e.gil),
			a.Token(e.ana), a.Token(e.ben), a.Token(e.stranger)

		// The catalog: RF1, with every problem named.
		var p problem
		a.Do("POST", "/api/v1/catalog/items", str, e.itemJSON()).Want(t, http.StatusForbidden).Decode(t, &p)
		if !strings.Contains(p.Detail, "RF1") {
			t.Fatalf("403 does not name RF1: %+v", p)
		}
		bad := e.itemJSON()
		bad["variables"] = append(bad["variables"].([]map[string]any)[:2], map[string]any{"name": "colour", "type": "choice"})
		a.Do("POST", "/api/v1/catalog/items", mgr, bad).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.variables[2].choices") {
			t.Fatalf("a choice without choices: %+v", p)
		}
		bad = e.itemJSON()
		bad["serviceId"] = e.laptop
		a.Do("POST", "/api/v1/catalog/items", mgr, bad).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.serviceId") {
			t.Fatalf("not a service: %+v", p)
		}
		var item request.CatalogItem
		r := a.Do("POST", "/api/v1/catalog/items", mgr, e.itemJSON()).Want(t, http.StatusCreated).Decode(t, &item)
		itemPath := "/api/v1/catalog/items/" + strconv.FormatInt(item.ID, 10)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != itemPath || !item.Active || len(item.Tasks) != 3 {
			t.Fatalf("created item: %v %+v", r.Header, item)
		}
		a.Do("PATCH", itemPath, mgr, map[string]any{"description": "Imaged and enrolled."}).Want(t, http.StatusPreconditionRequired)
		a.Do("PATCH", itemPath, mgr, map[string]any{"description": "Imaged and enrolled."}, "If-Match", `"1"`).Want(t, http.StatusOK)
		a.Do("PATCH", itemPath, mgr, map[string]any{"name": "x"}, "If-Match", `"1"`).Want(t, http.StatusPreconditionFailed)
		var items struct{ Items []request.CatalogItem }
		r = a.Do("GET", "/api/v1/catalog/items?active=true&q=laptop", ria, nil).Want(t, http.StatusOK).Decode(t, &items)
		if len(items.Items) != 1 || r.Header.Get("X-Total-Count") != "1" || items.Items[0].Description != "Imaged and enrolled." {
			t.Fatalf("the catalog: %s", r.Body)
		}

		// Ria submits; bad values are named body.variables.<name>.
		values := map[string]any{"model": "13-inch", "needed_by": "2025-03-15", "monitors": 1, "for_user": e.ria.ID}
		a.Do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID,
			"variables": map[string]any{"model": "13-inch", "needed_by": "soon", "monitors": 9}}).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.variables.needed_by") || !p.Names("body.variables.monitors") {
			t.Fatalf("bad values: %+v", p)
		}
		var req request.Request
		r = a.Do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID, "variables": values}).
			Want(t, http.StatusCreated).Decode(t, &req)
		path := "/api/v1/requests/" + req.Number
		if r.Header.Get("Location") != path || r.Header.Get("ETag") != `"1"` || req.State != request.Submitted || req.Channel != "api" ||
			len(req.Variables) != 4 || req.Variables[3].Display != "ria" {
			t.Fatalf("submitted: %v %s", r.Header, r.Body)
		}

		// The desk validates (RF2) with If-Match; steps not allowed now are 409 naming the allowed ones.
		var acts struct{ Items []record.Action }
		a.Do("GET", path+"/actions", agent, nil).Want(t, http.StatusOK).Decode(t, &acts)
		if len(acts.Items) != 3 || acts.Items[0].Action != "validate" || acts.Items[0].Activity != "RF2" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("the desk's actions: %+v", acts.Items)
		}
		a.Do("POST", path+"/actions/validate", agent, nil).Want(t, http.StatusPreconditionRequired)
		a.Do("POST", path+"/actions/validate", agent, nil, "If-Match", `"7"`).Want(t, http.StatusPreconditionFailed)
		a.Do("POST", path+"/actions/fulfil", agent, nil, "If-Match", `"1"`).Want(t, http.StatusConflict).Decode(t, &p)
		if !strings.Contains(p.Detail, "validate, reject, cancel") {
			t.Fatalf("409 does not name the allowed actions: %+v", p)
		}
		var res request.RequestStepResult
		r = a.Do("POST", path+"/actions/validate", agent, map[string]any{"comment": "checked"}, "If-Match", `"1"`).
			Want(t, http.StatusOK).Decode(t, &res)
		if res.Request.State != request.AwaitingApproval || r.Header.Get("ETag") != `"2"` || len(res.Request.Approvals) != 2 {
			t.Fatalf("validated: %s", r.Body)
		}

		// Approvals: only the level's approvers; Max then the cab's Gil.
		level1 := pendingOf(t, res.Request)
		approve := func(token string, id int64) string {
			return path + "/approvals/" + strconv.FormatInt(id, 10) + "/approve"
		}
		a.Do("POST", approve(str, level1), str, nil).Want(t, http.StatusForbidden)
		a.Do("POST", approve(ria, level1), ria, nil).Want(t, http.StatusForbidden)
		var pending struct {
			Items []request.PendingRequestApproval
		}
		a.Do("GET", "/api/v1/request-approvals", max, nil).Want(t, http.StatusOK).Decode(t, &pending)
		if len(pending.Items) != 1 || pending.Items[0].Request != req.Number || pending.Items[0].ID != level1 {
			t.Fatalf("max's approvals: %+v", pending.Items)
		}
		a.Do("POST", approve(max, level1), max, map[string]any{"reason": "ok"}).Want(t, http.StatusOK).Decode(t, &req)
		a.Do("POST", approve(gil, pendingOf(t, req)), gil, nil).Want(t, http.StatusOK).Decode(t, &req)
		if req.State != request.InFulfilment || req.Stage != 1 {
			t.Fatalf("after the approvals: %s stage %d", req.State, req.Stage)
		}

		// Stage 1's tasks in parallel, each by its own team; then stage 2.
		work := func(token, number string, actions ...string) request.RequestStepResult {
			t.Helper()
			var out request.RequestStepResult
			for _, act := range actions {
				var tk request.RequestTask
				r := a.Do("GET", "/api/v1/request-tasks/"+number, token, nil).Want(t, http.StatusOK).Decode(t, &tk)
				a.Do("POST", "/api/v1/request-tasks/"+number+"/actions/"+act, token, nil, "If-Match", r.Header.Get("ETag")).
					Want(t, http.StatusOK).Decode(t, &out)
			}
			return out
		}
		image, port := taskOf(t, req, "Image the laptop"), taskOf(t, req, "Open a network port")
		var tk request.RequestTask
		r = a.Do("GET", "/api/v1/request-tasks/"+image, ben, nil).Want(t, http.StatusOK).Decode(t, &tk)
		a.Do("POST", "/api/v1/request-tasks/"+image+"/actions/start", ben, nil, "If-Match", r.Header.Get("ETag")).Want(t, http.StatusForbidden)
		a.Do("GET", "/api/v1/request-tasks/"+image+"/actions", ana, nil).Want(t, http.StatusOK).Decode(t, &acts)
		if len(acts.Items) != 2 || acts.Items[0].Action != "start" || acts.Items[0].Activity != "RF3" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("ana's task actions: %+v", acts.Items)
		}
		var queue struct{ Items []request.RequestTask }
		r = a.Do("GET", "/api/v1/request-tasks?team="+strconv.FormatInt(e.network, 10)+"&open=true", ben, nil).Want(t, http.StatusOK).Decode(t, &queue)
		if len(queue.Items) != 1 || queue.Items[0].Number != port {
			t.Fatalf("the network queue: %s", r.Body)
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
		r = a.Do("GET", path, ria, nil).Want(t, http.StatusOK).Decode(t, &req)
		a.Do("POST", path+"/actions/accept", ria, nil, "If-Match", r.Header.Get("ETag")).Want(t, http.StatusOK).Decode(t, &res)
		if res.Request.State != request.Closed {
			t.Fatalf("accepted: %s", res.Request.State)
		}
		var list struct {
			Items []request.RequestSummary
		}
		r = a.Do("GET", "/api/v1/requests?requester="+strconv.FormatInt(e.ria.ID, 10)+"&open=false", agent, nil).Want(t, http.StatusOK).Decode(t, &list)
		if r.Header.Get("X-Total-Count") != "1" || list.Items[0].Number != req.Number || list.Items[0].CatalogItemName != "New laptop" {
			t.Fatalf("ria's closed requests: %s", r.Body)
		}
		a.Do("GET", "/api/v1/requests?state=lost", agent, nil).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("query.state") {
			t.Fatalf("an unknown state: %+v", p)
		}
		a.Do("DELETE", itemPath, mgr, nil, "If-Match", `"2"`).Want(t, http.StatusConflict)
	})
}

// TestAPIRejection: a level-2 approver rejects with a reason that the requester reads.
func TestAPIRejection(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		env := newEnv(t, d)
		e := newAPI(env)
		mgr, agent, ria, max, gil := e.Token(env.manager), e.Token(env.agent), e.Token(env.ria), e.Token(env.max), e.Token(env.gil)
		var item request.CatalogItem
		e.Do("POST", "/api/v1/catalog/items", mgr, env.itemJSON()).Want(t, http.StatusCreated).Decode(t, &item)
		var req request.Request
		e.Do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID,
			"variables": map[string]any{"model": "15-inch", "needed_by": "2025-04-01"}}).Want(t, http.StatusCreated).Decode(t, &req)
		path := "/api/v1/requests/" + req.Number
		var res request.RequestStepResult
		e.Do("POST", path+"/actions/validate", agent, nil, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &res)
		id := strconv.FormatInt(pendingOf(t, res.Request), 10)
		e.Do("POST", path+"/approvals/"+id+"/approve", max, nil).Want(t, http.StatusOK).Decode(t, &req)
		reject := path + "/approvals/" + strconv.FormatInt(pendingOf(t, req), 10) + "/reject"
		e.Do("POST", reject, gil, map[string]any{}).Want(t, http.StatusUnprocessableEntity)
		e.Do("POST", reject, gil, map[string]any{"reason": "Over budget."}).Want(t, http.StatusOK).Decode(t, &req)
		if req.State != request.Rejected || req.RejectionReason != "Over budget." {
			t.Fatalf("rejected: %s %q", req.State, req.RejectionReason)
		}
		var journal struct{ Items []record.JournalEntry }
		e.Do("GET", "/api/v1/records/"+req.Number+"/journal", ria, nil).Want(t, http.StatusOK).Decode(t, &journal)
		var seen bool
		for _, j := range journal.Items {
			seen = seen || (j.Kind == record.Comment && strings.Contains(j.Body, "Over budget."))
		}
		if !seen {
			t.Fatalf("the requester does not read the reason: %+v", journal.Items)
		}
		// reject through the request's actions needs a reason too.
		var other request.Request
		e.Do("POST", "/api/v1/requests", ria, map[string]any{"catalogItemId": item.ID,
			"variables": map[string]any{"model": "15-inch", "needed_by": "2025-04-01"}}).Want(t, http.StatusCreated).Decode(t, &other)
		var p problem
		e.Do("POST", "/api/v1/requests/"+other.Number+"/actions/reject", agent, map[string]any{"comment": "no"}, "If-Match", `"1"`).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.reason") {
			t.Fatalf("reject without a reason: %+v", p)
		}
		e.Do("POST", "/api/v1/requests/"+other.Number+"/actions/reject", agent, map[string]any{"reason": "Duplicate of " + req.Number},
			"If-Match", `"1"`).Want(t, http.StatusOK)
		e.Do("GET", "/api/v1/request-tasks/"+req.Number, agent, nil).Want(t, http.StatusNotFound)
		var list struct{ Items []request.RequestSummary }
		r := e.Do("GET", "/api/v1/requests?limit=1&sort=number", agent, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Number != req.Number || r.Header.Get("X-Total-Count") != "2" ||
			!strings.Contains(r.Header.Get("Link"), "cursor=") {
			t.Fatalf("page 1 of the requests: %v %s", r.Header, r.Body)
		}

		// The OpenAPI document describes the area.
		var doc struct {
			Paths map[string]any
		}
		e.Do("GET", "/api/v1/openapi.json", agent, nil).Want(t, http.StatusOK).Decode(t, &doc)
		for _, p := range []string{"/api/v1/catalog/items", "/api/v1/catalog/items/{id}", "/api/v1/requests", "/api/v1/requests/{number}",
			"/api/v1/requests/{number}/actions", "/api/v1/requests/{number}/actions/{action}", "/api/v1/requests/{number}/approvals/{id}/approve",
			"/api/v1/requests/{number}/approvals/{id}/reject", "/api/v1/request-tasks/{number}", "/api/v1/request-tasks/{number}/actions/{action}"} {
			if doc.Paths[p] == nil {
				t.Errorf("the OpenAPI document lacks %s", p)
			}
		}
	})
}
