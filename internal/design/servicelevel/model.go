// Package servicelevel is Service Level Management (DESMF §9.2.6, process SLM):
// agreements (SLAs with customers, OLAs with internal teams, UCs with
// suppliers), their measured targets and terms, the service level achievement
// report, service reviews and service improvement plans. Agreements, reviews
// and plans are work records of the record kernel, and every workflow step
// performs an SLM activity, so the SLM RACI decides who may take it.
//
// An agreement is drafted, negotiated (SLM2 for an SLA, SLM4 for an OLA or
// UC), agreed and eventually archived (SLM5); only agreed agreements are
// measured: Targets gives the tracker (package tracker) their time-based
// targets, AvailabilityTarget the availability area its target. AchievementReport (SLM6)
// counts the tracker's clocks per agreement, target, month and priority; a
// service review (SLM7) keeps a report with the penalties and credits its
// terms identify; an improvement plan (SLM8) tracks its items to closure.
//
// model.go and rules.go are pure code; store.go holds the SQL; service*.go
// the use cases, one transaction each; api*.go the JSON API.
package servicelevel

import (
	"time"

	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/record"
)

// Process is the DESMF process whose RACI governs agreements, reviews and plans.
const Process = "SLM"

// The record types of service level management.
const (
	AgreementType = "agreement"
	ReviewType    = "service_review"
	PlanType      = "improvement_plan"
)

// The number prefixes.
const (
	AgreementPrefix = "AGR"
	ReviewPrefix    = "SREV"
	PlanPrefix      = "SIP"
)

// The SLM activities the steps perform.
const (
	ActCapture   = "SLM2" // Capture Service Level Requirements (an SLA)
	ActUnderpin  = "SLM4" // Define Requirements for OLA or UC
	ActAgree     = "SLM5" // Negotiate or Archive SLA
	ActReport    = "SLM6" // Monitor and AchievementReport Service Level Achievements
	ActReview    = "SLM7" // Conduct Service Review
	ActImprove   = "SLM8" // Formulate Service Improvement ImprovementPlan
	ActFramework = "SLM1" // Establish Service Level Management Framework
)

// The agreement states.
const (
	Draft      = "draft"
	Negotiated = "negotiated"
	Agreed     = "agreed"
	Archived   = "archived"
)

// The service review states.
const (
	Planned   = "planned"
	InReview  = "in_review"
	Completed = "completed"
)

// The improvement plan states.
const (
	PlanOpen       = "open"
	PlanInProgress = "in_progress"
	PlanClosed     = "closed"
)

// The improvement item states.
const (
	ItemOpen      = "open"
	ItemDone      = "done"
	ItemCancelled = "cancelled"
)

// Kind is what an agreement is.
type Kind string

// The kinds of agreement.
const (
	SLA Kind = "SLA" // a service level agreement with a customer
	OLA Kind = "OLA" // an operational level agreement with an internal team
	UC  Kind = "UC"  // an underpinning contract with a supplier
)

// Kinds lists the kinds of agreement.
var Kinds = []Kind{SLA, OLA, UC}

// TargetKind is what a target measures.
type TargetKind string

// The kinds of target: the four time kinds of the clock engine and availability.
const (
	Response     TargetKind = TargetKind(sla.KindResponse)
	Resolution   TargetKind = TargetKind(sla.KindResolution)
	Fulfilment   TargetKind = TargetKind(sla.KindFulfilment)
	Custom       TargetKind = TargetKind(sla.KindCustom)
	Availability TargetKind = "availability"
)

// TargetKinds lists the kinds of target.
var TargetKinds = []TargetKind{Response, Resolution, Fulfilment, Availability, Custom}

// timed reports whether targets of the kind are clocks with a duration.
func (k TargetKind) timed() bool { return k != Availability }

// The record types a default rule measures, per kind.
const (
	IncidentType = "incident"
	RequestType  = "service_request"
)

// TermKind says who pays when a term applies.
type TermKind string

// The kinds of term.
const (
	Penalty TermKind = "penalty" // the provider pays
	Credit  TermKind = "credit"  // the customer is credited service
)

// Trigger is when a term applies in a reviewed period.
type Trigger string

// The triggers.
const (
	// BreachesOver applies when the breaches exceed Threshold.
	BreachesOver Trigger = "breaches_over"
	// AchievementBelow applies when the achievement is below Threshold percent.
	AchievementBelow Trigger = "achievement_below"
)

// Target is one measured target of an agreement.
type Target struct {
	ID   int64      `json:"id" required:"false"`
	Name string     `json:"name"`
	Kind TargetKind `json:"kind" enum:"response,resolution,fulfilment,availability,custom"`
	// Priority is the record priority the target applies to (1–5), or 0 for all.
	Priority int `json:"priority" required:"false"`
	// DurationMs is the business time allowed (time kinds only).
	DurationMs int64 `json:"durationMs" required:"false"`
	// Percent is the availability to reach (availability), or the share of
	// clocks that must meet the target (time kinds; 0 when none is stated).
	Percent float64 `json:"percent" required:"false"`
	// RecordTypes, Categories and CustomerTeams narrow the records measured; empty lists match all.
	RecordTypes   []string `json:"recordTypes" required:"false"`
	Categories    []string `json:"categories" required:"false"`
	CustomerTeams []int64  `json:"customerTeams" required:"false"`
	// Rule says when the clock starts, pauses, stops and resets; nil is the kind's default rule.
	Rule *sla.Rule `json:"rule,omitempty" required:"false"`
	// Warnings are the warning thresholds in percent of the duration, ascending; empty means [75].
	Warnings    []int            `json:"warnings" required:"false"`
	Escalations []sla.Escalation `json:"escalations" required:"false"`
}

// Term is a penalty or a credit of an agreement.
type Term struct {
	ID int64 `json:"id" required:"false"`
	// TargetID is the target the term is about, or 0 for the agreement as a whole.
	TargetID    int64    `json:"targetId" required:"false"`
	Kind        TermKind `json:"kind" enum:"penalty,credit"`
	Trigger     Trigger  `json:"trigger" enum:"breaches_over,achievement_below"`
	Threshold   float64  `json:"threshold" required:"false"`
	Amount      float64  `json:"amount" required:"false"`
	Currency    string   `json:"currency" required:"false"`
	Description string   `json:"description" required:"false"`
}

// AgreementDetails are an agreement's own fields next to the record's.
type AgreementDetails struct {
	Customer string `json:"customer"`
	Supplier string `json:"supplier"`
	// CalendarID is the business calendar the agreement's clocks run on.
	CalendarID int64 `json:"calendarId"`
	// StartsOn and EndsOn are dates (2026-01-01), "" when open.
	StartsOn     string `json:"startsOn"`
	EndsOn       string `json:"endsOn"`
	ReviewMonths int    `json:"reviewMonths"`
	Notes        string `json:"notes"`
}

// Agreement is an agreement: its record, its kind and its own fields.
type Agreement struct {
	record.Record
	AgreementKind Kind `json:"kind" enum:"SLA,OLA,UC"`
	AgreementDetails
	CalendarName string `json:"calendarName"`
}

// ServiceRef is a CMDB service an agreement covers.
type ServiceRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// AgreementRef is another agreement as an agreement lists it.
type AgreementRef struct {
	ID     int64  `json:"id"`
	Number string `json:"number"`
	Title  string `json:"title"`
	Kind   Kind   `json:"kind"`
	State  string `json:"state"`
}

// AgreementDetail is an agreement with its services, underpinning agreements, targets and terms.
type AgreementDetail struct {
	Agreement
	Services []ServiceRef `json:"services"`
	// Underpins are an SLA's OLAs and UCs.
	Underpins []AgreementRef `json:"underpins"`
	// UnderpinnedSLAs are the SLAs an OLA or UC underpins.
	UnderpinnedSLAs []AgreementRef `json:"underpinnedSlas"`
	Targets         []Target       `json:"targets"`
	Terms           []Term         `json:"terms"`
}

// NewAgreement is what an agreement is drafted from.
type NewAgreement struct {
	Kind        Kind
	Title       string
	Description string
	AgreementDetails
	// Services are the CMDB services the agreement covers.
	Services []int64
	Marking  string
}

// AgreementChange holds the fields of an agreement to change; nil leaves a field as it is.
type AgreementChange struct {
	Title        *string
	Description  *string
	Customer     *string
	Supplier     *string
	CalendarID   *int64
	StartsOn     *string
	EndsOn       *string
	ReviewMonths *int
	Notes        *string
	Marking      *string
}

// AgreementFilter narrows the list of agreements.
type AgreementFilter struct {
	Kind      Kind
	State     string
	ServiceID int64
}

// AvailabilityTarget is the availability a service's agreed SLA promises.
type AvailabilityTarget struct {
	Percent         float64 `json:"percent"`
	AgreementID     int64   `json:"agreementId"`
	AgreementNumber string  `json:"agreementNumber"`
	// CalendarID is the agreement's calendar: the service hours availability is measured in.
	CalendarID int64 `json:"calendarId"`
}

// StepInput is what a caller sends with a workflow step.
type StepInput struct {
	// Version is the record version the caller read (If-Match); 0 skips the check.
	Version int64
	// Comment is kept as a work note with the step.
	Comment string
}

// StepResult is what a workflow step did.
type StepResult struct {
	Outcome record.Outcome `json:"outcome" enum:"applied,awaiting_consultation,awaiting_approval,rejected,cancelled"`
	Record  record.Record  `json:"record"`
	// Step is the waiting step, when the step waits for consultation or approval.
	Step          *record.Step          `json:"step,omitempty"`
	Consultations []record.Consultation `json:"consultations,omitempty"`
}

// ReportQuery chooses what an achievement report counts: the clocks of a
// service, of an agreement, or of both, started in [From, To).
type ReportQuery struct {
	ServiceID   int64
	AgreementID int64
	From, To    time.Time
}

// Counts are the clocks of a group by outcome.
type Counts struct {
	// Total counts the clocks that started: met, breached and running.
	Total    int64 `json:"total"`
	Met      int64 `json:"met"`
	Breached int64 `json:"breached"`
	// Running counts the clocks still running or paused within their target.
	Running int64 `json:"running"`
	// Cancelled counts clocks ended without a verdict; they are not in Total.
	Cancelled int64 `json:"cancelled"`
	// Achievement is met / (met + breached) in percent, nil when none is decided.
	Achievement *float64 `json:"achievement"`
}

// MonthCounts are the counts of one month ("2026-03").
type MonthCounts struct {
	Month string `json:"month"`
	Counts
}

// PriorityCounts are the counts of one record priority (0: none).
type PriorityCounts struct {
	Priority int `json:"priority"`
	Counts
}

// TargetReport is the achievement of one target.
type TargetReport struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Kind       TargetKind `json:"kind"`
	Priority   int        `json:"priority"`
	DurationMs int64      `json:"durationMs"`
	// Goal is the share of clocks that must meet the target, 0 when none is stated.
	Goal float64 `json:"goal"`
	// GoalMet says whether the achievement reached the goal; nil without a goal or an achievement.
	GoalMet *bool `json:"goalMet"`
	Counts
	// Trend has the counts of every month of the report, oldest first.
	Trend []MonthCounts `json:"trend"`
}

// AgreementReport is the achievement of one agreement's targets.
type AgreementReport struct {
	ID     int64  `json:"id"`
	Number string `json:"number"`
	Title  string `json:"title"`
	Kind   Kind   `json:"kind"`
	State  string `json:"state"`
	Counts
	Targets []TargetReport `json:"targets"`
}

// AchievementReport is the service level achievement report (SLM6).
type AchievementReport struct {
	ServiceID   int64     `json:"serviceId"`
	AgreementID int64     `json:"agreementId"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	// Months are the months the report spans ("2026-01"), oldest first.
	Months []string `json:"months"`
	Totals Counts   `json:"totals"`
	// ByMonth has the counts of every month, oldest first.
	ByMonth []MonthCounts `json:"byMonth"`
	// ByPriority has the counts per record priority, highest first.
	ByPriority []PriorityCounts  `json:"byPriority"`
	Agreements []AgreementReport `json:"agreements"`
}

// TermFinding is a penalty or credit a term identified in a reviewed period.
type TermFinding struct {
	TermID          int64    `json:"termId"`
	AgreementID     int64    `json:"agreementId"`
	AgreementNumber string   `json:"agreementNumber"`
	TargetID        int64    `json:"targetId"`
	TargetName      string   `json:"targetName"`
	Kind            TermKind `json:"kind"`
	Trigger         Trigger  `json:"trigger"`
	Threshold       float64  `json:"threshold"`
	// Actual is the breaches counted or the achievement reached.
	Actual      float64 `json:"actual"`
	Amount      float64 `json:"amount"`
	Currency    string  `json:"currency"`
	Description string  `json:"description"`
}

// Review is a service review (SLM7): its record, the report it reviewed and what the terms identified.
type Review struct {
	record.Record
	ServiceName string `json:"serviceName"`
	// Agreement is the number of the agreement reviewed, "" for every agreement of the service.
	Agreement         string            `json:"agreement,omitempty"`
	PeriodFrom        time.Time         `json:"periodFrom"`
	PeriodTo          time.Time         `json:"periodTo"`
	AchievementReport AchievementReport `json:"report"`
	Findings          []TermFinding     `json:"findings"`
	Minutes           string            `json:"minutes"`
}

// NewReview is what a service review is planned from.
type NewReview struct {
	Title     string
	ServiceID int64
	// Agreement is the number of the one agreement to review, or "".
	Agreement string
	From, To  time.Time
	Marking   string
}

// ReviewFilter narrows the list of reviews.
type ReviewFilter struct {
	ServiceID int64
	State     string
}

// PlanItem is an item of an improvement plan.
type PlanItem struct {
	ID        int64      `json:"id"`
	Title     string     `json:"title"`
	OwnerID   int64      `json:"ownerId"`
	OwnerName string     `json:"ownerName"`
	DueAt     *time.Time `json:"dueAt"`
	State     string     `json:"state" enum:"open,done,cancelled"`
	ClosedAt  *time.Time `json:"closedAt"`
	Note      string     `json:"note"`
	Version   int64      `json:"version"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

// ImprovementPlan is a service improvement plan (SLM8) with its items.
type ImprovementPlan struct {
	record.Record
	ServiceName string `json:"serviceName"`
	// Review is the number of the review the plan was formulated from, or "".
	Review    string     `json:"review,omitempty"`
	Objective string     `json:"objective"`
	OpenItems int64      `json:"openItems"`
	Items     []PlanItem `json:"items"`
}

// NewImprovementPlan is what an improvement plan is formulated from.
type NewImprovementPlan struct {
	Title     string
	ServiceID int64
	// Review is the number of a service review, or "".
	Review    string
	Objective string
	Marking   string
}

// NewItem is an item to add to a plan.
type NewItem struct {
	Title   string
	OwnerID int64
	DueAt   *time.Time
	Note    string
}

// PlanItemChange holds the fields of an item to change; nil leaves a field as it is.
type PlanItemChange struct {
	Title   *string
	OwnerID *int64
	// DueAt: a zero time clears it.
	DueAt *time.Time
	State *string
	Note  *string
}

// PlanFilter narrows the list of plans.
type PlanFilter struct {
	ServiceID int64
	State     string
}
