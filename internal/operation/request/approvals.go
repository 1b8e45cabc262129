package request

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// openApprovals resolves the approvers of every level of a validated request
// (the requester's manager, the service's owners, a team) and asks the first
// level; a request whose item asks no approval goes on to fulfilment. The
// requester never approves their own request (segregation of duties, AC-5): a
// level with no one else to decide refuses the validation, naming what to fix.
func (s *Service) openApprovals(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
	r := a.Record
	row, err := loadRequestRow(ctx, tx, r.ID)
	if err != nil {
		return err
	}
	levels := row.Def.levels()
	if len(levels) == 0 {
		_, err := s.records.FollowUp(ctx, tx, r.Number, ActionStartFulfilment, a)
		return err
	}
	now := s.now()
	var changes []audit.Change
	for i, l := range levels {
		level := i + 1
		state := ApprovalWaiting
		if level == 1 {
			state = ApprovalPending
		}
		users, team, err := s.levelDeciders(ctx, tx, r, level, l)
		if err != nil {
			return err
		}
		for _, u := range users {
			if err := insertApproval(ctx, tx, r.ID, level, l.Kind, u, 0, state, now); err != nil {
				return err
			}
		}
		if team != 0 {
			if err := insertApproval(ctx, tx, r.ID, level, l.Kind, 0, team, state, now); err != nil {
				return err
			}
		}
		who := map[string]any{"kind": string(l.Kind), "users": users}
		if team != 0 {
			who["teamId"] = team
		}
		changes = append(changes, audit.Change{Field: "level" + strconv.Itoa(level), New: who})
	}
	if err := setRequest(ctx, tx, r.ID, "approval_level", 1); err != nil {
		return err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "request.approvals.open", ObjectType: "record", ObjectID: r.Number, Changes: changes})
	return s.askLevel(ctx, tx, r, 1, len(levels), levels[0].Kind, a.Actor, now)
}

// levelDeciders resolves who decides one level: users for a manager or
// service_owner level, a team for a group level. None is a Conflict.
func (s *Service) levelDeciders(ctx context.Context, tx *db.Tx, r record.Record, level int, l CatalogApproval) ([]int64, int64, error) {
	requester := r.RequesterID
	switch l.Kind {
	case ManagerApproval:
		if requester == 0 {
			return nil, 0, errs.E(errs.Conflict, "approval level %d asks the requester's manager, and %s has no requester", level, r.Number)
		}
		u, err := s.auth.GetUser(ctx, requester)
		if err != nil {
			return nil, 0, fmt.Errorf("read the requester of %s: %w", r.Number, err)
		}
		if u.ManagerID == 0 {
			return nil, 0, errs.E(errs.Conflict, "approval level %d asks the requester's manager, and %s has none: "+
				"set their manager (managerId) or reject the request", level, u.Username)
		}
		m, err := s.auth.GetUser(ctx, u.ManagerID)
		if err != nil {
			return nil, 0, fmt.Errorf("read the manager of %s: %w", u.Username, err)
		}
		if m.Disabled {
			return nil, 0, errs.E(errs.Conflict, "approval level %d asks the requester's manager, and %s's manager %s is disabled: "+
				"set another manager or reject the request", level, u.Username, m.Username)
		}
		return []int64{m.ID}, 0, nil
	case ServiceOwnerApproval:
		if r.ServiceID == 0 {
			return nil, 0, errs.E(errs.Conflict, "approval level %d asks the service owner, and %s names no service", level, r.Number)
		}
		hs, err := s.raci.ServiceHolders(ctx, tx, []int64{r.ServiceID})
		if err != nil {
			return nil, 0, err
		}
		var users []int64
		for _, h := range hs {
			if h.Role == raci.RoleServiceOwner && h.UserID != requester {
				users = append(users, h.UserID)
			}
		}
		if len(users) == 0 {
			return nil, 0, errs.E(errs.Conflict, "approval level %d asks the owner of service %d, and it has none other than the requester: "+
				"name the service's owner or reject the request", level, r.ServiceID)
		}
		return users, 0, nil
	case GroupApproval:
		members, err := teamMembers(ctx, tx, l.TeamID, requester)
		if err != nil {
			return nil, 0, err
		}
		if len(members) == 0 {
			return nil, 0, errs.E(errs.Conflict, "approval level %d asks team %d, which has no active member other than the requester", level, l.TeamID)
		}
		return nil, l.TeamID, nil
	}
	return nil, 0, fmt.Errorf("approval level %d of %s has the unknown kind %q", level, r.Number, l.Kind)
}

// askLevel announces that a level decides now (request.approval_requested,
// with the user ids of everyone who may decide it, so that mail can notify them).
func (s *Service) askLevel(ctx context.Context, tx *db.Tx, r record.Record, level, of int, kind ApprovalKind, p *auth.Principal, now int64) error {
	approvers, err := levelApprovers(ctx, tx, r.ID, level, r.RequesterID)
	if err != nil {
		return err
	}
	if _, err := addJournal(ctx, tx, r.ID, record.System, fmt.Sprintf("Waiting for approval level %d of %d (%s).", level, of,
		kindLabel(kind)), p, now); err != nil {
		return err
	}
	return s.emit(ctx, tx, "request.approval_requested", r, map[string]any{"level": level, "levels": of, "kind": string(kind),
		"approvers": approvers})
}

func kindLabel(k ApprovalKind) string {
	switch k {
	case ManagerApproval:
		return "the requester's manager"
	case ServiceOwnerApproval:
		return "the service owner"
	case GroupApproval:
		return "a group"
	}
	return string(k)
}

// Approve approves one approval of a request's current level, for its level:
// the next level is asked, or after the last one fulfilment starts. Only an
// approver of the level may: the user named, or a member of the team named;
// never the requester.
func (s *Service) Approve(ctx context.Context, number string, approvalID int64, reason string) (out Request, err error) {
	defer errs.Wrap(&err, "approve %d of %s", approvalID, number)
	if runes(reason) > MaxReason || !utf8.ValidString(reason) {
		return out, errs.Field("body.reason", fmt.Sprintf("at most %d characters of text", MaxReason), nil)
	}
	return s.decide(ctx, number, approvalID, true, reason)
}

// Reject rejects one approval of a request's current level, with a reason:
// the request is rejected (RF2), and the requester reads the reason as a
// comment and through request.rejected.
func (s *Service) Reject(ctx context.Context, number string, approvalID int64, reason string) (out Request, err error) {
	defer errs.Wrap(&err, "reject %d of %s", approvalID, number)
	if err := validateReason("body.reason", reason); err != nil {
		return out, err
	}
	return s.decide(ctx, number, approvalID, false, reason)
}

func (s *Service) decide(ctx context.Context, number string, approvalID int64, approve bool, reason string) (out Request, err error) {
	p, err := caller(ctx)
	if err != nil {
		return out, err
	}
	r, err := s.get(ctx, number)
	if err != nil {
		return out, err
	}
	verb := "reject"
	if approve {
		verb = "approve"
	}
	// Decide who may before the transaction, so that a refusal is audited.
	a, err := loadApproval(ctx, s.db, r.ID, approvalID)
	if err != nil {
		return out, err
	}
	if err := s.mayDecide(ctx, s.db, p, r, a, verb); err != nil {
		if errs.Is(err, errs.Forbidden) {
			_ = s.trail.Append(ctx, s.db, audit.Entry{Action: "request.approval.denied", ObjectType: "record", ObjectID: r.Number,
				Changes: []audit.Change{{Field: "approval", New: approvalID}, {Field: "action", New: verb}, {Field: "reason", New: err.Error()}}})
		}
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		state, err := lockRecord(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		if state != AwaitingApproval {
			return errs.E(errs.Conflict, "%s is %s: its approvals are closed", r.Number, state)
		}
		a, err := loadApproval(ctx, tx, r.ID, approvalID)
		if err != nil {
			return err
		}
		if err := s.mayDecide(ctx, tx, p, r, a, verb); err != nil {
			return err
		}
		row, err := loadRequestRow(ctx, tx, r.ID)
		if err != nil {
			return err
		}
		now := s.now()
		decision, others, event := ApprovalApproved, ApprovalSkipped, "request.approval_approved"
		if !approve {
			decision, others, event = ApprovalRejected, ApprovalCancelled, "request.approval_rejected"
		}
		if err := decideApproval(ctx, tx, a.ID, decision, p.UserID, strings.TrimSpace(reason), now); err != nil {
			return err
		}
		if err := moveApprovals(ctx, tx, r.ID, a.Level, others, ApprovalPending); err != nil {
			return err
		}
		levels := row.Def.levels()
		text := fmt.Sprintf("RequestApproval level %d of %d (%s) %s by %s.", a.Level, len(levels), kindLabel(a.Kind), decision, p.Username)
		if reason != "" {
			text += " " + strings.TrimSpace(reason)
		}
		if _, err := addJournal(ctx, tx, r.ID, record.System, text, p, now); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "request.approval." + verb, ObjectType: "record", ObjectID: r.Number,
			Changes: []audit.Change{{Field: "approval", New: a.ID}, {Field: "level", New: a.Level},
				{Field: "state", Old: string(ApprovalPending), New: string(decision)}, {Field: "reason", New: reason}}})
		if err := s.emit(ctx, tx, event, r, map[string]any{"approval": a.ID, "level": a.Level, "decidedBy": p.UserID, "reason": reason}); err != nil {
			return err
		}
		// The level's decision moves the request as a follow-up of an RF2 step: the approval.
		cause := record.AppliedStep{Record: r, Transition: record.Transition{Action: verb, Label: fmt.Sprintf("approval level %d", a.Level),
			Activity: ActLog}, Process: Process, Actor: p, Performer: p.UserID}
		if !approve {
			_, err := s.records.FollowUp(withReason(ctx, r.Number, ActionReject, reason), tx, r.Number, ActionReject, cause)
			return err
		}
		if a.Level < len(levels) {
			next := a.Level + 1
			if err := moveApprovals(ctx, tx, r.ID, next, ApprovalPending, ApprovalWaiting); err != nil {
				return err
			}
			if err := setRequest(ctx, tx, r.ID, "approval_level", next); err != nil {
				return err
			}
			return s.askLevel(ctx, tx, r, next, len(levels), levels[next-1].Kind, p, now)
		}
		_, err = s.records.FollowUp(ctx, tx, r.Number, ActionStartFulfilment, cause)
		return err
	})
	if err != nil {
		return out, err
	}
	return s.Request(ctx, r.Number)
}

// mayDecide refuses a caller who may not decide approval a of request r now:
// anyone but its approvers (403), the requester (403), and anyone while its
// level is not the one deciding or it is settled (409).
func (s *Service) mayDecide(ctx context.Context, q db.Queryer, p *auth.Principal, r record.Record, a RequestApproval, verb string) error {
	if p.UserID == r.RequesterID {
		return errs.E(errs.Forbidden, "you requested %s, so you may not %s it: another approver of level %d decides", r.Number, verb, a.Level)
	}
	ok, err := mayDecide(ctx, q, a, p.UserID)
	if err != nil {
		return err
	}
	if !ok {
		who := a.ApproverName
		if a.TeamID != 0 {
			who = "a member of team " + a.TeamName
		}
		return errs.E(errs.Forbidden, "you may not %s approval %d of %s: only %s may (level %d, %s)", verb, a.ID, r.Number, who,
			a.Level, kindLabel(a.Kind))
	}
	if a.State != ApprovalPending {
		why := "it is " + string(a.State)
		if a.State == ApprovalWaiting {
			why = "its level " + strconv.Itoa(a.Level) + " decides after the levels before it"
		}
		return errs.E(errs.Conflict, "approval %d of %s cannot be decided: %s", a.ID, r.Number, why)
	}
	return nil
}

// PendingRequestApproval is an approval that waits for the caller's decision.
type PendingRequestApproval struct {
	RequestApproval
	Request         string `json:"request"`
	RequestTitle    string `json:"requestTitle"`
	RequesterID     int64  `json:"requesterId,omitempty"`
	RequesterName   string `json:"requesterName,omitempty"`
	CatalogItemName string `json:"catalogItemName,omitempty"`
}

// PendingApprovals lists the approvals waiting for the caller: their own, and
// their teams', of requests they did not raise, oldest request first (at most 200).
func (s *Service) PendingApprovals(ctx context.Context) (out []PendingRequestApproval, err error) {
	defer errs.Wrap(&err, "list pending approvals")
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+approvalCols+`, r.number, r.title, COALESCE(r.requester_id, 0),
		COALESCE(NULLIF(ru.display_name, ''), ru.username, ''), COALESCE(ci.name, '')`+approvalFrom+` JOIN records r ON r.id = a.request_id
		JOIN service_requests q ON q.record_id = r.id LEFT JOIN catalog_items ci ON ci.id = q.catalog_item_id
		LEFT JOIN users ru ON ru.id = r.requester_id
		WHERE a.state = 'pending' AND (r.requester_id IS NULL OR r.requester_id <> ?)
		AND (a.approver_id = ? OR a.team_id IN (SELECT team_id FROM team_members WHERE user_id = ?))
		ORDER BY r.id, a.level, a.id LIMIT 200`, p.UserID, p.UserID, p.UserID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out = []PendingRequestApproval{}
	for rows.Next() {
		var pa PendingRequestApproval
		if pa.RequestApproval, err = scanApproval(rows, &pa.Request, &pa.RequestTitle, &pa.RequesterID, &pa.RequesterName,
			&pa.CatalogItemName); err != nil {
			return nil, err
		}
		out = append(out, pa)
	}
	return out, rows.Err()
}
