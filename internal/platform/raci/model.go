package raci

import (
	"maps"
	"slices"
	"time"

	"steward/internal/framework"
)

// Everywhere is the assignment subject that applies to every process: service owners and
// managers of one service, an executive sponsor.
const Everywhere = "*"

// The role codes the service treats specially.
const (
	// RoleProcessOwner owns a process (DESMF §7.5): one per process, assigned by administrators;
	// the owner tailors the process and assigns its other roles.
	RoleProcessOwner = "process-owner"
	// RoleDomainOwner owns a lifecycle domain (DESMF §7.2): one per domain, assigned by administrators.
	RoleDomainOwner = "domain-owner"
)

// ProcessRole is a role as the organisation sees it in one process (or in the catalogue): a seed
// role or a local one, with its display name.
type ProcessRole struct {
	// Code is the role's stable identifier, e.g. "process-manager" or a local "incident-coordinator".
	Code string `json:"code"`
	// Name is the display name: a tailored name, or the seed's name in the process's words.
	Name string `json:"name"`
	// SeedName is the seed's own name of a seed role.
	SeedName string `json:"seedName,omitempty"`
	// Kind is the framework's role kind, or "local".
	Kind string `json:"kind"`
	// Local is true for a role the organisation added.
	Local bool `json:"local"`
	// Process is the process a local role belongs to; empty for a catalogue role.
	Process string `json:"process,omitempty"`
	// Description says what the role does.
	Description string `json:"description"`
	// Column is true when the role is a column of the process's matrix.
	Column bool `json:"column"`
	// Renamed is true when the display name is a tailoring.
	Renamed bool `json:"renamed,omitempty"`
}

// ProcessActivity is a process activity as the organisation sees it: a seed activity, or a local
// activity or sub-step, with its workflow settings.
type ProcessActivity struct {
	// Code is the activity code, e.g. "IM5", "ITSCM.2.7", "IM5.1" or "LOC-triage".
	Code string `json:"code"`
	// Process is the owning process's code.
	Process string `json:"process"`
	// Name is the activity's name.
	Name string `json:"name"`
	// Description says what the activity does.
	Description string `json:"description"`
	// Parent is, for a sub-step, the activity it details.
	Parent string `json:"parent,omitempty"`
	// Local is true for an activity the organisation added.
	Local bool `json:"local"`
	// Control is the common control a seed activity is (establish, monitor, evaluate), if any.
	Control framework.ControlKind `json:"control,omitempty"`
	// RequiresApproval is true when the step waits for the approval of the activity's A holder.
	RequiresApproval bool `json:"requiresApproval"`
	// RequiresConsultation is true when the activity's C holders get a consultation task first.
	RequiresConsultation bool `json:"requiresConsultation"`
}

// RoleAssignment puts a user or a team in a role for a process, a domain or everywhere,
// optionally scoped to one team's or one service's records.
type RoleAssignment struct {
	// ID identifies the assignment.
	ID int64 `json:"id"`
	// Subject is a process code ("IM", "ITSCM.2"), a domain code ("SO") or "*" (everywhere).
	Subject string `json:"subject"`
	// Role is the role code.
	Role string `json:"role"`
	// UserID is the user who holds the role, or 0 when a team does.
	UserID int64 `json:"userId,omitempty"`
	// TeamID is the team whose members hold the role, or 0 when a user does.
	TeamID int64 `json:"teamId,omitempty"`
	// Scope narrows the records the assignment covers; the zero Scope covers all.
	Scope Scope `json:"scope"`
	// AssignedBy is the user who made the assignment (0 for the system).
	AssignedBy int64 `json:"assignedBy"`
	// AssignedAt is when the assignment was made.
	AssignedAt time.Time `json:"assignedAt"`
	// Username is the holder's username, when a user holds the role.
	Username string `json:"username,omitempty"`
	// TeamName is the holder's team name, when a team holds the role.
	TeamName string `json:"teamName,omitempty"`
}

// RoleAssignmentFilter selects assignments; zero fields match everything.
type RoleAssignmentFilter struct {
	Subject string
	Role    string
	UserID  int64
	TeamID  int64
}

// Covers reports whether an assignment scoped to s covers a record in scope target: an
// unscoped assignment covers every record, a team-scoped one only that team's records, a
// service-scoped one only that service's records.
func (s Scope) Covers(target Scope) bool {
	if s.TeamID != 0 && s.TeamID != target.TeamID {
		return false
	}
	if s.ServiceID != 0 && s.ServiceID != target.ServiceID {
		return false
	}
	return true
}

// IsZero reports whether the scope is everywhere.
func (s Scope) IsZero() bool { return s.TeamID == 0 && s.ServiceID == 0 }

// applies reports whether an assignment to subject counts in process p: an assignment to the
// process itself, to the DESMF process a TAXUD sub-process details, to the process's domain,
// or to everywhere.
func applies(subject string, p *framework.Process) bool {
	return subject == Everywhere || subject == p.Code || subject == p.Domain || (p.Parent != "" && subject == p.Parent)
}

// ---- the tailoring as stored ----

// head is the stored head row of a process.
type head struct {
	version  int64
	tailored bool
	columns  []string
}

// localRole is a stored local role.
type localRole struct {
	id          int64
	process     string
	code        string
	name        string
	description string
}

// localActivity is a stored local activity or sub-step.
type localActivity struct {
	id          int64
	process     string
	code        string
	parent      string
	after       string
	name        string
	description string
}

// flags are an activity's stored workflow settings.
type flags struct {
	approval     bool
	consultation bool
}

// tailoring is everything the organisation changed in the reference model, as loaded.
type tailoring struct {
	generation int64
	heads      map[string]head
	cells      map[string]map[string]map[string]framework.Cell // process → activity → role → cell
	roles      []localRole
	names      map[string]map[string]string // process ("" for the catalogue) → role → name
	activities []localActivity
	settings   map[string]map[string]flags // process → activity → flags
}

func newTailoring() *tailoring {
	return &tailoring{heads: map[string]head{}, cells: map[string]map[string]map[string]framework.Cell{},
		names: map[string]map[string]string{}, settings: map[string]map[string]flags{}}
}

// ---- the model as tailored ----

// state is the reference model with the tailoring applied, built once per load and then
// shared read-only.
type state struct {
	model      *framework.Model
	generation int64
	procs      map[string]*procView
	order      []*procView // DESMF processes in seed order, then the TAXUD sub-processes
	localRoles map[string]localRole
	globalName map[string]string
	locals     []localRole
}

// procView is one process with the tailoring applied.
type procView struct {
	proc       *framework.Process
	version    int64
	tailored   bool
	matrix     framework.Matrix
	activities []ProcessActivity
	actIndex   map[string]int
	names      map[string]string // tailored display names of this process
	locals     []localActivity   // in creation order
}

// buildState applies t to m.
func buildState(m *framework.Model, t *tailoring) *state {
	st := &state{model: m, generation: t.generation, procs: map[string]*procView{}, localRoles: map[string]localRole{},
		globalName: t.names[""]}
	for _, r := range t.roles {
		st.localRoles[r.code] = r
		st.locals = append(st.locals, r)
	}
	procs := append(m.Processes(), m.TAXUD().SubProcesses()...)
	for _, p := range procs {
		h, ok := t.heads[p.Code]
		if !ok {
			h = head{version: 1}
		}
		pv := &procView{proc: p, version: h.version, tailored: h.tailored, names: t.names[p.Code]}
		for _, a := range t.activities {
			if a.process == p.Code {
				pv.locals = append(pv.locals, a)
			}
		}
		pv.activities = orderActivities(p, pv.locals, t.settings[p.Code])
		pv.actIndex = make(map[string]int, len(pv.activities))
		for i, a := range pv.activities {
			pv.actIndex[a.Code] = i
		}
		if h.tailored {
			pv.matrix = storedMatrix(p.Code, h.columns, pv.activities, t.cells[p.Code])
		} else {
			pv.matrix = st.defaultMatrix(pv)
		}
		st.procs[p.Code] = pv
		st.order = append(st.order, pv)
	}
	return st
}

// orderActivities lists a process's activities: the seed's in seed order, each followed by
// the local activities placed after it (in creation order, each followed in turn by its own).
func orderActivities(p *framework.Process, locals []localActivity, settings map[string]flags) []ProcessActivity {
	after := map[string][]localActivity{}
	for _, a := range locals {
		after[a.after] = append(after[a.after], a)
	}
	var out []ProcessActivity
	seen := map[string]bool{}
	var emit func(a ProcessActivity)
	emit = func(a ProcessActivity) {
		if seen[a.Code] {
			return
		}
		seen[a.Code] = true
		f := settings[a.Code]
		a.RequiresApproval, a.RequiresConsultation = f.approval, f.consultation
		out = append(out, a)
		for _, l := range after[a.Code] {
			emit(ProcessActivity{Code: l.code, Process: l.process, Name: l.name, Description: l.description, Parent: l.parent, Local: true})
		}
	}
	for _, a := range p.Activities() {
		emit(ProcessActivity{Code: a.Code, Process: a.Process, Name: a.Name, Description: a.Description, Control: a.Control})
	}
	// Local activities whose anchor is missing (none in a process without activities) come last.
	for _, l := range locals {
		emit(ProcessActivity{Code: l.code, Process: l.process, Name: l.name, Description: l.description, Parent: l.parent, Local: true})
	}
	return out
}

// storedMatrix assembles a tailored matrix: its columns and one row per activity in order.
func storedMatrix(process string, columns []string, acts []ProcessActivity, cells map[string]map[string]framework.Cell) framework.Matrix {
	mx := framework.Matrix{Process: process, Roles: slices.Clone(columns), Rows: make([]framework.RACIRow, 0, len(acts))}
	if mx.Roles == nil {
		mx.Roles = []string{}
	}
	for _, a := range acts {
		row := framework.RACIRow{Activity: a.Code, Cells: map[string]framework.Cell{}}
		maps.Copy(row.Cells, cells[a.Code])
		mx.Rows = append(mx.Rows, row)
	}
	return mx
}

// defaultMatrix is the process's default: the reference model's matrix, and for each local
// activity the default row of its parent (a sub-step), else of the activity it follows, else
// the process-specific row of the generic template.
func (st *state) defaultMatrix(pv *procView) framework.Matrix {
	base := st.model.DefaultRACI(pv.proc.Code)
	rows := map[string]map[string]framework.Cell{}
	for _, r := range base.Rows {
		rows[r.Activity] = r.Cells
	}
	specific, _ := st.model.RACITemplate().Row(framework.ControlSpecific)
	for _, l := range pv.locals {
		src, ok := rows[l.parent]
		if !ok {
			src, ok = rows[l.after]
		}
		if !ok && pv.proc.Framework == framework.DESMF {
			src = specific.Cells
		}
		rows[l.code] = maps.Clone(src)
		if rows[l.code] == nil {
			rows[l.code] = map[string]framework.Cell{}
		}
	}
	return storedMatrix(pv.proc.Code, base.Roles, pv.activities, rows)
}

// process returns the view of a process, or nil.
func (st *state) process(code string) *procView { return st.procs[code] }

// activity returns the activity of pv with code.
func (pv *procView) activity(code string) (ProcessActivity, bool) {
	i, ok := pv.actIndex[code]
	if !ok {
		return ProcessActivity{}, false
	}
	return pv.activities[i], true
}

// roleKnown reports whether code names a role usable in pv: a seed role, a catalogue local
// role, or a local role of pv's process.
func (st *state) roleKnown(pv *procView, code string) bool {
	if st.model.Role(code) != nil {
		return true
	}
	r, ok := st.localRoles[code]
	return ok && (r.process == "" || (pv != nil && r.process == pv.proc.Code))
}

// local is the tailoring that matrix validation of pv must accept.
func (st *state) local(pv *procView) framework.Local {
	l := framework.Local{Roles: map[string]bool{}, Activities: map[string]string{}}
	for code, r := range st.localRoles {
		if r.process == "" || r.process == pv.proc.Code {
			l.Roles[code] = true
		}
	}
	for _, a := range pv.locals {
		l.Activities[a.code] = a.process
	}
	return l
}

// roleName is the display name of a role in pv (or in the catalogue when pv is nil): the
// process's tailored name, the catalogue's tailored name, a local role's name, or the seed's
// name in the process's words.
func (st *state) roleName(pv *procView, code string) (name string, renamed bool) {
	if pv != nil {
		if n, ok := pv.names[code]; ok {
			return n, true
		}
	}
	if n, ok := st.globalName[code]; ok {
		return n, true
	}
	if r, ok := st.localRoles[code]; ok {
		return r.name, false
	}
	if pv != nil {
		if n := st.model.RoleTitle(pv.proc.Code, code); n != "" {
			return n, false
		}
	}
	if r := st.model.Role(code); r != nil {
		return r.Name, false
	}
	return code, false
}

// role describes one role as seen in pv (nil for the catalogue).
func (st *state) role(pv *procView, code string) ProcessRole {
	name, renamed := st.roleName(pv, code)
	out := ProcessRole{Code: code, Name: name, Renamed: renamed}
	if r := st.model.Role(code); r != nil {
		out.SeedName, out.Kind, out.Description = r.Name, string(r.Kind), r.Description
	} else if l, ok := st.localRoles[code]; ok {
		out.Kind, out.Local, out.Process, out.Description = "local", true, l.process, l.description
	}
	if pv != nil {
		out.Column = slices.Contains(pv.matrix.Roles, code)
	}
	return out
}

// roles lists the roles of pv: its matrix columns in order, then the roles the seed names for
// the process, the process owner and manager, and the process's local roles. With pv nil it
// lists the catalogue: every seed role, then every local role.
func (st *state) roles(pv *procView) []ProcessRole {
	var codes []string
	if pv == nil {
		for _, r := range st.model.Roles() {
			codes = append(codes, r.Code)
		}
		for _, r := range st.locals {
			codes = append(codes, r.code)
		}
	} else {
		codes = append(codes, pv.matrix.Roles...)
		codes = append(codes, pv.proc.Roles...)
		codes = append(codes, RoleProcessOwner, "process-manager")
		for _, r := range st.locals {
			if r.process == pv.proc.Code {
				codes = append(codes, r.code)
			}
		}
	}
	out := make([]ProcessRole, 0, len(codes))
	seen := map[string]bool{}
	for _, c := range codes {
		if !seen[c] {
			seen[c] = true
			out = append(out, st.role(pv, c))
		}
	}
	return out
}
