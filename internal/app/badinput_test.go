package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/platform/db"
)

// badInput is one malformed or unauthorised request and the status it must get.
type badInput struct {
	name   string
	method string
	path   string
	// token is "admin" for the administrator's token, "" for none, or a literal Authorization header value.
	token   string
	body    []byte
	headers map[string]string
	// chunked sends the body without a Content-Length.
	chunked bool
	status  int
	// header is a response header that must be present.
	header string
}

// TestBadInputIsRefusedCleanly sends malformed, oversized, unauthenticated and
// stale requests and checks that each gets the right problem+json answer,
// leaks nothing internal, and changes nothing.
func TestBadInputIsRefusedCleanly(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		ctx := context.Background()
		tm := h.createTeam(t, "bad-input-team")
		teamPath := "/api/v1/teams/" + itoa(tm.ID)
		etag := `"` + itoa(tm.Version) + `"`
		stale := `"` + itoa(tm.Version+7) + `"`

		u, _ := h.user(t, "bad-input-user", false)
		expired, expTok, err := h.App.Auth.CreateToken(ctx, u.ID, "expired", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := h.App.DB.ExecContext(ctx, `UPDATE api_tokens SET expires_at = ? WHERE id = ?`,
			time.Now().Add(-time.Minute).UnixMilli(), expTok.ID); err != nil {
			t.Fatal(err)
		}
		revoked, revTok, err := h.App.Auth.CreateToken(ctx, u.ID, "revoked", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := h.App.Auth.RevokeToken(ctx, 0, itoa(revTok.ID)); err != nil {
			t.Fatal(err)
		}

		big := append([]byte(`{"name":"big","description":"`), bytes.Repeat([]byte("x"), 1<<20)...)
		big = append(big, `"}`...)
		ifMatch := map[string]string{"If-Match": etag}
		cases := []badInput{
			{name: "malformed JSON", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":`), status: 400},
			{name: "malformed JSON on patch", method: "PATCH", path: teamPath, token: "admin", body: []byte(`{"name" "x"}`), headers: ifMatch, status: 400},
			{name: "trailing garbage", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":"t1"} x`), status: 400},
			{name: "not an object", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`[1,2]`), status: 422},
			{name: "wrong type", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":5}`), status: 422},
			{name: "wrong type on patch", method: "PATCH", path: teamPath, token: "admin", body: []byte(`{"members":"all"}`), headers: ifMatch, status: 422},
			{name: "null name", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":null}`), status: 422},
			{name: "unknown field", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":"t2","colour":"red"}`), status: 422},
			{name: "unknown field on patch", method: "PATCH", path: teamPath, token: "admin", body: []byte(`{"nmae":"t3"}`), headers: ifMatch, status: 422},
			{name: "empty name", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":"   "}`), status: 422},
			{name: "body over 1 MiB", method: "POST", path: "/api/v1/teams", token: "admin", body: big, status: 413},
			{name: "chunked body over 1 MiB", method: "POST", path: "/api/v1/teams", token: "admin", body: big, chunked: true, status: 413},
			{name: "invalid UTF-8", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte("{\"name\":\"caf\xe9\"}"), status: 400},
			{name: "invalid UTF-8 on patch", method: "PATCH", path: teamPath, token: "admin", body: []byte("{\"name\":\"\xff\xfe\"}"), headers: ifMatch, status: 400},
			{name: "wrong content type", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":"t4"}`),
				headers: map[string]string{"Content-Type": "text/plain"}, status: 415},
			{name: "form content type", method: "POST", path: "/api/v1/teams", token: "admin", body: []byte(`name=t5`),
				headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415},
			{name: "missing token", method: "POST", path: "/api/v1/teams", body: []byte(`{"name":"t6"}`), status: 401, header: "WWW-Authenticate"},
			{name: "garbage token", method: "POST", path: "/api/v1/teams", token: "Bearer stw_not-a-real-token", body: []byte(`{"name":"t7"}`), status: 401, header: "WWW-Authenticate"},
			{name: "token without prefix", method: "GET", path: "/api/v1/teams", token: "Bearer hello", status: 401, header: "WWW-Authenticate"},
			{name: "basic auth", method: "GET", path: "/api/v1/teams", token: "Basic YWRtaW46YWRtaW4=", status: 401, header: "WWW-Authenticate"},
			{name: "empty bearer", method: "GET", path: "/api/v1/teams", token: "Bearer ", status: 401, header: "WWW-Authenticate"},
			{name: "expired token", method: "POST", path: "/api/v1/teams", token: "Bearer " + expired, body: []byte(`{"name":"t8"}`), status: 401, header: "WWW-Authenticate"},
			{name: "revoked token", method: "POST", path: "/api/v1/teams", token: "Bearer " + revoked, body: []byte(`{"name":"t9"}`), status: 401, header: "WWW-Authenticate"},
			{name: "stale If-Match", method: "PATCH", path: teamPath, token: "admin", body: []byte(`{"name":"t10"}`), headers: map[string]string{"If-Match": stale}, status: 412},
			{name: "malformed If-Match", method: "PATCH", path: teamPath, token: "admin", body: []byte(`{"name":"t11"}`), headers: map[string]string{"If-Match": `"abc"`}, status: 412},
			{name: "missing If-Match", method: "PATCH", path: teamPath, token: "admin", body: []byte(`{"name":"t12"}`), status: 428},
			{name: "missing If-Match on delete", method: "DELETE", path: teamPath, token: "admin", status: 428},
			{name: "stale If-Match on delete", method: "DELETE", path: teamPath, token: "admin", headers: map[string]string{"If-Match": stale}, status: 412},
			{name: "missing If-Match on settings", method: "PUT", path: "/api/v1/settings/presentation", token: "admin",
				body: []byte(`{"bannerText":"SECRET","bannerBackground":"#ff0000","bannerForeground":"#ffffff","noticeTitle":"n","notice":"n"}`), status: 428},
			{name: "unknown query parameter", method: "GET", path: "/api/v1/teams?colour=red", token: "admin", status: 422},
			{name: "unknown query parameter on create", method: "POST", path: "/api/v1/teams?dryRun=1", token: "admin", body: []byte(`{"name":"t13"}`), status: 422},
			{name: "bad cursor", method: "GET", path: "/api/v1/teams?cursor=not-a-cursor", token: "admin", status: 422},
			{name: "forged cursor", method: "GET", path: "/api/v1/teams?cursor=WyJ4IiwieSJd", token: "admin", status: 422},
			{name: "limit over 500", method: "GET", path: "/api/v1/teams?limit=501", token: "admin", status: 422},
			{name: "limit zero", method: "GET", path: "/api/v1/teams?limit=0", token: "admin", status: 422},
			{name: "limit not a number", method: "GET", path: "/api/v1/teams?limit=ten", token: "admin", status: 422},
			{name: "unknown sort", method: "GET", path: "/api/v1/teams?sort=password", token: "admin", status: 422},
			{name: "unknown fields", method: "GET", path: "/api/v1/teams?fields=id,password", token: "admin", status: 422},
			{name: "unknown fields on get", method: "GET", path: teamPath + "?fields=secret", token: "admin", status: 422},
			{name: "path id not a number", method: "GET", path: "/api/v1/teams/abc", token: "admin", status: 422},
			{name: "path id zero", method: "GET", path: "/api/v1/teams/0", token: "admin", status: 422},
			{name: "unknown path", method: "GET", path: "/api/v1/no-such-thing", token: "admin", status: 404},
			{name: "unknown path anonymous", method: "GET", path: "/api/v2/teams", status: 404},
			{name: "unknown team", method: "GET", path: "/api/v1/teams/999999", token: "admin", status: 404},
			{name: "wrong method", method: "PUT", path: "/api/v1/teams", token: "admin", body: []byte(`{"name":"t14"}`), status: 405, header: "Allow"},
			{name: "wrong method on item", method: "POST", path: teamPath, token: "admin", body: []byte(`{"name":"t15"}`), status: 405, header: "Allow"},
		}
		for _, c := range cases {
			before := h.snapshot(t)
			teamBefore := h.get(t, teamPath, h.Admin).want(t, http.StatusOK)
			r := h.send(t, c)
			if msg := problemErr(r, c.status); msg != "" {
				t.Errorf("%s: %s %s: %s", c.name, c.method, c.path, msg)
			}
			if c.header != "" && r.Header.Get(c.header) == "" {
				t.Errorf("%s: %d answer without %s: %s", c.name, r.Status, c.header, r)
			}
			if c.header == "Allow" {
				if allow := r.Header.Get("Allow"); strings.Contains(allow, c.method) {
					t.Errorf("%s: Allow %q lists the refused method %s", c.name, allow, c.method)
				}
			}
			if after := h.snapshot(t); after != before {
				t.Errorf("%s: the refused request changed the store: before %+v, after %+v", c.name, before, after)
			}
			teamAfter := h.get(t, teamPath, h.Admin).want(t, http.StatusOK)
			if !bytes.Equal(teamBefore.Body, teamAfter.Body) {
				t.Errorf("%s: the team changed:\n%s\n%s", c.name, teamBefore.Body, teamAfter.Body)
			}
		}

		// The rejected tokens were audited as such.
		if n := h.count(t, "audit_log", "action = ?", "auth.token.rejected"); n < 4 {
			t.Errorf("want the rejected tokens audited, found %d auth.token.rejected entries", n)
		}
	})
}

// send makes the request of c.
func (h *harness) send(t *testing.T, c badInput) *response {
	t.Helper()
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
		if c.chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
	}
	hr, err := http.NewRequest(c.method, h.Srv.URL+c.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.token == "admin":
		hr.Header.Set("Authorization", "Bearer "+h.Admin)
	case c.token != "":
		hr.Header.Set("Authorization", c.token)
	}
	for k, v := range c.headers {
		hr.Header.Set(k, v)
	}
	res, err := h.Srv.Client().Do(hr)
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return &response{Status: res.StatusCode, Header: res.Header, Body: b}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestRefusalsDoNotEchoPasswords: a refused request that carried a password
// must not send it back; the service's own errors never do (the policy errors
// carry no value), and the decoder's errors must not either.
func TestRefusalsDoNotEchoPasswords(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		const secret = "Sup3r-Secret-Passw0rd-XYZ"
		cases := []struct{ name, path, body string }{
			{"unknown field", "/api/v1/users", `{"username":"zed","password":"` + secret + `","bogus":1}`},
			{"malformed JSON", "/api/v1/users", `{"username":"zed","password":"` + secret + `"`},
			{"password too long", "/api/v1/users", `{"username":"zed","password":"` + secret + strings.Repeat("a", 300) + `"}`},
			{"wrong type beside a password", "/api/v1/users", `{"username":7,"password":"` + secret + `"}`},
			{"change with an unknown field", "/api/v1/me/password", `{"currentPassword":"` + secret + `","newPassword":"another-long-password-1","x":1}`},
			{"reset with a wrong type", "/api/v1/users/1/password", `{"password":"` + secret + `","mustChangePassword":"yes"}`},
		}
		for _, c := range cases {
			r := h.do(t, req{Method: http.MethodPost, Path: c.path, Token: h.Admin, Raw: []byte(c.body)})
			if r.Status < 400 {
				t.Errorf("%s: accepted: %s", c.name, r)
				continue
			}
			if msg := problemErr(r, 0); msg != "" {
				t.Errorf("%s: %s", c.name, msg)
			}
			if strings.Contains(string(r.Body), secret) {
				t.Errorf("%s: POST %s: the %d answer echoes the password: %s", c.name, c.path, r.Status, r.Body)
			}
		}
	})
}

// TestRefusalsStaySmall: a refusal names the offending field; it does not send
// the whole request body back (a 1 MiB body would come back as a 1 MiB error,
// and a deeply nested one as an error too deep for Go's JSON decoder to read).
func TestRefusalsStaySmall(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		pad := strings.Repeat("p", 1000<<10)
		cases := []struct{ name, body string }{
			{"large body with an unknown field", `{"name":"big","pad":"` + pad + `"}`},
			{"large malformed body", `{"name":"big","description":"` + pad},
			{"deep nesting", strings.Repeat("[", 10000) + strings.Repeat("]", 10000)},
		}
		for _, c := range cases {
			r := h.do(t, req{Method: http.MethodPost, Path: "/api/v1/teams", Token: h.Admin, Raw: []byte(c.body)})
			if r.Status < 400 || r.Status >= 500 {
				t.Errorf("%s: %s", c.name, r)
				continue
			}
			if len(r.Body) > 8<<10 {
				t.Errorf("%s: a %d-byte request got a %d-byte %d answer", c.name, len(c.body), len(r.Body), r.Status)
			}
			if msg := problemErr(r, 0); msg != "" {
				t.Errorf("%s: %s", c.name, msg)
			}
		}
	})
}
