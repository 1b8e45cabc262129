package controls

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/framework"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// Limits on the fields of the controls.
const (
	maxText   = 32000
	maxShort  = 200
	maxItems  = 200
	maxNote   = 4000
	dateStyle = "2006-01-02"
)

// fieldErrs collects field errors.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

// text checks a text field: valid UTF-8, at most max characters, and not blank when required.
func (f *fieldErrs) text(loc, s string, max int, required bool) {
	switch {
	case !utf8.ValidString(s):
		f.add(loc, "text must be valid UTF-8", nil)
	case utf8.RuneCountInString(s) > max:
		f.add(loc, fmt.Sprintf("at most %d characters", max), nil)
	case required && strings.TrimSpace(s) == "":
		f.add(loc, "required", nil)
	}
}

func (f fieldErrs) err() error { return errs.WithFields(f) }

// controlName names the activity of a control kind in messages.
func controlName(kind framework.ControlKind) string {
	switch kind {
	case framework.ControlEstablish:
		return "Establish Process Framework"
	case framework.ControlMonitor:
		return "Monitor, Manage and Report"
	}
	return "Evaluate Process Performance"
}

// ControlActivity returns the activity of process that performs the common
// control kind. An unknown process, or one without that control (EVAL has no
// activities; the CSI and TAXUD sub-process activities are not §6 controls),
// is Invalid, naming field and the processes that have it.
func ControlActivity(m *framework.Model, field, process string, kind framework.ControlKind) (*framework.Activity, error) {
	a, err := record.ControlActivity(m, process, kind)
	if err == nil {
		return a, nil
	}
	var with []string
	for _, p := range m.Processes() {
		if _, err := record.ControlActivity(m, p.Code, kind); err == nil {
			with = append(with, p.Code)
		}
	}
	msg := err.Error()
	if e, ok := errs.As(err); ok {
		msg = e.Message
	}
	return nil, errs.Field(field, msg+"; the processes with the "+controlName(kind)+" control are "+strings.Join(with, ", "), process)
}

// validateKPI checks a KPI definition's measurable part.
func (f *fieldErrs) kpi(loc string, k *KPI) {
	if k == nil {
		return
	}
	f.text(loc+".unit", k.Unit, 40, true)
	if math.IsNaN(k.Target) || math.IsInf(k.Target, 0) {
		f.add(loc+".target", "a finite number", nil)
	}
	if k.Direction != HigherIsBetter && k.Direction != LowerIsBetter {
		f.add(loc+".direction", "higher_is_better or lower_is_better", string(k.Direction))
	}
	if !slices.Contains(Frequencies, k.Frequency) {
		f.add(loc+".frequency", "one of "+strings.Join(Frequencies, ", "), k.Frequency)
	}
}

// validateDocument checks a document's own fields: a known kind, a body of at
// most 32000 characters, and a KPI exactly when the kind is a KPI definition.
func validateDocument(kind DocumentKind, body string, k *KPI) error {
	var f fieldErrs
	if !slices.Contains(DocumentKinds, kind) {
		f.add("body.kind", "one of policy, procedure, kpi_definition, tool_requirement", string(kind))
	}
	f.text("body.body", body, maxText, false)
	switch {
	case kind == KPIDefinition && k == nil:
		f.add("body.kpi", "a KPI definition states its unit, target, direction and frequency", nil)
	case kind != KPIDefinition && kind != "" && k != nil:
		f.add("body.kpi", "only a kpi_definition has a KPI", string(kind))
	}
	f.kpi("body.kpi", k)
	return f.err()
}

// documentReady checks that a document may go to review: it has a body.
func documentReady(body string) error {
	if strings.TrimSpace(body) == "" {
		return errs.E(errs.Conflict, "write the document's body before submitting it for review")
	}
	return nil
}

// documentEditable refuses changes to a document that left draft: an approved
// document changes only through a new version.
func documentEditable(number, state string) error {
	if state != DocDraft {
		return errs.E(errs.Conflict, "%s is %s: only a draft changes; return it to draft, or start a new version of an approved document", number, state)
	}
	return nil
}

// mayVersion checks that a new version may start from a document: it is the
// approved version, and no newer version is already in draft or review.
func mayVersion(number, state, next string) error {
	if state != DocApproved {
		return errs.E(errs.Conflict, "%s is %s: a new version starts from the approved version", number, state)
	}
	if next != "" {
		return errs.E(errs.Conflict, "%s already has a new version in the making: %s", number, next)
	}
	return nil
}

// validateFinding checks a finding's own fields.
func validateFinding(sev Severity, observation string) error {
	var f fieldErrs
	if !slices.Contains(Severities, sev) {
		f.add("body.severity", "one of low, medium, high, critical", string(sev))
	}
	f.text("body.observation", observation, maxText, true)
	return f.err()
}

// findingOpen refuses changes to a closed finding.
func findingOpen(number, state string) error {
	if state == FindingClosed {
		return errs.E(errs.Conflict, "%s is closed; record a new finding instead", number)
	}
	return nil
}

// parseDue reads a due date as midnight UTC; it may not be before today.
func parseDue(loc, s string, today time.Time) (time.Time, error) {
	d, err := time.Parse(dateStyle, s)
	if err != nil {
		return d, errs.Field(loc, "a date as YYYY-MM-DD", s)
	}
	if d.Before(day(today)) {
		return d, errs.Field(loc, "the due date has passed; give today or a later date", s)
	}
	return d, nil
}

// day is midnight UTC of t's date.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// validateAction checks a new corrective action and returns its due date.
func validateAction(a NewAction, today time.Time) (time.Time, error) {
	var f fieldErrs
	f.text("body.description", a.Description, maxNote, true)
	if a.OwnerID <= 0 {
		f.add("body.ownerId", "name the user who owns the action", a.OwnerID)
	}
	due, err := parseDue("body.dueDate", a.DueDate, today)
	if e, ok := errs.As(err); ok {
		f = append(f, e.Fields...)
	}
	return due, f.err()
}

// validateActionUpdate checks the fields of an action update.
func validateActionUpdate(u ActionUpdate, today time.Time) error {
	var f fieldErrs
	if u.Status != nil && !slices.Contains(ActionStatuses, *u.Status) {
		f.add("body.status", "one of open, in_progress, done, cancelled", string(*u.Status))
	}
	if u.Note != nil {
		f.text("body.note", *u.Note, maxNote, false)
	}
	if u.Description != nil {
		f.text("body.description", *u.Description, maxNote, true)
	}
	if u.OwnerID != nil && *u.OwnerID <= 0 {
		f.add("body.ownerId", "name the user who owns the action", *u.OwnerID)
	}
	if u.DueDate != nil {
		if _, err := parseDue("body.dueDate", *u.DueDate, today); err != nil {
			e, _ := errs.As(err)
			f = append(f, e.Fields...)
		}
	}
	return f.err()
}

// overdue reports whether an unfinished action is past its due date on now.
func overdue(a CorrectiveAction, now time.Time) bool {
	due, err := time.Parse(dateStyle, a.DueDate)
	return err == nil && !a.Status.Finished() && day(now).After(due)
}

// actionIDs writes the ids of actions for a message: "#3, #4".
func actionIDs(as []CorrectiveAction) string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = "#" + strconv.FormatInt(a.ID, 10)
	}
	return strings.Join(out, ", ")
}

// findingPlanned checks that a finding has a corrective action to plan: one not cancelled.
func findingPlanned(as []CorrectiveAction) error {
	for _, a := range as {
		if a.Status != ActionCancelled {
			return nil
		}
	}
	return errs.E(errs.Conflict, "add a corrective action, with its owner and due date, before planning")
}

// findingClosable checks that a finding may be verified and closed: every
// corrective action is done (or cancelled), and at least one is done.
func findingClosable(as []CorrectiveAction) error {
	var open []CorrectiveAction
	done := 0
	for _, a := range as {
		switch {
		case a.Status == ActionDone:
			done++
		case !a.Status.Finished():
			open = append(open, a)
		}
	}
	if len(open) > 0 {
		return errs.E(errs.Conflict, "corrective actions %s are not done; a finding closes only when all its actions are done", actionIDs(open))
	}
	if done == 0 {
		return errs.E(errs.Conflict, "no corrective action is done; a finding closes when its actions are done")
	}
	return nil
}

// validateEvaluation checks an evaluation's own fields.
func validateEvaluation(period string, fb []Feedback, ms []Measurement, gap string, in []Initiative) error {
	var f fieldErrs
	f.text("body.period", period, 100, false)
	f.text("body.gapAnalysis", gap, maxText, false)
	if len(fb) > maxItems || len(ms) > maxItems || len(in) > maxItems {
		f.add("body", fmt.Sprintf("at most %d feedback entries, measurements and initiatives each", maxItems), nil)
	}
	for i, x := range fb {
		loc := fmt.Sprintf("body.feedback[%d]", i)
		f.text(loc+".source", x.Source, maxShort, true)
		f.text(loc+".text", x.Text, maxNote, true)
	}
	names := map[string]bool{}
	for i, m := range ms {
		loc := fmt.Sprintf("body.measurements[%d]", i)
		f.text(loc+".name", m.Name, maxShort, true)
		if names[strings.ToLower(strings.TrimSpace(m.Name))] {
			f.add(loc+".name", "measured twice", m.Name)
		}
		names[strings.ToLower(strings.TrimSpace(m.Name))] = true
		f.text(loc+".unit", m.Unit, 40, false)
		if math.IsNaN(m.Value) || math.IsInf(m.Value, 0) {
			f.add(loc+".value", "a finite number", nil)
		}
		if m.Target != nil && (math.IsNaN(*m.Target) || math.IsInf(*m.Target, 0)) {
			f.add(loc+".target", "a finite number", nil)
		}
		if m.Direction != "" && m.Direction != HigherIsBetter && m.Direction != LowerIsBetter {
			f.add(loc+".direction", "higher_is_better or lower_is_better", string(m.Direction))
		}
	}
	for i, x := range in {
		loc := fmt.Sprintf("body.initiatives[%d]", i)
		f.text(loc+".title", x.Title, maxShort, true)
		f.text(loc+".description", x.Description, maxNote, false)
		if x.Priority != "" && !slices.Contains([]string{"high", "medium", "low"}, x.Priority) {
			f.add(loc+".priority", "high, medium or low", x.Priority)
		}
	}
	return f.err()
}

// met tells whether a measurement reaches its target, or nil without a target and a direction.
func met(m Measurement) *bool {
	if m.Target == nil || m.Direction == "" {
		return nil
	}
	ok := m.Value >= *m.Target
	if m.Direction == LowerIsBetter {
		ok = m.Value <= *m.Target
	}
	return &ok
}

// evaluationReady checks that an evaluation may be submitted: it has
// measurements or feedback to evaluate, and a gap analysis.
func evaluationReady(e Evaluation) error {
	var missing []string
	if len(e.Measurements) == 0 && len(e.Feedback) == 0 {
		missing = append(missing, "measurements or stakeholder feedback")
	}
	if strings.TrimSpace(e.GapAnalysis) == "" {
		missing = append(missing, "a gap analysis")
	}
	if len(missing) > 0 {
		return errs.E(errs.Conflict, "an evaluation is submitted with %s", strings.Join(missing, " and "))
	}
	return nil
}

// evaluationEditable refuses changes to an evaluation that left draft.
func evaluationEditable(number, state string) error {
	if state != EvalDraft {
		return errs.E(errs.Conflict, "%s is %s: only a draft evaluation changes; return it to draft first", number, state)
	}
	return nil
}

// applyActionUpdate returns a with u applied on now: becoming done stamps the
// completion time, leaving done clears it.
func applyActionUpdate(a CorrectiveAction, u ActionUpdate, now time.Time) CorrectiveAction {
	if u.Description != nil {
		a.Description = *u.Description
	}
	if u.OwnerID != nil {
		a.OwnerID = *u.OwnerID
	}
	if u.DueDate != nil {
		a.DueDate = *u.DueDate
	}
	if u.Note != nil {
		a.Note = *u.Note
	}
	if u.Status != nil && *u.Status != a.Status {
		a.Status, a.CompletedAt = *u.Status, time.Time{}
		if a.Status == ActionDone {
			a.CompletedAt = now.UTC()
		}
	}
	return a
}
