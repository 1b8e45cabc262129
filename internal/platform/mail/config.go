package mail

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"steward/internal/platform/errs"
)

// TLSMode says how a mail connection is protected.
type TLSMode string

// The TLS modes.
const (
	// TLSNone talks in the clear; only for a relay on the same host or a test server.
	TLSNone TLSMode = "none"
	// TLSStartTLS upgrades a plain connection with STARTTLS and refuses to go on without it.
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit opens a TLS connection from the start (SMTPS on 465, IMAPS on 993).
	TLSImplicit TLSMode = "tls"
)

// Defaults of the configuration.
const (
	DefaultMailbox          = "INBOX"
	DefaultPollInterval     = time.Minute
	DefaultMaxAttempts      = 8
	DefaultMaxNewPerHour    = 20
	DefaultMaxMessageBytes  = 10 << 20
	DefaultMaxEventAge      = 24 * time.Hour
	DefaultDialTimeout      = 30 * time.Second
	minPollInterval         = time.Second
	defaultSMTPPortStartTLS = 587
	defaultSMTPPortTLS      = 465
	defaultSMTPPortNone     = 25
	defaultIMAPPortTLS      = 993
	defaultIMAPPortPlain    = 143
)

// SMTPConfig is the relay notifications go out through.
type SMTPConfig struct {
	// Enabled turns outbound notifications on.
	Enabled bool
	Host    string
	// Port defaults by TLS mode: 587 for starttls, 465 for tls, 25 for none.
	Port int
	// TLS defaults to starttls.
	TLS      TLSMode
	Username string
	Password string
	// From is the sender address, such as servicedesk@example.com.
	From string
	// FromName is the sender's display name, such as "Service Desk".
	FromName string
	// MaxAttempts bounds the tries per message before it is marked failed (default 8).
	MaxAttempts int
	// MaxEventAge skips events older than this when they are read (default 24h), so that
	// turning mail on after a long pause does not mail a backlog of stale news.
	MaxEventAge time.Duration
}

// IMAPConfig is the monitored mailbox inbound mail is read from.
type IMAPConfig struct {
	// Enabled turns the inbound poll on.
	Enabled bool
	Host    string
	// Port defaults by TLS mode: 993 for tls, 143 otherwise.
	Port int
	// TLS defaults to tls.
	TLS      TLSMode
	Username string
	Password string
	// Mailbox is the folder polled, INBOX by default.
	Mailbox string
	// ProcessedMailbox, when set, is the folder handled messages are moved to
	// (the server must offer MOVE); otherwise they stay, flagged \Seen.
	ProcessedMailbox string
	// PollInterval is the time between polls (default one minute, at least one second).
	PollInterval time.Duration
	// MaxNewPerHour bounds the records one sender may open by mail in an hour (default 20).
	MaxNewPerHour int
	// MaxMessageBytes skips larger messages (default 10 MiB).
	MaxMessageBytes int64
	// Addresses are further addresses of ours (aliases of the mailbox) whose mail is never taken in.
	Addresses []string
}

// Config configures mail in and out.
type Config struct {
	SMTP SMTPConfig
	IMAP IMAPConfig
	// BaseURL is the public URL links in notifications start with, such as https://steward.example.com.
	BaseURL string
	// TLS, when set, is the TLS configuration of both connections (custom roots, a
	// client certificate); the server name is filled in per connection.
	TLS *tls.Config `json:"-"`
}

// Normalize fills the defaults.
func (c *Config) Normalize() {
	s := &c.SMTP
	s.Host = strings.TrimSpace(s.Host)
	s.TLS = TLSMode(strings.ToLower(strings.TrimSpace(string(s.TLS))))
	if s.TLS == "" {
		s.TLS = TLSStartTLS
	}
	if s.Port == 0 {
		switch s.TLS {
		case TLSImplicit:
			s.Port = defaultSMTPPortTLS
		case TLSNone:
			s.Port = defaultSMTPPortNone
		default:
			s.Port = defaultSMTPPortStartTLS
		}
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = DefaultMaxAttempts
	}
	if s.MaxEventAge <= 0 {
		s.MaxEventAge = DefaultMaxEventAge
	}
	s.From = strings.TrimSpace(s.From)
	s.FromName = strings.TrimSpace(s.FromName)

	m := &c.IMAP
	m.Host = strings.TrimSpace(m.Host)
	m.TLS = TLSMode(strings.ToLower(strings.TrimSpace(string(m.TLS))))
	if m.TLS == "" {
		m.TLS = TLSImplicit
	}
	if m.Port == 0 {
		m.Port = defaultIMAPPortPlain
		if m.TLS == TLSImplicit {
			m.Port = defaultIMAPPortTLS
		}
	}
	if strings.TrimSpace(m.Mailbox) == "" {
		m.Mailbox = DefaultMailbox
	}
	if m.PollInterval <= 0 {
		m.PollInterval = DefaultPollInterval
	}
	m.PollInterval = max(m.PollInterval, minPollInterval)
	if m.MaxNewPerHour <= 0 {
		m.MaxNewPerHour = DefaultMaxNewPerHour
	}
	if m.MaxMessageBytes <= 0 {
		m.MaxMessageBytes = DefaultMaxMessageBytes
	}
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
}

// Validate checks a normalized configuration; only the enabled halves must be complete.
func (c *Config) Validate() error {
	var fe []errs.FieldError
	add := func(loc, msg string, v any) { fe = append(fe, errs.FieldError{Location: loc, Message: msg, Value: v}) }
	mode := func(loc string, m TLSMode) {
		if m != TLSNone && m != TLSStartTLS && m != TLSImplicit {
			add(loc, "a TLS mode is none, starttls or tls", string(m))
		}
	}
	port := func(loc string, p int) {
		if p < 1 || p > 65535 {
			add(loc, "a port is 1 to 65535", p)
		}
	}
	if c.SMTP.Enabled {
		if c.SMTP.Host == "" {
			add("smtp.host", "name the SMTP relay", nil)
		}
		port("smtp.port", c.SMTP.Port)
		mode("smtp.tls", c.SMTP.TLS)
		if a, err := mail.ParseAddress(c.SMTP.From); err != nil || a.Address != c.SMTP.From {
			add("smtp.from", "the sender is a plain address such as servicedesk@example.com", c.SMTP.From)
		}
		if (c.SMTP.Username == "") != (c.SMTP.Password == "") {
			add("smtp.username", "give both a username and a password, or neither", nil)
		}
		if u, err := url.Parse(c.BaseURL); c.BaseURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			add("baseURL", "notifications link to records: give the public http(s) URL of Steward", c.BaseURL)
		}
	}
	if c.IMAP.Enabled {
		if c.IMAP.Host == "" {
			add("imap.host", "name the IMAP server", nil)
		}
		port("imap.port", c.IMAP.Port)
		mode("imap.tls", c.IMAP.TLS)
		if c.IMAP.Username == "" || c.IMAP.Password == "" {
			add("imap.username", "the mailbox needs a username and a password", nil)
		}
	}
	if len(fe) > 0 {
		return &errs.Error{Kind: errs.Invalid, Message: "the mail configuration is not valid", Fields: fe}
	}
	return nil
}

// LogValue describes the configuration for logs, without the passwords.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Group("smtp", "enabled", c.SMTP.Enabled, "addr", fmt.Sprintf("%s:%d", c.SMTP.Host, c.SMTP.Port),
			"tls", string(c.SMTP.TLS), "username", c.SMTP.Username, "from", c.SMTP.From),
		slog.Group("imap", "enabled", c.IMAP.Enabled, "addr", fmt.Sprintf("%s:%d", c.IMAP.Host, c.IMAP.Port),
			"tls", string(c.IMAP.TLS), "username", c.IMAP.Username, "mailbox", c.IMAP.Mailbox,
			"poll", c.IMAP.PollInterval.String()),
		slog.String("baseURL", c.BaseURL))
}

// tlsConfig returns the TLS configuration for host.
func (c *Config) tlsConfig(host string) *tls.Config {
	t := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLS != nil {
		t = c.TLS.Clone()
	}
	if t.ServerName == "" {
		t.ServerName = host
	}
	return t
}
