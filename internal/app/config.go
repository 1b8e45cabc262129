// Package app wires Steward together: it opens the store, builds every area,
// the HTTP server and the job runner. main and the end-to-end tests both use it.
package app

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"steward/internal/platform/mail"
)

// Config is the server's configuration, from flags and STEWARD_* environment variables.
type Config struct {
	Addr             string
	DataDir          string
	DatabaseURL      string
	BaseURL          string
	TLSCert          string
	TLSKey           string
	LogLevel         string
	SessionIdle      time.Duration
	SessionMax       time.Duration
	LockoutThreshold int
	LockoutDuration  time.Duration
	RateLimit        int
	RateBurst        int
	SecretKey        string
	NodeID           string
	ShutdownTimeout  time.Duration
	// SMTP and IMAP configure e-mail in and out (internal/platform/mail); both
	// are off until their host is set.
	SMTP SMTPConfig
	IMAP IMAPConfig
}

// SMTPConfig is the relay notifications go out through.
type SMTPConfig struct {
	Host, TLS, Username, Password, From, FromName string
	Port                                          int
}

// IMAPConfig is the mailbox polled for replies and new incidents.
type IMAPConfig struct {
	Host, TLS, Username, Password, Mailbox, Processed string
	Port                                              int
	PollInterval                                      time.Duration
}

// BindFlags declares the configuration flags on fs, each defaulting to its
// STEWARD_* environment variable (for --data-dir: STEWARD_DATA_DIR) or else to
// the built-in default.
func (c *Config) BindFlags(fs *flag.FlagSet) {
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, envOr(name, def), usage+" ("+envName(name)+")")
	}
	dur := func(p *time.Duration, name string, def time.Duration, usage string) {
		if v := os.Getenv(envName(name)); v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				def = d
			}
		}
		fs.DurationVar(p, name, def, usage+" ("+envName(name)+")")
	}
	num := func(p *int, name string, def int, usage string) {
		if v := os.Getenv(envName(name)); v != "" {
			fmt.Sscan(v, &def)
		}
		fs.IntVar(p, name, def, usage+" ("+envName(name)+")")
	}
	str(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	str(&c.DataDir, "data-dir", "steward-data", "directory for the SQLite database, uploads and the secret key")
	str(&c.DatabaseURL, "database-url", "", "postgres://… to use PostgreSQL; empty for SQLite in the data directory")
	str(&c.BaseURL, "base-url", "", "public URL of this server, used in links and webhook events (default http://ADDR)")
	str(&c.TLSCert, "tls-cert", "", "TLS certificate file (PEM); serves HTTPS with --tls-key")
	str(&c.TLSKey, "tls-key", "", "TLS private key file (PEM)")
	str(&c.LogLevel, "log-level", "info", "debug, info, warn or error")
	dur(&c.SessionIdle, "session-idle", 15*time.Minute, "end a browser session after this long idle (AC-11)")
	dur(&c.SessionMax, "session-max", 12*time.Hour, "end a browser session this long after sign-in (AC-12)")
	num(&c.LockoutThreshold, "lockout-threshold", 5, "failed logins in a row that lock an account (AC-7)")
	dur(&c.LockoutDuration, "lockout-duration", 15*time.Minute, "how long a locked account stays locked")
	num(&c.RateLimit, "rate-limit", 50, "requests per second allowed per token or client address; 0 turns the limit off")
	num(&c.RateBurst, "rate-burst", 100, "burst size of the rate limit")
	str(&c.SecretKey, "secret-key", "", "base64 32-byte key that encrypts stored secrets; every node of a PostgreSQL site needs the same one (default: DATA_DIR/secret.key)")
	str(&c.NodeID, "node-id", "", "name of this node in job leases (default host-pid)")
	dur(&c.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long graceful shutdown waits for requests and jobs")
	str(&c.SMTP.Host, "smtp-host", "", "SMTP relay for e-mail notifications; empty sends none")
	num(&c.SMTP.Port, "smtp-port", 0, "SMTP port (default 587 with starttls, 465 with tls, 25 with none)")
	str(&c.SMTP.TLS, "smtp-tls", "starttls", "SMTP transport security: starttls, tls or none")
	str(&c.SMTP.Username, "smtp-username", "", "SMTP user name, if the relay asks for one")
	str(&c.SMTP.Password, "smtp-password", "", "SMTP password")
	str(&c.SMTP.From, "smtp-from", "", "the From address of notifications, such as servicedesk@example.mil")
	str(&c.SMTP.FromName, "smtp-from-name", "Steward", "the From name of notifications")
	str(&c.IMAP.Host, "imap-host", "", "IMAP server of the monitored mailbox; empty polls none")
	num(&c.IMAP.Port, "imap-port", 0, "IMAP port (default 993 with tls, 143 otherwise)")
	str(&c.IMAP.TLS, "imap-tls", "tls", "IMAP transport security: tls, starttls or none")
	str(&c.IMAP.Username, "imap-username", "", "IMAP user name")
	str(&c.IMAP.Password, "imap-password", "", "IMAP password")
	str(&c.IMAP.Mailbox, "imap-mailbox", "INBOX", "the mailbox polled")
	str(&c.IMAP.Processed, "imap-processed-mailbox", "", "where handled messages are moved; empty leaves them, flagged seen")
	dur(&c.IMAP.PollInterval, "imap-poll-interval", time.Minute, "how often the mailbox is polled")
}

// mailConfig is the e-mail configuration the mail package takes.
func (c *Config) mailConfig() mail.Config {
	return mail.Config{BaseURL: c.BaseURL,
		SMTP: mail.SMTPConfig{Enabled: c.SMTP.Host != "", Host: c.SMTP.Host, Port: c.SMTP.Port, TLS: mail.TLSMode(c.SMTP.TLS),
			Username: c.SMTP.Username, Password: c.SMTP.Password, From: c.SMTP.From, FromName: c.SMTP.FromName},
		IMAP: mail.IMAPConfig{Enabled: c.IMAP.Host != "", Host: c.IMAP.Host, Port: c.IMAP.Port, TLS: mail.TLSMode(c.IMAP.TLS),
			Username: c.IMAP.Username, Password: c.IMAP.Password, Mailbox: c.IMAP.Mailbox, ProcessedMailbox: c.IMAP.Processed,
			PollInterval: c.IMAP.PollInterval}}
}

// Normalize fills derived defaults after parsing.
func (c *Config) Normalize() {
	if c.BaseURL == "" {
		scheme := "http"
		if c.TLSCert != "" {
			scheme = "https"
		}
		c.BaseURL = scheme + "://" + c.Addr
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
}

func envName(flagName string) string {
	return "STEWARD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func envOr(flagName, def string) string {
	if v, ok := os.LookupEnv(envName(flagName)); ok {
		return v
	}
	return def
}
