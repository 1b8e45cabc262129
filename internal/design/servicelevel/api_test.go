package servicelevel_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
)

// newAPI serves the record and service level APIs over e as the application serves them.
func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.recs)
		servicelevel.RegisterAPI(a, e.svc)
	})
}

// TestAPIScenario drives service level management over HTTP: an SLA and its
// OLA drafted, bad targets refused naming the field, targets set with
// If-Match, negotiated and agreed (not before it has targets), the SLA showing
// its OLA; the achievement report over clocks gives exact counts; a review
// identifies the penalty of the terms; a plan with an open item does not close
// until the item is done.
func TestAPIScenario(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana, mgr, dev := a.Token(e.analyst), a.Token(e.manager), a.Token(e.developer)
		mail := e.service("Mail")

		body := map[string]any{"kind": "SLA", "title": "Mail SLA", "calendarId": 1, "services": []int64{mail}, "customer": "HQ"}
		a.Do("POST", "/api/v1/agreements", "", body).Want(t, http.StatusUnauthorized)
		a.Do("POST", "/api/v1/agreements", dev, body).Want(t, http.StatusForbidden)
		var pb apitest.Problem
		a.Do("POST", "/api/v1/agreements", ana, map[string]any{"kind": "SLA", "title": "x", "calendarId": 404}).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &pb)
		if !pb.Names("body.calendarId") {
			t.Fatalf("unknown calendar: %+v", pb)
		}
		var sla, ola servicelevel.AgreementDetail
		r := a.Do("POST", "/api/v1/agreements", ana, body).Want(t, http.StatusCreated).Decode(t, &sla)
		if r.Header.Get("Location") != "/api/v1/agreements/"+sla.Number || r.Header.Get("ETag") != httpx.ETag(sla.Version) {
			t.Fatalf("created: %v", r.Header)
		}
		a.Do("POST", "/api/v1/agreements", ana, map[string]any{"kind": "OLA", "title": "Desk OLA", "calendarId": 2}).
			Want(t, http.StatusCreated).Decode(t, &ola)

		// Targets: invalid ones name the field; If-Match is required.
		targets := map[string]any{"targets": []map[string]any{
			{"name": "P1 resolution", "kind": "resolution", "priority": 1, "durationMs": hours(4)},
			{"name": "Availability", "kind": "availability", "percent": 99.9},
		}}
		path := "/api/v1/agreements/" + sla.Number
		a.Do("PUT", path+"/targets", ana, targets).Want(t, http.StatusPreconditionRequired)
		bad := map[string]any{"targets": []map[string]any{{"name": "P1", "kind": "resolution", "durationMs": -5}}}
		a.Do("PUT", path+"/targets", ana, bad, "If-Match", httpx.ETag(sla.Version)).Want(t, http.StatusUnprocessableEntity).Decode(t, &pb)
		if !pb.Names("body.targets[0].durationMs") {
			t.Fatalf("bad target: %+v", pb)
		}
		var got struct {
			Targets []servicelevel.Target `json:"targets"`
		}
		r = a.Do("PUT", path+"/targets", ana, targets, "If-Match", httpx.ETag(sla.Version)).Want(t, http.StatusOK).Decode(t, &got)
		if len(got.Targets) != 2 || got.Targets[0].ID == 0 || r.Header.Get("ETag") != httpx.ETag(sla.Version+1) {
			t.Fatalf("targets: %+v %v", got, r.Header)
		}
		p1 := got.Targets[0].ID
		a.Do("PUT", path+"/targets", ana, targets, "If-Match", httpx.ETag(sla.Version)).Want(t, http.StatusPreconditionFailed)
		etag := r.Header.Get("ETag")
		r = a.Do("PUT", path+"/terms", ana, map[string]any{"terms": []map[string]any{{"targetId": p1, "kind": "penalty",
			"trigger": "breaches_over", "threshold": 1, "amount": 250, "currency": "EUR"}}}, "If-Match", etag).Want(t, http.StatusOK)
		etag = r.Header.Get("ETag")
		r = a.Do("PUT", path+"/underpins", ana, map[string]any{"underpins": []string{ola.Number}}, "If-Match", etag).Want(t, http.StatusOK)
		etag = r.Header.Get("ETag")

		// negotiate → agree; the OLA cannot be agreed without targets.
		var step servicelevel.StepResult
		a.Do("POST", path+"/actions/negotiate", ana, nil, "If-Match", etag).Want(t, http.StatusOK).Decode(t, &step)
		if step.Record.State != servicelevel.Negotiated {
			t.Fatalf("negotiated: %+v", step)
		}
		a.Do("POST", path+"/actions/agree", dev, nil, "If-Match", httpx.ETag(step.Record.Version)).Want(t, http.StatusForbidden)
		a.Do("POST", path+"/actions/agree", mgr, nil, "If-Match", httpx.ETag(step.Record.Version)).Want(t, http.StatusOK).Decode(t, &step)
		if step.Record.State != servicelevel.Agreed {
			t.Fatalf("agreed: %+v", step)
		}
		olaPath := "/api/v1/agreements/" + ola.Number
		a.Do("POST", olaPath+"/actions/negotiate", ana, nil, "If-Match", httpx.ETag(ola.Version)).Want(t, http.StatusOK).Decode(t, &step)
		a.Do("POST", olaPath+"/actions/agree", mgr, nil, "If-Match", httpx.ETag(step.Record.Version)).Want(t, http.StatusConflict)

		// The SLA shows its OLA; the OLA its SLA; the list filters.
		var detail servicelevel.AgreementDetail
		r = a.Do("GET", path, dev, nil).Want(t, http.StatusOK).Decode(t, &detail)
		if len(detail.Underpins) != 1 || detail.Underpins[0].Number != ola.Number || detail.State != servicelevel.Agreed ||
			len(detail.Terms) != 1 || r.Header.Get("ETag") != httpx.ETag(detail.Version) {
			t.Fatalf("SLA: %+v", detail)
		}
		a.Do("GET", olaPath, dev, nil).Want(t, http.StatusOK).Decode(t, &detail)
		if len(detail.UnderpinnedSLAs) != 1 || detail.UnderpinnedSLAs[0].Number != sla.Number || detail.CalendarName != "business" {
			t.Fatalf("OLA: %+v", detail)
		}
		var list struct {
			Items []servicelevel.Agreement `json:"items"`
		}
		r = a.Do("GET", "/api/v1/agreements?kind=SLA&state=agreed&service="+strconv.FormatInt(mail, 10), dev, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || list.Items[0].Number != sla.Number || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("list: %+v", list)
		}
		a.Do("GET", "/api/v1/agreements?colour=red", dev, nil).Want(t, http.StatusUnprocessableEntity)

		// The report over clocks.
		feb := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
		var rows []clockRow
		for i, st := range []string{"met", "met", "met", "breached", "breached", "running"} {
			rows = append(rows, clockRow{sla.ID, p1, mail, 1, st, feb.Add(time.Duration(i) * time.Hour)})
		}
		e.insertClocks(rows)
		q := fmt.Sprintf("/api/v1/reports/sla?service=%d&from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", mail)
		var rep servicelevel.AchievementReport
		a.Do("GET", q, dev, nil).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.Totals.Total != 6 || rep.Totals.Met != 3 || rep.Totals.Breached != 2 || rep.Totals.Running != 1 ||
			*rep.Totals.Achievement != 60 || len(rep.ByMonth) != 2 || rep.ByMonth[1].Total != 6 || rep.ByMonth[0].Total != 0 ||
			len(rep.Agreements) != 1 || rep.Agreements[0].Targets[0].Name != "P1 resolution" {
			t.Fatalf("report: %+v", rep)
		}
		a.Do("GET", q+"&agreement="+sla.Number, dev, nil).Want(t, http.StatusOK)
		a.Do("GET", fmt.Sprintf("/api/v1/reports/sla?service=%d&from=2026-03-01T00:00:00Z&to=2026-01-01T00:00:00Z", mail), dev, nil).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &pb)
		if !pb.Names("query.to") {
			t.Fatalf("bad period: %+v", pb)
		}

		// A review identifies the penalty: two P1 breaches, one tolerated.
		var rv servicelevel.Review
		reviewBody := map[string]any{"serviceId": mail, "from": "2026-01-01T00:00:00Z", "to": "2026-03-01T00:00:00Z"}
		a.Do("POST", "/api/v1/service-reviews", dev, reviewBody).Want(t, http.StatusForbidden)
		a.Do("POST", "/api/v1/service-reviews", ana, reviewBody).Want(t, http.StatusCreated).Decode(t, &rv)
		if len(rv.Findings) != 1 || rv.Findings[0].Actual != 2 || rv.Findings[0].Amount != 250 || rv.Findings[0].Kind != servicelevel.Penalty {
			t.Fatalf("review: %+v", rv.Findings)
		}
		a.Do("GET", "/api/v1/service-reviews/"+rv.Number, dev, nil).Want(t, http.StatusOK)
		a.Do("POST", "/api/v1/service-reviews/"+rv.Number+"/actions/start", ana, nil, "If-Match", httpx.ETag(rv.Version)).Want(t, http.StatusOK)

		// A plan with an open item does not close.
		var plan servicelevel.ImprovementPlan
		a.Do("POST", "/api/v1/improvement-plans", ana, map[string]any{"title": "Fewer P1 breaches", "serviceId": mail, "review": rv.Number}).
			Want(t, http.StatusCreated).Decode(t, &plan)
		var item servicelevel.PlanItem
		r = a.Do("POST", "/api/v1/improvement-plans/"+plan.Number+"/items", ana, map[string]any{"title": "P1 rota", "ownerId": e.analyst.ID}).
			Want(t, http.StatusCreated).Decode(t, &item)
		a.Do("GET", "/api/v1/improvement-plans/"+plan.Number, dev, nil).Want(t, http.StatusOK).Decode(t, &plan)
		if len(plan.Items) != 1 || plan.OpenItems != 1 {
			t.Fatalf("plan: %+v", plan)
		}
		planPath := "/api/v1/improvement-plans/" + plan.Number
		a.Do("POST", planPath+"/actions/close", mgr, nil, "If-Match", httpx.ETag(plan.Version)).Want(t, http.StatusConflict)
		itemPath := planPath + "/items/" + strconv.FormatInt(item.ID, 10)
		a.Do("PATCH", itemPath, ana, map[string]any{"state": "finished"}, "If-Match", r.Header.Get("ETag")).Want(t, http.StatusUnprocessableEntity)
		a.Do("PATCH", itemPath, ana, map[string]any{"state": "done"}).Want(t, http.StatusPreconditionRequired)
		a.Do("PATCH", itemPath, ana, map[string]any{"state": "done"}, "If-Match", r.Header.Get("ETag")).Want(t, http.StatusOK).Decode(t, &item)
		if item.State != servicelevel.ItemDone {
			t.Fatalf("item: %+v", item)
		}
		a.Do("GET", planPath, dev, nil).Want(t, http.StatusOK).Decode(t, &plan)
		a.Do("POST", planPath+"/actions/close", mgr, nil, "If-Match", httpx.ETag(plan.Version)).Want(t, http.StatusOK).Decode(t, &step)
		if step.Record.State != servicelevel.PlanClosed {
			t.Fatalf("closed: %+v", step)
		}
	})
}
