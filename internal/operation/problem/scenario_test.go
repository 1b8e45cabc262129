package problem_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/operation/problem"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// TestScenario is problem management as its process: a problem raised from
// five incidents of a trend (PM2), categorised and prioritised (PM3),
// investigated with a root-cause analysis and a workaround, and a known error
// recorded and published (PM4), which is then offered first, with its reasons,
// for a new incident's text, CI and category (IM4); the resolution raises an
// RFC and resolves (PM5); the major problem closes only after its review, and
// closing retires its known error (PM6). Every step is taken by a user
// holding the right PM role; one who is only informed is refused.
func TestScenario(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		gateway := e.ci("vpn-gw-1", "active", false)
		printer := e.ci("printer-3", "active", false)
		remote := e.ci("Remote access", "active", true)

		// Five incidents of one trend raise the problem (PM2), linked in its transaction.
		var incidents []string
		for i := range 5 {
			incidents = append(incidents, e.incident("VPN dropped again #"+strconv.Itoa(i+1), ""))
		}
		from := e.clock.Now().AddDate(0, 0, -14)
		in := problem.NewProblem{Title: "Recurring VPN disconnects", Description: "Users lose the VPN every few minutes.",
			ServiceID: remote, Incidents: incidents,
			Details: problem.Details{Category: "network", Subcategory: "vpn", Impact: 1, Urgency: 2, Major: true, CIID: gateway},
			Trend:   &problem.ProblemTrend{By: problem.TrendByCI, Key: strconv.FormatInt(gateway, 10), From: from, To: e.clock.Now(), Count: 5}}
		if _, err := e.svc.Create(e.dv, in); kindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "PM2") {
			t.Fatalf("the developer (I) logs a problem: %v", err)
		}
		p := e.create(in)
		if p.Number != "PRB0000001" || p.State != problem.Logged || p.Priority != 2 || p.Origin != problem.OriginTrend ||
			p.Trend == nil || p.Trend.Count != 5 || !p.Trend.From.Equal(from) || p.IncidentCount != 5 || len(p.Incidents) != 5 ||
			p.CIName != "vpn-gw-1" || p.ServiceName != "Remote access" || !p.Major {
			t.Fatalf("logged: %+v", p)
		}
		for i, inc := range p.Incidents {
			if inc.Number != incidents[i] {
				t.Fatalf("incident %d is %s, want %s", i, inc.Number, incidents[i])
			}
		}
		links, err := e.recs.Links(e.an, incidents[2])
		if err != nil || len(links) != 1 || links[0].Type != record.CausedBy || links[0].Record != p.Number {
			t.Fatalf("the incident's link: %+v %v", links, err)
		}

		// Categorise and prioritise (PM3): urgency up, the priority follows.
		if _, err := e.svc.Update(e.dv, p.Number, p.Version, problem.ProblemChange{Urgency: ptr(1)}); kindOf(err) != errs.Forbidden {
			t.Fatalf("the developer (I) re-prioritises: %v", err)
		}
		pd, err := e.svc.Update(e.an, p.Number, p.Version, problem.ProblemChange{Urgency: ptr(1)})
		if err != nil || pd.Priority != 1 || pd.Urgency != 1 {
			t.Fatalf("re-prioritised: %+v %v", pd, err)
		}

		// Investigate (PM4): an analysis with evidence, a workaround, then the root cause.
		if _, err := e.step(e.dv, p.Number, "investigate", problem.StepInput{}); kindOf(err) != errs.Forbidden {
			t.Fatalf("the developer investigates: %v", err)
		}
		e.mustStep(e.an, p.Number, "investigate", problem.StepInput{Comment: "Starting with the gateway logs."})
		if _, err := e.step(e.an, p.Number, "identify_root_cause", problem.StepInput{}); kindOf(err) != errs.Conflict ||
			!strings.Contains(err.Error(), "/rca") {
			t.Fatalf("root cause without an analysis: %v", err)
		}
		att, err := e.recs.AddAttachment(e.an, p.Number, "gateway.log", "text/plain", strings.NewReader("12:01 DNS timeout\n"))
		if err != nil {
			t.Fatal(err)
		}
		other, err := e.recs.AddAttachment(e.an, incidents[0], "screen.txt", "text/plain", strings.NewReader("nothing"))
		if err != nil {
			t.Fatal(err)
		}
		rca := problem.NewRCA{Method: problem.FiveWhys, Findings: "Why 1: sessions drop. Why 2: DNS times out. Why 3: MTU.",
			RootCause: "The gateway's MTU fragments DNS replies",
			Evidence:  []problem.RCAEvidence{{Text: "Packet capture shows fragments"}, {AttachmentID: other.ID}}}
		if _, err := e.svc.RecordRCA(e.an, p.Number, rca); !fieldAt(err, "body.evidence[1].attachmentId") {
			t.Fatalf("evidence attached to another record: %v", err)
		}
		rca.Evidence[1].AttachmentID = att.ID
		if _, err := e.svc.RecordRCA(e.dv, p.Number, rca); kindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "PM4") {
			t.Fatalf("the developer records an analysis: %v", err)
		}
		a, err := e.svc.RecordRCA(e.an, p.Number, rca)
		if err != nil || a.ID == 0 || a.Evidence[1].AttachmentName != "gateway.log" || a.CreatedByName != "analyst" {
			t.Fatalf("analysis: %+v %v", a, err)
		}
		cur := e.get(p.Number)
		pd, err = e.svc.SetWorkaround(e.an, p.Number, cur.Version, "Reconnect with split tunnelling disabled")
		if err != nil || pd.Workaround != "Reconnect with split tunnelling disabled" || pd.RootCause != rca.RootCause || len(pd.RCAs) != 1 {
			t.Fatalf("workaround: %+v %v", pd, err)
		}
		e.mustStep(e.an, p.Number, "identify_root_cause", problem.StepInput{})

		// A known error from the problem: the fields left out come from it.
		ke, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Problem: strings.ToLower(p.Number),
			Symptoms: "The VPN session drops every few minutes and DNS lookups time out."})
		if err != nil || ke.Number != "KE0000001" || ke.State != problem.Draft || ke.Title != p.Title || ke.RootCause != rca.RootCause ||
			ke.Category != "network" || ke.Subcategory != "vpn" || ke.CIID != gateway || ke.ServiceID != remote || ke.Problem != p.Number ||
			ke.Workaround != pd.Workaround || !ke.WorkaroundFromProblem {
			t.Fatalf("known error: %+v %v", ke, err)
		}
		// Distractors: a published one for another CI, one of the same category only, and a draft that would match well.
		printerKE, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "Printer offline after sleep",
			Symptoms: "The printer drops off the network", Workaround: "Power-cycle it", Category: "hardware", CIID: printer})
		if err != nil {
			t.Fatal(err)
		}
		sameCategory, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "Wi-Fi roaming stalls",
			Symptoms: "Laptops stall when roaming between access points", RootCause: "Sticky clients", Category: "network", Subcategory: "wifi"})
		if err != nil {
			t.Fatal(err)
		}
		client, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "VPN client crashes on start",
			Symptoms: "The client window closes at once", Workaround: "Reinstall the client", Category: "network", Subcategory: "vpn"})
		if err != nil {
			t.Fatal(err)
		}
		draft, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "VPN disconnects DNS timeouts (draft)",
			Symptoms: "VPN disconnecting, DNS timeouts", Workaround: "none yet", Category: "network", Subcategory: "vpn", CIID: gateway})
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{printerKE.Number, sameCategory.Number, client.Number} {
			if _, err := e.keStep(e.an, n, "publish"); err != nil {
				t.Fatalf("publish %s: %v", n, err)
			}
		}
		newIncident := problem.KnownErrorQuery{Text: "VPN keeps disconnecting; DNS timeouts when it reconnects", CIID: gateway,
			Category: "network", Subcategory: "vpn"}
		matches, err := e.svc.FindKnownErrors(e.an, newIncident)
		if err != nil || slices.ContainsFunc(matches, func(m problem.KnownErrorMatch) bool { return m.Number == ke.Number || m.Number == draft.Number }) {
			t.Fatalf("drafts are offered: %+v %v", matches, err)
		}

		// Publish to agents (PM4): now it is offered first, with why.
		if _, err := e.keStep(e.dv, ke.Number, "publish"); kindOf(err) != errs.Forbidden {
			t.Fatalf("the developer publishes: %v", err)
		}
		if _, err := e.keStep(e.an, ke.Number, "publish"); err != nil {
			t.Fatal(err)
		}
		if evs := e.events("known_error.published"); len(evs) != 4 || evs[3].Data["number"] != ke.Number {
			t.Fatalf("published events: %+v", evs)
		}
		matches, err = e.svc.FindKnownErrors(e.an, newIncident)
		if err != nil || len(matches) != 2 {
			t.Fatalf("matches: %+v %v", matches, err)
		}
		first := matches[0]
		if first.Number != ke.Number || first.Problem != p.Number || first.Workaround != pd.Workaround ||
			!slices.Equal(first.Why[:3], []string{"same CI", "same category", "same subcategory"}) ||
			!strings.HasPrefix(first.Why[3], "words: vpn") || !strings.Contains(first.Why[3], "dns") || first.Score < 1 {
			t.Fatalf("best match: %+v", first)
		}
		// The VPN client's known error shares the category, subcategory and a word; the Wi-Fi one only the category, too little.
		if matches[1].Number != client.Number || matches[1].Score != 0.514 ||
			!slices.Equal(matches[1].Why, []string{"same category", "same subcategory", "words: vpn"}) {
			t.Fatalf("second match: %+v", matches[1])
		}
		if one, _ := e.svc.FindKnownErrors(e.an, problem.KnownErrorQuery{Text: newIncident.Text, CIID: gateway, Limit: 1}); len(one) != 1 ||
			one[0].Number != ke.Number {
			t.Fatalf("limit 1: %+v", one)
		}

		// The workaround changes on the problem: the known error inherits it and is found by its words.
		cur = e.get(p.Number)
		if _, err := e.svc.SetWorkaround(e.an, p.Number, cur.Version, "Lower the tunnel MTU to 1350 on the client"); err != nil {
			t.Fatal(err)
		}
		byWorkaround, err := e.svc.FindKnownErrors(e.an, problem.KnownErrorQuery{Text: "tunnel mtu 1350"})
		if err != nil || len(byWorkaround) != 1 || byWorkaround[0].Number != ke.Number ||
			byWorkaround[0].Workaround != "Lower the tunnel MTU to 1350 on the client" {
			t.Fatalf("found by the new workaround: %+v %v", byWorkaround, err)
		}

		// Resolution (PM5): raising the RFC needs its reference.
		if _, err := e.step(e.an, p.Number, "raise_rfc", problem.StepInput{}); !fieldAt(err, "body.rfc") {
			t.Fatalf("raise_rfc without a reference: %v", err)
		}
		r, _ := e.recs.Get(e.an, p.Number)
		if _, err := e.recs.Perform(e.an, p.Number, "raise_rfc", record.PerformInput{Version: r.Version}); kindOf(err) != errs.Conflict ||
			!strings.Contains(err.Error(), "rfc") {
			t.Fatalf("raise_rfc through the kernel alone: %v", err)
		}
		if _, err := e.step(e.an, p.Number, "resolve", problem.StepInput{}); kindOf(err) != errs.Conflict ||
			!strings.Contains(err.Error(), "allowed from root_cause_known: raise_rfc, cancel") {
			t.Fatalf("resolve before the RFC: %v", err)
		}
		e.clock.Advance(time.Hour)
		e.mustStep(e.an, p.Number, "raise_rfc", problem.StepInput{RFC: "RFC-2026-0042"})
		pd = e.get(p.Number)
		if pd.State != problem.AwaitingChange || pd.RFC != "RFC-2026-0042" || pd.RFCRaisedAt == nil || !pd.RFCRaisedAt.Equal(e.clock.Now()) {
			t.Fatalf("RFC raised: %+v", pd.Problem)
		}
		if evs := e.events("problem.rfc_raised"); len(evs) != 1 || evs[0].Data["rfc"] != "RFC-2026-0042" {
			t.Fatalf("rfc event: %+v", evs)
		}
		if au := e.audits("problem.rfc.record"); len(au) != 1 || au[0].ObjectID != p.Number {
			t.Fatalf("rfc audit: %+v", au)
		}
		e.mustStep(e.m, p.Number, "resolve", problem.StepInput{Resolution: "Gateway MTU set to 1400 under RFC-2026-0042."})
		pd = e.get(p.Number)
		if pd.State != problem.Resolved || pd.ResolvedAt == nil || !strings.Contains(pd.Resolution, "1400") {
			t.Fatalf("resolved: %+v", pd.Problem)
		}

		// Closure (PM6): the major problem needs its review first.
		if _, err := e.step(e.an, p.Number, "close", problem.StepInput{}); kindOf(err) != errs.Conflict ||
			!strings.Contains(err.Error(), "review") {
			t.Fatalf("close without the review: %v", err)
		}
		review := problem.NewReview{Summary: "MTU mismatch after the gateway upgrade", Lessons: "Test MTU in the upgrade plan",
			FollowUps: []string{"Add MTU to the gateway checklist"}}
		if _, err := e.svc.Review(e.dv, p.Number, review); kindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "PM6") {
			t.Fatalf("the developer reviews: %v", err)
		}
		pd, err = e.svc.Review(e.m, p.Number, review)
		if err != nil || pd.Review == nil || pd.Review.ReviewedByName != "manager" || pd.Review.FollowUps[0] != "Add MTU to the gateway checklist" {
			t.Fatalf("reviewed: %+v %v", pd.Review, err)
		}
		e.mustStep(e.m, p.Number, "close", problem.StepInput{Comment: "Verified for a week."})
		pd = e.get(p.Number)
		if pd.State != problem.Closed || !pd.Closed || len(pd.KnownErrors) != 1 || pd.KnownErrors[0].State != problem.Retired {
			t.Fatalf("closed: %+v", pd)
		}
		if n := e.count(`SELECT COUNT(*) FROM known_errors WHERE state = 'retired'`); n != 1 {
			t.Fatalf("retired known errors mirrored: %d", n)
		}
		if m, _ := e.svc.FindKnownErrors(e.an, newIncident); slices.ContainsFunc(m, func(m problem.KnownErrorMatch) bool { return m.Number == ke.Number }) {
			t.Fatalf("a retired known error is offered: %+v", m)
		}
		if _, err := e.svc.Update(e.an, p.Number, pd.Version, problem.ProblemChange{Major: ptr(false)}); kindOf(err) != errs.Conflict {
			t.Fatalf("a closed problem changes: %v", err)
		}

		e.checkWordCounts()

		// Reopen (PM4): the RFC and the resolution are forgotten, the audit keeps them.
		e.mustStep(e.an, p.Number, "reopen", problem.StepInput{Comment: "It came back."})
		pd = e.get(p.Number)
		if pd.State != problem.Analysing || pd.Closed || pd.RFC != "" || pd.ResolvedAt != nil {
			t.Fatalf("reopened: %+v", pd.Problem)
		}
		if au := e.audits("problem.rfc.clear"); len(au) != 1 {
			t.Fatalf("rfc cleared audit: %+v", au)
		}
	})
}

// TestMinorProblemClosesWithoutReview walks a problem that is not major from
// logging to closing with no review, and cancels another.
func TestMinorProblemClosesWithoutReview(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		p := e.create(problem.NewProblem{Title: "Slow logon on Mondays"})
		if p.Priority != 3 || p.Impact != 2 || p.Urgency != 2 || p.Origin != problem.OriginManual || p.Trend != nil {
			t.Fatalf("defaults: %+v", p.Problem)
		}
		e.mustStep(e.an, p.Number, "investigate", problem.StepInput{})
		if _, err := e.svc.RecordRCA(e.an, p.Number, problem.NewRCA{Method: problem.Timeline, RootCause: "Profile sync storms"}); err != nil {
			t.Fatal(err)
		}
		e.mustStep(e.an, p.Number, "identify_root_cause", problem.StepInput{})
		e.mustStep(e.an, p.Number, "raise_rfc", problem.StepInput{RFC: "https://changes.example.org/rfc/7"})
		e.mustStep(e.an, p.Number, "resolve", problem.StepInput{})
		e.mustStep(e.an, p.Number, "close", problem.StepInput{})
		if got := e.get(p.Number); got.State != problem.Closed || got.Review != nil {
			t.Fatalf("closed: %+v", got.Problem)
		}

		q := e.create(problem.NewProblem{Title: "Duplicate of PRB0000001"})
		if _, err := e.svc.Review(e.an, q.Number, problem.NewReview{Summary: "x"}); kindOf(err) != errs.Conflict {
			t.Fatalf("review of a logged problem: %v", err)
		}
		e.mustStep(e.m, q.Number, "cancel", problem.StepInput{Comment: "Duplicate."})
		if _, err := e.step(e.an, q.Number, "reopen", problem.StepInput{}); kindOf(err) != errs.Conflict ||
			!strings.Contains(err.Error(), "allowed from cancelled: none") {
			t.Fatalf("reopen a cancelled problem: %v", err)
		}
	})
}

// TestRaiseRFCAwaitsApproval raises the RFC where the organisation asks for
// an accountable holder's approval of PM5: the reference is kept with the
// waiting step, and the step applies with it once the manager approves.
func TestRaiseRFCAwaitsApproval(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		_, v, _, err := e.raci.Matrix(e.rt, problem.Process)
		if err != nil {
			t.Fatal(err)
		}
		yes := true
		if _, _, err := e.raci.SetActivitySettings(e.rt, e.admin, problem.Process, v, problem.ActResolve,
			raci.ActivitySettings{RequiresApproval: &yes}); err != nil {
			t.Fatal(err)
		}
		p := e.create(problem.NewProblem{Title: "Backups fail on Sundays"})
		e.mustStep(e.an, p.Number, "investigate", problem.StepInput{})
		if _, err := e.svc.RecordRCA(e.an, p.Number, problem.NewRCA{Method: problem.Timeline, RootCause: "Snapshot window overlaps"}); err != nil {
			t.Fatal(err)
		}
		e.mustStep(e.an, p.Number, "identify_root_cause", problem.StepInput{})
		res, err := e.step(e.an, p.Number, "raise_rfc", problem.StepInput{RFC: "RFC-2026-0099"})
		if err != nil || res.Outcome != record.OutcomeAwaitingApproval || res.Step == nil {
			t.Fatalf("raise_rfc: %+v %v", res, err)
		}
		if got := e.get(p.Number); got.State != problem.RootCauseKnown || got.RFC != "RFC-2026-0099" || got.RFCRaisedAt != nil {
			t.Fatalf("waiting: %+v", got.Problem)
		}
		if _, err := e.recs.Approve(e.m, res.Step.ID, "Go ahead"); err != nil {
			t.Fatal(err)
		}
		got := e.get(p.Number)
		if got.State != problem.AwaitingChange || got.RFC != "RFC-2026-0099" || got.RFCRaisedAt == nil {
			t.Fatalf("approved: %+v", got.Problem)
		}
	})
}
