package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"steward/internal/app"
	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
)

const alicePassword = "correct horse battery staple"

// storage is the storage flags of one fresh database on each engine.
type storage struct {
	engine db.Engine
	flags  []string
}

func engines(t *testing.T, fn func(t *testing.T, s storage)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, storage{db.SQLite, []string{"--data-dir", t.TempDir()}})
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		u := dbtest.URL(t, db.Postgres)
		// The data directory still holds the secret key; keep it out of the source tree.
		fn(t, storage{db.Postgres, []string{"--database-url", u, "--data-dir", t.TempDir()}})
	})
}

// syncBuffer is a bytes.Buffer that a running server may write while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs one steward command in-process.
func cli(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	err = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return out.String(), errOut.String(), err
}

// mustCLI runs a command that must succeed and returns its standard output.
func mustCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := cli(t, stdin, args...)
	if err != nil {
		t.Fatalf("steward %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func args(s storage, a ...string) []string { return append(a, s.flags...) }

// openApp opens the same database as the CLI does, for checking results through the services.
func openApp(t *testing.T, s storage) *app.App {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	var cfg app.Config
	cfg.BindFlags(fs)
	if err := fs.Parse(s.flags); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return a
}

func TestCLIMisuse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		args       []string
		wantErr    string
		wantStderr string
	}{
		{nil, "no command given", "Usage:"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`, "Usage:"},
		{[]string{"audit"}, "usage: steward audit verify", ""},
		{[]string{"audit", "fix", "--data-dir", dir}, "usage: steward audit verify", ""},
		{[]string{"user"}, "usage: steward user", ""},
		{[]string{"user", "rename", "bob", "--data-dir", dir}, `unknown user command "rename"`, ""},
		{[]string{"user", "create", "--data-dir", dir}, "usage: steward user create NAME", ""},
		{[]string{"token"}, "usage: steward token", ""},
		{[]string{"token", "create", "--data-dir", dir}, "usage: steward token create --user NAME", ""},
		{[]string{"token", "revoke", "--data-dir", dir}, "usage: steward token revoke", ""},
		{[]string{"token", "mint", "--data-dir", dir}, `unknown token command "mint"`, ""},
		{[]string{"backup", "--data-dir", dir}, "usage: steward backup FILE", ""},
		{[]string{"sla"}, "usage: steward sla recompute", ""},
		{[]string{"sla", "recompute", "extra", "--data-dir", dir}, "usage: steward sla recompute", ""},
		{[]string{"migrate", "--no-such-flag"}, "flag provided but not defined", "-no-such-flag"},
		{[]string{"migrate", "--database-url", "mysql://x"}, "unsupported database URL", ""},
	}
	for _, c := range cases {
		_, stderr, err := cli(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(stderr, c.wantStderr) {
			t.Errorf("steward %q: err %v, stderr %q; want error %q and stderr containing %q", c.args, err, stderr, c.wantErr, c.wantStderr)
		}
	}
	if out := mustCLI(t, "", "version"); out != "steward "+app.Version+"\n" {
		t.Errorf("version printed %q", out)
	}
	if out := mustCLI(t, "", "help"); !strings.Contains(out, "steward backup FILE") {
		t.Errorf("help printed %q", out)
	}
}

func TestParseLifetime(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true}, {"", 0, true}, {"90d", 90 * 24 * time.Hour, true}, {"12h", 12 * time.Hour, true},
		{"30m", 30 * time.Minute, true}, {"3651d", 0, false}, {"-1d", 0, false}, {"-1h", 0, false},
		{"xd", 0, false}, {"soon", 0, false},
	}
	for _, c := range cases {
		got, err := parseLifetime(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseLifetime(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestReorder(t *testing.T) {
	t.Parallel()
	cases := []struct{ in, want string }{
		{"alice --admin --email a@x.mil", "--admin --email a@x.mil alice"},
		{"--user alice --expires 0", "--user alice --expires 0"},
		{"stw_abcdefgh --data-dir /tmp/d", "--data-dir /tmp/d stw_abcdefgh"},
		{"alice --must-change --display-name=Alice", "--must-change --display-name=Alice alice"},
		{"out.db --data-dir=/x", "--data-dir=/x out.db"},
	}
	for _, c := range cases {
		if got := strings.Join(reorder(strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("reorder(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestCLIAccountsAndTokens(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, s storage) {
		ctx := context.Background()
		for range 2 {
			if out := mustCLI(t, "", args(s, "migrate")...); out != "migrations applied\n" {
				t.Fatalf("migrate printed %q", out)
			}
		}
		a := openApp(t, s)
		if pending, err := a.DB.MigrationsPending(ctx); err != nil || pending {
			t.Fatalf("pending migrations after migrate: %v, %v", pending, err)
		}

		_, _, err := cli(t, "too short\n", args(s, "user", "create", "alice", "--admin")...)
		if err == nil || !strings.Contains(err.Error(), "at least 15 characters") {
			t.Fatalf("short password: %v; want the rule named", err)
		}
		_, _, err = cli(t, "", args(s, "user", "create", "alice")...)
		if err == nil || !strings.Contains(err.Error(), "no password on stdin") {
			t.Fatalf("empty stdin: %v", err)
		}
		_, _, err = cli(t, alicePassword+"\n", args(s, "user", "create", "Alice Smith")...)
		if err == nil || !strings.Contains(err.Error(), "lower-case") {
			t.Fatalf("bad username: %v", err)
		}
		out := mustCLI(t, alicePassword+"\r\n", args(s, "user", "create", "alice", "--admin", "--email", "alice@example.mil", "--display-name", "Alice")...)
		if !regexp.MustCompile(`^created user alice \(id \d+\)\n$`).MatchString(out) {
			t.Fatalf("user create printed %q", out)
		}
		u, err := a.Auth.UserByName(ctx, "alice")
		if err != nil || !u.Admin || u.Email != "alice@example.mil" || u.DisplayName != "Alice" {
			t.Fatalf("created user = %+v, %v", u, err)
		}
		if _, _, err := a.Auth.Login(ctx, "alice", alicePassword, "", ""); err != nil {
			t.Fatalf("login with the password from stdin (CRLF stripped): %v", err)
		}
		if _, _, err := cli(t, alicePassword+"\n", args(s, "user", "create", "alice")...); err == nil || !strings.Contains(err.Error(), "exists") {
			t.Fatalf("duplicate user: %v", err)
		}
		mustCLI(t, "a long enough password\n", args(s, "user", "create", "bob")...)

		tok := strings.TrimSpace(mustCLI(t, "", args(s, "token", "create", "--user", "alice", "--name", "ci")...))
		if !strings.HasPrefix(tok, "stw_") || len(tok) < 40 {
			t.Fatalf("token create printed %q", tok)
		}
		p, err := a.Auth.TokenPrincipal(ctx, tok)
		if err != nil || p.Username != "alice" || !p.Admin {
			t.Fatalf("token principal: %+v, %v", p, err)
		}
		forever := strings.TrimSpace(mustCLI(t, "", args(s, "token", "create", "--user", "alice", "--expires", "0")...))
		bobs := strings.TrimSpace(mustCLI(t, "", args(s, "token", "create", "--user", "bob", "--expires=12h")...))
		list, err := a.Auth.Tokens(ctx, u.ID)
		if err != nil || len(list) != 2 {
			t.Fatalf("tokens: %+v, %v", list, err)
		}
		if !list[0].ExpiresAt.IsZero() || list[0].Name != "cli" {
			t.Errorf("--expires 0 token = %+v, want no expiry and the default name", list[0])
		}
		if d := time.Until(list[1].ExpiresAt); d < 89*24*time.Hour || d > 90*24*time.Hour || list[1].Name != "ci" {
			t.Errorf("default token = %+v, want 90 days", list[1])
		}
		for _, bad := range [][]string{
			{"token", "create", "--user", "nobody"},
			{"token", "create", "--user", "alice", "--expires", "forever"},
		} {
			if _, _, err := cli(t, "", args(s, bad...)...); err == nil {
				t.Errorf("steward %q succeeded", bad)
			}
		}

		if out := mustCLI(t, "", args(s, "token", "revoke", tok[:12])...); out != "token revoked\n" {
			t.Fatalf("token revoke printed %q", out)
		}
		if _, err := a.Auth.TokenPrincipal(ctx, tok); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("revoked token: %v", err)
		}
		if _, _, err := cli(t, "", args(s, "token", "revoke", tok[:12])...); err == nil {
			t.Fatal("revoking a revoked token succeeded")
		}

		const next = "another good passphrase"
		_, _, err = cli(t, "short\n", args(s, "user", "reset-password", "alice")...)
		if err == nil || !strings.Contains(err.Error(), "at least 15 characters") {
			t.Fatalf("reset to a short password: %v", err)
		}
		if _, _, err := cli(t, next+"\n", args(s, "user", "reset-password", "nobody")...); err == nil {
			t.Fatal("reset-password of a missing user succeeded")
		}
		out = mustCLI(t, next+"\n", args(s, "user", "reset-password", "alice", "--must-change")...)
		if !strings.Contains(out, "password of alice set") {
			t.Fatalf("reset-password printed %q", out)
		}
		if _, _, err := a.Auth.Login(ctx, "alice", alicePassword, "", ""); err == nil {
			t.Fatal("the old password still works after reset-password")
		}
		if _, got, err := a.Auth.Login(ctx, "alice", next, "", ""); err != nil || !got.MustChangePassword {
			t.Fatalf("login with the reset password: %+v, %v", got, err)
		}

		if _, err := a.Auth.TokenPrincipal(ctx, forever); err != nil {
			t.Fatalf("token before disable: %v", err)
		}
		if out := mustCLI(t, "", args(s, "user", "disable", "alice")...); !strings.Contains(out, "user alice disabled") {
			t.Fatalf("disable printed %q", out)
		}
		if _, err := a.Auth.TokenPrincipal(ctx, forever); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("token of a disabled user: %v", err)
		}
		if _, _, err := a.Auth.Login(ctx, "alice", next, "", ""); err == nil {
			t.Fatal("a disabled user logged in")
		}
		if _, err := a.Auth.TokenPrincipal(ctx, bobs); err != nil {
			t.Fatalf("disabling alice broke bob's token: %v", err)
		}

		items, _, err := audit.List(ctx, a.DB, audit.Filter{Action: "user.create"})
		if err != nil || len(items) != 2 || items[0].ActorType != "cli" || !strings.HasPrefix(items[0].ActorName, "cli:") {
			t.Fatalf("CLI audit rows: %+v, %v", items, err)
		}
	})
}

func TestCLIAuditVerify(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, s storage) {
		out := mustCLI(t, "", args(s, "audit", "verify")...)
		if !regexp.MustCompile(`^audit trail intact: [1-9]\d* rows verified\n$`).MatchString(out) {
			t.Fatalf("fresh database: %q", out)
		}
		mustCLI(t, alicePassword+"\n", args(s, "user", "create", "alice")...)
		mustCLI(t, "", args(s, "audit", "verify")...)

		a := openApp(t, s)
		if _, err := a.DB.ExecContext(context.Background(), `UPDATE audit_log SET actor_name = 'x' WHERE seq = 2`); err != nil {
			t.Fatal(err)
		}
		out, _, err := cli(t, "", args(s, "audit", "verify")...)
		if err == nil || !strings.Contains(err.Error(), "row 2") {
			t.Fatalf("altered trail: err %v", err)
		}
		if !strings.Contains(out, "ALTERED: first bad row is 2: row 2 was altered") {
			t.Fatalf("altered trail printed %q", out)
		}
	})
}

// TestCLISLARecompute: "steward sla recompute" rebuilds clocks that are gone
// from the records' audit history, and adds or removes nothing the second time.
func TestCLISLARecompute(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, s storage) {
		mustCLI(t, "", args(s, "demo")...)
		mustCLI(t, "", args(s, "sla", "recompute")...) // the demo's last day is not refreshed yet
		a := openApp(t, s)
		ctx := context.Background()
		var clocks int64
		if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM sla_clocks`).Scan(&clocks); err != nil || clocks == 0 {
			t.Fatalf("the demo has %d clocks (%v)", clocks, err)
		}
		if _, err := a.DB.ExecContext(ctx, `DELETE FROM sla_clocks`); err != nil {
			t.Fatal(err)
		}
		out := mustCLI(t, "", args(s, "sla", "recompute", "--workers", "2")...)
		want := regexp.MustCompile(fmt.Sprintf(`^recomputed the clocks of [1-9]\d* records in \S+: %d clocks \(%d new, 0 changed, 0 removed, 0 history rows\)\n$`, clocks, clocks))
		if !want.MatchString(out) {
			t.Fatalf("after deleting the clocks: %q", out)
		}
		// Again: nothing new or removed (running clocks are rewritten with the time elapsed since).
		out = mustCLI(t, "", args(s, "sla", "recompute")...)
		if !regexp.MustCompile(fmt.Sprintf(`: %d clocks \(0 new, \d+ changed, 0 removed, 0 history rows\)`, clocks)).MatchString(out) {
			t.Fatalf("again: %q", out)
		}
	})
}
