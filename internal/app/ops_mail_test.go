package app_test

// End-to-end e-mail in and out (issue 6) against real in-process servers: an
// SMTP sink (go-smtp) receives Steward's notifications and an IMAP server
// (go-imap v2's imapmemserver) holds the monitored mailbox. The application
// runs its own job runner, as the server does, so notifications, sending and
// polling happen on their schedules; the test only waits for their outcome.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-smtp"

	"steward/internal/app"
	"steward/internal/platform/db"
)

// sunkMail is one message the SMTP sink accepted.
type sunkMail struct {
	From string
	To   []string
	Data []byte
}

// mailSink is a real SMTP server, in process, that keeps what it accepts.
type mailSink struct {
	addr string
	mu   sync.Mutex
	got  []sunkMail
}

func newMailSink(t *testing.T) *mailSink {
	t.Helper()
	s := &mailSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSinkSession{sink: s}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *mailSink) messages() []sunkMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunkMail(nil), s.got...)
}

type mailSinkSession struct {
	sink *mailSink
	from string
	to   []string
}

func (ss *mailSinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *mailSinkSession) Logout() error { return nil }

func (ss *mailSinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *mailSinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *mailSinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.sink.mu.Lock()
	ss.sink.got = append(ss.sink.got, sunkMail{From: ss.from, To: append([]string(nil), ss.to...), Data: b})
	ss.sink.mu.Unlock()
	return nil
}

// mailBox is a real IMAP server, in process, with one user and an INBOX.
type mailBox struct {
	addr, user, pass string
}

func newMailBox(t *testing.T) *mailBox {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("desk@example.mil", "mailbox-secret")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		InsecureAuth: true,
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &mailBox{addr: ln.Addr().String(), user: "desk@example.mil", pass: "mailbox-secret"}
}

// deliver appends a raw message (LF or CRLF line ends) to the INBOX, unseen.
func (b *mailBox) deliver(t *testing.T, raw string) {
	t.Helper()
	c, err := imapclient.DialInsecure(b.addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(b.user, b.pass).Wait(); err != nil {
		t.Fatal(err)
	}
	data := []byte(strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n"))
	cmd := c.Append("INBOX", int64(len(data)), nil)
	if _, err := cmd.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// portOf is the port of a host:port address.
func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// readMail is a sunk message parsed: decoded subject and text body.
type readMail struct {
	To        []string
	Subject   string
	MessageID string
	Header    netmail.Header
	Body      string
}

func parseMail(t *testing.T, m sunkMail) readMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
	if err != nil {
		t.Fatalf("parse a sent message: %v\n%s", err, m.Data)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject %q: %v", msg.Header.Get("Subject"), err)
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("read the body: %v", err)
	}
	return readMail{To: m.To, Subject: subject, MessageID: msg.Header.Get("Message-ID"), Header: msg.Header, Body: string(b)}
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runJobs runs the application's job runner, as the server does, until the test ends.
func runJobs(t *testing.T, h *harness) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = h.App.Jobs.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// inboundStatus returns the status and reason the mailbox poll stored for the message with subject, or "".
func inboundStatus(t *testing.T, h *harness, subject string) (status, reason, number string) {
	t.Helper()
	err := h.App.DB.QueryRowContext(context.Background(), `SELECT status, reason, record_number FROM mail_inbound WHERE subject = ?`,
		subject).Scan(&status, &reason, &number)
	if err != nil && !strings.Contains(err.Error(), "no rows") {
		t.Fatal(err)
	}
	return status, reason, number
}

// TestOpsMailInAndOut: the resolution of an incident mails its caller
// ("[INC…] Resolved: …"); the caller's reply in the monitored mailbox becomes
// a comment on the incident; a new message from the caller becomes an
// incident logged by e-mail; an auto-reply creates nothing.
func TestOpsMailInAndOut(t *testing.T) {
	t.Parallel()
	eachEngine(t, func(t *testing.T, e db.Engine) {
		sink, box := newMailSink(t), newMailBox(t)
		h := newHarness(t, e, func(c *app.Config) {
			c.BaseURL = "https://steward.example.mil"
			c.SMTP = app.SMTPConfig{Host: "127.0.0.1", Port: portOf(t, sink.addr), TLS: "none", From: "servicedesk@example.mil",
				FromName: "Service Desk"}
			c.IMAP = app.IMAPConfig{Host: "127.0.0.1", Port: portOf(t, box.addr), TLS: "none", Username: box.user, Password: box.pass,
				PollInterval: 200 * time.Millisecond}
		})
		w := newOpsWorldOn(t, h)
		const callerAddr, agentAddr = "pat.caller@example.mil", "sam.agent@example.mil"
		w.patchUser(t, w.caller.ID, map[string]any{"email": callerAddr, "displayName": "Pat Caller"})
		w.patchUser(t, w.agent.ID, map[string]any{"email": agentAddr})
		runJobs(t, h)

		// Out: the agent resolves the caller's incident; the caller is mailed.
		inc := w.logIncident(t, w.caller.Token, map[string]any{"title": "VPN drops every hour", "impact": 3, "urgency": 2,
			"category": "network", "subcategory": "vpn"})
		w.mustStep(t, w.agent.Token, inc, "resolve", map[string]any{"resolutionCode": "workaround",
			"resolutionNotes": "Switched your profile to the backup concentrator.", "effortMinutes": 10, "firstContact": true}, "resolved")
		wantSubject := "[" + inc.Number + "] Resolved: VPN drops every hour"
		var resolved readMail
		eventually(t, 20*time.Second, "no mail "+wantSubject+" to the caller", func() bool {
			for _, m := range sink.messages() {
				r := parseMail(t, m)
				if r.Subject == wantSubject && len(r.To) == 1 && strings.EqualFold(r.To[0], callerAddr) {
					resolved = r
					return true
				}
			}
			return false
		})
		if !strings.Contains(resolved.Body, "Switched your profile to the backup concentrator.") ||
			!strings.Contains(resolved.Body, "https://steward.example.mil/records/"+inc.Number) {
			t.Errorf("the resolution mail's body:\n%s", resolved.Body)
		}
		if got := resolved.Header.Get("Auto-Submitted"); got != "auto-generated" {
			t.Errorf("Auto-Submitted = %q", got)
		}
		if from, err := netmail.ParseAddress(resolved.Header.Get("From")); err != nil || from.Address != "servicedesk@example.mil" {
			t.Errorf("From = %q (%v)", resolved.Header.Get("From"), err)
		}
		for _, m := range sink.messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, agentAddr) {
					t.Errorf("the agent, who acted, was mailed: %s", parseMail(t, m).Subject)
				}
			}
		}

		// In: the caller's reply becomes a comment on the incident, without the quoted notification.
		replySubject := "Re: " + wantSubject
		box.deliver(t, fmt.Sprintf(`From: Pat Caller <%s>
To: Service Desk <servicedesk@example.mil>
Subject: %s
Message-ID: <reply-1@example.mil>
In-Reply-To: %s
Date: Mon, 3 Mar 2025 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Still drops at 11:00, I am afraid.

On Mon, 3 Mar 2025 at 09:00, Service Desk wrote:
> Switched your profile to the backup concentrator.
`, callerAddr, replySubject, resolved.MessageID))
		var comment journalEntry
		eventually(t, 20*time.Second, "the reply is not a comment on "+inc.Number, func() bool {
			for _, j := range w.journal(t, w.agent.Token, inc.Number) {
				if j.Kind == "comment" && strings.Contains(j.Body, "Still drops at 11:00") {
					comment = j
					return true
				}
			}
			return false
		})
		if comment.AuthorID != w.caller.ID || strings.Contains(comment.Body, "wrote:") || strings.Contains(comment.Body, "backup concentrator") {
			t.Errorf("the comment = %+v", comment)
		}
		if st, _, n := inboundStatus(t, h, replySubject); st != "replied" || n != inc.Number {
			t.Errorf("the reply was %q on %q", st, n)
		}

		// In: an auto-reply creates nothing.
		before := h.count(t, "records", "type = ?", "incident")
		box.deliver(t, fmt.Sprintf(`From: Pat Caller <%s>
To: servicedesk@example.mil
Subject: Away until Monday
Message-ID: <auto-1@example.mil>
Auto-Submitted: auto-replied
Date: Mon, 3 Mar 2025 10:05:00 +0000
Content-Type: text/plain; charset=utf-8

I am away until Monday and will read your message then.
`, callerAddr))
		// In: a new message from the caller logs an incident by e-mail.
		const newSubject = "Printer on floor 3 is offline"
		box.deliver(t, fmt.Sprintf(`From: Pat Caller <%s>
To: servicedesk@example.mil
Subject: %s
Message-ID: <new-1@example.mil>
Date: Mon, 3 Mar 2025 10:10:00 +0000
Content-Type: text/plain; charset=utf-8

The printer by the stairs shows "offline" since this morning.
`, callerAddr, newSubject))
		eventually(t, 20*time.Second, "the auto-reply and the new message are not both handled", func() bool {
			a, _, _ := inboundStatus(t, h, "Away until Monday")
			n, _, _ := inboundStatus(t, h, newSubject)
			return a != "" && a != "processing" && n != "" && n != "processing"
		})
		if st, reason, _ := inboundStatus(t, h, "Away until Monday"); st != "skipped" {
			t.Errorf("the auto-reply was %q (%s), want skipped", st, reason)
		}
		st, reason, number := inboundStatus(t, h, newSubject)
		if st != "created" || !strings.HasPrefix(number, "INC") {
			t.Fatalf("the new message was %q (%s) as %q, want an incident created", st, reason, number)
		}
		if n := h.count(t, "records", "type = ?", "incident"); n != before+1 {
			t.Errorf("incidents: %d before, %d after; want one more (the auto-reply creates none)", before, n)
		}
		got := w.incident(t, w.caller.Token, number)
		if got.Title != newSubject || got.Channel != "email" || got.RequesterID != w.caller.ID || got.State != "new" {
			t.Errorf("the incident by e-mail = %+v", got)
		}
		nums, _ := w.numbersOf(t, w.caller.Token, "/api/v1/incidents?caller="+itoa(w.caller.ID))
		if len(nums) != 2 {
			t.Errorf("the caller's incidents = %v", nums)
		}
	})
}
