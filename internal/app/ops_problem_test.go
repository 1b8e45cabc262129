package app_test

// End-to-end scenario of problem management and the known-error database
// (issue 6) through the wired application's HTTP API: a problem raised from
// five incidents, analysed, worked around and documented as a known error,
// which incident management then offers on a new incident (IM4), with the PM
// and IM roles of the default RACI.

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"steward/internal/platform/db"
)

// keOffer is a known error offered for an incident.
type keOffer struct {
	Number     string   `json:"number"`
	Title      string   `json:"title"`
	Workaround string   `json:"workaround"`
	Problem    string   `json:"problem"`
	Score      float64  `json:"score"`
	Why        []string `json:"why"`
}

// TestOpsProblemFromFiveIncidentsOffersKnownError: five incidents on the same
// CI and category; the PM analyst raises a problem from them (each incident
// is linked), records a root-cause analysis and a workaround, identifies the
// root cause, records a known error and publishes it; the known error is then
// offered first, with its workaround, while a new incident is logged and
// once it is.
func TestOpsProblemFromFiveIncidentsOffersKnownError(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		w := newOpsWorld(t, e)
		h := w.h
		pm := w.newUser(t, "pm-analyst")
		w.assign(t, "PM", "process-analyst", pm.ID)

		// Five callers ring the desk about the same DNS trouble on dns-1.
		var incs []string
		titles := []string{"Intranet names do not resolve", "DNS lookups time out", "Cannot open the intranet: name not found",
			"Mail server name fails to resolve", "Intranet slow, then DNS timeout"}
		for i, title := range titles {
			c := w.newUser(t, "dns-caller")
			inc := w.logIncident(t, w.agent.Token, map[string]any{"title": title, "description": "Lookups against dns-1 time out after 30 seconds.",
				"impact": 2, "urgency": 2, "service": w.service, "ci": w.ci, "category": "network", "subcategory": "dns",
				"channel": "phone", "callerId": c.ID})
			if inc.RequesterID != c.ID || inc.Channel != "phone" {
				t.Fatalf("incident %d = %+v", i, inc)
			}
			incs = append(incs, inc.Number)
		}
		// The trend view shows them as recurring on the CI.
		var trends struct {
			Items []struct {
				Key   string `json:"key"`
				Count int64  `json:"count"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/incidents/trends?by=ci", pm.Token).want(t, http.StatusOK).decode(t, &trends)
		if len(trends.Items) != 1 || trends.Items[0].Key != itoa(w.ci) || trends.Items[0].Count != 5 {
			t.Errorf("trend by CI = %+v", trends.Items)
		}

		body := map[string]any{"title": "DNS resolution fails on dns-1", "description": "Recurring DNS timeouts on the intranet resolver.",
			"service": w.service, "ci": w.ci, "category": "network", "subcategory": "dns", "impact": 2, "urgency": 1, "incidents": incs}
		// PM2 is refused to someone without a PM role, naming the activity.
		p := h.do(t, req{Method: http.MethodPost, Path: "/api/v1/problems", Token: w.agent.Token, JSON: body}).problem(t, http.StatusForbidden)
		if !strings.Contains(p.Detail, "PM2") {
			t.Errorf("refusal %q does not name PM2", p.Detail)
		}
		// An incident the PM analyst may not see (a security incident) is named, and nothing is written.
		sec := w.logIncident(t, w.caller.Token, map[string]any{"title": "DNS poisoning suspected", "impact": 2, "urgency": 2,
			"category": "cnd-cat-6"})
		withSec := map[string]any{}
		for k, v := range body {
			withSec[k] = v
		}
		withSec["incidents"] = append(slices.Clone(incs), sec.Number)
		p = h.do(t, req{Method: http.MethodPost, Path: "/api/v1/problems", Token: pm.Token, JSON: withSec}).problem(t, http.StatusUnprocessableEntity)
		if !fieldNamed(p, "body.incidents[5]") {
			t.Errorf("an invisible incident: %+v", p)
		}
		if n := h.count(t, "records", "type = ?", "problem"); n != 0 {
			t.Fatalf("a refused problem wrote %d records", n)
		}

		var prb struct {
			Number        string `json:"number"`
			State         string `json:"state"`
			Priority      int    `json:"priority"`
			Origin        string `json:"origin"`
			IncidentCount int64  `json:"incidentCount"`
			Version       int64  `json:"version"`
			Workaround    string `json:"workaround"`
			RootCause     string `json:"rootCause"`
			Incidents     []struct {
				Number string `json:"number"`
			} `json:"incidents"`
			KnownErrors []struct {
				Number string `json:"number"`
				State  string `json:"state"`
			} `json:"knownErrors"`
		}
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/problems", Token: pm.Token, JSON: body}).want(t, http.StatusCreated).decode(t, &prb)
		if !strings.HasPrefix(prb.Number, "PRB") || prb.State != "logged" || prb.Origin != "incidents" || prb.IncidentCount != 5 ||
			len(prb.Incidents) != 5 || prb.Priority != 2 {
			t.Fatalf("problem = %+v", prb)
		}
		for _, n := range incs {
			if ls := w.links(t, w.agent.Token, n); !hasLink(ls, "caused_by", prb.Number) {
				t.Errorf("%s links = %+v, want caused_by %s", n, ls, prb.Number)
			}
		}
		if ls := w.links(t, pm.Token, prb.Number); len(ls) != 5 {
			t.Errorf("%s links = %+v", prb.Number, ls)
		}

		path := "/api/v1/problems/" + prb.Number
		reread := func() {
			t.Helper()
			h.get(t, path, pm.Token).want(t, http.StatusOK).decode(t, &prb)
		}
		pstep := func(action string, body map[string]any) *response {
			t.Helper()
			if body == nil {
				body = map[string]any{}
			}
			return h.do(t, req{Method: http.MethodPost, Path: path + "/actions/" + action, Token: pm.Token, JSON: body,
				Headers: map[string]string{"If-Match": `"` + itoa(prb.Version) + `"`}})
		}
		pstep("investigate", nil).want(t, http.StatusOK)
		reread()
		// The root cause is not known until an analysis says it.
		pstep("identify_root_cause", nil).problem(t, http.StatusConflict)
		h.do(t, req{Method: http.MethodPost, Path: path + "/rca", Token: pm.Token, JSON: map[string]any{
			"method": "five_whys", "findings": "dns-1 forwards to a decommissioned upstream; each lookup waits for its timeout.",
			"evidence":  []map[string]any{{"text": "tcpdump shows queries to 10.9.9.9 unanswered"}},
			"rootCause": "A stale forwarder in the dns-1 configuration."}}).want(t, http.StatusCreated)
		reread()
		const workaround = "Point the client at the secondary resolver 10.0.0.53 until dns-1 is fixed."
		h.do(t, req{Method: http.MethodPut, Path: path + "/workaround", Token: pm.Token, JSON: map[string]any{"workaround": workaround},
			Headers: map[string]string{"If-Match": `"` + itoa(prb.Version) + `"`}}).want(t, http.StatusOK).decode(t, &prb)
		if prb.Workaround != workaround || prb.RootCause != "A stale forwarder in the dns-1 configuration." {
			t.Fatalf("after the analysis: %+v", prb)
		}
		pstep("identify_root_cause", nil).want(t, http.StatusOK)
		reread()
		if prb.State != "root_cause_known" {
			t.Fatalf("state = %s", prb.State)
		}

		// A decoy known error on another CI and category, published.
		type keOut struct {
			Number                string `json:"number"`
			State                 string `json:"state"`
			Version               int64  `json:"version"`
			Workaround            string `json:"workaround"`
			WorkaroundFromProblem bool   `json:"workaroundFromProblem"`
			RootCause             string `json:"rootCause"`
			Problem               string `json:"problem"`
		}
		publish := func(k keOut) keOut {
			t.Helper()
			var res struct {
				Outcome string `json:"outcome"`
			}
			h.do(t, req{Method: http.MethodPost, Path: "/api/v1/known-errors/" + k.Number + "/actions/publish", Token: pm.Token,
				JSON: map[string]any{}, Headers: map[string]string{"If-Match": `"` + itoa(k.Version) + `"`}}).want(t, http.StatusOK).decode(t, &res)
			var out keOut
			h.get(t, "/api/v1/known-errors/"+k.Number, pm.Token).want(t, http.StatusOK).decode(t, &out)
			if res.Outcome != "applied" || out.State != "published" {
				t.Fatalf("publish %s: %s, %+v", k.Number, res.Outcome, out)
			}
			return out
		}
		var decoy keOut
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/known-errors", Token: pm.Token, JSON: map[string]any{
			"title": "Printer tray 2 jams", "symptoms": "Paper jams in tray 2 of the floor printers.", "rootCause": "Worn rollers.",
			"workaround": "Use tray 1.", "category": "hardware", "subcategory": "printer"}}).want(t, http.StatusCreated).decode(t, &decoy)
		publish(decoy)

		// The known error of the problem: a draft is not offered yet.
		var ke keOut
		h.do(t, req{Method: http.MethodPost, Path: "/api/v1/known-errors", Token: pm.Token, JSON: map[string]any{
			"problem": prb.Number, "symptoms": "Intranet names fail to resolve; DNS lookups time out after 30 seconds."}}).
			want(t, http.StatusCreated).decode(t, &ke)
		if ke.State != "draft" || ke.Problem != prb.Number || ke.Workaround != workaround || !ke.WorkaroundFromProblem ||
			ke.RootCause != "A stale forwarder in the dns-1 configuration." {
			t.Fatalf("known error = %+v", ke)
		}
		newInc := map[string]any{"title": "DNS timeout opening the intranet", "description": "The intranet name does not resolve.",
			"ci": w.ci, "service": w.service, "category": "network", "subcategory": "dns"}
		match := func() []keOffer {
			t.Helper()
			var out struct {
				Items []keOffer `json:"items"`
			}
			h.do(t, req{Method: http.MethodPost, Path: "/api/v1/incidents/known-error-matches", Token: w.agent.Token, JSON: newInc}).
				want(t, http.StatusOK).decode(t, &out)
			return out.Items
		}
		if got := match(); slices.ContainsFunc(got, func(o keOffer) bool { return o.Number == ke.Number }) {
			t.Fatalf("a draft known error is offered: %+v", got)
		}
		ke = publish(ke)
		if ke.Workaround != workaround {
			t.Errorf("published known error's workaround = %q", ke.Workaround)
		}
		reread()
		if len(prb.KnownErrors) != 1 || prb.KnownErrors[0].Number != ke.Number || prb.KnownErrors[0].State != "published" {
			t.Errorf("the problem's known errors = %+v", prb.KnownErrors)
		}

		// Offered first, with its workaround and why, while the incident is logged.
		got := match()
		if len(got) == 0 || got[0].Number != ke.Number || got[0].Workaround != workaround || got[0].Problem != prb.Number ||
			!slices.Contains(got[0].Why, "same CI") || !slices.Contains(got[0].Why, "same category") {
			t.Fatalf("offers while logging = %+v", got)
		}
		for _, o := range got[1:] {
			if o.Score > got[0].Score {
				t.Errorf("offers not best first: %+v", got)
			}
		}
		// The caller logs it through the portal; investigating it offers the known error too.
		inc := w.logIncident(t, w.caller.Token, map[string]any{"title": newInc["title"], "description": newInc["description"],
			"impact": 3, "urgency": 2, "ci": w.ci, "service": w.service, "category": "network", "subcategory": "dns"})
		var offered struct {
			Items []keOffer `json:"items"`
		}
		h.get(t, "/api/v1/incidents/"+inc.Number+"/known-errors", w.agent.Token).want(t, http.StatusOK).decode(t, &offered)
		if len(offered.Items) == 0 || offered.Items[0].Number != ke.Number || offered.Items[0].Workaround != workaround {
			t.Fatalf("offers on %s = %+v", inc.Number, offered.Items)
		}
		// The desk's own KEDB search finds it by its words.
		var kedb struct {
			Items []struct {
				Number string `json:"number"`
			} `json:"items"`
		}
		h.get(t, "/api/v1/known-errors?state=published&q=resolve", w.agent.Token).want(t, http.StatusOK).decode(t, &kedb)
		if len(kedb.Items) != 1 || kedb.Items[0].Number != ke.Number {
			t.Errorf("KEDB search = %+v", kedb.Items)
		}
	})
}
