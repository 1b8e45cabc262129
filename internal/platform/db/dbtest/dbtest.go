// Package dbtest gives tests a real, migrated, throwaway database on each engine.
//
// SQLite databases are files in the test's temporary directory. PostgreSQL
// databases are copied from a migrated template on the server named by
// STEWARD_TEST_PG (a postgres:// URL to a database the test may connect to as a
// superuser; `make test` starts one). Without it the PostgreSQL half is skipped,
// unless STEWARD_TEST_REQUIRE_PG=1, when it fails.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"steward/internal/platform/db"
)

// Each runs fn as a subtest once per engine, each with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	for _, e := range []db.Engine{db.SQLite, db.Postgres} {
		t.Run(string(e), func(t *testing.T) {
			fn(t, Open(t, e))
		})
	}
}

// Open returns a fresh migrated database on engine e, closed and removed when the test ends.
func Open(t testing.TB, e db.Engine) *db.DB {
	t.Helper()
	u := URL(t, e)
	d, err := db.Open(context.Background(), db.Config{URL: u})
	if err != nil {
		t.Fatalf("open %s: %v", e, err)
	}
	t.Cleanup(func() { d.Close() })
	if e == db.SQLite {
		if err := d.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	return d
}

// URL returns the URL of a fresh migrated database on engine e (a new SQLite
// file, or a new PostgreSQL database copied from the template). The caller opens it.
func URL(t testing.TB, e db.Engine) string {
	t.Helper()
	if e == db.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "steward.db")
	}
	base := os.Getenv("STEWARD_TEST_PG")
	if base == "" {
		if os.Getenv("STEWARD_TEST_REQUIRE_PG") == "1" {
			t.Fatal("STEWARD_TEST_PG is not set but STEWARD_TEST_REQUIRE_PG=1")
		}
		t.Skip("STEWARD_TEST_PG not set; skipping PostgreSQL")
	}
	name, err := pg.newDatabase(base)
	if err != nil {
		t.Fatalf("postgres test database: %v", err)
	}
	t.Cleanup(func() { pg.drop(base, name) })
	return withDatabase(base, name)
}

type pgState struct {
	mu       sync.Mutex
	template string
	err      error
	n        atomic.Int64
}

var pg pgState // test-only process state: the per-process template database

func withDatabase(base, name string) string {
	u, err := url.Parse(base)
	if err != nil {
		return base
	}
	u.Path = "/" + name
	return u.String()
}

func (p *pgState) admin(base string) (*sql.DB, error) {
	return sql.Open("pgx", base)
}

func (p *pgState) newDatabase(base string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.template == "" && p.err == nil {
		p.template, p.err = p.makeTemplate(base)
	}
	if p.err != nil {
		return "", p.err
	}
	a, err := p.admin(base)
	if err != nil {
		return "", err
	}
	defer a.Close()
	name := fmt.Sprintf("t_%d_%d", os.Getpid(), p.n.Add(1))
	if _, err := a.Exec(fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, p.template)); err != nil {
		return "", fmt.Errorf("create database: %w", err)
	}
	return name, nil
}

func (p *pgState) makeTemplate(base string) (string, error) {
	a, err := p.admin(base)
	if err != nil {
		return "", err
	}
	defer a.Close()
	name := fmt.Sprintf("tmpl_%d", os.Getpid())
	_, _ = a.Exec("DROP DATABASE IF EXISTS " + name)
	if _, err := a.Exec("CREATE DATABASE " + name); err != nil {
		return "", fmt.Errorf("create template: %w", err)
	}
	d, err := db.Open(context.Background(), db.Config{URL: withDatabase(base, name)})
	if err != nil {
		return "", err
	}
	defer d.Close()
	if err := d.Migrate(context.Background()); err != nil {
		return "", err
	}
	return name, nil
}

func (p *pgState) drop(base, name string) {
	a, err := p.admin(base)
	if err != nil {
		return
	}
	defer a.Close()
	_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
}
