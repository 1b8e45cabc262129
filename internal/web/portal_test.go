package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"steward/internal/operation/incident"
	"steward/internal/operation/request"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/record"
)

func TestPortalReportAnIssue(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	cookie := s.loginAs("carol")
	res, body := s.do("GET", "/portal/report", nil, cookie)
	wantStatus(t, "the report form", res, body, http.StatusOK)
	mustContain(t, "the report form", body, "How much does this stop you working?", `<label for="urgency-1">I cannot work at all</label>`,
		`<option value="software">Software</option>`, `>E-mail</option>`)
	if strings.Contains(body, "cnd-cat-1") {
		t.Error("the portal offers the CND security categories")
	}

	form := url.Values{"title": {""}, "description": {"It says <offline>."}, "category": {"software"}, "service": {itoa(s.service.ID)}}
	res, body = s.do("POST", "/portal/report", form, cookie)
	wantStatus(t, "an empty report", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused report", body, "Say what is wrong, in a few words.", "Say how much this stops you working.",
		"It says &lt;offline&gt;.</textarea>", `<option value="software" selected>`, `selected>E-mail</option>`)

	form.Set("title", "Outlook offline")
	form.Set("urgency", "2")
	res, _ = s.do("POST", "/portal/report", form, cookie)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/portal/records/INC") {
		t.Fatalf("report: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	number := strings.TrimSuffix(strings.TrimPrefix(res.Header.Get("Location"), "/portal/records/"), "?m=reported")
	inc, err := s.incidents.Incident(s.carolCtx, number)
	if err != nil {
		t.Fatal(err)
	}
	if inc.RequesterID != s.carol.ID || inc.Channel != "portal" || inc.Urgency != 2 || inc.Impact != 3 || inc.ServiceID != s.service.ID {
		t.Fatalf("the reported incident: %+v", inc)
	}
	_, body = s.do("GET", res.Header.Get("Location"), nil, cookie)
	mustContain(t, "carol's view", body, "Thank you: your issue was reported.", "Status: New", "It says &lt;offline&gt;.")
	_, body = s.do("GET", "/portal", nil, cookie)
	mustContain(t, "the portal", body, `<h2 id="my-inc-h">My incidents</h2>`, `href="/portal/records/`+number+`"`, "Outlook offline")

	// Someone else's incident is not there for dave.
	res, _ = s.do("GET", "/portal/records/"+number, nil, s.loginAs("dave"))
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("dave reads carol's incident in the portal: %d", res.StatusCode)
	}
}

func TestPortalConfirmOrRejectAResolution(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	in := s.incident("Mail bounces", 2, 2, s.ana.ID)
	resolve := func() {
		t.Helper()
		cur, err := s.incidents.Incident(s.anaCtx, in.Number)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.incidents.Perform(s.anaCtx, in.Number, "resolve", incident.StepInput{Version: cur.Version,
			Fields: incident.StepFields{ResolutionCode: "permanent", ResolutionNotes: "Replaced the relay's certificate."}}); err != nil {
			t.Fatal(err)
		}
	}
	resolve()
	if _, err := s.records.AddJournal(s.anaCtx, in.Number, record.WorkNote, "Internal: the cert was expired since May."); err != nil {
		t.Fatal(err)
	}
	page := "/portal/records/" + in.Number
	cookie := s.loginAs("carol")
	_, body := s.do("GET", "/portal", nil, cookie)
	mustContain(t, "the portal", body, `<h2 id="waiting-h">Waiting for you</h2>`, "Confirm or reject the resolution")
	_, body = s.do("GET", page, nil, cookie)
	mustContain(t, "the resolved incident", body, "Solved (permanently)", "Replaced the relay&#39;s certificate.",
		`>Confirm the resolution</button>`, `>Reject the resolution</button>`, `<label for="reject_resolution-reason">Why? <span class="req-mark">(required)</span>`)
	if strings.Contains(body, "cert was expired") {
		t.Fatal("the portal shows a work note to the caller")
	}

	// A comment reaches the desk; an empty one is refused.
	res, body := s.do("POST", page+"/comments", url.Values{"comment": {" "}}, cookie)
	wantStatus(t, "an empty comment", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused comment", body, "Write your comment.")
	res, _ = s.do("POST", page+"/comments", url.Values{"comment": {"Still bouncing for <b>one</b> list."}}, cookie)
	wantRedirect(t, res, page+"?m=commented#comments")

	cur, _ := s.incidents.Incident(s.carolCtx, in.Number)
	// Rejecting needs a reason.
	res, body = s.do("POST", page+"/actions/reject_resolution", url.Values{"version": {itoa(cur.Version)}}, cookie)
	wantStatus(t, "a rejection without a reason", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused rejection", body, `id="reject_resolution-reason-error"`, "Say why")
	res, _ = s.do("POST", page+"/actions/reject_resolution", url.Values{"version": {itoa(cur.Version)},
		"reject_resolution-reason": {"Still bouncing for one list."}}, cookie)
	wantRedirect(t, res, page+"?m=rejected")
	if got, _ := s.incidents.Incident(s.carolCtx, in.Number); got.State != incident.StateInProgress || got.Rejections != 1 {
		t.Fatalf("after the rejection: %s, %d rejections", got.State, got.Rejections)
	}

	resolve()
	cur, _ = s.incidents.Incident(s.carolCtx, in.Number)
	res, _ = s.do("POST", page+"/actions/confirm", url.Values{"version": {itoa(cur.Version)}}, cookie)
	wantRedirect(t, res, page+"?m=confirmed")
	_, body = s.do("GET", page+"?m=confirmed", nil, cookie)
	mustContain(t, "the closed incident", body, "Thank you: the incident is closed.", "Status: Closed", "Still bouncing for &lt;b&gt;one&lt;/b&gt; list.")
	// A stale version is refused with the page as it is.
	res, body = s.do("POST", page+"/actions/reopen", url.Values{"version": {itoa(cur.Version)}}, cookie)
	wantStatus(t, "a stale reopen", res, body, http.StatusPreconditionFailed)
	mustContain(t, "the stale reopen", body, "The service desk changed "+in.Number)
}

func TestPortalCatalogRequestWithATypedForm(t *testing.T) {
	t.Parallel()
	s := newOpsSite(t, dbtest.Open(t, db.SQLite))
	lo, hi := 1.0, 4.0
	item, err := s.requests.CreateItem(s.rootCtx, request.CatalogItem{Name: "New laptop", Description: "A standard laptop.", Category: "hardware",
		ServiceID: s.service.ID, Active: true, TargetHours: 48, Form: request.Form{
			Variables: []request.FormVariable{
				{Name: "model", Label: "Model", Type: request.Choice, Required: true, Choices: []string{"13-inch", "15-inch"}},
				{Name: "needed_by", Label: "Needed by", Type: request.Date},
				{Name: "screens", Label: "Extra screens", Type: request.Number, Min: &lo, Max: &hi},
				{Name: "for_user", Label: "For whom", Type: request.UserRef},
				{Name: "dock", Label: "Dock at", Type: request.CIRef},
				{Name: "note", Label: "Note", Type: request.Text},
			},
			Approvals: []request.CatalogApproval{{Kind: request.GroupApproval, TeamID: s.team.ID}},
			Tasks:     []request.CatalogTask{{Name: "Prepare the laptop", TeamID: s.team.ID, Stage: 1}},
		}})
	if err != nil {
		t.Fatal(err)
	}
	cookie := s.loginAs("carol")
	_, body := s.do("GET", "/portal/catalog", nil, cookie)
	mustContain(t, "the catalog", body, `<h2 id="cat-hardware-h">Hardware</h2>`, `<a href="/portal/catalog/`+itoa(item.ID)+`">New laptop</a>`, "usually within 48 h")
	path := "/portal/catalog/" + itoa(item.ID)
	_, body = s.do("GET", path, nil, cookie)
	mustContain(t, "the item form", body, "Approved by Service desk.", `<select id="var-model" name="var-model"`, `<input type="date" id="var-needed_by"`,
		"From 1 to 4.", `list="users"`, `<option value="dave">`)

	bad := url.Values{"var-model": {""}, "var-screens": {"9"}, "var-for_user": {"nobody"}, "var-dock": {"no-such-ci"}, "var-note": {"Blue <please>"},
		"var-needed_by": {"2030-01-31"}}
	res, body := s.do("POST", path, bad, cookie)
	wantStatus(t, "a bad request", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the refused request", body, `For whom: there is no user named &#34;nobody&#34;`, `Dock at: no configuration item is named &#34;no-such-ci&#34;`,
		`value="Blue &lt;please&gt;"`, `value="2030-01-31"`, `id="var-for_user-error"`)
	bad.Set("var-for_user", "dave")
	bad.Set("var-dock", "mail-01")
	res, body = s.do("POST", path, bad, cookie)
	wantStatus(t, "out of bounds", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the service's refusal", body, `id="var-model-error"`, `id="var-screens-error"`, "Extra screens: at most 4.", "Model: required", `value="9"`)

	bad.Set("var-model", "13-inch")
	bad.Set("var-screens", "2")
	res, _ = s.do("POST", path, bad, cookie)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/portal/records/REQ") {
		t.Fatalf("submit: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	_, body = s.do("GET", res.Header.Get("Location"), nil, cookie)
	mustContain(t, "the request", body, "Your request was submitted.", "New laptop", "13-inch", "dave", "mail-01", "Blue &lt;please&gt;")
	_, body = s.do("GET", "/portal", nil, cookie)
	mustContain(t, "my requests", body, `<h2 id="my-req-h">My requests</h2>`, "New laptop", "Submitted")
}
