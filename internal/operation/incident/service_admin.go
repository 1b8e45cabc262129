package incident

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// Settings returns the settings of incident management; version 0 means the defaults, never saved.
func (s *Service) Settings(ctx context.Context) (IncidentSettings, error) {
	st, err := loadSettings(ctx, s.db)
	if err != nil {
		return st, fmt.Errorf("read incident settings: %w", err)
	}
	return st, nil
}

// SaveSettings replaces the settings (IM1) if they are still at version
// (0: never saved). Every security category must be a category of the taxonomy.
func (s *Service) SaveSettings(ctx context.Context, version int64, in IncidentSettings) (out IncidentSettings, err error) {
	defer errs.Wrap(&err, "save incident settings")
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	normalizeSettings(&in)
	if err := ValidateSettings(in); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActEstablish, "change", "incident-settings/1", raci.Scope{}); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cats, err := listCategories(ctx, tx, new(string), false)
		if err != nil {
			return err
		}
		var f fieldErrs
		for i, k := range in.SecurityCategories {
			if !slices.ContainsFunc(cats, func(c IncidentCategory) bool { return c.Key == k }) {
				f.add(fmt.Sprintf("body.securityCategories[%d]", i), "no such category in the taxonomy", k)
			}
		}
		if err := f.err(); err != nil {
			return err
		}
		old, err := loadSettings(ctx, tx)
		if err != nil {
			return err
		}
		if old.Version != version {
			return errs.E(errs.PreconditionFailed, "the incident settings changed since version %d (now %d); read them again", version, old.Version)
		}
		v, err := storeSettings(ctx, tx, in, version, p.UserID, s.now())
		if err != nil {
			return err
		}
		out = in
		out.Version, out.UpdatedAt = v, s.clock.Now()
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.settings.update", ObjectType: "incident_settings", ObjectID: "1",
			Changes: audit.Diff([]string{"matrix", "resolutionCodes", "autoCloseDays", "reopenDays", "majorPriority",
				"securityCategories", "securityRoles"}, settingsFields(old), settingsFields(out))})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.settings_changed", Subject: "incident_settings/1", Data: out})
	})
	return out, err
}

func settingsFields(s IncidentSettings) map[string]any {
	return map[string]any{"matrix": s.Matrix, "resolutionCodes": s.ResolutionCodes, "autoCloseDays": s.AutoCloseDays,
		"reopenDays": s.ReopenDays, "majorPriority": s.MajorPriority, "securityCategories": s.SecurityCategories,
		"securityRoles": s.SecurityRoles}
}

// Categories lists the taxonomy: each category followed by its subcategories,
// by position. parent narrows it to one category's subcategories ("" for the
// categories alone); activeOnly leaves out retired entries.
func (s *Service) Categories(ctx context.Context, parent *string, activeOnly bool) (out []IncidentCategory, err error) {
	defer errs.Wrap(&err, "list incident categories")
	if _, err := principal(ctx); err != nil {
		return nil, err
	}
	if parent != nil && *parent != "" && !ValidKey(*parent) {
		return nil, errs.Field("query.parent", "not a category key", *parent)
	}
	return listCategories(ctx, s.db, parent, activeOnly)
}

// Category returns one entry of the taxonomy.
func (s *Service) Category(ctx context.Context, id int64) (IncidentCategory, error) {
	if _, err := principal(ctx); err != nil {
		return IncidentCategory{}, err
	}
	return loadCategory(ctx, s.db, id, "")
}

// mayEstablish asks the guard whether the caller may change the taxonomy (IM1).
func (s *Service) mayEstablish(ctx context.Context, verb, object string) error {
	_, err := s.records.Authorize(ctx, Process, ActEstablish, verb, object, raci.Scope{})
	return err
}

// AddCategory adds a category (Parent "") or a subcategory of an existing category (IM1).
func (s *Service) AddCategory(ctx context.Context, c IncidentCategory) (out IncidentCategory, err error) {
	defer errs.Wrap(&err, "add incident category %s", c.Key)
	if _, err := principal(ctx); err != nil {
		return out, err
	}
	if err := validateCategory(&c); err != nil {
		return out, err
	}
	if err := s.mayEstablish(ctx, "add to", "incident-category/"+c.Key); err != nil {
		return out, err
	}
	c.Active = true
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if c.Parent != "" {
			parent := ""
			cats, err := listCategories(ctx, tx, &parent, false)
			if err != nil {
				return err
			}
			if !slices.ContainsFunc(cats, func(x IncidentCategory) bool { return x.Key == c.Parent }) {
				return errs.Field("body.parent", "no such category", c.Parent)
			}
		}
		if out, err = insertCategory(ctx, tx, c, s.now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.category.create", ObjectType: "incident_category",
			ObjectID: strconv.FormatInt(out.ID, 10), Changes: audit.Diff(categoryAudited, map[string]any{}, categoryFields(out))})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.category_created", Subject: "incident_category/" + strconv.FormatInt(out.ID, 10), Data: out})
	})
	return out, err
}

var categoryAudited = []string{"key", "parent", "label", "description", "active", "position"}

func categoryFields(c IncidentCategory) map[string]any {
	return map[string]any{"key": c.Key, "parent": c.Parent, "label": c.Label, "description": c.Description, "active": c.Active,
		"position": c.Position}
}

// UpdateCategory changes a taxonomy entry's label, description, position or
// whether it can be picked (IM1); its key never changes.
func (s *Service) UpdateCategory(ctx context.Context, id, version int64, c IncidentCategoryChange) (out IncidentCategory, err error) {
	defer errs.Wrap(&err, "update incident category %d", id)
	if _, err := principal(ctx); err != nil {
		return out, err
	}
	if err := validateCategoryChange(c); err != nil {
		return out, err
	}
	if err := s.mayEstablish(ctx, "change", "incident-category/"+strconv.FormatInt(id, 10)); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadCategory(ctx, tx, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		if version != cur.Version {
			return errs.E(errs.PreconditionFailed, "category %d changed since version %d (now %d); read it again", id, version, cur.Version)
		}
		n := cur
		if c.Label != nil {
			n.Label = strings.TrimSpace(*c.Label)
		}
		if c.Description != nil {
			n.Description = *c.Description
		}
		if c.Active != nil {
			n.Active = *c.Active
		}
		if c.Position != nil {
			n.Position = *c.Position
		}
		changes := audit.Diff(categoryAudited, categoryFields(cur), categoryFields(n))
		if len(changes) == 0 {
			out = cur
			return nil
		}
		if out, err = saveCategory(ctx, tx, n, s.now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.category.update", ObjectType: "incident_category",
			ObjectID: strconv.FormatInt(id, 10), Changes: changes})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.category_updated", Subject: "incident_category/" + strconv.FormatInt(id, 10), Data: out})
	})
	return out, err
}

// DeleteCategory removes a taxonomy entry no incident and no subcategory
// uses (IM1); one in use is a Conflict: retire it (active false) instead.
func (s *Service) DeleteCategory(ctx context.Context, id int64) (err error) {
	defer errs.Wrap(&err, "delete incident category %d", id)
	if _, err := principal(ctx); err != nil {
		return err
	}
	if err := s.mayEstablish(ctx, "delete", "incident-category/"+strconv.FormatInt(id, 10)); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadCategory(ctx, tx, id, s.db.ForUpdate())
		if err != nil {
			return err
		}
		n, err := categoryUse(ctx, tx, cur)
		if err != nil {
			return err
		}
		if n > 0 {
			return errs.E(errs.Conflict, "category %s is used by %d incidents or subcategories; retire it (active: false) instead", cur.Key, n)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM incident_categories WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete category: %w", err)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.category.delete", ObjectType: "incident_category",
			ObjectID: strconv.FormatInt(id, 10), Changes: audit.Diff(categoryAudited, categoryFields(cur), map[string]any{})})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.category_deleted", Subject: "incident_category/" + strconv.FormatInt(id, 10), Data: cur})
	})
}
