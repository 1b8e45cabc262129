package controls

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
)

// RegisterAPI adds the endpoints of the process controls to a. Reading needs a
// signed-in caller; every change is decided inside the service by the RACI of
// the record's process (its Establish, Monitor or Evaluate activity). Workflow
// steps (submit, approve, plan, close, accept…) go through the record kernel's
// POST /api/v1/records/{number}/actions/{action}.
func RegisterAPI(a *httpx.API, s *Service) {
	registerDocuments(a, s)
	registerFindings(a, s)
	registerEvaluations(a, s)
}

// CodePath is the {code} of a process path.
type CodePath struct {
	Code string `path:"code" maxLength:"64" doc:"Process code, such as IM or ChM."`
}

// NumberPath is the {number} of a control record's path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The record number, such as PFD0000001."`
}

// listIn is a list of one process's control records.
type listIn struct {
	CodePath
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
	Sort   string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (id, number, state, priority, createdAt, updatedAt); a leading '-' sorts descending."`
	State  string `query:"state" maxLength:"40" doc:"Only records in this state."`
}

func (in *listIn) params() listing.Params {
	return listing.Params{Limit: in.Limit, Cursor: in.Cursor, Sort: in.Sort}
}

// next is the Link header to the next page of a list.
func (in *listIn) next(path, cursor string) string {
	if cursor == "" {
		return ""
	}
	q := url.Values{"cursor": {cursor}, "limit": {strconv.Itoa(in.Limit)}}
	if in.Sort != "" {
		q.Set("sort", in.Sort)
	}
	if in.State != "" {
		q.Set("state", in.State)
	}
	return "<" + path + "?" + q.Encode() + `>; rel="next"`
}

// RecordFields are the record fields every control record is created with.
type RecordFields struct {
	Title       string `json:"title" minLength:"1" maxLength:"200"`
	Description string `json:"description,omitempty" maxLength:"32000" doc:"A summary."`
	Marking     string `json:"marking,omitempty" maxLength:"64" doc:"The classification marking; UNCLASSIFIED when absent."`
}

// RecordPatch are the record fields every control record may change.
type RecordPatch struct {
	Title       *string `json:"title,omitempty" maxLength:"200"`
	Description *string `json:"description,omitempty" maxLength:"32000"`
	Marking     *string `json:"marking,omitempty" maxLength:"64"`
}

type documentCreateIn struct {
	CodePath
	Body struct {
		RecordFields
		Kind DocumentKind `json:"kind" enum:"policy,procedure,kpi_definition,tool_requirement"`
		Body string       `json:"body,omitempty" maxLength:"32000" doc:"The document's text."`
		KPI  *KPI         `json:"kpi,omitempty" doc:"Required for a kpi_definition; refused for other kinds."`
	}
}

type documentPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		RecordPatch
		Body *string `json:"body,omitempty" maxLength:"32000"`
		KPI  *KPI    `json:"kpi,omitempty"`
	}
}

type versionIn struct {
	NumberPath
	Body *struct {
		Title       *string `json:"title,omitempty" maxLength:"200"`
		Description *string `json:"description,omitempty" maxLength:"32000"`
		Body        *string `json:"body,omitempty" maxLength:"32000" doc:"The new version's text; the current text when absent."`
		KPI         *KPI    `json:"kpi,omitempty"`
	}
}

func registerDocuments(a *httpx.API, s *Service) {
	tag := []string{"Process controls"}
	httpx.Register(a, huma.Operation{OperationID: "list-process-documents", Method: http.MethodGet,
		Path: "/api/v1/processes/{code}/documents", Summary: "A process's framework documents (policies, procedures, KPI definitions, tool requirements)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *listIn) (*httpx.Page[Document], error) {
			p, total, err := s.Documents(ctx, in.Code, ListFilter{State: in.State}, in.params())
			if err != nil {
				return nil, err
			}
			return &httpx.Page[Document]{TotalCount: total, Link: in.next("/api/v1/processes/"+url.PathEscape(in.Code)+"/documents", p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-process-document", Method: http.MethodPost,
		Path: "/api/v1/processes/{code}/documents", Summary: "Draft a process framework document", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs the process's Establish activity (IM1 for IM): you need R or A for it. " +
			"422 for an unknown process or one without the RecordFields controls (EVAL, CSI)."},
		httpx.Authenticated, func(ctx context.Context, in *documentCreateIn) (*httpx.One[Document], error) {
			b := in.Body
			d, err := s.CreateDocument(ctx, in.Code, NewDocument{Title: b.Title, Description: b.Description, Marking: b.Marking,
				Kind: b.Kind, Body: b.Body, KPI: b.KPI})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Document]{ETag: httpx.ETag(d.Version), Body: d}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-process-document", Method: http.MethodGet,
		Path: "/api/v1/process-documents/{number}", Summary: "A process framework document", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[Document], error) {
			d, err := s.Document(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Document]{ETag: httpx.ETag(d.Version), Body: d}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-process-document", Method: http.MethodPatch,
		Path: "/api/v1/process-documents/{number}", Summary: "Change a draft process framework document", Tags: tag,
		Description: "Only a draft changes; an approved document changes through a new version. Needs R or A for the process's Establish activity."},
		httpx.Authenticated, func(ctx context.Context, in *documentPatchIn) (*httpx.One[Document], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			d, err := s.UpdateDocument(ctx, in.Number, v, DocumentUpdate{Title: b.Title, Description: b.Description,
				Marking: b.Marking, Body: b.Body, KPI: b.KPI})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Document]{ETag: httpx.ETag(d.Version), Body: d}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-process-document-version", Method: http.MethodPost,
		Path: "/api/v1/process-documents/{number}/versions", Summary: "Draft the next version of an approved document", Tags: tag,
		DefaultStatus: http.StatusCreated,
		Description: "The new version is a new draft record that supersedes the approved one when it is approved. " +
			"Performs the process's Establish activity; 409 when the document is not the approved version or a new version is already in the making."},
		httpx.Authenticated, func(ctx context.Context, in *versionIn) (*httpx.One[Document], error) {
			var nv NewVersion
			if b := in.Body; b != nil {
				nv = NewVersion{Title: b.Title, Description: b.Description, Body: b.Body, KPI: b.KPI}
			}
			d, err := s.NewVersion(ctx, in.Number, nv)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Document]{ETag: httpx.ETag(d.Version), Body: d}, nil
		})
}

type findingCreateIn struct {
	CodePath
	Body struct {
		RecordFields
		Severity    Severity `json:"severity" enum:"low,medium,high,critical"`
		Observation string   `json:"observation" minLength:"1" maxLength:"32000" doc:"What monitoring found."`
	}
}

type findingPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		RecordPatch
		Severity    *Severity `json:"severity,omitempty" enum:"low,medium,high,critical"`
		Observation *string   `json:"observation,omitempty" maxLength:"32000"`
	}
}

type actionAddIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The finding's ETag; required."`
	Body    struct {
		Description string `json:"description" minLength:"1" maxLength:"4000"`
		OwnerID     int64  `json:"ownerId" minimum:"1" doc:"The user who carries the action out."`
		DueDate     string `json:"dueDate" maxLength:"10" doc:"YYYY-MM-DD, today or later."`
	}
}

type actionPatchIn struct {
	NumberPath
	ID      int64  `path:"id" minimum:"1" doc:"The corrective action's id."`
	IfMatch string `header:"If-Match" doc:"The finding's ETag; required."`
	Body    struct {
		Status      *ActionStatus `json:"status,omitempty" enum:"open,in_progress,done,cancelled"`
		Note        *string       `json:"note,omitempty" maxLength:"4000"`
		Description *string       `json:"description,omitempty" maxLength:"4000"`
		OwnerID     *int64        `json:"ownerId,omitempty" minimum:"1"`
		DueDate     *string       `json:"dueDate,omitempty" maxLength:"10"`
	}
}

func registerFindings(a *httpx.API, s *Service) {
	tag := []string{"Process controls"}
	httpx.Register(a, huma.Operation{OperationID: "list-findings", Method: http.MethodGet,
		Path: "/api/v1/processes/{code}/findings", Summary: "A process's monitor, manage and report findings", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *listIn) (*httpx.Page[Finding], error) {
			p, total, err := s.Findings(ctx, in.Code, ListFilter{State: in.State}, in.params())
			if err != nil {
				return nil, err
			}
			return &httpx.Page[Finding]{TotalCount: total, Link: in.next("/api/v1/processes/"+url.PathEscape(in.Code)+"/findings", p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-finding", Method: http.MethodPost,
		Path: "/api/v1/processes/{code}/findings", Summary: "Record a monitor, manage and report finding", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs the process's Monitor, Manage and Report activity (IM7 for IM): you need R or A for it."},
		httpx.Authenticated, func(ctx context.Context, in *findingCreateIn) (*httpx.One[Finding], error) {
			b := in.Body
			f, err := s.CreateFinding(ctx, in.Code, NewFinding{Title: b.Title, Description: b.Description, Marking: b.Marking,
				Severity: b.Severity, Observation: b.Observation})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Finding]{ETag: httpx.ETag(f.Version), Body: f}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-finding", Method: http.MethodGet,
		Path: "/api/v1/findings/{number}", Summary: "A finding with its corrective actions", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[Finding], error) {
			f, err := s.Finding(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Finding]{ETag: httpx.ETag(f.Version), Body: f}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-finding", Method: http.MethodPatch,
		Path: "/api/v1/findings/{number}", Summary: "Change an open finding", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *findingPatchIn) (*httpx.One[Finding], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			f, err := s.UpdateFinding(ctx, in.Number, v, FindingUpdate{Title: b.Title, Description: b.Description,
				Marking: b.Marking, Severity: b.Severity, Observation: b.Observation})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Finding]{ETag: httpx.ETag(f.Version), Body: f}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-corrective-action", Method: http.MethodPost,
		Path: "/api/v1/findings/{number}/corrective-actions", Summary: "Add a corrective action to a finding", Tags: tag,
		DefaultStatus: http.StatusCreated,
		Description:   "Performs the process's Monitor, Manage and Report activity; answers with the finding and its new ETag."},
		httpx.Authenticated, func(ctx context.Context, in *actionAddIn) (*httpx.One[Finding], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			f, err := s.AddCorrectiveAction(ctx, in.Number, v, NewAction{Description: b.Description, OwnerID: b.OwnerID, DueDate: b.DueDate})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Finding]{ETag: httpx.ETag(f.Version), Body: f}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-corrective-action", Method: http.MethodPatch,
		Path: "/api/v1/findings/{number}/corrective-actions/{id}", Summary: "Report on or change a corrective action", Tags: tag,
		Description: "The action's owner may change its status and note; anything else needs R or A for the process's Monitor, Manage and Report activity."},
		httpx.Authenticated, func(ctx context.Context, in *actionPatchIn) (*httpx.One[Finding], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			f, err := s.UpdateCorrectiveAction(ctx, in.Number, in.ID, v, ActionUpdate{Status: b.Status, Note: b.Note,
				Description: b.Description, OwnerID: b.OwnerID, DueDate: b.DueDate})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Finding]{ETag: httpx.ETag(f.Version), Body: f}, nil
		})
}

// EvaluationFields are an evaluation's own fields in a request.
type EvaluationFields struct {
	Period       string        `json:"period,omitempty" maxLength:"100" doc:"The time the evaluation covers, such as FY2025 Q2."`
	Feedback     []Feedback    `json:"feedback,omitempty" maxItems:"200"`
	Measurements []Measurement `json:"measurements,omitempty" maxItems:"200"`
	GapAnalysis  string        `json:"gapAnalysis,omitempty" maxLength:"32000"`
	Initiatives  []Initiative  `json:"initiatives,omitempty" maxItems:"200" doc:"Recommended improvement initiatives."`
}

type evaluationCreateIn struct {
	CodePath
	Body struct {
		RecordFields
		EvaluationFields
	}
}

type evaluationPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		RecordPatch
		Period       *string        `json:"period,omitempty" maxLength:"100"`
		Feedback     *[]Feedback    `json:"feedback,omitempty" maxItems:"200"`
		Measurements *[]Measurement `json:"measurements,omitempty" maxItems:"200"`
		GapAnalysis  *string        `json:"gapAnalysis,omitempty" maxLength:"32000"`
		Initiatives  *[]Initiative  `json:"initiatives,omitempty" maxItems:"200"`
	}
}

func registerEvaluations(a *httpx.API, s *Service) {
	tag := []string{"Process controls"}
	httpx.Register(a, huma.Operation{OperationID: "list-evaluations", Method: http.MethodGet,
		Path: "/api/v1/processes/{code}/evaluations", Summary: "A process's performance evaluations", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *listIn) (*httpx.Page[Evaluation], error) {
			p, total, err := s.Evaluations(ctx, in.Code, ListFilter{State: in.State}, in.params())
			if err != nil {
				return nil, err
			}
			return &httpx.Page[Evaluation]{TotalCount: total, Link: in.next("/api/v1/processes/"+url.PathEscape(in.Code)+"/evaluations", p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-evaluation", Method: http.MethodPost,
		Path: "/api/v1/processes/{code}/evaluations", Summary: "Draft an evaluation of process performance", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs the process's Evaluate Process Performance activity (IM8 for IM): you need R or A for it."},
		httpx.Authenticated, func(ctx context.Context, in *evaluationCreateIn) (*httpx.One[Evaluation], error) {
			b := in.Body
			e, err := s.CreateEvaluation(ctx, in.Code, NewEvaluation{Title: b.Title, Description: b.Description, Marking: b.Marking,
				Period: b.Period, Feedback: b.Feedback, Measurements: b.Measurements, GapAnalysis: b.GapAnalysis, Initiatives: b.Initiatives})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Evaluation]{ETag: httpx.ETag(e.Version), Body: e}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-evaluation", Method: http.MethodGet,
		Path: "/api/v1/evaluations/{number}", Summary: "An evaluation of process performance", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[Evaluation], error) {
			e, err := s.Evaluation(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Evaluation]{ETag: httpx.ETag(e.Version), Body: e}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-evaluation", Method: http.MethodPatch,
		Path: "/api/v1/evaluations/{number}", Summary: "Change a draft evaluation (a list given replaces the list)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *evaluationPatchIn) (*httpx.One[Evaluation], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			e, err := s.UpdateEvaluation(ctx, in.Number, v, EvaluationUpdate{Title: b.Title, Description: b.Description,
				Marking: b.Marking, Period: b.Period, Feedback: b.Feedback, Measurements: b.Measurements,
				GapAnalysis: b.GapAnalysis, Initiatives: b.Initiatives})
			if err != nil {
				return nil, err
			}
			return &httpx.One[Evaluation]{ETag: httpx.ETag(e.Version), Body: e}, nil
		})
}
