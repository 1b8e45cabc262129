package gen_test

import (
	"context"
	"testing"
	"time"

	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/sla"
	"steward/internal/framework"
	"steward/internal/gen"
	"steward/internal/platform/audit"
	"steward/internal/platform/calendar"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// TestSLAGenerated checks, on both engines, the service levels the sla
// generator writes and that the services read them back: calendars that
// compile, agreed SLAs on the critical and busiest services with a response
// and resolution target per priority and an availability target, OLAs and UCs
// underpinning them, terms, and outages of each kind in time order.
func TestSLAGenerated(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			a, sum := amApp(t, e, 6_000, 7) // skips PostgreSQL without a server
			d := a.DB
			ctx := context.Background()
			count := func(q string, args ...any) int64 { t.Helper(); return one[int64](t, d, q, args...) }

			if sum.Rows["agreements"] == 0 || sum.Rows["outages"] == 0 || sum.Rows["calendars"] != 3 {
				t.Fatalf("rows %v", sum.Rows)
			}
			// Every agreement agreed through the kernel's steps, before the generated years.
			if bad := count(`SELECT COUNT(*) FROM records r JOIN agreements a ON a.record_id = r.id WHERE r.type <> 'agreement'
				OR r.state <> 'agreed' OR r.version <> 3 OR r.updated_at >= ?`, gen0()); bad != 0 {
				t.Errorf("%d agreements not agreed in two steps before the generated years", bad)
			}
			slas := count(`SELECT COUNT(*) FROM agreements WHERE kind = 'SLA'`)
			critical := count(`SELECT COUNT(*) FROM ci_services s JOIN cis c ON c.id = s.ci_id WHERE c.status <> 'disposed'
				AND s.criticality IN ('mission_critical', 'mission_essential')`)
			if slas < critical || slas > critical+10 || count(`SELECT COUNT(*) FROM agreements WHERE kind = 'OLA'`) == 0 ||
				count(`SELECT COUNT(*) FROM agreements WHERE kind = 'UC'`) == 0 {
				t.Errorf("%d SLAs for %d critical services, OLAs and UCs: %d, %d", slas, critical,
					count(`SELECT COUNT(*) FROM agreements WHERE kind = 'OLA'`), count(`SELECT COUNT(*) FROM agreements WHERE kind = 'UC'`))
			}
			if bad := count(`SELECT COUNT(*) FROM agreements a WHERE a.kind = 'SLA' AND (
				(SELECT COUNT(*) FROM agreement_targets t WHERE t.agreement_id = a.record_id AND t.kind IN ('response', 'resolution')) <> 10
				OR (SELECT COUNT(*) FROM agreement_targets t WHERE t.agreement_id = a.record_id AND t.kind = 'availability' AND t.percent >= 99) <> 1
				OR (SELECT COUNT(*) FROM agreement_services s WHERE s.agreement_id = a.record_id) <> 1
				OR (SELECT COUNT(*) FROM agreement_terms s WHERE s.agreement_id = a.record_id) <> 2)`); bad != 0 {
				t.Errorf("%d SLAs without their ten time targets, availability, service and terms", bad)
			}
			// The service with the most incidents has an SLA, underpinned by an OLA.
			if bad := count(`SELECT COUNT(*) FROM (SELECT service_id FROM records WHERE type = 'incident' AND service_id IS NOT NULL
				GROUP BY service_id ORDER BY COUNT(*) DESC, service_id LIMIT 1) top WHERE NOT EXISTS (SELECT 1 FROM agreement_services s
				JOIN agreements a ON a.record_id = s.agreement_id AND a.kind = 'SLA' JOIN agreement_underpins u ON u.sla_id = a.record_id
				JOIN agreements o ON o.record_id = u.underpin_id AND o.kind = 'OLA' WHERE s.service_id = top.service_id)`); bad != 0 {
				t.Error("the busiest service has no SLA with an OLA")
			}

			// The services read them back.
			m, err := framework.Embedded()
			if err != nil {
				t.Fatal(err)
			}
			c := clock.System{}
			trail, events := audit.NewTrail(c), outbox.New(c, nil)
			recs := record.New(record.Deps{DB: d, Model: m, Trail: trail, Events: events, Clock: c})
			levels, err := servicelevel.New(servicelevel.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c})
			if err != nil {
				t.Fatal(err)
			}
			targets, err := levels.Targets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := count(`SELECT COUNT(*) FROM agreement_targets WHERE kind <> 'availability'`); int64(len(targets)) != want {
				t.Fatalf("Targets: %d, want %d", len(targets), want)
			}
			kinds := map[string]int{}
			for _, tg := range targets {
				kinds[tg.AgreementKind]++
				if tg.Duration <= 0 || tg.CalendarID == 0 || tg.Kind == sla.KindResolution && tg.AgreementKind == "OLA" &&
					len(tg.Rule.Start.Fields[sla.FieldTeam]) != 1 {
					t.Errorf("target %+v", tg)
				}
			}
			if kinds["SLA"] == 0 || kinds["OLA"] == 0 || kinds["UC"] == 0 {
				t.Errorf("targets by agreement kind %v", kinds)
			}
			svc := one[int64](t, d, `SELECT MIN(service_id) FROM agreement_services s JOIN agreements a ON a.record_id = s.agreement_id AND a.kind = 'SLA'`)
			at, ok, err := levels.AvailabilityTarget(ctx, svc)
			if err != nil || !ok || at.Percent < 99 {
				t.Errorf("availability target of %d: %+v %v %v", svc, at, ok, err)
			}
			cals, err := calendar.New(calendar.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := d.QueryContext(ctx, `SELECT DISTINCT calendar_id FROM agreements ORDER BY calendar_id`)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				ids = append(ids, id)
			}
			rows.Close()
			if len(ids) != 4 {
				t.Errorf("agreements use calendars %v, want four", ids)
			}
			for _, id := range ids {
				s, err := cals.Schedule(ctx, id)
				if err != nil {
					t.Fatalf("calendar %d: %v", id, err)
				}
				// The week of Thanksgiving 2025: four working days on the US calendars, five on the others.
				week := s.Working(time.Date(2025, 11, 24, 0, 0, 0, 0, time.UTC), time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC))
				if week <= 0 || week > 7*24*time.Hour {
					t.Errorf("calendar %d: %s of work in a week", id, week)
				}
			}

			// Outages: planned, by hand and from major incidents, in time order, none after the generated years.
			for _, q := range []string{`kind = 'planned'`, `kind = 'unplanned' AND source = 'manual'`, `source = 'incident' AND source_ref LIKE 'INC%'`} {
				if count(`SELECT COUNT(*) FROM outages WHERE `+q) == 0 {
					t.Errorf("no outage where %s", q)
				}
			}
			if bad := count(`SELECT COUNT(*) FROM outages a JOIN outages b ON b.id = a.id + 1 WHERE b.started_at < a.started_at`); bad != 0 {
				t.Errorf("%d outages out of time order", bad)
			}
			if bad := count(`SELECT COUNT(*) FROM outages o JOIN cis c ON c.id = o.service_id WHERE o.started_at < c.created_at
				OR o.created_at >= ? OR o.ended_at >= ?`, gen0()+730*86_400_000, gen0()+730*86_400_000); bad != 0 {
				t.Errorf("%d outages before their service or after the generated years", bad)
			}
		})
	}
}

// gen0 is when the generated years begin.
func gen0() int64 { return gen.EpochMillis - 730*86_400_000 }
