package gen

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"steward/internal/platform/record"
)

// The record kernel's rows, written as record.Service would write them: the
// number drawn from the type's counter, the record row, its full-text entry,
// a system journal entry per create, step and change (in the kernel's words),
// the version raised by every save, and the steps that wait for approval.
// Histories are built first and numbered afterwards, so that numbers, ids and
// journal ids rise with time as they would in a live system.

func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// kernel collects the generated records of one run and writes them.
type kernel struct {
	w     *World
	types map[string]record.Type
	recs  []*rec
	acts  []*action
	steps []*pendingStep
}

// rec is one generated work record with its history.
type rec struct {
	typ                         *record.Type
	process                     string
	title, description, marking string
	requester                   int // user index
	state                       string
	created, updated, version   int64
	journal                     []*entry
	seq                         int
	// own writes the area's rows once ids are known.
	own func(r *rec) error

	id     int64
	number string
}

// entry is one journal entry; text renders it once ids and numbers are known.
type entry struct {
	at     int64
	kind   string
	author int
	text   func() string
	rec    *rec
	seq    int
}

// action is a corrective action of a finding.
type action struct {
	rec                        *rec
	description, note          string
	owner                      int
	due                        int64
	status                     string
	completed, created, update int64
	seq                        int
	id                         int64
}

// pendingStep is a step waiting for an accountable holder's approval.
type pendingStep struct {
	rec                        *rec
	action, activity, from, to string
	requestedBy                int
	at                         int64
	approvers                  []int
	id                         int64
}

// create opens a record of type name in its initial state, as by user by at at.
func (k *kernel) create(name, process, title, description, marking string, by int, at int64) *rec {
	t := k.types[name]
	if marking == "" {
		marking = record.DefaultMarking
	}
	r := &rec{typ: &t, process: process, title: title, description: description, marking: marking, requester: by,
		state: t.Initial, created: at, updated: at, version: 1, seq: len(k.recs)}
	k.recs = append(k.recs, r)
	st, _ := t.State(t.Initial)
	label := t.Label
	k.journal(r, at, by, func() string { return fmt.Sprintf("%s %s logged as %s.", label, r.number, st.Label) })
	return r
}

func (k *kernel) journal(r *rec, at int64, by int, text func() string) {
	r.journal = append(r.journal, &entry{at: at, kind: "system", author: by, text: text, rec: r, seq: len(r.journal)})
}

// activity is the control activity a transition of r performs.
func (k *kernel) activity(r *rec, tr record.Transition) (string, error) {
	if tr.Control == "" {
		return tr.Activity, nil
	}
	a, err := record.ControlActivity(k.w.Model, r.process, tr.Control)
	if err != nil {
		return "", err
	}
	return a.Code, nil
}

// step performs action on r, as by user by at at: the state moves, the version rises, the journal says so.
func (k *kernel) step(r *rec, act string, by int, at int64) error {
	tr, err := r.typ.Next(r.state, act)
	if err != nil {
		return fmt.Errorf("%s of a %s in %s: %w", act, r.typ.Name, r.state, err)
	}
	code, err := k.activity(r, tr)
	if err != nil {
		return err
	}
	from, _ := r.typ.State(r.state)
	to, _ := r.typ.State(tr.To)
	text := fmt.Sprintf("%s (%s): %s → %s.", tr.Label, code, from.Label, to.Label)
	k.journal(r, at, by, func() string { return text })
	r.state, r.updated = tr.To, max(r.updated, at)
	r.version++
	return nil
}

// change saves r with the area's own fields changed, as Amend does: "Changed correctiveActions[#3].status."
func (k *kernel) change(r *rec, by int, at int64, fields func() []string) {
	k.journal(r, at, by, func() string { return "Changed " + strings.Join(fields(), ", ") + "." })
	r.updated = max(r.updated, at)
	r.version++
}

// request makes act on r wait for the approval of approvers, as a performer who does not hold A would.
func (k *kernel) request(r *rec, act string, by int, at int64, approvers []int) error {
	tr, err := r.typ.Next(r.state, act)
	if err != nil {
		return err
	}
	code, err := k.activity(r, tr)
	if err != nil {
		return err
	}
	names := make([]string, len(approvers))
	for i, ui := range approvers {
		names[i] = k.w.users[ui].username
	}
	text := fmt.Sprintf("%s (%s) requested; waiting for approval by %s.", tr.Label, code, strings.Join(names, ", "))
	k.journal(r, at, by, func() string { return text })
	k.steps = append(k.steps, &pendingStep{rec: r, action: act, activity: code, from: r.state, to: tr.To, requestedBy: by,
		at: at, approvers: approvers})
	return nil
}

// write numbers the records and writes every row, in the order the live system would have given ids.
func (k *kernel) write(ctx context.Context) error {
	w := k.w
	slices.SortStableFunc(k.recs, func(a, b *rec) int { return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.seq, b.seq)) })
	// Numbers continue a type's counter with its current prefix (an administrator may have changed it).
	counters, prefixes, err := k.readCounters(ctx)
	if err != nil {
		return err
	}
	firstAt := map[string]int64{}
	for _, r := range k.recs {
		name := r.typ.Name
		if _, ok := prefixes[name]; !ok {
			prefixes[name] = r.typ.Prefix
		}
		if _, ok := firstAt[name]; !ok {
			firstAt[name] = r.created
		}
		counters[name]++
		r.id, r.number = w.nextID("records"), record.FormatNumber(prefixes[name], counters[name])
	}
	for _, r := range k.recs {
		st, _ := r.typ.State(r.state)
		if err := w.add("records", r.id, r.typ.Name, r.number, r.process, r.title, r.description, r.state, st.Terminal,
			nil, nil, nil, w.users[r.requester].id, nil, r.marking, int64(0), r.created, r.updated, r.version); err != nil {
			return err
		}
		if err := w.add("record_fts", r.id, r.number, r.title, r.description); err != nil {
			return err
		}
	}
	var all []*entry
	for _, r := range k.recs {
		all = append(all, r.journal...)
	}
	slices.SortStableFunc(all, func(a, b *entry) int {
		return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.rec.id, b.rec.id), cmp.Compare(a.seq, b.seq))
	})
	// Actions first: journal texts name their ids.
	slices.SortStableFunc(k.acts, func(a, b *action) int {
		return cmp.Or(cmp.Compare(a.created, b.created), cmp.Compare(a.rec.id, b.rec.id), cmp.Compare(a.seq, b.seq))
	})
	for _, a := range k.acts {
		a.id = w.nextID("control_actions")
	}
	for _, e := range all {
		u := w.users[e.author]
		if err := w.add("record_journal", w.nextID("record_journal"), e.rec.id, e.kind, e.text(), u.id, u.username, e.at); err != nil {
			return err
		}
	}
	slices.SortStableFunc(k.steps, func(a, b *pendingStep) int { return cmp.Compare(a.at, b.at) })
	for _, s := range k.steps {
		s.id = w.nextID("record_steps")
		if err := w.add("record_steps", s.id, s.rec.id, s.action, s.activity, s.from, s.to, "pending_approval", true, "",
			w.users[s.requestedBy].id, s.at, false); err != nil {
			return err
		}
		for _, ui := range s.approvers {
			if err := w.add("record_step_approvers", s.id, w.users[ui].id); err != nil {
				return err
			}
		}
	}
	for _, r := range k.recs {
		if r.own != nil {
			if err := r.own(r); err != nil {
				return err
			}
		}
	}
	for _, a := range k.acts {
		if err := w.add("control_actions", a.id, a.rec.id, a.description, w.users[a.owner].id, a.due, a.status, a.note,
			a.completed, a.created, a.update); err != nil {
			return err
		}
	}
	if err := w.out.flush(); err != nil {
		return err
	}
	names := make([]string, 0, len(firstAt))
	for n := range firstAt {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if _, err := w.out.tx.ExecContext(ctx, `INSERT INTO record_types (name, prefix, last_number, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET last_number = excluded.last_number`,
			n, prefixes[n], counters[n], firstAt[n]); err != nil {
			return fmt.Errorf("advance the number counter of %s: %w", n, err)
		}
	}
	return nil
}

// readCounters reads the number counters and prefixes the database already has.
func (k *kernel) readCounters(ctx context.Context) (map[string]int64, map[string]string, error) {
	counters, prefixes := map[string]int64{}, map[string]string{}
	rows, err := k.w.out.tx.QueryContext(ctx, `SELECT name, prefix, last_number FROM record_types`)
	if err != nil {
		return nil, nil, fmt.Errorf("read number counters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name, prefix string
		var n int64
		if err := rows.Scan(&name, &prefix, &n); err != nil {
			return nil, nil, err
		}
		counters[name], prefixes[name] = n, prefix
	}
	return counters, prefixes, rows.Err()
}
