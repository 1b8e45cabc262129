// Package request is request fulfilment (DESMF RF2–RF4) and the service
// catalog it draws on. A catalog item offers something a user may ask for: it
// belongs to a CMDB service, asks for a form of typed variables, names the
// approval levels a request passes in sequence (the requester's manager, the
// service owner, a named group) and the fulfilment tasks routed to teams, in
// stages that run in sequence while the tasks of one stage run in parallel.
// A service request and its fulfilment tasks are work records of the kernel
// (platform/record): every step performs an RF activity that the RACI guard
// decides, except the catalog approvals, which the item's own approvers give.
//
// model.go and rules.go are pure code; store.go holds the SQL; service.go,
// requests.go, approvals.go and fulfilment.go the use cases, one transaction each.
package request

import (
	"encoding/json"
	"time"

	"steward/internal/platform/record"
)

// The process and its activities.
const (
	// Process is Request Fulfilment, whose RACI governs requests and their tasks.
	Process = "RF"
	// ActEstablish (RF1, Establish Request Fulfillment Framework) defines the catalog.
	ActEstablish = "RF1"
	// ActLog (RF2, Log and Validate Service Request) logs, validates, approves or rejects a request.
	ActLog = "RF2"
	// ActFulfil (RF3, Fulfill or Route Service Request) works the fulfilment tasks.
	ActFulfil = "RF3"
	// ActClose (RF4, Obtain Acceptance and Close Service Request) closes a fulfilled request.
	ActClose = "RF4"
)

// The record types and their default number prefixes.
const (
	RequestType   = "service_request"
	RequestPrefix = "REQ"
	TaskType      = "request_task"
	TaskPrefix    = "TASK"
)

// The states of a service request.
const (
	Submitted          = "submitted"
	AwaitingApproval   = "awaiting_approval"
	InFulfilment       = "in_fulfilment"
	AwaitingAcceptance = "awaiting_acceptance"
	Closed             = "closed"
	Rejected           = "rejected"
	Cancelled          = "cancelled"
)

// The states of a request task.
const (
	TaskOpen       = "open"
	TaskInProgress = "in_progress"
	TaskDone       = "done"
	TaskCancelled  = "cancelled"
)

// The actions of a service request.
const (
	ActionValidate        = "validate"
	ActionReject          = "reject"
	ActionStartFulfilment = "start_fulfilment"
	ActionFulfil          = "fulfil"
	ActionAccept          = "accept"
	ActionNotDone         = "not_done"
	ActionClose           = "close"
	ActionCancel          = "cancel"
)

// VariableType is the type of a catalog item's variable.
type VariableType string

// The variable types.
const (
	// Text is free text, up to MaxTextValue characters.
	Text VariableType = "text"
	// Choice is one of the variable's choices.
	Choice VariableType = "choice"
	// Date is a calendar date, YYYY-MM-DD.
	Date VariableType = "date"
	// UserRef is the id of an active user account.
	UserRef VariableType = "user"
	// CIRef is the id of a configuration item of the CMDB that is not disposed of.
	CIRef VariableType = "ci"
	// Number is a number, within the variable's min and max when it names them.
	Number VariableType = "number"
)

// VariableTypes lists the variable types.
var VariableTypes = []VariableType{Text, Choice, Date, UserRef, CIRef, Number}

// FormVariable is one field of a catalog item's form.
type FormVariable struct {
	// Name is the key the value is submitted under, such as "cost_centre".
	Name     string       `json:"name" maxLength:"40" doc:"The key, 1 to 40 lower-case letters, digits or '_', starting with a letter."`
	Label    string       `json:"label,omitempty" maxLength:"200" doc:"What the form shows; the name when empty."`
	Type     VariableType `json:"type" enum:"text,choice,date,user,ci,number"`
	Required bool         `json:"required,omitempty"`
	// Choices are the values a choice variable accepts.
	Choices []string `json:"choices,omitempty" maxItems:"100"`
	// Min and Max bound a number variable.
	Min  *float64 `json:"min,omitempty"`
	Max  *float64 `json:"max,omitempty"`
	Help string   `json:"help,omitempty" maxLength:"2000"`
}

// ApprovalKind says who approves a level of a catalog item.
type ApprovalKind string

// The approval kinds.
const (
	// NoApproval is an item that needs no approval: its only level, or none at all.
	NoApproval ApprovalKind = "none"
	// ManagerApproval is the requester's manager (auth.User.ManagerID).
	ManagerApproval ApprovalKind = "manager"
	// ServiceOwnerApproval is the holders of the service-owner role of the item's service.
	ServiceOwnerApproval ApprovalKind = "service_owner"
	// GroupApproval is any member of a named team.
	GroupApproval ApprovalKind = "group"
)

// ApprovalKinds lists the approval kinds.
var ApprovalKinds = []ApprovalKind{NoApproval, ManagerApproval, ServiceOwnerApproval, GroupApproval}

// CatalogApproval is one level of a catalog item's approvals; levels decide in sequence.
type CatalogApproval struct {
	Kind ApprovalKind `json:"kind" enum:"none,manager,service_owner,group"`
	// TeamID is the approving team of a group level.
	TeamID int64 `json:"teamId,omitempty" minimum:"0"`
}

// CatalogTask is a fulfilment task of a catalog item: a request task is opened
// from it, for its team, when its stage starts.
type CatalogTask struct {
	Name        string `json:"name" maxLength:"200"`
	Description string `json:"description,omitempty" maxLength:"4000" doc:"Instructions for the team."`
	TeamID      int64  `json:"teamId" minimum:"1"`
	// Stage orders the tasks: the tasks of one stage run in parallel, stages in ascending order.
	Stage int `json:"stage" minimum:"1" maximum:"100"`
}

// Form is what a catalog item asks and sets in motion: its variables, its
// approval levels and its fulfilment tasks. A request keeps the form it was
// submitted with.
type Form struct {
	Variables []FormVariable    `json:"variables"`
	Approvals []CatalogApproval `json:"approvals"`
	Tasks     []CatalogTask     `json:"tasks"`
}

// CatalogItem is something users may request.
type CatalogItem struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Category is a short key, such as "hardware".
	Category string `json:"category,omitempty"`
	// ServiceID is the CMDB service the item belongs to.
	ServiceID   int64  `json:"serviceId"`
	ServiceName string `json:"serviceName,omitempty"`
	// Active items are offered; inactive ones are kept for the requests raised from them.
	Active bool `json:"active"`
	Form
	// TargetHours is the fulfilment target, from submission to fulfilment, in hours (0 for none).
	TargetHours int64     `json:"targetHours"`
	CreatedBy   int64     `json:"createdBy,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedBy   int64     `json:"updatedBy,omitempty"`
	UpdatedAt   time.Time `json:"updatedAt"`
	// Version is the ETag; every change raises it.
	Version int64 `json:"version"`
}

// ItemChange holds the fields of a catalog item to change; nil leaves a field
// as it is, and a list given replaces the whole list.
type ItemChange struct {
	Name        *string
	Description *string
	Category    *string
	ServiceID   *int64
	Active      *bool
	Variables   *[]FormVariable
	Approvals   *[]CatalogApproval
	Tasks       *[]CatalogTask
	TargetHours *int64
}

func (c ItemChange) apply(it CatalogItem) CatalogItem {
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = *src
		}
	}
	set(&it.Name, c.Name)
	set(&it.Description, c.Description)
	set(&it.Category, c.Category)
	if c.ServiceID != nil {
		it.ServiceID = *c.ServiceID
	}
	if c.Active != nil {
		it.Active = *c.Active
	}
	if c.Variables != nil {
		it.Variables = *c.Variables
	}
	if c.Approvals != nil {
		it.Approvals = *c.Approvals
	}
	if c.Tasks != nil {
		it.Tasks = *c.Tasks
	}
	if c.TargetHours != nil {
		it.TargetHours = *c.TargetHours
	}
	return it
}

// NewRequest is a service request as it is submitted.
type NewRequest struct {
	CatalogItemID int64
	// Variables are the form's values by variable name, as JSON decodes them.
	Variables map[string]any
	// Title defaults to the item's name.
	Title       string
	Description string
	// RequesterID defaults to the caller; another user takes RF2 R or A.
	RequesterID int64
	// Channel is how the request came in: portal (the default), api, desk, phone, email, chat or walk_in.
	Channel string
}

// Channels lists the contact channels a request may come through.
var Channels = []string{"portal", "api", "desk", "phone", "email", "chat", "walk_in"}

// FromIncident is an incident reclassified as a service request (IM3).
type FromIncident struct {
	Number, Title, Description string
	RequesterID, ServiceID     int64
	// CatalogItemID is optional; 0 opens a request without a catalog item.
	CatalogItemID int64
}

// VariableValue is one submitted value of a request's form, with what it names.
type VariableValue struct {
	Name  string       `json:"name"`
	Label string       `json:"label"`
	Type  VariableType `json:"type"`
	// Value is as submitted: text, a number, or an id.
	Value any `json:"value"`
	// Display is what people read: the user's or the CI's name for an id.
	Display string `json:"display"`
}

// ApprovalState is the state of one approver's row.
type ApprovalState string

// The approval states.
const (
	// ApprovalWaiting rows belong to a later level.
	ApprovalWaiting ApprovalState = "waiting"
	// ApprovalPending rows belong to the level deciding now.
	ApprovalPending   ApprovalState = "pending"
	ApprovalApproved  ApprovalState = "approved"
	ApprovalRejected  ApprovalState = "rejected"
	ApprovalSkipped   ApprovalState = "skipped"
	ApprovalCancelled ApprovalState = "cancelled"
)

// RequestApproval is one approver of one level of a request: a user, or a team any member of which decides.
type RequestApproval struct {
	ID            int64         `json:"id"`
	Level         int           `json:"level"`
	Kind          ApprovalKind  `json:"kind" enum:"manager,service_owner,group"`
	ApproverID    int64         `json:"approverId,omitempty"`
	ApproverName  string        `json:"approverName,omitempty"`
	TeamID        int64         `json:"teamId,omitempty"`
	TeamName      string        `json:"teamName,omitempty"`
	State         ApprovalState `json:"state" enum:"waiting,pending,approved,rejected,skipped,cancelled"`
	DecidedBy     int64         `json:"decidedBy,omitempty"`
	DecidedByName string        `json:"decidedByName,omitempty"`
	DecidedAt     time.Time     `json:"decidedAt,omitzero"`
	Reason        string        `json:"reason,omitempty"`
}

// RequestApprovalLevel is one approval level of a request with its approvers.
type RequestApprovalLevel struct {
	Level int          `json:"level"`
	Kind  ApprovalKind `json:"kind" enum:"manager,service_owner,group"`
	// State is the level's: waiting, pending, approved, rejected or cancelled.
	State     ApprovalState     `json:"state" enum:"waiting,pending,approved,rejected,skipped,cancelled"`
	Approvals []RequestApproval `json:"approvals"`
}

// StageState is how far a fulfilment stage is.
type StageState string

// The stage states.
const (
	StageNotStarted StageState = "not_started"
	StageInProgress StageState = "in_progress"
	StageDone       StageState = "done"
)

// FulfilmentTask is a fulfilment task of a request: the item's definition, and the
// request task opened from it once its stage started.
type FulfilmentTask struct {
	Name     string `json:"name"`
	TeamID   int64  `json:"teamId"`
	TeamName string `json:"teamName,omitempty"`
	// Number, State, AssigneeID and AssigneeName are the task record's, once opened.
	Number       string `json:"number,omitempty"`
	State        string `json:"state,omitempty"`
	AssigneeID   int64  `json:"assigneeId,omitempty"`
	AssigneeName string `json:"assigneeName,omitempty"`
}

// FulfilmentStage is one fulfilment stage of a request.
type FulfilmentStage struct {
	Stage int              `json:"stage"`
	State StageState       `json:"state" enum:"not_started,in_progress,done"`
	Tasks []FulfilmentTask `json:"tasks"`
}

// RequestSummary is a request as lists show it.
type RequestSummary struct {
	record.Record
	CatalogItemID   int64  `json:"catalogItemId,omitempty"`
	CatalogItemName string `json:"catalogItemName,omitempty"`
	RequesterName   string `json:"requesterName,omitempty"`
	ServiceName     string `json:"serviceName,omitempty"`
	TeamName        string `json:"teamName,omitempty"`
	Channel         string `json:"channel"`
	// ApprovalLevel is the level deciding now, or 0.
	ApprovalLevel int `json:"approvalLevel,omitempty"`
	// Stage is the fulfilment stage under way, or 0 before fulfilment.
	Stage int `json:"stage,omitempty"`
}

// Request is a service request with its form values, approvals and tasks.
type Request struct {
	RequestSummary
	SourceIncident  string                 `json:"sourceIncident,omitempty"`
	TargetHours     int64                  `json:"targetHours,omitempty"`
	RejectionReason string                 `json:"rejectionReason,omitempty"`
	FulfilledAt     time.Time              `json:"fulfilledAt,omitzero"`
	Variables       []VariableValue        `json:"variables"`
	Approvals       []RequestApprovalLevel `json:"approvals"`
	Stages          []FulfilmentStage      `json:"stages"`
}

// RequestTask is a request task with the request it fulfils.
type RequestTask struct {
	record.Record
	Request      string `json:"request"`
	RequestTitle string `json:"requestTitle"`
	Stage        int    `json:"stage"`
	TeamName     string `json:"teamName,omitempty"`
	AssigneeName string `json:"assigneeName,omitempty"`
}

// RequestStepResult is what a workflow step given through request fulfilment did.
type RequestStepResult struct {
	Outcome record.Outcome `json:"outcome" enum:"applied,awaiting_consultation,awaiting_approval,rejected,cancelled"`
	// Request is the request as it is now (for a task's step, the task's request).
	Request Request `json:"request"`
	// Task is the task, for a task's step.
	Task *RequestTask `json:"task,omitempty"`
	// Step is the waiting step, when the step waits for consultation or approval.
	Step          *record.Step          `json:"step,omitempty"`
	Consultations []record.Consultation `json:"consultations,omitempty"`
}

// definition is the stored form of a request: the item's, as submitted.
type definition struct {
	ItemName string `json:"itemName,omitempty"`
	Form
}

func (d definition) marshal() string {
	b, _ := json.Marshal(d)
	return string(b)
}
