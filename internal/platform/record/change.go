package record

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
	"steward/internal/platform/raci"
)

// performers writes the roles that may perform an activity: "Incident Analyst (R), Incident Manager (A)".
func performers(d raci.Decision) string {
	var out []string
	for _, r := range d.Performers {
		var letters []string
		for _, l := range []string{"A", "R"} {
			if strings.Contains(r.Letters, l) {
				letters = append(letters, l)
			}
		}
		if len(letters) == 0 {
			continue
		}
		name := r.Name
		if name == "" {
			name = r.Code
		}
		out = append(out, name+" ("+strings.Join(letters, "/")+")")
	}
	return strings.Join(out, ", ")
}

// refusal is the Forbidden error for a step the guard refused: it names the
// activity and the roles that may perform it.
func refusal(verb, number, activity string, d raci.Decision) error {
	name := ""
	if d.ActivityName != "" {
		name = " (" + d.ActivityName + ")"
	}
	roles := performers(d)
	if roles == "" {
		return errs.E(errs.Forbidden, "you may not %s %s: it performs %s%s, and no role holds R or A for it", verb, number, activity, name)
	}
	return errs.E(errs.Forbidden, "you may not %s %s: it performs %s%s, which only these roles may perform: %s", verb, number, activity, name, roles)
}

// authorize asks the guard whether p may perform activity of process on r (a
// record not yet created has no number). A refusal is audited (in a
// transaction of its own, so never call it inside one) and Forbidden.
func (s *Service) authorize(ctx context.Context, p *auth.Principal, process string, r *Record, activity, verb string) (raci.Decision, error) {
	return s.authorizeIn(ctx, nil, p, process, r, activity, verb)
}

// authorizeIn is authorize for a caller inside tx (nil: none): the refusal's
// audit entry, a write of its own that must survive the rollback the refusal
// causes, is written once tx is over, so that it never waits for the write
// connection tx holds.
func (s *Service) authorizeIn(ctx context.Context, tx *db.Tx, p *auth.Principal, process string, r *Record, activity, verb string) (raci.Decision, error) {
	d, err := s.guard.Decide(ctx, p, process, activity, scope(r))
	if err != nil {
		return d, fmt.Errorf("decide on %s: %w", activity, err)
	}
	if d.Allowed {
		return d, nil
	}
	target, object := r.Number, r.Number
	if target == "" {
		target, object = "a "+r.Type+" of process "+process, r.Type+"/"+process
	}
	refused := refusal(verb, target, activity, d)
	entry := audit.Entry{Action: "record.denied", ObjectType: "record", ObjectID: object,
		Changes: []audit.Change{{Field: "action", New: verb}, {Field: "activity", New: activity}, {Field: "reason", New: refused.Error()}}}
	if tx != nil {
		actx := context.WithoutCancel(ctx)
		tx.OnEnd(func() { _ = s.trail.Append(actx, s.db, entry) })
		return d, refused
	}
	_ = s.trail.Append(ctx, s.db, entry)
	return d, refused
}

// checkVersion refuses a stale version; 0 means the caller (an area, not the API) does not check.
func checkVersion(r *Record, version int64) error {
	if version != 0 && version != r.Version {
		return errs.E(errs.PreconditionFailed, "record %s changed since version %d (now %d); read it again", r.Number, version, r.Version)
	}
	return nil
}

// Update changes a record's title, description, priority, service or marking.
// With the type's UpdateActivity or UpdateControl set, only its R or A holders may.
func (s *Service) Update(ctx context.Context, number string, version int64, in Update) (out Record, err error) {
	defer errs.Wrap(&err, "update %s", number)
	return s.amend(ctx, number, Amendment{Version: version, Fields: in})
}

// Amendment is an area's change to one of its records: kernel fields and the
// area's own fields, made in one transaction that raises the record's version
// and journals, audits and announces (record.updated) the change.
type Amendment struct {
	// Version is the record version the caller read (the If-Match ETag); 0 skips the check (areas only).
	Version int64
	// Fields are the kernel fields to change.
	Fields Update
	// Verb names the change in a refusal, such as "add a corrective action to"; "change" when empty.
	Verb string
	// Permit, when set, lets a caller whom the type's update guard would refuse
	// make the change anyway (say, the owner of a corrective action reporting
	// on it). It sees the record as read before the transaction.
	Permit func(p *auth.Principal, r Record) bool
	// Apply, when set, changes the area's own fields inside the transaction,
	// after the record is locked and its version checked. It returns the changes
	// to audit (none, with no kernel field changed either, leaves the record as
	// it is) and may refuse the change with an error.
	Apply func(ctx context.Context, tx *db.Tx, cur Record) ([]audit.Change, error)
}

// Amend makes an area's change to a record (see Amendment). The type's update
// guard decides who may, unless Permit lets the caller through.
func (s *Service) Amend(ctx context.Context, number string, a Amendment) (out Record, err error) {
	defer errs.Wrap(&err, "amend %s", number)
	return s.amend(ctx, number, a)
}

func (s *Service) amend(ctx context.Context, number string, a Amendment) (out Record, err error) {
	ctx = raci.WithRequestCache(ctx)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	r, t, err := s.read(ctx, number)
	if err != nil {
		return out, err
	}
	if err := checkVersion(&r, a.Version); err != nil {
		return out, err
	}
	override := false
	if (t.UpdateActivity != "" || t.UpdateControl != "") && (a.Permit == nil || !a.Permit(p, r)) {
		process, activity, err := s.resolveRef(t, &r, t.UpdateActivity, t.UpdateControl)
		if err != nil {
			return out, err
		}
		verb := a.Verb
		if verb == "" {
			verb = "change"
		}
		d, err := s.authorize(ctx, p, process, &r, activity, verb)
		if err != nil {
			return out, err
		}
		override = d.Override
	}
	in := a.Fields
	n := r
	if in.Title != nil {
		n.Title = *in.Title
	}
	if in.Description != nil {
		n.Description = *in.Description
	}
	if in.Priority != nil {
		n.Priority = *in.Priority
	}
	if in.ServiceID != nil {
		n.ServiceID = *in.ServiceID
	}
	if in.Marking != nil {
		n.Marking = *in.Marking
	}
	if err := validateFields(&n); err != nil {
		return out, err
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadRecord(ctx, tx, s.db, r.Number, true)
		if err != nil {
			return err
		}
		if cur.Version != r.Version {
			return errs.E(errs.PreconditionFailed, "record %s changed concurrently; read it again", r.Number)
		}
		if t.Editable != nil {
			if err := t.Editable(cur); err != nil {
				return err
			}
		}
		changes := audit.Diff(auditedFields, recordFields(cur), recordFields(n))
		if a.Apply != nil {
			more, err := a.Apply(ctx, tx, cur)
			if err != nil {
				return err
			}
			changes = append(changes, more...)
		}
		if len(changes) == 0 {
			out = cur
			return nil
		}
		now := s.now()
		if out, err = saveRecord(ctx, tx, n, now); err != nil {
			return err
		}
		if out.Title != cur.Title || out.Description != cur.Description {
			if err := s.text.put(ctx, tx, out); err != nil {
				return err
			}
		}
		var names []string
		for _, c := range changes {
			if !slices.Contains(names, c.Field) {
				names = append(names, c.Field)
			}
		}
		uid, uname := actorName(p)
		if _, err := addJournal(ctx, tx, out.ID, System, "Changed "+strings.Join(names, ", ")+".", uid, uname, now); err != nil {
			return err
		}
		action := "record.update"
		if override {
			action = "record.update.override"
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record", ObjectID: out.Number, Changes: changes})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "record.updated", Subject: subject(&out),
			Data: map[string]any{"record": out, "changes": changes}})
	})
	return out, err
}

// reassigned reports whether moving a record from old to team and assignee
// hands it over: a team or an assignee it already had changes.
func reassigned(old *Record, team, assignee int64) bool {
	return (old.TeamID != 0 && old.TeamID != team) || (old.AssigneeID != 0 && old.AssigneeID != assignee)
}

// Assign gives a record to a team and a person (0 clears either). The person
// must be an active member of the team when a team is set. Handing over a
// record already assigned counts as a reassignment. With the type's
// AssignActivity set, only its R or A holders may assign.
func (s *Service) Assign(ctx context.Context, number string, teamID, assigneeID, version int64) (out Record, err error) {
	defer errs.Wrap(&err, "assign %s", number)
	ctx = raci.WithRequestCache(ctx)
	p, err := principal(ctx)
	if err != nil {
		return out, err
	}
	r, t, err := s.read(ctx, number)
	if err != nil {
		return out, err
	}
	if err := checkVersion(&r, version); err != nil {
		return out, err
	}
	override := false
	if t.AssignActivity != "" || t.AssignControl != "" {
		process, activity, err := s.resolveRef(t, &r, t.AssignActivity, t.AssignControl)
		if err != nil {
			return out, err
		}
		d, err := s.authorize(ctx, p, process, &r, activity, "assign")
		if err != nil {
			return out, err
		}
		override = d.Override
	}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadRecord(ctx, tx, s.db, r.Number, true)
		if err != nil {
			return err
		}
		if cur.Version != r.Version {
			return errs.E(errs.PreconditionFailed, "record %s changed concurrently; read it again", r.Number)
		}
		if cur.TeamID == teamID && cur.AssigneeID == assigneeID {
			out = cur
			return nil
		}
		if err := checkAssignment(ctx, tx, teamID, assigneeID); err != nil {
			return err
		}
		n := cur
		if reassigned(&cur, teamID, assigneeID) {
			n.Reassignments++
		}
		n.TeamID, n.AssigneeID = teamID, assigneeID
		now := s.now()
		if out, err = saveRecord(ctx, tx, n, now); err != nil {
			return err
		}
		team, person, err := assignmentNames(ctx, tx, teamID, assigneeID)
		if err != nil {
			return err
		}
		uid, uname := actorName(p)
		if _, err := addJournal(ctx, tx, out.ID, System, "Assigned to "+team+" / "+person+".", uid, uname, now); err != nil {
			return err
		}
		action := "record.assign"
		if override {
			action = "record.assign.override"
		}
		s.trail.Record(ctx, tx, audit.Entry{Action: action, ObjectType: "record", ObjectID: out.Number,
			Changes: audit.Diff([]string{"teamId", "assigneeId", "reassignments"}, recordFields(cur), recordFields(out))})
		return s.events.Emit(ctx, tx, outbox.Event{Type: "record.assigned", Subject: subject(&out), Data: map[string]any{
			"number": out.Number, "type": out.Type, "teamId": out.TeamID, "assigneeId": out.AssigneeID,
			"previousTeamId": cur.TeamID, "previousAssigneeId": cur.AssigneeID, "reassignments": out.Reassignments}})
	})
	return out, err
}

// assignmentNames names a team and a user for the journal; "no team" and "nobody" for 0.
func assignmentNames(ctx context.Context, q db.Queryer, team, user int64) (string, string, error) {
	tn, un := "no team", "nobody"
	if team != 0 {
		if err := q.QueryRowContext(ctx, `SELECT name FROM teams WHERE id = ?`, team).Scan(&tn); err != nil {
			return "", "", fmt.Errorf("team name: %w", err)
		}
	}
	if user != 0 {
		if err := q.QueryRowContext(ctx, `SELECT username FROM users WHERE id = ?`, user).Scan(&un); err != nil {
			return "", "", fmt.Errorf("user name: %w", err)
		}
	}
	return tn, un, nil
}

// Authorize asks the RACI guard whether the caller may perform activity of
// process on an object that is not a work record, such as a configuration item
// or a baseline; object names it for the audit trail ("ci/42") and verb for
// the refusal ("change"). A refusal is audited, in a transaction of its own
// (so never call it inside one), and is Forbidden, naming the roles that may
// perform the activity. An unauthenticated caller is refused.
func (s *Service) Authorize(ctx context.Context, process, activity, verb, object string, sc raci.Scope) (raci.Decision, error) {
	p := auth.PrincipalFrom(ctx)
	if p == nil {
		return raci.Decision{}, errs.E(errs.Unauthenticated, "sign in to %s %s", verb, object)
	}
	d, err := s.guard.Decide(ctx, p, process, activity, sc)
	if err != nil {
		return d, fmt.Errorf("decide on %s: %w", activity, err)
	}
	if d.Allowed {
		return d, nil
	}
	refused := refusal(verb, object, activity, d)
	_ = s.trail.Append(ctx, s.db, audit.Entry{Action: "access.denied", ObjectType: strings.SplitN(object, "/", 2)[0], ObjectID: object,
		Changes: []audit.Change{{Field: "action", New: verb}, {Field: "activity", New: activity}, {Field: "reason", New: refused.Error()}}})
	return d, refused
}
