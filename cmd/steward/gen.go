package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"steward/internal/app"
	"steward/internal/gen"
)

// genCmd generates a realistic organisation of a chosen size into a fresh
// database (see internal/gen): the same scale and seed give the same data.
func genCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var scale string
	var seed uint64
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&scale, "scale", "", "the organisation's size N in incidents, such as 1000, 100k or 1M (users N/10, teams N/300)")
		fs.Uint64Var(&seed, "seed", 1, "the seed: the same scale and seed give the same data")
	}
	return withApp(ctx, "gen", args, stderr, extra, func(a *app.App, fs *flag.FlagSet) error {
		if fs.NArg() > 0 || scale == "" {
			return errors.New("usage: steward gen --scale N [--seed S]")
		}
		n, err := gen.ParseScale(scale)
		if err != nil {
			return err
		}
		sum, err := gen.Run(ctx, a.DB, gen.Config{Scale: n, Seed: seed, Model: a.Model})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "generated scale %d with seed %d on %s: %d rows in %s (%.0f rows/s)\n",
			n, seed, a.DB.Engine(), sum.Total, sum.Elapsed.Round(time.Millisecond), sum.RowsPerSec())
		for _, t := range sum.Tables() {
			fmt.Fprintf(stdout, "  %-24s %10d\n", t, sum.Rows[t])
		}
		for _, s := range sum.Steps {
			fmt.Fprintf(stdout, "  generator %-14s %10d rows in %s\n", s.Name, s.Rows, s.Elapsed.Round(time.Millisecond))
		}
		var admins int
		if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE is_admin`).Scan(&admins); err != nil {
			return err
		}
		if admins == 0 {
			fmt.Fprintln(stdout, `No administrator yet: create one with "steward user create NAME --admin". `+
				`Generated accounts have no password; set one with "steward user reset-password NAME".`)
		}
		return nil
	})
}
