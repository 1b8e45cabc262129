package tracker

import (
	"context"
	"fmt"
	"slices"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
)

// Why a batch of clocks is written; it says whether moved figures are history.
const (
	// reasonRefresh: new audit entries moved the record on; a due time that
	// moves with a pause or a resumption is the clock's normal life.
	reasonRefresh = "refresh"
	// reasonRecompute: a definition or a calendar changed, or a recompute was asked for.
	reasonRecompute = "recompute"
	// reasonCorrection: a correction paused the record's clocks.
	reasonCorrection = "correction"
	// reasonSweep: the sweeper brought due clocks up to date.
	reasonSweep = "sweep"
)

// firer fires the pending thresholds of a clock inside the write
// transaction and returns the highest one it fired (0: none).
type firer func(ctx context.Context, tx *db.Tx, row *clockRow, cl calc, pending []int) (int, error)

// writeStats counts what a write did.
type writeStats struct {
	inserted, updated, deleted, history int
}

// apply writes the clocks of computed records in tx: each computed clock is
// matched with the record's stored clock of the same target, or else of the
// same agreement and kind (a re-targeted clock keeps its id and its fired
// thresholds), stored clocks no target applies to any more are removed, and
// replaced figures are kept in sla_clock_history. With fire, the stored
// clocks in fireIDs fire their pending thresholds first.
func (s *Service) apply(ctx context.Context, tx *db.Tx, rs []result, reason string, now int64,
	fire firer, fireIDs map[int64]bool) (st writeStats, err error) {
	if len(rs) == 0 {
		return st, nil
	}
	ids := make([]int64, len(rs))
	for i, r := range rs {
		ids[i] = r.rec.id
	}
	stored, err := loadClocks(ctx, tx, s.db, ids, true)
	if err != nil {
		return st, err
	}
	var inserts, updates, history, tls [][]any
	var deletes []any
	for _, r := range rs {
		old := stored[r.rec.id]
		used := make([]bool, len(old))
		match := make([]*clockRow, len(r.calcs))
		for i, cl := range r.calcs {
			for j, o := range old {
				if !used[j] && o.TargetID == cl.t.ID {
					used[j], match[i] = true, o
					break
				}
			}
		}
		for i, cl := range r.calcs {
			if match[i] != nil {
				continue
			}
			for j, o := range old {
				if !used[j] && o.AgreementID == cl.t.AgreementID && o.Kind == string(cl.t.Kind) {
					used[j], match[i] = true, o
					break
				}
			}
		}
		for i, cl := range r.calcs {
			row := newRow(r, cl, now)
			o := match[i]
			if o != nil {
				row.ID, row.Fired, row.FiredCycle, row.Version = o.ID, o.Fired, o.FiredCycle, o.Version
				if fire != nil && fireIDs[o.ID] {
					if p := pending(cl.t, cl.c, int(o.Fired), int(o.FiredCycle)); len(p) > 0 {
						top, err := fire(ctx, tx, o, cl, p)
						if err != nil {
							return st, err
						}
						if top > 0 {
							row.Fired, row.FiredCycle = int64(top), int64(cl.c.Cycle)
						}
					}
				}
			}
			th, at := next(cl.t, cl.c, int(row.Fired), int(row.FiredCycle), now)
			row.NextThreshold, row.NextAt = int64(th), at
			if o == nil {
				inserts = append(inserts, row.values())
				continue
			}
			if sameFigures(o, row) {
				continue
			}
			row.Version = o.Version + 1
			updates = append(updates, append([]any{row.ID}, row.values()...))
			if h := historyRow(o, row, reason, now); h != nil {
				history = append(history, h)
			}
		}
		for j, o := range old {
			if used[j] {
				continue
			}
			deletes = append(deletes, o.ID)
			history = append(history, []any{o.ID, o.RecordID, now, "no target applies any more", o.TargetID, int64(0),
				o.TargetMS, int64(0), o.DueAt, int64(0), o.Status, "removed", o.Priority, factInt(r.facts, sla.FieldPriority)})
		}
		if r.saveTL {
			data, err := marshal(r.tl)
			if err != nil {
				return st, fmt.Errorf("encode the timeline of %s: %w", r.rec.number, err)
			}
			tls = append(tls, []any{r.rec.id, r.rec.number, r.tl.Seq, r.tl.Created, data, now})
		}
	}
	for len(deletes) > 0 {
		n := min(len(deletes), 500)
		if _, err := tx.ExecContext(ctx, `DELETE FROM sla_clocks WHERE id IN (`+db.Marks(n)+`)`, deletes[:n]...); err != nil {
			return st, fmt.Errorf("remove clocks: %w", err)
		}
		deletes = deletes[n:]
		st.deleted += n
	}
	if err := insertMany(ctx, tx, `INSERT INTO sla_clocks (id, `+clockCols+`) VALUES `, clockColCount+1, updates,
		` ON CONFLICT (id) DO UPDATE SET `+updateSet()); err != nil {
		return st, fmt.Errorf("update clocks: %w", err)
	}
	if err := insertMany(ctx, tx, `INSERT INTO sla_clocks (`+clockCols+`) VALUES `, clockColCount, inserts, ``); err != nil {
		return st, fmt.Errorf("insert clocks: %w", err)
	}
	if err := insertMany(ctx, tx, `INSERT INTO sla_clock_history (clock_id, record_id, at, reason, old_target_id, new_target_id,
		old_target_ms, new_target_ms, old_due_at, new_due_at, old_status, new_status, old_priority, new_priority) VALUES `,
		14, history, ``); err != nil {
		return st, fmt.Errorf("keep clock history: %w", err)
	}
	if err := insertMany(ctx, tx, `INSERT INTO sla_timelines (record_id, number, seq, created_at, data, updated_at) VALUES `, 6, tls,
		` ON CONFLICT (record_id) DO UPDATE SET number = excluded.number, seq = excluded.seq, created_at = excluded.created_at,
		data = excluded.data, updated_at = excluded.updated_at WHERE sla_timelines.seq < excluded.seq`); err != nil {
		return st, fmt.Errorf("store timelines: %w", err)
	}
	st.inserted, st.updated, st.history = len(inserts), len(updates), len(history)
	return st, nil
}

// updateSet is the SET list of the clock upsert: every column from excluded.
func updateSet() string {
	var out []byte
	for i, c := range splitCols(clockCols) {
		if i > 0 {
			out = append(out, ", "...)
		}
		out = append(out, c+" = excluded."+c...)
	}
	return string(out)
}

func splitCols(cols string) []string {
	var out []string
	cur := []byte{}
	for i := 0; i < len(cols); i++ {
		switch ch := cols[i]; ch {
		case ',':
			out = append(out, string(cur))
			cur = cur[:0]
		case ' ', '\n', '\t':
		default:
			cur = append(cur, ch)
		}
	}
	return append(out, string(cur))
}

// newRow is the stored form of a computed clock.
func newRow(r result, cl calc, now int64) *clockRow {
	c := cl.c
	return &clockRow{
		RecordID: r.rec.id, TargetID: cl.t.ID, TargetName: cl.t.Name, AgreementID: cl.t.AgreementID,
		AgreementName: cl.t.AgreementName, AgreementKind: cl.t.AgreementKind, CalendarID: cl.t.CalendarID,
		Kind: string(cl.t.Kind), RecordType: r.rec.typ, ServiceID: factInt(r.facts, sla.FieldService),
		TeamID: factInt(r.facts, sla.FieldTeam), Priority: factInt(r.facts, sla.FieldPriority), Status: string(c.Status),
		StartedAt: c.StartedAt, StoppedAt: c.StoppedAt, TargetMS: c.Target.Milliseconds(), ElapsedMS: c.Elapsed.Milliseconds(),
		PausedMS: c.Paused.Milliseconds(), DueAt: c.DueAt, BreachedAt: c.BreachedAt, Cycle: int64(c.Cycle),
		Period: int64(period(c.StartedAt)), ComputedAt: now, Version: 1,
	}
}

// historyRow is the sla_clock_history row for figures a write replaces, or
// nil when they are the clock's normal life: a re-targeted clock (another
// target or duration) always keeps its old figures; so does a running clock
// whose due time, or a stopped one whose verdict, a recompute or a correction
// moved (not the record moving on, nor time passing).
func historyRow(o, n *clockRow, reason string, now int64) []any {
	retargeted := o.TargetID != n.TargetID || o.TargetMS != n.TargetMS
	verdict := func(s string) bool { return s == string(sla.StatusMet) || s == string(sla.StatusBreached) }
	moved := reason != reasonRefresh && reason != reasonSweep &&
		((o.DueAt != 0 && n.DueAt != 0 && o.DueAt != n.DueAt) || (o.StoppedAt != 0 && n.StoppedAt != 0 && verdict(o.Status) && verdict(n.Status) && o.Status != n.Status))
	if !retargeted && !moved {
		return nil
	}
	why := reason
	switch {
	case o.TargetID != n.TargetID && o.Priority != n.Priority:
		why = fmt.Sprintf("priority P%d → P%d", o.Priority, n.Priority)
	case o.TargetID != n.TargetID:
		why = "another target applies"
	case o.TargetMS != n.TargetMS:
		why = "target redefined"
	}
	if slices.Contains([]string{reasonRefresh, reasonSweep}, why) {
		why = reasonRecompute
	}
	return []any{o.ID, o.RecordID, now, why, o.TargetID, n.TargetID, o.TargetMS, n.TargetMS, o.DueAt, n.DueAt,
		o.Status, n.Status, o.Priority, n.Priority}
}
