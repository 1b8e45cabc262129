package record

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// SystemChange is a change Steward makes to a record on its own authority (an
// escalation raising the priority or handing the record to another team); nil
// leaves a field as it is, and 0 clears the team or the assignee.
type SystemChange struct {
	Priority   *int
	TeamID     *int64
	AssigneeID *int64
}

// ChangeAsSystemIn applies a system change to a record inside tx, an area's
// own transaction, without asking the guard: it is journalled as done by
// "system", audited as record.system.update with the changes and the reason,
// and announced (record.updated for a priority, record.assigned for a team or
// an assignee). An assignee must be an active member of the team when one is
// set. A change that changes nothing returns the record as it is.
func (s *Service) ChangeAsSystemIn(ctx context.Context, tx *db.Tx, number string, u SystemChange, reason string) (out Record, err error) {
	defer errs.Wrap(&err, "change %s by the system", number)
	cur, err := loadRecord(ctx, tx, s.db, NormalizeNumber(number), true)
	if err != nil {
		return out, err
	}
	n := cur
	if u.Priority != nil {
		n.Priority = *u.Priority
	}
	if u.TeamID != nil {
		n.TeamID = *u.TeamID
	}
	if u.AssigneeID != nil {
		n.AssigneeID = *u.AssigneeID
	}
	if n.Priority < 0 || n.Priority > 5 {
		return out, errs.Field("priority", "a priority is 1 (highest) to 5, or 0 for none", n.Priority)
	}
	assigned := n.TeamID != cur.TeamID || n.AssigneeID != cur.AssigneeID
	if n.Priority == cur.Priority && !assigned {
		return cur, nil
	}
	if assigned {
		if err := checkAssignment(ctx, tx, n.TeamID, n.AssigneeID); err != nil {
			return out, err
		}
		if reassigned(&cur, n.TeamID, n.AssigneeID) {
			n.Reassignments++
		}
	}
	now := s.now()
	if out, err = saveRecord(ctx, tx, n, now); err != nil {
		return out, err
	}
	changes := audit.Diff([]string{"priority", "teamId", "assigneeId", "reassignments"}, recordFields(cur), recordFields(out))
	var names []string
	for _, c := range changes {
		names = append(names, c.Field)
	}
	text := "Changed " + strings.Join(names, ", ") + " by the system"
	if reason != "" {
		text += ": " + reason
	}
	if _, err := addJournal(ctx, tx, out.ID, System, text+".", 0, "system", now); err != nil {
		return out, err
	}
	s.trail.Record(audit.WithActor(ctx, audit.Actor{Type: "system", Name: "system"}), tx, audit.Entry{Action: "record.system.update",
		ObjectType: "record", ObjectID: out.Number, Changes: append(changes, audit.Change{Field: "reason", New: reason})})
	if out.Priority != cur.Priority {
		if err := s.events.Emit(ctx, tx, outbox.Event{Type: "record.updated", Subject: subject(&out),
			Data: map[string]any{"record": out, "changes": changes, "reason": reason}}); err != nil {
			return out, fmt.Errorf("announce: %w", err)
		}
	}
	if assigned {
		if err := s.events.Emit(ctx, tx, outbox.Event{Type: "record.assigned", Subject: subject(&out), Data: map[string]any{
			"number": out.Number, "type": out.Type, "teamId": out.TeamID, "assigneeId": out.AssigneeID,
			"previousTeamId": cur.TeamID, "previousAssigneeId": cur.AssigneeID, "reassignments": out.Reassignments,
			"reason": reason}}); err != nil {
			return out, fmt.Errorf("announce: %w", err)
		}
	}
	return out, nil
}

// VisibleWhere is the condition on "records r" (with its arguments) that keeps
// only the records the caller in ctx may see, joined over every registered
// type with record-level visibility; "" when the caller sees them all. Areas
// listing rows joined to records (such as service-level clocks) add it.
func (s *Service) VisibleWhere(ctx context.Context) (string, []any, error) {
	return s.visibleWhere(ctx, "")
}
