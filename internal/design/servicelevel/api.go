package servicelevel

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

// RegisterAPI adds the service level management endpoints to a: agreements
// with their targets, terms, services and underpinning agreements, the
// achievement report, service reviews and improvement plans. Reading needs a
// signed-in caller; every change is decided inside the service by the SLM RACI
// for the activity it performs.
func RegisterAPI(a *httpx.API, s *Service) {
	registerAgreements(a, s)
	registerAgreementParts(a, s)
	registerReviews(a, s)
	registerPlans(a, s)
}

// NumberPath is the {number} of an agreement's, review's or plan's path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The record number, such as AGR0000001, SREV0000001 or SIP0000001."`
}

// PageParams are the paging parameters of a list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
	Sort   string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (number, title, state, createdAt, updatedAt); a leading '-' sorts descending."`
}

func (p PageParams) params() listing.Params {
	return listing.Params{Limit: p.Limit, Cursor: p.Cursor, Sort: p.Sort}
}

func newPage[T any](path string, p PageParams, v url.Values, pg listing.Page[T], total int64) *httpx.Page[T] {
	return &httpx.Page[T]{TotalCount: total, Link: listing.NextLink(path, listing.Params{Limit: p.Limit, Sort: p.Sort}, v, pg.NextCursor), Body: pg}
}

type items[T any] struct {
	Body struct {
		Items []T `json:"items"`
	}
}

func id(v int64) string { return strconv.FormatInt(v, 10) }

// IfMatchHeader carries the If-Match header an update requires.
type IfMatchHeader struct {
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

type agreementListIn struct {
	PageParams
	Kind    string `query:"kind" enum:"SLA,OLA,UC" doc:"Only agreements of this kind."`
	State   string `query:"state" maxLength:"40" doc:"Only agreements in this state (draft, negotiated, agreed, archived)."`
	Service int64  `query:"service" minimum:"0" doc:"Only agreements covering this CMDB service."`
}

// AgreementInput are an agreement's fields in a create request.
type AgreementInput struct {
	Kind         Kind    `json:"kind" enum:"SLA,OLA,UC" doc:"SLA with a customer, OLA with an internal team, UC with a supplier."`
	Title        string  `json:"title" maxLength:"200"`
	Description  string  `json:"description,omitempty" maxLength:"32000"`
	Customer     string  `json:"customer,omitempty" maxLength:"200"`
	Supplier     string  `json:"supplier,omitempty" maxLength:"200"`
	CalendarID   int64   `json:"calendarId" doc:"The business calendar the clocks run on; the seeded 24x7 calendar is 1."`
	StartsOn     string  `json:"startsOn,omitempty" maxLength:"10" doc:"The first day in force, such as 2026-01-01."`
	EndsOn       string  `json:"endsOn,omitempty" maxLength:"10" doc:"The last day in force."`
	ReviewMonths int     `json:"reviewMonths,omitempty" doc:"How often it is reviewed, in months (12 when absent)."`
	Notes        string  `json:"notes,omitempty" maxLength:"32000"`
	Services     []int64 `json:"services,omitempty" maxItems:"200" doc:"The CMDB services the agreement covers."`
	Marking      string  `json:"marking,omitempty" maxLength:"64"`
}

// AgreementPatch are the fields of an agreement to change; absent ones stay.
type AgreementPatch struct {
	Title        *string `json:"title,omitempty" maxLength:"200"`
	Description  *string `json:"description,omitempty" maxLength:"32000"`
	Customer     *string `json:"customer,omitempty" maxLength:"200"`
	Supplier     *string `json:"supplier,omitempty" maxLength:"200"`
	CalendarID   *int64  `json:"calendarId,omitempty"`
	StartsOn     *string `json:"startsOn,omitempty" maxLength:"10" doc:"A date; empty clears it."`
	EndsOn       *string `json:"endsOn,omitempty" maxLength:"10" doc:"A date; empty clears it."`
	ReviewMonths *int    `json:"reviewMonths,omitempty"`
	Notes        *string `json:"notes,omitempty" maxLength:"32000"`
	Marking      *string `json:"marking,omitempty" maxLength:"64"`
}

type agreementCreateIn struct {
	Body AgreementInput
}

type agreementPatchIn struct {
	NumberPath
	IfMatchHeader
	Body AgreementPatch
}

type stepIn struct {
	NumberPath
	Action string `path:"action" maxLength:"40" doc:"The action, such as agree."`
	IfMatchHeader
	Body *struct {
		Comment string `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
	}
}

type stepOut struct {
	Status int
	ETag   string `header:"ETag"`
	Body   StepResult
}

// stepResponse is 200 with the record's ETag when the record moved, else 202.
func stepResponse(res StepResult) *stepOut {
	out := &stepOut{Status: http.StatusAccepted, Body: res}
	if res.Outcome != record.OutcomeAwaitingApproval && res.Outcome != record.OutcomeAwaitingConsultation {
		out.Status = http.StatusOK
	}
	if res.Outcome == record.OutcomeApplied {
		out.ETag = httpx.ETag(res.Record.Version)
	}
	return out
}

// registerWorkflow adds the actions list and perform endpoints of a record type under base.
func registerWorkflow(a *httpx.API, s *Service, typeName, base, tag, what, description string) {
	httpx.Register(a, huma.Operation{OperationID: "list-" + what + "-actions", Method: http.MethodGet, Path: base + "/{number}/actions",
		Summary: "The workflow actions allowed from the " + what + "'s state, with the activity each performs and whether you may",
		Tags:    []string{tag}},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*items[record.Action], error) {
			as, err := s.Actions(ctx, typeName, in.Number)
			if err != nil {
				return nil, err
			}
			out := &items[record.Action]{}
			out.Body.Items = as
			return out, nil
		})
	resultSchema := a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[StepResult](), true, "ServiceLevelStepResult")
	httpx.Register(a, huma.Operation{OperationID: "perform-" + what + "-action", Method: http.MethodPost, Path: base + "/{number}/actions/{action}",
		Summary: "Perform a " + what + "'s workflow action", Tags: []string{tag}, Description: description +
			" 200 when the record moved; 202 when the step waits for consultation (C) or approval (A). 409 names the actions " +
			"allowed from the current state.",
		Responses: map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: resultSchema}}}}},
		httpx.Authenticated, func(ctx context.Context, in *stepIn) (*stepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			si := StepInput{Version: v}
			if in.Body != nil {
				si.Comment = in.Body.Comment
			}
			res, err := s.Perform(ctx, typeName, in.Number, in.Action, si)
			if err != nil {
				return nil, err
			}
			return stepResponse(res), nil
		})
}

func registerAgreements(a *httpx.API, s *Service) {
	tag := []string{"Service levels"}
	httpx.Register(a, huma.Operation{OperationID: "list-agreements", Method: http.MethodGet, Path: "/api/v1/agreements",
		Summary: "Agreements (SLAs, OLAs, UCs), filtered and keyset-paginated", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *agreementListIn) (*httpx.Page[Agreement], error) {
			p, total, err := s.Agreements(ctx, AgreementFilter{Kind: Kind(in.Kind), State: in.State, ServiceID: in.Service}, in.params())
			if err != nil {
				return nil, err
			}
			v := url.Values{"kind": {in.Kind}, "state": {in.State}, "service": {id(in.Service)}}
			return newPage("/api/v1/agreements", in.PageParams, v, p, total), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-agreement", Method: http.MethodPost, Path: "/api/v1/agreements",
		Summary: "Draft an agreement", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Drafting an SLA performs Capture Service Level Requirements (SLM2); an OLA or UC Define Requirements for " +
			"OLA or UC (SLM4): you need R or A for it. An unknown calendar or service is 422 naming the field."},
		httpx.Authenticated, func(ctx context.Context, in *agreementCreateIn) (*httpx.Created[AgreementDetail], error) {
			b := in.Body
			ag, err := s.CreateAgreement(ctx, NewAgreement{Kind: b.Kind, Title: b.Title, Description: b.Description, Services: b.Services,
				Marking: b.Marking, AgreementDetails: AgreementDetails{Customer: b.Customer, Supplier: b.Supplier, CalendarID: b.CalendarID,
					StartsOn: b.StartsOn, EndsOn: b.EndsOn, ReviewMonths: b.ReviewMonths, Notes: b.Notes}})
			if err != nil {
				return nil, err
			}
			return &httpx.Created[AgreementDetail]{ETag: httpx.ETag(ag.Version), Location: "/api/v1/agreements/" + ag.Number, Body: ag}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-agreement", Method: http.MethodGet, Path: "/api/v1/agreements/{number}",
		Summary: "An agreement with its services, underpinning OLAs and UCs (or the SLAs it underpins), targets and terms", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[AgreementDetail], error) {
			ag, err := s.Agreement(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[AgreementDetail]{ETag: httpx.ETag(ag.Version), Body: ag}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-agreement", Method: http.MethodPatch, Path: "/api/v1/agreements/{number}",
		Summary: "Change an agreement's text, parties, calendar or dates", Tags: tag,
		Description: "Performs SLM2 (an SLA) or SLM4 (an OLA or UC). An archived agreement does not change (409)."},
		httpx.Authenticated, func(ctx context.Context, in *agreementPatchIn) (*httpx.One[AgreementDetail], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			ag, err := s.UpdateAgreement(ctx, in.Number, v, AgreementChange{Title: b.Title, Description: b.Description, Customer: b.Customer,
				Supplier: b.Supplier, CalendarID: b.CalendarID, StartsOn: b.StartsOn, EndsOn: b.EndsOn, ReviewMonths: b.ReviewMonths,
				Notes: b.Notes, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &httpx.One[AgreementDetail]{ETag: httpx.ETag(ag.Version), Body: ag}, nil
		})
	registerWorkflow(a, s, AgreementType, "/api/v1/agreements", "Service levels", "agreement",
		"negotiate performs SLM2 for an SLA and SLM4 for an OLA or UC; agree, archive and revise perform SLM5. agree needs at "+
			"least one target (and an SLA a service): 409 otherwise.")
}

type targetsOut struct {
	ETag string `header:"ETag"`
	Body struct {
		Targets []Target `json:"targets"`
	}
}

type targetsIn struct {
	NumberPath
	IfMatchHeader
	Body struct {
		Targets []Target `json:"targets" maxItems:"100" doc:"The agreement's targets, in order; a target with the id of an existing one changes it, one with id 0 is added, one left out is removed."`
	}
}

type termsOut struct {
	ETag string `header:"ETag"`
	Body struct {
		Terms []Term `json:"terms"`
	}
}

type termsIn struct {
	NumberPath
	IfMatchHeader
	Body struct {
		Terms []Term `json:"terms" maxItems:"100" doc:"The agreement's penalties and credits, replacing the ones it has."`
	}
}

type servicesOut struct {
	ETag string `header:"ETag"`
	Body struct {
		Services []ServiceRef `json:"services"`
	}
}

type servicesIn struct {
	NumberPath
	IfMatchHeader
	Body struct {
		Services []int64 `json:"services" maxItems:"200" doc:"The CMDB services the agreement covers."`
	}
}

type underpinsOut struct {
	ETag string `header:"ETag"`
	Body struct {
		Underpins []AgreementRef `json:"underpins"`
	}
}

type underpinsIn struct {
	NumberPath
	IfMatchHeader
	Body struct {
		Underpins []string `json:"underpins" maxItems:"200" doc:"Numbers of the OLAs and UCs that underpin the SLA."`
	}
}

func registerAgreementParts(a *httpx.API, s *Service) {
	tag := []string{"Service levels"}
	base := "/api/v1/agreements/{number}"
	read := func(ctx context.Context, number string) (AgreementDetail, error) { return s.Agreement(ctx, number) }
	targets := func(ag AgreementDetail) *targetsOut {
		out := &targetsOut{ETag: httpx.ETag(ag.Version)}
		out.Body.Targets = ag.Targets
		return out
	}
	httpx.Register(a, huma.Operation{OperationID: "get-agreement-targets", Method: http.MethodGet, Path: base + "/targets",
		Summary: "An agreement's targets, with the agreement's ETag", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*targetsOut, error) {
			ag, err := read(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return targets(ag), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "set-agreement-targets", Method: http.MethodPut, Path: base + "/targets",
		Summary: "Replace an agreement's targets", Tags: tag,
		Description: "Response and resolution (incidents by default), fulfilment (service requests by default) and custom targets " +
			"allow durationMs of business time on the agreement's calendar, optionally per priority; percent is the share of " +
			"clocks that must meet them. An availability target gives the availability percent. A target without a rule uses " +
			"its kind's default rule; a custom one needs its rule. Invalid targets are 422 naming body.targets[i].field. " +
			"If-Match is the agreement's ETag."},
		httpx.Authenticated, func(ctx context.Context, in *targetsIn) (*targetsOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			ag, err := s.SetTargets(ctx, in.Number, v, in.Body.Targets)
			if err != nil {
				return nil, err
			}
			return targets(ag), nil
		})
	terms := func(ag AgreementDetail) *termsOut {
		out := &termsOut{ETag: httpx.ETag(ag.Version)}
		out.Body.Terms = ag.Terms
		return out
	}
	httpx.Register(a, huma.Operation{OperationID: "get-agreement-terms", Method: http.MethodGet, Path: base + "/terms",
		Summary: "An agreement's terms (penalties and credits)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*termsOut, error) {
			ag, err := read(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return terms(ag), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "set-agreement-terms", Method: http.MethodPut, Path: base + "/terms",
		Summary: "Replace an agreement's terms", Tags: tag,
		Description: "A term applies in a reviewed period when its target (targetId, or the agreement as a whole with 0) had more " +
			"breaches than threshold (breaches_over) or an achievement below threshold percent (achievement_below). " +
			"If-Match is the agreement's ETag."},
		httpx.Authenticated, func(ctx context.Context, in *termsIn) (*termsOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			ag, err := s.SetTerms(ctx, in.Number, v, in.Body.Terms)
			if err != nil {
				return nil, err
			}
			return terms(ag), nil
		})
	services := func(ag AgreementDetail) *servicesOut {
		out := &servicesOut{ETag: httpx.ETag(ag.Version)}
		out.Body.Services = ag.Services
		return out
	}
	httpx.Register(a, huma.Operation{OperationID: "get-agreement-services", Method: http.MethodGet, Path: base + "/services",
		Summary: "The services an agreement covers", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*servicesOut, error) {
			ag, err := read(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return services(ag), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "set-agreement-services", Method: http.MethodPut, Path: base + "/services",
		Summary: "Replace the services an agreement covers", Tags: tag,
		Description: "An unknown or disposed service is 422 naming body.services[i]. If-Match is the agreement's ETag."},
		httpx.Authenticated, func(ctx context.Context, in *servicesIn) (*servicesOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			ag, err := s.SetServices(ctx, in.Number, v, in.Body.Services)
			if err != nil {
				return nil, err
			}
			return services(ag), nil
		})
	underpins := func(ag AgreementDetail) *underpinsOut {
		out := &underpinsOut{ETag: httpx.ETag(ag.Version)}
		out.Body.Underpins = ag.Underpins
		return out
	}
	httpx.Register(a, huma.Operation{OperationID: "get-agreement-underpins", Method: http.MethodGet, Path: base + "/underpins",
		Summary: "The OLAs and UCs that underpin an SLA", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*underpinsOut, error) {
			ag, err := read(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return underpins(ag), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "set-agreement-underpins", Method: http.MethodPut, Path: base + "/underpins",
		Summary: "Replace the OLAs and UCs that underpin an SLA", Tags: tag,
		Description: "Performs SLM4. Only an SLA is underpinned (409 otherwise), only by OLAs and UCs that are not archived " +
			"(422 naming body.underpins[i]). If-Match is the SLA's ETag."},
		httpx.Authenticated, func(ctx context.Context, in *underpinsIn) (*underpinsOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			ag, err := s.SetUnderpins(ctx, in.Number, v, in.Body.Underpins)
			if err != nil {
				return nil, err
			}
			return underpins(ag), nil
		})
}

type reportIn struct {
	Service   int64     `query:"service" minimum:"0" doc:"The CMDB service whose clocks are counted."`
	Agreement string    `query:"agreement" maxLength:"32" doc:"The number of the agreement whose clocks are counted."`
	From      time.Time `query:"from" doc:"The start of the period (RFC 3339); clocks started from then on count."`
	To        time.Time `query:"to" doc:"The end of the period (RFC 3339), excluded."`
}

type reportOut struct {
	Body AchievementReport
}

type reviewListIn struct {
	PageParams
	Service int64  `query:"service" minimum:"0" doc:"Only reviews of this CMDB service."`
	State   string `query:"state" maxLength:"40" doc:"Only reviews in this state (planned, in_review, completed)."`
}

type reviewCreateIn struct {
	Body struct {
		Title     string    `json:"title,omitempty" maxLength:"200"`
		ServiceID int64     `json:"serviceId" doc:"The CMDB service reviewed."`
		Agreement string    `json:"agreementNumber,omitempty" maxLength:"32" doc:"The one agreement to review; every agreement that measured the service when absent."`
		From      time.Time `json:"from" doc:"The start of the reviewed period."`
		To        time.Time `json:"to" doc:"The end of the reviewed period, excluded."`
		Marking   string    `json:"marking,omitempty" maxLength:"64"`
	}
}

type minutesIn struct {
	NumberPath
	IfMatchHeader
	Body struct {
		Minutes string `json:"minutes" maxLength:"32000" doc:"The minutes of the review."`
	}
}

func registerReviews(a *httpx.API, s *Service) {
	tag := []string{"Service levels"}
	httpx.Register(a, huma.Operation{OperationID: "sla-report", Method: http.MethodGet, Path: "/api/v1/reports/sla",
		Summary: "The service level achievement report (SLM6)", Tags: tag,
		Description: "Counts the clocks of a service, an agreement, or both, started in [from, to): per agreement and target with " +
			"a monthly trend, per month and per record priority: met, breached, running, cancelled, and the achievement " +
			"(met / (met + breached), in percent). At most 36 months."},
		httpx.Authenticated, func(ctx context.Context, in *reportIn) (*reportOut, error) {
			q := ReportQuery{ServiceID: in.Service, From: in.From, To: in.To}
			if in.Agreement != "" {
				r, err := s.get(ctx, AgreementType, in.Agreement)
				if err != nil {
					return nil, err
				}
				q.AgreementID = r.ID
			}
			rep, err := s.Report(ctx, q)
			if err != nil {
				return nil, err
			}
			return &reportOut{Body: rep}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-service-reviews", Method: http.MethodGet, Path: "/api/v1/service-reviews",
		Summary: "Service reviews, newest first", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *reviewListIn) (*httpx.Page[Review], error) {
			p, total, err := s.Reviews(ctx, ReviewFilter{ServiceID: in.Service, State: in.State}, in.params())
			if err != nil {
				return nil, err
			}
			return newPage("/api/v1/service-reviews", in.PageParams, url.Values{"service": {id(in.Service)}, "state": {in.State}}, p, total), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-service-review", Method: http.MethodPost, Path: "/api/v1/service-reviews",
		Summary: "ImprovementPlan a service review from the achievement report", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Conduct Service Review (SLM7): you need R or A for it. Keeps the achievement report of the service " +
			"over the period and the penalties and credits its agreements' terms identify in it."},
		httpx.Authenticated, func(ctx context.Context, in *reviewCreateIn) (*httpx.Created[Review], error) {
			b := in.Body
			v, err := s.CreateReview(ctx, NewReview{Title: b.Title, ServiceID: b.ServiceID, Agreement: b.Agreement, From: b.From, To: b.To,
				Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &httpx.Created[Review]{ETag: httpx.ETag(v.Version), Location: "/api/v1/service-reviews/" + v.Number, Body: v}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-service-review", Method: http.MethodGet, Path: "/api/v1/service-reviews/{number}",
		Summary: "A service review with its report and findings", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[Review], error) {
			v, err := s.Review(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Review]{ETag: httpx.ETag(v.Version), Body: v}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "set-service-review-minutes", Method: http.MethodPut, Path: "/api/v1/service-reviews/{number}/minutes",
		Summary: "Record a service review's minutes", Tags: tag, Description: "Performs SLM7. A completed review does not change (409)."},
		httpx.Authenticated, func(ctx context.Context, in *minutesIn) (*httpx.One[Review], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			rv, err := s.SetMinutes(ctx, in.Number, v, in.Body.Minutes)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Review]{ETag: httpx.ETag(rv.Version), Body: rv}, nil
		})
	registerWorkflow(a, s, ReviewType, "/api/v1/service-reviews", "Service levels", "service-review",
		"start and complete perform Conduct Service Review (SLM7).")
}

type planListIn struct {
	PageParams
	Service int64  `query:"service" minimum:"0" doc:"Only plans of this CMDB service."`
	State   string `query:"state" maxLength:"40" doc:"Only plans in this state (open, in_progress, closed)."`
}

type planCreateIn struct {
	Body struct {
		Title     string `json:"title" maxLength:"200"`
		ServiceID int64  `json:"serviceId" doc:"The CMDB service the plan improves."`
		Review    string `json:"review,omitempty" maxLength:"32" doc:"The number of the service review the plan comes from."`
		Objective string `json:"objective,omitempty" maxLength:"32000"`
		Marking   string `json:"marking,omitempty" maxLength:"64"`
	}
}

type itemCreateIn struct {
	NumberPath
	Body struct {
		Title   string     `json:"title" maxLength:"200"`
		OwnerID int64      `json:"ownerId,omitempty" minimum:"0" doc:"The user who owns the item."`
		DueAt   *time.Time `json:"dueAt,omitempty"`
		Note    string     `json:"note,omitempty" maxLength:"32000"`
	}
}

type itemPatchIn struct {
	NumberPath
	ID int64 `path:"id" minimum:"1" doc:"The item's id."`
	IfMatchHeader
	Body struct {
		Title   *string    `json:"title,omitempty" maxLength:"200"`
		OwnerID *int64     `json:"ownerId,omitempty" minimum:"0" doc:"0 clears the owner."`
		DueAt   *time.Time `json:"dueAt,omitempty" doc:"The due date; 0001-01-01T00:00:00Z clears it."`
		State   *string    `json:"state,omitempty" enum:"open,done,cancelled"`
		Note    *string    `json:"note,omitempty" maxLength:"32000"`
	}
}

func registerPlans(a *httpx.API, s *Service) {
	tag := []string{"Service levels"}
	httpx.Register(a, huma.Operation{OperationID: "list-improvement-plans", Method: http.MethodGet, Path: "/api/v1/improvement-plans",
		Summary: "Service improvement plans, newest first", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *planListIn) (*httpx.Page[ImprovementPlan], error) {
			p, total, err := s.Plans(ctx, PlanFilter{ServiceID: in.Service, State: in.State}, in.params())
			if err != nil {
				return nil, err
			}
			return newPage("/api/v1/improvement-plans", in.PageParams, url.Values{"service": {id(in.Service)}, "state": {in.State}}, p, total), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-improvement-plan", Method: http.MethodPost, Path: "/api/v1/improvement-plans",
		Summary: "Formulate a service improvement plan", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Formulate Service Improvement ImprovementPlan (SLM8): you need R or A for it."},
		httpx.Authenticated, func(ctx context.Context, in *planCreateIn) (*httpx.Created[ImprovementPlan], error) {
			b := in.Body
			p, err := s.CreatePlan(ctx, NewImprovementPlan{Title: b.Title, ServiceID: b.ServiceID, Review: b.Review, Objective: b.Objective, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &httpx.Created[ImprovementPlan]{ETag: httpx.ETag(p.Version), Location: "/api/v1/improvement-plans/" + p.Number, Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-improvement-plan", Method: http.MethodGet, Path: "/api/v1/improvement-plans/{number}",
		Summary: "A service improvement plan with its items", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[ImprovementPlan], error) {
			p, err := s.ImprovementPlan(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[ImprovementPlan]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-improvement-item", Method: http.MethodPost, Path: "/api/v1/improvement-plans/{number}/items",
		Summary: "Add an item to a service improvement plan", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs SLM8. A closed plan takes none (409)."},
		httpx.Authenticated, func(ctx context.Context, in *itemCreateIn) (*httpx.Created[PlanItem], error) {
			b := in.Body
			it, err := s.AddItem(ctx, in.Number, NewItem{Title: b.Title, OwnerID: b.OwnerID, DueAt: b.DueAt, Note: b.Note})
			if err != nil {
				return nil, err
			}
			return &httpx.Created[PlanItem]{ETag: httpx.ETag(it.Version), Body: it,
				Location: "/api/v1/improvement-plans/" + record.NormalizeNumber(in.Number) + "/items/" + id(it.ID)}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-improvement-item", Method: http.MethodPatch, Path: "/api/v1/improvement-plans/{number}/items/{id}",
		Summary: "Change an item of a service improvement plan, or close it", Tags: tag,
		Description: "Performs SLM8; the item's owner may change it too. state done or cancelled closes the item, open reopens " +
			"it. If-Match is the item's ETag."},
		httpx.Authenticated, func(ctx context.Context, in *itemPatchIn) (*httpx.One[PlanItem], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			it, err := s.UpdateItem(ctx, in.Number, in.ID, v, PlanItemChange{Title: b.Title, OwnerID: b.OwnerID, DueAt: b.DueAt, State: b.State, Note: b.Note})
			if err != nil {
				return nil, err
			}
			return &httpx.One[PlanItem]{ETag: httpx.ETag(it.Version), Body: it}, nil
		})
	registerWorkflow(a, s, PlanType, "/api/v1/improvement-plans", "Service levels", "improvement-plan",
		"start and close perform SLM8; a plan with an open item does not close (409).")
}
