package tracker

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// Refresh tails the audit trail from the tracker's cursor, batch by batch,
// until it has caught up: each touched record's timeline is brought up to
// date (folding the new entries into the stored one, or building it from the
// record's whole history) and its clocks recomputed, so that a changed
// priority, service, team, assignee or category re-chooses the targets over
// the whole history. It reports how many records it recomputed. While another
// node moves the cursor it does nothing.
func (s *Service) Refresh(ctx context.Context) (records int, err error) {
	for {
		entries, recs, err := s.refreshOnce(ctx)
		records += recs
		if err != nil || entries == 0 {
			return records, err
		}
	}
}

// refreshOnce handles one batch of audit entries after the cursor.
func (s *Service) refreshOnce(ctx context.Context) (entries, records int, err error) {
	defer errs.Wrap(&err, "refresh service-level clocks")
	var cur int64
	if err := s.db.QueryRowContext(ctx, `SELECT seq FROM sla_cursor WHERE name = ?`, cursorName).Scan(&cur); err != nil {
		return 0, 0, fmt.Errorf("read the cursor: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, object_type, object_id FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?`,
		cur, refreshBatch)
	if err != nil {
		return 0, 0, fmt.Errorf("read the audit trail: %w", err)
	}
	last := cur
	seen := map[string]bool{}
	var numbers []string
	for rows.Next() {
		var typ, obj string
		if err := rows.Scan(&last, &typ, &obj); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("read the audit trail: %w", err)
		}
		entries++
		if typ == "record" && !seen[obj] {
			seen[obj] = true
			numbers = append(numbers, obj)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("read the audit trail: %w", err)
	}
	if entries == 0 {
		return 0, 0, nil
	}
	recs, err := loadRecords(ctx, s.db, numbers)
	if err != nil {
		return 0, 0, err
	}
	now := s.clock.Now()
	rs, err := s.computeRecords(ctx, recs, now)
	if err != nil {
		return 0, 0, err
	}
	moved := true
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sla_cursor SET seq = ? WHERE name = ? AND seq = ?`, last, cursorName, cur)
		if err != nil {
			return fmt.Errorf("move the cursor: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			moved = false // another node took this batch
			return nil
		}
		_, err = s.apply(ctx, tx, rs, reasonRefresh, now.UnixMilli(), nil, nil)
		return err
	})
	if err != nil || !moved {
		return 0, 0, err
	}
	return entries, len(recs), nil
}

// computeRecords brings the records' timelines up to date from the reader
// pool and computes their clocks at now.
func (s *Service) computeRecords(ctx context.Context, recs []recInfo, now time.Time) ([]result, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	e, err := s.newEnv(ctx, now)
	if err != nil {
		return nil, err
	}
	rs := make([]result, 0, len(recs))
	for len(recs) > 0 {
		n := min(len(recs), 500)
		batch := recs[:n]
		recs = recs[n:]
		tls, fresh, err := timelines(ctx, s.db, batch)
		if err != nil {
			return nil, err
		}
		if err := e.loadTeams(ctx, s.db, tls); err != nil {
			return nil, err
		}
		ids := make([]int64, len(batch))
		for i, r := range batch {
			ids[i] = r.id
		}
		corr, err := corrections(ctx, s.db, ids)
		if err != nil {
			return nil, err
		}
		for i, r := range batch {
			res := e.compute(r, *tls[i], corr[r.id])
			res.saveTL = fresh[i]
			rs = append(rs, res)
		}
	}
	return rs, nil
}

// recomputeRecords recomputes the clocks of the records and writes them in one transaction.
func (s *Service) recomputeRecords(ctx context.Context, recs []recInfo, reason string) error {
	now := s.clock.Now()
	rs, err := s.computeRecords(ctx, recs, now)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		_, err := s.apply(ctx, tx, rs, reason, now.UnixMilli(), nil, nil)
		return err
	})
}

// Recompute recomputes one record's clocks from its whole audit history now.
func (s *Service) Recompute(ctx context.Context, number string) (err error) {
	defer errs.Wrap(&err, "recompute the service-level clocks of %s", number)
	recs, err := loadRecords(ctx, s.db, []string{record.NormalizeNumber(number)})
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return errs.E(errs.NotFound, "no record %s", number)
	}
	return s.recomputeRecords(ctx, recs, reasonRecompute)
}

// RecomputeOptions tunes RecomputeAll.
type RecomputeOptions struct {
	// Workers computes in parallel; GOMAXPROCS when 0.
	Workers int
	// OnlyOpen leaves closed records as they are.
	OnlyOpen bool
	// BatchSize is how many records one read and one write transaction take; 1000 when 0.
	BatchSize int
}

// RecomputeStats says what RecomputeAll did.
type RecomputeStats struct {
	Records  int64         `json:"records"`
	Clocks   int64         `json:"clocks"`
	Inserted int64         `json:"inserted"`
	Updated  int64         `json:"updated"`
	Deleted  int64         `json:"deleted"`
	History  int64         `json:"history"`
	Duration time.Duration `json:"duration"`
}

// RecomputeAll recomputes every record's clocks from the audit trail: records
// are read in number order in batches, each batch's audit entries read in
// (object_id, seq) order and computed by parallel workers, and the results
// written by one writer in multi-row statements, a transaction per batch.
// Records changed while it ran are recomputed again at the end, and the
// refresh cursor moves past what it covered (unless OnlyOpen).
func (s *Service) RecomputeAll(ctx context.Context, o RecomputeOptions) (RecomputeStats, error) {
	return s.recompute(ctx, o, scope{})
}

// scope narrows a recompute to the records an agreement's or a calendar's change may move.
type scope struct {
	agreement int64
	calendar  int64
}

// where is the scope's condition on records r, "" for all.
func (sc scope) where(e *env) (string, []any) {
	switch {
	case sc.calendar != 0:
		return `r.id IN (SELECT record_id FROM sla_clocks WHERE calendar_id = ?)`, []any{sc.calendar}
	case sc.agreement != 0:
		conds := []string{`r.id IN (SELECT record_id FROM sla_clocks WHERE agreement_id = ?)`}
		args := []any{sc.agreement}
		for _, t := range e.targets {
			if t.AgreementID != sc.agreement {
				continue
			}
			var and []string
			if len(t.Selector.RecordTypes) > 0 {
				and = append(and, `r.type IN (`+db.Marks(len(t.Selector.RecordTypes))+`)`)
				for _, v := range t.Selector.RecordTypes {
					args = append(args, v)
				}
			}
			if len(t.Selector.ServiceIDs) > 0 {
				and = append(and, `r.service_id IN (`+db.Marks(len(t.Selector.ServiceIDs))+`)`)
				for _, v := range t.Selector.ServiceIDs {
					args = append(args, v)
				}
			}
			if len(and) == 0 {
				return "", nil // the agreement may apply to any record
			}
			conds = append(conds, "("+strings.Join(and, " AND ")+")")
		}
		return "(" + strings.Join(conds, " OR ") + ")", args
	}
	return "", nil
}

func (sc scope) all() bool { return sc.agreement == 0 && sc.calendar == 0 }

// recBatch is one batch of records in number order.
type recBatch struct {
	recs []recInfo
}

func (s *Service) recompute(ctx context.Context, o RecomputeOptions, sc scope) (st RecomputeStats, err error) {
	defer errs.Wrap(&err, "recompute service-level clocks")
	started := time.Now()
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	var head int64
	if err := s.db.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&head); err != nil {
		return st, fmt.Errorf("read the audit head: %w", err)
	}
	now := s.clock.Now()
	e, err := s.newEnv(ctx, now)
	if err != nil {
		return st, err
	}
	cond, condArgs := sc.where(e)
	if o.OnlyOpen {
		if cond != "" {
			cond += " AND "
		}
		cond += "r.closed = ?"
		condArgs = append(condArgs, false)
	}
	ranged := cond == "" // every record of the range is wanted: read its audit entries by range

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var mu sync.Mutex
	var firstErr error
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	batches := make(chan recBatch, o.Workers)
	results := make(chan []result, o.Workers)

	go func() { // the reader of records, in number order
		defer close(batches)
		after := ""
		for {
			q := `SELECT r.id, r.number, r.type, r.closed FROM records r WHERE r.number > ?`
			args := []any{after}
			if cond != "" {
				q += " AND " + cond
				args = append(args, condArgs...)
			}
			rows, err := s.db.QueryContext(ctx, q+` ORDER BY r.number LIMIT ?`, append(args, o.BatchSize)...)
			if err != nil {
				fail(fmt.Errorf("read records: %w", err))
				return
			}
			b := recBatch{recs: make([]recInfo, 0, o.BatchSize)}
			for rows.Next() {
				var r recInfo
				if err := rows.Scan(&r.id, &r.number, &r.typ, &r.closed); err != nil {
					rows.Close()
					fail(fmt.Errorf("read a record: %w", err))
					return
				}
				b.recs = append(b.recs, r)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				fail(fmt.Errorf("read records: %w", err))
				return
			}
			if len(b.recs) == 0 {
				return
			}
			after = b.recs[len(b.recs)-1].number
			select {
			case batches <- b:
			case <-ctx.Done():
				return
			}
			if len(b.recs) < o.BatchSize {
				return
			}
		}
	}()

	var wg sync.WaitGroup
	for range o.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range batches {
				rs, err := s.computeBatch(ctx, e, b.recs, ranged)
				if err != nil {
					fail(err)
					return
				}
				select {
				case results <- rs:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	nowMS := now.UnixMilli()
	for rs := range results {
		if ctx.Err() != nil {
			continue // drain
		}
		var ws writeStats
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			var err error
			ws, err = s.apply(ctx, tx, rs, reasonRecompute, nowMS, nil, nil)
			return err
		})
		if err != nil {
			fail(err)
			continue
		}
		st.Records += int64(len(rs))
		for _, r := range rs {
			st.Clocks += int64(len(r.calcs))
		}
		st.Inserted += int64(ws.inserted)
		st.Updated += int64(ws.updated)
		st.Deleted += int64(ws.deleted)
		st.History += int64(ws.history)
	}
	if firstErr != nil {
		return st, firstErr
	}
	if err := s.catchUp(context.WithoutCancel(ctx), head, sc.all() && !o.OnlyOpen); err != nil {
		return st, err
	}
	st.Duration = time.Since(started)
	return st, nil
}

// computeBatch reads a batch's audit entries in (object_id, seq) order and
// computes its records' clocks. ranged reads the entries of the numbers'
// range rather than of the listed numbers.
func (s *Service) computeBatch(ctx context.Context, e *env, recs []recInfo, ranged bool) ([]result, error) {
	byNumber := make(map[string]int, len(recs))
	for i, r := range recs {
		byNumber[r.number] = i
	}
	tls := make([]*sla.Timeline, len(recs))
	for i, r := range recs {
		tls[i] = &sla.Timeline{RecordID: r.id, Number: r.number}
	}
	fold := func(number string, en sla.Entry) {
		if i, ok := byNumber[number]; ok {
			tls[i].Fold(en)
		}
	}
	var err error
	if ranged {
		err = readEntries(ctx, s.db, `SELECT object_id, seq, at, action, changes FROM audit_log
			WHERE object_type = 'record' AND object_id >= ? AND object_id <= ? ORDER BY object_id, seq`,
			[]any{recs[0].number, recs[len(recs)-1].number}, fold)
	} else {
		args := make([]any, len(recs))
		for i, r := range recs {
			args[i] = r.number
		}
		for len(args) > 0 && err == nil {
			n := min(len(args), 500)
			err = readEntries(ctx, s.db, `SELECT object_id, seq, at, action, changes FROM audit_log
				WHERE object_type = 'record' AND object_id IN (`+db.Marks(n)+`) ORDER BY object_id, seq`, args[:n], fold)
			args = args[n:]
		}
	}
	if err != nil {
		return nil, err
	}
	if err := e.loadTeams(ctx, s.db, tls); err != nil {
		return nil, err
	}
	ids := make([]int64, len(recs))
	for i, r := range recs {
		ids[i] = r.id
	}
	corr, err := corrections(ctx, s.db, ids)
	if err != nil {
		return nil, err
	}
	rs := make([]result, len(recs))
	for i, r := range recs {
		rs[i] = e.compute(r, *tls[i], corr[r.id])
		// Only the timelines of records with a clock still to stop are kept:
		// the others are rarely touched again, and Refresh rebuilds a missing
		// one from the trail.
		rs[i].saveTL = live(rs[i])
	}
	return rs, nil
}

// live reports whether a record has a clock that may still move.
func live(r result) bool {
	for _, cl := range r.calcs {
		switch cl.c.Status {
		case sla.StatusRunning, sla.StatusPaused, sla.StatusNotStarted:
			return true
		case sla.StatusBreached:
			if cl.c.StoppedAt == 0 {
				return true
			}
		}
	}
	return false
}

// catchUp recomputes the records whose audit entries came after head while a
// recompute ran, and with advance moves the refresh cursor past what the
// recompute and it covered.
func (s *Service) catchUp(ctx context.Context, head int64, advance bool) error {
	for round := 0; ; round++ {
		// The head first: every entry up to it belongs to a record listed below.
		var top int64
		if err := s.db.QueryRowContext(ctx, `SELECT seq FROM audit_head WHERE id = 1`).Scan(&top); err != nil {
			return fmt.Errorf("read the audit head: %w", err)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT object_id FROM audit_log WHERE seq > ? AND object_type = 'record'`, head)
		if err != nil {
			return fmt.Errorf("read the records changed meanwhile: %w", err)
		}
		var numbers []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return fmt.Errorf("read the records changed meanwhile: %w", err)
			}
			numbers = append(numbers, n)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read the records changed meanwhile: %w", err)
		}
		slices.Sort(numbers)
		recs, err := loadRecords(ctx, s.db, numbers)
		if err != nil {
			return err
		}
		if err := s.recomputeRecords(ctx, recs, reasonRecompute); err != nil {
			return err
		}
		if advance {
			if _, err := s.db.ExecContext(ctx, `UPDATE sla_cursor SET seq = ? WHERE name = ? AND seq < ?`, top, cursorName, top); err != nil {
				return fmt.Errorf("move the cursor: %w", err)
			}
		}
		if top == head || len(numbers) == 0 || round == 2 {
			return nil // what came after is Refresh's
		}
		head = top
	}
}
