package mail

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/db"
	"steward/internal/platform/record"
)

// batchCache keeps what one batch of events reads, so that events about the same record read it once.
type batchCache struct {
	records  map[string]*record.Record
	watchers map[int64][]int64
	members  map[int64][]int64
	affected map[int64][]int64
	users    map[int64]*Candidate
	names    map[string]string // username → display name
	teams    map[int64]string
}

func newBatchCache() *batchCache {
	return &batchCache{records: map[string]*record.Record{}, watchers: map[int64][]int64{}, members: map[int64][]int64{},
		affected: map[int64][]int64{}, users: map[int64]*Candidate{}, names: map[string]string{}, teams: map[int64]string{}}
}

func (c *batchCache) record(ctx context.Context, q db.Queryer, number string) (*record.Record, error) {
	if r, ok := c.records[number]; ok {
		return r, nil
	}
	var r record.Record
	var team, assignee, requester, service, priority *int64
	err := q.QueryRowContext(ctx, `SELECT id, type, number, process, title, description, state, closed, priority,
			team_id, assignee_id, requester_id, service_id, marking FROM records WHERE number = ?`, number).
		Scan(&r.ID, &r.Type, &r.Number, &r.Process, &r.Title, &r.Description, &r.State, &r.Closed, &priority,
			&team, &assignee, &requester, &service, &r.Marking)
	if db.IsNoRows(err) {
		c.records[number] = nil
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read record %s: %w", number, err)
	}
	deref := func(p *int64) int64 {
		if p == nil {
			return 0
		}
		return *p
	}
	r.TeamID, r.AssigneeID, r.RequesterID, r.ServiceID, r.Priority = deref(team), deref(assignee), deref(requester),
		deref(service), int(deref(priority))
	c.records[number] = &r
	return &r, nil
}

func (c *batchCache) ids(ctx context.Context, q db.Queryer, cache map[int64][]int64, query string, key int64) ([]int64, error) {
	if key == 0 {
		return nil, nil
	}
	if ids, ok := cache[key]; ok {
		return ids, nil
	}
	rows, err := q.QueryContext(ctx, query, key)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	cache[key] = ids
	return ids, rows.Err()
}

func (c *batchCache) watchersOf(ctx context.Context, q db.Queryer, recordID int64) ([]int64, error) {
	ids, err := c.ids(ctx, q, c.watchers, `SELECT user_id FROM record_watchers WHERE record_id = ? ORDER BY user_id`, recordID)
	if err != nil {
		return nil, fmt.Errorf("read watchers: %w", err)
	}
	return ids, nil
}

func (c *batchCache) membersOf(ctx context.Context, q db.Queryer, teamID int64) ([]int64, error) {
	ids, err := c.ids(ctx, q, c.members, `SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id`, teamID)
	if err != nil {
		return nil, fmt.Errorf("read team members: %w", err)
	}
	return ids, nil
}

// affectedOf lists the requesters (callers) of a record's children.
func (c *batchCache) affectedOf(ctx context.Context, q db.Queryer, recordID int64) ([]int64, error) {
	ids, err := c.ids(ctx, q, c.affected, `SELECT DISTINCT r.requester_id FROM record_links l JOIN records r ON r.id = l.to_id
		WHERE l.from_id = ? AND l.type = 'parent_of' AND r.requester_id IS NOT NULL ORDER BY r.requester_id`, recordID)
	if err != nil {
		return nil, fmt.Errorf("read the callers of child records: %w", err)
	}
	return ids, nil
}

// loadUsers reads the users of ids that are not cached yet, in one query.
func (c *batchCache) loadUsers(ctx context.Context, q db.Queryer, ids []int64) error {
	var missing []any
	for _, id := range ids {
		if _, ok := c.users[id]; !ok && id > 0 && !slices.Contains(missing, any(id)) {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id, username, display_name, email, disabled, is_admin FROM users WHERE id IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(missing)), ", ")+`)`, missing...)
	if err != nil {
		return fmt.Errorf("read users: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		u := &Candidate{}
		if err := rows.Scan(&u.UserID, &u.Username, &u.Name, &u.Email, &u.Disabled, &u.Admin); err != nil {
			return fmt.Errorf("read user: %w", err)
		}
		if u.Name == "" {
			u.Name = u.Username
		}
		c.users[u.UserID] = u
		c.names[u.Username] = u.Name
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range missing {
		if _, ok := c.users[id.(int64)]; !ok {
			c.users[id.(int64)] = nil // gone
		}
	}
	return nil
}

// displayName names an actor (a username) for people: the display name, or "Steward" for the system.
func (c *batchCache) displayName(ctx context.Context, q db.Queryer, username string) string {
	if username == "" || username == "system" {
		return defaultActorName
	}
	if n, ok := c.names[username]; ok {
		return n
	}
	var n string
	if err := q.QueryRowContext(ctx, `SELECT CASE WHEN display_name <> '' THEN display_name ELSE username END
		FROM users WHERE username = ?`, username).Scan(&n); err != nil {
		n = username
	}
	c.names[username] = n
	return n
}

func (c *batchCache) teamName(ctx context.Context, q db.Queryer, id int64) string {
	if id == 0 {
		return ""
	}
	if n, ok := c.teams[id]; ok {
		return n
	}
	var n string
	if err := q.QueryRowContext(ctx, `SELECT name FROM teams WHERE id = ?`, id).Scan(&n); err != nil {
		n = "team " + strconv.FormatInt(id, 10)
	}
	c.teams[id] = n
	return n
}
