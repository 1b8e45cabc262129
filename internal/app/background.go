package app

import "context"

// startBackground starts the job runner; the returned channel closes when it has stopped.
func (a *App) startBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	close(done)
	return done
}
