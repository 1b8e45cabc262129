package tracker

import (
	"context"
	"fmt"
	"strconv"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// The escalation actions.
const (
	ActionNotify        = "notify"
	ActionReassign      = "reassign"
	ActionRaisePriority = "raise_priority"
)

// Sweep fires the thresholds that are due: it claims clocks whose next_at has
// come (FOR UPDATE SKIP LOCKED on PostgreSQL, so that nodes sweeping at once
// take different clocks), brings their records up to date from the audit
// trail, and for every threshold passed and not fired in the clock's cycle
// inserts one sla_escalations row per action, acting only when its own insert
// made the row (notify: an sla.warning or sla.breached outbox event;
// reassign and raise_priority: a change by the system through the record
// kernel), and moves the clock to its next threshold, all in one transaction
// per batch. It reports how many actions it took.
func (s *Service) Sweep(ctx context.Context) (fired int, err error) {
	defer errs.Wrap(&err, "sweep service-level clocks")
	for range 100 {
		n, claimed, err := s.sweepBatch(ctx)
		fired += n
		if err != nil || claimed < sweepBatch {
			return fired, err
		}
	}
	return fired, nil
}

func (s *Service) sweepBatch(ctx context.Context) (fired, claimed int, err error) {
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		fired, claimed = 0, 0
		now := s.clock.Now()
		rows, err := tx.QueryContext(ctx, `SELECT id, record_id FROM sla_clocks WHERE next_at > 0 AND next_at <= ?
			ORDER BY next_at, id LIMIT ?`+s.db.SkipLocked(), now.UnixMilli(), sweepBatch)
		if err != nil {
			return fmt.Errorf("claim due clocks: %w", err)
		}
		ids := map[int64]bool{}
		var recIDs []any
		seen := map[int64]bool{}
		for rows.Next() {
			var id, rid int64
			if err := rows.Scan(&id, &rid); err != nil {
				rows.Close()
				return fmt.Errorf("claim a due clock: %w", err)
			}
			ids[id] = true
			if !seen[rid] {
				seen[rid] = true
				recIDs = append(recIDs, rid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("claim due clocks: %w", err)
		}
		if recIDs, err = s.holdWhole(ctx, tx, recIDs, ids); err != nil {
			return err
		}
		claimed = len(ids)
		if claimed == 0 {
			return nil
		}
		recs, err := recordsByID(ctx, tx, recIDs)
		if err != nil {
			return err
		}
		rs, err := s.computeRecords(ctx, recs, now)
		if err != nil {
			return err
		}
		fire := func(ctx context.Context, tx *db.Tx, row *clockRow, cl calc, due []int) (int, error) {
			top := 0
			for _, th := range due {
				n, err := s.escalate(ctx, tx, row, cl, th, rs)
				if err != nil {
					return 0, err
				}
				fired += n
				top = th
			}
			return top, nil
		}
		_, err = s.apply(ctx, tx, rs, reasonSweep, now.UnixMilli(), fire, ids)
		return err
	})
	return fired, claimed, err
}

// holdWhole makes a sweeper hold every clock of the records it works on, on
// PostgreSQL: it locks them with SKIP LOCKED and leaves out (with their claimed
// clocks) the records another sweeper holds a clock of. Rewriting a record's
// clocks locks all of them, so two sweepers that had claimed different clocks
// of one record would otherwise wait on each other. SQLite's single writer
// needs none of this.
func (s *Service) holdWhole(ctx context.Context, tx *db.Tx, recIDs []any, claimed map[int64]bool) ([]any, error) {
	if s.db.SkipLocked() == "" || len(recIDs) == 0 {
		return recIDs, nil
	}
	count := func(query string) (map[int64]int, error) {
		rows, err := tx.QueryContext(ctx, query, recIDs...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[int64]int{}
		for rows.Next() {
			var rid int64
			var n int
			if err := rows.Scan(&rid, &n); err != nil {
				return nil, err
			}
			out[rid] += n
		}
		return out, rows.Err()
	}
	in := `record_id IN (` + db.Marks(len(recIDs)) + `)`
	held, err := count(`SELECT record_id, 1 FROM sla_clocks WHERE ` + in + ` ORDER BY record_id, id` + s.db.SkipLocked())
	if err != nil {
		return nil, fmt.Errorf("hold the clocks of the claimed records: %w", err)
	}
	all, err := count(`SELECT record_id, COUNT(*) FROM sla_clocks WHERE ` + in + ` GROUP BY record_id`)
	if err != nil {
		return nil, fmt.Errorf("count the clocks of the claimed records: %w", err)
	}
	kept := make([]any, 0, len(recIDs))
	dropped := map[int64]bool{}
	for _, v := range recIDs {
		rid := v.(int64)
		if held[rid] == all[rid] {
			kept = append(kept, v)
		} else {
			dropped[rid] = true
		}
	}
	if len(dropped) == 0 {
		return kept, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, record_id FROM sla_clocks WHERE `+in, recIDs...)
	if err != nil {
		return nil, fmt.Errorf("read the claimed clocks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, rid int64
		if err := rows.Scan(&id, &rid); err != nil {
			return nil, err
		}
		if dropped[rid] {
			delete(claimed, id)
		}
	}
	return kept, rows.Err()
}

// recordsByID reads records by id.
func recordsByID(ctx context.Context, q db.Queryer, ids []any) ([]recInfo, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, number, type, closed FROM records WHERE id IN (`+db.Marks(len(ids))+`) ORDER BY number`, ids...)
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	defer rows.Close()
	var out []recInfo
	for rows.Next() {
		var r recInfo
		if err := rows.Scan(&r.id, &r.number, &r.typ, &r.closed); err != nil {
			return nil, fmt.Errorf("read a record: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// actionsAt are the escalations of a target at a threshold; a notification
// of the assignee and the team when it names none there.
func actionsAt(t *sla.Target, th int) []sla.Escalation {
	var out []sla.Escalation
	notify := false
	for _, e := range t.Escalations {
		if e.Threshold == th {
			out = append(out, e)
			notify = notify || e.Action == ActionNotify
		}
	}
	if !notify {
		out = append([]sla.Escalation{{Threshold: th, Action: ActionNotify, Audience: []string{"assignee", "team"}}}, out...)
	}
	return out
}

// escalate fires one threshold of a clock: one sla_escalations row per
// action, acting only on the rows this call inserted. It reports how many
// actions it took.
func (s *Service) escalate(ctx context.Context, tx *db.Tx, row *clockRow, cl calc, th int, rs []result) (int, error) {
	var facts sla.Facts
	number := ""
	for _, r := range rs {
		if r.rec.id == row.RecordID {
			facts, number = r.facts, r.rec.number
		}
	}
	n := 0
	for _, a := range actionsAt(cl.t, th) {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO sla_escalations (clock_id, record_id, threshold, cycle, action, fired_at, node, outcome)
			VALUES (?, ?, ?, ?, ?, ?, ?, '') ON CONFLICT (clock_id, threshold, cycle, action) DO NOTHING RETURNING id`,
			row.ID, row.RecordID, th, cl.c.Cycle, a.Action, s.clock.Now().UnixMilli(), s.node).Scan(&id)
		if db.IsNoRows(err) {
			continue // fired already, here or on another node
		}
		if err != nil {
			return n, fmt.Errorf("record the escalation of %s at %d%%: %w", number, th, err)
		}
		outcome, err := s.act(ctx, tx, number, facts, cl, th, a)
		if err != nil {
			return n, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sla_escalations SET outcome = ? WHERE id = ?`, outcome, id); err != nil {
			return n, fmt.Errorf("record the escalation's outcome: %w", err)
		}
		n++
	}
	return n, nil
}

// act takes one escalation action and says what it did.
func (s *Service) act(ctx context.Context, tx *db.Tx, number string, facts sla.Facts, cl calc, th int, a sla.Escalation) (string, error) {
	t, c := cl.t, cl.c
	reason := fmt.Sprintf("%s %s (%s) reached %d%% of its %s target", t.AgreementName, t.Name, t.Kind, th, c.Target)
	switch a.Action {
	case ActionNotify:
		typ := "sla.warning"
		if th >= 100 {
			typ = "sla.breached"
		}
		audience := a.Audience
		if len(audience) == 0 {
			audience = []string{"assignee", "team"}
		}
		err := s.events.Emit(ctx, tx, outbox.Event{Type: typ, Subject: "record/" + number, Data: map[string]any{
			"number": number, "recordType": facts[sla.FieldType], "targetId": t.ID, "target": t.Name, "kind": t.Kind,
			"agreementId": t.AgreementID, "agreement": t.AgreementName, "agreementKind": t.AgreementKind,
			"threshold": th, "cycle": c.Cycle, "dueAt": c.DueAt, "breachedAt": c.BreachedAt,
			"elapsedMs": c.Elapsed.Milliseconds(), "targetMs": c.Target.Milliseconds(), "audience": audience,
			"teamId": factInt(facts, sla.FieldTeam), "assigneeId": factInt(facts, sla.FieldAssignee),
			"serviceId": factInt(facts, sla.FieldService), "priority": factInt(facts, sla.FieldPriority)}})
		if err != nil {
			return "", fmt.Errorf("announce %s on %s: %w", typ, number, err)
		}
		return "notified " + joinAudience(audience), nil
	case ActionReassign:
		if a.TeamID == 0 {
			return "skipped: the escalation names no team", nil
		}
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM teams WHERE id = ?`, a.TeamID).Scan(&one)
		if db.IsNoRows(err) {
			return fmt.Sprintf("skipped: team %d does not exist", a.TeamID), nil
		}
		if err != nil {
			return "", fmt.Errorf("read team %d: %w", a.TeamID, err)
		}
		if factInt(facts, sla.FieldTeam) == a.TeamID {
			return "skipped: already with the team", nil
		}
		var none int64
		if _, err := s.records.ChangeAsSystemIn(ctx, tx, number, record.SystemChange{TeamID: &a.TeamID, AssigneeID: &none}, reason); err != nil {
			return "", err
		}
		return "reassigned to team " + strconv.FormatInt(a.TeamID, 10), nil
	case ActionRaisePriority:
		p := int(factInt(facts, sla.FieldPriority))
		if p == 0 {
			return "skipped: no priority", nil
		}
		if p <= 1 {
			return "skipped: already priority 1", nil
		}
		p--
		if _, err := s.records.ChangeAsSystemIn(ctx, tx, number, record.SystemChange{Priority: &p}, reason); err != nil {
			return "", err
		}
		return fmt.Sprintf("raised to priority %d", p), nil
	}
	return "skipped: unknown action " + a.Action, nil
}

func joinAudience(a []string) string {
	out := ""
	for i, v := range a {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}
