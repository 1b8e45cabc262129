package gen_test

import (
	"context"
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/gen"
	"steward/internal/improvement/controls"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// services are the platform services wired as the application wires them.
type services struct {
	auth     *auth.Service
	raci     *raci.Service
	records  *record.Service
	controls *controls.Service
}

func wire(t *testing.T, d *db.DB) services {
	t.Helper()
	m, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	c := clock.System{}
	trail, events := audit.NewTrail(c), outbox.New(c, nil)
	rs := raci.New(d, m, trail, events, c)
	recs := record.New(record.Deps{DB: d, Guard: rs, Model: m, Trail: trail, Events: events, Clock: c})
	return services{auth: auth.NewService(d, trail, events, c, auth.NewHasher(1), auth.Config{}), raci: rs, records: recs,
		controls: controls.MustNew(controls.Deps{DB: d, Records: recs, Model: m, Clock: c})}
}

// as is ctx acting as a generated user.
func as(t *testing.T, d *db.DB, username string) context.Context {
	t.Helper()
	var id int64
	if err := d.QueryRowContext(context.Background(), `SELECT id FROM users WHERE username = ?`, username).Scan(&id); err != nil {
		t.Fatalf("user %s: %v", username, err)
	}
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: id, Username: username})
}

// TestGeneratedDataReadsBackThroughTheServices checks that the rows the
// generator wrote are the rows the services would have: they read back, search,
// obey the controls' rules, and carry on working with the services.
func TestGeneratedDataReadsBackThroughTheServices(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := gen.Run(ctx, d, gen.Config{Scale: testScale, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		s := wire(t, d)

		// Full text: the policy is found by words of its title, best first.
		page, total, err := s.records.Search(ctx, record.Filter{Query: "incident management policy"}, listing.Params{})
		if err != nil || total == 0 || !strings.HasPrefix(page.Items[0].Title, "Incident Management policy") {
			t.Fatalf("search: %d matches, first %+v, %v", total, page.Items, err)
		}
		if _, total, _ := s.records.Search(ctx, record.Filter{Query: page.Items[0].Number}, listing.Params{}); total != 1 {
			t.Errorf("searching the number %s found %d records", page.Items[0].Number, total)
		}

		// Documents: lines of versions, KPIs decoded, the superseded pointing at their successor.
		docs, _, err := s.controls.Documents(ctx, "IM", controls.ListFilter{}, listing.Params{Limit: 200})
		if err != nil || len(docs.Items) < 5 {
			t.Fatalf("IM documents: %d, %v", len(docs.Items), err)
		}
		var draft *controls.Document
		kinds := map[controls.DocumentKind]int{}
		for i, doc := range docs.Items {
			kinds[doc.Kind]++
			if doc.Kind == controls.KPIDefinition && doc.KPI == nil {
				t.Errorf("%s: a KPI definition without its KPI", doc.Number)
			}
			if doc.State == controls.DocSuperseded && doc.SupersededBy == "" {
				t.Errorf("%s is superseded by nothing", doc.Number)
			}
			if doc.State == controls.DocApproved && doc.ApprovedAt.IsZero() {
				t.Errorf("%s is approved with no approval time", doc.Number)
			}
			if doc.State == controls.DocDraft && draft == nil {
				draft = &docs.Items[i]
			}
		}
		if kinds[controls.Policy] == 0 || kinds[controls.Procedure] == 0 || kinds[controls.KPIDefinition] == 0 || draft == nil {
			t.Fatalf("IM documents by kind %v, a draft: %v", kinds, draft != nil)
		}

		// Findings obey the controls' rules: a closed one has every action finished and one done.
		fs, _, err := s.controls.Findings(ctx, "IM", controls.ListFilter{}, listing.Params{Limit: 500})
		if err != nil || len(fs.Items) == 0 {
			t.Fatalf("IM findings: %d, %v", len(fs.Items), err)
		}
		for _, f := range fs.Items {
			done, unfinished := 0, 0
			for _, a := range f.CorrectiveActions {
				if a.Status == controls.ActionDone {
					done++
				}
				if !a.Status.Finished() {
					unfinished++
				}
				if a.OwnerName == "" || a.DueDate == "" {
					t.Errorf("%s: action %+v has no owner or due date", f.Number, a)
				}
			}
			if f.State == controls.FindingClosed && (done == 0 || unfinished > 0) {
				t.Errorf("%s is closed with %d done and %d unfinished actions", f.Number, done, unfinished)
			}
			if f.State == controls.FindingPlanned && len(f.CorrectiveActions) == 0 {
				t.Errorf("%s is planned without an action", f.Number)
			}
		}
		// The generated role assignments drive the guard: the manager submits, a bystander may not.
		var manager, bystander string
		if err := d.QueryRowContext(ctx, `SELECT u.username FROM raci_assignments a JOIN users u ON u.id = a.user_id
			WHERE a.subject = 'IM' AND a.role = 'process-manager' AND a.scope_team_id IS NULL ORDER BY a.id`).Scan(&manager); err != nil {
			t.Fatal(err)
		}
		if err := d.QueryRowContext(ctx, `SELECT username FROM users WHERE NOT disabled AND id NOT IN
			(SELECT user_id FROM raci_assignments WHERE user_id IS NOT NULL) AND id NOT IN (SELECT user_id FROM team_members)
			ORDER BY id`).Scan(&bystander); err != nil {
			t.Fatal(err)
		}
		if _, err := s.records.Perform(as(t, d, bystander), draft.Number, "submit", record.PerformInput{Version: draft.Version}); !errs.Is(err, errs.Forbidden) {
			t.Errorf("a bystander submitted %s: %v", draft.Number, err)
		}
		j, err := s.records.Journal(as(t, d, bystander), fs.Items[0].Number, true)
		if err != nil || len(j) == 0 || j[0].Body != "Finding "+fs.Items[0].Number+" logged as Open." {
			t.Errorf("journal of %s: %+v, %v", fs.Items[0].Number, j, err)
		}
		res, err := s.records.Perform(as(t, d, manager), draft.Number, "submit", record.PerformInput{Version: draft.Version})
		if err != nil || res.Outcome != record.OutcomeApplied || res.Decision.Override || res.Decision.Role.Code != "process-manager" {
			t.Fatalf("the IM manager submitting %s: %+v, %v", draft.Number, res, err)
		}

		// The services carry on where the generator stopped: numbers and ids continue.
		var findings int64
		if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE type = 'finding'`).Scan(&findings); err != nil {
			t.Fatal(err)
		}
		f, err := s.controls.CreateFinding(as(t, d, manager), "IM", controls.NewFinding{Title: "After the load", Severity: controls.Low, Observation: "x"})
		if err != nil || f.Number != record.FormatNumber(controls.FindingPrefix, findings+1) {
			t.Errorf("a new finding after %d generated: %q, %v", findings, f.Number, err)
		}
		if _, err := s.auth.CreateTeam(as(t, d, manager), auth.Team{Name: "Created after the load"}); err != nil {
			t.Errorf("create a team after the load: %v", err)
		}
		if v, err := audit.Verify(ctx, d); err != nil || !v.OK {
			t.Errorf("audit verify: %+v, %v", v, err)
		}
		holders, err := s.raci.RoleHolders(ctx, "IM", raci.RoleProcessOwner)
		if err != nil || len(holders) != 1 {
			t.Errorf("IM has %d process owners, want 1 (%v)", len(holders), err)
		}
	})
}

// TestRecordInvariants checks what the kernel keeps true of every record: its
// version is one more than its saves (one system journal entry each, besides
// the one that logs it, those that request a step and the links, which save
// neither record), it was last updated at its last save, and it is closed
// exactly in a terminal (or closed) state of its type.
func TestRecordInvariants(t *testing.T) {
	t.Parallel()
	d, _ := generate(t, db.SQLite, testScale, 5)
	ctx := context.Background()
	var bad int
	err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM records r WHERE r.version <> 1 + (SELECT COUNT(*) FROM record_journal j
		WHERE j.record_id = r.id AND j.kind = 'system' AND j.body NOT LIKE '% logged as %' AND j.body NOT LIKE '% requested; %'
		AND j.body NOT LIKE 'Linked: %')
		OR r.updated_at <> COALESCE((SELECT MAX(created_at) FROM record_journal j WHERE j.record_id = r.id AND j.body NOT LIKE '% requested; %'
		AND j.body NOT LIKE 'Linked: %'), r.created_at)
		OR r.type <> 'incident' AND r.closed <> (r.state IN ('superseded', 'closed', 'accepted', 'disposed', 'resolved') OR r.state = 'retired' AND r.type <> 'asset')
		OR r.type = 'incident' AND r.closed <> (r.state IN ('closed', 'cancelled', 'reclassified'))`).Scan(&bad)
	if err != nil || bad != 0 {
		t.Errorf("%d records break the kernel's invariants (%v)", bad, err)
	}
	var early int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM record_journal WHERE created_at >= ?`, gen.EpochMillis).Scan(&early); err != nil || early != 0 {
		t.Errorf("%d journal entries at or after the epoch (%v)", early, err)
	}
}

// TestShape checks the organisation of scale 100k against the plan: 10,000
// users, 333 assignment groups whose sizes follow a power law, 500 or more
// role assignments with one owner per process and domain, and findings with a
// long tail over the processes.
func TestShape(t *testing.T) {
	t.Parallel()
	d, sum := generate(t, db.SQLite, 100_000, 1)
	ctx := context.Background()
	one := func(q string, args ...any) int64 {
		t.Helper()
		var n int64
		if err := d.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if sum.Rows["users"] != 10_000 || sum.Rows["teams"] != 333 {
		t.Errorf("users %d, teams %d; want 10000 and 333", sum.Rows["users"], sum.Rows["teams"])
	}
	if n := one(`SELECT COUNT(DISTINCT user_id) FROM team_members`); n != 1000 {
		t.Errorf("%d staff in teams, want 1000", n)
	}
	largest := one(`SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM team_members GROUP BY team_id) s`)
	singles := one(`SELECT COUNT(*) FROM (SELECT team_id FROM team_members GROUP BY team_id HAVING COUNT(*) = 1) s`)
	if largest < 50 || singles < 100 {
		t.Errorf("largest team %d, single-member teams %d: want a power law (a large desk, a long tail of small groups)", largest, singles)
	}
	if n := one(`SELECT COUNT(*) FROM raci_assignments`); n < 500 {
		t.Errorf("%d role assignments, want 500 or more", n)
	}
	if n := one(`SELECT COUNT(*) FROM (SELECT subject FROM raci_assignments WHERE role IN ('process-owner', 'domain-owner')
		GROUP BY subject, role HAVING COUNT(*) <> 1) s`); n != 0 {
		t.Errorf("%d processes or domains without exactly one owner", n)
	}
	if n := one(`SELECT COUNT(DISTINCT subject) FROM raci_assignments WHERE role = 'process-owner'`); n != 28 {
		t.Errorf("%d processes have an owner, want all 28", n)
	}
	top := one(`SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM records WHERE type = 'finding' GROUP BY process) s`)
	if findings := one(`SELECT COUNT(*) FROM records WHERE type = 'finding'`); findings != 500 || top < findings/5 {
		t.Errorf("%d findings, the busiest process has %d: want 500 with a fifth or more in one process", findings, top)
	}
	if n := one(`SELECT COUNT(*) FROM users WHERE disabled`); n < 100 || n > 300 {
		t.Errorf("%d disabled users, want about 2 %%", n)
	}
}
