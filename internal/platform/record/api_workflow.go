package record

import (
	"context"
	"net/http"
	"net/url"
	"reflect"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
)

type actionsOut struct {
	Body struct {
		Items []Action `json:"items"`
	}
}

type performIn struct {
	NumberPath
	Action  string `path:"action" maxLength:"40" doc:"The action, such as resolve."`
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    *struct {
		Comment string `json:"comment,omitempty" maxLength:"32000" doc:"Kept as a work note with the step."`
	}
}

type resultOut struct {
	Status int
	ETag   string `header:"ETag"`
	Body   Result
}

func registerWorkflow(a *httpx.API, s *Service) {
	tag := []string{"Records"}
	httpx.Register(a, huma.Operation{OperationID: "list-record-actions", Method: http.MethodGet, Path: "/api/v1/records/{number}/actions",
		Summary: "The workflow actions allowed from the record's state, with the activity each performs and whether you may", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *NumberPath) (*actionsOut, error) {
			as, err := s.Actions(ctx, in.Number)
			if err != nil {
				return nil, err
			}
			out := &actionsOut{}
			out.Body.Items = as
			return out, nil
		})
	resultSchema := a.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[Result](), true, "Result")
	httpx.Register(a, huma.Operation{OperationID: "perform-record-action", Method: http.MethodPost, Path: "/api/v1/records/{number}/actions/{action}",
		Summary: "Perform a workflow action", Tags: tag,
		Description: "The RACI guard decides: you need R or A for the action's activity in the record's team and service. " +
			"200 when the record moved; 202 when the step waits for consultation (C) or approval (A). " +
			"403 names the activity and the roles that may perform it; 409 names the actions allowed from the current state.",
		Responses: map[string]*huma.Response{"202": {Description: "The step waits for consultation or approval.",
			Content: map[string]*huma.MediaType{"application/json": {Schema: resultSchema}}}}},
		httpx.Authenticated, func(ctx context.Context, in *performIn) (*resultOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			pi := PerformInput{Version: v}
			if in.Body != nil {
				pi.Comment = in.Body.Comment
			}
			res, err := s.Perform(ctx, in.Number, in.Action, pi)
			if err != nil {
				return nil, err
			}
			return resultResponse(res), nil
		})
}

// resultResponse is 200 with the record's ETag when the record moved, else 202.
func resultResponse(res Result) *resultOut {
	out := &resultOut{Status: http.StatusAccepted, Body: res}
	if res.Outcome == OutcomeApplied || res.Outcome == OutcomeRejected || res.Outcome == OutcomeCancelled {
		out.Status = http.StatusOK
	}
	if res.Outcome == OutcomeApplied {
		out.ETag = httpx.ETag(res.Record.Version)
	}
	return out
}

type approvalsIn struct {
	listing.Params
	State  string `query:"state" enum:"pending,approved,rejected,cancelled,consulting" doc:"Only approvals in this state."`
	Mine   bool   `query:"mine" doc:"Only the approvals you were asked for (as an accountable holder)."`
	Record string `query:"record" maxLength:"32" doc:"Only this record's approvals."`
}

type stepPage struct {
	Link string `header:"Link"`
	Body listing.Page[Step]
}

// StepDetail is a step with its consultation tasks.
type StepDetail struct {
	Step
	Consultations []Consultation `json:"consultations"`
}

type stepOne struct{ Body StepDetail }

type decisionIn struct {
	IDPath
	Body *struct {
		Reason string `json:"reason,omitempty" maxLength:"4000"`
	}
}

type rejectIn struct {
	IDPath
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"4000" doc:"Why the step is refused."`
	}
}

type consultationsIn struct {
	listing.Params
	State  string `query:"state" enum:"open,answered,waived,cancelled" doc:"Only consultations in this state."`
	Mine   bool   `query:"mine" doc:"Only the consultations that ask you."`
	Record string `query:"record" maxLength:"32" doc:"Only this record's consultations."`
}

type consultationPage struct {
	Link string `header:"Link"`
	Body listing.Page[Consultation]
}

type answerIn struct {
	IDPath
	Body struct {
		Answer string `json:"answer" minLength:"1" maxLength:"4000"`
	}
}

type waiveIn struct {
	IDPath
	Body struct {
		Reason string `json:"reason" minLength:"1" maxLength:"4000" doc:"Why the consultation is not needed."`
	}
}

func registerSteps(a *httpx.API, s *Service) {
	tag := []string{"Approvals"}
	httpx.Register(a, huma.Operation{OperationID: "list-approvals", Method: http.MethodGet, Path: "/api/v1/approvals",
		Summary: "Workflow steps that need an accountable holder's approval", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *approvalsIn) (*stepPage, error) {
			page, err := s.Approvals(ctx, StepFilter{State: in.State, Mine: in.Mine, Record: in.Record}, in.Params)
			if err != nil {
				return nil, err
			}
			f := url.Values{"state": {in.State}, "record": {in.Record}}
			if in.Mine {
				f.Set("mine", "true")
			}
			return &stepPage{Link: listing.NextLink("/api/v1/approvals", in.Params, f, page.NextCursor), Body: page}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-approval", Method: http.MethodGet, Path: "/api/v1/approvals/{id}",
		Summary: "A workflow step with its consultations", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*stepOne, error) {
			st, cs, err := s.Step(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &stepOne{Body: StepDetail{Step: st, Consultations: cs}}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "approve-step", Method: http.MethodPost, Path: "/api/v1/approvals/{id}/approve",
		Summary: "Approve a step and apply it (accountable holders)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *decisionIn) (*resultOut, error) {
			reason := ""
			if in.Body != nil {
				reason = in.Body.Reason
			}
			res, err := s.Approve(ctx, in.ID, reason)
			if err != nil {
				return nil, err
			}
			return resultResponse(res), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "reject-step", Method: http.MethodPost, Path: "/api/v1/approvals/{id}/reject",
		Summary: "Refuse a step, with a reason (accountable holders)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *rejectIn) (*resultOut, error) {
			res, err := s.Reject(ctx, in.ID, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			return resultResponse(res), nil
		})

	tag = []string{"Consultations"}
	httpx.Register(a, huma.Operation{OperationID: "list-consultations", Method: http.MethodGet, Path: "/api/v1/consultations",
		Summary: "Consultation tasks of consulted (C) holders", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *consultationsIn) (*consultationPage, error) {
			page, err := s.Consultations(ctx, ConsultationFilter{State: in.State, Mine: in.Mine, Record: in.Record}, in.Params)
			if err != nil {
				return nil, err
			}
			f := url.Values{"state": {in.State}, "record": {in.Record}, "mine": {strconv.FormatBool(in.Mine)}}
			if !in.Mine {
				f.Del("mine")
			}
			return &consultationPage{Link: listing.NextLink("/api/v1/consultations", in.Params, f, page.NextCursor), Body: page}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "answer-consultation", Method: http.MethodPost, Path: "/api/v1/consultations/{id}/answer",
		Summary: "Answer a consultation (the consulted user)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *answerIn) (*resultOut, error) {
			res, err := s.AnswerConsultation(ctx, in.ID, in.Body.Answer)
			if err != nil {
				return nil, err
			}
			return resultResponse(res), nil
		})
	httpx.Register(a, huma.Operation{OperationID: "waive-consultation", Method: http.MethodPost, Path: "/api/v1/consultations/{id}/waive",
		Summary: "Waive a consultation, with a reason (the performer or an accountable holder)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *waiveIn) (*resultOut, error) {
			res, err := s.WaiveConsultation(ctx, in.ID, in.Body.Reason)
			if err != nil {
				return nil, err
			}
			return resultResponse(res), nil
		})
}
