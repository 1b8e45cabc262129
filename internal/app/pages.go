package app

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// registerPages adds the server-rendered web UI.
func (a *App) registerPages(mux *http.ServeMux, api huma.API) error {
	return nil
}
