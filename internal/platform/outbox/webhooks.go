package outbox

import (
	"context"
	"crypto/cipher"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/jobs"
)

// Webhook is a subscription that receives matching events as signed CloudEvents.
type Webhook struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	URL         string    `json:"url"`
	EventTypes  []string  `json:"eventTypes"`
	Active      bool      `json:"active"`
	MaxAttempts int       `json:"maxAttempts"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// WebhookInput is what a caller gives to create a webhook.
type WebhookInput struct {
	// Name is unique and at most 100 characters.
	Name string `json:"name"`
	// URL is the absolute http(s) address events are POSTed to.
	URL string `json:"url"`
	// EventTypes lists dotted event types, prefix patterns such as "team.*", or "*"; empty means "*".
	EventTypes []string `json:"eventTypes,omitempty"`
	// Active defaults to true.
	Active *bool `json:"active,omitempty"`
	// MaxAttempts bounds the delivery attempts per event; zero means 8.
	MaxAttempts int `json:"maxAttempts,omitempty"`
}

// WebhookUpdate changes the fields that are not nil.
type WebhookUpdate struct {
	Name        *string   `json:"name,omitempty"`
	URL         *string   `json:"url,omitempty"`
	EventTypes  *[]string `json:"eventTypes,omitempty"`
	Active      *bool     `json:"active,omitempty"`
	MaxAttempts *int      `json:"maxAttempts,omitempty"`
}

// Limits on webhook fields.
const (
	MaxNameLen         = 100
	MaxURLLen          = 2048
	MaxEventTypes      = 50
	MaxAttemptsLimit   = 50
	DefaultMaxAttempts = 8
)

// eventTypePattern accepts "*", dotted names, and dotted prefixes ending in ".*".
var eventTypePattern = regexp.MustCompile(`^(\*|[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*(\.\*)?)$`)

// Validate checks the webhook's fields and reports every broken one.
func (w Webhook) Validate() error {
	var f []errs.FieldError
	switch n := len([]rune(w.Name)); {
	case n == 0:
		f = append(f, errs.FieldError{Location: "body.name", Message: "must not be empty"})
	case n > MaxNameLen:
		f = append(f, errs.FieldError{Location: "body.name", Message: fmt.Sprintf("must be at most %d characters", MaxNameLen)})
	}
	if msg := checkURL(w.URL); msg != "" {
		f = append(f, errs.FieldError{Location: "body.url", Message: msg, Value: w.URL})
	}
	if len(w.EventTypes) > MaxEventTypes {
		f = append(f, errs.FieldError{Location: "body.eventTypes", Message: fmt.Sprintf("must list at most %d types", MaxEventTypes)})
	}
	for i, t := range w.EventTypes {
		if len(t) > 200 || !eventTypePattern.MatchString(t) {
			f = append(f, errs.FieldError{Location: fmt.Sprintf("body.eventTypes[%d]", i),
				Message: `must be a dotted event type such as "team.created", a prefix such as "team.*", or "*"`, Value: t})
		}
	}
	if w.MaxAttempts < 1 || w.MaxAttempts > MaxAttemptsLimit {
		f = append(f, errs.FieldError{Location: "body.maxAttempts", Message: fmt.Sprintf("must be between 1 and %d", MaxAttemptsLimit), Value: w.MaxAttempts})
	}
	return errs.WithFields(f)
}

func checkURL(s string) string {
	if len(s) > MaxURLLen {
		return fmt.Sprintf("must be at most %d characters", MaxURLLen)
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return "must be an absolute http or https URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must use http or https"
	case u.User != nil:
		return "must not contain credentials"
	}
	return ""
}

// normalizeTypes trims and de-duplicates event types, defaulting to "*".
func normalizeTypes(in []string) []string {
	out := make([]string, 0, len(in))
	for _, t := range in {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		out = []string{"*"}
	}
	return out
}

// Matches reports whether the webhook subscribes to events of type typ.
func (w Webhook) Matches(typ string) bool { return matchTypes(w.EventTypes, typ) }

func matchTypes(patterns []string, typ string) bool {
	for _, p := range patterns {
		if p == "*" || p == typ {
			return true
		}
		if prefix, ok := strings.CutSuffix(p, "*"); ok && strings.HasPrefix(typ, prefix) {
			return true
		}
	}
	return false
}

// Webhooks manages webhook subscriptions and delivers outbox events to them.
type Webhooks struct {
	db     *db.DB
	trail  *audit.Trail
	clock  clock.Clock
	aead   cipher.AEAD
	keyErr error
	client *http.Client
	log    *slog.Logger
	source string
	node   string

	lease    time.Duration
	batch    int
	parallel int
	runner   atomic.Pointer[jobs.Runner]
}

// NewWebhooks returns the webhook service. key (KeySize bytes) encrypts the
// secrets at rest; with a key of the wrong size every operation that needs it
// fails. client defaults to one with a 10s timeout; redirects are never followed.
func NewWebhooks(d *db.DB, trail *audit.Trail, c clock.Clock, key []byte, client *http.Client, logger *slog.Logger) *Webhooks {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	aead, err := newAEAD(key)
	if err != nil {
		logger.Error("webhooks disabled", "err", err)
	}
	var hc http.Client
	if client != nil {
		hc = *client
	}
	if hc.Timeout <= 0 || hc.Timeout > deliveryTimeout {
		hc.Timeout = deliveryTimeout
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Webhooks{
		db: d, trail: trail, clock: c, aead: aead, keyErr: err, client: &hc,
		log: logger.With("component", "webhooks"), source: "steward", node: nodeID(),
		lease: 2 * time.Minute, batch: 16, parallel: 8,
	}
}

// SetSource sets the CloudEvents source attribute, normally the server's base
// URL; it defaults to "steward". Call it before delivery starts.
func (w *Webhooks) SetSource(source string) {
	if source != "" {
		w.source = source
	}
}

func nodeID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = crand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

const webhookColumns = `id, name, url, event_types, active, max_attempts, created_at, updated_at, version`

func scanWebhook(row interface{ Scan(...any) error }) (Webhook, error) {
	var h Webhook
	var types string
	var created, updated int64
	if err := row.Scan(&h.ID, &h.Name, &h.URL, &types, &h.Active, &h.MaxAttempts, &created, &updated, &h.Version); err != nil {
		return Webhook{}, err
	}
	h.EventTypes = strings.Split(types, ",")
	h.CreatedAt, h.UpdatedAt = clock.FromMillis(created), clock.FromMillis(updated)
	return h, nil
}

// fields is the audited view of a webhook.
func (w Webhook) fields() map[string]any {
	return map[string]any{"name": w.Name, "url": w.URL, "eventTypes": strings.Join(w.EventTypes, ","),
		"active": w.Active, "maxAttempts": w.MaxAttempts}
}

var auditedFields = []string{"name", "url", "eventTypes", "active", "maxAttempts"}

func objectID(id int64) string { return strconv.FormatInt(id, 10) }

// Create stores a new webhook and returns it with its signing secret, which is
// shown only this once ("whsec_" + base64 of 32 random bytes).
func (w *Webhooks) Create(ctx context.Context, in WebhookInput) (hook Webhook, secret string, err error) {
	defer errs.Wrap(&err, "create webhook")
	if w.keyErr != nil {
		return Webhook{}, "", w.keyErr
	}
	now := clock.FromMillis(w.clock.Now().UnixMilli())
	hook = Webhook{Name: strings.TrimSpace(in.Name), URL: strings.TrimSpace(in.URL), EventTypes: normalizeTypes(in.EventTypes),
		Active: in.Active == nil || *in.Active, MaxAttempts: in.MaxAttempts, CreatedAt: now, UpdatedAt: now, Version: 1}
	if hook.MaxAttempts == 0 {
		hook.MaxAttempts = DefaultMaxAttempts
	}
	if err := hook.Validate(); err != nil {
		return Webhook{}, "", err
	}
	raw, secret, err := newSecret()
	if err != nil {
		return Webhook{}, "", err
	}
	enc, err := seal(w.aead, raw)
	if err != nil {
		return Webhook{}, "", err
	}
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO webhooks (name, url, secret_enc, event_types, active, max_attempts, created_at, updated_at, version)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id`, hook.Name, hook.URL, enc, strings.Join(hook.EventTypes, ","),
			hook.Active, hook.MaxAttempts, now.UnixMilli(), now.UnixMilli()).Scan(&hook.ID)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a webhook named %q already exists", hook.Name)
		}
		if err != nil {
			return fmt.Errorf("insert: %w", err)
		}
		w.trail.Record(ctx, tx, audit.Entry{Action: "webhook.create", ObjectType: "webhook", ObjectID: objectID(hook.ID),
			Changes: audit.Diff(auditedFields, nil, hook.fields())})
		return nil
	})
	if err != nil {
		return Webhook{}, "", err
	}
	return hook, secret, nil
}

// Get returns one webhook.
func (w *Webhooks) Get(ctx context.Context, id int64) (Webhook, error) {
	h, err := scanWebhook(w.db.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	if db.IsNoRows(err) {
		return Webhook{}, errs.E(errs.NotFound, "webhook %d not found", id)
	}
	if err != nil {
		return Webhook{}, fmt.Errorf("get webhook %d: %w", id, err)
	}
	return h, nil
}

// List returns every webhook in id order.
func (w *Webhooks) List(ctx context.Context) ([]Webhook, error) {
	rows, err := w.db.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		h, err := scanWebhook(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return out, nil
}

// lockCurrent loads a webhook for change in tx and checks the caller's version.
func (w *Webhooks) lockCurrent(ctx context.Context, tx *db.Tx, id, version int64) (Webhook, error) {
	cur, err := scanWebhook(tx.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`+w.db.ForUpdate(), id))
	if db.IsNoRows(err) {
		return Webhook{}, errs.E(errs.NotFound, "webhook %d not found", id)
	}
	if err != nil {
		return Webhook{}, fmt.Errorf("load: %w", err)
	}
	if cur.Version != version {
		return Webhook{}, errs.E(errs.PreconditionFailed, "webhook %d has changed: it is at version %d, not %d", id, cur.Version, version)
	}
	return cur, nil
}

// Update changes the given fields if the webhook is still at version, and
// returns it at its next version.
func (w *Webhooks) Update(ctx context.Context, id, version int64, in WebhookUpdate) (hook Webhook, err error) {
	defer errs.Wrap(&err, "update webhook %d", id)
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := w.lockCurrent(ctx, tx, id, version)
		if err != nil {
			return err
		}
		next := cur
		if in.Name != nil {
			next.Name = strings.TrimSpace(*in.Name)
		}
		if in.URL != nil {
			next.URL = strings.TrimSpace(*in.URL)
		}
		if in.EventTypes != nil {
			next.EventTypes = normalizeTypes(*in.EventTypes)
		}
		if in.Active != nil {
			next.Active = *in.Active
		}
		if in.MaxAttempts != nil {
			next.MaxAttempts = *in.MaxAttempts
		}
		if err := next.Validate(); err != nil {
			return err
		}
		changes := audit.Diff(auditedFields, cur.fields(), next.fields())
		if len(changes) == 0 {
			hook = cur
			return nil
		}
		next.UpdatedAt = clock.FromMillis(w.clock.Now().UnixMilli())
		next.Version++
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET name = ?, url = ?, event_types = ?, active = ?, max_attempts = ?,
				updated_at = ?, version = version + 1
			WHERE id = ? AND version = ?`, next.Name, next.URL, strings.Join(next.EventTypes, ","), next.Active, next.MaxAttempts,
			next.UpdatedAt.UnixMilli(), id, version)
		if db.IsUniqueViolation(err) {
			return errs.E(errs.Conflict, "a webhook named %q already exists", next.Name)
		}
		if err := mustAffect(res, err, id, version); err != nil {
			return err
		}
		w.trail.Record(ctx, tx, audit.Entry{Action: "webhook.update", ObjectType: "webhook", ObjectID: objectID(id), Changes: changes})
		hook = next
		return nil
	})
	if err != nil {
		return Webhook{}, err
	}
	return hook, nil
}

// mustAffect turns an UPDATE or DELETE guarded by version that touched no row into PreconditionFailed.
func mustAffect(res interface{ RowsAffected() (int64, error) }, err error, id, version int64) error {
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("write: %w", err)
	} else if n == 0 {
		return errs.E(errs.PreconditionFailed, "webhook %d has changed since version %d", id, version)
	}
	return nil
}

// Delete removes the webhook, if it is still at version, with its deliveries.
func (w *Webhooks) Delete(ctx context.Context, id, version int64) (err error) {
	defer errs.Wrap(&err, "delete webhook %d", id)
	return w.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := w.lockCurrent(ctx, tx, id, version)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ? AND version = ?`, id, version)
		if err := mustAffect(res, err, id, version); err != nil {
			return err
		}
		w.trail.Record(ctx, tx, audit.Entry{Action: "webhook.delete", ObjectType: "webhook", ObjectID: objectID(id),
			Changes: audit.Diff(auditedFields, cur.fields(), nil)})
		return nil
	})
}

// RotateSecret replaces the webhook's signing secret, if it is still at version,
// and returns the new secret, shown only this once.
func (w *Webhooks) RotateSecret(ctx context.Context, id, version int64) (hook Webhook, secret string, err error) {
	defer errs.Wrap(&err, "rotate secret of webhook %d", id)
	if w.keyErr != nil {
		return Webhook{}, "", w.keyErr
	}
	raw, secret, err := newSecret()
	if err != nil {
		return Webhook{}, "", err
	}
	enc, err := seal(w.aead, raw)
	if err != nil {
		return Webhook{}, "", err
	}
	err = w.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := w.lockCurrent(ctx, tx, id, version)
		if err != nil {
			return err
		}
		hook = cur
		hook.UpdatedAt = clock.FromMillis(w.clock.Now().UnixMilli())
		hook.Version++
		res, err := tx.ExecContext(ctx, `UPDATE webhooks SET secret_enc = ?, updated_at = ?, version = version + 1
			WHERE id = ? AND version = ?`, enc, hook.UpdatedAt.UnixMilli(), id, version)
		if err := mustAffect(res, err, id, version); err != nil {
			return err
		}
		w.trail.Record(ctx, tx, audit.Entry{Action: "webhook.rotate_secret", ObjectType: "webhook", ObjectID: objectID(id),
			Changes: []audit.Change{{Field: "secret"}}})
		return nil
	})
	if err != nil {
		return Webhook{}, "", err
	}
	return hook, secret, nil
}
