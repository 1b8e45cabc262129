package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// Inbound limits.
const (
	// pollBatch is how many unseen messages one poll takes.
	pollBatch = 50
	// inboundLease bounds a claim on a message: a node that crashed while
	// handling it leaves it to the next poll after this long.
	inboundLease = 10 * time.Minute
	// maxInboundAttempts is how often a message whose handler fails is tried.
	maxInboundAttempts = 5
	// imapTimeout bounds each IMAP round trip.
	imapTimeout = time.Minute
)

// Inbound outcomes (mail_inbound.status).
const (
	StatusProcessing = "processing"
	StatusReplied    = "replied"
	StatusCreated    = "created"
	StatusSkipped    = "skipped"
	StatusRejected   = "rejected"
	StatusFailed     = "failed"
)

// PollReport says what one poll did.
type PollReport struct {
	// Fetched counts the unseen messages read.
	Fetched int `json:"fetched"`
	// Replied counts comments added to records, Created records opened.
	Replied int `json:"replied"`
	Created int `json:"created"`
	// Skipped counts automatic replies, bounces, our own mail and rate-limited senders.
	Skipped int `json:"skipped"`
	// Rejected counts messages the handler refused.
	Rejected int `json:"rejected"`
	// Failed counts messages whose handler failed; they are tried again, up to five times.
	Failed int `json:"failed"`
	// Duplicates counts messages handled before (their \Seen flag had not been stored).
	Duplicates int `json:"duplicates"`
	// Busy counts messages another node is handling.
	Busy int `json:"busy"`
	// More is set when more unseen messages wait than one poll takes.
	More bool `json:"more"`
}

// Poll reads the unseen messages of the monitored mailbox and hands each to
// the Inbound handler once: a reply naming a record (by [NUMBER] in its subject,
// or by referring to a notification Steward sent) becomes a comment; any
// other message a new record, at most IMAP.MaxNewPerHour per sender. Automatic
// replies, bounces and our own mail are skipped, with the reason recorded.
// Handled messages are flagged \Seen (and moved when configured); a message
// whose handler failed stays unseen and is tried again at the next poll.
func (m *Mailer) Poll(ctx context.Context) (rep PollReport, err error) {
	if !m.cfg.IMAP.Enabled || m.inbound == nil {
		return rep, errs.E(errs.Conflict, "inbound mail is not enabled")
	}
	c, err := m.dialIMAP()
	if err != nil {
		return rep, fmt.Errorf("poll mailbox: connect to %s:%d: %w", m.cfg.IMAP.Host, m.cfg.IMAP.Port, err)
	}
	defer c.Close()
	if err := c.Login(m.cfg.IMAP.Username, m.cfg.IMAP.Password).Wait(); err != nil {
		return rep, fmt.Errorf("poll mailbox: log in as %s: %w", m.cfg.IMAP.Username, err)
	}
	if _, err := c.Select(m.cfg.IMAP.Mailbox, nil).Wait(); err != nil {
		return rep, fmt.Errorf("poll mailbox: select %s: %w", m.cfg.IMAP.Mailbox, err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return rep, fmt.Errorf("poll mailbox: search unseen messages: %w", err)
	}
	uids := found.AllUIDs()
	slices.Sort(uids)
	if len(uids) > pollBatch {
		uids, rep.More = uids[:pollBatch], true
	}
	for _, uid := range uids {
		if ctx.Err() != nil {
			break
		}
		raw, size, err := m.fetch(c, uid)
		if err != nil {
			return rep, fmt.Errorf("poll mailbox: fetch message %d: %w", uid, err)
		}
		rep.Fetched++
		outcome, err := m.handle(ctx, raw, size)
		if err != nil {
			return rep, fmt.Errorf("poll mailbox: message %d: %w", uid, err)
		}
		switch outcome {
		case StatusReplied:
			rep.Replied++
		case StatusCreated:
			rep.Created++
		case StatusSkipped:
			rep.Skipped++
		case StatusRejected:
			rep.Rejected++
		case StatusFailed:
			rep.Failed++
		case outcomeDuplicate:
			rep.Duplicates++
		case outcomeBusy, outcomeRetry:
			if outcome == outcomeBusy {
				rep.Busy++
			} else {
				rep.Failed++
			}
			continue // stays unseen
		}
		m.markHandled(c, uid)
	}
	if err := c.Logout().Wait(); err != nil {
		m.log.Debug("IMAP logout", "err", err)
	}
	return rep, nil
}

// Outcomes of handle besides the stored statuses.
const (
	outcomeDuplicate = "duplicate" // handled before
	outcomeBusy      = "busy"      // another node holds the claim
	outcomeRetry     = "retry"     // the handler failed; try again later
)

// dialIMAP connects to the mailbox server as configured.
func (m *Mailer) dialIMAP() (*imapclient.Client, error) {
	c := m.cfg.IMAP
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	opts := &imapclient.Options{TLSConfig: m.cfg.tlsConfig(c.Host), Dialer: &net.Dialer{Timeout: DefaultDialTimeout}}
	switch c.TLS {
	case TLSImplicit:
		return imapclient.DialTLS(addr, opts)
	case TLSStartTLS:
		return imapclient.DialStartTLS(addr, opts)
	default:
		return imapclient.DialInsecure(addr, opts)
	}
}

// fetch reads a message without setting \Seen: its size and at most
// MaxMessageBytes+1 of its content.
func (m *Mailer) fetch(c *imapclient.Client, uid imap.UID) ([]byte, int64, error) {
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: m.cfg.IMAP.MaxMessageBytes + 1}}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, RFC822Size: true,
		BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, 0, err
	}
	if len(msgs) == 0 {
		return nil, 0, errors.New("the server returned no message")
	}
	var raw []byte
	for _, s := range msgs[0].BodySection {
		raw = s.Bytes
	}
	return raw, msgs[0].RFC822Size, nil
}

// markHandled flags a message \Seen and moves it to the processed folder when
// one is configured. A failure is only logged: the message is remembered as
// handled, so the next poll does not take it in again.
func (m *Mailer) markHandled(c *imapclient.Client, uid imap.UID) {
	set := imap.UIDSetNum(uid)
	if err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		m.log.Warn("flag handled message \\Seen", "uid", uid, "err", err)
	}
	if to := m.cfg.IMAP.ProcessedMailbox; to != "" {
		if _, err := c.Move(set, to).Wait(); err != nil {
			m.log.Warn("move handled message", "uid", uid, "to", to, "err", err)
		}
	}
}

// handle takes in one message once and returns what became of it.
func (m *Mailer) handle(ctx context.Context, raw []byte, size int64) (string, error) {
	p, perr := ParseMessage(raw)
	if perr != nil {
		// Without a readable header the message is known by its hash.
		p = Parsed{Message: Message{MessageID: hashID(raw)}}
	}
	key := p.MessageID
	claimed, status, err := m.claimInbound(ctx, key, p)
	if err != nil || !claimed {
		return status, err
	}
	reason := ""
	switch {
	case perr != nil:
		reason = "unreadable: " + describe(perr)
	case size > m.cfg.IMAP.MaxMessageBytes || int64(len(raw)) > m.cfg.IMAP.MaxMessageBytes:
		reason = fmt.Sprintf("too large: %d bytes (the limit is %d)", max(size, int64(len(raw))), m.cfg.IMAP.MaxMessageBytes)
	default:
		reason = LoopReason(p.From, p.Subject, p.Signals, m.ourAddresses())
	}
	if reason != "" {
		m.log.Info("inbound mail skipped", "from", p.From, "messageId", p.MessageID, "reason", reason)
		return StatusSkipped, m.finishInbound(ctx, key, StatusSkipped, reason, "")
	}

	number, how := NumberFromSubject(p.Subject), "subject"
	if number == "" {
		if number, err = m.numberFromReferences(ctx, p.Message); err != nil {
			return "", err
		}
		how = "references"
	}
	msg := p.Message
	if number != "" {
		msg.Text = StripQuoted(msg.Text)
		err := m.inbound.Reply(ctx, number, msg)
		if err == nil {
			return StatusReplied, m.finishInbound(ctx, key, StatusReplied, "named in the "+how, number)
		}
		if !errs.Is(err, errs.NotFound) {
			return m.failInbound(ctx, key, err)
		}
		// A number that names no record (or one the sender may not see): the message opens a record instead.
		msg.Text = p.Message.Text
	}
	n, err := m.countCreated(ctx, p.From)
	if err != nil {
		return "", err
	}
	if n >= m.cfg.IMAP.MaxNewPerHour {
		reason := fmt.Sprintf("rate limit: %s opened %d records by mail in the last hour (at most %d)", p.From, n, m.cfg.IMAP.MaxNewPerHour)
		m.log.Warn("inbound mail skipped", "from", p.From, "messageId", p.MessageID, "reason", reason)
		return StatusSkipped, m.finishInbound(ctx, key, StatusSkipped, reason, "")
	}
	created, err := m.inbound.New(ctx, msg)
	if err != nil {
		return m.failInbound(ctx, key, err)
	}
	why := "names no record"
	if number != "" {
		why = "names " + number + ", which the sender cannot reach"
	}
	return StatusCreated, m.finishInbound(ctx, key, StatusCreated, why, created)
}

// ourAddresses are the addresses whose mail is Steward's own.
func (m *Mailer) ourAddresses() []string {
	out := []string{m.cfg.SMTP.From}
	if strings.Contains(m.cfg.IMAP.Username, "@") {
		out = append(out, m.cfg.IMAP.Username)
	}
	return append(out, m.cfg.IMAP.Addresses...)
}

// numberFromReferences finds the record of a reply that lost its subject:
// In-Reply-To or References naming a notification we sent, or a record's thread.
func (m *Mailer) numberFromReferences(ctx context.Context, msg Message) (string, error) {
	ids := append([]string{msg.InReplyTo}, msg.References...)
	ids = slices.DeleteFunc(ids, func(s string) bool { return s == "" })
	if n := NumberFromThread(ids, m.domain); n != "" {
		return n, nil
	}
	if len(ids) == 0 {
		return "", nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	var n string
	err := m.db.QueryRowContext(ctx, `SELECT record_number FROM mail_messages WHERE message_id IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`) AND record_number <> '' ORDER BY id DESC LIMIT 1`, args...).Scan(&n)
	if db.IsNoRows(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up the notification replied to: %w", err)
	}
	return n, nil
}

// claimInbound records a message as being handled by this node. It returns
// false with the outcome when the message was handled before or another node
// is handling it; a claim that outlived its lease is taken over.
func (m *Mailer) claimInbound(ctx context.Context, key string, p Parsed) (bool, string, error) {
	now := m.clock.Now().UnixMilli()
	var date int64
	if !p.Date.IsZero() {
		date = p.Date.UnixMilli()
	}
	res, err := m.db.ExecContext(ctx, `INSERT INTO mail_inbound (message_key, from_addr, subject, status, mail_date,
			lease_until, created_at, updated_at) VALUES (?, ?, ?, 'processing', ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		key, p.From, p.Subject, date, now+inboundLease.Milliseconds(), now, now)
	if err != nil {
		return false, "", fmt.Errorf("remember the message: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, "", nil
	}
	res, err = m.db.ExecContext(ctx, `UPDATE mail_inbound SET lease_until = ?, updated_at = ?
		WHERE message_key = ? AND status = 'processing' AND lease_until <= ?`, now+inboundLease.Milliseconds(), now, key, now)
	if err != nil {
		return false, "", fmt.Errorf("take over the message: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, "", nil
	}
	var status string
	if err := m.db.QueryRowContext(ctx, `SELECT status FROM mail_inbound WHERE message_key = ?`, key).Scan(&status); err != nil {
		return false, "", fmt.Errorf("read the message's status: %w", err)
	}
	if status == StatusProcessing {
		return false, outcomeBusy, nil
	}
	return false, outcomeDuplicate, nil
}

// finishInbound stores a message's final outcome.
func (m *Mailer) finishInbound(ctx context.Context, key, status, reason, number string) error {
	now := m.clock.Now().UnixMilli()
	if _, err := m.db.ExecContext(context.WithoutCancel(ctx), `UPDATE mail_inbound SET status = ?, reason = ?, record_number = ?,
		attempts = attempts + 1, lease_until = 0, updated_at = ? WHERE message_key = ?`,
		status, truncateRunes(reason, 500), number, now, key); err != nil {
		return fmt.Errorf("record what became of the message: %w", err)
	}
	return nil
}

// failInbound records a handler's error: a refusal is final; any other error
// leaves the message to the next poll, until it has failed five times.
func (m *Mailer) failInbound(ctx context.Context, key string, herr error) (string, error) {
	switch errs.KindOf(herr) {
	case errs.Invalid, errs.NotFound, errs.Forbidden, errs.Conflict, errs.Unauthenticated, errs.TooLarge:
		m.log.Info("inbound mail rejected", "messageId", key, "reason", herr)
		return StatusRejected, m.finishInbound(ctx, key, StatusRejected, describe(herr), "")
	}
	var attempts int
	var status string
	now := m.clock.Now().UnixMilli()
	err := m.db.InTx(context.WithoutCancel(ctx), func(tx *db.Tx) error {
		return tx.QueryRowContext(ctx, `UPDATE mail_inbound SET attempts = attempts + 1, reason = ?, lease_until = 0, updated_at = ?,
				status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE status END
			WHERE message_key = ? RETURNING attempts, status`,
			truncateRunes(describe(herr), 500), now, maxInboundAttempts, key).Scan(&attempts, &status)
	})
	if err != nil {
		return "", fmt.Errorf("record the handler's failure: %w", err)
	}
	if status == StatusFailed {
		m.log.Error("inbound mail failed for good", "messageId", key, "attempts", attempts, "err", herr)
		return StatusFailed, nil
	}
	m.log.Warn("inbound mail failed; it is tried again at the next poll", "messageId", key, "attempts", attempts, "err", herr)
	return outcomeRetry, nil
}

// countCreated counts the records a sender opened by mail in the last hour.
func (m *Mailer) countCreated(ctx context.Context, from string) (int, error) {
	var n int
	since := m.clock.Now().Add(-time.Hour).UnixMilli()
	if err := m.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM mail_inbound WHERE from_addr = ? AND status = 'created'
		AND updated_at > ?`, from, since).Scan(&n); err != nil {
		return 0, fmt.Errorf("count the sender's records: %w", err)
	}
	return n, nil
}
