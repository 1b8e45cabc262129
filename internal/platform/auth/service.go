package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// Config holds the account-security settings.
type Config struct {
	// SessionIdle ends a session after this long without a request (AC-11).
	SessionIdle time.Duration
	// SessionMax ends a session this long after sign-in, whatever its use (AC-12).
	SessionMax time.Duration
	// LockoutThreshold is how many failed logins in a row lock an account (AC-7).
	LockoutThreshold int
	// LockoutDuration is how long a locked account stays locked.
	LockoutDuration time.Duration
}

// DefaultConfig is what the server uses without flags.
func DefaultConfig() Config {
	return Config{SessionIdle: 15 * time.Minute, SessionMax: 12 * time.Hour, LockoutThreshold: 5, LockoutDuration: 15 * time.Minute}
}

// Service is the use cases of accounts, sessions, tokens, teams and roles.
type Service struct {
	db     *db.DB
	trail  *audit.Trail
	events *outbox.Outbox
	clock  clock.Clock
	hasher *Hasher
	cfg    Config
}

// NewService wires the account service.
func NewService(d *db.DB, trail *audit.Trail, events *outbox.Outbox, c clock.Clock, h *Hasher, cfg Config) *Service {
	def := DefaultConfig()
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = def.SessionIdle
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = def.SessionMax
	}
	if cfg.LockoutThreshold <= 0 {
		cfg.LockoutThreshold = def.LockoutThreshold
	}
	if cfg.LockoutDuration <= 0 {
		cfg.LockoutDuration = def.LockoutDuration
	}
	return &Service{db: d, trail: trail, events: events, clock: c, hasher: h, cfg: cfg}
}

// Config returns the service's account-security settings.
func (s *Service) Config() Config { return s.cfg }

func (s *Service) now() int64 { return s.clock.Now().UnixMilli() }

func hashSecret(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

func randomSecret(prefix string) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// ---- users ----

// NewUser is the input for creating an account.
type NewUser struct {
	Username           string
	DisplayName        string
	Email              string
	Password           string
	Admin              bool
	MustChangePassword bool
	// ManagerID names the user's manager, an existing account; 0 for none.
	ManagerID int64
}

const userCols = `id, username, display_name, email, password_hash, is_admin, disabled, must_change_password,
	failed_logins, locked_until, last_login_at, created_at, updated_at, version, COALESCE(manager_id, 0)`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var locked, last, created, updated int64
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Email, &u.passwordHash, &u.Admin, &u.Disabled,
		&u.MustChangePassword, &u.failedLogins, &locked, &last, &created, &updated, &u.Version, &u.ManagerID)
	u.LockedUntil, u.LastLoginAt, u.CreatedAt, u.UpdatedAt = db.Time(locked), db.Time(last), db.Time(created), db.Time(updated)
	return u, err
}

// CreateUser creates a local account.
func (s *Service) CreateUser(ctx context.Context, in NewUser) (u User, err error) {
	defer errs.Wrap(&err, "create user %q", in.Username)
	in.Username = strings.TrimSpace(in.Username)
	if err := ValidateUsername("body.username", in.Username); err != nil {
		return u, err
	}
	if err := CheckPasswordPolicy("body.password", in.Password, in.Username); err != nil {
		return u, err
	}
	if in.DisplayName == "" {
		in.DisplayName = in.Username
	}
	hash, err := s.hasher.Hash(ctx, in.Password)
	if err != nil {
		return u, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		var e error
		u, e = s.insertUser(ctx, tx, in, hash)
		return e
	})
	return u, err
}

func (s *Service) insertUser(ctx context.Context, tx *db.Tx, in NewUser, hash string) (User, error) {
	if in.ManagerID != 0 {
		if err := checkManager(ctx, tx, 0, in.ManagerID); err != nil {
			return User{}, err
		}
	}
	now := s.now()
	u, err := scanUser(tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, email, password_hash, is_admin,
		must_change_password, manager_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING `+userCols,
		in.Username, in.DisplayName, in.Email, hash, in.Admin, in.MustChangePassword, db.NullID(in.ManagerID), now, now))
	if db.IsUniqueViolation(err) {
		return u, errs.E(errs.Conflict, "a user named %q exists", in.Username)
	}
	if err != nil {
		return u, err
	}
	s.trail.Record(ctx, tx, audit.Entry{Action: "user.create", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10),
		Changes: []audit.Change{{Field: "username", New: u.Username}, {Field: "displayName", New: u.DisplayName},
			{Field: "email", New: u.Email}, {Field: "admin", New: u.Admin}, {Field: "managerId", New: u.ManagerID},
			{Field: "password", New: "(set)"}}})
	return u, s.events.Emit(ctx, tx, outbox.Event{Type: "user.created", Subject: "user/" + strconv.FormatInt(u.ID, 10),
		Data: map[string]any{"id": u.ID, "username": u.Username}})
}

// EnsureAdmin creates the "admin" account with a one-time password when no account
// exists yet. Only the caller that created it gets the password back.
func (s *Service) EnsureAdmin(ctx context.Context) (password string, created bool, err error) {
	defer errs.Wrap(&err, "ensure first administrator")
	var n int64
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return "", false, err
	}
	if n > 0 {
		return "", false, nil
	}
	password = RandomPassword()
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return "", false, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		// Re-check inside the write transaction: another node may have won.
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if tx.Engine() == db.Postgres {
			if _, err := tx.ExecContext(ctx, `LOCK TABLE users IN EXCLUSIVE MODE`); err != nil {
				return err
			}
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil || n > 0 {
				return err
			}
		}
		_, err := s.insertUser(ctx, tx, NewUser{Username: "admin", DisplayName: "Administrator", Admin: true, MustChangePassword: true}, hash)
		if err == nil {
			created = true
		}
		return err
	})
	if !created {
		password = ""
	}
	return password, created, err
}

// GetUser returns the account with id.
func (s *Service) GetUser(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return u, errs.E(errs.NotFound, "no user with id %d", id)
	}
	if err != nil {
		return u, fmt.Errorf("get user %d: %w", id, err)
	}
	return u, nil
}

// UserByName returns the account named username.
func (s *Service) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if db.IsNoRows(err) {
		return u, errs.E(errs.NotFound, "no user named %q", username)
	}
	if err != nil {
		return u, fmt.Errorf("get user %q: %w", username, err)
	}
	return u, nil
}

// SetPassword sets a user's password (an administrator's reset), optionally
// forcing a change at next login, and ends the user's sessions.
func (s *Service) SetPassword(ctx context.Context, userID int64, password string, mustChange bool) (err error) {
	defer errs.Wrap(&err, "set password of user %d", userID)
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return err
	}
	if err := CheckPasswordPolicy("body.password", password, u.Username); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change_password = ?, failed_logins = 0,
			locked_until = 0, updated_at = ?, version = version + 1 WHERE id = ?`, hash, mustChange, now, userID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, now, userID); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "user.password.reset", ObjectType: "user", ObjectID: strconv.FormatInt(userID, 10),
			Changes: []audit.Change{{Field: "password", New: "(changed)"}, {Field: "mustChangePassword", Old: u.MustChangePassword, New: mustChange}}})
		return nil
	})
}

// ChangePassword lets a signed-in user change their own password. The user's other sessions end.
func (s *Service) ChangePassword(ctx context.Context, p *Principal, current, next string) (err error) {
	defer errs.Wrap(&err, "change password of user %d", p.UserID)
	u, err := s.GetUser(ctx, p.UserID)
	if err != nil {
		return err
	}
	ok, err := s.hasher.Verify(ctx, u.passwordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		return errs.Field("body.currentPassword", "the current password is wrong", nil)
	}
	if err := CheckPasswordPolicy("body.newPassword", next, u.Username); err != nil {
		return err
	}
	if current == next {
		return errs.Field("body.newPassword", "the new password must differ from the current one", nil)
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, must_change_password = FALSE, updated_at = ?,
			version = version + 1 WHERE id = ?`, hash, now, u.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0 AND id <> ?`,
			now, u.ID, p.SessionID); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "user.password.change", ObjectType: "user", ObjectID: strconv.FormatInt(u.ID, 10),
			Changes: []audit.Change{{Field: "password", New: "(changed)"}}})
		return nil
	})
}

// UserUpdate holds the fields of a user an administrator may change; nil leaves a field as it is.
type UserUpdate struct {
	DisplayName *string
	Email       *string
	Admin       *bool
	Disabled    *bool
	// ManagerID names the user's manager; 0 removes it. The manager must be
	// another active account that the user does not manage, directly or not.
	ManagerID *int64
}

// UpdateUser changes a user if version is still current.
func (s *Service) UpdateUser(ctx context.Context, id, version int64, in UserUpdate) (u User, err error) {
	defer errs.Wrap(&err, "update user %d", id)
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
		if db.IsNoRows(err) {
			return errs.E(errs.NotFound, "no user with id %d", id)
		}
		if err != nil {
			return err
		}
		if old.Version != version {
			return errs.E(errs.PreconditionFailed, "user %d changed since version %d (now %d)", id, version, old.Version)
		}
		u = old
		if in.DisplayName != nil {
			u.DisplayName = strings.TrimSpace(*in.DisplayName)
		}
		if in.Email != nil {
			u.Email = strings.TrimSpace(*in.Email)
			if u.Email != "" && !strings.Contains(u.Email, "@") {
				return errs.Field("body.email", "not an e-mail address", u.Email)
			}
		}
		if in.Admin != nil {
			u.Admin = *in.Admin
		}
		if in.Disabled != nil {
			u.Disabled = *in.Disabled
		}
		if in.ManagerID != nil && *in.ManagerID != old.ManagerID {
			if err := checkManager(ctx, tx, id, *in.ManagerID); err != nil {
				return err
			}
			u.ManagerID = *in.ManagerID
		}
		now := s.now()
		u, err = scanUser(tx.QueryRowContext(ctx, `UPDATE users SET display_name = ?, email = ?, is_admin = ?, disabled = ?,
			manager_id = ?, updated_at = ?, version = version + 1 WHERE id = ? AND version = ? RETURNING `+userCols,
			u.DisplayName, u.Email, u.Admin, u.Disabled, db.NullID(u.ManagerID), now, id, version))
		if db.IsNoRows(err) {
			return errs.E(errs.PreconditionFailed, "user %d changed concurrently", id)
		}
		if err != nil {
			return err
		}
		if u.Disabled && !old.Disabled {
			if err := s.revokeAllTx(ctx, tx, id, now); err != nil {
				return err
			}
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "user.update", ObjectType: "user", ObjectID: strconv.FormatInt(id, 10),
			Changes: audit.Diff([]string{"displayName", "email", "admin", "disabled", "managerId"},
				map[string]any{"displayName": old.DisplayName, "email": old.Email, "admin": old.Admin, "disabled": old.Disabled,
					"managerId": old.ManagerID},
				map[string]any{"displayName": u.DisplayName, "email": u.Email, "admin": u.Admin, "disabled": u.Disabled,
					"managerId": u.ManagerID})})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "user.updated", Subject: "user/" + strconv.FormatInt(id, 10), Data: map[string]any{"id": id}})
	})
	return u, err
}

// checkManager refuses a manager for user (0 for an account not yet created)
// that is not another active account, or that user already manages, directly
// or through others: the chain of managers never loops. 0 (no manager) passes.
func checkManager(ctx context.Context, tx *db.Tx, user, manager int64) error {
	const field = "body.managerId"
	switch {
	case manager == 0:
		return nil
	case manager < 0:
		return errs.Field(field, "not a user id", manager)
	case manager == user:
		return errs.Field(field, "a user cannot be their own manager", manager)
	}
	var disabled bool
	err := tx.QueryRowContext(ctx, `SELECT disabled FROM users WHERE id = ?`, manager).Scan(&disabled)
	switch {
	case db.IsNoRows(err):
		return errs.Field(field, "no such user", manager)
	case err != nil:
		return fmt.Errorf("check manager %d: %w", manager, err)
	case disabled:
		return errs.Field(field, "the account is disabled", manager)
	}
	if user == 0 {
		return nil
	}
	// Walk up from the new manager; meeting the user means the user manages them.
	var n int
	if err := tx.QueryRowContext(ctx, `WITH RECURSIVE chain(id) AS (
			SELECT CAST(? AS BIGINT)
			UNION
			SELECT u.manager_id FROM users u JOIN chain c ON u.id = c.id WHERE u.manager_id IS NOT NULL)
		SELECT COUNT(*) FROM chain WHERE id = ?`, manager, user).Scan(&n); err != nil {
		return fmt.Errorf("check the chain of managers: %w", err)
	}
	if n > 0 {
		return errs.Field(field, "the user manages this person, directly or through others: managers cannot form a loop", manager)
	}
	return nil
}

// DisableUser disables an account and ends all its sessions and tokens.
func (s *Service) DisableUser(ctx context.Context, id int64) error {
	u, err := s.GetUser(ctx, id)
	if err != nil {
		return err
	}
	t := true
	_, err = s.UpdateUser(ctx, id, u.Version, UserUpdate{Disabled: &t})
	return err
}

func (s *Service) revokeAllTx(ctx context.Context, tx *db.Tx, userID, now int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, now, userID); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at = 0`, now, userID); err != nil {
		return fmt.Errorf("revoke tokens: %w", err)
	}
	return nil
}
