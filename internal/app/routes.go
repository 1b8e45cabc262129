package app

import (
	"context"
	"encoding/json"
	"net/http"
	"steward/internal/design/availability"
	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/platform/calendar"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"steward/internal/improvement/controls"
	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/api"
	"steward/internal/platform/auth"
	"steward/internal/platform/httpx"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/transition/asset"
	"steward/internal/transition/cmdb"
)

// Limits on request bodies: the API's JSON, and everything else (forms, uploads).
const (
	maxJSONBody = 1 << 20
	maxAnyBody  = 32 << 20
)

// APIConfig is the huma configuration: OpenAPI 3.1 at /api/v1/openapi.json, no
// docs page from a CDN (Steward serves its own), no $schema links, unknown query
// parameters refused.
func APIConfig() huma.Config {
	httpx.InstallErrorSanitizer()
	cfg := huma.DefaultConfig("Steward API", Version)
	cfg.Info.Description = "The JSON API of Steward, an IT service management system built on the DoD Enterprise Service Management Framework. " +
		"Errors are RFC 9457 problem+json. Updates need If-Match with the ETag you read. Lists take limit, cursor, sort, fields and field filters, and return X-Total-Count."
	cfg.OpenAPIPath = "/api/v1/openapi"
	cfg.DocsPath = ""
	cfg.SchemasPath = ""
	cfg.CreateHooks = nil
	cfg.RejectUnknownQueryParameters = true
	cfg.Transformers = append(cfg.Transformers, httpx.SelectFields)
	cfg.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		"bearer":  {Type: "http", Scheme: "bearer", Description: "An API token from `steward token create` or the account page."},
		"session": {Type: "apiKey", In: "cookie", Name: auth.SessionCookie, Description: "A browser session."},
	}
	return cfg
}

// Handler builds the HTTP handler: the route table, the API and the middleware chain.
func (a *App) Handler(ctx context.Context) (http.Handler, error) {
	if a.handler != nil {
		return a.handler, nil
	}
	if err := a.buildBackground(); err != nil {
		return nil, err
	}
	a.registerMetrics()
	mux := http.NewServeMux()
	hapi := humago.New(mux, APIConfig())
	hapi.UseMiddleware(auth.APIGuard(hapi, a.Auth))
	japi := &httpx.API{API: hapi, Log: a.Log}

	// The route table. The API's operations are listed in the OpenAPI document.
	api.Register(japi, api.Deps{DB: a.DB, Auth: a.Auth, Settings: a.Settings, Webhooks: a.Webhooks})
	raci.RegisterAPI(japi, a.RACI)
	record.RegisterAPI(japi, a.Records)
	controls.RegisterAPI(japi, a.Controls)
	cmdb.RegisterAPI(japi, a.CMDB)
	asset.RegisterAPI(japi, a.Assets)
	incident.RegisterAPI(japi, a.Incidents)
	request.RegisterAPI(japi, a.Requests)
	problem.RegisterAPI(japi, a.Problems)
	calendar.RegisterAPI(japi, a.Calendars)
	servicelevel.RegisterAPI(japi, a.Levels)
	tracker.RegisterAPI(japi, a.Clocks)
	availability.RegisterAPI(japi, a.Availability)
	mux.HandleFunc("GET /healthz", a.healthz)
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{Registry: a.Registry}))
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { apiNotFound(mux, w, r) })
	if err := a.registerPages(mux, hapi); err != nil {
		return nil, err
	}

	var limiter *httpx.RateLimiter
	if a.Config.RateLimit > 0 {
		limiter = httpx.NewRateLimiter(float64(a.Config.RateLimit), float64(max(a.Config.RateBurst, 1)))
	}
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteProblem(w, r, http.StatusForbidden, "cross-origin request refused")
	}))
	metrics := httpx.NewMetrics(a.Registry)
	a.handler = httpx.Chain(mux,
		httpx.RequestMeta(),
		httpx.Recover(a.Log),
		httpx.AccessLog(a.Log, metrics),
		httpx.SecurityHeaders(a.Config.TLSCert != "" || strings.HasPrefix(a.Config.BaseURL, "https:")),
		httpx.MaxBody(maxAnyBody),
		httpx.CheckJSONBody(maxJSONBody),
		csrf.Handler,
		auth.Authenticate(a.Auth, a.Log, limiter),
		raci.RequestCache,
		httpx.RateLimit(limiter, auth.RateKey),
		httpx.APIErrorsAsProblems,
		httpx.CapturePattern,
	)
	return a.handler, nil
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	status, code := map[string]any{"status": "ready", "engine": string(a.DB.Engine())}, http.StatusOK
	if err := a.DB.Writer().PingContext(r.Context()); err != nil {
		status, code = map[string]any{"status": "database unreachable"}, http.StatusServiceUnavailable
	} else if pending, err := a.DB.MigrationsPending(r.Context()); err != nil || pending {
		status, code = map[string]any{"status": "migrations pending"}, http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(status)
}

// apiNotFound answers an unmatched API request: 405 with Allow when the path
// exists under other methods, else 404, both as problem+json.
func apiNotFound(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, pat := mux.Handler(r2); pat != "" && pat != "/api/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		httpx.WriteProblem(w, r, http.StatusMethodNotAllowed, r.Method+" is not allowed here; allowed: "+strings.Join(allowed, ", "))
		return
	}
	httpx.WriteProblem(w, r, http.StatusNotFound, "no such API endpoint; see /api/v1/openapi.json")
}
