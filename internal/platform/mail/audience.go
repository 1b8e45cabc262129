package mail

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/record"
)

// The event types that are mailed.
const (
	EventCreated         = "record.created"
	EventTransitioned    = "record.transitioned"
	EventAssigned        = "record.assigned"
	EventCommented       = "record.commented"
	EventInformed        = "raci.informed"
	EventStepApproval    = "record.approval_requested"
	EventMajorDeclared   = "incident.major_declared"
	EventMajorUpdate     = "incident.major_update"
	EventRequestApproval = "request.approval_requested"
	EventRequestRejected = "request.rejected"
	EventSLAWarning      = "sla.warning"
	EventSLABreached     = "sla.breached"
)

// MailedEvents lists the outbox event types that become notifications, most
// telling first: when one message tells a user of several events about a record,
// its subject names the first of them in this order.
var MailedEvents = []string{EventCreated, EventRequestRejected, EventMajorDeclared, EventMajorUpdate, EventSLABreached,
	EventSLAWarning, EventRequestApproval, EventStepApproval, EventTransitioned, EventInformed, EventCommented, EventAssigned}

// A recipient's relations to a record, and other texts of notifications.
const (
	subjectPrefix              = "record/"
	whyRequester, whyAssignee  = "requester", "assignee"
	whyTeam, whyWatcher        = "team", "watcher"
	whyInformed, whyApprover   = "informed", "approver"
	whyStakeholder, whyManager = "stakeholder", "major incident manager"
	whyAffected                = "caller of a child incident"
	defaultActorName           = "Steward"
	maxDescriptionInCreatedMsg = 2000
)

// fields is an event's data, read leniently: areas add fields of their own.
type fields map[string]json.RawMessage

// str returns the first of keys that holds a non-empty string.
func (f fields) str(keys ...string) string {
	for _, k := range keys {
		var s string
		if json.Unmarshal(f[k], &s) == nil && strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// num returns the first of keys that holds a number (or a numeric string).
func (f fields) num(keys ...string) int64 {
	for _, k := range keys {
		var n int64
		if json.Unmarshal(f[k], &n) == nil && n != 0 {
			return n
		}
		var s string
		if json.Unmarshal(f[k], &s) == nil {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && n != 0 {
				return n
			}
		}
	}
	return 0
}

// obj returns the object under key, or nil.
func (f fields) obj(key string) fields {
	var o fields
	if json.Unmarshal(f[key], &o) != nil {
		return nil
	}
	return o
}

// ids returns the user ids listed under keys: lists of ids, or of objects with userId or id.
func (f fields) ids(keys ...string) []int64 {
	var out []int64
	for _, k := range keys {
		out = append(out, userIDs(f[k])...)
	}
	return out
}

// firstText returns the first non-empty text.
func firstText(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// userIDs reads user ids from a JSON list of ids or of objects with userId or id.
func userIDs(raw json.RawMessage) []int64 {
	if len(raw) == 0 {
		return nil
	}
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		return nil
	}
	var out []int64
	for _, it := range items {
		var n int64
		if json.Unmarshal(it, &n) == nil {
			out = append(out, n)
			continue
		}
		var o struct {
			UserID int64 `json:"userId"`
			ID     int64 `json:"id"`
		}
		if json.Unmarshal(it, &o) == nil && max(o.UserID, o.ID) > 0 {
			out = append(out, max(o.UserID, o.ID))
		}
	}
	return out
}

// audience is who an event reaches, by relation.
type audience struct {
	requester bool
	handlers  bool // the assignee, or the team's members when nobody is assigned
	watchers  bool
	affected  bool // the callers of the record's children (a major incident's)
	// internal leaves out the requester who does not work the record (work notes).
	internal bool
	// extra are further users: informed holders, approvers, stakeholders.
	extra    []int64
	extraWhy string
	// notTo are users left out: those another notification of the same step reached.
	notTo []int64
}

// note is what one event tells its recipients.
type note struct {
	eventID   int64
	eventType string
	rank      int
	rec       *record.Record
	notice    Notice
	to        []Recipient
}

// attachment is what an event that is not mailed adds to the messages about
// its record in the same batch: a resolution, a hold reason.
type attachment struct {
	number string
	detail string
	text   string
}

// readEvent turns one event into its note, or into an attachment, or nothing.
func (m *Mailer) readEvent(ctx context.Context, q db.Queryer, c *batchCache, ev event) (*note, *attachment, error) {
	if !strings.HasPrefix(ev.subject, subjectPrefix) {
		return nil, nil, nil
	}
	number := record.NormalizeNumber(strings.TrimPrefix(ev.subject, subjectPrefix))
	var f fields
	if err := json.Unmarshal([]byte(ev.data), &f); err != nil {
		m.log.Warn("event data unreadable; not mailed", "event", ev.id, "type", ev.typ, "err", err)
		return nil, nil, nil
	}
	rank := slices.Index(MailedEvents, ev.typ)
	if rank < 0 {
		return nil, attachmentOf(number, f), nil
	}
	r, err := c.record(ctx, q, number)
	if err != nil || r == nil {
		return nil, nil, err // a record deleted since is not mailed about
	}
	nt, err := m.describe(ctx, q, c, ev, f, r)
	if err != nil || nt == nil {
		return nil, nil, err
	}
	nt.eventID, nt.eventType, nt.rank = ev.id, ev.typ, rank
	return nt, nil, nil
}

// attachmentOf reads what an unmailed event adds: a resolution (code and
// notes), a hold reason, a rejection reason, a record it led to.
func attachmentOf(number string, f fields) *attachment {
	a := &attachment{number: number}
	if res := f.obj("resolution"); res != nil {
		if code := res.str("code"); code != "" {
			a.detail = "Resolution: " + humanize(code)
		}
		a.text = res.str("notes")
	}
	switch {
	case f.str("holdReason") != "":
		a.detail = "On hold: " + humanize(f.str("holdReason"))
	case f.str("request") != "":
		a.detail = "Continued as " + f.str("request")
	case a.detail == "" && a.text == "" && f.str("reason") != "":
		a.detail, a.text = "Reason:", f.str("reason")
	}
	if a.detail == "" && a.text == "" {
		return nil
	}
	return a
}

// describe writes an event's note: what happened, and to whom it goes.
func (m *Mailer) describe(ctx context.Context, q db.Queryer, c *batchCache, ev event, f fields, r *record.Record) (*note, error) {
	actorID := f.num("appliedBy", "actorId", "decidedBy", "rejectedBy", "declaredBy")
	actor := c.displayName(ctx, q, ev.actor)
	tl, from, to := m.labels(r.Type, f.str("from"), firstText(f.str("to", "state"), r.State))
	nt := &note{rec: r}
	n := &nt.notice
	var a audience
	switch ev.typ {
	case EventCreated:
		// The record as it was created: a later assignment or watcher is told of its own event.
		r2 := *r
		r2.Title, r2.Description = firstText(f.str("title"), r.Title), f.str("description")
		r2.TeamID, r2.AssigneeID, r2.RequesterID = f.num("teamId"), f.num("assigneeId"), f.num("requesterId")
		r2.Priority = int(f.num("priority"))
		nt.rec, r = &r2, &r2
		a = audience{requester: true, handlers: true}
		n.Headline = "Opened"
		n.Summary = fmt.Sprintf("%s opened %s (%s).", actor, r.Number, tl)
		n.Details = []string{"State: " + to}
		if r.Priority > 0 {
			n.Details = append(n.Details, fmt.Sprintf("Priority: P%d", r.Priority))
		}
		n.Text = truncateRunes(r.Description, maxDescriptionInCreatedMsg)
	case EventTransitioned:
		a = audience{requester: true, handlers: true, watchers: true}
		n.Headline = to
		n.Summary = fmt.Sprintf("%s moved %s (%s) from %s to %s.", actor, r.Number, tl, from, to)
		n.Details = []string{"State: " + from + " → " + to}
		if act := f.str("activity"); act != "" {
			n.Details = append(n.Details, "Activity: "+act)
		}
	case EventAssigned:
		r2 := *r
		r2.TeamID, r2.AssigneeID = f.num("teamId"), f.num("assigneeId")
		nt.rec, r = &r2, &r2 // the assignment the event made, not a later one
		a = audience{handlers: true, watchers: true}
		who := c.teamName(ctx, q, r.TeamID)
		if r.AssigneeID != 0 {
			if err := c.loadUsers(ctx, q, []int64{r.AssigneeID}); err != nil {
				return nil, err
			}
			if u := c.users[r.AssigneeID]; u != nil {
				who = strings.TrimPrefix(who+" / "+u.Name, " / ")
			}
		}
		n.Headline = "Assigned"
		n.Summary = fmt.Sprintf("%s assigned %s (%s) to %s.", actor, r.Number, tl, firstText(who, "nobody"))
	case EventCommented:
		e := f.obj("entry")
		kind := e.str("kind")
		if kind != string(record.Comment) && kind != string(record.WorkNote) {
			return nil, nil
		}
		actorID = max(actorID, e.num("authorId"))
		author := actor
		if name := e.str("authorName"); name != "" {
			author = c.displayName(ctx, q, name)
		}
		if kind == string(record.Comment) {
			a = audience{requester: true, handlers: true, watchers: true}
			n.Headline = "New comment"
			n.Summary = fmt.Sprintf("%s commented on %s (%s):", author, r.Number, tl)
		} else {
			a = audience{handlers: true, watchers: true, internal: true}
			n.Headline = "New work note"
			n.Summary = fmt.Sprintf("%s added a work note to %s (%s):", author, r.Number, tl)
		}
		n.Text = e.str("body")
	case EventInformed:
		// The step's record.transitioned reached the requester, the handlers and the watchers already.
		a = audience{extra: f.ids("users"), extraWhy: whyInformed}
		var err error
		if a.notTo, err = m.stepAudience(ctx, q, c, r); err != nil {
			return nil, err
		}
		n.Headline = to
		n.Summary = fmt.Sprintf("%s is now %s: %s performed %s. You are informed (I) of %s.", r.Number, to, actor,
			firstText(f.str("action"), "a step"), firstText(f.str("activity"), "this activity"))
	case EventStepApproval:
		a = audience{extra: f.ids("approvers"), extraWhy: whyApprover}
		actorID = max(actorID, f.num("requestedBy"))
		n.Headline = "Approval requested"
		n.Summary = fmt.Sprintf("%s asks to %s %s (%s, activity %s); it waits for your approval.", actor,
			firstText(f.str("action"), "move"), r.Number, tl, firstText(f.str("activity"), "unknown"))
		n.Text = f.str("comment")
	case EventRequestApproval:
		a = audience{extra: f.ids("approvers"), extraWhy: whyApprover}
		n.Headline = "Approval requested"
		n.Summary = fmt.Sprintf("%s (%s) waits for your approval.", r.Number, tl)
		if lvl := f.num("level"); lvl > 0 {
			d := fmt.Sprintf("Approval level %d", lvl)
			if of := f.num("levels"); of > 0 {
				d += fmt.Sprintf(" of %d", of)
			}
			if kind := f.str("kind"); kind != "" {
				d += " (" + humanize(kind) + ")"
			}
			n.Details = []string{d}
		}
		n.Text = f.str("comment", "text", "message")
	case EventRequestRejected:
		a = audience{requester: true, watchers: true}
		n.Headline = "Rejected"
		n.Summary = fmt.Sprintf("%s rejected %s (%s).", actor, r.Number, tl)
		if n.Text = f.str("reason", "comment", "text"); n.Text != "" {
			n.Details = []string{"Reason:"}
		}
	case EventMajorDeclared:
		a = audience{handlers: true, watchers: true, extra: []int64{f.num("managerId")}, extraWhy: whyManager}
		n.Headline = "Major incident declared"
		n.Summary = fmt.Sprintf("%s declared %s (%s) a major incident.", actor, r.Number, tl)
		if mgr := f.num("managerId"); mgr != 0 {
			if err := c.loadUsers(ctx, q, []int64{mgr}); err != nil {
				return nil, err
			}
			if u := c.users[mgr]; u != nil {
				n.Details = []string{"Major incident manager: " + u.Name}
			}
		}
		n.Text = f.str("reason")
	case EventSLAWarning, EventSLABreached:
		// An escalation of a service-level clock goes to the people working the
		// record and its watchers, never to the caller: the clock is internal.
		a = audience{handlers: true, watchers: true, internal: true}
		target := firstText(f.str("target"), "a service-level target")
		if ag := f.str("agreement"); ag != "" {
			target += " (" + ag + ")"
		}
		if ev.typ == EventSLABreached {
			n.Headline = "Service level breached"
			n.Summary = fmt.Sprintf("%s (%s) has breached %s.", r.Number, tl, target)
		} else {
			n.Headline = fmt.Sprintf("Service level at %d%%", f.num("threshold"))
			n.Summary = fmt.Sprintf("%s (%s) has used %d%% of %s.", r.Number, tl, f.num("threshold"), target)
		}
		if due := f.num("dueAt"); due > 0 {
			n.Details = []string{"Due: " + time.UnixMilli(due).UTC().Format("2 Jan 2006 15:04 UTC")}
		}
	case EventMajorUpdate:
		a = majorAudience(f.str("audience"))
		a.extra = append(f.ids("recipients", "stakeholders"), f.num("managerId"))
		a.extraWhy = whyStakeholder
		n.Headline = "Major incident update"
		n.Summary = fmt.Sprintf("%s posted an update on major incident %s:", actor, r.Number)
		n.Text = f.str("message", "text", "body", "summary")
	}
	var err error
	nt.to, err = m.recipients(ctx, q, c, r, a, actorID, ev.actor)
	if err != nil || len(nt.to) == 0 {
		return nil, err
	}
	return nt, nil
}

// majorAudience is who a major incident's stakeholder update is for: "users"
// are the callers (of the incident and of its children), "technical" the
// people working it, "stakeholders" and "management" the watchers (and the
// update's named recipients), "all" everyone.
func majorAudience(name string) audience {
	switch name {
	case "users":
		return audience{requester: true, affected: true, watchers: true}
	case "technical":
		return audience{handlers: true, watchers: true}
	case "stakeholders", "management":
		return audience{watchers: true}
	}
	return audience{requester: true, affected: true, handlers: true, watchers: true}
}

// stepAudience is who a record.transitioned of r reaches: the requester, the handlers and the watchers.
func (m *Mailer) stepAudience(ctx context.Context, q db.Queryer, c *batchCache, r *record.Record) ([]int64, error) {
	cands, err := m.candidates(ctx, q, c, r, audience{requester: true, handlers: true, watchers: true})
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(cands))
	for i, cd := range cands {
		ids[i] = cd.UserID
	}
	return ids, nil
}

// candidates lists the users an audience names, in order: requester, assignee
// or team, watchers, affected callers, extra; users that no longer exist are left out.
func (m *Mailer) candidates(ctx context.Context, q db.Queryer, c *batchCache, r *record.Record, a audience) ([]Candidate, error) {
	type named struct {
		id  int64
		why string
	}
	var list []named
	add := func(why string, ids ...int64) {
		for _, id := range ids {
			if id > 0 {
				list = append(list, named{id, why})
			}
		}
	}
	if a.requester {
		add(whyRequester, r.RequesterID)
	}
	if a.handlers {
		if r.AssigneeID != 0 {
			add(whyAssignee, r.AssigneeID)
		} else {
			ids, err := c.membersOf(ctx, q, r.TeamID)
			if err != nil {
				return nil, err
			}
			add(whyTeam, ids...)
		}
	}
	if a.watchers {
		ids, err := c.watchersOf(ctx, q, r.ID)
		if err != nil {
			return nil, err
		}
		add(whyWatcher, ids...)
	}
	if a.affected {
		ids, err := c.affectedOf(ctx, q, r.ID)
		if err != nil {
			return nil, err
		}
		add(whyAffected, ids...)
	}
	add(a.extraWhy, a.extra...)
	ids := make([]int64, len(list))
	for i, n := range list {
		ids[i] = n.id
	}
	if err := c.loadUsers(ctx, q, ids); err != nil {
		return nil, err
	}
	var out []Candidate
	for _, n := range list {
		if u := c.users[n.id]; u != nil {
			cd := *u
			cd.Why = n.why
			out = append(out, cd)
		}
	}
	return out, nil
}

// recipients resolves an audience to the addresses a notification goes to.
func (m *Mailer) recipients(ctx context.Context, q db.Queryer, c *batchCache, r *record.Record, a audience,
	actorID int64, actorName string) ([]Recipient, error) {
	cands, err := m.candidates(ctx, q, c, r, a)
	if err != nil {
		return nil, err
	}
	kept := cands[:0]
	for _, cd := range cands {
		if slices.Contains(a.notTo, cd.UserID) {
			continue
		}
		if a.internal && cd.UserID == r.RequesterID && !cd.Admin && cd.UserID != r.AssigneeID {
			member, err := c.membersOf(ctx, q, r.TeamID)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(member, cd.UserID) {
				continue // a work note never reaches a requester who does not work the record
			}
		}
		if !m.visibleTo(ctx, r, cd) {
			continue
		}
		kept = append(kept, cd)
	}
	return SelectRecipients(kept, actorID, actorName), nil
}

// visibleTo applies the record type's visibility rule to a recipient. The
// principal carries the user's id, name and administrator flag, not their
// permissions: a rule that needs a permission hides the record from them.
func (m *Mailer) visibleTo(ctx context.Context, r *record.Record, cd Candidate) bool {
	if m.records == nil {
		return true
	}
	t, err := m.records.Type(r.Type)
	if err != nil || t.Visible == nil {
		return true
	}
	p := &auth.Principal{UserID: cd.UserID, Username: cd.Username, DisplayName: cd.Name, Admin: cd.Admin}
	return t.Visible(auth.WithPrincipal(ctx, p), p, r)
}

// letters groups a batch's notes into one message per record and address, in
// the order the notes came: a user told of several events about a record in
// one batch (a step's transition and its informed holders, a comment written
// with a step) gets one message naming the most telling of them in its subject.
func (m *Mailer) letters(notes []*note, atts []*attachment, banner string) []outMessage {
	type group struct {
		to    Recipient
		notes []*note
	}
	var order []string
	groups := map[string]*group{}
	for _, nt := range notes {
		for _, rc := range nt.to {
			key := nt.rec.Number + "\x00" + strings.ToLower(rc.Address)
			g := groups[key]
			if g == nil {
				g = &group{to: rc}
				groups[key] = g
				order = append(order, key)
			}
			g.notes = append(g.notes, nt)
		}
	}
	out := make([]outMessage, 0, len(order))
	for _, key := range order {
		g := groups[key]
		lead := g.notes[0]
		for _, nt := range g.notes[1:] {
			if nt.rank < lead.rank {
				lead = nt
			}
		}
		last := g.notes[len(g.notes)-1].rec
		l := Letter{Number: last.Number, Title: last.Title, Marking: last.Marking, Link: m.recordLink(last.Number)}
		for _, nt := range g.notes {
			l.Notices = append(l.Notices, nt.notice)
		}
		if slices.ContainsFunc(g.notes, func(nt *note) bool { return nt.eventType == EventTransitioned }) {
			// What the step recorded besides the move (a resolution, a reason) goes with it.
			for _, a := range atts {
				if a.number == last.Number {
					l.Notices = append(l.Notices, Notice{Details: nonEmpty(a.detail), Text: a.text})
				}
			}
		}
		out = append(out, outMessage{eventID: lead.eventID, eventType: lead.eventType, userID: g.to.UserID, to: g.to.Address,
			name: g.to.Name, subject: Subject(last.Number, lead.notice.Headline, last.Title),
			body: Body(l, banner, m.cfg.IMAP.Enabled && m.inbound != nil), number: last.Number,
			messageID: m.newMessageID(lead.eventID, g.to.UserID), threadID: threadID(last.Number, m.domain)})
	}
	return out
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// labels names a record type and two of its states for people.
func (m *Mailer) labels(typ, from, to string) (typeLabel, fromLabel, toLabel string) {
	typeLabel, fromLabel, toLabel = humanize(typ), humanize(from), humanize(to)
	if m.records == nil {
		return
	}
	t, err := m.records.Type(typ)
	if err != nil {
		return
	}
	typeLabel = firstText(t.Label, typeLabel)
	if s, ok := t.State(from); ok && s.Label != "" {
		fromLabel = s.Label
	}
	if s, ok := t.State(to); ok && s.Label != "" {
		toLabel = s.Label
	}
	return
}

// humanize turns a stored name such as "in_progress" into "In progress".
func humanize(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "_", " "))
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[size:]
}

func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
