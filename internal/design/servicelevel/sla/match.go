package sla

import (
	"slices"
	"strconv"
)

// empty reports whether a condition lists nothing at all.
func (c Condition) empty() bool {
	return len(c.States) == 0 && len(c.Fields) == 0 && len(c.Any) == 0
}

// Matches reports whether the facts meet the condition: its own clauses
// (States, Fields) when it has any, all of them, or one of its Any
// alternatives. A condition with nothing listed matches nothing (see
// matchesStart for the start condition, where it matches everything).
func (c Condition) Matches(f Facts) bool {
	if len(c.States) > 0 || len(c.Fields) > 0 {
		if c.own(f) {
			return true
		}
	}
	for _, a := range c.Any {
		if a.Matches(f) {
			return true
		}
	}
	return false
}

// own checks the condition's own clauses.
func (c Condition) own(f Facts) bool {
	if len(c.States) > 0 && !oneOf(f[FieldState], c.States) {
		return false
	}
	for field, values := range c.Fields {
		if !oneOf(f[field], values) {
			return false
		}
	}
	return true
}

// matchesStart is Matches for a start condition: an empty one matches.
func (c Condition) matchesStart(f Facts) bool {
	return c.empty() || c.Matches(f)
}

// oneOf reports whether v is one of values; "*" stands for any set value.
func oneOf(v string, values []string) bool {
	for _, w := range values {
		if w == v || (w == "*" && v != "") {
			return true
		}
	}
	return false
}

// Matches reports whether a target with this selector applies to a record
// with these facts whose requester belongs to requesterTeams: every
// non-empty list must hold the record's value (a record without a service,
// priority or category matches only the lists that are empty).
func (s Selector) Matches(f Facts, requesterTeams []int64) bool {
	return s.matches(f, requesterTeams)
}

// Covers reports whether a record logged at created (unix ms) falls within the
// selector's logging period.
func (s Selector) Covers(created int64) bool {
	return (s.LoggedFrom == 0 || created >= s.LoggedFrom) && (s.LoggedBefore == 0 || created < s.LoggedBefore)
}

// matches is Matches without the logging period, which needs the timeline.
func (s Selector) matches(f Facts, requesterTeams []int64) bool {
	if len(s.RecordTypes) > 0 && !slices.Contains(s.RecordTypes, f[FieldType]) {
		return false
	}
	if len(s.ServiceIDs) > 0 {
		id, err := strconv.ParseInt(f[FieldService], 10, 64)
		if err != nil || !slices.Contains(s.ServiceIDs, id) {
			return false
		}
	}
	if len(s.Priorities) > 0 {
		p, err := strconv.Atoi(f[FieldPriority])
		if err != nil || !slices.Contains(s.Priorities, p) {
			return false
		}
	}
	if len(s.Categories) > 0 && !slices.Contains(s.Categories, f[FieldCategory]) {
		return false
	}
	if len(s.CustomerTeams) > 0 {
		for _, t := range requesterTeams {
			if slices.Contains(s.CustomerTeams, t) {
				return true
			}
		}
		return false
	}
	return true
}
