package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
)

func TestMain(m *testing.M) {
	// Debian installs pg_dump for the server's version under /usr/lib/postgresql/N/bin.
	if _, err := exec.LookPath("pg_dump"); err != nil {
		if dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin"); len(dirs) > 0 {
			slices.Sort(dirs)
			os.Setenv("PATH", dirs[len(dirs)-1]+string(os.PathListSeparator)+os.Getenv("PATH"))
		}
	}
	os.Exit(m.Run())
}

// snapshot is what a database holds of the teams written under load.
type snapshot struct {
	teams       map[int64]string // id → name
	auditCreate []int64          // object ids of team.create audit rows
}

func readSnapshot(t *testing.T, d *db.DB) snapshot {
	t.Helper()
	ctx := context.Background()
	s := snapshot{teams: map[int64]string{}}
	rows, err := d.QueryContext(ctx, `SELECT id, name FROM teams`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			t.Fatal(err)
		}
		s.teams[id] = name
	}
	rows.Close()
	rows, err = d.QueryContext(ctx, `SELECT object_id FROM audit_log WHERE action = 'team.create'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.ParseInt(id, 10, 64)
		s.auditCreate = append(s.auditCreate, n)
	}
	return s
}

// checkConsistentPrefix asserts that the backup holds a transactionally consistent
// part of the live data: every team has its audit row and vice versa, and every
// team is also in the live database under the same name.
func checkConsistentPrefix(t *testing.T, backup, live snapshot) {
	t.Helper()
	if len(backup.teams) == 0 {
		t.Fatal("the backup holds no teams; it was taken before the load began")
	}
	if len(backup.teams) >= len(live.teams) {
		t.Fatalf("the backup holds %d teams and the live database %d; the backup was not taken under load", len(backup.teams), len(live.teams))
	}
	if len(backup.auditCreate) != len(backup.teams) {
		t.Fatalf("backup: %d teams but %d team.create audit rows", len(backup.teams), len(backup.auditCreate))
	}
	for _, id := range backup.auditCreate {
		if _, ok := backup.teams[id]; !ok {
			t.Fatalf("backup: audit row for team %d, which the backup lacks", id)
		}
	}
	for id, name := range backup.teams {
		if live.teams[id] != name {
			t.Fatalf("backup: team %d is %q, live it is %q", id, name, live.teams[id])
		}
	}
}

// load writes teams until stop is closed, through fn, from several goroutines.
func load(t *testing.T, workers int, fn func(name string) error) (created *atomic.Int64, stop func()) {
	created = &atomic.Int64{}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-quit:
					return
				default:
				}
				if err := fn(fmt.Sprintf("team-%d-%d", w, i)); err != nil {
					t.Errorf("write under load: %v", err)
					return
				}
				created.Add(1)
			}
		})
	}
	var once sync.Once
	return created, func() { once.Do(func() { close(quit); wg.Wait() }) }
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ownerOnly asserts that a backup, which holds password hashes, is readable by its owner only.
func ownerOnly(t *testing.T, file string) {
	t.Helper()
	fi, err := os.Stat(file)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 || fi.Size() == 0 {
		t.Errorf("backup %s: mode %v, %d bytes; want a non-empty file with mode 0600", file, fi.Mode().Perm(), fi.Size())
	}
}

func TestBackupSQLiteWhileServing(t *testing.T) {
	t.Parallel()
	s := storage{db.SQLite, []string{"--data-dir", t.TempDir()}}
	sv := startServer(t, s, "--rate-limit", "0")
	token := strings.TrimSpace(mustCLI(t, "", args(s, "token", "create", "--user", "admin", "--expires", "1h")...))

	client := &http.Client{Timeout: 30 * time.Second}
	created, stop := load(t, 4, func(name string) error {
		req, _ := http.NewRequest(http.MethodPost, sv.base+"/api/v1/teams", strings.NewReader(`{"name":"`+name+`"}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("POST /api/v1/teams %s: %s", name, resp.Status)
		}
		return nil
	})
	defer stop()
	waitFor(t, "teams before the backup", func() bool { return created.Load() >= 30 })

	file := filepath.Join(t.TempDir(), "steward.db")
	out := mustCLI(t, "", args(s, "backup", file)...)
	if out != "backup written to "+file+"\n" {
		t.Fatalf("backup printed %q", out)
	}
	atBackup := created.Load()
	ownerOnly(t, file)
	waitFor(t, "teams after the backup", func() bool { return created.Load() >= atBackup+30 })
	stop()
	if t.Failed() {
		return
	}
	if _, _, err := cli(t, "", args(s, "backup", file)...); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Fatalf("backup over an existing file: %v", err)
	}

	// Restore: the backup file becomes steward.db of a new data directory.
	restored := storage{db.SQLite, []string{"--data-dir", filepath.Dir(file)}}
	bd, err := db.Open(context.Background(), db.Config{URL: "sqlite:" + file})
	if err != nil {
		t.Fatal(err)
	}
	backup := readSnapshot(t, bd)
	bd.Close()
	a := openApp(t, s)
	checkConsistentPrefix(t, backup, readSnapshot(t, a.DB))

	if out := mustCLI(t, "", args(restored, "audit", "verify")...); !strings.HasPrefix(out, "audit trail intact") {
		t.Fatalf("audit verify of the restored copy: %q", out)
	}
	mustCLI(t, "a long enough password\n", args(restored, "user", "create", "after-restore")...)
	mustCLI(t, "", args(restored, "audit", "verify")...)
	if err := sv.stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// newPGDatabase creates an empty database on the test server and returns its URL.
func newPGDatabase(t *testing.T, like string) string {
	t.Helper()
	base := os.Getenv("STEWARD_TEST_PG")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("restore_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", base); err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, err := url.Parse(like)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestBackupPostgresAndRestore(t *testing.T) {
	t.Parallel()
	src := dbtest.URL(t, db.Postgres) // skips or fails as the other PostgreSQL tests do
	for _, tool := range []string{"pg_dump", "pg_restore"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (Debian package postgresql-client): %v", tool, err)
		}
	}
	s := storage{db.Postgres, []string{"--database-url", src, "--data-dir", t.TempDir()}}
	a := openApp(t, s)
	ctx := context.Background()
	created, stop := load(t, 4, func(name string) error {
		_, err := a.Auth.CreateTeam(ctx, auth.Team{Name: name})
		return err
	})
	defer stop()
	waitFor(t, "teams before the backup", func() bool { return created.Load() >= 30 })
	file := filepath.Join(t.TempDir(), "steward.dump")
	mustCLI(t, "", args(s, "backup", file)...)
	atBackup := created.Load()
	ownerOnly(t, file)
	waitFor(t, "teams after the backup", func() bool { return created.Load() >= atBackup+30 })
	stop()
	if t.Failed() {
		return
	}

	dst := newPGDatabase(t, src)
	cmd := exec.Command("pg_restore", "--no-owner", "--exit-on-error", "--dbname="+dst, file)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pg_restore: %v\n%s", err, out)
	}
	restored := storage{db.Postgres, []string{"--database-url", dst, "--data-dir", t.TempDir()}}
	ra := openApp(t, restored)
	checkConsistentPrefix(t, readSnapshot(t, ra.DB), readSnapshot(t, a.DB))
	if out := mustCLI(t, "", args(restored, "audit", "verify")...); !strings.HasPrefix(out, "audit trail intact") {
		t.Fatalf("audit verify of the restored database: %q", out)
	}
	// The identity sequences came back too: new rows do not collide with restored ones.
	if _, err := ra.Auth.CreateTeam(ctx, auth.Team{Name: "after restore"}); err != nil {
		t.Fatalf("write to the restored database: %v", err)
	}
	mustCLI(t, "", args(restored, "audit", "verify")...)
}
