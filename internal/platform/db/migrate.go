package db

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"slices"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// CheckMigrations fails unless the SQLite and PostgreSQL folders hold the same
// numbered migrations. The server refuses to start when they disagree.
func CheckMigrations() error {
	lite, err := fs.Glob(migrations, "migrations/sqlite/*.sql")
	if err != nil {
		return err
	}
	pg, err := fs.Glob(migrations, "migrations/postgres/*.sql")
	if err != nil {
		return err
	}
	base := func(paths []string, dir string) []string {
		out := make([]string, len(paths))
		for i, p := range paths {
			out[i] = p[len(dir)+1:]
		}
		slices.Sort(out)
		return out
	}
	a, b := base(lite, "migrations/sqlite"), base(pg, "migrations/postgres")
	if !slices.Equal(a, b) {
		return fmt.Errorf("migration folders disagree: sqlite has %v, postgres has %v", a, b)
	}
	return nil
}

// Migrate applies every pending migration of the engine's folder.
// On PostgreSQL a session advisory lock keeps concurrent nodes from migrating at once.
func (db *DB) Migrate(ctx context.Context) error {
	if err := CheckMigrations(); err != nil {
		return err
	}
	p, err := db.provider()
	if err != nil {
		return err
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("apply migrations: %w", err)
	}
	return nil
}

// MigrationsPending reports whether migrations remain to be applied. It takes no
// migration lock, so readiness probes never queue behind one.
func (db *DB) MigrationsPending(ctx context.Context) (bool, error) {
	p, err := db.provider()
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("migration status: %w", err)
	}
	return pending, nil
}

func (db *DB) provider() (*goose.Provider, error) {
	dialect, dir := goose.DialectSQLite3, "migrations/sqlite"
	var opts []goose.ProviderOption
	if db.engine == Postgres {
		dialect, dir = goose.DialectPostgres, "migrations/postgres"
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return nil, err
	}
	p, err := goose.NewProvider(dialect, db.write, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("migration provider: %w", err)
	}
	return p, nil
}
