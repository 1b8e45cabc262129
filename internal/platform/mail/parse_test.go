package mail_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"steward/internal/platform/mail"
)

func readSample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseMessage(t *testing.T) {
	t.Parallel()
	ours := []string{"servicedesk@example.com"}
	for _, tc := range []struct {
		file string
		want mail.Message
		loop string // a prefix of LoopReason; "" for a person's mail
	}{
		{"reply.eml", mail.Message{From: "alice@example.com", FromName: "Alice Adams",
			Subject:   "Re: [INC0000042] Resolved: VPN drops every hour",
			Text:      "It still drops – every hour.\n\nOn Mon, 2 Mar 2026 at 10:00, Service Desk <servicedesk@example.com> wrote:\n> -- Reply above this line to add a comment --\n> Bob resolved INC0000042",
			MessageID: "CAF1234@mail.example.com", InReplyTo: "steward.7.1.abcdef@example.com",
			References: []string{"record.INC0000042@example.com", "steward.7.1.abcdef@example.com"},
			Date:       time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)}, ""},
		{"html-latin1.eml", mail.Message{From: "dave@example.com", FromName: "Dave", Subject: "Drucker brännt",
			Text: "Der Drucker im 3. Stock brännt.\n\nBitte schnell!", MessageID: "new-1@example.com",
			Date: time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)}, ""},
		{"bounce.eml", mail.Message{From: "mailer-daemon@mx.example.com", FromName: "Mail Delivery System",
			Subject: "Undelivered Mail Returned to Sender", Text: "This is the mail system. Your message could not be delivered.",
			MessageID: "bounce-1@mx.example.com"}, "bounce: a delivery report"},
		{"autoreply.eml", mail.Message{From: "bob@example.com", FromName: "Bob",
			Subject: "Automatic reply: [INC0000042] Resolved: VPN drops every hour", Text: "I am out of the office until Monday.",
			MessageID: "ooo-1@example.com"}, "auto-reply: Auto-Submitted: auto-replied"},
	} {
		p, err := mail.ParseMessage(readSample(t, tc.file))
		if err != nil {
			t.Errorf("%s: %v", tc.file, err)
			continue
		}
		if !reflect.DeepEqual(p.Message, tc.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", tc.file, p.Message, tc.want)
		}
		got := mail.LoopReason(p.From, p.Subject, p.Signals, ours)
		if (got == "") != (tc.loop == "") || !strings.HasPrefix(got, tc.loop) {
			t.Errorf("%s: LoopReason %q, want %q…", tc.file, got, tc.loop)
		}
	}
	// A message without a Message-ID is known by a hash of its content; an unparsable From keeps its address.
	p, err := mail.ParseMessage(readSample(t, "minimal.eml"))
	if err != nil || !strings.HasPrefix(p.MessageID, "sha256:") || p.Text != "plain body without a content type" {
		t.Errorf("minimal: %+v %v", p, err)
	}
	p, err = mail.ParseMessage([]byte("From: <broken@example.com\r\nSubject: x\r\n\r\nbody"))
	if err != nil || p.From != "broken@example.com" {
		t.Errorf("broken From: %+v %v", p.Message, err)
	}
}

// FuzzParseMessage checks that no input makes the parser panic or return text
// that is not valid UTF-8 or fields that would break a header.
func FuzzParseMessage(f *testing.F) {
	for _, name := range []string{"reply.eml", "html-latin1.eml", "bounce.eml", "autoreply.eml", "minimal.eml"} {
		f.Add(readSample(f, name))
	}
	f.Add([]byte(""))
	f.Add([]byte("\r\n\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n\r\nhi\r\n--y--\r\n--x--\r\n"))
	f.Add([]byte("Subject: =?utf-8?B?//79?=\r\nFrom: =?x?q?a?= <a@b>\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!!"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := mail.ParseMessage(raw)
		if err != nil {
			return
		}
		if !utf8.ValidString(p.Text) || !utf8.ValidString(p.Subject) || !utf8.ValidString(p.FromName) {
			t.Fatalf("invalid UTF-8: %q %q %q", p.Text, p.Subject, p.FromName)
		}
		for _, s := range append([]string{p.Subject, p.FromName, p.MessageID, p.InReplyTo}, p.References...) {
			if strings.ContainsAny(s, "\r\n") {
				t.Fatalf("a header field spans lines: %q", s)
			}
		}
		if p.MessageID == "" {
			t.Fatal("no message key")
		}
		_ = mail.LoopReason(p.From, p.Subject, p.Signals, nil)
		_ = mail.NumberFromSubject(p.Subject)
		_ = mail.StripQuoted(p.Text)
	})
}
