package app

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"steward/internal/platform/jobs"
	"steward/internal/platform/outbox"
)

// buildBackground creates the job runner and the webhook pipeline and registers their schedules.
func (a *App) buildBackground() error {
	if a.Jobs != nil {
		return nil
	}
	key, err := a.SecretKey()
	if err != nil {
		return err
	}
	a.Jobs = jobs.New(a.DB, a.Clock, a.Log, jobs.Options{NodeID: a.Config.NodeID, ShutdownTimeout: a.Config.ShutdownTimeout})
	a.Webhooks = outbox.NewWebhooks(a.DB, a.Trail, a.Clock, key, &http.Client{Timeout: 10 * time.Second}, a.Log)
	a.Webhooks.SetSource(a.Config.BaseURL)
	a.Webhooks.Register(a.Jobs)
	if err := a.buildMail(); err != nil {
		return err
	}
	a.Mail.Register(a.Jobs)
	a.Outbox.SetNotify(func() {
		a.Webhooks.Notify()
		a.Mail.Notify()
	})
	a.Clocks.Register(a.Jobs)
	a.Availability.Register(a.Jobs)
	// Incidents resolved and neither confirmed nor rejected close after the
	// configured days (IM6); the run is idempotent, once per slot across nodes.
	a.Jobs.Every("incident.autoclose", 5*time.Minute, func(ctx context.Context) error {
		_, err := a.Incidents.AutoClose(ctx)
		return err
	})
	return nil
}

// startBackground starts the job runner; the returned channel closes when it has
// stopped, after its in-flight jobs have finished.
func (a *App) startBackground(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.Jobs.Run(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("job runner stopped", "err", err.Error())
		}
	}()
	return done
}

// pipelineCollector reports the job queue and the outbox on each scrape, with one
// query batch per scrape rather than one per gauge.
type pipelineCollector struct {
	a                                *App
	ready, running, failed, readyAge *prometheus.Desc
	undispatched, pending, dead      *prometheus.Desc
	outboxLag, deliveryLag           *prometheus.Desc
}

func newPipelineCollector(a *App) *pipelineCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &pipelineCollector{a: a,
		ready:        d("steward_jobs_ready", "Jobs waiting to run."),
		running:      d("steward_jobs_running", "Jobs claimed by a node and running."),
		failed:       d("steward_jobs_failed", "Jobs that ran out of attempts."),
		readyAge:     d("steward_jobs_oldest_ready_seconds", "Age of the oldest job waiting to run."),
		undispatched: d("steward_outbox_undispatched", "Events not yet fanned out to webhooks."),
		pending:      d("steward_webhook_deliveries_pending", "Webhook deliveries waiting for an attempt."),
		dead:         d("steward_webhook_deliveries_dead", "Webhook deliveries that ran out of attempts (dead letters)."),
		outboxLag:    d("steward_outbox_lag_seconds", "Age of the oldest event not yet dispatched."),
		deliveryLag:  d("steward_webhook_delivery_lag_seconds", "Age of the oldest pending webhook delivery."),
	}
}

func (c *pipelineCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.ready, c.running, c.failed, c.readyAge, c.undispatched, c.pending, c.dead, c.outboxLag, c.deliveryLag} {
		ch <- d
	}
}

func (c *pipelineCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	if ready, running, failed, age, err := c.a.Jobs.Stats(ctx); err == nil {
		g(c.ready, float64(ready))
		g(c.running, float64(running))
		g(c.failed, float64(failed))
		g(c.readyAge, age.Seconds())
	}
	if s, err := c.a.Webhooks.Stats(ctx); err == nil {
		g(c.undispatched, float64(s.Undispatched))
		g(c.pending, float64(s.Pending))
		g(c.dead, float64(s.Dead))
		g(c.outboxLag, s.UndispatchedAge.Seconds())
		g(c.deliveryLag, s.PendingAge.Seconds())
	}
}
