package asset

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// RegisterAPI adds the asset management endpoints to a. Reading needs a
// signed-in caller; every change is decided inside the service by the AM RACI
// for the activity it performs. Lifecycle steps (receive, store, deploy,
// repair, retire, report_missing, found; resolve and close of a remediation
// task) go through the record kernel's POST /api/v1/records/{number}/actions/{action};
// dispose goes through POST /api/v1/assets/{number}/dispose, which carries the
// disposal record.
func RegisterAPI(a *httpx.API, s *Service) {
	registerAssets(a, s)
	registerTransfer(a, s)
	registerLicences(a, s)
	registerAudits(a, s)
}

// NumberPath is the {number} of an asset's path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The asset's number, such as AST0000001."`
}

// PageParams are the paging parameters of a list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
}

func (p PageParams) params(sort string) listing.Params {
	return listing.Params{Limit: p.Limit, Cursor: p.Cursor, Sort: sort}
}

// AssetFilter are the query filters of the asset list and the export.
type AssetFilter struct {
	Kind           string `query:"kind" enum:"hardware,software,licence,facility" doc:"Only assets of this kind."`
	State          string `query:"state" maxLength:"40" doc:"Only assets in this state."`
	AssignedUserID int64  `query:"assignedUserId" minimum:"0" doc:"Only assets assigned to this user."`
	LocationCIID   int64  `query:"locationCiId" minimum:"0" doc:"Only assets at this location CI."`
	Product        string `query:"product" maxLength:"200" doc:"Only assets of this product (name or key)."`
	Q              string `query:"q" maxLength:"100" doc:"Only assets whose tag or serial number starts with this."`
}

func (f AssetFilter) filter() ListFilter {
	return ListFilter{Kind: Kind(f.Kind), State: f.State, AssignedUserID: f.AssignedUserID, LocationCIID: f.LocationCIID,
		Product: f.Product, Q: f.Q}
}

func (f AssetFilter) values() url.Values {
	return url.Values{"kind": {f.Kind}, "state": {f.State}, "assignedUserId": {strconv.FormatInt(f.AssignedUserID, 10)},
		"locationCiId": {strconv.FormatInt(f.LocationCIID, 10)}, "product": {f.Product}, "q": {f.Q}}
}

type assetListIn struct {
	PageParams
	AssetFilter
	Sort string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (number, state, assetTag, createdAt, updatedAt); a leading '-' sorts descending. Newest first by default."`
}

// AssetInput are an asset's fields in a create request. Money is in minor
// units of the currency (cents); dates are YYYY-MM-DD.
type AssetInput struct {
	Title        string `json:"title,omitempty" maxLength:"200" doc:"Defaults to the manufacturer, model and tag."`
	Description  string `json:"description,omitempty" maxLength:"32000"`
	Marking      string `json:"marking,omitempty" maxLength:"64" doc:"The classification marking; UNCLASSIFIED when absent."`
	Kind         Kind   `json:"kind,omitempty" enum:"hardware,software,licence,facility" doc:"Required."`
	AssetTag     string `json:"assetTag,omitempty" maxLength:"64" doc:"Unique; stored upper-case."`
	SerialNumber string `json:"serialNumber,omitempty" maxLength:"100"`
	Manufacturer string `json:"manufacturer,omitempty" maxLength:"200"`
	Model        string `json:"model,omitempty" maxLength:"200"`
	CIID         int64  `json:"ciId,omitempty" minimum:"0" doc:"The CMDB configuration item the asset is."`
	CostMinor    int64  `json:"costMinor,omitempty" minimum:"0" doc:"Purchase cost in minor units (cents)."`
	Currency     string `json:"currency,omitempty" maxLength:"3" doc:"ISO 4217 code; USD when absent."`
	PurchaseDate string `json:"purchaseDate,omitempty" maxLength:"10" doc:"YYYY-MM-DD."`
	// DepreciationMethod is none when absent.
	DepreciationMethod Method `json:"depreciationMethod,omitempty" enum:"straight_line,declining_balance,none"`
	UsefulLifeMonths   int64  `json:"usefulLifeMonths,omitempty" minimum:"0" maximum:"1200"`
	SalvageMinor       int64  `json:"salvageMinor,omitempty" minimum:"0" doc:"Value at the end of the useful life, in minor units."`
	WarrantyEnd        string `json:"warrantyEnd,omitempty" maxLength:"10" doc:"YYYY-MM-DD."`
	ContractRef        string `json:"contractRef,omitempty" maxLength:"200"`
	Supplier           string `json:"supplier,omitempty" maxLength:"200"`
	AssignedUserID     int64  `json:"assignedUserId,omitempty" minimum:"0" doc:"The user who holds the asset."`
	LocationCIID       int64  `json:"locationCiId,omitempty" minimum:"0" doc:"The location CI where the asset is."`
	Product            string `json:"product,omitempty" maxLength:"200" doc:"Software and licences: the product, normalised to a key such as microsoft-visio-2021."`
	Entitlements       int64  `json:"entitlements,omitempty" minimum:"0" doc:"Licences: the seats granted."`
	LicenceMetric      Metric `json:"licenceMetric,omitempty" enum:"per_install,per_user" doc:"Licences: per_install when absent."`
}

func (b AssetInput) newAsset() NewAsset {
	return NewAsset{Title: b.Title, Description: b.Description, Marking: b.Marking, Details: Details{Kind: b.Kind,
		AssetTag: b.AssetTag, SerialNumber: b.SerialNumber, Manufacturer: b.Manufacturer, Model: b.Model, CIID: b.CIID,
		CostMinor: b.CostMinor, Currency: b.Currency, PurchaseDate: b.PurchaseDate, Depreciation: b.DepreciationMethod,
		UsefulLifeMonths: b.UsefulLifeMonths, SalvageMinor: b.SalvageMinor, WarrantyEnd: b.WarrantyEnd, ContractRef: b.ContractRef,
		Supplier: b.Supplier, AssignedUserID: b.AssignedUserID, LocationCIID: b.LocationCIID, Product: b.Product,
		Entitlements: b.Entitlements, LicenceMetric: b.LicenceMetric}}
}

// AssetPatch are the fields of an asset to change; absent ones stay. For
// ciId, assignedUserId and locationCiId 0 clears; for dates "" clears.
type AssetPatch struct {
	Title              *string `json:"title,omitempty" maxLength:"200"`
	Description        *string `json:"description,omitempty" maxLength:"32000"`
	Marking            *string `json:"marking,omitempty" maxLength:"64"`
	Kind               *Kind   `json:"kind,omitempty" enum:"hardware,software,licence,facility"`
	AssetTag           *string `json:"assetTag,omitempty" maxLength:"64"`
	SerialNumber       *string `json:"serialNumber,omitempty" maxLength:"100"`
	Manufacturer       *string `json:"manufacturer,omitempty" maxLength:"200"`
	Model              *string `json:"model,omitempty" maxLength:"200"`
	CIID               *int64  `json:"ciId,omitempty" minimum:"0"`
	CostMinor          *int64  `json:"costMinor,omitempty" minimum:"0"`
	Currency           *string `json:"currency,omitempty" maxLength:"3"`
	PurchaseDate       *string `json:"purchaseDate,omitempty" maxLength:"10"`
	DepreciationMethod *Method `json:"depreciationMethod,omitempty" enum:"straight_line,declining_balance,none"`
	UsefulLifeMonths   *int64  `json:"usefulLifeMonths,omitempty" minimum:"0" maximum:"1200"`
	SalvageMinor       *int64  `json:"salvageMinor,omitempty" minimum:"0"`
	WarrantyEnd        *string `json:"warrantyEnd,omitempty" maxLength:"10"`
	ContractRef        *string `json:"contractRef,omitempty" maxLength:"200"`
	Supplier           *string `json:"supplier,omitempty" maxLength:"200"`
	AssignedUserID     *int64  `json:"assignedUserId,omitempty" minimum:"0" doc:"The user who holds the asset; 0 clears."`
	LocationCIID       *int64  `json:"locationCiId,omitempty" minimum:"0" doc:"The location CI; 0 clears."`
	Product            *string `json:"product,omitempty" maxLength:"200"`
	Entitlements       *int64  `json:"entitlements,omitempty" minimum:"0"`
	LicenceMetric      *Metric `json:"licenceMetric,omitempty" enum:"per_install,per_user"`
}

func (b AssetPatch) change() Change {
	return Change{Title: b.Title, Description: b.Description, Marking: b.Marking, Kind: b.Kind, AssetTag: b.AssetTag,
		SerialNumber: b.SerialNumber, Manufacturer: b.Manufacturer, Model: b.Model, CIID: b.CIID, CostMinor: b.CostMinor,
		Currency: b.Currency, PurchaseDate: b.PurchaseDate, Depreciation: b.DepreciationMethod, UsefulLifeMonths: b.UsefulLifeMonths,
		SalvageMinor: b.SalvageMinor, WarrantyEnd: b.WarrantyEnd, ContractRef: b.ContractRef, Supplier: b.Supplier,
		AssignedUserID: b.AssignedUserID, LocationCIID: b.LocationCIID, Product: b.Product, Entitlements: b.Entitlements,
		LicenceMetric: b.LicenceMetric}
}

type assetCreateIn struct {
	Body AssetInput
}

type assetPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    AssetPatch
}

type assetDisposeIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Method         DisposalMethod `json:"method" enum:"resale,donation,recycling,destruction,return_to_vendor"`
		Date           string         `json:"date" maxLength:"10" doc:"The day of the disposal, YYYY-MM-DD."`
		CertificateRef string         `json:"certificateRef" maxLength:"200" doc:"The disposal or destruction certificate's reference."`
		Notes          string         `json:"notes,omitempty" maxLength:"4000"`
		Comment        string         `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
	}
}

type stepOut struct {
	Status int
	ETag   string `header:"ETag"`
	Body   AssetStepResult
}

func registerAssets(a *httpx.API, s *Service) {
	tag := []string{"Assets"}
	httpx.Register(a, huma.Operation{OperationID: "list-assets", Method: http.MethodGet, Path: "/api/v1/assets",
		Summary: "Assets, filtered and keyset-paginated", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *assetListIn) (*httpx.Page[Asset], error) {
			p, total, err := s.List(ctx, in.filter(), in.params(in.Sort))
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			return &httpx.Page[Asset]{TotalCount: total, Link: listing.NextLink("/api/v1/assets", lp, in.values(), p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-asset", Method: http.MethodPost, Path: "/api/v1/assets",
		Summary: "Record an ordered asset", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Record and Control Assets (AM2): you need R or A for it. 422 names a missing kind, an unknown " +
			"user or CI, or a field that breaks a rule; 409 names an asset tag another asset has."},
		httpx.Authenticated, func(ctx context.Context, in *assetCreateIn) (*httpx.One[Asset], error) {
			as, err := s.Create(ctx, in.Body.newAsset())
			if err != nil {
				return nil, err
			}
			return &httpx.One[Asset]{ETag: httpx.ETag(as.Version), Body: as}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-asset", Method: http.MethodGet, Path: "/api/v1/assets/{number}",
		Summary: "An asset with its book value today", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[Asset], error) {
			as, err := s.Asset(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Asset]{ETag: httpx.ETag(as.Version), Body: as}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-asset", Method: http.MethodPatch, Path: "/api/v1/assets/{number}",
		Summary: "Change an asset, its assignment to a user or a location among its fields", Tags: tag,
		Description: "Performs Maintain Asset Record Information (AM3); every changed field is audited with its old and new value. " +
			"A disposed asset's record is closed (409)."},
		httpx.Authenticated, func(ctx context.Context, in *assetPatchIn) (*httpx.One[Asset], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			as, err := s.Update(ctx, in.Number, v, in.Body.change())
			if err != nil {
				return nil, err
			}
			return &httpx.One[Asset]{ETag: httpx.ETag(as.Version), Body: as}, nil
		})
	resultSchema := a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[AssetStepResult](), true, "AssetStepResult")
	httpx.Register(a, huma.Operation{OperationID: "dispose-asset", Method: http.MethodPost, Path: "/api/v1/assets/{number}/dispose",
		Summary: "Dispose of a retired asset with its disposal record", Tags: tag,
		Description: "Performs Retire and Dispose of Assets (AM6) through the record kernel: the disposal record is written in the " +
			"step's transaction. 200 when the asset is disposed of; 202 when the step waits for consultation (C) or approval (A), " +
			"with the disposal record kept for it. The kernel's dispose action without this endpoint's disposal record is refused (409).",
		Responses: map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: resultSchema}}}}},
		httpx.Authenticated, func(ctx context.Context, in *assetDisposeIn) (*stepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			res, err := s.Dispose(ctx, in.Number, v, Disposal{Method: b.Method, Date: b.Date, CertificateRef: b.CertificateRef,
				Notes: b.Notes}, b.Comment)
			if err != nil {
				return nil, err
			}
			out := &stepOut{Status: http.StatusAccepted, Body: res}
			if res.Outcome != record.OutcomeAwaitingApproval && res.Outcome != record.OutcomeAwaitingConsultation {
				out.Status = http.StatusOK
				out.ETag = httpx.ETag(res.Asset.Version)
			}
			return out, nil
		})
}

type importIn struct {
	Format  string `query:"format" enum:"csv,json" default:"csv" doc:"The body's format."`
	DryRun  bool   `query:"dryRun" doc:"Report what the import would do, and every problem, without writing anything."`
	RawBody []byte `contentType:"text/csv"`
}

type importOut struct{ Body AssetImportReport }

type exportIn struct {
	AssetFilter
	Format string `query:"format" enum:"csv,json" default:"csv" doc:"csv or json."`
}

type exportOut struct {
	ContentType    string `header:"Content-Type"`
	Disposition    string `header:"Content-Disposition"`
	Classification string `header:"X-Classification"`
	Count          int    `header:"X-Total-Count"`
	Cache          string `header:"Cache-Control"`
	Body           []byte
}

func registerTransfer(a *httpx.API, s *Service) {
	tag := []string{"Assets"}
	httpx.Register(a, huma.Operation{OperationID: "import-assets", Method: http.MethodPost, Path: "/api/v1/assets/import",
		Summary: "Import assets from CSV or JSON", Tags: tag, MaxBodyBytes: 8 << 20,
		Description: "Send the file as the raw request body: CSV (text/csv; a header row of column names, as the export writes) or " +
			"JSON (an array of assets, or an export's object with items; as application/json up to 1 MiB, larger as text/plain). " +
			"A row updates the asset its assetTag, else its serialNumber, else its number identifies, and creates one otherwise; " +
			"an empty cell or absent field leaves a field as it is. Unknown columns or fields are refused and nothing is written. " +
			"dryRun=true answers 200 with what each row would do and every problem (row, field, message). Without it a file with " +
			"any problem is 422, naming each as rows[n].field, and nothing is written. Creating performs AM2, updating AM3."},
		httpx.Authenticated, func(ctx context.Context, in *importIn) (*importOut, error) {
			rep, err := s.Import(ctx, in.Format, in.RawBody, in.DryRun)
			if err != nil {
				return nil, err
			}
			return &importOut{Body: rep}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "export-assets", Method: http.MethodGet, Path: "/api/v1/assets/export",
		Summary: "Export the assets a filter matches, as CSV or JSON", Tags: tag,
		Description: "The classification banner is the first and the last line of a CSV export and the classification field of a " +
			"JSON export, and is sent as the X-Classification header; every asset carries its own marking. The export can be " +
			"imported again: its read-only columns are ignored.",
		Responses: map[string]*huma.Response{"200": {Description: "The export, as a download.",
			Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}},
				"application/json": {Schema: &huma.Schema{Type: "object"}}}}}},
		httpx.Authenticated, func(ctx context.Context, in *exportIn) (*exportOut, error) {
			ex, err := s.Export(ctx, in.filter(), in.Format)
			if err != nil {
				return nil, err
			}
			return &exportOut{ContentType: ex.ContentType, Classification: ex.Classification, Count: ex.Count,
				Disposition: `attachment; filename="assets.` + in.Format + `"`, Cache: "no-store", Body: ex.Body}, nil
		})
}

type installationListIn struct {
	PageParams
	Sort      string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (id, product, discoveredAt); by product by default."`
	Product   string `query:"product" maxLength:"200" doc:"Only installations of this product (name or key)."`
	HostAsset string `query:"hostAsset" maxLength:"32" doc:"Only installations on this asset."`
	HostCIID  int64  `query:"hostCiId" minimum:"0" doc:"Only installations on this CI."`
}

type assetInstallationCreateIn struct {
	Body struct {
		Product      string `json:"product" minLength:"1" maxLength:"200" doc:"The product's name or key; normalised to a key such as microsoft-visio-2021."`
		Version      string `json:"version,omitempty" maxLength:"100"`
		HostAsset    string `json:"hostAsset,omitempty" maxLength:"32" doc:"The number of the asset it is installed on."`
		HostCIID     int64  `json:"hostCiId,omitempty" minimum:"0" doc:"The CI it is installed on."`
		DiscoveredAt string `json:"discoveredAt,omitempty" format:"date-time" doc:"When it was discovered; now when absent."`
		Source       string `json:"source,omitempty" maxLength:"200" doc:"The discovery tool or feed."`
	}
}

type installationOut struct{ Body SoftwareInstallation }

type idPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type complianceIn struct {
	Product string `query:"product" maxLength:"200" doc:"Only this product (name or key)."`
}

// LicenceComplianceReport is the licence compliance report.
type LicenceComplianceReport struct {
	Items []LicencePosition `json:"items"`
	// Compliant, UnderLicensed and OverLicensed count the products in each status.
	Compliant     int `json:"compliant"`
	UnderLicensed int `json:"underLicensed"`
	OverLicensed  int `json:"overLicensed"`
}

type complianceOut struct{ Body LicenceComplianceReport }

func registerLicences(a *httpx.API, s *Service) {
	tag := []string{"Assets"}
	httpx.Register(a, huma.Operation{OperationID: "get-licence-compliance", Method: http.MethodGet, Path: "/api/v1/assets/licence-compliance",
		Summary: "Licence compliance per product: entitlements against installations", Tags: tag,
		Description: "Entitlements sum the seats of the product's licence assets that are not retired, disposed or missing. " +
			"under_licensed carries the shortfall, over_licensed the surplus."},
		httpx.Authenticated, func(ctx context.Context, in *complianceIn) (*complianceOut, error) {
			rows, err := s.Compliance(ctx, in.Product)
			if err != nil {
				return nil, err
			}
			out := &complianceOut{Body: LicenceComplianceReport{Items: rows}}
			for _, r := range rows {
				switch r.Status {
				case Compliant:
					out.Body.Compliant++
				case UnderLicensed:
					out.Body.UnderLicensed++
				case OverLicensed:
					out.Body.OverLicensed++
				}
			}
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-installations", Method: http.MethodGet, Path: "/api/v1/assets/installations",
		Summary: "Discovered software installations", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *installationListIn) (*httpx.Page[SoftwareInstallation], error) {
			p, total, err := s.Installations(ctx, SoftwareInstallationFilter{Product: in.Product, HostAsset: in.HostAsset, HostCIID: in.HostCIID},
				in.params(in.Sort))
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			f := url.Values{"product": {in.Product}, "hostAsset": {in.HostAsset}, "hostCiId": {strconv.FormatInt(in.HostCIID, 10)}}
			return &httpx.Page[SoftwareInstallation]{TotalCount: total, Link: listing.NextLink("/api/v1/assets/installations", lp, f, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-installation", Method: http.MethodPost, Path: "/api/v1/assets/installations",
		Summary: "Record a discovered software installation", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Name the host by hostAsset, hostCiId or both. Monitoring installed software is part of AM4: you need R or A for it."},
		httpx.Authenticated, func(ctx context.Context, in *assetInstallationCreateIn) (*installationOut, error) {
			b := in.Body
			ni := NewSoftwareInstallation{Product: b.Product, Version: b.Version, HostAsset: b.HostAsset, HostCIID: b.HostCIID, Source: b.Source}
			if b.DiscoveredAt != "" {
				t, err := parseTime(b.DiscoveredAt)
				if err != nil {
					return nil, err
				}
				ni.DiscoveredAt = t
			}
			out, err := s.RecordInstallation(ctx, ni)
			if err != nil {
				return nil, err
			}
			return &installationOut{Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-installation", Method: http.MethodDelete, Path: "/api/v1/assets/installations/{id}",
		Summary: "Delete an installation that is gone or was recorded in error", Tags: tag, DefaultStatus: http.StatusNoContent,
		Description: "Performs AM4: you need R or A for it."},
		httpx.Authenticated, func(ctx context.Context, in *idPath) (*struct{}, error) {
			return nil, s.DeleteInstallation(ctx, in.ID)
		})
}

type auditListIn struct {
	PageParams
	Sort         string `query:"sort" maxLength:"200" doc:"id or createdAt, with a leading '-' for descending; newest first by default."`
	LocationCIID int64  `query:"locationCiId" minimum:"0" doc:"Only audits of this location."`
}

type assetAuditCreateIn struct {
	DryRun bool `query:"dryRun" doc:"Report the result without storing or changing anything."`
	Body   struct {
		LocationCIID int64    `json:"locationCiId,omitempty" minimum:"0" doc:"The audited location CI; absent audits every physical asset."`
		Observed     []string `json:"observed" maxItems:"10000" doc:"The asset tags or serial numbers observed."`
		Note         string   `json:"note,omitempty" maxLength:"4000"`
	}
}

type auditOut struct {
	Status int
	Body   InventoryAudit
}

func registerAudits(a *httpx.API, s *Service) {
	tag := []string{"Assets"}
	httpx.Register(a, huma.Operation{OperationID: "list-asset-audits", Method: http.MethodGet, Path: "/api/v1/asset-audits",
		Summary: "Inventory audits, newest first", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *auditListIn) (*httpx.Page[InventoryAudit], error) {
			p, total, err := s.Audits(ctx, in.LocationCIID, in.params(in.Sort))
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			f := url.Values{"locationCiId": {strconv.FormatInt(in.LocationCIID, 10)}}
			return &httpx.Page[InventoryAudit]{TotalCount: total, Link: listing.NextLink("/api/v1/asset-audits", lp, f, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "run-asset-audit", Method: http.MethodPost, Path: "/api/v1/asset-audits",
		Summary: "Run an inventory audit of a location", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Reconciles the observed tags or serial numbers against the asset records: found, missing (recorded there " +
			"but not observed) and unexpected (observed but recorded elsewhere, in another state, or unknown). dryRun=true answers " +
			"200 and changes nothing. Otherwise (201) the audit is stored, report_missing (AM4) is performed on every missing asset " +
			"and a remediation task (AM5) is opened for every missing or unexpected row; you need R or A for AM4."},
		httpx.Authenticated, func(ctx context.Context, in *assetAuditCreateIn) (*auditOut, error) {
			b := in.Body
			res, err := s.RunAudit(ctx, NewInventoryAudit{LocationCIID: b.LocationCIID, Observed: b.Observed, Note: b.Note, DryRun: in.DryRun})
			if err != nil {
				return nil, err
			}
			status := http.StatusCreated
			if in.DryRun {
				status = http.StatusOK
			}
			return &auditOut{Status: status, Body: res}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-asset-audit", Method: http.MethodGet, Path: "/api/v1/asset-audits/{id}",
		Summary: "An inventory audit with its result rows", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *idPath) (*auditOut, error) {
			res, err := s.Audit(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &auditOut{Status: http.StatusOK, Body: res}, nil
		})
}

// parseTime reads an RFC 3339 time of a request body.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, errs.Field("body.discoveredAt", "a time as RFC 3339, such as 2025-03-01T09:00:00Z", s)
	}
	return t, nil
}
