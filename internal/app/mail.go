package app

// E-mail in and out: the mailer of internal/platform/mail, and the adapter
// that turns an inbound message into a comment on its record or a new
// incident, acting as the user whose address sent it.

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"steward/internal/operation/incident"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/mail"
	"steward/internal/platform/record"
)

// buildMail creates the mailer; it queues and sends only what its
// configuration enables (an SMTP host for notifications, an IMAP host for the poll).
func (a *App) buildMail() error {
	m, err := mail.New(mail.Deps{DB: a.DB, Config: a.Config.mailConfig(), Inbound: inbound{a}, Records: a.Records,
		Banner: func(ctx context.Context) (string, error) {
			p, err := a.Settings.Presentation(ctx)
			return p.BannerText, err
		}, Clock: a.Clock, Log: a.Log, NodeID: a.Config.NodeID})
	if err != nil {
		return fmt.Errorf("e-mail configuration: %w", err)
	}
	a.Mail = m
	return nil
}

// inbound takes in the polled mailbox's messages for the mailer.
type inbound struct{ a *App }

// sender finds the one enabled user whose address sent m and acts as them.
// An unknown or ambiguous address is refused: mail from outside the
// organisation's accounts does not open records (the mailer stores the
// refusal with the message).
func (in inbound) sender(ctx context.Context, m mail.Message) (context.Context, error) {
	addr := strings.ToLower(strings.TrimSpace(m.From))
	rows, err := in.a.DB.QueryContext(ctx, `SELECT id, username, display_name, is_admin FROM users
		WHERE lower(email) = ? AND NOT disabled ORDER BY id LIMIT 2`, addr)
	if err != nil {
		return ctx, fmt.Errorf("find the sender %s: %w", addr, err)
	}
	defer rows.Close()
	var found []auth.Principal
	for rows.Next() {
		var p auth.Principal
		if err := rows.Scan(&p.UserID, &p.Username, &p.DisplayName, &p.Admin); err != nil {
			return ctx, err
		}
		found = append(found, p)
	}
	if err := rows.Err(); err != nil {
		return ctx, err
	}
	switch len(found) {
	case 0:
		return ctx, errs.E(errs.Forbidden, "no enabled account has the address %s", addr)
	case 2:
		return ctx, errs.E(errs.Forbidden, "more than one account has the address %s", addr)
	}
	p := found[0]
	ctx = audit.WithActor(ctx, audit.Actor{Type: "user", ID: p.UserID, Name: p.Username})
	return auth.WithPrincipal(ctx, &p), nil
}

// Reply adds the message's text as a comment by its sender to the record.
func (in inbound) Reply(ctx context.Context, number string, m mail.Message) error {
	ctx, err := in.sender(ctx, m)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(m.Text)
	if text == "" {
		return errs.E(errs.Invalid, "the reply has no text")
	}
	_, err = in.a.Records.AddJournal(ctx, number, record.Comment, clip(text, 32000))
	return err
}

// New logs an incident for the sender, its title the subject and its
// description the text, by e-mail (channel email) with impact low and urgency
// medium until the desk categorises it.
func (in inbound) New(ctx context.Context, m mail.Message) (string, error) {
	ctx, err := in.sender(ctx, m)
	if err != nil {
		return "", err
	}
	title := strings.TrimSpace(m.Subject)
	if title == "" {
		title = "E-mail from " + m.From
	}
	inc, err := in.a.Incidents.Create(ctx, incident.NewIncident{Title: clip(title, 200), Description: clip(m.Text, 32000),
		Impact: 3, Urgency: 2, Channel: "email"})
	if err != nil {
		return "", err
	}
	return inc.Number, nil
}

// clip cuts s to at most n characters.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
