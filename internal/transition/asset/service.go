package asset

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// Deps are what asset management needs.
type Deps struct {
	DB *db.DB
	// Records is the work-record kernel assets are records of; its RACI guard decides every step.
	Records *record.Service
	// Trail audits what is not a record change: installations, audits, disposal records.
	Trail *audit.Trail
	// Events announces them, in the same transaction.
	Events *outbox.Outbox
	Clock  clock.Clock
	// Banner returns the classification banner every export carries (the
	// settings' BannerText). An error fails the export rather than mislabel it;
	// without Banner, or with an empty text, exports read record.DefaultMarking.
	Banner func(ctx context.Context) (string, error)
}

// Service holds the use cases of asset management. Each mutation is one
// transaction of the record kernel, or its own, with its audit entries and outbox events.
type Service struct {
	db      *db.DB
	records *record.Service
	trail   *audit.Trail
	events  *outbox.Outbox
	clock   clock.Clock
	banner  func(ctx context.Context) (string, error)
}

// New returns asset management over d and registers its record types with the kernel.
func New(d Deps) (*Service, error) {
	if d.DB == nil || d.Records == nil || d.Trail == nil || d.Events == nil {
		return nil, fmt.Errorf("asset: DB, Records, Trail and Events are required")
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	s := &Service{db: d.DB, records: d.Records, trail: d.Trail, events: d.Events, clock: d.Clock, banner: d.Banner}
	for _, t := range []record.Type{s.assetType(), s.remediationType()} {
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
		panic("asset: " + err.Error())
	}
	return s
}

// classification is the banner text exports carry.
func (s *Service) classification(ctx context.Context) (string, error) {
	if s.banner == nil {
		return record.DefaultMarking, nil
	}
	b, err := s.banner(ctx)
	if err != nil {
		return "", fmt.Errorf("read the classification banner: %w", err)
	}
	if b = strings.TrimSpace(b); b == "" {
		return record.DefaultMarking, nil
	}
	return b, nil
}

// detailFields is the audited view of an asset's own fields.
func detailFields(d Details) map[string]any {
	return map[string]any{"kind": string(d.Kind), "assetTag": d.AssetTag, "serialNumber": d.SerialNumber,
		"manufacturer": d.Manufacturer, "model": d.Model, "ciId": d.CIID, "costMinor": d.CostMinor, "currency": d.Currency,
		"purchaseDate": d.PurchaseDate, "depreciationMethod": string(d.Depreciation), "usefulLifeMonths": d.UsefulLifeMonths,
		"salvageMinor": d.SalvageMinor, "warrantyEnd": d.WarrantyEnd, "contractRef": d.ContractRef, "supplier": d.Supplier,
		"assignedUserId": d.AssignedUserID, "locationCiId": d.LocationCIID, "product": d.Product,
		"entitlements": d.Entitlements, "licenceMetric": string(d.LicenceMetric)}
}

var detailAudited = []string{"kind", "assetTag", "serialNumber", "manufacturer", "model", "ciId", "costMinor", "currency",
	"purchaseDate", "depreciationMethod", "usefulLifeMonths", "salvageMinor", "warrantyEnd", "contractRef", "supplier",
	"assignedUserId", "locationCiId", "product", "entitlements", "licenceMetric"}

func ids(rs []record.Record) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// assets joins records with their asset rows and disposal records, in the records' order.
func (s *Service) assets(ctx context.Context, q db.Queryer, rs []record.Record) ([]Asset, error) {
	rows, err := loadDetails(ctx, q, ids(rs))
	if err != nil {
		return nil, err
	}
	disposals, err := loadDisposals(ctx, q, ids(rs))
	if err != nil {
		return nil, err
	}
	today := s.clock.Now()
	out := make([]Asset, 0, len(rs))
	for _, r := range rs {
		row, ok := rows[r.ID]
		if !ok {
			return nil, fmt.Errorf("asset %s has no asset row", r.Number)
		}
		a := Asset{Record: r, Details: row.Details, BookValueMinor: BookValue(row.Details, today), CIName: row.CIName,
			AssignedUserName: row.UserName, LocationName: row.LocationName, UnderWarranty: underWarranty(row.WarrantyEnd, today)}
		if d, ok := disposals[r.ID]; ok {
			a.Disposal = &d
		}
		out = append(out, a)
	}
	return out, nil
}

// get reads an asset's record; a record of another type is not found.
func (s *Service) get(ctx context.Context, number string) (record.Record, error) {
	r, err := s.records.Get(ctx, number)
	if err != nil {
		return r, err
	}
	if r.Type != AssetType {
		return r, errs.E(errs.NotFound, "no asset %s", record.NormalizeNumber(number))
	}
	return r, nil
}

// Asset returns an asset by its number.
func (s *Service) Asset(ctx context.Context, number string) (out Asset, err error) {
	defer errs.Wrap(&err, "read asset %s", number)
	r, err := s.get(ctx, number)
	if err != nil {
		return out, err
	}
	as, err := s.assets(ctx, s.db, []record.Record{r})
	if err != nil {
		return out, err
	}
	return as[0], nil
}

// checkFilter validates a list filter's kind and state, naming the query parameter.
func (s *Service) checkFilter(f ListFilter) error {
	var fe fieldErrs
	if f.Kind != "" && !slices.Contains(Kinds, f.Kind) {
		fe.add("query.kind", "one of hardware, software, licence, facility", string(f.Kind))
	}
	if f.State != "" {
		t, err := s.records.Type(AssetType)
		if err != nil {
			return err
		}
		if _, ok := t.State(f.State); !ok {
			names := make([]string, len(t.States))
			for i, st := range t.States {
				names[i] = st.Name
			}
			fe.add("query.state", "one of "+strings.Join(names, ", "), f.State)
		}
	}
	if f.AssignedUserID < 0 {
		fe.add("query.assignedUserId", "a user id", f.AssignedUserID)
	}
	if f.LocationCIID < 0 {
		fe.add("query.locationCiId", "a CI id", f.LocationCIID)
	}
	if strings.TrimSpace(f.Product) != "" && ProductKey(f.Product) == "" {
		fe.add("query.product", "a product name or key, with at least one letter or digit", f.Product)
	}
	return fe.err()
}

// List pages the assets matching f, newest first unless p sorts otherwise.
func (s *Service) List(ctx context.Context, f ListFilter, p listing.Params) (page listing.Page[Asset], total int64, err error) {
	defer errs.Wrap(&err, "list assets")
	page.Items = []Asset{}
	if err := s.checkFilter(f); err != nil {
		return page, 0, err
	}
	p.Fields = ""
	rs, next, total, err := listAssets(ctx, s.db, f, p)
	if err != nil {
		return page, 0, err
	}
	items, err := s.assets(ctx, s.db, rs)
	if err != nil {
		return page, 0, err
	}
	page.Items, page.NextCursor = items, next
	return page, total, nil
}

// Create records an ordered asset. It performs Record and Control Assets
// (AM2): the caller needs R or A for it. Its user and CIs must exist and its
// tag must be unused.
func (s *Service) Create(ctx context.Context, in NewAsset) (out Asset, err error) {
	defer errs.Wrap(&err, "create an asset")
	d := in.Details
	normalize(&d)
	if err := validateDetails(d); err != nil {
		return out, err
	}
	title := in.Title
	if strings.TrimSpace(title) == "" {
		title = defaultTitle(d)
	}
	r, err := s.records.Create(ctx, AssetType, record.NewRecord{Title: title, Description: in.Description, Marking: in.Marking,
		With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
			if err := checkRefs(ctx, tx, d, Details{}); err != nil {
				return nil, err
			}
			if err := checkTag(ctx, tx, d.AssetTag, 0); err != nil {
				return nil, err
			}
			return audit.Diff(detailAudited, map[string]any{}, detailFields(d)), insertAsset(ctx, tx, r.ID, d)
		}})
	if err != nil {
		return out, err
	}
	return s.Asset(ctx, r.Number)
}

// Update changes an asset's fields, its assignment to a user and a location
// among them, each audited with its old and new value. It performs Maintain
// Asset Record Information (AM3). A disposed asset's record is closed.
func (s *Service) Update(ctx context.Context, number string, version int64, c Change) (out Asset, err error) {
	defer errs.Wrap(&err, "update asset %s", number)
	r, err := s.get(ctx, number)
	if err != nil {
		return out, err
	}
	if _, err := s.amend(ctx, r.Number, version, c); err != nil {
		return out, err
	}
	return s.Asset(ctx, r.Number)
}

// amend applies a change to an asset through the kernel, in one transaction.
func (s *Service) amend(ctx context.Context, number string, version int64, c Change) (record.Record, error) {
	return s.records.Amend(ctx, number, record.Amendment{Version: version,
		Fields: record.Update{Title: c.Title, Description: c.Description, Marking: c.Marking},
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			rows, err := loadDetails(ctx, tx, []int64{cur.ID})
			if err != nil {
				return nil, err
			}
			old := rows[cur.ID].Details
			n := c.apply(old)
			normalize(&n)
			if err := validateDetails(n); err != nil {
				return nil, err
			}
			if err := checkRefs(ctx, tx, n, old); err != nil {
				return nil, err
			}
			if n.AssetTag != old.AssetTag {
				if err := checkTag(ctx, tx, n.AssetTag, cur.ID); err != nil {
					return nil, err
				}
			}
			changes := audit.Diff(detailAudited, detailFields(old), detailFields(n))
			if len(changes) == 0 {
				return nil, nil
			}
			return changes, updateAsset(ctx, tx, cur.ID, n)
		}})
}

// AssetStepResult is what a lifecycle step given through asset management did.
type AssetStepResult struct {
	Outcome record.Outcome `json:"outcome" enum:"applied,awaiting_consultation,awaiting_approval,rejected,cancelled"`
	Asset   Asset          `json:"asset"`
	// Step is the waiting step, when the step waits for consultation or approval.
	Step          *record.Step          `json:"step,omitempty"`
	Consultations []record.Consultation `json:"consultations,omitempty"`
}

// Dispose disposes of a retired asset (AM6) with its disposal record, in the
// one transaction of the kernel's dispose step: the record is written with the
// step, or with the waiting step when AM6 asks for approval or consultation,
// and the asset becomes disposed when the step applies. The RACI guard
// decides as for any step; a dispose step without a disposal record is refused.
func (s *Service) Dispose(ctx context.Context, number string, version int64, d Disposal, comment string) (out AssetStepResult, err error) {
	defer errs.Wrap(&err, "dispose of asset %s", number)
	if err := validateDisposal(&d); err != nil {
		return out, err
	}
	r, err := s.get(ctx, number)
	if err != nil {
		return out, err
	}
	ctx = context.WithValue(ctx, disposalKey{}, givenDisposal{number: r.Number, disposal: d})
	res, err := s.records.Perform(ctx, r.Number, "dispose", record.PerformInput{Version: version, Comment: comment})
	if err != nil {
		return out, err
	}
	out.Outcome, out.Step, out.Consultations = res.Outcome, res.Step, res.Consultations
	out.Asset, err = s.Asset(ctx, r.Number)
	return out, err
}

// message is what a row of a report may say about err: a classified error's
// message and fields, never an internal error's detail.
func message(err error) string {
	e, ok := errs.As(err)
	if !ok || e.Kind == errs.Internal {
		return "internal error"
	}
	m := e.Message
	for _, f := range e.Fields {
		m += "; " + strings.TrimPrefix(f.Location, "body.") + ": " + f.Message
	}
	return m
}
