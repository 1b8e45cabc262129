package request

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/errs"
)

// Limits of a catalog item and of a request's values.
const (
	MaxVariables   = 50
	MaxChoices     = 100
	MaxLevels      = 10
	MaxTasks       = 50
	MaxStage       = 100
	MaxTextValue   = 4000
	MaxTargetHours = 87600
	MaxReason      = 4000
)

var (
	keyPattern      = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	categoryPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)
)

const dateLayout = "2006-01-02"

// fieldErrs collects field errors.
type fieldErrs []errs.FieldError

func (f *fieldErrs) add(loc, msg string, v any) {
	*f = append(*f, errs.FieldError{Location: loc, Message: msg, Value: v})
}

func (f fieldErrs) err() error { return errs.WithFields(f) }

func runes(s string) int { return utf8.RuneCountInString(s) }

// ValidateItem checks a catalog item's definition and tidies it (trims names,
// labels and choices; a label defaults to its variable's name). Every problem
// is named by its place in the request body, such as body.variables[2].choices.
// Whether the service and the teams exist is the store's to check.
func ValidateItem(it *CatalogItem) error {
	var f fieldErrs
	it.Name = strings.TrimSpace(it.Name)
	it.Category = strings.TrimSpace(it.Category)
	if n := runes(it.Name); n == 0 || n > 200 {
		f.add("body.name", "a name has 1 to 200 characters", nil)
	}
	if runes(it.Description) > 32000 {
		f.add("body.description", "at most 32000 characters", nil)
	}
	if !utf8.ValidString(it.Name) || !utf8.ValidString(it.Description) {
		f.add("body", "text must be valid UTF-8", nil)
	}
	if it.Category != "" && !categoryPattern.MatchString(it.Category) {
		f.add("body.category", "a category is a key of 1 to 40 lower-case letters, digits, '_' or '-'", it.Category)
	}
	if it.ServiceID <= 0 {
		f.add("body.serviceId", "name the CMDB service the item belongs to", it.ServiceID)
	}
	if it.TargetHours < 0 || it.TargetHours > MaxTargetHours {
		f.add("body.targetHours", fmt.Sprintf("0 (no target) to %d hours", MaxTargetHours), it.TargetHours)
	}
	validateVariables(&f, it.Variables)
	validateApprovals(&f, it.Approvals)
	validateTasks(&f, it.Tasks)
	return f.err()
}

func validateVariables(f *fieldErrs, vars []FormVariable) {
	if len(vars) > MaxVariables {
		f.add("body.variables", fmt.Sprintf("at most %d variables", MaxVariables), len(vars))
		return
	}
	seen := map[string]bool{}
	for i := range vars {
		v := &vars[i]
		loc := fmt.Sprintf("body.variables[%d]", i)
		v.Name, v.Label = strings.TrimSpace(v.Name), strings.TrimSpace(v.Label)
		switch {
		case !keyPattern.MatchString(v.Name):
			f.add(loc+".name", "a variable name is 1 to 40 lower-case letters, digits or '_', starting with a letter", v.Name)
		case seen[v.Name]:
			f.add(loc+".name", "another variable has this name", v.Name)
		}
		seen[v.Name] = true
		if v.Label == "" {
			v.Label = v.Name
		}
		if runes(v.Label) > 200 || !utf8.ValidString(v.Label) {
			f.add(loc+".label", "a label has at most 200 characters", nil)
		}
		if runes(v.Help) > 2000 || !utf8.ValidString(v.Help) {
			f.add(loc+".help", "at most 2000 characters", nil)
		}
		if !slices.Contains(VariableTypes, v.Type) {
			f.add(loc+".type", "one of text, choice, date, user, ci, number", string(v.Type))
		}
		known := slices.Contains(VariableTypes, v.Type)
		if v.Type == Choice {
			validateChoices(f, loc, v.Choices)
			for j := range v.Choices {
				v.Choices[j] = strings.TrimSpace(v.Choices[j])
			}
		} else if known && len(v.Choices) > 0 {
			f.add(loc+".choices", "only a choice variable has choices", nil)
		}
		if known && v.Type != Number && (v.Min != nil || v.Max != nil) {
			f.add(loc+".min", "only a number variable has a min and a max", nil)
		}
		if v.Min != nil && v.Max != nil && *v.Max < *v.Min {
			f.add(loc+".max", "max is below min", *v.Max)
		}
		for _, b := range []*float64{v.Min, v.Max} {
			if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
				f.add(loc+".min", "a bound is a finite number", nil)
			}
		}
	}
}

func validateChoices(f *fieldErrs, loc string, choices []string) {
	switch {
	case len(choices) == 0:
		f.add(loc+".choices", "a choice variable lists its choices", nil)
		return
	case len(choices) > MaxChoices:
		f.add(loc+".choices", fmt.Sprintf("at most %d choices", MaxChoices), len(choices))
		return
	}
	seen := map[string]bool{}
	for j, c := range choices {
		c = strings.TrimSpace(c)
		cloc := fmt.Sprintf("%s.choices[%d]", loc, j)
		switch {
		case runes(c) == 0 || runes(c) > 200 || !utf8.ValidString(c):
			f.add(cloc, "a choice has 1 to 200 characters", c)
		case seen[c]:
			f.add(cloc, "the choice is listed twice", c)
		}
		seen[c] = true
	}
}

func validateApprovals(f *fieldErrs, levels []CatalogApproval) {
	if len(levels) > MaxLevels {
		f.add("body.approvals", fmt.Sprintf("at most %d approval levels", MaxLevels), len(levels))
		return
	}
	for i, l := range levels {
		loc := fmt.Sprintf("body.approvals[%d]", i)
		switch {
		case !slices.Contains(ApprovalKinds, l.Kind):
			f.add(loc+".kind", "one of none, manager, service_owner, group", string(l.Kind))
		case l.Kind == NoApproval && len(levels) > 1:
			f.add(loc+".kind", "none stands alone: an item that needs no approval has no other level", string(l.Kind))
		case l.Kind == GroupApproval && l.TeamID <= 0:
			f.add(loc+".teamId", "a group level names the approving team", l.TeamID)
		case l.Kind != GroupApproval && l.TeamID != 0:
			f.add(loc+".teamId", "only a group level names a team", l.TeamID)
		}
	}
}

func validateTasks(f *fieldErrs, tasks []CatalogTask) {
	if len(tasks) > MaxTasks {
		f.add("body.tasks", fmt.Sprintf("at most %d tasks", MaxTasks), len(tasks))
		return
	}
	for i := range tasks {
		t := &tasks[i]
		loc := fmt.Sprintf("body.tasks[%d]", i)
		t.Name = strings.TrimSpace(t.Name)
		if n := runes(t.Name); n == 0 || n > 200 || !utf8.ValidString(t.Name) {
			f.add(loc+".name", "a task name has 1 to 200 characters", nil)
		}
		if runes(t.Description) > 4000 || !utf8.ValidString(t.Description) {
			f.add(loc+".description", "at most 4000 characters", nil)
		}
		if t.TeamID <= 0 {
			f.add(loc+".teamId", "a task is routed to a team", t.TeamID)
		}
		if t.Stage < 1 || t.Stage > MaxStage {
			f.add(loc+".stage", fmt.Sprintf("a stage is 1 to %d", MaxStage), t.Stage)
		}
	}
}

// levels are the approval levels that ask someone: a "none" level asks nobody.
func (fm Form) levels() []CatalogApproval {
	var out []CatalogApproval
	for _, l := range fm.Approvals {
		if l.Kind != NoApproval {
			out = append(out, l)
		}
	}
	return out
}

// stages lists the form's stage numbers in the order they run.
func (fm Form) stages() []int {
	var out []int
	for _, t := range fm.Tasks {
		out = append(out, t.Stage)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// nextStage is the stage that follows current (0 before the first), or 0 after the last.
func (fm Form) nextStage(current int) int {
	for _, s := range fm.stages() {
		if s > current {
			return s
		}
	}
	return 0
}

// stageTasks lists the positions (in Tasks) of the tasks of stage.
func (fm Form) stageTasks(stage int) []int {
	var out []int
	for i, t := range fm.Tasks {
		if t.Stage == stage {
			out = append(out, i)
		}
	}
	return out
}

// ref is an id a value names, which the store checks exists.
type ref struct {
	name string
	kind VariableType
	id   int64
}

// valueLoc is the location of a submitted value; an absurd name is cut short.
func valueLoc(name string) string {
	if len(name) > 60 || !utf8.ValidString(name) {
		name = strings.ToValidUTF8(name[:min(len(name), 60)], "") + "…"
	}
	return "body.variables." + name
}

// CheckValues checks the values submitted for a form: every required variable
// has one; each value has its variable's type (dates are YYYY-MM-DD, numbers
// within the bounds, a choice one of the choices, user and CI ids positive
// integers); no value names a variable the form does not have. It returns the
// values to store (text trimmed, numbers as float64, ids as int64) and the ids
// the store must find. Each problem is named body.variables.<name>.
func CheckValues(vars []FormVariable, in map[string]any) (map[string]any, []ref, error) {
	var f fieldErrs
	out := map[string]any{}
	var refs []ref
	declared := map[string]bool{}
	for _, v := range vars {
		declared[v.Name] = true
		loc := valueLoc(v.Name)
		raw, present := in[v.Name]
		if s, ok := raw.(string); ok && strings.TrimSpace(s) == "" {
			present = false
		}
		if raw == nil {
			present = false
		}
		if !present {
			if v.Required {
				f.add(loc, "required: "+v.Label, nil)
			}
			continue
		}
		val, msg := checkValue(v, raw)
		if msg != "" {
			f.add(loc, msg, safeEcho(raw))
			continue
		}
		out[v.Name] = val
		if v.Type == UserRef || v.Type == CIRef {
			refs = append(refs, ref{name: v.Name, kind: v.Type, id: val.(int64)})
		}
	}
	var unknown []string
	for name := range in {
		if !declared[name] {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for i, name := range unknown {
		if i == 10 {
			f.add("body.variables", fmt.Sprintf("and %d more names the item does not have", len(unknown)-10), nil)
			break
		}
		f.add(valueLoc(name), "the item has no such variable", nil)
	}
	return out, refs, f.err()
}

// safeEcho returns a short scalar value to echo in an error, or nil.
func safeEcho(v any) any {
	switch x := v.(type) {
	case string:
		if runes(x) <= 100 {
			return x
		}
	case float64, int, int64, bool:
		return x
	}
	return nil
}

// checkValue checks one present value against its variable and returns it as stored, or what is wrong.
func checkValue(v FormVariable, raw any) (any, string) {
	switch v.Type {
	case Text:
		s, ok := raw.(string)
		if !ok {
			return nil, "text expected"
		}
		s = strings.TrimSpace(s)
		if runes(s) > MaxTextValue || !utf8.ValidString(s) {
			return nil, fmt.Sprintf("at most %d characters", MaxTextValue)
		}
		return s, ""
	case Choice:
		s, ok := raw.(string)
		if !ok || !slices.Contains(v.Choices, strings.TrimSpace(s)) {
			return nil, "one of: " + strings.Join(v.Choices, ", ")
		}
		return strings.TrimSpace(s), ""
	case Date:
		s, ok := raw.(string)
		if !ok {
			return nil, "a date as YYYY-MM-DD"
		}
		s = strings.TrimSpace(s)
		if _, err := time.Parse(dateLayout, s); err != nil || len(s) != len(dateLayout) {
			return nil, "a date as YYYY-MM-DD"
		}
		return s, ""
	case Number:
		n, ok := number(raw)
		if !ok {
			return nil, "a number expected"
		}
		if v.Min != nil && n < *v.Min {
			return nil, "at least " + formatNumber(*v.Min)
		}
		if v.Max != nil && n > *v.Max {
			return nil, "at most " + formatNumber(*v.Max)
		}
		return n, ""
	case UserRef, CIRef:
		n, ok := number(raw)
		what := "a user id"
		if v.Type == CIRef {
			what = "a configuration item id"
		}
		if !ok || n != math.Trunc(n) || n < 1 || n > 1<<53 {
			return nil, what + " (a positive integer) expected"
		}
		return int64(n), ""
	}
	return nil, "the variable has an unknown type"
}

// number reads a JSON number (or a Go integer, from an area's caller).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	}
	return 0, false
}

func formatNumber(n float64) string { return strconv.FormatFloat(n, 'f', -1, 64) }

// validateReason checks a reason given with a rejection or a report that a request is not done.
func validateReason(field, reason string) error {
	if n := runes(strings.TrimSpace(reason)); n == 0 || n > MaxReason || !utf8.ValidString(reason) {
		return errs.Field(field, fmt.Sprintf("give a reason of 1 to %d characters; the requester reads it", MaxReason), nil)
	}
	return nil
}

// validateChannel checks a request's contact channel; "" is the portal.
func validateChannel(c string) (string, error) {
	if c == "" {
		return "portal", nil
	}
	if !slices.Contains(Channels, c) {
		return "", errs.Field("body.channel", "one of "+strings.Join(Channels, ", "), c)
	}
	return c, nil
}
