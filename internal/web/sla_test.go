package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"steward/internal/design/availability"
	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/calendar"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// slaSite is the operations site with service level management: the seeded
// calendars, an agreed SLA on the E-mail service (response 1 ms, so every
// incident breaches it at once; P3 resolution in 3 hours of 24×7 time; 99.5 %
// availability), the tracker and availability management.
type slaSite struct {
	*opsSite
	calendars *calendar.Service
	levels    *servicelevel.Service
	clocks    *tracker.Service
	avail     *availability.Service
	sla       servicelevel.AgreementDetail
}

// availabilityTargets gives availability management the agreed availability of service level management.
type availabilityTargets struct{ levels *servicelevel.Service }

func (a availabilityTargets) AvailabilityTarget(ctx context.Context, serviceID int64) (availability.AgreedAvailability, bool, error) {
	t, ok, err := a.levels.AvailabilityTarget(ctx, serviceID)
	return availability.AgreedAvailability{Percent: t.Percent, Agreement: t.AgreementNumber, CalendarID: t.CalendarID}, ok, err
}

func newSLASite(t *testing.T, d *db.DB) *slaSite {
	t.Helper()
	s := &slaSite{opsSite: newOpsSite(t, d)}
	c := clock.System{}
	trail := audit.NewTrail(c)
	events := outbox.New(c, nil)
	var err error
	if s.calendars, err = calendar.New(calendar.Deps{DB: d, Records: s.records, Trail: trail, Events: events, Clock: c}); err != nil {
		t.Fatal(err)
	}
	if s.levels, err = servicelevel.New(servicelevel.Deps{DB: d, Records: s.records, Trail: trail, Events: events, Clock: c, RACI: s.raci}); err != nil {
		t.Fatal(err)
	}
	if s.clocks, err = tracker.New(tracker.Deps{DB: d, Records: s.records, Trail: trail, Events: events, Clock: c, Targets: s.levels,
		Calendars: tracker.ScheduleFunc[*calendar.Schedule](s.calendars.Schedule)}); err != nil {
		t.Fatal(err)
	}
	if s.avail, err = availability.New(availability.Deps{DB: d, Records: s.records, Trail: trail, Events: events, Clock: c,
		Targets: availabilityTargets{s.levels}, Calendars: s.calendars}); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	api := humago.New(mux, huma.DefaultConfig("Test API", "1.2.3"))
	log := slog.New(slog.DiscardHandler)
	if err := Register(mux, Deps{Auth: s.auth, Settings: s.settings, Log: log, Version: "test", API: api, RACI: s.raci, Records: s.records,
		CMDB: s.cmdb, Incidents: s.incidents, Requests: s.requests, Problems: s.problems,
		Calendars: s.calendars, Levels: s.levels, Clocks: s.clocks, Availability: s.avail}); err != nil {
		t.Fatal(err)
	}
	s.handler = httpx.Chain(mux, httpx.RequestMeta(), auth.Authenticate(s.auth, log, nil), raci.RequestCache)
	return s
}

// agree drafts, targets and agrees the E-mail SLA as root.
func (s *slaSite) agree() {
	s.t.Helper()
	a, err := s.levels.CreateAgreement(s.rootCtx, servicelevel.NewAgreement{Kind: servicelevel.SLA, Title: "E-mail for the <east> site",
		AgreementDetails: servicelevel.AgreementDetails{Customer: "East site", CalendarID: 1}, Services: []int64{s.service.ID}})
	if err != nil {
		s.t.Fatal(err)
	}
	if a, err = s.levels.SetTargets(s.rootCtx, a.Number, a.Version, []servicelevel.Target{
		{Name: "Response", Kind: servicelevel.Response, DurationMs: 1, Percent: 95},
		{Name: "Resolution P3", Kind: servicelevel.Resolution, Priority: 3, DurationMs: 3 * time.Hour.Milliseconds(), Percent: 90},
		{Name: "Availability", Kind: servicelevel.Availability, Percent: 99.5},
	}); err != nil {
		s.t.Fatal(err)
	}
	for _, act := range []string{"negotiate", "agree"} {
		if _, err := s.levels.Perform(s.rootCtx, servicelevel.AgreementType, a.Number, act, servicelevel.StepInput{}); err != nil {
			s.t.Fatalf("%s: %v", act, err)
		}
	}
	if s.sla, err = s.levels.Agreement(s.rootCtx, a.Number); err != nil {
		s.t.Fatal(err)
	}
}

// refresh brings the tracker's stored clocks up to date.
func (s *slaSite) refresh() {
	s.t.Helper()
	if _, err := s.clocks.Refresh(context.Background()); err != nil {
		s.t.Fatal(err)
	}
}

func TestServiceLevelPagesOfAnIncident(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s := newSLASite(t, d)
		cookie := s.loginAs("ana")
		_, body := s.do("GET", "/desk", nil, cookie)
		if strings.Contains(body, "Breaching soon") {
			t.Error("the desk offers a breaching-soon queue before any target is agreed")
		}
		s.agree()
		in := s.incident("Mail bounces", 2, 2, 0) // P3, unassigned: the response clock runs
		time.Sleep(5 * time.Millisecond)          // past the 1 ms response target when the tracker stores the clocks
		s.refresh()

		res, body := s.do("GET", "/records/"+in.Number, nil, cookie)
		wantStatus(t, "the record page", res, body, http.StatusOK)
		mustContain(t, "the clock panel", body, `<h2 id="sl-h">Service levels</h2>`, "<h3>Response</h3>", "<h3>Resolution P3</h3>",
			`<span class="tag st-breached">Breached, still running</span>`, `<span class="tag st-running">Running</span>`,
			`class="sla-fill sla-p100 sla-over"`, "E-mail for the &lt;east&gt; site", "<dt>Allowed</dt><dd>3 h</dd>", "<dt>Due</dt>")
		if regexp.MustCompile(`style=`).MatchString(body) {
			t.Error("the record page has an inline style")
		}

		res, body = s.do("GET", "/desk?queue=breaching", nil, cookie)
		wantStatus(t, "the breaching queue", res, body, http.StatusOK)
		mustContain(t, "the breaching queue", body, `aria-current="page">Breaching soon</a>`, in.Number, "Response", "Resolution P3",
			`<span class="tag st-breached">Breached</span>`, "2 clocks")
		_, body = s.do("GET", "/desk", nil, cookie)
		mustContain(t, "the tabs", body, ">Breaching soon</a>")

		res, body = s.do("GET", "/sla", nil, cookie)
		wantStatus(t, "the overview", res, body, http.StatusOK)
		mustContain(t, "the overview", body, `<a href="/sla/services/`+itoa(s.service.ID)+`">E-mail</a>`, s.sla.Number)

		res, body = s.do("GET", "/sla/services/"+itoa(s.service.ID), nil, cookie)
		wantStatus(t, "the SLA dashboard", res, body, http.StatusOK)
		mustContain(t, "the SLA dashboard", body, `<svg xmlns="http://www.w3.org/2000/svg" class="ch-svg" role="img"`,
			`<title id="achievement-trend-t">Achievement of E-mail per month</title>`, `<title id="breaches-by-priority-t">`,
			`<caption>Breaches of E-mail by priority</caption>`, `<th scope="row">P3</th><td>1</td>`, "Goal 95 %",
			`<span class="tag st-breached">missed</span>`, `href="/availability/services/`+itoa(s.service.ID))

		if _, err := s.avail.RecordOutage(s.rootCtx, availability.OutageInput{ServiceID: s.service.ID, Kind: availability.Unplanned,
			StartedAt: time.Now().Add(-2 * time.Hour), EndedAt: new(time.Now().Add(-time.Hour)), Description: "Relay <down>"}); err != nil {
			t.Fatal(err)
		}
		res, body = s.do("GET", "/availability/services/"+itoa(s.service.ID)+"?months=1", nil, cookie)
		wantStatus(t, "the availability dashboard", res, body, http.StatusOK)
		mustContain(t, "the availability dashboard", body, "Availability of E-mail", `<title id="downtime-t">`, "Target 99.5 %",
			"Relay &lt;down&gt;", `<span class="tag tag-revoked">Unplanned</span>`, "<abbr title=\"Mean time to restore service\">MTRS</abbr></span><span class=\"kpi-value\">1 h</span>",
			`href="/agreements/`+s.sla.Number+`"`)
		res, body = s.do("GET", "/availability", nil, cookie)
		wantStatus(t, "the availability overview", res, body, http.StatusOK)
		mustContain(t, "the availability overview", body, `<a href="/availability/services/`+itoa(s.service.ID)+`">E-mail</a>`, "99.5 %")

		res, body = s.do("GET", "/agreements", nil, cookie)
		wantStatus(t, "the agreements", res, body, http.StatusOK)
		mustContain(t, "the agreements", body, s.sla.Number, "E-mail for the &lt;east&gt; site", "East site")
		res, body = s.do("GET", "/agreements/"+s.sla.Number, nil, cookie)
		wantStatus(t, "an agreement", res, body, http.StatusOK)
		mustContain(t, "an agreement", body, "<th scope=\"row\">Resolution P3</th>", "P3", "99.5 % available", `>Archive</button>`, "E-mail")
	})
}

func TestAgreementStepsAreGuarded(t *testing.T) {
	t.Parallel()
	s := newSLASite(t, dbtest.Open(t, db.SQLite))
	a, err := s.levels.CreateAgreement(s.rootCtx, servicelevel.NewAgreement{Kind: servicelevel.SLA, Title: "Empty",
		AgreementDetails: servicelevel.AgreementDetails{CalendarID: 1}, Services: []int64{s.service.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.levels.Perform(s.rootCtx, servicelevel.AgreementType, a.Number, "negotiate", servicelevel.StepInput{}); err != nil {
		t.Fatal(err)
	}
	cookie := s.loginAs("root")
	got, _ := s.levels.Agreement(s.rootCtx, a.Number)
	res, body := s.do("POST", "/agreements/"+a.Number+"/actions/agree", url.Values{"version": {itoa(got.Version)}, "comment": {"Signed <today>"}}, cookie)
	wantStatus(t, "agreeing without targets", res, body, http.StatusConflict)
	mustContain(t, "the refusal", body, `class="error-summary"`, "Signed &lt;today&gt;</textarea>")

	anaCookie := s.loginAs("ana")
	_, body = s.do("GET", "/agreements/"+a.Number, nil, anaCookie)
	mustContain(t, "ana's view", body, "verdict-no")
}

func TestCalendarFormPreviewsAndSaves(t *testing.T) {
	t.Parallel()
	s := newSLASite(t, dbtest.Open(t, db.SQLite))
	cookie := s.loginAs("root")
	res, body := s.do("GET", "/calendars", nil, cookie)
	wantStatus(t, "the list", res, body, http.StatusOK)
	mustContain(t, "the list", body, "24×7", "America/New_York", "168 h", "45 h")

	form := url.Values{"name": {"Night <desk>"}, "timeZone": {"Europe/Brussels"}, "week": {"2026-03-25"}, "op": {"preview"},
		"windows-0-day": {"sun"}, "windows-0-start": {"22:00"}, "windows-0-end": {"06:00"}, "windows-0-next": {"1"},
		"windows-1-day": {"mon"}, "windows-1-start": {""}, "windows-1-end": {""},
		"windows-2-day": {"mon"}, "windows-2-start": {"09:00"}, "windows-2-end": {"17:00"},
		"holidays-0-date": {"2026-03-27"}, "holidays-0-name": {"Founders' day"}}
	res, body = s.do("POST", "/calendars/new", form, cookie)
	wantStatus(t, "a preview", res, body, http.StatusOK)
	// Brussels moves its clocks on Sunday 29 March 2026: the night from Sunday into Monday is one hour shorter.
	mustContain(t, "the preview", body, `<title id="week-preview-t">Night &lt;desk&gt;, week of Monday 23 March 2026 (Europe/Brussels)</title>`,
		`<th scope="row">Mon 23 Mar</th><td>00:00–06:00, 09:00–17:00</td><td>14 h</td>`, "Holiday: Founders&#39; day",
		`value="Night &lt;desk&gt;"`, `id="windows-1-day"`, `id="windows-1-start" name="windows-1-start" value="09:00"`)
	if n, err := s.calendars.List(s.rootCtx); err != nil || len(n) != 2 {
		t.Fatalf("previewing saved a calendar: %d, %v", len(n), err)
	}

	form.Set("windows-2-end", "08:00")
	form.Set("op", "save")
	res, body = s.do("POST", "/calendars/new", form, cookie)
	wantStatus(t, "a bad window", res, body, http.StatusUnprocessableEntity)
	mustContain(t, "the error", body, `<a href="#windows-1-end">Window 2, end:`, `id="windows-1-end-error"`, `value="08:00"`,
		`value="Europe/Brussels"`)

	form.Set("windows-2-end", "17:00")
	form.Set("op", "preset")
	form.Set("preset", "split-shift")
	res, body = s.do("POST", "/calendars/new", form, cookie)
	wantStatus(t, "a preset", res, body, http.StatusOK)
	mustContain(t, "the preset", body, `id="windows-9-end" name="windows-9-end" value="18:00"`, `value="Night &lt;desk&gt;"`)

	form.Set("op", "save")
	res, _ = s.do("POST", "/calendars/new", form, cookie)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/calendars/") {
		t.Fatalf("saving: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = s.do("GET", res.Header.Get("Location"), nil, cookie)
	wantStatus(t, "the saved calendar", res, body, http.StatusOK)
	mustContain(t, "the saved calendar", body, "The calendar was created.", `<h1>Night &lt;desk&gt;</h1>`, `name="version" value="1"`)

	anaCookie := s.loginAs("ana")
	form.Set("name", "Ana's")
	res, body = s.do("POST", "/calendars/new", form, anaCookie)
	wantStatus(t, "ana saving", res, body, http.StatusForbidden)
	mustContain(t, "ana's refusal", body, "SLM1", `value="Ana&#39;s"`)
}
