package cmdb

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// reserveIDs takes n ids for new CIs inside tx: past the largest id on
// SQLite, whose single writer holds the lock; from the identity sequence on
// PostgreSQL.
func reserveIDs(ctx context.Context, tx *db.Tx, n int) ([]int64, error) {
	ids := make([]int64, 0, n)
	if tx.Engine() != db.Postgres {
		var top int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM cis`).Scan(&top); err != nil {
			return nil, fmt.Errorf("reserve CI ids: %w", err)
		}
		for i := range n {
			ids = append(ids, top+1+int64(i))
		}
		return ids, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT nextval(pg_get_serial_sequence('cis', 'id')) FROM generate_series(1, ?)`, n)
	if err != nil {
		return nil, fmt.Errorf("reserve CI ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// importWrite is the transaction of an import, run by its own goroutine: it
// writes the rows, then waits to be told to commit or to roll back. Until
// then it holds the writer (the only one, on SQLite), so every path of its
// caller ends in commit or abandon.
type importWrite struct {
	cisIn   chan struct{} // closed once the new CIs are written (or the write ended)
	cancel  context.CancelFunc
	verdict chan map[string]any // the audit summary to commit with; nil rolls back
	done    chan importDone
	decided bool // commit or abandon was called
}

// importDone is how an import's transaction ended.
type importDone struct {
	err      error
	panicked any
}

// errAbandoned rolls back an import whose file turned out to be wrong.
var errAbandoned = errors.New("import abandoned")

// startImport begins writing news and ups in a transaction. The rows must
// stay as they are, but for their bad flags, until the write is committed or
// abandoned. The rows are checked against the committed CMDB, outside the
// transaction: a CI changed since then fails its UPDATE (the version is
// checked), a unique value taken since then fails the unique index; a CI
// registered since then under the same identification is not seen.
func (s *Service) startImport(ctx context.Context, cat *catalog, news, ups []*ciRow, changeRef string) *importWrite {
	ctx, cancel := context.WithCancel(ctx)
	w := &importWrite{cisIn: make(chan struct{}), cancel: cancel, verdict: make(chan map[string]any, 1), done: make(chan importDone, 1)}
	var once sync.Once
	cisIn := func() { once.Do(func() { close(w.cisIn) }) }
	go func() {
		var d importDone
		defer func() {
			d.panicked = recover()
			cisIn()
			cancel()
			w.done <- d
		}()
		d.err = s.db.InTx(ctx, func(tx *db.Tx) error {
			restore, err := growPageCache(ctx, tx, int64(len(news)+len(ups))) // about 1 KiB of pages a row
			if err != nil {
				return err
			}
			defer restore()
			first, last, err := s.writeCreates(ctx, tx, cat, news, cisIn)
			if err != nil {
				return err
			}
			if err := s.writeUpdates(ctx, tx, ups, changeRef); err != nil {
				return err
			}
			summary := <-w.verdict
			if summary == nil {
				return errAbandoned
			}
			summary["firstCreatedId"], summary["lastCreatedId"] = first, last
			s.trail.Record(ctx, tx, audit.Entry{Action: "ci.import", ObjectType: "ci", ObjectID: "cmdb",
				Changes: audit.Diff(slices.Sorted(maps.Keys(summary)), map[string]any{}, summary)})
			return s.events.Emit(ctx, tx, outbox.Event{Type: "ci.imported", Subject: "cmdb", Data: summary})
		})
	}()
	return w
}

// awaitCIs waits until the new CIs are written: what runs beside the
// transaction then shares the processors with the writing of their index
// rows, which leaves one mostly idle, rather than with the writing of the CIs.
func (w *importWrite) awaitCIs() {
	if w != nil {
		<-w.cisIn
	}
}

// commit lets the import commit, with summary (its audit entry and event
// data, to which the first and last new ids are added), and waits for it.
func (w *importWrite) commit(summary map[string]any) error {
	w.decided = true
	w.verdict <- summary
	return w.wait()
}

// abandon rolls the import back, stopping its writes, and waits for it; it
// does nothing to a nil import or one already committed or abandoned.
func (w *importWrite) abandon() {
	if w == nil || w.decided {
		return
	}
	w.decided = true
	w.verdict <- nil
	w.cancel()
	_ = w.wait()
}

// wait waits for the transaction to end, passing on a panic of its goroutine.
func (w *importWrite) wait() error {
	d := <-w.done
	if d.panicked != nil {
		panic(d.panicked)
	}
	return d.err
}

// writeCreates inserts the new CIs with their index rows and service rows,
// returning the first and last id given; cisIn is called once the CIs are in.
func (s *Service) writeCreates(ctx context.Context, tx *db.Tx, cat *catalog, news []*ciRow, cisIn func()) (int64, int64, error) {
	if len(news) == 0 {
		cisIn()
		return 0, 0, nil
	}
	ids, err := reserveIDs(ctx, tx, len(news))
	if err != nil {
		return 0, 0, err
	}
	// The index and service rows are worked out (and the index rows sorted)
	// while the database writes the CIs.
	var idx []indexRow
	type svcRow struct {
		id   int64
		kind string
	}
	var svcs []svcRow
	listed := make(chan struct{})
	go func() {
		defer close(listed)
		indexed, room := map[*Class]int{}, 0 // class → its indexed attributes
		for _, r := range news {
			n, ok := indexed[r.class]
			if !ok {
				for i := range r.class.Attributes {
					if r.class.Attributes[i].Indexed {
						n++
					}
				}
				indexed[r.class] = n
			}
			room += n
		}
		idx = make([]indexRow, 0, room)
		svc := cat.byName["service"]
		for i, r := range news {
			idx = indexRows(r.class, ids[i], r.newCI.Attrs, idx)
			if svc != nil && cat.isA(r.class.ID, svc.ID) {
				kind := "technical"
				if r.class.Name == "business_service" {
					kind = "business"
				}
				svcs = append(svcs, svcRow{ids[i], kind})
			}
		}
		sortIndexRows(idx)
	}()
	now, by := s.now(), actor(ctx)
	err = bulkWrite(ctx, tx, "cis", []string{"id", "class_id", "name", "status", "min_up", "attrs", "marking"},
		[]string{"created_at", "created_by", "updated_at", "updated_by", "valid_from"}, []any{now, by, now, by, now}, len(news),
		func(i int, w *rowWriter) {
			c := &news[i].newCI
			w.Int(ids[i])
			w.Int(c.ClassID)
			w.Str(c.Name)
			w.Str(string(c.Status))
			w.Int(c.MinUp)
			w.Str(attrsJSON(c.Attrs))
			w.Str(c.Marking)
		})
	cisIn()
	<-listed
	if err != nil {
		return 0, 0, err
	}
	if err := writeIndexRows(ctx, tx, idx); err != nil {
		return 0, 0, fmt.Errorf("index CIs: %w", err)
	}
	if err := bulkWrite(ctx, tx, "ci_services", []string{"ci_id", "kind"}, []string{"criticality"}, []any{string(CriticalitySupport)}, len(svcs),
		func(i int, w *rowWriter) {
			w.Int(svcs[i].id)
			w.Str(svcs[i].kind)
		}); err != nil {
		return 0, 0, fmt.Errorf("insert services: %w", err)
	}
	return slices.Min(ids), slices.Max(ids), nil
}

// writeUpdates changes the matched CIs, keeping each superseded version in
// ci_versions and flagging each change no approved change covers.
func (s *Service) writeUpdates(ctx context.Context, tx *db.Tx, ups []*ciRow, changeRef string) error {
	if len(ups) == 0 {
		return nil
	}
	now, by := s.now(), actor(ctx)
	// Each UPDATE expects the version the file was checked against: a CI
	// changed in the meantime fails the import rather than losing that change.
	for _, r := range ups {
		res, err := tx.ExecContext(ctx, `UPDATE cis SET name = ?, status = ?, min_up = ?, attrs = ?, marking = ?, version = version + 1,
			updated_at = ?, updated_by = ?, valid_from = ? WHERE id = ? AND version = ?`, r.newCI.Name, string(r.newCI.Status), r.newCI.MinUp,
			attrsJSON(r.newCI.Attrs), r.newCI.Marking, now, by, now, r.id, r.old.Version)
		if err != nil {
			return fmt.Errorf("update CI %d: %w", r.id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.PreconditionFailed, "CI %d (row %d) changed while the file was checked; import it again", r.id, r.line)
		}
	}
	if err := bulkWrite(ctx, tx, "ci_versions", []string{"ci_id", "version", "class_id", "name", "status", "min_up", "attrs", "marking", "valid_from", "changed_by"},
		[]string{"valid_to"}, []any{now}, len(ups), func(i int, w *rowWriter) {
			o := ups[i].old
			w.Int(o.ID)
			w.Int(o.Version)
			w.Int(o.ClassID)
			w.Str(o.Name)
			w.Str(string(o.Status))
			w.Int(o.MinUp)
			w.Str(attrsJSON(o.Attrs))
			w.Str(o.Marking)
			w.Int(o.ValidFrom.UnixMilli())
			w.Any(nilIfZero(o.UpdatedBy))
		}); err != nil {
		return fmt.Errorf("keep versions: %w", err)
	}
	var reindex []int64
	var idx []indexRow
	for _, r := range ups {
		if r.indexChanged {
			reindex = append(reindex, r.id)
			idx = indexRows(r.class, r.id, r.newCI.Attrs, idx)
		}
	}
	sortIndexRows(idx)
	for start := 0; start < len(reindex); start += 500 {
		chunk := reindex[start:min(start+500, len(reindex))]
		if _, err := tx.ExecContext(ctx, `DELETE FROM ci_attr_values WHERE ci_id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...); err != nil {
			return fmt.Errorf("clear index: %w", err)
		}
	}
	if err := writeIndexRows(ctx, tx, idx); err != nil {
		return fmt.Errorf("index CIs: %w", err)
	}
	for _, r := range ups {
		if err := s.flagUnauthorised(ctx, tx, r.id, r.old.Version+1, "import: "+describe(r.changes), changeRef); err != nil {
			return err
		}
	}
	return nil
}
