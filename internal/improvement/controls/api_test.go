package controls_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/improvement/controls"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// api is the record and controls API over an env, behind the middleware the application uses.
type api struct {
	e       *env
	handler http.Handler
}

func newAPI(e *env) *api {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Controls API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, e.auth))
	log := slog.New(slog.DiscardHandler)
	japi := &httpx.API{API: hapi, Log: log}
	record.RegisterAPI(japi, e.recs)
	controls.RegisterAPI(japi, e.svc)
	return &api{e: e, handler: httpx.Chain(mux, httpx.RequestMeta(), httpx.CheckJSONBody(1<<20),
		auth.Authenticate(e.auth, log, nil), raci.RequestCache, httpx.APIErrorsAsProblems)}
}

func (a *api) token(u auth.User) string {
	a.e.t.Helper()
	secret, _, err := a.e.auth.CreateToken(context.Background(), u.ID, "test", time.Hour)
	if err != nil {
		a.e.t.Fatal(err)
	}
	return secret
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (a *api) do(method, path, token string, body any, headers ...string) reply {
	a.e.t.Helper()
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			a.e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, req)
	return reply{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
}

type problem struct {
	Detail string
	Errors []struct{ Location, Message string }
}

// TestAPIControls drives the three controls through the HTTP API: creating
// them per process, the kernel's workflow actions with the resolved activity
// codes, versions, corrective actions and evaluations, with ETags throughout.
func TestAPIControls(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		mgr, own, ana, str := a.token(e.manager), a.token(e.owner), a.token(e.analyst), a.token(e.stranger)

		// Refusals: 401, 403 naming IM1, 422 naming the path for EVAL.
		body := map[string]any{"title": "IM policy", "kind": "policy", "body": "Log every incident."}
		a.do("POST", "/api/v1/processes/IM/documents", "", body).want(t, http.StatusUnauthorized)
		var p problem
		a.do("POST", "/api/v1/processes/IM/documents", str, body).want(t, http.StatusForbidden).decode(t, &p)
		if !strings.Contains(p.Detail, "IM1") {
			t.Fatalf("403 does not name IM1: %+v", p)
		}
		a.do("POST", "/api/v1/processes/EVAL/documents", mgr, body).want(t, http.StatusUnprocessableEntity).decode(t, &p)
		if len(p.Errors) == 0 || p.Errors[0].Location != "path.code" {
			t.Fatalf("EVAL: %+v", p)
		}

		// A policy: created, listed, edited with If-Match, submitted and approved.
		var doc controls.Document
		r := a.do("POST", "/api/v1/processes/IM/documents", mgr, body).want(t, http.StatusCreated)
		r.decode(t, &doc)
		if r.header.Get("ETag") != `"1"` || doc.Kind != controls.Policy || doc.VersionNumber != 1 {
			t.Fatalf("created: %s %+v", r.header.Get("ETag"), doc)
		}
		var list struct{ Items []controls.Document }
		r = a.do("GET", "/api/v1/processes/IM/documents?state=draft", ana, nil).want(t, http.StatusOK)
		r.decode(t, &list)
		if len(list.Items) != 1 || r.header.Get("X-Total-Count") != "1" {
			t.Fatalf("list: %s", r.body)
		}
		a.do("PATCH", "/api/v1/process-documents/"+doc.Number, mgr, map[string]any{"body": "x"}).want(t, http.StatusPreconditionRequired)
		r = a.do("PATCH", "/api/v1/process-documents/"+doc.Number, mgr, map[string]any{"body": "Log every incident at once."},
			"If-Match", `"1"`).want(t, http.StatusOK)
		r.decode(t, &doc)
		if doc.Body != "Log every incident at once." || r.header.Get("ETag") != `"2"` {
			t.Fatalf("patched: %+v", doc)
		}
		var acts struct{ Items []record.Action }
		a.do("GET", "/api/v1/records/"+doc.Number+"/actions", mgr, nil).want(t, http.StatusOK).decode(t, &acts)
		if len(acts.Items) == 0 || acts.Items[0].Action != "submit" || acts.Items[0].Activity != "IM1" {
			t.Fatalf("actions: %+v", acts)
		}
		a.do("POST", "/api/v1/records/"+doc.Number+"/actions/submit", mgr, nil, "If-Match", `"2"`).want(t, http.StatusOK)
		var res record.Result
		a.do("POST", "/api/v1/records/"+doc.Number+"/actions/approve", mgr, nil, "If-Match", `"3"`).
			want(t, http.StatusAccepted).decode(t, &res)
		a.do("POST", "/api/v1/approvals/"+strconv.FormatInt(res.Step.ID, 10)+"/approve", own, nil).want(t, http.StatusOK)
		a.do("GET", "/api/v1/process-documents/"+doc.Number, ana, nil).want(t, http.StatusOK).decode(t, &doc)
		if doc.State != controls.DocApproved {
			t.Fatalf("approved: %+v", doc)
		}

		// A new version.
		var v2 controls.Document
		a.do("POST", "/api/v1/process-documents/"+doc.Number+"/versions", mgr, map[string]any{"body": "v2"}).
			want(t, http.StatusCreated).decode(t, &v2)
		if v2.VersionNumber != 2 || v2.Supersedes != doc.Number {
			t.Fatalf("version 2: %+v", v2)
		}
		a.do("POST", "/api/v1/process-documents/"+doc.Number+"/versions", mgr, nil).want(t, http.StatusConflict)

		// A finding with a corrective action; the analyst owns it and reports it done.
		var f controls.Finding
		a.do("POST", "/api/v1/processes/IM/findings", ana, map[string]any{"title": "Backlog", "severity": "medium",
			"observation": "The queue grows."}).want(t, http.StatusCreated).decode(t, &f)
		r = a.do("POST", "/api/v1/findings/"+f.Number+"/corrective-actions", ana, map[string]any{"description": "Add staff",
			"ownerId": e.analyst.ID, "dueDate": "2025-03-20"}, "If-Match", `"1"`).want(t, http.StatusCreated)
		r.decode(t, &f)
		if len(f.CorrectiveActions) != 1 || r.header.Get("ETag") != `"2"` {
			t.Fatalf("action added: %+v", f)
		}
		a.do("POST", "/api/v1/records/"+f.Number+"/actions/plan", ana, nil, "If-Match", `"2"`).want(t, http.StatusOK)
		a.do("POST", "/api/v1/records/"+f.Number+"/actions/close", mgr, nil, "If-Match", `"3"`).want(t, http.StatusConflict)
		path := "/api/v1/findings/" + f.Number + "/corrective-actions/" + strconv.FormatInt(f.CorrectiveActions[0].ID, 10)
		a.do("PATCH", path, ana, map[string]any{"status": "finished"}, "If-Match", `"3"`).want(t, http.StatusUnprocessableEntity)
		a.do("PATCH", path, ana, map[string]any{"status": "done"}, "If-Match", `"3"`).want(t, http.StatusOK).decode(t, &f)
		a.do("POST", "/api/v1/records/"+f.Number+"/actions/close", mgr, nil, "If-Match", `"4"`).want(t, http.StatusOK)
		a.do("GET", "/api/v1/findings/"+f.Number, str, nil).want(t, http.StatusOK).decode(t, &f)
		if f.State != controls.FindingClosed || f.CorrectiveActions[0].Status != controls.ActionDone {
			t.Fatalf("closed finding: %+v", f)
		}
		a.do("GET", "/api/v1/findings/"+doc.Number, str, nil).want(t, http.StatusNotFound)

		// An evaluation, submitted and accepted by the owner (A for IM8).
		var ev controls.Evaluation
		a.do("POST", "/api/v1/processes/IM/evaluations", mgr, map[string]any{"title": "Q1", "gapAnalysis": "gap",
			"measurements": []map[string]any{{"name": "MTTR", "value": 4.5, "unit": "h", "target": 4, "direction": "lower_is_better"}}}).
			want(t, http.StatusCreated).decode(t, &ev)
		if m := ev.Measurements[0].Met; m == nil || *m {
			t.Fatalf("measurement: %+v", ev.Measurements)
		}
		a.do("PATCH", "/api/v1/evaluations/"+ev.Number, mgr, map[string]any{"initiatives": []map[string]any{{"title": "Automate triage"}}},
			"If-Match", `"1"`).want(t, http.StatusOK).decode(t, &ev)
		a.do("POST", "/api/v1/records/"+ev.Number+"/actions/submit", mgr, nil, "If-Match", `"2"`).want(t, http.StatusOK)
		a.do("POST", "/api/v1/records/"+ev.Number+"/actions/accept", own, nil, "If-Match", `"3"`).want(t, http.StatusOK)
		var evs struct{ Items []controls.Evaluation }
		a.do("GET", "/api/v1/processes/IM/evaluations", str, nil).want(t, http.StatusOK).decode(t, &evs)
		if len(evs.Items) != 1 || evs.Items[0].State != controls.EvalAccepted || len(evs.Items[0].Initiatives) != 1 {
			t.Fatalf("evaluations: %+v", evs.Items)
		}
	})
}
