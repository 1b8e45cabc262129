package controls

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

func findingFields(f findingRow) map[string]any {
	return map[string]any{"severity": string(f.Severity), "observation": f.Observation}
}

var findingAudited = []string{"severity", "observation"}

// findings joins records with their finding rows and corrective actions, in the records' order.
func (s *Service) findings(ctx context.Context, rs []record.Record) ([]Finding, error) {
	rows, err := loadFindings(ctx, s.db, ids(rs))
	if err != nil {
		return nil, err
	}
	acts, err := loadActions(ctx, s.db, ids(rs))
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	out := make([]Finding, 0, len(rs))
	for _, r := range rs {
		row, ok := rows[r.ID]
		if !ok {
			return nil, fmt.Errorf("finding %s has no finding row", r.Number)
		}
		as := nonNil(acts[r.ID])
		for i := range as {
			as[i].Overdue = overdue(as[i], now)
		}
		out = append(out, Finding{Record: r, Severity: row.Severity, Observation: row.Observation, CorrectiveActions: as})
	}
	return out, nil
}

// CreateFinding records a monitor, manage and report finding of a process. It
// performs the process's Monitor activity: the caller needs R or A for it.
func (s *Service) CreateFinding(ctx context.Context, code string, in NewFinding) (out Finding, err error) {
	defer errs.Wrap(&err, "record a finding of %s", code)
	process, err := s.process(code, framework.ControlMonitor)
	if err != nil {
		return out, err
	}
	if err := validateFinding(in.Severity, in.Observation); err != nil {
		return out, err
	}
	row := findingRow{Severity: in.Severity, Observation: in.Observation}
	r, err := s.records.Create(ctx, FindingType, record.NewRecord{Title: in.Title, Description: in.Description,
		Marking: in.Marking, Process: process,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			return audit.Diff(findingAudited, map[string]any{}, findingFields(row)), insertFinding(ctx, tx, r.ID, row)
		}})
	if err != nil {
		return out, err
	}
	return Finding{Record: r, Severity: row.Severity, Observation: row.Observation, CorrectiveActions: []CorrectiveAction{}}, nil
}

// Findings lists a process's findings.
func (s *Service) Findings(ctx context.Context, code string, f ListFilter, p listing.Params) (page listing.Page[Finding], total int64, err error) {
	defer errs.Wrap(&err, "list findings of %s", code)
	rp, total, err := s.list(ctx, FindingType, code, framework.ControlMonitor, f, p)
	if err != nil {
		return page, 0, err
	}
	page.NextCursor = rp.NextCursor
	page.Items, err = s.findings(ctx, rp.Items)
	return page, total, err
}

// Finding returns a finding by its number, with its corrective actions.
func (s *Service) Finding(ctx context.Context, number string) (out Finding, err error) {
	defer errs.Wrap(&err, "read finding %s", number)
	r, err := s.get(ctx, FindingType, number)
	if err != nil {
		return out, err
	}
	fs, err := s.findings(ctx, []record.Record{r})
	if err != nil {
		return out, err
	}
	return fs[0], nil
}

// UpdateFinding changes an open finding. It needs R or A for the process's Monitor activity.
func (s *Service) UpdateFinding(ctx context.Context, number string, version int64, u FindingUpdate) (out Finding, err error) {
	defer errs.Wrap(&err, "update finding %s", number)
	if _, err := s.get(ctx, FindingType, number); err != nil {
		return out, err
	}
	_, err = s.records.Amend(ctx, number, record.Amendment{Version: version,
		Fields: record.Update{Title: u.Title, Description: u.Description, Marking: u.Marking},
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			rows, err := loadFindings(ctx, tx, []int64{cur.ID})
			if err != nil {
				return nil, err
			}
			old := rows[cur.ID]
			n := old
			if u.Severity != nil {
				n.Severity = *u.Severity
			}
			if u.Observation != nil {
				n.Observation = *u.Observation
			}
			if err := validateFinding(n.Severity, n.Observation); err != nil {
				return nil, err
			}
			changes := audit.Diff(findingAudited, findingFields(old), findingFields(n))
			if len(changes) == 0 {
				return nil, nil
			}
			return changes, updateFinding(ctx, tx, cur.ID, n)
		}})
	if err != nil {
		return out, err
	}
	return s.Finding(ctx, number)
}

// actionField names a corrective action's field in the audit trail: "correctiveActions[#3].status".
func actionField(id int64, field string) string {
	return "correctiveActions[#" + strconv.FormatInt(id, 10) + "]." + field
}

// AddCorrectiveAction adds a corrective action, with its owner and due date,
// to an open finding. It performs the process's Monitor activity ("Perform/Assign
// Corrective Action(s)"): the caller needs R or A for it.
func (s *Service) AddCorrectiveAction(ctx context.Context, number string, version int64, a NewAction) (out Finding, err error) {
	defer errs.Wrap(&err, "add a corrective action to %s", number)
	due, err := validateAction(a, s.clock.Now())
	if err != nil {
		return out, err
	}
	if _, err := s.get(ctx, FindingType, number); err != nil {
		return out, err
	}
	_, err = s.records.Amend(ctx, number, record.Amendment{Version: version, Verb: "add a corrective action to",
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			if err := checkUser(ctx, tx, "body.ownerId", a.OwnerID); err != nil {
				return nil, err
			}
			id, err := insertAction(ctx, tx, cur.ID, a, due, s.clock.Now().UnixMilli())
			if err != nil {
				return nil, err
			}
			return []audit.Change{{Field: actionField(id, "added"), New: map[string]any{"description": a.Description,
				"ownerId": a.OwnerID, "dueDate": a.DueDate, "status": string(ActionOpen)}}}, nil
		}})
	if err != nil {
		return out, err
	}
	return s.Finding(ctx, number)
}

// UpdateCorrectiveAction changes a corrective action of an open finding: its
// owner may report its status and a note; changing its description, owner or
// due date, or the status of someone else's action, needs R or A for the
// process's Monitor activity. Done stamps the completion time.
func (s *Service) UpdateCorrectiveAction(ctx context.Context, number string, actionID, version int64, u ActionUpdate) (out Finding, err error) {
	defer errs.Wrap(&err, "update corrective action %d of %s", actionID, number)
	now := s.clock.Now()
	if err := validateActionUpdate(u, now); err != nil {
		return out, err
	}
	f, err := s.Finding(ctx, number)
	if err != nil {
		return out, err
	}
	i := slices.IndexFunc(f.CorrectiveActions, func(a CorrectiveAction) bool { return a.ID == actionID })
	if i < 0 {
		return out, errs.E(errs.NotFound, "%s has no corrective action %d", f.Number, actionID)
	}
	owner := f.CorrectiveActions[i].OwnerID
	var permit func(p *auth.Principal, r record.Record) bool
	permitted := false
	if u.OwnerOnly() {
		permit = func(p *auth.Principal, _ record.Record) bool {
			permitted = p.UserID == owner
			return permitted
		}
	}
	_, err = s.records.Amend(ctx, number, record.Amendment{Version: version, Verb: "change a corrective action of", Permit: permit,
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			acts, err := loadActions(ctx, tx, []int64{cur.ID})
			if err != nil {
				return nil, err
			}
			j := slices.IndexFunc(acts[cur.ID], func(a CorrectiveAction) bool { return a.ID == actionID })
			if j < 0 {
				return nil, errs.E(errs.NotFound, "%s has no corrective action %d", cur.Number, actionID)
			}
			old := acts[cur.ID][j]
			if permitted && old.OwnerID != owner {
				return nil, errs.E(errs.Conflict, "corrective action %d changed hands meanwhile; read %s again", actionID, cur.Number)
			}
			n := applyActionUpdate(old, u, now)
			if u.OwnerID != nil && *u.OwnerID != old.OwnerID {
				if err := checkUser(ctx, tx, "body.ownerId", *u.OwnerID); err != nil {
					return nil, err
				}
			}
			changes := audit.Diff([]string{"description", "ownerId", "dueDate", "status", "note"}, actionFields(old), actionFields(n))
			for k := range changes {
				changes[k].Field = actionField(actionID, changes[k].Field)
			}
			if len(changes) == 0 {
				return nil, nil
			}
			return changes, updateAction(ctx, tx, n, now.UnixMilli())
		}})
	if err != nil {
		return out, err
	}
	return s.Finding(ctx, number)
}

func actionFields(a CorrectiveAction) map[string]any {
	return map[string]any{"description": a.Description, "ownerId": a.OwnerID, "dueDate": a.DueDate,
		"status": string(a.Status), "note": a.Note}
}
