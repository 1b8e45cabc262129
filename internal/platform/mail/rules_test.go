package mail_test

import (
	"reflect"
	"strings"
	"testing"

	"steward/internal/platform/mail"
)

func TestNumberFromSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ subject, want string }{
		{"[INC0000042] Resolved: VPN drops every hour", "INC0000042"},
		{"Re: [INC0000042] Resolved: VPN drops every hour", "INC0000042"},
		{"RE: AW: Fwd: [REQ0000007] Approval requested", "REQ0000007"},
		{"Question about [ inc0000042 ] please", "INC0000042"},
		{"[TASK00000123] done", "TASK00000123"},
		{"[KE0000001] and [INC0000002]", "KE0000001"},
		{"INC0000042 without brackets", ""},
		{"[INC42] too few digits", ""},
		{"[ABCDEFGHI0000001] prefix too long", ""},
		{"[I0000001] prefix too short", ""},
		{"[JIRA-1234567] another tracker", ""},
		{"", ""},
		{"[INC0000042", ""},
	} {
		if got := mail.NumberFromSubject(tc.subject); got != tc.want {
			t.Errorf("NumberFromSubject(%q) = %q, want %q", tc.subject, got, tc.want)
		}
	}
}

func TestNumberFromThread(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{[]string{"record.INC0000042@example.com"}, "INC0000042"},
		{[]string{"<abc@mail.example.net>", "<record.REQ0000003@Example.COM>"}, "REQ0000003"},
		{[]string{"record.INC0000042@other.example"}, ""},
		{[]string{"record.@example.com"}, ""},
		{[]string{"record.not-a-number@example.com"}, ""},
		{nil, ""},
	} {
		if got := mail.NumberFromThread(tc.ids, "example.com"); got != tc.want {
			t.Errorf("NumberFromThread(%q) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}

func TestLoopReason(t *testing.T) {
	t.Parallel()
	ours := []string{"servicedesk@example.com", "helpdesk@example.com"}
	for _, tc := range []struct {
		name, from, subject string
		s                   mail.Signals
		want                string // a prefix of the reason; "" for a person's mail
	}{
		{"person", "alice@example.com", "Printer on fire", mail.Signals{}, ""},
		{"person says no", "alice@example.com", "Re: [INC0000001] x", mail.Signals{AutoSubmitted: "no", Precedence: "first-class"}, ""},
		{"auto-replied", "alice@example.com", "Holidays", mail.Signals{AutoSubmitted: "auto-replied"}, "auto-reply: Auto-Submitted"},
		{"auto-generated", "alice@example.com", "x", mail.Signals{AutoSubmitted: "Auto-Generated"}, "auto-reply: Auto-Submitted"},
		{"precedence bulk", "news@example.org", "Newsletter", mail.Signals{Precedence: "bulk"}, "auto-reply: Precedence: bulk"},
		{"precedence junk", "x@example.org", "x", mail.Signals{Precedence: "Junk"}, "auto-reply: Precedence: junk"},
		{"precedence list", "x@example.org", "x", mail.Signals{Precedence: "list"}, "auto-reply: Precedence: list"},
		{"precedence auto_reply", "x@example.org", "x", mail.Signals{Precedence: "auto_reply"}, "auto-reply: Precedence: auto_reply"},
		{"x-autoreply", "bob@example.com", "Re: x", mail.Signals{AutoReplyHeader: "X-Autoreply"}, "auto-reply: X-Autoreply"},
		{"out of office subject", "bob@example.com", "Out of Office: Re: [INC0000001] Resolved", mail.Signals{}, "auto-reply: the subject"},
		{"automatic reply subject", "bob@example.com", "Automatic reply: [INC0000001] Resolved", mail.Signals{}, "auto-reply: the subject"},
		{"report", "alice@example.com", "x", mail.Signals{ContentType: "multipart/report"}, "bounce: a delivery report"},
		{"null return path", "alice@example.com", "x", mail.Signals{HasReturnPath: true, ReturnPath: "<>"}, "bounce: empty Return-Path"},
		{"return path set", "alice@example.com", "x", mail.Signals{HasReturnPath: true, ReturnPath: "<alice@example.com>"}, ""},
		{"mailer-daemon", "MAILER-DAEMON@mx.example.com", "Failure", mail.Signals{}, "bounce: sent by"},
		{"postmaster", "postmaster@example.com", "x", mail.Signals{}, "bounce: sent by"},
		{"failed recipients", "alice@example.com", "x", mail.Signals{FailedRecipients: true}, "bounce: X-Failed-Recipients"},
		{"undeliverable subject", "alice@example.com", "Undeliverable: [INC0000001] x", mail.Signals{}, "bounce: the subject"},
		{"loop header", "alice@example.com", "x", mail.Signals{Loop: "example.com"}, "own mail: it carries"},
		{"our address", "ServiceDesk@Example.com", "[INC0000001] x", mail.Signals{}, "own mail: sent from"},
		{"our alias", "helpdesk@example.com", "x", mail.Signals{}, "own mail: sent from"},
		{"no sender", "", "x", mail.Signals{}, "no sender"},
	} {
		got := mail.LoopReason(tc.from, tc.subject, tc.s, ours)
		if (tc.want == "") != (got == "") || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%s: LoopReason = %q, want %q…", tc.name, got, tc.want)
		}
	}
}

func TestSelectRecipients(t *testing.T) {
	t.Parallel()
	cands := []mail.Candidate{
		{UserID: 1, Username: "alice", Name: "Alice", Email: "alice@example.com", Why: "requester"},
		{UserID: 2, Username: "bob", Name: "Bob", Email: "bob@example.com", Why: "assignee"},
		{UserID: 1, Username: "alice", Name: "Alice", Email: "alice@example.com", Why: "watcher"},
		{UserID: 3, Username: "carol", Name: "Carol", Email: "", Why: "watcher"},
		{UserID: 4, Username: "dave", Name: "Dave", Email: "dave@example.com", Disabled: true, Why: "watcher"},
		{UserID: 5, Username: "erin", Name: "Erin", Email: "not an address", Why: "informed"},
		{UserID: 6, Username: "frank", Name: "Frank\r\nBcc: x@evil.example", Email: "frank@example.com", Why: "informed"},
		{UserID: 7, Username: "alias", Name: "Alice again", Email: "ALICE@example.com", Why: "informed"},
		{UserID: 2, Username: "bob", Name: "Bob", Email: "bob@example.com", Why: "assignee"},
		{UserID: 8, Username: "gina", Name: "Gina", Email: "Gina <gina@example.com>", Why: "approver"},
		{UserID: 0, Username: "", Email: "ghost@example.com", Why: "watcher"},
	}
	got := mail.SelectRecipients(cands, 2, "")
	want := []mail.Recipient{
		{UserID: 1, Name: "Alice", Address: "alice@example.com", Why: "requester, watcher, informed"},
		{UserID: 6, Name: "Frank Bcc: x@evil.example", Address: "frank@example.com", Why: "informed"},
		{UserID: 8, Name: "Gina", Address: "gina@example.com", Why: "approver"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SelectRecipients:\n got %+v\nwant %+v", got, want)
	}
	// The actor is left out by username too (an event names its actor by name).
	got = mail.SelectRecipients(cands, 0, "alice")
	if len(got) == 0 || got[0].UserID != 2 {
		t.Errorf("actor alice by name: %+v", got)
	}
	for _, r := range got {
		if r.UserID == 1 || r.UserID == 7 {
			t.Errorf("alice's address reached: %+v", r)
		}
	}
}

func TestSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ number, headline, title, want string }{
		{"INC0000042", "Resolved", "VPN drops every hour", "[INC0000042] Resolved: VPN drops every hour"},
		{"REQ0000001", "Approval requested", "", "[REQ0000001] Approval requested"},
		{"INC0000001", "New comment", "line one\r\nBcc: evil@example.com", "[INC0000001] New comment: line one Bcc: evil@example.com"},
	} {
		if got := mail.Subject(tc.number, tc.headline, tc.title); got != tc.want {
			t.Errorf("Subject(%q, %q, %q) = %q, want %q", tc.number, tc.headline, tc.title, got, tc.want)
		}
	}
	long := mail.Subject("INC0000001", "Opened", strings.Repeat("x", 500))
	if n := len([]rune(long)); n > 200 || !strings.HasPrefix(long, "[INC0000001] Opened: xxx") {
		t.Errorf("long subject: %d runes: %q", n, long)
	}
}

func TestBody(t *testing.T) {
	t.Parallel()
	l := mail.Letter{Number: "INC0000042", Title: "VPN drops", Marking: "CUI", Link: "https://steward.example.com/records/INC0000042",
		Notices: []mail.Notice{
			{Headline: "Resolved", Summary: "Bob moved INC0000042 (Incident) from In progress to Resolved.",
				Details: []string{"State: In progress → Resolved"}},
			{Details: []string{"Resolution: Fixed"}, Text: "Restarted the concentrator.\r\nShould be fine now."},
		}}
	got := mail.Body(l, "CUI//SP-PRVCY", true)
	want := strings.Join([]string{
		mail.ReplyMarker,
		"",
		"CUI//SP-PRVCY",
		"",
		"INC0000042: VPN drops",
		"Marking: CUI",
		"",
		"Bob moved INC0000042 (Incident) from In progress to Resolved.",
		"State: In progress → Resolved",
		"",
		"Resolution: Fixed",
		"  Restarted the concentrator.",
		"  Should be fine now.",
		"",
		"View INC0000042: https://steward.example.com/records/INC0000042",
		"",
		"CUI//SP-PRVCY",
		"",
	}, "\r\n")
	if got != want {
		t.Errorf("Body:\n got %q\nwant %q", got, want)
	}
	if got := mail.Body(l, "X", false); strings.Contains(got, mail.ReplyMarker) {
		t.Errorf("a body without replies carries the reply marker:\n%s", got)
	}
}

func TestStripQuoted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, in, want string }{
		{"gmail", "Still broken after the restart.\n\nOn Mon, 2 Mar 2026 at 10:00, Service Desk <sd@example.com> wrote:\n> " +
			mail.ReplyMarker + "\n> Bob resolved INC0000042", "Still broken after the restart."},
		{"marker unquoted", "Thanks!\r\n" + mail.ReplyMarker + "\r\nUNCLASSIFIED\r\n", "Thanks!"},
		{"outlook", "Works now.\n\n________________________________\nFrom: Service Desk\nSent: Monday\n", "Works now."},
		{"quoted lines inline", "> earlier\nMy answer\n> more earlier\nsecond line", "My answer\nsecond line"},
		{"signature", "Fixed.\n-- \nAlice\nIT", "Fixed."},
		{"german", "Geht wieder.\nAm 02.03.2026 um 10:00 schrieb Service Desk <sd@example.com>:\n> x", "Geht wieder."},
		{"everything quoted", "> only a quote", "> only a quote"},
		{"plain", "Just text.", "Just text."},
	} {
		if got := mail.StripQuoted(tc.in); got != tc.want {
			t.Errorf("%s: StripQuoted = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"<p>Hello&nbsp;there</p><p>Second &amp; last</p>", "Hello there\n\nSecond & last"},
		{"<html><head><title>T</title><style>p{color:red}</style></head><body>Line<br>Next<br/>End</body></html>", "Line\nNext\nEnd"},
		{"<div>a <b>bold</b>   move</div><script>alert(1)</script><div>after</div>", "a bold move\n\nafter"},
		{"<!-- comment -->text &lt;tag&gt;", "text <tag>"},
		{"<ul><li>one</li><li>two</li></ul>", "one\n\ntwo"},
		{"unclosed <b", "unclosed"},
		{"", ""},
	} {
		if got := mail.HTMLToText(tc.in); got != tc.want {
			t.Errorf("HTMLToText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
