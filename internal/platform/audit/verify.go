package audit

import (
	"context"
	"fmt"

	"steward/internal/platform/db"
)

// Verification is the outcome of checking the chain.
type Verification struct {
	// Rows is how many rows were checked.
	Rows int64 `json:"rows"`
	// OK is true when every row and the head agree.
	OK bool `json:"ok"`
	// FirstBad is the sequence number of the first row found altered or missing, or 0.
	FirstBad int64 `json:"firstBad,omitempty"`
	// Problem describes what was found there.
	Problem string `json:"problem,omitempty"`
}

// Verify walks the chain in order and reports the first row that was altered,
// removed or inserted directly in the database.
func Verify(ctx context.Context, q db.Queryer) (v Verification, err error) {
	rows, err := q.QueryContext(ctx, `SELECT seq, at, actor_type, actor_id, actor_name, action, object_type, object_id,
		changes, request_id, client_addr, prev_hash, hash FROM audit_log ORDER BY seq`)
	if err != nil {
		return v, fmt.Errorf("read audit log: %w", err)
	}
	defer rows.Close()
	var expectSeq int64 = 1
	prev := ""
	fail := func(seq int64, problem string) Verification {
		return Verification{Rows: v.Rows, FirstBad: seq, Problem: problem}
	}
	for rows.Next() {
		var r Row
		if err := rows.Scan(&r.Seq, &r.At, &r.ActorType, &r.ActorID, &r.ActorName, &r.Action, &r.ObjectType,
			&r.ObjectID, &r.Changes, &r.RequestID, &r.ClientAddr, &r.PrevHash, &r.Hash); err != nil {
			return v, fmt.Errorf("scan audit row: %w", err)
		}
		v.Rows++
		switch {
		case r.Seq != expectSeq:
			return fail(expectSeq, fmt.Sprintf("row %d is missing (next row is %d)", expectSeq, r.Seq)), nil
		case r.PrevHash != prev:
			return fail(r.Seq, fmt.Sprintf("row %d does not link to the row before it", r.Seq)), nil
		case r.computeHash() != r.Hash:
			return fail(r.Seq, fmt.Sprintf("row %d was altered: its content does not match its hash", r.Seq)), nil
		}
		prev = r.Hash
		expectSeq++
	}
	if err := rows.Err(); err != nil {
		return v, fmt.Errorf("read audit log: %w", err)
	}
	var headSeq int64
	var headHash string
	if err := q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash); err != nil {
		return v, fmt.Errorf("read audit head: %w", err)
	}
	if headSeq != expectSeq-1 || headHash != prev {
		return fail(expectSeq, fmt.Sprintf("the chain ends at row %d but %d rows were written: the last rows were removed", expectSeq-1, headSeq)), nil
	}
	v.OK = true
	return v, nil
}
