package availability

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// MaxPeriod is the longest period one availability report measures.
const MaxPeriod = 5 * 366 * 24 * time.Hour

// fieldErrs collects the field errors of one request.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

// text checks a text field: valid UTF-8, at most max characters, no control
// characters but line breaks and tabs; required refuses a blank one.
func (f *fieldErrs) text(loc, s string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(s) == "":
		f.add(loc, "required", nil)
	case !utf8.ValidString(s):
		f.add(loc, "text must be valid UTF-8", nil)
	case utf8.RuneCountInString(s) > max:
		f.add(loc, fmt.Sprintf("at most %d characters", max), nil)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		f.add(loc, "no control characters", nil)
	}
}

func (f fieldErrs) err() error { return errs.WithFields(f) }

// validateOutage checks an outage's own fields (the service and CI are
// checked against the CMDB by the store): a kind, a start, an end after the
// start and not in the future, a start not in the future either.
func validateOutage(in *OutageInput, now time.Time) error {
	var f fieldErrs
	in.Description = strings.TrimSpace(in.Description)
	if in.ServiceID <= 0 {
		f.add("body.serviceId", "a service id", in.ServiceID)
	}
	if in.CIID < 0 {
		f.add("body.ciId", "a CI id", in.CIID)
	}
	if in.Kind != Planned && in.Kind != Unplanned {
		f.add("body.kind", "planned or unplanned", in.Kind)
	}
	switch {
	case in.StartedAt.IsZero():
		f.add("body.startedAt", "required", nil)
	case in.StartedAt.After(now) && in.Kind != Planned:
		f.add("body.startedAt", "an unplanned outage cannot start in the future", in.StartedAt)
	}
	if in.EndedAt != nil {
		switch {
		case in.EndedAt.IsZero():
			in.EndedAt = nil
		case !in.StartedAt.IsZero() && !in.EndedAt.After(in.StartedAt):
			f.add("body.endedAt", "must be after startedAt", *in.EndedAt)
		case in.EndedAt.After(now) && in.Kind != Planned:
			f.add("body.endedAt", "an unplanned outage cannot end in the future", *in.EndedAt)
		}
	}
	if in.EndedAt == nil && in.Kind == Planned && !in.StartedAt.IsZero() {
		f.add("body.endedAt", "a planned outage has an end", nil)
	}
	f.text("body.description", in.Description, 4000, false)
	return f.err()
}

// validatePeriod checks a report's period: from before to, at most MaxPeriod.
func validatePeriod(from, to time.Time) error {
	var f fieldErrs
	if from.IsZero() {
		f.add("query.from", "required", nil)
	}
	if to.IsZero() {
		f.add("query.to", "required", nil)
	}
	if !from.IsZero() && !to.IsZero() {
		switch {
		case !to.After(from):
			f.add("query.to", "must be after from", to)
		case to.Sub(from) > MaxPeriod:
			f.add("query.to", "at most five years after from", to)
		}
	}
	return f.err()
}

// validatePlan checks a plan's own fields.
func validatePlan(title, description, objective string, from, to time.Time) error {
	var f fieldErrs
	f.text("body.title", title, 200, true)
	f.text("body.description", description, 32000, false)
	f.text("body.objective", objective, 4000, true)
	if from.IsZero() {
		f.add("body.periodFrom", "required", nil)
	}
	if to.IsZero() {
		f.add("body.periodTo", "required", nil)
	} else if !from.IsZero() && !to.After(from) {
		f.add("body.periodTo", "must be after periodFrom", to)
	}
	return f.err()
}

// validateRisk checks a risk.
func validateRisk(in *RiskInput) error {
	var f fieldErrs
	in.Description, in.Treatment = strings.TrimSpace(in.Description), strings.TrimSpace(in.Treatment)
	if in.State == "" {
		in.State = RiskOpen
	}
	f.text("body.description", in.Description, 4000, true)
	f.text("body.treatment", in.Treatment, 4000, false)
	if in.Likelihood < 1 || in.Likelihood > 5 {
		f.add("body.likelihood", "1 (rare) to 5 (almost certain)", in.Likelihood)
	}
	if in.Impact < 1 || in.Impact > 5 {
		f.add("body.impact", "1 (negligible) to 5 (severe)", in.Impact)
	}
	switch in.State {
	case RiskOpen, RiskAccepted:
	case RiskTreated:
		if in.Treatment == "" {
			f.add("body.treatment", "a treated risk says how it was treated", nil)
		}
	default:
		f.add("body.state", "open, treated or accepted", in.State)
	}
	if in.OwnerID < 0 {
		f.add("body.ownerId", "a user id", in.OwnerID)
	}
	return f.err()
}

// validateAction checks an action.
func validateAction(in *ActionInput) error {
	var f fieldErrs
	in.Title = strings.TrimSpace(in.Title)
	if in.State == "" {
		in.State = ActionOpen
	}
	f.text("body.title", in.Title, 500, true)
	switch in.State {
	case ActionOpen, ActionDone, ActionCancelled:
	default:
		f.add("body.state", "open, done or cancelled", in.State)
	}
	if in.OwnerID < 0 {
		f.add("body.ownerId", "a user id", in.OwnerID)
	}
	if in.RiskID < 0 {
		f.add("body.riskId", "a risk id of the plan", in.RiskID)
	}
	if in.DueAt != nil && in.DueAt.IsZero() {
		in.DueAt = nil
	}
	return f.err()
}
