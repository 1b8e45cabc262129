package web

import (
	"context"
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

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/settings"
)

const (
	testUser     = "alice"
	testPassword = "a long enough first password"
	newPassword  = "another long enough password"
)

// testSite is the web UI over a fresh SQLite database, behind the request-id
// and authentication middleware, with one small API operation documented.
type testSite struct {
	t        *testing.T
	handler  http.Handler
	auth     *auth.Service
	settings *settings.Store
	raci     *raci.Service
	records  *record.Service
}

func newTestSite(t *testing.T, mustChange bool, types ...record.Type) *testSite {
	t.Helper()
	d := dbtest.Open(t, db.SQLite)
	c := clock.System{}
	trail := audit.NewTrail(c)
	events := outbox.New(c, nil)
	as := auth.NewService(d, trail, events, c, auth.NewHasher(0), auth.Config{})
	model, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	rs := raci.New(d, model, trail, events, c)
	recs := record.New(record.Deps{DB: d, Guard: rs, Model: model, Trail: trail, Events: events, Clock: c})
	for _, typ := range types {
		if err := recs.Register(typ); err != nil {
			t.Fatal(err)
		}
	}
	st := settings.NewStore(d, trail, c, time.Second)
	if _, err := as.CreateUser(context.Background(), auth.NewUser{Username: testUser, DisplayName: "Alice <b>Admin</b>",
		Password: testPassword, MustChangePassword: mustChange}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Test API", "1.2.3"))
	type thingsIn struct {
		Limit int `query:"limit" doc:"How many things."`
	}
	httpx.Register(&httpx.API{API: api}, huma.Operation{OperationID: "list-things", Method: http.MethodGet,
		Path: "/api/v1/things", Summary: "List the things", Tags: []string{"Things"}},
		"things.read", func(context.Context, *thingsIn) (*struct{}, error) { return nil, nil })
	log := slog.New(slog.DiscardHandler)
	if err := Register(mux, Deps{Auth: as, Settings: st, Log: log, Version: "test", API: api, RACI: rs, Records: recs}); err != nil {
		t.Fatal(err)
	}
	h := httpx.Chain(mux, httpx.RequestMeta(), auth.Authenticate(as, log, nil), raci.RequestCache)
	return &testSite{t: t, handler: h, auth: as, settings: st, raci: rs, records: recs}
}

// do sends a request with an optional form body and session cookie.
func (s *testSite) do(method, path string, form url.Values, cookie string) (*http.Response, string) {
	s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, path, body)
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		r.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: cookie})
	}
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// login signs in through the form and returns the session cookie's value.
func (s *testSite) login(password string) (string, *http.Response) {
	s.t.Helper()
	res, _ := s.do("POST", "/login", url.Values{"consent": {"yes"}, "username": {testUser}, "password": {password}}, "")
	for _, c := range res.Cookies() {
		if c.Name == auth.SessionCookie && c.Value != "" {
			return c.Value, res
		}
	}
	return "", res
}

func wantRedirect(t *testing.T, res *http.Response, to string) {
	t.Helper()
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != to {
		t.Fatalf("got %d to %q, want 303 to %q", res.StatusCode, res.Header.Get("Location"), to)
	}
}

func TestBannerCSSNeverEmitsBadColours(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, bg, fg string
		ok           bool
	}{
		{"valid", "#c8102E", "#ffffff", true},
		{"short hex", "#fff", "#000000", false},
		{"named colour", "red", "#ffffff", false},
		{"css injection", "#000000;}body{display:none", "#ffffff", false},
		{"url", "#ffffff", "url(https://evil.example/x)", false},
		{"newline", "#ffffff\n", "#000000", false},
		{"empty", "", "", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			css, ok := bannerCSS(settings.Presentation{BannerBackground: c.bg, BannerForeground: c.fg})
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			want := ".banner{background-color:" + c.bg + ";color:" + c.fg + "}\n"
			if !c.ok {
				want = ".banner{background-color:" + neutralBackground + ";color:" + neutralForeground + "}\n"
			}
			if string(css) != want {
				t.Fatalf("css = %q, want %q", css, want)
			}
		})
	}
}

func TestPageMarkingCannotBreakOutOfItsString(t *testing.T) {
	t.Parallel()
	css := string(pageMarkingCSS("SECRET\"}body{display:none}/*\n\\"))
	want := `content:"SECRET\22 }body{display:none}/*\a \5c "`
	if !strings.Contains(css, want) || strings.Count(css, `"`) != 4 {
		t.Fatalf("css = %q, want the text as one escaped string %q", css, want)
	}
	if pageMarkingCSS("  ") != nil {
		t.Fatal("an empty banner text made a page marking")
	}
}

func TestBannerStylesheetFollowsSettings(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	res, body := s.do("GET", "/banner.css", nil, "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "#007a33") {
		t.Fatalf("default banner.css: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	p := settings.Defaults()
	p.BannerText, p.BannerBackground = "SECRET", "#c8102e"
	if _, err := s.settings.SetPresentation(context.Background(), 0, p); err != nil {
		t.Fatal(err)
	}
	_, body = s.do("GET", "/banner.css", nil, "")
	if !strings.HasPrefix(body, ".banner{background-color:#c8102e;color:#ffffff}\n") ||
		!strings.Contains(body, `@top-center{content:"SECRET";`) || !strings.Contains(body, "@bottom-center") {
		t.Fatalf("banner.css after the change: %q", body)
	}
	_, page := s.do("GET", "/login", nil, "")
	if strings.Count(page, `role="note" aria-label="Classification">SECRET</div>`) != 2 || !strings.Contains(page, "/banner.css?v=1") {
		t.Fatalf("the login page does not show the new banner twice with a versioned stylesheet:\n%s", page)
	}
}

func TestLoginIsRefusedWithoutTheNotice(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	res, body := s.do("POST", "/login", url.Values{"username": {testUser}, "password": {testPassword}}, "")
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("status %d, want 422", res.StatusCode)
	}
	if len(res.Cookies()) != 0 {
		t.Fatalf("a cookie was set: %v", res.Cookies())
	}
	for _, want := range []string{"consent to the notice before you sign in", `value="alice"`, `id="consent-error"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, testPassword) {
		t.Error("the password was echoed")
	}
}

func TestLoginFailureKeepsTheUsername(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	res, body := s.do("POST", "/login", url.Values{"consent": {"yes"}, "username": {testUser}, "password": {"wrong password here"}}, "")
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Fatalf("status %d, cookies %v", res.StatusCode, res.Cookies())
	}
	if !strings.Contains(body, "Invalid username or password") || !strings.Contains(body, `value="alice"`) || !strings.Contains(body, " checked") {
		t.Fatalf("the page does not explain the failure and keep the input:\n%s", body)
	}
}

func TestFirstLoginForcesAPasswordChange(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, true)
	cookie, res := s.login(testPassword)
	wantRedirect(t, res, "/account/password")
	if cookie == "" {
		t.Fatal("no session cookie")
	}
	for _, path := range []string{"/", "/account", "/api/docs", "/design"} {
		res, _ := s.do("GET", path, nil, cookie)
		wantRedirect(t, res, "/account/password")
	}
	res, body := s.do("GET", "/account/password", nil, cookie)
	if res.StatusCode != 200 || !strings.Contains(body, "You must choose a new password") || strings.Contains(body, `class="sidenav"`) {
		t.Fatalf("the forced password page: %d\n%s", res.StatusCode, body)
	}
	res, body = s.do("POST", "/account/password", url.Values{"currentPassword": {testPassword},
		"newPassword": {newPassword}, "confirmPassword": {newPassword + "!"}}, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "The two new passwords differ") || strings.Contains(body, newPassword) {
		t.Fatalf("a mismatched confirmation: %d\n%s", res.StatusCode, body)
	}
	res, body = s.do("POST", "/account/password", url.Values{"currentPassword": {"not the password"},
		"newPassword": {newPassword}, "confirmPassword": {newPassword}}, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="currentPassword-error"`) {
		t.Fatalf("a wrong current password: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("POST", "/account/password", url.Values{"currentPassword": {testPassword},
		"newPassword": {newPassword}, "confirmPassword": {newPassword}}, cookie)
	wantRedirect(t, res, "/")
	res, body = s.do("GET", "/", nil, cookie)
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" || strings.Count(body, `class="banner banner-`) != 2 {
		t.Fatalf("home after the change: %d %q\n%s", res.StatusCode, res.Header.Get("Cache-Control"), body)
	}
}

func TestPagesNeedABrowserSession(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	for _, path := range []string{"/", "/strategy", "/account", "/account/password", "/api/docs", "/processes", "/processes/IM",
		"/processes/IM/guide", "/processes/IM/raci/edit", "/processes/IM/roles", "/roles/process-owner", "/people/1",
		"/account/responsibilities", "/records/TKT0000001", "/approvals"} {
		res, _ := s.do("GET", path, nil, "")
		wantRedirect(t, res, "/login")
	}
	for _, path := range []string{"/processes/IM/raci/edit", "/processes/IM/roles", "/records/TKT0000001/actions/close", "/approvals/1/approve"} {
		res, _ := s.do("POST", path, url.Values{}, "")
		wantRedirect(t, res, "/login")
	}
	res, _ := s.do("POST", "/account/tokens", url.Values{"name": {"x"}, "expiresInDays": {"1"}}, "")
	wantRedirect(t, res, "/login")

	// An API token is for the API: pages treat its bearer as signed out.
	u, err := s.auth.UserByName(context.Background(), testUser)
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := s.auth.CreateToken(context.Background(), u.ID, "t", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/account", nil)
	r.Header.Set("Authorization", "Bearer "+secret)
	w := httptest.NewRecorder()
	s.handler.ServeHTTP(w, r)
	wantRedirect(t, w.Result(), "/login")
}

func TestTokenSecretIsShownOnce(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	cookie, _ := s.login(testPassword)
	res, body := s.do("POST", "/account/tokens", url.Values{"name": {"  "}, "expiresInDays": {"abc"}}, cookie)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, `id="name-error"`) ||
		!strings.Contains(body, `id="expiresInDays-error"`) || !strings.Contains(body, `value="abc"`) {
		t.Fatalf("an invalid token form: %d\n%s", res.StatusCode, body)
	}
	res, body = s.do("POST", "/account/tokens", url.Values{"name": {"ci"}, "expiresInDays": {"7"}}, cookie)
	if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("create: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	i := strings.Index(body, `value="stw_`)
	if i < 0 {
		t.Fatalf("no secret in the response:\n%s", body)
	}
	secret := body[i+len(`value="`):]
	secret = secret[:strings.IndexByte(secret, '"')]
	if p, err := s.auth.TokenPrincipal(context.Background(), secret); err != nil || p.Username != testUser {
		t.Fatalf("the shown secret does not work: %v", err)
	}
	_, body = s.do("GET", "/account", nil, cookie)
	if strings.Contains(body, secret) || !strings.Contains(body, secret[:12]) {
		t.Fatal("the account page shows the secret again, or does not list the token")
	}
}

func TestRevokingTheCurrentSessionSignsOut(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	cookie, _ := s.login(testPassword)
	p, err := s.auth.SessionPrincipal(context.Background(), cookie)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := s.do("POST", "/account/sessions/"+strconv.FormatInt(p.SessionID, 10)+"/revoke", url.Values{}, cookie)
	wantRedirect(t, res, "/login?m=signed-out")
	res, _ = s.do("GET", "/", nil, cookie)
	wantRedirect(t, res, "/login")
}

func TestUserTextIsEscaped(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	cookie, _ := s.login(testPassword)
	_, body := s.do("GET", "/", nil, cookie)
	if strings.Contains(body, "<b>Admin</b>") || !strings.Contains(body, "Alice &lt;b&gt;Admin&lt;/b&gt;") {
		t.Fatal("the display name was not escaped")
	}
}

func TestUnknownPaths(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	res, body := s.do("GET", "/no/such/page", nil, "")
	if res.StatusCode != 404 || !strings.Contains(body, "There is no page at this address") || !strings.Contains(body, `lang="en"`) {
		t.Fatalf("404: %d\n%s", res.StatusCode, body)
	}
	res, _ = s.do("DELETE", "/login", nil, "")
	if res.StatusCode != 405 || res.Header.Get("Allow") != "GET, POST" {
		t.Fatalf("405: %d Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestStaticAssets(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	_, page := s.do("GET", "/login", nil, "")
	i := strings.Index(page, `href="/static/steward.css?v=`)
	if i < 0 {
		t.Fatal("the page does not link the versioned stylesheet")
	}
	href := page[i+len(`href="`):]
	href = href[:strings.IndexByte(href, '"')]
	res, body := s.do("GET", href, nil, "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(res.Header.Get("Cache-Control"), "immutable") || !strings.Contains(body, ".banner") {
		t.Fatalf("stylesheet: %d %q %q", res.StatusCode, res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"))
	}
	i = strings.Index(page, `href="/static/processes.css?v=`)
	if i < 0 {
		t.Fatal("the page does not link the process stylesheet")
	}
	href = page[i+len(`href="`):]
	href = href[:strings.IndexByte(href, '"')]
	if res, body := s.do("GET", href, nil, ""); res.StatusCode != 200 || !strings.Contains(body, ".raci-wide") {
		t.Fatalf("process stylesheet: %d", res.StatusCode)
	}
	if res, _ := s.do("GET", "/static/", nil, ""); res.StatusCode != 404 {
		t.Fatalf("directory listing: %d", res.StatusCode)
	}
	if res, _ := s.do("GET", "/static/nope.css", nil, ""); res.StatusCode != 404 {
		t.Fatalf("missing asset: %d", res.StatusCode)
	}
}

func TestAPIDocsListOperationsWithAccess(t *testing.T) {
	t.Parallel()
	s := newTestSite(t, false)
	cookie, _ := s.login(testPassword)
	res, body := s.do("GET", "/api/docs", nil, cookie)
	if res.StatusCode != 200 {
		t.Fatalf("status %d", res.StatusCode)
	}
	for _, want := range []string{`id="op-list-things"`, "/api/v1/things", "List the things", `<code class="perm">things.read</code>`,
		"<code>limit</code>", "How many things.", `href="/api/v1/openapi.json"`, `id="tag-things"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the API reference lacks %q", want)
		}
	}
}
