package request

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// RegisterAPI adds the service catalog and request fulfilment endpoints to a.
// Reading needs a signed-in caller; every change is decided inside the
// service: the catalog by the RF RACI for RF1, request and task steps by the
// kernel's guard for the step's activity, catalog approvals by the item's approvers.
func RegisterAPI(a *httpx.API, s *Service) {
	registerCatalog(a, s)
	registerRequests(a, s)
	registerApprovals(a, s)
	registerTasks(a, s)
}

// PageParams are the paging parameters of a list.
type PageParams struct {
	Limit  int    `query:"limit" minimum:"1" maximum:"500" default:"50" doc:"Page size."`
	Cursor string `query:"cursor" maxLength:"1000" doc:"Opaque cursor from the previous page's nextCursor."`
}

func (p PageParams) params(sort string) listing.Params {
	return listing.Params{Limit: p.Limit, Cursor: p.Cursor, Sort: sort}
}

// boolParam reads an optional true/false query parameter.
func boolParam(v string) *bool {
	if v == "" {
		return nil
	}
	b := v == "true"
	return &b
}

// ---- catalog ----

// ItemIDPath is the {id} of a catalog item's path.
type ItemIDPath struct {
	ID int64 `path:"id" minimum:"1" doc:"The catalog item's id."`
}

type itemListIn struct {
	PageParams
	Sort      string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (id, name, category, updatedAt); a leading '-' sorts descending. By name by default."`
	Active    string `query:"active" enum:"true,false" doc:"Only the items offered (true) or withdrawn (false)."`
	Category  string `query:"category" maxLength:"40" doc:"Only this category's items."`
	ServiceID int64  `query:"serviceId" minimum:"0" doc:"Only this CMDB service's items."`
	Q         string `query:"q" maxLength:"100" doc:"Only items whose name contains this."`
}

// CatalogItemBody is a catalog item as it is created.
type CatalogItemBody struct {
	Name        string            `json:"name" maxLength:"200"`
	Description string            `json:"description,omitempty" maxLength:"32000"`
	Category    string            `json:"category,omitempty" maxLength:"40" doc:"A category key, such as hardware."`
	ServiceID   int64             `json:"serviceId" doc:"The CMDB service the item belongs to."`
	Active      *bool             `json:"active,omitempty" doc:"Offered to users; true when absent."`
	Variables   []FormVariable    `json:"variables,omitempty" maxItems:"50" doc:"The form's typed variables."`
	Approvals   []CatalogApproval `json:"approvals,omitempty" maxItems:"10" doc:"Approval levels, deciding in sequence."`
	Tasks       []CatalogTask     `json:"tasks,omitempty" maxItems:"50" doc:"Fulfilment tasks: one stage's run in parallel, stages in sequence."`
	TargetHours int64             `json:"targetHours,omitempty" minimum:"0" doc:"The fulfilment target in hours; 0 for none."`
}

// CatalogItemPatch holds the fields of a catalog item to change; a list given replaces the whole list.
type CatalogItemPatch struct {
	Name        *string           `json:"name,omitempty" maxLength:"200"`
	Description *string           `json:"description,omitempty" maxLength:"32000"`
	Category    *string           `json:"category,omitempty" maxLength:"40"`
	ServiceID   *int64            `json:"serviceId,omitempty"`
	Active      *bool             `json:"active,omitempty"`
	Variables   []FormVariable    `json:"variables,omitempty" maxItems:"50"`
	Approvals   []CatalogApproval `json:"approvals,omitempty" maxItems:"10"`
	Tasks       []CatalogTask     `json:"tasks,omitempty" maxItems:"50"`
	TargetHours *int64            `json:"targetHours,omitempty" minimum:"0"`
}

func (b CatalogItemPatch) change() ItemChange {
	c := ItemChange{Name: b.Name, Description: b.Description, Category: b.Category, ServiceID: b.ServiceID, Active: b.Active,
		TargetHours: b.TargetHours}
	if b.Variables != nil {
		c.Variables = &b.Variables
	}
	if b.Approvals != nil {
		c.Approvals = &b.Approvals
	}
	if b.Tasks != nil {
		c.Tasks = &b.Tasks
	}
	return c
}

type itemCreateIn struct {
	Body CatalogItemBody
}

type itemPatchIn struct {
	ItemIDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    CatalogItemPatch
}

type itemDeleteIn struct {
	ItemIDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

func registerCatalog(a *httpx.API, s *Service) {
	tag := []string{"Service catalog"}
	httpx.Register(a, huma.Operation{OperationID: "list-catalog-items", Method: http.MethodGet, Path: "/api/v1/catalog/items",
		Summary: "The service catalog: what users may request", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *itemListIn) (*httpx.Page[CatalogItem], error) {
			f := ItemFilter{Active: boolParam(in.Active), Category: in.Category, ServiceID: in.ServiceID, Q: in.Q}
			p, total, err := s.Items(ctx, f, in.params(in.Sort))
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			v := url.Values{"active": {in.Active}, "category": {in.Category}, "serviceId": {strconv.FormatInt(in.ServiceID, 10)}, "q": {in.Q}}
			return &httpx.Page[CatalogItem]{TotalCount: total, Link: listing.NextLink("/api/v1/catalog/items", lp, v, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-catalog-item", Method: http.MethodPost, Path: "/api/v1/catalog/items",
		Summary: "Add an item to the catalog", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Performs Establish Request Fulfillment Framework (RF1) for the item's service: you need R or A for it. 422 names " +
			"every field that breaks a rule, such as body.variables[2].choices, an unknown service (body.serviceId) or team."},
		httpx.Authenticated, func(ctx context.Context, in *itemCreateIn) (*httpx.Created[CatalogItem], error) {
			b := in.Body
			it := CatalogItem{Name: b.Name, Description: b.Description, Category: b.Category, ServiceID: b.ServiceID, Active: true,
				Form: Form{Variables: b.Variables, Approvals: b.Approvals, Tasks: b.Tasks}, TargetHours: b.TargetHours}
			if b.Active != nil {
				it.Active = *b.Active
			}
			out, err := s.CreateItem(ctx, it)
			if err != nil {
				return nil, err
			}
			return &httpx.Created[CatalogItem]{ETag: httpx.ETag(out.Version), Location: "/api/v1/catalog/items/" + strconv.FormatInt(out.ID, 10),
				Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-catalog-item", Method: http.MethodGet, Path: "/api/v1/catalog/items/{id}",
		Summary: "A catalog item with its form, approvals and tasks", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *ItemIDPath) (*httpx.One[CatalogItem], error) {
			out, err := s.Item(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &httpx.One[CatalogItem]{ETag: httpx.ETag(out.Version), Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-catalog-item", Method: http.MethodPatch, Path: "/api/v1/catalog/items/{id}",
		Summary: "Change a catalog item", Tags: tag,
		Description: "Performs RF1. A list given (variables, approvals, tasks) replaces the item's. Requests already submitted keep the " +
			"form they were submitted with."},
		httpx.Authenticated, func(ctx context.Context, in *itemPatchIn) (*httpx.One[CatalogItem], error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			out, err := s.UpdateItem(ctx, in.ID, v, in.Body.change())
			if err != nil {
				return nil, err
			}
			return &httpx.One[CatalogItem]{ETag: httpx.ETag(out.Version), Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-catalog-item", Method: http.MethodDelete, Path: "/api/v1/catalog/items/{id}",
		Summary: "Delete a catalog item no request was raised from", Tags: tag, DefaultStatus: http.StatusNoContent,
		Description: "Performs RF1. An item with requests is refused (409): deactivate it instead (active false)."},
		httpx.Authenticated, func(ctx context.Context, in *itemDeleteIn) (*struct{}, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			return nil, s.DeleteItem(ctx, in.ID, v)
		})
}

// ---- requests ----

// NumberPath is the {number} of a request's or a task's path.
type NumberPath struct {
	Number string `path:"number" maxLength:"32" doc:"The record's number, such as REQ0000001 or TASK0000001."`
}

type requestListIn struct {
	PageParams
	Sort      string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (number, state, createdAt, updatedAt); a leading '-' sorts descending. Newest first by default."`
	Requester int64  `query:"requester" minimum:"0" doc:"Only this user's requests."`
	State     string `query:"state" maxLength:"40" doc:"Only requests in this state."`
	Team      int64  `query:"team" minimum:"0" doc:"Only requests assigned to this team or with a task routed to it."`
	Item      int64  `query:"item" minimum:"0" doc:"Only requests for this catalog item."`
	Open      string `query:"open" enum:"true,false" doc:"Only open (true) or closed (false) requests."`
}

// ServiceRequestBody is a service request as it is submitted.
type ServiceRequestBody struct {
	CatalogItemID int64          `json:"catalogItemId" doc:"The catalog item requested."`
	Variables     map[string]any `json:"variables,omitempty" doc:"The form's values by variable name: text, a choice, a date (YYYY-MM-DD), a number, or a user or CI id."`
	Title         string         `json:"title,omitempty" maxLength:"200" doc:"Defaults to the item's name."`
	Description   string         `json:"description,omitempty" maxLength:"32000"`
	RequesterID   int64          `json:"requesterId,omitempty" minimum:"0" doc:"Log the request for another user (needs R or A for RF2); yourself when absent."`
	Channel       string         `json:"channel,omitempty" enum:"portal,api,desk,phone,email,chat,walk_in" doc:"How the request came in; api when absent."`
}

type requestCreateIn struct {
	Body ServiceRequestBody
}

// RequestActions lists the steps of a request or a task.
type RequestActions struct {
	Items []record.Action `json:"items"`
}

type actionsOut struct {
	Body RequestActions
}

// RequestStepBody is what a step of a request or a task carries.
type RequestStepBody struct {
	Comment string `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
	Reason  string `json:"reason,omitempty" maxLength:"4000" doc:"Required by reject and not_done: the requester reads it."`
}

type requestPerformIn struct {
	NumberPath
	Action  string `path:"action" maxLength:"40" doc:"The action, such as validate."`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    *RequestStepBody
}

func (in requestPerformIn) input(version int64) StepInput {
	si := StepInput{Version: version}
	if in.Body != nil {
		si.Comment, si.Reason = in.Body.Comment, in.Body.Reason
	}
	return si
}

type stepOut struct {
	Status int
	ETag   string `header:"ETag"`
	Body   RequestStepResult
}

// stepResponse is 200 with the record's ETag when the record moved, else 202.
func stepResponse(res RequestStepResult, version int64) *stepOut {
	out := &stepOut{Status: http.StatusAccepted, Body: res}
	if res.Outcome == record.OutcomeApplied || res.Outcome == record.OutcomeRejected || res.Outcome == record.OutcomeCancelled {
		out.Status = http.StatusOK
	}
	if res.Outcome == record.OutcomeApplied {
		out.ETag = httpx.ETag(version)
	}
	return out
}

func registerRequests(a *httpx.API, s *Service) {
	tag := []string{"Service requests"}
	httpx.Register(a, huma.Operation{OperationID: "list-requests", Method: http.MethodGet, Path: "/api/v1/requests",
		Summary: "Service requests, filtered and keyset-paginated", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *requestListIn) (*httpx.Page[RequestSummary], error) {
			f := Filter{RequesterID: in.Requester, State: in.State, TeamID: in.Team, CatalogItemID: in.Item, Open: boolParam(in.Open)}
			p, total, err := s.Requests(ctx, f, in.params(in.Sort))
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			v := url.Values{"requester": {strconv.FormatInt(in.Requester, 10)}, "state": {in.State}, "team": {strconv.FormatInt(in.Team, 10)},
				"item": {strconv.FormatInt(in.Item, 10)}, "open": {in.Open}}
			return &httpx.Page[RequestSummary]{TotalCount: total, Link: listing.NextLink("/api/v1/requests", lp, v, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-request", Method: http.MethodPost, Path: "/api/v1/requests",
		Summary: "Request a catalog item", Tags: tag, DefaultStatus: http.StatusCreated,
		Description: "Logs a service request (RF2) for yourself, or for requesterId with R or A for RF2. The values are checked " +
			"against the item's form: 422 names each one as body.variables.<name>. The request waits for validation (submitted)."},
		httpx.Authenticated, func(ctx context.Context, in *requestCreateIn) (*httpx.Created[Request], error) {
			b := in.Body
			channel := b.Channel
			if channel == "" {
				channel = "api"
			}
			out, err := s.Submit(ctx, NewRequest{CatalogItemID: b.CatalogItemID, Variables: b.Variables, Title: b.Title,
				Description: b.Description, RequesterID: b.RequesterID, Channel: channel})
			if err != nil {
				return nil, err
			}
			return &httpx.Created[Request]{ETag: httpx.ETag(out.Version), Location: "/api/v1/requests/" + out.Number, Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-request", Method: http.MethodGet, Path: "/api/v1/requests/{number}",
		Summary: "A service request with its values, approvals by level and tasks by stage", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[Request], error) {
			out, err := s.Request(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Request]{ETag: httpx.ETag(out.Version), Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-request-actions", Method: http.MethodGet, Path: "/api/v1/requests/{number}/actions",
		Summary: "The steps allowed from the request's state, with the activity each performs and whether you may", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*actionsOut, error) {
			as, err := s.Actions(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &actionsOut{}
			out.Body.Items = as
			return out, nil
		})
	resultSchema := a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[RequestStepResult](), true, "RequestStepResult")
	accepted := map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
		Content: map[string]*huma.MediaType{"application/json": {Schema: resultSchema}}}}
	httpx.Register(a, huma.Operation{OperationID: "perform-request-action", Method: http.MethodPost,
		Path: "/api/v1/requests/{number}/actions/{action}", Summary: "Take a step of a service request", Tags: tag,
		Description: "validate and reject perform RF2, fulfil RF3, close RF4: the RACI guard decides. accept, not_done and cancel " +
			"are the requester's own too. reject and not_done need a reason, which reaches the requester as a comment. " +
			"200 when the request moved; 202 when the step waits. 409 names the actions allowed from the current state.",
		Responses: accepted},
		httpx.Authenticated, func(ctx context.Context, in *requestPerformIn) (*stepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			res, err := s.Perform(ctx, in.Number, in.Action, in.input(v))
			if err != nil {
				return nil, err
			}
			return stepResponse(res, res.Request.Version), nil
		})
}

// ---- approvals ----

// ApprovalPath is the address of one approval of a request.
type ApprovalPath struct {
	NumberPath
	ID int64 `path:"id" minimum:"1" doc:"The approval's id, from the request's approvals."`
}

// RequestApproveBody is what an approval may carry.
type RequestApproveBody struct {
	Reason string `json:"reason,omitempty" maxLength:"4000"`
}

// RequestRejectBody is what a rejection carries.
type RequestRejectBody struct {
	Reason string `json:"reason" minLength:"1" maxLength:"4000" doc:"Why: the requester reads it."`
}

type requestApproveIn struct {
	ApprovalPath
	Body *RequestApproveBody
}

type requestRejectIn struct {
	ApprovalPath
	Body RequestRejectBody
}

// PendingRequestApprovals lists the approvals waiting for the caller.
type PendingRequestApprovals struct {
	Items []PendingRequestApproval `json:"items"`
}

type pendingOut struct {
	Body PendingRequestApprovals
}

func registerApprovals(a *httpx.API, s *Service) {
	tag := []string{"Service requests"}
	httpx.Register(a, huma.Operation{OperationID: "list-my-request-approvals", Method: http.MethodGet, Path: "/api/v1/request-approvals",
		Summary: "The catalog approvals waiting for your decision", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*pendingOut, error) {
			items, err := s.PendingApprovals(ctx)
			if err != nil {
				return nil, err
			}
			out := &pendingOut{}
			out.Body.Items = items
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "approve-request", Method: http.MethodPost,
		Path: "/api/v1/requests/{number}/approvals/{id}/approve", Summary: "Approve a level of a request (its approvers)", Tags: tag,
		Description: "Only an approver of the level deciding now may: the user named, or a member of the team named; never the " +
			"requester (403). The next level is asked, or after the last one fulfilment starts."},
		httpx.Authenticated, func(ctx context.Context, in *requestApproveIn) (*httpx.One[Request], error) {
			reason := ""
			if in.Body != nil {
				reason = in.Body.Reason
			}
			out, err := s.Approve(ctx, in.Number, in.ID, reason)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Request]{ETag: httpx.ETag(out.Version), Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "reject-request", Method: http.MethodPost,
		Path: "/api/v1/requests/{number}/approvals/{id}/reject", Summary: "Reject a request at its level, with a reason (its approvers)",
		Tags: tag, Description: "The request is rejected (RF2); the requester reads the reason as a comment and through request.rejected."},
		httpx.Authenticated, func(ctx context.Context, in *requestRejectIn) (*httpx.One[Request], error) {
			out, err := s.Reject(ctx, in.Number, in.ID, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			return &httpx.One[Request]{ETag: httpx.ETag(out.Version), Body: out}, nil
		})
}

// ---- tasks ----

type taskListIn struct {
	PageParams
	Sort    string `query:"sort" maxLength:"200" doc:"Comma-separated sort fields (number, createdAt, updatedAt); oldest first by default."`
	Team    int64  `query:"team" minimum:"0" doc:"Only this team's tasks."`
	State   string `query:"state" maxLength:"40" doc:"Only tasks in this state."`
	Open    string `query:"open" enum:"true,false" doc:"Only open (true) or finished (false) tasks."`
	Request string `query:"request" maxLength:"32" doc:"Only this request's tasks."`
}

func registerTasks(a *httpx.API, s *Service) {
	tag := []string{"Service requests"}
	httpx.Register(a, huma.Operation{OperationID: "list-request-tasks", Method: http.MethodGet, Path: "/api/v1/request-tasks",
		Summary: "Fulfilment tasks, a team's queue say", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *taskListIn) (*httpx.Page[RequestTask], error) {
			f := TaskFilter{TeamID: in.Team, State: in.State, Open: boolParam(in.Open), Request: in.Request}
			p, total, err := s.Tasks(ctx, f, in.params(in.Sort))
			if err != nil {
				return nil, err
			}
			lp := listing.Params{Limit: in.Limit, Sort: in.Sort}
			v := url.Values{"team": {strconv.FormatInt(in.Team, 10)}, "state": {in.State}, "open": {in.Open}, "request": {in.Request}}
			return &httpx.Page[RequestTask]{TotalCount: total, Link: listing.NextLink("/api/v1/request-tasks", lp, v, p.NextCursor), Body: p}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-request-task", Method: http.MethodGet, Path: "/api/v1/request-tasks/{number}",
		Summary: "A fulfilment task with its request", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*httpx.One[RequestTask], error) {
			out, err := s.Task(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			return &httpx.One[RequestTask]{ETag: httpx.ETag(out.Version), Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-request-task-actions", Method: http.MethodGet,
		Path: "/api/v1/request-tasks/{number}/actions", Summary: "The steps allowed from the task's state, and whether you may", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*actionsOut, error) {
			as, err := s.TaskActions(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &actionsOut{}
			out.Body.Items = as
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "perform-request-task-action", Method: http.MethodPost,
		Path: "/api/v1/request-tasks/{number}/actions/{action}", Summary: "Take a step of a fulfilment task (start, complete, cancel)",
		Tags: tag, Description: "Performs RF3: you need R or A for it in the task's team. Completing or cancelling the last open task " +
			"of a stage opens the next stage's tasks, or marks the request fulfilled.",
		Responses: map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: &huma.Schema{Ref: "#/components/schemas/RequestStepResult"}}}}}},
		httpx.Authenticated, func(ctx context.Context, in *requestPerformIn) (*stepOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			res, err := s.PerformTask(ctx, in.Number, in.Action, in.input(v))
			if err != nil {
				return nil, err
			}
			return stepResponse(res, res.Task.Version), nil
		})
}
