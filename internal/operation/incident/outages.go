package incident

import (
	"context"
	"fmt"

	"steward/internal/platform/errs"
)

// MajorSpan is a major incident of a service as availability management
// counts it: an unplanned outage from when the incident was logged to when it
// was resolved (End 0 while unresolved), in unix milliseconds.
type MajorSpan struct {
	Number    string
	ServiceID int64
	CIID      int64
	Start     int64
	End       int64
}

// MajorSpans lists the major incidents with a service whose span overlaps
// [from, to] (unix milliseconds), oldest first: logged by to and unresolved,
// or resolved at or after from. A cancelled or reclassified incident was no
// outage and is left out; an incident closed without a resolution time (an
// imported one, say) ends when it closed. It reads the incidents as the
// system, without a caller's visibility: security incidents are never major.
func (s *Service) MajorSpans(ctx context.Context, from, to int64) (out []MajorSpan, err error) {
	defer errs.Wrap(&err, "list major incident spans")
	rows, err := s.db.QueryContext(ctx, `SELECT r.number, r.service_id, COALESCE(i.ci_id, 0), r.created_at,
		CASE WHEN i.resolved_at > 0 THEN i.resolved_at ELSE i.closed_at END
		FROM incidents i JOIN records r ON r.id = i.record_id
		WHERE i.path = ? AND r.type = ? AND r.service_id IS NOT NULL AND r.state NOT IN (?, ?) AND r.created_at <= ?
		AND ((i.resolved_at = 0 AND i.closed_at = 0) OR (CASE WHEN i.resolved_at > 0 THEN i.resolved_at ELSE i.closed_at END) >= ?)
		ORDER BY r.created_at, r.id`, PathMajor, Type, StateCancelled, StateReclassified, to, from)
	if err != nil {
		return nil, fmt.Errorf("read major incidents: %w", err)
	}
	defer rows.Close()
	out = []MajorSpan{}
	for rows.Next() {
		var m MajorSpan
		if err := rows.Scan(&m.Number, &m.ServiceID, &m.CIID, &m.Start, &m.End); err != nil {
			return nil, fmt.Errorf("read major incidents: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}
