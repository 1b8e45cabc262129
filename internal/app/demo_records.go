package app

// The demo's handles on the process-control records it follows through their
// story: each method schedules one step, done by the person the process's
// roles name, after the record's previous step.

import (
	"fmt"
	"slices"
	"time"

	"steward/internal/improvement/controls"
	"steward/internal/platform/record"
)

// roles returns the holders of a demo process's template roles.
func (d *demo) roles(code string) demoProcess {
	for _, p := range demoProcesses {
		if p.code == code {
			return p
		}
	}
	if d.err == nil {
		d.err = fmt.Errorf("the demo names no holders for process %s", code)
	}
	return demoProcess{code: code}
}

// version reads a record's current version, as a person reads the page before acting.
func (d *demo) version(who, number string) (int64, error) {
	r, err := d.records.Get(d.as(who), number)
	return r.Version, err
}

// perform does a workflow action on a record as who, with a work note.
func (d *demo) perform(who, number, action, note string) (record.Result, error) {
	v, err := d.version(who, number)
	if err != nil {
		return record.Result{}, err
	}
	return d.records.Perform(d.as(who), number, action, record.PerformInput{Version: v, Comment: note})
}

// performWaiting performs an action that must wait for approval and returns the waiting step.
func (d *demo) performWaiting(who, number, action, note string) (int64, error) {
	res, err := d.perform(who, number, action, note)
	if err != nil {
		return 0, err
	}
	if res.Outcome != record.OutcomeAwaitingApproval || res.Step == nil {
		return 0, fmt.Errorf("%s %s: outcome %s, want it to wait for approval", action, number, res.Outcome)
	}
	return res.Step.ID, nil
}

// note schedules a work note by who on the record h follows.
func (d *demo) note(last *time.Time, number *string, t time.Time, who, text string) {
	d.after(last, t, who+" writes a work note", func() error {
		_, err := d.records.AddJournal(d.as(who), *number, record.WorkNote, text)
		return err
	})
}

// ---- process documents ----

// demoDoc follows one version of a process framework document.
type demoDoc struct {
	d      *demo
	p      demoProcess
	title  string
	number string
	step   int64
	last   time.Time
}

// document has the process manager draft version 1 of a document at t.
func (d *demo) document(process string, t time.Time, in controls.NewDocument) *demoDoc {
	h := &demoDoc{d: d, p: d.roles(process), title: in.Title}
	d.after(&h.last, t, string(h.p.manager)+" drafts "+in.Title, func() error {
		doc, err := d.controls.CreateDocument(d.as(string(h.p.manager)), process, in)
		h.number = doc.Number
		return err
	})
	return h
}

// submit has the manager submit the draft for review at t and ask for its approval.
func (h *demoDoc) submit(t time.Time, note string) *demoDoc {
	m := string(h.p.manager)
	h.d.after(&h.last, t, m+" submits "+h.title+" for approval", func() error {
		if _, err := h.d.perform(m, h.number, "submit", ""); err != nil {
			return err
		}
		var err error
		h.step, err = h.d.performWaiting(m, h.number, "approve", note)
		return err
	})
	return h
}

// approve has the process owner (A for the Establish activity) approve at t.
func (h *demoDoc) approve(t time.Time, reason string) *demoDoc {
	o := string(h.p.owner)
	h.d.after(&h.last, t, o+" approves "+h.title, func() error {
		_, err := h.d.records.Approve(h.d.as(o), h.step, reason)
		return err
	})
	return h
}

// reject has the process owner send the document back at t.
func (h *demoDoc) reject(t time.Time, reason string) *demoDoc {
	o := string(h.p.owner)
	h.d.after(&h.last, t, o+" rejects "+h.title, func() error {
		_, err := h.d.records.Reject(h.d.as(o), h.step, reason)
		return err
	})
	return h
}

// revise has the manager return the document to draft and rewrite its body at t.
func (h *demoDoc) revise(t time.Time, body, note string) *demoDoc {
	m := string(h.p.manager)
	h.d.after(&h.last, t, m+" revises "+h.title, func() error {
		if _, err := h.d.perform(m, h.number, "rework", note); err != nil {
			return err
		}
		v, err := h.d.version(m, h.number)
		if err != nil {
			return err
		}
		_, err = h.d.controls.UpdateDocument(h.d.as(m), h.number, v, controls.DocumentUpdate{Body: &body})
		return err
	})
	return h
}

// note has who write a work note on the document at t.
func (h *demoDoc) note(t time.Time, who, text string) *demoDoc {
	h.d.note(&h.last, &h.number, t, who, text)
	return h
}

// newVersion has the manager start the next version of the approved document at t.
func (h *demoDoc) newVersion(t time.Time, body, why string) *demoDoc {
	n := &demoDoc{d: h.d, p: h.p, title: h.title + " (next version)", last: h.last}
	m := string(h.p.manager)
	h.d.after(&n.last, t, m+" starts a new version of "+h.title, func() error {
		doc, err := h.d.controls.NewVersion(h.d.as(m), h.number, controls.NewVersion{Body: &body, Description: &why})
		n.number = doc.Number
		return err
	})
	return n
}

// ---- findings ----

// demoFinding follows a monitor, manage and report finding and its corrective actions.
type demoFinding struct {
	d       *demo
	p       demoProcess
	title   string
	number  string
	actions []int64
	owners  []string
	last    time.Time
}

// finding has who (an analyst, R for the Monitor activity) record a finding at t.
func (d *demo) finding(process, who string, t time.Time, in controls.NewFinding) *demoFinding {
	h := &demoFinding{d: d, p: d.roles(process), title: in.Title}
	d.after(&h.last, t, who+" records the finding "+in.Title, func() error {
		f, err := d.controls.CreateFinding(d.as(who), process, in)
		h.number = f.Number
		return err
	})
	return h
}

// action has the process manager add a corrective action at t, owned by owner, due days later.
func (h *demoFinding) action(t time.Time, owner string, days int, description string) *demoFinding {
	m := string(h.p.manager)
	i := len(h.actions)
	h.actions, h.owners = append(h.actions, 0), append(h.owners, owner)
	h.d.after(&h.last, t, m+" adds a corrective action to "+h.title, func() error {
		v, err := h.d.version(m, h.number)
		if err != nil {
			return err
		}
		f, err := h.d.controls.AddCorrectiveAction(h.d.as(m), h.number, v, controls.NewAction{Description: description,
			OwnerID: h.d.user(owner), DueDate: t.AddDate(0, 0, days).Format(time.DateOnly)})
		if err != nil {
			return err
		}
		for _, a := range f.CorrectiveActions {
			if !slices.Contains(h.actions, a.ID) {
				h.actions[i] = a.ID
			}
		}
		return nil
	})
	return h
}

// assign has the manager give the finding to a team and a person at t.
func (h *demoFinding) assign(t time.Time, team, person string) *demoFinding {
	m := string(h.p.manager)
	h.d.after(&h.last, t, m+" assigns "+h.title, func() error {
		v, err := h.d.version(m, h.number)
		if err != nil {
			return err
		}
		_, err = h.d.records.Assign(h.d.as(m), h.number, h.d.teams[team].ID, h.d.user(person), v)
		return err
	})
	return h
}

// plan has the manager mark the finding's corrective action planned at t.
func (h *demoFinding) plan(t time.Time, note string) *demoFinding {
	m := string(h.p.manager)
	h.d.after(&h.last, t, m+" plans the corrective action of "+h.title, func() error {
		_, err := h.d.perform(m, h.number, "plan", note)
		return err
	})
	return h
}

// progress has the owner of corrective action i report its status at t.
func (h *demoFinding) progress(t time.Time, i int, status controls.ActionStatus, note string) *demoFinding {
	owner := h.owners[i]
	h.d.after(&h.last, t, owner+" reports on a corrective action of "+h.title, func() error {
		v, err := h.d.version(owner, h.number)
		if err != nil {
			return err
		}
		_, err = h.d.controls.UpdateCorrectiveAction(h.d.as(owner), h.number, h.actions[i], v,
			controls.ActionUpdate{Status: &status, Note: &note})
		return err
	})
	return h
}

// close has the manager verify and close the finding at t.
func (h *demoFinding) close(t time.Time, note string) *demoFinding {
	m := string(h.p.manager)
	h.d.after(&h.last, t, m+" closes "+h.title, func() error {
		_, err := h.d.perform(m, h.number, "close", note)
		return err
	})
	return h
}

// ---- evaluations ----

// demoEvaluation follows a process performance evaluation.
type demoEvaluation struct {
	d      *demo
	p      demoProcess
	title  string
	number string
	step   int64
	last   time.Time
}

// evaluation has the process manager draft an evaluation at t.
func (d *demo) evaluation(process string, t time.Time, in controls.NewEvaluation) *demoEvaluation {
	h := &demoEvaluation{d: d, p: d.roles(process), title: in.Title}
	d.after(&h.last, t, string(h.p.manager)+" drafts "+in.Title, func() error {
		e, err := d.controls.CreateEvaluation(d.as(string(h.p.manager)), process, in)
		h.number = e.Number
		return err
	})
	return h
}

// submit has the manager submit the evaluation at t and ask the owner to accept it.
func (h *demoEvaluation) submit(t time.Time, note string) *demoEvaluation {
	m := string(h.p.manager)
	h.d.after(&h.last, t, m+" submits "+h.title, func() error {
		if _, err := h.d.perform(m, h.number, "submit", ""); err != nil {
			return err
		}
		var err error
		h.step, err = h.d.performWaiting(m, h.number, "accept", note)
		return err
	})
	return h
}

// accept has the process owner (A for the Evaluate activity) accept the evaluation at t.
func (h *demoEvaluation) accept(t time.Time, reason string) *demoEvaluation {
	o := string(h.p.owner)
	h.d.after(&h.last, t, o+" accepts "+h.title, func() error {
		_, err := h.d.records.Approve(h.d.as(o), h.step, reason)
		return err
	})
	return h
}
