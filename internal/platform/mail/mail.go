// Package mail sends notifications about work records by e-mail and takes
// e-mail in. Outbound, a consumer of the outbox with its own cursor turns
// record events into one queued message per recipient (the requester, the
// assignee or the team, watchers, informed RACI holders, approvers), and a
// sender delivers the queue through an SMTP relay with retries. Inbound, a
// poller reads a monitored IMAP mailbox: a reply naming a record in its
// subject becomes a comment, any other message a new record, both through the
// Inbound handler the application wires; automatic replies, bounces and
// Steward's own mail never do.
package mail

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/jobs"
	"steward/internal/platform/record"
)

// Inbound takes in the messages read from the monitored mailbox. The
// application implements it: it matches the sender to a user by address and
// acts as that user. An error of kind Invalid, NotFound, Forbidden, Conflict or
// Unauthenticated refuses the message for good (it is recorded as rejected);
// any other error is retried at the next polls.
type Inbound interface {
	// Reply adds a comment from the sender to the record named in the subject.
	Reply(ctx context.Context, number string, m Message) error
	// New creates an incident from a message that names no record.
	New(ctx context.Context, m Message) (number string, err error)
}

// Deps are what mail needs.
type Deps struct {
	DB     *db.DB
	Config Config
	// Inbound takes in polled messages; without it the poll is not scheduled.
	Inbound Inbound
	// Records, when set, names record types and states in notifications and
	// applies a type's visibility rule to each recipient.
	Records *record.Service
	// Banner returns the classification banner every notification carries at
	// its top and bottom (the settings' BannerText). An error holds the
	// notifications back until it can be read; without Banner, or with an empty
	// text, they read record.DefaultMarking.
	Banner func(ctx context.Context) (string, error)
	Clock  clock.Clock
	Log    *slog.Logger
	// NodeID names this node in leases (default: random).
	NodeID string
}

// Mailer is mail in and out.
type Mailer struct {
	db      *db.DB
	cfg     Config
	inbound Inbound
	records *record.Service
	banner  func(ctx context.Context) (string, error)
	clock   clock.Clock
	log     *slog.Logger
	node    string
	domain  string // the domain of our Message-IDs
	runner  atomic.Pointer[jobs.Runner]
	batch   int // messages one Send claims
}

// New returns the mailer. The configuration is normalized and validated.
func New(d Deps) (*Mailer, error) {
	if d.DB == nil {
		return nil, fmt.Errorf("mail: DB is required")
	}
	d.Config.Normalize()
	if err := d.Config.Validate(); err != nil {
		return nil, err
	}
	if d.Clock == nil {
		d.Clock = clock.System{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.NodeID == "" {
		b := make([]byte, 6)
		_, _ = crand.Read(b)
		d.NodeID = "mail-" + hex.EncodeToString(b)
	}
	m := &Mailer{db: d.DB, cfg: d.Config, inbound: d.Inbound, records: d.Records, banner: d.Banner, clock: d.Clock,
		log: d.Log.With("component", "mail"), node: d.NodeID, batch: 50}
	m.domain = messageDomain(d.Config)
	return m, nil
}

// MustNew is New for wiring: it panics on an invalid configuration.
func MustNew(d Deps) *Mailer {
	m, err := New(d)
	if err != nil {
		panic("mail: " + err.Error())
	}
	return m
}

// messageDomain is the right-hand side of our Message-IDs: the sender's domain,
// else the base URL's host.
func messageDomain(c Config) string {
	if _, dom, ok := strings.Cut(c.SMTP.From, "@"); ok && dom != "" {
		return strings.ToLower(dom)
	}
	if u, err := url.Parse(c.BaseURL); err == nil && u.Hostname() != "" {
		return strings.ToLower(u.Hostname())
	}
	return "steward.invalid"
}

// Config returns the normalized configuration.
func (m *Mailer) Config() Config { return m.cfg }

// Schedule names under which Register runs mail.
const (
	NotifySchedule = "mail.notify"
	SendSchedule   = "mail.send"
	PollSchedule   = "mail.poll"
)

// Register schedules mail on r: the notification consumer every second (with
// outbound mail off it only moves its cursor past the events), the sender
// every five seconds when outbound mail is on, and the poll at the configured
// interval when inbound mail is on and an Inbound handler is wired. Call it
// whatever the configuration; afterwards Notify wakes the consumer.
func (m *Mailer) Register(r *jobs.Runner) {
	r.Every(NotifySchedule, time.Second, func(ctx context.Context) error {
		total := 0
		for ctx.Err() == nil {
			n, queued, err := m.queueBatch(ctx)
			total += queued
			if err != nil {
				return err
			}
			if n < eventBatch {
				break
			}
		}
		if total > 0 {
			r.Trigger(SendSchedule)
		}
		return nil
	})
	if m.cfg.SMTP.Enabled {
		r.Every(SendSchedule, 5*time.Second, func(ctx context.Context) error {
			for ctx.Err() == nil {
				n, err := m.Send(ctx)
				if err != nil || n < m.batch {
					return err
				}
			}
			return nil
		})
	}
	if m.cfg.IMAP.Enabled && m.inbound != nil {
		r.Every(PollSchedule, m.cfg.IMAP.PollInterval, func(ctx context.Context) error {
			rep, err := m.Poll(ctx)
			if rep.Fetched > 0 {
				m.log.Info("mailbox polled", "fetched", rep.Fetched, "replied", rep.Replied, "created", rep.Created,
					"skipped", rep.Skipped, "rejected", rep.Rejected, "failed", rep.Failed, "duplicates", rep.Duplicates)
			}
			return err
		})
	}
	m.runner.Store(r)
}

// Notify asks the registered runner to read new events now; it does nothing
// before Register. Chain it into the outbox's after-commit notification.
func (m *Mailer) Notify() {
	if r := m.runner.Load(); r != nil {
		r.Trigger(NotifySchedule)
	}
}
