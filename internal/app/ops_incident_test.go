package app_test

// End-to-end scenarios of incident management (issue 6) through the wired
// application's HTTP API, with users holding the IM roles of the default
// RACI: the caller logs and answers, the IM process analyst (R for IM2–IM6)
// works the incident, the process manager (A) stands by, and the ISM role
// holder sees security incidents. The helpers here (opsWorld) serve the
// other ops_*_test.go files too.

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"steward/internal/app"
	"steward/internal/platform/db"
)

// opsUser is a user of a scenario and their API token.
type opsUser struct {
	ID    int64
	Name  string
	Token string
}

// opsWorld is a running Steward with a CMDB service and CI to log against,
// a caller, an IM process analyst (the agent), an IM process manager and a
// stranger who holds no role.
type opsWorld struct {
	h                                *harness
	caller, agent, manager, stranger opsUser
	// service is a CMDB service (a CI with a ci_services row); ci a server that provides it.
	service, ci int64
}

func newOpsWorld(t *testing.T, e db.Engine, tweak ...func(*app.Config)) *opsWorld {
	t.Helper()
	return newOpsWorldOn(t, newHarness(t, e, tweak...))
}

// newOpsWorldOn builds the scenario's users and CMDB on a running harness.
func newOpsWorldOn(t *testing.T, h *harness) *opsWorld {
	t.Helper()
	w := &opsWorld{h: h}
	w.caller = w.newUser(t, "caller")
	w.agent = w.newUser(t, "agent")
	w.manager = w.newUser(t, "im-manager")
	w.stranger = w.newUser(t, "stranger")
	w.assign(t, "IM", "process-analyst", w.agent.ID)
	w.assign(t, "IM", "process-manager", w.manager.ID)

	var svc struct {
		ID int64 `json:"id"`
	}
	h.do(t, req{Method: http.MethodPost, Path: "/api/v1/services", Token: h.Admin, JSON: map[string]any{
		"name": "Intranet", "kind": "business", "criticality": "mission_essential"}}).want(t, http.StatusCreated).decode(t, &svc)
	var ci struct {
		ID int64 `json:"id"`
	}
	h.do(t, req{Method: http.MethodPost, Path: "/api/v1/cis", Token: h.Admin, JSON: map[string]any{
		"class": "server", "name": "dns-1", "attributes": map[string]any{"serial_number": "DNS-0001"}}}).want(t, http.StatusCreated).decode(t, &ci)
	h.do(t, req{Method: http.MethodPost, Path: "/api/v1/cis/" + itoa(ci.ID) + "/relations", Token: h.Admin,
		JSON: map[string]any{"type": "provides", "targetId": svc.ID}}).want(t, http.StatusCreated)
	w.service, w.ci = svc.ID, ci.ID
	return w
}

// newUser creates a user without privileges and returns them with a token.
func (w *opsWorld) newUser(t *testing.T, prefix string) opsUser {
	t.Helper()
	name := w.h.name(prefix)
	u, tok := w.h.user(t, name, false)
	return opsUser{ID: u.ID, Name: name, Token: tok}
}

// assign gives a user a process role through the API, as the administrator.
func (w *opsWorld) assign(t *testing.T, subject, role string, userID int64, scope ...map[string]any) {
	t.Helper()
	body := map[string]any{"subject": subject, "role": role, "userId": userID}
	if len(scope) > 0 {
		body["scope"] = scope[0]
	}
	w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/role-assignments", Token: w.h.Admin, JSON: body}).want(t, http.StatusCreated)
}

// patchUser changes a user through the user API with the ETag it reads first.
func (w *opsWorld) patchUser(t *testing.T, id int64, body map[string]any) {
	t.Helper()
	r := w.h.get(t, "/api/v1/users/"+itoa(id), w.h.Admin).want(t, http.StatusOK)
	w.h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/users/" + itoa(id), Token: w.h.Admin, JSON: body,
		Headers: map[string]string{"If-Match": r.Header.Get("ETag")}}).want(t, http.StatusOK)
}

// incidentOut is the incident as the API returns it.
type incidentOut struct {
	ID             int64  `json:"id"`
	Number         string `json:"number"`
	Title          string `json:"title"`
	State          string `json:"state"`
	Closed         bool   `json:"closed"`
	Priority       int    `json:"priority"`
	Impact         int    `json:"impact"`
	Urgency        int    `json:"urgency"`
	Path           string `json:"path"`
	Channel        string `json:"channel"`
	Category       string `json:"category"`
	Subcategory    string `json:"subcategory"`
	RequesterID    int64  `json:"requesterId"`
	ServiceID      int64  `json:"serviceId"`
	CIID           int64  `json:"ciId"`
	Version        int64  `json:"version"`
	HoldReason     string `json:"holdReason"`
	Rejections     int    `json:"rejections"`
	LastRejection  string `json:"lastRejection"`
	ReopenCount    int    `json:"reopenCount"`
	ReclassifiedAs string `json:"reclassifiedAs"`
	ClosedAt       string `json:"closedAt"`
	ClosedBy       int64  `json:"closedBy"`
	CategoryReview bool   `json:"categoryReviewed"`
	Resolution     *struct {
		Code          string `json:"code"`
		Notes         string `json:"notes"`
		EffortMinutes int64  `json:"effortMinutes"`
		FirstContact  bool   `json:"firstContact"`
		ResolvedBy    int64  `json:"resolvedBy"`
	} `json:"resolution"`
	Major *struct {
		ManagerID int64 `json:"managerId"`
		Reviewed  bool  `json:"reviewed"`
	} `json:"major"`
}

// etag is the incident's ETag.
func (i incidentOut) etag() string { return `"` + strconv.FormatInt(i.Version, 10) + `"` }

// logIncident logs an incident through the API as tok and returns it.
func (w *opsWorld) logIncident(t *testing.T, tok string, body map[string]any) incidentOut {
	t.Helper()
	r := w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/incidents", Token: tok, JSON: body}).want(t, http.StatusCreated)
	var inc incidentOut
	r.decode(t, &inc)
	if loc := r.Header.Get("Location"); loc != "/api/v1/incidents/"+inc.Number {
		t.Errorf("Location %q for %s", loc, inc.Number)
	}
	if r.Header.Get("ETag") != inc.etag() {
		t.Errorf("ETag %q, version %d", r.Header.Get("ETag"), inc.Version)
	}
	return inc
}

// incident reads an incident as tok.
func (w *opsWorld) incident(t *testing.T, tok, number string) incidentOut {
	t.Helper()
	var inc incidentOut
	w.h.get(t, "/api/v1/incidents/"+number, tok).want(t, http.StatusOK).decode(t, &inc)
	return inc
}

// stepIncident takes a workflow action on inc as tok; the answer is returned unchecked.
func (w *opsWorld) stepIncident(t *testing.T, tok string, inc incidentOut, action string, body map[string]any) *response {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	return w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/incidents/" + inc.Number + "/actions/" + action, Token: tok,
		JSON: body, Headers: map[string]string{"If-Match": inc.etag()}})
}

// mustStep takes an action that must apply and returns the incident after it, in state want.
func (w *opsWorld) mustStep(t *testing.T, tok string, inc incidentOut, action string, body map[string]any, want string) incidentOut {
	t.Helper()
	r := w.stepIncident(t, tok, inc, action, body).want(t, http.StatusOK)
	var res struct {
		Outcome  string      `json:"outcome"`
		Incident incidentOut `json:"incident"`
	}
	r.decode(t, &res)
	if res.Outcome != "applied" || res.Incident.State != want {
		t.Fatalf("%s on %s: outcome %s, state %s; want applied and %s", action, inc.Number, res.Outcome, res.Incident.State, want)
	}
	if r.Header.Get("ETag") != res.Incident.etag() {
		t.Errorf("%s: ETag %q, version %d", action, r.Header.Get("ETag"), res.Incident.Version)
	}
	return res.Incident
}

// journal reads a record's journal as tok: each entry's kind, body and author.
type journalEntry struct {
	Kind       string `json:"kind"`
	Body       string `json:"body"`
	AuthorID   int64  `json:"authorId"`
	AuthorName string `json:"authorName"`
}

func (w *opsWorld) journal(t *testing.T, tok, number string) []journalEntry {
	t.Helper()
	var out struct {
		Items []journalEntry `json:"items"`
	}
	w.h.get(t, "/api/v1/records/"+number+"/journal", tok).want(t, http.StatusOK).decode(t, &out)
	return out.Items
}

// recordLink is a link as GET /api/v1/records/{number}/links returns it.
type recordLink struct {
	Type        string `json:"type"`
	Record      string `json:"record"`
	RecordType  string `json:"recordType"`
	RecordState string `json:"recordState"`
}

func (w *opsWorld) links(t *testing.T, tok, number string) []recordLink {
	t.Helper()
	var out struct {
		Items []recordLink `json:"items"`
	}
	w.h.get(t, "/api/v1/records/"+number+"/links", tok).want(t, http.StatusOK).decode(t, &out)
	return out.Items
}

// hasLink reports whether ls holds a link of type typ to number.
func hasLink(ls []recordLink, typ, number string) bool {
	return slices.ContainsFunc(ls, func(l recordLink) bool { return l.Type == typ && l.Record == number })
}

// events returns the data of the outbox events of type typ about record number, oldest first.
func (w *opsWorld) events(t *testing.T, typ, number string) []map[string]any {
	t.Helper()
	rows, err := w.h.App.DB.QueryContext(context.Background(), `SELECT data FROM outbox_events WHERE type = ? AND subject = ? ORDER BY id`,
		typ, "record/"+number)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatalf("event data %q: %v", s, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// numbersOf lists the incident numbers of GET path as tok, with the total count header.
func (w *opsWorld) numbersOf(t *testing.T, tok, path string) ([]string, int64) {
	t.Helper()
	r := w.h.get(t, path, tok).want(t, http.StatusOK)
	var page struct {
		Items []struct {
			Number string `json:"number"`
		} `json:"items"`
	}
	r.decode(t, &page)
	total, err := strconv.ParseInt(r.Header.Get("X-Total-Count"), 10, 64)
	if err != nil {
		t.Fatalf("X-Total-Count of %s: %q", path, r.Header.Get("X-Total-Count"))
	}
	var out []string
	for _, it := range page.Items {
		out = append(out, it.Number)
	}
	return out, total
}

// fieldNamed reports whether p names location loc among its errors.
func fieldNamed(p problem, loc string) bool {
	return slices.ContainsFunc(p.Errors, func(e struct {
		Message  string `json:"message"`
		Location string `json:"location"`
		Value    any    `json:"value"`
	}) bool {
		return e.Location == loc
	})
}

// TestOpsIncidentNormalLifecycle: the caller logs their own incident through
// the API, the IM analyst investigates, holds it awaiting the caller, resumes
// and resolves it with a code, notes, effort and first-contact flag; the
// caller rejects the resolution with a reason, the analyst resolves again, the
// caller confirms and the incident closes; the caller reopens it within the
// window. Someone without a role is refused the agent's steps.
func TestOpsIncidentNormalLifecycle(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newOpsWorld(t, e)
		inc := w.logIncident(t, w.caller.Token, map[string]any{"title": "Intranet pages time out", "description": "Since 9am every page of the intranet times out.",
			"impact": 2, "urgency": 2, "service": w.service, "ci": w.ci, "category": "network", "subcategory": "dns"})
		if inc.State != "new" || inc.Priority != 3 || inc.Path != "normal" || inc.Channel != "portal" || inc.RequesterID != w.caller.ID ||
			inc.ServiceID != w.service || inc.CIID != w.ci || inc.Category != "network" || inc.Subcategory != "dns" {
			t.Fatalf("logged incident = %+v", inc)
		}

		// The agent's steps are refused to the caller and to a stranger, naming the activity.
		p := w.stepIncident(t, w.stranger.Token, inc, "investigate", nil).problem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "IM4") {
			t.Errorf("refusal %q does not name IM4", p.Detail)
		}
		w.stepIncident(t, w.caller.Token, inc, "investigate", nil).problem(t, http.StatusForbidden)

		// What the analyst may do now, with the activity codes.
		var acts struct {
			Items []struct {
				Action   string `json:"action"`
				Activity string `json:"activity"`
				Decision struct {
					Allowed bool `json:"allowed"`
				} `json:"decision"`
				Required []string `json:"required"`
			} `json:"items"`
		}
		w.h.get(t, "/api/v1/incidents/"+inc.Number+"/actions", w.agent.Token).want(t, http.StatusOK).decode(t, &acts)
		got := map[string]string{}
		for _, a := range acts.Items {
			got[a.Action] = a.Activity
			if !a.Decision.Allowed {
				t.Errorf("the analyst may not %s a new incident: %+v", a.Action, a)
			}
			if a.Action == "resolve" && !slices.Contains(a.Required, "resolutionNotes") {
				t.Errorf("resolve requires %v", a.Required)
			}
		}
		if got["investigate"] != "IM4" || got["resolve"] != "IM5" || got["cancel"] != "IM2" || got["reclassify"] != "IM3" || len(got) != 4 {
			t.Errorf("actions of a new incident = %v", got)
		}

		inc = w.mustStep(t, w.agent.Token, inc, "investigate", map[string]any{"comment": "Looking at the resolvers."}, "in_progress")
		inc = w.mustStep(t, w.agent.Token, inc, "hold", map[string]any{"holdReason": "awaiting_caller",
			"comment": "Which browser do you use?"}, "on_hold")
		if inc.HoldReason != "awaiting_caller" {
			t.Errorf("hold reason = %q", inc.HoldReason)
		}
		inc = w.mustStep(t, w.agent.Token, inc, "resume", nil, "in_progress")
		inc = w.mustStep(t, w.agent.Token, inc, "resolve", map[string]any{"resolutionCode": "workaround",
			"resolutionNotes": "Flushed the DNS cache of dns-1.", "effortMinutes": 25, "firstContact": true}, "resolved")
		if r := inc.Resolution; r == nil || r.Code != "workaround" || r.Notes != "Flushed the DNS cache of dns-1." || r.EffortMinutes != 25 ||
			!r.FirstContact || r.ResolvedBy != w.agent.ID {
			t.Fatalf("resolution = %+v", inc.Resolution)
		}
		if ev := w.events(t, "incident.resolved", inc.Number); len(ev) != 1 {
			t.Errorf("incident.resolved events = %v", ev)
		}

		// The caller rejects the resolution: a reason is required, and kept.
		p = w.stepIncident(t, w.caller.Token, inc, "reject_resolution", nil).problem(t, http.StatusUnprocessableEntity)
		if !fieldNamed(p, "body.reason") {
			t.Errorf("a rejection without a reason: %+v", p)
		}
		w.stepIncident(t, w.stranger.Token, inc, "reject_resolution", map[string]any{"reason": "not mine"}).problem(t, http.StatusForbidden)
		inc = w.mustStep(t, w.caller.Token, inc, "reject_resolution", map[string]any{"reason": "Still times out from my desk."}, "in_progress")
		if inc.Rejections != 1 || inc.LastRejection != "Still times out from my desk." || inc.Resolution != nil {
			t.Errorf("after the rejection: rejections %d, last %q, resolution %+v", inc.Rejections, inc.LastRejection, inc.Resolution)
		}
		inc = w.mustStep(t, w.agent.Token, inc, "resolve", map[string]any{"resolutionCode": "permanent",
			"resolutionNotes": "Replaced the stale forwarder of dns-1.", "effortMinutes": 40, "firstContact": false}, "resolved")

		// The caller confirms: closed, with the categorisation reviewed.
		inc = w.mustStep(t, w.caller.Token, inc, "confirm", nil, "closed")
		if !inc.Closed || inc.ClosedAt == "" || inc.ClosedBy != w.caller.ID || !inc.CategoryReview {
			t.Errorf("closed incident = %+v", inc)
		}
		if inc.Resolution == nil || inc.Resolution.Code != "permanent" || inc.Resolution.EffortMinutes != 40 || inc.Resolution.FirstContact {
			t.Errorf("final resolution = %+v", inc.Resolution)
		}
		// A closed incident does not change.
		w.h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/incidents/" + inc.Number, Token: w.agent.Token,
			JSON: map[string]any{"urgency": 1}, Headers: map[string]string{"If-Match": inc.etag()}}).problem(t, http.StatusConflict)

		// The caller reopens it within the window; a stranger may not.
		w.stepIncident(t, w.stranger.Token, inc, "reopen", map[string]any{"reason": "x"}).problem(t, http.StatusForbidden)
		inc = w.mustStep(t, w.caller.Token, inc, "reopen", map[string]any{"reason": "It is back this morning."}, "in_progress")
		if inc.ReopenCount != 1 || inc.Closed || inc.Resolution != nil {
			t.Errorf("reopened incident = %+v", inc)
		}
		again := w.incident(t, w.caller.Token, inc.Number)
		if again.State != "in_progress" || again.Version != inc.Version {
			t.Errorf("read back = %+v", again)
		}

		// The journal tells the story: the rejection's reason, the work notes.
		var bodies []string
		for _, j := range w.journal(t, w.agent.Token, inc.Number) {
			bodies = append(bodies, j.Body)
		}
		all := strings.Join(bodies, "\n")
		for _, want := range []string{"Still times out from my desk.", "Which browser do you use?", "It is back this morning."} {
			if !strings.Contains(all, want) {
				t.Errorf("journal lacks %q:\n%s", want, all)
			}
		}
	})
}

// TestOpsIncidentMajorPath: P1 (impact 1 × urgency 1) is declared major by the
// threshold; the agent posts a stakeholder update (on the timeline and in the
// outbox as incident.major_update) and logs a communication; a child incident
// is linked; resolving the parent resolves the child; closing is refused
// until the review is recorded.
func TestOpsIncidentMajorPath(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newOpsWorld(t, e)
		parent := w.logIncident(t, w.caller.Token, map[string]any{"title": "Intranet down for the whole base",
			"impact": 1, "urgency": 1, "service": w.service, "category": "network", "subcategory": "connectivity"})
		if parent.Priority != 1 || parent.Path != "major" || parent.Major == nil {
			t.Fatalf("P1 incident = %+v; want major", parent)
		}
		if ev := w.events(t, "incident.major_declared", parent.Number); len(ev) != 1 {
			t.Errorf("incident.major_declared events = %v", ev)
		}
		child := w.logIncident(t, w.stranger.Token, map[string]any{"title": "Cannot open the intranet",
			"impact": 3, "urgency": 2, "service": w.service, "category": "network"})
		if child.Path != "normal" || child.Priority != 4 {
			t.Fatalf("child = %+v", child)
		}

		// The IM manager is named the major-incident manager.
		var declared incidentOut
		w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/incidents/" + parent.Number + "/major", Token: w.agent.Token,
			JSON: map[string]any{"managerId": w.manager.ID, "reason": "Base-wide outage"}}).want(t, http.StatusOK).decode(t, &declared)
		if declared.Major == nil || declared.Major.ManagerID != w.manager.ID {
			t.Fatalf("declared = %+v", declared.Major)
		}

		// A stakeholder update: refused to a stranger, stored and sent through the outbox.
		path := "/api/v1/incidents/" + parent.Number + "/major"
		w.h.do(t, req{Method: http.MethodPost, Path: path + "/updates", Token: w.stranger.Token,
			JSON: map[string]any{"audience": "all", "message": "x"}}).problem(t, http.StatusForbidden)
		w.h.do(t, req{Method: http.MethodPost, Path: path + "/updates", Token: w.agent.Token,
			JSON: map[string]any{"audience": "stakeholders", "message": "Core switch replaced; service back by 14:00."}}).want(t, http.StatusCreated)
		ev := w.events(t, "incident.major_update", parent.Number)
		if len(ev) != 1 || ev[0]["message"] != "Core switch replaced; service back by 14:00." || ev[0]["audience"] != "stakeholders" {
			t.Fatalf("incident.major_update events = %v", ev)
		}
		w.h.do(t, req{Method: http.MethodPost, Path: path + "/communications", Token: w.manager.Token,
			JSON: map[string]any{"channel": "bridge", "party": "Base operations centre", "summary": "Opened the bridge; 40 attendees."}}).
			want(t, http.StatusCreated)

		// A child is linked.
		var linked struct {
			Linked []string `json:"linked"`
		}
		w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/incidents/" + parent.Number + "/children", Token: w.agent.Token,
			JSON: map[string]any{"numbers": []string{child.Number}}}).want(t, http.StatusOK).decode(t, &linked)
		if !slices.Equal(linked.Linked, []string{child.Number}) {
			t.Fatalf("linked = %v", linked.Linked)
		}
		if !hasLink(w.links(t, w.agent.Token, child.Number), "child_of", parent.Number) {
			t.Errorf("%s links = %+v", child.Number, w.links(t, w.agent.Token, child.Number))
		}

		var detail struct {
			ManagerID int64 `json:"managerId"`
			Updates   []struct {
				Audience string `json:"audience"`
				Message  string `json:"message"`
				AuthorID int64  `json:"authorId"`
			} `json:"updates"`
			Communications []struct {
				Channel string `json:"channel"`
				Party   string `json:"party"`
			} `json:"communications"`
			Children []string `json:"children"`
			Review   any      `json:"review"`
		}
		w.h.get(t, path, w.caller.Token).want(t, http.StatusOK).decode(t, &detail)
		if detail.ManagerID != w.manager.ID || len(detail.Updates) != 1 || detail.Updates[0].AuthorID != w.agent.ID ||
			len(detail.Communications) != 1 || detail.Communications[0].Party != "Base operations centre" ||
			!slices.Equal(detail.Children, []string{child.Number}) || detail.Review != nil {
			t.Fatalf("major detail = %+v", detail)
		}

		// Resolving the parent resolves the child with it.
		parent = w.incident(t, w.agent.Token, parent.Number)
		parent = w.mustStep(t, w.agent.Token, parent, "investigate", nil, "in_progress")
		parent = w.mustStep(t, w.agent.Token, parent, "resolve", map[string]any{"resolutionCode": "permanent",
			"resolutionNotes": "Replaced the core switch.", "effortMinutes": 180}, "resolved")
		c := w.incident(t, w.stranger.Token, child.Number)
		if c.State != "resolved" || c.Resolution == nil || c.Resolution.Code != "permanent" ||
			!strings.Contains(c.Resolution.Notes, parent.Number) || !strings.Contains(c.Resolution.Notes, "Replaced the core switch.") {
			t.Fatalf("child after the parent's resolution = %+v", c)
		}

		// Closing waits for the review: the agent's close and the caller's confirm are 409.
		p := w.stepIncident(t, w.agent.Token, parent, "close", nil).problem(t, http.StatusConflict)
		if !strings.Contains(p.Detail, "review") {
			t.Errorf("close before the review: %q", p.Detail)
		}
		w.stepIncident(t, w.caller.Token, parent, "confirm", nil).problem(t, http.StatusConflict)
		w.h.do(t, req{Method: http.MethodPost, Path: path + "/review", Token: w.stranger.Token,
			JSON: map[string]any{"summary": "x", "rootCause": "x", "lessons": "x", "actions": "x"}}).problem(t, http.StatusForbidden)
		w.h.do(t, req{Method: http.MethodPost, Path: path + "/review", Token: w.agent.Token, JSON: map[string]any{
			"summary": "Four-hour outage of the intranet.", "rootCause": "Core switch power supply failed.",
			"lessons": "No spare power supply on site.", "actions": "Stock spares."}}).want(t, http.StatusOK)
		parent = w.incident(t, w.agent.Token, parent.Number)
		if parent.Major == nil || !parent.Major.Reviewed {
			t.Errorf("after the review: %+v", parent.Major)
		}
		parent = w.mustStep(t, w.agent.Token, parent, "close", nil, "closed")
		if !parent.Closed {
			t.Errorf("closed parent = %+v", parent)
		}
	})
}

// TestOpsIncidentSecurityPath: a CND category puts an incident on the
// security path. A stranger reads it as not found on every read — the
// incident, the record, the desk queue, the kernel's full-text list and the
// totals — while the caller and an ISM role holder see it.
func TestOpsIncidentSecurityPath(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newOpsWorld(t, e)
		ism := w.newUser(t, "ism-analyst")
		w.assign(t, "ISM", "process-analyst", ism.ID)

		// Two ordinary incidents with the same word, visible to everyone.
		for range 2 {
			w.logIncident(t, w.stranger.Token, map[string]any{"title": "Phishing awareness poster torn", "impact": 3, "urgency": 3,
				"category": "facilities"})
		}
		sec := w.logIncident(t, w.caller.Token, map[string]any{"title": "Phishing mail opened, macro ran",
			"description": "I opened the attachment of a phishing mail and a macro ran.", "impact": 2, "urgency": 1, "ci": w.ci,
			"category": "cnd-cat-7"})
		if sec.Path != "security" || sec.Priority != 2 {
			t.Fatalf("security incident = %+v", sec)
		}

		// The stranger: 404 everywhere, and not counted.
		for _, path := range []string{"/api/v1/incidents/" + sec.Number, "/api/v1/records/" + sec.Number,
			"/api/v1/records/" + sec.Number + "/journal", "/api/v1/incidents/" + sec.Number + "/actions"} {
			w.h.get(t, path, w.stranger.Token).problem(t, http.StatusNotFound)
		}
		w.stepIncident(t, w.stranger.Token, sec, "investigate", nil).problem(t, http.StatusNotFound)
		q := url.QueryEscape("phishing")
		for _, path := range []string{"/api/v1/incidents", "/api/v1/incidents?q=" + q, "/api/v1/records?q=" + q,
			"/api/v1/records?type=incident", "/api/v1/incidents?category=cnd-cat-7"} {
			nums, total := w.numbersOf(t, w.stranger.Token, path)
			if slices.Contains(nums, sec.Number) {
				t.Errorf("the stranger sees %s in %s", sec.Number, path)
			}
			if int64(len(nums)) != total {
				t.Errorf("%s as the stranger: %d items, X-Total-Count %d", path, len(nums), total)
			}
		}
		if nums, total := w.numbersOf(t, w.stranger.Token, "/api/v1/records?q="+q); len(nums) != 2 || total != 2 {
			t.Errorf("the stranger's search finds %v (total %d), want the two posters", nums, total)
		}
		// The IM analyst holds no security role either.
		w.h.get(t, "/api/v1/incidents/"+sec.Number, w.agent.Token).problem(t, http.StatusNotFound)

		// The caller and the ISM analyst see it, in the lists and the totals too.
		for _, who := range []opsUser{w.caller, ism} {
			if got := w.incident(t, who.Token, sec.Number); got.Number != sec.Number || got.Path != "security" {
				t.Errorf("%s reads %+v", who.Name, got)
			}
			for _, path := range []string{"/api/v1/incidents?q=" + q, "/api/v1/records?q=" + q} {
				nums, total := w.numbersOf(t, who.Token, path)
				if !slices.Contains(nums, sec.Number) || total != 3 {
					t.Errorf("%s: %s lists %v (total %d), want %s among 3", who.Name, path, nums, total, sec.Number)
				}
			}
		}
		// The ISM analyst holds no IM role: seeing is not working it.
		w.stepIncident(t, ism.Token, sec, "investigate", nil).problem(t, http.StatusForbidden)
		// Granting the IM analysts' role the clearance (securityRoles) lets the agent see and work it.
		var st map[string]any
		r := w.h.get(t, "/api/v1/incident-settings", w.agent.Token).want(t, http.StatusOK)
		r.decode(t, &st)
		st["securityRoles"] = []string{"process-analyst"}
		delete(st, "version")
		delete(st, "updatedAt")
		owner := w.newUser(t, "im-owner")
		w.assign(t, "IM", "process-owner", owner.ID)
		w.h.do(t, req{Method: http.MethodPut, Path: "/api/v1/incident-settings", Token: owner.Token, JSON: st,
			Headers: map[string]string{"If-Match": r.Header.Get("ETag")}}).want(t, http.StatusOK)
		sec = w.incident(t, w.agent.Token, sec.Number)
		w.mustStep(t, w.agent.Token, sec, "investigate", nil, "in_progress")
		w.h.get(t, "/api/v1/incidents/"+sec.Number, w.stranger.Token).problem(t, http.StatusNotFound)
	})
}

// TestOpsIncidentBadInput: impact outside the matrix, an unknown service or
// CI, an action not allowed from the state and a stale If-Match are refused
// with a problem naming what is wrong, and write nothing.
func TestOpsIncidentBadInput(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newOpsWorld(t, e)
		before := w.h.count(t, "records", "type = ?", "incident")
		good := func(k string, v any) map[string]any {
			b := map[string]any{"title": "Printer jam", "impact": 3, "urgency": 3, "category": "hardware", "service": w.service, "ci": w.ci}
			b[k] = v
			return b
		}
		cases := []struct {
			name   string
			body   map[string]any
			status int
			loc    string
		}{
			{"impact 4", good("impact", 4), 422, "body.impact"},
			{"impact 0", good("impact", 0), 422, "body.impact"},
			{"urgency 9", good("urgency", 9), 422, "body.urgency"},
			{"unknown service", good("service", 999999), 422, "body.service"},
			{"a CI given as the service", good("service", w.ci), 422, "body.service"},
			{"unknown CI", good("ci", 999999), 422, "body.ci"},
			{"unknown category", good("category", "teleportation"), 422, "body.category"},
		}
		for _, c := range cases {
			p := w.h.do(t, req{Method: http.MethodPost, Path: "/api/v1/incidents", Token: w.agent.Token, JSON: c.body}).problem(t, c.status)
			if !fieldNamed(p, c.loc) {
				t.Errorf("%s: want %s named, got %+v", c.name, c.loc, p)
			}
		}
		if n := w.h.count(t, "records", "type = ?", "incident"); n != before {
			t.Fatalf("refused creates wrote %d incidents", n-before)
		}

		inc := w.logIncident(t, w.caller.Token, map[string]any{"title": "Printer jam", "impact": 3, "urgency": 3, "category": "hardware"})
		// Not allowed from new: 409 naming the allowed actions.
		for _, action := range []string{"confirm", "close", "resume", "reopen"} {
			p := w.stepIncident(t, w.agent.Token, inc, action, nil).problem(t, http.StatusConflict)
			for _, allowed := range []string{"investigate", "resolve", "cancel", "reclassify"} {
				if !strings.Contains(p.Detail, allowed) {
					t.Errorf("%s from new: %q does not name %s", action, p.Detail, allowed)
				}
			}
		}
		if r := w.stepIncident(t, w.agent.Token, inc, "teleport", nil); r.Status != http.StatusUnprocessableEntity && r.Status != http.StatusConflict {
			t.Errorf("an unknown action: %s", r)
		} else {
			r.problem(t, r.Status)
		}

		// A stale If-Match: 412 on a step and on a change; nothing moves.
		stale := inc
		inc = w.mustStep(t, w.agent.Token, inc, "investigate", nil, "in_progress")
		w.stepIncident(t, w.agent.Token, stale, "hold", map[string]any{"holdReason": "awaiting_caller"}).problem(t, http.StatusPreconditionFailed)
		w.h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/incidents/" + inc.Number, Token: w.agent.Token,
			JSON: map[string]any{"urgency": 1}, Headers: map[string]string{"If-Match": stale.etag()}}).problem(t, http.StatusPreconditionFailed)
		w.h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/incidents/" + inc.Number, Token: w.agent.Token,
			JSON: map[string]any{"urgency": 1}}).problem(t, 0)
		if got := w.incident(t, w.agent.Token, inc.Number); got.Version != inc.Version || got.State != "in_progress" || got.Urgency != 3 {
			t.Errorf("after the stale writes: %+v", got)
		}
		// Resolve without its notes, hold with a reason not on the list: 422 naming the field.
		p := w.stepIncident(t, w.agent.Token, inc, "resolve", map[string]any{"resolutionCode": "permanent"}).problem(t, http.StatusUnprocessableEntity)
		if !fieldNamed(p, "body.resolutionNotes") {
			t.Errorf("resolve without notes: %+v", p)
		}
		w.stepIncident(t, w.agent.Token, inc, "hold", map[string]any{"holdReason": "lunch"}).problem(t, http.StatusUnprocessableEntity)
		// A change recomputes the priority.
		var up incidentOut
		w.h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/incidents/" + inc.Number, Token: w.agent.Token,
			JSON: map[string]any{"impact": 2, "urgency": 2}, Headers: map[string]string{"If-Match": inc.etag()}}).want(t, http.StatusOK).decode(t, &up)
		if up.Priority != 3 {
			t.Errorf("priority after impact 2 × urgency 2 = %d", up.Priority)
		}
	})
}

// TestOpsIncidentReclassification (IM3): an incident that is really a request
// is reclassified; the request exists, the incident ends reclassified and is
// linked to it.
func TestOpsIncidentReclassification(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newOpsWorld(t, e)
		inc := w.logIncident(t, w.caller.Token, map[string]any{"title": "I need a second monitor",
			"description": "For the new CAD work.", "impact": 3, "urgency": 3, "service": w.service, "category": "hardware", "subcategory": "monitor"})
		inc = w.mustStep(t, w.agent.Token, inc, "investigate", nil, "in_progress")
		w.stepIncident(t, w.caller.Token, inc, "reclassify", nil).problem(t, http.StatusForbidden)
		inc = w.mustStep(t, w.agent.Token, inc, "reclassify", map[string]any{"comment": "A request, not an incident."}, "reclassified")
		if !inc.Closed || !strings.HasPrefix(inc.ReclassifiedAs, "REQ") {
			t.Fatalf("reclassified incident = %+v", inc)
		}

		var rq struct {
			Number         string `json:"number"`
			Type           string `json:"type"`
			State          string `json:"state"`
			Title          string `json:"title"`
			RequesterID    int64  `json:"requesterId"`
			ServiceID      int64  `json:"serviceId"`
			SourceIncident string `json:"sourceIncident"`
			Channel        string `json:"channel"`
		}
		w.h.get(t, "/api/v1/requests/"+inc.ReclassifiedAs, w.caller.Token).want(t, http.StatusOK).decode(t, &rq)
		if rq.Type != "service_request" || rq.State != "submitted" || rq.Title != "I need a second monitor" || rq.RequesterID != w.caller.ID ||
			rq.ServiceID != w.service || rq.SourceIncident != inc.Number {
			t.Fatalf("request = %+v", rq)
		}
		if !hasLink(w.links(t, w.caller.Token, inc.Number), "related_to", rq.Number) {
			t.Errorf("%s links = %+v", inc.Number, w.links(t, w.caller.Token, inc.Number))
		}
		if !hasLink(w.links(t, w.caller.Token, rq.Number), "related_to", inc.Number) {
			t.Errorf("%s links = %+v", rq.Number, w.links(t, w.caller.Token, rq.Number))
		}
		got := w.incident(t, w.caller.Token, inc.Number)
		if got.State != "reclassified" || got.ReclassifiedAs != rq.Number {
			t.Errorf("read back = %+v", got)
		}
		// Final: nothing more may happen to it.
		w.stepIncident(t, w.agent.Token, got, "reopen", nil).problem(t, http.StatusConflict)
		if ev := w.events(t, "incident.reclassified", inc.Number); len(ev) != 1 {
			t.Errorf("incident.reclassified events = %v", ev)
		}
	})
}
