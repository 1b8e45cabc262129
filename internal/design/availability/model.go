// Package availability is Availability Management (DESMF §9.2.2, process
// AvM): the outages of services, the availability they leave over the agreed
// service hours, and the availability plans with their risks and actions.
//
// Outages are recorded by hand (AvM3: collect and analyse monitoring data),
// mirrored from major incidents by SyncMajorIncidents (the "availability.sync"
// job), or, once event management exists, raised from events (source "event"
// is reserved for it; nothing writes it yet). A planned outage is taken out of
// the agreed service time; an unplanned one is downtime. Compute measures a
// service over a period on the service hours of the calendar of the agreed SLA
// that holds its availability target (24×7 without one): availability %,
// downtime, MTBF, MTRS and MTBSI, and Monthly gives the series per month (AvM2).
//
// An availability plan (AVP, AvM6) is a work record: draft ─submit→ active
// ─close→ closed. It lists the risks to the service's availability (AvM4,
// likelihood × impact) and the actions that treat them (AvM5), and closes
// only when every risk is treated or accepted and every action done or cancelled.
//
// compute.go and rules.go are pure code; store.go holds the SQL; service.go
// and plans.go the use cases, one transaction each; api.go the JSON API.
package availability

import (
	"context"
	"time"

	"steward/internal/platform/calendar"
	"steward/internal/platform/record"
)

// Process is the DESMF process whose RACI governs availability management.
const Process = "AvM"

// The AvM activities the use cases perform.
const (
	ActRecord = "AvM3" // Collect and Analyze Monitoring Data: recording outages
	ActRisks  = "AvM4" // Assess Availability Risks
	ActAction = "AvM5" // AvailabilityPlan Availability for New and Changed Services: the plan's actions
	ActPlan   = "AvM6" // Create and Manage Availability AvailabilityPlan
)

// PlanType is the availability plan's record type, as the kernel knows it.
const PlanType = "availability_plan"

// PlanPrefix is the availability plan's number prefix.
const PlanPrefix = "AVP"

// The availability plan's states.
const (
	Draft  = "draft"
	Active = "active"
	Closed = "closed"
)

// Kind says whether an outage was planned.
type Kind string

// The outage kinds.
const (
	// Planned outages are taken out of the agreed service time.
	Planned Kind = "planned"
	// Unplanned outages are downtime.
	Unplanned Kind = "unplanned"
)

// Source says where an outage came from.
type Source string

// The outage sources.
const (
	// SourceManual is recorded by hand.
	SourceManual Source = "manual"
	// SourceIncident is mirrored from a major incident; SourceRef is its number.
	SourceIncident Source = "incident"
	// SourceEvent is reserved for event management, which does not exist yet.
	SourceEvent Source = "event"
)

// Outage is a stretch of time a service (or one of its CIs) was down.
type Outage struct {
	ID          int64  `json:"id"`
	ServiceID   int64  `json:"serviceId"`
	ServiceName string `json:"serviceName,omitempty"`
	// CIID is the configuration item that failed, or 0 for the service as a whole.
	CIID   int64  `json:"ciId,omitempty"`
	Kind   Kind   `json:"kind" enum:"planned,unplanned"`
	Source Source `json:"source" enum:"manual,incident,event"`
	// SourceRef is the number of the major incident an outage mirrors.
	SourceRef string    `json:"sourceRef,omitempty"`
	StartedAt time.Time `json:"startedAt"`
	// EndedAt is when service was restored; absent while the outage goes on.
	EndedAt     *time.Time `json:"endedAt,omitempty"`
	Description string     `json:"description"`
	CreatedBy   int64      `json:"createdBy,omitempty"`
	CreatedAt   time.Time  `json:"createdAt"`
	UpdatedAt   time.Time  `json:"updatedAt"`
	Version     int64      `json:"version"`
}

// OutageInput is an outage as a caller records or changes it.
type OutageInput struct {
	ServiceID   int64
	CIID        int64
	Kind        Kind
	StartedAt   time.Time
	EndedAt     *time.Time
	Description string
}

// OutageFilter narrows a list of outages; zero fields do not filter.
type OutageFilter struct {
	ServiceID int64
	Kind      Kind
	Source    Source
	// From and To keep the outages overlapping [From, To).
	From, To time.Time
}

// AgreedAvailability is a service's agreed availability: the percentage and the agreement
// and calendar (service hours) it comes from.
type AgreedAvailability struct {
	Percent    float64 `json:"percent"`
	Agreement  string  `json:"agreement"`
	CalendarID int64   `json:"calendarId"`
}

// Targets gives a service's availability target, from the agreed SLA that
// holds one; false when there is none. Service level management provides it.
type Targets interface {
	AvailabilityTarget(ctx context.Context, serviceID int64) (AgreedAvailability, bool, error)
}

// Calendars gives the compiled service hours of a calendar; *calendar.Service provides it.
type Calendars interface {
	Schedule(ctx context.Context, calendarID int64) (*calendar.Schedule, error)
}

// MajorSpan is a major incident of a service, from when it was logged to
// when it was resolved (End 0 while unresolved), in unix milliseconds.
type MajorSpan struct {
	Number    string
	ServiceID int64
	CIID      int64
	Start     int64
	End       int64
}

// MajorIncidents lists the major incidents with a service whose span overlaps
// [from, to] (unix milliseconds). Incident management provides it.
type MajorIncidents interface {
	MajorSpans(ctx context.Context, from, to int64) ([]MajorSpan, error)
}

// AvailabilityReport is a service's availability over a period (AvM2).
type AvailabilityReport struct {
	ServiceID   int64     `json:"serviceId"`
	ServiceName string    `json:"serviceName"`
	From        time.Time `json:"from"`
	// To is the end of the period measured: the one asked for, or now when that is earlier.
	To time.Time `json:"to"`
	// CalendarID is the calendar whose service hours were measured; 0 for 24×7.
	CalendarID int64 `json:"calendarId"`
	AvailabilityFigures
	// AgreedAvailability is the agreed availability, when an agreed SLA holds one.
	Target *AgreedAvailability `json:"target,omitempty"`
	// Met says whether Percent reaches the target; absent without one.
	Met     *bool               `json:"met,omitempty"`
	Monthly []AvailabilityMonth `json:"monthly"`
	Outages []Outage            `json:"outages"`
}

// RiskState is where an availability risk stands.
type RiskState string

// The risk states.
const (
	RiskOpen     RiskState = "open"
	RiskTreated  RiskState = "treated"
	RiskAccepted RiskState = "accepted"
)

// ActionState is where a plan's action stands.
type ActionState string

// The action states.
const (
	ActionOpen      ActionState = "open"
	ActionDone      ActionState = "done"
	ActionCancelled ActionState = "cancelled"
)

// AvailabilityPlan is an availability plan: its record and its own fields.
type AvailabilityPlan struct {
	record.Record
	ServiceName string    `json:"serviceName,omitempty"`
	PeriodFrom  time.Time `json:"periodFrom"`
	PeriodTo    time.Time `json:"periodTo"`
	Objective   string    `json:"objective"`
	// OpenRisks and OpenActions count what still keeps the plan from closing.
	OpenRisks   int64 `json:"openRisks"`
	OpenActions int64 `json:"openActions"`
}

// AvailabilityPlanDetail is a plan with its risks and actions.
type AvailabilityPlanDetail struct {
	AvailabilityPlan
	Risks   []AvailabilityRisk   `json:"risks"`
	Actions []AvailabilityAction `json:"actions"`
}

// NewPlan is a plan as it is created.
type NewPlan struct {
	Title       string
	Description string
	ServiceID   int64
	PeriodFrom  time.Time
	PeriodTo    time.Time
	Objective   string
	Marking     string
}

// PlanChange are the fields of a plan to change; nil ones stay.
type PlanChange struct {
	Title       *string
	Description *string
	PeriodFrom  *time.Time
	PeriodTo    *time.Time
	Objective   *string
}

// AvailabilityRisk is a risk to the availability of the plan's service (AvM4).
type AvailabilityRisk struct {
	ID          int64     `json:"id"`
	Description string    `json:"description"`
	Likelihood  int       `json:"likelihood" minimum:"1" maximum:"5"`
	Impact      int       `json:"impact" minimum:"1" maximum:"5"`
	Score       int       `json:"score" doc:"likelihood × impact"`
	Treatment   string    `json:"treatment"`
	OwnerID     int64     `json:"ownerId,omitempty"`
	State       RiskState `json:"state" enum:"open,treated,accepted"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Version     int64     `json:"version"`
}

// RiskInput is a risk as a caller records or changes it.
type RiskInput struct {
	Description string
	Likelihood  int
	Impact      int
	Treatment   string
	OwnerID     int64
	State       RiskState
}

// AvailabilityAction is an action of the plan, tracked to closure (AvM5, AvM6).
type AvailabilityAction struct {
	ID int64 `json:"id"`
	// RiskID is the risk the action treats, or 0.
	RiskID  int64       `json:"riskId,omitempty"`
	Title   string      `json:"title"`
	OwnerID int64       `json:"ownerId,omitempty"`
	DueAt   *time.Time  `json:"dueAt,omitempty"`
	State   ActionState `json:"state" enum:"open,done,cancelled"`
	// ClosedAt is when the action was done or cancelled.
	ClosedAt  *time.Time `json:"closedAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
	Version   int64      `json:"version"`
}

// ActionInput is an action as a caller records or changes it.
type ActionInput struct {
	RiskID  int64
	Title   string
	OwnerID int64
	DueAt   *time.Time
	State   ActionState
}

// PlanFilter narrows a list of plans; zero fields do not filter.
type PlanFilter struct {
	ServiceID int64
	State     string
}

// PlanStepResult is what a plan's workflow step did.
type PlanStepResult struct {
	Outcome record.Outcome `json:"outcome" enum:"applied,awaiting_consultation,awaiting_approval,rejected,cancelled"`
	Record  record.Record  `json:"record"`
	Step    *record.Step   `json:"step,omitempty"`
}
