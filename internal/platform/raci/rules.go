package raci

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"steward/internal/framework"
	"steward/internal/platform/errs"
)

// ---- matrix validation ----

// locator says where in the caller's input a matrix problem lies.
type locator interface {
	// row locates a rule of a whole row (one A, at least one R, a missing row).
	row(activity string) string
	// cell locates one role's cell of a row.
	cell(activity, role string) string
	// activity locates a row's activity code.
	activity(activity string) string
	// column locates the n-th (0-based) mention of a role among the columns.
	column(role string, n int) string
}

// bodyLocator locates problems in a request body {roles: [...], rows: [{activity, cells}]}.
type bodyLocator struct {
	rows  map[string][]int
	roles map[string][]int
}

func newBodyLocator(mx framework.Matrix) *bodyLocator {
	l := &bodyLocator{rows: map[string][]int{}, roles: map[string][]int{}}
	for i, r := range mx.Rows {
		l.rows[r.Activity] = append(l.rows[r.Activity], i)
	}
	for i, r := range mx.Roles {
		l.roles[r] = append(l.roles[r], i)
	}
	return l
}

func (l *bodyLocator) rowIndex(activity string) (int, bool) {
	ix := l.rows[activity]
	if len(ix) == 0 {
		return 0, false
	}
	return ix[0], true
}

func (l *bodyLocator) row(activity string) string {
	if i, ok := l.rowIndex(activity); ok {
		return "body.rows[" + strconv.Itoa(i) + "].cells"
	}
	return "body.rows"
}

func (l *bodyLocator) cell(activity, role string) string { return l.row(activity) + "." + role }

func (l *bodyLocator) activity(activity string) string {
	if i, ok := l.rowIndex(activity); ok {
		return "body.rows[" + strconv.Itoa(i) + "].activity"
	}
	return "body.rows"
}

func (l *bodyLocator) column(role string, n int) string {
	ix := l.roles[role]
	if n < len(ix) {
		return "body.roles[" + strconv.Itoa(ix[n]) + "]"
	}
	return "body.roles"
}

// prefixLocator locates every problem under one field of the body, e.g. "body.cells",
// optionally naming the activity (a role's cells keyed by activity) or the role (an
// activity's cells keyed by role).
type prefixLocator struct {
	field  string
	byRole bool
}

func (l prefixLocator) row(activity string) string {
	if l.byRole {
		return l.field
	}
	return l.field + "." + activity
}

func (l prefixLocator) cell(activity, role string) string {
	if l.byRole {
		return l.field + "." + role
	}
	return l.field + "." + activity
}

func (l prefixLocator) activity(string) string { return l.field }

func (l prefixLocator) column(role string, _ int) string { return l.cell("", role) }

// matrixProblems checks mx as the matrix of pv: the RACI rules of the framework with the
// organisation's local roles and activities accepted, and a row for every activity. It
// returns one field error per problem, each naming the activity (with its name) and the rule.
func (st *state) matrixProblems(pv *procView, mx framework.Matrix, loc locator) []errs.FieldError {
	var out []errs.FieldError
	err := st.model.ValidateLocal(mx, st.local(pv))
	var all []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	} else if err != nil {
		all = []error{err}
	}
	columnSeen := map[string]int{}
	for _, e := range all {
		var re *framework.RACIError
		if !errors.As(e, &re) {
			out = append(out, errs.FieldError{Location: "body", Message: e.Error()})
			continue
		}
		what := string(re.Rule)
		if re.Detail != "" {
			what += ": " + re.Detail
		}
		f := errs.FieldError{}
		switch {
		case re.Activity == "" && re.Role != "":
			n := 0
			if re.Rule == framework.RuleUniqueRole {
				columnSeen[re.Role]++
				n = columnSeen[re.Role]
			}
			f = errs.FieldError{Location: loc.column(re.Role, n), Message: "role " + re.Role + ": " + what, Value: re.Role}
		case re.Activity == "":
			f = errs.FieldError{Location: "body", Message: what}
		case re.Rule == framework.RuleKnownActivity || re.Rule == framework.RuleUniqueRow:
			f = errs.FieldError{Location: loc.activity(re.Activity), Message: re.Activity + ": " + what, Value: re.Activity}
		case re.Role != "":
			f = errs.FieldError{Location: loc.cell(re.Activity, re.Role), Message: pv.label(re.Activity) + ": role " + re.Role + ": " + what, Value: re.Role}
		default:
			f = errs.FieldError{Location: loc.row(re.Activity), Message: pv.label(re.Activity) + ": " + what}
		}
		out = append(out, f)
	}
	have := make(map[string]bool, len(mx.Rows))
	for _, r := range mx.Rows {
		have[r.Activity] = true
	}
	for _, a := range pv.activities {
		if !have[a.Code] {
			out = append(out, errs.FieldError{Location: loc.row(a.Code),
				Message: pv.label(a.Code) + ": every activity needs a row with exactly one A and at least one R; this one has none"})
		}
	}
	return out
}

// label names an activity for people: "IM5 (Resolve and Recover Incident)".
func (pv *procView) label(code string) string {
	if a, ok := pv.activity(code); ok {
		return code + " (" + a.Name + ")"
	}
	return code
}

// normalise orders mx's rows as pv's activities and drops empty cells; mx must be valid.
func (pv *procView) normalise(mx framework.Matrix) framework.Matrix {
	out := framework.Matrix{Process: pv.proc.Code, Roles: append([]string{}, mx.Roles...), Rows: make([]framework.RACIRow, 0, len(pv.activities))}
	byAct := make(map[string]framework.RACIRow, len(mx.Rows))
	for _, r := range mx.Rows {
		byAct[r.Activity] = r
	}
	for _, a := range pv.activities {
		cells := map[string]framework.Cell{}
		for role, c := range byAct[a.Code].Cells {
			if c != 0 {
				cells[role] = c
			}
		}
		out.Rows = append(out.Rows, framework.RACIRow{Activity: a.Code, Cells: cells})
	}
	return out
}

// cellChange is one cell that an edit changed.
type cellChange struct {
	Activity string `json:"activity"`
	Role     string `json:"role"`
	Old      string `json:"old"`
	New      string `json:"new"`
}

// diffMatrices lists the cells that differ between old and new, row by row in new's order
// (then rows only old has), columns in order.
func diffMatrices(old, new framework.Matrix) []cellChange {
	var out []cellChange
	roles := append(append([]string{}, new.Roles...), old.Roles...)
	acts := make([]string, 0, len(new.Rows)+len(old.Rows))
	for _, r := range new.Rows {
		acts = append(acts, r.Activity)
	}
	for _, r := range old.Rows {
		acts = append(acts, r.Activity)
	}
	seenAct := map[string]bool{}
	for _, a := range acts {
		if seenAct[a] {
			continue
		}
		seenAct[a] = true
		seenRole := map[string]bool{}
		for _, role := range roles {
			if seenRole[role] {
				continue
			}
			seenRole[role] = true
			o, n := old.Cell(a, role), new.Cell(a, role)
			if o != n {
				out = append(out, cellChange{Activity: a, Role: role, Old: o.String(), New: n.String()})
			}
		}
	}
	return out
}

// parseCells parses a row's letters ("A/R", "RA", "") into cells, reporting bad cells at
// location prefix + "." + key.
func parseCells(prefix string, in map[string]string) (map[string]framework.Cell, []errs.FieldError) {
	out := make(map[string]framework.Cell, len(in))
	var bad []errs.FieldError
	for _, k := range sortedKeys(in) {
		c, err := framework.ParseCell(in[k])
		if err != nil {
			bad = append(bad, errs.FieldError{Location: prefix + "." + k, Message: "a cell holds the letters R, A, C and I, each at most once (e.g. \"A/R\")", Value: in[k]})
			continue
		}
		if c != 0 {
			out[k] = c
		}
	}
	return out, bad
}

// ---- the guard ----

// held is one assignment a user holds, directly or through a team.
type held struct {
	RoleAssignment
	// via is "directly" or "through team NAME".
	via string
}

// holderRow is an assignment expanded to one of the users holding it.
type holderRow struct {
	held
	userID   int64
	username string
}

// performers lists the roles whose cell for activity holds R or A, in column order.
func (st *state) performers(pv *procView, activity string) []RoleRef {
	row, _ := pv.matrix.Row(activity)
	out := []RoleRef{}
	for _, role := range pv.matrix.Roles {
		if c := row.Cells[role]; c.Has(framework.R) || c.Has(framework.A) {
			name, _ := st.roleName(pv, role)
			out = append(out, RoleRef{Code: role, Name: name, Letters: c.String()})
		}
	}
	return out
}

// decide is the guard's rule: a user may perform an activity when they hold, in scope, a role
// whose cell holds R or A (R preferred, then a direct assignment over a team's); an
// administrator who holds none may still, as an audited override.
func (st *state) decide(pv *procView, act ProcessActivity, mine []held, scope Scope, admin bool) Decision {
	d := Decision{Process: pv.proc.Code, Activity: act.Code, ActivityName: act.Name, Performers: st.performers(pv, act.Code)}
	row, _ := pv.matrix.Row(act.Code)
	var best *held
	bestLetter, outOfScope := "", ""
	for _, letter := range []framework.Cell{framework.R, framework.A} {
		for i := range mine {
			h := &mine[i]
			if !row.Cells[h.Role].Has(letter) || !applies(h.Subject, pv.proc) {
				continue
			}
			if !h.Scope.Covers(scope) {
				if outOfScope == "" {
					name, _ := st.roleName(pv, h.Role)
					outOfScope = name + " " + describeScope(h.Scope)
				}
				continue
			}
			if best == nil || (best.TeamID != 0 && h.TeamID == 0) {
				best = h
			}
		}
		if best != nil {
			bestLetter = letter.String()
			break
		}
	}
	label := pv.label(act.Code)
	switch {
	case best != nil:
		name, _ := st.roleName(pv, best.Role)
		d.Allowed, d.Letter, d.Via = true, bestLetter, best.via
		d.Role = &RoleRef{Code: best.Role, Name: name, Letters: row.Cells[best.Role].String()}
		d.Explanation = "you may perform " + act.Code + ": you hold " + bestLetter + " for " + label + " as " + name
		if best.TeamID != 0 {
			d.Explanation += ", " + best.via
		}
		if !best.Scope.IsZero() {
			d.Explanation += " " + describeScope(best.Scope)
		}
	case admin:
		d.Allowed, d.Override = true, true
		d.Explanation = "you may perform " + label + " only as an administrator (override): " + needs(d.Performers) + "; you hold none of them"
	default:
		d.Explanation = "you may not perform " + label + ": " + needs(d.Performers) + "; you hold none of them"
	}
	if !d.Allowed || d.Override {
		if outOfScope != "" {
			d.Explanation += " here (you hold " + outOfScope + ")"
		}
	}
	return d
}

// needs says who may perform an activity: "it needs R or A, held by Process Manager (A), …".
func needs(perf []RoleRef) string {
	if len(perf) == 0 {
		return "no role holds R or A for it"
	}
	parts := make([]string, len(perf))
	for i, p := range perf {
		parts[i] = p.Name + " (" + p.Letters + ")"
	}
	return "it needs R or A, held by " + strings.Join(parts, ", ")
}

// describeScope writes a scope for people: "for team 4 only", "for service 12 only".
func describeScope(s Scope) string {
	switch {
	case s.TeamID != 0 && s.ServiceID != 0:
		return fmt.Sprintf("for team %d and service %d only", s.TeamID, s.ServiceID)
	case s.TeamID != 0:
		return fmt.Sprintf("for team %d only", s.TeamID)
	case s.ServiceID != 0:
		return fmt.Sprintf("for service %d only", s.ServiceID)
	}
	return "everywhere"
}

// holders lists, once each, the users holding in scope a role whose cell for activity holds
// any of letter's letters; columns in order, a direct assignment preferred over a team's.
func (st *state) holders(pv *procView, activity string, letter framework.Cell, scope Scope, rows []holderRow) []Holder {
	row, _ := pv.matrix.Row(activity)
	out := []Holder{}
	index := map[int64]int{}
	for _, role := range pv.matrix.Roles {
		if row.Cells[role]&letter == 0 {
			continue
		}
		for _, r := range rows {
			if r.Role != role || !applies(r.Subject, pv.proc) || !r.Scope.Covers(scope) {
				continue
			}
			h := Holder{UserID: r.userID, Username: r.username, Role: role, Via: r.via}
			if i, ok := index[r.userID]; ok {
				if out[i].Role == role && out[i].Via != "directly" && r.TeamID == 0 {
					out[i] = h
				}
				continue
			}
			index[r.userID] = len(out)
			out = append(out, h)
		}
	}
	return out
}

// Duty is what one role does in one activity.
type Duty struct {
	// Activity is the activity code.
	Activity string `json:"activity"`
	// Name is the activity's name.
	Name string `json:"name"`
	// Letters are the role's RACI letters for the activity, e.g. "A/R".
	Letters string `json:"letters"`
}

// ProcessDuties are the activities a role has letters for in one process.
type ProcessDuties struct {
	// Process is the process code.
	Process string `json:"process"`
	// ProcessName is the process's name.
	ProcessName string `json:"processName"`
	// RoleName is the role's display name in the process.
	RoleName string `json:"roleName"`
	// Duties lists the activities in order.
	Duties []Duty `json:"duties"`
}

// Responsibility is one role a user holds, and what it means in each process it covers.
type Responsibility struct {
	// Assignment is the assignment through which the user holds the role.
	Assignment RoleAssignment `json:"assignment"`
	// Via is "directly" or "through team NAME".
	Via string `json:"via"`
	// RoleName is the role's display name (in the subject process, when the subject is one).
	RoleName string `json:"roleName"`
	// Processes lists the processes the assignment covers in which the role has letters (and
	// the subject process itself, even without any).
	Processes []ProcessDuties `json:"processes"`
}

// responsibilities expands a user's assignments into what they do where.
func (st *state) responsibilities(mine []held) []Responsibility {
	out := make([]Responsibility, 0, len(mine))
	for _, h := range mine {
		r := Responsibility{Assignment: h.RoleAssignment, Via: h.via, Processes: []ProcessDuties{}}
		r.RoleName, _ = st.roleName(st.process(h.Subject), h.Role)
		for _, pv := range st.order {
			if !applies(h.Subject, pv.proc) {
				continue
			}
			pd := ProcessDuties{Process: pv.proc.Code, ProcessName: pv.proc.Name, Duties: []Duty{}}
			pd.RoleName, _ = st.roleName(pv, h.Role)
			for _, row := range pv.matrix.Rows {
				if c := row.Cells[h.Role]; c != 0 {
					a, _ := pv.activity(row.Activity)
					pd.Duties = append(pd.Duties, Duty{Activity: row.Activity, Name: a.Name, Letters: c.String()})
				}
			}
			if len(pd.Duties) > 0 || pv.proc.Code == h.Subject {
				r.Processes = append(r.Processes, pd)
			}
		}
		out = append(out, r)
	}
	return out
}
