// Package app wires Steward together: it opens the store, builds every area,
// the HTTP server and the job runner. main and the end-to-end tests both use it.
package app

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"
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
