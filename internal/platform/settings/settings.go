// Package settings keeps the business configuration that lives in the database:
// the classification banner and the system-use notice (AC-8).
package settings

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"steward/internal/platform/audit"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// DefaultNotice is the standard mandatory DoD notice and consent text.
const DefaultNotice = `You are accessing a U.S. Government (USG) Information System (IS) that is provided for USG-authorized use only. ` +
	`By using this IS (which includes any device attached to this IS), you consent to the following conditions: ` +
	`The USG routinely intercepts and monitors communications on this IS for purposes including, but not limited to, ` +
	`penetration testing, COMSEC monitoring, network operations and defense, personnel misconduct (PM), law enforcement (LE), ` +
	`and counterintelligence (CI) investigations. At any time, the USG may inspect and seize data stored on this IS. ` +
	`Communications using, or data stored on, this IS are not private, are subject to routine monitoring, interception, ` +
	`and search, and may be disclosed or used for any USG-authorized purpose. This IS includes security measures ` +
	`(e.g., authentication and access controls) to protect USG interests--not for your personal benefit or privacy.`

// Presentation is what every page shows around its content.
type Presentation struct {
	// BannerText is the classification shown at the top and bottom of every page and on exports.
	BannerText string `json:"bannerText" maxLength:"200" doc:"Classification text, e.g. UNCLASSIFIED."`
	// BannerBackground is the banner colour as #rrggbb.
	BannerBackground string `json:"bannerBackground" pattern:"^#[0-9a-fA-F]{6}$" doc:"Banner colour, #rrggbb."`
	// BannerForeground is the banner text colour as #rrggbb.
	BannerForeground string `json:"bannerForeground" pattern:"^#[0-9a-fA-F]{6}$" doc:"Banner text colour, #rrggbb."`
	// NoticeTitle heads the system-use notification.
	NoticeTitle string `json:"noticeTitle" maxLength:"200"`
	// Notice is the system-use notification a user must accept before login (AC-8).
	Notice string `json:"notice" maxLength:"20000"`
	// Version is the optimistic-concurrency version.
	Version int64 `json:"version" readOnly:"true"`
}

// Defaults is the presentation of a new installation: UNCLASSIFIED on green.
func Defaults() Presentation {
	return Presentation{BannerText: "UNCLASSIFIED", BannerBackground: "#007a33", BannerForeground: "#ffffff",
		NoticeTitle: "System use notification", Notice: DefaultNotice, Version: 0}
}

var colourRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// Validate checks the presentation's fields.
func (p *Presentation) Validate() error {
	var f []errs.FieldError
	p.BannerText = strings.TrimSpace(p.BannerText)
	if p.BannerText == "" || utf8.RuneCountInString(p.BannerText) > 200 {
		f = append(f, errs.FieldError{Location: "body.bannerText", Message: "1 to 200 characters", Value: p.BannerText})
	}
	if !colourRE.MatchString(p.BannerBackground) {
		f = append(f, errs.FieldError{Location: "body.bannerBackground", Message: "a colour as #rrggbb", Value: p.BannerBackground})
	}
	if !colourRE.MatchString(p.BannerForeground) {
		f = append(f, errs.FieldError{Location: "body.bannerForeground", Message: "a colour as #rrggbb", Value: p.BannerForeground})
	}
	if strings.TrimSpace(p.Notice) == "" || utf8.RuneCountInString(p.Notice) > 20000 {
		f = append(f, errs.FieldError{Location: "body.notice", Message: "the system-use notification has 1 to 20000 characters"})
	}
	if utf8.RuneCountInString(p.NoticeTitle) > 200 {
		f = append(f, errs.FieldError{Location: "body.noticeTitle", Message: "at most 200 characters"})
	}
	return errs.WithFields(f)
}

// Store reads and writes settings, caching them for a few seconds per node.
type Store struct {
	db    *db.DB
	trail *audit.Trail
	clock clock.Clock
	ttl   time.Duration

	mu      sync.Mutex
	cached  Presentation
	fetched time.Time
}

// NewStore returns a settings store; ttl bounds how stale another node's change may look here.
func NewStore(d *db.DB, trail *audit.Trail, c clock.Clock, ttl time.Duration) *Store {
	return &Store{db: d, trail: trail, clock: c, ttl: ttl}
}

const presentationKey = "presentation"

// Presentation returns the current presentation settings.
func (s *Store) Presentation(ctx context.Context) (Presentation, error) {
	s.mu.Lock()
	if !s.fetched.IsZero() && time.Since(s.fetched) < s.ttl {
		p := s.cached
		s.mu.Unlock()
		return p, nil
	}
	s.mu.Unlock()
	p := Defaults()
	var raw string
	var version int64
	err := s.db.QueryRowContext(ctx, `SELECT value, version FROM settings WHERE key = ?`, presentationKey).Scan(&raw, &version)
	switch {
	case db.IsNoRows(err):
	case err != nil:
		return p, fmt.Errorf("read settings: %w", err)
	default:
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			return Defaults(), fmt.Errorf("decode settings: %w", err)
		}
		p.Version = version
	}
	s.mu.Lock()
	s.cached, s.fetched = p, time.Now()
	s.mu.Unlock()
	return p, nil
}

// SetPresentation replaces the presentation settings if version is current (0 before the first save).
func (s *Store) SetPresentation(ctx context.Context, version int64, p Presentation) (out Presentation, err error) {
	defer errs.Wrap(&err, "save presentation settings")
	if err := p.Validate(); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		old := Defaults()
		var raw string
		var cur int64
		e := tx.QueryRowContext(ctx, `SELECT value, version FROM settings WHERE key = ?`, presentationKey).Scan(&raw, &cur)
		if e != nil && !db.IsNoRows(e) {
			return e
		}
		if e == nil {
			_ = json.Unmarshal([]byte(raw), &old)
		}
		if cur != version {
			return errs.E(errs.PreconditionFailed, "the settings changed since version %d (now %d)", version, cur)
		}
		p.Version = 0
		b, _ := json.Marshal(p)
		now := s.clock.Now().UnixMilli()
		// The write itself checks the version, so that concurrent saves cannot both win.
		var res sql.Result
		var err error
		if version == 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value, version, updated_at) VALUES (?, ?, 1, ?)
				ON CONFLICT (key) DO NOTHING`, presentationKey, string(b), now)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE settings SET value = ?, version = version + 1, updated_at = ?
				WHERE key = ? AND version = ?`, string(b), now, presentationKey, version)
		}
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errs.E(errs.PreconditionFailed, "the settings changed concurrently; read them again")
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "settings.update", ObjectType: "settings", ObjectID: presentationKey,
			Changes: audit.Diff([]string{"bannerText", "bannerBackground", "bannerForeground", "noticeTitle", "notice"},
				map[string]any{"bannerText": old.BannerText, "bannerBackground": old.BannerBackground, "bannerForeground": old.BannerForeground, "noticeTitle": old.NoticeTitle, "notice": old.Notice},
				map[string]any{"bannerText": p.BannerText, "bannerBackground": p.BannerBackground, "bannerForeground": p.BannerForeground, "noticeTitle": p.NoticeTitle, "notice": p.Notice})})
		p.Version = cur + 1
		return nil
	})
	if err == nil {
		s.mu.Lock()
		s.cached, s.fetched = p, time.Now()
		s.mu.Unlock()
	}
	return p, err
}
