package record_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// api is the record API over an env, behind the request-id, JSON-body and
// authentication middleware and the API guard, as the application serves it.
type api struct {
	e       *env
	handler http.Handler
}

func newAPI(e *env) *api {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Record API test", "1")
	cfg.OpenAPIPath, cfg.DocsPath, cfg.SchemasPath, cfg.CreateHooks = "/api/v1/openapi", "", "", nil
	cfg.RejectUnknownQueryParameters = true
	cfg.Transformers = append(cfg.Transformers, httpx.SelectFields)
	mux := http.NewServeMux()
	hapi := humago.New(mux, cfg)
	hapi.UseMiddleware(auth.APIGuard(hapi, e.auth))
	log := slog.New(slog.DiscardHandler)
	record.RegisterAPI(&httpx.API{API: hapi, Log: log}, e.svc)
	return &api{e: e, handler: httpx.Chain(mux, httpx.RequestMeta(), httpx.CheckJSONBody(1<<20),
		auth.Authenticate(e.auth, log, nil), raci.RequestCache, httpx.APIErrorsAsProblems)}
}

// token issues an API token for u.
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

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r reply) want(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	if status >= 400 && !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("error without problem+json: %s %s", r.header.Get("Content-Type"), r.body)
	}
	return r
}

func (r reply) detail(t testing.TB) string {
	t.Helper()
	var p struct{ Detail string }
	r.decode(t, &p)
	return p.Detail
}

// do sends a request; body is JSON unless it is a []byte, sent as is with ctype.
func (a *api) do(method, path, token string, body any, headers ...string) reply {
	a.e.t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/octet-stream"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			a.e.t.Fatal(err)
		}
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req := httptest.NewRequest(method, path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	w := httptest.NewRecorder()
	a.handler.ServeHTTP(w, req)
	res := w.Result()
	b, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: b}
}

func TestAPIWorkflow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		e.setGate("IM6", record.Gate{Approval: true})
		h := newAPI(e)
		analyst, manager, stranger, owner := h.token(c.analyst), h.token(c.manager), h.token(c.stranger), h.token(c.owner)
		r := c.ticket(e, "Printer on fire")
		path := "/api/v1/records/" + r.Number

		got := h.do("GET", strings.ToLower(path), stranger, nil).want(t, 200)
		if got.header.Get("ETag") != `"1"` {
			t.Fatalf("ETag %q", got.header.Get("ETag"))
		}
		h.do("GET", path, "", nil).want(t, 401)
		h.do("GET", "/api/v1/records/TKT0999999", stranger, nil).want(t, 404)

		// Transitions need If-Match; the guard refuses a user without R or A with 403 naming the activity.
		h.do("POST", path+"/actions/investigate", analyst, nil).want(t, 428)
		det := h.do("POST", path+"/actions/resolve", stranger, nil, "If-Match", `"1"`).want(t, 403).detail(t)
		if !strings.Contains(det, "IM5") || !strings.Contains(det, "Incident Analyst (R)") {
			t.Fatalf("403 detail %q", det)
		}
		h.do("POST", path+"/actions/investigate", analyst, nil, "If-Match", `"7"`).want(t, 412)
		res := h.do("POST", path+"/actions/investigate", analyst, map[string]string{"comment": "on it"}, "If-Match", `"1"`).want(t, 200)
		if res.header.Get("ETag") != `"2"` {
			t.Fatalf("ETag after investigate %q", res.header.Get("ETag"))
		}
		var out record.Result
		res.decode(t, &out)
		if out.Outcome != record.OutcomeApplied || out.Record.State != "in_progress" {
			t.Fatalf("investigate: %+v", out)
		}
		det = h.do("POST", path+"/actions/investigate", analyst, nil, "If-Match", `"2"`).want(t, 409).detail(t)
		if !strings.Contains(det, "allowed from in_progress: resolve") {
			t.Fatalf("409 detail %q", det)
		}
		h.do("POST", path+"/actions/explode", analyst, nil, "If-Match", `"2"`).want(t, 422)

		var acts struct{ Items []record.Action }
		h.do("GET", path+"/actions", analyst, nil).want(t, 200).decode(t, &acts)
		if len(acts.Items) != 1 || acts.Items[0].Action != "resolve" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("actions: %+v", acts)
		}
		h.do("POST", path+"/actions/resolve", analyst, nil, "If-Match", `"2"`).want(t, 200)

		// The approval-gated close answers 202 and waits for the A holder.
		res = h.do("POST", path+"/actions/close", analyst, nil, "If-Match", `"3"`).want(t, 202)
		res.decode(t, &out)
		if out.Outcome != record.OutcomeAwaitingApproval || out.Step == nil || out.Record.State != "resolved" {
			t.Fatalf("close: %+v", out)
		}
		step := out.Step.ID
		var approvals struct{ Items []record.Step }
		h.do("GET", "/api/v1/approvals?state=pending&mine=true", manager, nil).want(t, 200).decode(t, &approvals)
		if len(approvals.Items) != 1 || approvals.Items[0].ID != step || approvals.Items[0].Record != r.Number {
			t.Fatalf("manager's approvals: %+v", approvals)
		}
		h.do("GET", "/api/v1/approvals?state=pending&mine=true", analyst, nil).want(t, 200).decode(t, &approvals)
		if len(approvals.Items) != 0 {
			t.Fatalf("analyst's approvals: %+v", approvals)
		}
		h.do("GET", "/api/v1/approvals?state=whatever", analyst, nil).want(t, 422)
		h.do("GET", fmt.Sprintf("/api/v1/approvals/%d", step), owner, nil).want(t, 200)
		h.do("POST", fmt.Sprintf("/api/v1/approvals/%d/approve", step), analyst, nil).want(t, 403)
		h.do("POST", fmt.Sprintf("/api/v1/approvals/%d/reject", step), manager, map[string]string{}).want(t, 422)
		res = h.do("POST", fmt.Sprintf("/api/v1/approvals/%d/approve", step), manager, map[string]string{"reason": "ok"}).want(t, 200)
		res.decode(t, &out)
		if out.Record.State != "closed" || res.header.Get("ETag") != `"4"` {
			t.Fatalf("approved: %+v", out)
		}
		if inf := e.events("raci.informed"); len(inf) != 2 || inf[1].Data["activity"] != "IM6" {
			t.Fatalf("informed: %+v", inf)
		}
		h.do("POST", fmt.Sprintf("/api/v1/approvals/%d/approve", step), manager, nil).want(t, 409)
	})
}

func TestAPIConsultationsAndRecords(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d, record.Config{MaxAttachment: 2048})
		c := newCast(e)
		e.setGate("IM5", record.Gate{Consultation: true})
		h := newAPI(e)
		analyst, expert1, expert2, stranger, admin := h.token(c.analyst), h.token(c.expert1), h.token(c.expert2), h.token(c.stranger), h.token(c.admin)
		r := c.ticket(e, "Mail queue stuck")
		other := c.ticket(e, "Exchange cluster degraded")
		path := "/api/v1/records/" + r.Number

		// Consultation: answered by one, waived by the performer, then the step applies.
		res := h.do("POST", path+"/actions/resolve", analyst, nil, "If-Match", `"1"`).want(t, 202)
		var out record.Result
		res.decode(t, &out)
		if out.Outcome != record.OutcomeAwaitingConsultation || len(out.Consultations) != 2 {
			t.Fatalf("resolve: %+v", out)
		}
		var mine struct{ Items []record.Consultation }
		h.do("GET", "/api/v1/consultations?mine=true&state=open", expert1, nil).want(t, 200).decode(t, &mine)
		if len(mine.Items) != 1 {
			t.Fatalf("expert1's consultations: %+v", mine)
		}
		h.do("POST", fmt.Sprintf("/api/v1/consultations/%d/answer", mine.Items[0].ID), expert2, map[string]string{"answer": "x"}).want(t, 403)
		h.do("POST", fmt.Sprintf("/api/v1/consultations/%d/answer", mine.Items[0].ID), expert1, map[string]string{"answer": "agree"}).want(t, 202)
		h.do("GET", "/api/v1/consultations?mine=true&state=open", expert2, nil).want(t, 200).decode(t, &mine)
		h.do("POST", fmt.Sprintf("/api/v1/consultations/%d/waive", mine.Items[0].ID), stranger, map[string]string{"reason": "x"}).want(t, 403)
		res = h.do("POST", fmt.Sprintf("/api/v1/consultations/%d/waive", mine.Items[0].ID), analyst, map[string]string{"reason": "on leave"}).want(t, 200)
		res.decode(t, &out)
		if out.Outcome != record.OutcomeApplied || out.Record.State != "resolved" {
			t.Fatalf("after the waiver: %+v", out)
		}

		// Journal: work notes are internal; a caller can ask for comments only.
		h.do("POST", path+"/journal", analyst, map[string]string{"kind": "comment", "body": "fixed, please confirm"}).want(t, 201)
		h.do("POST", path+"/journal", analyst, map[string]string{"kind": "system", "body": "forged"}).want(t, 422)
		var journal struct{ Items []record.JournalEntry }
		h.do("GET", path+"/journal?internal=false", stranger, nil).want(t, 200).decode(t, &journal)
		if len(journal.Items) != 1 || journal.Items[0].Kind != record.Comment {
			t.Fatalf("public journal: %+v", journal)
		}
		h.do("GET", path+"/journal", stranger, nil).want(t, 200).decode(t, &journal)
		if len(journal.Items) < 4 {
			t.Fatalf("full journal: %+v", journal)
		}

		// Attachments: raw body, sniffed type, size limit, safe download.
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
		var att record.Attachment
		h.do("POST", path+"/attachments?name="+url.QueryEscape("../screen shot.png"), analyst, png, "Content-Type", "text/html").
			want(t, 201).decode(t, &att)
		if att.ContentType != "image/png" || att.Name != "screen shot.png" || att.DeclaredType != "text/html" {
			t.Fatalf("attachment: %+v", att)
		}
		h.do("POST", path+"/attachments?name=big.bin", analyst, make([]byte, 2049)).want(t, 413)
		h.do("POST", path+"/attachments", analyst, png).want(t, 422)
		dl := h.do("GET", fmt.Sprintf("/api/v1/attachments/%d", att.ID), stranger, nil).want(t, 200)
		if !bytes.Equal(dl.body, png) || dl.header.Get("X-Content-Type-Options") != "nosniff" || dl.header.Get("Content-Type") != "image/png" {
			t.Fatalf("download headers %v", dl.header)
		}
		if disp, params, err := mime.ParseMediaType(dl.header.Get("Content-Disposition")); err != nil || disp != "attachment" || params["filename"] != "screen shot.png" {
			t.Fatalf("Content-Disposition %q", dl.header.Get("Content-Disposition"))
		}
		var atts struct{ Items []record.Attachment }
		h.do("GET", path+"/attachments", stranger, nil).want(t, 200).decode(t, &atts)
		if len(atts.Items) != 1 {
			t.Fatalf("attachments: %+v", atts)
		}

		// Links, with the inverse name on the other side; self-links refused.
		var l record.Link
		h.do("POST", path+"/links", analyst, map[string]string{"type": "caused_by", "target": other.Number}).want(t, 201).decode(t, &l)
		h.do("POST", path+"/links", analyst, map[string]string{"type": "related_to", "target": r.Number}).want(t, 422)
		h.do("POST", "/api/v1/records/"+other.Number+"/links", analyst, map[string]string{"type": "causes", "target": r.Number}).want(t, 409)
		h.do("POST", path+"/links", analyst, map[string]string{"type": "blocks", "target": other.Number}).want(t, 422)
		var links struct{ Items []record.Link }
		h.do("GET", "/api/v1/records/"+other.Number+"/links", stranger, nil).want(t, 200).decode(t, &links)
		if len(links.Items) != 1 || links.Items[0].Type != record.Causes || links.Items[0].Record != r.Number {
			t.Fatalf("other's links: %+v", links)
		}
		h.do("DELETE", fmt.Sprintf("%s/links/%d", path, l.ID), analyst, nil).want(t, 204)

		// Watchers: yourself, yes; someone else, only if you work the record.
		h.do("PUT", fmt.Sprintf("%s/watchers/%d", path, c.stranger.ID), stranger, nil).want(t, 204)
		h.do("PUT", fmt.Sprintf("%s/watchers/%d", path, c.owner.ID), stranger, nil).want(t, 403)
		h.do("PUT", fmt.Sprintf("%s/watchers/%d", path, c.owner.ID), analyst, nil).want(t, 204)
		var ws struct{ Items []record.Watcher }
		h.do("GET", path+"/watchers", stranger, nil).want(t, 200).decode(t, &ws)
		if len(ws.Items) != 2 {
			t.Fatalf("watchers: %+v", ws)
		}
		h.do("DELETE", fmt.Sprintf("%s/watchers/%d", path, c.stranger.ID), stranger, nil).want(t, 204)

		// Search and lists.
		var page struct{ Items []record.Record }
		lr := h.do("GET", "/api/v1/records?q=exchange", stranger, nil).want(t, 200)
		lr.decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Number != other.Number || lr.header.Get("X-Total-Count") != "1" {
			t.Fatalf("search: %+v", page)
		}
		for _, q := range hostile {
			want := 200
			if utf8.RuneCountInString(q) > 500 {
				want = 422
			}
			h.do("GET", "/api/v1/records?q="+url.QueryEscape(q), stranger, nil).want(t, want)
		}
		h.do("GET", "/api/v1/records?q=mail&sort=number", stranger, nil).want(t, 422)
		h.do("GET", "/api/v1/records?colour=red", stranger, nil).want(t, 422)
		lr = h.do("GET", "/api/v1/records?limit=1&type=ticket&fields=number,state", stranger, nil).want(t, 200)
		if !strings.Contains(lr.header.Get("Link"), "type=ticket") || strings.Contains(string(lr.body), "title") {
			t.Fatalf("list page: %s %s", lr.header.Get("Link"), lr.body)
		}
		h.do("GET", "/api/v1/records?open=true&team="+fmt.Sprint(c.desk.ID), stranger, nil).want(t, 200)

		// PATCH and assignment with If-Match.
		cur := h.do("GET", path, stranger, nil).want(t, 200)
		etag := cur.header.Get("ETag")
		h.do("PATCH", path, analyst, map[string]any{"priority": 2}).want(t, 428)
		h.do("PATCH", path, analyst, map[string]any{"priority": 7}, "If-Match", etag).want(t, 422)
		pr := h.do("PATCH", path, analyst, map[string]any{"priority": 2}, "If-Match", etag).want(t, 200)
		h.do("PUT", path+"/assignment", analyst, map[string]any{"teamId": c.desk.ID, "assigneeId": c.owner.ID}, "If-Match", pr.header.Get("ETag")).want(t, 422)
		h.do("PUT", path+"/assignment", analyst, map[string]any{"teamId": c.desk.ID, "assigneeId": 0}, "If-Match", etag).want(t, 412)
		h.do("PUT", path+"/assignment", analyst, map[string]any{"teamId": c.desk.ID, "assigneeId": 0}, "If-Match", pr.header.Get("ETag")).want(t, 200)

		// Record types; changing a prefix takes settings.write.
		var types struct{ Items []record.TypeInfo }
		h.do("GET", "/api/v1/record-types", stranger, nil).want(t, 200).decode(t, &types)
		if len(types.Items) != 1 || types.Items[0].CurrentPrefix != "TKT" || len(types.Items[0].Transitions) != 4 {
			t.Fatalf("types: %+v", types)
		}
		h.do("PUT", "/api/v1/record-types/ticket/prefix", stranger, map[string]string{"prefix": "HD"}).want(t, 403)
		h.do("PUT", "/api/v1/record-types/ticket/prefix", admin, map[string]string{"prefix": "hd"}).want(t, 422)
		h.do("PUT", "/api/v1/record-types/ticket/prefix", admin, map[string]string{"prefix": "HD"}).want(t, 200)
		if n := e.ticket(c.a, "after the change"); !strings.HasPrefix(n.Number, "HD") {
			t.Fatalf("number %s", n.Number)
		}
	})
}

// TestAPIDocument checks the record operations in the OpenAPI document: valid
// OpenAPI 3.1 (against the OAI schema the application's test uses), every
// operation with an id, a summary and an access rule, the upload as a raw
// body and the 202 of a waiting step documented.
func TestAPIDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, db.SQLite))
	h := newAPI(e)
	raw := h.do("GET", "/api/v1/openapi.json", "", nil).want(t, 200).body
	f, err := os.Open("../../app/testdata/openapi-3.1-schema.json")
	if err != nil {
		t.Skipf("the OAI schema is not at hand: %v", err)
	}
	defer f.Close()
	schemaDoc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	const id = "https://spec.openapis.org/oas/3.1/schema/2021-05-20"
	c := jsonschema.NewCompiler()
	if err := c.AddResource(id, schemaDoc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Fatalf("not OpenAPI 3.1: %v", err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string                     `json:"operationId"`
			Summary     string                     `json:"summary"`
			Access      string                     `json:"x-steward-access"`
			RequestBody map[string]any             `json:"requestBody"`
			Responses   map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range doc.Paths {
		for method, op := range ops {
			n++
			if op.OperationID == "" || op.Summary == "" || op.Access == "" {
				t.Errorf("%s %s: %+v", method, path, op)
			}
		}
	}
	if n != 30 {
		t.Errorf("%d operations", n)
	}
	up := doc.Paths["/api/v1/records/{number}/attachments"]["post"]
	if !strings.Contains(fmt.Sprint(up.RequestBody), "application/octet-stream") {
		t.Errorf("upload body: %v", up.RequestBody)
	}
	if _, ok := doc.Paths["/api/v1/records/{number}/actions/{action}"]["post"].Responses["202"]; !ok {
		t.Error("the 202 of a waiting step is not documented")
	}
	if acc := doc.Paths["/api/v1/record-types/{name}/prefix"]["put"].Access; acc != string(auth.PermSettingsWrite) {
		t.Errorf("prefix change needs %q", acc)
	}
}
