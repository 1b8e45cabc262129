// Package controls keeps the common process controls of DESMF §6 as work
// records of any process: the process framework documents of its Establish
// activity (§6.2: policies, procedures, KPI definitions and tool requirements,
// versioned and approved), the findings of its Monitor, Manage and Report
// activity (§6.3: observations with corrective actions) and the evaluations of
// its Evaluate Process Performance activity (§6.4: feedback, measurements, gap
// analysis and recommended initiatives).
//
// Each record names its process; every step on it performs that process's
// control activity (approving an Incident Management policy performs IM1,
// closing an IM finding IM7, accepting an IM evaluation IM8), so the process's
// RACI decides who may act, who approves, who is consulted and who is informed.
//
// model.go and rules.go are pure code; store.go holds the SQL; service*.go the
// use cases, one transaction each through the record kernel; api.go the JSON API.
package controls

import (
	"time"

	"steward/internal/platform/record"
)

// The record types of the controls, as the record kernel knows them.
const (
	// DocumentType is a process framework document (§6.2).
	DocumentType = "process_document"
	// FindingType is a monitor, manage and report finding (§6.3).
	FindingType = "finding"
	// EvaluationType is a process performance evaluation (§6.4).
	EvaluationType = "evaluation"
)

// DocumentKind is what a process framework document holds.
type DocumentKind string

// The document kinds of §6.2's process framework.
const (
	// Policy holds process policies and standards.
	Policy DocumentKind = "policy"
	// Procedure holds detailed procedures and best practices.
	Procedure DocumentKind = "procedure"
	// KPIDefinition defines a measurement of the process, with its unit, target and direction.
	KPIDefinition DocumentKind = "kpi_definition"
	// ToolRequirement states a technology need of the process.
	ToolRequirement DocumentKind = "tool_requirement"
)

// DocumentKinds lists every document kind.
var DocumentKinds = []DocumentKind{Policy, Procedure, KPIDefinition, ToolRequirement}

// The document states.
const (
	DocDraft      = "draft"
	DocInReview   = "in_review"
	DocApproved   = "approved"
	DocSuperseded = "superseded"
	DocRetired    = "retired"
)

// Direction says which way a measurement improves.
type Direction string

// The directions.
const (
	HigherIsBetter Direction = "higher_is_better"
	LowerIsBetter  Direction = "lower_is_better"
)

// Frequencies lists how often a KPI may be measured.
var Frequencies = []string{"daily", "weekly", "monthly", "quarterly", "yearly"}

// KPI is the measurable part of a KPI definition.
type KPI struct {
	// Unit is what the value counts, such as "%" or "minutes".
	Unit string `json:"unit" maxLength:"40"`
	// Target is the value the process aims for.
	Target float64 `json:"target"`
	// Direction says whether a higher or a lower value is better.
	Direction Direction `json:"direction" enum:"higher_is_better,lower_is_better"`
	// Frequency is how often the KPI is measured.
	Frequency string `json:"frequency" enum:"daily,weekly,monthly,quarterly,yearly"`
}

// Document is a process framework document: its work record, its kind, its
// version in its line of versions, its text and the versions around it.
type Document struct {
	record.Record
	Kind DocumentKind `json:"kind" enum:"policy,procedure,kpi_definition,tool_requirement"`
	// VersionNumber counts the versions of the document, from 1.
	VersionNumber int64 `json:"versionNumber"`
	// Body is the document's text.
	Body string `json:"body"`
	// KPI is the measurable part of a KPI definition.
	KPI *KPI `json:"kpi,omitempty"`
	// Supersedes is the number of the version this one replaces when it is approved.
	Supersedes string `json:"supersedes,omitempty"`
	// SupersededBy is the number of the approved version that replaced this one.
	SupersededBy string `json:"supersededBy,omitempty"`
	// NextVersion is the number of a newer version still in draft or review.
	NextVersion string `json:"nextVersion,omitempty"`
	// ApprovedAt is when this version was approved.
	ApprovedAt time.Time `json:"approvedAt,omitzero"`
}

// NewDocument is what a process framework document is created from.
type NewDocument struct {
	Title       string
	Description string
	Kind        DocumentKind
	Body        string
	KPI         *KPI
	// Marking defaults to the kernel's default marking.
	Marking string
}

// DocumentUpdate holds the fields of a draft document to change; nil leaves a field as it is.
type DocumentUpdate struct {
	Title       *string
	Description *string
	Marking     *string
	Body        *string
	// KPI replaces the KPI of a KPI definition.
	KPI *KPI
}

// NewVersion is what a new version of an approved document starts from:
// the current version's fields, each replaced where given.
type NewVersion struct {
	Title       *string
	Description *string
	Body        *string
	KPI         *KPI
}

// Severity is how much a finding matters.
type Severity string

// The severities.
const (
	Low      Severity = "low"
	Medium   Severity = "medium"
	High     Severity = "high"
	Critical Severity = "critical"
)

// Severities lists every severity, lowest first.
var Severities = []Severity{Low, Medium, High, Critical}

// The finding states.
const (
	FindingOpen    = "open"
	FindingPlanned = "action_planned"
	FindingClosed  = "closed"
)

// ActionStatus is where a corrective action stands.
type ActionStatus string

// The corrective action statuses.
const (
	ActionOpen       ActionStatus = "open"
	ActionInProgress ActionStatus = "in_progress"
	ActionDone       ActionStatus = "done"
	ActionCancelled  ActionStatus = "cancelled"
)

// ActionStatuses lists every corrective action status.
var ActionStatuses = []ActionStatus{ActionOpen, ActionInProgress, ActionDone, ActionCancelled}

// Finished reports whether the action needs no more work.
func (s ActionStatus) Finished() bool { return s == ActionDone || s == ActionCancelled }

// CorrectiveAction is one action that corrects what a finding observed.
type CorrectiveAction struct {
	ID          int64  `json:"id"`
	Description string `json:"description"`
	// OwnerID is the user who carries the action out.
	OwnerID   int64  `json:"ownerId"`
	OwnerName string `json:"ownerName"`
	// DueDate is the date the action is due, as YYYY-MM-DD.
	DueDate string       `json:"dueDate" format:"date"`
	Status  ActionStatus `json:"status" enum:"open,in_progress,done,cancelled"`
	// Note is the latest word on the action's progress.
	Note string `json:"note,omitempty"`
	// Overdue is true when the action is unfinished after its due date.
	Overdue     bool      `json:"overdue"`
	CompletedAt time.Time `json:"completedAt,omitzero"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// Finding is a monitor, manage and report finding with its corrective actions.
type Finding struct {
	record.Record
	Severity Severity `json:"severity" enum:"low,medium,high,critical"`
	// Observation is what monitoring found.
	Observation       string             `json:"observation"`
	CorrectiveActions []CorrectiveAction `json:"correctiveActions"`
}

// NewFinding is what a finding is created from.
type NewFinding struct {
	Title       string
	Description string
	Severity    Severity
	Observation string
	Marking     string
}

// FindingUpdate holds the fields of a finding to change; nil leaves a field as it is.
type FindingUpdate struct {
	Title       *string
	Description *string
	Marking     *string
	Severity    *Severity
	Observation *string
}

// NewAction is what a corrective action is created from.
type NewAction struct {
	Description string
	OwnerID     int64
	// DueDate is YYYY-MM-DD, today or later.
	DueDate string
}

// ActionUpdate holds the fields of a corrective action to change; nil leaves a
// field as it is. The action's owner may change Status and Note; changing the
// rest takes R or A for the process's monitor activity.
type ActionUpdate struct {
	Status      *ActionStatus
	Note        *string
	Description *string
	OwnerID     *int64
	DueDate     *string
}

// OwnerOnly reports whether the update changes only what the action's owner may.
func (u ActionUpdate) OwnerOnly() bool {
	return u.Description == nil && u.OwnerID == nil && u.DueDate == nil
}

// The evaluation states.
const (
	EvalDraft     = "draft"
	EvalSubmitted = "submitted"
	EvalAccepted  = "accepted"
)

// Feedback is one stakeholder's feedback on the process.
type Feedback struct {
	// Source names the stakeholder, such as "Service Desk" or "Mission partner".
	Source string `json:"source" maxLength:"200"`
	Text   string `json:"text" maxLength:"4000"`
}

// Measurement is one process measurement of an evaluation.
type Measurement struct {
	Name  string  `json:"name" maxLength:"200"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty" maxLength:"40"`
	// Target is the value aimed for, if any.
	Target *float64 `json:"target,omitempty"`
	// Direction says which way the measurement improves; with a target it decides Met.
	Direction Direction `json:"direction,omitempty" enum:"higher_is_better,lower_is_better"`
	// Met tells whether the value reaches the target; absent without a target and a direction.
	Met *bool `json:"met,omitempty" readOnly:"true"`
}

// Initiative is an improvement the evaluation recommends.
type Initiative struct {
	Title       string `json:"title" maxLength:"200"`
	Description string `json:"description,omitempty" maxLength:"4000"`
	// Priority is high, medium or low.
	Priority string `json:"priority,omitempty" enum:"high,medium,low"`
}

// Evaluation is an evaluation of process performance.
type Evaluation struct {
	record.Record
	// Period is the time the evaluation covers, such as "FY2025 Q2".
	Period       string        `json:"period,omitempty"`
	Feedback     []Feedback    `json:"feedback"`
	Measurements []Measurement `json:"measurements"`
	GapAnalysis  string        `json:"gapAnalysis"`
	Initiatives  []Initiative  `json:"initiatives"`
}

// NewEvaluation is what an evaluation is created from.
type NewEvaluation struct {
	Title        string
	Description  string
	Marking      string
	Period       string
	Feedback     []Feedback
	Measurements []Measurement
	GapAnalysis  string
	Initiatives  []Initiative
}

// EvaluationUpdate holds the fields of a draft evaluation to change; nil leaves
// a field as it is, and a list given replaces the list.
type EvaluationUpdate struct {
	Title        *string
	Description  *string
	Marking      *string
	Period       *string
	Feedback     *[]Feedback
	Measurements *[]Measurement
	GapAnalysis  *string
	Initiatives  *[]Initiative
}
