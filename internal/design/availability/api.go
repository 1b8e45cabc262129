package availability

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// RegisterAPI adds the availability management endpoints to a: outages,
// service availability and availability plans with their risks and actions.
// Reading needs a signed-in caller; every change is decided inside the
// service by the AvM RACI for the activity it performs.
func RegisterAPI(a *httpx.API, s *Service) {
	registerOutages(a, s)
	registerPlans(a, s)
}

type items[T any] struct {
	Body struct {
		Items []T `json:"items"`
	}
}

func id(v int64) string { return strconv.FormatInt(v, 10) }

// parseWhen reads a time given as RFC 3339 or as a date (midnight UTC); "" is the zero time.
func parseWhen(loc, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, errs.Field(loc, "a time as RFC 3339 (2026-03-01T09:00:00Z) or a date (2026-03-01)", s)
}

// OutageBody is an outage as a caller records or replaces it.
type OutageBody struct {
	ServiceID   int64      `json:"serviceId" minimum:"1" doc:"The CMDB service that was down."`
	CIID        int64      `json:"ciId,omitempty" minimum:"0" doc:"The configuration item that failed, if one did."`
	Kind        Kind       `json:"kind" enum:"planned,unplanned" doc:"planned outages leave the agreed service time; unplanned ones are downtime."`
	StartedAt   time.Time  `json:"startedAt"`
	EndedAt     *time.Time `json:"endedAt,omitempty" doc:"When service was restored; absent while the outage goes on (an unplanned one only)."`
	Description string     `json:"description,omitempty" maxLength:"4000"`
}

func (b OutageBody) input() OutageInput {
	in := OutageInput{ServiceID: b.ServiceID, CIID: b.CIID, Kind: b.Kind, StartedAt: b.StartedAt.UTC(), Description: b.Description}
	if b.EndedAt != nil {
		e := b.EndedAt.UTC()
		in.EndedAt = &e
	}
	return in
}

type outageListIn struct {
	listing.Params
	Service int64  `query:"service" minimum:"0" doc:"Only outages of this CMDB service."`
	Kind    string `query:"kind" enum:"planned,unplanned" doc:"Only planned or only unplanned outages."`
	Source  string `query:"source" enum:"manual,incident,event" doc:"Only outages from this source."`
	From    string `query:"from" maxLength:"40" doc:"Only outages still going on at or after this time (RFC 3339 or YYYY-MM-DD)."`
	To      string `query:"to" maxLength:"40" doc:"Only outages that started before this time."`
}

type outageIDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type outageCreateIn struct {
	Body OutageBody
}

type outagePutIn struct {
	ID      int64  `path:"id" minimum:"1"`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    OutageBody
}

type outageDeleteIn struct {
	ID      int64  `path:"id" minimum:"1"`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

type availabilityIn struct {
	ID   int64  `path:"id" minimum:"1" doc:"The CMDB service."`
	From string `query:"from" maxLength:"40" doc:"Start of the period (RFC 3339 or YYYY-MM-DD); by default the first day of the month eleven months before to's."`
	To   string `query:"to" maxLength:"40" doc:"End of the period, exclusive (RFC 3339 or YYYY-MM-DD); now by default, and never later than now."`
}

type syncOut struct {
	Body struct {
		Changed int `json:"changed" doc:"How many outages were added, changed or removed."`
	}
}

func registerOutages(a *httpx.API, s *Service) {
	tag := []string{"Availability"}
	httpx.Register(a, huma.Operation{OperationID: "list-outages", Method: http.MethodGet, Path: "/api/v1/outages",
		Summary: "Outages of services, filtered and keyset-paginated", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *outageListIn) (*httpx.Page[Outage], error) {
			from, err := parseWhen("query.from", in.From)
			if err != nil {
				return nil, err
			}
			to, err := parseWhen("query.to", in.To)
			if err != nil {
				return nil, err
			}
			p, total, err := s.Outages(ctx, OutageFilter{ServiceID: in.Service, Kind: Kind(in.Kind), Source: Source(in.Source),
				From: from, To: to}, in.Params)
			if err != nil {
				return nil, err
			}
			q := url.Values{"service": {id(in.Service)}, "kind": {in.Kind}, "source": {in.Source}, "from": {in.From}, "to": {in.To}}
			return &httpx.Page[Outage]{TotalCount: total, Link: listing.NextLink("/api/v1/outages", in.Params, q, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "record-outage", Method: http.MethodPost, Path: "/api/v1/outages",
		Summary: "Record an outage of a service", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Collect and Analyze Monitoring Data (AvM3): you need R or A for it. 422 names body.serviceId for an " +
			"unknown or disposed service, body.ciId for an unknown CI, body.endedAt for an end not after the start. An unplanned " +
			"outage may be open-ended (still going on); a planned one has an end."},
		httpx.Authenticated, func(ctx context.Context, in *outageCreateIn) (*httpx.Created[Outage], error) {
			o, err := s.RecordOutage(ctx, in.Body.input())
			if err != nil {
				return nil, err
			}
			return &httpx.Created[Outage]{ETag: httpx.ETag(o.Version), Location: "/api/v1/outages/" + id(o.ID), Body: o}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-outage", Method: http.MethodGet, Path: "/api/v1/outages/{id}",
		Summary: "An outage", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *outageIDPath) (*httpx.One[Outage], error) {
			o, err := s.Outage(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Outage]{ETag: httpx.ETag(o.Version), Body: o}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "replace-outage", Method: http.MethodPut, Path: "/api/v1/outages/{id}",
		Summary: "Change an outage recorded by hand", Tags: tag,
		Description: "Performs AvM3. An outage mirrored from a major incident follows the incident and is not changed by hand (409)."},
		httpx.Authenticated, func(ctx context.Context, in *outagePutIn) (*httpx.One[Outage], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			o, err := s.UpdateOutage(ctx, in.ID, v, in.Body.input())
			if err != nil {
				return nil, err
			}
			return &httpx.One[Outage]{ETag: httpx.ETag(o.Version), Body: o}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-outage", Method: http.MethodDelete, Path: "/api/v1/outages/{id}",
		Summary: "Delete an outage recorded by hand", Tags: tag, DefaultStatus: http.StatusNoContent,
		Description: "Performs AvM3. An outage mirrored from a major incident is not deleted by hand (409)."},
		httpx.Authenticated, func(ctx context.Context, in *outageDeleteIn) (*struct{}, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			return nil, s.DeleteOutage(ctx, in.ID, v)
		})
	httpx.Register(a, huma.Operation{OperationID: "sync-outages", Method: http.MethodPost, Path: "/api/v1/availability/sync",
		Summary: "Mirror major incidents as outages now", Tags: tag,
		Description: "Performs AvM3. The availability.sync job does the same every minute."},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*syncOut, error) {
			if err := s.mayRecord(ctx, "sync outages of", "outages", 0); err != nil {
				return nil, err
			}
			n, err := s.SyncMajorIncidents(ctx)
			if err != nil {
				return nil, err
			}
			out := &syncOut{}
			out.Body.Changed = n
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-service-availability", Method: http.MethodGet, Path: "/api/v1/services/{id}/availability",
		Summary: "A service's availability over a period, against its target, with the series per month", Tags: tag,
		Description: "Monitor and AvailabilityReport Service Availability (AvM2). Measured on the service hours of the calendar of the agreed " +
			"SLA that holds the service's availability target (24×7 without one): planned outages leave the agreed time, " +
			"unplanned ones are downtime, overlapping outages count once. availability % = (agreed − downtime) / agreed × 100; " +
			"MTRS = downtime / failures; MTBF = (agreed − downtime) / failures; MTBSI = agreed / failures (null without failures). " +
			"422 names query.to when it is not after from, path.id for an unknown service."},
		httpx.Authenticated, func(ctx context.Context, in *availabilityIn) (*httpx.One[AvailabilityReport], error) {
			from, err := parseWhen("query.from", in.From)
			if err != nil {
				return nil, err
			}
			to, err := parseWhen("query.to", in.To)
			if err != nil {
				return nil, err
			}
			if to.IsZero() {
				to = s.now()
			}
			if from.IsZero() {
				from = time.Date(to.Year(), to.Month()-11, 1, 0, 0, 0, 0, time.UTC)
			}
			r, err := s.Availability(ctx, in.ID, from, to)
			if err != nil {
				return nil, err
			}
			return &httpx.One[AvailabilityReport]{Body: r}, nil
		})
}

// AvailabilityPlanBody is an availability plan as a caller creates it.
type AvailabilityPlanBody struct {
	Title       string    `json:"title" maxLength:"200"`
	Description string    `json:"description,omitempty" maxLength:"32000"`
	ServiceID   int64     `json:"serviceId" minimum:"1" doc:"The CMDB service the plan is for."`
	PeriodFrom  time.Time `json:"periodFrom" doc:"The start of the planning period."`
	PeriodTo    time.Time `json:"periodTo" doc:"The end of the planning period; after periodFrom."`
	Objective   string    `json:"objective" maxLength:"4000" doc:"What the plan sets out to achieve."`
	Marking     string    `json:"marking,omitempty" maxLength:"64" doc:"The classification marking; UNCLASSIFIED when absent."`
}

// AvailabilityPlanPatch are the fields of a plan to change; absent ones stay.
type AvailabilityPlanPatch struct {
	Title       *string    `json:"title,omitempty" maxLength:"200"`
	Description *string    `json:"description,omitempty" maxLength:"32000"`
	PeriodFrom  *time.Time `json:"periodFrom,omitempty"`
	PeriodTo    *time.Time `json:"periodTo,omitempty"`
	Objective   *string    `json:"objective,omitempty" maxLength:"4000"`
}

// AvailabilityRiskBody is a risk as a caller records or replaces it.
type AvailabilityRiskBody struct {
	Description string    `json:"description" maxLength:"4000"`
	Likelihood  int       `json:"likelihood" doc:"1 (rare) to 5 (almost certain)."`
	Impact      int       `json:"impact" doc:"1 (negligible) to 5 (severe)."`
	Treatment   string    `json:"treatment,omitempty" maxLength:"4000" doc:"How the risk is treated; required once treated."`
	OwnerID     int64     `json:"ownerId,omitempty" minimum:"0"`
	State       RiskState `json:"state,omitempty" enum:"open,treated,accepted" doc:"open when absent."`
}

func (b AvailabilityRiskBody) input() RiskInput {
	return RiskInput{Description: b.Description, Likelihood: b.Likelihood, Impact: b.Impact, Treatment: b.Treatment,
		OwnerID: b.OwnerID, State: b.State}
}

// AvailabilityActionBody is a plan's action as a caller records or replaces it.
type AvailabilityActionBody struct {
	RiskID  int64       `json:"riskId,omitempty" minimum:"0" doc:"The plan's risk the action treats."`
	Title   string      `json:"title" maxLength:"500"`
	OwnerID int64       `json:"ownerId,omitempty" minimum:"0"`
	DueAt   *time.Time  `json:"dueAt,omitempty"`
	State   ActionState `json:"state,omitempty" enum:"open,done,cancelled" doc:"open when absent."`
}

func (b AvailabilityActionBody) input() ActionInput {
	in := ActionInput{RiskID: b.RiskID, Title: b.Title, OwnerID: b.OwnerID, State: b.State}
	if b.DueAt != nil {
		d := b.DueAt.UTC()
		in.DueAt = &d
	}
	return in
}

// NumberPath is the {number} of a plan's path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The plan's number, such as AVP0000001."`
}

type planListIn struct {
	listing.Params
	Service int64  `query:"service" minimum:"0" doc:"Only plans of this CMDB service."`
	State   string `query:"state" enum:"draft,active,closed" doc:"Only plans in this state."`
}

type planCreateIn struct {
	Body AvailabilityPlanBody
}

type planPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    AvailabilityPlanPatch
}

type planStepIn struct {
	NumberPath
	Action  string `path:"action" maxLength:"40" doc:"submit or close."`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    *struct {
		Comment string `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
	}
}

type planStepOut struct {
	Status int
	ETag   string `header:"ETag"`
	Body   PlanStepResult
}

type riskCreateIn struct {
	NumberPath
	Body AvailabilityRiskBody
}

type riskPutIn struct {
	NumberPath
	ID      int64  `path:"id" minimum:"1"`
	IfMatch string `header:"If-Match" doc:"The ETag of the risk you read; required."`
	Body    AvailabilityRiskBody
}

type actionCreateIn struct {
	NumberPath
	Body AvailabilityActionBody
}

type actionPutIn struct {
	NumberPath
	ID      int64  `path:"id" minimum:"1"`
	IfMatch string `header:"If-Match" doc:"The ETag of the action you read; required."`
	Body    AvailabilityActionBody
}

func registerPlans(a *httpx.API, s *Service) {
	tag := []string{"Availability"}
	const base = "/api/v1/availability-plans"
	httpx.Register(a, huma.Operation{OperationID: "list-availability-plans", Method: http.MethodGet, Path: base,
		Summary: "Availability plans, filtered and keyset-paginated", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *planListIn) (*httpx.Page[AvailabilityPlan], error) {
			p, total, err := s.Plans(ctx, PlanFilter{ServiceID: in.Service, State: in.State}, in.Params)
			if err != nil {
				return nil, err
			}
			q := url.Values{"service": {id(in.Service)}, "state": {in.State}}
			return &httpx.Page[AvailabilityPlan]{TotalCount: total, Link: listing.NextLink(base, in.Params, q, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-availability-plan", Method: http.MethodPost, Path: base,
		Summary: "Create an availability plan for a service", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Create and Manage Availability AvailabilityPlan (AvM6): you need R or A for it. 422 names body.serviceId " +
			"for an unknown service, body.periodTo for a period that ends before it starts."},
		httpx.Authenticated, func(ctx context.Context, in *planCreateIn) (*httpx.Created[AvailabilityPlanDetail], error) {
			b := in.Body
			p, err := s.CreatePlan(ctx, NewPlan{Title: b.Title, Description: b.Description, ServiceID: b.ServiceID,
				PeriodFrom: b.PeriodFrom, PeriodTo: b.PeriodTo, Objective: b.Objective, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &httpx.Created[AvailabilityPlanDetail]{ETag: httpx.ETag(p.Version), Location: base + "/" + p.Number, Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-availability-plan", Method: http.MethodGet, Path: base + "/{number}",
		Summary: "An availability plan with its risks and actions", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[AvailabilityPlanDetail], error) {
			p, err := s.Plan(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[AvailabilityPlanDetail]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-availability-plan", Method: http.MethodPatch, Path: base + "/{number}",
		Summary: "Change an availability plan's text, period or objective", Tags: tag,
		Description: "Performs AvM6. A closed plan is not changed (409)."},
		httpx.Authenticated, func(ctx context.Context, in *planPatchIn) (*httpx.One[AvailabilityPlanDetail], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			p, err := s.UpdatePlan(ctx, in.Number, v, PlanChange{Title: b.Title, Description: b.Description, PeriodFrom: b.PeriodFrom,
				PeriodTo: b.PeriodTo, Objective: b.Objective})
			if err != nil {
				return nil, err
			}
			return &httpx.One[AvailabilityPlanDetail]{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-availability-plan-actions", Method: http.MethodGet, Path: base + "/{number}/actions",
		Summary: "The workflow actions allowed from the plan's state, with the activity each performs and whether you may", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*items[record.Action], error) {
			as, err := s.PlanActions(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &items[record.Action]{}
			out.Body.Items = as
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "perform-availability-plan-action", Method: http.MethodPost,
		Path: base + "/{number}/actions/{action}", Summary: "Perform an availability plan's workflow action", Tags: tag,
		Description: "submit and close perform AvM6. close needs every risk treated or accepted and every action done or " +
			"cancelled (409 says how many are open). 200 when the plan moved; 202 when the step waits for consultation or approval."},
		httpx.Authenticated, func(ctx context.Context, in *planStepIn) (*planStepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			comment := ""
			if in.Body != nil {
				comment = in.Body.Comment
			}
			res, err := s.Perform(ctx, in.Number, in.Action, v, comment)
			if err != nil {
				return nil, err
			}
			out := &planStepOut{Status: http.StatusAccepted, Body: res}
			if res.Outcome != record.OutcomeAwaitingApproval && res.Outcome != record.OutcomeAwaitingConsultation {
				out.Status = http.StatusOK
			}
			if res.Outcome == record.OutcomeApplied {
				out.ETag = httpx.ETag(res.Record.Version)
			}
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-availability-risk", Method: http.MethodPost, Path: base + "/{number}/risks",
		Summary: "Record a risk to the availability of the plan's service", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Assess Availability Risks (AvM4). A closed plan takes none (409)."},
		httpx.Authenticated, func(ctx context.Context, in *riskCreateIn) (*httpx.Created[AvailabilityRisk], error) {
			r, err := s.AddRisk(ctx, in.Number, in.Body.input())
			if err != nil {
				return nil, err
			}
			return &httpx.Created[AvailabilityRisk]{ETag: httpx.ETag(r.Version), Location: base + "/" + record.NormalizeNumber(in.Number) + "/risks/" + id(r.ID),
				Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "replace-availability-risk", Method: http.MethodPut, Path: base + "/{number}/risks/{id}",
		Summary: "Change a plan's risk: rescore, treat or accept it", Tags: tag, Description: "Performs AvM4."},
		httpx.Authenticated, func(ctx context.Context, in *riskPutIn) (*httpx.One[AvailabilityRisk], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			r, err := s.UpdateRisk(ctx, in.Number, in.ID, v, in.Body.input())
			if err != nil {
				return nil, err
			}
			return &httpx.One[AvailabilityRisk]{ETag: httpx.ETag(r.Version), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-availability-action", Method: http.MethodPost, Path: base + "/{number}/items",
		Summary: "Add an action to a plan, tracked to closure", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs AvailabilityPlan Availability for New and Changed Services (AvM5). riskId names the plan's risk it treats " +
			"(422 for another plan's). A closed plan takes none (409). (Workflow steps are under /actions.)"},
		httpx.Authenticated, func(ctx context.Context, in *actionCreateIn) (*httpx.Created[AvailabilityAction], error) {
			act, err := s.AddAction(ctx, in.Number, in.Body.input())
			if err != nil {
				return nil, err
			}
			return &httpx.Created[AvailabilityAction]{ETag: httpx.ETag(act.Version), Location: base + "/" + record.NormalizeNumber(in.Number) + "/items/" +
				id(act.ID), Body: act}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "replace-availability-action", Method: http.MethodPut, Path: base + "/{number}/items/{id}",
		Summary: "Change a plan's action: reassign, reschedule, finish or cancel it", Tags: tag, Description: "Performs AvM5."},
		httpx.Authenticated, func(ctx context.Context, in *actionPutIn) (*httpx.One[AvailabilityAction], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			act, err := s.UpdateAction(ctx, in.Number, in.ID, v, in.Body.input())
			if err != nil {
				return nil, err
			}
			return &httpx.One[AvailabilityAction]{ETag: httpx.ETag(act.Version), Body: act}, nil
		})
}
