package framework

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
)

//go:embed data/*.json
var dataFS embed.FS

// Model is the loaded, validated reference model. Its lookups return shared values that
// callers must not modify.
type Model struct {
	domains       []*Domain
	domainByCode  map[string]*Domain
	processes     []*Process // DESMF processes in seed order
	processByCode map[string]*Process
	activities    []*Activity // all activities: DESMF in seed order, then TAXUD
	activityBy    map[string]*Activity
	roles         []*Role
	roleByCode    map[string]*Role
	functions     []*Function
	functionBy    map[string]*Function
	relationships []Relationship
	template      *RACITemplate
	taxud         *TAXUDProcedure
}

// DataError is a defect of the embedded data found by Load. It names the file, the code of
// the offending item and the rule broken.
type DataError struct {
	// File is the data file, e.g. "data/activities.json".
	File string
	// Code is the code of the offending item (activity, process, role …).
	Code string
	// Rule states the rule broken.
	Rule string
	// Detail explains what was found.
	Detail string
}

// Error reads e.g. `framework: data/activities.json: IM9: process must exist: "IMX" is not a process`.
func (e *DataError) Error() string {
	s := "framework: " + e.File
	if e.Code != "" {
		s += ": " + e.Code
	}
	s += ": " + e.Rule
	if e.Detail != "" {
		s += ": " + e.Detail
	}
	return s
}

var embedded = sync.OnceValues(Load)

// Embedded returns the model parsed from the embedded data, loading it on first use and
// sharing it afterwards.
func Embedded() (*Model, error) { return embedded() }

// Validate checks mx against the embedded model; see (*Model).Validate.
func Validate(mx Matrix) error {
	m, err := Embedded()
	if err != nil {
		return err
	}
	return m.Validate(mx)
}

// DefaultRACI returns the default matrix of a process from the embedded model; see
// (*Model).DefaultRACI. It returns the zero Matrix if the model cannot be loaded.
func DefaultRACI(processCode string) Matrix {
	m, err := Embedded()
	if err != nil {
		return Matrix{}
	}
	return m.DefaultRACI(processCode)
}

// taxudFile mirrors data/taxud_itscm.json.
type taxudFile struct {
	TAXUDProcedure
	SubProcesses []struct {
		Code        string `json:"code"`
		Name        string `json:"name"`
		Description string `json:"description"`
		Figure      string `json:"figure"`
	} `json:"subProcesses"`
	Activities []*Activity `json:"activities"`
	RACI       []RACIRow   `json:"raci"`
}

type functionsFile struct {
	Section      string      `json:"section"`
	Description  string      `json:"description"`
	TableSection string      `json:"tableSection"`
	Functions    []*Function `json:"functions"`
}

type relationshipsFile struct {
	Section       string         `json:"section"`
	Table         string         `json:"table"`
	Description   string         `json:"description"`
	Relationships []Relationship `json:"relationships"`
}

func decode(fsys fs.FS, name string, v any) error {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return &DataError{File: name, Rule: "file must be embedded", Detail: err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return &DataError{File: name, Rule: "file must be valid JSON of the expected shape", Detail: err.Error()}
	}
	return nil
}

// Load parses the embedded data and validates it: codes are unique, every reference
// (domain, process, activity, role, function) resolves, activity numbering is consecutive,
// DESMF processes follow the common-control rule of §6.1 unless they state an exception,
// and every RACI row (the template, every default matrix, TAXUD Table 4-1) has exactly one
// A and at least one R. All defects found are returned joined; each names the item and the
// rule.
func Load() (*Model, error) { return loadFS(dataFS) }

// loadFS is Load over any file system holding the data/*.json files; tests use it to
// feed defective data.
func loadFS(fsys fs.FS) (*Model, error) {
	m := &Model{
		domainByCode:  map[string]*Domain{},
		processByCode: map[string]*Process{},
		activityBy:    map[string]*Activity{},
		roleByCode:    map[string]*Role{},
		functionBy:    map[string]*Function{},
	}
	var (
		procs []*Process
		acts  []*Activity
		funcs functionsFile
		rels  relationshipsFile
		tx    taxudFile
	)
	m.template = &RACITemplate{}
	for _, f := range []struct {
		name string
		v    any
	}{
		{"data/domains.json", &m.domains},
		{"data/processes.json", &procs},
		{"data/activities.json", &acts},
		{"data/roles.json", &m.roles},
		{"data/functions.json", &funcs},
		{"data/relationships.json", &rels},
		{"data/raci_template.json", m.template},
		{"data/taxud_itscm.json", &tx},
	} {
		if err := decode(fsys, f.name, f.v); err != nil {
			return nil, err
		}
	}
	m.functions = funcs.Functions
	m.relationships = rels.Relationships
	m.taxud = &tx.TAXUDProcedure

	var errs []error
	bad := func(file, code, rule, format string, args ...any) {
		errs = append(errs, &DataError{File: file, Code: code, Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}

	// Domains.
	for _, d := range m.domains {
		if d.Code == "" || d.Name == "" || d.Description == "" {
			bad("data/domains.json", d.Code, "domain must have code, name and description", "")
		}
		if m.domainByCode[d.Code] != nil {
			bad("data/domains.json", d.Code, "domain code must be unique", "")
		}
		m.domainByCode[d.Code] = d
	}

	// Roles: the catalogue, then the TAXUD Table 4-1 columns and other parties.
	addRole := func(file string, r *Role) {
		if r.Code == "" || r.Name == "" {
			bad(file, r.Code, "role must have code and name", "")
		}
		if m.roleByCode[r.Code] != nil {
			bad(file, r.Code, "role code must be unique", "")
		}
		m.roleByCode[r.Code] = r
	}
	for _, r := range m.roles {
		switch r.Kind {
		case RoleGeneric, RoleTemplate, RoleOther, RoleFunction, RoleProcess:
		default:
			bad("data/roles.json", r.Code, "role kind must be known", "%q", r.Kind)
		}
		addRole("data/roles.json", r)
	}
	for i, r := range tx.Roles {
		r.Kind = RoleTAXUD
		if r.Column != i+1 {
			bad("data/taxud_itscm.json", r.Code, "Table 4-1 roles must be in column order 1–13", "column %d at position %d", r.Column, i+1)
		}
		if len(r.Evidence) == 0 {
			bad("data/taxud_itscm.json", r.Code, "every Table 4-1 column inference must state its evidence", "")
		}
		addRole("data/taxud_itscm.json", r)
		m.roles = append(m.roles, r)
	}
	if len(tx.Roles) != 13 {
		bad("data/taxud_itscm.json", "", "Table 4-1 has 13 role columns", "found %d", len(tx.Roles))
	}
	for _, r := range tx.OtherParties {
		r.Kind = RoleTAXUD
		addRole("data/taxud_itscm.json", r)
		m.roles = append(m.roles, r)
	}

	// Processes: DESMF, then the TAXUD sub-processes.
	addProcess := func(file string, p *Process) {
		if p.Code == "" || p.Name == "" {
			bad(file, p.Code, "process must have code and name", "")
		}
		if m.processByCode[p.Code] != nil {
			bad(file, p.Code, "process code must be unique", "")
		}
		if m.domainByCode[p.Domain] == nil {
			bad(file, p.Code, "process domain must exist", "%q is not a domain", p.Domain)
		}
		if strings.TrimSpace(p.Purpose) == "" {
			bad(file, p.Code, "process must have a purpose", "")
		}
		m.processByCode[p.Code] = p
	}
	for _, p := range procs {
		if p.Framework != DESMF {
			bad("data/processes.json", p.Code, "process framework must be DESMF", "%q", p.Framework)
		}
		addProcess("data/processes.json", p)
	}
	m.processes = procs
	for _, p := range procs {
		if p.VariantOf != "" && m.processByCode[p.VariantOf] == nil {
			bad("data/processes.json", p.Code, "variantOf must name a process", "%q", p.VariantOf)
		}
		for _, r := range p.Roles {
			if m.roleByCode[r] == nil {
				bad("data/processes.json", p.Code, "process roles must be known roles", "%q", r)
			}
		}
	}
	if m.processByCode[tx.Parent] == nil {
		bad("data/taxud_itscm.json", tx.Parent, "parent must be a DESMF process", "")
	}
	parentDomain := ""
	if pp := m.processByCode[tx.Parent]; pp != nil {
		parentDomain = pp.Domain
	}
	for _, s := range tx.SubProcesses {
		p := &Process{Code: s.Code, Name: s.Name, Domain: parentDomain, Section: "4.3", Framework: TAXUD,
			Parent: tx.Parent, Purpose: s.Description, WorkflowFigure: s.Figure}
		addProcess("data/taxud_itscm.json", p)
		m.taxud.subProcesses = append(m.taxud.subProcesses, p)
	}

	// Activities: DESMF, then TAXUD.
	addActivity := func(file string, a *Activity, fw Framework) {
		if a.Code == "" || a.Name == "" || strings.TrimSpace(a.Description) == "" {
			bad(file, a.Code, "activity must have code, name and description", "")
		}
		if m.activityBy[a.Code] != nil {
			bad(file, a.Code, "activity code must be unique", "")
		}
		m.activityBy[a.Code] = a
		p := m.processByCode[a.Process]
		if p == nil {
			bad(file, a.Code, "activity's process must exist", "%q is not a process", a.Process)
			return
		}
		if p.Framework != fw {
			bad(file, a.Code, "activity's process must be of the same framework", "%s is %s", p.Code, p.Framework)
		}
		switch a.Control {
		case "", ControlEstablish, ControlMonitor, ControlEvaluate:
		default:
			bad(file, a.Code, "activity control must be establish, monitor, evaluate or empty", "%q", a.Control)
		}
		n := len(p.activities) + 1
		want := p.Code + strconv.Itoa(n)
		if fw == TAXUD {
			want = p.Code + "." + strconv.Itoa(n)
		}
		if a.Code != want {
			bad(file, a.Code, "activity codes must be numbered consecutively in seed order", "expected %s", want)
		}
		p.activities = append(p.activities, a)
		m.activities = append(m.activities, a)
	}
	for _, a := range acts {
		addActivity("data/activities.json", a, DESMF)
	}
	for _, a := range tx.Activities {
		addActivity("data/taxud_itscm.json", a, TAXUD)
	}

	// The common-control rule of DESMF §6.1.
	for _, p := range m.processes {
		errs = append(errs, checkControls(p)...)
	}

	// Functions.
	for _, f := range m.functions {
		file := "data/functions.json"
		if m.functionBy[f.Code] != nil {
			bad(file, f.Code, "function code must be unique", "")
		}
		m.functionBy[f.Code] = f
		if f.Purpose == "" {
			bad(file, f.Code, "function must have a purpose", "")
		}
		doms := []string{f.PrimaryDomain}
		procs := append([]string(nil), f.PrimaryProcesses...)
		for _, s := range f.Secondary {
			doms = append(doms, s.Domain)
			procs = append(procs, s.Processes...)
		}
		for _, l := range f.ProcessRelationships {
			procs = append(procs, l.Process)
		}
		for _, d := range doms {
			if m.domainByCode[d] == nil {
				bad(file, f.Code, "function domains must exist", "%q", d)
			}
		}
		for _, p := range procs {
			if m.processByCode[p] == nil {
				bad(file, f.Code, "function processes must exist", "%q", p)
			}
		}
	}
	for _, f := range m.functions {
		for _, l := range f.FunctionRelationships {
			if m.functionBy[l.Function] == nil || l.Function == f.Code {
				bad("data/functions.json", f.Code, "related functions must exist and differ", "%q", l.Function)
			}
		}
	}

	// Roles' processes.
	for _, r := range m.roles {
		for _, p := range r.Processes {
			if m.processByCode[p] == nil {
				bad("data/roles.json", r.Code, "role processes must exist", "%q", p)
			}
		}
	}

	// Relationships.
	for i, r := range m.relationships {
		code := fmt.Sprintf("#%d %s→%s", i+1, r.From, r.To)
		if m.domainByCode[r.From] == nil || m.domainByCode[r.To] == nil || r.From == r.To {
			bad("data/relationships.json", code, "relationship must join two different domains", "")
		}
		if r.Flow == "" {
			bad("data/relationships.json", code, "relationship must say what flows", "")
		}
	}

	// The generic RACI template.
	kinds := map[ControlKind]bool{}
	for _, row := range m.template.Rows {
		if kinds[row.Kind] {
			bad("data/raci_template.json", string(row.Kind), "template row kinds must be unique", "")
		}
		kinds[row.Kind] = true
		errs = append(errs, checkRow("data/raci_template.json", row.Template, m.template.Roles, row.Cells, m)...)
	}
	for _, k := range []ControlKind{ControlEstablish, ControlSpecific, ControlMonitor, ControlEvaluate} {
		if !kinds[k] {
			bad("data/raci_template.json", string(k), "template must have a row for every kind", "")
		}
	}

	// TAXUD Table 4-1: one row per elementary activity, in order.
	if len(tx.RACI) != len(tx.Activities) {
		bad("data/taxud_itscm.json", "", "Table 4-1 must have one row per activity", "%d rows, %d activities", len(tx.RACI), len(tx.Activities))
	}
	for i, row := range tx.RACI {
		if i < len(tx.Activities) && row.Activity != tx.Activities[i].Code {
			bad("data/taxud_itscm.json", row.Activity, "Table 4-1 rows must follow the activity order", "expected %s", tx.Activities[i].Code)
		}
	}
	m.taxud.raci = tx.RACI
	for _, d := range m.taxud.Deliverables {
		for _, a := range d.ProducedBy {
			if m.activityBy[a] == nil {
				bad("data/taxud_itscm.json", d.ID, "deliverables must be produced by known activities", "%q", a)
			}
		}
	}
	for _, d := range m.taxud.InternalDocuments {
		for _, a := range d.ProducedBy {
			if m.activityBy[a] == nil {
				bad("data/taxud_itscm.json", d.Name, "documents must be produced by known activities", "%q", a)
			}
		}
	}
	for _, it := range m.taxud.Interfaces {
		if p := m.processByCode[it.SubProcess]; p == nil || p.Framework != TAXUD {
			bad("data/taxud_itscm.json", it.Description, "interfaces must belong to a TAXUD sub-process", "%q", it.SubProcess)
		}
	}

	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	// Every default matrix (DESMF template rows, TAXUD Table 4-1) must satisfy the RACI rules.
	for _, p := range m.allProcesses() {
		if err := m.Validate(m.DefaultRACI(p.Code)); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return m, nil
}

// checkControls enforces DESMF §6.1 on p: the first activity is the Establish framework
// activity, the next-to-last Monitor, Manage and Report, the last Evaluate … Performance,
// and no other activity is a common control — unless p states a ControlException, in which
// case no activity may claim to be a common control. A process without activities must
// state its ActivitiesStatus.
func checkControls(p *Process) []error {
	var errs []error
	bad := func(code, rule, format string, args ...any) {
		errs = append(errs, &DataError{File: "data/activities.json", Code: code, Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}
	acts := p.activities
	if len(acts) == 0 && p.ActivitiesStatus == "" {
		bad(p.Code, "a process without activities must state its activities status", "")
	}
	if p.ControlException != "" {
		for _, a := range acts {
			if a.Control != "" {
				bad(a.Code, "a process with a control exception has no common-control activities", "%s", a.Control)
			}
		}
		return errs
	}
	if len(acts) < 3 {
		bad(p.Code, "a process following §6.1 has at least the three common control activities", "%d activities", len(acts))
		return errs
	}
	for i, a := range acts {
		want := ControlKind("")
		switch i {
		case 0:
			want = ControlEstablish
		case len(acts) - 2:
			want = ControlMonitor
		case len(acts) - 1:
			want = ControlEvaluate
		}
		if a.Control != want {
			bad(a.Code, "§6.1: Establish is first, Monitor, Manage and Report next-to-last, Evaluate last", "control %q, expected %q", a.Control, want)
		}
		ok := true
		switch want {
		case ControlEstablish:
			ok = strings.HasPrefix(a.Name, "Establish ") && strings.HasSuffix(a.Name, " Framework")
		case ControlMonitor:
			ok = strings.HasPrefix(a.Name, "Monitor, Manage and Report ")
		case ControlEvaluate:
			ok = strings.HasPrefix(a.Name, "Evaluate ") && strings.HasSuffix(a.Name, " Performance")
		default:
			ok = !strings.HasPrefix(a.Name, "Monitor, Manage and Report ")
		}
		if !ok {
			bad(a.Code, "a common control activity's name must match its control", "%q is marked %q", a.Name, a.Kind())
		}
	}
	return errs
}

// checkRow validates one template row with the RACI rules.
func checkRow(file, label string, roles []string, cells map[string]Cell, m *Model) []error {
	var errs []error
	var accountable, responsible int
	in := map[string]bool{}
	for _, r := range roles {
		in[r] = true
		if m.roleByCode[r] == nil {
			errs = append(errs, &RACIError{Process: "template", Activity: label, Role: r, Rule: RuleKnownRole})
		}
	}
	for r, c := range cells {
		if !in[r] {
			errs = append(errs, &RACIError{Process: "template", Activity: label, Role: r, Rule: RuleRoleColumn})
		}
		if c.Has(A) {
			accountable++
		}
		if c.Has(R) {
			responsible++
		}
	}
	if accountable != 1 {
		errs = append(errs, &RACIError{Process: "template", Activity: label, Rule: RuleOneAccountable, Detail: fmt.Sprintf("found %d in %s", accountable, file)})
	}
	if responsible == 0 {
		errs = append(errs, &RACIError{Process: "template", Activity: label, Rule: RuleResponsible, Detail: "found none in " + file})
	}
	return errs
}

func (m *Model) allProcesses() []*Process {
	return append(append([]*Process(nil), m.processes...), m.taxud.subProcesses...)
}

// Domains returns the five lifecycle domains in seed order (SS, SD, ST, SO, CSI).
func (m *Model) Domains() []*Domain { return append([]*Domain(nil), m.domains...) }

// Domain returns the domain with code, or nil.
func (m *Model) Domain(code string) *Domain { return m.domainByCode[code] }

// Processes returns the DESMF processes in seed order: §9.1–§9.4 in section order, the
// Continual Service Improvement process (§9.5) and the NIST RMF variant SEC (Appendix E).
// The TAXUD sub-processes are returned by TAXUD().SubProcesses.
func (m *Model) Processes() []*Process { return append([]*Process(nil), m.processes...) }

// ProcessesIn returns the DESMF processes of a domain in seed order.
func (m *Model) ProcessesIn(domain string) []*Process {
	var out []*Process
	for _, p := range m.processes {
		if p.Domain == domain {
			out = append(out, p)
		}
	}
	return out
}

// Process returns the process with code — a DESMF process or a TAXUD sub-process such as
// "ITSCM.3" — or nil.
func (m *Model) Process(code string) *Process { return m.processByCode[code] }

// Activity returns the activity with code, e.g. "IM3", "SEC5", "CSI2" or "ITSCM.2.7", or nil.
func (m *Model) Activity(code string) *Activity { return m.activityBy[code] }

// Activities returns every activity: DESMF activities in seed order, then the TAXUD ones.
func (m *Model) Activities() []*Activity { return append([]*Activity(nil), m.activities...) }

// Roles returns every role: the catalogue of roles.json, then the TAXUD Table 4-1 columns
// and the other parties the TAXUD procedures name.
func (m *Model) Roles() []*Role { return append([]*Role(nil), m.roles...) }

// Role returns the role with code, or nil.
func (m *Model) Role(code string) *Role { return m.roleByCode[code] }

// Functions returns the supporting functions of §10 in seed order.
func (m *Model) Functions() []*Function { return append([]*Function(nil), m.functions...) }

// Function returns the function with code, or nil.
func (m *Model) Function(code string) *Function { return m.functionBy[code] }

// Relationships returns the items of the domain relationship table (§9.6), row by row.
func (m *Model) Relationships() []Relationship {
	return append([]Relationship(nil), m.relationships...)
}

// RACITemplate returns the generic RACI template and common controls.
func (m *Model) RACITemplate() *RACITemplate { return m.template }

// TAXUD returns the TAXUD IT Service Continuity Management procedure.
func (m *Model) TAXUD() *TAXUDProcedure { return m.taxud }
