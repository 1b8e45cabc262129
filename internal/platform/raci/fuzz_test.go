package raci_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

// FuzzMatrixBody sends arbitrary bytes as the body of the write operations that parse RACI
// letters and codes, through the real API on SQLite. No input may cause a 5xx, and every
// refusal must be problem+json. CI runs it as
//
//	go test -run='^$' -fuzz='^FuzzMatrixBody$' -fuzztime=15s ./internal/platform/raci/
func FuzzMatrixBody(f *testing.F) {
	for _, s := range []string{
		`{"roles":["process-owner","process-manager","process-developer","process-analyst"],"rows":[{"activity":"IM1","cells":{"process-owner":"A","process-manager":"R"}}]}`,
		`{"roles":[],"rows":[]}`, `{"roles":["x","x"],"rows":[{"activity":"IM1","cells":{"x":"RRAA"}}]}`,
		`{"roles":["process-owner"],"rows":[{"activity":"` + strings.Repeat("I", 100) + `","cells":{}}]}`,
		`{"code":"IM5.1","name":"n","cells":{"process-manager":"A/R"}}`, `{"code":"LOC-a","name":"n","after":"IM9"}`,
		`{"code":"a-b","name":"n","cells":{"IM5":"C"}}`, `{"subject":"IM","role":"process-manager","userId":1,"scope":{"teamId":-1}}`,
		`{}`, `null`, `[]`, `{"rows":[{"cells":{"a":null}}]}`, "{\"roles\":[\"\xff\"]}",
	} {
		f.Add([]byte(s))
	}
	s := newServer(f, dbtest.Open(f, db.SQLite))
	admin := s.token(f, s.admin)
	targets := []struct{ method, path string }{
		{"PUT", "/api/v1/processes/IM/raci"}, {"POST", "/api/v1/processes/IM/roles"}, {"POST", "/api/v1/processes/IM/activities"},
		{"PATCH", "/api/v1/processes/IM/activities/IM5"}, {"PATCH", "/api/v1/processes/IM/roles/process-analyst"},
		{"POST", "/api/v1/role-assignments"}, {"POST", "/api/v1/process-roles"},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, tg := range targets {
			req, err := http.NewRequest(tg.method, s.srv.URL+tg.path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+admin)
			req.Header.Set("If-Match", `"1"`)
			res, err := s.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode >= 500 {
				t.Fatalf("%s %s with %q: %d %s", tg.method, tg.path, body, res.StatusCode, b)
			}
			if res.StatusCode >= 400 {
				var p problem
				if !strings.Contains(res.Header.Get("Content-Type"), "problem+json") || json.Unmarshal(b, &p) != nil || p.Status != res.StatusCode {
					t.Fatalf("%s %s with %q: not problem+json: %d %s", tg.method, tg.path, body, res.StatusCode, b)
				}
			}
		}
	})
}
