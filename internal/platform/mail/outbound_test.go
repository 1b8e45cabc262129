package mail_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"steward/internal/framework"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/mail"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// delivered lists "to | subject" of every message the sink got, sorted.
func delivered(s *smtpSink) []string {
	var out []string
	for _, m := range s.messages() {
		for _, to := range m.To {
			out = append(out, to+" | "+header(m.Data, "Subject"))
		}
	}
	slices.Sort(out)
	return out
}

// TestNotificationsEndToEnd: record events become one message per recipient,
// queued and delivered to a real SMTP server: the requester, the assignee or
// the team, watchers and informed holders, never the actor, never a disabled
// account or one without an address, work notes never to the requester, and
// nothing about a record a recipient may not see.
func TestNotificationsEndToEnd(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		sink := newSMTPSink(t)
		m := e.mailer(config(sink, nil), nil, "CUI")
		alice := e.user("alice", "alice@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		dave := e.user("dave", "dave@example.com", false)
		carol := e.user("carol", "carol@example.com", false)
		erin := e.user("erin", "erin@example.com", false)
		frank := e.user("frank", "frank@example.com", true)
		gina := e.user("gina", "", false)
		root := e.user("root", "", false)
		if _, err := d.ExecContext(context.Background(), `UPDATE users SET is_admin = TRUE WHERE id = ?`, root.id); err != nil {
			t.Fatal(err)
		}
		network := e.team("Network", bob, dave)
		for _, a := range []string{"IM4", "IM5", "IM6"} {
			e.guard.give(a, framework.R, bob)
		}
		e.guard.give("IM5", framework.I, erin)
		e.guard.give("IM5", framework.I, carol)

		ctx := context.Background()
		// The consumer runs every second: each step below is read as a batch of its own.
		queued := 0
		step := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			for {
				n, q, err := m.Queue(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if queued += q; n == 0 {
					return
				}
			}
		}
		r, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "VPN drops every hour",
			Description: "Since Monday the VPN drops every hour.", TeamID: network, Priority: 2})
		step(err)
		for _, w := range []user{carol, frank, gina} {
			step(e.records.Watch(as(w), r.Number, w.id))
		}
		r, err = e.records.Assign(as(bob), r.Number, network, bob.id, r.Version)
		step(err)
		_, err = e.records.AddJournal(as(alice), r.Number, record.Comment, "It dropped again at 10:00.")
		step(err)
		_, err = e.records.AddJournal(as(bob), r.Number, record.WorkNote, "Concentrator log shows DPD timeouts.")
		step(err)
		for _, action := range []string{"investigate", "resolve"} {
			_, err := e.records.Perform(as(bob), r.Number, action, record.PerformInput{})
			step(err)
		}
		secret, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "SECRET salary file leaked", TeamID: network})
		step(err)
		_, err = e.records.Assign(asAdmin(root), secret.Number, network, bob.id, secret.Version)
		step(err)
		_, err = e.records.AddJournal(as(alice), secret.Number, record.Comment, "Who else has it?")
		step(err)

		if queued != 13 {
			t.Fatalf("queued %d messages", queued)
		}
		if n, err := m.Send(ctx); err != nil || n != 13 {
			t.Fatalf("send: n=%d err=%v", n, err)
		}
		if n, err := m.Send(ctx); err != nil || n != 0 {
			t.Fatalf("second send: n=%d err=%v", n, err)
		}
		const vpn, leak = "VPN drops every hour", "SECRET salary file leaked"
		want := []string{
			"alice@example.com | [TKT0000001] In progress: " + vpn,
			"alice@example.com | [TKT0000001] Resolved: " + vpn,
			"bob@example.com | [TKT0000001] New comment: " + vpn,
			"bob@example.com | [TKT0000001] Opened: " + vpn,
			"bob@example.com | [TKT0000002] Assigned: " + leak,
			"bob@example.com | [TKT0000002] New comment: " + leak,
			"carol@example.com | [TKT0000001] Assigned: " + vpn,
			"carol@example.com | [TKT0000001] In progress: " + vpn,
			"carol@example.com | [TKT0000001] New comment: " + vpn,
			"carol@example.com | [TKT0000001] New work note: " + vpn,
			"carol@example.com | [TKT0000001] Resolved: " + vpn,
			"dave@example.com | [TKT0000001] Opened: " + vpn,
			"erin@example.com | [TKT0000001] Resolved: " + vpn,
		}
		// erin is informed (I) of IM5; carol holds I too but had the step's notice as a watcher.
		// frank (disabled), gina (no address) and dave (cannot see the secret ticket) get nothing more.
		slices.Sort(want)
		if got := delivered(sink); !slices.Equal(got, want) {
			t.Fatalf("delivered:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}

		stored, err := m.Notifications(ctx, mail.NotificationQuery{Record: r.Number, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string]mail.Notification{}
		for _, n := range stored {
			if n.State != "sent" || n.Attempts != 1 || n.SentAt == nil {
				t.Errorf("stored %+v", n)
			}
			byID[n.MessageID] = n
		}
		for _, s := range sink.messages() {
			id := strings.Trim(header(s.Data, "Message-Id"), "<>")
			n, ok := byID[id]
			if header(s.Data, "X-Steward-Record") == r.Number && (!ok || !slices.Contains(s.To, n.To) || header(s.Data, "Subject") != n.Subject) {
				t.Errorf("message %q was not stored as sent: %+v", id, n)
			}
			if s.From != "servicedesk@example.com" || header(s.Data, "Auto-Submitted") != "auto-generated" ||
				header(s.Data, "X-Steward-Loop") != "example.com" || header(s.Data, "X-Auto-Response-Suppress") != "All" {
				t.Errorf("headers of %s: from=%q %q", id, s.From, s.Data)
			}
			if ok && header(s.Data, "In-Reply-To") != "<record."+r.Number+"@example.com>" {
				t.Errorf("In-Reply-To %q", header(s.Data, "In-Reply-To"))
			}
			if ok && !strings.Contains(header(s.Data, "From"), "Service Desk") {
				t.Errorf("From %q", header(s.Data, "From"))
			}
		}
		// The body: banner at top and bottom, what happened, the comment, the link.
		var comment mail.Notification
		for _, n := range stored {
			if strings.Contains(n.Subject, "New comment") {
				comment = n
			}
		}
		lines := strings.Split(strings.TrimRight(comment.Body, "\r\n"), "\r\n")
		if lines[0] != "CUI" || lines[len(lines)-1] != "CUI" ||
			!strings.Contains(comment.Body, "Alice commented on TKT0000001 (Ticket):") ||
			!strings.Contains(comment.Body, "  It dropped again at 10:00.") ||
			!strings.Contains(comment.Body, "View TKT0000001: https://steward.example.com/records/TKT0000001") {
			t.Errorf("comment body:\n%s", comment.Body)
		}
		var resolved mail.Notification
		for _, n := range stored {
			if n.To == "alice@example.com" && strings.Contains(n.Subject, "Resolved") {
				resolved = n
			}
		}
		if !strings.Contains(resolved.Body, "Bob moved TKT0000001 (Ticket) from In progress to Resolved.") ||
			!strings.Contains(resolved.Body, "State: In progress → Resolved") {
			t.Errorf("resolved body:\n%s", resolved.Body)
		}

		// Events about a record read in one batch reach each user as one message, named after the most telling.
		before := len(sink.messages())
		if _, err := e.records.AddJournal(as(alice), r.Number, record.Comment, "Thanks, it works."); err != nil {
			t.Fatal(err)
		}
		if _, err := e.records.Perform(as(bob), r.Number, "close", record.PerformInput{}); err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		var toCarol []sunk
		for _, s := range sink.messages()[before:] {
			if slices.Contains(s.To, "carol@example.com") {
				toCarol = append(toCarol, s)
			}
		}
		if len(toCarol) != 1 || header(toCarol[0].Data, "Subject") != "[TKT0000001] Closed: "+vpn {
			t.Fatalf("carol got %d messages: %v", len(toCarol), delivered(sink))
		}
		parsed, err := mail.ParseMessage(toCarol[0].Data) // our own parser reads what we sent
		if err != nil {
			t.Fatal(err)
		}
		if body := parsed.Text; !strings.Contains(body, "Alice commented on TKT0000001 (Ticket):") ||
			!strings.Contains(body, "Thanks, it works.") || !strings.Contains(body, "from Resolved to Closed") {
			t.Errorf("combined message:\n%s", body)
		}
	})
}

// TestWorkNoteNeverReachesRequester: a work note reaches the assignee's team
// and the watchers, but not the requester, even when the requester watches.
func TestWorkNoteNeverReachesRequester(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		sink := newSMTPSink(t)
		m := e.mailer(config(sink, nil), nil, "UNCLASSIFIED")
		alice := e.user("alice", "alice@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		dave := e.user("dave", "dave@example.com", false)
		team := e.team("Desk", bob, dave)
		r, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Printer", TeamID: team})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.records.Watch(as(alice), r.Number, alice.id); err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		before := len(sink.messages())
		if _, err := e.records.AddJournal(as(bob), r.Number, record.WorkNote, "internal: toner supplier is late"); err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		got := delivered(sink)
		if len(sink.messages()) != before+1 || !slices.Contains(got, "dave@example.com | [TKT0000001] New work note: Printer") {
			t.Fatalf("delivered %v", got)
		}
		for _, s := range sink.messages()[before:] {
			if slices.Contains(s.To, "alice@example.com") {
				t.Fatalf("the requester got a work note: %s", s.Data)
			}
		}
		// A comment by the requester goes to the team (nobody is assigned).
		if _, err := e.records.AddJournal(as(alice), r.Number, record.Comment, "any news?"); err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		got = delivered(sink)
		for _, w := range []string{"bob@example.com | [TKT0000001] New comment: Printer", "dave@example.com | [TKT0000001] New comment: Printer"} {
			if !slices.Contains(got, w) {
				t.Errorf("missing %q in %v", w, got)
			}
		}
	})
}

// TestFailingRelayIsRetried: a relay that refuses temporarily is tried again
// after the backoff, a permanent refusal fails at once, an unreachable relay
// is retried, and the last allowed attempt marks a message failed.
func TestFailingRelayIsRetried(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		sink := newSMTPSink(t)
		sink.setRefusal(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"})
		sink.refuseRcpt = "gone@example.com"
		cfg := config(sink, nil)
		cfg.SMTP.MaxAttempts = 3
		m := e.mailer(cfg, nil, "UNCLASSIFIED")
		alice := e.user("alice", "alice@example.com", false)
		gone := e.user("gone", "gone@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		team := e.team("Desk", gone, bob)
		if _, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Laptop", TeamID: team}); err != nil {
			t.Fatal(err)
		}
		if _, q, err := m.Queue(ctx); err != nil || q != 2 {
			t.Fatalf("queue: %d %v", q, err)
		}
		if n, err := m.Send(ctx); err != nil || n != 2 {
			t.Fatalf("send: %d %v", n, err)
		}
		list := func(state string) []mail.Notification {
			ns, err := m.Notifications(ctx, mail.NotificationQuery{State: state})
			if err != nil {
				t.Fatal(err)
			}
			return ns
		}
		pending := list("pending")
		if len(pending) != 2 || len(sink.messages()) != 0 {
			t.Fatalf("after a temporary refusal: %+v", pending)
		}
		for _, n := range pending {
			wait := n.NextAttemptAt.Sub(e.clock.Now())
			if n.Attempts != 1 || !strings.Contains(n.LastError, "451") || wait < 30*time.Second || wait > 33*time.Second {
				t.Fatalf("pending %+v (wait %v)", n, wait)
			}
		}
		if n, err := m.Send(ctx); err != nil || n != 0 {
			t.Fatalf("sent before the backoff elapsed: %d %v", n, err)
		}

		e.clock.Advance(34 * time.Second)
		sink.setRefusal(nil)
		if n, err := m.Send(ctx); err != nil || n != 2 {
			t.Fatalf("retry: %d %v", n, err)
		}
		if got := delivered(sink); !slices.Equal(got, []string{"bob@example.com | [TKT0000001] Opened: Laptop"}) {
			t.Fatalf("delivered %v", got)
		}
		failed := list("failed")
		if len(failed) != 1 || failed[0].To != "gone@example.com" || failed[0].Attempts != 2 || !strings.Contains(failed[0].LastError, "550") {
			t.Fatalf("failed: %+v", failed)
		}
		if s, err := m.Stats(ctx); err != nil || s.Failed != 1 || s.Pending != 0 || s.Unread != 0 {
			t.Fatalf("stats %+v %v", s, err)
		}

		// A relay that keeps refusing: after MaxAttempts the messages fail.
		down := newSMTPSink(t)
		cfg.SMTP.Port = down.port()
		m2 := e.mailer(cfg, nil, "UNCLASSIFIED")
		if _, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Monitor", TeamID: team}); err != nil {
			t.Fatal(err)
		}
		if _, q, err := m2.Queue(ctx); err != nil || q != 2 {
			t.Fatalf("queue: %d %v", q, err)
		}
		down.setRefusal(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "closing"})
		for attempt := 1; attempt <= 3; attempt++ {
			if n, err := m2.Send(ctx); err != nil || n != 2 {
				t.Fatalf("attempt %d: %d %v", attempt, n, err)
			}
			e.clock.Advance(2 * time.Hour)
		}
		if f := list("failed"); len(f) != 3 || f[0].Attempts != 3 {
			t.Fatalf("after the last attempt: %+v", f)
		}
	})
}

// TestUnreachableRelayWaits: with nothing listening on the relay's port, the
// batch waits for its next attempt with the connection error.
func TestUnreachableRelayWaits(t *testing.T) {
	t.Parallel()
	d := dbtest.Open(t, db.SQLite)
	ctx := context.Background()
	e := newEnv(t, d)
	cfg := config(&smtpSink{addr: "127.0.0.1:1"}, nil)
	m := e.mailer(cfg, nil, "UNCLASSIFIED")
	alice := e.user("alice", "alice@example.com", false)
	bob := e.user("bob", "bob@example.com", false)
	team := e.team("Desk", bob)
	if _, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Phone", TeamID: team}); err != nil {
		t.Fatal(err)
	}
	if _, q, err := m.Queue(ctx); err != nil || q != 1 {
		t.Fatalf("queue: %d %v", q, err)
	}
	if n, err := m.Send(ctx); err != nil || n != 1 {
		t.Fatalf("send: %d %v", n, err)
	}
	ns, err := m.Notifications(ctx, mail.NotificationQuery{})
	if err != nil || len(ns) != 1 || ns[0].State != "pending" || ns[0].Attempts != 1 ||
		!strings.Contains(ns[0].LastError, "connect to the SMTP relay") {
		t.Fatalf("%+v %v", ns, err)
	}
}

// TestOutboundOffPassesEvents: with outbound mail off the consumer moves past
// the events without queueing, so turning it on later mails no backlog.
func TestOutboundOffPassesEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		alice := e.user("alice", "alice@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		team := e.team("Desk", bob)
		off := e.mailer(mail.Config{}, nil, "")
		if _, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Old news", TeamID: team}); err != nil {
			t.Fatal(err)
		}
		if n, q, err := off.Queue(ctx); err != nil || n == 0 || q != 0 {
			t.Fatalf("queue while off: %d %d %v", n, q, err)
		}
		sink := newSMTPSink(t)
		on := e.mailer(config(sink, nil), nil, "")
		if _, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Fresh news", TeamID: team}); err != nil {
			t.Fatal(err)
		}
		drain(t, on)
		if got := delivered(sink); !slices.Equal(got, []string{"bob@example.com | [TKT0000002] Opened: Fresh news"}) {
			t.Fatalf("delivered %v", got)
		}
	})
}

// TestAreaEvents: the events areas emit (a major incident's declaration and
// updates by audience, a request's approval and rejection, with the shapes
// the incident and request areas write) reach their audiences, taking the
// record number from the event subject; a step's resolution goes with its
// notification.
func TestAreaEvents(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		e := newEnv(t, d)
		sink := newSMTPSink(t)
		m := e.mailer(config(sink, nil), nil, "UNCLASSIFIED")
		alice := e.user("alice", "alice@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		mgr := e.user("mgr", "mgr@example.com", false)
		boss := e.user("boss", "boss@example.com", false)
		carl := e.user("carl", "carl@example.com", false)
		e.guard.give("IM5", framework.R, bob)
		r, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Mail is down", AssigneeID: bob.id})
		if err != nil {
			t.Fatal(err)
		}
		child, err := e.records.Create(as(carl), "ticket", record.NewRecord{Title: "No mail since 9", AssigneeID: bob.id})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.records.Link(as(bob), r.Number, record.ParentOf, child.Number); err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		emit := func(actor user, typ string, data map[string]any) {
			t.Helper()
			actx := as(actor)
			ev := outbox.Event{Type: typ, Subject: "record/" + r.Number, Data: data}
			if err := d.InTx(actx, func(tx *db.Tx) error { return e.events.Emit(actx, tx, ev) }); err != nil {
				t.Fatal(err)
			}
		}
		check := func(want ...string) {
			t.Helper()
			before := len(sink.messages())
			drain(t, m)
			var got []string
			for _, s := range sink.messages()[before:] {
				for _, to := range s.To {
					got = append(got, to+" | "+header(s.Data, "Subject"))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("delivered:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
		const subj = " [TKT0000001] "
		emit(bob, mail.EventMajorDeclared, map[string]any{"number": r.Number, "title": r.Title, "priority": 1,
			"managerId": mgr.id, "reason": "priority P1 reached the major-incident threshold", "declaredBy": bob.id})
		check("mgr@example.com |" + subj + "Major incident declared: Mail is down")
		// "all": the caller, the callers of child incidents, the assignee, the watchers and the named recipients.
		emit(mgr, mail.EventMajorUpdate, map[string]any{"number": r.Number, "audience": "all", "message": "Vendor engaged; next update 14:00.",
			"author": "mgr", "managerId": mgr.id, "update": 1})
		check("alice@example.com |"+subj+"Major incident update: Mail is down",
			"carl@example.com |"+subj+"Major incident update: Mail is down",
			"bob@example.com |"+subj+"Major incident update: Mail is down")
		emit(mgr, mail.EventMajorUpdate, map[string]any{"number": r.Number, "audience": "technical", "message": "Failover at 13:00.",
			"managerId": mgr.id, "update": 2})
		check("bob@example.com |" + subj + "Major incident update: Mail is down")
		emit(alice, mail.EventRequestApproval, map[string]any{"number": r.Number, "title": r.Title, "requesterId": alice.id,
			"state": "approval", "level": 1, "levels": 2, "kind": "manager", "approvers": []int64{mgr.id, boss.id}})
		check("mgr@example.com |"+subj+"Approval requested: Mail is down", "boss@example.com |"+subj+"Approval requested: Mail is down")
		emit(mgr, mail.EventRequestRejected, map[string]any{"number": r.Number, "title": r.Title, "requesterId": alice.id,
			"state": "rejected", "reason": "Laptops are replaced every four years.", "rejectedBy": mgr.id, "rejectedByName": "mgr"})
		check("alice@example.com |" + subj + "Rejected: Mail is down")
		// The SLA sweeper's escalations, sent by the system: the assignee hears
		// of them, the caller never does.
		for _, sl := range []struct {
			typ, head string
			threshold int
		}{{mail.EventSLAWarning, "Service level at 75%", 75}, {mail.EventSLABreached, "Service level breached", 100}} {
			ev := outbox.Event{Type: sl.typ, Subject: "record/" + r.Number, Data: map[string]any{"number": r.Number,
				"target": "Resolve P1", "agreement": "Mail SLA", "threshold": sl.threshold, "dueAt": int64(1_790_000_000_000),
				"audience": []string{"assignee", "team"}}}
			if err := d.InTx(ctx, func(tx *db.Tx) error { return e.events.Emit(ctx, tx, ev) }); err != nil {
				t.Fatal(err)
			}
			check("bob@example.com |" + subj + sl.head + ": Mail is down")
		}
		// A step and the area's account of it (a resolution) in one transaction: one message with both.
		actx := as(bob)
		if _, err := e.records.Perform(actx, r.Number, "resolve", record.PerformInput{}); err != nil {
			t.Fatal(err)
		}
		emit(bob, "incident.resolved", map[string]any{"number": r.Number, "action": "resolve",
			"resolution": map[string]any{"code": "workaround", "notes": "Mail flows through the backup relay.", "effortMinutes": 30}})
		check("alice@example.com |" + subj + "Resolved: Mail is down")

		ns, err := m.Notifications(ctx, mail.NotificationQuery{Record: r.Number, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		bodies := map[string]string{}
		for _, n := range ns {
			bodies[n.EventType+" "+n.To] = n.Body
		}
		for key, want := range map[string][]string{
			mail.EventMajorDeclared + " mgr@example.com":     {"Bob declared TKT0000001 (Ticket) a major incident.", "Major incident manager: Mgr", "  priority P1 reached"},
			mail.EventMajorUpdate + " carl@example.com":      {"Mgr posted an update on major incident TKT0000001:", "  Vendor engaged; next update 14:00."},
			mail.EventRequestApproval + " boss@example.com":  {"TKT0000001 (Ticket) waits for your approval.", "Approval level 1 of 2 (Manager)"},
			mail.EventRequestRejected + " alice@example.com": {"Mgr rejected TKT0000001 (Ticket).", "Reason:", "  Laptops are replaced every four years."},
			mail.EventTransitioned + " alice@example.com":    {"from New to Resolved", "Resolution: Workaround", "  Mail flows through the backup relay."},
			mail.EventSLAWarning + " bob@example.com":        {"TKT0000001 (Ticket) has used 75% of Resolve P1 (Mail SLA).", "Due: 21 Sep 2026 14:13 UTC"},
			mail.EventSLABreached + " bob@example.com":       {"TKT0000001 (Ticket) has breached Resolve P1 (Mail SLA)."},
		} {
			for _, w := range want {
				if !strings.Contains(bodies[key], w) {
					t.Errorf("%s: no %q in\n%s", key, w, bodies[key])
				}
			}
		}
	})
}

// TestStepApprovalMailsApprovers: a step that waits for approval is mailed to
// the accountable (A) holders who may approve it.
func TestStepApprovalMailsApprovers(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newEnv(t, d)
		sink := newSMTPSink(t)
		m := e.mailer(config(sink, nil), nil, "UNCLASSIFIED")
		alice := e.user("alice", "alice@example.com", false)
		bob := e.user("bob", "bob@example.com", false)
		mgr := e.user("mgr", "mgr@example.com", false)
		e.guard.give("IM3", framework.R, bob)
		e.guard.give("IM3", framework.A, mgr)
		r, err := e.records.Create(as(alice), "ticket", record.NewRecord{Title: "Duplicate", AssigneeID: bob.id})
		if err != nil {
			t.Fatal(err)
		}
		drain(t, m)
		before := len(sink.messages())
		res, err := e.records.Perform(as(bob), r.Number, "cancel", record.PerformInput{Comment: "a duplicate of TKT0000009"})
		if err != nil || res.Outcome != record.OutcomeAwaitingApproval {
			t.Fatalf("cancel: %+v %v", res.Outcome, err)
		}
		drain(t, m)
		got := sink.messages()[before:]
		if len(got) != 1 || !slices.Equal(got[0].To, []string{"mgr@example.com"}) ||
			header(got[0].Data, "Subject") != "[TKT0000001] Approval requested: Duplicate" {
			t.Fatalf("delivered %d: %v", len(got), delivered(sink))
		}
		ns, err := m.Notifications(context.Background(), mail.NotificationQuery{State: "sent", Limit: 1})
		if err != nil || len(ns) != 1 || !strings.Contains(ns[0].Body, "Bob asks to cancel TKT0000001 (Ticket, activity IM3); it waits for your approval.") ||
			!strings.Contains(ns[0].Body, "  a duplicate of TKT0000009") {
			t.Fatalf("%+v %v", ns, err)
		}
	})
}
