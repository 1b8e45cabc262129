package mail_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/mail"
	"steward/internal/platform/record"
)

// personal is a message a person writes.
func personal(from, subject, body string, extra ...string) []byte {
	h := fmt.Sprintf("From: %s\r\nTo: desk@example.com\r\nSubject: %s\r\nDate: Mon, 02 Mar 2026 10:00:00 +0000\r\n", from, subject)
	for _, x := range extra {
		h += x + "\r\n"
	}
	if !strings.Contains(h, "Message-ID:") {
		h += fmt.Sprintf("Message-ID: <%d.%s>\r\n", time.Now().UnixNano(), strings.Trim(strings.SplitN(from, "<", 2)[len(strings.SplitN(from, "<", 2))-1], "<>"))
	}
	return []byte(h + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + "\r\n")
}

func received(t *testing.T, m *mail.Mailer) map[string]mail.Received {
	t.Helper()
	rs, err := m.ReceivedMessages(context.Background(), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]mail.Received{}
	for _, r := range rs {
		out[r.Subject] = r
	}
	return out
}

// TestInboundPoll: messages appended to a real IMAP mailbox become a Reply (by
// the number in the subject, or by referring to a notification we sent) or a
// New; an auto-reply, a bounce and our own notification are skipped with their
// reasons; every message is handled once, even when its \Seen flag is lost.
func TestInboundPoll(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		sink := newSMTPSink(t)
		box := newIMAPBox(t)
		in := &fakeInbound{}
		m := e.mailer(config(sink, box), in, "UNCLASSIFIED")
		alice := e.user("alice", "alice@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		r, err := e.records.Create(as(bob), "ticket", record.NewRecord{Title: "VPN drops every hour", RequesterID: alice.id, AssigneeID: bob.id})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		sent := sink.messages()
		if len(sent) != 1 {
			t.Fatalf("sent %d notifications", len(sent))
		}
		notice := sent[0].Data
		noticeID := strings.Trim(header(notice, "Message-Id"), "<>")
		if !strings.Contains(string(notice), mail.ReplyMarker) {
			t.Fatalf("a notification with inbound mail on carries no reply marker:\n%s", notice)
		}

		box.deliver("INBOX",
			readSample(t, "reply.eml"),
			personal("Alice <alice@example.com>", "Re: [TKT0000001] Opened: VPN drops every hour",
				"It still drops.\r\n\r\nOn Mon, 2 Mar 2026, Service Desk wrote:\r\n> "+mail.ReplyMarker+"\r\n> old text"),
			personal("Dave <dave@example.com>", "Printer on fire", "The printer on floor 3 is on fire."),
			personal("Alice <alice@example.com>", "Re: your mail", "Answer without the number.",
				"In-Reply-To: <"+noticeID+">"),
			readSample(t, "autoreply.eml"),
			readSample(t, "bounce.eml"),
			notice,
		)
		rep, err := m.Poll(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rep != (mail.PollReport{Fetched: 7, Replied: 3, Created: 1, Skipped: 3}) {
			t.Fatalf("report %+v", rep)
		}
		replies, created := in.calls()
		if len(replies) != 3 || len(created) != 1 {
			t.Fatalf("replies %+v, created %+v", replies, created)
		}
		want := []reply{
			{"INC0000042", mail.Message{From: "alice@example.com", FromName: "Alice Adams", Text: "It still drops – every hour."}},
			{r.Number, mail.Message{From: "alice@example.com", FromName: "Alice", Text: "It still drops."}},
			{r.Number, mail.Message{From: "alice@example.com", FromName: "Alice", Text: "Answer without the number."}},
		}
		for i, w := range want {
			g := replies[i]
			if g.Number != w.Number || g.Msg.From != w.Msg.From || g.Msg.FromName != w.Msg.FromName || g.Msg.Text != w.Msg.Text || g.Msg.MessageID == "" {
				t.Errorf("reply %d: %+v, want %+v", i, g, w)
			}
		}
		if replies[2].Msg.InReplyTo != noticeID {
			t.Errorf("In-Reply-To %q, want %q", replies[2].Msg.InReplyTo, noticeID)
		}
		if c := created[0]; c.From != "dave@example.com" || c.Subject != "Printer on fire" || c.Text != "The printer on floor 3 is on fire." ||
			!c.Date.Equal(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) {
			t.Errorf("created %+v", c)
		}

		got := received(t, m)
		for subject, w := range map[string]struct{ status, reason, record string }{
			"Re: [INC0000042] Resolved: VPN drops every hour": {mail.StatusReplied, "named in the subject", "INC0000042"},
			"Re: your mail":   {mail.StatusReplied, "named in the references", r.Number},
			"Printer on fire": {mail.StatusCreated, "names no record", "TKT0000901"},
			"Automatic reply: [INC0000042] Resolved: VPN drops every hour": {mail.StatusSkipped, "auto-reply: Auto-Submitted: auto-replied", ""},
			"Undelivered Mail Returned to Sender":                          {mail.StatusSkipped, "bounce: a delivery report (multipart/report)", ""},
			"[TKT0000001] Opened: VPN drops every hour":                    {mail.StatusSkipped, "own mail: it carries X-Steward-Loop", ""},
			"Re: [TKT0000001] Opened: VPN drops every hour":                {mail.StatusReplied, "named in the subject", r.Number},
		} {
			g, ok := got[subject]
			if !ok || g.Status != w.status || g.Reason != w.reason || g.Record != w.record {
				t.Errorf("%q: %+v, want %+v", subject, g, w)
			}
		}
		for subject, seen := range box.flags("INBOX") {
			if !seen {
				t.Errorf("%q is not flagged \\Seen", subject)
			}
		}

		// A second poll finds nothing; when the flags are lost, the messages are recognised and not taken in again.
		if rep, err := m.Poll(ctx); err != nil || rep != (mail.PollReport{}) {
			t.Fatalf("second poll: %+v %v", rep, err)
		}
		box.unsee()
		if rep, err := m.Poll(ctx); err != nil || rep != (mail.PollReport{Fetched: 7, Duplicates: 7}) {
			t.Fatalf("poll after the flags were lost: %+v %v", rep, err)
		}
		if replies, created := in.calls(); len(replies) != 3 || len(created) != 1 {
			t.Fatalf("handled again: %d replies, %d created", len(replies), len(created))
		}
		for subject, seen := range box.flags("INBOX") {
			if !seen {
				t.Errorf("%q is not flagged \\Seen again", subject)
			}
		}
	})
}

// TestInboundLimitsAndFailures: a sender opens at most MaxNewPerHour records
// an hour; a handler that fails leaves the message for the next poll; a
// refusal is final; a number that names no record opens one; handled
// messages move to the processed folder.
func TestInboundLimitsAndFailures(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		box := newIMAPBox(t)
		in := &fakeInbound{}
		cfg := config(nil, box)
		cfg.IMAP.MaxNewPerHour = 2
		cfg.IMAP.ProcessedMailbox = "Processed"
		m := e.mailer(cfg, in, "")

		box.deliver("INBOX",
			personal("Spammy <spammy@example.com>", "one", "1"),
			personal("Spammy <spammy@example.com>", "two", "2"),
			personal("Spammy <spammy@example.com>", "three", "3"))
		rep, err := m.Poll(ctx)
		if err != nil || rep != (mail.PollReport{Fetched: 3, Created: 2, Skipped: 1}) {
			t.Fatalf("poll: %+v %v", rep, err)
		}
		if g := received(t, m)["three"]; g.Status != mail.StatusSkipped || !strings.HasPrefix(g.Reason, "rate limit: spammy@example.com opened 2 records") {
			t.Fatalf("third message: %+v", g)
		}
		if f := box.flags("Processed"); len(f) != 3 || len(box.flags("INBOX")) != 0 {
			t.Fatalf("processed %v, inbox %v", f, box.flags("INBOX"))
		}
		// An hour later the sender may open records again.
		e.clock.Advance(61 * time.Minute)

		in.newErr, in.once = errUnavailable, true
		box.deliver("INBOX", personal("Spammy <spammy@example.com>", "four", "4"))
		if rep, err := m.Poll(ctx); err != nil || rep != (mail.PollReport{Fetched: 1, Failed: 1}) {
			t.Fatalf("poll with a failing handler: %+v %v", rep, err)
		}
		if f := box.flags("INBOX"); len(f) != 1 || f["four"] {
			t.Fatalf("the failed message left the inbox or was flagged: %v", f)
		}
		if g := received(t, m)["four"]; g.Status != mail.StatusProcessing || g.Attempts != 1 || g.Reason != errUnavailable.Error() {
			t.Fatalf("failed message: %+v", g)
		}
		if rep, err := m.Poll(ctx); err != nil || rep != (mail.PollReport{Fetched: 1, Created: 1}) {
			t.Fatalf("retry: %+v %v", rep, err)
		}

		in.newErr, in.once = errs.E(errs.Forbidden, "no account has the address stranger@example.com"), true
		in.replyErr = errs.E(errs.NotFound, "no record TKT0000077")
		box.deliver("INBOX",
			personal("Stranger <stranger@example.com>", "hello", "who are you"),
			personal("Bob <bob@example.com>", "Re: [TKT0000077] gone", "about an old one"))
		if rep, err := m.Poll(ctx); err != nil || rep != (mail.PollReport{Fetched: 2, Rejected: 1, Created: 1}) {
			t.Fatalf("poll: %+v %v", rep, err)
		}
		got := received(t, m)
		if g := got["hello"]; g.Status != mail.StatusRejected || !strings.Contains(g.Reason, "no account has the address") {
			t.Errorf("refused: %+v", g)
		}
		if g := got["Re: [TKT0000077] gone"]; g.Status != mail.StatusCreated || g.Reason != "names TKT0000077, which the sender cannot reach" {
			t.Errorf("unknown number: %+v", g)
		}
		_, created := in.calls()
		if last := created[len(created)-1]; last.Text != "about an old one" || last.Subject != "Re: [TKT0000077] gone" {
			t.Errorf("created from an unknown number: %+v", last)
		}

		// A handler that keeps failing gives up after five attempts.
		in.newErr, in.once = errUnavailable, false
		box.deliver("INBOX", personal("Carol <carol@example.com>", "stuck", "x"))
		for i := range 5 {
			rep, err := m.Poll(ctx)
			if err != nil || rep.Failed != 1 {
				t.Fatalf("attempt %d: %+v %v", i+1, rep, err)
			}
		}
		if g := received(t, m)["stuck"]; g.Status != mail.StatusFailed || g.Attempts != 5 {
			t.Fatalf("stuck: %+v", g)
		}
		if rep, err := m.Poll(ctx); err != nil || rep != (mail.PollReport{}) {
			t.Fatalf("after giving up: %+v %v", rep, err)
		}
	})
}

// TestPollNeedsInbound: without inbound mail the poll refuses.
func TestPollNeedsInbound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, dbtest.Open(t, db.SQLite))
	m := e.mailer(mail.Config{}, nil, "")
	if _, err := m.Poll(context.Background()); !errs.Is(err, errs.Conflict) {
		t.Fatalf("poll without inbound mail: %v", err)
	}
}
