package request

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// Deps are what request fulfilment needs.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel requests and tasks are records of; its RACI guard decides every step.
	Records *record.Service
	// Trail audits the catalog and the approvals, which are not record changes.
	Trail *audit.Trail
	// Events announces them, in the same transaction.
	Events *outbox.Outbox
	Clock  clock.Clock
	// RACI names the owners of a service, who approve a service_owner level.
	RACI *raci.Service
	// Auth names a requester's manager, who approves a manager level.
	Auth *auth.Service
}

// Service holds the use cases of request fulfilment and the service catalog.
type Service struct {
	db      *db.DB
	records *record.Service
	trail   *audit.Trail
	events  *outbox.Outbox
	clock   clock.Clock
	raci    *raci.Service
	auth    *auth.Service
}

// New returns request fulfilment over d and registers its record types with the kernel.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil || d.RACI == nil || d.Auth == nil {
		return nil, fmt.Errorf("request: DB, Records, Trail, Events, RACI and Auth are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock, raci: d.RACI, auth: d.Auth}
	for _, t := range []record.Type{s.requestType(), s.taskType()} {
		if err := d.Records.Register(t); err != nil {
			return nil, fmt.Errorf("register %s: %w", t.Name, err)
		}
	}
	return s, nil
}

// MustNew is New for wiring: it panics when the kernel refuses the record
// types, which only a wiring mistake causes (a type or prefix registered twice).
func MustNew(d Deps) *Service {
	s, err := New(d)
	if err != nil {
		panic("request: " + err.Error())
	}
	return s
}

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func caller(ctx context.Context) (*auth.Principal, error) {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return nil, errs.E(errs.Unauthenticated, "sign in first")
	}
	return p, nil
}

func itemObject(id int64) string { return "catalog_item/" + strconv.FormatInt(id, 10) }

// itemFields is the audited view of a catalog item.
func itemFields(it CatalogItem) map[string]any {
	return map[string]any{"name": it.Name, "description": it.Description, "category": it.Category, "serviceId": it.ServiceID,
		"active": it.Active, "variables": it.Variables, "approvals": it.Approvals, "tasks": it.Tasks, "targetHours": it.TargetHours}
}

var itemAudited = []string{"name", "description", "category", "serviceId", "active", "variables", "approvals", "tasks", "targetHours"}

// CreateItem adds an item to the catalog. It performs Establish Request
// Fulfillment Framework (RF1) for the item's service: the caller needs R or A
// for it. The service must be a CMDB service and every team must exist.
func (s *Service) CreateItem(ctx context.Context, it CatalogItem) (out CatalogItem, err error) {
	defer errs.Wrap(&err, "create a catalog item")
	p, err := caller(ctx)
	if err != nil {
		return out, err
	}
	if _, err := s.records.Authorize(ctx, Process, ActEstablish, "add to the catalog", "catalog_item/new",
		raci.Scope{ServiceID: it.ServiceID}); err != nil {
		return out, err
	}
	it.Form = it.Form.nonNil()
	if err := ValidateItem(&it); err != nil {
		return out, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := checkService(ctx, tx, "body.serviceId", it.ServiceID); err != nil {
			return err
		}
		if err := checkTeams(ctx, tx, it.Form); err != nil {
			return err
		}
		if id, err = insertItem(ctx, tx, it, p.UserID, s.now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "catalog.item.create", ObjectType: "catalog_item", ObjectID: strconv.FormatInt(id, 10),
			Changes: audit.Diff(itemAudited, map[string]any{}, itemFields(it))})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "catalog.item_created", Subject: itemObject(id),
			Data: map[string]any{"id": id, "name": it.Name, "serviceId": it.ServiceID}})
	})
	if err != nil {
		return out, err
	}
	return s.Item(ctx, id)
}

// UpdateItem changes a catalog item if version is still current. It performs
// RF1 for the item's service (and for the new one, when it moves). Requests
// already submitted keep the form they were submitted with.
func (s *Service) UpdateItem(ctx context.Context, id, version int64, c ItemChange) (out CatalogItem, err error) {
	defer errs.Wrap(&err, "update catalog item %d", id)
	p, err := caller(ctx)
	if err != nil {
		return out, err
	}
	old, err := loadItem(ctx, s.db, id)
	if err != nil {
		return out, err
	}
	if old.Version != version {
		return out, errs.E(errs.PreconditionFailed, "catalog item %d changed since version %d (now %d); read it again", id, version, old.Version)
	}
	if _, err := s.records.Authorize(ctx, Process, ActEstablish, "change", itemObject(id), raci.Scope{ServiceID: old.ServiceID}); err != nil {
		return out, err
	}
	n := c.apply(old)
	if n.ServiceID != old.ServiceID {
		if _, err := s.records.Authorize(ctx, Process, ActEstablish, "move to another service", itemObject(id),
			raci.Scope{ServiceID: n.ServiceID}); err != nil {
			return out, err
		}
	}
	n.Form = n.Form.nonNil()
	if err := ValidateItem(&n); err != nil {
		return out, err
	}
	changes := audit.Diff(itemAudited, itemFields(old), itemFields(n))
	if len(changes) == 0 {
		return old, nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if n.ServiceID != old.ServiceID {
			if err := checkService(ctx, tx, "body.serviceId", n.ServiceID); err != nil {
				return err
			}
		}
		if err := checkTeams(ctx, tx, n.Form); err != nil {
			return err
		}
		if err := updateItem(ctx, tx, n, version, p.UserID, s.now()); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "catalog.item.update", ObjectType: "catalog_item", ObjectID: strconv.FormatInt(id, 10),
			Changes: changes})
		fields := make([]string, len(changes))
		for i, ch := range changes {
			fields[i] = ch.Field
		}
		return s.events.Emit(ctx, tx, outbox.Event{Type: "catalog.item_updated", Subject: itemObject(id),
			Data: map[string]any{"id": id, "name": n.Name, "changed": fields}})
	})
	if err != nil {
		return out, err
	}
	return s.Item(ctx, id)
}

// DeleteItem removes a catalog item no request was raised from; an item with
// requests is deactivated instead (active false), so that they keep it. It performs RF1.
func (s *Service) DeleteItem(ctx context.Context, id, version int64) (err error) {
	defer errs.Wrap(&err, "delete catalog item %d", id)
	if _, err := caller(ctx); err != nil {
		return err
	}
	old, err := loadItem(ctx, s.db, id)
	if err != nil {
		return err
	}
	if _, err := s.records.Authorize(ctx, Process, ActEstablish, "delete", itemObject(id), raci.Scope{ServiceID: old.ServiceID}); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM service_requests WHERE catalog_item_id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("count requests of item %d: %w", id, err)
		}
		if n > 0 {
			return errs.E(errs.Conflict, "%d request(s) were raised from catalog item %d; deactivate it instead (active false)", n, id)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM catalog_items WHERE id = ? AND version = ?`, id, version)
		if err != nil {
			return fmt.Errorf("delete catalog item %d: %w", id, err)
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return errs.E(errs.PreconditionFailed, "catalog item %d changed since version %d; read it again", id, version)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "catalog.item.delete", ObjectType: "catalog_item", ObjectID: strconv.FormatInt(id, 10),
			Changes: audit.Diff(itemAudited, itemFields(old), map[string]any{})})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "catalog.item_deleted", Subject: itemObject(id),
			Data: map[string]any{"id": id, "name": old.Name}})
	})
}

// Item returns a catalog item with its service's name.
func (s *Service) Item(ctx context.Context, id int64) (out CatalogItem, err error) {
	defer errs.Wrap(&err, "read catalog item %d", id)
	if _, err := caller(ctx); err != nil {
		return out, err
	}
	return loadItem(ctx, s.db, id)
}

// ItemFilter narrows the catalog.
type ItemFilter struct {
	// Active, when set, keeps the items offered (true) or withdrawn (false).
	Active *bool
	// Category keeps one category's items.
	Category string
	// ServiceID keeps one service's items.
	ServiceID int64
	// Q keeps the items whose name contains it.
	Q string
}

// ItemList describes how catalog items are listed and sorted.
var ItemList = listing.Spec{
	Columns: map[string]listing.Column{
		"id":        {SQL: "i.id", Sortable: true, Kind: "int"},
		"name":      {SQL: "i.name", Sortable: true, Kind: "text"},
		"category":  {SQL: "i.category", Sortable: true, Kind: "text"},
		"updatedAt": {SQL: "i.updated_at", Sortable: true, Kind: "int"},
	},
	DefaultSort: "name",
	IDColumn:    "i.id",
}

var itemSource = listing.Source[CatalogItem]{
	Spec: ItemList, From: itemFrom, Columns: itemCols,
	Scan: func(r listing.Scanner) (CatalogItem, error) { return scanItem(r) },
	Key: func(it CatalogItem, field string) any {
		switch field {
		case "name":
			return it.Name
		case "category":
			return it.Category
		case "updatedAt":
			return it.UpdatedAt.UnixMilli()
		}
		return it.ID
	},
	ID: func(it CatalogItem) int64 { return it.ID },
}

// Items lists the catalog, by name unless p sorts otherwise, with the total count of matches.
func (s *Service) Items(ctx context.Context, f ItemFilter, p listing.Params) (page listing.Page[CatalogItem], total int64, err error) {
	defer errs.Wrap(&err, "list catalog items")
	page.Items = []CatalogItem{}
	if _, err := caller(ctx); err != nil {
		return page, 0, err
	}
	var lf []listing.Filter
	if f.Active != nil {
		lf = append(lf, listing.Filter{Where: "i.active = ?", Args: []any{*f.Active}})
	}
	if f.Category != "" {
		lf = append(lf, listing.Filter{Where: "i.category = ?", Args: []any{f.Category}})
	}
	if f.ServiceID != 0 {
		lf = append(lf, listing.Filter{Where: "i.service_id = ?", Args: []any{f.ServiceID}})
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		lf = append(lf, listing.Filter{Where: `LOWER(i.name) LIKE ? ESCAPE '\'`, Args: []any{"%" + escapeLike(strings.ToLower(q)) + "%"}})
	}
	p.Fields = ""
	return listing.Fetch(ctx, s.db, itemSource, p, lf)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
