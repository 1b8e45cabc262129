package raci

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/outbox"
)

// The roles a CMDB service names as its owner and manager (DESMF §7.3 and §7.4).
const (
	RoleServiceOwner   = "service-owner"
	RoleServiceManager = "service-manager"
)

// ServiceHolder is who holds a service role for one service.
type ServiceHolder struct {
	ServiceID int64  `json:"serviceId"`
	Role      string `json:"role"`
	UserID    int64  `json:"userId"`
	Username  string `json:"username"`
}

// SetServiceHolder makes userID the one holder of role (RoleServiceOwner or
// RoleServiceManager) for service, everywhere in the framework (subject "*"),
// inside the caller's transaction, so that a service and its owner commit
// together; 0 removes the holder. The caller has decided that p may do it. It
// reports whether anything changed.
func (s *Service) SetServiceHolder(ctx context.Context, tx *db.Tx, p *auth.Principal, role string, service, userID int64) (bool, error) {
	if role != RoleServiceOwner && role != RoleServiceManager {
		return false, fmt.Errorf("set service holder: %q is not a service role", role)
	}
	var cur []RoleAssignment
	rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(user_id, 0) FROM raci_assignments
		WHERE subject = '*' AND role = ? AND scope_service_id = ? AND scope_team_id IS NULL AND team_id IS NULL`, role, service)
	if err != nil {
		return false, fmt.Errorf("read %s of service %d: %w", role, service, err)
	}
	for rows.Next() {
		var a RoleAssignment
		if err := rows.Scan(&a.ID, &a.UserID); err != nil {
			rows.Close()
			return false, err
		}
		cur = append(cur, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	if len(cur) == 1 && cur[0].UserID == userID || len(cur) == 0 && userID == 0 {
		return false, nil
	}
	var by int64
	if p != nil {
		by = p.UserID
	}
	var old, neu any
	for _, a := range cur {
		old = a.UserID
		if _, err := tx.ExecContext(ctx, `DELETE FROM raci_assignments WHERE id = ?`, a.ID); err != nil {
			return false, fmt.Errorf("remove %s of service %d: %w", role, service, err)
		}
	}
	if userID != 0 {
		neu = userID
		if _, err := tx.ExecContext(ctx, `INSERT INTO raci_assignments (subject, role, user_id, team_id, scope_team_id, scope_service_id, assigned_by, assigned_at)
			VALUES ('*', ?, ?, NULL, NULL, ?, ?, ?)`, role, userID, service, by, s.clock.Now().UnixMilli()); err != nil {
			return false, fmt.Errorf("assign %s of service %d: %w", role, service, err)
		}
	}
	object := fmt.Sprintf("*/%s/service/%d", role, service)
	s.trail.Record(ctx, tx, audit.Entry{Action: "process-role.service-holder", ObjectType: "process-role", ObjectID: object,
		Changes: []audit.Change{{Field: "userId", Old: old, New: neu}}})
	tx.OnCommit(func() { s.forgetHolders(ctx) })
	return true, s.events.Emit(ctx, tx, outbox.Event{Type: "process-role.service-holder", Subject: "process-role/" + strings.TrimPrefix(object, "*/"),
		Data: ServiceHolder{ServiceID: service, Role: role, UserID: userID}})
}

// ServiceHolders lists the owners and managers of the given services.
func (s *Service) ServiceHolders(ctx context.Context, q db.Queryer, services []int64) ([]ServiceHolder, error) {
	if len(services) == 0 {
		return nil, nil
	}
	var out []ServiceHolder
	for start := 0; start < len(services); start += 500 {
		chunk := services[start:min(start+500, len(services))]
		args := make([]any, 0, len(chunk)+2)
		args = append(args, RoleServiceOwner, RoleServiceManager)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := q.QueryContext(ctx, `SELECT a.scope_service_id, a.role, u.id, u.username FROM raci_assignments a JOIN users u ON u.id = a.user_id
			WHERE a.subject = '*' AND a.role IN (?, ?) AND a.scope_team_id IS NULL AND a.scope_service_id IN (?`+strings.Repeat(", ?", len(chunk)-1)+`)
			ORDER BY a.scope_service_id, a.role, u.id`, args...)
		if err != nil {
			return nil, fmt.Errorf("read service holders: %w", err)
		}
		for rows.Next() {
			var h ServiceHolder
			if err := rows.Scan(&h.ServiceID, &h.Role, &h.UserID, &h.Username); err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
