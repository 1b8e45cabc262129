// Package auth holds accounts, passwords, sessions, API tokens, teams, roles and
// permissions, and decides in one place whether a principal may do something.
package auth

import (
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// Permission is a named right that a role grants.
type Permission string

// The platform's permissions. Process areas add their own; the RACI guard
// decides workflow steps separately.
const (
	PermUsersRead     Permission = "users.read"
	PermUsersWrite    Permission = "users.write"
	PermTeamsRead     Permission = "teams.read"
	PermTeamsWrite    Permission = "teams.write"
	PermRolesRead     Permission = "roles.read"
	PermRolesWrite    Permission = "roles.write"
	PermAuditRead     Permission = "audit.read"
	PermWebhooks      Permission = "webhooks.manage"
	PermSettingsWrite Permission = "settings.write"
	PermTokensManage  Permission = "tokens.manage"
)

// AllPermissions lists every permission a role may grant.
var AllPermissions = []Permission{
	PermUsersRead, PermUsersWrite, PermTeamsRead, PermTeamsWrite, PermRolesRead, PermRolesWrite,
	PermAuditRead, PermWebhooks, PermSettingsWrite, PermTokensManage,
}

// Principal is the authenticated caller of one request.
type Principal struct {
	UserID             int64
	Username           string
	DisplayName        string
	Admin              bool
	MustChangePassword bool
	Permissions        []Permission
	// SessionID is set when the caller came with a browser session.
	SessionID int64
	// TokenID is set when the caller came with an API token.
	TokenID int64
}

// Can reports whether the principal holds perm. Administrators hold every permission.
func (p *Principal) Can(perm Permission) bool {
	if p == nil {
		return false
	}
	return p.Admin || slices.Contains(p.Permissions, perm)
}

// User is a local account.
type User struct {
	ID                 int64  `json:"id"`
	Username           string `json:"username"`
	DisplayName        string `json:"displayName"`
	Email              string `json:"email"`
	Admin              bool   `json:"admin"`
	Disabled           bool   `json:"disabled"`
	MustChangePassword bool   `json:"mustChangePassword"`
	// ManagerID is the user's manager, who approves what a catalog item asks the manager to; 0 for none.
	ManagerID   int64     `json:"managerId,omitempty"`
	LockedUntil time.Time `json:"lockedUntil,omitzero"`
	LastLoginAt time.Time `json:"lastLoginAt,omitzero"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`

	passwordHash string
	failedLogins int64
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ValidateUsername checks the account name rule: lower-case letters, digits, dot, dash, underscore; 1–63 characters.
func ValidateUsername(field, name string) error {
	if !usernameRE.MatchString(name) {
		return errs.Field(field, "a username is 1 to 63 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// Session is one browser sign-in.
type Session struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"userId"`
	CreatedAt  time.Time `json:"createdAt"`
	LastSeenAt time.Time `json:"lastSeenAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	ClientAddr string    `json:"clientAddr"`
	UserAgent  string    `json:"userAgent"`
	Current    bool      `json:"current"`
}

// Token is an API token's metadata; the secret itself is shown only once.
type Token struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"userId"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"`
	CreatedAt  time.Time `json:"createdAt"`
	ExpiresAt  time.Time `json:"expiresAt,omitzero"`
	LastUsedAt time.Time `json:"lastUsedAt,omitzero"`
	RevokedAt  time.Time `json:"revokedAt,omitzero"`
}

// Active reports whether the token can still be used at now.
func (t Token) Active(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// Team is an assignment group.
type Team struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Email       string    `json:"email"`
	Members     []int64   `json:"members,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// Validate checks a team's fields.
func (t *Team) Validate() error {
	var f []errs.FieldError
	name := strings.TrimSpace(t.Name)
	if name == "" || utf8.RuneCountInString(name) > 100 {
		f = append(f, errs.FieldError{Location: "body.name", Message: "a team name has 1 to 100 characters", Value: t.Name})
	}
	if utf8.RuneCountInString(t.Description) > 2000 {
		f = append(f, errs.FieldError{Location: "body.description", Message: "at most 2000 characters"})
	}
	if t.Email != "" && !strings.Contains(t.Email, "@") {
		f = append(f, errs.FieldError{Location: "body.email", Message: "not an e-mail address", Value: t.Email})
	}
	t.Name = name
	return errs.WithFields(f)
}

// Role is a named set of permissions.
type Role struct {
	ID          int64        `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Permissions []Permission `json:"permissions"`
	CreatedAt   time.Time    `json:"createdAt"`
	UpdatedAt   time.Time    `json:"updatedAt"`
	Version     int64        `json:"version"`
}

// Validate checks a role's name and that every permission exists.
func (r *Role) Validate() error {
	var f []errs.FieldError
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 {
		f = append(f, errs.FieldError{Location: "body.name", Message: "a role name has 1 to 100 characters", Value: r.Name})
	}
	for i, p := range r.Permissions {
		if !slices.Contains(AllPermissions, p) {
			f = append(f, errs.FieldError{Location: "body.permissions[" + itoa(i) + "]", Message: "unknown permission", Value: p})
		}
	}
	return errs.WithFields(f)
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

func joinPerms(ps []Permission) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	slices.Sort(s)
	return strings.Join(slices.Compact(s), ",")
}

func splitPerms(s string) []Permission {
	if s == "" {
		return []Permission{}
	}
	parts := strings.Split(s, ",")
	out := make([]Permission, len(parts))
	for i, p := range parts {
		out[i] = Permission(p)
	}
	return out
}

func kindOf(err error) errs.Kind { return errs.KindOf(err) }
