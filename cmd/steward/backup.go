package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
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
		// The copy holds password hashes: create it readable by the owner only.
		// VACUUM INTO and pg_dump both accept an existing empty file.
		f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; choose a new file", dst)
		}
		if err != nil {
			return fmt.Errorf("backup: %w", err)
		}
		f.Close()
		switch a.DB.Engine() {
		case db.SQLite:
			if _, err := a.DB.ExecContext(ctx, `VACUUM INTO ?`, dst); err != nil {
				os.Remove(dst)
				return fmt.Errorf("backup: %w", err)
			}
		case db.Postgres:
			// Keep the password out of the command line, where other local users could read it.
			dbURL, env := a.Config.DatabaseURL, os.Environ()
			if u, err := url.Parse(dbURL); err == nil && u.User != nil {
				if pw, ok := u.User.Password(); ok {
					env = append(env, "PGPASSWORD="+pw)
					u.User = url.User(u.User.Username())
					dbURL = u.String()
				}
			}
			cmd := exec.CommandContext(ctx, "pg_dump", "--format=custom", "--file="+dst, "--dbname="+dbURL)
			cmd.Env = env
			cmd.Stderr = stderr
			if err := cmd.Run(); err != nil {
				os.Remove(dst)
				return fmt.Errorf("pg_dump: %w", err)
			}
		}
		fmt.Fprintf(stdout, "backup written to %s\n", dst)
		return nil
	})
}
