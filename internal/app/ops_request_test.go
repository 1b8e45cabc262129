package app_test

// End-to-end scenario of request fulfilment (issue 6) through the wired
// application's HTTP API: a catalog item with two approval levels (the
// requester's manager, then a team) and parallel fulfilment tasks, from the
// catalog to the requester's acceptance, with the RF roles of the default
// RACI (the process manager R for RF1, the analysts R for RF2–RF4, scoped to
// their team for its tasks).

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/db"
)

// requestOut is a service request as the API returns it.
type requestOut struct {
	Number          string `json:"number"`
	Type            string `json:"type"`
	State           string `json:"state"`
	Closed          bool   `json:"closed"`
	Version         int64  `json:"version"`
	RequesterID     int64  `json:"requesterId"`
	ServiceID       int64  `json:"serviceId"`
	CatalogItemID   int64  `json:"catalogItemId"`
	CatalogItemName string `json:"catalogItemName"`
	Channel         string `json:"channel"`
	ApprovalLevel   int    `json:"approvalLevel"`
	Stage           int    `json:"stage"`
	FulfilledAt     string `json:"fulfilledAt"`
	Variables       []struct {
		Name    string `json:"name"`
		Display string `json:"display"`
	} `json:"variables"`
	Approvals []struct {
		Level     int    `json:"level"`
		Kind      string `json:"kind"`
		State     string `json:"state"`
		Approvals []struct {
			ID         int64  `json:"id"`
			ApproverID int64  `json:"approverId"`
			TeamID     int64  `json:"teamId"`
			State      string `json:"state"`
			DecidedBy  int64  `json:"decidedBy"`
		} `json:"approvals"`
	} `json:"approvals"`
	Stages []struct {
		Stage int    `json:"stage"`
		State string `json:"state"`
		Tasks []struct {
			Name   string `json:"name"`
			TeamID int64  `json:"teamId"`
			Number string `json:"number"`
			State  string `json:"state"`
		} `json:"tasks"`
	} `json:"stages"`
}

func (r requestOut) etag() string { return `"` + itoa(r.Version) + `"` }

// stageStates lists the state of each stage.
func (r requestOut) stageStates() []string {
	var out []string
	for _, s := range r.Stages {
		out = append(out, s.State)
	}
	return out
}

// task returns the number of the opened task named name, or "".
func (r requestOut) task(name string) string {
	for _, s := range r.Stages {
		for _, k := range s.Tasks {
			if k.Name == name {
				return k.Number
			}
		}
	}
	return ""
}

// taskOut is a fulfilment task as the API returns it.
type taskOut struct {
	Number  string `json:"number"`
	State   string `json:"state"`
	TeamID  int64  `json:"teamId"`
	Request string `json:"request"`
	Stage   int    `json:"stage"`
	Version int64  `json:"version"`
}

// TestOpsCatalogRequestTwoApprovalsParallelTasks: the RF manager publishes a
// laptop with two approval levels and three tasks (two in parallel in stage
// 1, one in stage 2); the requester asks for it; the RF analyst validates;
// the requester's manager, then a member of the approvers' team approve; the
// two teams work their stage-1 tasks in parallel, each only its own; stage 2
// opens; its task done, the request awaits the requester's acceptance and
// closes when they accept.
func TestOpsCatalogRequestTwoApprovalsParallelTasks(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newOpsWorld(t, e)
		h := w.h
		rfManager := w.newUser(t, "rf-manager")
		desk := w.newUser(t, "rf-desk")            // RF analyst everywhere: validates
		imaging := w.newUser(t, "imaging-analyst") // RF analyst of the imaging team
		network := w.newUser(t, "network-analyst") // RF analyst of the network team
		requester := w.newUser(t, "requester")
		boss := w.newUser(t, "boss")
		approver := w.newUser(t, "cab-member")
		w.assign(t, "RF", "process-manager", rfManager.ID)
		w.assign(t, "RF", "process-analyst", desk.ID)

		team := func(name string, members ...opsUser) int64 {
			tm := h.createTeam(t, h.name(name))
			var ids []int64
			for _, m := range members {
				ids = append(ids, m.ID)
			}
			h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/teams/" + itoa(tm.ID), Token: h.Admin, JSON: map[string]any{"members": ids},
				Headers: map[string]string{"If-Match": `"` + itoa(tm.Version) + `"`}}).want(t, http.StatusOK)
			return tm.ID
		}
		imagingTeam := team("imaging", imaging)
		networkTeam := team("network", network)
		cab := team("cab", approver)
		w.assign(t, "RF", "process-analyst", imaging.ID, map[string]any{"teamId": imagingTeam})
		w.assign(t, "RF", "process-analyst", network.ID, map[string]any{"teamId": networkTeam})
		// The requester's manager, through the user API with If-Match.
		w.patchUser(t, requester.ID, map[string]any{"managerId": boss.ID})

		// RF1: only the RF manager (R) adds to the catalog.
		item := map[string]any{"name": "New laptop", "description": "A standard laptop, imaged and enrolled.", "category": "hardware",
			"serviceId": w.service, "targetHours": 40,
			"variables": []map[string]any{
				{"name": "model", "label": "Model", "type": "choice", "required": true, "choices": []string{"13-inch", "15-inch"}},
				{"name": "needed_by", "label": "Needed by", "type": "date", "required": true},
				{"name": "monitors", "label": "Extra monitors", "type": "number", "min": 0, "max": 2},
				{"name": "for_user", "label": "For", "type": "user"},
				{"name": "replaces", "label": "Replaces", "type": "ci"},
			},
			"approvals": []map[string]any{{"kind": "manager"}, {"kind": "group", "teamId": cab}},
			"tasks": []map[string]any{
				{"name": "Image the laptop", "teamId": imagingTeam, "stage": 1},
				{"name": "Open a network port", "teamId": networkTeam, "stage": 1},
				{"name": "Hand over the laptop", "teamId": imagingTeam, "stage": 2},
			}}
		p := h.do(t, req{Method: http.MethodPost, Path: "/api/v1/catalog/items", Token: desk.Token, JSON: item}).problem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "RF1") {
			t.Errorf("catalog refusal %q does not name RF1", p.Detail)
		}
		var it struct {
			ID   int64 `json:"id"`
			Form struct {
				Approvals []any `json:"approvals"`
				Tasks     []any `json:"tasks"`
			} `json:"form"`
		}
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/catalog/items", Token: rfManager.Token, JSON: item}).want(t, http.StatusCreated).decode(t, &it)
		var catalog struct {
			Items []struct {
				ID int64 `json:"id"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/catalog/items?active=true", requester.Token).want(t, http.StatusOK).decode(t, &catalog)
		if len(catalog.Items) != 1 || catalog.Items[0].ID != it.ID {
			t.Fatalf("catalog = %+v", catalog)
		}

		// Bad values are named; then the requester asks for a laptop.
		bad := h.do(t, req{Method: http.MethodPost, Path: "/api/v1/requests", Token: requester.Token, JSON: map[string]any{
			"catalogItemId": it.ID, "variables": map[string]any{"model": "17-inch", "needed_by": "2025-02-30", "monitors": 3}}}).
			problem(t, http.StatusUnprocessableEntity)
		for _, loc := range []string{"body.variables.model", "body.variables.needed_by", "body.variables.monitors"} {
			if !fieldNamed(bad, loc) {
				t.Errorf("bad values: %s not named in %+v", loc, bad.Errors)
			}
		}
		var r requestOut
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/requests", Token: requester.Token, JSON: map[string]any{
			"catalogItemId": it.ID, "channel": "portal", "variables": map[string]any{"model": "13-inch", "needed_by": "2030-03-15",
				"monitors": 1, "for_user": requester.ID, "replaces": w.ci}}}).want(t, http.StatusCreated).decode(t, &r)
		display := map[string]string{}
		for _, v := range r.Variables {
			display[v.Name] = v.Display
		}
		if r.State != "submitted" || r.RequesterID != requester.ID || r.ServiceID != w.service || r.CatalogItemName != "New laptop" ||
			r.Channel != "portal" || display["for_user"] != requester.Name || display["replaces"] != "dns-1" || display["model"] != "13-inch" {
			t.Fatalf("submitted = %+v (values %v)", r, display)
		}
		if !slices.Equal(r.stageStates(), []string{"not_started", "not_started"}) {
			t.Fatalf("stages before fulfilment: %v", r.stageStates())
		}

		step := func(tok string, action string, body map[string]any) *response {
			t.Helper()
			if body == nil {
				body = map[string]any{}
			}
			return h.do(t, req{Method: http.MethodPost, Path: "/api/v1/requests/" + r.Number + "/actions/" + action, Token: tok, JSON: body,
				Headers: map[string]string{"If-Match": r.etag()}})
		}
		// RF2: the requester may not validate their own request; the desk does.
		step(requester.Token, "validate", nil).problem(t, http.StatusForbidden)
		var res struct {
			Outcome string     `json:"outcome"`
			Request requestOut `json:"request"`
		}
		step(desk.Token, "validate", map[string]any{"comment": "Budget code checked."}).want(t, http.StatusOK).decode(t, &res)
		r = res.Request
		if r.State != "awaiting_approval" || r.ApprovalLevel != 1 || len(r.Approvals) != 2 {
			t.Fatalf("validated = %+v", r)
		}
		l1, l2 := r.Approvals[0], r.Approvals[1]
		if l1.Kind != "manager" || l1.State != "pending" || len(l1.Approvals) != 1 || l1.Approvals[0].ApproverID != boss.ID ||
			l2.Kind != "group" || l2.State != "waiting" || l2.Approvals[0].TeamID != cab {
			t.Fatalf("approval levels = %+v", r.Approvals)
		}

		// The manager's queue holds level 1; the team member's holds nothing yet.
		var pending struct {
			Items []struct {
				ID      int64  `json:"id"`
				Request string `json:"request"`
				Level   int    `json:"level"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/request-approvals", boss.Token).want(t, http.StatusOK).decode(t, &pending)
		if len(pending.Items) != 1 || pending.Items[0].Request != r.Number || pending.Items[0].Level != 1 {
			t.Fatalf("the manager's approvals = %+v", pending)
		}
		h.get(t, "/api/v1/request-approvals", approver.Token).want(t, http.StatusOK).decode(t, &pending)
		if len(pending.Items) != 0 {
			t.Fatalf("the cab's approvals before level 1 = %+v", pending)
		}
		approve := func(tok string, id int64) *response {
			return h.do(t, req{Method: http.MethodPost, Path: "/api/v1/requests/" + r.Number + "/approvals/" + itoa(id) + "/approve",
				Token: tok, JSON: map[string]any{"reason": "ok"}})
		}
		// Not the requester, not a stranger, not level 2 before level 1.
		approve(requester.Token, l1.Approvals[0].ID).problem(t, http.StatusForbidden)
		approve(w.stranger.Token, l1.Approvals[0].ID).problem(t, http.StatusForbidden)
		approve(approver.Token, l2.Approvals[0].ID).problem(t, http.StatusConflict)

		approve(boss.Token, l1.Approvals[0].ID).want(t, http.StatusOK).decode(t, &r)
		if r.State != "awaiting_approval" || r.ApprovalLevel != 2 || r.Approvals[0].State != "approved" || r.Approvals[1].State != "pending" {
			t.Fatalf("after level 1 = %+v", r.Approvals)
		}
		h.get(t, "/api/v1/request-approvals", approver.Token).want(t, http.StatusOK).decode(t, &pending)
		if len(pending.Items) != 1 || pending.Items[0].Level != 2 {
			t.Fatalf("the cab's approvals after level 1 = %+v", pending)
		}
		approve(approver.Token, pending.Items[0].ID).want(t, http.StatusOK).decode(t, &r)

		// Fulfilment: stage 1's two tasks run in parallel, one per team.
		if r.State != "in_fulfilment" || r.Stage != 1 || !slices.Equal(r.stageStates(), []string{"in_progress", "not_started"}) {
			t.Fatalf("after the last approval: state %s stage %d stages %v", r.State, r.Stage, r.stageStates())
		}
		image, port := r.task("Image the laptop"), r.task("Open a network port")
		if image == "" || port == "" || r.task("Hand over the laptop") != "" {
			t.Fatalf("opened tasks = %+v", r.Stages)
		}
		var queue struct {
			Items []taskOut `json:"items"`
		}
		h.get(t, "/api/v1/request-tasks?open=true&team="+itoa(networkTeam), network.Token).want(t, http.StatusOK).decode(t, &queue)
		if len(queue.Items) != 1 || queue.Items[0].Number != port || queue.Items[0].Request != r.Number || queue.Items[0].Stage != 1 {
			t.Fatalf("the network team's queue = %+v", queue.Items)
		}
		h.get(t, "/api/v1/request-tasks?request="+r.Number, desk.Token).want(t, http.StatusOK).decode(t, &queue)
		if len(queue.Items) != 2 {
			t.Fatalf("the request's tasks = %+v", queue.Items)
		}
		if ls := w.links(t, desk.Token, r.Number); !hasLink(ls, "parent_of", image) || !hasLink(ls, "parent_of", port) {
			t.Errorf("request links = %+v", ls)
		}

		taskStep := func(tok, number, action string) *response {
			t.Helper()
			var tk taskOut
			h.get(t, "/api/v1/request-tasks/"+number, tok).want(t, http.StatusOK).decode(t, &tk)
			return h.do(t, req{Method: http.MethodPost, Path: "/api/v1/request-tasks/" + number + "/actions/" + action, Token: tok,
				JSON: map[string]any{}, Headers: map[string]string{"If-Match": `"` + itoa(tk.Version) + `"`}})
		}
		work := func(tok, number string) requestOut {
			t.Helper()
			taskStep(tok, number, "start").want(t, http.StatusOK)
			var out struct {
				Request requestOut `json:"request"`
				Task    taskOut    `json:"task"`
			}
			taskStep(tok, number, "complete").want(t, http.StatusOK).decode(t, &out)
			if out.Task.State != "done" {
				t.Fatalf("%s after complete: %+v", number, out.Task)
			}
			return out.Request
		}
		// Each team works only its own task (RF3 scoped to the team).
		taskStep(network.Token, image, "start").problem(t, http.StatusForbidden)
		taskStep(imaging.Token, port, "start").problem(t, http.StatusForbidden)
		r = work(network.Token, port)
		if r.State != "in_fulfilment" || r.Stage != 1 || r.task("Hand over the laptop") != "" {
			t.Fatalf("after one parallel task: state %s stage %d", r.State, r.Stage)
		}
		// The desk cannot mark it fulfilled while a task is open.
		var cur requestOut
		h.get(t, "/api/v1/requests/"+r.Number, desk.Token).want(t, http.StatusOK).decode(t, &cur)
		r = cur
		step(desk.Token, "fulfil", nil).problem(t, http.StatusConflict)

		r = work(imaging.Token, image)
		if r.Stage != 2 || !slices.Equal(r.stageStates(), []string{"done", "in_progress"}) {
			t.Fatalf("after stage 1: stage %d %v", r.Stage, r.stageStates())
		}
		handover := r.task("Hand over the laptop")
		if handover == "" {
			t.Fatalf("stage 2 opened no task: %+v", r.Stages)
		}
		r = work(imaging.Token, handover)
		if r.State != "awaiting_acceptance" || r.FulfilledAt == "" {
			t.Fatalf("after the last task = %+v", r)
		}

		// RF4: the requester accepts; a stranger may not.
		step(w.stranger.Token, "accept", nil).problem(t, http.StatusForbidden)
		var acts struct {
			Items []struct {
				Action   string `json:"action"`
				Decision struct {
					Allowed bool `json:"allowed"`
				} `json:"decision"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/requests/"+r.Number+"/actions", requester.Token).want(t, http.StatusOK).decode(t, &acts)
		var mine []string
		for _, a := range acts.Items {
			if a.Decision.Allowed {
				mine = append(mine, a.Action)
			}
		}
		if !slices.Equal(mine, []string{"accept", "not_done"}) {
			t.Errorf("the requester may %v", mine)
		}
		step(requester.Token, "accept", map[string]any{"comment": "Works, thank you."}).want(t, http.StatusOK).decode(t, &res)
		if res.Request.State != "closed" || !res.Request.Closed {
			t.Fatalf("accepted = %+v", res.Request)
		}
		var mineList struct {
			Items []struct {
				Number string `json:"number"`
				State  string `json:"state"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/requests?requester="+itoa(requester.ID), requester.Token).want(t, http.StatusOK).decode(t, &mineList)
		if len(mineList.Items) != 1 || mineList.Items[0].Number != r.Number || mineList.Items[0].State != "closed" {
			t.Errorf("the requester's requests = %+v", mineList)
		}
		for _, typ := range []string{"request.approval_requested", "request.stage_started"} {
			if n := len(w.events(t, typ, r.Number)); n != 2 {
				t.Errorf("%s events = %d, want 2", typ, n)
			}
		}
		if n := len(w.events(t, "request.closed", r.Number)); n != 1 {
			t.Errorf("request.closed events = %d", n)
		}
	})
}
