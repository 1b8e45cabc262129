package auth

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/audit"
	"steward/internal/platform/httpx"
)

// SessionCookie is the name of the browser session cookie.
const SessionCookie = "steward_session"

type principalKey struct{}

// WithPrincipal attaches the caller to ctx, and names it as the actor of audit entries.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	ctx = context.WithValue(ctx, principalKey{}, p)
	kind := "user"
	if p.TokenID != 0 {
		kind = "token"
	}
	return audit.WithActor(ctx, audit.Actor{Type: kind, ID: p.UserID, Name: p.Username})
}

// PrincipalFrom returns the caller, or nil when the request is anonymous.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Authenticate resolves the caller from a bearer token or a session cookie. A
// bad bearer token is refused at once with 401 (and audited), after charging the
// client's address to limiter so that guessing tokens is rate-limited too; a bad
// cookie leaves the request anonymous (pages then send the browser to the login page).
func Authenticate(s *Service, log *slog.Logger, limiter *httpx.RateLimiter) httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if h := r.Header.Get("Authorization"); h != "" {
				scheme, tok, _ := strings.Cut(h, " ")
				if !strings.EqualFold(scheme, "Bearer") || tok == "" {
					w.Header().Set("WWW-Authenticate", `Bearer realm="steward"`)
					httpx.WriteProblem(w, r, http.StatusUnauthorized, "use Authorization: Bearer <token>")
					return
				}
				p, err := s.TokenPrincipal(ctx, strings.TrimSpace(tok))
				if err != nil {
					if k := httpx.Status(kindOf(err)); k != http.StatusUnauthorized {
						httpx.WriteError(w, r, log, err)
						return
					}
					if !limiter.Check(w, r, RateKeyAddr(r)) {
						return
					}
					_ = s.trail.Append(ctx, s.db, audit.Entry{Action: "auth.token.rejected", ObjectType: "token",
						Changes: []audit.Change{{Field: "reason", New: err.Error()}}})
					w.Header().Set("WWW-Authenticate", `Bearer realm="steward", error="invalid_token"`)
					httpx.WriteProblem(w, r, http.StatusUnauthorized, err.Error())
					return
				}
				next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
				return
			}
			if c, err := r.Cookie(SessionCookie); err == nil && c.Value != "" {
				p, err := s.SessionPrincipal(ctx, c.Value)
				if err == nil {
					next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
					return
				}
				if httpx.Status(kindOf(err)) != http.StatusUnauthorized {
					httpx.WriteError(w, r, log, err)
					return
				}
				ClearSessionCookie(w, r)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// RateKeyAddr is the rate-limit bucket of a client that has no verified identity.
func RateKeyAddr(r *http.Request) string { return "addr:" + httpx.ClientAddr(r) }

// RateKey names the rate-limit bucket of a request: its verified token or
// session, or else its client address.
func RateKey(r *http.Request) string {
	p := PrincipalFrom(r.Context())
	switch {
	case p == nil:
		return RateKeyAddr(r)
	case p.TokenID != 0:
		return "token:" + idStr(p.TokenID)
	default:
		return "session:" + idStr(p.SessionID)
	}
}

// OpPasswordChange is the one operation a user who must change their password may call.
const OpPasswordChange = "change-password"

// APIGuard is the one place where API calls are authorised. It denies by
// default: an operation without an access rule is refused. Denials are audited.
func APIGuard(api huma.API, s *Service) func(ctx huma.Context, next func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		op := ctx.Operation()
		access, _ := op.Metadata[httpx.MetaAccess].(string)
		if access == httpx.Public {
			next(ctx)
			return
		}
		p := PrincipalFrom(ctx.Context())
		if p == nil {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="steward"`)
			_ = huma.WriteErr(api, ctx, http.StatusUnauthorized, "authentication required: send Authorization: Bearer <token> or sign in")
			return
		}
		deny := func(msg string) {
			_ = s.trail.Append(ctx.Context(), s.db, audit.Entry{Action: "auth.denied", ObjectType: "operation", ObjectID: op.OperationID,
				Changes: []audit.Change{{Field: "reason", New: msg}}})
			_ = huma.WriteErr(api, ctx, http.StatusForbidden, msg)
		}
		switch {
		case access == "":
			deny("operation " + op.OperationID + " has no access rule; denied by default")
		case p.MustChangePassword && p.SessionID != 0 && op.OperationID != OpPasswordChange:
			deny("change your password before doing anything else")
		case access == httpx.Authenticated || p.Can(Permission(access)):
			next(ctx)
		default:
			deny("you need the permission " + access + " for " + op.OperationID)
		}
	}
}

// SetSessionCookie sends the session cookie: HttpOnly, SameSite=Lax, Secure under TLS.
func SetSessionCookie(w http.ResponseWriter, r *http.Request, token string, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode})
}

// ClearSessionCookie removes the session cookie.
func ClearSessionCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode})
}
