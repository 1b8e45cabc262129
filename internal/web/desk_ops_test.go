package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"steward/internal/operation/incident"
	"steward/internal/operation/request"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

func TestDeskIncidentQueuesUseTheReadModel(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newOpsSite(t, d)
		mine := s.incident("Mail bounces for the <i>east</i> site", 2, 2, s.ana.ID) // P3
		nobody := s.incident("Calendar slow", 3, 3, 0)                              // P5
		major := s.incident("All mail down", 1, 1, s.ana.ID)                        // P1: major by threshold
		cookie := s.loginAs("ana")
		s.do("GET", "/desk", nil, cookie)

		status, body, first := s.countedGet("/desk", cookie)
		if status != http.StatusOK {
			t.Fatalf("desk: %d\n%s", status, body)
		}
		mustContain(t, "ana's queue", body, mine.Number, major.Number, "Mail bounces for the &lt;i&gt;east&lt;/i&gt; site",
			`<span class="prio prio-1">P1</span>`, `<span class="tag tag-revoked">Major</span>`, "carol", "E-mail", "Service desk")
		if strings.Contains(body, nobody.Number) {
			t.Error("Mine lists an unassigned incident")
		}
		if strings.Index(body, major.Number) > strings.Index(body, mine.Number) {
			t.Error("the P1 is not first")
		}
		for i := range 8 {
			s.incident(fmt.Sprintf("More mail trouble %d", i), 3, 2, s.ana.ID)
		}
		_, body, more := s.countedGet("/desk", cookie)
		mustContain(t, "the longer queue", body, "10 records")
		if more != first {
			t.Errorf("the desk ran %d queries for 2 incidents and %d for 10: N+1", first, more)
		}

		_, body = s.do("GET", "/desk?queue=unassigned", nil, cookie)
		mustContain(t, "the unassigned queue", body, nobody.Number, `aria-current="page">Unassigned</a>`)
		if strings.Contains(body, mine.Number) {
			t.Error("Unassigned lists an assigned incident")
		}
		_, body = s.do("GET", "/desk?queue=major", nil, cookie)
		mustContain(t, "the major queue", body, major.Number, "1 record")
		_, body = s.do("GET", "/desk?priority=3", nil, cookie)
		mustContain(t, "the P3 filter", body, mine.Number, `<option value="3" selected>P3 Moderate</option>`)
		if strings.Contains(body, major.Number) {
			t.Error("the priority filter lets a P1 through")
		}
		_, body = s.do("GET", "/desk?service="+itoa(s.service.ID)+"&type=incident", nil, cookie)
		mustContain(t, "the service filter", body, mine.Number, `selected>E-mail</option>`)
	})
}

func TestNewIncidentFormKeepsInputAndLogs(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	cookie := s.loginAs("ana")
	res, body := s.do("GET", "/desk/incidents/new", nil, cookie)
	wantStatus(t, "the form", res, body, http.StatusOK)
	mustContain(t, "the form", body, `<label for="caller">Caller`, `<option value="carol">`, `>E-mail</option>`,
		`<optgroup label="Software">`, `<label for="impact-1"><strong>High</strong>: a whole service`)

	form := url.Values{"caller": {"carol"}, "channel": {"phone"}, "title": {""}, "description": {"Outlook says <disconnected>."},
		"category": {"software"}, "subcategory": {"email"}, "service": {itoa(s.service.ID)}, "ciq": {"Mail"}, "impact": {"2"},
		"urgency": {"1"}, "op": {"create"}}
	res, body = s.do("POST", "/desk/incidents/new", form, cookie)
	wantStatus(t, "a form without a title", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused form", body, `id="title-error"`, `aria-invalid="true" aria-describedby="title-error"`,
		"Outlook says &lt;disconnected&gt;.</textarea>", `<option value="software" selected>`, `<option value="email" selected>`,
		`value="carol"`, `id="impact-2" name="impact" value="2" checked`, `id="urgency-1" name="urgency" value="1" checked`,
		`<option value="`+itoa(s.app.ID)+`">Mail relay (Application)</option>`, `<option value="`+itoa(s.host.ID)+`">mail-01 (Server)</option>`)
	form.Set("ci", itoa(s.app.ID))

	form.Set("title", "Outlook cannot connect")
	form.Set("op", "check")
	res, body = s.do("POST", "/desk/incidents/new", form, cookie)
	wantStatus(t, "checking known errors", res, body, http.StatusOK)
	mustContain(t, "the checked form", body, "No known error matches what you typed.", `value="Outlook cannot connect"`)

	form.Set("caller", "nobody")
	form.Set("op", "create")
	res, body = s.do("POST", "/desk/incidents/new", form, cookie)
	wantStatus(t, "an unknown caller", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the unknown caller", body, `There is no user named &#34;nobody&#34;`)

	form.Set("caller", "carol")
	form.Set("me", "1")
	res, _ = s.do("POST", "/desk/incidents/new", form, cookie)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/records/INC") {
		t.Fatalf("logging: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	number := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Location"), "/records/"), "?m=incident-logged")
	inc, err := s.incidents.Incident(s.anaCtx, number)
	if err != nil {
		t.Fatal(err)
	}
	if inc.RequesterID != s.carol.ID || inc.CIID != s.app.ID || inc.Priority != 2 || inc.AssigneeID != s.ana.ID || inc.Channel != "phone" {
		t.Fatalf("the logged incident: %+v", inc)
	}
	_, body = s.do("GET", res.Header.Get("Location"), nil, cookie)
	mustContain(t, "the new incident's page", body, "The incident was logged.", `<h2 id="incident-h">Incident</h2>`,
		"Software › E-mail and calendar", `<span class="prio prio-2">P2</span>`, `<h2 id="around-h">Affected service and CIs around it</h2>`,
		`<svg`, "mail-01", `href="/cmdb/cis/`+itoa(s.app.ID)+`/impact"`)
}

func TestIncidentActionsTakeTheirFieldsOnTheRecordPage(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	in := s.incident("Mail bounces", 2, 2, s.ana.ID)
	page := "/records/" + in.Number
	cookie := s.loginAs("ana")
	_, body := s.do("GET", page, nil, cookie)
	mustContain(t, "the record page", body, `<summary class="btn btn-primary" aria-describedby="why-`, "Resolve…",
		`<select id="resolve-resolutionCode" name="resolve-resolutionCode">`, `<option value="permanent">Solved (permanently)</option>`,
		"You may perform IM5")
	// Carol, the caller, sees the refused actions greyed with the guard's reason.
	_, body = s.do("GET", page, nil, s.loginAs("carol"))
	mustContain(t, "carol's record page", body, `disabled>Resolve</button>`, "Not allowed: </span>You may not perform IM5",
		`href="/portal/records/`+in.Number+`"`)

	// Without a resolution code: the error at the field, the fields open, the notes kept.
	res, body := s.do("POST", page+"/actions/resolve", url.Values{"version": {itoa(in.Version)}, "resolve-resolutionNotes": {"Restarted the relay."},
		"resolve-effortMinutes": {"15"}, "comment": {"done"}}, cookie)
	wantStatus(t, "a resolution without code", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused resolution", body, `<details class="action-more" open>`, `id="resolve-resolutionCode-error"`,
		"Restarted the relay.</textarea>", `name="resolve-effortMinutes" min="0" step="1" value="15"`, ">done</textarea>")

	res, _ = s.do("POST", page+"/actions/resolve", url.Values{"version": {itoa(in.Version)}, "resolve-resolutionCode": {"permanent"},
		"resolve-resolutionNotes": {"Restarted the relay."}, "resolve-effortMinutes": {"15"}, "resolve-firstContact": {"1"}}, cookie)
	wantRedirect(t, res, page+"?m=action-applied")
	got, err := s.incidents.Incident(s.anaCtx, in.Number)
	if err != nil || got.State != incident.StateResolved || got.Resolution == nil || got.Resolution.EffortMinutes != 15 || !got.Resolution.FirstContact {
		t.Fatalf("the resolved incident: %+v %v", got, err)
	}
	_, body = s.do("GET", page, nil, cookie)
	mustContain(t, "the resolved page", body, "Solved (permanently)</strong>", "resolved at first contact", "15 min of effort")
}

func TestMajorIncidentTimeline(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	in := s.incident("All mail down", 1, 1, s.ana.ID)
	page := "/records/" + in.Number
	cookie := s.loginAs("ana")
	_, body := s.do("GET", page, nil, cookie)
	mustContain(t, "the major incident", body, `<h2 id="major-h">Major incident</h2>`, "priority P1 reached the major-incident threshold",
		"No update yet.", `action="/records/`+in.Number+`/major/updates#major"`)

	res, body := s.do("POST", page+"/major/updates", url.Values{"audience": {"users"}, "message": {"  "}}, cookie)
	wantStatus(t, "an empty update", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused update", body, `id="message-error"`, `<option value="users" selected>Users</option>`)
	res, _ = s.do("POST", page+"/major/updates", url.Values{"audience": {"users"}, "message": {"Mail is down; we are on it."}}, cookie)
	wantRedirect(t, res, page+"?m=major-update#major")
	res, _ = s.do("POST", page+"/major/communications", url.Values{"commChannel": {"bridge"}, "party": {"Network on-call"},
		"summary": {"Relay hardware failed."}}, cookie)
	wantRedirect(t, res, page+"?m=major-communication#major")
	_, body = s.do("GET", page, nil, cookie)
	mustContain(t, "the timeline", body, "to Users · ana</span>Mail is down; we are on it.", "Bridge with Network on-call · ana</span>Relay hardware failed.")
	if regexp.MustCompile(`No update yet`).MatchString(body) {
		t.Error("the timeline still says it is empty")
	}
}

func TestServiceRequestPageShowsItsFormAndRejectTakesAReason(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	s.assign(request.Process, "process-analyst", s.ana)
	item, err := s.requests.CreateItem(s.rootCtx, request.CatalogItem{Name: "VPN access", Category: "access", ServiceID: s.service.ID,
		Active: true, Form: request.Form{Variables: []request.FormVariable{{Name: "why", Label: "Why", Type: request.Text, Required: true}},
			Tasks: []request.CatalogTask{{Name: "Grant VPN", TeamID: s.team.ID, Stage: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := s.requests.Submit(s.carolCtx, request.NewRequest{CatalogItemID: item.ID, Variables: map[string]any{"why": "Travel to <Rota>"}})
	if err != nil {
		t.Fatal(err)
	}
	page := "/records/" + req.Number
	cookie := s.loginAs("ana")
	_, body := s.do("GET", page, nil, cookie)
	mustContain(t, "the request page", body, `<h2 id="request-h">Service request: VPN access</h2>`, "<dt>Why</dt><dd>Travel to &lt;Rota&gt;</dd>",
		`<textarea id="reject-reason" name="reject-reason"`, "The requester reads it.")
	res, body := s.do("POST", page+"/actions/reject", url.Values{"version": {itoa(req.Version)}}, cookie)
	wantStatus(t, "a rejection without reason", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused rejection", body, `id="reject-reason-error"`, "Reason: ", `<details class="action-more" open>`)
	res, _ = s.do("POST", page+"/actions/reject", url.Values{"version": {itoa(req.Version)}, "reject-reason": {"Use the travel kit instead."}}, cookie)
	wantRedirect(t, res, page+"?m=action-applied")
	got, err := s.requests.Request(s.carolCtx, req.Number)
	if err != nil || got.State != request.Rejected || got.RejectionReason != "Use the travel kit instead." {
		t.Fatalf("the rejected request: %+v %v", got, err)
	}
}

func TestMajorFormsOnANormalIncidentAreRefused(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	in := s.incident("Mail bounces", 2, 2, s.ana.ID)
	res, body := s.do("POST", "/records/"+in.Number+"/major/updates", url.Values{"audience": {"users"}, "message": {"Hello"}}, s.loginAs("ana"))
	wantStatus(t, "an update on a normal incident", res, body, http.StatusConflict)
	mustContain(t, "the refusal", body, "is not a major incident")
}
