package auth_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

const (
	goodPassword = "correct horse battery staple"
	idle         = 15 * time.Minute
	absolute     = 2 * time.Hour
	lockFor      = 10 * time.Minute
)

var t0 = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	d   *db.DB
	clk *clock.Fixed
	s   *auth.Service
	ctx context.Context
}

func newService(d *db.DB, clk *clock.Fixed) *auth.Service {
	return auth.NewService(d, audit.NewTrail(clk), outbox.New(clk, nil), clk, auth.NewHasher(2), auth.Config{
		SessionIdle: idle, SessionMax: absolute, LockoutThreshold: 5, LockoutDuration: lockFor,
	})
}

func setup(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	clk := clock.NewFixed(t0)
	ctx := audit.WithActor(context.Background(), audit.Actor{Type: "cli", Name: "cli:test"})
	return &fixture{d: d, clk: clk, s: newService(d, clk), ctx: ctx}
}

func (f *fixture) user(t *testing.T, name string) auth.User {
	t.Helper()
	u, err := f.s.CreateUser(f.ctx, auth.NewUser{Username: name, Password: goodPassword, Email: name + "@example.mil"})
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// lastAudit returns the newest audit rows, newest first.
func (f *fixture) lastAudit(t *testing.T, n int) []audit.Item {
	t.Helper()
	items, _, err := audit.List(f.ctx, f.d, audit.Filter{Limit: n})
	if err != nil {
		t.Fatal(err)
	}
	return items
}

func (f *fixture) countAudit(t *testing.T, action string) int64 {
	t.Helper()
	_, n, err := audit.List(f.ctx, f.d, audit.Filter{Action: action, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func wantKind(t *testing.T, err error, k errs.Kind, what string) {
	t.Helper()
	if got := errs.KindOf(err); err == nil || got != k {
		t.Fatalf("%s: err = %v (%v), want %v", what, err, got, k)
	}
}

func wantField(t *testing.T, err error, location string) {
	t.Helper()
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid || len(e.Fields) == 0 || e.Fields[0].Location != location {
		var fields []errs.FieldError
		if e != nil {
			fields = e.Fields
		}
		t.Fatalf("err = %v, fields %+v; want Invalid naming %s", err, fields, location)
	}
}

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	h := auth.NewHasher(2)
	a, err := h.Hash(ctx, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := h.Hash(ctx, goodPassword)
	if !strings.HasPrefix(a, "$argon2id$v=19$m=19456,t=2,p=1$") || a == b {
		t.Fatalf("hashes %q and %q: want argon2id PHC strings with distinct salts", a, b)
	}
	cases := []struct {
		name, hash, password string
		want                 bool
	}{
		{"right password", a, goodPassword, true},
		{"other salt, right password", b, goodPassword, true},
		{"wrong password", a, goodPassword + "!", false},
		{"empty password", a, "", false},
		{"empty hash", "", goodPassword, false},
		{"malformed hash", "$argon2id$v=19$m=x$salt$key", goodPassword, false},
		{"wrong algorithm", strings.Replace(a, "argon2id", "argon2i", 1), goodPassword, false},
		{"absurd memory cost", strings.Replace(a, "m=19456", "m=99999999", 1), goodPassword, false},
	}
	for _, c := range cases {
		ok, err := h.Verify(ctx, c.hash, c.password)
		if err != nil || ok != c.want {
			t.Errorf("%s: Verify = %v, %v; want %v", c.name, ok, err, c.want)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, password, username string
		ok                       bool
	}{
		{"15 characters", strings.Repeat("x", 15), "alice", true},
		{"15 runes, more bytes", strings.Repeat("é", 15), "alice", true},
		{"14 characters", strings.Repeat("x", 14), "alice", false},
		{"empty", "", "alice", false},
		{"256 bytes", strings.Repeat("x", 256), "alice", true},
		{"257 bytes", strings.Repeat("x", 257), "alice", false},
		{"contains username", "my-Alice-password-2026", "alice", false},
		{"invalid utf-8", strings.Repeat("\xff", 20), "alice", false},
		{"random", auth.RandomPassword(), "admin", true},
	}
	for _, c := range cases {
		err := auth.CheckPasswordPolicy("body.password", c.password, c.username)
		if c.ok && err != nil {
			t.Errorf("%s: refused: %v", c.name, err)
		}
		if !c.ok {
			e, _ := errs.As(err)
			if e == nil || e.Kind != errs.Invalid || e.Fields[0].Location != "body.password" || e.Fields[0].Message == "" {
				t.Errorf("%s: err = %v, want Invalid naming body.password", c.name, err)
			}
		}
	}
	if p := auth.RandomPassword(); len(p) != 20 || strings.ContainsAny(p, "0O1lI") {
		t.Errorf("RandomPassword = %q, want 20 unambiguous characters", p)
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		if u.ID == 0 || u.DisplayName != "alice" || u.Version != 1 || u.Admin || !u.CreatedAt.Equal(t0) {
			t.Fatalf("user = %+v", u)
		}
		_, err := f.s.CreateUser(f.ctx, auth.NewUser{Username: "alice", Password: goodPassword})
		wantKind(t, err, errs.Conflict, "duplicate username")
		_, err = f.s.CreateUser(f.ctx, auth.NewUser{Username: "Bob Smith", Password: goodPassword})
		wantField(t, err, "body.username")
		_, err = f.s.CreateUser(f.ctx, auth.NewUser{Username: "bob", Password: "short"})
		wantField(t, err, "body.password")
		if n := f.countAudit(t, "user.create"); n != 1 {
			t.Fatalf("user.create audit rows = %d, want 1", n)
		}
		row := f.lastAudit(t, 1)[0]
		if row.ActorName != "cli:test" || row.ObjectID != idStr(u.ID) || strings.Contains(row.Changes, goodPassword) {
			t.Fatalf("audit row = %+v", row.Row)
		}
	})
}

func TestLoginAndLockout(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")

		tok, got, err := f.s.Login(f.ctx, "  Alice ", goodPassword, "10.0.0.1", "test")
		if err != nil || tok == "" || got.ID != u.ID {
			t.Fatalf("login: %q %+v %v", tok, got, err)
		}
		p, err := f.s.SessionPrincipal(f.ctx, tok)
		if err != nil || p.UserID != u.ID || p.Username != "alice" || p.SessionID == 0 || p.TokenID != 0 {
			t.Fatalf("session principal: %+v, %v", p, err)
		}
		if u2, _ := f.s.GetUser(f.ctx, u.ID); !u2.LastLoginAt.Equal(t0) {
			t.Fatalf("last login = %v, want %v", u2.LastLoginAt, t0)
		}

		_, _, errUnknown := f.s.Login(f.ctx, "mallory", goodPassword, "", "")
		wantKind(t, errUnknown, errs.Unauthenticated, "unknown user")

		for i := 1; i <= 5; i++ {
			_, _, err := f.s.Login(f.ctx, "alice", "wrong password number "+idStr(int64(i)), "", "")
			wantKind(t, err, errs.Unauthenticated, "wrong password")
			if err.Error() != errUnknown.Error() {
				t.Fatalf("wrong password says %q, unknown user says %q: they must not differ", err, errUnknown)
			}
		}
		locked, _ := f.s.GetUser(f.ctx, u.ID)
		if want := t0.Add(lockFor); !locked.LockedUntil.Equal(want) {
			t.Fatalf("locked until %v, want %v", locked.LockedUntil, want)
		}
		if n := f.countAudit(t, "auth.lockout"); n != 1 {
			t.Fatalf("auth.lockout audit rows = %d, want 1", n)
		}
		_, _, err = f.s.Login(f.ctx, "alice", goodPassword, "", "")
		wantKind(t, err, errs.Unauthenticated, "right password while locked")

		f.clk.Advance(lockFor - time.Second)
		_, _, err = f.s.Login(f.ctx, "alice", goodPassword, "", "")
		wantKind(t, err, errs.Unauthenticated, "right password a second before the lock ends")

		f.clk.Advance(time.Second)
		if _, _, err := f.s.Login(f.ctx, "alice", goodPassword, "", ""); err != nil {
			t.Fatalf("login after the lockout: %v", err)
		}
		// A success resets the count: four more failures do not lock.
		for range 4 {
			_, _, _ = f.s.Login(f.ctx, "alice", "still the wrong one", "", "")
		}
		if _, _, err := f.s.Login(f.ctx, "alice", goodPassword, "", ""); err != nil {
			t.Fatalf("login after 4 failures following a success: %v", err)
		}

		var reasons []string
		items, _, _ := audit.List(f.ctx, d, audit.Filter{Action: "auth.login.failed", Limit: 100})
		for _, it := range items {
			reasons = append(reasons, it.ChangeList[0].New.(string))
		}
		joined := strings.Join(reasons, ",")
		for _, want := range []string{"unknown user", "wrong password", "account locked"} {
			if !strings.Contains(joined, want) {
				t.Errorf("failed-login audit reasons %v lack %q", reasons, want)
			}
		}
		if n := f.countAudit(t, "auth.login"); n != 3 {
			t.Errorf("auth.login audit rows = %d, want 3", n)
		}
	})
}

func TestDisabledUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		sess, _, err := f.s.Login(f.ctx, "alice", goodPassword, "", "")
		if err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.s.CreateToken(f.ctx, u.ID, "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.s.DisableUser(f.ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		_, _, err = f.s.Login(f.ctx, "alice", goodPassword, "", "")
		wantKind(t, err, errs.Unauthenticated, "login of a disabled user")
		_, err = f.s.SessionPrincipal(f.ctx, sess)
		wantKind(t, err, errs.Unauthenticated, "session of a disabled user")
		_, err = f.s.TokenPrincipal(f.ctx, tok)
		wantKind(t, err, errs.Unauthenticated, "token of a disabled user")
		_, _, err = f.s.CreateToken(f.ctx, u.ID, "more", 0)
		wantKind(t, err, errs.Conflict, "new token for a disabled user")
		if n := f.countAudit(t, "user.update"); n != 1 {
			t.Fatalf("user.update audit rows = %d, want 1", n)
		}
	})
}

func TestSessionLimits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		login := func() string {
			t.Helper()
			tok, _, err := f.s.Login(f.ctx, "alice", goodPassword, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		alive := func(tok string) bool {
			_, err := f.s.SessionPrincipal(f.ctx, tok)
			if err != nil && !errs.Is(err, errs.Unauthenticated) {
				t.Fatal(err)
			}
			return err == nil
		}

		t.Run("idle", func(t *testing.T) {
			tok := login()
			for range 3 { // each request within the idle limit keeps it alive
				f.clk.Advance(idle - time.Minute)
				if !alive(tok) {
					t.Fatal("session ended although used within the idle limit")
				}
			}
			f.clk.Advance(idle)
			if alive(tok) {
				t.Fatal("session survived the idle limit")
			}
		})

		t.Run("absolute", func(t *testing.T) {
			tok := login()
			for elapsed := 10 * time.Minute; elapsed < absolute; elapsed += 10 * time.Minute {
				f.clk.Advance(10 * time.Minute)
				if !alive(tok) {
					t.Fatalf("session ended after %v of activity", elapsed)
				}
			}
			f.clk.Advance(10 * time.Minute)
			if alive(tok) {
				t.Fatalf("session survived the absolute limit of %v", absolute)
			}
		})

		t.Run("revoke", func(t *testing.T) {
			a, b, c := login(), login(), login()
			pa, _ := f.s.SessionPrincipal(f.ctx, a)
			live, err := f.s.Sessions(f.ctx, u.ID, pa.SessionID)
			if err != nil || len(live) != 3 || !live[2].Current || live[0].Current {
				t.Fatalf("sessions = %+v, %v", live, err)
			}
			if err := f.s.RevokeSession(f.ctx, u.ID, pa.SessionID); err != nil {
				t.Fatal(err)
			}
			if alive(a) || !alive(b) || !alive(c) {
				t.Fatal("revoking one session must end exactly that one")
			}
			wantKind(t, f.s.RevokeSession(f.ctx, u.ID, pa.SessionID), errs.NotFound, "revoke a revoked session")
			other := f.user(t, "bob")
			pb, _ := f.s.SessionPrincipal(f.ctx, b)
			wantKind(t, f.s.RevokeSession(f.ctx, other.ID, pb.SessionID), errs.NotFound, "revoke another user's session")

			pc, _ := f.s.SessionPrincipal(f.ctx, c)
			if err := f.s.Logout(f.ctx, pc); err != nil || alive(c) {
				t.Fatalf("logout: %v", err)
			}
			e := login()
			if err := f.s.RevokeAllSessions(f.ctx, u.ID); err != nil {
				t.Fatal(err)
			}
			if alive(b) || alive(e) {
				t.Fatal("sign out everywhere left a session alive")
			}
			if live, _ := f.s.Sessions(f.ctx, u.ID, 0); len(live) != 0 {
				t.Fatalf("sessions after revoke-all = %+v", live)
			}
			for action, want := range map[string]int64{"auth.session.revoke": 1, "auth.logout": 1, "auth.session.revoke_all": 1} {
				if n := f.countAudit(t, action); n != want {
					t.Errorf("%s audit rows = %d, want %d", action, n, want)
				}
			}
		})

		for _, bad := range []string{"", "nonsense", strings.Repeat("a", 201)} {
			if alive(bad) {
				t.Errorf("session token %q accepted", bad)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		bob := f.user(t, "bob")
		resolve := func(secret string) error {
			p, err := f.s.TokenPrincipal(f.ctx, secret)
			if err == nil && (p.UserID != u.ID || p.TokenID == 0 || p.SessionID != 0) {
				t.Fatalf("token principal = %+v", p)
			}
			return err
		}

		day, tk, err := f.s.CreateToken(f.ctx, u.ID, " ci ", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(day, auth.TokenPrefix) || tk.Prefix != day[:12] || tk.Name != "ci" ||
			!tk.ExpiresAt.Equal(t0.Add(24*time.Hour)) || !tk.Active(t0) {
			t.Fatalf("token %q = %+v", day, tk)
		}
		forever, _, err := f.s.CreateToken(f.ctx, u.ID, "forever", 0)
		if err != nil {
			t.Fatal(err)
		}
		revoked, rt, _ := f.s.CreateToken(f.ctx, u.ID, "short-lived", time.Hour)

		if err := resolve(day); err != nil {
			t.Fatalf("fresh token: %v", err)
		}
		wantKind(t, f.s.RevokeToken(f.ctx, bob.ID, rt.Prefix), errs.NotFound, "revoke another user's token")
		if err := f.s.RevokeToken(f.ctx, u.ID, rt.Prefix); err != nil {
			t.Fatal(err)
		}
		wantKind(t, resolve(revoked), errs.Unauthenticated, "revoked token")
		wantKind(t, f.s.RevokeToken(f.ctx, 0, rt.Prefix), errs.NotFound, "revoke twice")

		f.clk.Advance(24*time.Hour - time.Millisecond)
		if err := resolve(day); err != nil {
			t.Fatalf("token a millisecond before expiry: %v", err)
		}
		f.clk.Advance(time.Millisecond)
		wantKind(t, resolve(day), errs.Unauthenticated, "expired token")

		f.clk.Advance(10 * 365 * 24 * time.Hour)
		if err := resolve(forever); err != nil {
			t.Fatalf("token without expiry after ten years: %v", err)
		}

		for _, bad := range []string{"", "stw_", "stw_unknown", day + "x", strings.TrimPrefix(forever, "stw_"), "Bearer " + forever} {
			wantKind(t, resolve(bad), errs.Unauthenticated, "token "+bad)
		}
		_, _, err = f.s.CreateToken(f.ctx, u.ID, "neg", -time.Second)
		wantField(t, err, "body.expiresInDays")
		_, _, err = f.s.CreateToken(f.ctx, u.ID, strings.Repeat("n", 101), 0)
		wantField(t, err, "body.name")
		_, _, err = f.s.CreateToken(f.ctx, 999999, "ghost", 0)
		wantKind(t, err, errs.NotFound, "token for a missing user")

		list, err := f.s.Tokens(f.ctx, u.ID)
		if err != nil || len(list) != 3 || list[0].Name != "short-lived" || list[0].RevokedAt.IsZero() || list[2].Name != "ci" {
			t.Fatalf("tokens = %+v, %v", list, err)
		}
		if !list[1].LastUsedAt.After(t0) {
			t.Errorf("last used of the forever token = %v, want it touched", list[1].LastUsedAt)
		}
		// By id as well as by prefix.
		if err := f.s.RevokeToken(f.ctx, 0, idStr(list[1].ID)); err != nil {
			t.Fatal(err)
		}
		wantKind(t, resolve(forever), errs.Unauthenticated, "token revoked by id")
		if n := f.countAudit(t, "token.create"); n != 3 {
			t.Errorf("token.create audit rows = %d, want 3", n)
		}
		if n := f.countAudit(t, "token.revoke"); n != 2 {
			t.Errorf("token.revoke audit rows = %d, want 2", n)
		}
	})
}

func TestEnsureAdminOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		type result struct {
			pw      string
			created bool
			err     error
		}
		const nodes = 4
		results := make(chan result, nodes)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for range nodes {
			s := newService(d, f.clk) // one service per node, sharing the database
			wg.Go(func() {
				<-start
				pw, created, err := s.EnsureAdmin(f.ctx)
				results <- result{pw, created, err}
			})
		}
		close(start)
		wg.Wait()
		close(results)
		var password string
		created := 0
		for r := range results {
			switch {
			case r.err != nil:
				t.Errorf("EnsureAdmin: %v", r.err)
			case r.created:
				created++
				password = r.pw
			case r.pw != "":
				t.Errorf("a caller that did not create the admin got a password")
			}
		}
		if created != 1 || len(password) != 20 {
			t.Fatalf("%d callers created the admin (password %q), want exactly 1", created, password)
		}
		var users int64
		if err := d.QueryRowContext(f.ctx, `SELECT COUNT(*) FROM users`).Scan(&users); err != nil || users != 1 {
			t.Fatalf("users = %d, %v", users, err)
		}
		_, admin, err := f.s.Login(f.ctx, "admin", password, "", "")
		if err != nil || !admin.Admin || !admin.MustChangePassword {
			t.Fatalf("admin login: %+v, %v", admin, err)
		}
		pw, again, err := f.s.EnsureAdmin(f.ctx)
		if err != nil || again || pw != "" {
			t.Fatalf("second EnsureAdmin = %q, %v, %v; want nothing", pw, again, err)
		}
		if n := f.countAudit(t, "user.create"); n != 1 {
			t.Fatalf("user.create audit rows = %d, want 1", n)
		}
	})
}

// AC-7: however the guesses arrive, no more than LockoutThreshold wrong passwords
// are tried before the account locks.
func TestLockoutHoldsUnderConcurrentGuesses(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() { _, _, _ = f.s.Login(f.ctx, "alice", "wrong guess number "+idStr(int64(i)), "", "") })
		}
		wg.Wait()
		items, _, err := audit.List(f.ctx, d, audit.Filter{Action: "auth.login.failed", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		tried := 0
		for _, it := range items {
			if it.ChangeList[0].New == "wrong password" {
				tried++
			}
		}
		if tried > 5 {
			t.Errorf("%d wrong passwords were tried; the lockout threshold is 5", tried)
		}
		if n := f.countAudit(t, "auth.lockout"); n != 1 {
			t.Errorf("%d lockouts recorded, want 1", n)
		}
		if got, _ := f.s.GetUser(f.ctx, u.ID); !got.LockedUntil.After(t0) {
			t.Errorf("account not locked after 20 wrong passwords")
		}
	})
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }
