package app

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// registerPages adds the server-rendered web UI.
func (a *App) registerPages(mux *http.ServeMux, api huma.API) error {
	return nil
}

// startBackground starts the job runner; the returned channel closes when it has stopped.
func (a *App) startBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	close(done)
	return done
}
