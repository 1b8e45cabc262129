package mail

import (
	"html"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// The rules in this file are pure: number detection, loop detection,
// recipient selection and the text of a notification.

// numberInSubject finds a record number in brackets: "[INC0000042]". The
// prefix is 2 to 8 letters (record.ValidatePrefix), the counter 7 digits or more.
var numberInSubject = regexp.MustCompile(`\[\s*([A-Za-z]{2,8}[0-9]{7,18})\s*\]`)

// NumberFromSubject returns the first record number named in brackets in a
// subject, upper-cased, or "" when it names none.
func NumberFromSubject(subject string) string {
	m := numberInSubject.FindStringSubmatch(subject)
	if m == nil {
		return ""
	}
	return strings.ToUpper(m[1])
}

// threadID is the Message-ID a record's notifications all refer to (In-Reply-To
// and References), so that mail clients thread them and a reply that lost its
// subject still names the record.
func threadID(number, domain string) string { return "record." + number + "@" + domain }

// recordNumberPattern matches a whole record number.
var recordNumberPattern = regexp.MustCompile(`^[A-Z]{2,8}[0-9]{7,18}$`)

// NumberFromThread returns the record number of the first of ids that is a
// record's thread id on domain, or "".
func NumberFromThread(ids []string, domain string) string {
	suffix := "@" + strings.ToLower(domain)
	for _, id := range ids {
		id = strings.ToLower(strings.Trim(strings.TrimSpace(id), "<>"))
		if !strings.HasPrefix(id, "record.") || !strings.HasSuffix(id, suffix) || len(id) <= len("record.")+len(suffix) {
			continue
		}
		n := strings.ToUpper(id[len("record.") : len(id)-len(suffix)])
		if recordNumberPattern.MatchString(n) {
			return n
		}
	}
	return ""
}

// Signals are the header fields that tell an automatic message from a person's.
type Signals struct {
	AutoSubmitted string // Auto-Submitted (RFC 3834)
	Precedence    string
	// AutoReplyHeader names an X-Autoreply, X-Autorespond or similar field that is present.
	AutoReplyHeader string
	// ContentType is the top-level media type, lower-case, such as "multipart/report".
	ContentType string
	// ReturnPath is the Return-Path field's value; HasReturnPath says whether there is one.
	ReturnPath    string
	HasReturnPath bool
	// FailedRecipients is set when an X-Failed-Recipients field is present (a bounce).
	FailedRecipients bool
	// Loop is the X-Steward-Loop field of a message Steward sent.
	Loop string
}

// autoReplySubjects start the subjects of out-of-office and other automatic replies.
var autoReplySubjects = []string{
	"out of office", "out-of-office", "automatic reply", "auto reply", "auto-reply", "autoreply",
	"auto response", "autoresponse", "automatische antwort", "abwesenheitsnotiz", "réponse automatique",
	"respuesta automática", "risposta automatica", "vacation reply", "away from the office",
}

// bounceSubjects start the subjects of delivery failure reports.
var bounceSubjects = []string{
	"undeliverable", "undelivered mail", "delivery status notification", "mail delivery failed",
	"mail delivery failure", "delivery failure", "returned mail", "failure notice", "non-delivery",
	"delivery has failed", "message not delivered",
}

// bounceSenders are the local parts of the addresses bounces come from.
var bounceSenders = []string{"mailer-daemon", "postmaster", "mail-daemon", "bounce", "bounces", "noreply-dmarc-support"}

// LoopReason says why an inbound message must not become a record or a
// comment: an automatic reply, a bounce, Steward's own mail. It returns "" for
// a message a person wrote. ours lists Steward's own addresses.
func LoopReason(from, subject string, s Signals, ours []string) string {
	from = strings.ToLower(strings.TrimSpace(from))
	if s.Loop != "" {
		return "own mail: it carries X-Steward-Loop"
	}
	for _, a := range ours {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" && a == from {
			return "own mail: sent from " + a
		}
	}
	if s.ContentType == "multipart/report" {
		return "bounce: a delivery report (multipart/report)"
	}
	if s.HasReturnPath && strings.Trim(strings.TrimSpace(s.ReturnPath), "<>") == "" {
		return "bounce: empty Return-Path"
	}
	if s.FailedRecipients {
		return "bounce: X-Failed-Recipients"
	}
	if local, _, _ := strings.Cut(from, "@"); slices.Contains(bounceSenders, local) {
		return "bounce: sent by " + from
	}
	if from == "" {
		return "no sender address"
	}
	if v := strings.ToLower(strings.TrimSpace(s.AutoSubmitted)); v != "" && !strings.HasPrefix(v, "no") {
		return "auto-reply: Auto-Submitted: " + v
	}
	switch p := strings.ToLower(strings.TrimSpace(s.Precedence)); p {
	case "bulk", "junk", "list", "auto_reply", "auto-reply":
		return "auto-reply: Precedence: " + p
	}
	if s.AutoReplyHeader != "" {
		return "auto-reply: " + s.AutoReplyHeader
	}
	subj := strings.ToLower(strings.TrimSpace(subject))
	for _, p := range autoReplySubjects {
		if strings.HasPrefix(subj, p) {
			return "auto-reply: the subject starts with " + strconvQuote(p)
		}
	}
	for _, p := range bounceSubjects {
		if strings.HasPrefix(subj, p) {
			return "bounce: the subject starts with " + strconvQuote(p)
		}
	}
	return ""
}

func strconvQuote(s string) string { return `"` + s + `"` }

// Candidate is a user who may receive a notification, with why.
type Candidate struct {
	UserID   int64
	Username string
	Name     string
	Email    string
	Disabled bool
	Admin    bool
	// Why is the user's relation to the record: requester, assignee, team, watcher, informed, approver.
	Why string
}

// Recipient is one address a notification goes to.
type Recipient struct {
	UserID int64
	Name   string
	// Address is the e-mail address, as the user's account has it.
	Address string
	// Why lists the user's relations to the record, such as "requester, watcher".
	Why string
}

// SelectRecipients keeps the candidates a notification goes to, in order:
// users with a usable e-mail address, not disabled, not the actor who caused
// the event (by id or username, nor the actor's address under another
// account), each user and each address once; a user named twice gets the
// reasons joined.
func SelectRecipients(cands []Candidate, actorID int64, actorName string) []Recipient {
	isActor := func(c Candidate) bool {
		return (actorID != 0 && c.UserID == actorID) || (actorName != "" && c.Username == actorName)
	}
	actorAddrs := map[string]bool{}
	for _, c := range cands {
		if addr, ok := usableAddress(c.Email); ok && isActor(c) {
			actorAddrs[strings.ToLower(addr)] = true
		}
	}
	var out []Recipient
	byUser := map[int64]int{}
	byAddr := map[string]int{}
	for _, c := range cands {
		if c.Disabled || c.UserID == 0 || isActor(c) {
			continue
		}
		addr, ok := usableAddress(c.Email)
		if !ok || actorAddrs[strings.ToLower(addr)] {
			continue
		}
		i, seen := byUser[c.UserID]
		if !seen {
			i, seen = byAddr[strings.ToLower(addr)]
		}
		if seen {
			if c.Why != "" && !slices.Contains(strings.Split(out[i].Why, ", "), c.Why) {
				out[i].Why = strings.TrimPrefix(out[i].Why+", "+c.Why, ", ")
			}
			byUser[c.UserID] = i
			continue
		}
		byUser[c.UserID] = len(out)
		byAddr[strings.ToLower(addr)] = len(out)
		out = append(out, Recipient{UserID: c.UserID, Name: headerSafe(c.Name), Address: addr, Why: c.Why})
	}
	return out
}

// usableAddress returns a plain address for an account's e-mail field, or false.
func usableAddress(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, "\r\n") {
		return "", false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || !strings.Contains(a.Address, "@") {
		return "", false
	}
	return a.Address, true
}

// headerSafe makes text fit a header: one line, valid UTF-8, at most 200 characters.
func headerSafe(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' || r == '\t' }), " ")
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > 200 {
		s = string([]rune(s)[:199]) + "…"
	}
	return s
}

// Subject writes a notification subject: the record number in brackets, what
// happened, and the record's title: "[INC0000042] Resolved: VPN drops every hour".
func Subject(number, headline, title string) string {
	s := "[" + number + "] " + headerSafe(headline)
	if t := headerSafe(title); t != "" {
		s += ": " + t
	}
	return headerSafe(s)
}

// ReplyMarker is the line above which a reply to a notification is read as a comment.
const ReplyMarker = "-- Reply above this line to add a comment --"

// Notice is what a notification says about one event.
type Notice struct {
	// Headline is what happened, such as "Resolved"; it goes into the subject.
	Headline string
	// Summary is the notice's first line, such as "Bob moved INC0000042 (Incident) from In progress to Resolved.".
	Summary string
	// Details are further lines, such as "State: In progress → Resolved".
	Details []string
	// Text is quoted text: a comment, an update, a reason.
	Text string
}

// Letter is one message to one address about one record: one or more notices.
type Letter struct {
	Number  string
	Title   string
	Marking string
	// Link is the record's page.
	Link    string
	Notices []Notice
}

// maxQuoted bounds the quoted text of a notice.
const maxQuoted = 8000

// Body writes a notification's plain text: the reply marker when replies are
// read, the classification banner, the record, each notice (its summary,
// details and quoted text), the link to the record, and the banner again.
func Body(l Letter, banner string, replies bool) string {
	var b strings.Builder
	line := func(s string) { b.WriteString(s); b.WriteString("\r\n") }
	if replies {
		line(ReplyMarker)
		line("")
	}
	line(banner)
	line("")
	line(l.Number + ": " + headerSafe(l.Title))
	if l.Marking != "" {
		line("Marking: " + l.Marking)
	}
	for _, n := range l.Notices {
		line("")
		if n.Summary != "" {
			line(n.Summary)
		}
		for _, d := range n.Details {
			line(d)
		}
		if t := strings.TrimSpace(strings.ToValidUTF8(n.Text, "")); t != "" {
			if utf8.RuneCountInString(t) > maxQuoted {
				t = string([]rune(t)[:maxQuoted]) + "\n[…]"
			}
			for _, l := range strings.Split(strings.ReplaceAll(strings.ReplaceAll(t, "\r\n", "\n"), "\r", "\n"), "\n") {
				line("  " + strings.TrimRight(l, " \t"))
			}
		}
	}
	line("")
	line("View " + l.Number + ": " + l.Link)
	line("")
	line(banner)
	return b.String()
}

// quoteHeader matches the line mail clients put above quoted text: "On Mon, … wrote:".
var quoteHeader = regexp.MustCompile(`(?i)^(on\b.{0,200}\bwrote:|am\b.{0,200}\bschrieb\b.{0,200}:|le\b.{0,200}\ba écrit\s*:|-{2,}\s*original message\s*-{2,}|_{10,})$`)

// StripQuoted returns the new text of a reply: what precedes Steward's reply
// marker, the client's "On … wrote:" line, the quoted lines ("> …") and the
// signature separator ("-- ").
func StripQuoted(text string) string {
	text = strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", "\n")
	lines := strings.Split(text, "\n")
	var out []string
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.Contains(t, ReplyMarker) || quoteHeader.MatchString(t) || l == "-- " || t == "--" {
			break
		}
		if strings.HasPrefix(t, ">") {
			continue
		}
		out = append(out, strings.TrimRight(l, " \t"))
	}
	s := strings.TrimSpace(strings.Join(out, "\n"))
	if s == "" {
		// Everything was quoted (a client that writes below the quote, say): keep the whole text.
		return strings.TrimSpace(text)
	}
	return s
}

// blockTags end a line when converting HTML to text.
var blockTags = map[string]bool{"p": true, "div": true, "br": true, "li": true, "tr": true, "h1": true, "h2": true,
	"h3": true, "h4": true, "h5": true, "h6": true, "blockquote": true, "pre": true, "table": true, "ul": true, "ol": true, "hr": true}

// HTMLToText turns an HTML body into plain text: tags dropped, block elements
// and <br> ending lines, scripts and styles left out, entities decoded.
func HTMLToText(s string) string {
	var b strings.Builder
	skip := "" // the element whose content is dropped: script or style
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			if skip == "" {
				b.WriteString(s)
			}
			break
		}
		if skip == "" {
			b.WriteString(s[:lt])
		}
		s = s[lt:]
		if strings.HasPrefix(s, "<!--") {
			end := strings.Index(s, "-->")
			if end < 0 {
				break
			}
			s = s[end+3:]
			continue
		}
		gt := strings.IndexByte(s, '>')
		if gt < 0 {
			break
		}
		tag := strings.ToLower(strings.TrimSpace(s[1:gt]))
		s = s[gt+1:]
		closing := strings.HasPrefix(tag, "/")
		tag = strings.TrimPrefix(tag, "/")
		if i := strings.IndexAny(tag, " \t\r\n/"); i >= 0 {
			tag = tag[:i]
		}
		switch {
		case skip != "":
			if closing && tag == skip {
				skip = ""
			}
		case !closing && (tag == "script" || tag == "style" || tag == "head" || tag == "title"):
			skip = tag
		case blockTags[tag]:
			b.WriteString("\n")
		case tag == "td" || tag == "th":
			if closing {
				b.WriteString("\t")
			}
		}
	}
	text := html.UnescapeString(b.String())
	text = strings.ReplaceAll(text, "\u00a0", " ")
	// Collapse the whitespace HTML ignores: runs of spaces in a line, and more than one empty line.
	var out []string
	empty := 0
	for _, l := range strings.Split(strings.ReplaceAll(text, "\r", ""), "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" {
			empty++
			if empty > 1 {
				continue
			}
		} else {
			empty = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}
