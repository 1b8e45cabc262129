package problem_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/operation/problem"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// TestCreateRefusesBadInput logs problems with every kind of bad input: each
// is refused naming the field, and a refused problem leaves nothing behind.
func TestCreateRefusesBadInput(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		inc1, inc2 := e.incident("Mail bounces", ""), e.incident("Mail bounces again", "")
		secret := e.incident("Exfiltration suspected", "SECRET")
		active := e.ci("mail-1", "active", false)
		disposed := e.ci("mail-0", "disposed", false)
		service := e.ci("Mail", "active", true)
		oldService := e.ci("Old mail", "disposed", true)
		ke, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "x", Symptoms: "y"})
		if err != nil {
			t.Fatal(err)
		}
		month := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			name string
			in   problem.NewProblem
			loc  string
		}{
			{"no title", problem.NewProblem{Title: " "}, "body.title"},
			{"impact off the matrix", problem.NewProblem{Title: "x", Details: problem.Details{Impact: 4}}, "body.impact"},
			{"urgency off the matrix", problem.NewProblem{Title: "x", Details: problem.Details{Urgency: -1}}, "body.urgency"},
			{"bad category key", problem.NewProblem{Title: "x", Details: problem.Details{Category: "Mail Server"}}, "body.category"},
			{"unknown CI", problem.NewProblem{Title: "x", Details: problem.Details{CIID: 999999}}, "body.ci"},
			{"disposed CI", problem.NewProblem{Title: "x", Details: problem.Details{CIID: disposed}}, "body.ci"},
			{"a CI that is no service", problem.NewProblem{Title: "x", ServiceID: active}, "body.service"},
			{"disposed service", problem.NewProblem{Title: "x", ServiceID: oldService}, "body.service"},
			{"bad trend", problem.NewProblem{Title: "x", Trend: &problem.ProblemTrend{By: "team", Key: "k", From: month, To: month}}, "body.trend.by"},
			{"malformed incident number", problem.NewProblem{Title: "x", Incidents: []string{inc1, "INC-1"}}, "body.incidents[1]"},
			{"incident listed twice", problem.NewProblem{Title: "x", Incidents: []string{inc1, strings.ToLower(inc1)}}, "body.incidents[1]"},
			{"unknown incident", problem.NewProblem{Title: "x", Incidents: []string{inc1, inc2, "INC9999999"}}, "body.incidents[2]"},
			{"invisible incident", problem.NewProblem{Title: "x", Incidents: []string{secret, inc1}}, "body.incidents[0]"},
			{"not an incident", problem.NewProblem{Title: "x", Incidents: []string{inc1, ke.Number}}, "body.incidents[1]"},
		} {
			_, err := e.svc.Create(e.an, tc.in)
			if kindOf(err) != errs.Invalid || !fieldAt(err, tc.loc) {
				t.Errorf("%s: %v, want 422 naming %s", tc.name, err, tc.loc)
			}
		}
		// Nothing was left behind: no problem row, no link, no number drawn.
		if n := e.count(`SELECT COUNT(*) FROM records WHERE type = 'problem'`); n != 0 {
			t.Fatalf("%d problems left behind", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM problems`); n != 0 {
			t.Fatalf("%d problem rows left behind", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM record_links`); n != 0 {
			t.Fatalf("%d links left behind", n)
		}
		if links, _ := e.recs.Links(e.an, inc1); len(links) != 0 {
			t.Fatalf("links of %s: %+v", inc1, links)
		}
		// The administrator sees the secret incident and may raise a problem from it.
		p, err := e.svc.Create(e.rt, problem.NewProblem{Title: "Data leak", Incidents: []string{secret, inc1},
			ServiceID: service, Details: problem.Details{CIID: active}})
		if err != nil || p.Number != "PRB0000001" || p.Origin != problem.OriginIncidents || p.IncidentCount != 2 {
			t.Fatalf("the administrator's problem: %+v %v", p.Problem, err)
		}
		// The analyst reads the problem, without the incident they may not see.
		if got, err := e.svc.Problem(e.an, p.Number); err != nil || len(got.Incidents) != 1 || got.Incidents[0].Number != inc1 {
			t.Fatalf("the analyst's view: %+v %v", got.Incidents, err)
		}
		if _, err := e.svc.Problem(e.an, ke.Number); kindOf(err) != errs.NotFound {
			t.Fatalf("a known error read as a problem: %v", err)
		}
	})
}

// TestLinkIncidents links more incidents later: all or none, each refusal naming its index.
func TestLinkIncidents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		a, b, c := e.incident("a", ""), e.incident("b", ""), e.incident("c", "")
		p := e.create(problem.NewProblem{Title: "Printers", Incidents: []string{a}})
		reads := func() int64 {
			ctx, n := db.CountQueries(e.s)
			if _, err := e.svc.Problem(ctx, p.Number); err != nil {
				t.Fatal(err)
			}
			return n()
		}
		one := reads()
		if _, err := e.svc.LinkIncidents(e.an, p.Number, []string{b, "INC7777777"}); !fieldAt(err, "body.incidents[1]") {
			t.Fatalf("unknown incident: %v", err)
		}
		if got := e.get(p.Number); got.IncidentCount != 1 {
			t.Fatalf("a failed link left %d incidents", got.IncidentCount)
		}
		if _, err := e.svc.LinkIncidents(e.an, p.Number, []string{b, a}); kindOf(err) != errs.Conflict || !fieldAt(err, "body.incidents[1]") {
			t.Fatalf("already linked: %v", err)
		}
		if _, err := e.svc.LinkIncidents(e.dv, p.Number, []string{b}); kindOf(err) != errs.Forbidden {
			t.Fatalf("the developer links: %v", err)
		}
		got, err := e.svc.LinkIncidents(e.an, p.Number, []string{b, c})
		if err != nil || got.IncidentCount != 3 || len(got.Incidents) != 3 || got.Origin != problem.OriginIncidents {
			t.Fatalf("linked: %+v %v", got.Problem, err)
		}
		if three := reads(); three != one || one > 5 {
			t.Fatalf("reading a problem takes %d queries with one incident, %d with three", one, three)
		}
		if _, err := e.svc.LinkIncidents(e.an, p.Number, nil); !fieldAt(err, "body.incidents") {
			t.Fatalf("nothing to link: %v", err)
		}
	})
}

// TestActionsAndBadSteps lists a problem's actions with their activities and
// the guard's verdict, and refuses steps that do not fit.
func TestActionsAndBadSteps(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		p := e.create(problem.NewProblem{Title: "Disk full on backup"})
		acts, err := e.svc.Actions(e.an, p.Number)
		if err != nil || len(acts) != 2 || acts[0].Action != "investigate" || acts[0].Activity != "PM4" || !acts[0].Decision.Allowed ||
			acts[1].Action != "cancel" || acts[1].Activity != "PM6" {
			t.Fatalf("actions: %+v %v", acts, err)
		}
		if acts, _ := e.svc.Actions(e.dv, p.Number); acts[0].Decision.Allowed {
			t.Fatalf("the developer may investigate: %+v", acts[0].Decision)
		}
		for _, tc := range []struct {
			action string
			in     problem.StepInput
			kind   errs.Kind
			says   string
		}{
			{"resolve", problem.StepInput{}, errs.Conflict, "allowed from logged: investigate, cancel"},
			{"fly", problem.StepInput{}, errs.Invalid, "no action \"fly\""},
			{"investigate", problem.StepInput{RFC: "RFC-1"}, errs.Invalid, ""},
			{"investigate", problem.StepInput{Version: 99}, errs.PreconditionFailed, ""},
		} {
			_, err := e.svc.Perform(e.an, p.Number, tc.action, tc.in)
			if kindOf(err) != tc.kind || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s %+v: %v", tc.action, tc.in, err)
			}
		}
		if _, err := e.svc.Perform(e.an, "PRB0000099", "investigate", problem.StepInput{}); kindOf(err) != errs.NotFound {
			t.Fatalf("unknown problem: %v", err)
		}
	})
}

// TestTaxonomy checks category keys against the incident taxonomy when one is wired.
func TestTaxonomy(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnvWith(t, d, taxonomy{"network": {"vpn", "dns"}})
		p := e.create(problem.NewProblem{Title: "VPN", Details: problem.Details{Category: "network", Subcategory: "vpn"}})
		if _, err := e.svc.Create(e.an, problem.NewProblem{Title: "x", Details: problem.Details{Category: "network", Subcategory: "wifi"}}); !fieldAt(err, "body.subcategory") {
			t.Fatalf("unknown subcategory: %v", err)
		}
		if _, err := e.svc.Create(e.an, problem.NewProblem{Title: "x", Details: problem.Details{Category: "storage"}}); !fieldAt(err, "body.category") {
			t.Fatalf("unknown category: %v", err)
		}
		if _, err := e.svc.Update(e.an, p.Number, p.Version, problem.ProblemChange{Subcategory: ptr("wifi")}); !fieldAt(err, "body.subcategory") {
			t.Fatalf("changed to an unknown subcategory: %v", err)
		}
		if got, err := e.svc.Update(e.an, p.Number, p.Version, problem.ProblemChange{Subcategory: ptr("dns")}); err != nil || got.Subcategory != "dns" {
			t.Fatalf("changed to a known subcategory: %+v %v", got.Problem, err)
		}
		if _, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "x", Symptoms: "y", Category: "paper"}); !fieldAt(err, "body.category") {
			t.Fatalf("a known error of an unknown category: %v", err)
		}
		if _, err := problem.New(problem.Deps{DB: d, Records: e.recs}); err == nil {
			t.Fatal("a service without its trail and events")
		}
	})
}

// taxonomy is an incident taxonomy: categories and their subcategories.
type taxonomy map[string][]string

func (x taxonomy) KnownCategory(_ context.Context, category, subcategory string) (bool, error) {
	subs, ok := x[category]
	return ok && (subcategory == "" || slices.Contains(subs, subcategory)), nil
}

// TestListCounts lists problems with filters, pages through them, and holds
// the list to the same number of queries whatever the page size.
func TestListCounts(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		gw := e.ci("gw", "active", false)
		svc := e.ci("Remote access", "active", true)
		inc := e.incident("x", "")
		for i := range 12 {
			in := problem.NewProblem{Title: "Problem " + string(rune('A'+i)), Details: problem.Details{Impact: 1 + i%3, Urgency: 1 + i%3}}
			if i%2 == 0 {
				in.Details.Category, in.Details.CIID, in.ServiceID = "network", gw, svc
			}
			if i%4 == 0 {
				in.Details.Major = true
			}
			if i == 5 {
				in.Title, in.Description, in.Incidents = "VPN MTU mismatch", "Fragmented 100% of packets", []string{inc}
			}
			e.create(in)
			e.clock.Advance(time.Minute)
		}
		e.mustStep(e.an, "PRB0000003", "cancel", problem.StepInput{})

		queries := func(limit int) (int64, listing.Page[problem.Problem], int64) {
			ctx, n := db.CountQueries(e.s)
			page, total, err := e.svc.List(ctx, problem.ListFilter{}, listing.Params{Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			return n(), page, total
		}
		small, page, total := queries(2)
		large, all, _ := queries(50)
		if small != large || small != 2 || total != 12 || len(page.Items) != 2 || page.NextCursor == "" || len(all.Items) != 12 {
			t.Fatalf("queries %d (limit 2) and %d (limit 50), total %d, page %d", small, large, total, len(page.Items))
		}
		if all.Items[0].Number != "PRB0000012" || all.Items[6].IncidentCount != 1 || all.Items[6].Number != "PRB0000006" {
			t.Fatalf("newest first, with incident counts: %s %+v", all.Items[0].Number, all.Items[6])
		}
		var seen []string
		p := listing.Params{Limit: 5, Sort: "priority,number"}
		for {
			pg, _, err := e.svc.List(e.s, problem.ListFilter{}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range pg.Items {
				seen = append(seen, it.Number)
			}
			if pg.NextCursor == "" {
				break
			}
			p.Cursor = pg.NextCursor
		}
		if len(seen) != 12 || seen[0] != "PRB0000001" || seen[1] != "PRB0000004" {
			t.Fatalf("by priority then number: %v", seen)
		}
		yes, no := true, false
		for _, tc := range []struct {
			name string
			f    problem.ListFilter
			want int64
		}{
			{"major", problem.ListFilter{Major: &yes}, 3},
			{"not major", problem.ListFilter{Major: &no}, 9},
			{"category", problem.ListFilter{Category: "network"}, 6},
			{"CI and service", problem.ListFilter{CIID: gw, ServiceID: svc}, 6},
			{"cancelled", problem.ListFilter{State: problem.Cancelled}, 1},
			{"open", problem.ListFilter{Open: &yes}, 11},
			{"closed", problem.ListFilter{Open: &no}, 1},
			{"words of the title", problem.ListFilter{Q: "mtu MISMATCH"}, 1},
			{"a percent sign is no wildcard", problem.ListFilter{Q: "100%"}, 1},
			{"the number", problem.ListFilter{Q: "prb0000007"}, 1},
			{"nothing", problem.ListFilter{Q: "zebra"}, 0},
		} {
			_, total, err := e.svc.List(e.s, tc.f, listing.Params{Limit: 1})
			if err != nil || total != tc.want {
				t.Errorf("%s: %d, %v; want %d", tc.name, total, err, tc.want)
			}
		}
		for _, tc := range []struct {
			f   problem.ListFilter
			p   listing.Params
			loc string
		}{
			{problem.ListFilter{State: "lost"}, listing.Params{}, "query.state"},
			{problem.ListFilter{Category: "Net Work"}, listing.Params{}, "query.category"},
			{problem.ListFilter{}, listing.Params{Sort: "title"}, "query.sort"},
			{problem.ListFilter{}, listing.Params{Cursor: "nope"}, "query.cursor"},
		} {
			if _, _, err := e.svc.List(e.s, tc.f, tc.p); !fieldAt(err, tc.loc) {
				t.Errorf("%+v %+v: %v, want %s", tc.f, tc.p, err, tc.loc)
			}
		}
	})
}

// TestKnownErrors records, changes, lists and publishes known errors, with
// the rules that keep what agents are offered useful.
func TestKnownErrors(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		gw := e.ci("gw", "active", false)
		p := e.create(problem.NewProblem{Title: "Certificate expiry", Details: problem.Details{Category: "security", CIID: gw}})
		if _, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Problem: "PRB0000042", Symptoms: "x"}); !fieldAt(err, "body.problem") {
			t.Fatalf("unknown problem: %v", err)
		}
		if _, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Problem: p.Number}); !fieldAt(err, "body.symptoms") {
			t.Fatalf("no symptoms: %v", err)
		}
		if _, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "x", Symptoms: "y", CIID: 123456}); !fieldAt(err, "body.ci") {
			t.Fatalf("unknown CI: %v", err)
		}
		if _, err := e.svc.CreateKnownError(e.dv, problem.NewKnownError{Problem: p.Number, Symptoms: "y"}); kindOf(err) != errs.Forbidden {
			t.Fatalf("the developer records a known error: %v", err)
		}
		e.clock.Advance(time.Minute)
		ke, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Problem: p.Number, Symptoms: "Browsers warn about the intranet certificate"})
		if err != nil || ke.RootCause != "" || ke.Workaround != "" || ke.Category != "security" || ke.CIID != gw || ke.CIName != "gw" {
			t.Fatalf("known error: %+v %v", ke, err)
		}
		if links, _ := e.recs.Links(e.an, ke.Number); len(links) != 1 || links[0].Record != p.Number || links[0].Type != record.RelatedTo {
			t.Fatalf("linked to its problem: %+v", links)
		}
		if _, err := e.keStep(e.an, ke.Number, "publish"); kindOf(err) != errs.Conflict || !strings.Contains(err.Error(), "root cause or a workaround") {
			t.Fatalf("publish with nothing to offer: %v", err)
		}
		// Its own workaround, then the problem's again.
		ke, err = e.svc.UpdateKnownError(e.an, ke.Number, ke.Version, problem.KnownErrorChange{Workaround: ptr("Accept the warning once"),
			Symptoms: ptr("Browsers show NET::ERR_CERT_DATE_INVALID on the intranet"), Title: ptr("Intranet certificate expired")})
		if err != nil || ke.Workaround != "Accept the warning once" || ke.WorkaroundFromProblem || ke.Title != "Intranet certificate expired" ||
			ke.Symptoms != ke.Description {
			t.Fatalf("changed: %+v %v", ke, err)
		}
		if _, err := e.svc.UpdateKnownError(e.an, ke.Number, 1, problem.KnownErrorChange{RootCause: ptr("x")}); kindOf(err) != errs.PreconditionFailed {
			t.Fatalf("stale version: %v", err)
		}
		if _, err := e.svc.UpdateKnownError(e.an, ke.Number, ke.Version, problem.KnownErrorChange{Subcategory: ptr("tls"), Category: ptr("")}); !fieldAt(err, "body.subcategory") {
			t.Fatalf("subcategory without category: %v", err)
		}
		if _, err := e.keStep(e.an, ke.Number, "publish"); err != nil {
			t.Fatal(err)
		}
		// Matched by the words of its new symptoms.
		m, err := e.svc.FindKnownErrors(e.an, problem.KnownErrorQuery{Text: "ERR_CERT_DATE_INVALID in the browser"})
		if err != nil || len(m) != 1 || m[0].Number != ke.Number || m[0].Workaround != "Accept the warning once" {
			t.Fatalf("matched by symptoms: %+v %v", m, err)
		}
		cur, _ := e.svc.KnownError(e.an, ke.Number)
		if _, err := e.svc.UpdateKnownError(e.an, ke.Number, cur.Version, problem.KnownErrorChange{Workaround: ptr("")}); kindOf(err) != errs.Conflict {
			t.Fatalf("a published known error loses its only help: %v", err)
		}
		pd := e.get(p.Number)
		if _, err := e.svc.SetWorkaround(e.an, p.Number, pd.Version, "Renew it with the internal CA"); err != nil {
			t.Fatal(err)
		}
		ke, err = e.svc.UpdateKnownError(e.an, ke.Number, cur.Version, problem.KnownErrorChange{Workaround: ptr("")})
		if err != nil || ke.Workaround != "Renew it with the internal CA" || !ke.WorkaroundFromProblem {
			t.Fatalf("inherits again: %+v %v", ke, err)
		}
		if m, _ := e.svc.FindKnownErrors(e.an, problem.KnownErrorQuery{Text: "internal CA renew"}); len(m) != 1 {
			t.Fatalf("matched by the inherited workaround: %+v", m)
		}
		if m, _ := e.svc.FindKnownErrors(e.an, problem.KnownErrorQuery{Text: "accept the warning"}); len(m) != 0 {
			t.Fatalf("matched by the old workaround: %+v", m)
		}
		e.clock.Advance(time.Minute)
		other, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Title: "Printer jams", Symptoms: "Paper jams in tray 2"})
		if err != nil {
			t.Fatal(err)
		}

		// Lists: by problem, state and words, with queries independent of the page size.
		for _, tc := range []struct {
			name string
			f    problem.KnownErrorFilter
			want []string
		}{
			{"all", problem.KnownErrorFilter{}, []string{other.Number, ke.Number}},
			{"of the problem", problem.KnownErrorFilter{Problem: p.Number}, []string{ke.Number}},
			{"published", problem.KnownErrorFilter{State: problem.Published}, []string{ke.Number}},
			{"by CI", problem.KnownErrorFilter{CIID: gw}, []string{ke.Number}},
			{"words", problem.KnownErrorFilter{Q: "tray jams"}, []string{other.Number}},
			{"every word", problem.KnownErrorFilter{Q: "tray intranet"}, nil},
			{"only stop words", problem.KnownErrorFilter{Q: "the of"}, nil},
		} {
			ctx, n := db.CountQueries(e.s)
			page, total, err := e.svc.KnownErrors(ctx, tc.f, listing.Params{Limit: 1})
			var got []string
			for _, k := range page.Items {
				got = append(got, k.Number)
			}
			if err != nil || int(total) != len(tc.want) || (len(tc.want) > 0 && got[0] != tc.want[0]) {
				t.Errorf("%s: %v (%d) %v, want %v", tc.name, got, total, err, tc.want)
			}
			if q := n(); len(tc.want) > 0 && q > 3 {
				t.Errorf("%s: %d queries", tc.name, q)
			}
		}
		if _, _, err := e.svc.KnownErrors(e.s, problem.KnownErrorFilter{Problem: "PRB0000404"}, listing.Params{}); !fieldAt(err, "query.problem") {
			t.Fatalf("unknown problem filter: %v", err)
		}

		// Retired: closed to changes; a closed problem takes no new known error.
		if _, err := e.keStep(e.m, other.Number, "retire"); err != nil {
			t.Fatal(err)
		}
		cur, _ = e.svc.KnownError(e.an, other.Number)
		if _, err := e.svc.UpdateKnownError(e.an, other.Number, cur.Version, problem.KnownErrorChange{Title: ptr("x")}); kindOf(err) != errs.Conflict {
			t.Fatalf("a retired known error changes: %v", err)
		}
		e.mustStep(e.m, p.Number, "cancel", problem.StepInput{})
		if _, err := e.svc.CreateKnownError(e.an, problem.NewKnownError{Problem: p.Number, Symptoms: "x"}); kindOf(err) != errs.Conflict {
			t.Fatalf("a known error of a cancelled problem: %v", err)
		}
		if got, _ := e.svc.KnownError(e.an, ke.Number); got.State != problem.Published {
			t.Fatalf("cancelling the problem retired its known error: %s", got.State)
		}
		e.checkWordCounts()
	})
}

// TestFindKnownErrorsQueries holds matching to two queries on a KEDB of a
// thousand published known errors, and to none without anything to match.
func TestFindKnownErrorsQueries(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		gw := e.ci("gw", "active", false)
		// "vpn failure dns" and the like, in category vpn; a tenth of the vpn/dns ones on the CI.
		words := []string{"printer", "mail", "vpn", "disk", "backup", "login", "password", "wifi", "dns", "certificate"}
		seedKEDB(t, d, 1000, func(i int) (string, string, string, string) {
			title := words[i%10] + " failure " + words[(i/10)%10]
			return title, "symptoms of " + title, "restart", words[i%10]
		})
		if _, err := d.ExecContext(context.Background(), `UPDATE known_errors SET ci_id = ?
			WHERE record_id IN (SELECT id FROM records WHERE number LIKE 'KX%83')`, gw); err != nil {
			t.Fatal(err)
		}
		cctx, n := db.CountQueries(e.s)
		m, err := e.svc.FindKnownErrors(cctx, problem.KnownErrorQuery{Text: "VPN failure after the DNS change", CIID: gw, Category: "vpn", Limit: 3})
		if err != nil || n() != 2 || len(m) != 3 {
			t.Fatalf("%d queries, %+v %v", n(), m, err)
		}
		// "vpn failure dns" are KX0000083, …183 … 983, on the CI: two title words, the CI and the category, the newest
		// first; "failure", in every known error, says nothing and counts for nothing.
		if m[0].Number != "KX0000983" || m[0].Score != 0.888 || m[2].Number != "KX0000783" || m[2].Score != 0.888 ||
			!slices.Equal(m[0].Why, []string{"same CI", "same category", "words: vpn, dns"}) {
			t.Fatalf("best: %+v", m)
		}
		// Without the CI and the category, the words alone find them, through the full-text search.
		m, err = e.svc.FindKnownErrors(e.s, problem.KnownErrorQuery{Text: "DNS failure on the VPN", Limit: 20})
		if err != nil || len(m) != 20 || m[0].Title != "vpn failure dns" || m[0].Score != 0.388 {
			t.Fatalf("by words: %+v %v", m, err)
		}
		cctx, n = db.CountQueries(e.s)
		if m, err := e.svc.FindKnownErrors(cctx, problem.KnownErrorQuery{Text: "the of and"}); err != nil || len(m) != 0 || n() != 0 {
			t.Fatalf("nothing to match: %+v %v, %d queries", m, err, n())
		}
	})
}
