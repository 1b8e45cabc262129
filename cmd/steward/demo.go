package main

import (
	"context"
	"errors"
	"flag"
	"io"

	"steward/internal/app"
)

// demoCmd loads the demo organisation into the configured database and exits.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withApp(ctx, "demo", args, stderr, nil, func(a *app.App, fs *flag.FlagSet) error {
		if fs.NArg() != 0 {
			return errors.New("usage: steward demo [--data-dir DIR] [--database-url URL]")
		}
		return app.LoadDemo(ctx, a, stdout)
	})
}
