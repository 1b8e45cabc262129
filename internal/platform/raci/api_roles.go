package raci

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
)

// ---- tailoring a process: local roles, renames, local activities, settings ----

type raciRoleCreateIn struct {
	CodePath
	Body struct {
		Code        string            `json:"code" maxLength:"63" doc:"Lower-case words joined by '-', not a seed role's code."`
		Name        string            `json:"name" maxLength:"100"`
		Description string            `json:"description,omitempty" maxLength:"2000"`
		Cells       map[string]string `json:"cells,omitempty" doc:"The new column's letters per activity code, e.g. {\"IM5\": \"C\"}."`
	}
}

type raciCatalogueRoleIn struct {
	Body struct {
		Code        string `json:"code" maxLength:"63" doc:"Lower-case words joined by '-', not a seed role's code."`
		Name        string `json:"name" maxLength:"100"`
		Description string `json:"description,omitempty" maxLength:"2000"`
	}
}

type raciRoleRenameIn struct {
	CodePath
	Role    string `path:"role" maxLength:"64" doc:"Role code."`
	IfMatch string `header:"If-Match" doc:"The process's ETag you read; required."`
	Body    struct {
		Name string `json:"name" maxLength:"100" doc:"The role's name in this process; empty restores the default."`
	}
}

type raciRoleOut struct {
	ETag string `header:"ETag"`
	Body ProcessRole
}

type raciActivityCreateIn struct {
	CodePath
	Body struct {
		Code                 string            `json:"code" maxLength:"64" doc:"A sub-step code such as IM5.1 (under IM5), or LOC-…"`
		Parent               string            `json:"parent,omitempty" maxLength:"64" doc:"The activity a sub-step details; defaults from a code such as IM5.1."`
		After                string            `json:"after,omitempty" maxLength:"64" doc:"The activity it is listed after; defaults to its parent, else the last process-specific activity."`
		Name                 string            `json:"name" maxLength:"200"`
		Description          string            `json:"description,omitempty" maxLength:"4000"`
		RequiresApproval     bool              `json:"requiresApproval,omitempty" doc:"The step waits for the approval of the activity's A holder."`
		RequiresConsultation bool              `json:"requiresConsultation,omitempty" doc:"The activity's C holders get a consultation task first."`
		Cells                map[string]string `json:"cells,omitempty" doc:"Letters per role code; by default the parent's row, else that of the activity it follows."`
	}
}

type raciActivityPatchIn struct {
	CodePath
	Activity string `path:"activity" maxLength:"64" doc:"Activity code."`
	IfMatch  string `header:"If-Match" doc:"The process's ETag you read; required."`
	Body     struct {
		RequiresApproval     *bool `json:"requiresApproval,omitempty" doc:"The step waits for the approval of the activity's A holder."`
		RequiresConsultation *bool `json:"requiresConsultation,omitempty" doc:"The activity's C holders get a consultation task first."`
	}
}

type raciActivityOut struct {
	ETag string `header:"ETag"`
	Body ProcessActivity
}

type raciDecisionIn struct {
	CodePath
	Activity  string `path:"activity" maxLength:"64" doc:"Activity code."`
	TeamID    int64  `query:"teamId" minimum:"0" doc:"The record's assignment group."`
	ServiceID int64  `query:"serviceId" minimum:"0" doc:"The record's service."`
}

type raciDecisionOut struct{ Body Decision }

// checkCodes refuses over-long keys of a cells object before they are echoed anywhere.
func checkCodes(cells map[string]string) error {
	for k := range cells {
		if len(k) > maxCode {
			return errs.Field("body.cells", "unknown code: codes have at most 64 characters", nil)
		}
	}
	return nil
}

func registerTailoring(a *httpx.API, s *Service) {
	tag := []string{"Processes"}
	httpx.Register(a, huma.Operation{OperationID: "add-process-role", Method: http.MethodPost, Path: "/api/v1/processes/{code}/roles",
		Summary: "Add a local role to a process, as a new matrix column (process owner or administrator)", Tags: tag, DefaultStatus: http.StatusCreated},
		httpx.Authenticated, func(ctx context.Context, in *raciRoleCreateIn) (*raciRoleOut, error) {
			if err := checkCodes(in.Body.Cells); err != nil {
				return nil, err
			}
			b := in.Body
			r, v, err := s.AddRole(ctx, auth.PrincipalFrom(ctx), in.Code, NewRole{Code: b.Code, Name: b.Name, Description: b.Description, Cells: b.Cells})
			if err != nil {
				return nil, err
			}
			return &raciRoleOut{ETag: httpx.ETag(v), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "rename-process-role", Method: http.MethodPatch, Path: "/api/v1/processes/{code}/roles/{role}",
		Summary: "Rename a role within a process; its code stays (process owner or administrator)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *raciRoleRenameIn) (*raciRoleOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			r, nv, err := s.RenameRole(ctx, auth.PrincipalFrom(ctx), in.Code, v, in.Role, in.Body.Name)
			if err != nil {
				return nil, err
			}
			return &raciRoleOut{ETag: httpx.ETag(nv), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "add-process-activity", Method: http.MethodPost, Path: "/api/v1/processes/{code}/activities",
		Summary: "Add a local activity or sub-step to a process (process owner or administrator)", Tags: tag, DefaultStatus: http.StatusCreated},
		httpx.Authenticated, func(ctx context.Context, in *raciActivityCreateIn) (*raciActivityOut, error) {
			if err := checkCodes(in.Body.Cells); err != nil {
				return nil, err
			}
			b := in.Body
			act, v, err := s.AddLocalActivity(ctx, auth.PrincipalFrom(ctx), in.Code, NewActivity{Code: b.Code, Parent: b.Parent, After: b.After,
				Name: b.Name, Description: b.Description, RequiresApproval: b.RequiresApproval, RequiresConsultation: b.RequiresConsultation, Cells: b.Cells})
			if err != nil {
				return nil, err
			}
			return &raciActivityOut{ETag: httpx.ETag(v), Body: act}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-process-activity", Method: http.MethodPatch, Path: "/api/v1/processes/{code}/activities/{activity}",
		Summary: "Change an activity's workflow settings (process owner or administrator)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *raciActivityPatchIn) (*raciActivityOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			act, nv, err := s.SetActivitySettings(ctx, auth.PrincipalFrom(ctx), in.Code, v, in.Activity,
				ActivitySettings{RequiresApproval: in.Body.RequiresApproval, RequiresConsultation: in.Body.RequiresConsultation})
			if err != nil {
				return nil, err
			}
			return &raciActivityOut{ETag: httpx.ETag(nv), Body: act}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "decide-activity", Method: http.MethodGet, Path: "/api/v1/processes/{code}/activities/{activity}/decision",
		Summary: "Whether you may perform an activity for a record of a team or service, and why", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *raciDecisionIn) (*raciDecisionOut, error) {
			d, err := s.Decide(ctx, auth.PrincipalFrom(ctx), in.Code, in.Activity, Scope{TeamID: in.TeamID, ServiceID: in.ServiceID})
			if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
				return nil, errs.Field("path.activity", e.Fields[0].Message, in.Activity)
			}
			return &raciDecisionOut{Body: d}, err
		})
}

// ---- the role catalogue, assignments, who does what ----

type raciRolesOut struct {
	Body struct {
		Items []ProcessRole `json:"items"`
	}
}

type raciHoldersIn struct {
	Code    string `path:"code" maxLength:"64" doc:"Role code."`
	Process string `query:"process" maxLength:"64" doc:"A process code; all subjects when absent."`
}

type raciHoldersOut struct {
	Body struct {
		Items []RoleHolder `json:"items"`
	}
}

type raciAssignmentListIn struct {
	Subject string `query:"subject" maxLength:"64" doc:"A process code, a domain code or *."`
	Role    string `query:"role" maxLength:"64" doc:"Role code."`
	UserID  int64  `query:"userId" minimum:"0" doc:"Assignments of this user (not through teams)."`
	TeamID  int64  `query:"teamId" minimum:"0" doc:"Assignments of this team."`
}

type raciAssignmentsOut struct {
	Body struct {
		Items []RoleAssignment `json:"items"`
	}
}

type raciAssignmentCreateIn struct {
	Body struct {
		Subject string `json:"subject" minLength:"1" maxLength:"64" doc:"A process code (IM, ITSCM.2), a domain code (SO) or * for everywhere."`
		Role    string `json:"role" minLength:"1" maxLength:"64" doc:"Role code, e.g. process-manager."`
		UserID  int64  `json:"userId,omitempty" minimum:"0" doc:"The user who holds the role; or give teamId."`
		TeamID  int64  `json:"teamId,omitempty" minimum:"0" doc:"The team whose members hold the role; or give userId."`
		Scope   *Scope `json:"scope,omitempty" doc:"Narrow the role to one team's or one service's records."`
	}
}

type raciAssignmentOut struct{ Body RoleAssignment }

type raciRoleBodyOut struct{ Body ProcessRole }

type raciAssignmentIDIn struct {
	ID int64 `path:"id" minimum:"1"`
}

type raciUserIDIn struct {
	ID int64 `path:"id" minimum:"1"`
}

type raciResponsibilitiesOut struct {
	Body struct {
		Items []Responsibility `json:"items"`
	}
}

func registerRoles(a *httpx.API, s *Service) {
	tag := []string{"Process roles"}
	httpx.Register(a, huma.Operation{OperationID: "list-process-roles", Method: http.MethodGet, Path: "/api/v1/process-roles",
		Summary: "The role catalogue: every seed role and every local role", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*raciRolesOut, error) {
			r, err := s.Roles(ctx, "")
			out := &raciRolesOut{}
			out.Body.Items = r
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "create-process-role", Method: http.MethodPost, Path: "/api/v1/process-roles",
		Summary: "Add a local role to the catalogue (administrator)", Tags: tag, DefaultStatus: http.StatusCreated},
		httpx.Authenticated, func(ctx context.Context, in *raciCatalogueRoleIn) (*raciRoleBodyOut, error) {
			r, _, err := s.AddRole(ctx, auth.PrincipalFrom(ctx), "", NewRole{Code: in.Body.Code, Name: in.Body.Name, Description: in.Body.Description})
			if err != nil {
				return nil, err
			}
			return &raciRoleBodyOut{Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-role-holders", Method: http.MethodGet, Path: "/api/v1/process-roles/{code}/holders",
		Summary: "Who holds a role (teams expanded to their members)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *raciHoldersIn) (*raciHoldersOut, error) {
			h, err := s.RoleHolders(ctx, in.Process, in.Code)
			if err != nil {
				if e, ok := errs.As(err); ok && e.Kind == errs.NotFound {
					return nil, errs.Field("query.process", e.Message, in.Process)
				}
				return nil, err
			}
			out := &raciHoldersOut{}
			out.Body.Items = h
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-role-assignments", Method: http.MethodGet, Path: "/api/v1/role-assignments",
		Summary: "People and teams in process roles", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *raciAssignmentListIn) (*raciAssignmentsOut, error) {
			items, err := s.Assignments(ctx, RoleAssignmentFilter{Subject: in.Subject, Role: in.Role, UserID: in.UserID, TeamID: in.TeamID})
			out := &raciAssignmentsOut{}
			out.Body.Items = items
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "create-role-assignment", Method: http.MethodPost, Path: "/api/v1/role-assignments",
		Summary: "Put a user or team in a process role (administrator, or the process owner for the other roles of their process)",
		Tags:    tag, DefaultStatus: http.StatusCreated},
		httpx.Authenticated, func(ctx context.Context, in *raciAssignmentCreateIn) (*raciAssignmentOut, error) {
			b := in.Body
			as := RoleAssignment{Subject: b.Subject, Role: b.Role, UserID: b.UserID, TeamID: b.TeamID}
			if b.Scope != nil {
				as.Scope = *b.Scope
			}
			out, err := s.Assign(ctx, auth.PrincipalFrom(ctx), as)
			if err != nil {
				return nil, err
			}
			return &raciAssignmentOut{Body: out}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-role-assignment", Method: http.MethodDelete, Path: "/api/v1/role-assignments/{id}",
		Summary: "Take a user or team out of a process role", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *raciAssignmentIDIn) (*struct{}, error) {
			return nil, s.Unassign(ctx, auth.PrincipalFrom(ctx), in.ID)
		})
	httpx.Register(a, huma.Operation{OperationID: "get-user-responsibilities", Method: http.MethodGet, Path: "/api/v1/users/{id}/responsibilities",
		Summary: "Who does what: every process role a user holds, directly or through teams, and its activities", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *raciUserIDIn) (*raciResponsibilitiesOut, error) {
			r, err := s.Responsibilities(ctx, in.ID)
			out := &raciResponsibilitiesOut{}
			out.Body.Items = r
			return out, err
		})
}
