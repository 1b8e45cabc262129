package availability_test

import (
	"net/http"
	"strconv"
	"testing"

	"steward/internal/design/availability"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/record"
	"steward/internal/platform/record/recordtest"
)

func newAPI(e *env) *apitest.API {
	return apitest.New(e.t, e.k.Auth, func(a *httpx.API) {
		record.RegisterAPI(a, e.k.Records)
		availability.RegisterAPI(a, e.svc)
	})
}

// TestOutagesAPI records, reads, changes and deletes an outage over HTTP
// with ETag/If-Match, refuses bad input as problem+json naming the field,
// and reports a service's availability.
func TestOutagesAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana, str := a.Token(e.analyst), a.Token(e.stranger)
		body := map[string]any{"serviceId": e.mail, "kind": "unplanned", "startedAt": "2026-06-02T14:00:00Z",
			"endedAt": "2026-06-02T16:30:00Z", "description": "Mail transfer agent stopped"}
		a.Do("POST", "/api/v1/outages", "", body).Want(t, http.StatusUnauthorized)
		a.Do("POST", "/api/v1/outages", str, body).Want(t, http.StatusForbidden)
		for _, tc := range []struct {
			name   string
			change map[string]any
			loc    string
		}{
			{"end before start", map[string]any{"endedAt": "2026-06-02T13:00:00Z"}, "body.endedAt"},
			{"unknown service", map[string]any{"serviceId": 987654}, "body.serviceId"},
			{"a CI is no service", map[string]any{"serviceId": e.server}, "body.serviceId"},
			{"bad kind", map[string]any{"kind": "maybe"}, "body.kind"},
		} {
			b := map[string]any{}
			for k, v := range body {
				b[k] = v
			}
			for k, v := range tc.change {
				b[k] = v
			}
			var p apitest.Problem
			a.Do("POST", "/api/v1/outages", ana, b).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
			if !p.Names(tc.loc) {
				t.Errorf("%s: %+v does not name %s", tc.name, p, tc.loc)
			}
		}
		var o availability.Outage
		r := a.Do("POST", "/api/v1/outages", ana, body).Want(t, http.StatusCreated).Decode(t, &o)
		path := "/api/v1/outages/" + strconv.FormatInt(o.ID, 10)
		if r.Header.Get("ETag") != `"1"` || r.Header.Get("Location") != path || o.ServiceName != "E-mail" {
			t.Fatalf("created: %v %s", r.Header, r.Body)
		}
		a.Do("GET", path, str, nil).Want(t, http.StatusOK)
		a.Do("PUT", path, ana, body).Want(t, http.StatusPreconditionRequired)
		a.Do("PUT", path, ana, body, "If-Match", `"7"`).Want(t, http.StatusPreconditionFailed)
		body["endedAt"] = "2026-06-02T17:00:00Z"
		r = a.Do("PUT", path, ana, body, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &o)
		if r.Header.Get("ETag") != `"2"` || o.EndedAt == nil || o.EndedAt.Hour() != 17 {
			t.Fatalf("replaced: %v %s", r.Header, r.Body)
		}
		var list struct {
			Items []availability.Outage
		}
		r = a.Do("GET", "/api/v1/outages?service="+strconv.FormatInt(e.mail, 10)+"&from=2026-06-01&to=2026-07-01", str, nil).
			Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 1 || r.Header.Get("X-Total-Count") != "1" {
			t.Fatalf("list: %s", r.Body)
		}
		a.Do("GET", "/api/v1/outages?from=2026-07-01&to=2026-07-31", str, nil).Want(t, http.StatusOK).Decode(t, &list)
		if len(list.Items) != 0 {
			t.Fatalf("outages of July: %+v", list.Items)
		}

		// The report: 14:00–17:00Z is 10:00–13:00 in New York, 3 h of June's 189 business hours.
		var rep availability.AvailabilityReport
		svc := "/api/v1/services/" + strconv.FormatInt(e.mail, 10) + "/availability"
		a.Do("GET", svc+"?from=2026-06-01&to=2026-07-01", str, nil).Want(t, http.StatusOK).Decode(t, &rep)
		if rep.AgreedMs != 189*hour || rep.DowntimeMs != 3*hour || rep.Failures != 1 || rep.MTRSms == nil || *rep.MTRSms != 3*hour ||
			len(rep.Monthly) != 1 || rep.Target == nil || rep.Met == nil {
			t.Fatalf("report: %+v", rep)
		}
		var p apitest.Problem
		a.Do("GET", svc+"?from=2026-07-01&to=2026-06-01", str, nil).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("query.to") {
			t.Fatalf("to before from: %+v", p)
		}
		a.Do("GET", svc+"?from=yesterday", str, nil).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("query.from") {
			t.Fatalf("bad from: %+v", p)
		}
		a.Do("GET", "/api/v1/services/"+strconv.FormatInt(e.server, 10)+"/availability", str, nil).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("path.id") {
			t.Fatalf("unknown service: %+v", p)
		}
		a.Do("GET", svc, str, nil).Want(t, http.StatusOK).Decode(t, &rep)
		if len(rep.Monthly) != 12 || rep.Monthly[11].Month != "2026-07" || rep.Monthly[0].Month != "2025-08" {
			t.Fatalf("default period: %d months", len(rep.Monthly))
		}

		a.Do("DELETE", path, ana, nil, "If-Match", `"1"`).Want(t, http.StatusPreconditionFailed)
		a.Do("DELETE", path, ana, nil, "If-Match", `"2"`).Want(t, http.StatusNoContent)
		a.Do("GET", path, str, nil).Want(t, http.StatusNotFound)
	})
}

// TestPlansAPI drives an availability plan through its lifecycle: created
// (bad input named), a risk assessed and an action planned against it,
// submitted, refused closure while they are open, then closed once the risk
// is treated and the action done; a closed plan takes no more changes.
func TestPlansAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := newAPI(e)
		ana, mgr, str := a.Token(e.analyst), a.Token(e.manager), a.Token(e.stranger)
		body := map[string]any{"title": "E-mail availability 2026 H2", "serviceId": e.mail, "periodFrom": "2026-07-01T00:00:00Z",
			"periodTo": "2027-01-01T00:00:00Z", "objective": "Reach 99.5 % on business hours"}
		a.Do("POST", "/api/v1/availability-plans", str, body).Want(t, http.StatusForbidden)
		var p apitest.Problem
		bad := map[string]any{}
		for k, v := range body {
			bad[k] = v
		}
		bad["periodTo"] = "2026-06-01T00:00:00Z"
		a.Do("POST", "/api/v1/availability-plans", ana, bad).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.periodTo") {
			t.Fatalf("period: %+v", p)
		}
		bad["periodTo"], bad["serviceId"] = body["periodTo"], e.server
		a.Do("POST", "/api/v1/availability-plans", ana, bad).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.serviceId") {
			t.Fatalf("service: %+v", p)
		}
		var plan availability.AvailabilityPlanDetail
		r := a.Do("POST", "/api/v1/availability-plans", ana, body).Want(t, http.StatusCreated).Decode(t, &plan)
		path := "/api/v1/availability-plans/" + plan.Number
		if plan.Number != "AVP0000001" || plan.State != availability.Draft || r.Header.Get("Location") != path || plan.ServiceID != e.mail {
			t.Fatalf("created: %v %s", r.Header, r.Body)
		}
		var risk availability.AvailabilityRisk
		a.Do("POST", path+"/risks", ana, map[string]any{"description": "Single mail transfer agent", "likelihood": 6, "impact": 4}).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.likelihood") {
			t.Fatalf("likelihood: %+v", p)
		}
		a.Do("POST", path+"/risks", ana, map[string]any{"description": "Single mail transfer agent", "likelihood": 3, "impact": 4}).
			Want(t, http.StatusCreated).Decode(t, &risk)
		if risk.Score != 12 || risk.State != availability.RiskOpen {
			t.Fatalf("risk: %+v", risk)
		}
		var act availability.AvailabilityAction
		a.Do("POST", path+"/items", ana, map[string]any{"title": "Add a second MTA", "riskId": 987654}).
			Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.riskId") {
			t.Fatalf("risk of another plan: %+v", p)
		}
		a.Do("POST", path+"/items", ana, map[string]any{"title": "Add a second MTA", "riskId": risk.ID, "ownerId": e.analyst.ID,
			"dueAt": "2026-09-30T00:00:00Z"}).Want(t, http.StatusCreated).Decode(t, &act)
		a.Do("POST", path+"/actions/submit", mgr, nil, "If-Match", `"1"`).Want(t, http.StatusOK)
		a.Do("POST", path+"/actions/close", mgr, nil, "If-Match", `"2"`).Want(t, http.StatusConflict)

		riskPath := path + "/risks/" + strconv.FormatInt(risk.ID, 10)
		a.Do("PUT", riskPath, ana, map[string]any{"description": risk.Description, "likelihood": 3, "impact": 4, "state": "treated"},
			"If-Match", `"1"`).Want(t, http.StatusUnprocessableEntity).Decode(t, &p)
		if !p.Names("body.treatment") {
			t.Fatalf("treated without a treatment: %+v", p)
		}
		a.Do("PUT", riskPath, ana, map[string]any{"description": risk.Description, "likelihood": 1, "impact": 4, "state": "treated",
			"treatment": "Second MTA in the other data centre"}, "If-Match", `"1"`).Want(t, http.StatusOK).Decode(t, &risk)
		if risk.Score != 4 || risk.State != availability.RiskTreated || risk.Version != 2 {
			t.Fatalf("treated: %+v", risk)
		}
		itemPath := path + "/items/" + strconv.FormatInt(act.ID, 10)
		a.Do("PUT", itemPath, ana, map[string]any{"title": act.Title, "riskId": risk.ID, "state": "done"}, "If-Match", `"9"`).
			Want(t, http.StatusPreconditionFailed)
		a.Do("PUT", itemPath, ana, map[string]any{"title": act.Title, "riskId": risk.ID, "state": "done"}, "If-Match", `"1"`).
			Want(t, http.StatusOK).Decode(t, &act)
		if act.State != availability.ActionDone || act.ClosedAt == nil {
			t.Fatalf("done: %+v", act)
		}
		a.Do("GET", path, str, nil).Want(t, http.StatusOK).Decode(t, &plan)
		if plan.OpenRisks != 0 || plan.OpenActions != 0 || len(plan.Risks) != 1 || len(plan.Actions) != 1 {
			t.Fatalf("plan: %+v", plan)
		}
		a.Do("POST", path+"/actions/close", str, nil, "If-Match", `"2"`).Want(t, http.StatusForbidden)
		a.Do("POST", path+"/actions/close", mgr, nil, "If-Match", `"2"`).Want(t, http.StatusOK)
		a.Do("POST", path+"/risks", ana, map[string]any{"description": "Late", "likelihood": 1, "impact": 1}).Want(t, http.StatusConflict)
		a.Do("PATCH", path, ana, map[string]any{"objective": "More"}, "If-Match", `"3"`).Want(t, http.StatusConflict)
		var plans struct {
			Items []availability.AvailabilityPlan
		}
		a.Do("GET", "/api/v1/availability-plans?state=closed&service="+strconv.FormatInt(e.mail, 10), str, nil).
			Want(t, http.StatusOK).Decode(t, &plans)
		if len(plans.Items) != 1 || plans.Items[0].State != availability.Closed {
			t.Fatalf("plans: %+v", plans)
		}
		if au := recordtest.Audits(t, d, "availability.risk.update"); len(au) != 1 {
			t.Fatalf("risk audits: %d", len(au))
		}
	})
}
