package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"steward/internal/platform/db"
)

// fuzzTargets are the operations whose JSON bodies FuzzDecodeRequest feeds.
var fuzzTargets = []struct{ method, path string }{
	{http.MethodPost, "/api/v1/teams"},
	{http.MethodPatch, "/api/v1/teams/1"},
	{http.MethodPut, "/api/v1/settings/presentation"},
	{http.MethodPost, "/api/v1/users"},
}

// FuzzDecodeRequest sends arbitrary bytes as the JSON body, with an arbitrary
// query string, to the operations that decode bodies, through the real handler
// on SQLite. No input may cause a panic or a 5xx, and every refusal must be
// problem+json. CI runs it as
//
//	go test -run='^$' -fuzz='^FuzzDecodeRequest$' -fuzztime=15s ./internal/app/
func FuzzDecodeRequest(f *testing.F) {
	seeds := []struct{ body, query string }{
		{`{"name":"Ops","description":"d","email":"ops@example.mil"}`, ""},
		{`{"name":"Ops","members":[1,2,3]}`, ""},
		{`{"bannerText":"SECRET","bannerBackground":"#c8102e","bannerForeground":"#ffffff","noticeTitle":"n","notice":"n"}`, ""},
		{`{"username":"fuzzer","password":"correct-horse-battery-staple-9"}`, ""},
		{`{}`, ""},
		{``, ""},
		{`null`, ""},
		{`{"name":null,"members":null}`, ""},
		{`[]`, ""},
		{`"just a string"`, ""},
		{`{"name":`, ""},
		{`{"name":"a"}{"name":"b"}`, ""},
		{`{"name":"a","name":"b"}`, ""},
		{`{"name":"x","unknown":true}`, ""},
		{"{\"name\":\"\xff\xfe\"}", ""},
		{"{\"name\":\"\\ud800\"}", ""},
		{"{\"name\":\"a\x00b\"}", ""},
		{`{"name":"` + strings.Repeat("n", 101) + `"}`, ""},
		{`{"members":[1e400]}`, ""},
		{`{"members":[99999999999999999999999]}`, ""},
		{`{"members":[-9223372036854775808,9223372036854775807]}`, ""},
		{`{"members":[1.5]}`, ""},
		{`{"name":1e308}`, ""},
		{strings.Repeat("[", 10000) + strings.Repeat("]", 10000), ""},
		{`{"a":` + strings.Repeat(`{"a":`, 5000) + `1` + strings.Repeat(`}`, 5001), ""},
		{`{"name":"Ops"}`, "dryRun=1"},
		{`{"name":"Ops"}`, "fields=id&fields=name"},
		{`{"name":"Ops"}`, "%zz=%"},
		{`{"name":"Ops"}`, "limit=9999999999999999999"},
		{`{"password":"` + strings.Repeat("p", 300) + `","username":"a"}`, ""},
	}
	for _, s := range seeds {
		f.Add([]byte(s.body), s.query)
	}

	// One app per fuzz process (each worker runs this setup once).
	h := newHarness(f, db.SQLite)
	h.createTeam(f, "fuzz-target")
	handler := h.Srv.Config.Handler

	f.Fuzz(func(t *testing.T, body []byte, query string) {
		if strings.ContainsAny(query, " #") {
			return // cannot be sent on an HTTP/1.1 request line
		}
		if _, err := url.ParseRequestURI("/x?" + query); err != nil {
			return // the server refuses it before any handler runs
		}
		for _, tg := range fuzzTargets {
			r := httptest.NewRequestWithContext(context.Background(), tg.method, tg.path, bytes.NewReader(body))
			r.URL.RawQuery = query
			r.RequestURI = tg.path + "?" + query
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+h.Admin)
			r.Header.Set("If-Match", `"1"`)
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			res := &response{Status: w.Code, Header: w.Header(), Body: w.Body.Bytes()}
			if res.Status >= 500 {
				t.Fatalf("%s %s?%s with body %q: server error %s\nlog: %s", tg.method, tg.path, query, body, res, lastLines(h.Logs.String(), 5))
			}
			if res.Status >= 300 {
				if msg := fuzzProblemErr(res, body, query); msg != "" {
					t.Fatalf("%s %s?%s with body %q: %s", tg.method, tg.path, query, body, msg)
				}
			}
		}
	})
}

// fuzzProblemErr is problemErr without the leak markers that the input itself
// contains (validation errors may quote the offending value).
func fuzzProblemErr(r *response, body []byte, query string) string {
	msg := problemErr(r, 0)
	if msg == "" || !strings.Contains(msg, "leaks internal detail") {
		return msg
	}
	in := strings.ToLower(string(body) + query)
	s := strings.ToLower(string(r.Body))
	for _, m := range leakMarkers {
		m = strings.ToLower(m)
		if strings.Contains(s, m) && !strings.Contains(in, m) {
			return msg
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
