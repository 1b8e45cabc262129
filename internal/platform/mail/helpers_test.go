package mail_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/clock"
	"steward/internal/platform/db"
	"steward/internal/platform/mail"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// ticketType is a small record type of process IM: investigate (IM4), resolve
// (IM5), close (IM6), cancel (IM3, approved by an A holder). A ticket titled "SECRET …" is visible only to its
// requester, its assignee and administrators.
func ticketType() record.Type {
	return record.Type{Name: "ticket", Label: "Ticket", Prefix: "TKT", Process: "IM", Initial: "new",
		States: []record.State{{Name: "new", Label: "New"}, {Name: "in_progress", Label: "In progress"},
			{Name: "resolved", Label: "Resolved"}, {Name: "closed", Label: "Closed", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "investigate", From: []string{"new"}, To: "in_progress", Activity: "IM4", Label: "Investigate"},
			{Action: "resolve", From: []string{"new", "in_progress"}, To: "resolved", Activity: "IM5", Label: "Resolve"},
			{Action: "close", From: []string{"resolved"}, To: "closed", Activity: "IM6", Label: "Close"},
			{Action: "cancel", From: []string{"new", "in_progress"}, To: "closed", Activity: "IM3", Label: "Cancel", Approval: true},
		},
		Visible: func(_ context.Context, p *auth.Principal, r *record.Record) bool {
			if !strings.HasPrefix(r.Title, "SECRET") {
				return true
			}
			return p != nil && (p.Admin || p.UserID == r.RequesterID || p.UserID == r.AssigneeID)
		}}
}

// grant is one RACI cell a test user holds.
type grant struct {
	activity string
	letters  framework.Cell
	user     user
}

// testGuard is a RACI guard over a fixed list of grants, without scopes.
type testGuard struct {
	mu     sync.Mutex
	grants []grant
}

func (g *testGuard) give(activity string, letters framework.Cell, u user) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.grants = append(g.grants, grant{activity, letters, u})
}

func (g *testGuard) Decide(_ context.Context, p *auth.Principal, process, activity string, _ raci.Scope) (raci.Decision, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := raci.Decision{Process: process, Activity: activity, Performers: []raci.RoleRef{}}
	for _, gr := range g.grants {
		if gr.activity == activity && p != nil && gr.user.id == p.UserID && gr.letters&(framework.R|framework.A) != 0 {
			d.Allowed, d.Letter, d.Explanation = true, "R", "granted"
		}
	}
	if !d.Allowed {
		d.Explanation = "you hold neither R nor A for " + activity
	}
	return d, nil
}

func (g *testGuard) Holders(_ context.Context, _, activity string, letter framework.Cell, _ raci.Scope) ([]raci.Holder, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []raci.Holder
	for _, gr := range g.grants {
		if gr.activity == activity && gr.letters.Has(letter) {
			out = append(out, raci.Holder{UserID: gr.user.id, Username: gr.user.name, Role: "role-" + gr.user.name, Via: "directly"})
		}
	}
	return out, nil
}

// user is a test account.
type user struct {
	id    int64
	name  string
	email string
}

// env is the record kernel over a fresh database, with a fixed clock.
type env struct {
	t       testing.TB
	d       *db.DB
	clock   *clock.Fixed
	records *record.Service
	guard   *testGuard
	events  *outbox.Outbox
}

func newEnv(t testing.TB, d *db.DB) *env {
	t.Helper()
	c := clock.NewFixed(t0)
	e := &env{t: t, d: d, clock: c, guard: &testGuard{}, events: outbox.New(c, nil)}
	e.records = record.New(record.Deps{DB: d, Guard: e.guard, Trail: audit.NewTrail(c), Events: e.events, Clock: c})
	if err := e.records.Register(ticketType()); err != nil {
		t.Fatal(err)
	}
	return e
}

// user creates an account with an e-mail address (none when email is "").
func (e *env) user(name, email string, disabled bool) user {
	e.t.Helper()
	u := user{name: name, email: email}
	ctx := context.Background()
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO users (username, display_name, email, disabled, created_at, updated_at)
			VALUES (?, ?, ?, ?, 0, 0) RETURNING id`, name, strings.ToUpper(name[:1])+name[1:], email, disabled).Scan(&u.id)
	}); err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// team creates a team with members.
func (e *env) team(name string, members ...user) int64 {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	if err := e.d.InTx(ctx, func(tx *db.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO teams (name, created_at, updated_at) VALUES (?, 0, 0) RETURNING id`, name).Scan(&id); err != nil {
			return err
		}
		for _, m := range members {
			if _, err := tx.ExecContext(ctx, `INSERT INTO team_members (team_id, user_id) VALUES (?, ?)`, id, m.id); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// as is a context acting as u.
func as(u user) context.Context {
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: u.id, Username: u.name})
}

// asAdmin is a context acting as u, an administrator.
func asAdmin(u user) context.Context {
	return auth.WithPrincipal(context.Background(), &auth.Principal{UserID: u.id, Username: u.name, Admin: true})
}

// fakeInbound records what the poller hands it.
type fakeInbound struct {
	mu      sync.Mutex
	replies []reply
	created []mail.Message
	next    int
	// replyErr and newErr, when set, are returned (and cleared when once is set).
	replyErr, newErr error
	once             bool
}

type reply struct {
	Number string
	Msg    mail.Message
}

func (f *fakeInbound) Reply(_ context.Context, number string, m mail.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.replyErr; err != nil {
		if f.once {
			f.replyErr = nil
		}
		return err
	}
	f.replies = append(f.replies, reply{number, m})
	return nil
}

func (f *fakeInbound) New(_ context.Context, m mail.Message) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.newErr; err != nil {
		if f.once {
			f.newErr = nil
		}
		return "", err
	}
	f.created = append(f.created, m)
	f.next++
	return fmt.Sprintf("TKT%07d", 900+f.next), nil
}

func (f *fakeInbound) calls() ([]reply, []mail.Message) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]reply(nil), f.replies...), append([]mail.Message(nil), f.created...)
}

var errUnavailable = errors.New("database is restarting")

// config is a mail configuration against the in-process servers (either may be nil).
func config(sink *smtpSink, box *imapBox) mail.Config {
	c := mail.Config{BaseURL: "https://steward.example.com"}
	if sink != nil {
		c.SMTP = mail.SMTPConfig{Enabled: true, Host: "127.0.0.1", Port: sink.port(), TLS: mail.TLSNone,
			From: "servicedesk@example.com", FromName: "Service Desk"}
	}
	if box != nil {
		c.IMAP = mail.IMAPConfig{Enabled: true, Host: "127.0.0.1", Port: box.port(), TLS: mail.TLSNone,
			Username: box.user, Password: box.pass}
	}
	return c
}

func (e *env) mailer(cfg mail.Config, in mail.Inbound, banner string) *mail.Mailer {
	e.t.Helper()
	m, err := mail.New(mail.Deps{DB: e.d, Config: cfg, Inbound: in, Records: e.records, Clock: e.clock,
		Banner: func(context.Context) (string, error) { return banner, nil }})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

// drain queues every pending event and sends every due message.
func drain(t testing.TB, m *mail.Mailer) {
	t.Helper()
	ctx := context.Background()
	for {
		n, _, err := m.Queue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	for {
		n, err := m.Send(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
}
