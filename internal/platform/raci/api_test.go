package raci_test

import (
	"bytes"
	"context"
	"encoding/csv"
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

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
)

// server is the RACI API over a real database, behind the real authentication and guard.
type server struct {
	*fixture
	srv  *httptest.Server
	auth *auth.Service
}

func newServer(t testing.TB, d *db.DB) *server {
	t.Helper()
	f := setup(t, d)
	httpx.InstallErrorSanitizer()
	as := auth.NewService(d, f.trail, f.ob, f.clk, auth.NewHasher(1), auth.DefaultConfig())
	cfg := huma.DefaultConfig("raci test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{"bearer": {Type: "http", Scheme: "bearer"},
		"session": {Type: "apiKey", In: "cookie", Name: auth.SessionCookie}}
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, as))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.s.SetBanner(func(ctx context.Context) string { return "UNCLASSIFIED" })
	raci.RegisterAPI(&httpx.API{API: hapi, Log: log}, f.s)
	h := httpx.Chain(mux, httpx.RequestMeta(), auth.Authenticate(as, log, nil), raci.RequestCache, httpx.APIErrorsAsProblems)
	s := &server{fixture: f, srv: httptest.NewServer(h), auth: as}
	t.Cleanup(s.srv.Close)
	return s
}

// token issues an API token for p.
func (s *server) token(t testing.TB, p *auth.Principal) string {
	t.Helper()
	secret, _, err := s.auth.CreateToken(s.ctx, p.UserID, "test", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// problem is the problem+json of a refusal.
type problem struct {
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Location string `json:"location"`
		Message  string `json:"message"`
	} `json:"errors"`
}

func (s *server) do(t testing.TB, method, path, token string, body any, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := s.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func want(t testing.TB, r reply, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

// wantProblem checks a refusal's status and that some error (or the detail) names every word.
func wantProblem(t testing.TB, r reply, status int, loc string, words ...string) {
	t.Helper()
	want(t, r, status)
	var p problem
	r.decode(t, &p)
	texts := []string{p.Detail}
	for _, e := range p.Errors {
		if loc == "" || e.Location == loc {
			texts = append(texts, e.Message)
		}
	}
	for _, txt := range texts {
		ok := loc == "" || txt != p.Detail
		for _, w := range words {
			ok = ok && strings.Contains(txt, w)
		}
		if ok {
			return
		}
	}
	t.Fatalf("no error at %q naming %q: %s", loc, words, r.body)
}

// TestAPIProcesses: the process list names every process and activity of both seeds (the
// framework model is the oracle), and one process shows its text, activities and roles.
func TestAPIProcesses(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d)
		tok := s.token(t, s.user(t, "reader", false))
		want(t, s.do(t, "GET", "/api/v1/processes", "", nil), http.StatusUnauthorized)

		var list struct {
			Items []struct {
				Code, Name, Domain string
				Activities         []struct{ Code, Name string }
			}
		}
		want(t, s.do(t, "GET", "/api/v1/processes", tok, nil), http.StatusOK).decode(t, &list)
		listed := map[string]string{}
		procs := map[string]bool{}
		for _, p := range list.Items {
			procs[p.Code] = true
			if p.Name == "" || p.Domain == "" {
				t.Errorf("process %s lacks a name or domain", p.Code)
			}
			for _, a := range p.Activities {
				listed[a.Code] = p.Code
			}
		}
		for _, p := range append(s.m.Processes(), s.m.TAXUD().SubProcesses()...) {
			if !procs[p.Code] {
				t.Errorf("process %s is not listed", p.Code)
			}
		}
		for _, a := range s.m.Activities() {
			if listed[a.Code] != a.Process {
				t.Errorf("activity %s of %s is listed under %q", a.Code, a.Process, listed[a.Code])
			}
		}
		if len(listed) != len(s.m.Activities()) || listed["ITSCM.2.7"] != "ITSCM.2" {
			t.Errorf("%d activities listed, the model has %d", len(listed), len(s.m.Activities()))
		}

		var doms struct{ Items []struct{ Code string } }
		want(t, s.do(t, "GET", "/api/v1/domains", tok, nil), http.StatusOK).decode(t, &doms)
		if len(doms.Items) != 5 {
			t.Errorf("%d domains", len(doms.Items))
		}

		var p raci.ProcessDetail
		r := want(t, s.do(t, "GET", "/api/v1/processes/ITSCM.2", tok, nil), http.StatusOK)
		r.decode(t, &p)
		if r.header.Get("ETag") != `"1"` || p.Domain.Code != "SD" || p.Parent != "ITSCM" || p.Purpose == "" || len(p.Activities) != 11 ||
			len(p.Roles) < 13 || p.Roles[5].Code != "itsm-service-continuity-manager" {
			t.Errorf("ITSCM.2: etag %s %+v", r.header.Get("ETag"), p)
		}
		want(t, s.do(t, "GET", "/api/v1/processes/IM", tok, nil), http.StatusOK).decode(t, &p)
		if len(p.Benefits) == 0 || len(p.Outcomes) == 0 || p.Scope == "" || p.Roles[0].Name != "Incident Management Process Owner" {
			t.Errorf("IM: %+v", p)
		}
		wantProblem(t, s.do(t, "GET", "/api/v1/processes/NOPE", tok, nil), http.StatusNotFound, "", "NOPE")
	})
}

// TestAPIMatrix: reading, editing with If-Match, every kind of bad input, and the CSV.
func TestAPIMatrix(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d)
		owner, other := s.user(t, "olga", false), s.user(t, "oscar", false)
		s.assign(t, raci.RoleAssignment{Subject: "IM", Role: raci.RoleProcessOwner, UserID: owner.UserID})
		ot, xt := s.token(t, owner), s.token(t, other)

		var doc raci.MatrixDoc
		r := want(t, s.do(t, "GET", "/api/v1/processes/IM/raci", xt, nil), http.StatusOK)
		r.decode(t, &doc)
		if r.header.Get("ETag") != `"1"` || doc.Tailored || len(doc.Rows) != 8 || doc.Rows[4].Cells["process-manager"] != "A" ||
			doc.RoleNames["process-analyst"] != "Incident Management Process Analyst/Practitioner" || doc.ActivityNames["IM5"] != "Resolve and Recover Incident" {
			t.Fatalf("GET raci: %s %+v", r.header.Get("ETag"), doc)
		}
		body := func(mut func(rows []raci.MatrixRow) []raci.MatrixRow, roles ...string) raci.MatrixBody {
			rows := make([]raci.MatrixRow, len(doc.Rows))
			for i, r := range doc.Rows {
				cells := map[string]string{}
				for k, v := range r.Cells {
					cells[k] = v
				}
				rows[i] = raci.MatrixRow{Activity: r.Activity, Cells: cells}
			}
			return raci.MatrixBody{Roles: append(append([]string{}, doc.Roles...), roles...), Rows: mut(rows)}
		}
		same := func(rows []raci.MatrixRow) []raci.MatrixRow { return rows }
		put := func(tok string, b raci.MatrixBody, etag ...string) reply {
			return s.do(t, "PUT", "/api/v1/processes/IM/raci", tok, b, append([]string{"If-Match"}, etag...)...)
		}

		want(t, s.do(t, "PUT", "/api/v1/processes/IM/raci", ot, body(same)), http.StatusPreconditionRequired)
		twoA := body(func(rows []raci.MatrixRow) []raci.MatrixRow { rows[4].Cells["process-owner"] = "A"; return rows })
		wantProblem(t, put(ot, twoA, `"1"`), http.StatusUnprocessableEntity, "body.rows[4].cells", "IM5", "exactly one A")
		noR := body(func(rows []raci.MatrixRow) []raci.MatrixRow { rows[2].Cells["process-analyst"] = "C"; return rows })
		wantProblem(t, put(ot, noR, `"1"`), http.StatusUnprocessableEntity, "body.rows[2].cells", "IM3", "at least one R")
		wantProblem(t, put(ot, body(same, "chief-wizard"), `"1"`), http.StatusUnprocessableEntity, "body.roles[4]", "chief-wizard", "role must be known")
		unknownAct := body(func(rows []raci.MatrixRow) []raci.MatrixRow {
			return append(rows, raci.MatrixRow{Activity: "IM42", Cells: map[string]string{"process-manager": "AR"}})
		})
		wantProblem(t, put(ot, unknownAct, `"1"`), http.StatusUnprocessableEntity, "body.rows[8].activity", "IM42")
		// Bad letters are reported together with the other problems.
		letters := body(func(rows []raci.MatrixRow) []raci.MatrixRow {
			rows[1].Cells["process-analyst"] = "RR"
			rows[4].Cells["process-owner"] = "A"
			return rows
		})
		r = put(ot, letters, `"1"`)
		wantProblem(t, r, http.StatusUnprocessableEntity, "body.rows[1].cells.process-analyst", "letters")
		wantProblem(t, r, http.StatusUnprocessableEntity, "body.rows[4].cells", "IM5")
		wantProblem(t, put(ot, body(same), `"7"`), http.StatusPreconditionFailed, "", "IM")
		wantProblem(t, put(xt, body(same), `"1"`), http.StatusForbidden, "", "process owner of IM", "olga")
		wantProblem(t, put(xt, letters, `"1"`), http.StatusForbidden, "", "process owner of IM")

		// The owner's edit; a second edit made from the same read is refused.
		edit := body(func(rows []raci.MatrixRow) []raci.MatrixRow { rows[4].Cells["process-developer"] = "C/I"; return rows })
		r = want(t, put(ot, edit, `"1"`), http.StatusOK)
		r.decode(t, &doc)
		if r.header.Get("ETag") != `"2"` || !doc.Tailored || doc.Rows[4].Cells["process-developer"] != "I/C" {
			t.Fatalf("after PUT: %s %+v", r.header.Get("ETag"), doc.Rows[4])
		}
		wantProblem(t, put(s.token(t, s.admin), body(same), `"1"`), http.StatusPreconditionFailed, "", "changed")

		// CSV, with the marking first and last.
		r = want(t, s.do(t, "GET", "/api/v1/processes/IM/raci.csv", xt, nil), http.StatusOK)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("content type %q", ct)
		}
		cr := csv.NewReader(bytes.NewReader(r.body))
		cr.FieldsPerRecord = -1
		recs, err := cr.ReadAll()
		if err != nil || len(recs) != 11 || recs[0][0] != "UNCLASSIFIED" || recs[10][0] != "UNCLASSIFIED" {
			t.Fatalf("csv: %v %q", err, r.body)
		}
		if strings.Join(recs[1], "|") != "Activity|Name|Incident Management Process Owner|Incident Management Process Manager|Incident Management Process Developer|Incident Management Process Analyst/Practitioner" ||
			strings.Join(recs[6], "|") != "IM5|Resolve and Recover Incident|I|A|I/C|R" {
			t.Errorf("csv rows: %q / %q", recs[1], recs[6])
		}
		want(t, s.do(t, "GET", "/api/v1/processes/NOPE/raci.csv", xt, nil), http.StatusNotFound)

		// The OpenAPI document says the export is CSV.
		var oas struct {
			Paths map[string]map[string]struct {
				Responses map[string]struct {
					Content map[string]any `json:"content"`
				} `json:"responses"`
			} `json:"paths"`
		}
		want(t, s.do(t, "GET", "/api/v1/openapi.json", "", nil), http.StatusOK).decode(t, &oas)
		if _, ok := oas.Paths["/api/v1/processes/{code}/raci.csv"]["get"].Responses["200"].Content["text/csv"]; !ok {
			t.Errorf("the OpenAPI document does not describe the CSV: %+v", oas.Paths["/api/v1/processes/{code}/raci.csv"])
		}

		// Reset needs If-Match too.
		want(t, s.do(t, "DELETE", "/api/v1/processes/IM/raci", ot, nil), http.StatusPreconditionRequired)
		r = want(t, s.do(t, "DELETE", "/api/v1/processes/IM/raci", ot, nil, "If-Match", `"2"`), http.StatusOK)
		if r.header.Get("ETag") != `"3"` {
			t.Errorf("reset ETag %s", r.header.Get("ETag"))
		}
	})
}

// TestAPITailoringAndRoles: local roles and activities, renames and settings, the role
// catalogue, assignments, holders, who does what and the decision, through HTTP.
func TestAPITailoringAndRoles(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newServer(t, d)
		owner, ann := s.user(t, "olga", false), s.user(t, "ann", false)
		admin, ot, at := s.token(t, s.admin), s.token(t, owner), s.token(t, ann)
		desk := s.team(t, "Service Desk", ann)

		var a raci.RoleAssignment
		want(t, s.do(t, "POST", "/api/v1/role-assignments", admin, map[string]any{"subject": "IM", "role": "process-owner", "userId": owner.UserID}), http.StatusCreated).decode(t, &a)
		wantProblem(t, s.do(t, "POST", "/api/v1/role-assignments", admin, map[string]any{"subject": "IM", "role": "process-owner", "userId": ann.UserID}),
			http.StatusConflict, "", "olga")
		wantProblem(t, s.do(t, "POST", "/api/v1/role-assignments", ot, map[string]any{"subject": "IM", "role": "wizard", "userId": ann.UserID}),
			http.StatusUnprocessableEntity, "body.role", "unknown role")
		wantProblem(t, s.do(t, "POST", "/api/v1/role-assignments", at, map[string]any{"subject": "IM", "role": "process-manager", "userId": ann.UserID}),
			http.StatusForbidden, "", "process owner of IM")
		var mgr raci.RoleAssignment
		want(t, s.do(t, "POST", "/api/v1/role-assignments", ot, map[string]any{"subject": "IM", "role": "process-analyst", "teamId": desk,
			"scope": map[string]any{"teamId": desk}}), http.StatusCreated).decode(t, &mgr)
		var list struct{ Items []raci.RoleAssignment }
		want(t, s.do(t, "GET", "/api/v1/role-assignments?subject=IM&role=process-analyst", at, nil), http.StatusOK).decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].TeamName != "Service Desk" {
			t.Errorf("assignments: %+v", list.Items)
		}
		want(t, s.do(t, "GET", "/api/v1/role-assignments?colour=red", at, nil), http.StatusUnprocessableEntity)

		// The decision for the caller.
		var dec raci.Decision
		want(t, s.do(t, "GET", "/api/v1/processes/IM/activities/IM5/decision?teamId="+idStr(desk), at, nil), http.StatusOK).decode(t, &dec)
		if !dec.Allowed || dec.Via != "through team Service Desk" {
			t.Errorf("decision: %+v", dec)
		}
		want(t, s.do(t, "GET", "/api/v1/processes/IM/activities/IM5/decision", at, nil), http.StatusOK).decode(t, &dec)
		if dec.Allowed {
			t.Errorf("allowed outside the team's scope: %+v", dec)
		}
		wantProblem(t, s.do(t, "GET", "/api/v1/processes/IM/activities/ChM5/decision", at, nil), http.StatusUnprocessableEntity, "path.activity", "ChM5")

		// Tailoring through HTTP.
		var role raci.ProcessRole
		r := want(t, s.do(t, "POST", "/api/v1/processes/IM/roles", ot, map[string]any{"code": "incident-coordinator", "name": "Incident Coordinator",
			"cells": map[string]string{"IM4": "C"}}), http.StatusCreated)
		r.decode(t, &role)
		if r.header.Get("ETag") != `"2"` || !role.Column {
			t.Errorf("add role: %s %+v", r.header.Get("ETag"), role)
		}
		wantProblem(t, s.do(t, "POST", "/api/v1/processes/IM/roles", ot, map[string]any{"code": "mim", "name": "MIM", "cells": map[string]string{"IM5": "A"}}),
			http.StatusUnprocessableEntity, "body.cells.IM5", "IM5", "exactly one A")
		wantProblem(t, s.do(t, "POST", "/api/v1/processes/IM/roles", at, map[string]any{"code": "mim", "name": "MIM"}), http.StatusForbidden, "", "process owner")
		want(t, s.do(t, "PATCH", "/api/v1/processes/IM/roles/process-analyst", ot, map[string]any{"name": "Resolver"}), http.StatusPreconditionRequired)
		wantProblem(t, s.do(t, "PATCH", "/api/v1/processes/IM/roles/process-analyst", ot, map[string]any{"name": "Resolver"}, "If-Match", `"1"`),
			http.StatusPreconditionFailed, "", "IM")
		want(t, s.do(t, "PATCH", "/api/v1/processes/IM/roles/process-analyst", ot, map[string]any{"name": "Resolver"}, "If-Match", `"2"`), http.StatusOK).decode(t, &role)
		if role.Name != "Resolver" {
			t.Errorf("rename: %+v", role)
		}
		wantProblem(t, s.do(t, "PATCH", "/api/v1/processes/IM/roles/wizard", ot, map[string]any{"name": "x"}, "If-Match", `"3"`),
			http.StatusUnprocessableEntity, "path.role", "unknown role")
		var act raci.ProcessActivity
		r = want(t, s.do(t, "POST", "/api/v1/processes/IM/activities", ot, map[string]any{"code": "IM5.1", "name": "Verify with the caller"}), http.StatusCreated)
		r.decode(t, &act)
		if act.Parent != "IM5" || r.header.Get("ETag") != `"4"` {
			t.Errorf("add activity: %s %+v", r.header.Get("ETag"), act)
		}
		wantProblem(t, s.do(t, "POST", "/api/v1/processes/IM/activities", ot, map[string]any{"code": "IM6", "name": "x"}),
			http.StatusUnprocessableEntity, "body.code", "seed")
		want(t, s.do(t, "PATCH", "/api/v1/processes/IM/activities/IM5.1", ot, map[string]any{"requiresApproval": true}, "If-Match", `"4"`), http.StatusOK).decode(t, &act)
		if !act.RequiresApproval {
			t.Errorf("settings: %+v", act)
		}
		wantProblem(t, s.do(t, "PATCH", "/api/v1/processes/IM/activities/IM99", ot, map[string]any{"requiresApproval": true}, "If-Match", `"5"`),
			http.StatusUnprocessableEntity, "path.activity", "unknown activity")
		var p raci.ProcessDetail
		r = want(t, s.do(t, "GET", "/api/v1/processes/IM", at, nil), http.StatusOK)
		r.decode(t, &p)
		if r.header.Get("ETag") != `"5"` || len(p.Activities) != 9 || p.Activities[5].Code != "IM5.1" || !p.Activities[5].RequiresApproval {
			t.Errorf("IM after tailoring: %s %+v", r.header.Get("ETag"), p.Activities)
		}

		// The catalogue.
		wantProblem(t, s.do(t, "POST", "/api/v1/process-roles", ot, map[string]any{"code": "quality-officer", "name": "Quality Officer"}), http.StatusForbidden, "", "administrator")
		want(t, s.do(t, "POST", "/api/v1/process-roles", admin, map[string]any{"code": "quality-officer", "name": "Quality Officer"}), http.StatusCreated)
		var roles struct{ Items []raci.ProcessRole }
		want(t, s.do(t, "GET", "/api/v1/process-roles", at, nil), http.StatusOK).decode(t, &roles)
		if len(roles.Items) != len(s.m.Roles())+2 {
			t.Errorf("catalogue has %d roles, want %d", len(roles.Items), len(s.m.Roles())+2)
		}

		// Holders and who does what.
		var hs struct{ Items []raci.RoleHolder }
		want(t, s.do(t, "GET", "/api/v1/process-roles/process-analyst/holders?process=IM", at, nil), http.StatusOK).decode(t, &hs)
		if len(hs.Items) != 1 || hs.Items[0].Username != "ann" || hs.Items[0].Scope.TeamID != desk {
			t.Errorf("holders: %+v", hs.Items)
		}
		wantProblem(t, s.do(t, "GET", "/api/v1/process-roles/wizard/holders", at, nil), http.StatusUnprocessableEntity, "", "unknown role")
		wantProblem(t, s.do(t, "GET", "/api/v1/process-roles/process-analyst/holders?process=NOPE", at, nil), http.StatusUnprocessableEntity, "query.process", "NOPE")
		var resp struct{ Items []raci.Responsibility }
		want(t, s.do(t, "GET", "/api/v1/users/"+idStr(ann.UserID)+"/responsibilities", at, nil), http.StatusOK).decode(t, &resp)
		if len(resp.Items) != 1 || resp.Items[0].RoleName != "Resolver" || len(resp.Items[0].Processes[0].Duties) != 9 {
			t.Errorf("responsibilities: %+v", resp.Items)
		}
		want(t, s.do(t, "GET", "/api/v1/users/999999/responsibilities", at, nil), http.StatusNotFound)

		// Removal.
		want(t, s.do(t, "DELETE", "/api/v1/role-assignments/"+idStr(mgr.ID), at, nil), http.StatusForbidden)
		want(t, s.do(t, "DELETE", "/api/v1/role-assignments/"+idStr(mgr.ID), ot, nil), http.StatusNoContent)
		want(t, s.do(t, "DELETE", "/api/v1/role-assignments/"+idStr(mgr.ID), ot, nil), http.StatusNotFound)

		// Every change made through the API is audited with its actor.
		var n int64
		if err := d.QueryRowContext(s.ctx, `SELECT COUNT(*) FROM audit_log WHERE actor_name = ? AND (object_type IN ('raci', 'process-role', 'process-activity'))`, "olga").Scan(&n); err != nil || n < 7 {
			t.Errorf("olga's changes audited %d times (%v)", n, err)
		}
	})
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
