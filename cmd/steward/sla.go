package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"steward/internal/app"
	"steward/internal/design/servicelevel/tracker"
)

// slaCmd recomputes every record's service-level clocks from the audit trail
// (after "steward gen", or to repair clocks by hand) and exits.
func slaCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const use = "usage: steward sla recompute [--workers N] [--only-open]"
	if len(args) == 0 || args[0] != "recompute" {
		return errors.New(use)
	}
	var o tracker.RecomputeOptions
	return withApp(ctx, "sla recompute", args[1:], stderr, func(fs *flag.FlagSet) {
		fs.IntVar(&o.Workers, "workers", 0, "records computed in parallel (default: one per CPU)")
		fs.BoolVar(&o.OnlyOpen, "only-open", false, "leave the clocks of closed records as they are")
	}, func(a *app.App, fs *flag.FlagSet) error {
		if fs.NArg() != 0 {
			return errors.New(use)
		}
		st, err := a.Clocks.RecomputeAll(ctx, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "recomputed the clocks of %d records in %s: %d clocks (%d new, %d changed, %d removed, %d history rows)\n",
			st.Records, st.Duration.Round(1e6), st.Clocks, st.Inserted, st.Updated, st.Deleted, st.History)
		return nil
	})
}
