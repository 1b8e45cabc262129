package auth

import (
	"context"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// RoleUpdate holds the role fields to change; nil leaves a field as it is.
type RoleUpdate struct {
	Name        *string
	Description *string
	Permissions *[]Permission
}

// UpdateRole changes a role if version is still current. The holders' permissions change with it.
func (s *Service) UpdateRole(ctx context.Context, id, version int64, in RoleUpdate) (out Role, err error) {
	defer errs.Wrap(&err, "update role %d", id)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := scanRole(tx.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles WHERE id = ?`, id))
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "no role with id %d", id)
		}
		if err != nil {
			return err
		}
		if old.Version != version {
			return errs.E(errs.PreconditionFailed, "role %d changed since version %d (now %d)", id, version, old.Version)
		}
		r := old
		if in.Name != nil {
			r.Name = *in.Name
		}
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.Permissions != nil {
			r.Permissions = *in.Permissions
		}
		if err := r.Validate(); err != nil {
			return err
		}
		out, err = scanRole(tx.QueryRowContext(ctx, `UPDATE roles SET name = ?, description = ?, permissions = ?, updated_at = ?,
			version = version + 1 WHERE id = ? AND version = ? RETURNING `+roleCols, r.Name, r.Description, joinPerms(r.Permissions), s.now(), id, version))
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a role named %q exists", r.Name)
		}
		if db.IsNoRows(err) {
			return errs.E(errs.PreconditionFailed, "role %d changed concurrently", id)
		}
		if err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "role.update", ObjectType: "role", ObjectID: idStr(id),
			Changes: audit.Diff([]string{"name", "description", "permissions"},
				map[string]any{"name": old.Name, "description": old.Description, "permissions": joinPerms(old.Permissions)},
				map[string]any{"name": out.Name, "description": out.Description, "permissions": joinPerms(out.Permissions)})})
		return nil
	})
	return out, err
}

// DeleteRole removes a role (and takes it from its holders) if version is still current.
func (s *Service) DeleteRole(ctx context.Context, id, version int64) (err error) {
	defer errs.Wrap(&err, "delete role %d", id)
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := scanRole(tx.QueryRowContext(ctx, `SELECT `+roleCols+` FROM roles WHERE id = ?`, id))
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "no role with id %d", id)
		}
		if err != nil {
			return err
		}
		if old.Version != version {
			return errs.E(errs.PreconditionFailed, "role %d changed since version %d (now %d)", id, version, old.Version)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM roles WHERE id = ?`, id); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "role.delete", ObjectType: "role", ObjectID: idStr(id),
			Changes: []audit.Change{{Field: "name", Old: old.Name}, {Field: "permissions", Old: joinPerms(old.Permissions)}}})
		return nil
	})
}
