// Package incident is Incident Management (DESMF §9.4.3, activities IM2–IM6):
// incidents logged from the desk, the portal, the API, e-mail and events, each
// with its caller, affected service and CI, category and subcategory from an
// admin-managed taxonomy, and a priority computed from impact and urgency
// through a configurable matrix. An incident follows one of three paths:
// normal, major (a manager, stakeholder updates, a communications log, child
// incidents resolved with it and a review before it closes) and security
// (visible only to its caller, its assignee and the security roles).
// Investigation offers known errors, resolution records a code, notes, the
// effort and first-contact resolution, the caller confirms or rejects it, and
// the incident closes then, or by itself after some days, and may be reopened
// for a while. Incidents that are really requests are reclassified as service
// requests. Every step is a work-record transition tagged with its IM activity,
// so the RACI guard decides who may take it.
//
// model.go and rules.go are pure code; store.go holds the SQL; service*.go the
// use cases, one transaction each; api*.go the JSON API.
package incident

import (
	"context"
	"encoding/json"
	"time"

	"steward/internal/platform/db"
	"steward/internal/platform/record"
)

// The record type, its number prefix and its process.
const (
	// Type is the record type of an incident.
	Type = "incident"
	// Prefix is the default number prefix: INC0000001.
	Prefix = "INC"
	// Process is Incident Management, whose RACI governs incidents.
	Process = "IM"
	// SecurityProcess is Information Security Management: every holder of one
	// of its roles may see security incidents.
	SecurityProcess = "ISM"
)

// The IM activities the steps perform.
const (
	ActEstablish   = "IM1" // settings and taxonomy
	ActLog         = "IM2" // logging on behalf of others, cancelling
	ActCategorise  = "IM3" // categorise, prioritise, assign, major, reclassify
	ActInvestigate = "IM4" // investigate, hold, resume, escalate
	ActResolve     = "IM5" // resolve, reject a resolution, reopen
	ActClose       = "IM6" // close, confirm, major review
)

// The states of an incident.
const (
	StateNew          = "new"
	StateInProgress   = "in_progress"
	StateOnHold       = "on_hold"
	StateResolved     = "resolved"
	StateClosed       = "closed"
	StateCancelled    = "cancelled"
	StateReclassified = "reclassified"
)

// The paths of DESMF §9.4.3.
const (
	PathNormal   = "normal"
	PathMajor    = "major"
	PathSecurity = "security"
)

// Channels are the ways an incident reaches the desk.
var Channels = []string{"desk", "phone", "portal", "email", "api", "event", "chat", "walk_in", "import"}

// selfServiceChannels are the channels any signed-in user may log their own incident through.
var selfServiceChannels = []string{"portal", "email"}

// HoldReasons are why an incident waits; the SLA clocks pause on them.
var HoldReasons = []string{"awaiting_caller", "awaiting_supplier", "awaiting_change"}

// Audiences are who a major incident's stakeholder update is for.
var Audiences = []string{"all", "users", "stakeholders", "management", "technical"}

// CommChannels are the channels of a major incident's communications log.
var CommChannels = []string{"phone", "email", "bridge", "chat", "meeting", "sms", "portal", "other"}

// MaxEscalation is the highest hierarchical escalation level.
const MaxEscalation = 3

// Incident is an incident as the desk reads it: the work record, the incident's
// own fields and the names its ids point to, read with one query.
type Incident struct {
	record.Record
	// CIID is the affected configuration item, or 0.
	CIID int64 `json:"ciId,omitempty"`
	// Category and Subcategory are taxonomy keys.
	Category    string `json:"category"`
	Subcategory string `json:"subcategory,omitempty"`
	// LoggedCategory and LoggedSubcategory are the categorisation as logged, for the review at closure.
	LoggedCategory    string `json:"loggedCategory"`
	LoggedSubcategory string `json:"loggedSubcategory,omitempty"`
	Channel           string `json:"channel"`
	// Impact and Urgency are 1 (high) to the size of the priority matrix.
	Impact  int `json:"impact"`
	Urgency int `json:"urgency"`
	// Path is normal, major or security.
	Path            string `json:"path" enum:"normal,major,security"`
	EscalationLevel int    `json:"escalationLevel"`
	// HoldReason says why an incident on hold waits.
	HoldReason string    `json:"holdReason,omitempty"`
	HeldAt     time.Time `json:"heldAt,omitzero"`
	// Major is the major-incident data of an incident on the major path.
	Major *MajorIncident `json:"major,omitempty"`
	// Resolution is the current resolution, once resolved.
	Resolution *IncidentResolution `json:"resolution,omitempty"`
	// Rejections counts the resolutions the caller rejected; LastRejection is the last reason.
	Rejections    int       `json:"rejections"`
	LastRejection string    `json:"lastRejection,omitempty"`
	ClosedAt      time.Time `json:"closedAt,omitzero"`
	ClosedBy      int64     `json:"closedBy,omitempty"`
	ReopenCount   int       `json:"reopenCount"`
	// CategoryReviewed is set at closure, when the categorisation was reviewed;
	// CategoryChanged says whether it differs from the one logged.
	CategoryReviewed bool `json:"categoryReviewed"`
	CategoryChanged  bool `json:"categoryChanged"`
	// ReclassifiedAs is the number of the service request the incident became.
	ReclassifiedAs string `json:"reclassifiedAs,omitempty"`
	// External is where an imported incident came from.
	External *ExternalSource `json:"external,omitempty"`

	CallerName       string `json:"callerName,omitempty" readOnly:"true"`
	AssigneeName     string `json:"assigneeName,omitempty" readOnly:"true"`
	TeamName         string `json:"teamName,omitempty" readOnly:"true"`
	ServiceName      string `json:"serviceName,omitempty" readOnly:"true"`
	CIName           string `json:"ciName,omitempty" readOnly:"true"`
	CategoryLabel    string `json:"categoryLabel,omitempty" readOnly:"true"`
	SubcategoryLabel string `json:"subcategoryLabel,omitempty" readOnly:"true"`
}

// MajorIncident is what a major incident has beyond a normal one.
type MajorIncident struct {
	ManagerID   int64     `json:"managerId,omitempty"`
	ManagerName string    `json:"managerName,omitempty"`
	DeclaredAt  time.Time `json:"declaredAt"`
	// DeclaredBy is the user who declared it, or 0 when the threshold did.
	DeclaredBy int64  `json:"declaredBy,omitempty"`
	Reason     string `json:"reason"`
	// Reviewed is true once the review after resolution is recorded.
	Reviewed bool `json:"reviewed"`
}

// IncidentResolution is how an incident was resolved (IM5).
type IncidentResolution struct {
	Code          string    `json:"code"`
	Notes         string    `json:"notes"`
	EffortMinutes int64     `json:"effortMinutes"`
	FirstContact  bool      `json:"firstContact"`
	ResolvedAt    time.Time `json:"resolvedAt"`
	ResolvedBy    int64     `json:"resolvedBy,omitempty"`
}

// ExternalSource is where an imported incident came from and what that system said.
type ExternalSource struct {
	// Ref is the number in the source system, such as ServiceNow's INC0000045.
	Ref      string `json:"ref"`
	Caller   string `json:"caller,omitempty"`
	Group    string `json:"group,omitempty"`
	Assignee string `json:"assignee,omitempty"`
	// Priority is the source system's own priority (ours is recomputed).
	Priority int `json:"priority,omitempty"`
	// MadeSLA is whether the source system met its SLA, when it said.
	MadeSLA *bool `json:"madeSla,omitempty"`
	// Data holds the other columns kept from the source.
	Data json.RawMessage `json:"data,omitempty"`
}

// NewIncident is what an incident is logged with.
type NewIncident struct {
	Title       string
	Description string
	Impact      int
	Urgency     int
	// ServiceID is the affected CMDB service; CIID the affected CI.
	ServiceID   int64
	CIID        int64
	Category    string
	Subcategory string
	// Channel defaults to portal for one's own incident, desk otherwise.
	Channel string
	// CallerID defaults to the signed-in user.
	CallerID   int64
	TeamID     int64
	AssigneeID int64
	Marking    string
}

// Change holds the fields of an incident to change; nil leaves a field as it
// is. For ServiceID and CIID 0 clears; Subcategory "" clears.
type Change struct {
	Title       *string
	Description *string
	Impact      *int
	Urgency     *int
	ServiceID   *int64
	CIID        *int64
	Category    *string
	Subcategory *string
	Channel     *string
	Marking     *string
}

// StepFields are the fields an action takes beyond its comment; each action
// reads its own (see ActionFields).
type StepFields struct {
	HoldReason         string `json:"holdReason,omitempty"`
	ResolutionCode     string `json:"resolutionCode,omitempty"`
	ResolutionNotes    string `json:"resolutionNotes,omitempty"`
	EffortMinutes      int64  `json:"effortMinutes,omitempty"`
	FirstContact       bool   `json:"firstContact,omitempty"`
	Reason             string `json:"reason,omitempty"`
	ClosureCategory    string `json:"closureCategory,omitempty"`
	ClosureSubcategory string `json:"closureSubcategory,omitempty"`
	CatalogItemID      int64  `json:"catalogItemId,omitempty"`
}

// StepInput is a workflow action on an incident, as a caller gives it.
type StepInput struct {
	// Version is the incident version read (If-Match).
	Version int64
	Comment string
	Fields  StepFields
}

// IncidentStepResult is what an action did.
type IncidentStepResult struct {
	Outcome  record.Outcome `json:"outcome" enum:"applied,awaiting_consultation,awaiting_approval,rejected,cancelled"`
	Incident Incident       `json:"incident"`
	// Step is the waiting step, when the action waits for consultation or approval.
	Step          *record.Step          `json:"step,omitempty"`
	Consultations []record.Consultation `json:"consultations,omitempty"`
}

// IncidentAction is a workflow action available on an incident, with the body fields it takes.
type IncidentAction struct {
	record.Action
	// Required and Optional name the body fields the action takes beyond comment.
	Required []string `json:"required"`
	Optional []string `json:"optional"`
}

// QueueFilter narrows the desk queue; zero fields match everything.
type QueueFilter struct {
	TeamID     int64
	AssigneeID int64
	// CallerID keeps the incidents of one caller (the portal's "my incidents").
	CallerID int64
	// Unassigned keeps the incidents nobody is assigned to.
	Unassigned bool
	State      string
	// Open, when set, keeps open (true) or closed (false) incidents.
	Open      *bool
	Path      string
	Priority  int
	ServiceID int64
	CIID      int64
	Category  string
	// Query is free text matched against the number, title and description.
	Query string
}

// IncidentCategory is an entry of the taxonomy: a category (Parent "") or a subcategory.
type IncidentCategory struct {
	ID          int64     `json:"id"`
	Key         string    `json:"key"`
	Parent      string    `json:"parent,omitempty"`
	Label       string    `json:"label"`
	Description string    `json:"description,omitempty"`
	Active      bool      `json:"active"`
	Position    int64     `json:"position"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// IncidentCategoryChange holds the fields of a taxonomy entry to change; nil leaves a field.
type IncidentCategoryChange struct {
	Label       *string
	Description *string
	Active      *bool
	Position    *int64
}

// ResolutionCodeOption is one entry of the configurable list of resolution codes.
type ResolutionCodeOption struct {
	Key   string `json:"key" maxLength:"40"`
	Label string `json:"label" maxLength:"200"`
}

// IncidentSettings configure incident management (IM1). The zero version is the defaults, never saved.
type IncidentSettings struct {
	// Matrix gives the priority: Matrix[impact-1][urgency-1], 1 highest.
	Matrix [][]int `json:"matrix" maxItems:"5"`
	// ResolutionCodes are the codes a resolution picks from.
	ResolutionCodes []ResolutionCodeOption `json:"resolutionCodes" maxItems:"100"`
	// AutoCloseDays closes a resolved incident the caller did not answer after so many days; 0 never.
	AutoCloseDays int `json:"autoCloseDays" minimum:"0" maximum:"365"`
	// ReopenDays is how long after closing the caller may reopen; 0 never.
	ReopenDays int `json:"reopenDays" minimum:"0" maximum:"365"`
	// MajorPriority declares an incident major when its priority is this or higher (lower number); 0 never.
	MajorPriority int `json:"majorPriority" minimum:"0" maximum:"5"`
	// SecurityCategories are the category keys of the security path.
	SecurityCategories []string `json:"securityCategories" maxItems:"100"`
	// SecurityRoles are process-role codes whose holders (for IM) may see security
	// incidents, beyond every holder of a role in ISM.
	SecurityRoles []string `json:"securityRoles" maxItems:"50"`
	// Version is the ETag; 0 until the settings are first saved.
	Version   int64     `json:"version" readOnly:"true"`
	UpdatedAt time.Time `json:"updatedAt,omitzero" readOnly:"true"`
}

// MajorUpdate is a stakeholder update of a major incident.
type MajorUpdate struct {
	ID         int64     `json:"id"`
	Audience   string    `json:"audience"`
	Message    string    `json:"message"`
	AuthorID   int64     `json:"authorId,omitempty"`
	AuthorName string    `json:"authorName"`
	CreatedAt  time.Time `json:"createdAt"`
}

// MajorCommunication is an entry of a major incident's communications log.
type MajorCommunication struct {
	ID         int64     `json:"id"`
	Channel    string    `json:"channel"`
	Party      string    `json:"party" doc:"With whom."`
	Summary    string    `json:"summary"`
	AuthorID   int64     `json:"authorId,omitempty"`
	AuthorName string    `json:"authorName"`
	CreatedAt  time.Time `json:"createdAt"`
}

// MajorReview is the review of a major incident after its resolution (IM6).
type MajorReview struct {
	Summary    string    `json:"summary"`
	RootCause  string    `json:"rootCause"`
	Lessons    string    `json:"lessons"`
	Actions    string    `json:"actions"`
	ReviewedBy int64     `json:"reviewedBy,omitempty"`
	ReviewedAt time.Time `json:"reviewedAt"`
}

// MajorDetail is a major incident's timeline, communications log, review and children.
type MajorDetail struct {
	MajorIncident
	Updates        []MajorUpdate        `json:"updates"`
	Communications []MajorCommunication `json:"communications"`
	Review         *MajorReview         `json:"review,omitempty"`
	// Children are the numbers of the incidents linked as its children.
	Children []string `json:"children"`
}

// AssignmentChange is one hand-over in an incident's assignment history.
type AssignmentChange struct {
	At           time.Time `json:"at"`
	By           string    `json:"by"`
	TeamID       int64     `json:"teamId,omitempty"`
	TeamName     string    `json:"teamName,omitempty"`
	AssigneeID   int64     `json:"assigneeId,omitempty"`
	AssigneeName string    `json:"assigneeName,omitempty"`
	// Reassignment is true when the hand-over counted as a reassignment.
	Reassignment bool `json:"reassignment"`
}

// IncidentTracking is an incident's reassignment count, assignment history and escalation.
type IncidentTracking struct {
	Reassignments   int64              `json:"reassignments"`
	EscalationLevel int                `json:"escalationLevel"`
	History         []AssignmentChange `json:"history"`
}

// TrendQuery asks for recurring incidents grouped by category, CI or service.
type TrendQuery struct {
	// By is category, ci or service.
	By       string
	From, To time.Time
	// Min keeps the groups with at least so many incidents (default 2).
	Min int
	// Limit caps the groups (default 50).
	Limit int
}

// IncidentTrend is one group of recurring incidents.
type IncidentTrend struct {
	Key   string    `json:"key"`
	Label string    `json:"label"`
	Count int64     `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	// Sample holds the numbers of the most recent incidents of the group (at most five).
	Sample []string `json:"sample"`
}

// ImportResult says what an import did.
type ImportResult struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	// Skipped lists the incidents left out, with why.
	Skipped []IncidentImportSkip `json:"skipped"`
	// CategoriesAdded counts the taxonomy keys the import created.
	CategoriesAdded int `json:"categoriesAdded"`
}

// IncidentImportSkip is an incident an import left out.
type IncidentImportSkip struct {
	Number string `json:"number"`
	Reason string `json:"reason"`
}

// KnownErrorFinder offers known errors and workarounds while an incident is logged or investigated (IM4).
type KnownErrorFinder interface {
	FindKnownErrors(ctx context.Context, q KnownErrorQuery) ([]KnownErrorMatch, error)
}

// KnownErrorQuery is what known errors are matched against.
type KnownErrorQuery struct {
	Text        string // the incident's title and description
	CIID        int64
	ServiceID   int64
	Category    string
	Subcategory string
	Limit       int
}

// KnownErrorMatch is a known error offered for an incident.
type KnownErrorMatch struct {
	Number     string   `json:"number"` // KE0000001
	Title      string   `json:"title"`
	Workaround string   `json:"workaround"`
	Problem    string   `json:"problem,omitempty"` // PRB number
	Score      float64  `json:"score"`
	Why        []string `json:"why"` // "same CI", "same category", "words: dns, timeout"
}

// RequestOpener creates the service request an incident is reclassified as (IM3), inside the
// incident's transaction, and returns its number.
type RequestOpener interface {
	OpenFromIncident(ctx context.Context, tx *db.Tx, in ReclassifiedIncident) (number string, err error)
}

// ReclassifiedIncident is the incident a request is opened from.
type ReclassifiedIncident struct {
	Number, Title, Description string
	RequesterID, ServiceID     int64
	CatalogItemID              int64 // optional; 0 for a request without a catalog item
}
