package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/record"
)

// deskWorld is a test site with a team, two agents in it and tickets.
type deskWorld struct {
	*testSite
	ana, bob auth.User
	team     auth.Team
	anaCtx   context.Context
}

func newDeskWorld(t *testing.T) *deskWorld {
	t.Helper()
	s := newTestSite(t, false, ticketType())
	w := &deskWorld{testSite: s, ana: s.addUser("ana", false), bob: s.addUser("bob", false)}
	ctx := context.Background()
	team, err := s.auth.CreateTeam(ctx, auth.Team{Name: "Network team"})
	if err != nil {
		t.Fatal(err)
	}
	members := []int64{w.ana.ID, w.bob.ID}
	if w.team, err = s.auth.UpdateTeam(ctx, team.ID, team.Version, auth.TeamUpdate{Members: &members}); err != nil {
		t.Fatal(err)
	}
	w.anaCtx = auth.WithPrincipal(ctx, &auth.Principal{UserID: w.ana.ID, Username: "ana"})
	return w
}

// ticket creates a ticket as ana and assigns it to the team and, unless 0, to assignee.
func (w *deskWorld) ticket(title string, priority int, assignee int64) record.Record {
	w.t.Helper()
	r, err := w.records.Create(w.anaCtx, "ticket", record.NewRecord{Title: title, Priority: priority})
	if err != nil {
		w.t.Fatal(err)
	}
	if r, err = w.records.Assign(w.anaCtx, r.Number, w.team.ID, assignee, r.Version); err != nil {
		w.t.Fatal(err)
	}
	return r
}

// countedGet sends a GET and returns the status, the body and how many SQL statements it ran.
func (s *testSite) countedGet(path, cookie string) (int, string, int64) {
	s.t.Helper()
	ctx, count := db.CountQueries(context.Background())
	r := httptest.NewRequest("GET", path, nil).WithContext(ctx)
	r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie})
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, r)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b), count()
}

func TestDeskQueuesListByPriorityThenAgeWithAFixedNumberOfQueries(t *testing.T) {
	t.Parallel()
	w := newDeskWorld(t)
	low := w.ticket("Printer jams on floor 2", 3, w.ana.ID)
	high := w.ticket("Mail relay down", 1, w.ana.ID)
	teamOnly := w.ticket("VPN slow for the <b>east</b> site", 2, 0)
	bobs := w.ticket("Badge reader offline", 2, w.bob.ID)
	cookie := w.loginAs("ana")

	w.do("GET", "/desk", nil, cookie) // the session's first use is recorded once
	status, body, first := w.countedGet("/desk", cookie)
	if status != http.StatusOK {
		t.Fatalf("desk: %d\n%s", status, body)
	}
	mustContain(t, "ana's queue", body, `aria-current="page">Mine</a>`, `<span class="prio prio-1">P1</span>`, "Network team",
		`href="/records/`+high.Number+`" data-open`, `value="`+high.Number+`@2"`, "2 records")
	if strings.Contains(body, teamOnly.Number) || strings.Contains(body, bobs.Number) {
		t.Error("Mine lists records assigned to others or to nobody")
	}
	if strings.Index(body, high.Number) > strings.Index(body, low.Number) {
		t.Error("P1 is not listed before P3")
	}
	if strings.Contains(body, "Breaching soon") {
		t.Error("the desk shows a breaching-soon queue before SLAs exist")
	}

	// Ten more rows cost no more queries.
	for i := range 10 {
		w.ticket(fmt.Sprintf("Another one %d", i), 4, w.ana.ID)
	}
	_, body, more := w.countedGet("/desk", cookie)
	mustContain(t, "the longer queue", body, "12 records")
	if more != first {
		t.Errorf("the desk ran %d queries for 2 rows and %d for 12: N+1", first, more)
	}

	// My teams: the whole team's open records, escaped.
	_, body = w.do("GET", "/desk?queue=teams", nil, cookie)
	mustContain(t, "the team queue", body, `aria-current="page">My teams</a>`, teamOnly.Number, bobs.Number,
		"VPN slow for the &lt;b&gt;east&lt;/b&gt; site", `<option value="`+itoa(w.team.ID)+`" selected>Network team</option>`)

	// A team that is not yours is refused at the field.
	res, body := w.do("GET", "/desk?queue=teams&team=999", nil, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Pick one of your teams") {
		t.Fatalf("someone else's team: %d\n%s", res.StatusCode, body)
	}
	// A user in no team is told so.
	w.addUser("carol", false)
	_, body = w.do("GET", "/desk?queue=teams", nil, w.loginAs("carol"))
	mustContain(t, "carol's team queue", body, "You are in no team")
}

func TestDeskSavedFilterRoundTrip(t *testing.T) {
	t.Parallel()
	w := newDeskWorld(t)
	w.ticket("Mail relay down", 1, w.ana.ID)
	cookie := w.loginAs("ana")

	// A nameless filter is refused at the field, keeping the tick.
	res, body := w.do("POST", "/desk/filters", url.Values{"name": {"  "}, "shared": {"1"}, "query": {"queue=teams&state=new"}}, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a nameless filter: %d", res.StatusCode)
	}
	mustContain(t, "the refused save", body, `id="name-error"`, "Name the filter", `id="shared" name="shared" value="1" checked`,
		`aria-current="page">My teams</a>`)

	res, _ = w.do("POST", "/desk/filters", url.Values{"name": {"New in my teams"}, "shared": {"1"}, "query": {"queue=teams&state=new&type=all&cursor=abc&evil=1"}}, cookie)
	wantRedirect(t, res, "/desk?m=filter-saved&queue=teams&state=new&type=all")
	_, body = w.do("GET", "/desk?m=filter-saved&queue=teams&state=new&type=all", nil, cookie)
	mustContain(t, "the saved filter", body, "The filter was saved.", `<a href="/desk?queue=teams&amp;state=new&amp;type=all" aria-current="true">New in my teams</a>`,
		`<span class="tag tag-current">shared</span>`, `aria-label="Delete the saved filter New in my teams"`)

	// Bob sees the shared filter, without a delete button.
	_, body = w.do("GET", "/desk", nil, w.loginAs("bob"))
	mustContain(t, "bob's desk", body, "New in my teams")
	if strings.Contains(body, "Delete the saved filter") {
		t.Error("bob may delete ana's filter")
	}

	filters, err := w.records.SavedFilters(w.anaCtx, deskPage)
	if err != nil || len(filters) != 1 {
		t.Fatalf("saved filters: %v %v", filters, err)
	}
	res, _ = w.do("POST", fmt.Sprintf("/desk/filters/%d/delete", filters[0].ID), url.Values{"back": {"queue=teams"}}, w.loginAs("bob"))
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("bob deleted ana's filter: %d", res.StatusCode)
	}
	res, _ = w.do("POST", fmt.Sprintf("/desk/filters/%d/delete", filters[0].ID), url.Values{"back": {"queue=teams"}}, cookie)
	wantRedirect(t, res, "/desk?m=filter-deleted&queue=teams")
	_, body = w.do("GET", "/desk", nil, cookie)
	if strings.Contains(body, "New in my teams") {
		t.Error("the deleted filter is still listed")
	}
}

func TestDeskBulkChangesShowEachRecord(t *testing.T) {
	t.Parallel()
	w := newDeskWorld(t)
	a := w.ticket("Mail relay down", 1, w.ana.ID)
	b := w.ticket("Printer jams", 3, w.ana.ID)
	cookie := w.loginAs("ana")
	ticks := []string{a.Number + "@" + itoa(a.Version), b.Number + "@" + itoa(b.Version)}

	// Nothing ticked: the queue again, with the error and what was typed.
	res, body := w.do("POST", "/desk/bulk", url.Values{"op": {"assign"}, "team": {itoa(w.team.ID)}, "assignee": {"bob"}, "back": {"queue=mine"}}, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bulk without ticks: %d", res.StatusCode)
	}
	mustContain(t, "the refused bulk change", body, "Tick at least one record", `name="assignee" maxlength="100" value="bob"`)
	// An unknown user is named at the field, and the ticks stay.
	res, body = w.do("POST", "/desk/bulk", url.Values{"op": {"assign"}, "n": ticks, "team": {itoa(w.team.ID)}, "assignee": {"nobody"}}, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("bulk to an unknown user: %d", res.StatusCode)
	}
	mustContain(t, "the unknown assignee", body, `There is no user named &#34;nobody&#34;.`, `id="pick-`+a.Number+`" aria-label="Tick `+a.Number+`" checked`)

	// Assign both to bob.
	res, body = w.do("POST", "/desk/bulk", url.Values{"op": {"assign"}, "n": ticks, "team": {itoa(w.team.ID)}, "assignee": {"bob"}, "back": {"queue=mine"}}, cookie)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bulk assign: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, "the bulk result", body, "Assigned to bob: 2 done", `href="/desk?queue=mine"`)
	for _, n := range []string{a.Number, b.Number} {
		r, err := w.records.Get(w.anaCtx, n)
		if err != nil || r.AssigneeID != w.bob.ID {
			t.Fatalf("%s is assigned to %d (%v), not bob", n, r.AssigneeID, err)
		}
	}

	// A stale version and a refused action are reported per record.
	res, body = w.do("POST", "/desk/bulk", url.Values{"op": {"action"}, "action": {"resolve"}, "note": {"fixed"},
		"n": {a.Number + "@1", b.Number}}, cookie)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("bulk action: %d\n%s", res.StatusCode, body)
	}
	mustContain(t, "the refused actions", body, "0 done, 2 not changed", "(HTTP 412)", "(HTTP 403)", "You may not resolve "+b.Number)
}

func TestGlobalSearchFindsRecordsAndOpensANumber(t *testing.T) {
	t.Parallel()
	w := newDeskWorld(t)
	a := w.ticket("Mail relay down", 1, w.ana.ID)
	w.ticket("Printer jams", 3, 0)
	cookie := w.loginAs("ana")

	_, body := w.do("GET", "/desk", nil, cookie)
	mustContain(t, "the header", body, `<form method="get" action="/search" class="global-search" role="search"`,
		`<label for="global-q" class="visually-hidden">Search records and CIs</label>`, `<script src="/static/desk.js" defer></script>`,
		`<dialog id="shortcuts"`)
	_, body = w.do("GET", "/search?q=relay", nil, cookie)
	mustContain(t, "the results", body, `Results for “relay”`, a.Number, "Mail relay down", "(1, best match first)")
	if strings.Contains(body, "Printer jams") {
		t.Error("the search lists a record that does not match")
	}
	res, _ := w.do("GET", "/search?q="+strings.ToLower(a.Number), nil, cookie)
	wantRedirect(t, res, "/records/"+a.Number)
	res, body = w.do("GET", "/search?q="+strings.Repeat("x", 201), nil, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "at most 200 characters") {
		t.Fatalf("a long query: %d", res.StatusCode)
	}
}
