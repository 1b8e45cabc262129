package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// errBadLogin is the one message every failed login gets, so that it reveals
// neither whether the account exists nor why the login failed.
var errBadLogin = errs.E(errs.Unauthenticated, "invalid username or password, or the account is locked or disabled")

// Login checks a username and password and opens a session. It enforces the
// lockout (AC-7) and audits success, failure and lockout.
func (s *Service) Login(ctx context.Context, username, password, clientAddr, userAgent string) (token string, u User, err error) {
	username = strings.ToLower(strings.TrimSpace(username))
	if len(username) > 63 || len(password) > MaxPasswordLength {
		return "", u, errBadLogin
	}
	u, err = scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if err != nil && !db.IsNoRows(err) {
		return "", u, fmt.Errorf("login: %w", err)
	}
	found := err == nil
	now := s.clock.Now()
	// Reserve the attempt before checking the password: the counter is raised
	// atomically and only while the account is not locked, so a burst of parallel
	// guesses cannot all be evaluated (AC-7).
	var attempt int64
	if found && !u.Disabled {
		err := s.db.InTx(ctx, func(tx *db.Tx) error {
			return tx.QueryRowContext(ctx, `UPDATE users SET failed_logins = failed_logins + 1
				WHERE id = ? AND locked_until <= ? RETURNING failed_logins`, u.ID, now.UnixMilli()).Scan(&attempt)
		})
		if err != nil && !db.IsNoRows(err) {
			return "", u, fmt.Errorf("login: %w", err)
		}
	}
	threshold := int64(s.cfg.LockoutThreshold)
	hash := u.passwordHash
	if attempt == 0 || attempt > threshold {
		hash = "" // not evaluated: this attempt is refused whatever the password; the hash still runs for equal timing
	}
	ok, verr := s.hasher.Verify(ctx, hash, password)
	if verr != nil {
		return "", u, verr
	}
	actx := audit.WithActor(ctx, audit.Actor{Type: "user", ID: u.ID, Name: username})
	fail := func(reason string) error {
		e := audit.Entry{Action: "auth.login.failed", ObjectType: "user", ObjectID: idStr(u.ID),
			Changes: []audit.Change{{Field: "reason", New: reason}}}
		if aerr := s.trail.Append(actx, s.db, e); aerr != nil {
			return aerr
		}
		return errBadLogin
	}
	switch {
	case !found:
		return "", u, fail("unknown user")
	case u.Disabled:
		return "", u, fail("account disabled")
	case attempt == 0:
		return "", u, fail("account locked")
	case !ok || attempt > threshold:
		err := s.db.InTx(actx, func(tx *db.Tx) error {
			reason := "wrong password"
			if attempt > threshold {
				reason = "refused unchecked: too many attempts at once"
			}
			s.trail.Record(actx, tx, audit.Entry{Action: "auth.login.failed", ObjectType: "user", ObjectID: idStr(u.ID),
				Changes: []audit.Change{{Field: "reason", New: reason}, {Field: "failedLogins", New: attempt}}})
			if attempt < threshold {
				return nil
			}
			until := now.Add(s.cfg.LockoutDuration)
			res, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ? AND locked_until <= ?`,
				until.UnixMilli(), u.ID, now.UnixMilli())
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				s.trail.Record(actx, tx, audit.Entry{Action: "auth.lockout", ObjectType: "user", ObjectID: idStr(u.ID),
					Changes: []audit.Change{{Field: "lockedUntil", New: until.Format(time.RFC3339)}}})
			}
			return nil
		})
		if err != nil {
			return "", u, fmt.Errorf("record failed login: %w", err)
		}
		return "", u, errBadLogin
	}
	token = randomSecret("")
	err = s.db.InTx(actx, func(tx *db.Tx) error {
		n := now.UnixMilli()
		// Only while still unlocked: a lockout set by a parallel guess stands.
		res, err := tx.ExecContext(ctx, `UPDATE users SET failed_logins = 0, last_login_at = ? WHERE id = ? AND locked_until <= ?`, n, u.ID, n)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return errBadLogin
		}
		var sid int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, client_addr, user_agent)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, hashSecret(token), u.ID, n, n, now.Add(s.cfg.SessionMax).UnixMilli(),
			clientAddr, truncate(userAgent, 300)).Scan(&sid); err != nil {
			return err
		}
		s.trail.Record(actx, tx, audit.Entry{Action: "auth.login", ObjectType: "session", ObjectID: idStr(sid),
			Changes: []audit.Change{{Field: "user", New: username}}})
		return nil
	})
	if errors.Is(err, errBadLogin) {
		return "", u, err
	}
	if err != nil {
		return "", u, fmt.Errorf("open session: %w", err)
	}
	return token, u, nil
}

func idStr(id int64) string { return strconv.FormatInt(id, 10) }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// touchEvery bounds how often a session's last-seen time is written.
const touchEvery = 30 * time.Second

// SessionPrincipal resolves a session cookie to its principal, enforcing the
// idle and absolute limits. An unknown, revoked or expired session is Unauthenticated.
func (s *Service) SessionPrincipal(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > 200 {
		return nil, errs.E(errs.Unauthenticated, "no session")
	}
	var p Principal
	var lastSeen, expires, revoked int64
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT s.id, s.last_seen_at, s.expires_at, s.revoked_at, u.id, u.username, u.display_name,
		u.is_admin, u.disabled, u.must_change_password FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?`,
		hashSecret(token)).Scan(&p.SessionID, &lastSeen, &expires, &revoked, &p.UserID, &p.Username, &p.DisplayName,
		&p.Admin, &disabled, &p.MustChangePassword)
	if db.IsNoRows(err) {
		return nil, errs.E(errs.Unauthenticated, "the session has ended")
	}
	if err != nil {
		return nil, fmt.Errorf("resolve session: %w", err)
	}
	now := s.now()
	if revoked != 0 || disabled || now >= expires || now-lastSeen >= s.cfg.SessionIdle.Milliseconds() {
		return nil, errs.E(errs.Unauthenticated, "the session has ended")
	}
	if now-lastSeen >= touchEvery.Milliseconds() {
		if _, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, now, p.SessionID); err != nil {
			return nil, fmt.Errorf("touch session: %w", err)
		}
	}
	if err := s.loadPermissions(ctx, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, p *Principal) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, s.now(), p.SessionID); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "auth.logout", ObjectType: "session", ObjectID: idStr(p.SessionID)})
		return nil
	})
}

// Sessions lists a user's live sessions, newest first; current marks the caller's own.
func (s *Service) Sessions(ctx context.Context, userID, current int64) ([]Session, error) {
	now := s.now()
	rows, err := s.db.QueryContext(ctx, `SELECT id, user_id, created_at, last_seen_at, expires_at, client_addr, user_agent
		FROM sessions WHERE user_id = ? AND revoked_at = 0 AND expires_at > ? AND last_seen_at > ? ORDER BY id DESC`,
		userID, now, now-s.cfg.SessionIdle.Milliseconds())
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var x Session
		var c, l, e int64
		if err := rows.Scan(&x.ID, &x.UserID, &c, &l, &e, &x.ClientAddr, &x.UserAgent); err != nil {
			return nil, fmt.Errorf("scan session: %w", err)
		}
		x.CreatedAt, x.LastSeenAt, x.ExpiresAt, x.Current = db.Time(c), db.Time(l), db.Time(e), x.ID == current
		out = append(out, x)
	}
	return out, rows.Err()
}

// RevokeSession ends one of a user's sessions.
func (s *Service) RevokeSession(ctx context.Context, userID, sessionID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at = 0`, s.now(), sessionID, userID)
		if err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E(errs.NotFound, "no live session %d", sessionID)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "auth.session.revoke", ObjectType: "session", ObjectID: idStr(sessionID)})
		return nil
	})
}

// RevokeAllSessions ends every session of a user ("sign out everywhere").
func (s *Service) RevokeAllSessions(ctx context.Context, userID int64) error {
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, s.now(), userID)
		if err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		n, _ := res.RowsAffected()
		s.trail.Record(ctx, tx, audit.Entry{Action: "auth.session.revoke_all", ObjectType: "user", ObjectID: idStr(userID),
			Changes: []audit.Change{{Field: "sessions", New: n}}})
		return nil
	})
}

// ---- API tokens ----

// TokenPrefix starts every API token, so that secret scanners can find leaked ones.
const TokenPrefix = "stw_"

// CreateToken issues an API token for a user. The secret is returned once; only its hash is kept.
// A ttl of zero means the token does not expire.
func (s *Service) CreateToken(ctx context.Context, userID int64, name string, ttl time.Duration) (secret string, t Token, err error) {
	defer errs.Wrap(&err, "create token for user %d", userID)
	name = strings.TrimSpace(name)
	if len(name) > 100 {
		return "", t, errs.Field("body.name", "at most 100 characters", nil)
	}
	if ttl < 0 {
		return "", t, errs.Field("body.expiresInDays", "must not be negative", nil)
	}
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return "", t, err
	}
	if u.Disabled {
		return "", t, errs.E(errs.Conflict, "user %q is disabled", u.Username)
	}
	secret = randomSecret(TokenPrefix)
	now := s.clock.Now()
	var exp int64
	if ttl > 0 {
		exp = now.Add(ttl).UnixMilli()
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		t = Token{UserID: userID, Name: name, Prefix: secret[:12], CreatedAt: db.Time(now.UnixMilli()), ExpiresAt: db.Time(exp)}
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (user_id, name, prefix, token_hash, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, userID, name, t.Prefix, hashSecret(secret), now.UnixMilli(), exp).Scan(&t.ID); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "token.create", ObjectType: "token", ObjectID: idStr(t.ID),
			Changes: []audit.Change{{Field: "user", New: u.Username}, {Field: "name", New: name}, {Field: "expiresAt", New: exp}}})
		return nil
	})
	return secret, t, err
}

// TokenPrincipal resolves a bearer token to its principal. A missing, unknown,
// expired or revoked token is Unauthenticated.
func (s *Service) TokenPrincipal(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 200 {
		return nil, errs.E(errs.Unauthenticated, "the token is not valid")
	}
	var p Principal
	var exp, revoked, lastUsed int64
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.username, u.display_name,
		u.is_admin, u.disabled FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`, hashSecret(secret)).
		Scan(&p.TokenID, &exp, &revoked, &lastUsed, &p.UserID, &p.Username, &p.DisplayName, &p.Admin, &disabled)
	if db.IsNoRows(err) {
		return nil, errs.E(errs.Unauthenticated, "the token is not valid")
	}
	if err != nil {
		return nil, fmt.Errorf("resolve token: %w", err)
	}
	now := s.now()
	switch {
	case revoked != 0:
		return nil, errs.E(errs.Unauthenticated, "the token was revoked")
	case exp != 0 && now >= exp:
		return nil, errs.E(errs.Unauthenticated, "the token has expired")
	case disabled:
		return nil, errs.E(errs.Unauthenticated, "the token's user is disabled")
	}
	if now-lastUsed >= touchEvery.Milliseconds() {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, now, p.TokenID); err != nil {
			return nil, fmt.Errorf("touch token: %w", err)
		}
	}
	if err := s.loadPermissions(ctx, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Tokens lists a user's tokens, newest first (userID 0: everyone's).
func (s *Service) Tokens(ctx context.Context, userID int64) ([]Token, error) {
	q := `SELECT id, user_id, name, prefix, created_at, expires_at, last_used_at, revoked_at FROM api_tokens`
	var args []any
	if userID != 0 {
		q += ` WHERE user_id = ?`
		args = append(args, userID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	out := []Token{}
	for rows.Next() {
		var t Token
		var c, e, l, r int64
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &c, &e, &l, &r); err != nil {
			return nil, fmt.Errorf("scan token: %w", err)
		}
		t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt = db.Time(c), db.Time(e), db.Time(l), db.Time(r)
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token. With userID non-zero, only that user's token is matched.
// The token is named by id or by its prefix.
func (s *Service) RevokeToken(ctx context.Context, userID int64, idOrPrefix string) error {
	q := `UPDATE api_tokens SET revoked_at = ? WHERE revoked_at = 0 AND `
	args := []any{s.now()}
	if id, err := strconv.ParseInt(idOrPrefix, 10, 64); err == nil {
		q += `id = ?`
		args = append(args, id)
	} else {
		q += `prefix = ?`
		args = append(args, idOrPrefix)
	}
	if userID != 0 {
		q += ` AND user_id = ?`
		args = append(args, userID)
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, q+` RETURNING id`, args...).Scan(&id)
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "no active token %q", idOrPrefix)
		}
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "token.revoke", ObjectType: "token", ObjectID: idStr(id)})
		return nil
	})
}

func (s *Service) loadPermissions(ctx context.Context, p *Principal) error {
	if p.Admin {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r.permissions FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ?`, p.UserID)
	if err != nil {
		return fmt.Errorf("load permissions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var perms string
		if err := rows.Scan(&perms); err != nil {
			return fmt.Errorf("scan permissions: %w", err)
		}
		p.Permissions = append(p.Permissions, splitPerms(perms)...)
	}
	return rows.Err()
}
