package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// pgServer is a PostgreSQL server to create benchmark databases in: either a
// throwaway one that bench started with scripts/testpg.sh, or one given by -pg-url.
type pgServer struct {
	// URL points at a database to connect to for CREATE DATABASE (usually "postgres").
	URL string
	// Throwaway is true when bench started the server and must stop it.
	Throwaway bool

	script string
	dir    string
	pid    int // the postmaster's, when it runs on this machine
}

// startPG starts a throwaway server with script (scripts/testpg.sh) on a free port.
func startPG(ctx context.Context, script string) (*pgServer, error) {
	if _, err := os.Stat(script); err != nil {
		return nil, fmt.Errorf("-pg-script %s: %w (run bench from the repository root, or give -pg-url)", script, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Under the world-writable temp directory: the postgres user must reach it.
	dir, err := os.MkdirTemp("", "steward-bench-pg-")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "bash", script, "start", dir)
	cmd.Env = append(os.Environ(), "TESTPG_PORT="+strconv.Itoa(port))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	p := &pgServer{Throwaway: true, script: script, dir: dir}
	if err != nil {
		p.stop()
		return nil, fmt.Errorf("start PostgreSQL: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	p.URL = strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(p.URL, "postgres") {
		p.stop()
		return nil, fmt.Errorf("start PostgreSQL: %s printed %q, want a URL", script, out)
	}
	return p, nil
}

// stop stops a throwaway server and removes its files; it leaves others alone.
func (p *pgServer) stop() {
	if !p.Throwaway || p.dir == "" {
		return
	}
	_ = exec.Command("bash", p.script, "stop", p.dir).Run()
	_ = os.RemoveAll(p.dir)
}

// createDatabase creates an empty database called name and returns its URL.
func (p *pgServer) createDatabase(ctx context.Context, name string) (string, error) {
	if err := p.exec(ctx, `CREATE DATABASE `+name); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(p.URL)
	if err != nil {
		return "", fmt.Errorf("-pg-url: %w", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// dropDatabase removes a benchmark database.
func (p *pgServer) dropDatabase(ctx context.Context, name string) error {
	return p.exec(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`)
}

// settings describes the server's version and durability settings for the report.
func (p *pgServer) settings(ctx context.Context) string {
	conn, err := sql.Open("pgx", p.URL)
	if err != nil {
		return ""
	}
	defer conn.Close()
	var parts []string
	for _, s := range []string{"server_version", "fsync", "synchronous_commit", "full_page_writes"} {
		var v string
		if err := conn.QueryRowContext(ctx, `SELECT current_setting($1)`, s).Scan(&v); err != nil {
			return ""
		}
		if s == "server_version" {
			parts = append(parts, "PostgreSQL "+v)
			continue
		}
		parts = append(parts, s+"="+v)
	}
	return strings.Join(parts, ", ")
}

// findPostmaster sets p.pid to the server's postmaster process when it runs on
// this machine (a backend's parent, found through pg_backend_pid), so that its
// CPU use can be measured; it reports whether it found one.
func (p *pgServer) findPostmaster(ctx context.Context) bool {
	conn, err := sql.Open("pgx", p.URL)
	if err != nil {
		return false
	}
	defer conn.Close()
	var backend int
	if err := conn.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return false
	}
	st, err := readProcStat(backend)
	if err != nil {
		return false
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", st.ppid))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(comm)), "postgres") {
		return false
	}
	p.pid = st.ppid
	return true
}

// cpuTime is the CPU time the postmaster and its backends have used so far.
func (p *pgServer) cpuTime() (time.Duration, error) {
	if p.pid == 0 {
		return 0, errors.New("no local postmaster")
	}
	return treeCPUTime(p.pid)
}

func (p *pgServer) exec(ctx context.Context, q string) error {
	conn, err := sql.Open("pgx", p.URL)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.ExecContext(ctx, q)
	return err
}
