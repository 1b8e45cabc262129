package servicelevel_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
)

// slaTargets are an SLA's targets: resolution per priority, a response
// target, and an availability target.
func slaTargets() []servicelevel.Target {
	return []servicelevel.Target{
		{Name: "P1 resolution", Kind: servicelevel.Resolution, Priority: 1, DurationMs: hours(4), Percent: 95,
			Escalations: []sla.Escalation{{Threshold: 75, Action: "notify", Audience: []string{"team"}}}},
		{Name: "P2 resolution", Kind: servicelevel.Resolution, Priority: 2, DurationMs: hours(8), Warnings: []int{50, 90}},
		{Name: "Response", Kind: servicelevel.Response, DurationMs: hours(0.5)},
		{Name: "Availability", Kind: servicelevel.Availability, Percent: 99.5},
	}
}

// TestAgreementLifecycle takes an SLA and its OLA from draft to agreed through
// the SLM RACI (SLM2 for the SLA, SLM4 for the OLA, SLM5 to agree), refuses
// bad input naming the field and agreeing without targets, links the OLA
// under the SLA, and checks what the tracker and availability management read.
func TestAgreementLifecycle(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		mail := e.service("Mail")
		desk := e.team("Service desk")

		// Drafting: the developer (I) may not; bad references name the field.
		in := servicelevel.NewAgreement{Kind: servicelevel.SLA, Title: "Mail SLA", Services: []int64{mail},
			AgreementDetails: servicelevel.AgreementDetails{CalendarID: 1}}
		if _, err := e.svc.CreateAgreement(e.dv, in); kindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "SLM2") {
			t.Fatalf("the developer drafts an SLA: %v", err)
		}
		ola := in
		ola.Kind, ola.Title = servicelevel.OLA, "Desk OLA"
		if _, err := e.svc.CreateAgreement(e.dv, ola); kindOf(err) != errs.Forbidden || !strings.Contains(err.Error(), "SLM4") {
			t.Fatalf("the developer drafts an OLA: %v", err)
		}
		for _, tc := range []struct {
			name   string
			change func(*servicelevel.NewAgreement)
			loc    string
		}{
			{"unknown calendar", func(a *servicelevel.NewAgreement) { a.CalendarID = 999 }, "body.calendarId"},
			{"no calendar", func(a *servicelevel.NewAgreement) { a.CalendarID = 0 }, "body.calendarId"},
			{"unknown service", func(a *servicelevel.NewAgreement) { a.Services = []int64{mail, 98765} }, "body.services[1]"},
			{"bad kind", func(a *servicelevel.NewAgreement) { a.Kind = "XLA" }, "body.kind"},
			{"ends before it starts", func(a *servicelevel.NewAgreement) { a.StartsOn, a.EndsOn = "2026-06-01", "2026-01-01" }, "body.endsOn"},
			{"bad date", func(a *servicelevel.NewAgreement) { a.StartsOn = "1 May" }, "body.startsOn"},
		} {
			bad := in
			bad.Services = slices.Clone(in.Services)
			tc.change(&bad)
			if _, err := e.svc.CreateAgreement(e.an, bad); kindOf(err) != errs.Invalid || !fieldAt(err, tc.loc) {
				t.Fatalf("%s: %v, want 422 at %s", tc.name, err, tc.loc)
			}
		}
		if n := e.count(`SELECT COUNT(*) FROM agreements`); n != 0 {
			t.Fatalf("%d agreements after refusals", n)
		}

		s := e.draft(servicelevel.SLA, "Mail SLA", mail)
		o := e.draft(servicelevel.OLA, "Desk OLA", mail)
		if s.Number != "AGR0000001" || s.State != servicelevel.Draft || s.AgreementKind != servicelevel.SLA || s.CalendarName != "24x7" ||
			len(s.Services) != 1 || s.Services[0].Name != "Mail" || s.ReviewMonths != 12 || s.StartsOn != "2026-01-01" {
			t.Fatalf("drafted: %+v", s)
		}

		// Each kind lists only its own negotiation, performing SLM2 or SLM4.
		for _, c := range []struct {
			number, activity string
		}{{s.Number, "SLM2"}, {o.Number, "SLM4"}} {
			as, err := e.svc.Actions(e.an, servicelevel.AgreementType, c.number)
			if err != nil || len(as) != 1 || as[0].Activity != c.activity || !as[0].Decision.Allowed {
				t.Fatalf("actions of %s: %+v %v", c.number, as, err)
			}
		}
		if _, err := e.step(e.dv, servicelevel.AgreementType, o.Number, "negotiate"); kindOf(err) != errs.Forbidden ||
			!strings.Contains(err.Error(), "SLM4") {
			t.Fatalf("the developer negotiates the OLA: %v", err)
		}
		if _, err := e.step(e.an, servicelevel.AgreementType, s.Number, "negotiate_underpinning"); kindOf(err) != errs.Conflict {
			t.Fatalf("an SLA negotiated as an OLA: %v", err)
		}
		e.mustStep(e.an, servicelevel.AgreementType, s.Number, "negotiate")
		e.mustStep(e.an, servicelevel.AgreementType, o.Number, "negotiate")

		// Agreeing without targets is a conflict.
		if _, err := e.step(e.m, servicelevel.AgreementType, s.Number, "agree"); kindOf(err) != errs.Conflict ||
			!strings.Contains(err.Error(), "no targets") {
			t.Fatalf("agree without targets: %v", err)
		}

		// Invalid targets name the field; nothing is stored.
		bad := slaTargets()
		bad[1].DurationMs = 0
		bad[2].Kind = "speed"
		bad[3].Percent = 120
		_, err := e.svc.SetTargets(e.an, s.Number, e.version(s.Number), bad)
		for _, loc := range []string{"body.targets[1].durationMs", "body.targets[2].kind", "body.targets[3].percent"} {
			if kindOf(err) != errs.Invalid || !fieldAt(err, loc) {
				t.Fatalf("bad targets: %v, want 422 at %s", err, loc)
			}
		}
		bad = slaTargets()
		bad[0].CustomerTeams = []int64{424242}
		if _, err := e.svc.SetTargets(e.an, s.Number, e.version(s.Number), bad); !fieldAt(err, "body.targets[0].customerTeams[0]") {
			t.Fatalf("unknown customer team: %v", err)
		}
		if _, err := e.svc.SetTargets(e.an, s.Number, e.version(s.Number)-1, slaTargets()); kindOf(err) != errs.PreconditionFailed {
			t.Fatalf("stale version: %v", err)
		}
		ts := slaTargets()
		ts[0].CustomerTeams = []int64{desk}
		sd, err := e.svc.SetTargets(e.an, s.Number, e.version(s.Number), ts)
		if err != nil || len(sd.Targets) != 4 || sd.Targets[0].ID == 0 || sd.Targets[2].Warnings[0] != 75 {
			t.Fatalf("targets: %+v %v", sd.Targets, err)
		}
		if _, err := e.svc.SetTargets(e.an, o.Number, e.version(o.Number), []servicelevel.Target{
			{Name: "Desk response", Kind: servicelevel.Response, DurationMs: hours(0.25), RecordTypes: []string{"incident"}}}); err != nil {
			t.Fatal(err)
		}
		if len(e.rc.told()) != 0 {
			t.Fatalf("the tracker told of drafts: %v", e.rc.told())
		}

		// Only an SLA is underpinned, by OLAs and UCs.
		if _, err := e.svc.SetUnderpins(e.an, s.Number, e.version(s.Number), []string{s.Number}); !fieldAt(err, "body.underpins[0]") {
			t.Fatalf("an SLA underpinned by an SLA: %v", err)
		}
		if _, err := e.svc.SetUnderpins(e.an, o.Number, e.version(o.Number), []string{s.Number}); kindOf(err) != errs.Conflict {
			t.Fatalf("an OLA underpinned: %v", err)
		}
		if _, err := e.svc.SetUnderpins(e.an, s.Number, e.version(s.Number), []string{"AGR0009999"}); !fieldAt(err, "body.underpins[0]") {
			t.Fatalf("an unknown underpin: %v", err)
		}
		sd, err = e.svc.SetUnderpins(e.an, s.Number, e.version(s.Number), []string{strings.ToLower(o.Number)})
		if err != nil || len(sd.Underpins) != 1 || sd.Underpins[0].Number != o.Number || sd.Underpins[0].Kind != servicelevel.OLA {
			t.Fatalf("underpins: %+v %v", sd.Underpins, err)
		}
		od, err := e.svc.Agreement(e.s, o.Number)
		if err != nil || len(od.UnderpinnedSLAs) != 1 || od.UnderpinnedSLAs[0].Number != s.Number {
			t.Fatalf("the OLA's SLAs: %+v %v", od.UnderpinnedSLAs, err)
		}

		// Agreeing performs SLM5: the developer may not; the manager agrees; the tracker is told.
		if _, err := e.step(e.dv, servicelevel.AgreementType, s.Number, "agree"); kindOf(err) != errs.Forbidden ||
			!strings.Contains(err.Error(), "SLM5") {
			t.Fatalf("the developer agrees: %v", err)
		}
		e.mustStep(e.m, servicelevel.AgreementType, s.Number, "agree")
		if told := e.rc.told(); len(told) != 1 || told[0] != s.ID {
			t.Fatalf("the tracker was told %v", told)
		}
		// The overview's coverage: the agreed SLA's service, not the OLA's.
		cov, err := e.svc.Coverage(e.rt)
		if err != nil || len(cov) != 1 || cov[0].ID != mail || cov[0].Name != "Mail" || len(cov[0].Agreements) != 1 ||
			cov[0].Agreements[0].Number != s.Number || cov[0].Agreements[0].Kind != servicelevel.SLA {
			t.Fatalf("coverage: %+v %v", cov, err)
		}
		got, err := e.svc.Targets(e.rt)
		if err != nil || len(got) != 3 {
			t.Fatalf("measured targets: %+v %v", got, err)
		}
		p1 := got[0]
		if p1.Name != "P1 resolution" || p1.AgreementID != s.ID || p1.AgreementKind != "SLA" || p1.CalendarID != 1 ||
			p1.Duration != 4*time.Hour || !slices.Equal(p1.Selector.Priorities, []int{1}) ||
			!slices.Equal(p1.Selector.ServiceIDs, []int64{mail}) || !slices.Equal(p1.Selector.RecordTypes, []string{"incident"}) ||
			!slices.Equal(p1.Selector.CustomerTeams, []int64{desk}) || !slices.Equal(p1.Warnings, []int{75}) ||
			len(p1.Escalations) != 1 || len(p1.Rule.Stop.States) == 0 ||
			p1.Selector.LoggedFrom != time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixMilli() || p1.Selector.LoggedBefore != 0 {
			t.Fatalf("P1 target: %+v", p1)
		}
		if !slices.Equal(got[1].Warnings, []int{50, 90}) || got[2].Selector.Priorities != nil || got[2].Kind != sla.KindResponse {
			t.Fatalf("other targets: %+v", got[1:])
		}
		av, ok, err := e.svc.AvailabilityTarget(e.rt, mail)
		if err != nil || !ok || av.Percent != 99.5 || av.AgreementNumber != s.Number || av.CalendarID != 1 {
			t.Fatalf("availability target: %+v %v %v", av, ok, err)
		}
		if _, ok, err := e.svc.AvailabilityTarget(e.rt, e.service("Print")); ok || err != nil {
			t.Fatalf("a service without an SLA has a target: %v", err)
		}

		// Changing an agreed agreement's targets tells the tracker and the next Targets sees it.
		cur, _ := e.svc.Agreement(e.rt, s.Number)
		ts = cur.Targets
		ts[1].DurationMs = hours(6)
		if _, err := e.svc.SetTargets(e.an, s.Number, cur.Version, ts); err != nil {
			t.Fatal(err)
		}
		if got, _ = e.svc.Targets(e.rt); got[1].Duration != 6*time.Hour || got[1].ID != ts[1].ID {
			t.Fatalf("after the change: %+v", got[1])
		}
		if _, err := e.svc.SetTargets(e.an, s.Number, e.version(s.Number), nil); kindOf(err) != errs.Conflict {
			t.Fatalf("an agreed agreement without targets: %v", err)
		}

		// The OLA agreed too; then the SLA is revised (back to draft, no longer measured) and archived after agreeing again.
		e.mustStep(e.m, servicelevel.AgreementType, o.Number, "agree")
		if got, _ = e.svc.Targets(e.rt); len(got) != 4 || got[3].AgreementKind != "OLA" {
			t.Fatalf("with the OLA: %+v", got)
		}
		e.mustStep(e.m, servicelevel.AgreementType, s.Number, "revise")
		if got, _ = e.svc.Targets(e.rt); len(got) != 1 {
			t.Fatalf("after revising the SLA: %+v", got)
		}
		e.agree(s.Number)
		e.mustStep(e.m, servicelevel.AgreementType, s.Number, "archive")
		if _, err := e.svc.UpdateAgreement(e.an, s.Number, e.version(s.Number), servicelevel.AgreementChange{Notes: ptr("late")}); kindOf(err) != errs.Conflict {
			t.Fatalf("changing an archived agreement: %v", err)
		}
		if n := len(e.rc.told()); n != 6 {
			t.Fatalf("the tracker was told %d times, want 6 (agree, retarget, agree OLA, revise, agree, archive): %v", n, e.rc.told())
		}
		if n := e.count(`SELECT COUNT(*) FROM outbox_events WHERE type = 'agreement.agreed'`); n != 3 {
			t.Fatalf("%d agreement.agreed events", n)
		}

		// Lists filter by kind, state and service.
		page, total, err := e.svc.Agreements(e.s, servicelevel.AgreementFilter{Kind: servicelevel.OLA, ServiceID: mail}, listParams())
		if err != nil || total != 1 || page.Items[0].Number != o.Number {
			t.Fatalf("OLAs of mail: %+v %d %v", page.Items, total, err)
		}
		if _, _, err := e.svc.Agreements(e.s, servicelevel.AgreementFilter{State: "signed"}, listParams()); !fieldAt(err, "query.state") {
			t.Fatalf("unknown state: %v", err)
		}
	})
}

// TestUpdateAgreement changes an agreement's fields with their audit entries and refuses bad ones.
func TestUpdateAgreement(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a := e.draft(servicelevel.UC, "Carrier contract")
		if _, err := e.svc.UpdateAgreement(e.an, a.Number, a.Version, servicelevel.AgreementChange{CalendarID: ptr(int64(77))}); !fieldAt(err, "body.calendarId") {
			t.Fatalf("unknown calendar: %v", err)
		}
		if _, err := e.svc.UpdateAgreement(e.an, a.Number, a.Version, servicelevel.AgreementChange{ReviewMonths: ptr(0)}); !fieldAt(err, "body.reviewMonths") {
			t.Fatalf("no review period: %v", err)
		}
		if _, err := e.svc.UpdateAgreement(e.dv, a.Number, a.Version, servicelevel.AgreementChange{Supplier: ptr("x")}); kindOf(err) != errs.Forbidden {
			t.Fatalf("the developer changes a UC: %v", err)
		}
		u, err := e.svc.UpdateAgreement(e.an, a.Number, a.Version, servicelevel.AgreementChange{Supplier: ptr("Carrier plc"),
			CalendarID: ptr(int64(2)), EndsOn: ptr("2027-12-31"), Title: ptr("Carrier UC")})
		if err != nil || u.Supplier != "Carrier plc" || u.CalendarName != "business" || u.EndsOn != "2027-12-31" || u.Title != "Carrier UC" ||
			u.Version != a.Version+1 {
			t.Fatalf("updated: %+v %v", u, err)
		}
		if n := e.count(`SELECT COUNT(*) FROM audit_log WHERE object_id = ? AND changes LIKE '%Carrier plc%'`, a.Number); n != 1 {
			t.Fatalf("%d audit entries of the change", n)
		}
	})
}
