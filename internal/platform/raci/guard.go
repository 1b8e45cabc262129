// Package raci keeps each process's RACI matrix as the organisation tailored it,
// the people and teams who hold process roles (optionally scoped to a team or a
// service), and the guard that decides from both whether a user may perform a
// DESMF or TAXUD activity.
package raci

import (
	"context"

	"steward/internal/framework"
	"steward/internal/platform/auth"
)

// Scope narrows where a role is held: a process manager for one team, a service
// owner for one service. The zero Scope means everywhere.
type Scope struct {
	// TeamID is the assignment group a record belongs to, or 0.
	TeamID int64 `json:"teamId,omitempty" minimum:"0"`
	// ServiceID is the CMDB service a record is about, or 0.
	ServiceID int64 `json:"serviceId,omitempty" minimum:"0"`
}

// RoleRef names a role and the RACI letters it holds for one activity.
type RoleRef struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Letters string `json:"letters"`
}

// Decision is the guard's verdict on one activity for one user, with its reason.
type Decision struct {
	// Allowed is true when the user holds R or A for the activity in scope, or is an administrator (Override).
	Allowed bool `json:"allowed"`
	// Process and Activity are the codes decided on, e.g. "IM" and "IM5".
	Process  string `json:"process"`
	Activity string `json:"activity"`
	// ActivityName is the activity's name, for explanations.
	ActivityName string `json:"activityName"`
	// Letter is "R" or "A": the letter through which the user may act.
	Letter string `json:"letter,omitempty"`
	// Role is the role through which the user may act.
	Role *RoleRef `json:"role,omitempty"`
	// Via says how the user holds the role: "directly" or "through team NAME".
	Via string `json:"via,omitempty"`
	// Override is true when only the administrator override allows the step; it is audited as such.
	Override bool `json:"override,omitempty"`
	// Performers are the roles that may perform the activity (R or A), for refusals.
	Performers []RoleRef `json:"performers"`
	// Explanation is one sentence for people: "you may resolve: you hold R for IM5 as Incident Analyst".
	Explanation string `json:"explanation"`
}

// Holder is a user who holds a role for an activity, directly or through a team.
type Holder struct {
	UserID   int64  `json:"userId"`
	Username string `json:"username"`
	Role     string `json:"role"`
	Via      string `json:"via"`
}

// Guard decides who may perform an activity, and finds who must approve (A),
// be consulted (C) or be informed (I). Role resolution is cached per request
// (see WithRequestCache), so deciding on many records costs no extra queries.
type Guard interface {
	// Decide tells whether p may perform the activity of process in scope.
	Decide(ctx context.Context, p *auth.Principal, process, activity string, scope Scope) (Decision, error)
	// Holders lists the users holding a role whose cell for the activity has letter, in scope.
	Holders(ctx context.Context, process, activity string, letter framework.Cell, scope Scope) ([]Holder, error)
}
