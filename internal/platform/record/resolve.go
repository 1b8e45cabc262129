package record

import (
	"context"
	"fmt"
	"strings"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
)

// processOf is the process whose RACI governs r: the one r names, else its type's.
func processOf(t *Type, r *Record) string {
	if r != nil && r.Process != "" {
		return r.Process
	}
	return t.Process
}

// ControlActivity finds the common control activity of kind in a process of
// the reference model: its first activity for establish, its next-to-last for
// monitor, its last for evaluate (DESMF §6.1). A process that has none (EVAL,
// which has no activities; CSI and the TAXUD sub-processes, whose activities
// are not §6 controls) is Invalid, and so is an unknown process.
func ControlActivity(m *framework.Model, process string, kind framework.ControlKind) (*framework.Activity, error) {
	p := m.Process(process)
	if p == nil {
		return nil, errs.E(errs.Invalid, "no process %q in the reference model", process)
	}
	for _, a := range p.Activities() {
		if a.Control == kind {
			return a, nil
		}
	}
	why := "its activities are not the common controls of DESMF §6"
	if len(p.Activities()) == 0 {
		why = "it has no activities"
		if p.ActivitiesStatus != "" {
			why += " (" + p.ActivitiesStatus + ")"
		}
	}
	return nil, errs.E(errs.Invalid, "process %s (%s) has no %s control activity: %s", p.Code, p.Name, kind, why)
}

// resolveRef turns an activity reference of a type (a code, or a control) into
// the process and activity code it means for r.
func (s *Service) resolveRef(t *Type, r *Record, code string, control framework.ControlKind) (process, activity string, err error) {
	process = processOf(t, r)
	if control == "" {
		return process, code, nil
	}
	if s.model == nil {
		return "", "", fmt.Errorf("record type %s names the %s control, which needs the reference model", t.Name, control)
	}
	a, err := ControlActivity(s.model, process, control)
	if err != nil {
		return "", "", fmt.Errorf("record type %s: %w", t.Name, err)
	}
	return process, a.Code, nil
}

// resolve returns tr as it applies to r, with its Activity resolved, and the process it belongs to.
func (s *Service) resolve(t *Type, r *Record, tr Transition) (Transition, string, error) {
	process, activity, err := s.resolveRef(t, r, tr.Activity, tr.Control)
	tr.Activity = activity
	return tr, process, err
}

// checkProcess checks the process a new record names against its type: a type
// whose records name their process needs a known one that has every control
// the type names; any other type takes its own and refuses another.
func (s *Service) checkProcess(t *Type, process string) (string, error) {
	process = strings.TrimSpace(process)
	if !t.ProcessPerRecord {
		if process != "" && process != t.Process {
			return "", errs.Field("body.process", "records of type "+t.Name+" belong to process "+t.Process, process)
		}
		return t.Process, nil
	}
	if process == "" {
		return "", errs.Field("body.process", "name the process the record belongs to", nil)
	}
	if s.model == nil {
		return process, nil
	}
	for _, c := range t.Controls() {
		if _, err := ControlActivity(s.model, process, c); err != nil {
			e, _ := errs.As(err)
			return "", errs.Field("body.process", e.Message, process)
		}
	}
	return process, nil
}

// FollowUp applies a step to another record inside the transaction of a step
// being applied, from the causing type's AfterApply: the version of a document
// that a newly approved version supersedes, say. The cause authorises it, so
// the follow-up must perform the same activity of the same process: whoever
// could perform the cause could perform it. It is journalled, audited (with the
// cause as its decision) and announced (record.transitioned) like any step, and
// it may be a System step, which callers cannot perform on their own.
func (s *Service) FollowUp(ctx context.Context, tx *db.Tx, number, action string, cause AppliedStep) (out Record, err error) {
	defer errs.Wrap(&err, "%s %s after %s %s", action, number, cause.Transition.Action, cause.Record.Number)
	cur, err := loadRecord(ctx, tx, s.db, NormalizeNumber(number), true)
	if err != nil {
		return out, err
	}
	t, err := s.typ(cur.Type)
	if err != nil {
		return out, err
	}
	tr, err := t.Next(cur.State, action)
	if err != nil {
		return out, err
	}
	tr, process, err := s.resolve(t, &cur, tr)
	if err != nil {
		return out, err
	}
	if process != cause.Process || tr.Activity != cause.Transition.Activity {
		return out, fmt.Errorf("a follow-up must perform the activity of its cause: %s on %s performs %s, its cause %s",
			tr.Action, cur.Number, tr.Activity, cause.Transition.Activity)
	}
	actor := cause.Actor
	if actor == nil {
		actor = &auth.Principal{Username: "system"}
	}
	return s.apply(ctx, tx, transition{t: t, process: process, rec: cur, tr: tr, actor: actor, performer: cause.Performer,
		via: fmt.Sprintf("follow-up of %s on %s (%s)", cause.Transition.Label, cause.Record.Number, cause.Transition.Activity)})
}

// PerformAsSystem applies a step on Steward's own authority, for the timers an
// area runs: an incident closed after its confirmation period, say. No guard
// is asked and no approval awaited; the step is journalled as done by
// "system", audited with the reason as its decision, and announced, and the I
// holders are informed. Callers of the API can never reach it. The type's
// Check still applies. expect, when not empty, is the state the caller found
// the record in: a record that moved on meanwhile is left alone (Conflict).
func (s *Service) PerformAsSystem(ctx context.Context, number, action, expect, reason string) (out Record, err error) {
	defer errs.Wrap(&err, "%s %s by the system", action, number)
	actor := &auth.Principal{Username: "system"}
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		cur, err := loadRecord(ctx, tx, s.db, NormalizeNumber(number), true)
		if err != nil {
			return err
		}
		if expect != "" && cur.State != expect {
			return errs.E(errs.Conflict, "%s is %s now, not %s", cur.Number, cur.State, expect)
		}
		t, err := s.typ(cur.Type)
		if err != nil {
			return err
		}
		tr, err := t.Next(cur.State, action)
		if err != nil {
			return err
		}
		tr, process, err := s.resolve(t, &cur, tr)
		if err != nil {
			return err
		}
		informed, err := s.holders(ctx, process, tr.Activity, framework.I, &cur)
		if err != nil {
			return err
		}
		out, err = s.apply(ctx, tx, transition{t: t, process: process, rec: cur, tr: tr, actor: actor,
			via: "system: " + reason, informed: informed})
		return err
	})
	return out, err
}
