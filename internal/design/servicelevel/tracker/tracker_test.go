package tracker_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/operation/incident"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/httpx"
	"steward/internal/platform/httpx/apitest"
	"steward/internal/platform/jobs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record/recordtest"
)

// scenario plays the incident on the business calendar (Mon–Fri
// 08:00–17:00 UTC), step by step up to stop, running each after every step:
//
//	Mon 09:00 logged by the analyst, impact 2 × urgency 2 = P3
//	Mon 10:00 investigate (the response clock stops)
//	Mon 15:00 hold, awaiting the caller (the resolution clock pauses)
//	Tue 11:00 resume
//	Tue 12:00 impact 1: P2 (the resolution target becomes 8 h, retroactively)
//	Tue 13:00 (nothing: the P2 target is reached)
//	Wed 10:00 resolve
func scenario(w *world, stop time.Time, each func(step, number string)) string {
	w.t.Helper()
	number := w.log(2, 2)
	each("logged", number)
	steps := []struct {
		at   time.Time
		name string
		do   func()
	}{
		{at(0, 10, 0), "investigate", func() { w.step(number, "investigate", incident.StepFields{}) }},
		{at(0, 15, 0), "hold", func() { w.step(number, "hold", incident.StepFields{HoldReason: "awaiting_caller"}) }},
		{at(1, 11, 0), "resume", func() { w.step(number, "resume", incident.StepFields{}) }},
		{at(1, 12, 0), "reprioritise", func() { w.impact(number, 1) }},
		{at(1, 13, 0), "breach", func() {}},
		{at(2, 10, 0), "resolve", func() {
			w.step(number, "resolve", incident.StepFields{ResolutionCode: "permanent", ResolutionNotes: "Mailbox quota raised."})
		}},
	}
	for _, s := range steps {
		if s.at.After(stop) {
			break
		}
		w.to(s.at)
		s.do()
		each(s.name, number)
	}
	return number
}

func TestIncidentScenarioOnBusinessCalendar(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, deskSLA(8*time.Hour))
		ctx := context.Background()
		fired := map[string]int{}
		check := map[string]func(number string){
			"logged": func(n string) {
				c := w.clocks(d, n)
				want := stored{TargetID: 71, TargetMS: hours(2), StartedAt: ms(at(0, 9, 0)), DueAt: ms(at(0, 11, 0)), Status: "running",
					Priority: 3, NextThreshold: 75, NextAt: ms(at(0, 10, 30))}
				if c["response"] != want {
					t.Errorf("response after logging:\n got %+v\nwant %+v", c["response"], want)
				}
				// 16 business hours from Mon 09:00: Mon 09–17, Tue 08–16.
				want = stored{TargetID: 73, TargetMS: hours(16), StartedAt: ms(at(0, 9, 0)), DueAt: ms(at(1, 16, 0)), Status: "running",
					Priority: 3, NextThreshold: 75, NextAt: ms(at(1, 12, 0))}
				if c["resolution"] != want {
					t.Errorf("resolution after logging:\n got %+v\nwant %+v", c["resolution"], want)
				}
			},
			"investigate": func(n string) {
				c := w.clocks(d, n)["response"]
				if c.Status != "met" || c.ElapsedMS != hours(1) || c.StoppedAt != ms(at(0, 10, 0)) || c.DueAt != 0 || c.NextAt != 0 {
					t.Errorf("response after investigating: %+v", c)
				}
			},
			"hold": func(n string) {
				c := w.clocks(d, n)["resolution"]
				if c.Status != "paused" || c.ElapsedMS != hours(6) || c.DueAt != 0 || c.NextAt != 0 {
					t.Errorf("resolution on hold: %+v", c)
				}
			},
			"resume": func(n string) {
				// Paused Mon 15–17 and Tue 08–11: 5 h; 10 h left from Tue 11:00: Tue 11–17, Wed 08–12.
				c := w.clocks(d, n)["resolution"]
				if c.Status != "running" || c.ElapsedMS != hours(6) || c.PausedMS != hours(5) || c.DueAt != ms(at(2, 12, 0)) {
					t.Errorf("resolution resumed: %+v", c)
				}
			},
			"reprioritise": func(n string) {
				// P2: 8 h, 7 h gone (Mon 09–15, Tue 11–12): due Tue 13:00; 75 % (6 h) passed, due to fire now.
				c := w.clocks(d, n)["resolution"]
				want := stored{TargetID: 72, TargetMS: hours(8), ElapsedMS: hours(7), PausedMS: hours(5), StartedAt: ms(at(0, 9, 0)),
					DueAt: ms(at(1, 13, 0)), Status: "running", Priority: 2, NextThreshold: 75, NextAt: ms(at(1, 12, 0))}
				if c != want {
					t.Errorf("resolution after the priority change:\n got %+v\nwant %+v", c, want)
				}
				n1, err := w.tracker.Sweep(ctx)
				if err != nil {
					t.Fatal(err)
				}
				fired["warning"] = n1
				c = w.clocks(d, n)["resolution"]
				if c.Fired != 75 || c.NextThreshold != 100 || c.NextAt != ms(at(1, 13, 0)) {
					t.Errorf("resolution after the warning fired: %+v", c)
				}
			},
			"breach": func(n string) {
				n1, err := w.tracker.Sweep(ctx)
				if err != nil {
					t.Fatal(err)
				}
				fired["breach"] = n1
				c := w.clocks(d, n)["resolution"]
				if c.Status != "breached" || c.BreachedAt != ms(at(1, 13, 0)) || c.Fired != 100 || c.NextAt != 0 {
					t.Errorf("resolution at its target: %+v", c)
				}
			},
		}
		number := scenario(w, at(2, 10, 0), func(step, number string) {
			w.refresh()
			if f := check[step]; f != nil {
				f(number)
			}
		})
		if fired["warning"] != 1 || fired["breach"] != 1 {
			t.Errorf("fired %v, want one warning and one breach", fired)
		}
		// Running Mon 09–15 (6 h), Tue 11–17 (6 h), Wed 08–10 (2 h): 14 h; paused 5 h; breached Tue 13:00.
		c := w.clocks(d, number)
		want := stored{TargetID: 72, TargetMS: hours(8), ElapsedMS: hours(14), PausedMS: hours(5), StartedAt: ms(at(0, 9, 0)),
			StoppedAt: ms(at(2, 10, 0)), BreachedAt: ms(at(1, 13, 0)), Status: "breached", Priority: 2, Fired: 100}
		if c["resolution"] != want {
			t.Errorf("resolution at the end:\n got %+v\nwant %+v", c["resolution"], want)
		}
		if c["response"].Status != "met" || c["response"].ElapsedMS != hours(1) {
			t.Errorf("response at the end: %+v", c["response"])
		}
		live, err := w.tracker.Clocks(w.an, number)
		if err != nil {
			t.Fatal(err)
		}
		if len(live.Clocks) != 2 {
			t.Fatalf("live clocks: %+v", live.Clocks)
		}
		for _, v := range live.Clocks {
			s := c[v.Kind]
			if v.Status != s.Status || v.ElapsedMs != s.ElapsedMS || v.PausedMs != s.PausedMS || v.TargetID != s.TargetID ||
				v.BreachedAt != s.BreachedAt || v.StoppedAt != s.StoppedAt {
				t.Errorf("live %s clock %+v differs from the stored one %+v", v.Kind, v, s)
			}
		}
		// The retroactive priority change kept the P3 figures.
		if len(live.History) != 1 {
			t.Fatalf("history: %+v", live.History)
		}
		h := live.History[0]
		wantH := tracker.HistoryEntry{ClockID: h.ClockID, At: ms(at(1, 12, 0)), Reason: "priority P3 → P2", OldTargetID: 73,
			NewTargetID: 72, OldTargetMs: hours(16), NewTargetMs: hours(8), OldDueAt: ms(at(2, 12, 0)), NewDueAt: ms(at(1, 13, 0)),
			OldStatus: "running", NewStatus: "running", OldPriority: 3, NewPriority: 2}
		if h != wantH {
			t.Errorf("history:\n got %+v\nwant %+v", h, wantH)
		}
		if len(live.Escalations) != 2 { // the resolution's 75 and 100 % notifications
			t.Errorf("escalations: %+v", live.Escalations)
		}
		if got := recordtest.Events(t, d, "sla.breached"); len(got) != 1 {
			t.Errorf("sla.breached events: %+v", got)
		}
	})
}

// figures are a stored clock's figures without what only firing changes.
func figures(s stored) stored {
	s.Fired = 0
	return s
}

func TestRecomputeAfterDefinitionChangeEqualsIncremental(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			for _, stop := range []time.Time{at(1, 12, 0), at(2, 10, 0)} {
				// Incremental: the P2 target is 10 h from the start.
				inc := newWorld(t, dbtest.Open(t, e), deskSLA(10*time.Hour))
				number := scenario(inc, stop, func(string, string) { inc.refresh() })
				// Recomputed: 8 h while the incident ran, then redefined as 10 h.
				rec := newWorld(t, dbtest.Open(t, e), deskSLA(8*time.Hour))
				scenario(rec, stop, func(string, string) { rec.refresh() })
				rec.targets.set(deskSLA(10 * time.Hour))
				ctx := context.Background()
				if err := rec.d.InTx(ctx, func(tx *db.Tx) error { return rec.tracker.AgreementChanged(ctx, tx, 7) }); err != nil {
					t.Fatal(err)
				}
				want, got := inc.clocks(inc.d, number), rec.clocks(rec.d, number)
				if len(got) != 2 || len(want) != 2 {
					t.Fatalf("clocks: incremental %+v, recomputed %+v", want, got)
				}
				for kind, w := range want {
					if figures(got[kind]) != figures(w) {
						t.Errorf("stop %s, %s clock:\nrecomputed  %+v\nincremental %+v", stop, kind, got[kind], w)
					}
				}
				// RecomputeAll from the trail agrees as well.
				if _, err := rec.tracker.RecomputeAll(ctx, tracker.RecomputeOptions{Workers: 2}); err != nil {
					t.Fatal(err)
				}
				for kind, w := range want {
					if g := rec.clocks(rec.d, number)[kind]; figures(g) != figures(w) {
						t.Errorf("stop %s, %s clock after RecomputeAll:\n got %+v\nwant %+v", stop, kind, g, w)
					}
				}
				// The definition change moved the due time of a running clock: history keeps it.
				if stop.Equal(at(1, 12, 0)) {
					live, err := rec.tracker.Clocks(rec.an, number)
					if err != nil {
						t.Fatal(err)
					}
					last := live.History[len(live.History)-1]
					if last.OldTargetMs != hours(8) || last.NewTargetMs != hours(10) || last.Reason != "target redefined" {
						t.Errorf("history after the redefinition: %+v", live.History)
					}
				}
			}
		})
	}
}

// node is one of two processes sharing a database: its own connection pools,
// kernel services, tracker and job runner.
type node struct {
	d       *db.DB
	tracker *tracker.Service
	runner  *jobs.Runner
}

func TestBreachFiresOnceAcrossNodes(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			u := dbtest.URL(t, e)
			open := func() *db.DB {
				d, err := db.Open(ctx, db.Config{URL: u})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { d.Close() })
				return d
			}
			d1 := open()
			if e == db.SQLite {
				if err := d1.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			esc := []sla.Escalation{{Threshold: 100, Action: tracker.ActionRaisePriority}}
			w := newWorld(t, d1, deskSLA(8*time.Hour, esc...))
			number := w.log(2, 2) // P3: resolution in 16 business hours, due Tue 16:00
			w.refresh()
			nodes := []node{{d: d1, tracker: w.tracker}}
			d2 := open()
			k2 := recordtest.NewKernel(t, d2, start)
			name := "node-2"
			nodes = append(nodes, node{d: d2, tracker: w.newTracker(d2, k2, &name)})
			for i := range nodes {
				nodes[i].runner = jobs.New(nodes[i].d, w.clock, nil, jobs.Options{NodeID: fmt.Sprintf("node-%d", i+1)})
				nodes[i].tracker.Register(nodes[i].runner)
			}
			w.to(at(1, 16, 30)) // past both targets
			k2.Clock.Set(at(1, 16, 30))
			for round := range 3 {
				var wg sync.WaitGroup
				errs := make(chan error, 8)
				for _, n := range nodes {
					wg.Add(2)
					go func() {
						defer wg.Done()
						_, err := n.runner.RunOnce(ctx)
						errs <- err
					}()
					go func() {
						defer wg.Done()
						_, err := n.tracker.Sweep(ctx)
						errs <- err
					}()
				}
				wg.Wait()
				close(errs)
				for err := range errs {
					if err != nil {
						t.Fatalf("round %d: %v", round, err)
					}
				}
				w.clock.Advance(15 * time.Second)
				k2.Clock.Advance(15 * time.Second)
			}
			for _, n := range nodes {
				if _, err := n.tracker.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
				if _, err := n.tracker.Sweep(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// Response (2 h) and resolution (16 h): 75 % and 100 % notified once each,
			// and the resolution's breach raised the priority once (P3 → P2).
			type key struct {
				th     int
				action string
			}
			got := map[key]int{}
			rows, err := d1.QueryContext(ctx, `SELECT threshold, action FROM sla_escalations`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k key
				if err := rows.Scan(&k.th, &k.action); err != nil {
					t.Fatal(err)
				}
				got[k]++
			}
			rows.Close()
			want := map[key]int{{75, "notify"}: 2, {100, "notify"}: 2, {100, "raise_priority"}: 1}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("escalations %v, want %v", got, want)
			}
			if n := len(recordtest.Events(t, d1, "sla.breached")); n != 2 {
				t.Errorf("%d sla.breached events, want 2", n)
			}
			if n := len(recordtest.Events(t, d1, "sla.warning")); n != 2 {
				t.Errorf("%d sla.warning events, want 2", n)
			}
			if n := recordtest.Count(t, d1, `SELECT COUNT(*) FROM audit_log WHERE action = 'record.system.update'`); n != 1 {
				t.Errorf("%d system changes, want 1", n)
			}
			inc, err := w.inc.Incident(w.rt, number)
			if err != nil {
				t.Fatal(err)
			}
			if inc.Priority != 2 {
				t.Errorf("priority %d, want 2 (raised once from 3)", inc.Priority)
			}
			// The raised priority re-targeted the clock (P2, 8 h), which keeps what it fired.
			c := w.clocks(d1, number)["resolution"]
			if c.TargetID != 72 || c.Fired != 100 || c.NextAt != 0 || c.Status != "breached" {
				t.Errorf("resolution after the escalation: %+v", c)
			}
		})
	}
}

func TestCorrectionsAndBreachingSoonThroughTheAPI(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		w := newWorld(t, d, deskSLA(8*time.Hour))
		number := w.log(2, 2)
		w.to(at(0, 12, 0))
		w.refresh()
		api := apitest.New(t, w.k.Auth, func(a *httpx.API) { tracker.RegisterAPI(a, w.tracker) })
		tok := api.Token(w.analyst)
		path := "/api/v1/records/" + number + "/sla/corrections"

		// Before the record existed: 422 naming from.
		r := api.Do(http.MethodPost, path, tok, map[string]any{"from": at(0, 8, 0), "to": at(0, 10, 0), "reason": "caller unreachable"}).
			Want(t, http.StatusUnprocessableEntity)
		var p apitest.Problem
		r.Decode(t, &p)
		if !p.Names("from") {
			t.Errorf("correction before creation: %s", r.Body)
		}
		// In the future: 422 naming to.
		r = api.Do(http.MethodPost, path, tok, map[string]any{"from": at(0, 10, 0), "to": at(0, 13, 0), "reason": "caller unreachable"}).
			Want(t, http.StatusUnprocessableEntity)
		p = apitest.Problem{}
		r.Decode(t, &p)
		if !p.Names("to") {
			t.Errorf("correction into the future: %s", r.Body)
		}

		// A valid one pauses every clock from 10:00 to 11:00.
		var c sla.Correction
		api.Do(http.MethodPost, path, tok, map[string]any{"from": at(0, 10, 0), "to": at(0, 11, 0), "reason": "caller unreachable"}).
			Want(t, http.StatusCreated).Decode(t, &c)
		if c.ID == 0 || c.From != ms(at(0, 10, 0)) {
			t.Errorf("correction: %+v", c)
		}
		var rc tracker.RecordClocks
		api.Do(http.MethodGet, "/api/v1/records/"+number+"/sla", tok, nil).Want(t, http.StatusOK).Decode(t, &rc)
		for _, v := range rc.Clocks {
			switch v.Kind {
			case "response": // 2 h from 09:00, an hour paused: breached at 12:00 exactly
				if v.ElapsedMs != hours(2) || v.PausedMs != hours(1) || v.BreachedAt != ms(at(0, 12, 0)) {
					t.Errorf("response after the correction: %+v", v)
				}
			case "resolution":
				if v.ElapsedMs != hours(2) || v.PausedMs != hours(1) || v.DueAt != ms(at(1, 17, 0)) {
					t.Errorf("resolution after the correction: %+v", v)
				}
			}
		}
		if len(rc.Corrections) != 1 || len(rc.History) == 0 {
			t.Errorf("corrections %+v, history %+v", rc.Corrections, rc.History)
		}
		stored := w.clocks(d, number)["resolution"]
		if stored.DueAt != ms(at(1, 17, 0)) {
			t.Errorf("stored resolution after the correction: %+v", stored)
		}

		// Breaching soon: the response (breached, running) within 4 h; the resolution is due tomorrow.
		var page listing.Page[tracker.BreachRow]
		r = api.Do(http.MethodGet, "/api/v1/sla/breaching", tok, nil).Want(t, http.StatusOK).Decode(t, &page)
		if len(page.Items) != 1 || page.Items[0].Number != number || page.Items[0].Kind != "response" || !page.Items[0].Breached ||
			r.Header.Get("X-Total-Count") != "1" {
			t.Errorf("breaching soon: %s", r.Body)
		}
		api.Do(http.MethodGet, "/api/v1/sla/breaching?within=48h", tok, nil).Want(t, http.StatusOK).Decode(t, &page)
		if len(page.Items) != 2 || page.Items[1].Kind != "resolution" || page.Items[1].RemainingMs != hours(14) {
			t.Errorf("breaching within 48 h: %+v", page.Items)
		}
		api.Do(http.MethodGet, "/api/v1/sla/breaching?within=soon", tok, nil).Want(t, http.StatusUnprocessableEntity)

		// Recomputing is SLM1's: the analyst may not, an administrator may.
		api.Do(http.MethodPost, "/api/v1/sla/recompute", tok, map[string]any{"number": number}).Want(t, http.StatusForbidden)
		api.Do(http.MethodPost, "/api/v1/sla/recompute", api.Token(w.root), map[string]any{}).Want(t, http.StatusAccepted)
	})
}
