package availability_test

import (
	"testing"
	"time"

	"steward/internal/design/availability"
	"steward/internal/operation/incident"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/record/recordtest"
)

var (
	june     = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	julyFrom = time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)
)

// TestServiceAvailability records outages of the e-mail service, whose
// target (99.5 %) is on the business calendar, and measures June 2026 as
// TestCompute does by hand: the two unplanned outages A and B give 97.09 %,
// with MTBF, MTRS and MTBSI; the planned outage P takes an hour out of the
// agreed time; the overlapping outage C adds only its 30 minutes past A.
func TestServiceAvailability(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		if _, err := e.svc.RecordOutage(e.s, availability.OutageInput{ServiceID: e.mail, Kind: availability.Unplanned,
			StartedAt: outageA.StartedAt, EndedAt: outageA.EndedAt}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a stranger records an outage: %v", err)
		}
		a, b := e.record(outageA), e.record(outageB)
		if a.Source != availability.SourceManual || a.CreatedBy != e.analyst.ID || a.Version != 1 || b.ServiceName != "E-mail" {
			t.Fatalf("recorded: %+v %+v", a, b)
		}
		r, err := e.svc.Availability(e.s, e.mail, june, julyFrom)
		if err != nil {
			t.Fatal(err)
		}
		// 189 h agreed, 5.5 h down, 2 failures: see TestCompute's first case.
		checkFigures(t, r.AvailabilityFigures, availability.AvailabilityFigures{AgreedMs: 189 * hour, DowntimeMs: 19_800_000, Percent: 183.5 / 189 * 100,
			Failures: 2, MTRSms: i64(9_900_000), MTBFms: i64(330_300_000), MTBSIms: i64(340_200_000)})
		if r.CalendarID != businessCalendar || r.Target == nil || r.Target.Percent != 99.5 || r.Met == nil || *r.Met ||
			len(r.Monthly) != 1 || r.Monthly[0].Month != "2026-06" || len(r.Outages) != 2 || r.ServiceName != "E-mail" {
			t.Fatalf("report: %+v", r)
		}

		// Planned: agreed 188 h; see TestCompute's second case.
		e.record(plannedP)
		r, err = e.svc.Availability(e.s, e.mail, june, julyFrom)
		if err != nil {
			t.Fatal(err)
		}
		checkFigures(t, r.AvailabilityFigures, availability.AvailabilityFigures{AgreedMs: 188 * hour, PlannedMs: hour, DowntimeMs: 19_800_000,
			Percent: 182.5 / 188 * 100, Failures: 2, MTRSms: i64(9_900_000), MTBFms: i64(328_500_000), MTBSIms: i64(338_400_000)})

		// C overlaps A: A ∪ C = 10:00–13:00 = 3 h, B 3 h: downtime 6 h, still 2 failures.
		// availability = (188 − 6) / 188 × 100 = 96.8085106382…%; MTRS = 6 / 2 = 3 h;
		// MTBF = 182 / 2 = 91 h = 327,600,000 ms; MTBSI = 188 / 2 = 94 h = 338,400,000 ms.
		e.record(outageC)
		r, err = e.svc.Availability(e.s, e.mail, june, julyFrom)
		if err != nil {
			t.Fatal(err)
		}
		checkFigures(t, r.AvailabilityFigures, availability.AvailabilityFigures{AgreedMs: 188 * hour, PlannedMs: hour, DowntimeMs: 6 * hour,
			Percent: 182.0 / 188 * 100, Failures: 2, MTRSms: i64(3 * hour), MTBFms: i64(91 * hour), MTBSIms: i64(94 * hour)})

		// A period reaching past now is measured up to now; bad input names the field.
		if r, err := e.svc.Availability(e.s, e.vpn, june, julyFrom.AddDate(0, 1, 0)); err != nil || !r.To.Equal(e.k.Clock.Now()) {
			t.Fatalf("to in the future: %v %v", r.To, err)
		}
		if _, err := e.svc.Availability(e.s, e.mail, julyFrom, june); !recordtest.FieldAt(err, "query.to") {
			t.Fatalf("to before from: %v", err)
		}
		if _, err := e.svc.Availability(e.s, e.server, june, julyFrom); !recordtest.FieldAt(err, "path.id") {
			t.Fatalf("a CI that is no service: %v", err)
		}
		for _, tc := range []struct {
			name string
			in   availability.OutageInput
			loc  string
		}{
			{"end before start", availability.OutageInput{ServiceID: e.mail, Kind: availability.Unplanned, StartedAt: ny(2, 10, 0),
				EndedAt: ptr(ny(2, 9, 0))}, "body.endedAt"},
			{"unknown service", availability.OutageInput{ServiceID: 987654, Kind: availability.Unplanned, StartedAt: ny(2, 10, 0)}, "body.serviceId"},
			{"a CI is no service", availability.OutageInput{ServiceID: e.server, Kind: availability.Unplanned, StartedAt: ny(2, 10, 0)}, "body.serviceId"},
			{"unknown CI", availability.OutageInput{ServiceID: e.mail, CIID: 987654, Kind: availability.Unplanned, StartedAt: ny(2, 10, 0)}, "body.ciId"},
			{"bad kind", availability.OutageInput{ServiceID: e.mail, Kind: "maybe", StartedAt: ny(2, 10, 0)}, "body.kind"},
			{"planned without an end", availability.OutageInput{ServiceID: e.mail, Kind: availability.Planned, StartedAt: ny(2, 10, 0)}, "body.endedAt"},
			{"unplanned in the future", availability.OutageInput{ServiceID: e.mail, Kind: availability.Unplanned,
				StartedAt: e.k.Clock.Now().Add(time.Hour)}, "body.startedAt"},
		} {
			if _, err := e.svc.RecordOutage(e.an, tc.in); !recordtest.FieldAt(err, tc.loc) {
				t.Errorf("%s: %v does not name %s", tc.name, err, tc.loc)
			}
		}
		if n := recordtest.Count(t, d, `SELECT COUNT(*) FROM outages`); n != 4 {
			t.Fatalf("%d outages after the refusals", n)
		}
		if ev := recordtest.Events(t, d, "outage.recorded"); len(ev) != 4 {
			t.Fatalf("events: %+v", ev)
		}
		if au := recordtest.Audits(t, d, "outage.create"); len(au) != 4 {
			t.Fatalf("audits: %d", len(au))
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestSyncMajorIncidents mirrors a major incident of the VPN service (which
// has no target: 24×7) as an unplanned outage: logged Monday 22 June 10:00
// New York time and resolved at 11:30, it is 1.5 h of June's 720 h:
// availability = 718.5 / 720 × 100 = 99.7916…%, MTRS 1.5 h, MTBF 718.5 h,
// MTBSI 720 h. Syncing again changes nothing; a rejected resolution makes the
// outage ongoing again; a mirrored outage is not changed by hand.
func TestSyncMajorIncidents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		e.k.Clock.Set(ny(22, 10, 0))
		inc, err := e.inc.Create(e.an, incident.NewIncident{Title: "VPN down for everyone", Impact: 1, Urgency: 1, ServiceID: e.vpn,
			CIID: e.server, Category: "network", Subcategory: "vpn", CallerID: e.stranger.ID})
		if err != nil || inc.Path != incident.PathMajor {
			t.Fatalf("major incident: %+v %v", inc, err)
		}
		minor, err := e.inc.Create(e.an, incident.NewIncident{Title: "My VPN is slow", Impact: 3, Urgency: 3, ServiceID: e.vpn,
			Category: "network", CallerID: e.stranger.ID})
		if err != nil || minor.Path == incident.PathMajor {
			t.Fatalf("minor incident: %+v %v", minor, err)
		}
		e.k.Clock.Advance(90 * time.Minute)
		e.step(e.an, inc.Number, "resolve", incident.StepFields{ResolutionCode: "permanent", ResolutionNotes: "Rebooted the concentrator."})
		e.k.Clock.Set(time.Date(2026, 7, 2, 9, 0, 0, 0, time.UTC))

		n, err := e.svc.SyncMajorIncidents(e.s)
		if err != nil || n != 1 {
			t.Fatalf("sync: %d, %v", n, err)
		}
		list, total, err := e.svc.Outages(e.s, availability.OutageFilter{ServiceID: e.vpn, Source: availability.SourceIncident}, listPage())
		if err != nil || total != 1 {
			t.Fatalf("list: %d %v", total, err)
		}
		o := list.Items[0]
		if o.SourceRef != inc.Number || o.Kind != availability.Unplanned || o.CIID != e.server || !o.StartedAt.Equal(ny(22, 10, 0)) ||
			o.EndedAt == nil || !o.EndedAt.Equal(ny(22, 11, 30)) || o.CreatedBy != 0 {
			t.Fatalf("mirrored outage: %+v", o)
		}
		r, err := e.svc.Availability(e.s, e.vpn, june, julyFrom)
		if err != nil {
			t.Fatal(err)
		}
		checkFigures(t, r.AvailabilityFigures, availability.AvailabilityFigures{AgreedMs: 720 * hour, DowntimeMs: 90 * 60_000, Percent: 718.5 / 720 * 100,
			Failures: 1, MTRSms: i64(90 * 60_000), MTBFms: i64(718*hour + 30*60_000), MTBSIms: i64(720 * hour)})
		if r.CalendarID != 0 || r.Target != nil || r.Met != nil {
			t.Fatalf("a service without a target: %+v", r)
		}
		if n, err := e.svc.SyncMajorIncidents(e.s); err != nil || n != 0 {
			t.Fatalf("sync again: %d, %v", n, err)
		}
		if _, err := e.svc.UpdateOutage(e.an, o.ID, o.Version, availability.OutageInput{ServiceID: e.vpn, Kind: availability.Planned,
			StartedAt: o.StartedAt, EndedAt: o.EndedAt}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a mirrored outage changed by hand: %v", err)
		}
		if err := e.svc.DeleteOutage(e.an, o.ID, o.Version); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a mirrored outage deleted by hand: %v", err)
		}

		// The caller rejects the resolution: the outage goes on again.
		e.step(e.s, inc.Number, "reject_resolution", incident.StepFields{Reason: "Still cannot connect."})
		if n, err := e.svc.SyncMajorIncidents(e.s); err != nil || n != 1 {
			t.Fatalf("sync after the rejection: %d, %v", n, err)
		}
		o, err = e.svc.Outage(e.s, o.ID)
		if err != nil || o.EndedAt != nil || o.Version != 2 {
			t.Fatalf("ongoing again: %+v %v", o, err)
		}
		if ev := recordtest.Events(t, d, "outage.updated"); len(ev) != 1 || ev[0].Data["sourceRef"] != inc.Number {
			t.Fatalf("events: %+v", ev)
		}
	})
}
