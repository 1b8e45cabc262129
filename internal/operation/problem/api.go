package problem

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// RegisterAPI adds the problem management and KEDB endpoints to a. Reading
// needs a signed-in caller; every change is decided inside the service by the
// PM RACI for the activity it performs. Workflow steps go through
// /api/v1/problems/{number}/actions/{action} and
// /api/v1/known-errors/{number}/actions/{action}.
func RegisterAPI(a *httpx.API, s *Service) {
	registerProblems(a, s)
	registerAnalysis(a, s)
	registerKnownErrors(a, s)
}

// NumberPath is the {number} of a problem's or known error's path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The record number, such as PRB0000001 or KE0000001."`
}

// PageParams are the paging parameters of a list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
}

type prbItems[T any] struct {
	Body struct {
		Items []T `json:"items"`
	}
}

// boolParam reads an optional true/false query parameter.
func boolParam(v string) *bool {
	if v == "" {
		return nil
	}
	b := v == "true"
	return &b
}

func id(v int64) string { return strconv.FormatInt(v, 10) }

type problemListIn struct {
	PageParams
	Sort        string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (number, state, priority, createdAt, updatedAt); a leading '-' sorts descending. Newest first by default."`
	State       string `query:"state" maxLength:"40" doc:"Only problems in this state."`
	Service     int64  `query:"service" minimum:"0" doc:"Only problems of this CMDB service."`
	CI          int64  `query:"ci" minimum:"0" doc:"Only problems of this CI."`
	Category    string `query:"category" maxLength:"40" doc:"Only problems of this category key."`
	Subcategory string `query:"subcategory" maxLength:"40" doc:"Only problems of this subcategory key."`
	Major       string `query:"major" enum:"true,false" doc:"true: only major problems; false: only the others."`
	Open        string `query:"open" enum:"true,false" doc:"true: only open problems; false: only closed or cancelled ones."`
	Q           string `query:"q" maxLength:"200" doc:"Only problems whose number is q or whose title or description holds it."`
}

func (in problemListIn) values() url.Values {
	return url.Values{"state": {in.State}, "service": {id(in.Service)}, "ci": {id(in.CI)}, "category": {in.Category},
		"subcategory": {in.Subcategory}, "major": {in.Major}, "open": {in.Open}, "q": {in.Q}}
}

// ProblemTrendInput is the trend of recurring incidents a problem is raised from,
// as the incident trend view (GET /api/v1/incidents/trends) shows it.
type ProblemTrendInput struct {
	By    TrendBy   `json:"by" enum:"category,ci,service" doc:"What the trend groups incidents by."`
	Key   string    `json:"key" maxLength:"200" doc:"The group: a category key, or a CI or service id."`
	From  time.Time `json:"from" doc:"The start of the trend's period."`
	To    time.Time `json:"to" doc:"The end of the trend's period."`
	Count int64     `json:"count,omitempty" minimum:"0" doc:"How many incidents the trend counted."`
}

// ProblemInput are a problem's fields in a create request.
type ProblemInput struct {
	Title       string             `json:"title" maxLength:"200"`
	Description string             `json:"description,omitempty" maxLength:"32000"`
	Service     int64              `json:"service,omitempty" minimum:"0" doc:"The affected CMDB service (a CI that is a service)."`
	CI          int64              `json:"ci,omitempty" minimum:"0" doc:"The CMDB configuration item at fault."`
	Category    string             `json:"category,omitempty" maxLength:"40" doc:"A category key of the incident taxonomy."`
	Subcategory string             `json:"subcategory,omitempty" maxLength:"40" doc:"A subcategory key under the category."`
	Impact      int                `json:"impact,omitempty" doc:"1 (high), 2 (medium) or 3 (low); 2 when absent."`
	Urgency     int                `json:"urgency,omitempty" doc:"1 (high), 2 (medium) or 3 (low); 2 when absent."`
	Major       bool               `json:"major,omitempty" doc:"A major problem is reviewed before it closes."`
	Marking     string             `json:"marking,omitempty" maxLength:"64" doc:"The classification marking; UNCLASSIFIED when absent."`
	Incidents   []string           `json:"incidents,omitempty" maxItems:"200" doc:"Numbers of the incidents the problem causes; each is linked."`
	Trend       *ProblemTrendInput `json:"trend,omitempty" doc:"The trend of recurring incidents that raised the problem, kept as its origin."`
}

func (b ProblemInput) newProblem() NewProblem {
	np := NewProblem{Title: b.Title, Description: b.Description, ServiceID: b.Service, Marking: b.Marking, Incidents: b.Incidents,
		Details: Details{Category: b.Category, Subcategory: b.Subcategory, Impact: b.Impact, Urgency: b.Urgency, Major: b.Major, CIID: b.CI}}
	if b.Trend != nil {
		np.Trend = &ProblemTrend{By: b.Trend.By, Key: b.Trend.Key, From: b.Trend.From.UTC(), To: b.Trend.To.UTC(), Count: b.Trend.Count}
	}
	return np
}

// ProblemPatch are the fields of a problem to change; absent ones stay. For
// service and ci 0 clears.
type ProblemPatch struct {
	Title       *string `json:"title,omitempty" maxLength:"200"`
	Description *string `json:"description,omitempty" maxLength:"32000"`
	Category    *string `json:"category,omitempty" maxLength:"40"`
	Subcategory *string `json:"subcategory,omitempty" maxLength:"40"`
	Impact      *int    `json:"impact,omitempty" doc:"1 (high), 2 (medium) or 3 (low)."`
	Urgency     *int    `json:"urgency,omitempty" doc:"1 (high), 2 (medium) or 3 (low)."`
	Major       *bool   `json:"major,omitempty"`
	Service     *int64  `json:"service,omitempty" minimum:"0" doc:"The CMDB service; 0 clears."`
	CI          *int64  `json:"ci,omitempty" minimum:"0" doc:"The CI; 0 clears."`
	Marking     *string `json:"marking,omitempty" maxLength:"64"`
}

func (b ProblemPatch) change() ProblemChange {
	return ProblemChange{Title: b.Title, Description: b.Description, Category: b.Category, Subcategory: b.Subcategory,
		Impact: b.Impact, Urgency: b.Urgency, Major: b.Major, ServiceID: b.Service, CIID: b.CI, Marking: b.Marking}
}

type problemCreateIn struct {
	Body ProblemInput
}

type problemPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    ProblemPatch
}

type problemStepIn struct {
	NumberPath
	Action  string `path:"action" maxLength:"40" doc:"The action, such as raise_rfc."`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    *struct {
		Comment    string `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
		RFC        string `json:"rfc,omitempty" maxLength:"500" doc:"raise_rfc: the change request raised, such as RFC-2026-0042 or its URL. Required there."`
		Resolution string `json:"resolution,omitempty" maxLength:"32000" doc:"resolve: what fixed the problem."`
	}
}

type prbStepOut struct {
	Status int
	ETag   string `header:"ETag"`
	Body   ProblemStepResult
}

// stepResponse is 200 with the record's ETag when the record moved, else 202.
func stepResponse(res ProblemStepResult) *prbStepOut {
	out := &prbStepOut{Status: http.StatusAccepted, Body: res}
	if res.Outcome != record.OutcomeAwaitingApproval && res.Outcome != record.OutcomeAwaitingConsultation {
		out.Status = http.StatusOK
	}
	if res.Outcome == record.OutcomeApplied {
		out.ETag = httpx.ETag(res.Record.Version)
	}
	return out
}

type prbIncidentsIn struct {
	NumberPath
	Body struct {
		Incidents []string `json:"incidents" minItems:"1" maxItems:"200" doc:"Numbers of the incidents the problem causes."`
	}
}

func registerProblems(a *httpx.API, s *Service) {
	tag := []string{"Problems"}
	httpx.Register(a, huma.Operation{OperationID: "list-problems", Method: http.MethodGet, Path: "/api/v1/problems",
		Summary: "Problems, filtered and keyset-paginated", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *problemListIn) (*httpx.Page[Problem], error) {
			p, total, err := s.List(ctx, ListFilter{State: in.State, ServiceID: in.Service, CIID: in.CI, Category: in.Category,
				Subcategory: in.Subcategory, Major: boolParam(in.Major), Open: boolParam(in.Open), Q: in.Q},
				listing.Params{Limit: in.Limit, Cursor: in.Cursor, Sort: in.Sort})
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			return &httpx.Page[Problem]{TotalCount: total, Link: listing.NextLink("/api/v1/problems", lp, in.values(), p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-problem", Method: http.MethodPost, Path: "/api/v1/problems",
		Summary: "Log a problem, by hand, from incidents or from an incident trend", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Identify and Log Problem (PM2): you need R or A for it. The incidents listed are linked in the same " +
			"transaction (the problem causes them); an unknown or invisible incident, or a record that is not an incident, is 422 " +
			"naming body.incidents[i] and nothing is written. trend keeps which trend of the incident trend view raised the " +
			"problem. impact × urgency gives the priority (ITIL 3×3 matrix). An unknown or disposed service or CI is 422."},
		httpx.Authenticated, func(ctx context.Context, in *problemCreateIn) (*httpx.Created[ProblemDetail], error) {
			p, err := s.Create(ctx, in.Body.newProblem())
			if err != nil {
				return nil, err
			}
			return &httpx.Created[ProblemDetail]{ETag: httpx.ETag(p.Version), Location: "/api/v1/problems/" + p.Number, Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-problem", Method: http.MethodGet, Path: "/api/v1/problems/{number}",
		Summary: "A problem with its linked incidents, root-cause analyses and known errors", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[ProblemDetail], error) {
			p, err := s.Problem(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[ProblemDetail]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-problem", Method: http.MethodPatch, Path: "/api/v1/problems/{number}",
		Summary: "Categorise and prioritise a problem, or change its text", Tags: tag,
		Description: "Performs Categorize and Prioritize Problem (PM3). Changing impact or urgency recomputes the priority. " +
			"A closed or cancelled problem is not changed (409)."},
		httpx.Authenticated, func(ctx context.Context, in *problemPatchIn) (*httpx.One[ProblemDetail], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			p, err := s.Update(ctx, in.Number, v, in.Body.change())
			if err != nil {
				return nil, err
			}
			return &httpx.One[ProblemDetail]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "link-problem-incidents", Method: http.MethodPost, Path: "/api/v1/problems/{number}/incidents",
		Summary: "Link more incidents to a problem", Tags: tag,
		Description: "Performs PM2. All the incidents are linked in one transaction, or none: 422 names body.incidents[i] for an " +
			"unknown or invisible incident or a record that is not one, 409 one already linked."},
		httpx.Authenticated, func(ctx context.Context, in *prbIncidentsIn) (*httpx.One[ProblemDetail], error) {
			p, err := s.LinkIncidents(ctx, in.Number, in.Body.Incidents)
			if err != nil {
				return nil, err
			}
			return &httpx.One[ProblemDetail]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-problem-actions", Method: http.MethodGet, Path: "/api/v1/problems/{number}/actions",
		Summary: "The workflow actions allowed from the problem's state, with the activity each performs and whether you may", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*prbItems[record.Action], error) {
			as, err := s.Actions(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &prbItems[record.Action]{}
			out.Body.Items = as
			return out, nil
		})
	resultSchema := a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[ProblemStepResult](), true, "ProblemStepResult")
	httpx.Register(a, huma.Operation{OperationID: "perform-problem-action", Method: http.MethodPost, Path: "/api/v1/problems/{number}/actions/{action}",
		Summary: "Perform a problem's workflow action", Tags: tag,
		Description: "investigate and identify_root_cause perform PM4 (the latter needs an analysis with a root cause); raise_rfc " +
			"performs PM5 and needs rfc, the change request raised (a reference or URL until change management exists); resolve " +
			"performs PM5; close performs PM6 and, for a major problem, needs its review; reopen performs PM4; cancel PM6. " +
			"200 when the problem moved; 202 when the step waits for consultation (C) or approval (A). 409 names the actions " +
			"allowed from the current state.",
		Responses: map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: resultSchema}}}}},
		httpx.Authenticated, func(ctx context.Context, in *problemStepIn) (*prbStepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			si := StepInput{Version: v}
			if in.Body != nil {
				si.Comment, si.RFC, si.Resolution = in.Body.Comment, in.Body.RFC, in.Body.Resolution
			}
			res, err := s.Perform(ctx, in.Number, in.Action, si)
			if err != nil {
				return nil, err
			}
			return stepResponse(res), nil
		})
}

// RCAEvidenceInput is one piece of evidence: a text, or the id of an attachment of the problem.
type RCAEvidenceInput struct {
	Text         string `json:"text,omitempty" maxLength:"4000"`
	AttachmentID int64  `json:"attachmentId,omitempty" minimum:"0" doc:"An attachment of the problem (POST /api/v1/records/{number}/attachments)."`
}

type prbRCAIn struct {
	NumberPath
	Body struct {
		Method    Method             `json:"method" enum:"five_whys,fishbone,fault_tree,kepner_tregoe,timeline,other"`
		Findings  string             `json:"findings,omitempty" maxLength:"32000"`
		Evidence  []RCAEvidenceInput `json:"evidence,omitempty" maxItems:"50"`
		RootCause string             `json:"rootCause,omitempty" maxLength:"4000" doc:"The root cause statement."`
	}
}

type prbRCAOut struct {
	Location string `header:"Location"`
	Body     RCA
}

type prbWorkaroundIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Workaround string `json:"workaround" maxLength:"32000" doc:"The workaround; empty clears it."`
	}
}

type prbReviewIn struct {
	NumberPath
	Body struct {
		Summary   string   `json:"summary" maxLength:"4000"`
		Lessons   string   `json:"lessons,omitempty" maxLength:"32000"`
		FollowUps []string `json:"followUps,omitempty" maxItems:"50"`
	}
}

func registerAnalysis(a *httpx.API, s *Service) {
	tag := []string{"Problems"}
	httpx.Register(a, huma.Operation{OperationID: "list-problem-rcas", Method: http.MethodGet, Path: "/api/v1/problems/{number}/rca",
		Summary: "A problem's root-cause analyses, oldest first", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*prbItems[RCA], error) {
			list, err := s.RCAs(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &prbItems[RCA]{}
			out.Body.Items = list
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "record-problem-rca", Method: http.MethodPost, Path: "/api/v1/problems/{number}/rca",
		Summary: "Record a root-cause analysis", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Investigate and Diagnose Problem (PM4): you need R or A for it. Evidence prbItems are texts or ids of " +
			"the problem's attachments. Give the findings, the root cause statement, or both."},
		httpx.Authenticated, func(ctx context.Context, in *prbRCAIn) (*prbRCAOut, error) {
			ev := make([]RCAEvidence, len(in.Body.Evidence))
			for i, e := range in.Body.Evidence {
				ev[i] = RCAEvidence{Text: e.Text, AttachmentID: e.AttachmentID}
			}
			rca, err := s.RecordRCA(ctx, in.Number, NewRCA{Method: in.Body.Method, Findings: in.Body.Findings, Evidence: ev,
				RootCause: in.Body.RootCause})
			if err != nil {
				return nil, err
			}
			return &prbRCAOut{Location: "/api/v1/problems/" + record.NormalizeNumber(in.Number) + "/rca", Body: rca}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "set-problem-workaround", Method: http.MethodPut, Path: "/api/v1/problems/{number}/workaround",
		Summary: "Record a problem's workaround", Tags: tag,
		Description: "Performs PM4. The problem's known errors without a workaround of their own take it."},
		httpx.Authenticated, func(ctx context.Context, in *prbWorkaroundIn) (*httpx.One[ProblemDetail], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			p, err := s.SetWorkaround(ctx, in.Number, v, in.Body.Workaround)
			if err != nil {
				return nil, err
			}
			return &httpx.One[ProblemDetail]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "review-problem", Method: http.MethodPost, Path: "/api/v1/problems/{number}/review",
		Summary: "Record the review of a resolved problem", Tags: tag,
		Description: "Performs Close and Review Problem (PM6). A major problem closes only after it; reviewing again replaces " +
			"the review. 409 unless the problem is resolved."},
		httpx.Authenticated, func(ctx context.Context, in *prbReviewIn) (*httpx.One[ProblemDetail], error) {
			p, err := s.Review(ctx, in.Number, NewReview{Summary: in.Body.Summary, Lessons: in.Body.Lessons, FollowUps: in.Body.FollowUps})
			if err != nil {
				return nil, err
			}
			return &httpx.One[ProblemDetail]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
}
