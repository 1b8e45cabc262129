package incident_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/operation/incident"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// TestMajorPath walks a major incident: declared by the threshold, given a
// manager, stakeholder updates sent through the outbox, a communications
// log, children resolved with it, closing refused until its review.
func TestMajorPath(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		inc := e.log(e.an, incident.NewIncident{Title: "Mail down for everyone", Impact: 1, Urgency: 1, ServiceID: e.service,
			CallerID: e.caller.ID, Channel: "phone"})
		n := inc.Number
		if inc.Path != incident.PathMajor || inc.Priority != 1 || inc.Major == nil || !strings.Contains(inc.Major.Reason, "threshold") {
			t.Fatalf("P1 not major: %+v", inc)
		}
		if ev := e.events("incident.major_declared"); len(ev) != 1 || ev[0].Data["number"] != n {
			t.Fatalf("declared: %+v", ev)
		}
		// A manager is named by hand (IM3); the caller may not.
		if _, err := e.svc.DeclareMajor(e.c, n, 0, e.manager.ID, "coordination"); kind(err) != errs.Forbidden {
			t.Fatalf("caller names the manager: %v", err)
		}
		if _, err := e.svc.DeclareMajor(e.an, n, 0, 424242, "coordination"); !fieldAt(err, "body.managerId") {
			t.Fatalf("unknown manager: %v", err)
		}
		inc, err := e.svc.DeclareMajor(e.an, n, 0, e.manager.ID, "All users affected")
		if err != nil || inc.Major.ManagerID != e.manager.ID || inc.Major.ManagerName != "manager" || inc.Major.Reason != "All users affected" {
			t.Fatalf("manager named: %+v, %v", inc.Major, err)
		}

		// Stakeholder updates: stored and sent through the outbox.
		if _, err := e.svc.PostUpdate(e.c, n, "all", "hello"); kind(err) != errs.Forbidden {
			t.Fatalf("caller posts an update: %v", err)
		}
		if _, err := e.svc.PostUpdate(e.m, n, "everyone", "x"); !fieldAt(err, "body.audience") {
			t.Fatalf("bad audience: %v", err)
		}
		u, err := e.svc.PostUpdate(e.m, n, "users", "Mail is down; we are on it. Next update 10:00.")
		if err != nil || u.ID == 0 || u.AuthorName != "manager" {
			t.Fatalf("update: %+v, %v", u, err)
		}
		ev := e.events("incident.major_update")
		if len(ev) != 1 || ev[0].Data["number"] != n || ev[0].Data["message"] != "Mail is down; we are on it. Next update 10:00." ||
			ev[0].Data["audience"] != "users" {
			t.Fatalf("update events: %+v", ev)
		}
		c, err := e.svc.LogCommunication(e.an, n, incident.MajorCommunication{Channel: "bridge", Party: "Mission partner ops", Summary: "Briefed on impact"})
		if err != nil || c.ID == 0 {
			t.Fatalf("communication: %+v, %v", c, err)
		}
		if _, err := e.svc.LogCommunication(e.an, n, incident.MajorCommunication{Channel: "bridge", Summary: "x"}); !fieldAt(err, "body.party") {
			t.Fatalf("communication without a party: %v", err)
		}

		// Children: two normal incidents; a major one cannot be a child.
		k1 := e.log(e.c, incident.NewIncident{Title: "My mail is gone"})
		k2 := e.log(e.s, incident.NewIncident{Title: "Cannot send"})
		e.must(e.an, k2.Number, "investigate", incident.StepFields{})
		e.must(e.an, k2.Number, "hold", incident.StepFields{HoldReason: "awaiting_change"})
		other := e.log(e.an, incident.NewIncident{Title: "Other major", Impact: 1, Urgency: 1, CallerID: e.stranger.ID})
		if _, err := e.svc.AddChildren(e.an, n, []string{k1.Number, other.Number, "INC9999999", n}); !fieldAt(err, "body.numbers[1]") ||
			!fieldAt(err, "body.numbers[2]") || !fieldAt(err, "body.numbers[3]") {
			t.Fatalf("bad children: %v", err)
		}
		linked, err := e.svc.AddChildren(e.an, n, []string{strings.ToLower(k1.Number), k2.Number})
		if err != nil || len(linked) != 2 {
			t.Fatalf("children: %v, %v", linked, err)
		}
		if again, err := e.svc.AddChildren(e.m, n, []string{k1.Number}); err != nil || len(again) != 0 {
			t.Fatalf("linking again: %v, %v", again, err)
		}
		if _, err := e.svc.AddChildren(e.an, other.Number, []string{k1.Number}); !fieldAt(err, "body.numbers[0]") {
			t.Fatalf("a child of two parents: %v", err)
		}
		if _, err := e.svc.DeclareMajor(e.an, k1.Number, 0, e.manager.ID, "x"); kind(err) != errs.Conflict {
			t.Fatalf("a child declared major: %v", err)
		}

		// Review before resolution is refused; resolving the parent resolves its open children.
		if _, err := e.svc.RecordReview(e.m, n, incident.MajorReview{Summary: "s", RootCause: "r", Lessons: "l", Actions: "a"}); kind(err) != errs.Conflict {
			t.Fatalf("review before resolution: %v", err)
		}
		e.must(e.an, n, "investigate", incident.StepFields{})
		e.must(e.an, n, "resolve", incident.StepFields{ResolutionCode: "permanent", ResolutionNotes: "Failed over to mail02.", EffortMinutes: 240})
		for _, k := range []string{k1.Number, k2.Number} {
			got := e.get(e.an, k)
			if got.State != incident.StateResolved || got.Resolution == nil || got.Resolution.Code != "permanent" ||
				!strings.Contains(got.Resolution.Notes, "Resolved with major incident "+n) || got.HoldReason != "" {
				t.Fatalf("child %s after the parent resolved: %s %+v", k, got.State, got.Resolution)
			}
		}
		j, err := e.recs.Journal(e.an, k1.Number, true)
		if err != nil || !strings.Contains(j[len(j)-1].Body, "Resolve (IM5)") {
			t.Fatalf("child journal: %+v, %v", j, err)
		}

		// Close and confirm wait for the review.
		for _, a := range []struct {
			ctx    context.Context
			action string
		}{{e.an, "close"}, {e.c, "confirm"}} {
			_, err := e.step(a.ctx, n, a.action, incident.StepFields{})
			if kind(err) != errs.Conflict || !strings.Contains(err.Error(), "major/review") {
				t.Fatalf("%s without a review: %v", a.action, err)
			}
		}
		if _, err := e.svc.RecordReview(e.an, n, incident.MajorReview{Summary: "s"}); !fieldAt(err, "body.rootCause") {
			t.Fatalf("review without a root cause: %v", err)
		}
		if _, err := e.svc.RecordReview(e.c, n, incident.MajorReview{Summary: "s", RootCause: "r", Lessons: "l", Actions: "a"}); kind(err) != errs.Forbidden {
			t.Fatalf("caller reviews: %v", err)
		}
		rv, err := e.svc.RecordReview(e.m, n, incident.MajorReview{Summary: "Mail down 2h", RootCause: "Disk full on mail01",
			Lessons: "Monitor the queue disk", Actions: "Alert at 80%"})
		if err != nil || rv.ReviewedBy != e.manager.ID {
			t.Fatalf("review: %+v, %v", rv, err)
		}
		inc = e.must(e.c, n, "confirm", incident.StepFields{})
		if inc.State != incident.StateClosed || !inc.Major.Reviewed {
			t.Fatalf("closed major: %+v", inc)
		}
		md, err := e.svc.MajorDetail(e.s, n)
		if err != nil || len(md.Updates) != 1 || len(md.Communications) != 1 || md.Review == nil ||
			md.Review.RootCause != "Disk full on mail01" || !slices.Equal(md.Children, []string{k1.Number, k2.Number}) {
			t.Fatalf("major detail: %+v, %v", md, err)
		}
		if _, err := e.svc.MajorDetail(e.an, k1.Number); kind(err) != errs.Conflict {
			t.Fatalf("major detail of a normal incident: %v", err)
		}
		// The major queue.
		p, total, err := e.svc.Queue(e.an, incident.QueueFilter{Path: incident.PathMajor}, listing.Params{})
		if err != nil || total != 2 || len(p.Items) != 2 {
			t.Fatalf("major queue: %d, %v", total, err)
		}
	})
}

// TestSecurityPath checks that a security incident is seen only by its
// caller, its assignee, ISM role holders, security roles and administrators:
// everyone else reads it as not found, in single reads, lists, searches and trends.
func TestSecurityPath(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		sec := e.log(e.c, incident.NewIncident{Title: "Strange ransom note on screen", Category: "cnd-cat-7", Impact: 1, Urgency: 1})
		if sec.Path != incident.PathSecurity || sec.Priority != 1 {
			t.Fatalf("security incident: %s P%d", sec.Path, sec.Priority)
		}
		normal := e.log(e.s, incident.NewIncident{Title: "Ransom of the printer toner", Category: "hardware"})
		n := sec.Number

		visible := func(ctx context.Context) bool {
			t.Helper()
			_, err := e.svc.Incident(ctx, n)
			if err != nil && kind(err) != errs.NotFound {
				t.Fatal(err)
			}
			_, kerr := e.recs.Get(ctx, n)
			if (err == nil) != (kerr == nil) {
				t.Fatalf("service and kernel disagree on %s: %v / %v", n, err, kerr)
			}
			p, total, err := e.svc.Queue(ctx, incident.QueueFilter{Query: "ransom"}, listing.Params{})
			if err != nil {
				t.Fatal(err)
			}
			inList := slices.ContainsFunc(p.Items, func(i incident.Incident) bool { return i.Number == n })
			if inList != (kerr == nil) || int(total) != len(p.Items) {
				t.Fatalf("list and read disagree on %s: listed %v (total %d), read %v", n, inList, total, kerr)
			}
			tr, err := e.svc.Trends(ctx, incident.TrendQuery{By: "category", Min: 1})
			if err != nil {
				t.Fatal(err)
			}
			inTrend := slices.ContainsFunc(tr, func(x incident.IncidentTrend) bool { return slices.Contains(x.Sample, n) })
			if inTrend != inList {
				t.Fatalf("trend and list disagree: %v / %v", inTrend, inList)
			}
			return err == nil && inList
		}
		if visible(e.s) || visible(e.an) || visible(e.m) {
			t.Fatal("a stranger or an IM analyst sees the security incident")
		}
		if !visible(e.c) || !visible(e.sec) || !visible(e.rt) {
			t.Fatal("the caller, an ISM holder or an administrator does not see it")
		}
		if _, err := e.svc.Incident(e.s, normal.Number); err != nil {
			t.Fatalf("the normal incident: %v", err)
		}
		// The stranger cannot act on it either: it is not found.
		if _, err := e.recs.Actions(e.s, n); kind(err) != errs.NotFound {
			t.Fatalf("stranger lists actions: %v", err)
		}
		if _, err := e.svc.Tracking(e.an, n); kind(err) != errs.NotFound {
			t.Fatalf("analyst reads tracking: %v", err)
		}
		// The ISM holder assigns it to the analyst, who then sees it as its assignee.
		r, _ := e.recs.Get(e.sec, n)
		if _, err := e.recs.Assign(e.rt, n, e.team, e.analyst.ID, r.Version); err != nil {
			t.Fatal(err)
		}
		if !visible(e.an) || visible(e.m) {
			t.Fatal("visibility after assignment")
		}
		// A security role of the settings lets IM process managers see it.
		st, err := e.svc.Settings(e.rt)
		if err != nil {
			t.Fatal(err)
		}
		st.SecurityRoles = []string{"process-manager"}
		if _, err := e.svc.SaveSettings(e.o, st.Version, st); err != nil {
			t.Fatal(err)
		}
		if !visible(e.m) || visible(e.s) {
			t.Fatal("visibility through a security role")
		}
		// A second one lives its whole life on the security path, out of the stranger's sight.
		s2 := e.log(e.c, incident.NewIncident{Title: "Account used at 3 a.m.", Category: "cnd-cat-2", Impact: 2, Urgency: 2})
		if _, err := e.svc.Incident(e.an, s2.Number); kind(err) != errs.NotFound {
			t.Fatalf("the analyst sees an unassigned security incident: %v", err)
		}
		r2, _ := e.recs.Get(e.m, s2.Number)
		if _, err := e.recs.Assign(e.m, s2.Number, e.team, e.analyst.ID, r2.Version); err != nil {
			t.Fatal(err)
		}
		e.must(e.an, s2.Number, "investigate", incident.StepFields{})
		e.must(e.an, s2.Number, "hold", incident.StepFields{HoldReason: "awaiting_supplier"})
		e.must(e.an, s2.Number, "resume", incident.StepFields{})
		e.must(e.an, s2.Number, "resolve", incident.StepFields{ResolutionCode: "permanent", ResolutionNotes: "Password reset, sessions revoked."})
		if _, err := e.step(e.s, s2.Number, "confirm", incident.StepFields{}); kind(err) != errs.NotFound {
			t.Fatalf("a stranger confirms: %v", err)
		}
		done := e.must(e.c, s2.Number, "confirm", incident.StepFields{})
		if done.State != incident.StateClosed || done.Path != incident.PathSecurity || !done.CategoryReviewed {
			t.Fatalf("security incident closed: %+v", done)
		}
		if _, err := e.svc.Incident(e.s, s2.Number); kind(err) != errs.NotFound {
			t.Fatalf("the stranger sees the closed security incident: %v", err)
		}

		// A security incident is never major.
		if _, err := e.svc.DeclareMajor(e.an, n, 0, e.manager.ID, "big"); kind(err) != errs.Conflict {
			t.Fatalf("declare a security incident major: %v", err)
		}
		// Recategorised out of the security path, it is visible to all.
		if _, err := e.svc.Update(e.an, n, 0, incident.Change{Category: ptr("hardware")}); err != nil {
			t.Fatal(err)
		}
		if !visible(e.s) {
			t.Fatal("a recategorised incident stays hidden")
		}
		// And a major incident cannot move into a security category.
		big := e.log(e.an, incident.NewIncident{Impact: 1, Urgency: 1, CallerID: e.caller.ID})
		if _, err := e.svc.Update(e.an, big.Number, 0, incident.Change{Category: ptr("cnd-cat-1")}); !fieldAt(err, "body.category") {
			t.Fatalf("major to security: %v", err)
		}
	})
}

// TestAutoClose closes resolved incidents after autoCloseDays with the system's
// step, leaves the recent ones, and leaves a major one without review.
func TestAutoClose(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		old := e.log(e.c, incident.NewIncident{})
		e.must(e.an, old.Number, "resolve", resolution("workaround"))
		major := e.log(e.an, incident.NewIncident{Impact: 1, Urgency: 1, CallerID: e.caller.ID})
		e.must(e.an, major.Number, "resolve", resolution("workaround"))
		e.clock.Advance(3 * 24 * time.Hour)
		recent := e.log(e.c, incident.NewIncident{})
		e.must(e.an, recent.Number, "resolve", resolution("workaround"))
		e.clock.Advance(2*24*time.Hour + time.Minute)

		n, err := e.svc.AutoClose(context.Background())
		if err != nil || n != 1 {
			t.Fatalf("auto-closed %d, %v", n, err)
		}
		got := e.get(e.an, old.Number)
		if got.State != incident.StateClosed || got.ClosedBy != 0 || got.ClosedAt.IsZero() || !got.CategoryReviewed {
			t.Fatalf("auto-closed incident: %+v", got)
		}
		if e.get(e.an, recent.Number).State != incident.StateResolved || e.get(e.an, major.Number).State != incident.StateResolved {
			t.Fatal("closed too much")
		}
		j, _ := e.recs.Journal(e.an, old.Number, true)
		if last := j[len(j)-1]; last.AuthorName != "system" || !strings.Contains(last.Body, "Close (IM6)") {
			t.Fatalf("journal: %+v", last)
		}
		if n, err := e.svc.AutoClose(context.Background()); err != nil || n != 0 {
			t.Fatalf("second run closed %d, %v", n, err)
		}
		if _, err := e.svc.RecordReview(e.m, major.Number, incident.MajorReview{Summary: "s", RootCause: "r", Lessons: "l", Actions: "a"}); err != nil {
			t.Fatal(err)
		}
		if n, err := e.svc.AutoClose(context.Background()); err != nil || n != 1 {
			t.Fatalf("after the review closed %d, %v", n, err)
		}
		e.clock.Advance(3 * 24 * time.Hour)
		if n, err := e.svc.AutoClose(context.Background()); err != nil || n != 1 || e.get(e.an, recent.Number).State != incident.StateClosed {
			t.Fatalf("later closed %d, %v", n, err)
		}
		// Switched off, nothing closes.
		st, _ := e.svc.Settings(e.rt)
		st.AutoCloseDays = 0
		if _, err := e.svc.SaveSettings(e.o, st.Version, st); err != nil {
			t.Fatal(err)
		}
		x := e.log(e.c, incident.NewIncident{})
		e.must(e.an, x.Number, "resolve", resolution("workaround"))
		e.clock.Advance(100 * 24 * time.Hour)
		if n, err := e.svc.AutoClose(context.Background()); err != nil || n != 0 {
			t.Fatalf("switched off closed %d, %v", n, err)
		}
	})
}

// opener is a test double of request fulfilment: it opens a record of a
// stand-in request type in the incident's transaction.
type opener struct {
	recs *record.Service
	got  []incident.ReclassifiedIncident
}

func (o *opener) OpenFromIncident(ctx context.Context, tx *db.Tx, in incident.ReclassifiedIncident) (string, error) {
	o.got = append(o.got, in)
	r, err := o.recs.CreateIn(ctx, tx, "service_request", record.NewRecord{Title: in.Title, Description: in.Description,
		RequesterID: in.RequesterID, ServiceID: in.ServiceID})
	return r.Number, err
}

// TestReclassify turns an incident that is really a request into one (IM3).
func TestReclassify(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		inc := e.log(e.c, incident.NewIncident{Title: "I need a second monitor", Category: "hardware", Subcategory: "monitor",
			ServiceID: e.service})
		_, err := e.step(e.an, inc.Number, "reclassify", incident.StepFields{})
		if kind(err) != errs.Conflict || !strings.Contains(err.Error(), "request fulfilment is not wired") {
			t.Fatalf("without an opener: %v", err)
		}
		if err := e.recs.Register(record.Type{Name: "service_request", Label: "Service request", Prefix: "REQ", Process: "RF",
			Initial: "new", States: []record.State{{Name: "new", Label: "New"}}}); err != nil {
			t.Fatal(err)
		}
		o := &opener{recs: e.recs}
		e.svc.SetRequestOpener(o)
		if _, err := e.step(e.c, inc.Number, "reclassify", incident.StepFields{}); kind(err) != errs.Forbidden {
			t.Fatalf("caller reclassifies: %v", err)
		}
		got := e.must(e.an, inc.Number, "reclassify", incident.StepFields{CatalogItemID: 7})
		if got.State != incident.StateReclassified || !got.Closed || !strings.HasPrefix(got.ReclassifiedAs, "REQ") {
			t.Fatalf("reclassified: %+v", got)
		}
		if len(o.got) != 1 || o.got[0].Number != inc.Number || o.got[0].RequesterID != e.caller.ID || o.got[0].CatalogItemID != 7 ||
			o.got[0].ServiceID != e.service {
			t.Fatalf("opener got %+v", o.got)
		}
		links, err := e.recs.Links(e.an, inc.Number)
		if err != nil || len(links) != 1 || links[0].Record != got.ReclassifiedAs || links[0].RecordType != "service_request" {
			t.Fatalf("links: %+v, %v", links, err)
		}
		if ev := e.events("incident.reclassified"); len(ev) != 1 || ev[0].Data["request"] != got.ReclassifiedAs {
			t.Fatalf("events: %+v", ev)
		}
	})
}

// TestQueue checks the desk queue: sorted by priority then age, filtered,
// paged by cursor, and costing the same queries for 5 rows as for 50.
func TestQueue(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		var want []string
		for i := range 60 {
			in := incident.NewIncident{Impact: 1 + i%3, Urgency: 1 + (i/3)%3, CallerID: e.caller.ID, Title: "Queue item"}
			if i%2 == 0 {
				in.TeamID = e.team
			}
			inc := e.log(e.an, in)
			if i%2 == 0 {
				want = append(want, inc.Number)
			}
			e.clock.Advance(time.Minute)
		}
		all, total, err := e.svc.Queue(e.an, incident.QueueFilter{TeamID: e.team, State: incident.StateNew}, listing.Params{Limit: 500})
		if err != nil || total != 30 || len(all.Items) != 30 {
			t.Fatalf("team queue: %d items, total %d, %v", len(all.Items), total, err)
		}
		for i := 1; i < len(all.Items); i++ {
			a, b := all.Items[i-1], all.Items[i]
			if a.Priority > b.Priority || (a.Priority == b.Priority && a.CreatedAt.After(b.CreatedAt)) {
				t.Fatalf("not by priority then age: %s P%d %v before %s P%d %v", a.Number, a.Priority, a.CreatedAt, b.Number, b.Priority, b.CreatedAt)
			}
			if a.TeamName != "Service desk" || a.CallerName != "caller" {
				t.Fatalf("names missing: %+v", a)
			}
		}
		// Paging by cursor gives the same rows.
		var paged []string
		p := listing.Params{Limit: 7}
		for {
			pg, _, err := e.svc.Queue(e.an, incident.QueueFilter{TeamID: e.team, State: incident.StateNew}, p)
			if err != nil {
				t.Fatal(err)
			}
			for _, it := range pg.Items {
				paged = append(paged, it.Number)
			}
			if pg.NextCursor == "" {
				break
			}
			p.Cursor = pg.NextCursor
		}
		var sorted []string
		for _, it := range all.Items {
			sorted = append(sorted, it.Number)
		}
		if !slices.Equal(paged, sorted) {
			t.Fatalf("paged %v\nwant %v", paged, sorted)
		}
		slices.Sort(sorted)
		slices.Sort(want)
		if !slices.Equal(sorted, want) {
			t.Fatal("the team filter")
		}
		// The query count does not depend on the page size.
		count := func(limit int) int64 {
			ctx, n := db.CountQueries(raci.WithRequestCache(e.an))
			pg, _, err := e.svc.Queue(ctx, incident.QueueFilter{Open: ptr(true)}, listing.Params{Limit: limit})
			if err != nil || len(pg.Items) != limit {
				t.Fatalf("page of %d: %d, %v", limit, len(pg.Items), err)
			}
			return n()
		}
		if small, big := count(5), count(50); small != big || big > 4 {
			t.Errorf("queries: %d for 5 rows, %d for 50; want the same, at most 4", small, big)
		}
		// Filters.
		for _, tc := range []struct {
			f    incident.QueueFilter
			want int64
		}{
			{incident.QueueFilter{Priority: 1}, 7},
			{incident.QueueFilter{Path: incident.PathMajor}, 7},
			{incident.QueueFilter{Unassigned: true}, 60},
			{incident.QueueFilter{CallerID: e.caller.ID}, 60},
			{incident.QueueFilter{Category: "hardware"}, 0},
			{incident.QueueFilter{Query: "queue"}, 60},
			{incident.QueueFilter{Query: "nothing-like-it"}, 0},
		} {
			if _, total, err := e.svc.Queue(e.an, tc.f, listing.Params{}); err != nil || total != tc.want {
				t.Errorf("%+v: %d, %v; want %d", tc.f, total, err, tc.want)
			}
		}
		if _, _, err := e.svc.Queue(e.an, incident.QueueFilter{State: "lost"}, listing.Params{}); !fieldAt(err, "query.state") {
			t.Fatalf("bad state: %v", err)
		}
		if _, _, err := e.svc.Queue(e.an, incident.QueueFilter{}, listing.Params{Sort: "title"}); !fieldAt(err, "query.sort") {
			t.Fatalf("bad sort: %v", err)
		}
	})
}
