package auth_test

import (
	"testing"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
)

func TestPasswordChanges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		const next = "a different long passphrase"
		s1, _, _ := f.s.Login(f.ctx, "alice", goodPassword, "", "")
		s2, _, _ := f.s.Login(f.ctx, "alice", goodPassword, "", "")
		p1, _ := f.s.SessionPrincipal(f.ctx, s1)

		wantField(t, f.s.ChangePassword(f.ctx, p1, "not my password", next), "body.currentPassword")
		wantField(t, f.s.ChangePassword(f.ctx, p1, goodPassword, goodPassword), "body.newPassword")
		wantField(t, f.s.ChangePassword(f.ctx, p1, goodPassword, "short"), "body.newPassword")
		wantField(t, f.s.ChangePassword(f.ctx, p1, goodPassword, "xx-alice-xx-alice-xx"), "body.newPassword")
		if err := f.s.ChangePassword(f.ctx, p1, goodPassword, next); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SessionPrincipal(f.ctx, s1); err != nil {
			t.Fatalf("the session that changed the password ended: %v", err)
		}
		if _, err := f.s.SessionPrincipal(f.ctx, s2); err == nil {
			t.Fatal("the other session survived a password change")
		}
		if _, _, err := f.s.Login(f.ctx, "alice", goodPassword, "", ""); err == nil {
			t.Fatal("the old password still works")
		}

		wantField(t, f.s.SetPassword(f.ctx, u.ID, "short", true), "body.password")
		wantKind(t, f.s.SetPassword(f.ctx, 999999, goodPassword, true), errs.NotFound, "reset a missing user")
		if err := f.s.SetPassword(f.ctx, u.ID, goodPassword, true); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.SessionPrincipal(f.ctx, s1); err == nil {
			t.Fatal("an administrator's reset left a session alive")
		}
		tok, got, err := f.s.Login(f.ctx, "alice", goodPassword, "", "")
		if err != nil || !got.MustChangePassword {
			t.Fatalf("login after reset: %+v %v", got, err)
		}
		if p, _ := f.s.SessionPrincipal(f.ctx, tok); !p.MustChangePassword {
			t.Fatal("principal does not carry must-change-password")
		}
		if f.countAudit(t, "user.password.change") != 1 || f.countAudit(t, "user.password.reset") != 1 {
			t.Fatal("password change and reset must each be audited once")
		}
	})
}

// An administrator's password reset also lifts a lockout.
func TestResetPasswordUnlocks(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		for range 5 {
			_, _, _ = f.s.Login(f.ctx, "alice", "not the password at all", "", "")
		}
		if _, _, err := f.s.Login(f.ctx, "alice", goodPassword, "", ""); err == nil {
			t.Fatal("not locked after 5 failures")
		}
		if err := f.s.SetPassword(f.ctx, u.ID, "a brand new passphrase", false); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.s.Login(f.ctx, "alice", "a brand new passphrase", "", ""); err != nil {
			t.Fatalf("login after the reset: %v", err)
		}
	})
}

func TestUpdateUser(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		u := f.user(t, "alice")
		name, bad, yes := " Alice Liddell ", "not-an-address", true
		_, err := f.s.UpdateUser(f.ctx, u.ID, u.Version, auth.UserUpdate{Email: &bad})
		wantField(t, err, "body.email")
		got, err := f.s.UpdateUser(f.ctx, u.ID, u.Version, auth.UserUpdate{DisplayName: &name, Admin: &yes})
		if err != nil || got.DisplayName != "Alice Liddell" || !got.Admin || got.Version != 2 || got.Email != u.Email {
			t.Fatalf("update: %+v, %v", got, err)
		}
		_, err = f.s.UpdateUser(f.ctx, u.ID, u.Version, auth.UserUpdate{Admin: &yes})
		wantKind(t, err, errs.PreconditionFailed, "stale version")
		_, err = f.s.UpdateUser(f.ctx, 999999, 1, auth.UserUpdate{})
		wantKind(t, err, errs.NotFound, "missing user")
		row := f.lastAudit(t, 1)[0]
		if row.Action != "user.update" || len(row.ChangeList) != 2 || row.ChangeList[0].Field != "displayName" || row.ChangeList[1].Field != "admin" {
			t.Fatalf("audit row %s changes %+v", row.Action, row.ChangeList)
		}
	})
}
