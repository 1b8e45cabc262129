package web

import (
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/raci"
)

// addUser creates a user with testPassword and returns it.
func (s *testSite) addUser(name string, admin bool) auth.User {
	s.t.Helper()
	u, err := s.auth.CreateUser(context.Background(), auth.NewUser{Username: name, Password: testPassword, Admin: admin})
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

// loginAs signs in as username and returns the session cookie's value.
func (s *testSite) loginAs(username string) string {
	s.t.Helper()
	res, _ := s.do("POST", "/login", url.Values{"consent": {"yes"}, "username": {username}, "password": {testPassword}}, "")
	for _, c := range res.Cookies() {
		if c.Name == auth.SessionCookie && c.Value != "" {
			return c.Value
		}
	}
	s.t.Fatalf("%s could not sign in: %d", username, res.StatusCode)
	return ""
}

// assign puts u in role of subject, as an administrator.
func (s *testSite) assign(subject, role string, u auth.User) {
	s.t.Helper()
	admin := &auth.Principal{UserID: 0, Username: "system", Admin: true}
	if _, err := s.raci.Assign(context.Background(), admin, raci.RoleAssignment{Subject: subject, Role: role, UserID: u.ID}); err != nil {
		s.t.Fatal(err)
	}
}

// editForm reads the RACI editor of process as it is served and returns its fields.
func (s *testSite) editForm(process, cookie string) url.Values {
	s.t.Helper()
	res, body := s.do("GET", "/processes/"+process+"/raci/edit", nil, cookie)
	if res.StatusCode != http.StatusOK {
		s.t.Fatalf("editor of %s: %d\n%s", process, res.StatusCode, body)
	}
	v := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="(?:hidden|text)" name="([^"]+)"(?: id="[^"]*")? value="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		v.Set(template.HTMLEscapeString(m[1]), m[2])
	}
	for _, m := range regexp.MustCompile(`<input type="checkbox" name="([^"]+)" value="yes"[^>]* checked>`).FindAllStringSubmatch(body, -1) {
		v.Set(m[1], "yes")
	}
	if v.Get("version") == "" || v.Get("cell:IM5:process-manager") == "" && process == "IM" {
		s.t.Fatalf("the editor's fields were not found:\n%s", body)
	}
	return v
}

func TestRACIEditErrorKeepsInputAndNamesTheActivity(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	s.addUser("root", true)
	cookie := s.loginAs("root")
	f := s.editForm("IM", cookie)
	f.Set("cell:IM5:process-owner", "a")   // a second A on IM5, typed in lower case
	f.Set("cell:IM3:process-analyst", "X") // not a letter of RACI
	res, body := s.do("POST", "/processes/IM/raci/edit", f, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422\n%s", res.StatusCode, body)
	}
	for _, want := range []string{
		"IM5 (Resolve and Recover Incident): exactly one A per activity", // the activity and the rule
		`name="cell:IM5:process-owner" id="c-4-0" value="a"`,             // what was typed is kept
		`name="cell:IM3:process-analyst" id="c-2-3" value="X"`,
		`id="c-2-3-error"`, "Use the letters R, A, C and I",
		`class="row-error"`, `href="#c-4-0"`, // the summary links to the row
		`<td class="raci-cell cell-error">
          <input type="text" name="cell:IM5:process-manager"`, // both As are marked
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the editor lacks %q", want)
		}
	}
	if _, _, tailored, _ := s.raci.Matrix(context.Background(), "IM"); tailored {
		t.Fatal("a refused edit changed the matrix")
	}

	// A good edit is saved and shown on the process page; the flag is saved too.
	f = s.editForm("IM", cookie)
	f.Set("cell:IM5:process-developer", "c/i")
	f.Set("approval:IM6", "yes")
	res, body = s.do("POST", "/processes/IM/raci/edit", f, cookie)
	wantRedirect(t, res, "/processes/IM?m=raci-saved#raci")
	mx, version, tailored, _ := s.raci.Matrix(context.Background(), "IM")
	if !tailored || mx.Cell("IM5", "process-developer") != framework.C|framework.I {
		t.Fatalf("the edit was not saved: tailored %v, IM5 developer %q", tailored, mx.Cell("IM5", "process-developer"))
	}
	if a, _ := s.raci.Activity(context.Background(), "IM", "IM6"); !a.RequiresApproval {
		t.Fatal("the approval flag of IM6 was not saved")
	}
	_, body = s.do("GET", "/processes/IM?m=raci-saved", nil, cookie)
	if !strings.Contains(body, "The RACI matrix was saved") || !strings.Contains(body, "tailored, version "+itoa(version)) {
		t.Fatal("the process page does not confirm the saved matrix")
	}

	// A form read before someone else's change is refused and shows both sides.
	stale := f
	stale.Set("cell:IM5:process-developer", "I")
	res, body = s.do("POST", "/processes/IM/raci/edit", stale, cookie)
	if res.StatusCode != http.StatusPreconditionFailed || !strings.Contains(body, "Someone else changed") ||
		!strings.Contains(body, `id="c-4-2-yours">You: I</p>`) || !strings.Contains(body, `name="version" value="`+itoa(version)+`"`) {
		t.Fatalf("a stale form: %d\n%s", res.StatusCode, body)
	}
}

func TestRACIEditNeedsTheProcessOwner(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	bob := s.addUser("bob", false)
	cookie := s.loginAs("bob")
	res, body := s.do("GET", "/processes/IM/raci/edit", nil, cookie)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Only the process owner of IM (Incident Management) or an administrator may tailor IM") {
		t.Fatalf("GET by a non-owner: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("POST", "/processes/IM/raci/edit", url.Values{"version": {"1"}, "cell:IM5:process-owner": {"A"}}, cookie)
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("POST by a non-owner: %d", res.StatusCode)
	}
	if _, _, tailored, _ := s.raci.Matrix(context.Background(), "IM"); tailored {
		t.Fatal("a non-owner changed the matrix")
	}
	_, body = s.do("GET", "/processes/IM", nil, cookie)
	if strings.Contains(body, "/raci/edit") || !strings.Contains(body, "it has no process owner yet") {
		t.Fatal("the process page offers the editor to a non-owner, or does not say who may edit")
	}
	s.assign("IM", raci.RoleProcessOwner, bob)
	if res, body := s.do("GET", "/processes/IM/raci/edit", nil, cookie); res.StatusCode != http.StatusOK {
		t.Fatalf("the process owner cannot open the editor: %d\n%s", res.StatusCode, body)
	}
	if res, _ := s.do("GET", "/processes/ChM/raci/edit", nil, cookie); res.StatusCode != http.StatusForbidden {
		t.Fatal("the owner of IM may edit ChM")
	}
}

func TestGuideRendersEveryActivity(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	cookie, _ := s.login(testPassword)
	m, _ := framework.Embedded()
	procs := append(m.Processes(), m.TAXUD().SubProcesses()...)
	for _, p := range procs {
		res, body := s.do("GET", "/processes/"+p.Code+"/guide", nil, cookie)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("guide of %s: %d", p.Code, res.StatusCode)
		}
		if strings.Count(body, `class="banner banner-`) != 2 || !strings.Contains(body, `id="g-raci"`) {
			t.Errorf("guide of %s: no banners top and bottom, or no matrix", p.Code)
		}
		for _, a := range p.Activities() {
			if !strings.Contains(body, `id="g-`+a.Code+`-h"><span class="code">`+a.Code+`</span> `+template.HTMLEscapeString(a.Name)+`</h3>`) {
				t.Errorf("the guide of %s lacks activity %s %q", p.Code, a.Code, a.Name)
			}
		}
		if len(p.Activities()) == 0 && !strings.Contains(body, template.HTMLEscapeString(p.ActivitiesStatus)) {
			t.Errorf("the guide of %s does not say why it has no activities", p.Code)
		}
	}
	if res, _ := s.do("GET", "/processes/NOPE/guide", nil, cookie); res.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown process: %d", res.StatusCode)
	}
}

func TestProcessPageExplainsTheGuard(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	cookie, _ := s.login(testPassword)
	_, body := s.do("GET", "/processes/IM", nil, cookie)
	for _, want := range []string{"You may not perform IM5 (Resolve and Recover Incident): it needs R or A",
		`href="/api/v1/processes/IM/raci.csv"`, `href="/processes/IM/guide"`, "This process's own records and workflows are not available in Steward yet",
		`<abbr class="l l-A" title="Accountable">A</abbr>`} {
		if !strings.Contains(body, template.HTMLEscapeString(want)) && !strings.Contains(body, want) {
			t.Errorf("the process page lacks %q", want)
		}
	}
	alice, err := s.auth.UserByName(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	s.assign("IM", "process-analyst", alice)
	_, body = s.do("GET", "/processes/IM", nil, cookie)
	if !strings.Contains(body, "You may perform IM5: you hold R for IM5 (Resolve and Recover Incident) as Incident Management Process Analyst") {
		t.Fatalf("the page does not say why alice may resolve:\n%s", body)
	}
	if !strings.Contains(body, `<a href="/people/`+itoa(alice.ID)+`">alice</a>`) {
		t.Fatal("the role holders do not list alice")
	}
}

func TestDomainPagesListTheirProcesses(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	cookie, _ := s.login(testPassword)
	_, body := s.do("GET", "/design", nil, cookie)
	for _, want := range []string{`href="/processes/ITSCM"`, `href="/processes/ITSCM.2"`, `href="/processes/SLM"`,
		"No process of Service Design has records or workflows of its own in Steward yet"} {
		if !strings.Contains(body, want) {
			t.Errorf("/design lacks %q", want)
		}
	}
	_, body = s.do("GET", "/processes", nil, cookie)
	for _, want := range []string{`href="/processes/IM"`, `href="/processes/CSI"`, `href="/processes/EVAL"`, `aria-current="page">Processes`} {
		if !strings.Contains(body, want) {
			t.Errorf("/processes lacks %q", want)
		}
	}
}

func TestAssigningARoleShowsInWhoDoesWhat(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	s.addUser("root", true)
	carol := s.addUser("carol", false)
	admin := s.loginAs("root")
	res, body := s.do("POST", "/processes/IM/roles", url.Values{"role": {"process-analyst"}, "holder": {"nobody"}}, admin)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="holder-error"`) || !strings.Contains(body, `value="process-analyst" selected`) {
		t.Fatalf("a form without a holder: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("POST", "/processes/IM/roles", url.Values{"role": {"process-analyst"}, "holder": {"u:" + itoa(carol.ID)}}, admin)
	wantRedirect(t, res, "/processes/IM/roles?m=role-assigned#holders")
	res, body = s.do("POST", "/processes/IM/roles", url.Values{"role": {"process-analyst"}, "holder": {"u:" + itoa(carol.ID)}}, admin)
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, "The chosen holder already holds process-analyst for IM") {
		t.Fatalf("a second identical assignment: %d\n%s", res.StatusCode, body)
	}
	mine := s.loginAs("carol")
	_, body = s.do("GET", "/account/responsibilities", nil, mine)
	for _, want := range []string{"Incident Management Process Analyst/Practitioner", `href="/processes/IM"`, "IM5", "Resolve and Recover Incident"} {
		if !strings.Contains(body, want) {
			t.Errorf("carol's responsibilities lack %q", want)
		}
	}
	_, body = s.do("GET", "/roles/process-analyst", nil, mine)
	if !strings.Contains(body, `<a href="/people/`+itoa(carol.ID)+`">carol</a>`) {
		t.Fatal("the role page does not list carol")
	}
	// The administrator removes the assignment; a second removal finds it gone.
	_, body = s.do("GET", "/processes/IM/roles", nil, admin)
	m := regexp.MustCompile(`action="/processes/IM/roles/(\d+)/remove"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no remove button:\n%s", body)
	}
	res, _ = s.do("POST", "/processes/IM/roles/"+m[1]+"/remove", url.Values{}, admin)
	wantRedirect(t, res, "/processes/IM/roles?m=role-removed#holders")
	res, _ = s.do("POST", "/processes/IM/roles/"+m[1]+"/remove", url.Values{}, admin)
	wantRedirect(t, res, "/processes/IM/roles?m=role-missing#holders")
	_, body = s.do("GET", "/account/responsibilities", nil, mine)
	if !strings.Contains(body, "You hold no process role yet") {
		t.Fatal("carol still holds the removed role")
	}
	// Carol may not assign roles, and the page says who may.
	res, body = s.do("POST", "/processes/IM/roles", url.Values{"role": {"process-manager"}, "holder": {"u:" + itoa(carol.ID)}}, mine)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "Only the process owner of IM (Incident Management) or an administrator may assign its roles") {
		t.Fatalf("carol assigning: %d\n%s", res.StatusCode, body)
	}
}
