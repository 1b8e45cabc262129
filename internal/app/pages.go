package app

import (
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/web"
)

// registerPages adds the server-rendered web UI.
func (a *App) registerPages(mux *http.ServeMux, api huma.API) error {
	return web.Register(mux, web.Deps{
		Auth:      a.Auth,
		Settings:  a.Settings,
		Log:       a.Log,
		Secure:    a.Config.TLSCert != "" || strings.HasPrefix(a.Config.BaseURL, "https:"),
		Version:   Version,
		API:       api,
		Model:     a.Model,
		RACI:      a.RACI,
		Records:   a.Records,
		CMDB:      a.CMDB,
		Incidents: a.Incidents,
		Problems:  a.Problems,
		Requests:  a.Requests,

		Calendars:    a.Calendars,
		Levels:       a.Levels,
		Clocks:       a.Clocks,
		Availability: a.Availability,
	})
}
