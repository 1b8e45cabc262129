// Package web is Steward's server-rendered user interface: the page layout with
// the classification banner, sign-in behind the system-use notification, the
// account pages, the DESMF lifecycle domains with their processes, RACI
// matrices, role assignments and printable process guides, who does what, the
// generic work-record page with its guarded actions, the approvals queue, the
// configuration management pages (CIs, their impact graph, services and
// unauthorised changes), the service desk workspace (queues, saved filters,
// bulk changes, the new-incident form, the global search and keyboard
// shortcuts), the self-service portal, service levels and availability (the
// record page's clocks, the breaching-soon queue, the SLA and availability
// dashboards with server-side SVG charts from package chart, business
// calendars and agreements) and the API reference.
//
// Pages are html/template files embedded in the binary and work without
// JavaScript; static/desk.js, loaded with <script defer>, only adds keyboard
// shortcuts. The server's Content-Security-Policy forbids inline scripts and
// styles, so every style lives in static/steward.css, and the banner colours,
// which come from the settings, are served as the small stylesheet /banner.css.
package web

import (
	"embed"
	"errors"
	"log/slog"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/design/availability"
	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/framework"
	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/calendar"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/settings"
	"steward/internal/transition/cmdb"
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
	// Model is the DESMF/TAXUD reference model; it defaults to the RACI service's.
	Model *framework.Model
	// RACI holds each process's matrix and role assignments, and decides who may do what.
	RACI *raci.Service
	// Records is the work-record kernel: records, their actions, approvals and consultations.
	Records *record.Service
	// CMDB is configuration management; without it the /cmdb pages are absent.
	CMDB *cmdb.Service
	// Incidents is incident management: the desk's incident queues, the
	// new-incident form, the incident panels of the record page and the
	// portal's "report an issue". Without it the desk lists records through the kernel.
	Incidents *incident.Service
	// Requests is request fulfilment and its catalog: the portal's catalog and
	// "my requests", and the request panels of the record page.
	Requests *request.Service
	// Problems is problem management: the trends page raises problems from
	// recurring incidents. Without it the trends page only shows them.
	Problems *problem.Service
	// Calendars holds the business calendars; without it the /calendars pages are absent.
	Calendars *calendar.Service
	// Levels is service level management: agreements and the achievement
	// report behind /agreements and /sla. Without it those pages are absent.
	Levels *servicelevel.Service
	// Availability measures services' availability for /availability/services/{id}.
	Availability *availability.Service
	// Clocks is the service level tracker: the record page's clocks and the
	// desk's breaching-soon queue. Without it neither is shown.
	Clocks *tracker.Service
}

// site holds the parsed templates and serves every page.
type site struct {
	Deps
	mux       *http.ServeMux
	pages     map[string]*pageTemplate
	cssURLs   []string
	staticTag string
}

// Register adds the web UI's routes to mux. Its catch-all "/" answers every
// path that no more specific pattern claims (the API keeps "/api/").
func Register(mux *http.ServeMux, d Deps) error {
	if d.Auth == nil || d.Settings == nil || d.API == nil || d.RACI == nil || d.Records == nil {
		return errors.New("web.Register: Auth, Settings, API, RACI and Records are required")
	}
	if d.Model == nil {
		d.Model = d.RACI.Model()
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
	s.cssURLs = append(s.cssURLs, "/static/graph.css?v="+s.staticTag, "/static/cmdb.css?v="+s.staticTag, "/static/desk.css?v="+s.staticTag,
		"/static/sla.css?v="+s.staticTag)

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
	mux.Handle("GET /account/responsibilities", s.signedIn(s.myResponsibilities))
	mux.Handle("GET /processes", s.signedIn(s.processList))
	mux.Handle("GET /processes/{code}", s.signedIn(s.processPage))
	mux.Handle("GET /processes/{code}/guide", s.signedIn(s.processGuide))
	mux.Handle("GET /processes/{code}/raci/edit", s.signedIn(s.raciEditForm))
	mux.Handle("POST /processes/{code}/raci/edit", s.signedIn(s.raciEdit))
	mux.Handle("POST /processes/{code}/raci/reset", s.signedIn(s.raciReset))
	mux.Handle("GET /processes/{code}/roles", s.signedIn(s.processRoles))
	mux.Handle("POST /processes/{code}/roles", s.signedIn(s.assignRole))
	mux.Handle("POST /processes/{code}/roles/{id}/remove", s.signedIn(s.unassignRole))
	mux.Handle("GET /roles/{code}", s.signedIn(s.rolePage))
	mux.Handle("GET /people/{id}", s.signedIn(s.personPage))
	mux.Handle("GET /records/{number}", s.signedIn(s.recordPage))
	mux.Handle("POST /records/{number}/actions/{action}", s.signedIn(s.performAction))
	mux.Handle("POST /records/{number}/journal", s.signedIn(s.addJournal))
	mux.Handle("GET /approvals", s.signedIn(s.approvals))
	mux.Handle("POST /approvals/{id}/approve", s.signedIn(s.decideStep(true)))
	mux.Handle("POST /approvals/{id}/reject", s.signedIn(s.decideStep(false)))
	mux.Handle("POST /approvals/requests/{number}/{id}/approve", s.signedIn(s.decideRequestApproval(true)))
	mux.Handle("POST /approvals/requests/{number}/{id}/reject", s.signedIn(s.decideRequestApproval(false)))
	mux.Handle("POST /consultations/{id}/answer", s.signedIn(s.closeConsultation(true)))
	mux.Handle("POST /consultations/{id}/waive", s.signedIn(s.closeConsultation(false)))
	mux.Handle("GET /api/docs", s.signedIn(s.apiDocs))
	mux.Handle("GET /search", s.signedIn(s.search))
	mux.Handle("GET /desk", s.signedIn(s.desk))
	mux.Handle("GET /desk/trends", s.signedIn(s.trends))
	mux.Handle("POST /desk/trends/problem", s.signedIn(s.raiseProblem))
	mux.Handle("POST /desk/filters", s.signedIn(s.saveDeskFilter))
	mux.Handle("POST /desk/filters/{id}/delete", s.signedIn(s.deleteDeskFilter))
	mux.Handle("POST /desk/bulk", s.signedIn(s.deskBulk))
	mux.Handle("GET /desk/incidents/new", s.signedIn(s.newIncidentForm))
	mux.Handle("POST /desk/incidents/new", s.signedIn(s.logIncident))
	mux.Handle("POST /records/{number}/major/updates", s.signedIn(s.majorUpdate))
	mux.Handle("POST /records/{number}/major/communications", s.signedIn(s.majorCommunication))
	mux.Handle("POST /records/{number}/major/review", s.signedIn(s.majorReview))
	mux.Handle("GET /portal", s.signedIn(s.portal))
	mux.Handle("GET /portal/report", s.signedIn(s.reportForm))
	mux.Handle("POST /portal/report", s.signedIn(s.report))
	mux.Handle("GET /portal/catalog", s.signedIn(s.portalCatalog))
	mux.Handle("GET /portal/catalog/{id}", s.signedIn(s.portalItem))
	mux.Handle("POST /portal/catalog/{id}", s.signedIn(s.portalSubmit))
	mux.Handle("GET /portal/records/{number}", s.signedIn(s.portalRecordPage))
	mux.Handle("POST /portal/records/{number}/comments", s.signedIn(s.portalComment))
	mux.Handle("POST /portal/records/{number}/actions/{action}", s.signedIn(s.portalStep))
	if s.CMDB != nil {
		mux.Handle("GET /cmdb", s.signedIn(s.cmdbList))
		mux.Handle("GET /cmdb/cis/{id}", s.signedIn(s.cmdbCI))
		mux.Handle("POST /cmdb/cis/{id}", s.signedIn(s.cmdbUpdateCI))
		mux.Handle("GET /cmdb/cis/{id}/impact", s.signedIn(s.cmdbImpact))
		mux.Handle("GET /cmdb/simulate", s.signedIn(s.cmdbSimulate))
		mux.Handle("GET /cmdb/services", s.signedIn(s.cmdbServices))
		mux.Handle("GET /cmdb/services/{id}", s.signedIn(s.cmdbService))
		mux.Handle("GET /cmdb/unauthorised", s.signedIn(s.cmdbUnauthorised))
	}
	s.registerServiceLevels(mux)
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
			r = r.WithContext(raci.WithRequestCache(r.Context()))
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
