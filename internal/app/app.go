package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"steward/internal/design/availability"
	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/tracker"
	"steward/internal/platform/calendar"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"steward/internal/framework"
	"steward/internal/improvement/controls"
	"steward/internal/operation/incident"
	"steward/internal/operation/problem"
	"steward/internal/operation/request"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/jobs"
	"steward/internal/platform/mail"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
	"steward/internal/platform/settings"
	"steward/internal/transition/asset"
	"steward/internal/transition/cmdb"
)

// Version is the build's version, set by the linker.
var Version = "dev"

// App is a wired Steward: the store, the services and the HTTP handler.
type App struct {
	Config   Config
	Log      *slog.Logger
	Clock    clock.Clock
	DB       *db.DB
	Trail    *audit.Trail
	Outbox   *outbox.Outbox
	Auth     *auth.Service
	Settings *settings.Store
	Registry *prometheus.Registry
	Jobs     *jobs.Runner
	Webhooks *outbox.Webhooks
	Mail     *mail.Mailer
	Model    *framework.Model
	RACI     *raci.Service
	Records  *record.Service
	Controls *controls.Service
	CMDB     *cmdb.Service
	Assets   *asset.Service
	// Service Operations (internal/app/operations.go).
	Incidents *incident.Service
	Requests  *request.Service
	Problems  *problem.Service
	// Service Design (internal/app/design.go).
	Calendars    *calendar.Service
	Levels       *servicelevel.Service
	Clocks       *tracker.Service
	Availability *availability.Service

	secretKey []byte
	handler   http.Handler
	closeOnce sync.Once
}

// Open connects to the database and applies migrations, without building the server.
// Command-line tools (user, token, audit) use it.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	cfg.Normalize()
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if err := db.CheckMigrations(); err != nil {
		return nil, fmt.Errorf("refusing to start: %w", err)
	}
	d, err := db.Open(ctx, db.Config{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	a := &App{Config: cfg, Log: log, DB: d}
	if a.Model, err = framework.Embedded(); err != nil {
		d.Close()
		return nil, fmt.Errorf("load the process reference model: %w", err)
	}
	a.wire(clock.System{})
	if err := a.Auth.EnsureDefaultRoles(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := a.CMDB.Seed(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("seed the CMDB class model: %w", err)
	}
	return a, nil
}

// wire builds every service over a's database on clock c. It is the one place
// where the use cases are put together.
func (a *App) wire(c clock.Clock) {
	a.Clock = c
	a.Trail = audit.NewTrail(c)
	a.Outbox = outbox.New(c, nil)
	cfg := a.Config
	a.Auth = auth.NewService(a.DB, a.Trail, a.Outbox, c, auth.NewHasher(0), auth.Config{
		SessionIdle: cfg.SessionIdle, SessionMax: cfg.SessionMax,
		LockoutThreshold: cfg.LockoutThreshold, LockoutDuration: cfg.LockoutDuration,
	})
	a.Settings = settings.NewStore(a.DB, a.Trail, c, 5*time.Second)
	a.RACI = raci.New(a.DB, a.Model, a.Trail, a.Outbox, c)
	a.RACI.SetBanner(func(ctx context.Context) string {
		p, err := a.Settings.Presentation(ctx)
		if err != nil {
			return ""
		}
		return p.BannerText
	})
	a.Records = record.New(record.Deps{DB: a.DB, Guard: a.RACI, Model: a.Model, Trail: a.Trail, Events: a.Outbox, Clock: c})
	a.Controls = controls.MustNew(controls.Deps{DB: a.DB, Records: a.Records, Model: a.Model, Clock: c})
	a.CMDB = cmdb.MustNew(cmdb.Deps{DB: a.DB, Records: a.Records, RACI: a.RACI, Trail: a.Trail, Events: a.Outbox, Clock: c})
	a.CMDB.SetBanner(func(ctx context.Context) string {
		p, err := a.Settings.Presentation(ctx)
		if err != nil {
			return ""
		}
		return p.BannerText
	})
	a.Assets = asset.MustNew(asset.Deps{DB: a.DB, Records: a.Records, Trail: a.Trail, Events: a.Outbox, Clock: c,
		Banner: func(ctx context.Context) (string, error) {
			p, err := a.Settings.Presentation(ctx)
			return p.BannerText, err
		}})
	a.wireOperations(c)
	a.wireDesign(c)
}

// WithClock returns an App sharing a's database and configuration whose
// services run on clock c; the demo loader uses it to play history in time
// order. It builds no server and owns nothing to close.
func (a *App) WithClock(c clock.Clock) *App {
	b := &App{Config: a.Config, Log: a.Log, DB: a.DB, Model: a.Model}
	b.wire(c)
	return b
}

// Close releases the database.
func (a *App) Close() error {
	var err error
	a.closeOnce.Do(func() { err = a.DB.Close() })
	return err
}

// SecretKey returns the key that encrypts stored secrets, creating the key file on first use.
func (a *App) SecretKey() ([]byte, error) {
	if a.secretKey != nil {
		return a.secretKey, nil
	}
	if a.Config.SecretKey != "" {
		k, err := base64.StdEncoding.DecodeString(a.Config.SecretKey)
		if err != nil || len(k) != 32 {
			return nil, errors.New("--secret-key must be 32 bytes in base64")
		}
		a.secretKey = k
		return k, nil
	}
	path := filepath.Join(a.Config.DataDir, "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(k) != 32 {
			return nil, fmt.Errorf("%s does not hold a 32-byte base64 key", path)
		}
		a.secretKey = k
		return k, nil
	}
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(a.Config.DataDir, 0o750); err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	if a.DB.Engine() == db.Postgres {
		a.Log.Warn("generated a secret key in the data directory; every node sharing this PostgreSQL database needs the same --secret-key", "path", path)
	}
	a.secretKey = k
	return k, nil
}

func (a *App) registerMetrics() {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(collectors.NewDBStatsCollector(a.DB.Writer(), "writer"))
	if a.DB.Reader() != a.DB.Writer() {
		reg.MustRegister(collectors.NewDBStatsCollector(a.DB.Reader(), "reader"))
	}
	reg.MustRegister(newPipelineCollector(a))
	a.Registry = reg
}

// ListenAndServe runs the HTTP server and the job runner until ctx is cancelled,
// then shuts both down gracefully. ready, when not nil, receives the bound address.
func (a *App) ListenAndServe(ctx context.Context, ready chan<- string) error {
	h, err := a.Handler(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	runCtx, stopRunner := context.WithCancel(context.WithoutCancel(ctx))
	runnerDone := a.startBackground(runCtx)
	errc := make(chan error, 1)
	go func() {
		if a.Config.TLSCert != "" {
			errc <- srv.ServeTLS(ln, a.Config.TLSCert, a.Config.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	a.Log.Info("steward is serving", "addr", ln.Addr().String(), "engine", string(a.DB.Engine()), "version", Version)
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-errc:
		stopRunner()
		<-runnerDone
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing in-flight requests and jobs")
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopRunner()
	select {
	case <-runnerDone:
	case <-sctx.Done():
		a.Log.Warn("jobs still running at shutdown timeout")
	}
	a.Log.Info("stopped")
	return err
}
