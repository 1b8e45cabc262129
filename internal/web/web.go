// Package web is Steward's server-rendered user interface: the page layout with
// the classification banner, sign-in behind the system-use notification, the
// account pages, the DESMF lifecycle-domain pages and the API reference.
//
// Pages are html/template files embedded in the binary and work without
// JavaScript. The server's Content-Security-Policy forbids inline scripts and
// styles, so every style lives in static/steward.css, and the banner colours,
// which come from the settings, are served as the small stylesheet /banner.css.
package web

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/platform/auth"
	"steward/internal/platform/settings"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Deps is what the pages need from the rest of Steward.
type Deps struct {
	// Auth signs users in and out and manages their sessions and tokens.
	Auth *auth.Service
	// Settings holds the classification banner and the system-use notification.
	Settings *settings.Store
	// Log records internal errors with their request id.
	Log *slog.Logger
	// Secure marks the session cookie Secure (the site is served over HTTPS).
	Secure bool
	// Version is the build's version, shown in the page footer.
	Version string
	// API is the JSON API whose OpenAPI document the API reference page renders.
	API huma.API
}

// site holds the parsed templates and serves every page.
type site struct {
	Deps
	mux       *http.ServeMux
	pages     map[string]*pageTemplate
	cssURL    string
	staticTag string
}

// Register adds the web UI's routes to mux. Its catch-all "/" answers every
// path that no more specific pattern claims (the API keeps "/api/").
func Register(mux *http.ServeMux, d Deps) error {
	if d.Auth == nil || d.Settings == nil || d.API == nil {
		return errors.New("web.Register: Auth, Settings and API are required")
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	s := &site{Deps: d, mux: mux}
	if err := s.parseTemplates(); err != nil {
		return err
	}
	if err := s.loadStatic(); err != nil {
		return err
	}

	// The route table of the web UI.
	mux.HandleFunc("GET /static/", s.static)
	mux.HandleFunc("GET /banner.css", s.bannerStylesheet)
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
	mux.Handle("GET /{$}", s.signedIn(s.home))
	for _, dom := range domains {
		mux.Handle("GET "+dom.Path, s.signedIn(s.domainPage(dom)))
	}
	mux.Handle("GET /account", s.signedIn(s.account))
	mux.Handle("POST /account/sessions/{id}/revoke", s.signedIn(s.revokeSession))
	mux.Handle("POST /account/sessions/revoke-all", s.signedIn(s.revokeAllSessions))
	mux.Handle("POST /account/tokens", s.signedIn(s.createToken))
	mux.Handle("POST /account/tokens/{id}/revoke", s.signedIn(s.revokeToken))
	mux.Handle("GET /account/password", s.changingPassword(s.passwordForm))
	mux.Handle("POST /account/password", s.changingPassword(s.changePassword))
	mux.Handle("GET /api/docs", s.signedIn(s.apiDocs))
	mux.HandleFunc("/", s.notFound)
	return nil
}

// userHandler serves a page for a signed-in user. A returned error is shown
// as an error page (and logged when it is internal).
type userHandler func(w http.ResponseWriter, r *http.Request, p *auth.Principal) error

// signedIn serves h to a signed-in user who need not change their password
// first; anyone else is sent to the login or the password page.
func (s *site) signedIn(h userHandler) http.Handler { return s.gate(h, false) }

// changingPassword serves h to any signed-in user, including one who must
// change their password before anything else.
func (s *site) changingPassword(h userHandler) http.Handler { return s.gate(h, true) }

func (s *site) gate(h userHandler, allowMustChange bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		p := pagePrincipal(r)
		switch {
		case p == nil:
			http.Redirect(w, r, "/login", http.StatusSeeOther)
		case p.MustChangePassword && !allowMustChange:
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
		default:
			if err := h(w, r, p); err != nil {
				s.fail(w, r, p, err)
			}
		}
	})
}

// pagePrincipal returns the signed-in browser user, or nil. Pages are for
// browser sessions: a caller that came with an API token is treated as anonymous.
func pagePrincipal(r *http.Request) *auth.Principal {
	p := auth.PrincipalFrom(r.Context())
	if p == nil || p.SessionID == 0 {
		return nil
	}
	return p
}
