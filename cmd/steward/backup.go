package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"

	"steward/internal/app"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
)

func authNewUser(name, display, email, pw string, admin, mustChange bool) auth.NewUser {
	return auth.NewUser{Username: name, DisplayName: display, Email: email, Password: pw, Admin: admin, MustChangePassword: mustChange}
}

// backupCmd writes a consistent copy of a live database: SQLite's VACUUM INTO
// (a transactionally consistent snapshot, safe while the server writes), or
// pg_dump's custom format for PostgreSQL.
func backupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return withApp(ctx, "backup", args, stderr, nil, func(a *app.App, fs *flag.FlagSet) error {
		if fs.NArg() != 1 {
			return errors.New("usage: steward backup FILE")
		}
		dst, err := filepath.Abs(fs.Arg(0))
		if err != nil {
			return err
		}
		if _, err := os.Stat(dst); err == nil {
			return fmt.Errorf("%s exists; choose a new file", dst)
		}
		switch a.DB.Engine() {
		case db.SQLite:
			if _, err := a.DB.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
		case db.Postgres:
			cmd := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--file="+dst, "--dbname="+a.Config.DatabaseURL)
			cmd.Stderr = stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("pg_dump: %w", err)
			}
		}
		fmt.Fprintf(stdout, "backup written to %s\n", dst)
		return nil
	})
}
