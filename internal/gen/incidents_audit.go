package gen

import (
	"context"
	"fmt"
	"math/rand/v2"

	"steward/internal/operation/incident"
	"steward/internal/platform/audit"
	"steward/internal/platform/record"
)

// The audit history of the generated incidents, in the words of the record
// kernel and incident management: the entries their services write in the
// transaction of each save, with the same actions and changes, stamped with
// the time of the journal entry they go with and chained into the hash chain
// (audit.Chain), so that "steward audit verify" passes and the SLA tracker
// can derive every clock from the history as it would on a live system.
//
//   - record.create (as the logger) with every kernel field (type, number,
//     process, title, description, state, priority, teamId, assigneeId,
//     requesterId, serviceId, marking, reassignments) and every audited field
//     of the incident row (ciId, category, subcategory, channel, impact,
//     urgency, path, majorManagerId, majorReason, holdReason, …), the logged
//     priority and categorisation;
//   - record.assign (teamId, assigneeId, reassignments as they changed);
//   - record.update for a reprioritisation (priority, with the impact and
//     urgency that drove it), as incident management's Update writes it;
//   - record.transition (state, action, activity, performedBy, and the
//     decision of a follow-up or of the auto-close timer) followed, in the
//     same transaction, by incident.<action> with the incident fields it
//     changed: holdReason on hold and resume, the resolution on resolve,
//     closedBy and the categorisation review on confirm and close, closedBy
//     on cancel (an investigation writes none);
//   - record.link on a major incident when a further report is linked to it.
//
// The history stream. What this file adds beyond the rows the journal
// already implied (reprioritisations, holds resumed before the resolution)
// is drawn from a random source of its own (imHistoryStream), so the
// incident log's other draws, and so its rows, stay as they were.

// imHistoryStream names the random source of the history's own draws.
const imHistoryStream = "incidents/history"

// The shares of the history's own draws.
const (
	// imReprioShare of the incidents worked on were logged at a neighbouring priority and reprioritised.
	imReprioShare = 0.10
	// imPausedShare of the incidents investigated and resolved waited for someone on the way (a hold, then a resume).
	imPausedShare = 0.22
)

// imHoldWeights weigh incident.HoldReasons for holds resumed before the
// resolution: mostly the caller, then a supplier, rarely a change.
var imHoldWeights = []float64{60, 30, 10}

// imAutoCloseReason is the auto-close timer's reason, as incident
// management's AutoClose gives it with the default five days.
const imAutoCloseReason = "system: resolved more than 5 days ago; the caller neither confirmed nor rejected the resolution"

// imHistory is the state the audit history needs beyond the incident log's.
type imHistory struct {
	r     *rand.Rand
	chain *audit.Chain
	buf   []byte
	// to and activity are each action's target state and activity code.
	to, activity map[string]string
	// cells lists the impact × urgency cells of each priority of the matrix.
	cells    [6][][2]int
	pickHold Discrete
}

// openHistory prepares the history: its random source, the chain's head and the type's steps.
func (g *imGen) openHistory(ctx context.Context) error {
	c, err := audit.OpenChain(ctx, g.w.out.tx)
	if err != nil {
		return err
	}
	h := &imHistory{r: rand.New(rand.NewPCG(g.w.seed, streamOf(imHistoryStream))), chain: c,
		to: map[string]string{}, activity: map[string]string{}, pickHold: NewDiscrete(imHoldWeights)}
	for _, tr := range g.typ.Transitions {
		h.to[tr.Action], h.activity[tr.Action] = tr.To, tr.Activity
	}
	for i, row := range incident.DefaultMatrix() {
		for u, p := range row {
			if p >= 1 && p <= 5 {
				h.cells[p] = append(h.cells[p], [2]int{i + 1, u + 1})
			}
		}
	}
	if len(incident.HoldReasons) != len(imHoldWeights) {
		return fmt.Errorf("incident management has %d hold reasons, the generator weighs %d", len(incident.HoldReasons), len(imHoldWeights))
	}
	g.hist = h
	return nil
}

// closeHistory advances the chain's head past the history written.
func (g *imGen) closeHistory(ctx context.Context) error { return g.hist.chain.Close(ctx) }

// audit queues an audit entry of record number (id rec) by user index actor (-1: the system) at at.
func (g *imGen) audit(rec int64, number string, at int64, actor int, action string, changes ...audit.Change) error {
	b, err := audit.AppendChanges(g.hist.buf[:0], changes)
	if err != nil {
		return err
	}
	g.hist.buf = b
	g.emit(imEv{at: at, rec: rec, kind: evAudit, author: int32(actor), action: action, number: number, changes: string(b)})
	return nil
}

// writeAudit links a queued audit entry into the chain and writes it.
func (g *imGen) writeAudit(e *imEv) error {
	row := audit.Row{At: e.at, ActorType: "system", ActorName: "system", Action: e.action, ObjectType: "record",
		ObjectID: e.number, Changes: e.changes}
	if e.author >= 0 {
		u := g.w.users[e.author]
		row.ActorType, row.ActorID, row.ActorName = "user", u.id, u.username
	}
	g.hist.chain.Link(&row)
	return g.w.add("audit_log", row.Seq, row.At, row.ActorType, row.ActorID, row.ActorName, row.Action, row.ObjectType,
		row.ObjectID, row.Changes, row.RequestID, row.ClientAddr, row.PrevHash, row.Hash)
}

// userRef is a user index's id for an audit change, 0 for none or the system.
func (g *imGen) userRef(ui int) int64 {
	if ui < 0 {
		return 0
	}
	return g.w.users[ui].id
}

// transition queues the entries of a workflow step the kernel applied: the
// record.transition with its decision (a follow-up's or the timer's, or
// none), then incident.<action> with the incident fields it changed.
func (g *imGen) transition(rec int64, number string, at int64, actor int, from, action, decision string, fields []audit.Change) error {
	h := g.hist
	cs := []audit.Change{{Field: "state", Old: from, New: h.to[action]}, {Field: "action", New: action},
		{Field: "activity", New: h.activity[action]}, {Field: "performedBy", New: g.userRef(actor)}}
	if decision != "" {
		cs = append(cs, audit.Change{Field: "decision", New: decision})
	}
	if err := g.audit(rec, number, at, actor, "record.transition", cs...); err != nil {
		return err
	}
	if action == "investigate" {
		return nil
	}
	return g.audit(rec, number, at, actor, "incident."+action, fields...)
}

// imLogged is what an incident looked like when it was logged.
type imLogged struct {
	number, title, description string
	caller, logger             int
	team                       int
	priority, impact, urgency  int
	category, subcategory      string
	manager                    int
	reason                     string
}

// logCreate queues the record.create of an incident: the kernel's fields, then the incident row's.
func (g *imGen) logCreate(rec, at int64, l imLogged, row *imRow) error {
	w := g.w
	return g.audit(rec, l.number, at, l.logger, "record.create",
		audit.Change{Field: "type", New: incident.Type}, audit.Change{Field: "number", New: l.number},
		audit.Change{Field: "process", New: incident.Process}, audit.Change{Field: "title", New: l.title},
		audit.Change{Field: "description", New: l.description}, audit.Change{Field: "state", New: imNew},
		audit.Change{Field: "priority", New: l.priority}, audit.Change{Field: "teamId", New: w.teams[l.team].id},
		audit.Change{Field: "assigneeId", New: int64(0)}, audit.Change{Field: "requesterId", New: w.users[l.caller].id},
		audit.Change{Field: "serviceId", New: row.service}, audit.Change{Field: "marking", New: record.DefaultMarking},
		audit.Change{Field: "reassignments", New: int64(0)},
		audit.Change{Field: "ciId", New: row.ci}, audit.Change{Field: "category", New: l.category},
		audit.Change{Field: "subcategory", New: l.subcategory}, audit.Change{Field: "channel", New: row.channel},
		audit.Change{Field: "impact", New: l.impact}, audit.Change{Field: "urgency", New: l.urgency},
		audit.Change{Field: "path", New: row.path}, audit.Change{Field: "majorManagerId", New: g.userRef(l.manager)},
		audit.Change{Field: "majorReason", New: l.reason}, audit.Change{Field: "escalationLevel", New: 0},
		audit.Change{Field: "holdReason", New: ""}, audit.Change{Field: "resolutionCode", New: ""},
		audit.Change{Field: "resolutionNotes", New: ""}, audit.Change{Field: "effortMinutes", New: int64(0)},
		audit.Change{Field: "firstContact", New: false}, audit.Change{Field: "resolvedBy", New: int64(0)},
		audit.Change{Field: "rejections", New: 0}, audit.Change{Field: "lastRejection", New: ""},
		audit.Change{Field: "closedBy", New: int64(0)}, audit.Change{Field: "reopenCount", New: 0},
		audit.Change{Field: "categoryReviewed", New: false}, audit.Change{Field: "categoryChanged", New: false},
		audit.Change{Field: "reclassifiedAs", New: ""})
}

// assigned queues the record.assign of an incident handed from team from to assignee of team to.
func (g *imGen) assigned(rec int64, number string, at int64, actor, from, to, assignee int, reassignments int64) error {
	var cs []audit.Change
	if from != to {
		cs = append(cs, audit.Change{Field: "teamId", Old: g.w.teams[from].id, New: g.w.teams[to].id})
	}
	cs = append(cs, audit.Change{Field: "assigneeId", Old: int64(0), New: g.userRef(assignee)})
	if reassignments != 0 {
		cs = append(cs, audit.Change{Field: "reassignments", Old: int64(0), New: reassignments})
	}
	return g.audit(rec, number, at, actor, "record.assign", cs...)
}

// reprioritise draws whether an incident worked on from assignAt was logged
// at a neighbouring priority (never P1, which would have declared it major)
// and reprioritised before until; it returns the logged cell and priority
// and when it changed (0: it was not).
func (g *imGen) reprioritise(impact, urgency, prio int, assignAt, until int64) (int, int, int, int64) {
	h := g.hist
	if prio < 2 || assignAt+imMinute >= until || h.r.Float64() >= imReprioShare {
		return impact, urgency, prio, 0
	}
	p0 := prio + 1
	if p0 > 5 || prio > 2 && h.r.IntN(2) == 0 {
		p0 = prio - 1
	}
	c := h.cells[p0][h.r.IntN(len(h.cells[p0]))]
	return c[0], c[1], p0, assignAt + 1 + h.r.Int64N((until-assignAt)/2)
}

// reprioritised queues the record.update of a reprioritisation and returns
// the journal's text, as the kernel writes it for the changed fields.
func (g *imGen) reprioritised(rec int64, number string, at int64, actor, p0, prio, i0, impact, u0, urgency int) (string, error) {
	cs := []audit.Change{{Field: "priority", Old: p0, New: prio}}
	text := "Changed priority"
	if i0 != impact {
		cs = append(cs, audit.Change{Field: "impact", Old: i0, New: impact})
		text += ", impact"
	}
	if u0 != urgency {
		cs = append(cs, audit.Change{Field: "urgency", Old: u0, New: urgency})
		text += ", urgency"
	}
	return text + ".", g.audit(rec, number, at, actor, "record.update", cs...)
}

// pause draws whether an incident in progress from investigateAt to its
// resolution at resolveAt waited on the way: when it was put on hold, why,
// and when it resumed (0: it did not wait).
func (g *imGen) pause(investigateAt, resolveAt int64) (holdAt, resumeAt int64, reason string) {
	h := g.hist
	span := resolveAt - investigateAt
	if span < imHourMs || h.r.Float64() >= imPausedShare {
		return 0, 0, ""
	}
	holdAt = investigateAt + 1 + h.r.Int64N(span/2)
	// The wait takes 30 to 85 % of what is left: waiting for someone is most of a long resolution.
	left := resolveAt - holdAt
	resumeAt = holdAt + max(imMinute, int64(float64(left)*(0.3+0.55*h.r.Float64())))
	if resumeAt >= resolveAt {
		resumeAt = resolveAt - 1
	}
	return holdAt, resumeAt, incident.HoldReasons[h.pickHold.Sample(h.r)]
}

// resolved is the incident fields a resolution changes.
func (g *imGen) resolved(code, notes string, effort int64, fcr bool, resolver int) []audit.Change {
	cs := []audit.Change{{Field: "resolutionCode", Old: "", New: code}, {Field: "resolutionNotes", Old: "", New: notes}}
	if effort != 0 {
		cs = append(cs, audit.Change{Field: "effortMinutes", Old: int64(0), New: effort})
	}
	if fcr {
		cs = append(cs, audit.Change{Field: "firstContact", Old: false, New: true})
	}
	return append(cs, audit.Change{Field: "resolvedBy", Old: int64(0), New: g.userRef(resolver)})
}

// closedFields is the incident fields a closure changes: the reviewed categorisation and who closed it.
func (g *imGen) closedFields(row *imRow, closer int) []audit.Change {
	var cs []audit.Change
	if row.loggedCat != row.cat {
		cs = append(cs, audit.Change{Field: "category", Old: row.loggedCat, New: row.cat})
	}
	if row.loggedSub != row.sub {
		cs = append(cs, audit.Change{Field: "subcategory", Old: row.loggedSub, New: row.sub})
	}
	if closer >= 0 {
		cs = append(cs, audit.Change{Field: "closedBy", Old: int64(0), New: g.userRef(closer)})
	}
	cs = append(cs, audit.Change{Field: "categoryReviewed", Old: false, New: true})
	if row.changed {
		cs = append(cs, audit.Change{Field: "categoryChanged", Old: false, New: true})
	}
	return cs
}
