package framework

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Cell is the set of RACI letters one role holds for one activity.
type Cell uint8

const (
	// R is Responsible: executes the activity.
	R Cell = 1 << iota
	// A is Accountable: final decision authority; exactly one per activity.
	A
	// C is Consulted: two-way communication before the decision.
	C
	// I is Informed: one-way communication after the decision or action.
	I
)

// cellOrder is the order String writes letters in: the order TAXUD Table 4-1 uses
// ("I/C/R", "I/A/R", "A/R").
var cellOrder = []struct {
	c Cell
	l byte
}{{I, 'I'}, {C, 'C'}, {A, 'A'}, {R, 'R'}}

const allLetters = R | A | C | I

// ParseCell parses a cell such as "A", "A/R", "I/C/R" or "AR". The empty string and "-"
// are the empty cell. Letters must be upper case and appear at most once.
func ParseCell(s string) (Cell, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "-" {
		return 0, nil
	}
	var c Cell
	for i := 0; i < len(s); i++ {
		var l Cell
		switch s[i] {
		case 'R':
			l = R
		case 'A':
			l = A
		case 'C':
			l = C
		case 'I':
			l = I
		case '/':
			continue
		default:
			return 0, fmt.Errorf("framework: RACI cell %q: %q is not one of R, A, C, I", s, s[i])
		}
		if c&l != 0 {
			return 0, fmt.Errorf("framework: RACI cell %q: letter %c twice", s, s[i])
		}
		c |= l
	}
	return c, nil
}

// String writes the cell's letters separated by "/" in the order I, C, A, R, e.g. "A/R";
// the empty cell is "".
func (c Cell) String() string {
	var b []byte
	for _, o := range cellOrder {
		if c&o.c != 0 {
			if len(b) > 0 {
				b = append(b, '/')
			}
			b = append(b, o.l)
		}
	}
	return string(b)
}

// Has reports whether the cell holds every letter of l.
func (c Cell) Has(l Cell) bool { return l != 0 && c&l == l }

// Valid reports whether the cell holds only R, A, C and I bits.
func (c Cell) Valid() bool { return c&^allLetters == 0 }

// MarshalText writes the cell as String does.
func (c Cell) MarshalText() ([]byte, error) {
	if !c.Valid() {
		return nil, fmt.Errorf("framework: invalid RACI cell %#x", uint8(c))
	}
	return []byte(c.String()), nil
}

// UnmarshalText parses the cell as ParseCell does.
func (c *Cell) UnmarshalText(b []byte) error {
	v, err := ParseCell(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// RACIRow is one activity's row of a matrix: the letters each role holds. Roles without an
// entry (or with an empty cell) hold nothing.
type RACIRow struct {
	// Activity is the activity code.
	Activity string `json:"activity"`
	// Cells maps role codes to letters.
	Cells map[string]Cell `json:"cells"`
}

// Matrix is a process's responsibility assignment matrix: roles in column order and one row
// per activity.
type Matrix struct {
	// Process is the process code the matrix belongs to.
	Process string `json:"process"`
	// Roles lists the role codes that are the matrix's columns.
	Roles []string `json:"roles"`
	// Rows lists the activity rows in activity order.
	Rows []RACIRow `json:"rows"`
}

// Row returns the row of activity.
func (m Matrix) Row(activity string) (RACIRow, bool) {
	for _, r := range m.Rows {
		if r.Activity == activity {
			return r, true
		}
	}
	return RACIRow{}, false
}

// Cell returns the letters role holds for activity.
func (m Matrix) Cell(activity, role string) Cell {
	r, _ := m.Row(activity)
	return r.Cells[role]
}

// Clone returns a deep copy of the matrix.
func (m Matrix) Clone() Matrix {
	out := Matrix{Process: m.Process, Roles: append([]string(nil), m.Roles...), Rows: make([]RACIRow, len(m.Rows))}
	for i, r := range m.Rows {
		out.Rows[i] = r.clone()
	}
	return out
}

func (r RACIRow) clone() RACIRow {
	cells := make(map[string]Cell, len(r.Cells))
	for k, v := range r.Cells {
		cells[k] = v
	}
	return RACIRow{Activity: r.Activity, Cells: cells}
}

// Rule names a rule a matrix or the data must keep.
type Rule string

const (
	// RuleOneAccountable: every activity has exactly one A (Table 7.10(A)).
	RuleOneAccountable Rule = "exactly one A per activity"
	// RuleResponsible: every activity has at least one R (Table 7.10(A)).
	RuleResponsible Rule = "at least one R per activity"
	// RuleKnownRole: every role code is a role of the model.
	RuleKnownRole Rule = "role must be known"
	// RuleRoleColumn: a cell's role is one of the matrix's columns.
	RuleRoleColumn Rule = "role must be a column of the matrix"
	// RuleUniqueRole: a role is a column once.
	RuleUniqueRole Rule = "role listed once"
	// RuleKnownProcess: the matrix's process is a process of the model.
	RuleKnownProcess Rule = "process must be known"
	// RuleKnownActivity: every row's activity is an activity of the matrix's process.
	RuleKnownActivity Rule = "activity must belong to the process"
	// RuleUniqueRow: an activity has one row.
	RuleUniqueRow Rule = "one row per activity"
	// RuleValidCell: a cell holds only R, A, C and I.
	RuleValidCell Rule = "cell holds only R, A, C, I"
)

// RACIError is a matrix rule violation. It names the process, the activity (if any), the
// role (if any) and the rule.
type RACIError struct {
	// Process is the matrix's process code.
	Process string
	// Activity is the activity code of the offending row; empty for matrix-level errors.
	Activity string
	// Role is the offending role code, if the rule concerns one.
	Role string
	// Rule is the rule broken.
	Rule Rule
	// Detail explains what was found.
	Detail string
}

// Error reads e.g. `framework: RACI IM3 (process IM): exactly one A per activity: found 2 (process-owner, process-manager)`.
func (e *RACIError) Error() string {
	var b strings.Builder
	b.WriteString("framework: RACI ")
	switch {
	case e.Activity != "":
		fmt.Fprintf(&b, "%s (process %s)", e.Activity, e.Process)
	default:
		fmt.Fprintf(&b, "process %s", e.Process)
	}
	if e.Role != "" {
		fmt.Fprintf(&b, " role %s", e.Role)
	}
	fmt.Fprintf(&b, ": %s", e.Rule)
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	}
	return b.String()
}

// Validate checks mx against the model: the process is known, every role is a known role
// listed once, every row's activity belongs to the process and appears once, every cell's
// role is a column and its letters are valid, and every row has exactly one A and at least
// one R. It returns nil or all violations joined (errors.Join), each a *RACIError naming
// the activity and the rule. A matrix need not have a row for every activity.
func (m *Model) Validate(mx Matrix) error {
	var errs []error
	bad := func(act, role string, rule Rule, format string, args ...any) {
		errs = append(errs, &RACIError{Process: mx.Process, Activity: act, Role: role, Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}
	p := m.Process(mx.Process)
	if p == nil {
		bad("", "", RuleKnownProcess, "%q is not a process of the model", mx.Process)
	}
	cols := make(map[string]bool, len(mx.Roles))
	for _, r := range mx.Roles {
		if cols[r] {
			bad("", r, RuleUniqueRole, "role %q is a column twice", r)
		}
		cols[r] = true
		if m.Role(r) == nil {
			bad("", r, RuleKnownRole, "%q is not a role of the model", r)
		}
	}
	seen := make(map[string]bool, len(mx.Rows))
	for _, row := range mx.Rows {
		if seen[row.Activity] {
			bad(row.Activity, "", RuleUniqueRow, "activity %q has more than one row", row.Activity)
		}
		seen[row.Activity] = true
		if p != nil {
			if a := m.Activity(row.Activity); a == nil || a.Process != p.Code {
				bad(row.Activity, "", RuleKnownActivity, "%q is not an activity of process %s", row.Activity, p.Code)
			}
		}
		var accountable, responsible []string
		for _, role := range sortedRoles(mx.Roles, row.Cells) {
			c := row.Cells[role]
			if !cols[role] {
				if m.Role(role) == nil {
					bad(row.Activity, role, RuleKnownRole, "%q is not a role of the model", role)
				} else {
					bad(row.Activity, role, RuleRoleColumn, "%q is not a column of the matrix", role)
				}
			}
			if !c.Valid() {
				bad(row.Activity, role, RuleValidCell, "cell %#x", uint8(c))
			}
			if c.Has(A) {
				accountable = append(accountable, role)
			}
			if c.Has(R) {
				responsible = append(responsible, role)
			}
		}
		if len(accountable) != 1 {
			bad(row.Activity, "", RuleOneAccountable, "found %d (%s)", len(accountable), strings.Join(accountable, ", "))
		}
		if len(responsible) == 0 {
			bad(row.Activity, "", RuleResponsible, "found none")
		}
	}
	return errors.Join(errs...)
}

// sortedRoles returns the roles of cells: matrix columns first in column order, then any
// others in sorted order, so errors come out deterministically.
func sortedRoles(columns []string, cells map[string]Cell) []string {
	out := make([]string, 0, len(cells))
	in := make(map[string]bool, len(columns))
	for _, r := range columns {
		if in[r] {
			continue
		}
		in[r] = true
		if _, ok := cells[r]; ok {
			out = append(out, r)
		}
	}
	var rest []string
	for r := range cells {
		if !in[r] {
			rest = append(rest, r)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// DefaultRACI returns the starting matrix of a process. For a DESMF process it is the
// generic template of Table 7.10(B) over the template roles (owner, manager, developer,
// analyst/practitioner): the Establish activity takes the Establish row (A, R, I, C), the
// Monitor, Manage and Report activity the monitor row (I, A, I, R), the Evaluate activity the
// evaluate row (A, R, R, R), and every other activity the process-specific row (I, A, I, R).
// For a TAXUD sub-process (ITSCM.1–ITSCM.4) it is the sub-process's rows of Table 4-1 over
// the 13 inferred Table 4-1 roles. A process without activities (EVAL) gets a matrix without
// rows; an unknown code gets the zero Matrix. The result is a fresh copy.
func (m *Model) DefaultRACI(processCode string) Matrix {
	p := m.Process(processCode)
	if p == nil {
		return Matrix{}
	}
	mx := Matrix{Process: p.Code, Rows: []RACIRow{}}
	if p.Framework == TAXUD {
		for _, r := range m.taxud.Roles {
			mx.Roles = append(mx.Roles, r.Code)
		}
		for _, row := range m.taxud.raci {
			if a := m.Activity(row.Activity); a != nil && a.Process == p.Code {
				mx.Rows = append(mx.Rows, row.clone())
			}
		}
		return mx
	}
	mx.Roles = append([]string(nil), m.template.Roles...)
	for _, a := range p.activities {
		t, _ := m.template.Row(a.Kind())
		mx.Rows = append(mx.Rows, RACIRow{Activity: a.Code, Cells: RACIRow{Cells: t.Cells}.clone().Cells})
	}
	return mx
}
