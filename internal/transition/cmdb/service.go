package cmdb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/cmdb/impact"
)

// ChangeAuthority says whether an approved change authorises changing a CI.
// Change management implements it; until then NoChangeManagement says no.
type ChangeAuthority interface {
	// Approved reports whether ref (an RFC number, or "" for any change linked
	// to the CI) is an approved change that covers changing ciID now.
	Approved(ctx context.Context, ciID int64, ref string) (bool, error)
}

// NoChangeManagement is the ChangeAuthority of a site without change
// management: no change is ever approved, so every change is flagged.
type NoChangeManagement struct{}

// Approved always says no.
func (NoChangeManagement) Approved(context.Context, int64, string) (bool, error) { return false, nil }

// Deps are what configuration management needs.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel: its RACI guard decides on CfM
	// activities, and remediation tasks of audits are its records.
	Records *record.Service
	// RACI holds service owners and managers as scoped role assignments.
	RACI    *raci.Service
	Trail   *audit.Trail
	Events  *outbox.Outbox
	Clock   clock.Clock
	Changes ChangeAuthority
}

// Service holds the use cases of configuration management. Each mutation is
// one transaction with its history rows, audit entries and outbox events.
type Service struct {
	db      *db.DB
	records *record.Service
	raci    *raci.Service
	trail   *audit.Trail
	events  *outbox.Outbox
	clock   clock.Clock
	changes ChangeAuthority

	mu  sync.Mutex
	cat *catalog
	// banner reads the system's classification banner for exports, when set.
	banner func(ctx context.Context) string
}

// SetBanner gives the service the system's classification banner, which
// exports carry on their first line.
func (s *Service) SetBanner(f func(ctx context.Context) string) { s.banner = f }

// bannerText is the classification banner, or "" when none is set.
func (s *Service) bannerText(ctx context.Context) string {
	if s.banner == nil {
		return ""
	}
	return s.banner(ctx)
}

// New returns configuration management over d and registers the remediation
// task record type with the kernel.
func New(d Deps) (*Service, error) {
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Changes == nil {
		d.Changes = NoChangeManagement{}
	}
	s := &Service{db: d.DB, records: d.Records, raci: d.RACI, trail: d.Trail, events: d.Events, clock: d.Clock, changes: d.Changes}
	if err := d.Records.Register(remediationType()); err != nil {
		return nil, fmt.Errorf("register remediation: %w", err)
	}
	return s, nil
}

// MustNew is New for wiring; it panics on a wiring mistake.
func MustNew(d Deps) *Service {
	s, err := New(d)
	if err != nil {
		panic("cmdb: " + err.Error())
	}
	return s
}

// SetChangeAuthority replaces the change authority (change management registers itself).
func (s *Service) SetChangeAuthority(c ChangeAuthority) { s.changes = c }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

// ---- the catalogue: classes and relation types, cached per node ----

// catalog is every class (with inherited attributes resolved) and relation type.
type catalog struct {
	gen         string
	checked     time.Time
	classes     map[int64]*Class
	byName      map[string]*Class
	children    map[int64][]int64
	relTypes    map[int64]*RelationType
	relByName   map[string]*RelationType
	attrsByName map[string][]int64
	attrs       map[int64]*Attribute
}

// catalogTTL is how long a node trusts its cached catalogue before it checks
// the database's generation again.
const catalogTTL = 2 * time.Second

// generation is a cheap fingerprint of the catalogue tables.
func generation(ctx context.Context, q db.Queryer) (string, error) {
	var a, b, c, d, e int64
	err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM ci_classes), (SELECT COALESCE(SUM(version), 0) FROM ci_classes),
		(SELECT COUNT(*) FROM ci_attributes), (SELECT COUNT(*) FROM ci_relation_types), (SELECT COALESCE(SUM(version), 0) FROM ci_relation_types)`).Scan(&a, &b, &c, &d, &e)
	if err != nil {
		return "", fmt.Errorf("read catalogue generation: %w", err)
	}
	return fmt.Sprint(a, b, c, d, e), nil
}

// catalog returns the cached catalogue, reloading it when it may be stale.
func (s *Service) catalog(ctx context.Context) (*catalog, error) {
	s.mu.Lock()
	c := s.cat
	s.mu.Unlock()
	now := time.Now()
	if c != nil && now.Sub(c.checked) < catalogTTL {
		return c, nil
	}
	gen, err := generation(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if c != nil && c.gen == gen {
		s.mu.Lock()
		c.checked = now
		s.mu.Unlock()
		return c, nil
	}
	c, err = loadCatalog(ctx, s.db)
	if err != nil {
		return nil, err
	}
	c.gen, c.checked = gen, now
	s.mu.Lock()
	s.cat = c
	s.mu.Unlock()
	return c, nil
}

// forget drops the cached catalogue after a change to it commits.
func (s *Service) forget() {
	s.mu.Lock()
	s.cat = nil
	s.mu.Unlock()
}

func loadCatalog(ctx context.Context, q db.Queryer) (*catalog, error) {
	c := &catalog{classes: map[int64]*Class{}, byName: map[string]*Class{}, children: map[int64][]int64{},
		relTypes: map[int64]*RelationType{}, relByName: map[string]*RelationType{}, attrsByName: map[string][]int64{}, attrs: map[int64]*Attribute{}}
	rows, err := q.QueryContext(ctx, `SELECT id, name, label, COALESCE(parent_id, 0), description, abstract, builtin, version FROM ci_classes ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read classes: %w", err)
	}
	var order []*Class
	for rows.Next() {
		cl := &Class{}
		if err := rows.Scan(&cl.ID, &cl.Name, &cl.Label, &cl.ParentID, &cl.Description, &cl.Abstract, &cl.Builtin, &cl.Version); err != nil {
			rows.Close()
			return nil, err
		}
		c.classes[cl.ID], c.byName[cl.Name] = cl, cl
		order = append(order, cl)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	own := map[int64][]Attribute{}
	rows, err = q.QueryContext(ctx, `SELECT id, class_id, name, label, type, required, is_unique, indexed, enum_values, COALESCE(ref_class_id, 0), position
		FROM ci_attributes ORDER BY class_id, position, id`)
	if err != nil {
		return nil, fmt.Errorf("read attributes: %w", err)
	}
	for rows.Next() {
		var a Attribute
		var enum string
		if err := rows.Scan(&a.ID, &a.ClassID, &a.Name, &a.Label, &a.Type, &a.Required, &a.Unique, &a.Indexed, &enum, &a.RefClassID, &a.Position); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal([]byte(enum), &a.Enum); err != nil {
			rows.Close()
			return nil, fmt.Errorf("attribute %d enum: %w", a.ID, err)
		}
		if len(a.Enum) == 0 {
			a.Enum = nil
		}
		own[a.ClassID] = append(own[a.ClassID], a)
		ac := a
		c.attrs[a.ID] = &ac
		c.attrsByName[a.Name] = append(c.attrsByName[a.Name], a.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, cl := range order {
		if p, ok := c.classes[cl.ParentID]; ok {
			cl.Parent = p.Name
			c.children[p.ID] = append(c.children[p.ID], cl.ID)
		}
		var chain []*Class
		for x := cl; x != nil; x = c.classes[x.ParentID] {
			chain = append(chain, x)
			if len(chain) > 64 {
				return nil, fmt.Errorf("class %s: inheritance cycle", cl.Name)
			}
		}
		for i := len(chain) - 1; i >= 0; i-- {
			for _, a := range own[chain[i].ID] {
				if r, ok := c.classes[a.RefClassID]; ok {
					a.RefClass = r.Name
				}
				cl.Attributes = append(cl.Attributes, a)
			}
		}
		if cl.Attributes == nil {
			cl.Attributes = []Attribute{}
		}
	}
	rows, err = q.QueryContext(ctx, `SELECT id, name, label, inverse_label, propagation, redundancy, builtin, version FROM ci_relation_types ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("read relation types: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		t := &RelationType{}
		if err := rows.Scan(&t.ID, &t.Name, &t.Label, &t.InverseLabel, &t.Propagation, &t.Redundancy, &t.Builtin, &t.Version); err != nil {
			return nil, err
		}
		c.relTypes[t.ID], c.relByName[t.Name] = t, t
	}
	return c, rows.Err()
}

// class finds a class by name, for a field.
func (c *catalog) class(field, name string) (*Class, error) {
	cl, ok := c.byName[name]
	if !ok {
		return nil, errs.Field(field, "unknown CI class "+name, name)
	}
	return cl, nil
}

// isA reports whether class id is ancestor or one of its descendants.
func (c *catalog) isA(id, ancestor int64) bool {
	for x := c.classes[id]; x != nil; x = c.classes[x.ParentID] {
		if x.ID == ancestor {
			return true
		}
	}
	return false
}

// subtree lists ancestor and all its descendants.
func (c *catalog) subtree(ancestor int64) []int64 {
	out := []int64{ancestor}
	for i := 0; i < len(out); i++ {
		out = append(out, c.children[out[i]]...)
	}
	slices.Sort(out)
	return out
}

// relType finds a relation type by name, for a field.
func (c *catalog) relType(field, name string) (*RelationType, error) {
	t, ok := c.relByName[name]
	if !ok {
		names := make([]string, 0, len(c.relByName))
		for n := range c.relByName {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil, errs.Field(field, fmt.Sprintf("unknown relation type %s; the types are %v", name, names), name)
	}
	return t, nil
}

// engine is the impact engine over the current relation types.
func (c *catalog) engine(q db.Queryer) *impact.Engine {
	types := make([]impact.RelType, 0, len(c.relTypes))
	for _, t := range c.relTypes {
		types = append(types, impact.RelType{ID: t.ID, Propagation: impact.Propagation(t.Propagation), Redundancy: t.Redundancy})
	}
	return impact.New(types, impact.NewSQLSource(q))
}

// Seed writes the default class tree and relation types where they are
// missing. It is idempotent and runs at start-up.
func (s *Service) Seed(ctx context.Context) error {
	now := s.now()
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		ids := map[string]int64{}
		for _, dc := range defaultClasses {
			var parent any
			if dc.parent != "" {
				parent = ids[dc.parent]
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ci_classes (name, label, parent_id, description, abstract, builtin, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, TRUE, ?, ?) ON CONFLICT (name) DO NOTHING`, dc.name, dc.label, parent, dc.description, dc.abstract, now, now); err != nil {
				return fmt.Errorf("seed class %s: %w", dc.name, err)
			}
			var id int64
			if err := tx.QueryRowContext(ctx, `SELECT id FROM ci_classes WHERE name = ?`, dc.name).Scan(&id); err != nil {
				return fmt.Errorf("seed class %s: %w", dc.name, err)
			}
			ids[dc.name] = id
		}
		for _, dc := range defaultClasses {
			for i, a := range dc.attrs {
				enum, _ := json.Marshal(a.Enum)
				if a.Enum == nil {
					enum = []byte("[]")
				}
				var ref any
				if a.RefClass != "" {
					ref = ids[a.RefClass]
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO ci_attributes (class_id, name, label, type, required, is_unique, indexed, enum_values, ref_class_id, position, created_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (class_id, name) DO NOTHING`,
					ids[dc.name], a.Name, a.Label, a.Type, a.Required, a.Unique, a.Indexed, string(enum), ref, int64(i), now); err != nil {
					return fmt.Errorf("seed attribute %s.%s: %w", dc.name, a.Name, err)
				}
			}
		}
		for _, t := range defaultRelationTypes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO ci_relation_types (name, label, inverse_label, propagation, redundancy, builtin, created_at)
				VALUES (?, ?, ?, ?, ?, TRUE, ?) ON CONFLICT (name) DO NOTHING`, t.Name, t.Label, t.InverseLabel, t.Propagation, t.Redundancy, now); err != nil {
				return fmt.Errorf("seed relation type %s: %w", t.Name, err)
			}
		}
		return nil
	})
	s.forget()
	return err
}
