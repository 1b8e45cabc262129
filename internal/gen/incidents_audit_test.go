package gen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
)

// TestIncidentsAuditHistory checks the generated incidents' audit history on
// both engines: one entry per journalled save in the kernel's words, at the
// journal's times, in time order along the chain; replaying each incident's
// changes gives the record and incident row as they stand (the SLA tracker
// derives its clocks that way); holds for the caller and for suppliers that
// were resumed, and reprioritisations, are there; and the chain verifies.
func TestIncidentsAuditHistory(t *testing.T) {
	t.Parallel()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			t.Parallel()
			a, _ := amApp(t, e, 4_000, 5) // skips PostgreSQL without a server
			d := a.DB
			ctx := context.Background()
			count := func(q string, args ...any) int64 { t.Helper(); return one[int64](t, d, q, args...) }

			// One audit entry per save the journal records, at its time.
			pairs := []struct{ journal, audit string }{
				{`j.body LIKE 'Incident % logged as New.'`, `a.action = 'record.create'`},
				{`j.body LIKE 'Assigned to % / %.'`, `a.action = 'record.assign'`},
				{`j.body LIKE 'Changed priority%'`, `a.action = 'record.update'`},
				{`j.body LIKE '%(IM_): %'`, `a.action = 'record.transition'`},
			}
			for _, p := range pairs {
				journal := count(`SELECT COUNT(*) FROM record_journal j JOIN records r ON r.id = j.record_id WHERE r.type = 'incident' AND ` + p.journal)
				matched := count(`SELECT COUNT(*) FROM audit_log a JOIN records r ON r.number = a.object_id AND a.object_type = 'record'
					WHERE r.type = 'incident' AND ` + p.audit + ` AND EXISTS (SELECT 1 FROM record_journal j WHERE j.record_id = r.id
					AND j.created_at = a.at AND ` + p.journal + `)`)
				all := count(`SELECT COUNT(*) FROM audit_log a WHERE a.object_type = 'record' AND ` + p.audit)
				if journal == 0 || matched != journal || all != journal {
					t.Errorf("%s: %d journal entries, %d audit entries (%d at a journal entry's time)", p.audit, journal, all, matched)
				}
			}
			if bad := count(`SELECT COUNT(*) FROM audit_log a WHERE a.object_type = 'record' AND a.action = 'record.transition'
				AND NOT EXISTS (SELECT 1 FROM audit_log b WHERE b.seq = a.seq + 1 AND b.object_id = a.object_id AND b.at = a.at
				AND b.action LIKE 'incident.%') AND a.changes NOT LIKE '%"new":"investigate"%'`); bad != 0 {
				t.Errorf("%d transitions without their incident entry right after them", bad)
			}
			if bad := count(`SELECT COUNT(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1 WHERE a.object_type = 'record'
				AND b.object_type = 'record' AND b.at < a.at`); bad != 0 {
				t.Errorf("%d audit entries out of time order", bad)
			}
			if bad := count(`SELECT COUNT(*) FROM records r WHERE r.type = 'incident' AND r.updated_at <>
				(SELECT MAX(a.at) FROM audit_log a WHERE a.object_type = 'record' AND a.object_id = r.number)`); bad != 0 {
				t.Errorf("%d incidents whose last audit entry is not their last update", bad)
			}

			// Replaying the changes gives the record as it stands.
			type facts map[string]string
			got := map[string]facts{}
			rows, err := d.QueryContext(ctx, `SELECT object_id, action, changes FROM audit_log WHERE object_type = 'record' ORDER BY seq`)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var number, action, changes string
				if err := rows.Scan(&number, &action, &changes); err != nil {
					t.Fatal(err)
				}
				if action == "record.link" {
					continue
				}
				var cs []audit.Change
				if err := json.Unmarshal([]byte(changes), &cs); err != nil {
					t.Fatalf("%s %s: %v", number, action, err)
				}
				f := got[number]
				if f == nil {
					if action != "record.create" {
						t.Fatalf("%s: first entry %s", number, action)
					}
					f = facts{}
					got[number] = f
				}
				for _, c := range cs {
					if action == "record.transition" && c.Field != "state" {
						continue // action, activity, performedBy, decision: about the step, not the record
					}
					f[c.Field] = fmt.Sprint(c.New)
				}
			}
			rows.Close()
			rows, err = d.QueryContext(ctx, `SELECT r.number, r.state, r.priority, COALESCE(r.team_id, 0), COALESCE(r.assignee_id, 0),
				COALESCE(r.requester_id, 0), COALESCE(r.service_id, 0), r.reassignments, i.category, i.subcategory, i.hold_reason, i.path,
				i.impact, i.urgency, COALESCE(i.ci_id, 0)
				FROM records r JOIN incidents i ON i.record_id = r.id ORDER BY r.id`)
			if err != nil {
				t.Fatal(err)
			}
			fields := []string{"state", "priority", "teamId", "assigneeId", "requesterId", "serviceId", "reassignments", "category",
				"subcategory", "holdReason", "path", "impact", "urgency", "ciId"}
			n, bad := 0, 0
			for rows.Next() {
				vals := make([]any, len(fields)+1)
				var number string
				vals[0] = &number
				strs := make([]string, len(fields))
				for i := range fields {
					vals[i+1] = &strs[i]
				}
				if err := rows.Scan(vals...); err != nil {
					t.Fatal(err)
				}
				n++
				f := got[number]
				for i, name := range fields {
					if f[name] != strs[i] {
						if bad++; bad <= 5 {
							t.Errorf("%s: the history replays %s = %q, the record has %q", number, name, f[name], strs[i])
						}
					}
				}
			}
			rows.Close()
			if n != 4_000 || len(got) != n || bad > 0 {
				t.Errorf("%d incidents, %d with a history, %d fields that do not replay", n, len(got), bad)
			}

			// Waits that pause the SLA clocks, and reprioritisations.
			resolved := count(`SELECT COUNT(*) FROM records WHERE type = 'incident' AND state IN ('resolved', 'closed')`)
			waited := count(`SELECT COUNT(DISTINCT a.object_id) FROM audit_log a JOIN records r ON r.number = a.object_id
				WHERE a.action = 'incident.resume' AND r.state IN ('resolved', 'closed')`)
			if share := float64(waited) / float64(resolved); share < 0.08 || share > 0.3 {
				t.Errorf("%.3f of the resolved incidents were on hold on the way, want about 15 %%", share)
			}
			for _, reason := range []string{"awaiting_caller", "awaiting_supplier"} {
				if count(`SELECT COUNT(*) FROM audit_log WHERE action = 'incident.hold' AND changes LIKE ?`, `%"new":"`+reason+`"%`) == 0 {
					t.Errorf("no hold %s", reason)
				}
			}
			if share := float64(count(`SELECT COUNT(*) FROM audit_log WHERE action = 'record.update' AND changes LIKE '%"field":"priority"%'`)) /
				4_000; share < 0.03 || share > 0.15 {
				t.Errorf("%.3f of the incidents reprioritised, want about 8 %%", share)
			}
			actors := one[string](t, d, `SELECT COALESCE(MIN(actor_type), '') || ',' || COALESCE(MAX(actor_type), '') FROM audit_log WHERE object_type = 'record'`)
			if !strings.Contains(actors, "system") || !strings.Contains(actors, "user") {
				t.Errorf("actor types %s, want users and the auto-close system", actors)
			}
			if v, err := audit.Verify(ctx, d); err != nil || !v.OK {
				t.Errorf("audit verify: %+v, %v", v, err)
			}
		})
	}
}
