// Package problem is Problem Management (DESMF §9.4.4, process PM) with the
// known-error database: problems and known errors are work records of the
// record kernel, and every step performs a PM activity, so the PM RACI decides
// who may take it.
//
// A problem is logged by hand, from the incidents it causes (linked in the
// same transaction), or proactively from a trend of recurring incidents (PM2);
// it is categorised and prioritised (PM3: category keys of the incident
// taxonomy, impact × urgency through the ITIL 3×3 matrix, a major flag);
// investigated with root-cause analyses, a workaround and known errors (PM4);
// resolved by raising an RFC and, once the fix is in, resolving (PM5); and
// closed (PM6), a major problem only after its review.
//
// Known errors are published to agents (PM4) and offered while an incident is
// logged: FindKnownErrors scores the published ones by the incident's words,
// CI, service and category. Closing a problem retires its known errors (PM6).
//
// model.go and match.go are pure code; store.go and text.go hold the SQL;
// service*.go the use cases, one transaction each; api*.go the JSON API.
package problem

import (
	"time"

	"steward/internal/platform/record"
)

// Process is the DESMF process whose RACI governs problems and known errors.
const Process = "PM"

// The record types of problem management, as the record kernel knows them.
const (
	// ProblemType is a problem.
	ProblemType = "problem"
	// KnownErrorType is a known error of the KEDB.
	KnownErrorType = "known_error"
)

// The number prefixes.
const (
	ProblemPrefix    = "PRB"
	KnownErrorPrefix = "KE"
)

// IncidentProcess is the process of the records a problem may be raised from.
const IncidentProcess = "IM"

// The PM activities the steps perform.
const (
	ActLog         = "PM2" // Identify and Log Problem
	ActCategorise  = "PM3" // Categorize and Prioritize Problem
	ActInvestigate = "PM4" // Investigate and Diagnose Problem
	ActResolve     = "PM5" // Resolve Problem
	ActClose       = "PM6" // Close and Review Problem
)

// The problem states.
const (
	Logged         = "logged"
	Analysing      = "analysing"
	RootCauseKnown = "root_cause_known"
	AwaitingChange = "awaiting_change"
	Resolved       = "resolved"
	Closed         = "closed"
	Cancelled      = "cancelled"
)

// The known error states.
const (
	Draft     = "draft"
	Published = "published"
	Retired   = "retired"
)

// Origin says what raised a problem.
type Origin string

// The origins.
const (
	// OriginManual: logged by hand.
	OriginManual Origin = "manual"
	// OriginIncidents: raised from incidents, which are linked to it.
	OriginIncidents Origin = "incidents"
	// OriginTrend: raised proactively from a trend of recurring incidents.
	OriginTrend Origin = "trend"
)

// TrendBy is what a trend of recurring incidents groups by.
type TrendBy string

// The trend groupings of the incident trend view.
const (
	TrendByCategory TrendBy = "category"
	TrendByCI       TrendBy = "ci"
	TrendByService  TrendBy = "service"
)

// ProblemTrend is the trend of recurring incidents a problem was raised from: the
// grouping, its key (a category key, a CI or service id as text), the period
// and how many incidents it counted.
type ProblemTrend struct {
	By    TrendBy   `json:"by" enum:"category,ci,service"`
	Key   string    `json:"key"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	Count int64     `json:"count"`
}

// Method is a root-cause analysis method.
type Method string

// The root-cause analysis methods.
const (
	FiveWhys     Method = "five_whys"
	Fishbone     Method = "fishbone"
	FaultTree    Method = "fault_tree"
	KepnerTregoe Method = "kepner_tregoe"
	Timeline     Method = "timeline"
	OtherMethod  Method = "other"
)

// Methods lists the root-cause analysis methods.
var Methods = []Method{FiveWhys, Fishbone, FaultTree, KepnerTregoe, Timeline, OtherMethod}

// Details are a problem's own fields next to the record's.
type Details struct {
	// Category and Subcategory are keys of the incident taxonomy; a subcategory needs a category.
	Category    string `json:"category"`
	Subcategory string `json:"subcategory"`
	// Impact and Urgency are 1 (high) to 3 (low); they give the record's priority.
	Impact  int `json:"impact" minimum:"1" maximum:"3"`
	Urgency int `json:"urgency" minimum:"1" maximum:"3"`
	// Major problems are reviewed before they close (PM6).
	Major bool `json:"major"`
	// CIID is the CMDB configuration item at fault, or 0.
	CIID int64 `json:"ciId,omitempty"`
}

// Problem is a problem: its record, its own fields, and the names its ids point to.
type Problem struct {
	record.Record
	Details
	CIName      string `json:"ciName,omitempty"`
	ServiceName string `json:"serviceName,omitempty"`
	Origin      Origin `json:"origin" enum:"manual,incidents,trend"`
	// Trend is the trend that raised the problem, when it came from one.
	Trend *ProblemTrend `json:"trend,omitempty"`
	// Workaround is the recorded workaround (PM4); known errors of the problem inherit it.
	Workaround string `json:"workaround"`
	// RootCause is the root cause statement of the latest analysis that gives one.
	RootCause string `json:"rootCause"`
	// RFC is the change request the resolution raised (PM5): a reference or a URL
	// until change management exists.
	RFC         string     `json:"rfc,omitempty"`
	RFCRaisedAt *time.Time `json:"rfcRaisedAt,omitempty"`
	// Resolution says what fixed the problem.
	Resolution string     `json:"resolution,omitempty"`
	ResolvedAt *time.Time `json:"resolvedAt,omitempty"`
	// IncidentCount counts the incidents the problem causes (linked incidents).
	IncidentCount int64 `json:"incidentCount"`
	// Review is the problem's review (PM6), when it has one.
	Review *ProblemReview `json:"review,omitempty"`
}

// ProblemDetail is a problem with its linked incidents, analyses and known errors.
type ProblemDetail struct {
	Problem
	Incidents   []LinkedIncident `json:"incidents"`
	RCAs        []RCA            `json:"rcas"`
	KnownErrors []KnownErrorRef  `json:"knownErrors"`
}

// LinkedIncident is an incident the problem causes.
type LinkedIncident struct {
	Number   string    `json:"number"`
	Title    string    `json:"title"`
	State    string    `json:"state"`
	LinkID   int64     `json:"linkId"`
	LinkedAt time.Time `json:"linkedAt"`
}

// KnownErrorRef is a known error as its problem lists it.
type KnownErrorRef struct {
	Number string `json:"number"`
	Title  string `json:"title"`
	State  string `json:"state"`
}

// RCAEvidence is one piece of evidence of a root-cause analysis: a text, or an
// attachment of the problem.
type RCAEvidence struct {
	Text           string `json:"text,omitempty" maxLength:"4000"`
	AttachmentID   int64  `json:"attachmentId,omitempty" minimum:"0"`
	AttachmentName string `json:"attachmentName,omitempty" readOnly:"true"`
}

// RCA is a root-cause analysis of a problem (PM4).
type RCA struct {
	ID            int64         `json:"id"`
	Method        Method        `json:"method" enum:"five_whys,fishbone,fault_tree,kepner_tregoe,timeline,other"`
	Findings      string        `json:"findings"`
	Evidence      []RCAEvidence `json:"evidence"`
	RootCause     string        `json:"rootCause"`
	CreatedBy     int64         `json:"createdBy,omitempty"`
	CreatedByName string        `json:"createdByName,omitempty"`
	CreatedAt     time.Time     `json:"createdAt"`
}

// ProblemReview is the review of a resolved problem (PM6): mandatory for a major problem before it closes.
type ProblemReview struct {
	Summary        string    `json:"summary"`
	Lessons        string    `json:"lessons"`
	FollowUps      []string  `json:"followUps"`
	ReviewedBy     int64     `json:"reviewedBy,omitempty"`
	ReviewedByName string    `json:"reviewedByName,omitempty"`
	ReviewedAt     time.Time `json:"reviewedAt"`
}

// KnownError is a known error of the KEDB: its record (the title is the
// record's title, the symptoms its description), its problem and its own fields.
type KnownError struct {
	record.Record
	// Problem is the number of the problem it documents, or "".
	Problem      string `json:"problem,omitempty"`
	ProblemTitle string `json:"problemTitle,omitempty"`
	Symptoms     string `json:"symptoms"`
	RootCause    string `json:"rootCause"`
	// Workaround is the known error's own workaround, else its problem's.
	Workaround string `json:"workaround"`
	// WorkaroundFromProblem is true when the workaround is the problem's.
	WorkaroundFromProblem bool   `json:"workaroundFromProblem"`
	Category              string `json:"category"`
	Subcategory           string `json:"subcategory"`
	CIID                  int64  `json:"ciId,omitempty"`
	CIName                string `json:"ciName,omitempty"`
	ServiceName           string `json:"serviceName,omitempty"`
}

// NewProblem is what a problem is logged from (PM2).
type NewProblem struct {
	Title       string
	Description string
	Details
	// ServiceID is the affected CMDB service, or 0.
	ServiceID int64
	Marking   string
	// Incidents are the numbers of incidents the problem causes; each is linked.
	Incidents []string
	// ProblemTrend is the trend of recurring incidents that raised the problem, or nil.
	Trend *ProblemTrend
}

// ProblemChange holds the fields of a problem to change (PM3); nil leaves a
// field as it is. CIID and ServiceID 0 clear.
type ProblemChange struct {
	Title       *string
	Description *string
	Category    *string
	Subcategory *string
	Impact      *int
	Urgency     *int
	Major       *bool
	ServiceID   *int64
	CIID        *int64
	Marking     *string
}

// NewRCA is a root-cause analysis to record.
type NewRCA struct {
	Method    Method
	Findings  string
	Evidence  []RCAEvidence
	RootCause string
}

// NewReview is a problem review to record.
type NewReview struct {
	Summary   string
	Lessons   string
	FollowUps []string
}

// StepInput is what a caller sends with a problem's workflow step.
type StepInput struct {
	// Version is the record version the caller read (If-Match); 0 skips the check.
	Version int64
	// Comment is kept as a work note with the step.
	Comment string
	// RFC is the change request raise_rfc raises: a reference such as
	// "RFC-2026-0042" or an http(s) URL. Required by raise_rfc, refused by the others.
	RFC string
	// Resolution says what fixed the problem; resolve only.
	Resolution string
}

// ProblemStepResult is what a workflow step given through problem management did.
type ProblemStepResult struct {
	Outcome record.Outcome `json:"outcome" enum:"applied,awaiting_consultation,awaiting_approval,rejected,cancelled"`
	// Record is the problem or known error's record as it is now.
	Record record.Record `json:"record"`
	// Step is the waiting step, when the step waits for consultation or approval.
	Step          *record.Step          `json:"step,omitempty"`
	Consultations []record.Consultation `json:"consultations,omitempty"`
}

// NewKnownError is a known error to record (PM4). Fields left empty are taken
// from the problem: its title, the root cause of its latest analysis, its
// category, subcategory, service and CI; an empty workaround inherits the problem's.
type NewKnownError struct {
	// Problem is the number of the problem the known error documents, or "".
	Problem     string
	Title       string
	Symptoms    string
	RootCause   string
	Workaround  string
	Category    string
	Subcategory string
	ServiceID   int64
	CIID        int64
	Marking     string
}

// KnownErrorChange holds the fields of a known error to change; nil leaves a
// field as it is. Workaround "" makes it inherit the problem's again; CIID and ServiceID 0 clear.
type KnownErrorChange struct {
	Title       *string
	Symptoms    *string
	RootCause   *string
	Workaround  *string
	Category    *string
	Subcategory *string
	ServiceID   *int64
	CIID        *int64
	Marking     *string
}

// ListFilter narrows the list of problems.
type ListFilter struct {
	State       string
	ServiceID   int64
	CIID        int64
	Category    string
	Subcategory string
	Major       *bool
	// Open, when set, keeps the open (true) or the closed and cancelled (false) problems.
	Open *bool
	// Q keeps problems whose number is Q or whose title or description holds it.
	Q string
}

// KnownErrorFilter narrows the list of known errors.
type KnownErrorFilter struct {
	State       string
	Problem     string
	ServiceID   int64
	CIID        int64
	Category    string
	Subcategory string
	// Q keeps known errors whose title, symptoms and workaround hold every word (as a prefix).
	Q string
}
