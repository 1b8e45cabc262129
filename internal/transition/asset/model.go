// Package asset is Asset Management (DESMF §9.3.2, process AM): assets as
// work records of the record kernel, from order to disposal.
//
// An asset's life is its record's states, and every step performs an AM
// activity, so the AM RACI decides who may take it: receiving records and
// controls the asset (AM2); storing, deploying and repairing maintain its
// record (AM3); reporting it missing monitors and audits (AM4); finding it
// again remediates (AM5); retiring and disposing of it is AM6. Changing an
// asset's fields (its assignment to a user or a location among them) performs
// AM3 and is audited field by field.
//
// Next to the lifecycle: licence compliance (entitlements of licence assets
// against discovered installations, AM4), inventory audits that reconcile what
// was observed at a location against the records, report the missing assets
// and open remediation tasks (AM4, AM5), and import and export as CSV or JSON.
//
// model.go and rules.go are pure code; store.go holds the SQL; service*.go the
// use cases, one kernel transaction each; api*.go the JSON API.
package asset

import (
	"time"

	"steward/internal/platform/record"
)

// Process is the DESMF process whose RACI governs assets.
const Process = "AM"

// The record types of asset management, as the record kernel knows them.
const (
	// AssetType is an asset.
	AssetType = "asset"
	// RemediationType is a remediation task for an asset an audit found missing or unexpected.
	RemediationType = "asset_remediation"
)

// The number prefixes.
const (
	AssetPrefix       = "AST"
	RemediationPrefix = "AREM"
)

// The AM activities the steps perform.
const (
	ActRecord    = "AM2" // Record and Control Assets
	ActMaintain  = "AM3" // Maintain Asset Record Information
	ActAudit     = "AM4" // Monitor, Audit and Reconcile Asset Records
	ActRemediate = "AM5" // Conduct Asset Remediation
	ActRetire    = "AM6" // Retire and Dispose of Assets
)

// The asset states.
const (
	Ordered   = "ordered"
	Received  = "received"
	InStorage = "in_storage"
	Deployed  = "deployed"
	InRepair  = "in_repair"
	Missing   = "missing"
	Retired   = "retired"
	Disposed  = "disposed"
)

// The remediation task states.
const (
	RemediationOpen     = "open"
	RemediationResolved = "resolved"
	RemediationClosed   = "closed"
)

// Kind is what an asset is.
type Kind string

// The asset kinds DESMF's AM scope names.
const (
	Hardware Kind = "hardware"
	Software Kind = "software"
	Licence  Kind = "licence"
	Facility Kind = "facility"
)

// Kinds lists every kind.
var Kinds = []Kind{Hardware, Software, Licence, Facility}

// Physical reports whether assets of the kind can be seen and counted in an inventory audit.
func (k Kind) Physical() bool { return k == Hardware || k == Facility }

// Method is how an asset's cost depreciates.
type Method string

// The depreciation methods.
const (
	// StraightLine spreads cost minus salvage evenly over the useful life.
	StraightLine Method = "straight_line"
	// DecliningBalance is double-declining balance, switching to straight line
	// once that depreciates more.
	DecliningBalance Method = "declining_balance"
	// NoDepreciation keeps the book value at cost.
	NoDepreciation Method = "none"
)

// Methods lists every depreciation method.
var Methods = []Method{StraightLine, DecliningBalance, NoDepreciation}

// Metric is how a licence counts its use.
type Metric string

// The licence metrics.
const (
	// PerInstall counts installations.
	PerInstall Metric = "per_install"
	// PerUser counts the distinct users of the host assets.
	PerUser Metric = "per_user"
)

// Metrics lists every licence metric.
var Metrics = []Metric{PerInstall, PerUser}

// DisposalMethod is how an asset left the organisation.
type DisposalMethod string

// The disposal methods.
const (
	Resale         DisposalMethod = "resale"
	Donation       DisposalMethod = "donation"
	Recycling      DisposalMethod = "recycling"
	Destruction    DisposalMethod = "destruction"
	ReturnToVendor DisposalMethod = "return_to_vendor"
)

// DisposalMethods lists every disposal method.
var DisposalMethods = []DisposalMethod{Resale, Donation, Recycling, Destruction, ReturnToVendor}

// Details are an asset's own fields, as stored. Money is in minor units of
// Currency (cents for USD); dates are YYYY-MM-DD, or empty.
type Details struct {
	Kind Kind `json:"kind" enum:"hardware,software,licence,facility"`
	// AssetTag is the organisation's tag, unique when set; stored upper-case.
	AssetTag string `json:"assetTag,omitempty"`
	// SerialNumber is the manufacturer's serial number; stored upper-case.
	SerialNumber string `json:"serialNumber,omitempty"`
	Manufacturer string `json:"manufacturer,omitempty"`
	Model        string `json:"model,omitempty"`
	// CIID is the configuration item the asset is, or 0.
	CIID int64 `json:"ciId,omitempty"`
	// CostMinor is the purchase cost in minor units of Currency.
	CostMinor int64 `json:"costMinor"`
	// Currency is an ISO 4217 code; USD when not given.
	Currency     string `json:"currency"`
	PurchaseDate string `json:"purchaseDate,omitempty" format:"date"`
	// Depreciation is the depreciation method.
	Depreciation     Method `json:"depreciationMethod" enum:"straight_line,declining_balance,none"`
	UsefulLifeMonths int64  `json:"usefulLifeMonths,omitempty"`
	// SalvageMinor is the value left at the end of the useful life, in minor units.
	SalvageMinor int64  `json:"salvageMinor,omitempty"`
	WarrantyEnd  string `json:"warrantyEnd,omitempty" format:"date"`
	ContractRef  string `json:"contractRef,omitempty"`
	Supplier     string `json:"supplier,omitempty"`
	// AssignedUserID is the user who holds the asset, or 0.
	AssignedUserID int64 `json:"assignedUserId,omitempty"`
	// LocationCIID is the location CI where the asset is, or 0.
	LocationCIID int64 `json:"locationCiId,omitempty"`
	// Product is the normalised product key of a software or licence asset, such as microsoft-visio-2021.
	Product string `json:"product,omitempty"`
	// Entitlements are the seats a licence grants.
	Entitlements int64 `json:"entitlements,omitempty"`
	// LicenceMetric is how a licence counts its use.
	LicenceMetric Metric `json:"licenceMetric,omitempty" enum:"per_install,per_user"`
}

// Disposal is how, when and with what evidence an asset was disposed of.
type Disposal struct {
	Method DisposalMethod `json:"method" enum:"resale,donation,recycling,destruction,return_to_vendor"`
	// Date is the day of the disposal, YYYY-MM-DD.
	Date string `json:"date" format:"date"`
	// CertificateRef is the disposal or destruction certificate's reference.
	CertificateRef string `json:"certificateRef"`
	Notes          string `json:"notes,omitempty"`
	RecordedBy     int64  `json:"recordedBy,omitempty" readOnly:"true"`
	// RecordedAt is when the disposal record was given.
	RecordedAt time.Time `json:"recordedAt,omitzero" readOnly:"true"`
	// AppliedAt is when the asset moved to disposed; zero while the step waits.
	AppliedAt time.Time `json:"appliedAt,omitzero" readOnly:"true"`
}

// Asset is an asset: its work record, its own fields and what follows from them.
type Asset struct {
	record.Record
	Details
	// BookValueMinor is the value today after depreciation, in minor units.
	BookValueMinor int64 `json:"bookValueMinor" readOnly:"true"`
	// CIName names the CI, when there is one.
	CIName           string `json:"ciName,omitempty" readOnly:"true"`
	AssignedUserName string `json:"assignedUserName,omitempty" readOnly:"true"`
	LocationName     string `json:"locationName,omitempty" readOnly:"true"`
	// UnderWarranty is true until the warranty's last day.
	UnderWarranty bool `json:"underWarranty" readOnly:"true"`
	// Disposal is the disposal record, once one was given.
	Disposal *Disposal `json:"disposal,omitempty" readOnly:"true"`
}

// NewAsset is what an asset is created from. It starts ordered.
type NewAsset struct {
	// Title defaults to the manufacturer, model and tag.
	Title       string
	Description string
	Marking     string
	Details
}

// Change holds the fields of an asset to change; nil leaves a field as it is.
// For CIID, AssignedUserID and LocationCIID 0 clears; for dates "" clears.
type Change struct {
	Title            *string
	Description      *string
	Marking          *string
	Kind             *Kind
	AssetTag         *string
	SerialNumber     *string
	Manufacturer     *string
	Model            *string
	CIID             *int64
	CostMinor        *int64
	Currency         *string
	PurchaseDate     *string
	Depreciation     *Method
	UsefulLifeMonths *int64
	SalvageMinor     *int64
	WarrantyEnd      *string
	ContractRef      *string
	Supplier         *string
	AssignedUserID   *int64
	LocationCIID     *int64
	Product          *string
	Entitlements     *int64
	LicenceMetric    *Metric
}

// apply returns d with the change's own fields applied.
func (c Change) apply(d Details) Details {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setID := func(dst *int64, v *int64) {
		if v != nil {
			*dst = *v
		}
	}
	if c.Kind != nil {
		d.Kind = *c.Kind
	}
	set(&d.AssetTag, c.AssetTag)
	set(&d.SerialNumber, c.SerialNumber)
	set(&d.Manufacturer, c.Manufacturer)
	set(&d.Model, c.Model)
	setID(&d.CIID, c.CIID)
	setID(&d.CostMinor, c.CostMinor)
	set(&d.Currency, c.Currency)
	set(&d.PurchaseDate, c.PurchaseDate)
	if c.Depreciation != nil {
		d.Depreciation = *c.Depreciation
	}
	setID(&d.UsefulLifeMonths, c.UsefulLifeMonths)
	setID(&d.SalvageMinor, c.SalvageMinor)
	set(&d.WarrantyEnd, c.WarrantyEnd)
	set(&d.ContractRef, c.ContractRef)
	set(&d.Supplier, c.Supplier)
	setID(&d.AssignedUserID, c.AssignedUserID)
	setID(&d.LocationCIID, c.LocationCIID)
	set(&d.Product, c.Product)
	setID(&d.Entitlements, c.Entitlements)
	if c.LicenceMetric != nil {
		d.LicenceMetric = *c.LicenceMetric
	}
	return d
}

// empty reports whether the change changes nothing.
func (c Change) empty() bool { return c == Change{} }

// ListFilter narrows a list of assets; zero fields match everything.
type ListFilter struct {
	Kind           Kind
	State          string
	AssignedUserID int64
	LocationCIID   int64
	// Product is a product key; it is normalised before matching.
	Product string
	// Q is the start of an asset tag or a serial number.
	Q string
}

// SoftwareInstallation is a discovered software installation.
type SoftwareInstallation struct {
	ID int64 `json:"id"`
	// Product is the normalised product key.
	Product string `json:"product"`
	Version string `json:"version,omitempty"`
	// HostAsset is the number of the asset it is installed on, if known.
	HostAsset string `json:"hostAsset,omitempty"`
	// HostCIID is the CI it is installed on, if known.
	HostCIID     int64     `json:"hostCiId,omitempty"`
	HostCIName   string    `json:"hostCiName,omitempty"`
	DiscoveredAt time.Time `json:"discoveredAt"`
	// Source names the discovery tool or feed.
	Source    string    `json:"source,omitempty"`
	CreatedBy int64     `json:"createdBy,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	hostID    int64
}

// NewSoftwareInstallation is what an installation is recorded from: a host asset, a host CI, or both.
type NewSoftwareInstallation struct {
	Product string
	Version string
	// HostAsset is an asset number.
	HostAsset string
	HostCIID  int64
	// DiscoveredAt defaults to now.
	DiscoveredAt time.Time
	Source       string
}

// SoftwareInstallationFilter narrows a list of installations.
type SoftwareInstallationFilter struct {
	Product   string
	HostAsset string
	HostCIID  int64
}

// Compliance is where a product stands against its licences.
type Compliance string

// The compliance statuses.
const (
	Compliant     Compliance = "compliant"
	UnderLicensed Compliance = "under_licensed"
	OverLicensed  Compliance = "over_licensed"
)

// LicencePosition is one product's licence position.
type LicencePosition struct {
	Product string `json:"product"`
	// Metric is how use is counted: per_user when every licence of the product is per user, else per_install.
	Metric Metric `json:"metric" enum:"per_install,per_user"`
	// Entitlements sums the seats of the product's licences that are not retired, disposed or missing.
	Entitlements int64 `json:"entitlements"`
	// Licences counts those licence assets.
	Licences int64 `json:"licences"`
	// Installations counts the product's installations.
	Installations int64 `json:"installations"`
	// Consumption is what the licences must cover: installations, or distinct users for per_user.
	Consumption int64      `json:"consumption"`
	Status      Compliance `json:"status" enum:"compliant,under_licensed,over_licensed"`
	// Shortfall is how many more seats are needed, when under-licensed.
	Shortfall int64 `json:"shortfall,omitempty"`
	// Surplus is how many seats are unused, when over-licensed.
	Surplus int64 `json:"surplus,omitempty"`
}

// AuditResult classifies one row of an inventory audit.
type AuditResult string

// The audit results.
const (
	// Found: observed and recorded there.
	Found AuditResult = "found"
	// NotObserved: recorded there (or deployed there) but not observed. Stored as "missing".
	NotObserved AuditResult = "missing"
	// Unexpected: observed but recorded elsewhere, in a state it should not be seen in, or unknown.
	Unexpected AuditResult = "unexpected"
)

// InventoryItem is one row of an inventory audit's result.
type InventoryItem struct {
	Result AuditResult `json:"result" enum:"found,missing,unexpected"`
	// Observed is the tag or serial number as observed; empty for a missing asset.
	Observed string `json:"observed,omitempty"`
	// Asset is the number of the asset the row is about; empty for an unknown tag.
	Asset        string `json:"asset,omitempty"`
	AssetTag     string `json:"assetTag,omitempty"`
	SerialNumber string `json:"serialNumber,omitempty"`
	// State is the asset's state when the audit ran.
	State string `json:"state,omitempty"`
	// RecordedLocationCIID is where the records put the asset.
	RecordedLocationCIID int64 `json:"recordedLocationCiId,omitempty"`
	// Reason explains a missing or unexpected row.
	Reason string `json:"reason,omitempty"`
	// Step is what applying did to the asset: the report_missing step's outcome, or why it did nothing.
	Step string `json:"step,omitempty"`
	// Remediation is the number of the remediation task applying opened.
	Remediation string `json:"remediation,omitempty"`
	assetID     int64
}

// InventoryAudit is an inventory audit with its result rows.
type InventoryAudit struct {
	// ID is 0 for a dry run, which stores nothing.
	ID           int64  `json:"id"`
	DryRun       bool   `json:"dryRun"`
	LocationCIID int64  `json:"locationCiId,omitempty"`
	LocationName string `json:"locationName,omitempty"`
	Note         string `json:"note,omitempty"`
	// Observed counts the distinct tags and serial numbers observed.
	Observed      int64           `json:"observed"`
	Found         int64           `json:"found"`
	Missing       int64           `json:"missing"`
	Unexpected    int64           `json:"unexpected"`
	Items         []InventoryItem `json:"items,omitempty"`
	CreatedBy     int64           `json:"createdBy,omitempty"`
	CreatedByName string          `json:"createdByName,omitempty"`
	CreatedAt     time.Time       `json:"createdAt"`
}

// NewInventoryAudit is what an inventory audit is run from.
type NewInventoryAudit struct {
	// LocationCIID is the audited location; 0 audits every physical asset.
	LocationCIID int64
	// Observed are the asset tags or serial numbers seen.
	Observed []string
	Note     string
	// DryRun reports without storing or changing anything.
	DryRun bool
}
