package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// ticketType is a generic ticket of process IM: investigate (IM4), resolve
// (IM5) and close (IM6, which waits for approval when the organisation asks).
func ticketType() record.Type {
	return record.Type{Name: "ticket", Label: "Ticket", Prefix: "TKT", Process: "IM", Initial: "new",
		States: []record.State{{Name: "new", Label: "New"}, {Name: "in_progress", Label: "In progress"},
			{Name: "resolved", Label: "Resolved"}, {Name: "closed", Label: "Closed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "investigate", From: []string{"new"}, To: "in_progress", Activity: "IM4", Label: "Investigate"},
			{Action: "resolve", From: []string{"new", "in_progress"}, To: "resolved", Activity: "IM5", Label: "Resolve"},
			{Action: "close", From: []string{"resolved"}, To: "closed", Activity: "IM6", Label: "Close"},
		}}
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func TestRecordPageShowsTheGuardAndPerformsActions(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false, ticketType())
	ana := s.addUser("ana", false)
	s.assign("IM", "process-analyst", ana)
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: ana.ID, Username: ana.Username})
	rec, err := s.records.Create(ctx, "ticket", record.NewRecord{Title: "Mail is down <b>now</b>", Description: "Nobody can send.", Priority: 2})
	if err != nil {
		t.Fatal(err)
	}
	page := "/records/" + rec.Number

	// Alice holds no role: the buttons are there, disabled, with the reason.
	alice, _ := s.login(testPassword)
	res, body := s.do("GET", page, nil, alice)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("record page: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, "alice's record page", body, "Mail is down &lt;b&gt;now&lt;/b&gt;", `class="tag state tag-current">New</span>`,
		`formaction="/records/TKT0000001/actions/resolve" aria-describedby="why-1" disabled>Resolve</button>`,
		"You may not perform IM5 (Resolve and Recover Incident): it needs R or A", "Priority 2", `href="/processes/IM"`)
	res, body = s.do("POST", page+"/actions/resolve", url.Values{"version": {"1"}, "comment": {"tried anyway"}}, alice)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a refused action: %d", res.StatusCode)
	}
	mustContain(t, "the refusal", body, `class="error-summary"`, "You may not resolve TKT0000001: it performs IM5 (Resolve and Recover Incident)")

	// Ana holds R for IM5 as the analyst.
	cookie := s.loginAs("ana")
	_, body = s.do("GET", page, nil, cookie)
	mustContain(t, "ana's record page", body, `formaction="/records/TKT0000001/actions/resolve" aria-describedby="why-1">Resolve</button>`,
		"You may perform IM5: you hold R for IM5 (Resolve and Recover Incident) as Incident Management Process Analyst")
	res, body = s.do("POST", page+"/actions/resolve", url.Values{"version": {"7"}, "comment": {"relay restarted"}}, cookie)
	if res.StatusCode != http.StatusPreconditionFailed || !strings.Contains(body, "Someone else changed TKT0000001") || !strings.Contains(body, ">relay restarted</textarea>") {
		t.Fatalf("a stale version: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("POST", page+"/actions/resolve", url.Values{"version": {"1"}, "comment": {"relay restarted"}}, cookie)
	wantRedirect(t, res, page+"?m=action-applied")
	_, body = s.do("GET", page+"?m=action-applied", nil, cookie)
	mustContain(t, "the resolved record", body, "Done: the record moved on.", `>Resolved</span>`)
	// Ana is the requester, who does not read internal notes; alice, who is not, does.
	if strings.Contains(body, "relay restarted") {
		t.Error("the requester reads the internal work note")
	}
	_, body = s.do("GET", page, nil, alice)
	mustContain(t, "alice's view of the journal", body, `<span class="tag tag-internal">Internal work note</span>`, "relay restarted")

	// The journal takes a comment; an empty one is refused with the kind kept.
	res, body = s.do("POST", page+"/journal", url.Values{"kind": {"comment"}, "body": {"  "}}, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="body-error"`) || !strings.Contains(body, `value="comment" checked`) {
		t.Fatalf("an empty entry: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("POST", page+"/journal", url.Values{"kind": {"comment"}, "body": {"Fixed for everyone."}}, cookie)
	wantRedirect(t, res, page+"?m=note-added#journal")
	if res, _ := s.do("GET", "/records/TKT0000099", nil, cookie); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown record: %d", res.StatusCode)
	}
}

func TestApprovalsQueue(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false, ticketType())
	ana, mgr := s.addUser("ana", false), s.addUser("mgr", false)
	s.assign("IM", "process-analyst", ana)
	s.assign("IM", "process-manager", mgr)
	root := &auth.Principal{Username: "system", Admin: true}
	_, version, _, _ := s.raci.Matrix(context.Background(), "IM")
	yes := true
	if _, _, err := s.raci.SetActivitySettings(context.Background(), root, "IM", version, "IM6", raci.ActivitySettings{RequiresApproval: &yes}); err != nil {
		t.Fatal(err)
	}
	ctx := auth.WithPrincipal(context.Background(), &auth.Principal{UserID: ana.ID, Username: ana.Username})
	rec, err := s.records.Create(ctx, "ticket", record.NewRecord{Title: "Printer jam"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.records.Perform(ctx, rec.Number, "resolve", record.PerformInput{}); err != nil {
		t.Fatal(err)
	}
	page := "/records/" + rec.Number
	cookie := s.loginAs("ana")
	res, _ := s.do("POST", page+"/actions/close", url.Values{"version": {"2"}}, cookie)
	wantRedirect(t, res, page+"?m=action-approval")
	_, body := s.do("GET", page, nil, cookie)
	mustContain(t, "the waiting record", body, `id="waiting-h">Waiting</h2>`, "waiting for approval", "approvers: mgr",
		"Already requested: step")

	boss := s.loginAs("mgr")
	_, body = s.do("GET", "/approvals", nil, boss)
	m := regexp.MustCompile(`action="/approvals/(\d+)/approve"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("mgr's queue has no approval:\n%s", body)
	}
	mustContain(t, "mgr's queue", body, `href="/records/TKT0000001"`, "Printer jam", "Close (<span class=\"code\">IM6</span>)", "requested by ana")
	res, body = s.do("POST", "/approvals/"+m[1]+"/reject", url.Values{"reason": {" "}, "next": {"/approvals"}}, boss)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Give the reason for the rejection") {
		t.Fatalf("a rejection without a reason: %d\n%s", res.StatusCode, body)
	}
	// Ana may not approve her own step: she holds R, not A.
	res, body = s.do("POST", "/approvals/"+m[1]+"/approve", url.Values{"next": {page}}, cookie)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "only an accountable (A) holder of IM6 may") {
		t.Fatalf("ana approving: %d\n%s", res.StatusCode, body[strings.Index(body, "<main"):])
	}
	res, _ = s.do("POST", "/approvals/"+m[1]+"/approve", url.Values{"reason": {"ok"}, "next": {"https://evil.example/"}}, boss)
	wantRedirect(t, res, "/approvals?m=step-approved")
	if got, _ := s.records.Get(ctx, rec.Number); got.State != "closed" {
		t.Fatalf("the approved record is %s", got.State)
	}
	_, body = s.do("GET", "/approvals", nil, boss)
	mustContain(t, "the empty queue", body, "Nothing waits for your approval.", "No consultation waits for you.")
}

func TestConsultationsAreAnsweredAndWaived(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false, ticketType())
	ana, dev, ops := s.addUser("ana", false), s.addUser("dev", false), s.addUser("ops", false)
	s.assign("IM", "process-analyst", ana)
	s.assign("IM", "process-developer", dev)
	s.assign("IM", "process-developer", ops)
	root := &auth.Principal{Username: "system", Admin: true}
	bg := context.Background()
	mx, version, _, _ := s.raci.Matrix(bg, "IM")
	for _, a := range []string{"IM4", "IM5"} {
		row, _ := mx.Row(a)
		row.Cells["process-developer"] = framework.C
	}
	version, err := s.raci.SetMatrix(bg, root, "IM", version, mx)
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	for _, a := range []string{"IM4", "IM5"} {
		if _, version, err = s.raci.SetActivitySettings(bg, root, "IM", version, a, raci.ActivitySettings{RequiresConsultation: &yes}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := auth.WithPrincipal(bg, &auth.Principal{UserID: ana.ID, Username: ana.Username})
	rec, err := s.records.Create(ctx, "ticket", record.NewRecord{Title: "VPN drops"})
	if err != nil {
		t.Fatal(err)
	}
	page := "/records/" + rec.Number
	analyst := s.loginAs("ana")
	res, _ := s.do("POST", page+"/actions/resolve", url.Values{"version": {"1"}}, analyst)
	wantRedirect(t, res, page+"?m=action-consulting")

	// Dev answers in the queue; an empty answer keeps the form and says why.
	devCookie := s.loginAs("dev")
	_, body := s.do("GET", "/approvals", nil, devCookie)
	m := regexp.MustCompile(`action="/consultations/(\d+)/answer"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("dev's queue has no consultation:\n%s", body)
	}
	res, body = s.do("POST", "/consultations/"+m[1]+"/answer", url.Values{"text": {" "}, "next": {"/approvals"}}, devCookie)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Write your answer") || !strings.Contains(body, `href="#cons-`+m[1]+`"`) {
		t.Fatalf("an empty answer: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("POST", "/consultations/"+m[1]+"/answer", url.Values{"text": {"Fine by me."}, "next": {page}}, devCookie)
	wantRedirect(t, res, page+"?m=consultation-answered")
	opsCookie := s.loginAs("ops")

	// Ops has not answered; ana, who asked, waives the consultation on the record's page. She
	// is the record's requester too, so the answer (an internal note) is not shown to her.
	_, body = s.do("GET", page, nil, analyst)
	mustContain(t, "the consulting record", body, "waiting for consultation", "answered")
	if strings.Contains(body, "Fine by me.") {
		t.Error("the requester reads a consultation's answer, which is internal")
	}
	_, body = s.do("GET", page, nil, opsCookie)
	mustContain(t, "ops's view of the consulting record", body, "“Fine by me.”")
	_, body = s.do("GET", page, nil, analyst)
	w := regexp.MustCompile(`action="/consultations/(\d+)/waive"`).FindStringSubmatch(body)
	if w == nil || w[1] == m[1] {
		t.Fatalf("ana is not offered to waive ops's consultation:\n%s", body)
	}
	// Ops may not waive: only the requester or an accountable holder may.
	res, body = s.do("POST", "/consultations/"+w[1]+"/waive", url.Values{"text": {"skip"}, "next": {page}}, opsCookie)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, `class="error-summary"`) {
		t.Fatalf("ops waiving: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("POST", "/consultations/"+w[1]+"/waive", url.Values{"text": {"Ops is on leave; the fix is reversible."}, "next": {page}}, analyst)
	wantRedirect(t, res, page+"?m=consultation-waived")
	if got, _ := s.records.Get(ctx, rec.Number); got.State != "resolved" {
		t.Fatalf("after the last consultation the record is %s, want resolved", got.State)
	}
}
