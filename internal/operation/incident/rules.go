package incident

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// fieldErrs collects field errors.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

// text checks a text field: valid UTF-8, at most max characters, no control
// characters but line breaks and tabs; required text must not be blank.
func (f *fieldErrs) text(loc, s string, max int, required bool) {
	switch {
	case !utf8.ValidString(s):
		f.add(loc, "text must be valid UTF-8", nil)
	case required && strings.TrimSpace(s) == "":
		f.add(loc, "required", nil)
	case utf8.RuneCountInString(s) > max:
		f.add(loc, fmt.Sprintf("at most %d characters", max), nil)
	case strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' && r != '\r' }):
		f.add(loc, "no control characters", nil)
	}
}

func (f fieldErrs) err() error { return errs.WithFields(f) }

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ValidKey reports whether s is a taxonomy or resolution-code key: 1 to 40
// lower-case letters, digits, '_' or '-', starting with a letter or digit.
func ValidKey(s string) bool { return keyPattern.MatchString(s) }

// DefaultMatrix is ITIL's 3×3 priority matrix: impact (rows) high, medium,
// low × urgency (columns) high, medium, low gives P1–P5.
func DefaultMatrix() [][]int {
	return [][]int{{1, 2, 3}, {2, 3, 4}, {3, 4, 5}}
}

// DefaultSecurityCategories are the CND categories of CJCSM 6510.01B, CAT 1–9,
// as the default taxonomy keys them.
func DefaultSecurityCategories() []string {
	out := make([]string, 9)
	for i := range out {
		out[i] = fmt.Sprintf("cnd-cat-%d", i+1)
	}
	return out
}

// DefaultSettings are the settings before an administrator saves any.
func DefaultSettings() IncidentSettings {
	return IncidentSettings{
		Matrix: DefaultMatrix(),
		ResolutionCodes: []ResolutionCodeOption{
			{Key: "workaround", Label: "Solved (workaround)"},
			{Key: "permanent", Label: "Solved (permanently)"},
			{Key: "remote_workaround", Label: "Solved remotely (workaround)"},
			{Key: "remote_permanent", Label: "Solved remotely (permanently)"},
			{Key: "known_error", Label: "Solved by a known error's workaround"},
			{Key: "not_reproducible", Label: "Not solved (not reproducible)"},
			{Key: "too_costly", Label: "Not solved (too costly)"},
			{Key: "by_caller", Label: "Resolved by the caller"},
		},
		AutoCloseDays: 5, ReopenDays: 10, MajorPriority: 1,
		SecurityCategories: DefaultSecurityCategories(),
		SecurityRoles:      []string{},
	}
}

// Priority computes the priority of impact × urgency through matrix. An impact
// or urgency outside the matrix is Invalid, naming body.impact or body.urgency.
func Priority(matrix [][]int, impact, urgency int) (int, error) {
	var f fieldErrs
	if impact < 1 || impact > len(matrix) {
		f.add("body.impact", fmt.Sprintf("impact is 1 (high) to %d (low)", len(matrix)), impact)
	}
	cols := 0
	if len(matrix) > 0 {
		cols = len(matrix[0])
	}
	if urgency < 1 || urgency > cols {
		f.add("body.urgency", fmt.Sprintf("urgency is 1 (high) to %d (low)", cols), urgency)
	}
	if err := f.err(); err != nil {
		return 0, err
	}
	return matrix[impact-1][urgency-1], nil
}

// roleCode is a process-role code: lower-case words joined by '-'.
var roleCode = regexp.MustCompile(`^[a-z][a-z0-9-]{0,59}$`)

// ValidateSettings checks settings: a rectangular matrix of 1 to 5 rows and
// columns of priorities 1 to 5, unique resolution codes with labels, timers
// and the major threshold in range, and well-formed category keys and role codes.
func ValidateSettings(s IncidentSettings) error {
	var f fieldErrs
	if len(s.Matrix) < 1 || len(s.Matrix) > 5 {
		f.add("body.matrix", "a matrix has 1 to 5 rows of impact", len(s.Matrix))
	}
	for i, row := range s.Matrix {
		if len(row) < 1 || len(row) > 5 || len(row) != len(s.Matrix[0]) {
			f.add(fmt.Sprintf("body.matrix[%d]", i), "every row has the same 1 to 5 columns of urgency", len(row))
			continue
		}
		for j, p := range row {
			if p < 1 || p > 5 {
				f.add(fmt.Sprintf("body.matrix[%d][%d]", i, j), "a priority is 1 (highest) to 5", p)
			}
		}
	}
	if len(s.ResolutionCodes) == 0 {
		f.add("body.resolutionCodes", "give at least one resolution code", nil)
	}
	seen := map[string]bool{}
	for i, c := range s.ResolutionCodes {
		loc := fmt.Sprintf("body.resolutionCodes[%d]", i)
		if !ValidKey(c.Key) {
			f.add(loc+".key", "a key is 1 to 40 lower-case letters, digits, '_' or '-'", c.Key)
		} else if seen[c.Key] {
			f.add(loc+".key", "listed twice", c.Key)
		}
		seen[c.Key] = true
		f.text(loc+".label", c.Label, 200, true)
	}
	if s.AutoCloseDays < 0 || s.AutoCloseDays > 365 {
		f.add("body.autoCloseDays", "0 (never) to 365 days", s.AutoCloseDays)
	}
	if s.ReopenDays < 0 || s.ReopenDays > 365 {
		f.add("body.reopenDays", "0 (never) to 365 days", s.ReopenDays)
	}
	if s.MajorPriority < 0 || s.MajorPriority > 5 {
		f.add("body.majorPriority", "0 (never) or a priority 1 to 5", s.MajorPriority)
	}
	for i, k := range s.SecurityCategories {
		if !ValidKey(k) {
			f.add(fmt.Sprintf("body.securityCategories[%d]", i), "not a category key", k)
		}
	}
	for i, r := range s.SecurityRoles {
		if !roleCode.MatchString(r) {
			f.add(fmt.Sprintf("body.securityRoles[%d]", i), "not a role code", r)
		}
	}
	return f.err()
}

// normalizeSettings fills what older or partial settings lack with defaults.
func normalizeSettings(s *IncidentSettings) {
	d := DefaultSettings()
	if len(s.Matrix) == 0 {
		s.Matrix = d.Matrix
	}
	if len(s.ResolutionCodes) == 0 {
		s.ResolutionCodes = d.ResolutionCodes
	}
	if s.SecurityCategories == nil {
		s.SecurityCategories = []string{}
	}
	if s.SecurityRoles == nil {
		s.SecurityRoles = []string{}
	}
}

// hasCode reports whether the settings list a resolution code.
func (s IncidentSettings) hasCode(code string) bool {
	return slices.ContainsFunc(s.ResolutionCodes, func(c ResolutionCodeOption) bool { return c.Key == code })
}

// isSecurity reports whether a category puts an incident on the security path.
func (s IncidentSettings) isSecurity(category string) bool {
	return category != "" && slices.Contains(s.SecurityCategories, category)
}

// declaresMajor reports whether priority crosses the major threshold.
func (s IncidentSettings) declaresMajor(priority int) bool {
	return s.MajorPriority > 0 && priority > 0 && priority <= s.MajorPriority
}

// pathFor decides the path of an incident: security by its category, major
// once declared (by hand, or by the threshold unless it is another's child),
// normal otherwise. A major incident stays major when its priority drops.
func pathFor(s IncidentSettings, current, category string, priority int, child bool) string {
	switch {
	case s.isSecurity(category):
		return PathSecurity
	case current == PathMajor:
		return PathMajor
	case !child && s.declaresMajor(priority):
		return PathMajor
	}
	return PathNormal
}

// UncategorisedChannels are the channels an incident may arrive on without a
// category: nobody at the desk has read it yet.
var UncategorisedChannels = []string{"email", "event"}

// validateNew checks the fields of an incident to log that need no database.
// It normalizes the keys and the channel.
func validateNew(in *NewIncident) error {
	var f fieldErrs
	in.Category, in.Subcategory = strings.TrimSpace(in.Category), strings.TrimSpace(in.Subcategory)
	in.Channel = strings.TrimSpace(in.Channel)
	f.text("body.title", in.Title, 200, true)
	f.text("body.description", in.Description, 32000, false)
	// Mail and events arrive uncategorised; the desk categorises them at triage (IM3).
	validateKeys(&f, "body.category", "body.subcategory", in.Category, in.Subcategory, !slices.Contains(UncategorisedChannels, in.Channel))
	if in.Channel != "" && !slices.Contains(Channels, in.Channel) {
		f.add("body.channel", "one of "+strings.Join(Channels, ", "), in.Channel)
	}
	for _, ref := range []struct {
		loc string
		id  int64
	}{{"body.service", in.ServiceID}, {"body.ci", in.CIID}, {"body.callerId", in.CallerID},
		{"body.teamId", in.TeamID}, {"body.assigneeId", in.AssigneeID}} {
		if ref.id < 0 {
			f.add(ref.loc, "not an id", ref.id)
		}
	}
	return f.err()
}

// validateKeys checks a category and subcategory pair of keys.
func validateKeys(f *fieldErrs, catLoc, subLoc, category, subcategory string, required bool) {
	switch {
	case category == "" && required:
		f.add(catLoc, "pick a category", nil)
	case category != "" && !ValidKey(category):
		f.add(catLoc, "not a category key", category)
	}
	if subcategory != "" {
		if !ValidKey(subcategory) {
			f.add(subLoc, "not a subcategory key", subcategory)
		} else if category == "" {
			f.add(subLoc, "a subcategory needs its category", subcategory)
		}
	}
}

// validateChange checks the fields of a change that need no database.
func validateChange(c *Change) error {
	var f fieldErrs
	if c.Title != nil {
		f.text("body.title", *c.Title, 200, true)
	}
	if c.Description != nil {
		f.text("body.description", *c.Description, 32000, false)
	}
	if c.Channel != nil && !slices.Contains(Channels, *c.Channel) {
		f.add("body.channel", "one of "+strings.Join(Channels, ", "), *c.Channel)
	}
	if c.Category != nil && !ValidKey(*c.Category) {
		f.add("body.category", "not a category key", *c.Category)
	}
	if c.Subcategory != nil && *c.Subcategory != "" && !ValidKey(*c.Subcategory) {
		f.add("body.subcategory", "not a subcategory key", *c.Subcategory)
	}
	for _, ref := range []struct {
		loc string
		id  *int64
	}{{"body.service", c.ServiceID}, {"body.ci", c.CIID}} {
		if ref.id != nil && *ref.id < 0 {
			f.add(ref.loc, "not an id", *ref.id)
		}
	}
	return f.err()
}

// actionFields names, per action, the body fields it requires and those it may take.
var actionFields = map[string][2][]string{
	"hold":              {{"holdReason"}, nil},
	"resolve":           {{"resolutionCode", "resolutionNotes"}, {"effortMinutes", "firstContact"}},
	"reject_resolution": {{"reason"}, nil},
	"confirm":           {nil, {"closureCategory", "closureSubcategory"}},
	"close":             {nil, {"closureCategory", "closureSubcategory"}},
	"reopen":            {nil, {"reason"}},
	"reclassify":        {nil, {"catalogItemId"}},
}

// ActionFields returns the body fields an action requires and those it may take.
func ActionFields(action string) (required, optional []string) {
	f := actionFields[action]
	return append([]string{}, f[0]...), append([]string{}, f[1]...)
}

// needsFields reports whether an action cannot apply without its fields.
func needsFields(action string) bool { return len(actionFields[action][0]) > 0 }

// validateStep checks the fields of an action against the settings. Fields an
// action does not take are refused, so that nothing given is silently lost.
func validateStep(action string, in StepFields, s IncidentSettings) error {
	var f fieldErrs
	req, opt := ActionFields(action)
	takes := func(name string) bool { return slices.Contains(req, name) || slices.Contains(opt, name) }
	given := map[string]bool{"holdReason": in.HoldReason != "", "resolutionCode": in.ResolutionCode != "",
		"resolutionNotes": in.ResolutionNotes != "", "effortMinutes": in.EffortMinutes != 0, "firstContact": in.FirstContact,
		"reason": in.Reason != "", "closureCategory": in.ClosureCategory != "", "closureSubcategory": in.ClosureSubcategory != "",
		"catalogItemId": in.CatalogItemID != 0}
	for _, name := range []string{"holdReason", "resolutionCode", "resolutionNotes", "effortMinutes", "firstContact", "reason",
		"closureCategory", "closureSubcategory", "catalogItemId"} {
		if given[name] && !takes(name) {
			f.add("body."+name, "the "+action+" action does not take this field", nil)
		}
	}
	switch action {
	case "hold":
		if !slices.Contains(HoldReasons, in.HoldReason) {
			f.add("body.holdReason", "one of "+strings.Join(HoldReasons, ", "), in.HoldReason)
		}
	case "resolve":
		if !s.hasCode(in.ResolutionCode) {
			keys := make([]string, len(s.ResolutionCodes))
			for i, c := range s.ResolutionCodes {
				keys[i] = c.Key
			}
			f.add("body.resolutionCode", "one of "+strings.Join(keys, ", "), in.ResolutionCode)
		}
		f.text("body.resolutionNotes", in.ResolutionNotes, 32000, true)
		if in.EffortMinutes < 0 || in.EffortMinutes > 1_000_000 {
			f.add("body.effortMinutes", "0 to 1000000 minutes", in.EffortMinutes)
		}
	case "reject_resolution":
		f.text("body.reason", in.Reason, 4000, true)
	case "reopen":
		f.text("body.reason", in.Reason, 4000, false)
	case "confirm", "close":
		validateKeys(&f, "body.closureCategory", "body.closureSubcategory", in.ClosureCategory, in.ClosureSubcategory, false)
	case "reclassify":
		if in.CatalogItemID < 0 {
			f.add("body.catalogItemId", "not an id", in.CatalogItemID)
		}
	}
	return f.err()
}

// checkReopen refuses a reopen after the window: days after closing, or ever when days is 0.
func checkReopen(number string, closedAt, now time.Time, days int) error {
	if days <= 0 {
		return errs.E(errs.Conflict, "%s cannot be reopened: reopening is switched off; log a new incident", number)
	}
	if closedAt.IsZero() {
		return nil
	}
	until := closedAt.Add(time.Duration(days) * 24 * time.Hour)
	if now.After(until) {
		return errs.E(errs.Conflict, "%s closed on %s and could be reopened for %d days, until %s; log a new incident",
			number, closedAt.Format("2006-01-02"), days, until.Format("2006-01-02 15:04 MST"))
	}
	return nil
}

// nextEscalation returns the escalation level after level, or a Conflict at the top.
func nextEscalation(number string, level int) (int, error) {
	if level >= MaxEscalation {
		return level, errs.E(errs.Conflict, "%s is at the highest escalation level (%d) already", number, MaxEscalation)
	}
	return level + 1, nil
}

// maxTerms and maxTermLen bound a search query.
const (
	maxTerms   = 16
	maxTermLen = 64
)

// searchTerms splits a query into plain words (letters, digits and marks),
// lower-cased, at most 16 of at most 64 characters, so that no query syntax
// reaches the full-text engine.
func searchTerms(q string) []string {
	words := strings.FieldsFunc(strings.ToLower(q), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && !unicode.IsMark(r)
	})
	var out []string
	for _, w := range words {
		if utf8.RuneCountInString(w) > maxTermLen {
			w = string([]rune(w)[:maxTermLen])
		}
		if len(out) == maxTerms {
			break
		}
		out = append(out, w)
	}
	return out
}

// validateCategory checks a new taxonomy entry.
func validateCategory(c *IncidentCategory) error {
	var f fieldErrs
	c.Key, c.Parent = strings.TrimSpace(c.Key), strings.TrimSpace(c.Parent)
	if !ValidKey(c.Key) {
		f.add("body.key", "a key is 1 to 40 lower-case letters, digits, '_' or '-', starting with a letter or digit", c.Key)
	}
	if c.Parent != "" && !ValidKey(c.Parent) {
		f.add("body.parent", "not a category key", c.Parent)
	}
	f.text("body.label", c.Label, 200, true)
	f.text("body.description", c.Description, 2000, false)
	return f.err()
}

// validateCategoryChange checks a change of a taxonomy entry.
func validateCategoryChange(c IncidentCategoryChange) error {
	var f fieldErrs
	if c.Label != nil {
		f.text("body.label", *c.Label, 200, true)
	}
	if c.Description != nil {
		f.text("body.description", *c.Description, 2000, false)
	}
	return f.err()
}

// oneOf checks that v is one of allowed, naming loc.
func oneOf(f *fieldErrs, loc, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		f.add(loc, "one of "+strings.Join(allowed, ", "), v)
	}
}
