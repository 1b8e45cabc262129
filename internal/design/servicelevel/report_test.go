package servicelevel_test

import (
	"strings"
	"testing"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
)

func listParams() listing.Params { return listing.Params{Limit: 50} }

// reportFixture is an agreed SLA on a service with two resolution targets and
// terms, an OLA under it, and clocks inserted into the tracker's table:
//
//	            Jan (P1 target)           Feb (P1 target)         Feb (P2 target)   Mar
//	SLA         met 3, breached 1          met 1, breached 2,      met 4             –
//	                                       running 1, cancelled 1
//	OLA         met 2                      –                        –                 –
//	other svc   met 5 (another service: not counted for mail)
//	Apr         met 1 (outside the period)
type reportFixture struct {
	mail, print     int64
	sla, ola        servicelevel.AgreementDetail
	p1, p2, olaResp int64
	from, to        time.Time
}

func newReportFixture(e *env) reportFixture {
	e.t.Helper()
	f := reportFixture{mail: e.service("Mail"), print: e.service("Print")}
	f.sla = e.draft(servicelevel.SLA, "Mail SLA", f.mail)
	sd, err := e.svc.SetTargets(e.an, f.sla.Number, e.version(f.sla.Number), []servicelevel.Target{
		{Name: "P1 resolution", Kind: servicelevel.Resolution, Priority: 1, DurationMs: hours(4), Percent: 90},
		{Name: "P2 resolution", Kind: servicelevel.Resolution, Priority: 2, DurationMs: hours(8)},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	f.p1, f.p2 = sd.Targets[0].ID, sd.Targets[1].ID
	if _, err := e.svc.SetTerms(e.an, f.sla.Number, e.version(f.sla.Number), []servicelevel.Term{
		{TargetID: f.p1, Kind: servicelevel.Penalty, Trigger: servicelevel.BreachesOver, Threshold: 2, Amount: 500, Currency: "EUR",
			Description: "More than two P1 breaches a quarter"},
		{TargetID: f.p1, Kind: servicelevel.Credit, Trigger: servicelevel.AchievementBelow, Threshold: 50, Amount: 100, Currency: "EUR"},
		{TargetID: f.p2, Kind: servicelevel.Penalty, Trigger: servicelevel.BreachesOver, Threshold: 0, Amount: 50, Currency: "EUR"},
		{Kind: servicelevel.Penalty, Trigger: servicelevel.AchievementBelow, Threshold: 80, Amount: 1000, Currency: "EUR"},
	}); err != nil {
		e.t.Fatal(err)
	}
	e.agree(f.sla.Number)
	f.ola = e.draft(servicelevel.OLA, "Desk OLA", f.mail)
	od, err := e.svc.SetTargets(e.an, f.ola.Number, e.version(f.ola.Number), []servicelevel.Target{
		{Name: "Desk response", Kind: servicelevel.Response, DurationMs: hours(0.5)}})
	if err != nil {
		e.t.Fatal(err)
	}
	f.olaResp = od.Targets[0].ID
	e.agree(f.ola.Number)
	if _, err := e.svc.SetUnderpins(e.an, f.sla.Number, e.version(f.sla.Number), []string{f.ola.Number}); err != nil {
		e.t.Fatal(err)
	}
	jan := time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC)
	feb := time.Date(2026, 2, 20, 8, 0, 0, 0, time.UTC)
	var rows []clockRow
	add := func(n int, c clockRow) {
		for range n {
			rows = append(rows, c)
		}
	}
	s, o := f.sla.ID, f.ola.ID
	add(3, clockRow{s, f.p1, f.mail, 1, "met", jan})
	add(1, clockRow{s, f.p1, f.mail, 1, "breached", jan})
	add(1, clockRow{s, f.p1, f.mail, 1, "met", feb})
	add(2, clockRow{s, f.p1, f.mail, 1, "breached", feb})
	add(1, clockRow{s, f.p1, f.mail, 1, "running", feb})
	add(1, clockRow{s, f.p1, f.mail, 1, "cancelled", feb})
	add(4, clockRow{s, f.p2, f.mail, 2, "met", feb})
	add(2, clockRow{o, f.olaResp, f.mail, 3, "met", jan})
	add(5, clockRow{s, f.p1, f.print, 1, "met", jan})
	add(1, clockRow{s, f.p1, f.mail, 1, "met", time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC)})
	add(1, clockRow{s, f.p1, f.mail, 1, "not_started", jan})
	e.insertClocks(rows)
	f.from, f.to = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	return f
}

// TestReport counts inserted clocks exactly: per agreement and target, per
// month, per priority, with achievements and goals.
func TestReport(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		f := newReportFixture(e)
		rep, err := e.svc.Report(e.s, servicelevel.ReportQuery{ServiceID: f.mail, From: f.from, To: f.to})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(rep.Months, ",") != "2026-01,2026-02,2026-03" {
			t.Fatalf("months %v", rep.Months)
		}
		want := func(what string, c servicelevel.Counts, total, met, breached, running, cancelled int64, achievement float64) {
			t.Helper()
			if c.Total != total || c.Met != met || c.Breached != breached || c.Running != running || c.Cancelled != cancelled {
				t.Fatalf("%s: %+v, want total %d met %d breached %d running %d cancelled %d", what, c, total, met, breached, running, cancelled)
			}
			switch {
			case achievement < 0 && c.Achievement != nil:
				t.Fatalf("%s: achievement %v, want none", what, *c.Achievement)
			case achievement >= 0 && (c.Achievement == nil || *c.Achievement != achievement):
				t.Fatalf("%s: achievement %v, want %v", what, c.Achievement, achievement)
			}
		}
		want("totals", rep.Totals, 14, 10, 3, 1, 1, 76.92)
		want("January", rep.ByMonth[0].Counts, 6, 5, 1, 0, 0, 83.33)
		want("February", rep.ByMonth[1].Counts, 8, 5, 2, 1, 1, 71.43)
		want("March", rep.ByMonth[2].Counts, 0, 0, 0, 0, 0, -1)
		if len(rep.ByPriority) != 3 || rep.ByPriority[0].Priority != 1 || rep.ByPriority[2].Priority != 3 {
			t.Fatalf("priorities %+v", rep.ByPriority)
		}
		want("P1", rep.ByPriority[0].Counts, 8, 4, 3, 1, 1, 57.14)
		if len(rep.Agreements) != 2 || rep.Agreements[0].Number != f.sla.Number || rep.Agreements[1].Kind != servicelevel.OLA {
			t.Fatalf("agreements %+v", rep.Agreements)
		}
		ar := rep.Agreements[0]
		want("SLA", ar.Counts, 12, 8, 3, 1, 1, 72.73)
		if len(ar.Targets) != 2 || ar.Targets[0].Name != "P1 resolution" || ar.Targets[0].Goal != 90 || ar.Targets[0].Priority != 1 {
			t.Fatalf("targets %+v", ar.Targets)
		}
		p1 := ar.Targets[0]
		want("P1 target", p1.Counts, 8, 4, 3, 1, 1, 57.14)
		if p1.GoalMet == nil || *p1.GoalMet {
			t.Fatalf("P1 goal met: %v", p1.GoalMet)
		}
		want("P1 in January", p1.Trend[0].Counts, 4, 3, 1, 0, 0, 75)
		want("P1 in February", p1.Trend[1].Counts, 4, 1, 2, 1, 1, 33.33)
		want("P2 target", ar.Targets[1].Counts, 4, 4, 0, 0, 0, 100)
		if ar.Targets[1].GoalMet != nil {
			t.Fatalf("a target without a goal has a verdict")
		}
		want("OLA", rep.Agreements[1].Counts, 2, 2, 0, 0, 0, 100)

		// One agreement; a period cut inside months counts by the start time.
		rep, err = e.svc.Report(e.s, servicelevel.ReportQuery{AgreementID: f.ola.ID, From: f.from, To: f.to})
		if err != nil || rep.Totals.Total != 2 || len(rep.Agreements) != 1 {
			t.Fatalf("OLA report: %+v %v", rep.Totals, err)
		}
		rep, err = e.svc.Report(e.s, servicelevel.ReportQuery{ServiceID: f.mail, From: time.Date(2026, 2, 20, 8, 0, 0, 1e6, time.UTC), To: f.to})
		if err != nil || rep.Totals.Total != 0 || len(rep.Months) != 2 {
			t.Fatalf("a period from after the February clocks: %+v %v %v", rep.Totals, rep.Months, err)
		}
		rep, err = e.svc.Report(e.s, servicelevel.ReportQuery{From: time.Date(2026, 1, 10, 12, 0, 0, 0, time.UTC),
			To: time.Date(2026, 1, 10, 12, 0, 0, 1e6, time.UTC)})
		if err != nil || rep.Totals.Total != 11 {
			t.Fatalf("every service, one instant: %+v %v", rep.Totals, err)
		}

		for _, tc := range []struct {
			q   servicelevel.ReportQuery
			loc string
		}{
			{servicelevel.ReportQuery{ServiceID: f.mail, To: f.to}, "query.from"},
			{servicelevel.ReportQuery{ServiceID: f.mail, From: f.to, To: f.from}, "query.to"},
			{servicelevel.ReportQuery{ServiceID: f.mail, From: f.from, To: f.from.AddDate(4, 0, 0)}, "query.to"},
		} {
			if _, err := e.svc.Report(e.s, tc.q); kindOf(err) != errs.Invalid || !fieldAt(err, tc.loc) {
				t.Fatalf("%+v: %v, want 422 at %s", tc.q, err, tc.loc)
			}
		}
	})
}

// TestReviewAndPlan reviews the service (SLM7): the report is kept and the
// terms identify a penalty for more than two P1 breaches and one for the
// agreement's achievement below 80 %, and nothing for the rest; an improvement
// plan (SLM8) from the review closes only when its items are done.
func TestReviewAndPlan(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		f := newReportFixture(e)
		in := servicelevel.NewReview{ServiceID: f.mail, From: f.from, To: f.to}
		if _, err := e.svc.CreateReview(e.dv, in); kindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "SLM7") {
			t.Fatalf("the developer reviews: %v", err)
		}
		for _, tc := range []struct {
			change func(*servicelevel.NewReview)
			loc    string
		}{
			{func(r *servicelevel.NewReview) { r.ServiceID = 0 }, "body.serviceId"},
			{func(r *servicelevel.NewReview) { r.ServiceID = 424242 }, "body.serviceId"},
			{func(r *servicelevel.NewReview) { r.To = r.From }, "body.to"},
			{func(r *servicelevel.NewReview) { r.Agreement = "AGR0009999" }, "body.agreementNumber"},
		} {
			bad := in
			tc.change(&bad)
			if _, err := e.svc.CreateReview(e.an, bad); kindOf(err) != errs.Invalid || !fieldAt(err, tc.loc) {
				t.Fatalf("%+v: %v, want 422 at %s", bad, err, tc.loc)
			}
		}
		v, err := e.svc.CreateReview(e.an, in)
		if err != nil {
			t.Fatal(err)
		}
		if v.Number != "SREV0000001" || v.State != servicelevel.Planned || v.ServiceName != "Mail" || v.AchievementReport.Totals.Total != 14 ||
			!v.PeriodFrom.Equal(f.from) {
			t.Fatalf("review: %+v", v)
		}
		if len(v.Findings) != 2 {
			t.Fatalf("findings: %+v", v.Findings)
		}
		p, whole := v.Findings[0], v.Findings[1]
		if p.Kind != servicelevel.Penalty || p.TargetID != f.p1 || p.TargetName != "P1 resolution" || p.Actual != 3 || p.Amount != 500 ||
			p.Currency != "EUR" || p.AgreementNumber != f.sla.Number {
			t.Fatalf("P1 penalty: %+v", p)
		}
		if whole.TargetID != 0 || whole.Trigger != servicelevel.AchievementBelow || whole.Actual != 72.73 || whole.Amount != 1000 {
			t.Fatalf("agreement penalty: %+v", whole)
		}
		e.mustStep(e.an, servicelevel.ReviewType, v.Number, "start")
		if _, err := e.svc.SetMinutes(e.an, v.Number, e.version(v.Number), "P1 breaches discussed."); err != nil {
			t.Fatal(err)
		}

		// Reviewing one agreement keeps only its clocks.
		ov, err := e.svc.CreateReview(e.m, servicelevel.NewReview{ServiceID: f.mail, Agreement: f.ola.Number, From: f.from, To: f.to})
		if err != nil || ov.AchievementReport.Totals.Total != 2 || len(ov.Findings) != 0 || ov.Agreement != f.ola.Number {
			t.Fatalf("OLA review: %+v %v", ov, err)
		}

		// The plan from the review.
		plan, err := e.svc.CreatePlan(e.an, servicelevel.NewImprovementPlan{Title: "Fewer P1 breaches", ServiceID: f.mail, Review: v.Number,
			Objective: "P1 achievement above 90 %"})
		if err != nil || plan.Number != "SIP0000001" || plan.Review != v.Number || plan.State != servicelevel.PlanOpen {
			t.Fatalf("plan: %+v %v", plan, err)
		}
		if _, err := e.svc.CreatePlan(e.an, servicelevel.NewImprovementPlan{Title: "x", ServiceID: f.print, Review: v.Number}); !fieldAt(err, "body.review") {
			t.Fatalf("a plan of another service's review: %v", err)
		}
		if _, err := e.svc.AddItem(e.an, plan.Number, servicelevel.NewItem{Title: " "}); !fieldAt(err, "body.title") {
			t.Fatalf("an item without a title: %v", err)
		}
		if _, err := e.svc.AddItem(e.an, plan.Number, servicelevel.NewItem{Title: "x", OwnerID: 987654}); !fieldAt(err, "body.ownerId") {
			t.Fatalf("an item of an unknown owner: %v", err)
		}
		due := time.Date(2026, 4, 30, 0, 0, 0, 0, time.UTC)
		it, err := e.svc.AddItem(e.an, plan.Number, servicelevel.NewItem{Title: "Second-line rota for P1", OwnerID: e.developer.ID, DueAt: &due})
		if err != nil || it.State != servicelevel.ItemOpen || it.OwnerName != "developer" || !it.DueAt.Equal(due) {
			t.Fatalf("item: %+v %v", it, err)
		}
		e.mustStep(e.an, servicelevel.PlanType, plan.Number, "start")
		if _, err := e.step(e.m, servicelevel.PlanType, plan.Number, "close"); kindOf(err) != errs.Conflict ||
			!strings.Contains(err.Error(), "1 open item") {
			t.Fatalf("closing with an open item: %v", err)
		}
		// The stranger may not close the item; its owner (only informed in SLM) may; a stale version is refused.
		if _, err := e.svc.UpdateItem(e.s, plan.Number, it.ID, it.Version, servicelevel.PlanItemChange{State: ptr(servicelevel.ItemDone)}); kindOf(err) != errs.Forbidden {
			t.Fatalf("the stranger closes the item: %v", err)
		}
		if _, err := e.svc.UpdateItem(e.dv, plan.Number, it.ID, it.Version+1, servicelevel.PlanItemChange{State: ptr(servicelevel.ItemDone)}); kindOf(err) != errs.PreconditionFailed {
			t.Fatalf("a stale item: %v", err)
		}
		done, err := e.svc.UpdateItem(e.dv, plan.Number, it.ID, it.Version, servicelevel.PlanItemChange{State: ptr(servicelevel.ItemDone)})
		if err != nil || done.State != servicelevel.ItemDone || done.ClosedAt == nil || done.Version != it.Version+1 {
			t.Fatalf("item done: %+v %v", done, err)
		}
		e.mustStep(e.m, servicelevel.PlanType, plan.Number, "close")
		if _, err := e.svc.AddItem(e.an, plan.Number, servicelevel.NewItem{Title: "late"}); kindOf(err) != errs.Conflict {
			t.Fatalf("an item for a closed plan: %v", err)
		}
		got, err := e.svc.ImprovementPlan(e.s, plan.Number)
		if err != nil || got.State != servicelevel.PlanClosed || got.OpenItems != 0 || len(got.Items) != 1 {
			t.Fatalf("closed plan: %+v %v", got, err)
		}
		if n := e.count(`SELECT COUNT(*) FROM outbox_events WHERE type = 'improvement_plan.closed'`); n != 1 {
			t.Fatalf("%d plan closed events", n)
		}
		reviews, total, err := e.svc.Reviews(e.s, servicelevel.ReviewFilter{ServiceID: f.mail}, listing.Params{Limit: 50, Sort: "-number"})
		if err != nil || total != 2 || reviews.Items[0].Number != ov.Number || reviews.Items[1].Minutes != "P1 breaches discussed." {
			t.Fatalf("reviews: %d %v", total, err)
		}
		plans, total, err := e.svc.Plans(e.s, servicelevel.PlanFilter{State: servicelevel.PlanClosed}, listParams())
		if err != nil || total != 1 || plans.Items[0].OpenItems != 0 {
			t.Fatalf("plans: %d %v", total, err)
		}
	})
}
