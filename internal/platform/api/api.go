// Package api holds the platform's own JSON endpoints: the caller's account,
// users, teams, roles, tokens, sessions, the audit trail and settings.
package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/outbox"
	"steward/internal/platform/settings"
)

// Deps are what the platform endpoints need.
type Deps struct {
	DB       *db.DB
	Auth     *auth.Service
	Settings *settings.Store
	Webhooks *outbox.Webhooks
}

func principal(ctx context.Context) *auth.Principal { return auth.PrincipalFrom(ctx) }

// Register adds the platform endpoints to a.
func Register(a *httpx.API, d Deps) {
	registerMe(a, d)
	registerUsers(a, d)
	registerTeams(a, d)
	registerRoles(a, d)
	registerAudit(a, d)
	registerSettings(a, d)
	registerWebhooks(a, d)
}

// ---- the caller ----

// Me is the signed-in caller.
type Me struct {
	ID                 int64             `json:"id"`
	Username           string            `json:"username"`
	DisplayName        string            `json:"displayName"`
	Admin              bool              `json:"admin"`
	MustChangePassword bool              `json:"mustChangePassword"`
	Permissions        []auth.Permission `json:"permissions"`
	Via                string            `json:"via" enum:"session,token"`
}

type meOut struct{ Body Me }

type passwordIn struct {
	Body struct {
		CurrentPassword string `json:"currentPassword" maxLength:"256"`
		NewPassword     string `json:"newPassword" maxLength:"256"`
	}
}

type sessionsOut struct {
	Body struct {
		Items []auth.Session `json:"items"`
	}
}

// IDPath is the {id} of a resource path.
type IDPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type tokensOut struct {
	Body struct {
		Items []auth.Token `json:"items"`
	}
}

type tokenIn struct {
	Body struct {
		Name          string `json:"name" maxLength:"100" doc:"What the token is for."`
		ExpiresInDays *int   `json:"expiresInDays,omitempty" minimum:"0" maximum:"3650" doc:"Days until the token expires; 0 means never; absent means 90."`
	}
}

// NewToken is a freshly issued token; Secret is shown only in this response.
type NewToken struct {
	auth.Token
	Secret string `json:"secret" doc:"The token itself. It is shown only once."`
}

type tokenOut struct{ Body NewToken }

func registerMe(a *httpx.API, d Deps) {
	tag := []string{"Account"}
	httpx.Register(a, huma.Operation{OperationID: "get-me", Method: http.MethodGet, Path: "/api/v1/me", Summary: "The signed-in caller", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*meOut, error) {
			p := principal(ctx)
			perms := p.Permissions
			if p.Admin {
				perms = auth.AllPermissions
			}
			if perms == nil {
				perms = []auth.Permission{}
			}
			via := "session"
			if p.TokenID != 0 {
				via = "token"
			}
			return &meOut{Body: Me{ID: p.UserID, Username: p.Username, DisplayName: p.DisplayName, Admin: p.Admin,
				MustChangePassword: p.MustChangePassword, Permissions: perms, Via: via}}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: auth.OpPasswordChange, Method: http.MethodPost, Path: "/api/v1/me/password",
		Summary: "Change your password", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *passwordIn) (*struct{}, error) {
			return nil, d.Auth.ChangePassword(ctx, principal(ctx), in.Body.CurrentPassword, in.Body.NewPassword)
		})
	httpx.Register(a, huma.Operation{OperationID: "list-my-sessions", Method: http.MethodGet, Path: "/api/v1/me/sessions",
		Summary: "Your live sessions", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*sessionsOut, error) {
			p := principal(ctx)
			s, err := d.Auth.Sessions(ctx, p.UserID, p.SessionID)
			out := &sessionsOut{}
			out.Body.Items = s
			if out.Body.Items == nil {
				out.Body.Items = []auth.Session{}
			}
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "revoke-my-session", Method: http.MethodDelete, Path: "/api/v1/me/sessions/{id}",
		Summary: "End one of your sessions", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*struct{}, error) {
			return nil, d.Auth.RevokeSession(ctx, principal(ctx).UserID, in.ID)
		})
	httpx.Register(a, huma.Operation{OperationID: "revoke-all-my-sessions", Method: http.MethodPost, Path: "/api/v1/me/sessions/revoke-all",
		Summary: "Sign out everywhere", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*struct{}, error) {
			return nil, d.Auth.RevokeAllSessions(ctx, principal(ctx).UserID)
		})
	httpx.Register(a, huma.Operation{OperationID: "list-my-tokens", Method: http.MethodGet, Path: "/api/v1/me/tokens",
		Summary: "Your API tokens", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*tokensOut, error) {
			t, err := d.Auth.Tokens(ctx, principal(ctx).UserID)
			out := &tokensOut{}
			out.Body.Items = t
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "create-my-token", Method: http.MethodPost, Path: "/api/v1/me/tokens",
		Summary: "Issue an API token (shown once)", Tags: tag, DefaultStatus: http.StatusCreated},
		httpx.Authenticated, func(ctx context.Context, in *tokenIn) (*tokenOut, error) {
			days := 90
			if in.Body.ExpiresInDays != nil {
				days = *in.Body.ExpiresInDays
			}
			secret, t, err := d.Auth.CreateToken(ctx, principal(ctx).UserID, in.Body.Name, time.Duration(days)*24*time.Hour)
			if err != nil {
				return nil, err
			}
			return &tokenOut{Body: NewToken{Token: t, Secret: secret}}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "revoke-my-token", Method: http.MethodDelete, Path: "/api/v1/me/tokens/{id}",
		Summary: "Revoke one of your API tokens", Tags: tag, DefaultStatus: http.StatusNoContent},
		httpx.Authenticated, func(ctx context.Context, in *IDPath) (*struct{}, error) {
			return nil, d.Auth.RevokeToken(ctx, principal(ctx).UserID, strconv.FormatInt(in.ID, 10))
		})
}

// ---- users ----

type userListIn struct {
	listing.Params
	Username string `query:"username" maxLength:"63" doc:"Exact username."`
	Email    string `query:"email" maxLength:"254" doc:"Exact e-mail address."`
}

type userPage struct {
	TotalCount int64  `header:"X-Total-Count"`
	Link       string `header:"Link"`
	Body       listing.Page[auth.User]
}

type userOne struct {
	ETag string `header:"ETag"`
	Body auth.User
}

type userGetIn struct {
	IDPath
	listing.FieldsParam
}

type userCreateIn struct {
	Body struct {
		Username           string `json:"username" maxLength:"63"`
		DisplayName        string `json:"displayName,omitempty" maxLength:"200"`
		Email              string `json:"email,omitempty" maxLength:"254"`
		Password           string `json:"password" maxLength:"256" doc:"At least 15 characters."`
		Admin              bool   `json:"admin,omitempty"`
		MustChangePassword bool   `json:"mustChangePassword,omitempty"`
		ManagerID          int64  `json:"managerId,omitempty" minimum:"0" doc:"The user's manager, who approves what a catalog item asks the manager to."`
	}
}

type userPatchIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		DisplayName *string `json:"displayName,omitempty" maxLength:"200"`
		Email       *string `json:"email,omitempty" maxLength:"254"`
		Admin       *bool   `json:"admin,omitempty"`
		Disabled    *bool   `json:"disabled,omitempty"`
		ManagerID   *int64  `json:"managerId,omitempty" minimum:"0" doc:"The user's manager; 0 clears it."`
	}
}

type userPasswordIn struct {
	IDPath
	Body struct {
		Password           string `json:"password" maxLength:"256"`
		MustChangePassword bool   `json:"mustChangePassword" doc:"Force a change at next login."`
	}
}

type userRoleIn struct {
	IDPath
	RoleID int64 `path:"roleId" minimum:"1"`
}

type userRolesOut struct {
	Body struct {
		Items []int64 `json:"items"`
	}
}

func registerUsers(a *httpx.API, d Deps) {
	tag := []string{"Users"}
	read, write := string(auth.PermUsersRead), string(auth.PermUsersWrite)
	httpx.Register(a, huma.Operation{OperationID: "list-users", Method: http.MethodGet, Path: "/api/v1/users", Summary: "List users", Tags: tag},
		read, func(ctx context.Context, in *userListIn) (*userPage, error) {
			var f []listing.Filter
			if in.Username != "" {
				f = append(f, listing.Filter{Field: "username", Value: in.Username})
			}
			if in.Email != "" {
				f = append(f, listing.Filter{Field: "email", Value: in.Email})
			}
			page, total, err := d.Auth.ListUsers(ctx, in.Params, f)
			if err != nil {
				return nil, err
			}
			return &userPage{TotalCount: total, Link: listing.NextLink("/api/v1/users", in.Params, url.Values{"username": {in.Username}, "email": {in.Email}}, page.NextCursor), Body: page}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/api/v1/users", Summary: "Create a user",
		Tags: tag, DefaultStatus: http.StatusCreated},
		write, func(ctx context.Context, in *userCreateIn) (*userOne, error) {
			b := in.Body
			u, err := d.Auth.CreateUser(ctx, auth.NewUser{Username: b.Username, DisplayName: b.DisplayName, Email: b.Email,
				Password: b.Password, Admin: b.Admin, MustChangePassword: b.MustChangePassword, ManagerID: b.ManagerID})
			if err != nil {
				return nil, err
			}
			return &userOne{ETag: httpx.ETag(u.Version), Body: u}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-user", Method: http.MethodGet, Path: "/api/v1/users/{id}", Summary: "Get a user", Tags: tag},
		read, func(ctx context.Context, in *userGetIn) (*userOne, error) {
			if err := auth.UserList.CheckFields(in.Fields); err != nil {
				return nil, err
			}
			u, err := d.Auth.GetUser(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &userOne{ETag: httpx.ETag(u.Version), Body: u}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-user", Method: http.MethodPatch, Path: "/api/v1/users/{id}", Summary: "Change a user",
		Tags: tag},
		write, func(ctx context.Context, in *userPatchIn) (*userOne, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			u, err := d.Auth.UpdateUser(ctx, in.ID, v, auth.UserUpdate{DisplayName: b.DisplayName, Email: b.Email, Admin: b.Admin, Disabled: b.Disabled,
				ManagerID: b.ManagerID})
			if err != nil {
				return nil, err
			}
			return &userOne{ETag: httpx.ETag(u.Version), Body: u}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "reset-user-password", Method: http.MethodPost, Path: "/api/v1/users/{id}/password",
		Summary: "Set a user's password and end their sessions", Tags: tag, DefaultStatus: http.StatusNoContent},
		write, func(ctx context.Context, in *userPasswordIn) (*struct{}, error) {
			return nil, d.Auth.SetPassword(ctx, in.ID, in.Body.Password, in.Body.MustChangePassword)
		})
	httpx.Register(a, huma.Operation{OperationID: "list-user-roles", Method: http.MethodGet, Path: "/api/v1/users/{id}/roles",
		Summary: "The roles a user holds", Tags: tag},
		read, func(ctx context.Context, in *IDPath) (*userRolesOut, error) {
			ids, err := d.Auth.UserRoles(ctx, in.ID)
			out := &userRolesOut{}
			out.Body.Items = ids
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "grant-user-role", Method: http.MethodPut, Path: "/api/v1/users/{id}/roles/{roleId}",
		Summary: "Give a user a role", Tags: tag, DefaultStatus: http.StatusNoContent},
		string(auth.PermRolesWrite), func(ctx context.Context, in *userRoleIn) (*struct{}, error) {
			return nil, d.Auth.GrantRole(ctx, in.ID, in.RoleID)
		})
	httpx.Register(a, huma.Operation{OperationID: "revoke-user-role", Method: http.MethodDelete, Path: "/api/v1/users/{id}/roles/{roleId}",
		Summary: "Take a role from a user", Tags: tag, DefaultStatus: http.StatusNoContent},
		string(auth.PermRolesWrite), func(ctx context.Context, in *userRoleIn) (*struct{}, error) {
			return nil, d.Auth.RevokeRole(ctx, in.ID, in.RoleID)
		})
}

// ---- teams ----

type teamListIn struct {
	listing.Params
	Name       string `query:"name" maxLength:"100" doc:"Exact team name."`
	NamePrefix string `query:"namePrefix" maxLength:"100" doc:"Teams whose name starts with this."`
	Email      string `query:"email" maxLength:"254"`
}

type teamPage struct {
	TotalCount int64  `header:"X-Total-Count"`
	Link       string `header:"Link"`
	Body       listing.Page[auth.Team]
}

type teamOne struct {
	ETag string `header:"ETag"`
	Body auth.Team
}

type teamGetIn struct {
	IDPath
	listing.FieldsParam
}

type teamCreateIn struct {
	Body struct {
		Name        string `json:"name" minLength:"1" maxLength:"100"`
		Description string `json:"description,omitempty" maxLength:"2000"`
		Email       string `json:"email,omitempty" maxLength:"254"`
	}
}

type teamPatchIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Name        *string  `json:"name,omitempty" maxLength:"100"`
		Description *string  `json:"description,omitempty" maxLength:"2000"`
		Email       *string  `json:"email,omitempty" maxLength:"254"`
		Members     *[]int64 `json:"members,omitempty" maxItems:"10000" doc:"Replaces the member list (user ids)."`
	}
}

// deleteIn names a resource to delete and the version the caller read.
type teamDeleteIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

func registerTeams(a *httpx.API, d Deps) {
	tag := []string{"Teams"}
	read, write := string(auth.PermTeamsRead), string(auth.PermTeamsWrite)
	httpx.Register(a, huma.Operation{OperationID: "list-teams", Method: http.MethodGet, Path: "/api/v1/teams", Summary: "List teams", Tags: tag},
		read, func(ctx context.Context, in *teamListIn) (*teamPage, error) {
			var f []listing.Filter
			if in.Name != "" {
				f = append(f, listing.Filter{Field: "name", Value: in.Name})
			}
			if in.NamePrefix != "" {
				f = append(f, listing.Filter{Field: "name", Value: in.NamePrefix, Prefix: true})
			}
			if in.Email != "" {
				f = append(f, listing.Filter{Field: "email", Value: in.Email})
			}
			page, total, err := d.Auth.ListTeams(ctx, in.Params, f)
			if err != nil {
				return nil, err
			}
			return &teamPage{TotalCount: total, Link: listing.NextLink("/api/v1/teams", in.Params, url.Values{"name": {in.Name}, "namePrefix": {in.NamePrefix}, "email": {in.Email}}, page.NextCursor), Body: page}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "create-team", Method: http.MethodPost, Path: "/api/v1/teams", Summary: "Create a team",
		Tags: tag, DefaultStatus: http.StatusCreated},
		write, func(ctx context.Context, in *teamCreateIn) (*teamOne, error) {
			t, err := d.Auth.CreateTeam(ctx, auth.Team{Name: in.Body.Name, Description: in.Body.Description, Email: in.Body.Email})
			if err != nil {
				return nil, err
			}
			return &teamOne{ETag: httpx.ETag(t.Version), Body: t}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-team", Method: http.MethodGet, Path: "/api/v1/teams/{id}", Summary: "Get a team", Tags: tag},
		read, func(ctx context.Context, in *teamGetIn) (*teamOne, error) {
			if err := auth.TeamList.CheckFields(in.Fields); err != nil {
				return nil, err
			}
			t, err := d.Auth.GetTeam(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			return &teamOne{ETag: httpx.ETag(t.Version), Body: t}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-team", Method: http.MethodPatch, Path: "/api/v1/teams/{id}", Summary: "Change a team", Tags: tag},
		write, func(ctx context.Context, in *teamPatchIn) (*teamOne, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			b := in.Body
			t, err := d.Auth.UpdateTeam(ctx, in.ID, v, auth.TeamUpdate{Name: b.Name, Description: b.Description, Email: b.Email, Members: b.Members})
			if err != nil {
				return nil, err
			}
			return &teamOne{ETag: httpx.ETag(t.Version), Body: t}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-team", Method: http.MethodDelete, Path: "/api/v1/teams/{id}", Summary: "Delete a team",
		Tags: tag, DefaultStatus: http.StatusNoContent},
		write, func(ctx context.Context, in *teamDeleteIn) (*struct{}, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			return nil, d.Auth.DeleteTeam(ctx, in.ID, v)
		})
}

// ---- roles ----

type rolesOut struct {
	Body struct {
		Items []auth.Role `json:"items"`
	}
}

type roleCreateIn struct {
	Body struct {
		Name        string            `json:"name" maxLength:"100"`
		Description string            `json:"description,omitempty" maxLength:"2000"`
		Permissions []auth.Permission `json:"permissions" maxItems:"100"`
	}
}

type roleOne struct {
	ETag string `header:"ETag"`
	Body auth.Role
}

func registerRoles(a *httpx.API, d Deps) {
	tag := []string{"Roles"}
	httpx.Register(a, huma.Operation{OperationID: "list-roles", Method: http.MethodGet, Path: "/api/v1/roles", Summary: "List roles", Tags: tag},
		string(auth.PermRolesRead), func(ctx context.Context, _ *struct{}) (*rolesOut, error) {
			r, err := d.Auth.Roles(ctx)
			out := &rolesOut{}
			out.Body.Items = r
			return out, err
		})
	httpx.Register(a, huma.Operation{OperationID: "create-role", Method: http.MethodPost, Path: "/api/v1/roles", Summary: "Create a role",
		Tags: tag, DefaultStatus: http.StatusCreated},
		string(auth.PermRolesWrite), func(ctx context.Context, in *roleCreateIn) (*roleOne, error) {
			r, err := d.Auth.CreateRole(ctx, auth.Role{Name: in.Body.Name, Description: in.Body.Description, Permissions: in.Body.Permissions})
			if err != nil {
				return nil, err
			}
			return &roleOne{ETag: httpx.ETag(r.Version), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "update-role", Method: http.MethodPatch, Path: "/api/v1/roles/{id}", Summary: "Change a role",
		Tags: tag},
		string(auth.PermRolesWrite), func(ctx context.Context, in *rolePatchIn) (*roleOne, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			r, err := d.Auth.UpdateRole(ctx, in.ID, v, auth.RoleUpdate{Name: in.Body.Name, Description: in.Body.Description, Permissions: in.Body.Permissions})
			if err != nil {
				return nil, err
			}
			return &roleOne{ETag: httpx.ETag(r.Version), Body: r}, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "delete-role", Method: http.MethodDelete, Path: "/api/v1/roles/{id}", Summary: "Delete a role",
		Tags: tag, DefaultStatus: http.StatusNoContent},
		string(auth.PermRolesWrite), func(ctx context.Context, in *teamDeleteIn) (*struct{}, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			return nil, d.Auth.DeleteRole(ctx, in.ID, v)
		})
}

type rolePatchIn struct {
	IDPath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    struct {
		Name        *string            `json:"name,omitempty" maxLength:"100"`
		Description *string            `json:"description,omitempty" maxLength:"2000"`
		Permissions *[]auth.Permission `json:"permissions,omitempty" maxItems:"100"`
	}
}

// ---- audit ----

type auditListIn struct {
	ObjectType string `query:"objectType" maxLength:"100"`
	ObjectID   string `query:"objectId" maxLength:"100"`
	Actor      string `query:"actor" maxLength:"100"`
	Action     string `query:"action" maxLength:"100"`
	Before     int64  `query:"before" minimum:"0" doc:"Return entries with a sequence number below this (paging to older entries)."`
	Limit      int    `query:"limit" minimum:"1" maximum:"500" default:"50"`
}

type auditPage struct {
	TotalCount int64 `header:"X-Total-Count"`
	Body       struct {
		Items      []audit.Item `json:"items"`
		NextBefore int64        `json:"nextBefore,omitempty" doc:"Pass as before for older entries."`
	}
}

type verifyOut struct{ Body audit.Verification }

func registerAudit(a *httpx.API, d Deps) {
	tag := []string{"Audit"}
	perm := string(auth.PermAuditRead)
	httpx.Register(a, huma.Operation{OperationID: "list-audit", Method: http.MethodGet, Path: "/api/v1/audit",
		Summary: "Read the audit trail, newest first", Tags: tag},
		perm, func(ctx context.Context, in *auditListIn) (*auditPage, error) {
			items, total, err := audit.List(ctx, d.DB, audit.Filter{ObjectType: in.ObjectType, ObjectID: in.ObjectID,
				ActorName: in.Actor, Action: in.Action, BeforeSeq: in.Before, Limit: in.Limit})
			if err != nil {
				return nil, err
			}
			out := &auditPage{TotalCount: total}
			out.Body.Items = items
			if out.Body.Items == nil {
				out.Body.Items = []audit.Item{}
			}
			if len(items) == in.Limit && len(items) > 0 {
				out.Body.NextBefore = items[len(items)-1].Seq
			}
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "verify-audit", Method: http.MethodGet, Path: "/api/v1/audit/verify",
		Summary: "Check the audit trail's hash chain", Tags: tag},
		perm, func(ctx context.Context, _ *struct{}) (*verifyOut, error) {
			v, err := audit.Verify(ctx, d.DB)
			return &verifyOut{Body: v}, err
		})
}

// ---- settings ----

type presentationOut struct {
	ETag string `header:"ETag"`
	Body settings.Presentation
}

type presentationIn struct {
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    settings.Presentation
}

func registerSettings(a *httpx.API, d Deps) {
	tag := []string{"Settings"}
	httpx.Register(a, huma.Operation{OperationID: "get-presentation", Method: http.MethodGet, Path: "/api/v1/settings/presentation",
		Summary: "Classification banner and system-use notice", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*presentationOut, error) {
			p, err := d.Settings.Presentation(ctx)
			return &presentationOut{ETag: httpx.ETag(p.Version), Body: p}, err
		})
	httpx.Register(a, huma.Operation{OperationID: "set-presentation", Method: http.MethodPut, Path: "/api/v1/settings/presentation",
		Summary: "Change the classification banner and system-use notice", Tags: tag},
		string(auth.PermSettingsWrite), func(ctx context.Context, in *presentationIn) (*presentationOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			p, err := d.Settings.SetPresentation(ctx, v, in.Body)
			if err != nil {
				return nil, err
			}
			return &presentationOut{ETag: httpx.ETag(p.Version), Body: p}, nil
		})
}
