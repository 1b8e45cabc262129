package record_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/url"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
)

// newAPI serves the record API over e as the application serves it.
func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.svc)
	})
}

func TestAPIWorkflow(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		c := newCast(e)
		e.setGate("IM6", record.Gate{Approval: true})
		h := newAPI(e)
		analyst, manager, stranger, owner := h.Token(c.analyst), h.Token(c.manager), h.Token(c.stranger), h.Token(c.owner)
		r := c.ticket(e, "Printer on fire")
		path := "/api/v1/records/" + r.Number

		got := h.Do("GET", strings.ToLower(path), stranger, nil).Want(t, 200)
		if got.Header.Get("ETag") != `"1"` {
			t.Fatalf("ETag %q", got.Header.Get("ETag"))
		}
		h.Do("GET", path, "", nil).Want(t, 401)
		h.Do("GET", "/api/v1/records/TKT0999999", stranger, nil).Want(t, 404)

		// Transitions need If-Match; the guard refuses a user without R or A with 403 naming the activity.
		h.Do("POST", path+"/actions/investigate", analyst, nil).Want(t, 428)
		det := h.Do("POST", path+"/actions/resolve", stranger, nil, "If-Match", `"1"`).Want(t, 403).Detail(t)
		if !strings.Contains(det, "IM5") || !strings.Contains(det, "Incident Analyst (R)") {
			t.Fatalf("403 detail %q", det)
		}
		h.Do("POST", path+"/actions/investigate", analyst, nil, "If-Match", `"7"`).Want(t, 412)
		res := h.Do("POST", path+"/actions/investigate", analyst, map[string]string{"comment": "on it"}, "If-Match", `"1"`).Want(t, 200)
		if res.Header.Get("ETag") != `"2"` {
			t.Fatalf("ETag after investigate %q", res.Header.Get("ETag"))
		}
		var out record.Result
		res.Decode(t, &out)
		if out.Outcome != record.OutcomeApplied || out.Record.State != "in_progress" {
			t.Fatalf("investigate: %+v", out)
		}
		det = h.Do("POST", path+"/actions/investigate", analyst, nil, "If-Match", `"2"`).Want(t, 409).Detail(t)
		if !strings.Contains(det, "allowed from in_progress: resolve") {
			t.Fatalf("409 detail %q", det)
		}
		h.Do("POST", path+"/actions/explode", analyst, nil, "If-Match", `"2"`).Want(t, 422)

		var acts struct{ Items []record.Action }
		h.Do("GET", path+"/actions", analyst, nil).Want(t, 200).Decode(t, &acts)
		if len(acts.Items) != 1 || acts.Items[0].Action != "resolve" || !acts.Items[0].Decision.Allowed {
			t.Fatalf("actions: %+v", acts)
		}
		h.Do("POST", path+"/actions/resolve", analyst, nil, "If-Match", `"2"`).Want(t, 200)

		// The approval-gated close answers 202 and waits for the A holder.
		res = h.Do("POST", path+"/actions/close", analyst, nil, "If-Match", `"3"`).Want(t, 202)
		res.Decode(t, &out)
		if out.Outcome != record.OutcomeAwaitingApproval || out.Step == nil || out.Record.State != "resolved" {
			t.Fatalf("close: %+v", out)
		}
		step := out.Step.ID
		var approvals struct{ Items []record.Step }
		h.Do("GET", "/api/v1/approvals?state=pending&mine=true", manager, nil).Want(t, 200).Decode(t, &approvals)
		if len(approvals.Items) != 1 || approvals.Items[0].ID != step || approvals.Items[0].Record != r.Number {
			t.Fatalf("manager's approvals: %+v", approvals)
		}
		h.Do("GET", "/api/v1/approvals?state=pending&mine=true", analyst, nil).Want(t, 200).Decode(t, &approvals)
		if len(approvals.Items) != 0 {
			t.Fatalf("analyst's approvals: %+v", approvals)
		}
		h.Do("GET", "/api/v1/approvals?state=whatever", analyst, nil).Want(t, 422)
		h.Do("GET", fmt.Sprintf("/api/v1/approvals/%d", step), owner, nil).Want(t, 200)
		h.Do("POST", fmt.Sprintf("/api/v1/approvals/%d/approve", step), analyst, nil).Want(t, 403)
		h.Do("POST", fmt.Sprintf("/api/v1/approvals/%d/reject", step), manager, map[string]string{}).Want(t, 422)
		res = h.Do("POST", fmt.Sprintf("/api/v1/approvals/%d/approve", step), manager, map[string]string{"reason": "ok"}).Want(t, 200)
		res.Decode(t, &out)
		if out.Record.State != "closed" || res.Header.Get("ETag") != `"4"` {
			t.Fatalf("approved: %+v", out)
		}
		if inf := e.events("raci.informed"); len(inf) != 2 || inf[1].Data["activity"] != "IM6" {
			t.Fatalf("informed: %+v", inf)
		}
		h.Do("POST", fmt.Sprintf("/api/v1/approvals/%d/approve", step), manager, nil).Want(t, 409)
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
		analyst, expert1, expert2, stranger, admin := h.Token(c.analyst), h.Token(c.expert1), h.Token(c.expert2), h.Token(c.stranger), h.Token(c.admin)
		r := c.ticket(e, "Mail queue stuck")
		other := c.ticket(e, "Exchange cluster degraded")
		path := "/api/v1/records/" + r.Number

		// Consultation: answered by one, waived by the performer, then the step applies.
		res := h.Do("POST", path+"/actions/resolve", analyst, nil, "If-Match", `"1"`).Want(t, 202)
		var out record.Result
		res.Decode(t, &out)
		if out.Outcome != record.OutcomeAwaitingConsultation || len(out.Consultations) != 2 {
			t.Fatalf("resolve: %+v", out)
		}
		var mine struct{ Items []record.Consultation }
		h.Do("GET", "/api/v1/consultations?mine=true&state=open", expert1, nil).Want(t, 200).Decode(t, &mine)
		if len(mine.Items) != 1 {
			t.Fatalf("expert1's consultations: %+v", mine)
		}
		h.Do("POST", fmt.Sprintf("/api/v1/consultations/%d/answer", mine.Items[0].ID), expert2, map[string]string{"answer": "x"}).Want(t, 403)
		h.Do("POST", fmt.Sprintf("/api/v1/consultations/%d/answer", mine.Items[0].ID), expert1, map[string]string{"answer": "agree"}).Want(t, 202)
		h.Do("GET", "/api/v1/consultations?mine=true&state=open", expert2, nil).Want(t, 200).Decode(t, &mine)
		h.Do("POST", fmt.Sprintf("/api/v1/consultations/%d/waive", mine.Items[0].ID), stranger, map[string]string{"reason": "x"}).Want(t, 403)
		res = h.Do("POST", fmt.Sprintf("/api/v1/consultations/%d/waive", mine.Items[0].ID), analyst, map[string]string{"reason": "on leave"}).Want(t, 200)
		res.Decode(t, &out)
		if out.Outcome != record.OutcomeApplied || out.Record.State != "resolved" {
			t.Fatalf("after the waiver: %+v", out)
		}

		// Journal: work notes are internal; a caller can ask for comments only.
		h.Do("POST", path+"/journal", analyst, map[string]string{"kind": "comment", "body": "fixed, please confirm"}).Want(t, 201)
		h.Do("POST", path+"/journal", analyst, map[string]string{"kind": "system", "body": "forged"}).Want(t, 422)
		var journal struct{ Items []record.JournalEntry }
		h.Do("GET", path+"/journal?internal=false", stranger, nil).Want(t, 200).Decode(t, &journal)
		if len(journal.Items) != 1 || journal.Items[0].Kind != record.Comment {
			t.Fatalf("public journal: %+v", journal)
		}
		h.Do("GET", path+"/journal", stranger, nil).Want(t, 200).Decode(t, &journal)
		if len(journal.Items) < 4 {
			t.Fatalf("full journal: %+v", journal)
		}

		// Attachments: raw body, sniffed type, size limit, safe download.
		png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 64)...)
		var att record.Attachment
		h.Do("POST", path+"/attachments?name="+url.QueryEscape("../screen shot.png"), analyst, png, "Content-Type", "text/html").
			Want(t, 201).Decode(t, &att)
		if att.ContentType != "image/png" || att.Name != "screen shot.png" || att.DeclaredType != "text/html" {
			t.Fatalf("attachment: %+v", att)
		}
		h.Do("POST", path+"/attachments?name=big.bin", analyst, make([]byte, 2049)).Want(t, 413)
		h.Do("POST", path+"/attachments", analyst, png).Want(t, 422)
		dl := h.Do("GET", fmt.Sprintf("/api/v1/attachments/%d", att.ID), stranger, nil).Want(t, 200)
		if !bytes.Equal(dl.Body, png) || dl.Header.Get("X-Content-Type-Options") != "nosniff" || dl.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("download headers %v", dl.Header)
		}
		if disp, params, err := mime.ParseMediaType(dl.Header.Get("Content-Disposition")); err != nil || disp != "attachment" || params["filename"] != "screen shot.png" {
			t.Fatalf("Content-Disposition %q", dl.Header.Get("Content-Disposition"))
		}
		var atts struct{ Items []record.Attachment }
		h.Do("GET", path+"/attachments", stranger, nil).Want(t, 200).Decode(t, &atts)
		if len(atts.Items) != 1 {
			t.Fatalf("attachments: %+v", atts)
		}

		// Links, with the inverse name on the other side; self-links refused.
		var l record.Link
		h.Do("POST", path+"/links", analyst, map[string]string{"type": "caused_by", "target": other.Number}).Want(t, 201).Decode(t, &l)
		h.Do("POST", path+"/links", analyst, map[string]string{"type": "related_to", "target": r.Number}).Want(t, 422)
		h.Do("POST", "/api/v1/records/"+other.Number+"/links", analyst, map[string]string{"type": "causes", "target": r.Number}).Want(t, 409)
		h.Do("POST", path+"/links", analyst, map[string]string{"type": "blocks", "target": other.Number}).Want(t, 422)
		var links struct{ Items []record.Link }
		h.Do("GET", "/api/v1/records/"+other.Number+"/links", stranger, nil).Want(t, 200).Decode(t, &links)
		if len(links.Items) != 1 || links.Items[0].Type != record.Causes || links.Items[0].Record != r.Number {
			t.Fatalf("other's links: %+v", links)
		}
		h.Do("DELETE", fmt.Sprintf("%s/links/%d", path, l.ID), analyst, nil).Want(t, 204)

		// Watchers: yourself, yes; someone else, only if you work the record.
		h.Do("PUT", fmt.Sprintf("%s/watchers/%d", path, c.stranger.ID), stranger, nil).Want(t, 204)
		h.Do("PUT", fmt.Sprintf("%s/watchers/%d", path, c.owner.ID), stranger, nil).Want(t, 403)
		h.Do("PUT", fmt.Sprintf("%s/watchers/%d", path, c.owner.ID), analyst, nil).Want(t, 204)
		var ws struct{ Items []record.Watcher }
		h.Do("GET", path+"/watchers", stranger, nil).Want(t, 200).Decode(t, &ws)
		if len(ws.Items) != 2 {
			t.Fatalf("watchers: %+v", ws)
		}
		h.Do("DELETE", fmt.Sprintf("%s/watchers/%d", path, c.stranger.ID), stranger, nil).Want(t, 204)

		// Search and lists.
		var page struct{ Items []record.Record }
		lr := h.Do("GET", "/api/v1/records?q=exchange", stranger, nil).Want(t, 200)
		lr.Decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Number != other.Number || lr.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("search: %+v", page)
		}
		for _, q := range hostile {
			want := 200
			if utf8.RuneCountInString(q) > 500 {
				want = 422
			}
			h.Do("GET", "/api/v1/records?q="+url.QueryEscape(q), stranger, nil).Want(t, want)
		}
		h.Do("GET", "/api/v1/records?q=mail&sort=number", stranger, nil).Want(t, 422)
		h.Do("GET", "/api/v1/records?colour=red", stranger, nil).Want(t, 422)
		lr = h.Do("GET", "/api/v1/records?limit=1&type=ticket&fields=number,state", stranger, nil).Want(t, 200)
		if !strings.Contains(lr.Header.Get("Link"), "type=ticket") || strings.Contains(string(lr.Body), "title") {
			t.Fatalf("list page: %s %s", lr.Header.Get("Link"), lr.Body)
		}
		h.Do("GET", "/api/v1/records?open=true&team="+fmt.Sprint(c.desk.ID), stranger, nil).Want(t, 200)

		// PATCH and assignment with If-Match.
		cur := h.Do("GET", path, stranger, nil).Want(t, 200)
		etag := cur.Header.Get("ETag")
		h.Do("PATCH", path, analyst, map[string]any{"priority": 2}).Want(t, 428)
		h.Do("PATCH", path, analyst, map[string]any{"priority": 7}, "If-Match", etag).Want(t, 422)
		pr := h.Do("PATCH", path, analyst, map[string]any{"priority": 2}, "If-Match", etag).Want(t, 200)
		h.Do("PUT", path+"/assignment", analyst, map[string]any{"teamId": c.desk.ID, "assigneeId": c.owner.ID}, "If-Match", pr.Header.Get("ETag")).Want(t, 422)
		h.Do("PUT", path+"/assignment", analyst, map[string]any{"teamId": c.desk.ID, "assigneeId": 0}, "If-Match", etag).Want(t, 412)
		h.Do("PUT", path+"/assignment", analyst, map[string]any{"teamId": c.desk.ID, "assigneeId": 0}, "If-Match", pr.Header.Get("ETag")).Want(t, 200)

		// Record types; changing a prefix takes settings.write.
		var types struct{ Items []record.TypeInfo }
		h.Do("GET", "/api/v1/record-types", stranger, nil).Want(t, 200).Decode(t, &types)
		if len(types.Items) != 1 || types.Items[0].CurrentPrefix != "TKT" || len(types.Items[0].Transitions) != 4 {
			t.Fatalf("types: %+v", types)
		}
		h.Do("PUT", "/api/v1/record-types/ticket/prefix", stranger, map[string]string{"prefix": "HD"}).Want(t, 403)
		h.Do("PUT", "/api/v1/record-types/ticket/prefix", admin, map[string]string{"prefix": "hd"}).Want(t, 422)
		h.Do("PUT", "/api/v1/record-types/ticket/prefix", admin, map[string]string{"prefix": "HD"}).Want(t, 200)
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
	raw := h.Do("GET", "/api/v1/openapi.json", "", nil).Want(t, 200).Body
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
