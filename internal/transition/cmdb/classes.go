package cmdb

import (
	"context"
	"encoding/json"
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

// Classes lists every class in tree order (each parent before its children),
// with inherited attributes resolved.
func (s *Service) Classes(ctx context.Context) ([]Class, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	var out []Class
	var walk func(parent int64)
	walk = func(parent int64) {
		var kids []*Class
		for _, c := range cat.classes {
			if c.ParentID == parent {
				kids = append(kids, c)
			}
		}
		slices.SortFunc(kids, func(a, b *Class) int { return strings.Compare(a.Name, b.Name) })
		for _, c := range kids {
			out = append(out, *c)
			walk(c.ID)
		}
	}
	walk(0)
	return out, nil
}

// Class reads one class by name.
func (s *Service) Class(ctx context.Context, name string) (Class, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return Class{}, err
	}
	c, ok := cat.byName[name]
	if !ok {
		return Class{}, errs.E(errs.NotFound, "no CI class %s", name)
	}
	return *c, nil
}

// NewClass is what a class is created from.
type NewClass struct {
	Name        string
	Label       string
	Parent      string
	Description string
	Abstract    bool
	Attributes  []Attribute
}

// CreateClass adds a class under a parent, with its own attributes (CfM1:
// the configuration management framework). No code change is needed.
func (s *Service) CreateClass(ctx context.Context, in NewClass) (out Class, err error) {
	defer errs.Wrap(&err, "create class %q", in.Name)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	var fe []errs.FieldError
	if e := ValidName("body.name", in.Name); e != nil {
		fe = append(fe, *e)
	}
	if in.Label == "" {
		in.Label = in.Name
	}
	if e := validLabel("body.label", in.Label); e != nil {
		fe = append(fe, *e)
	}
	if len(in.Description) > 4000 {
		fe = append(fe, errs.FieldError{Location: "body.description", Message: "at most 4000 characters"})
	}
	parent, ok := cat.byName[in.Parent]
	if !ok {
		fe = append(fe, errs.FieldError{Location: "body.parent", Message: "name the parent class (every class descends from configuration_item)", Value: in.Parent})
	}
	if _, taken := cat.byName[in.Name]; taken {
		return out, errs.E(errs.Conflict, "a class named %s exists", in.Name)
	}
	if len(in.Attributes) > 500 {
		fe = append(fe, errs.FieldError{Location: "body.attributes", Message: "at most 500 attributes per class"})
	}
	if parent != nil {
		fe = append(fe, checkNewAttrs(cat, parent, nil, in.Attributes, "body.attributes")...)
	}
	if err := errs.WithFields(fe); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActFramework, "change the class model of", "cmdb", raci.Scope{}); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO ci_classes (name, label, parent_id, description, abstract, builtin, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, FALSE, ?, ?) RETURNING id`, in.Name, in.Label, parent.ID, in.Description, in.Abstract, now, now).Scan(&id)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a class named %s exists", in.Name)
		}
		if err != nil {
			return err
		}
		for i, a := range in.Attributes {
			if err := insertAttr(ctx, tx, cat, id, a, int64(i), now); err != nil {
				return err
			}
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci-class.create", ObjectType: "ci-class", ObjectID: in.Name,
			Changes: []audit.Change{{Field: "parent", New: in.Parent}, {Field: "label", New: in.Label}, {Field: "attributes", New: len(in.Attributes)}}})
		tx.OnCommit(s.forget)
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci-class.created", Subject: "ci-class/" + in.Name, Data: map[string]any{"name": in.Name, "parent": in.Parent}})
	})
	if err != nil {
		return out, err
	}
	return s.Class(ctx, in.Name)
}

// checkNewAttrs checks attributes to add to class (nil for a new class under
// parent): valid definitions, no name clash with inherited, own or
// descendants' attributes, and known reference classes.
func checkNewAttrs(cat *catalog, parent, class *Class, attrs []Attribute, field string) []errs.FieldError {
	var fe []errs.FieldError
	taken := map[string]bool{}
	for _, a := range parent.Attributes {
		taken[a.Name] = true
	}
	if class != nil {
		for _, id := range cat.subtree(class.ID) {
			for _, a := range cat.classes[id].Attributes {
				taken[a.Name] = true
			}
		}
	}
	for i := range attrs {
		a := &attrs[i]
		f := field + "[" + strconv.Itoa(i) + "]"
		if len(attrs) == 1 && class != nil {
			f = field
		}
		fe = append(fe, a.Validate(f)...)
		if taken[a.Name] {
			fe = append(fe, errs.FieldError{Location: f + ".name", Message: "an attribute named " + a.Name + " is already inherited or declared", Value: a.Name})
		}
		taken[a.Name] = true
		if a.RefClass != "" {
			if _, ok := cat.byName[a.RefClass]; !ok {
				fe = append(fe, errs.FieldError{Location: f + ".refClass", Message: "unknown CI class", Value: a.RefClass})
			}
		}
	}
	return fe
}

func insertAttr(ctx context.Context, tx *db.Tx, cat *catalog, classID int64, a Attribute, pos, now int64) error {
	enum := []byte("[]")
	if len(a.Enum) > 0 {
		enum, _ = json.Marshal(a.Enum)
	}
	var ref any
	if r, ok := cat.byName[a.RefClass]; ok {
		ref = r.ID
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO ci_attributes (class_id, name, label, type, required, is_unique, indexed, enum_values, ref_class_id, position, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, classID, a.Name, a.Label, a.Type, a.Required, a.Unique, a.Indexed, string(enum), ref, pos, now)
	if db.IsUniqueViolation(err) {
		return errs.E(errs.Conflict, "the class already has an attribute %s", a.Name)
	}
	return err
}

// AddAttribute adds an attribute to a class and so to its subclasses (CfM1).
// A required attribute can only be added to a class that has no CIs yet: add
// it optional, fill it in, then make it required in a new class version.
func (s *Service) AddAttribute(ctx context.Context, class string, version int64, a Attribute) (out Class, err error) {
	defer errs.Wrap(&err, "add attribute %q to class %q", a.Name, class)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	cl, ok := cat.byName[class]
	if !ok {
		return out, errs.E(errs.NotFound, "no CI class %s", class)
	}
	parent := cat.classes[cl.ParentID]
	if parent == nil {
		parent = &Class{}
	}
	if err := errs.WithFields(checkNewAttrs(cat, parent, cl, []Attribute{a}, "body")); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActFramework, "change the class model of", "cmdb", raci.Scope{}); err != nil {
		return out, err
	}
	sub := cat.subtree(cl.ID)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ci_classes SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, s.now(), cl.ID, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.PreconditionFailed, "class %s has changed since you read it; read it again", class)
		}
		if a.Required {
			var n int64
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cis WHERE class_id IN (`+inList(len(sub))+`)`, int64Args(sub)...).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return errs.E(errs.Conflict, "class %s has %d CIs without a value for %s; add it as optional, fill it in, then make it required", class, n, a.Name)
			}
		}
		if err := insertAttr(ctx, tx, cat, cl.ID, a, int64(len(cl.Attributes)), s.now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci-class.add-attribute", ObjectType: "ci-class", ObjectID: class,
			Changes: []audit.Change{{Field: "attributes." + a.Name, New: fmt.Sprintf("%s required=%t unique=%t indexed=%t", a.Type, a.Required, a.Unique, a.Indexed)}}})
		tx.OnCommit(s.forget)
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci-class.changed", Subject: "ci-class/" + class, Data: a})
	})
	if err != nil {
		return out, err
	}
	return s.Class(ctx, class)
}

// RelationTypes lists the relation types.
func (s *Service) RelationTypes(ctx context.Context) ([]RelationType, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]RelationType, 0, len(cat.relTypes))
	for _, t := range cat.relTypes {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b RelationType) int { return int(a.ID - b.ID) })
	return out, nil
}

var propagations = []string{"none", "to_source", "to_target", "both"}

func checkRelType(t *RelationType) []errs.FieldError {
	var fe []errs.FieldError
	if e := ValidName("body.name", t.Name); e != nil {
		fe = append(fe, *e)
	}
	if e := validLabel("body.label", t.Label); e != nil {
		fe = append(fe, *e)
	}
	if t.InverseLabel == "" {
		t.InverseLabel = t.Label
	}
	if e := validLabel("body.inverseLabel", t.InverseLabel); e != nil {
		fe = append(fe, *e)
	}
	if !slices.Contains(propagations, t.Propagation) {
		fe = append(fe, errs.FieldError{Location: "body.propagation", Message: "propagation is none, to_source, to_target or both", Value: t.Propagation})
	}
	if t.Redundancy && t.Propagation != "to_target" {
		fe = append(fe, errs.FieldError{Location: "body.redundancy", Message: "a redundancy relation propagates to_target: from each member to its group"})
	}
	return fe
}

// CreateRelationType adds a relation type with its propagation rule (CfM1).
func (s *Service) CreateRelationType(ctx context.Context, t RelationType) (out RelationType, err error) {
	defer errs.Wrap(&err, "create relation type %q", t.Name)
	if err := errs.WithFields(checkRelType(&t)); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActFramework, "change the class model of", "cmdb", raci.Scope{}); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO ci_relation_types (name, label, inverse_label, propagation, redundancy, builtin, created_at)
			VALUES (?, ?, ?, ?, ?, FALSE, ?) RETURNING id`, t.Name, t.Label, t.InverseLabel, t.Propagation, t.Redundancy, s.now()).Scan(&t.ID)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a relation type named %s exists", t.Name)
		}
		if err != nil {
			return err
		}
		t.Version = 1
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci-relation-type.create", ObjectType: "ci-relation-type", ObjectID: t.Name,
			Changes: []audit.Change{{Field: "propagation", New: t.Propagation}, {Field: "redundancy", New: t.Redundancy}}})
		tx.OnCommit(s.forget)
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci-relation-type.created", Subject: "ci-relation-type/" + t.Name, Data: t})
	})
	return t, err
}

// RelationTypeUpdate changes how a relation type propagates failures.
type RelationTypeUpdate struct {
	Label        *string
	InverseLabel *string
	Propagation  *string
	Redundancy   *bool
}

// UpdateRelationType changes a relation type's labels or propagation rule (CfM1).
func (s *Service) UpdateRelationType(ctx context.Context, name string, version int64, in RelationTypeUpdate) (out RelationType, err error) {
	defer errs.Wrap(&err, "update relation type %q", name)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	cur, ok := cat.relByName[name]
	if !ok {
		return out, errs.E(errs.NotFound, "no relation type %s", name)
	}
	t := *cur
	if in.Label != nil {
		t.Label = *in.Label
	}
	if in.InverseLabel != nil {
		t.InverseLabel = *in.InverseLabel
	}
	if in.Propagation != nil {
		t.Propagation = *in.Propagation
	}
	if in.Redundancy != nil {
		t.Redundancy = *in.Redundancy
	}
	if err := errs.WithFields(checkRelType(&t)); err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActFramework, "change the class model of", "cmdb", raci.Scope{}); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE ci_relation_types SET label = ?, inverse_label = ?, propagation = ?, redundancy = ?, version = version + 1
			WHERE id = ? AND version = ?`, t.Label, t.InverseLabel, t.Propagation, t.Redundancy, t.ID, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.PreconditionFailed, "relation type %s has changed since you read it; read it again", name)
		}
		t.Version = cur.Version + 1
		s.trail.Record(ctx, tx, audit.Entry{Action: "ci-relation-type.update", ObjectType: "ci-relation-type", ObjectID: name,
			Changes: []audit.Change{{Field: "label", Old: cur.Label, New: t.Label}, {Field: "inverseLabel", Old: cur.InverseLabel, New: t.InverseLabel},
				{Field: "propagation", Old: cur.Propagation, New: t.Propagation}, {Field: "redundancy", Old: cur.Redundancy, New: t.Redundancy}}})
		tx.OnCommit(s.forget)
		return s.events.Emit(ctx, tx, outbox.Event{Type: "ci-relation-type.updated", Subject: "ci-relation-type/" + name, Data: t})
	})
	return t, err
}
