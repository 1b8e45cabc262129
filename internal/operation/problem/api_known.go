package problem

import (
	"context"
	"net/http"
	"net/url"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

type knownErrorListIn struct {
	PageParams
	Sort        string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (number, state, createdAt, updatedAt); a leading '-' sorts descending. Newest first by default."`
	State       string `query:"state" enum:"draft,published,retired" doc:"Only known errors in this state."`
	Problem     string `query:"problem" maxLength:"32" doc:"Only the known errors of this problem."`
	Service     int64  `query:"service" minimum:"0" doc:"Only known errors of this CMDB service."`
	CI          int64  `query:"ci" minimum:"0" doc:"Only known errors of this CI."`
	Category    string `query:"category" maxLength:"40" doc:"Only known errors of this category key."`
	Subcategory string `query:"subcategory" maxLength:"40" doc:"Only known errors of this subcategory key."`
	Q           string `query:"q" maxLength:"500" doc:"Only known errors whose title, symptoms or workaround hold every word (as a prefix). Query syntax is not interpreted."`
}

func (in knownErrorListIn) values() url.Values {
	return url.Values{"state": {in.State}, "problem": {in.Problem}, "service": {id(in.Service)}, "ci": {id(in.CI)},
		"category": {in.Category}, "subcategory": {in.Subcategory}, "q": {in.Q}}
}

// KnownErrorInput are a known error's fields in a create request.
type KnownErrorInput struct {
	Problem     string `json:"problem,omitempty" maxLength:"32" doc:"The problem the known error documents; the fields left out are taken from it."`
	Title       string `json:"title,omitempty" maxLength:"200" doc:"Defaults to the problem's title."`
	Symptoms    string `json:"symptoms" maxLength:"32000" doc:"What the users and agents see: the text incidents are matched by."`
	RootCause   string `json:"rootCause,omitempty" maxLength:"4000" doc:"Defaults to the root cause of the problem's latest analysis."`
	Workaround  string `json:"workaround,omitempty" maxLength:"32000" doc:"Empty inherits the problem's workaround."`
	Category    string `json:"category,omitempty" maxLength:"40"`
	Subcategory string `json:"subcategory,omitempty" maxLength:"40"`
	Service     int64  `json:"service,omitempty" minimum:"0"`
	CI          int64  `json:"ci,omitempty" minimum:"0"`
	Marking     string `json:"marking,omitempty" maxLength:"64"`
}

// KnownErrorPatch are the fields of a known error to change; absent ones stay.
type KnownErrorPatch struct {
	Title       *string `json:"title,omitempty" maxLength:"200"`
	Symptoms    *string `json:"symptoms,omitempty" maxLength:"32000"`
	RootCause   *string `json:"rootCause,omitempty" maxLength:"4000"`
	Workaround  *string `json:"workaround,omitempty" maxLength:"32000" doc:"Empty inherits the problem's workaround again."`
	Category    *string `json:"category,omitempty" maxLength:"40"`
	Subcategory *string `json:"subcategory,omitempty" maxLength:"40"`
	Service     *int64  `json:"service,omitempty" minimum:"0" doc:"0 clears."`
	CI          *int64  `json:"ci,omitempty" minimum:"0" doc:"0 clears."`
	Marking     *string `json:"marking,omitempty" maxLength:"64"`
}

type knownErrorCreateIn struct {
	Body KnownErrorInput
}

type knownErrorPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    KnownErrorPatch
}

type knownErrorStepIn struct {
	NumberPath
	Action  string `path:"action" maxLength:"40" doc:"The action: publish or retire."`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    *struct {
		Comment string `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
	}
}

type keMatchIn struct {
	Text        string `query:"text" maxLength:"4000" doc:"The incident's title and description."`
	CI          int64  `query:"ci" minimum:"0" doc:"The incident's CI."`
	Service     int64  `query:"service" minimum:"0" doc:"The incident's service."`
	Category    string `query:"category" maxLength:"40" doc:"The incident's category key."`
	Subcategory string `query:"subcategory" maxLength:"40" doc:"The incident's subcategory key."`
	Limit       int    `query:"limit" minimum:"1" maximum:"50" default:"5" doc:"How many matches at most."`
}

func registerKnownErrors(a *httpx.API, s *Service) {
	tag := []string{"Known errors"}
	httpx.Register(a, huma.Operation{OperationID: "list-known-errors", Method: http.MethodGet, Path: "/api/v1/known-errors",
		Summary: "Known errors of the KEDB, filtered, searched and keyset-paginated", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *knownErrorListIn) (*httpx.Page[KnownError], error) {
			p, total, err := s.KnownErrors(ctx, KnownErrorFilter{State: in.State, Problem: in.Problem, ServiceID: in.Service, CIID: in.CI,
				Category: in.Category, Subcategory: in.Subcategory, Q: in.Q}, listing.Params{Limit: in.Limit, Cursor: in.Cursor, Sort: in.Sort})
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			return &httpx.Page[KnownError]{TotalCount: total, Link: listing.NextLink("/api/v1/known-errors", lp, in.values(), p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "match-known-errors", Method: http.MethodGet, Path: "/api/v1/known-errors/match",
		Summary: "The published known errors that match an incident, best first, with why", Tags: tag,
		Description: "What Investigate and Diagnose Incident (IM4) offers: published known errors scored by the incident's words " +
			"(in their title, symptoms and workaround), the same CI, service, category and subcategory."},
		httpx.Authenticated, func(ctx context.Context, in *keMatchIn) (*prbItems[KnownErrorMatch], error) {
			ms, err := s.FindKnownErrors(ctx, KnownErrorQuery{Text: in.Text, CIID: in.CI, ServiceID: in.Service, Category: in.Category,
				Subcategory: in.Subcategory, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			out := &prbItems[KnownErrorMatch]{}
			out.Body.Items = ms
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-known-error", Method: http.MethodPost, Path: "/api/v1/known-errors",
		Summary: "Record a known error, usually from a problem", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Investigate and Diagnose Problem (PM4): you need R or A for it. The known error starts as a draft " +
			"and is offered to agents once published."},
		httpx.Authenticated, func(ctx context.Context, in *knownErrorCreateIn) (*httpx.Created[KnownError], error) {
			b := in.Body
			k, err := s.CreateKnownError(ctx, NewKnownError{Problem: b.Problem, Title: b.Title, Symptoms: b.Symptoms, RootCause: b.RootCause,
				Workaround: b.Workaround, Category: b.Category, Subcategory: b.Subcategory, ServiceID: b.Service, CIID: b.CI, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &httpx.Created[KnownError]{ETag: httpx.ETag(k.Version), Location: "/api/v1/known-errors/" + k.Number, Body: k}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-known-error", Method: http.MethodGet, Path: "/api/v1/known-errors/{number}",
		Summary: "A known error", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[KnownError], error) {
			k, err := s.KnownError(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[KnownError]{ETag: httpx.ETag(k.Version), Body: k}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-known-error", Method: http.MethodPatch, Path: "/api/v1/known-errors/{number}",
		Summary: "Change a known error", Tags: tag,
		Description: "Performs PM4. A published known error keeps its symptoms and a root cause or a workaround; a retired one is " +
			"not changed (409)."},
		httpx.Authenticated, func(ctx context.Context, in *knownErrorPatchIn) (*httpx.One[KnownError], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			k, err := s.UpdateKnownError(ctx, in.Number, v, KnownErrorChange{Title: b.Title, Symptoms: b.Symptoms, RootCause: b.RootCause,
				Workaround: b.Workaround, Category: b.Category, Subcategory: b.Subcategory, ServiceID: b.Service, CIID: b.CI, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &httpx.One[KnownError]{ETag: httpx.ETag(k.Version), Body: k}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-known-error-actions", Method: http.MethodGet, Path: "/api/v1/known-errors/{number}/actions",
		Summary: "The workflow actions allowed from the known error's state, with the activity each performs and whether you may", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*prbItems[record.Action], error) {
			as, err := s.KnownErrorActions(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &prbItems[record.Action]{}
			out.Body.Items = as
			return out, nil
		})
	resultSchema := a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[ProblemStepResult](), true, "ProblemStepResult")
	httpx.Register(a, huma.Operation{OperationID: "perform-known-error-action", Method: http.MethodPost, Path: "/api/v1/known-errors/{number}/actions/{action}",
		Summary: "Perform a known error's workflow action", Tags: tag,
		Description: "publish (PM4) offers the known error to agents and needs its symptoms and a root cause or a workaround; " +
			"retire (PM6) withdraws it. 200 when it moved; 202 when the step waits for consultation (C) or approval (A). " +
			"409 names the actions allowed from the current state.",
		Responses: map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: resultSchema}}}}},
		httpx.Authenticated, func(ctx context.Context, in *knownErrorStepIn) (*prbStepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			comment := ""
			if in.Body != nil {
				comment = in.Body.Comment
			}
			res, err := s.PerformKnownError(ctx, in.Number, in.Action, v, comment)
			if err != nil {
				return nil, err
			}
			return stepResponse(res), nil
		})
}
