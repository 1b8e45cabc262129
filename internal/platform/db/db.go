// Package db opens the store on SQLite or PostgreSQL, runs transactions with
// before- and after-commit hooks, applies the embedded migrations and hides the
// few places where the two SQL dialects differ.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// Engine names a supported database engine.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// Config says which database to open.
type Config struct {
	// URL is a postgres:// URL, a sqlite:PATH URL, or empty for DataDir/steward.db.
	URL string
	// DataDir holds the SQLite file when URL is empty.
	DataDir string
	// MaxReaders bounds the reader pool (SQLite) or the whole pool (PostgreSQL).
	MaxReaders int
}

// DB is the store handle: a writer pool and a reader pool over one database.
type DB struct {
	engine Engine
	write  *sql.DB
	read   *sql.DB
	path   string // SQLite file path

	rebindCache sync.Map
}

// Queryer runs SQL written with ? placeholders; both *DB and *Tx implement it.
type Queryer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	Engine() Engine
}

// Open connects to the configured database. It does not migrate.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	u := cfg.URL
	if cfg.MaxReaders <= 0 {
		cfg.MaxReaders = max(4, runtime.NumCPU()*2)
	}
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return openPostgres(ctx, u, cfg.MaxReaders)
	case u == "":
		if cfg.DataDir == "" {
			cfg.DataDir = "steward-data"
		}
		if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		return openSQLite(ctx, filepath.Join(cfg.DataDir, "steward.db"), cfg.MaxReaders)
	case strings.HasPrefix(u, "sqlite:"):
		p := strings.TrimPrefix(strings.TrimPrefix(u, "sqlite:"), "//")
		if dir := filepath.Dir(p); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		return openSQLite(ctx, p, cfg.MaxReaders)
	default:
		return nil, fmt.Errorf("unsupported database URL scheme (want postgres:// or sqlite:)")
	}
}

func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	// busy_timeout first, so that the later pragmas wait instead of failing.
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Read pages through a shared memory map of the file rather than a
	// read() per page into each connection's own small page cache: the reader
	// pool's connections then share the operating system's cache, which is
	// what keeps walks over large CMDBs off the disk.
	q.Add("_pragma", "mmap_size(1073741824)")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

func openSQLite(ctx context.Context, path string, readers int) (*DB, error) {
	w, err := sql.Open("sqlite", sqliteDSN(path, false))
	if err != nil {
		return nil, fmt.Errorf("open sqlite writer: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite readers: %w", err)
	}
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	return &DB{engine: SQLite, write: w, read: r, path: path}, nil
}

func openPostgres(ctx context.Context, u string, conns int) (*DB, error) {
	p, err := sql.Open("pgx", u)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	p.SetMaxOpenConns(max(conns, 8))
	p.SetMaxIdleConns(max(conns, 8))
	if err := p.PingContext(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return &DB{engine: Postgres, write: p, read: p}, nil
}

// Engine reports which engine the store runs on.
func (db *DB) Engine() Engine { return db.engine }

// Path is the SQLite file path, or "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// Writer is the pool that writes; exposed for metrics and backups.
func (db *DB) Writer() *sql.DB { return db.write }

// Reader is the pool that reads; on PostgreSQL it is the writer pool.
func (db *DB) Reader() *sql.DB { return db.read }

// Close closes both pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Rebind turns ? placeholders into the engine's form ($1, $2 … on PostgreSQL).
// Steward's SQL never uses ? inside string literals.
func (db *DB) Rebind(q string) string {
	if db.engine != Postgres {
		return q
	}
	if v, ok := db.rebindCache.Load(q); ok {
		return v.(string)
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(q[i])
	}
	s := b.String()
	db.rebindCache.Store(q, s)
	return s
}

// ExecContext runs a write outside any transaction, on the writer.
func (db *DB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	counted(ctx)
	return db.write.ExecContext(ctx, db.Rebind(q), args...)
}

// QueryContext reads from the reader pool.
func (db *DB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	counted(ctx)
	return db.read.QueryContext(ctx, db.Rebind(q), args...)
}

// PrepareContext prepares a query for the reader pool, for a bulk read that
// runs it many times without parsing it again. Preparing counts as one
// statement for CountQueries; running the prepared statement is not counted.
func (db *DB) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	counted(ctx)
	return db.read.PrepareContext(ctx, db.Rebind(q))
}

// QueryRowContext reads one row from the reader pool.
func (db *DB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	counted(ctx)
	return db.read.QueryRowContext(ctx, db.Rebind(q), args...)
}

// SkipLocked is the row-claiming suffix for a SELECT: "FOR UPDATE SKIP LOCKED"
// on PostgreSQL, nothing on SQLite where the single writer already serialises claims.
func (db *DB) SkipLocked() string {
	if db.engine == Postgres {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// ForUpdate is the row-locking suffix for a SELECT inside a transaction.
func (db *DB) ForUpdate() string {
	if db.engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// IsUniqueViolation reports whether err is a unique-constraint failure on either engine.
func IsUniqueViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "UNIQUE constraint failed") || strings.Contains(s, "SQLSTATE 23505")
}

// IsForeignKeyViolation reports whether err is a foreign-key failure on either engine.
func IsForeignKeyViolation(err error) bool {
	if err == nil {
		return false
	}
	s := err.Error()
	return strings.Contains(s, "FOREIGN KEY constraint failed") || strings.Contains(s, "SQLSTATE 23503")
}
