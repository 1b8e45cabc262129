package tracker

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
)

// recInfo is what the tracker reads of a record.
type recInfo struct {
	id     int64
	number string
	typ    string
	closed bool
}

// loadRecords reads the records with the given numbers (unknown ones are left out).
func loadRecords(ctx context.Context, q db.Queryer, numbers []string) ([]recInfo, error) {
	var out []recInfo
	for len(numbers) > 0 {
		n := min(len(numbers), 500)
		args := make([]any, n)
		for i, v := range numbers[:n] {
			args[i] = v
		}
		numbers = numbers[n:]
		rows, err := q.QueryContext(ctx, `SELECT id, number, type, closed FROM records WHERE number IN (`+db.Marks(n)+`) ORDER BY number`, args...)
		if err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
		for rows.Next() {
			var r recInfo
			if err := rows.Scan(&r.id, &r.number, &r.typ, &r.closed); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read a record: %w", err)
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read records: %w", err)
		}
	}
	return out, nil
}

// timelines returns the records' timelines, up to date with the audit trail:
// the stored ones with the entries after them folded in, the missing ones
// built from the records' whole audit history. fresh reports, per record,
// whether an entry was folded in.
func timelines(ctx context.Context, q db.Queryer, recs []recInfo) (tls []*sla.Timeline, fresh []bool, err error) {
	tls = make([]*sla.Timeline, len(recs))
	fresh = make([]bool, len(recs))
	if len(recs) == 0 {
		return tls, fresh, nil
	}
	byID := make(map[int64]int, len(recs))
	byNumber := make(map[string]int, len(recs))
	ids := make([]any, len(recs))
	numbers := make([]any, len(recs))
	for i, r := range recs {
		byID[r.id], byNumber[r.number] = i, i
		ids[i], numbers[i] = r.id, r.number
		tls[i] = &sla.Timeline{RecordID: r.id, Number: r.number}
	}
	rows, err := q.QueryContext(ctx, `SELECT record_id, data FROM sla_timelines WHERE record_id IN (`+db.Marks(len(ids))+`)`, ids...)
	if err != nil {
		return nil, nil, fmt.Errorf("read timelines: %w", err)
	}
	for rows.Next() {
		var id int64
		var data string
		if err := rows.Scan(&id, &data); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("read a timeline: %w", err)
		}
		var tl sla.Timeline
		if err := json.Unmarshal([]byte(data), &tl); err != nil {
			continue // rebuilt from the audit trail below
		}
		if i, ok := byID[id]; ok && tl.RecordID == id {
			tls[i] = &tl
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("read timelines: %w", err)
	}
	after := tls[0].Seq
	for _, tl := range tls {
		after = min(after, tl.Seq)
	}
	err = readEntries(ctx, q, `SELECT object_id, seq, at, action, changes FROM audit_log
		WHERE object_type = 'record' AND object_id IN (`+db.Marks(len(numbers))+`) AND seq > ? ORDER BY object_id, seq`,
		append(numbers, after), func(number string, e sla.Entry) {
			if i, ok := byNumber[number]; ok && e.Seq > tls[i].Seq {
				tls[i].Fold(e)
				fresh[i] = true
			}
		})
	return tls, fresh, err
}

// readEntries runs a query of (object_id, seq, at, action, changes) audit rows
// and hands each entry that applies changes to fn; the others are handed on
// with no changes, so that the timeline's seq still advances.
func readEntries(ctx context.Context, q db.Queryer, query string, args []any, fn func(number string, e sla.Entry)) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("read audit entries: %w", err)
	}
	defer rows.Close()
	var number, action string
	var changes []byte
	var seq, at int64
	for rows.Next() {
		if err := rows.Scan(&number, &seq, &at, &action, &changes); err != nil {
			return fmt.Errorf("read an audit entry: %w", err)
		}
		e, _, err := sla.EntryFromAudit(seq, at, action, changes)
		if err != nil {
			return fmt.Errorf("audit entry %d of %s: %w", seq, number, err)
		}
		fn(number, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read audit entries: %w", err)
	}
	return nil
}

// corrections reads the corrections of the records, by record id.
func corrections(ctx context.Context, q db.Queryer, ids []int64) (map[int64][]sla.Correction, error) {
	out := map[int64][]sla.Correction{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, v := range ids[:n] {
			args[i] = v
		}
		ids = ids[n:]
		rows, err := q.QueryContext(ctx, `SELECT id, record_id, from_at, to_at, reason FROM sla_corrections
			WHERE record_id IN (`+db.Marks(n)+`) ORDER BY record_id, from_at, id`, args...)
		if err != nil {
			return nil, fmt.Errorf("read corrections: %w", err)
		}
		for rows.Next() {
			var c sla.Correction
			var rid int64
			if err := rows.Scan(&c.ID, &rid, &c.From, &c.To, &c.Reason); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read a correction: %w", err)
			}
			out[rid] = append(out[rid], c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read corrections: %w", err)
		}
	}
	return out, nil
}

// clockRow is one stored clock.
type clockRow struct {
	ID            int64
	RecordID      int64
	TargetID      int64
	TargetName    string
	AgreementID   int64
	AgreementName string
	AgreementKind string
	CalendarID    int64
	Kind          string
	RecordType    string
	ServiceID     int64
	TeamID        int64
	Priority      int64
	Status        string
	StartedAt     int64
	StoppedAt     int64
	TargetMS      int64
	ElapsedMS     int64
	PausedMS      int64
	DueAt         int64
	BreachedAt    int64
	Cycle         int64
	NextThreshold int64
	NextAt        int64
	Fired         int64
	FiredCycle    int64
	Period        int64
	ComputedAt    int64
	Version       int64
}

// clockCols are the columns of sla_clocks after id, in clockRow's order.
const clockCols = `record_id, target_id, target_name, agreement_id, agreement_name, agreement_kind, calendar_id, kind,
	record_type, service_id, team_id, priority, status, started_at, stopped_at, target_ms, elapsed_ms, paused_ms, due_at,
	breached_at, cycle, next_threshold, next_at, fired, fired_cycle, period, computed_at, version`

// clockColCount is the number of columns in clockCols.
const clockColCount = 28

func (c *clockRow) dest() []any {
	return []any{&c.ID, &c.RecordID, &c.TargetID, &c.TargetName, &c.AgreementID, &c.AgreementName, &c.AgreementKind,
		&c.CalendarID, &c.Kind, &c.RecordType, &c.ServiceID, &c.TeamID, &c.Priority, &c.Status, &c.StartedAt, &c.StoppedAt,
		&c.TargetMS, &c.ElapsedMS, &c.PausedMS, &c.DueAt, &c.BreachedAt, &c.Cycle, &c.NextThreshold, &c.NextAt, &c.Fired,
		&c.FiredCycle, &c.Period, &c.ComputedAt, &c.Version}
}

// values are the row's column values in clockCols order.
func (c *clockRow) values() []any {
	return []any{c.RecordID, c.TargetID, c.TargetName, c.AgreementID, c.AgreementName, c.AgreementKind, c.CalendarID,
		c.Kind, c.RecordType, c.ServiceID, c.TeamID, c.Priority, c.Status, c.StartedAt, c.StoppedAt, c.TargetMS, c.ElapsedMS,
		c.PausedMS, c.DueAt, c.BreachedAt, c.Cycle, c.NextThreshold, c.NextAt, c.Fired, c.FiredCycle, c.Period,
		c.ComputedAt, c.Version}
}

// sameFigures reports whether two rows hold the same figures (computed_at and version aside).
func sameFigures(a, b *clockRow) bool {
	x, y := *a, *b
	x.ComputedAt, y.ComputedAt, x.Version, y.Version, x.ID, y.ID = 0, 0, 0, 0, 0, 0
	return x == y
}

// loadClocks reads the stored clocks of the records, locked in tx on PostgreSQL, by record id.
func loadClocks(ctx context.Context, q db.Queryer, d *db.DB, ids []int64, lock bool) (map[int64][]*clockRow, error) {
	out := map[int64][]*clockRow{}
	suffix := ""
	if lock {
		suffix = d.ForUpdate()
	}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, v := range ids[:n] {
			args[i] = v
		}
		ids = ids[n:]
		rows, err := q.QueryContext(ctx, `SELECT id, `+clockCols+` FROM sla_clocks WHERE record_id IN (`+db.Marks(n)+`) ORDER BY id`+suffix, args...)
		if err != nil {
			return nil, fmt.Errorf("read clocks: %w", err)
		}
		for rows.Next() {
			c := &clockRow{}
			if err := rows.Scan(c.dest()...); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read a clock: %w", err)
			}
			out[c.RecordID] = append(out[c.RecordID], c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("read clocks: %w", err)
		}
	}
	return out, nil
}

// maxParams bounds the placeholders of one statement (SQLite allows 32766,
// PostgreSQL 65535).
const maxParams = 30000

// insertMany runs head + "(?, …), (?, …)" + tail for rows of cols values
// each: full chunks of up to 100 rows through one statement prepared once,
// the rest through one more statement.
func insertMany(ctx context.Context, tx *db.Tx, head string, cols int, rows [][]any, tail string) error {
	if len(rows) == 0 {
		return nil
	}
	per := min(100, max(1, maxParams/cols))
	build := func(n int) string {
		one := "(" + db.Marks(cols) + ")"
		var b strings.Builder
		b.Grow(len(head) + n*(len(one)+2) + len(tail))
		b.WriteString(head)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
		}
		b.WriteString(tail)
		return b.String()
	}
	args := make([]any, 0, per*cols)
	if len(rows) >= per {
		stmt, err := tx.PrepareContext(ctx, build(per))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for len(rows) >= per {
			args = args[:0]
			for _, r := range rows[:per] {
				args = append(args, r...)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return err
			}
			rows = rows[per:]
		}
	}
	if len(rows) == 0 {
		return nil
	}
	args = args[:0]
	for _, r := range rows {
		args = append(args, r...)
	}
	_, err := tx.ExecContext(ctx, build(len(rows)), args...)
	return err
}
