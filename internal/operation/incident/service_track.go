package incident

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// Escalate raises an incident's hierarchical escalation level, 0 to 3
// (IM4). It is journalled and audited with the reason, and announced as
// incident.escalated naming the IM process managers, who are informed.
func (s *Service) Escalate(ctx context.Context, number string, version int64, reason string) (out Incident, err error) {
	defer errs.Wrap(&err, "escalate %s", number)
	ctx = begin(ctx)
	var f fieldErrs
	f.text("body.reason", reason, 4000, true)
	if err := f.err(); err != nil {
		return out, err
	}
	inc, _, err := s.read(ctx, number)
	if err != nil {
		return out, err
	}
	if err := s.authorize(ctx, ActInvestigate, "escalate", inc.Record); err != nil {
		return out, err
	}
	if _, err := nextEscalation(inc.Number, inc.EscalationLevel); err != nil {
		return out, err
	}
	informed, err := s.processManagers(ctx)
	if err != nil {
		return out, err
	}
	if version == 0 {
		version = inc.Version
	}
	r, err := s.records.Amend(ctx, inc.Number, record.Amendment{Version: version, Verb: "escalate",
		Permit: func(_ *auth.Principal, _ record.Record) bool { return true },
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			w, err := loadRow(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			level, err := nextEscalation(cur.Number, w.Escalation)
			if err != nil {
				return nil, err
			}
			old := w.Escalation
			w.Escalation = level
			if err := saveRow(ctx, tx, &w); err != nil {
				return nil, err
			}
			return []audit.Change{{Field: "escalationLevel", Old: old, New: level}, {Field: "escalationReason", New: reason}},
				s.events.Emit(ctx, tx, outbox.Event{Type: "incident.escalated", Subject: subject(cur.Number), Data: map[string]any{
					"number": cur.Number, "title": cur.Title, "priority": cur.Priority, "level": level, "previousLevel": old,
					"reason": reason, "informed": informed}})
		}})
	if err != nil {
		return out, err
	}
	out, _, err = s.read(ctx, r.Number)
	return out, err
}

// processManagers lists the holders of the IM process-manager role, for the escalation's audience.
func (s *Service) processManagers(ctx context.Context) ([]map[string]any, error) {
	out := []map[string]any{}
	if s.raci == nil {
		return out, nil
	}
	hs, err := s.raci.RoleHolders(ctx, Process, "process-manager")
	if err != nil {
		return nil, fmt.Errorf("find the process managers: %w", err)
	}
	seen := map[int64]bool{}
	for _, h := range hs {
		if !seen[h.UserID] {
			seen[h.UserID] = true
			out = append(out, map[string]any{"userId": h.UserID, "username": h.Username})
		}
	}
	return out, nil
}

// Tracking returns an incident's reassignment count, escalation level and
// assignment history, from the audit trail, oldest first.
func (s *Service) Tracking(ctx context.Context, number string) (out IncidentTracking, err error) {
	defer errs.Wrap(&err, "tracking of %s", number)
	ctx = begin(ctx)
	inc, _, err := s.read(ctx, number)
	if err != nil {
		return out, err
	}
	out = IncidentTracking{Reassignments: inc.Reassignments, EscalationLevel: inc.EscalationLevel, History: []AssignmentChange{}}
	rows, err := s.db.QueryContext(ctx, `SELECT at, actor_name, action, changes FROM audit_log
		WHERE object_type = 'record' AND object_id = ? AND action IN ('record.create', 'record.create.override', 'record.assign',
		'record.assign.override') ORDER BY seq`, inc.Number)
	if err != nil {
		return out, fmt.Errorf("read the assignment history: %w", err)
	}
	defer rows.Close()
	var team, person int64
	teams, users := map[int64]string{}, map[int64]string{}
	for rows.Next() {
		var at int64
		var by, action, changes string
		if err := rows.Scan(&at, &by, &action, &changes); err != nil {
			return out, err
		}
		var cs []audit.Change
		if err := json.Unmarshal([]byte(changes), &cs); err != nil {
			return out, fmt.Errorf("decode the assignment history: %w", err)
		}
		moved := false
		a := AssignmentChange{At: db.Time(at), By: by}
		for _, c := range cs {
			switch c.Field {
			case "teamId":
				team, moved = idOf(c.New), true
			case "assigneeId":
				person, moved = idOf(c.New), true
			case "reassignments":
				a.Reassignment = true
			}
		}
		if !moved || (strings.HasPrefix(action, "record.create") && team == 0 && person == 0) {
			continue
		}
		a.TeamID, a.AssigneeID = team, person
		teams[team], users[person] = "", ""
		out.History = append(out.History, a)
	}
	if err := rows.Err(); err != nil {
		return out, err
	}
	rows.Close()
	if err := names(ctx, s.db, `SELECT id, name FROM teams WHERE id IN `, teams); err != nil {
		return out, err
	}
	if err := names(ctx, s.db, `SELECT id, COALESCE(NULLIF(display_name, ''), username) FROM users WHERE id IN `, users); err != nil {
		return out, err
	}
	for i := range out.History {
		h := &out.History[i]
		h.TeamName, h.AssigneeName = teams[h.TeamID], users[h.AssigneeID]
	}
	return out, nil
}

// idOf reads an id from a decoded audit value.
func idOf(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case string:
		id, _ := strconv.ParseInt(n, 10, 64)
		return id
	}
	return 0
}

// names fills the names of the ids in m (but 0) with one query.
func names(ctx context.Context, q db.Queryer, query string, m map[int64]string) error {
	var ids []int64
	for id := range m {
		if id != 0 {
			ids = append(ids, id)
		}
	}
	for _, part := range chunks(ids, 500) {
		list, args := db.In(part)
		rows, err := q.QueryContext(ctx, query+list, args...)
		if err != nil {
			return fmt.Errorf("read names: %w", err)
		}
		for rows.Next() {
			var id int64
			var n string
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return err
			}
			m[id] = n
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return nil
}

// MatchInput is what the logging form asks known errors for, before saving.
type MatchInput struct {
	Title, Description    string
	CIID, ServiceID       int64
	Category, Subcategory string
	Limit                 int
}

// MatchKnownErrors offers the known errors and workarounds that match an
// incident being logged (IM4). Without problem management wired it offers none.
func (s *Service) MatchKnownErrors(ctx context.Context, in MatchInput) (out []KnownErrorMatch, err error) {
	defer errs.Wrap(&err, "match known errors")
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	var f fieldErrs
	f.text("body.title", in.Title, 200, false)
	f.text("body.description", in.Description, 32000, false)
	validateKeys(&f, "body.category", "body.subcategory", in.Category, in.Subcategory, false)
	if in.Limit < 0 || in.Limit > 20 {
		f.add("body.limit", "1 to 20", in.Limit)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	return s.findKnownErrors(ctx, KnownErrorQuery{Text: strings.TrimSpace(in.Title + "\n" + in.Description), CIID: in.CIID,
		ServiceID: in.ServiceID, Category: in.Category, Subcategory: in.Subcategory, Limit: in.Limit})
}

// KnownErrors offers the known errors and workarounds that match an incident under investigation (IM4).
func (s *Service) KnownErrors(ctx context.Context, number string) (out []KnownErrorMatch, err error) {
	defer errs.Wrap(&err, "known errors for %s", number)
	ctx = begin(ctx)
	inc, _, err := s.read(ctx, number)
	if err != nil {
		return nil, err
	}
	return s.findKnownErrors(ctx, KnownErrorQuery{Text: inc.Title + "\n" + inc.Description, CIID: inc.CIID,
		ServiceID: inc.ServiceID, Category: inc.Category, Subcategory: inc.Subcategory})
}

func (s *Service) findKnownErrors(ctx context.Context, q KnownErrorQuery) ([]KnownErrorMatch, error) {
	if q.Limit <= 0 {
		q.Limit = 5
	}
	if s.known == nil {
		return []KnownErrorMatch{}, nil
	}
	out, err := s.known.FindKnownErrors(ctx, q)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []KnownErrorMatch{}
	}
	return out, nil
}

// trendKeys are the groupings of Trends: the key expression, its "has a key"
// condition, and the join and expression that label it.
var trendKeys = map[string]struct{ key, has, join, label string }{
	"category": {"i.category", "i.category <> ''",
		" LEFT JOIN incident_categories c ON c.parent_key = '' AND c.cat_key = g.k", "COALESCE(c.label, '')"},
	"ci":      {"i.ci_id", "i.ci_id IS NOT NULL", " LEFT JOIN cis c ON c.id = g.k", "COALESCE(c.name, '')"},
	"service": {"r.service_id", "r.service_id IS NOT NULL", " LEFT JOIN cis c ON c.id = g.k", "COALESCE(c.name, '')"},
}

// Trends groups the incidents logged in a period by category, CI or service,
// most frequent first, with the first and last of each group and a sample of
// its numbers: the trend view proactive problem management starts from. It
// is one SQL aggregation; security incidents the caller may not see are left out.
func (s *Service) Trends(ctx context.Context, q TrendQuery) (out []IncidentTrend, err error) {
	defer errs.Wrap(&err, "incident trends")
	ctx = begin(ctx)
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	var f fieldErrs
	k, ok := trendKeys[q.By]
	if !ok {
		f.add("query.by", "one of category, ci, service", q.By)
	}
	now := s.clock.Now()
	if q.To.IsZero() {
		q.To = now.Add(time.Millisecond) // now included
	}
	if q.From.IsZero() {
		q.From = q.To.AddDate(0, 0, -30)
	}
	if !q.From.Before(q.To) {
		f.add("query.from", "from is before to", q.From.Format(time.RFC3339))
	}
	if q.Min == 0 {
		q.Min = 2
	}
	if q.Min < 1 {
		f.add("query.min", "at least 1", q.Min)
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 200 {
		f.add("query.limit", "1 to 200", q.Limit)
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	cond, condArgs, err := s.securityCond(ctx, p)
	if err != nil {
		return nil, err
	}
	where := ` WHERE r.type = ? AND r.created_at >= ? AND r.created_at < ? AND ` + k.has
	args := []any{Type, q.From.UnixMilli(), q.To.UnixMilli()}
	if cond != "" {
		where += " AND " + cond
		args = append(args, condArgs...)
	}
	query := `WITH m AS (SELECT ` + k.key + ` AS k, r.number AS number,
			COUNT(*) OVER (PARTITION BY ` + k.key + `) AS n,
			MIN(r.created_at) OVER (PARTITION BY ` + k.key + `) AS first_at,
			MAX(r.created_at) OVER (PARTITION BY ` + k.key + `) AS last_at,
			ROW_NUMBER() OVER (PARTITION BY ` + k.key + ` ORDER BY r.created_at DESC, r.id DESC) AS rn
		FROM records r JOIN incidents i ON i.record_id = r.id` + where + `),
		g AS (SELECT k, number, n, first_at, last_at, rn, DENSE_RANK() OVER (ORDER BY n DESC, k) AS grp FROM m WHERE rn <= 5 AND n >= ?)
		SELECT g.k, ` + k.label + `, g.n, g.first_at, g.last_at, g.number FROM g` + k.join + `
		WHERE g.grp <= ? ORDER BY g.grp, g.rn`
	rows, err := s.db.QueryContext(ctx, query, append(args, q.Min, q.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("aggregate incidents: %w", err)
	}
	defer rows.Close()
	out = []IncidentTrend{}
	for rows.Next() {
		var key, label, number string
		var n, first, last int64
		if err := rows.Scan(&key, &label, &n, &first, &last, &number); err != nil {
			return nil, err
		}
		if len(out) == 0 || out[len(out)-1].Key != key {
			out = append(out, IncidentTrend{Key: key, Label: label, Count: n, First: db.Time(first), Last: db.Time(last), Sample: []string{}})
		}
		t := &out[len(out)-1]
		t.Sample = append(t.Sample, number)
	}
	return out, rows.Err()
}

// AutoCloseBatch is how many incidents one AutoClose run closes at most.
const AutoCloseBatch = 1000

// AutoClose closes the incidents resolved more than the settings'
// autoCloseDays ago that their caller neither confirmed nor rejected (IM6),
// through the kernel's system step: journalled as done by "system" and
// audited with the reason. A major incident waits for its review and is left
// alone. It returns how many it closed; schedule it every few minutes (it is
// idempotent, and closes at most AutoCloseBatch a run).
func (s *Service) AutoClose(ctx context.Context) (n int, err error) {
	defer errs.Wrap(&err, "auto-close incidents")
	ctx = raci.WithRequestCache(ctx)
	st, err := loadSettings(ctx, s.db)
	if err != nil {
		return 0, err
	}
	if st.AutoCloseDays <= 0 {
		return 0, nil
	}
	cutoff := s.clock.Now().Add(-time.Duration(st.AutoCloseDays) * 24 * time.Hour).UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT r.number FROM records r JOIN incidents i ON i.record_id = r.id
		LEFT JOIN incident_major_reviews rv ON rv.record_id = r.id
		WHERE r.type = ? AND r.state = ? AND i.resolved_at > 0 AND i.resolved_at <= ? AND (i.path <> 'major' OR rv.record_id IS NOT NULL)
		ORDER BY i.resolved_at, r.id LIMIT ?`, Type, StateResolved, cutoff, AutoCloseBatch)
	if err != nil {
		return 0, fmt.Errorf("find incidents to close: %w", err)
	}
	var due []string
	for rows.Next() {
		var number string
		if err := rows.Scan(&number); err != nil {
			rows.Close()
			return 0, err
		}
		due = append(due, number)
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	reason := fmt.Sprintf("resolved more than %d days ago; the caller neither confirmed nor rejected the resolution", st.AutoCloseDays)
	for _, number := range due {
		_, err := s.records.PerformAsSystem(ctx, number, "close", StateResolved, reason)
		if errs.Is(err, errs.Conflict) {
			continue // it moved on meanwhile
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
