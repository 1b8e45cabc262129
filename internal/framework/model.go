package framework

// Framework names the source document a process or activity comes from.
type Framework string

const (
	// DESMF is the DoD Enterprise Service Management Framework, Edition III.
	DESMF Framework = "DESMF"
	// TAXUD is the TAXUD FQP Annex 19 IT Service Continuity Management procedure.
	TAXUD Framework = "TAXUD"
)

// Domain is one of the five service lifecycle domains of DESMF §9.
type Domain struct {
	// Code is the seed's abbreviation: SS, SD, ST, SO or CSI.
	Code string `json:"code"`
	// Name is the domain's name, e.g. "Service Strategy".
	Name string `json:"name"`
	// Section is the DESMF section that describes the domain, e.g. "9.1".
	Section string `json:"section"`
	// Description is the domain's introduction; paragraphs are separated by newlines.
	Description string `json:"description"`
	// MetricsGuidance is the domain's "Domain Metrics" paragraph.
	MetricsGuidance string `json:"metricsGuidance"`
	// DomainOwnerNote is what the domain text says of its Domain Owner, if anything.
	DomainOwnerNote string `json:"domainOwnerNote,omitempty"`
	// Notes holds further notes of the domain section (e.g. the Service Design notes on
	// multi-provider projects and contract language).
	Notes []string `json:"notes,omitempty"`
}

// MetricExample is a metric the seed names for a process.
type MetricExample struct {
	// Metric is the metric as the seed words it.
	Metric string `json:"metric"`
	// Section is where the seed names it.
	Section string `json:"section"`
	// Note is the seed's caveat or context.
	Note string `json:"note"`
}

// Process is a DESMF process (§9, Appendix E) or a TAXUD ITSCM sub-process.
type Process struct {
	// Code is the process code, e.g. "IM", "ChM", "EVAL", "CSI", "SEC" or "ITSCM.2".
	Code string `json:"code"`
	// Name is the process name in the seed's wording.
	Name string `json:"name"`
	// Domain is the code of the lifecycle domain the process belongs to.
	Domain string `json:"domain"`
	// Section is the section of the seed that defines the process.
	Section string `json:"section"`
	// Framework is the source document.
	Framework Framework `json:"framework"`
	// Parent is, for a TAXUD sub-process, the DESMF process it details ("ITSCM").
	Parent string `json:"parent,omitempty"`
	// VariantOf names the process this one is a variant of (SEC is a variant of ISM).
	VariantOf string `json:"variantOf,omitempty"`
	// Purpose is the process purpose; for a TAXUD sub-process its Level 2 description.
	Purpose string `json:"purpose"`
	// Scope is the process scope (may be empty where the seed gives none).
	Scope string `json:"scope"`
	// Benefits lists the process benefits.
	Benefits []string `json:"benefits,omitempty"`
	// Outcomes lists the expected outcomes.
	Outcomes []string `json:"outcomes,omitempty"`
	// Roles lists the codes of the process-specific roles the seed names for the process.
	Roles []string `json:"roles,omitempty"`
	// MetricExamples lists the metrics the seed names for the process; the seed has no
	// per-process KPI lists.
	MetricExamples []MetricExample `json:"metricExamples,omitempty"`
	// WorkflowFigure is the caption of the workflow figure, which did not survive extraction.
	WorkflowFigure string `json:"workflowFigure,omitempty"`
	// ActivitiesStatus explains a process without activities ("under development").
	ActivitiesStatus string `json:"activitiesStatus,omitempty"`
	// ControlException explains why the common-control rule of DESMF §6.1 does not apply;
	// empty when the first activity establishes the framework and the last two monitor and
	// evaluate.
	ControlException string `json:"controlException,omitempty"`
	// Notes holds further notes of the process section.
	Notes []string `json:"notes,omitempty"`

	activities []*Activity
}

// Activities returns the process's activities in seed order.
func (p *Process) Activities() []*Activity {
	return append([]*Activity(nil), p.activities...)
}

// ControlKind tells which common control activity of DESMF §6 an activity is, and which row
// of the generic RACI template applies to it.
type ControlKind string

const (
	// ControlEstablish is the Establish Process Framework activity, always the first.
	ControlEstablish ControlKind = "establish"
	// ControlSpecific is a process-specific activity; activities store it as "".
	ControlSpecific ControlKind = "specific"
	// ControlMonitor is the Monitor, Manage and Report activity, always the next-to-last.
	ControlMonitor ControlKind = "monitor"
	// ControlEvaluate is the Evaluate Process Performance activity, always the last.
	ControlEvaluate ControlKind = "evaluate"
)

// Activity is a numbered activity of a process: [IM3], [SEC5], CSI4 or ITSCM.2.7.
type Activity struct {
	// Code is the activity code exactly as the seed writes it (without brackets).
	Code string `json:"code"`
	// Process is the code of the owning process.
	Process string `json:"process"`
	// Name is the activity name in the seed's wording.
	Name string `json:"name"`
	// Section is the seed section the activity is defined in.
	Section string `json:"section,omitempty"`
	// Phase is the Service Quality Management phase (Plan, Do, Check, Act) of a CSI activity.
	Phase string `json:"phase,omitempty"`
	// Control is the common control the activity is; "" for a process-specific activity.
	Control ControlKind `json:"control,omitempty"`
	// CodeAssigned is true when the seed gives the activity no code and Steward assigned it
	// (the CSI activities).
	CodeAssigned bool `json:"codeAssigned,omitempty"`
	// Description is the seed's description, lightly condensed; lines starting with "- "
	// are list items.
	Description string `json:"description"`
	// RACIName is the activity's name in TAXUD Table 4-1 where it differs from the
	// procedure heading.
	RACIName string `json:"raciName,omitempty"`
	// Notes holds notes attached to the activity.
	Notes []string `json:"notes,omitempty"`
}

// Kind is the activity's template row kind: its Control, or ControlSpecific.
func (a *Activity) Kind() ControlKind {
	if a.Control == "" {
		return ControlSpecific
	}
	return a.Control
}

// RoleKind groups roles by where the seed defines them.
type RoleKind string

const (
	// RoleGeneric is a key role of DESMF §7.1–§7.8.
	RoleGeneric RoleKind = "generic"
	// RoleTemplate is a column of the generic RACI template (Table 7.10(B)/(C)).
	RoleTemplate RoleKind = "raci-template"
	// RoleOther is one of the "other roles as required" of §7.9 (or Appendix G).
	RoleOther RoleKind = "other"
	// RoleFunction is a role common to all supporting functions (§10.1).
	RoleFunction RoleKind = "function"
	// RoleProcess is a role a process text names (e.g. the Change Manager).
	RoleProcess RoleKind = "process"
	// RoleTAXUD is a role of the TAXUD procedure (a Table 4-1 column or a party it names).
	RoleTAXUD RoleKind = "taxud"
)

// Role is a role of the reference model. Roles are referenced by Code in matrices.
type Role struct {
	// Code is the role's stable identifier, e.g. "process-owner".
	Code string `json:"code"`
	// Name is the role's name in the seed's wording.
	Name string `json:"name"`
	// Kind groups the role by origin.
	Kind RoleKind `json:"kind"`
	// Section is where the seed defines or names the role.
	Section string `json:"section,omitempty"`
	// TemplateTitle is the column title in Table 7.10(B), e.g. "[Process] Management Process Owner".
	TemplateTitle string `json:"templateTitle,omitempty"`
	// Description is the seed's description of the role.
	Description string `json:"description"`
	// RACIDescription is the role's description in Table 7.10(C).
	RACIDescription string `json:"raciDescription,omitempty"`
	// Responsibilities lists the responsibilities the seed enumerates.
	Responsibilities []string `json:"responsibilities,omitempty"`
	// Processes lists the processes a process-specific role belongs to.
	Processes []string `json:"processes,omitempty"`
	// Column is the role's column (1–13) in TAXUD Table 4-1; 0 otherwise.
	Column int `json:"column,omitempty"`
	// Confidence rates the inference of a Table 4-1 column's role: high, medium, low or none.
	Confidence string `json:"confidence,omitempty"`
	// Evidence lists the procedure texts the Table 4-1 column inference rests on.
	Evidence []string `json:"evidence,omitempty"`
}

// FunctionDomain is a secondary domain of a function with its associated processes.
type FunctionDomain struct {
	// Domain is the domain code.
	Domain string `json:"domain"`
	// Processes lists the associated process codes in the table's order.
	Processes []string `json:"processes"`
}

// FunctionLink is a function's stated relationship to another function.
type FunctionLink struct {
	// Function is the related function's code.
	Function string `json:"function"`
	// Description is the seed's statement of the relationship.
	Description string `json:"description"`
}

// ProcessLink is a function's stated relationship to a process.
type ProcessLink struct {
	// Process is the related process's code.
	Process string `json:"process"`
	// Description is the seed's statement of the relationship.
	Description string `json:"description"`
}

// Function is a supporting function of DESMF §10 (a team that carries out processes).
type Function struct {
	// Code is the function's identifier, e.g. "service-desk" (the seed gives no codes).
	Code string `json:"code"`
	// Name is the section heading's name.
	Name string `json:"name"`
	// AlsoKnownAs lists other names the seed uses (e.g. "IT Operations Management").
	AlsoKnownAs []string `json:"alsoKnownAs,omitempty"`
	// Section is the DESMF section, e.g. "10.2".
	Section string `json:"section"`
	// Purpose is the function's purpose.
	Purpose string `json:"purpose"`
	// Scope is the function's scope.
	Scope string `json:"scope"`
	// Benefits lists the benefits and expected outcomes.
	Benefits []string `json:"benefits"`
	// PrimaryDomain is the primary domain of Table 10.
	PrimaryDomain string `json:"primaryDomain"`
	// PrimaryProcesses lists the primary domain processes of Table 10.
	PrimaryProcesses []string `json:"primaryProcesses"`
	// Secondary lists the secondary domains and processes of Table 10.
	Secondary []FunctionDomain `json:"secondary"`
	// FunctionRelationships lists the relationships to other functions.
	FunctionRelationships []FunctionLink `json:"functionRelationships"`
	// ProcessRelationships lists the relationships to processes.
	ProcessRelationships []ProcessLink `json:"processRelationships"`
	// Notes holds further text of the section.
	Notes []string `json:"notes,omitempty"`
}

// Relationship is one item of the domain relationship table (DESMF §9.6): what the From
// domain provides to the To domain.
type Relationship struct {
	// From is the providing domain (the table's column).
	From string `json:"from"`
	// To is the receiving domain (the table's row).
	To string `json:"to"`
	// Flow is what flows, in the table's wording.
	Flow string `json:"flow"`
	// Note explains an inferred column assignment where the extraction was ambiguous.
	Note string `json:"note,omitempty"`
}

// RACIDefinition is a letter's definition from Table 7.10(A).
type RACIDefinition struct {
	// Letter is R, A, C or I.
	Letter string `json:"letter"`
	// Name is Responsible, Accountable, Consulted or Informed.
	Name string `json:"name"`
	// Definition is the table's definition.
	Definition string `json:"definition"`
}

// TemplateRow is a row of the generic RACI table.
type TemplateRow struct {
	// Kind is the activity kind the row applies to.
	Kind ControlKind `json:"kind"`
	// Template is the row's label in Table 7.10(B), e.g. "[XXX1] Establish [Process] Management".
	Template string `json:"template"`
	// Cells maps the template role codes to their letters.
	Cells map[string]Cell `json:"cells"`
}

// CommonControl is one of the three common process control activities of DESMF §6.
type CommonControl struct {
	// Kind is the control kind.
	Kind ControlKind `json:"kind"`
	// Name is the control activity's name.
	Name string `json:"name"`
	// Section is the DESMF section.
	Section string `json:"section"`
	// Position is where the control sits in every process: first, next-to-last or last.
	Position string `json:"position"`
	// Description is the section's text.
	Description string `json:"description"`
	// FrameworkContent lists what the process framework includes (§6.2 only).
	FrameworkContent []string `json:"frameworkContent,omitempty"`
	// Tasks lists the tasks performed in the activity.
	Tasks []string `json:"tasks"`
}

// RACITemplate is the generic RACI of DESMF §7.10 and the common controls of §6.
type RACITemplate struct {
	// Section is "7.10".
	Section string `json:"section"`
	// Table is the caption of Table 7.10(B).
	Table string `json:"table"`
	// Guidance is the introductory text of §7.10.
	Guidance string `json:"guidance"`
	// Definitions are the letter definitions of Table 7.10(A).
	Definitions []RACIDefinition `json:"definitions"`
	// Roles are the template's role codes in column order.
	Roles []string `json:"roles"`
	// Rows are the template rows: establish, specific, monitor, evaluate.
	Rows []TemplateRow `json:"rows"`
	// CommonControls are the three common control activities of §6.2–§6.4.
	CommonControls []CommonControl `json:"commonControls"`
	// CommonControlsRule is the text of §6.1.
	CommonControlsRule string `json:"commonControlsRule"`
}

// Row returns the template row for kind.
func (t *RACITemplate) Row(kind ControlKind) (TemplateRow, bool) {
	for _, r := range t.Rows {
		if r.Kind == kind {
			return r, true
		}
	}
	return TemplateRow{}, false
}

// Interface is a communication interface of TAXUD Table 4-2.
type Interface struct {
	// SubProcess is the TAXUD sub-process code, e.g. "ITSCM.2".
	SubProcess string `json:"subProcess"`
	// Description is the interface description.
	Description string `json:"description"`
	// Deliverables lists the deliverable identifiers involved.
	Deliverables []string `json:"deliverables"`
	// Direction is Outgoing or Incoming (seen from ITSM towards DG TAXUD A4/ISD).
	Direction string `json:"direction"`
	// Format is the channel, e.g. "CIRCA publication".
	Format string `json:"format"`
}

// Deliverable is a contractual deliverable (DLV) of the TAXUD procedure.
type Deliverable struct {
	// ID is the deliverable number, e.g. "DLV.8.2.3.1.1".
	ID string `json:"id"`
	// Name is the deliverable's name.
	Name string `json:"name"`
	// ProducedBy lists the activities that produce it.
	ProducedBy []string `json:"producedBy"`
	// Note records naming differences in the seed.
	Note string `json:"note,omitempty"`
}

// InternalDocument is an internal ITSM document the TAXUD procedure produces.
type InternalDocument struct {
	// Name is the document's name.
	Name string `json:"name"`
	// ProducedBy lists the activities that produce it.
	ProducedBy []string `json:"producedBy"`
}

// TAXUDProcedure is the TAXUD FQP Annex 19 IT Service Continuity Management procedure.
type TAXUDProcedure struct {
	// Source identifies the document and version.
	Source string `json:"source"`
	// Parent is the DESMF process the procedure details ("ITSCM").
	Parent string `json:"parent"`
	// Name is the process name.
	Name string `json:"name"`
	// Objective is the Level 1 objective.
	Objective string `json:"objective"`
	// ScopeNote is the Level 1 statement of the agreed scope reduction.
	ScopeNote string `json:"scopeNote"`
	// BusinessThreads lists the DG TAXUD business threads of §3.2.
	BusinessThreads []string `json:"businessThreads"`
	// Roles are the 13 columns of Table 4-1, in column order, with the inference of each.
	Roles []*Role `json:"roles"`
	// OtherParties are parties the procedures name that are not columns of Table 4-1.
	OtherParties []*Role `json:"otherParties"`
	// RACITable is the caption of Table 4-1.
	RACITable string `json:"raciTable"`
	// InterfacesTable is the caption of Table 4-2.
	InterfacesTable string `json:"interfacesTable"`
	// Interfaces are the rows of Table 4-2.
	Interfaces []Interface `json:"interfaces"`
	// Deliverables are the DLV deliverables of Table 4-2 and the procedures.
	Deliverables []Deliverable `json:"deliverables"`
	// InternalDocuments are the internal ITSM documents the procedures name.
	InternalDocuments []InternalDocument `json:"internalDocuments"`

	subProcesses []*Process
	raci         []RACIRow
}

// SubProcesses returns ITSCM.1–ITSCM.4 in order.
func (t *TAXUDProcedure) SubProcesses() []*Process {
	return append([]*Process(nil), t.subProcesses...)
}
