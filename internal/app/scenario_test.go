package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/app"
	"steward/internal/platform/db"
)

// TestScenarioTokenCallsMe: a user and token made through the service can call /api/v1/me.
func TestScenarioTokenCallsMe(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		u, tok := h.user(t, "scenario-me", false)
		r := h.get(t, "/api/v1/me", tok).want(t, http.StatusOK)
		var me struct {
			ID          int64    `json:"id"`
			Username    string   `json:"username"`
			Admin       bool     `json:"admin"`
			Permissions []string `json:"permissions"`
			Via         string   `json:"via"`
		}
		r.decode(t, &me)
		if me.ID != u.ID || me.Username != "scenario-me" || me.Admin || me.Via != "token" || len(me.Permissions) != 0 {
			t.Errorf("GET /api/v1/me = %+v", me)
		}
		if r.Header.Get("X-Request-ID") == "" {
			t.Error("no X-Request-ID on the answer")
		}
	})
}

// TestScenarioTeamLifecycle: create, list, get with ETag, patch with If-Match,
// stale ETag, field selection, anonymous refusal and the audit of the patch.
func TestScenarioTeamLifecycle(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		created := h.createTeam(t, "Network Operations")
		h.createTeam(t, "Service Desk")

		r := h.get(t, "/api/v1/teams", h.Admin).want(t, http.StatusOK)
		if got := r.Header.Get("X-Total-Count"); got != "2" {
			t.Errorf("X-Total-Count = %q, want 2", got)
		}
		var page struct {
			Items      []team `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		r.decode(t, &page)
		if len(page.Items) != 2 || page.Items[0].Name != "Network Operations" || page.NextCursor != "" {
			t.Errorf("list = %s", r.Body)
		}
		r = h.get(t, "/api/v1/teams?namePrefix=zzz", h.Admin).want(t, http.StatusOK)
		if got := r.Header.Get("X-Total-Count"); got != "0" {
			t.Errorf("X-Total-Count of an empty list = %q, want 0", got)
		}

		path := "/api/v1/teams/" + itoa(created.ID)
		r = h.get(t, path, h.Admin).want(t, http.StatusOK)
		etag := r.Header.Get("ETag")
		if etag != `"1"` {
			t.Fatalf("ETag = %q, want \"1\"", etag)
		}

		// Patch with If-Match, a request id of our own.
		r = h.do(t, req{Method: http.MethodPatch, Path: path, Token: h.Admin,
			JSON:    map[string]any{"name": "NetOps", "description": "Routers and switches", "email": "netops@example.mil"},
			Headers: map[string]string{"If-Match": etag, "X-Request-ID": "test-123"}}).want(t, http.StatusOK)
		if got := r.Header.Get("X-Request-ID"); got != "test-123" {
			t.Errorf("X-Request-ID echoed as %q", got)
		}
		var patched team
		r.decode(t, &patched)
		newTag := r.Header.Get("ETag")
		if patched.Name != "NetOps" || patched.Version != 2 || newTag != `"2"` {
			t.Errorf("patched = %+v, ETag %q", patched, newTag)
		}

		// The old ETag is now stale.
		r = h.do(t, req{Method: http.MethodPatch, Path: path, Token: h.Admin, JSON: map[string]any{"name": "Lost update"},
			Headers: map[string]string{"If-Match": etag}})
		r.problem(t, http.StatusPreconditionFailed)
		if got := h.get(t, path, h.Admin); !strings.Contains(string(got.Body), `"NetOps"`) {
			t.Errorf("the stale patch changed the team: %s", got)
		}

		// Field selection on a record and on a list.
		r = h.get(t, path+"?fields=id,name", h.Admin).want(t, http.StatusOK)
		assertKeys(t, r.Body, "id", "name")
		r = h.get(t, "/api/v1/teams?fields=name,email&limit=1", h.Admin).want(t, http.StatusOK)
		var sel struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor string            `json:"nextCursor"`
		}
		r.decode(t, &sel)
		if len(sel.Items) != 1 || sel.NextCursor == "" {
			t.Errorf("fields= list lost its items or cursor: %s", r.Body)
		}
		for _, it := range sel.Items {
			assertKeys(t, it, "name", "email")
		}

		// Anonymous callers get 401 problem+json with a challenge.
		r = h.get(t, path, "")
		r.problem(t, http.StatusUnauthorized)
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
		}

		// The audit trail has the patch's old and new values, request id and client address.
		r = h.get(t, "/api/v1/audit?action=team.update&objectType=team&objectId="+itoa(created.ID), h.Admin).want(t, http.StatusOK)
		var trail struct {
			Items []struct {
				ActorName  string `json:"actorName"`
				RequestID  string `json:"requestId"`
				ClientAddr string `json:"clientAddr"`
				Changes    []struct {
					Field string `json:"field"`
					Old   any    `json:"old"`
					New   any    `json:"new"`
				} `json:"changes"`
			} `json:"items"`
		}
		r.decode(t, &trail)
		if len(trail.Items) != 1 {
			t.Fatalf("want one team.update entry, got %s", r.Body)
		}
		it := trail.Items[0]
		if it.RequestID != "test-123" || it.ClientAddr != "127.0.0.1" || it.ActorName != "admin-e2e" {
			t.Errorf("audit entry = %+v", it)
		}
		want := map[string][2]any{
			"name":        {"Network Operations", "NetOps"},
			"description": {"", "Routers and switches"},
			"email":       {"", "netops@example.mil"},
		}
		got := map[string][2]any{}
		for _, c := range it.Changes {
			got[c.Field] = [2]any{c.Old, c.New}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("audit changes = %v, want %v", got, want)
		}
		r = h.get(t, "/api/v1/audit/verify", h.Admin).want(t, http.StatusOK)
		if !strings.Contains(string(r.Body), `"ok":true`) {
			t.Errorf("audit chain does not verify: %s", r.Body)
		}
	})
}

// assertKeys fails unless the JSON object in b has exactly the keys.
func assertKeys(t *testing.T, b []byte, keys ...string) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("not an object: %s", b)
	}
	var got []string
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(keys)
	if !slices.Equal(got, keys) {
		t.Errorf("fields = %v, want %v (%s)", got, keys, b)
	}
}

// makeTeams creates n teams with names in an order unlike their creation order.
func makeTeams(t *testing.T, h *harness, n int) []team {
	t.Helper()
	var out []team
	for i := range n {
		out = append(out, h.createTeam(t, fmt.Sprintf("Team %03d", (i*37)%n)))
	}
	return out
}

// walk pages through a list with limit 50 following nextCursor and returns the ids.
func walk(t *testing.T, h *harness, query string) []int64 {
	t.Helper()
	var ids []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		q := query + "&limit=50"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := h.get(t, "/api/v1/teams?"+q, h.Admin).want(t, http.StatusOK)
		if got := r.Header.Get("X-Total-Count"); got != "120" {
			t.Errorf("page %d: X-Total-Count = %q, want 120", pages, got)
		}
		var page struct {
			Items      []team `json:"items"`
			NextCursor string `json:"nextCursor"`
		}
		r.decode(t, &page)
		if len(page.Items) > 50 {
			t.Fatalf("page of %d items with limit 50", len(page.Items))
		}
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

// TestScenarioCursorPaging: 120 teams paged 50 at a time visit every team once, in order.
func TestScenarioCursorPaging(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		teams := makeTeams(t, h, 120)
		byName := slices.Clone(teams)
		sort.Slice(byName, func(i, j int) bool { return byName[i].Name < byName[j].Name })
		byCreatedDesc := slices.Clone(teams)
		sort.SliceStable(byCreatedDesc, func(i, j int) bool {
			a, b := byCreatedDesc[i], byCreatedDesc[j]
			if !a.CreatedAt.Equal(b.CreatedAt) {
				return a.CreatedAt.After(b.CreatedAt)
			}
			return a.ID < b.ID
		})
		for _, c := range []struct {
			sort string
			want []team
		}{{"name", byName}, {"-createdAt", byCreatedDesc}} {
			got := walk(t, h, "sort="+c.sort)
			var want []int64
			for _, tm := range c.want {
				want = append(want, tm.ID)
			}
			if !slices.Equal(got, want) {
				t.Errorf("sort=%s visited %d teams %v,\nwant %d teams %v", c.sort, len(got), got, len(want), want)
			}
		}
	})
}

var linkNext = regexp.MustCompile(`<([^>]+)>;\s*rel="next"`)

// TestListLinkHeaderContinuesTheList follows the Link rel="next" header, which
// must continue the same list: same sort, page size and filters.
func TestListLinkHeaderContinuesTheList(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		for i := range 12 {
			h.createTeam(t, fmt.Sprintf("alpha %02d", i))
			h.createTeam(t, fmt.Sprintf("beta %02d", i))
		}
		next := "/api/v1/teams?sort=-name&limit=5&namePrefix=alpha"
		var names []string
		for pages := 0; next != ""; pages++ {
			if pages > 5 {
				t.Fatal("the Link header never ends")
			}
			r := h.get(t, next, h.Admin)
			if r.Status != http.StatusOK {
				t.Fatalf("following Link to %s: %s", next, r)
			}
			var page struct{ Items []team }
			r.decode(t, &page)
			if len(page.Items) > 5 {
				t.Errorf("%s returned %d items, want at most 5", next, len(page.Items))
			}
			for _, it := range page.Items {
				names = append(names, it.Name)
			}
			next = ""
			if m := linkNext.FindStringSubmatch(r.Header.Get("Link")); m != nil {
				next = m[1]
			}
		}
		var want []string
		for i := 11; i >= 0; i-- {
			want = append(want, fmt.Sprintf("alpha %02d", i))
		}
		if !slices.Equal(names, want) {
			t.Errorf("following Link visited %q,\nwant %q", names, want)
		}
	})
}

// TestScenarioLockout: five failed logins lock the account; the right password
// is refused until the lockout ends.
func TestScenarioLockout(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		const lockout = 1500 * time.Millisecond
		h := newHarness(t, e, func(c *app.Config) { c.LockoutThreshold, c.LockoutDuration = 5, lockout })
		ctx := context.Background()
		u, _ := h.user(t, "scenario-lock", false)
		login := func(pw string) error {
			_, _, err := h.App.Auth.Login(ctx, u.Username, pw, "192.0.2.9", "e2e")
			return err
		}
		if err := login(testPassword); err != nil {
			t.Fatalf("the first login fails: %v", err)
		}
		for i := range 5 {
			if err := login("wrong-password-number-" + strconv.Itoa(i)); err == nil {
				t.Fatalf("wrong password %d accepted", i)
			}
		}
		lockedAt := time.Now()
		if err := login(testPassword); err == nil {
			t.Fatal("the right password is accepted while the account is locked")
		}
		if n := h.count(t, "audit_log", "action = ? AND object_id = ?", "auth.lockout", itoa(u.ID)); n != 1 {
			t.Errorf("want one auth.lockout audit entry, got %d", n)
		}
		r := h.get(t, "/api/v1/users/"+itoa(u.ID), h.Admin).want(t, http.StatusOK)
		if !strings.Contains(string(r.Body), `"lockedUntil"`) {
			t.Errorf("the locked user shows no lockedUntil: %s", r.Body)
		}
		time.Sleep(time.Until(lockedAt.Add(lockout + 200*time.Millisecond)))
		if err := login(testPassword); err != nil {
			t.Errorf("the right password is refused after the lockout ended: %v", err)
		}
	})
}

// TestScenarioRestart: data survives closing and reopening the app on the same database.
func TestScenarioRestart(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		tm := h.createTeam(t, "Survivors")
		h.stop()
		h.start(t)
		r := h.get(t, "/api/v1/teams/"+itoa(tm.ID), h.Admin).want(t, http.StatusOK)
		var got team
		r.decode(t, &got)
		if got.Name != "Survivors" || got.Version != tm.Version {
			t.Errorf("after restart: %+v, want %+v", got, tm)
		}
		r = h.get(t, "/api/v1/audit/verify", h.Admin).want(t, http.StatusOK)
		if !strings.Contains(string(r.Body), `"ok":true`) {
			t.Errorf("audit chain after restart: %s", r.Body)
		}
	})
}

// TestScenarioRateLimit: with 5 requests per second and a burst of 5, the 6th quick request gets 429.
func TestScenarioRateLimit(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e, func(c *app.Config) { c.RateLimit, c.RateBurst = 5, 5 })
		for range 5 {
			h.get(t, "/api/v1/me", h.Admin).want(t, http.StatusOK)
		}
		r := h.get(t, "/api/v1/me", h.Admin)
		r.problem(t, http.StatusTooManyRequests)
		if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
			t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
	})
}

// TestRateLimitIgnoresMadeUpTokens: made-up bearer tokens must not each open a
// fresh bucket, or an unauthenticated client is never limited (and may guess
// tokens at any speed, growing the limiter's map without bound).
func TestRateLimitIgnoresMadeUpTokens(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e, func(c *app.Config) { c.RateLimit, c.RateBurst = 5, 5 })
		limited := 0
		for i := range 12 {
			r := h.get(t, "/api/v1/me", fmt.Sprintf("stw_made-up-%d", i))
			if r.Status == http.StatusTooManyRequests {
				limited++
			} else if r.Status != http.StatusUnauthorized {
				t.Errorf("made-up token: %s", r)
			}
		}
		if limited == 0 {
			t.Error("12 quick requests from one address with made-up tokens were never rate limited")
		}
	})
}

// TestAPITokenLifetimes: create-my-token documents expiresInDays 0 as "never".
func TestAPITokenLifetimes(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		for _, c := range []struct {
			body    string
			expires bool
		}{{`{"name":"default"}`, true}, {`{"name":"week","expiresInDays":7}`, true}, {`{"name":"forever","expiresInDays":0}`, false}} {
			r := h.do(t, req{Method: http.MethodPost, Path: "/api/v1/me/tokens", Token: h.Admin, Raw: []byte(c.body)}).want(t, http.StatusCreated)
			var tok struct {
				ExpiresAt *time.Time `json:"expiresAt"`
				Secret    string     `json:"secret"`
			}
			r.decode(t, &tok)
			if (tok.ExpiresAt != nil) != c.expires {
				t.Errorf("%s: expiresAt = %v, want expiring: %v", c.body, tok.ExpiresAt, c.expires)
			}
			h.get(t, "/api/v1/me", tok.Secret).want(t, http.StatusOK)
		}
	})
}

// TestAuditKeepsFalseAndEmptyValues: an audited change from true to false, or
// from text to empty, records both values (zero values are not left out).
func TestAuditKeepsFalseAndEmptyValues(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		h := newHarness(t, e)
		u, _ := h.user(t, "audit-values", true)
		r := h.do(t, req{Method: http.MethodPatch, Path: "/api/v1/users/" + itoa(u.ID), Token: h.Admin,
			JSON: map[string]any{"admin": false, "displayName": ""}, Headers: map[string]string{"If-Match": `"1"`}})
		r.want(t, http.StatusOK)
		r = h.get(t, "/api/v1/audit?action=user.update&objectId="+itoa(u.ID), h.Admin).want(t, http.StatusOK)
		var trail struct {
			Items []struct {
				Changes []map[string]any `json:"changes"`
			} `json:"items"`
		}
		r.decode(t, &trail)
		if len(trail.Items) != 1 {
			t.Fatalf("want one user.update entry: %s", r.Body)
		}
		for _, c := range trail.Items[0].Changes {
			if _, ok := c["old"]; !ok {
				t.Errorf("change %v has no old value", c)
			}
			if _, ok := c["new"]; !ok {
				t.Errorf("change %v has no new value", c)
			}
		}
	})
}
