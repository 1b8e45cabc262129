package mail_test

import (
	"bytes"
	"errors"
	"io"
	"net"
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
)

// sunk is one message the SMTP sink accepted.
type sunk struct {
	From string
	To   []string
	Data []byte
}

// smtpSink is a real SMTP server, in process, that keeps what it accepts. Its
// refusal, when set, is returned at MAIL FROM (a 4xx is temporary, a 5xx permanent).
type smtpSink struct {
	addr   string
	mu     sync.Mutex
	got    []sunk
	refuse *smtp.SMTPError
	// refuseRcpt refuses one recipient address permanently.
	refuseRcpt string
	sessions   int
}

func newSMTPSink(t *testing.T) *smtpSink {
	t.Helper()
	s := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		return &sinkSession{sink: s}, nil
	}))
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

func (s *smtpSink) port() int {
	_, p, _ := net.SplitHostPort(s.addr)
	n, _ := strconv.Atoi(p)
	return n
}

func (s *smtpSink) setRefusal(e *smtp.SMTPError) {
	s.mu.Lock()
	s.refuse = e
	s.mu.Unlock()
}

func (s *smtpSink) messages() []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sunk(nil), s.got...)
}

type sinkSession struct {
	sink *smtpSink
	from string
	to   []string
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	ss.sink.mu.Lock()
	defer ss.sink.mu.Unlock()
	if ss.sink.refuse != nil {
		return ss.sink.refuse
	}
	ss.from = from
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.sink.mu.Lock()
	defer ss.sink.mu.Unlock()
	if ss.sink.refuseRcpt != "" && strings.EqualFold(to, ss.sink.refuseRcpt) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.sink.mu.Lock()
	ss.sink.got = append(ss.sink.got, sunk{From: ss.from, To: append([]string(nil), ss.to...), Data: b})
	ss.sink.mu.Unlock()
	return nil
}

// header returns a header field of a raw message, unfolded.
func header(raw []byte, name string) string {
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	var val string
	found := false
	for _, l := range strings.Split(string(head), "\r\n") {
		switch {
		case found && (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")):
			val += " " + strings.TrimSpace(l)
		case found:
			return val
		default:
			k, v, ok := strings.Cut(l, ":")
			if ok && strings.EqualFold(strings.TrimSpace(k), name) {
				found, val = true, strings.TrimSpace(v)
			}
		}
	}
	return val
}

// imapBox is a real IMAP server, in process, with one user and an INBOX.
type imapBox struct {
	addr, user, pass string
	t                *testing.T
}

func newIMAPBox(t *testing.T) *imapBox {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("desk@example.com", "secret")
	if err := u.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	if err := u.Create("Processed", nil); err != nil {
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
	return &imapBox{addr: ln.Addr().String(), user: "desk@example.com", pass: "secret", t: t}
}

func (b *imapBox) port() int {
	_, p, _ := net.SplitHostPort(b.addr)
	n, _ := strconv.Atoi(p)
	return n
}

// client logs in as the mailbox's user.
func (b *imapBox) client() *imapclient.Client {
	b.t.Helper()
	c, err := imapclient.DialInsecure(b.addr, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := c.Login(b.user, b.pass).Wait(); err != nil {
		b.t.Fatal(err)
	}
	return c
}

// deliver appends raw messages to a folder, unseen.
func (b *imapBox) deliver(folder string, raws ...[]byte) {
	b.t.Helper()
	c := b.client()
	defer c.Close()
	for _, raw := range raws {
		raw = bytes.ReplaceAll(bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
		cmd := c.Append(folder, int64(len(raw)), nil)
		if _, err := cmd.Write(raw); err != nil {
			b.t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			b.t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			b.t.Fatal(err)
		}
	}
}

// flags returns each message's subject and whether it is \Seen, in a folder.
func (b *imapBox) flags(folder string) map[string]bool {
	b.t.Helper()
	c := b.client()
	defer c.Close()
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		b.t.Fatal(err)
	}
	out := map[string]bool{}
	msgs, err := c.Fetch(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	if err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) {
			return out // an empty folder
		}
		b.t.Fatal(err)
	}
	for _, m := range msgs {
		seen := false
		for _, f := range m.Flags {
			if f == imap.FlagSeen {
				seen = true
			}
		}
		out[m.Envelope.Subject] = seen
	}
	return out
}

// unsee clears \Seen on every message of the INBOX, as if storing the flag had failed.
func (b *imapBox) unsee() {
	b.t.Helper()
	c := b.client()
	defer c.Close()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		b.t.Fatal(err)
	}
	if err := c.Store(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true,
		Flags: []imap.Flag{imap.FlagSeen}}, nil).Close(); err != nil {
		b.t.Fatal(err)
	}
}
