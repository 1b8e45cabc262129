package auth

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
)

// TeamList describes how teams are listed, sorted and filtered.
var TeamList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "id", Sortable: true, Kind: "int"},
		"name":      {SQL: "name", Sortable: true, Kind: "text"},
		"email":     {SQL: "email", Kind: "text"},
		"createdAt": {SQL: "created_at", Sortable: true, Kind: "int"},
		"updatedAt": {SQL: "updated_at", Sortable: true, Kind: "int"},
	},
	Fields:      []string{"id", "name", "description", "email", "members", "createdAt", "updatedAt", "version"},
	DefaultSort: "name",
	IDColumn:    "id",
}

const teamCols = `id, name, description, email, created_at, updated_at, version`

func scanTeam(row interface{ Scan(...any) error }) (Team, error) {
	var t Team
	var c, u int64
	err := row.Scan(&t.ID, &t.Name, &t.Description, &t.Email, &c, &u, &t.Version)
	t.CreatedAt, t.UpdatedAt = db.Time(c), db.Time(u)
	return t, err
}

// CreateTeam creates an assignment group.
func (s *Service) CreateTeam(ctx context.Context, t Team) (out Team, err error) {
	defer errs.Wrap(&err, "create team")
	if err := t.Validate(); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		var e error
		out, e = scanTeam(tx.QueryRowContext(ctx, `INSERT INTO teams (name, description, email, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING `+teamCols, t.Name, t.Description, t.Email, now, now))
		if db.IsUniqueViolation(e) {
			return errs.E(errs.Conflict, "a team named %q exists", t.Name)
		}
		if e != nil {
			return e
		}
		id := idStr(out.ID)
		s.trail.Record(ctx, tx, audit.Entry{Action: "team.create", ObjectType: "team", ObjectID: id,
			Changes: []audit.Change{{Field: "name", New: out.Name}, {Field: "description", New: out.Description}, {Field: "email", New: out.Email}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "team.created", Subject: "team/" + id, Data: out})
	})
	return out, err
}

// GetTeam returns a team with its member ids.
func (s *Service) GetTeam(ctx context.Context, id int64) (Team, error) {
	t, err := scanTeam(s.db.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return t, errs.E(errs.NotFound, "no team with id %d", id)
	}
	if err != nil {
		return t, fmt.Errorf("get team %d: %w", id, err)
	}
	t.Members, err = s.teamMembers(ctx, s.db, id)
	return t, err
}

func (s *Service) teamMembers(ctx context.Context, q db.Queryer, id int64) ([]int64, error) {
	rows, err := q.QueryContext(ctx, `SELECT user_id FROM team_members WHERE team_id = ? ORDER BY user_id`, id)
	if err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var u int64
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// teamSource reads teams for lists.
var teamSource = listing.Source[Team]{
	Spec: TeamList, From: "teams", Columns: teamCols,
	Scan: func(r listing.Scanner) (Team, error) { return scanTeam(r) },
	Key: func(t Team, field string) any {
		switch field {
		case "name":
			return t.Name
		case "createdAt":
			return t.CreatedAt.UnixMilli()
		case "updatedAt":
			return t.UpdatedAt.UnixMilli()
		}
		return t.ID
	},
	ID: func(t Team) int64 { return t.ID },
}

// ListTeams returns one page of teams and the total count of matches.
func (s *Service) ListTeams(ctx context.Context, p listing.Params, filters []listing.Filter) (page listing.Page[Team], total int64, err error) {
	defer errs.Wrap(&err, "list teams")
	return listing.Fetch(ctx, s.db, teamSource, p, filters)
}

// TeamUpdate holds the team fields to change; nil leaves a field as it is.
type TeamUpdate struct {
	Name        *string
	Description *string
	Email       *string
	// Members, when not nil, replaces the member list.
	Members *[]int64
}

// UpdateTeam changes a team if version is still current.
func (s *Service) UpdateTeam(ctx context.Context, id, version int64, in TeamUpdate) (out Team, err error) {
	defer errs.Wrap(&err, "update team %d", id)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := scanTeam(tx.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams WHERE id = ?`, id))
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "no team with id %d", id)
		}
		if err != nil {
			return err
		}
		if old.Version != version {
			return errs.E(errs.PreconditionFailed, "team %d changed since version %d (now %d)", id, version, old.Version)
		}
		if old.Members, err = s.teamMembers(ctx, tx, id); err != nil {
			return err
		}
		t := old
		if in.Name != nil {
			t.Name = *in.Name
		}
		if in.Description != nil {
			t.Description = *in.Description
		}
		if in.Email != nil {
			t.Email = *in.Email
		}
		if err := t.Validate(); err != nil {
			return err
		}
		now := s.now()
		out, err = scanTeam(tx.QueryRowContext(ctx, `UPDATE teams SET name = ?, description = ?, email = ?, updated_at = ?,
			version = version + 1 WHERE id = ? AND version = ? RETURNING `+teamCols, t.Name, t.Description, t.Email, now, id, version))
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a team named %q exists", t.Name)
		}
		if db.IsNoRows(err) {
			return errs.E(errs.PreconditionFailed, "team %d changed concurrently", id)
		}
		if err != nil {
			return err
		}
		out.Members = old.Members
		if in.Members != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE team_id = ?`, id); err != nil {
				return err
			}
			for i, u := range *in.Members {
				// Indexes in errors are those of the caller's list; duplicates are ignored.
				if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, id, u); err != nil {
					if db.IsForeignKeyViolation(err) {
						return errs.Field("body.members["+strconv.Itoa(i)+"]", "no such user", u)
					}
					return err
				}
			}
			members := slices.Clone(*in.Members)
			slices.Sort(members)
			out.Members = slices.Compact(members)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "team.update", ObjectType: "team", ObjectID: idStr(id),
			Changes: audit.Diff([]string{"name", "description", "email", "members"},
				map[string]any{"name": old.Name, "description": old.Description, "email": old.Email, "members": old.Members},
				map[string]any{"name": out.Name, "description": out.Description, "email": out.Email, "members": out.Members})})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "team.updated", Subject: "team/" + idStr(id), Data: out})
	})
	return out, err
}

// DeleteTeam removes a team if version is still current.
func (s *Service) DeleteTeam(ctx context.Context, id, version int64) (err error) {
	defer errs.Wrap(&err, "delete team %d", id)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := scanTeam(tx.QueryRowContext(ctx, `SELECT `+teamCols+` FROM teams WHERE id = ?`, id))
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "no team with id %d", id)
		}
		if err != nil {
			return err
		}
		if old.Version != version {
			return errs.E(errs.PreconditionFailed, "team %d changed since version %d (now %d)", id, version, old.Version)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM teams WHERE id = ? AND version = ?`, id, version); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "team.delete", ObjectType: "team", ObjectID: idStr(id),
			Changes: []audit.Change{{Field: "name", Old: old.Name}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "team.deleted", Subject: "team/" + idStr(id), Data: map[string]any{"id": id}})
	})
}

// ---- roles ----

const roleCols = `id, name, description, permissions, created_at, updated_at, version`

func scanRole(row interface{ Scan(...any) error }) (Role, error) {
	var r Role
	var perms string
	var c, u int64
	err := row.Scan(&r.ID, &r.Name, &r.Description, &perms, &c, &u, &r.Version)
	r.Permissions, r.CreatedAt, r.UpdatedAt = splitPerms(perms), db.Time(c), db.Time(u)
	return r, err
}

// EnsureDefaultRoles creates the built-in roles when they are missing. It is idempotent.
func (s *Service) EnsureDefaultRoles(ctx context.Context) error {
	defaults := []Role{
		{Name: "Agent", Description: "Service desk and support staff: read users and teams.", Permissions: []Permission{PermUsersRead, PermTeamsRead, PermRolesRead}},
		{Name: "Team manager", Description: "Manages assignment groups and their members.", Permissions: []Permission{PermUsersRead, PermTeamsRead, PermTeamsWrite, PermRolesRead}},
		{Name: "Auditor", Description: "Reads the audit trail and the account registry.", Permissions: []Permission{PermAuditRead, PermUsersRead, PermTeamsRead, PermRolesRead}},
		{Name: "Integrator", Description: "Manages outbound webhooks.", Permissions: []Permission{PermWebhooks, PermTeamsRead, PermUsersRead}},
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		for _, r := range defaults {
			var id int64
			err := tx.QueryRowContext(ctx, `INSERT INTO roles (name, description, permissions, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`, r.Name, r.Description, joinPerms(r.Permissions), now, now).Scan(&id)
			if db.IsNoRows(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("create role %q: %w", r.Name, err)
			}
			s.trail.Record(ctx, tx, audit.Entry{Action: "role.create", ObjectType: "role", ObjectID: idStr(id),
				Changes: []audit.Change{{Field: "name", New: r.Name}, {Field: "permissions", New: joinPerms(r.Permissions)}}})
		}
		return nil
	})
}

// Roles lists every role by name.
func (s *Service) Roles(ctx context.Context) ([]Role, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+roleCols+` FROM roles ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	out := []Role{}
	for rows.Next() {
		r, err := scanRole(rows)
		if err != nil {
			return nil, fmt.Errorf("scan role: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// CreateRole creates a role.
func (s *Service) CreateRole(ctx context.Context, r Role) (out Role, err error) {
	defer errs.Wrap(&err, "create role")
	if err := r.Validate(); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		var e error
		out, e = scanRole(tx.QueryRowContext(ctx, `INSERT INTO roles (name, description, permissions, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?) RETURNING `+roleCols, r.Name, r.Description, joinPerms(r.Permissions), now, now))
		if db.IsUniqueViolation(e) {
			return errs.E(errs.Conflict, "a role named %q exists", r.Name)
		}
		if e != nil {
			return e
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "role.create", ObjectType: "role", ObjectID: idStr(out.ID),
			Changes: []audit.Change{{Field: "name", New: out.Name}, {Field: "permissions", New: joinPerms(out.Permissions)}}})
		return nil
	})
	return out, err
}

// GrantRole gives a user a role.
func (s *Service) GrantRole(ctx context.Context, userID, roleID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, userID, roleID)
		if db.IsForeignKeyViolation(err) {
			return errs.E(errs.Invalid, "no such user or role")
		}
		if err != nil {
			return fmt.Errorf("grant role: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already held: nothing changed, nothing to audit
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "role.grant", ObjectType: "user", ObjectID: idStr(userID),
			Changes: []audit.Change{{Field: "role", New: roleID}}})
		return nil
	})
}

// RevokeRole takes a role from a user.
func (s *Service) RevokeRole(ctx context.Context, userID, roleID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = ? AND role_id = ?`, userID, roleID)
		if err != nil {
			return fmt.Errorf("revoke role: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "user %d does not hold role %d", userID, roleID)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "role.revoke", ObjectType: "user", ObjectID: idStr(userID),
			Changes: []audit.Change{{Field: "role", Old: roleID}}})
		return nil
	})
}

// UserRoles lists the ids of the roles a user holds.
func (s *Service) UserRoles(ctx context.Context, userID int64) ([]int64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT role_id FROM user_roles WHERE user_id = ? ORDER BY role_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("user roles: %w", err)
	}
	defer rows.Close()
	out := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// UserList describes how users are listed.
var UserList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "id", Sortable: true, Kind: "int"},
		"username":  {SQL: "username", Sortable: true, Kind: "text"},
		"email":     {SQL: "email", Kind: "text"},
		"managerId": {SQL: "manager_id", Kind: "int"},
	},
	Fields:      []string{"id", "username", "displayName", "email", "admin", "disabled", "mustChangePassword", "managerId", "lockedUntil", "lastLoginAt", "createdAt", "updatedAt", "version"},
	DefaultSort: "username",
	IDColumn:    "id",
}

// userSource reads users for lists.
var userSource = listing.Source[User]{
	Spec: UserList, From: "users", Columns: userCols,
	Scan: func(r listing.Scanner) (User, error) { return scanUser(r) },
	Key: func(u User, field string) any {
		if field == "username" {
			return u.Username
		}
		return u.ID
	},
	ID: func(u User) int64 { return u.ID },
}

// ListUsers returns one page of users and the total count of matches.
func (s *Service) ListUsers(ctx context.Context, p listing.Params, filters []listing.Filter) (page listing.Page[User], total int64, err error) {
	defer errs.Wrap(&err, "list users")
	return listing.Fetch(ctx, s.db, userSource, p, filters)
}
