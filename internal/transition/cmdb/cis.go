package cmdb

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// ciObject names a CI for the audit trail and the guard's refusals.
func ciObject(id int64) string { return "ci/" + strconv.FormatInt(id, 10) }

// scopeOf is the RACI scope of a CI: a service is its own scope, so its owner
// and manager may act on it.
func scopeOf(cat *catalog, classID, id int64) raci.Scope {
	if svc, ok := cat.byName["service"]; ok && cat.isA(classID, svc.ID) {
		return raci.Scope{ServiceID: id}
	}
	return raci.Scope{}
}

func actor(ctx context.Context) any {
	if p := auth.PrincipalFrom(ctx); p != nil {
		return p.UserID
	}
	return nil
}

// CreateCI registers a configuration item (CfM2, configuration identification).
func (s *Service) CreateCI(ctx context.Context, in NewCI) (out CI, err error) {
	defer errs.Wrap(&err, "create CI")
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActIdentify, "register a CI in", "cmdb", raci.Scope{}); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		out, err = s.insertCI(ctx, tx, cat, in, "body")
		return err
	})
	return out, err
}

// insertCI validates and writes a new CI inside tx; field prefixes the
// locations of field errors ("body", or "row 7" in an import).
func (s *Service) insertCI(ctx context.Context, tx *db.Tx, cat *catalog, in NewCI, field string) (CI, error) {
	cl, err := cat.class(field+".class", in.Class)
	if err != nil {
		return CI{}, err
	}
	if in.Status == "" {
		in.Status = StatusOperational
	}
	if in.MinUp == 0 {
		in.MinUp = 1
	}
	if in.Attrs == nil {
		in.Attrs = Attrs{}
	}
	fe := checkCore(&in.Name, in.Status, in.MinUp, &in.Marking)
	if cl.Abstract {
		fe = append(fe, errs.FieldError{Location: field + ".class", Message: "class " + cl.Name + " is abstract; choose one of its subclasses", Value: cl.Name})
	}
	refs, afe := CheckAttrs(cl, in.Attrs, field+".attributes", false)
	if err := errs.WithFields(append(fe, afe...)); err != nil {
		return CI{}, err
	}
	if err := checkRefs(ctx, tx, cat, refs); err != nil {
		return CI{}, err
	}
	now, by := s.now(), actor(ctx)
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO cis (class_id, name, status, min_up, attrs, marking, created_at, created_by, updated_at, updated_by, valid_from)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, cl.ID, in.Name, in.Status, in.MinUp, encodeAttrs(in.Attrs), in.Marking,
		now, by, now, by, now).Scan(&id); err != nil {
		return CI{}, fmt.Errorf("insert CI: %w", err)
	}
	if err := writeIndex(ctx, tx, cl, id, in.Attrs, false); err != nil {
		return CI{}, err
	}
	if svc, ok := cat.byName["service"]; ok && cat.isA(cl.ID, svc.ID) {
		kind := "technical"
		if cl.Name == "business_service" {
			kind = "business"
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ci_services (ci_id, kind, criticality) VALUES (?, ?, ?)`, id, kind, CriticalitySupport); err != nil {
			return CI{}, fmt.Errorf("insert service: %w", err)
		}
	}
	c, err := getCI(ctx, tx, cat, id, "")
	if err != nil {
		return c, err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "ci.create", ObjectType: "ci", ObjectID: ciObject(id), Changes: ciChanges(CI{}, c)})
	return c, s.events.Emit(ctx, tx, outbox.Event{Type: "ci.created", Subject: ciObject(id), Data: c})
}

// ciChanges lists what differs between two versions of a CI for the audit trail.
func ciChanges(old, neu CI) []audit.Change {
	var out []audit.Change
	add := func(f string, o, n any, same bool) {
		if !same {
			out = append(out, audit.Change{Field: f, Old: o, New: n})
		}
	}
	add("class", nilIfZero(old.Class), neu.Class, old.Class == neu.Class)
	add("name", nilIfZero(old.Name), neu.Name, old.Name == neu.Name)
	add("status", nilIfZero(string(old.Status)), string(neu.Status), old.Status == neu.Status)
	add("minUp", nilIfZero(old.MinUp), neu.MinUp, old.MinUp == neu.MinUp)
	add("marking", nilIfZero(old.Marking), neu.Marking, old.Marking == neu.Marking)
	keys := slices.Sorted(maps.Keys(old.Attrs))
	for k := range neu.Attrs {
		if _, ok := old.Attrs[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range slices.Compact(keys) {
		o, n := old.Attrs[k], neu.Attrs[k]
		add("attributes."+k, o, n, sameValue(o, n))
	}
	return out
}

func nilIfZero[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// GetCI reads a CI as it is now.
func (s *Service) GetCI(ctx context.Context, id int64) (CI, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return CI{}, err
	}
	return getCI(ctx, s.db, cat, id, "")
}

// UpdateCI changes a CI (CfM3, configuration control): its name, status,
// redundancy threshold, marking or attributes. The superseded version is kept,
// and a change no approved change covers is flagged as unauthorised.
func (s *Service) UpdateCI(ctx context.Context, id, version int64, in CIUpdate) (out CI, err error) {
	defer errs.Wrap(&err, "update CI %d", id)
	cat, err := s.catalog(ctx)
	if err != nil {
		return out, err
	}
	cur, err := getCI(ctx, s.db, cat, id, "")
	if err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActControl, "change", ciObject(id), scopeOf(cat, cur.ClassID, id)); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		out, err = s.updateCI(ctx, tx, cat, id, version, in, "body")
		return err
	})
	return out, err
}

// updateCI applies an update inside tx to the CI at version (the ETag the caller read).
func (s *Service) updateCI(ctx context.Context, tx *db.Tx, cat *catalog, id, version int64, in CIUpdate, field string) (CI, error) {
	old, err := getCI(ctx, tx, cat, id, tx.DB().ForUpdate())
	if err != nil {
		return old, err
	}
	if old.Version != version {
		return old, errs.E(errs.PreconditionFailed, "CI %d has changed since you read it (version %d, now %d); read it again", id, version, old.Version)
	}
	cl := cat.classes[old.ClassID]
	neu := old
	neu.Attrs = maps.Clone(old.Attrs)
	if in.Name != nil {
		neu.Name = *in.Name
	}
	if in.Status != nil {
		neu.Status = *in.Status
	}
	if in.MinUp != nil {
		neu.MinUp = *in.MinUp
	}
	if in.Marking != nil {
		neu.Marking = *in.Marking
	}
	fe := checkCore(&neu.Name, neu.Status, neu.MinUp, &neu.Marking)
	changed := Attrs{}
	for k, v := range in.Attrs {
		if v == nil {
			delete(neu.Attrs, k)
			continue
		}
		changed[k] = v
	}
	refs, afe := CheckAttrs(cl, changed, field+".attributes", true)
	fe = append(fe, afe...)
	maps.Copy(neu.Attrs, changed)
	if len(afe) == 0 {
		fe = append(fe, MissingRequired(cl, neu.Attrs, field+".attributes")...)
	}
	if err := errs.WithFields(fe); err != nil {
		return old, err
	}
	if in.Status != nil {
		if err := CheckStatusChange(old.Status, neu.Status); err != nil {
			return old, err
		}
	}
	if err := checkRefs(ctx, tx, cat, refs); err != nil {
		return old, err
	}
	changes := ciChanges(old, neu)
	if len(changes) == 0 {
		return old, nil
	}
	now, by := s.now(), actor(ctx)
	if _, err := tx.ExecContext(ctx, `INSERT INTO ci_versions (ci_id, version, class_id, name, status, min_up, attrs, marking, valid_from, valid_to, changed_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, old.ID, old.Version, old.ClassID, old.Name, old.Status, old.MinUp, encodeAttrs(old.Attrs),
		old.Marking, old.ValidFrom.UnixMilli(), now, nilIfZero(old.UpdatedBy)); err != nil {
		return old, fmt.Errorf("keep version %d: %w", old.Version, err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE cis SET name = ?, status = ?, min_up = ?, attrs = ?, marking = ?, version = version + 1,
		updated_at = ?, updated_by = ?, valid_from = ? WHERE id = ? AND version = ?`, neu.Name, neu.Status, neu.MinUp, encodeAttrs(neu.Attrs),
		neu.Marking, now, by, now, id, old.Version)
	if err != nil {
		return old, fmt.Errorf("update CI: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return old, errs.E(errs.PreconditionFailed, "CI %d has changed since you read it; read it again", id)
	}
	if indexChanged(cl, old.Attrs, neu.Attrs) {
		if err := writeIndex(ctx, tx, cl, id, neu.Attrs, true); err != nil {
			return old, err
		}
	}
	out, err := getCI(ctx, tx, cat, id, "")
	if err != nil {
		return out, err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "ci.update", ObjectType: "ci", ObjectID: ciObject(id), Changes: changes})
	if err := s.flagUnauthorised(ctx, tx, out.ID, out.Version, describe(changes), in.ChangeRef); err != nil {
		return out, err
	}
	return out, s.events.Emit(ctx, tx, outbox.Event{Type: "ci.updated", Subject: ciObject(id), Data: map[string]any{"ci": out, "changes": changes}})
}

// indexChanged reports whether any indexed attribute differs.
func indexChanged(cl *Class, old, neu Attrs) bool {
	for _, a := range cl.Attributes {
		if a.Indexed && !sameValue(old[a.Name], neu[a.Name]) {
			return true
		}
	}
	return false
}

// sameValue compares two attribute values as stored: as JSON, so that a
// number read back as 16 (int64) equals the 16.0 (float64) a client sent.
func sameValue(a, b any) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// describe names the changed fields: "status, attributes.os".
func describe(changes []audit.Change) string {
	fs := make([]string, len(changes))
	for i, c := range changes {
		fs[i] = c.Field
	}
	return joinMax(fs, 500)
}

func joinMax(fs []string, max int) string {
	out := ""
	for i, f := range fs {
		next := f
		if i > 0 {
			next = ", " + f
		}
		if len(out)+len(next) > max {
			return out + ", …"
		}
		out += next
	}
	return out
}

// CIFilter narrows a list of CIs.
type CIFilter struct {
	// Class keeps CIs of this class and its subclasses.
	Class string
	// Status keeps CIs in this status.
	Status Status
	// Name keeps CIs whose name starts with it.
	Name string
	// Attr and Value keep CIs whose indexed attribute Attr equals Value (case-insensitive).
	Attr, Value string
}

var ciSpec = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "c.id", Sortable: true, Kind: "int"},
		"name":      {SQL: "c.name", Sortable: true, Kind: "text"},
		"status":    {SQL: "c.status", Sortable: true, Kind: "text"},
		"updatedAt": {SQL: "c.updated_at", Sortable: true, Kind: "int"},
		"createdAt": {SQL: "c.created_at", Sortable: true, Kind: "int"},
	},
	Fields:      []string{"id", "class", "classId", "name", "status", "minUp", "attributes", "marking", "version", "validFrom", "createdAt", "updatedAt", "createdBy", "updatedBy"},
	DefaultSort: "id",
	IDColumn:    "c.id",
}

// filters turns f into list conditions.
func (f CIFilter) filters(cat *catalog) ([]listing.Filter, error) {
	var out []listing.Filter
	if f.Class != "" {
		cl, err := cat.class("query.class", f.Class)
		if err != nil {
			return nil, err
		}
		ids := cat.subtree(cl.ID)
		out = append(out, listing.Filter{Where: "c.class_id IN (" + inList(len(ids)) + ")", Args: int64Args(ids)})
	}
	if f.Status != "" {
		if !slices.Contains(Statuses, f.Status) {
			return nil, errs.Field("query.status", "unknown status; the lifecycle is "+statusList(Statuses), f.Status)
		}
		out = append(out, listing.Filter{Where: "c.status = ?", Args: []any{string(f.Status)}})
	}
	if f.Name != "" {
		out = append(out, listing.Filter{Field: "name", Value: f.Name, Prefix: true})
	}
	if f.Attr != "" || f.Value != "" {
		var indexed []int64
		for _, id := range cat.attrsByName[f.Attr] {
			if cat.attrs[id].Indexed {
				indexed = append(indexed, id)
			}
		}
		if f.Attr == "" || len(indexed) == 0 {
			return nil, errs.Field("query.attr", "filter by value names an indexed attribute (such as serial_number, hostname or asset_tag)", f.Attr)
		}
		out = append(out, listing.Filter{Where: "c.id IN (SELECT ci_id FROM ci_attr_values WHERE attr_id IN (" + inList(len(indexed)) +
			") AND value = ?)", Args: append(int64Args(indexed), IndexValue(f.Value))})
	}
	return out, nil
}

// ciSource reads CIs for a keyset list.
func ciSource(cat *catalog) listing.Source[CI] {
	return listing.Source[CI]{Spec: ciSpec, From: "cis c", Columns: ciColumns,
		Scan: func(r listing.Scanner) (CI, error) { return scanCI(r, cat) },
		Key: func(c CI, field string) any {
			switch field {
			case "name":
				return c.Name
			case "status":
				return string(c.Status)
			case "updatedAt":
				return c.UpdatedAt.UnixMilli()
			case "createdAt":
				return c.CreatedAt.UnixMilli()
			}
			return c.ID
		},
		ID: func(c CI) int64 { return c.ID }}
}

// ListCIs lists CIs matching f, a page at a time.
func (s *Service) ListCIs(ctx context.Context, f CIFilter, p listing.Params) (listing.Page[CI], int64, error) {
	cat, err := s.catalog(ctx)
	if err != nil {
		return listing.Page[CI]{}, 0, err
	}
	fs, err := f.filters(cat)
	if err != nil {
		return listing.Page[CI]{}, 0, err
	}
	src := ciSource(cat)
	return listing.Fetch(ctx, s.db, src, p, fs)
}
