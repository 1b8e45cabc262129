package cmdb

import (
	"bytes"
	"context"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb/reconcile"
)

// The endpoints of baselines, verification audits, and bulk import and
// export. Reading needs a signed-in caller; every change is decided inside
// the service by the CfM RACI (CfM2, CfM3 or CfM5).
//
// Files (imports and discovery files) are the raw request body, up to
// MaxFileBytes: send CSV as text/csv and JSON as application/json. The API
// limits application/json bodies to 1 MiB, so send a larger JSON file with
// any other content type (application/octet-stream, application/x-ndjson)
// and format=json, or use CSV.

// MaxFileBytes is the largest file an import or audit endpoint accepts.
const MaxFileBytes = 32 << 20

const controlTag = "Configuration management"

func registerControlAPI(a *httpx.API, s *Service) {
	registerBaselineAPI(a, s)
	registerAuditAPI(a, s)
	registerBulkAPI(a, s)
}

// ctlPage is a list response.
type ctlPage[T any] struct {
	TotalCount int64  `header:"X-Total-Count"`
	Link       string `header:"Link"`
	Body       listing.Page[T]
}

type ctlOne[T any] struct {
	Body T
}

// ctlCreated is a response whose status says whether something was stored.
type ctlCreated[T any] struct {
	Status int
	Body   T
}

// ControlIDPath is the {id} of a baseline or an audit.
type ControlIDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

// ControlListParams are the paging parameters of the lists of baselines and audits.
type ControlListParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
	Sort   string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields; a leading '-' sorts descending."`
}

func (in *ControlListParams) params() listing.Params {
	return listing.Params{Limit: in.Limit, Cursor: in.Cursor, Sort: in.Sort}
}

// ControlNamedList is a list filtered by name prefix.
type ControlNamedList struct {
	ControlListParams
	Name string `query:"name" maxLength:"200" doc:"Only those whose name starts with this."`
}

// fileFormat is the format of an uploaded file: the format parameter, else
// the content type's.
func fileFormat(param, contentType string) (reconcile.Format, error) {
	if param != "" {
		return reconcile.Format(param), nil
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "text/csv":
		return reconcile.FormatCSV, nil
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		return reconcile.FormatJSON, nil
	}
	return "", errs.Field("query.format", "say format=csv or format=json, or send text/csv or application/json", contentType)
}

func registerBaselineAPI(a *httpx.API, s *Service) {
	tag := []string{controlTag}
	httpx.Register(a, huma.Operation{OperationID: "list-baselines", Method: http.MethodGet, Path: "/api/v1/baselines",
		Summary: "Configuration baselines", Tags: tag, Description: "Sortable by id, name and takenAt; newest first by default."},
		httpx.Authenticated, func(ctx context.Context, in *ControlNamedList) (*ctlPage[Baseline], error) {
			p, total, err := s.Baselines(ctx, in.Name, in.params())
			if err != nil {
				return nil, err
			}
			return &ctlPage[Baseline]{TotalCount: total, Body: p,
				Link: listing.NextLink("/api/v1/baselines", in.params(), url.Values{"name": {in.Name}}, p.NextCursor)}, nil
		})
	type createIn struct {
		Body struct {
			Name        string        `json:"name" minLength:"1" maxLength:"200"`
			Description string        `json:"description,omitempty" maxLength:"4000"`
			Scope       BaselineScope `json:"scope,omitempty" doc:"Every CI when absent."`
		}
	}
	httpx.Register(a, huma.Operation{OperationID: "create-baseline", Method: http.MethodPost, Path: "/api/v1/baselines",
		Summary: "Take a configuration baseline", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Copies the CIs of the scope as they are now, and the relations among them (CfM3: you need R or A for it). " +
			"The scope names CIs (cis), a service and everything it depends on (serviceId), or neither for every CI; class and status narrow it. " +
			"Baselines are evidence: they cannot be changed or deleted. 409 when the name is taken."},
		httpx.Authenticated, func(ctx context.Context, in *createIn) (*ctlOne[Baseline], error) {
			b, err := s.CreateBaseline(ctx, NewBaseline{Name: in.Body.Name, Description: in.Body.Description, Scope: in.Body.Scope})
			if err != nil {
				return nil, err
			}
			return &ctlOne[Baseline]{Body: b}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-baseline", Method: http.MethodGet, Path: "/api/v1/baselines/{id}",
		Summary: "A configuration baseline", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *ControlIDPath) (*ctlOne[Baseline], error) {
			b, err := s.Baseline(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &ctlOne[Baseline]{Body: b}, nil
		})
	type itemsIn struct {
		ControlIDPath
		ControlListParams
	}
	httpx.Register(a, huma.Operation{OperationID: "list-baseline-items", Method: http.MethodGet, Path: "/api/v1/baselines/{id}/items",
		Summary: "The CIs of a baseline, as it recorded them", Tags: tag, Description: "Sortable by ciId and name."},
		httpx.Authenticated, func(ctx context.Context, in *itemsIn) (*ctlPage[BaselineItem], error) {
			p, total, err := s.BaselineItems(ctx, in.ID, in.params())
			if err != nil {
				return nil, err
			}
			return &ctlPage[BaselineItem]{TotalCount: total, Body: p,
				Link: listing.NextLink("/api/v1/baselines/"+strconv.FormatInt(in.ID, 10)+"/items", in.params(), nil, p.NextCursor)}, nil
		})
	type compareIn struct {
		ControlIDPath
		Against string `query:"against" maxLength:"20" default:"now" doc:"now (re-evaluating the baseline's scope) or the id of another baseline."`
	}
	httpx.Register(a, huma.Operation{OperationID: "compare-baseline", Method: http.MethodGet, Path: "/api/v1/baselines/{id}/compare",
		Summary: "What differs between a baseline and now, or another baseline", Tags: tag,
		Description: "Added, removed and changed CIs (each change as field, old, new) and added and removed relations, ordered by CI id; " +
			"each list holds at most 10,000 entries, the summary counts them all."},
		httpx.Authenticated, func(ctx context.Context, in *compareIn) (*ctlOne[Comparison], error) {
			var against int64
			if in.Against != "" && in.Against != "now" {
				n, err := strconv.ParseInt(in.Against, 10, 64)
				if err != nil || n < 1 {
					return nil, errs.Field("query.against", "now, or the id of a baseline", in.Against)
				}
				against = n
			}
			c, err := s.CompareBaseline(ctx, in.ID, against)
			if err != nil {
				return nil, err
			}
			return &ctlOne[Comparison]{Body: c}, nil
		})
}

// ControlFileParams is an uploaded file, the raw request body.
type ControlFileParams struct {
	Format      string `query:"format" enum:"csv,json" doc:"csv or json; from the Content-Type when absent."`
	DryRun      bool   `query:"dryRun" doc:"Check and report, writing nothing."`
	Source      string `query:"source" maxLength:"255" doc:"The file's name, kept with the result."`
	ContentType string `header:"Content-Type"`
	RawBody     []byte `contentType:"text/csv"`
}

func registerAuditAPI(a *httpx.API, s *Service) {
	tag := []string{controlTag}
	httpx.Register(a, huma.Operation{OperationID: "list-ci-audits", Method: http.MethodGet, Path: "/api/v1/audits",
		Summary: "Configuration verification audits", Tags: tag, Description: "Sortable by id, name and createdAt; newest first by default."},
		httpx.Authenticated, func(ctx context.Context, in *ControlNamedList) (*ctlPage[Audit], error) {
			p, total, err := s.Audits(ctx, in.Name, in.params())
			if err != nil {
				return nil, err
			}
			return &ctlPage[Audit]{TotalCount: total, Body: p,
				Link: listing.NextLink("/api/v1/audits", in.params(), url.Values{"name": {in.Name}}, p.NextCursor)}, nil
		})
	type runIn struct {
		ControlFileParams
		Name      string `query:"name" required:"true" minLength:"1" maxLength:"200" doc:"The audit's name."`
		Remediate bool   `query:"remediate" doc:"Open a remediation task (config_remediation) per finding, up to 500."`
		Class     string `query:"class" maxLength:"63" doc:"The scope: CIs of this class and its subclasses (configuration_item when absent)."`
		Status    string `query:"status" maxLength:"20" doc:"The scope: only CIs in this status."`
		Rules     string `query:"rules" maxLength:"500" doc:"Identification rules in priority order, fields joined by +: serial_number;hostname+domain when absent."`
		Compare   string `query:"compare" maxLength:"2000" doc:"Comma-separated fields to compare; every observed attribute of the scope's class when absent."`
	}
	httpx.Register(a, huma.Operation{OperationID: "run-ci-audit", Method: http.MethodPost, Path: "/api/v1/audits",
		Summary: "Reconcile a discovery file with the CMDB (verification and audit)", Tags: tag,
		Description: "The body is the discovery file (CSV or JSON, up to 32 MiB; JSON over 1 MiB must not be sent as application/json). " +
			"Reports missing, unexpected and mismatched CIs; 201 with the stored audit, 200 for a dry run. A column that is not name, class, " +
			"status or an attribute of the scope's classes is refused (422 naming it) and nothing is stored. Performs CfM5: you need R or A for it.",
		MaxBodyBytes: MaxFileBytes, BodyReadTimeout: 2 * time.Minute},
		httpx.Authenticated, func(ctx context.Context, in *runIn) (*ctlCreated[AuditReport], error) {
			f, err := fileFormat(in.Format, in.ContentType)
			if err != nil {
				return nil, err
			}
			rules, err := ParseRules("query.rules", in.Rules)
			if err != nil {
				return nil, err
			}
			var compare []string
			if strings.TrimSpace(in.Compare) != "" {
				compare = []string{}
				for _, c := range strings.Split(in.Compare, ",") {
					if c = strings.TrimSpace(c); c != "" {
						compare = append(compare, c)
					}
				}
			}
			rep, err := s.RunAudit(ctx, NewAudit{Name: in.Name, Scope: AuditScope{Class: in.Class, Status: Status(in.Status)}, Rules: rules,
				Compare: compare, Format: f, Source: bytes.NewReader(in.RawBody), SourceName: in.Source, DryRun: in.DryRun, Remediate: in.Remediate})
			if err != nil {
				return nil, err
			}
			status := http.StatusCreated
			if rep.DryRun {
				status = http.StatusOK
			}
			return &ctlCreated[AuditReport]{Status: status, Body: rep}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-ci-audit", Method: http.MethodGet, Path: "/api/v1/audits/{id}",
		Summary: "A configuration verification audit", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *ControlIDPath) (*ctlOne[Audit], error) {
			au, err := s.Audit(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &ctlOne[Audit]{Body: au}, nil
		})
	type findingsIn struct {
		ControlIDPath
		ControlListParams
		Kind string `query:"kind" enum:"missing,unexpected,mismatched" doc:"Only findings of this kind."`
	}
	httpx.Register(a, huma.Operation{OperationID: "list-ci-audit-findings", Method: http.MethodGet, Path: "/api/v1/audits/{id}/findings",
		Summary: "The findings of a verification audit", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *findingsIn) (*ctlPage[AuditFinding], error) {
			p, total, err := s.AuditFindings(ctx, in.ID, in.Kind, in.params())
			if err != nil {
				return nil, err
			}
			return &ctlPage[AuditFinding]{TotalCount: total, Body: p,
				Link: listing.NextLink("/api/v1/audits/"+strconv.FormatInt(in.ID, 10)+"/findings", in.params(), url.Values{"kind": {in.Kind}}, p.NextCursor)}, nil
		})
}

// streamOut is a streamed file download.
type streamOut struct {
	ContentType string `header:"Content-Type"`
	Disposition string `header:"Content-Disposition"`
	Cache       string `header:"Cache-Control"`
	Body        func(huma.Context)
}

// stream writes an export after its headers; a failure part way can only be
// logged, as the status has gone.
func stream(a *httpx.API, format reconcile.Format, name string, write exportWriter) *streamOut {
	ct := "text/csv; charset=utf-8"
	if format == reconcile.FormatJSON {
		ct = "application/json"
	}
	return &streamOut{ContentType: ct, Cache: "private, no-store",
		Disposition: mime.FormatMediaType("attachment", map[string]string{"filename": name + "." + string(format)}),
		Body: func(hc huma.Context) {
			hc.SetStatus(http.StatusOK)
			if err := write(hc.Context(), hc.BodyWriter()); err != nil {
				a.Log.ErrorContext(hc.Context(), "export failed part way", "err", err.Error(), "request_id", httpx.RequestID(hc.Context()))
			}
		}}
}

var exportResponses = map[string]*huma.Response{"200": {Description: "The file, as a download, with the classification banner on its first line.",
	Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}, "application/json": {Schema: &huma.Schema{Type: "object"}}}}}

func registerBulkAPI(a *httpx.API, s *Service) {
	tag := []string{controlTag}
	type importIn struct {
		ControlFileParams
		Rules     string `query:"rules" maxLength:"500" doc:"Identification rules for rows without an id, in priority order: serial_number;hostname+domain when absent."`
		ChangeRef string `query:"changeRef" maxLength:"64" doc:"The approved change covering the updates; without one each updated CI is flagged as changed without authority."`
	}
	httpx.Register(a, huma.Operation{OperationID: "import-cis", Method: http.MethodPost, Path: "/api/v1/cis/import",
		Summary: "Import CIs from a CSV or JSON file", Tags: tag,
		Description: "Columns: id (to update that CI), class, name, status, marking, minUp and attribute names; an empty cell leaves a field as it is. " +
			"A row without an id updates the CI its identification rules find (of its class or a subclass) instead of creating one. " +
			"All or nothing: any problem is a 422 listing each row's errors (up to 1,000) and nothing is written. Creating needs R or A for CfM2, " +
			"updating for CfM3. Files up to 32 MiB; JSON over 1 MiB must not be sent as application/json.",
		MaxBodyBytes: MaxFileBytes, BodyReadTimeout: 2 * time.Minute},
		httpx.Authenticated, func(ctx context.Context, in *importIn) (*ctlOne[ImportReport], error) {
			f, err := fileFormat(in.Format, in.ContentType)
			if err != nil {
				return nil, err
			}
			rules, err := ParseRules("query.rules", in.Rules)
			if err != nil {
				return nil, err
			}
			rep, err := s.ImportCIs(ctx, ImportOptions{Format: f, Source: bytes.NewReader(in.RawBody), SourceName: in.Source, DryRun: in.DryRun,
				Rules: rules, ChangeRef: in.ChangeRef})
			if err != nil {
				return nil, err
			}
			return &ctlOne[ImportReport]{Body: rep}, nil
		})
	type relImportIn struct {
		ControlFileParams
		ChangeRef string `query:"changeRef" maxLength:"64" doc:"The approved change covering the new relations."`
	}
	httpx.Register(a, huma.Operation{OperationID: "import-relations", Method: http.MethodPost, Path: "/api/v1/relations/import",
		Summary: "Import relations from a CSV or JSON file", Tags: tag,
		Description: "Columns: type, and for each end source_/target_ id, or name (with class when the name alone is not unique). " +
			"Existing relations are unchanged; all or nothing as for CIs. Needs R or A for CfM3.",
		MaxBodyBytes: MaxFileBytes, BodyReadTimeout: 2 * time.Minute},
		httpx.Authenticated, func(ctx context.Context, in *relImportIn) (*ctlOne[RelationImportReport], error) {
			f, err := fileFormat(in.Format, in.ContentType)
			if err != nil {
				return nil, err
			}
			rep, err := s.ImportRelations(ctx, RelationImportOptions{Format: f, Source: bytes.NewReader(in.RawBody), SourceName: in.Source,
				DryRun: in.DryRun, ChangeRef: in.ChangeRef})
			if err != nil {
				return nil, err
			}
			return &ctlOne[RelationImportReport]{Body: rep}, nil
		})
	type ciExportIn struct {
		Format string `query:"format" enum:"csv,json" default:"csv"`
		Class  string `query:"class" maxLength:"63" doc:"Only CIs of this class and its subclasses."`
		Status string `query:"status" maxLength:"20"`
		Name   string `query:"name" maxLength:"200" doc:"Only CIs whose name starts with this."`
		Attr   string `query:"attr" maxLength:"63" doc:"With value: only CIs whose indexed attribute attr equals value."`
		Value  string `query:"value" maxLength:"1000"`
	}
	httpx.Register(a, huma.Operation{OperationID: "export-cis", Method: http.MethodGet, Path: "/api/v1/cis/export",
		Summary: "Export CIs as CSV or JSON", Tags: tag, Responses: exportResponses,
		Description: "Every matching CI, streamed: CSV with the columns id, class, name, status, marking, minUp and the attributes of the class, " +
			"or JSON {classification, items}. The first line carries the classification marking (CSV: also the last). Imports back unchanged."},
		httpx.Authenticated, func(ctx context.Context, in *ciExportIn) (*streamOut, error) {
			f := reconcile.Format(in.Format)
			write, err := s.prepareCIExport(ctx, ExportOptions{Format: f, Banner: s.bannerText(ctx),
				Filter: CIFilter{Class: in.Class, Status: Status(in.Status), Name: in.Name, Attr: in.Attr, Value: in.Value}})
			if err != nil {
				return nil, err
			}
			return stream(a, f, "cis", write), nil
		})
	type relExportIn struct {
		Format string `query:"format" enum:"csv,json" default:"csv"`
		Class  string `query:"class" maxLength:"63" doc:"Only relations whose source is of this class or a subclass."`
		Status string `query:"status" maxLength:"20" doc:"Only relations whose source is in this status."`
		Type   string `query:"type" maxLength:"63" doc:"Only relations of this type."`
	}
	httpx.Register(a, huma.Operation{OperationID: "export-relations", Method: http.MethodGet, Path: "/api/v1/relations/export",
		Summary: "Export relations as CSV or JSON", Tags: tag, Responses: exportResponses,
		Description: "Every matching current relation, streamed, in the columns the relation import reads."},
		httpx.Authenticated, func(ctx context.Context, in *relExportIn) (*streamOut, error) {
			f := reconcile.Format(in.Format)
			write, err := s.prepareRelationExport(ctx, RelationExportOptions{Format: f, Type: in.Type, Banner: s.bannerText(ctx),
				Filter: CIFilter{Class: in.Class, Status: Status(in.Status)}})
			if err != nil {
				return nil, err
			}
			return stream(a, f, "relations", write), nil
		})
}
