package controls_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"steward/internal/improvement/controls"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
)

// newAPI serves the record and controls APIs over e as the application serves them.
func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.recs)
		controls.RegisterAPI(a, e.svc)
	})
}

// problem is a problem+json body.
type problem = apitest.Problem

// TestAPIControls drives the three controls through the HTTP API: creating
// them per process, the kernel's workflow actions with the resolved activity
// codes, versions, corrective actions and evaluations, with ETags throughout.
func TestAPIControls(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		mgr, own, ana, str := a.Token(e.manager), a.Token(e.owner), a.Token(e.analyst), a.Token(e.stranger)

		// Refusals: 401, 403 naming IM1, 422 naming the path for EVAL.
		body := map[string]any{"title": "IM policy", "kind": "policy", "body": "Log every incident."}
		a.Do("POST", "/api/v1/processes/IM/documents", "", body).Want(t, http.StatusUnauthorized)
		var p problem
		a.Do("POST", "/api/v1/processes/IM/documents", str, body).Want(t, http.StatusForbidden).Decode(t, &p)
		if !strings.Contains(p.Detail, "IM1") {
			t.Fatalf("403 does not name IM1: %+v", p)
		}
		a.Do("POST", "/api/v1/processes/EVAL/documents", mgr, body).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if len(p.Errors) == 0 || p.Errors[0].Location != "path.code" {
			t.Fatalf("EVAL: %+v", p)
		}

		// A policy: created, listed, edited with If-Match, submitted and approved.
		var doc controls.Document
		r := a.Do("POST", "/api/v1/processes/IM/documents", mgr, body).Want(t, http.StatusCreated)
		r.Decode(t, &doc)
		if r.Header.Get("ETag") != `"1"` || doc.Kind != controls.Policy || doc.VersionNumber != 1 {
			t.Fatalf("created: %s %+v", r.Header.Get("ETag"), doc)
		}
		var list struct{ Items []controls.Document }
		r = a.Do("GET", "/api/v1/processes/IM/documents?state=draft", ana, nil).Want(t, http.StatusOK)
		r.Decode(t, &list)
		if len(list.Items) != 1 || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("list: %s", r.Body)
		}
		a.Do("PATCH", "/api/v1/process-documents/"+doc.Number, mgr, map[string]any{"body": "x"}).Want(t, http.StatusPreconditionRequired)
		r = a.Do("PATCH", "/api/v1/process-documents/"+doc.Number, mgr, map[string]any{"body": "Log every incident at once."},
			"If-Match", `"1"`).Want(t, http.StatusOK)
		r.Decode(t, &doc)
		if doc.Body != "Log every incident at once." || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("patched: %+v", doc)
		}
		var acts struct{ Items []record.Action }
		a.Do("GET", "/api/v1/records/"+doc.Number+"/actions", mgr, nil).Want(t, http.StatusOK).Decode(t, &acts)
		if len(acts.Items) == 0 || acts.Items[0].Action != "submit" || acts.Items[0].Activity != "IM1" {
			t.Fatalf("actions: %+v", acts)
		}
		a.Do("POST", "/api/v1/records/"+doc.Number+"/actions/submit", mgr, nil, "If-Match", `"2"`).Want(t, http.StatusOK)
		var res record.Result
		a.Do("POST", "/api/v1/records/"+doc.Number+"/actions/approve", mgr, nil, "If-Match", `"3"`).
			Want(t, http.StatusAccepted).Decode(t, &res)
		a.Do("POST", "/api/v1/approvals/"+strconv.FormatInt(res.Step.ID, 10)+"/approve", own, nil).Want(t, http.StatusOK)
		a.Do("GET", "/api/v1/process-documents/"+doc.Number, ana, nil).Want(t, http.StatusOK).Decode(t, &doc)
		if doc.State != controls.DocApproved {
			t.Fatalf("approved: %+v", doc)
		}

		// A new version.
		var v2 controls.Document
		a.Do("POST", "/api/v1/process-documents/"+doc.Number+"/versions", mgr, map[string]any{"body": "v2"}).
			Want(t, http.StatusCreated).Decode(t, &v2)
		if v2.VersionNumber != 2 || v2.Supersedes != doc.Number {
			t.Fatalf("version 2: %+v", v2)
		}
		a.Do("POST", "/api/v1/process-documents/"+doc.Number+"/versions", mgr, nil).Want(t, http.StatusConflict)

		// A finding with a corrective action; the analyst owns it and reports it done.
		var f controls.Finding
		a.Do("POST", "/api/v1/processes/IM/findings", ana, map[string]any{"title": "Backlog", "severity": "medium",
			"observation": "The queue grows."}).Want(t, http.StatusCreated).Decode(t, &f)
		r = a.Do("POST", "/api/v1/findings/"+f.Number+"/corrective-actions", ana, map[string]any{"description": "Add staff",
			"ownerId": e.analyst.ID, "dueDate": "2025-03-20"}, "If-Match", `"1"`).Want(t, http.StatusCreated)
		r.Decode(t, &f)
		if len(f.CorrectiveActions) != 1 || r.Header.Get("ETag") != `"2"` {
			t.Fatalf("action added: %+v", f)
		}
		a.Do("POST", "/api/v1/records/"+f.Number+"/actions/plan", ana, nil, "If-Match", `"2"`).Want(t, http.StatusOK)
		a.Do("POST", "/api/v1/records/"+f.Number+"/actions/close", mgr, nil, "If-Match", `"3"`).Want(t, http.StatusConflict)
		path := "/api/v1/findings/" + f.Number + "/corrective-actions/" + strconv.FormatInt(f.CorrectiveActions[0].ID, 10)
		a.Do("PATCH", path, ana, map[string]any{"status": "finished"}, "If-Match", `"3"`).Want(t, http.StatusUnprocessableEntity)
		a.Do("PATCH", path, ana, map[string]any{"status": "done"}, "If-Match", `"3"`).Want(t, http.StatusOK).Decode(t, &f)
		a.Do("POST", "/api/v1/records/"+f.Number+"/actions/close", mgr, nil, "If-Match", `"4"`).Want(t, http.StatusOK)
		a.Do("GET", "/api/v1/findings/"+f.Number, str, nil).Want(t, http.StatusOK).Decode(t, &f)
		if f.State != controls.FindingClosed || f.CorrectiveActions[0].Status != controls.ActionDone {
			t.Fatalf("closed finding: %+v", f)
		}
		a.Do("GET", "/api/v1/findings/"+doc.Number, str, nil).Want(t, http.StatusNotFound)

		// An evaluation, submitted and accepted by the owner (A for IM8).
		var ev controls.Evaluation
		a.Do("POST", "/api/v1/processes/IM/evaluations", mgr, map[string]any{"title": "Q1", "gapAnalysis": "gap",
			"measurements": []map[string]any{{"name": "MTTR", "value": 4.5, "unit": "h", "target": 4, "direction": "lower_is_better"}}}).
			Want(t, http.StatusCreated).Decode(t, &ev)
		if m := ev.Measurements[0].Met; m == nil || *m {
			t.Fatalf("measurement: %+v", ev.Measurements)
		}
		a.Do("PATCH", "/api/v1/evaluations/"+ev.Number, mgr, map[string]any{"initiatives": []map[string]any{{"title": "Automate triage"}}},
			"If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &ev)
		a.Do("POST", "/api/v1/records/"+ev.Number+"/actions/submit", mgr, nil, "If-Match", `"2"`).Want(t, http.StatusOK)
		a.Do("POST", "/api/v1/records/"+ev.Number+"/actions/accept", own, nil, "If-Match", `"3"`).Want(t, http.StatusOK)
		var evs struct{ Items []controls.Evaluation }
		a.Do("GET", "/api/v1/processes/IM/evaluations", str, nil).Want(t, http.StatusOK).Decode(t, &evs)
		if len(evs.Items) != 1 || evs.Items[0].State != controls.EvalAccepted || len(evs.Items[0].Initiatives) != 1 {
			t.Fatalf("evaluations: %+v", evs.Items)
		}
	})
}
