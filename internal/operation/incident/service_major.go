package incident

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/record"
)

// MaxChildren is how many incidents one request may link as children.
const MaxChildren = 100

// DeclareMajor puts an incident on the major path by hand, or changes the
// manager of a major one (IM3). A security incident is never major (its
// stakeholder updates would reach everyone), nor is another incident's child.
func (s *Service) DeclareMajor(ctx context.Context, number string, version, managerID int64, reason string) (out Incident, err error) {
	defer errs.Wrap(&err, "declare %s major", number)
	ctx = begin(ctx)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	var f fieldErrs
	if managerID <= 0 {
		f.add("body.managerId", "name the major-incident manager", managerID)
	}
	f.text("body.reason", reason, 4000, true)
	if err := f.err(); err != nil {
		return out, err
	}
	inc, _, err := s.read(ctx, number)
	if err != nil {
		return out, err
	}
	if inc.Path == PathSecurity {
		return out, errs.E(errs.Conflict, "%s is a security incident: it stays on the security path, whose audience is restricted, "+
			"and is never declared major", inc.Number)
	}
	parent, err := parentOf(ctx, s.db, inc.ID)
	if err != nil {
		return out, err
	}
	if parent != "" {
		return out, errs.E(errs.Conflict, "%s is a child of major incident %s; a child cannot be major itself", inc.Number, parent)
	}
	if err := s.authorize(ctx, ActCategorise, "declare a major incident on", inc.Record); err != nil {
		return out, err
	}
	if err := checkRefs(ctx, s.db, 0, 0, "", "", managerID, map[string]string{"caller": "body.managerId"}); err != nil {
		return out, err
	}
	if version == 0 {
		version = inc.Version
	}
	r, err := s.records.Amend(ctx, inc.Number, record.Amendment{Version: version, Verb: "declare a major incident on",
		Permit: func(_ *auth.Principal, _ record.Record) bool { return true },
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			w, err := loadRow(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			old := w
			declared := w.Path != PathMajor
			if declared {
				w.Path, w.DeclaredAt, w.DeclaredBy = PathMajor, s.now(), p.UserID
			}
			w.ManagerID, w.MajorReason = managerID, strings.TrimSpace(reason)
			changes := audit.Diff(rowAudited, rowFields(old), rowFields(w))
			if len(changes) == 0 {
				return nil, nil
			}
			if err := saveRow(ctx, tx, &w); err != nil {
				return nil, err
			}
			if declared {
				return changes, s.announceMajor(ctx, tx, cur, w)
			}
			return changes, s.events.Emit(ctx, tx, outbox.Event{Type: "incident.major_manager_changed", Subject: subject(cur.Number),
				Data: map[string]any{"number": cur.Number, "managerId": w.ManagerID, "previousManagerId": old.ManagerID}})
		}})
	if err != nil {
		return out, err
	}
	out, _, err = s.read(ctx, r.Number)
	return out, err
}

// major reads a major incident; any other is a Conflict.
func (s *Service) major(ctx context.Context, number string) (Incident, error) {
	inc, _, err := s.read(ctx, number)
	if err != nil {
		return inc, err
	}
	if inc.Path != PathMajor {
		return inc, errs.E(errs.Conflict, "%s is not a major incident (its path is %s)", inc.Number, inc.Path)
	}
	return inc, nil
}

// mayWorkMajor lets the major-incident manager through, and otherwise asks
// the guard for activity (R or A holders).
func (s *Service) mayWorkMajor(ctx context.Context, inc Incident, activity, verb string) error {
	p, err := principal(ctx)
	if err != nil {
		return err
	}
	if inc.Major != nil && inc.Major.ManagerID != 0 && inc.Major.ManagerID == p.UserID {
		return nil
	}
	return s.authorize(ctx, activity, verb, inc.Record)
}

// PostUpdate adds a stakeholder update to a major incident's timeline and
// sends it through the outbox (incident.major_update), so that mail can
// deliver it. The manager posts updates, or anyone with R or A for IM4.
func (s *Service) PostUpdate(ctx context.Context, number, audienceName, message string) (out MajorUpdate, err error) {
	defer errs.Wrap(&err, "post an update on %s", number)
	ctx = begin(ctx)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	var f fieldErrs
	oneOf(&f, "body.audience", audienceName, Audiences)
	f.text("body.message", message, 8000, true)
	if err := f.err(); err != nil {
		return out, err
	}
	inc, err := s.major(ctx, number)
	if err != nil {
		return out, err
	}
	if err := s.mayWorkMajor(ctx, inc, ActInvestigate, "post a stakeholder update on"); err != nil {
		return out, err
	}
	out = MajorUpdate{Audience: audienceName, Message: message, AuthorID: p.UserID, AuthorName: p.Username, CreatedAt: s.clock.Now()}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := insertUpdate(ctx, tx, inc.ID, &out); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.major.update", ObjectType: "record", ObjectID: inc.Number,
			Changes: []audit.Change{{Field: "update", New: out.ID}, {Field: "audience", New: out.Audience}, {Field: "message", New: out.Message}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.major_update", Subject: subject(inc.Number), Data: map[string]any{
			"number": inc.Number, "title": inc.Title, "state": inc.State, "priority": inc.Priority, "audience": out.Audience,
			"message": out.Message, "author": out.AuthorName, "managerId": inc.Major.ManagerID, "update": out.ID}})
	})
	return out, err
}

// LogCommunication adds an entry to a major incident's communications log:
// the channel, with whom, and what was said. The manager logs, or anyone with
// R or A for IM4.
func (s *Service) LogCommunication(ctx context.Context, number string, c MajorCommunication) (out MajorCommunication, err error) {
	defer errs.Wrap(&err, "log a communication on %s", number)
	ctx = begin(ctx)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	var f fieldErrs
	oneOf(&f, "body.channel", c.Channel, CommChannels)
	f.text("body.party", c.Party, 500, true)
	f.text("body.summary", c.Summary, 8000, true)
	if err := f.err(); err != nil {
		return out, err
	}
	inc, err := s.major(ctx, number)
	if err != nil {
		return out, err
	}
	if err := s.mayWorkMajor(ctx, inc, ActInvestigate, "log a communication on"); err != nil {
		return out, err
	}
	out = MajorCommunication{Channel: c.Channel, Party: strings.TrimSpace(c.Party), Summary: c.Summary, AuthorID: p.UserID,
		AuthorName: p.Username, CreatedAt: s.clock.Now()}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := insertComm(ctx, tx, inc.ID, &out); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.major.communication", ObjectType: "record", ObjectID: inc.Number,
			Changes: []audit.Change{{Field: "communication", New: out.ID}, {Field: "channel", New: out.Channel},
				{Field: "party", New: out.Party}, {Field: "summary", New: out.Summary}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.major_communication", Subject: subject(inc.Number),
			Data: map[string]any{"number": inc.Number, "communication": out}})
	})
	return out, err
}

// Communications lists a major incident's communications log, oldest first.
func (s *Service) Communications(ctx context.Context, number string) (out []MajorCommunication, err error) {
	defer errs.Wrap(&err, "communications of %s", number)
	ctx = begin(ctx)
	inc, err := s.major(ctx, number)
	if err != nil {
		return nil, err
	}
	return listComms(ctx, s.db, inc.ID)
}

// MajorDetail returns a major incident's manager, timeline, communications
// log, review and children.
func (s *Service) MajorDetail(ctx context.Context, number string) (out MajorDetail, err error) {
	defer errs.Wrap(&err, "major incident %s", number)
	ctx = begin(ctx)
	inc, err := s.major(ctx, number)
	if err != nil {
		return out, err
	}
	out.MajorIncident = *inc.Major
	if out.Updates, err = listUpdates(ctx, s.db, inc.ID); err != nil {
		return out, err
	}
	if out.Communications, err = listComms(ctx, s.db, inc.ID); err != nil {
		return out, err
	}
	if out.Review, err = loadReview(ctx, s.db, inc.ID); err != nil {
		return out, err
	}
	kids, err := children(ctx, s.db, inc.ID)
	if err != nil {
		return out, err
	}
	out.Children = make([]string, len(kids))
	for i, c := range kids {
		out.Children[i] = c.Number
	}
	return out, nil
}

// AddChildren links incidents as children of a major incident (parent_of),
// in one transaction; they are resolved with it. A child must be open, not
// major itself and no other incident's child; one linked already is left as
// it is. The manager links, or anyone with R or A for IM3. It returns the
// numbers linked now.
func (s *Service) AddChildren(ctx context.Context, number string, numbers []string) (linked []string, err error) {
	defer errs.Wrap(&err, "link children to %s", number)
	ctx = begin(ctx)
	if len(numbers) == 0 || len(numbers) > MaxChildren {
		return nil, errs.Field("body.numbers", fmt.Sprintf("give 1 to %d incident numbers", MaxChildren), len(numbers))
	}
	parent, err := s.major(ctx, number)
	if err != nil {
		return nil, err
	}
	if parent.Closed {
		return nil, errs.E(errs.Conflict, "%s is %s; children are linked while it is open", parent.Number, parent.State)
	}
	if err := s.mayWorkMajor(ctx, parent, ActCategorise, "link child incidents to"); err != nil {
		return nil, err
	}
	var f fieldErrs
	seen := map[string]bool{}
	var toLink []string
	for i, n := range numbers {
		loc := fmt.Sprintf("body.numbers[%d]", i)
		n = record.NormalizeNumber(n)
		if n == parent.Number {
			f.add(loc, "an incident cannot be its own child", n)
			continue
		}
		if seen[n] {
			continue
		}
		seen[n] = true
		c, _, err := s.read(ctx, n)
		if errs.Is(err, errs.NotFound) {
			f.add(loc, "no such incident", n)
			continue
		}
		if err != nil {
			return nil, err
		}
		switch {
		case c.Path == PathMajor:
			f.add(loc, "a major incident cannot be a child", n)
			continue
		case c.Closed || c.State == StateResolved:
			f.add(loc, "the incident is "+c.State+"; link open incidents", n)
			continue
		}
		p, err := parentOf(ctx, s.db, c.ID)
		if err != nil {
			return nil, err
		}
		switch p {
		case "":
			toLink = append(toLink, c.Number)
		case parent.Number:
		default:
			f.add(loc, "already a child of "+p, n)
		}
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	linked = []string{}
	if len(toLink) == 0 {
		return linked, nil
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		for _, c := range toLink {
			if _, err := s.records.LinkIn(ctx, tx, parent.Number, record.ParentOf, c); err != nil {
				return err
			}
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: "incident.major.children", ObjectType: "record", ObjectID: parent.Number,
			Changes: []audit.Change{{Field: "children", New: toLink}}})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "incident.children_linked", Subject: subject(parent.Number),
			Data: map[string]any{"number": parent.Number, "children": toLink}})
	})
	if err != nil {
		return nil, err
	}
	return toLink, nil
}

// RecordReview records (or rewrites) the review of a resolved major incident
// (IM6); closing it waits for the review.
func (s *Service) RecordReview(ctx context.Context, number string, rv MajorReview) (out MajorReview, err error) {
	defer errs.Wrap(&err, "review %s", number)
	ctx = begin(ctx)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	var f fieldErrs
	f.text("body.summary", rv.Summary, 32000, true)
	f.text("body.rootCause", rv.RootCause, 32000, true)
	f.text("body.lessons", rv.Lessons, 32000, true)
	f.text("body.actions", rv.Actions, 32000, true)
	if err := f.err(); err != nil {
		return out, err
	}
	inc, err := s.major(ctx, number)
	if err != nil {
		return out, err
	}
	if inc.State != StateResolved {
		return out, errs.E(errs.Conflict, "%s is %s: a major incident is reviewed after its resolution, before it closes", inc.Number, inc.State)
	}
	if err := s.authorize(ctx, ActClose, "review", inc.Record); err != nil {
		return out, err
	}
	out = MajorReview{Summary: rv.Summary, RootCause: rv.RootCause, Lessons: rv.Lessons, Actions: rv.Actions, ReviewedBy: p.UserID,
		ReviewedAt: s.clock.Now()}
	_, err = s.records.Amend(ctx, inc.Number, record.Amendment{Version: inc.Version, Verb: "review",
		Permit: func(_ *auth.Principal, _ record.Record) bool { return true },
		Apply: func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			before, err := loadReview(ctx, tx, cur.ID)
			if err != nil {
				return nil, err
			}
			var old map[string]any
			if before != nil {
				old = reviewFields(*before)
			}
			if err := saveReview(ctx, tx, cur.ID, out); err != nil {
				return nil, err
			}
			changes := audit.Diff([]string{"review.summary", "review.rootCause", "review.lessons", "review.actions"}, old, reviewFields(out))
			if len(changes) == 0 {
				changes = []audit.Change{{Field: "review", New: "confirmed unchanged"}}
			}
			return changes, s.events.Emit(ctx, tx, outbox.Event{Type: "incident.major_reviewed", Subject: subject(cur.Number),
				Data: map[string]any{"number": cur.Number, "review": out}})
		}})
	return out, err
}

func reviewFields(rv MajorReview) map[string]any {
	return map[string]any{"review.summary": rv.Summary, "review.rootCause": rv.RootCause, "review.lessons": rv.Lessons,
		"review.actions": rv.Actions}
}
