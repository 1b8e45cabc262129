package incident

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

// RegisterAPI adds the incident management endpoints to a. Reading needs a
// signed-in caller (security incidents read as not found to those who may
// not see them); every change is decided inside the service by the IM RACI
// for the activity it performs.
func RegisterAPI(a *httpx.API, s *Service) {
	registerIncidents(a, s)
	registerWorkflow(a, s)
	registerMajor(a, s)
	registerTracking(a, s)
	registerAdmin(a, s)
}

// NumberPath is the {number} of an incident's path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The incident's number, such as INC0000001."`
}

type incPage[T any] struct {
	TotalCount int64  `header:"X-Total-Count"`
	Link       string `header:"Link"`
	Body       listing.Page[T]
}

type incOne struct {
	ETag string `header:"ETag"`
	Body Incident
}

type incCreated struct {
	ETag     string `header:"ETag"`
	Location string `header:"Location"`
	Body     Incident
}

type incListIn struct {
	Limit      int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor     string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
	Sort       string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (priority, createdAt, updatedAt, number, state); a leading '-' sorts descending. Priority then age (oldest first) by default."`
	Team       int64  `query:"team" minimum:"0" doc:"Only incidents of this team."`
	Assignee   int64  `query:"assignee" minimum:"0" doc:"Only incidents assigned to this user."`
	Caller     int64  `query:"caller" minimum:"0" doc:"Only incidents of this caller."`
	Unassigned bool   `query:"unassigned" doc:"Only incidents nobody is assigned to."`
	State      string `query:"state" maxLength:"40" doc:"Only incidents in this state."`
	Open       string `query:"open" enum:"true,false" doc:"true: only open incidents; false: only closed ones."`
	Path       string `query:"path" enum:"normal,major,security" doc:"Only incidents on this path."`
	Priority   int    `query:"priority" minimum:"0" maximum:"5" doc:"Only incidents of this priority."`
	Service    int64  `query:"service" minimum:"0" doc:"Only incidents of this CMDB service."`
	CI         int64  `query:"ci" minimum:"0" doc:"Only incidents of this configuration item."`
	Category   string `query:"category" maxLength:"40" doc:"Only incidents of this category key."`
	Q          string `query:"q" maxLength:"500" doc:"Words to find in the number, title and description."`
}

func (in *incListIn) filter() QueueFilter {
	f := QueueFilter{TeamID: in.Team, AssigneeID: in.Assignee, CallerID: in.Caller, Unassigned: in.Unassigned, State: in.State,
		Path: in.Path, Priority: in.Priority, ServiceID: in.Service, CIID: in.CI, Category: in.Category, Query: in.Q}
	if in.Open != "" {
		open := in.Open == "true"
		f.Open = &open
	}
	return f
}

func (in *incListIn) values() url.Values {
	i64 := func(v int64) string { return strconv.FormatInt(v, 10) }
	v := url.Values{"team": {i64(in.Team)}, "assignee": {i64(in.Assignee)}, "caller": {i64(in.Caller)}, "state": {in.State},
		"open": {in.Open}, "path": {in.Path}, "priority": {strconv.Itoa(in.Priority)}, "service": {i64(in.Service)},
		"ci": {i64(in.CI)}, "category": {in.Category}, "q": {in.Q}}
	if in.Unassigned {
		v.Set("unassigned", "true")
	}
	return v
}

// IncidentInput is an incident to log.
type IncidentInput struct {
	Title       string `json:"title" maxLength:"200" doc:"A short summary."`
	Description string `json:"description,omitempty" maxLength:"32000"`
	Impact      int    `json:"impact" doc:"1 (high) to the size of the priority matrix (3 by default)."`
	Urgency     int    `json:"urgency" doc:"1 (high) to the size of the priority matrix (3 by default)."`
	Service     int64  `json:"service,omitempty" minimum:"0" doc:"The affected CMDB service's CI id."`
	CI          int64  `json:"ci,omitempty" minimum:"0" doc:"The affected configuration item's id."`
	Category    string `json:"category" maxLength:"40" doc:"A category key of the taxonomy."`
	Subcategory string `json:"subcategory,omitempty" maxLength:"40" doc:"A subcategory key of the category."`
	Channel     string `json:"channel,omitempty" enum:"desk,phone,portal,email,api,event,chat,walk_in,import" doc:"portal for your own incident, desk otherwise, when absent."`
	CallerID    int64  `json:"callerId,omitempty" minimum:"0" doc:"The caller; you when absent."`
	TeamID      int64  `json:"teamId,omitempty" minimum:"0" doc:"Route it to this team at once."`
	AssigneeID  int64  `json:"assigneeId,omitempty" minimum:"0" doc:"Assign it to this member of the team at once."`
	Marking     string `json:"marking,omitempty" maxLength:"64" doc:"The classification marking; UNCLASSIFIED when absent."`
}

type incCreateIn struct{ Body IncidentInput }

type incGetIn struct{ NumberPath }

type incPatchIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Title       *string `json:"title,omitempty" maxLength:"200"`
		Description *string `json:"description,omitempty" maxLength:"32000"`
		Impact      *int    `json:"impact,omitempty" doc:"The priority follows."`
		Urgency     *int    `json:"urgency,omitempty" doc:"The priority follows."`
		Service     *int64  `json:"service,omitempty" minimum:"0" doc:"0 clears."`
		CI          *int64  `json:"ci,omitempty" minimum:"0" doc:"0 clears."`
		Category    *string `json:"category,omitempty" maxLength:"40" doc:"Changing it clears the subcategory unless one is given."`
		Subcategory *string `json:"subcategory,omitempty" maxLength:"40" doc:"\"\" clears."`
		Channel     *string `json:"channel,omitempty" enum:"desk,phone,portal,email,api,event,chat,walk_in,import"`
		Marking     *string `json:"marking,omitempty" maxLength:"64"`
	}
}

func registerIncidents(a *httpx.API, s *Service) {
	tag := []string{"Incidents"}
	httpx.Register(a, huma.Operation{OperationID: "list-incidents", Method: http.MethodGet, Path: "/api/v1/incidents",
		Summary: "The incident queue: filtered, by priority then age, keyset-paginated", Tags: tag,
		Description: "Security incidents you may not see are left out. q finds words in the number, title and description."},
		httpx.Authenticated, func(ctx context.Context, in *incListIn) (*incPage[Incident], error) {
			p, total, err := s.Queue(ctx, in.filter(), listing.Params{Limit: in.Limit, Cursor: in.Cursor, Sort: in.Sort})
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			return &incPage[Incident]{TotalCount: total, Link: listing.NextLink("/api/v1/incidents", lp, in.values(), p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-incident", Method: http.MethodPost, Path: "/api/v1/incidents",
		Summary: "Log an incident", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Identify, Report and Log Incident (IM2). Anyone signed in logs their own incident through the portal or e-mail; " +
			"logging for another caller, through another channel or routed to a team needs R or A for IM2. The priority is computed " +
			"from impact × urgency through the configured matrix (422 naming body.impact or body.urgency outside it). An unknown " +
			"service, CI, category or caller is a 422 naming the field. A security category puts the incident on the security path; " +
			"a priority at the major threshold declares it major."},
		httpx.Authenticated, func(ctx context.Context, in *incCreateIn) (*incCreated, error) {
			b := in.Body
			inc, err := s.Create(ctx, NewIncident{Title: b.Title, Description: b.Description, Impact: b.Impact, Urgency: b.Urgency,
				ServiceID: b.Service, CIID: b.CI, Category: b.Category, Subcategory: b.Subcategory, Channel: b.Channel,
				CallerID: b.CallerID, TeamID: b.TeamID, AssigneeID: b.AssigneeID, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &incCreated{ETag: httpx.ETag(inc.Version), Location: "/api/v1/incidents/" + inc.Number, Body: inc}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-incident", Method: http.MethodGet, Path: "/api/v1/incidents/{number}",
		Summary: "An incident with its caller, assignee, team, service and CI names", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *incGetIn) (*incOne, error) {
			inc, err := s.Incident(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &incOne{ETag: httpx.ETag(inc.Version), Body: inc}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-incident", Method: http.MethodPatch, Path: "/api/v1/incidents/{number}",
		Summary: "Recategorise or reprioritise an incident", Tags: tag,
		Description: "Categorize and Prioritize Incident (IM3). The priority follows impact and urgency; a security category moves " +
			"the incident to the security path; a priority at the major threshold declares it major. A closed incident is 409."},
		httpx.Authenticated, func(ctx context.Context, in *incPatchIn) (*incOne, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			inc, err := s.Update(ctx, in.Number, v, Change{Title: b.Title, Description: b.Description, Impact: b.Impact,
				Urgency: b.Urgency, ServiceID: b.Service, CIID: b.CI, Category: b.Category, Subcategory: b.Subcategory,
				Channel: b.Channel, Marking: b.Marking})
			if err != nil {
				return nil, err
			}
			return &incOne{ETag: httpx.ETag(inc.Version), Body: inc}, nil
		})
}

type incActionsOut struct {
	Body struct {
		Items []IncidentAction `json:"items"`
	}
}

type incPerformIn struct {
	NumberPath
	Action  string `path:"action" maxLength:"40" doc:"investigate, hold, resume, resolve, confirm, reject_resolution, close, reopen, cancel or reclassify."`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    *struct {
		Comment            string `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
		HoldReason         string `json:"holdReason,omitempty" enum:"awaiting_caller,awaiting_supplier,awaiting_change" doc:"hold: why it waits."`
		ResolutionCode     string `json:"resolutionCode,omitempty" maxLength:"40" doc:"resolve: one of the settings' resolution codes."`
		ResolutionNotes    string `json:"resolutionNotes,omitempty" maxLength:"32000" doc:"resolve: what was done."`
		EffortMinutes      int64  `json:"effortMinutes,omitempty" minimum:"0" doc:"resolve: the effort spent."`
		FirstContact       bool   `json:"firstContact,omitempty" doc:"resolve: resolved at the first contact."`
		Reason             string `json:"reason,omitempty" maxLength:"4000" doc:"reject_resolution (required), reopen: why."`
		ClosureCategory    string `json:"closureCategory,omitempty" maxLength:"40" doc:"close, confirm: the category found right at the review."`
		ClosureSubcategory string `json:"closureSubcategory,omitempty" maxLength:"40" doc:"close, confirm: the subcategory found right."`
		CatalogItemID      int64  `json:"catalogItemId,omitempty" minimum:"0" doc:"reclassify: the catalog item of the request."`
	}
}

type incStepOut struct {
	Status int
	ETag   string `header:"ETag"`
	Body   IncidentStepResult
}

func registerWorkflow(a *httpx.API, s *Service) {
	tag := []string{"Incidents"}
	httpx.Register(a, huma.Operation{OperationID: "list-incident-actions", Method: http.MethodGet, Path: "/api/v1/incidents/{number}/actions",
		Summary: "The actions allowed from the incident's state, with their activity, whether you may, and the fields they take", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*incActionsOut, error) {
			as, err := s.Actions(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &incActionsOut{}
			out.Body.Items = as
			return out, nil
		})
	schema := a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[IncidentStepResult](), true, "IncidentStepResult")
	httpx.Register(a, huma.Operation{OperationID: "perform-incident-action", Method: http.MethodPost,
		Path: "/api/v1/incidents/{number}/actions/{action}", Summary: "Take a workflow action on an incident", Tags: tag,
		Description: "investigate, hold and resume perform IM4; resolve, reject_resolution and reopen IM5; confirm and close IM6; " +
			"cancel IM2; reclassify IM3. The caller may confirm, reject (with a reason) and reopen (within the reopen window) their " +
			"own incident. 200 when the incident moved; 202 when the step waits for consultation or approval. 409 names the " +
			"actions allowed from the current state; 422 names a missing or wrong field.",
		Responses: map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: schema}}}}},
		httpx.Authenticated, func(ctx context.Context, in *incPerformIn) (*incStepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			si := StepInput{Version: v}
			if b := in.Body; b != nil {
				si.Comment = b.Comment
				si.Fields = StepFields{HoldReason: b.HoldReason, ResolutionCode: b.ResolutionCode, ResolutionNotes: b.ResolutionNotes,
					EffortMinutes: b.EffortMinutes, FirstContact: b.FirstContact, Reason: b.Reason, ClosureCategory: b.ClosureCategory,
					ClosureSubcategory: b.ClosureSubcategory, CatalogItemID: b.CatalogItemID}
			}
			res, err := s.Perform(ctx, in.Number, in.Action, si)
			if err != nil {
				return nil, err
			}
			return stepResponse(res), nil
		})
}

// stepResponse is 200 with the incident's ETag when it moved, else 202.
func stepResponse(res IncidentStepResult) *incStepOut {
	out := &incStepOut{Status: http.StatusAccepted, Body: res}
	if res.Outcome == record.OutcomeApplied || res.Outcome == record.OutcomeRejected || res.Outcome == record.OutcomeCancelled {
		out.Status = http.StatusOK
	}
	if res.Outcome == record.OutcomeApplied {
		out.ETag = httpx.ETag(res.Incident.Version)
	}
	return out
}

// ifMatchOptional reads an If-Match header that may be absent (0).
func ifMatchOptional(h string) (int64, error) {
	if h == "" {
		return 0, nil
	}
	return httpx.IfMatch(h)
}

type incDeclareIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; optional."`
	Body    struct {
		ManagerID int64  `json:"managerId" minimum:"1" doc:"The major-incident manager."`
		Reason    string `json:"reason" maxLength:"4000" doc:"Why it is major."`
	}
}

type incMajorOut struct{ Body MajorDetail }

type incUpdateIn struct {
	NumberPath
	Body struct {
		Audience string `json:"audience" enum:"all,users,stakeholders,management,technical"`
		Message  string `json:"message" maxLength:"8000"`
	}
}

type incUpdateOut struct{ Body MajorUpdate }

type incUpdatesOut struct {
	Body struct {
		Items []MajorUpdate `json:"items"`
	}
}

type incCommIn struct {
	NumberPath
	Body struct {
		Channel string `json:"channel" enum:"phone,email,bridge,chat,meeting,sms,portal,other"`
		Party   string `json:"party" maxLength:"500" doc:"With whom."`
		Summary string `json:"summary" maxLength:"8000"`
	}
}

type incCommOut struct{ Body MajorCommunication }

type incCommsOut struct {
	Body struct {
		Items []MajorCommunication `json:"items"`
	}
}

type incChildrenIn struct {
	NumberPath
	Body struct {
		Numbers []string `json:"numbers" minItems:"1" maxItems:"100" doc:"The incidents to link as children."`
	}
}

type incChildrenOut struct {
	Body struct {
		Linked []string `json:"linked" doc:"The numbers linked now (those linked before are left out)."`
	}
}

type incReviewIn struct {
	NumberPath
	Body struct {
		Summary   string `json:"summary" maxLength:"32000"`
		RootCause string `json:"rootCause" maxLength:"32000"`
		Lessons   string `json:"lessons" maxLength:"32000"`
		Actions   string `json:"actions" maxLength:"32000"`
	}
}

type incReviewOut struct{ Body MajorReview }

func registerMajor(a *httpx.API, s *Service) {
	tag := []string{"Major incidents"}
	httpx.Register(a, huma.Operation{OperationID: "declare-major-incident", Method: http.MethodPost, Path: "/api/v1/incidents/{number}/major",
		Summary: "Declare a major incident, or change its manager", Tags: tag,
		Description: "Categorize and Prioritize Incident (IM3). A security incident, or another incident's child, is never major (409)."},
		httpx.Authenticated, func(ctx context.Context, in *incDeclareIn) (*incOne, error) {
			v, err := ifMatchOptional(in.IfMatch)
			if err != nil {
				return nil, err
			}
			inc, err := s.DeclareMajor(ctx, in.Number, v, in.Body.ManagerID, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			return &incOne{ETag: httpx.ETag(inc.Version), Body: inc}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-major-incident", Method: http.MethodGet, Path: "/api/v1/incidents/{number}/major",
		Summary: "A major incident's manager, timeline, communications log, review and children", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*incMajorOut, error) {
			d, err := s.MajorDetail(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &incMajorOut{Body: d}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "post-major-update", Method: http.MethodPost, Path: "/api/v1/incidents/{number}/major/updates",
		Summary: "Post a stakeholder update on a major incident", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Stored on the timeline and sent through the outbox (incident.major_update). The major-incident manager, or R/A for IM4."},
		httpx.Authenticated, func(ctx context.Context, in *incUpdateIn) (*incUpdateOut, error) {
			u, err := s.PostUpdate(ctx, in.Number, in.Body.Audience, in.Body.Message)
			if err != nil {
				return nil, err
			}
			return &incUpdateOut{Body: u}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-major-updates", Method: http.MethodGet, Path: "/api/v1/incidents/{number}/major/updates",
		Summary: "A major incident's stakeholder updates, oldest first", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*incUpdatesOut, error) {
			d, err := s.MajorDetail(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &incUpdatesOut{}
			out.Body.Items = d.Updates
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "log-major-communication", Method: http.MethodPost,
		Path: "/api/v1/incidents/{number}/major/communications", Summary: "Log a communication on a major incident", Tags: tag,
		DefaultStatus: http.StatusCreated, Description: "The major-incident manager, or R/A for IM4."},
		httpx.Authenticated, func(ctx context.Context, in *incCommIn) (*incCommOut, error) {
			c, err := s.LogCommunication(ctx, in.Number, MajorCommunication{Channel: in.Body.Channel, Party: in.Body.Party, Summary: in.Body.Summary})
			if err != nil {
				return nil, err
			}
			return &incCommOut{Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-major-communications", Method: http.MethodGet,
		Path: "/api/v1/incidents/{number}/major/communications", Summary: "A major incident's communications log, oldest first", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*incCommsOut, error) {
			cs, err := s.Communications(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &incCommsOut{}
			out.Body.Items = cs
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "record-major-review", Method: http.MethodPost, Path: "/api/v1/incidents/{number}/major/review",
		Summary: "Record the review of a resolved major incident", Tags: tag,
		Description: "Close Incident (IM6). Closing a major incident waits for it (409 before)."},
		httpx.Authenticated, func(ctx context.Context, in *incReviewIn) (*incReviewOut, error) {
			b := in.Body
			rv, err := s.RecordReview(ctx, in.Number, MajorReview{Summary: b.Summary, RootCause: b.RootCause, Lessons: b.Lessons, Actions: b.Actions})
			if err != nil {
				return nil, err
			}
			return &incReviewOut{Body: rv}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "link-child-incidents", Method: http.MethodPost, Path: "/api/v1/incidents/{number}/children",
		Summary: "Link incidents as children of a major incident", Tags: tag,
		Description: "They are resolved with it. The major-incident manager, or R/A for IM3. A child is open, not major, and no other's child."},
		httpx.Authenticated, func(ctx context.Context, in *incChildrenIn) (*incChildrenOut, error) {
			linked, err := s.AddChildren(ctx, in.Number, in.Body.Numbers)
			if err != nil {
				return nil, err
			}
			out := &incChildrenOut{}
			out.Body.Linked = linked
			return out, nil
		})
}

type incEscalateIn struct {
	NumberPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; optional."`
	Body    struct {
		Reason string `json:"reason" maxLength:"4000"`
	}
}

type incTrackingOut struct{ Body IncidentTracking }

type incKnownOut struct {
	Body struct {
		Items []KnownErrorOffer `json:"items"`
	}
}

// KnownErrorOffer is a KnownErrorMatch as the API returns it, under a name of
// its own (problem management has a KnownErrorMatch too).
type KnownErrorOffer KnownErrorMatch

func offers(ms []KnownErrorMatch) []KnownErrorOffer {
	out := make([]KnownErrorOffer, len(ms))
	for i, m := range ms {
		out[i] = KnownErrorOffer(m)
	}
	return out
}

type incMatchIn struct {
	Body struct {
		Title       string `json:"title,omitempty" maxLength:"200"`
		Description string `json:"description,omitempty" maxLength:"32000"`
		CI          int64  `json:"ci,omitempty" minimum:"0"`
		Service     int64  `json:"service,omitempty" minimum:"0"`
		Category    string `json:"category,omitempty" maxLength:"40"`
		Subcategory string `json:"subcategory,omitempty" maxLength:"40"`
		Limit       int    `json:"limit,omitempty" minimum:"0" maximum:"20" doc:"At most so many; 5 by default."`
	}
}

type incTrendsIn struct {
	By    string `query:"by" enum:"category,ci,service" required:"true" doc:"Group by category, CI or service."`
	From  string `query:"from" maxLength:"40" doc:"Start of the period (RFC 3339 or YYYY-MM-DD); 30 days before to by default."`
	To    string `query:"to" maxLength:"40" doc:"End of the period, exclusive; now by default."`
	Min   int    `query:"min" minimum:"0" doc:"Only groups with at least so many incidents; 2 by default."`
	Limit int    `query:"limit" minimum:"0" maximum:"200" doc:"At most so many groups; 50 by default."`
}

type incTrendsOut struct {
	Body struct {
		Items []IncidentTrend `json:"items"`
	}
}

func registerTracking(a *httpx.API, s *Service) {
	tag := []string{"Incidents"}
	httpx.Register(a, huma.Operation{OperationID: "escalate-incident", Method: http.MethodPost, Path: "/api/v1/incidents/{number}/escalate",
		Summary: "Escalate an incident one level up the hierarchy (0 to 3)", Tags: tag,
		Description: "Investigate and Diagnose Incident (IM4). Journalled, audited and announced (incident.escalated) to the IM process managers."},
		httpx.Authenticated, func(ctx context.Context, in *incEscalateIn) (*incOne, error) {
			v, err := ifMatchOptional(in.IfMatch)
			if err != nil {
				return nil, err
			}
			inc, err := s.Escalate(ctx, in.Number, v, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			return &incOne{ETag: httpx.ETag(inc.Version), Body: inc}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-incident-tracking", Method: http.MethodGet, Path: "/api/v1/incidents/{number}/tracking",
		Summary: "An incident's reassignment count, escalation level and assignment history", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*incTrackingOut, error) {
			t, err := s.Tracking(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &incTrackingOut{Body: t}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-incident-known-errors", Method: http.MethodGet,
		Path: "/api/v1/incidents/{number}/known-errors", Summary: "Known errors and workarounds that match an incident (IM4)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*incKnownOut, error) {
			ms, err := s.KnownErrors(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &incKnownOut{}
			out.Body.Items = offers(ms)
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "match-incident-known-errors", Method: http.MethodPost, Path: "/api/v1/incidents/known-error-matches",
		Summary: "Known errors and workarounds that match an incident being logged", Tags: tag,
		Description: "The logging form asks with what it has, before saving."},
		httpx.Authenticated, func(ctx context.Context, in *incMatchIn) (*incKnownOut, error) {
			b := in.Body
			ms, err := s.MatchKnownErrors(ctx, MatchInput{Title: b.Title, Description: b.Description, CIID: b.CI, ServiceID: b.Service,
				Category: b.Category, Subcategory: b.Subcategory, Limit: b.Limit})
			if err != nil {
				return nil, err
			}
			out := &incKnownOut{}
			out.Body.Items = offers(ms)
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "incident-trends", Method: http.MethodGet, Path: "/api/v1/incidents/trends",
		Summary: "Recurring incidents by category, CI or service over a period", Tags: tag,
		Description: "For proactive problem management: the most frequent groups first, each with its first and last incident " +
			"and the numbers of its latest five. Security incidents you may not see are left out."},
		httpx.Authenticated, func(ctx context.Context, in *incTrendsIn) (*incTrendsOut, error) {
			from, err := parseWhen("query.from", in.From)
			if err != nil {
				return nil, err
			}
			to, err := parseWhen("query.to", in.To)
			if err != nil {
				return nil, err
			}
			ts, err := s.Trends(ctx, TrendQuery{By: in.By, From: from, To: to, Min: in.Min, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			out := &incTrendsOut{}
			out.Body.Items = ts
			return out, nil
		})
}

type incSettingsOut struct {
	ETag string `header:"ETag"`
	Body IncidentSettings
}

type incSettingsIn struct {
	IfMatch string `header:"If-Match" doc:"The ETag you read (\"0\" before the first save); required."`
	Body    IncidentSettings
}

type incCategoriesIn struct {
	Parent     string `query:"parent" maxLength:"40" doc:"Only the subcategories of this category."`
	Top        bool   `query:"top" doc:"Only the categories, without subcategories."`
	ActiveOnly bool   `query:"active" doc:"Only entries that can be picked."`
}

type incCategoriesOut struct {
	Body struct {
		Items []IncidentCategory `json:"items"`
	}
}

// CategoryIDPath is the {id} of a taxonomy entry's path.
type CategoryIDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type incCategoryOut struct {
	ETag string `header:"ETag"`
	Body IncidentCategory
}

type incCategoryCreateIn struct {
	Body struct {
		Key         string `json:"key" maxLength:"40" doc:"Lower-case letters, digits, '_' or '-'; never changes."`
		Parent      string `json:"parent,omitempty" maxLength:"40" doc:"The category of a subcategory; absent for a category."`
		Label       string `json:"label" maxLength:"200"`
		Description string `json:"description,omitempty" maxLength:"2000"`
		Position    int64  `json:"position,omitempty" doc:"Order among its siblings."`
	}
}

type incCategoryPatchIn struct {
	CategoryIDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Label       *string `json:"label,omitempty" maxLength:"200"`
		Description *string `json:"description,omitempty" maxLength:"2000"`
		Active      *bool   `json:"active,omitempty" doc:"false retires it: it can no longer be picked."`
		Position    *int64  `json:"position,omitempty"`
	}
}

type incImportIn struct {
	Format  string `query:"format" enum:"servicenow" default:"servicenow" doc:"The export's format."`
	RawBody []byte `contentType:"text/csv"`
}

// IncidentImportReport is what an import through the API read and did.
type IncidentImportReport struct {
	ImportResult
	// Parsed is what the parser read: rows, incidents and the rows it skipped, with why.
	Parsed any `json:"parsed"`
}

type incImportOut struct{ Body IncidentImportReport }

func registerAdmin(a *httpx.API, s *Service) {
	tag := []string{"Incident settings"}
	httpx.Register(a, huma.Operation{OperationID: "get-incident-settings", Method: http.MethodGet, Path: "/api/v1/incident-settings",
		Summary: "The settings of incident management", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*incSettingsOut, error) {
			st, err := s.Settings(ctx)
			if err != nil {
				return nil, err
			}
			return &incSettingsOut{ETag: httpx.ETag(st.Version), Body: st}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "put-incident-settings", Method: http.MethodPut, Path: "/api/v1/incident-settings",
		Summary: "Replace the settings of incident management", Tags: tag,
		Description: "Establish Incident Management Framework (IM1): you need R or A for it. The priority matrix, resolution codes, " +
			"auto-close and reopen windows, the major-incident threshold, the security categories (taxonomy keys) and the security roles."},
		httpx.Authenticated, func(ctx context.Context, in *incSettingsIn) (*incSettingsOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			st, err := s.SaveSettings(ctx, v, in.Body)
			if err != nil {
				return nil, err
			}
			return &incSettingsOut{ETag: httpx.ETag(st.Version), Body: st}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-incident-categories", Method: http.MethodGet, Path: "/api/v1/incident-categories",
		Summary: "The incident taxonomy: categories, each followed by its subcategories", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *incCategoriesIn) (*incCategoriesOut, error) {
			var parent *string
			if in.Parent != "" || in.Top {
				parent = &in.Parent
			}
			cs, err := s.Categories(ctx, parent, in.ActiveOnly)
			if err != nil {
				return nil, err
			}
			out := &incCategoriesOut{}
			out.Body.Items = cs
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-incident-category", Method: http.MethodPost, Path: "/api/v1/incident-categories",
		Summary: "Add a category or subcategory to the taxonomy", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "IM1: you need R or A for it. 409 names a key that exists."},
		httpx.Authenticated, func(ctx context.Context, in *incCategoryCreateIn) (*incCategoryOut, error) {
			b := in.Body
			c, err := s.AddCategory(ctx, IncidentCategory{Key: b.Key, Parent: b.Parent, Label: b.Label, Description: b.Description, Position: b.Position})
			if err != nil {
				return nil, err
			}
			return &incCategoryOut{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-incident-category", Method: http.MethodGet, Path: "/api/v1/incident-categories/{id}",
		Summary: "An entry of the incident taxonomy", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *CategoryIDPath) (*incCategoryOut, error) {
			c, err := s.Category(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &incCategoryOut{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-incident-category", Method: http.MethodPatch, Path: "/api/v1/incident-categories/{id}",
		Summary: "Relabel, reorder, retire or revive an entry of the taxonomy", Tags: tag, Description: "IM1: you need R or A for it."},
		httpx.Authenticated, func(ctx context.Context, in *incCategoryPatchIn) (*incCategoryOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			c, err := s.UpdateCategory(ctx, in.ID, v, IncidentCategoryChange{Label: b.Label, Description: b.Description, Active: b.Active, Position: b.Position})
			if err != nil {
				return nil, err
			}
			return &incCategoryOut{ETag: httpx.ETag(c.Version), Body: c}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-incident-category", Method: http.MethodDelete, Path: "/api/v1/incident-categories/{id}",
		Summary: "Delete an unused entry of the taxonomy", Tags: tag, DefaultStatus: http.StatusNoContent,
		Description: "IM1: you need R or A for it. An entry in use is 409: retire it instead."},
		httpx.Authenticated, func(ctx context.Context, in *CategoryIDPath) (*struct{}, error) {
			return nil, s.DeleteCategory(ctx, in.ID)
		})
	httpx.Register(a, huma.Operation{OperationID: "import-incidents", Method: http.MethodPost, Path: "/api/v1/incidents/import",
		Summary: "Import incidents from a ServiceNow export (CSV)", Tags: []string{"Incidents"}, MaxBodyBytes: 64 << 20,
		Description: "Send the CSV as the raw body. The last row of each number is the incident; malformed rows are skipped with " +
			"the reason. Importing the same file again creates no duplicates. Needs R or A for IM2."},
		httpx.Authenticated, func(ctx context.Context, in *incImportIn) (*incImportOut, error) {
			res, rep, err := s.ImportServiceNowCSV(ctx, in.RawBody)
			if err != nil {
				return nil, err
			}
			return &incImportOut{Body: IncidentImportReport{ImportResult: res, Parsed: rep}}, nil
		})
}

// parseWhen reads a time of a query: RFC 3339, or a date (midnight UTC); "" is the zero time.
func parseWhen(loc, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, errs.Field(loc, "a time as RFC 3339 (2025-03-01T09:00:00Z) or a date (2025-03-01)", s)
}
