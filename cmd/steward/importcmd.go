package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"steward/internal/app"
	"steward/internal/operation/incident/servicenow"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
)

// importCmd loads records exported from another tool: for now, incidents from
// a ServiceNow incident export (one row per state change; the incident is its
// last state). It acts as a named user (default "admin"), whose RACI decides
// and whose name the audit trail and the journals carry; importing the same
// file again creates no duplicates.
func importCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var format, as string
	var asJSON bool
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&format, "format", "servicenow", "the export's format: servicenow")
		fs.StringVar(&as, "as", "admin", "the user the import acts as (needs R or A for IM2, or is an administrator)")
		fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	}
	return withApp(ctx, "import", args, stderr, extra, func(a *app.App, fs *flag.FlagSet) error {
		if fs.NArg() != 2 || fs.Arg(0) != "incidents" {
			return errors.New("usage: steward import incidents --format servicenow [--as USER] [--json] FILE.csv")
		}
		if format != "servicenow" {
			return fmt.Errorf("unknown format %q: the only format is servicenow", format)
		}
		f, err := os.Open(fs.Arg(1))
		if err != nil {
			return err
		}
		defer f.Close()
		u, err := a.Auth.UserByName(ctx, as)
		if err != nil {
			return fmt.Errorf("the user to import as, %q: %w", as, err)
		}
		if u.Disabled {
			return fmt.Errorf("the user %q is disabled", as)
		}
		ctx := audit.WithActor(cliContext(ctx), audit.Actor{Type: "cli", ID: u.ID, Name: u.Username})
		ctx = auth.WithPrincipal(ctx, &auth.Principal{UserID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Admin: u.Admin})
		list, rep, err := servicenow.Parse(f, servicenow.Options{})
		if err != nil {
			return err
		}
		res, err := a.Incidents.ImportServiceNow(ctx, list)
		if err != nil {
			return err
		}
		if asJSON {
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(map[string]any{"file": rep, "import": res})
		}
		fmt.Fprintf(stdout, "read %d rows: %d incidents, %d rows and %d incidents skipped\n",
			rep.Rows, rep.Incidents, rep.SkippedRows, rep.SkippedIncidents)
		fmt.Fprintf(stdout, "imported: %d created, %d updated, %d unchanged, %d skipped; %d categories added\n",
			res.Created, res.Updated, res.Unchanged, len(res.Skipped), res.CategoriesAdded)
		for _, s := range rep.Skipped {
			fmt.Fprintf(stdout, "  skipped line %d %s: %s\n", s.Line, s.Number, s.Reason)
		}
		for _, s := range res.Skipped {
			fmt.Fprintf(stdout, "  skipped %s: %s\n", s.Number, s.Reason)
		}
		return nil
	})
}
