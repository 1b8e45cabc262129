package audit

import (
	"context"
	"encoding/json"
	"fmt"

	"steward/internal/platform/db"
)

// Filter narrows a listing of the trail.
type Filter struct {
	ObjectType string
	ObjectID   string
	ActorName  string
	Action     string
	// AfterSeq pages backwards from newest: return rows with seq < BeforeSeq when set.
	BeforeSeq int64
	Limit     int
}

// Item is a row with its changes decoded, for display.
type Item struct {
	Row
	ChangeList []Change `json:"changes"`
}

// List returns the newest rows first that match f, and the total count of matches.
func List(ctx context.Context, q db.Queryer, f Filter) (items []Item, total int64, err error) {
	where := " WHERE 1=1"
	var args []any
	add := func(cond string, v any) { where += " AND " + cond; args = append(args, v) }
	if f.ObjectType != "" {
		add("object_type = ?", f.ObjectType)
	}
	if f.ObjectID != "" {
		add("object_id = ?", f.ObjectID)
	}
	if f.ActorName != "" {
		add("actor_name = ?", f.ActorName)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if err := q.QueryRowContext(ctx, "SELECT COUNT(*) FROM audit_log"+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count audit rows: %w", err)
	}
	if f.BeforeSeq > 0 {
		add("seq < ?", f.BeforeSeq)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	rows, err := q.QueryContext(ctx, `SELECT seq, at, actor_type, actor_id, actor_name, action, object_type, object_id,
		changes, request_id, client_addr, prev_hash, hash FROM audit_log`+where+` ORDER BY seq DESC LIMIT ?`, append(args, f.Limit)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit rows: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var it Item
		r := &it.Row
		if err := rows.Scan(&r.Seq, &r.At, &r.ActorType, &r.ActorID, &r.ActorName, &r.Action, &r.ObjectType,
			&r.ObjectID, &r.Changes, &r.RequestID, &r.ClientAddr, &r.PrevHash, &r.Hash); err != nil {
			return nil, 0, fmt.Errorf("scan audit row: %w", err)
		}
		if err := json.Unmarshal([]byte(r.Changes), &it.ChangeList); err != nil {
			it.ChangeList = nil
		}
		items = append(items, it)
	}
	return items, total, rows.Err()
}
