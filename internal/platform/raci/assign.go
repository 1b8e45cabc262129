package raci

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// ---- assignments ----

// subjectKind tells what an assignment's subject is: "process", "domain" or "everywhere".
func (st *state) subjectKind(subject, role string) string {
	switch {
	case subject == Everywhere:
		return "everywhere"
	case st.model.Domain(subject) != nil && (role == RoleDomainOwner || st.process(subject) == nil):
		return "domain"
	case st.process(subject) != nil:
		return "process"
	}
	return ""
}

// checkAssignment checks an assignment's fields: a known subject, a role known there, one
// holder, and the owner roles' rules.
func (st *state) checkAssignment(a *RoleAssignment) []errs.FieldError {
	var f []errs.FieldError
	a.Subject, a.Role = strings.TrimSpace(a.Subject), strings.TrimSpace(a.Role)
	kind := st.subjectKind(a.Subject, a.Role)
	if kind == "" {
		f = append(f, errs.FieldError{Location: "body.subject", Message: "unknown subject: a process code, a domain code or * (everywhere)", Value: a.Subject})
	}
	pv := st.process(a.Subject)
	if kind != "process" {
		pv = nil
	}
	if !st.roleKnown(pv, a.Role) {
		where := "the catalogue"
		if pv != nil {
			where += " or of " + a.Subject
		}
		f = append(f, errs.FieldError{Location: "body.role", Message: "unknown role: " + a.Role + " is not a role of " + where, Value: a.Role})
	}
	switch a.Role {
	case RoleProcessOwner:
		if kind != "process" && kind != "" {
			f = append(f, errs.FieldError{Location: "body.subject", Message: "a process owner owns one process: give a process code", Value: a.Subject})
		}
	case RoleDomainOwner:
		if kind != "domain" && kind != "" {
			f = append(f, errs.FieldError{Location: "body.subject", Message: "a domain owner owns one domain: give a domain code", Value: a.Subject})
		}
	}
	if (a.Role == RoleProcessOwner || a.Role == RoleDomainOwner) && !a.Scope.IsZero() {
		f = append(f, errs.FieldError{Location: "body.scope", Message: "an owner's role cannot be scoped to a team or a service"})
	}
	if (a.UserID == 0) == (a.TeamID == 0) {
		f = append(f, errs.FieldError{Location: "body.userId", Message: "give either a user or a team"})
	}
	if a.UserID < 0 || a.TeamID < 0 || a.Scope.TeamID < 0 || a.Scope.ServiceID < 0 {
		f = append(f, errs.FieldError{Location: "body", Message: "ids are positive"})
	}
	return f
}

// mayAssign allows administrators any assignment; a process owner the roles (other than
// process owner) of their process; a domain owner the roles (other than domain owner) of
// their domain. Anyone else gets errs.Forbidden naming who may.
func (s *Service) mayAssign(ctx context.Context, st *state, p *auth.Principal, a RoleAssignment) error {
	if p == nil {
		return errs.E(errs.Unauthenticated, "sign in to assign roles")
	}
	if p.Admin {
		return nil
	}
	kind := st.subjectKind(a.Subject, a.Role)
	switch {
	case a.Role == RoleProcessOwner:
		return errs.E(errs.Forbidden, "only an administrator assigns process owners")
	case a.Role == RoleDomainOwner:
		return errs.E(errs.Forbidden, "only an administrator assigns domain owners")
	case kind == "everywhere":
		return errs.E(errs.Forbidden, "only an administrator assigns roles everywhere (*)")
	}
	mine, err := s.heldBy(ctx, p.UserID)
	if err != nil {
		return err
	}
	for _, h := range mine {
		if kind == "process" && h.Role == RoleProcessOwner && applies(h.Subject, st.process(a.Subject).proc) {
			return nil
		}
		if kind == "domain" && h.Role == RoleDomainOwner && h.Subject == a.Subject {
			return nil
		}
	}
	if kind == "domain" {
		return errs.E(errs.Forbidden, "only the domain owner of %s or an administrator may assign its roles", a.Subject)
	}
	pv := st.process(a.Subject)
	return errs.E(errs.Forbidden, "only the process owner of %s (%s) or an administrator may assign its roles", a.Subject, pv.proc.Name)
}

// Assign puts a user or a team in a role for a process, a domain or everywhere (*),
// optionally scoped. A process has one process owner and a domain one domain owner
// (a second is errs.Conflict); only administrators assign them, and roles everywhere; a
// process owner assigns the other roles of their process, a domain owner those of their
// domain. It returns the assignment.
func (s *Service) Assign(ctx context.Context, p *auth.Principal, a RoleAssignment) (out RoleAssignment, err error) {
	defer errs.Wrap(&err, "assign role %q for %q", a.Role, a.Subject)
	st, err := s.state(ctx)
	if err != nil {
		return out, err
	}
	if err := errs.WithFields(st.checkAssignment(&a)); err != nil {
		return out, err
	}
	if err := s.mayAssign(ctx, st, p, a); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var users, teams, scopeTeams int64
		if err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE id = ?), (SELECT COUNT(*) FROM teams WHERE id = ?),
			(SELECT COUNT(*) FROM teams WHERE id = ?)`, a.UserID, a.TeamID, a.Scope.TeamID).Scan(&users, &teams, &scopeTeams); err != nil {
			return fmt.Errorf("check holder: %w", err)
		}
		var f []errs.FieldError
		if a.UserID != 0 && users == 0 {
			f = append(f, errs.FieldError{Location: "body.userId", Message: "no such user", Value: a.UserID})
		}
		if a.TeamID != 0 && teams == 0 {
			f = append(f, errs.FieldError{Location: "body.teamId", Message: "no such team", Value: a.TeamID})
		}
		if a.Scope.TeamID != 0 && scopeTeams == 0 {
			f = append(f, errs.FieldError{Location: "body.scope.teamId", Message: "no such team", Value: a.Scope.TeamID})
		}
		if err := errs.WithFields(f); err != nil {
			return err
		}
		if a.Role == RoleProcessOwner || a.Role == RoleDomainOwner {
			cur, err := listAssignments(ctx, tx, RoleAssignmentFilter{Subject: a.Subject, Role: a.Role})
			if err != nil {
				return err
			}
			if len(cur) > 0 {
				return errs.E(errs.Conflict, "%s already has a %s (%s); unassign them first", a.Subject, strings.ReplaceAll(a.Role, "-", " "), holderName(cur[0]))
			}
		}
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO raci_assignments (subject, role, user_id, team_id, scope_team_id, scope_service_id, assigned_by, assigned_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, a.Subject, a.Role, db.NullID(a.UserID), db.NullID(a.TeamID), db.NullID(a.Scope.TeamID),
			a.Scope.ServiceID, p.UserID, s.clock.Now().UnixMilli()).Scan(&id)
		if db.IsUniqueViolation(err) {
			if a.Role == RoleProcessOwner || a.Role == RoleDomainOwner {
				return errs.E(errs.Conflict, "%s already has a %s; unassign them first", a.Subject, strings.ReplaceAll(a.Role, "-", " "))
			}
			return errs.E(errs.Conflict, "%s already holds %s for %s in this scope", holderName(a), a.Role, a.Subject)
		}
		if err != nil {
			return fmt.Errorf("insert assignment: %w", err)
		}
		if out, err = getAssignment(ctx, tx, id); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "process-role.assign", ObjectType: "process-role", ObjectID: a.Subject + "/" + a.Role,
			Changes: assignmentChanges(out, false)})
		tx.OnCommit(func() { s.forgetHolders(ctx) })
		return s.events.Emit(ctx, tx, outbox.Event{Type: "process-role.assigned", Subject: "process-role/" + a.Subject + "/" + a.Role, Data: out})
	})
	return out, err
}

// holderName names an assignment's holder for people.
func holderName(a RoleAssignment) string {
	if a.TeamID != 0 {
		return "team " + a.TeamName
	}
	return a.Username
}

// assignmentChanges describes an assignment for the audit trail, as new or (removed) old values.
func assignmentChanges(a RoleAssignment, removed bool) []audit.Change {
	vals := []struct {
		f string
		v any
	}{{"id", a.ID}, {"subject", a.Subject}, {"role", a.Role}, {"userId", a.UserID}, {"username", a.Username},
		{"teamId", a.TeamID}, {"teamName", a.TeamName}, {"scopeTeamId", a.Scope.TeamID}, {"scopeServiceId", a.Scope.ServiceID}}
	var out []audit.Change
	for _, x := range vals {
		if x.v == int64(0) || x.v == "" {
			continue
		}
		if removed {
			out = append(out, audit.Change{Field: x.f, Old: x.v})
		} else {
			out = append(out, audit.Change{Field: x.f, New: x.v})
		}
	}
	return out
}

// forgetHolders drops the request's cached assignments after an assignment changed.
func (s *Service) forgetHolders(ctx context.Context) {
	if m := memoFrom(ctx); m != nil {
		m.mu.Lock()
		m.held = map[int64][]held{}
		m.holders = map[string][]holderRow{}
		m.mu.Unlock()
	}
}

// Unassign removes an assignment; the same people may remove it as may make it.
func (s *Service) Unassign(ctx context.Context, p *auth.Principal, id int64) (err error) {
	defer errs.Wrap(&err, "remove role assignment %d", id)
	st, err := s.state(ctx)
	if err != nil {
		return err
	}
	a, err := getAssignment(ctx, s.read, id)
	if err != nil {
		return err
	}
	if err := s.mayAssign(ctx, st, p, a); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM raci_assignments WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete assignment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no role assignment with id %d", id)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "process-role.unassign", ObjectType: "process-role", ObjectID: a.Subject + "/" + a.Role,
			Changes: assignmentChanges(a, true)})
		tx.OnCommit(func() { s.forgetHolders(ctx) })
		return s.events.Emit(ctx, tx, outbox.Event{Type: "process-role.unassigned", Subject: "process-role/" + a.Subject + "/" + a.Role, Data: a})
	})
}

// Assignments lists the assignments matching f.
func (s *Service) Assignments(ctx context.Context, f RoleAssignmentFilter) ([]RoleAssignment, error) {
	return listAssignments(ctx, s.read, f)
}

// Responsibilities is the "who does what" of a user: every role they hold, directly or
// through their teams, with the activities of each process it covers where it is R, A, C or I.
func (s *Service) Responsibilities(ctx context.Context, userID int64) ([]Responsibility, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	var n int64
	if err := s.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, userID).Scan(&n); err != nil {
		return nil, fmt.Errorf("responsibilities of user %d: %w", userID, err)
	}
	if n == 0 {
		return nil, errs.E(errs.NotFound, "no user with id %d", userID)
	}
	mine, err := loadHeld(ctx, s.read, userID)
	if err != nil {
		return nil, err
	}
	return st.responsibilities(mine), nil
}

// RoleHolder is a user holding a role, with the assignment that gives it.
type RoleHolder struct {
	Holder
	// AssignmentID identifies the assignment.
	AssignmentID int64 `json:"assignmentId"`
	// Subject is the assignment's process, domain or "*".
	Subject string `json:"subject"`
	// Scope is the assignment's scope.
	Scope Scope `json:"scope"`
}

// RoleHolders is the reverse view: the enabled users who hold a role (teams expanded), for a
// process (counting assignments to its domain, its parent process and everywhere), or for
// every subject when process is "".
func (s *Service) RoleHolders(ctx context.Context, process, role string) ([]RoleHolder, error) {
	st, err := s.state(ctx)
	if err != nil {
		return nil, err
	}
	var subjects []string
	var pv *procView
	if process != "" {
		if pv = st.process(process); pv == nil {
			return nil, errs.E(errs.NotFound, "no process with code %q", process)
		}
		subjects = subjectsOf(pv.proc)
	}
	_, local := st.localRoles[role]
	if (!local && st.model.Role(role) == nil) || (pv != nil && !st.roleKnown(pv, role)) {
		return nil, errs.Field("path.code", "unknown role: "+role, role)
	}
	rows, err := loadHolders(ctx, s.read, subjects, []string{role})
	if err != nil {
		return nil, err
	}
	out := make([]RoleHolder, 0, len(rows))
	for _, r := range rows {
		out = append(out, RoleHolder{Holder: Holder{UserID: r.userID, Username: r.username, Role: role, Via: r.via},
			AssignmentID: r.ID, Subject: r.Subject, Scope: r.Scope})
	}
	return out, nil
}
