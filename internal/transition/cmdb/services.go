package cmdb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// Criticality is how much a service matters to the mission.
type Criticality string

// The criticalities, most critical first.
const (
	CriticalityCritical       Criticality = "mission_critical"
	CriticalityEssential      Criticality = "mission_essential"
	CriticalitySupport        Criticality = "mission_support"
	CriticalityAdministrative Criticality = "administrative"
)

// Criticalities lists them, most critical first.
var Criticalities = []Criticality{CriticalityCritical, CriticalityEssential, CriticalitySupport, CriticalityAdministrative}

// Person names a user briefly.
type Person struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// ServiceCI is a business or technical service: a CI with a kind, a
// criticality, its mission partners (customers), and its owner and manager,
// who hold the service-owner and service-manager roles scoped to it.
type ServiceCI struct {
	CI
	Kind        string      `json:"kind" enum:"business,technical"`
	Criticality Criticality `json:"criticality" enum:"mission_critical,mission_essential,mission_support,administrative"`
	Owner       *Person     `json:"owner,omitempty"`
	Manager     *Person     `json:"manager,omitempty"`
	Partners    []string    `json:"missionPartners"`
}

// NewService is what a service is created from.
type NewService struct {
	Name        string
	Kind        string
	Criticality Criticality
	Status      Status
	Marking     string
	Attrs       Attrs
	OwnerID     int64
	ManagerID   int64
	Partners    []string
}

// ServiceUpdate holds the service fields to change; nil leaves one as it is.
type ServiceUpdate struct {
	CIUpdate
	Criticality *Criticality
	OwnerID     *int64
	ManagerID   *int64
	Partners    *[]string
}

// checkPartners normalises mission partner names.
func checkPartners(field string, names []string) ([]string, error) {
	out := make([]string, 0, len(names))
	for _, n := range names {
		n = strings.Join(strings.Fields(n), " ")
		if c := utf8.RuneCountInString(n); c == 0 || c > 200 {
			return nil, errs.Field(field, "a mission partner's name has 1 to 200 characters", n)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	if len(out) > 500 {
		return nil, errs.Field(field, "at most 500 mission partners", len(out))
	}
	slices.Sort(out)
	return out, nil
}

func checkCriticality(c Criticality) error {
	if !slices.Contains(Criticalities, c) {
		return errs.Field("body.criticality", "criticality is mission_critical, mission_essential, mission_support or administrative", c)
	}
	return nil
}

// CreateService registers a service with its owner, manager and mission partners (CfM2).
func (s *Service) CreateService(ctx context.Context, in NewService) (out ServiceCI, err error) {
	defer errs.Wrap(&err, "create service")
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	class := map[string]string{"business": "business_service", "technical": "technical_service"}[in.Kind]
	if class == "" {
		return out, errs.Field("body.kind", "a service is business or technical", in.Kind)
	}
	if in.Criticality == "" {
		in.Criticality = CriticalitySupport
	}
	if err := checkCriticality(in.Criticality); err != nil {
		return out, err
	}
	partners, err := checkPartners("body.missionPartners", in.Partners)
	if err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActIdentify, "register a service in", "cmdb", raci.Scope{}); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := s.insertCI(ctx, tx, cat, NewCI{Class: class, Name: in.Name, Status: in.Status, Marking: in.Marking, Attrs: in.Attrs}, "body")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ci_services SET criticality = ? WHERE ci_id = ?`, in.Criticality, c.ID); err != nil {
			return err
		}
		if _, err := s.setServiceFields(ctx, tx, c.ID, &in.OwnerID, &in.ManagerID, &partners); err != nil {
			return err
		}
		out, err = s.service(ctx, tx, cat, c.ID)
		return err
	})
	return out, err
}

// setServiceFields writes owner, manager and partners (each when non-nil) and
// returns the audit changes.
func (s *Service) setServiceFields(ctx context.Context, tx *db.Tx, id int64, owner, manager *int64, partners *[]string) ([]audit.Change, error) {
	var changes []audit.Change
	var users []any
	var fe []errs.FieldError
	for _, u := range []struct {
		id    *int64
		field string
	}{{owner, "body.ownerId"}, {manager, "body.managerId"}} {
		if u.id == nil || *u.id == 0 {
			continue
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ? AND NOT disabled`, *u.id).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			fe = append(fe, errs.FieldError{Location: u.field, Message: "no enabled user with this id", Value: *u.id})
		}
		users = append(users, *u.id)
	}
	if err := errs.WithFields(fe); err != nil {
		return nil, err
	}
	p := auth.PrincipalFrom(ctx)
	for _, r := range []struct {
		id   *int64
		role string
	}{{owner, raci.RoleServiceOwner}, {manager, raci.RoleServiceManager}} {
		if r.id == nil {
			continue
		}
		changed, err := s.raci.SetServiceHolder(ctx, tx, p, r.role, id, *r.id)
		if err != nil {
			return nil, err
		}
		if changed {
			changes = append(changes, audit.Change{Field: r.role, New: *r.id})
		}
	}
	if partners != nil {
		var old []string
		rows, err := tx.QueryContext(ctx, `SELECT m.name FROM ci_service_partners sp JOIN mission_partners m ON m.id = sp.partner_id WHERE sp.service_id = ? ORDER BY m.name`, id)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, err
			}
			old = append(old, n)
		}
		rows.Close()
		if !slices.Equal(old, *partners) {
			if _, err := tx.ExecContext(ctx, `DELETE FROM ci_service_partners WHERE service_id = ?`, id); err != nil {
				return nil, err
			}
			for _, n := range *partners {
				if _, err := tx.ExecContext(ctx, `INSERT INTO mission_partners (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, n, s.now()); err != nil {
					return nil, fmt.Errorf("add mission partner: %w", err)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO ci_service_partners (service_id, partner_id) SELECT ?, id FROM mission_partners WHERE name = ?`, id, n); err != nil {
					return nil, fmt.Errorf("link mission partner: %w", err)
				}
			}
			changes = append(changes, audit.Change{Field: "missionPartners", Old: old, New: *partners})
		}
	}
	return changes, nil
}

// service reads one service.
func (s *Service) service(ctx context.Context, q db.Queryer, cat *catalog, id int64) (ServiceCI, error) {
	c, err := getCI(ctx, q, cat, id, "")
	if err != nil {
		return ServiceCI{}, err
	}
	out, err := s.decorate(ctx, q, []CI{c})
	if err != nil {
		return ServiceCI{}, err
	}
	if len(out) == 0 {
		return ServiceCI{}, errs.E(errs.NotFound, "CI %d is not a service", id)
	}
	return out[0], nil
}

// decorate adds the service fields to CIs that are services, dropping the others.
func (s *Service) decorate(ctx context.Context, q db.Queryer, cis []CI) ([]ServiceCI, error) {
	out := make([]ServiceCI, 0, len(cis))
	if len(cis) == 0 {
		return out, nil
	}
	ids := make([]int64, len(cis))
	for i, c := range cis {
		ids[i] = c.ID
	}
	type row struct{ kind, crit string }
	info := map[int64]row{}
	partners := map[int64][]string{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT ci_id, kind, criticality FROM ci_services WHERE ci_id IN (`+inList(len(chunk))+`)`, int64Args(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var r row
			if err := rows.Scan(&id, &r.kind, &r.crit); err != nil {
				rows.Close()
				return nil, err
			}
			info[id] = r
		}
		rows.Close()
		rows, err = q.QueryContext(ctx, `SELECT sp.service_id, m.name FROM ci_service_partners sp JOIN mission_partners m ON m.id = sp.partner_id
			WHERE sp.service_id IN (`+inList(len(chunk))+`) ORDER BY m.name`, int64Args(chunk)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var n string
			if err := rows.Scan(&id, &n); err != nil {
				rows.Close()
				return nil, err
			}
			partners[id] = append(partners[id], n)
		}
		rows.Close()
	}
	holders, err := s.raci.ServiceHolders(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for _, c := range cis {
		r, ok := info[c.ID]
		if !ok {
			continue
		}
		sc := ServiceCI{CI: c, Kind: r.kind, Criticality: Criticality(r.crit), Partners: partners[c.ID]}
		if sc.Partners == nil {
			sc.Partners = []string{}
		}
		for _, h := range holders {
			if h.ServiceID != c.ID {
				continue
			}
			p := &Person{ID: h.UserID, Username: h.Username}
			if h.Role == raci.RoleServiceOwner {
				sc.Owner = p
			} else {
				sc.Manager = p
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

// GetService reads a service.
func (s *Service) GetService(ctx context.Context, id int64) (ServiceCI, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return ServiceCI{}, err
	}
	return s.service(ctx, s.db, cat, id)
}

// ServiceFilter narrows a list of services.
type ServiceFilter struct {
	Kind        string
	Criticality Criticality
	Partner     string
	Name        string
}

// ListServices lists services a page at a time.
func (s *Service) ListServices(ctx context.Context, f ServiceFilter, p listing.Params) (listing.Page[ServiceCI], int64, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return listing.Page[ServiceCI]{}, 0, err
	}
	fs := []listing.Filter{{Where: "c.id IN (SELECT ci_id FROM ci_services)"}}
	if f.Kind != "" {
		fs = append(fs, listing.Filter{Where: "c.id IN (SELECT ci_id FROM ci_services WHERE kind = ?)", Args: []any{f.Kind}})
	}
	if f.Criticality != "" {
		if err := checkCriticality(f.Criticality); err != nil {
			return listing.Page[ServiceCI]{}, 0, errs.Field("query.criticality", "unknown criticality", f.Criticality)
		}
		fs = append(fs, listing.Filter{Where: "c.id IN (SELECT ci_id FROM ci_services WHERE criticality = ?)", Args: []any{string(f.Criticality)}})
	}
	if f.Partner != "" {
		fs = append(fs, listing.Filter{Where: "c.id IN (SELECT sp.service_id FROM ci_service_partners sp JOIN mission_partners m ON m.id = sp.partner_id WHERE m.name = ?)", Args: []any{f.Partner}})
	}
	if f.Name != "" {
		fs = append(fs, listing.Filter{Field: "name", Value: f.Name, Prefix: true})
	}
	src := ciSource(cat)
	page, total, err := listing.Fetch(ctx, s.db, src, p, fs)
	if err != nil {
		return listing.Page[ServiceCI]{}, 0, err
	}
	items, err := s.decorate(ctx, s.db, page.Items)
	return listing.Page[ServiceCI]{Items: items, NextCursor: page.NextCursor}, total, err
}

// UpdateService changes a service's CI fields and its criticality, owner,
// manager and mission partners (CfM3), in one transaction under one version.
func (s *Service) UpdateService(ctx context.Context, id, version int64, in ServiceUpdate) (out ServiceCI, err error) {
	defer errs.Wrap(&err, "update service %d", id)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	cur, err := s.service(ctx, s.db, cat, id)
	if err != nil {
		return out, err
	}
	if in.Criticality != nil {
		if err := checkCriticality(*in.Criticality); err != nil {
			return out, err
		}
	}
	var partners *[]string
	if in.Partners != nil {
		ps, err := checkPartners("body.missionPartners", *in.Partners)
		if err != nil {
			return out, err
		}
		partners = &ps
	}
	if _, err := s.records.Authorize(ctx, Process, ActControl, "change", ciObject(id), raci.Scope{ServiceID: id}); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		c, err := s.updateCI(ctx, tx, cat, id, version, in.CIUpdate, "body")
		if err != nil {
			return err
		}
		changes, err := s.setServiceFields(ctx, tx, id, in.OwnerID, in.ManagerID, partners)
		if err != nil {
			return err
		}
		if in.Criticality != nil && *in.Criticality != cur.Criticality {
			if _, err := tx.ExecContext(ctx, `UPDATE ci_services SET criticality = ? WHERE ci_id = ?`, *in.Criticality, id); err != nil {
				return err
			}
			changes = append(changes, audit.Change{Field: "criticality", Old: cur.Criticality, New: *in.Criticality})
		}
		if len(changes) > 0 {
			if c.Version == version {
				// Only service fields changed: keep the version as a
				// history row and raise it, so ETags see the change.
				if err := s.touch(ctx, tx, c); err != nil {
					return err
				}
			}
			s.trail.Record(ctx, tx, audit.Entry{Action: "service.update", ObjectType: "ci", ObjectID: ciObject(id), Changes: changes})
			if err := s.events.Emit(ctx, tx, outbox.Event{Type: "service.updated", Subject: ciObject(id), Data: map[string]any{"changes": changes}}); err != nil {
				return err
			}
		}
		out, err = s.service(ctx, tx, cat, id)
		return err
	})
	return out, err
}

// touch raises a CI's version without changing its fields, keeping the old
// version in its history.
func (s *Service) touch(ctx context.Context, tx *db.Tx, c CI) error {
	now := s.now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO ci_versions (ci_id, version, class_id, name, status, min_up, attrs, marking, valid_from, valid_to, changed_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, c.ID, c.Version, c.ClassID, c.Name, c.Status, c.MinUp, encodeAttrs(c.Attrs),
		c.Marking, c.ValidFrom.UnixMilli(), now, nilIfZero(c.UpdatedBy)); err != nil {
		return fmt.Errorf("keep version %d: %w", c.Version, err)
	}
	_, err := tx.ExecContext(ctx, `UPDATE cis SET version = version + 1, updated_at = ?, updated_by = ?, valid_from = ? WHERE id = ?`, now, actor(ctx), now, c.ID)
	return err
}
