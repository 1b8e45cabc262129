package gen_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/gen"
	"steward/internal/operation/incident"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// imScale is the scale of the incident tests: 12,000 incidents, with a CMDB of 12,000 CIs.
const imScale = 12_000

// imDump is a stable text copy of the incident log: the incident records and
// their rows, journals, links, major-incident rows and the added taxonomy,
// booleans as 0/1.
func imDump(t *testing.T, d *db.DB) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT r.id, r.number, r.process, r.title, r.description, r.state, r.closed, r.priority, COALESCE(r.team_id, 0),
			COALESCE(r.assignee_id, 0), COALESCE(r.requester_id, 0), COALESCE(r.service_id, 0), r.reassignments, r.created_at,
			r.updated_at, r.version, COALESCE(i.ci_id, 0), i.category, i.subcategory, i.logged_category, i.logged_subcategory,
			i.channel, i.impact, i.urgency, i.path, COALESCE(i.major_manager_id, 0), i.major_declared_at, i.hold_reason, i.held_at,
			i.resolved_at, COALESCE(i.resolved_by, 0), i.resolution_code, i.resolution_notes, i.effort_minutes, i.first_contact,
			i.closed_at, COALESCE(i.closed_by, 0), i.category_reviewed, i.category_changed
			FROM records r JOIN incidents i ON i.record_id = r.id ORDER BY r.id`,
		`SELECT j.id, j.record_id, j.kind, j.body, COALESCE(j.author_id, 0), j.author_name, j.created_at FROM record_journal j
			JOIN records r ON r.id = j.record_id WHERE r.type = 'incident' ORDER BY j.id`,
		`SELECT id, from_id, to_id, type, COALESCE(created_by, 0), created_at FROM record_links ORDER BY id`,
		`SELECT id, record_id, audience, message, author_name, created_at FROM incident_major_updates ORDER BY id`,
		`SELECT id, record_id, channel, party, summary, author_name, created_at FROM incident_major_comms ORDER BY id`,
		`SELECT record_id, summary, COALESCE(reviewed_by, 0), reviewed_at FROM incident_major_reviews ORDER BY record_id`,
		`SELECT id, parent_key, cat_key, label, position FROM incident_categories ORDER BY id`,
		`SELECT name, prefix, last_number FROM record_types WHERE name = 'incident'`,
		`SELECT at, actor_type, actor_id, actor_name, action, object_id, changes FROM audit_log WHERE object_type = 'record' ORDER BY seq`,
	} {
		rows, err := d.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					v = string(x)
				case bool:
					v = map[bool]int{false: 0, true: 1}[x]
				}
				fmt.Fprintf(&b, "%v|", v)
			}
			b.WriteByte('\n')
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return b.String()
}

// TestIncidentsDeterministic generates the incident log twice with one seed
// on SQLite and once on PostgreSQL, and compares every incident row.
func TestIncidentsDeterministic(t *testing.T) {
	t.Parallel()
	const n = 4_000
	a1, _ := amApp(t, db.SQLite, n, 9)
	a2, _ := amApp(t, db.SQLite, n, 9)
	first := imDump(t, a1.DB)
	if !strings.Contains(first, "INC0004000|") || first != imDump(t, a2.DB) {
		t.Fatal("the same seed gave different incident logs on SQLite (or no INC0004000)")
	}
	a3, _ := amApp(t, db.SQLite, n, 10)
	if imDump(t, a3.DB) == first {
		t.Error("seeds 9 and 10 gave the same incident log")
	}
	t.Run("postgres", func(t *testing.T) {
		p, _ := amApp(t, db.Postgres, n, 9) // skips without a PostgreSQL server
		if got := imDump(t, p.DB); got != first {
			a, b := strings.Split(first, "\n"), strings.Split(got, "\n")
			for i := range min(len(a), len(b)) {
				if a[i] != b[i] {
					t.Fatalf("SQLite and PostgreSQL differ at line %d:\n%s\n%s", i, a[i], b[i])
				}
			}
			t.Fatalf("SQLite has %d lines, PostgreSQL %d", len(a), len(b))
		}
	})
}

// TestIncidentsShape checks the generated log against the plan and the
// configured distributions: counts, priorities and paths, the categories'
// long tail, the state mix by age, who called and who resolved, the CMDB
// references, the journal's bounded volume and the kernel's words.
func TestIncidentsShape(t *testing.T) {
	t.Parallel()
	a, sum := amApp(t, db.SQLite, imScale, 3)
	d := a.DB
	n := int64(imScale)
	count := func(q string, args ...any) int64 { t.Helper(); return one[int64](t, d, q, args...) }
	share := func(q string, args ...any) float64 { t.Helper(); return float64(count(q, args...)) / float64(n) }

	if sum.Rows["incidents"] != n || count(`SELECT COUNT(*) FROM records WHERE type = 'incident'`) != n ||
		count(`SELECT COUNT(*) FROM record_fts WHERE rowid IN (SELECT id FROM records WHERE type = 'incident')`) != n {
		t.Fatalf("incidents %d, want %d each as a record, a row and a full-text entry", sum.Rows["incidents"], n)
	}
	if got := one[string](t, d, `SELECT MAX(number) FROM records WHERE type = 'incident'`); got != record.FormatNumber("INC", n) {
		t.Errorf("last number %s", got)
	}
	if count(`SELECT last_number FROM record_types WHERE name = 'incident'`) != n {
		t.Error("the incident number counter does not continue after the generated incidents")
	}
	// Ids, numbers and creation times rise together.
	if bad := count(`SELECT COUNT(*) FROM records a JOIN records b ON b.id = a.id + 1 AND b.type = 'incident'
		WHERE a.type = 'incident' AND (b.created_at < a.created_at OR b.number <= a.number)`); bad != 0 {
		t.Errorf("%d incidents out of time order", bad)
	}

	// Priorities from impact × urgency through the default matrix, in the mix of real desks.
	if bad := count(`SELECT COUNT(*) FROM records r JOIN incidents i ON i.record_id = r.id WHERE r.priority <> CASE
		WHEN i.impact + i.urgency = 2 THEN 1 WHEN i.impact + i.urgency = 3 THEN 2 WHEN i.impact + i.urgency = 4 THEN 3
		WHEN i.impact + i.urgency = 5 THEN 4 ELSE 5 END`); bad != 0 {
		t.Errorf("%d incidents whose priority is not the matrix's", bad)
	}
	p3 := share(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND priority = 3`)
	p45 := share(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND priority >= 4`)
	if p3 < 0.82 || p3 > 0.88 || p45 < 0.07 || p45 > 0.11 {
		t.Errorf("P3 %.3f, P4–P5 %.3f: want about 85 %% and 9 %%", p3, p45)
	}
	major := share(`SELECT COUNT(*) FROM incidents WHERE path = 'major'`)
	security := share(`SELECT COUNT(*) FROM incidents WHERE path = 'security'`)
	children := share(`SELECT COUNT(*) FROM record_links WHERE type = 'parent_of'`)
	if major < 0.006 || major > 0.016 || security < 0.002 || security > 0.009 || children <= 0 || children > 0.012 {
		t.Errorf("major %.4f, security %.4f, children %.4f: want about 1 %%, 0.5 %% and 1 %%", major, security, children)
	}
	if bad := count(`SELECT COUNT(*) FROM records r JOIN incidents i ON i.record_id = r.id WHERE (i.path = 'major') <>
		(r.priority = 1 AND i.category NOT LIKE 'cnd-cat-%')
		OR (i.path = 'security') <> (i.category LIKE 'cnd-cat-%')
		OR i.path = 'major' AND (i.major_manager_id IS NULL OR i.major_declared_at <> r.created_at OR i.major_reason = '')`); bad != 0 {
		t.Errorf("%d incidents on the wrong path for their priority and category (or a major without its manager)", bad)
	}
	// A child is a P2 of its parent's service, logged while the parent was open and resolved with it.
	if bad := count(`SELECT COUNT(*) FROM record_links l JOIN records p ON p.id = l.from_id JOIN records c ON c.id = l.to_id
		JOIN incidents pi ON pi.record_id = p.id JOIN incidents ci ON ci.record_id = c.id
		WHERE l.type <> 'parent_of' OR pi.path <> 'major' OR c.priority <> 2 OR COALESCE(c.service_id, 0) <> COALESCE(p.service_id, 0)
		OR c.created_at < p.created_at OR c.created_at > p.created_at + 48 * 3600000 OR ci.resolved_at <> 0 AND ci.resolved_at <> pi.resolved_at
		OR ci.resolved_at <> 0 AND ci.resolution_notes NOT LIKE 'Resolved with major incident ' || p.number || ':%'`); bad != 0 {
		t.Errorf("%d children that do not follow their major incident", bad)
	}
	// Closed majors were reviewed first.
	if bad := count(`SELECT COUNT(*) FROM records r JOIN incidents i ON i.record_id = r.id WHERE i.path = 'major' AND r.state = 'closed'
		AND NOT EXISTS (SELECT 1 FROM incident_major_reviews v WHERE v.record_id = r.id AND v.reviewed_at < i.closed_at)`); bad != 0 {
		t.Errorf("%d major incidents closed without a review", bad)
	}
	if count(`SELECT COUNT(*) FROM incident_major_updates`) < count(`SELECT COUNT(*) FROM incidents WHERE path = 'major'`) {
		t.Error("major incidents without stakeholder updates")
	}

	// Categories: the taxonomy's long tail, every key in it, security keys only on the security path.
	cats := count(`SELECT COUNT(DISTINCT category) FROM incidents WHERE path <> 'security'`)
	subs := count(`SELECT COUNT(DISTINCT category || '/' || subcategory) FROM incidents WHERE subcategory <> ''`)
	top := share(`SELECT MAX(k) FROM (SELECT COUNT(*) AS k FROM incidents GROUP BY category) s`)
	if cats != 21 || subs < 100 || top < 0.15 || top > 0.4 {
		t.Errorf("%d desk categories and %d subcategories used, the largest category %.2f: want 21, 100 or more, a Zipf head", cats, subs, top)
	}
	if bad := count(`SELECT COUNT(*) FROM incidents i WHERE NOT EXISTS (SELECT 1 FROM incident_categories c WHERE c.parent_key = ''
		AND c.cat_key = i.category) OR i.subcategory <> '' AND NOT EXISTS (SELECT 1 FROM incident_categories c
		WHERE c.parent_key = i.category AND c.cat_key = i.subcategory)`); bad != 0 {
		t.Errorf("%d incidents with a key outside the taxonomy", bad)
	}
	if changed := share(`SELECT COUNT(*) FROM incidents WHERE category_changed`); changed < 0.04 || changed > 0.09 {
		t.Errorf("%.3f recategorised at closure, want about 7 %%", changed)
	}

	// The state mix follows age: incidents older than two months are finished, the last week holds the backlog.
	old := gen.EpochMillis - 60*24*3600*1000
	if open := count(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND created_at < ? AND state NOT IN ('closed', 'cancelled')`, old); float64(open) > 0.02*float64(n) {
		t.Errorf("%d incidents older than 60 days are still open", open)
	}
	for _, st := range []string{"new", "in_progress", "on_hold", "resolved", "closed", "cancelled"} {
		if count(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND state = ?`, st) == 0 {
			t.Errorf("no incident in %s", st)
		}
	}
	recent := count(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND created_at >= ?`, gen.EpochMillis-7*24*3600*1000)
	recentOpen := count(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND created_at >= ? AND NOT closed AND state <> 'resolved'`,
		gen.EpochMillis-7*24*3600*1000)
	if recent == 0 || float64(recentOpen) < 0.25*float64(recent) {
		t.Errorf("%d of the %d incidents of the last week are open, want a backlog", recentOpen, recent)
	}
	if bad := count(`SELECT COUNT(*) FROM records r JOIN incidents i ON i.record_id = r.id WHERE
		(r.state IN ('resolved', 'closed')) <> (i.resolved_at > 0) OR (r.state IN ('closed', 'cancelled')) <> (i.closed_at > 0)
		OR (r.state = 'on_hold') <> (i.hold_reason <> '') OR r.state = 'closed' AND NOT i.category_reviewed
		OR i.resolved_at > 0 AND (i.resolved_at < r.created_at OR i.resolution_code = '')
		OR i.closed_at > 0 AND r.state = 'closed' AND i.closed_at < i.resolved_at
		OR i.first_contact AND (r.team_id <> (SELECT MIN(id) FROM teams) OR i.channel NOT IN ('phone', 'desk', 'chat', 'walk_in'))`); bad != 0 {
		t.Errorf("%d incidents whose own row does not match their state", bad)
	}
	if fcr := share(`SELECT COUNT(*) FROM incidents WHERE first_contact`); fcr < 0.05 || fcr > 0.14 {
		t.Errorf("%.3f first-contact resolutions, want about 9 %%", fcr)
	}

	// People: callers registered before they called, assignees members of their group, reassignments as drawn.
	if bad := count(`SELECT COUNT(*) FROM records r JOIN users u ON u.id = r.requester_id WHERE r.type = 'incident' AND (u.created_at > r.created_at OR u.disabled)`); bad != 0 {
		t.Errorf("%d callers registered after their incident or disabled", bad)
	}
	if bad := count(`SELECT COUNT(*) FROM records r WHERE r.type = 'incident' AND (r.team_id IS NULL OR r.assignee_id IS NOT NULL
		AND NOT EXISTS (SELECT 1 FROM team_members m WHERE m.team_id = r.team_id AND m.user_id = r.assignee_id))`); bad != 0 {
		t.Errorf("%d incidents without a group or with an assignee outside it", bad)
	}
	never := share(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND assignee_id IS NOT NULL AND reassignments = 0`) /
		share(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND assignee_id IS NOT NULL`)
	if never < 0.5 || never > 0.8 {
		t.Errorf("%.2f of the assigned incidents never changed group, want about 60 %%", never)
	}

	// The CMDB: a service and CIs of the incident's time, never disposed.
	if svc := share(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND service_id IS NOT NULL`); svc < 0.7 {
		t.Errorf("%.2f of the incidents name a service", svc)
	}
	if ci := share(`SELECT COUNT(*) FROM incidents WHERE ci_id IS NOT NULL`); ci < 0.3 {
		t.Errorf("%.2f of the incidents name a CI", ci)
	}
	if bad := count(`SELECT COUNT(*) FROM records r JOIN incidents i ON i.record_id = r.id LEFT JOIN cis c ON c.id = i.ci_id
		LEFT JOIN cis s ON s.id = r.service_id WHERE r.type = 'incident' AND (c.status = 'disposed' OR c.created_at >= r.created_at
		OR s.status = 'disposed' OR r.service_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ci_services x WHERE x.ci_id = r.service_id))`); bad != 0 {
		t.Errorf("%d incidents naming a disposed, later or non-service CI", bad)
	}

	// The journal: bounded, in the kernel's words, in time order, before the epoch.
	journal := count(`SELECT COUNT(*) FROM record_journal j JOIN records r ON r.id = j.record_id WHERE r.type = 'incident'`)
	if per := float64(journal) / float64(n); per < 3.5 || per > 5.5 {
		t.Errorf("%.2f journal entries per incident, want four to five", per)
	}
	if bad := count(`SELECT COUNT(*) FROM record_journal j JOIN records r ON r.id = j.record_id WHERE r.type = 'incident' AND NOT (
		j.body = 'Incident ' || r.number || ' logged as New.' OR j.body LIKE 'Assigned to % / %.' OR j.body LIKE 'Linked: INC% parent_of INC%.'
		OR j.body IN ('Investigate (IM4): New → In progress.', 'Put on hold (IM4): In progress → On hold.', 'Resolve (IM5): New → Resolved.',
		'Resolve (IM5): In progress → Resolved.', 'Confirm the resolution (IM6): Resolved → Closed.', 'Close (IM6): Resolved → Closed.',
		'Cancel (IM2): New → Cancelled.', 'Resume (IM4): On hold → In progress.') OR j.body LIKE 'Changed priority%.')`); bad != 0 {
		t.Errorf("%d journal entries not in the kernel's words", bad)
	}
	if bad := count(`SELECT COUNT(*) FROM record_journal a JOIN record_journal b ON b.id = a.id + 1 JOIN records ra ON ra.id = a.record_id
		JOIN records rb ON rb.id = b.record_id WHERE ra.type = 'incident' AND rb.type = 'incident' AND b.created_at < a.created_at`); bad != 0 {
		t.Errorf("%d journal entries out of time order", bad)
	}
	if bad := count(`SELECT COUNT(*) FROM record_journal j WHERE j.author_name = 'system' AND (j.author_id IS NOT NULL OR j.body <> 'Close (IM6): Resolved → Closed.')`); bad != 0 {
		t.Errorf("%d system journal entries other than the auto-close", bad)
	}
	if late := count(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND (updated_at >= ? OR created_at >= ?)`, gen.EpochMillis, gen.EpochMillis); late != 0 {
		t.Errorf("%d incidents touched at or after the epoch", late)
	}
	for _, term := range gen.IncidentSearchTerms() {
		words := strings.Fields(term)
		q := `SELECT COUNT(*) FROM records WHERE type = 'incident'`
		var args []any
		for _, w := range words {
			q += ` AND LOWER(title) LIKE ?`
			args = append(args, "%"+w+"%")
		}
		if k := count(q, args...); k == 0 || k > n/20 {
			t.Errorf("search term %q is in %d titles, want some but under 5 %%", term, k)
		}
	}
}

// imServices wires the kernel and incident management over d as the application does.
func imServices(t *testing.T, d *db.DB) (*record.Service, *incident.Service) {
	t.Helper()
	m, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c := clock.System{}
	trail, events := audit.NewTrail(c), outbox.New(c, nil)
	rs := raci.New(d, m, trail, events, c)
	recs := record.New(record.Deps{DB: d, Guard: rs, Model: m, Trail: trail, Events: events, Clock: c})
	inc, err := incident.New(incident.Deps{DB: d, Records: recs, Trail: trail, Events: events, Clock: c, RACI: rs})
	if err != nil {
		t.Fatal(err)
	}
	return recs, inc
}

// imPrincipal is a context acting as the generated user id.
func imPrincipal(t *testing.T, d *db.DB, id int64, admin bool) context.Context {
	t.Helper()
	name := one[string](t, d, `SELECT username FROM users WHERE id = ?`, id)
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: id, Username: name, Admin: admin})
}

// TestIncidentsReadBack checks, on both engines, that the generated incidents
// are what the services would have written: the kernel reads a sample with
// its journal, incident management reads them with their names, full-text
// search finds them by their words and numbers, a new incident takes the
// next number, and the audit chain verifies.
func TestIncidentsReadBack(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			a, _ := amApp(t, e, 3_000, 4) // skips PostgreSQL without a server
			d := a.DB
			recs, incs := imServices(t, d)
			admin := imPrincipal(t, d, one[int64](t, d, `SELECT MIN(id) FROM users`), true)
			rows, err := d.QueryContext(context.Background(), `SELECT r.number, r.state, r.version, COALESCE(r.requester_id, 0), i.path
				FROM records r JOIN incidents i ON i.record_id = r.id WHERE r.id % 97 = 0 OR i.path <> 'normal' ORDER BY r.id`)
			if err != nil {
				t.Fatal(err)
			}
			type sample struct {
				number, state, path string
				version, caller     int64
			}
			var ss []sample
			for rows.Next() {
				var s sample
				if err := rows.Scan(&s.number, &s.state, &s.version, &s.caller, &s.path); err != nil {
					t.Fatal(err)
				}
				ss = append(ss, s)
			}
			rows.Close()
			if len(ss) < 30 {
				t.Fatalf("%d sampled incidents", len(ss))
			}
			paths := map[string]bool{}
			for _, s := range ss {
				r, err := recs.Get(admin, s.number)
				if err != nil || r.State != s.state || r.Version != s.version || r.Type != incident.Type || r.Process != incident.Process {
					t.Fatalf("kernel Get %s: %+v, %v", s.number, r, err)
				}
				j, err := recs.Journal(admin, s.number, true)
				if err != nil || len(j) == 0 || j[0].Body != "Incident "+s.number+" logged as New." {
					t.Fatalf("journal of %s: %+v, %v", s.number, j, err)
				}
				inc, err := incs.Incident(admin, s.number)
				if err != nil || inc.Path != s.path || inc.Category == "" || inc.CategoryLabel == "" || inc.CallerName == "" || inc.TeamName == "" {
					t.Fatalf("incident %s: %+v, %v", s.number, inc, err)
				}
				if (s.state == "resolved" || s.state == "closed") != (inc.Resolution != nil) || s.path == "major" && inc.Major == nil {
					t.Errorf("%s (%s, %s): resolution %+v, major %+v", s.number, s.state, s.path, inc.Resolution, inc.Major)
				}
				paths[s.path] = true
				// The caller sees their own incident, security or not.
				if s.caller != 0 {
					if _, err := incs.Incident(imPrincipal(t, d, s.caller, false), s.number); err != nil {
						t.Errorf("the caller of %s cannot read it: %v", s.number, err)
					}
				}
			}
			if !paths["major"] || !paths["normal"] {
				t.Errorf("sampled paths %v", paths)
			}
			// Full text: the words of a search term, and a number.
			page, total, err := recs.Search(admin, record.Filter{Query: "password expired", Type: incident.Type}, listing.Params{})
			if err != nil || total == 0 || !strings.Contains(strings.ToLower(page.Items[0].Title), "password expired") {
				t.Fatalf("search: %d, first %+v, %v", total, page.Items, err)
			}
			if _, total, err := recs.Search(admin, record.Filter{Query: ss[0].number}, listing.Params{}); err != nil || total != 1 {
				t.Errorf("searching %s found %d (%v)", ss[0].number, total, err)
			}
			// Logging carries on with the next number.
			caller := imPrincipal(t, d, one[int64](t, d, `SELECT MAX(id) FROM users WHERE NOT disabled AND NOT is_admin`), false)
			last := one[int64](t, d, `SELECT COUNT(*) FROM records WHERE type = 'incident'`)
			inc, err := incs.Create(caller, incident.NewIncident{Title: "After the load", Description: "x", Impact: 2, Urgency: 2,
				Category: "software", Subcategory: "app-logistics"})
			if err != nil || inc.Number != record.FormatNumber(incident.Prefix, last+1) || inc.Priority != 3 {
				t.Errorf("a new incident after %d generated: %+v, %v", last, inc.Record, err)
			}
			if v, err := audit.Verify(context.Background(), d); err != nil || !v.OK {
				t.Errorf("audit verify: %+v, %v", v, err)
			}
		})
	}
}

// TestIncidentsScale generates STEWARD_GEN_INCIDENT_SCALE (such as 1M) on
// STEWARD_GEN_INCIDENT_ENGINE (default sqlite) and reports each step's rows
// and time; it is skipped without it.
func TestIncidentsScale(t *testing.T) {
	s := os.Getenv("STEWARD_GEN_INCIDENT_SCALE")
	if s == "" {
		t.Skip("STEWARD_GEN_INCIDENT_SCALE not set")
	}
	n, err := gen.ParseScale(s)
	if err != nil {
		t.Fatal(err)
	}
	e := db.Engine(os.Getenv("STEWARD_GEN_INCIDENT_ENGINE"))
	if e == "" {
		e = db.SQLite
	}
	_, sum := amApp(t, e, n, 1)
	t.Logf("%s scale %d: %d rows in %s (%.0f rows/s)", e, n, sum.Total, sum.Elapsed, sum.RowsPerSec())
	for _, st := range sum.Steps {
		t.Logf("  %-14s %9d rows in %s", st.Name, st.Rows, st.Elapsed)
	}
	for _, tb := range sum.Tables() {
		t.Logf("  %-24s %9d", tb, sum.Rows[tb])
	}
}
