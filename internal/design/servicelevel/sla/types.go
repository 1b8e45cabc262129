// Package sla is the pure SLA clock engine: a record's clock-relevant history
// folded from its audit entries into a timeline, which targets apply to it, and
// each clock's elapsed and paused business time, due time, thresholds and state
// computed from that timeline on a business calendar. It does no I/O; the
// tracker (internal/design/servicelevel/tracker) feeds it and stores its results.
package sla

import "time"

// Schedule is the business-time arithmetic of a calendar (internal/platform/calendar
// implements it). Times are absolute instants; durations are business time.
type Schedule interface {
	// Working is the business time between from and to (0 when to <= from).
	Working(from, to time.Time) time.Duration
	// Add is the instant at which d of business time has passed after from.
	// Add(from, 0) is from itself, even outside working hours.
	Add(from time.Time, d time.Duration) time.Time
}

// The fields of a record's facts the engine follows (the audit change field
// names of the record kernel and the areas). Other fields are ignored.
const (
	FieldType        = "type"
	FieldState       = "state"
	FieldPriority    = "priority"
	FieldService     = "serviceId"
	FieldTeam        = "teamId"
	FieldAssignee    = "assigneeId"
	FieldRequester   = "requesterId"
	FieldCategory    = "category"
	FieldSubcategory = "subcategory"
	FieldHoldReason  = "holdReason"
	FieldPath        = "path"
)

// TrackedFields are the fields a timeline keeps.
var TrackedFields = []string{FieldType, FieldState, FieldPriority, FieldService, FieldTeam, FieldAssignee, FieldRequester,
	FieldCategory, FieldSubcategory, FieldHoldReason, FieldPath}

// Facts are a record's tracked fields at one moment, as strings: numbers in
// decimal, a null, absent or zero value (the kernel's "none" for ids and
// priority) as "", which is never stored as a key. A Facts map taken from a
// Timeline is its snapshot's own: treat it as read-only.
type Facts map[string]string

// Snapshot is the record's facts from At (unix ms) until the next snapshot.
type Snapshot struct {
	At    int64 `json:"at"`
	Facts Facts `json:"facts"`
}

// Timeline is the clock-relevant history of one record: a snapshot per audit
// entry that changed a tracked field. Seq is the last audit sequence folded
// in, so that later entries can be folded incrementally.
type Timeline struct {
	RecordID  int64      `json:"recordId"`
	Number    string     `json:"number"`
	Created   int64      `json:"created"`
	Seq       int64      `json:"seq"`
	Snapshots []Snapshot `json:"snapshots"`
}

// Change is one field change of an audit entry.
type Change struct {
	Field string
	Old   any
	New   any
}

// Entry is one audit entry of a record, in sequence order.
type Entry struct {
	Seq     int64
	At      int64
	Action  string
	Changes []Change
}

// Condition matches facts: every listed field must hold one of its values
// (an empty Condition matches nothing when used as a pause, stop or reset
// condition, and everything when used as a start condition).
type Condition struct {
	// States are the record states that match (a shorthand for Fields["state"]).
	States []string `json:"states,omitempty"`
	// Fields are further field values that must all match; the value "*"
	// matches any value that is set (not "").
	Fields map[string][]string `json:"fields,omitempty"`
	// Any are alternatives: the condition also matches when one of them does
	// (the response clock stops when the state leaves new or an assignee is set).
	Any []Condition `json:"any,omitempty"`
}

// Rule says when a clock starts, pauses, stops and resets.
type Rule struct {
	Start Condition `json:"start,omitempty"`
	Pause Condition `json:"pause,omitempty"`
	Stop  Condition `json:"stop,omitempty"`
	Reset Condition `json:"reset,omitempty"`
	// Cancel ends the clock without a verdict (a cancelled or reclassified record).
	Cancel Condition `json:"cancel,omitempty"`
}

// Selector chooses the records a target applies to. Empty lists match all.
type Selector struct {
	RecordTypes []string `json:"recordTypes,omitempty"`
	ServiceIDs  []int64  `json:"serviceIds,omitempty"`
	Priorities  []int    `json:"priorities,omitempty"`
	Categories  []string `json:"categories,omitempty"`
	// CustomerTeams: the requester must belong to one of these teams (the
	// mission partner's organisational units).
	CustomerTeams []int64 `json:"customerTeams,omitempty"`
	// LoggedFrom and LoggedBefore bound when the record was logged (unix ms,
	// 0 = open): an agreement measures the records logged while it is in force.
	LoggedFrom   int64 `json:"loggedFrom,omitempty"`
	LoggedBefore int64 `json:"loggedBefore,omitempty"`
}

// Kind is what a target measures.
type Kind string

// The kinds of target.
const (
	KindResponse   Kind = "response"
	KindResolution Kind = "resolution"
	KindFulfilment Kind = "fulfilment"
	KindCustom     Kind = "custom"
)

// Target is one measured, time-based target of an agreed agreement, resolved
// into what the engine needs.
type Target struct {
	ID            int64         `json:"id"`
	AgreementID   int64         `json:"agreementId"`
	AgreementName string        `json:"agreementName"`
	AgreementKind string        `json:"agreementKind"` // SLA, OLA or UC
	Name          string        `json:"name"`
	Kind          Kind          `json:"kind"`
	Selector      Selector      `json:"selector"`
	Duration      time.Duration `json:"duration"` // business time allowed
	CalendarID    int64         `json:"calendarId"`
	Rule          Rule          `json:"rule"`
	// Warnings are the warning thresholds in percent of Duration, ascending,
	// each below 100 (default [75]); 100 is always the breach.
	Warnings []int `json:"warnings"`
	// Escalations are what happens at each threshold (percent → actions).
	Escalations []Escalation `json:"escalations,omitempty"`
}

// Escalation is an action taken once when a clock reaches a threshold.
type Escalation struct {
	Threshold int    `json:"threshold"` // percent; 100 is the breach
	Action    string `json:"action"`    // notify, reassign, raise_priority
	TeamID    int64  `json:"teamId,omitempty"`
	// Notify: roles or "assignee", "team", "service_owner".
	Audience []string `json:"audience,omitempty"`
}

// Correction is a hand-made pause interval (an agent records that the caller
// could not be reached from From to To); corrections pause every clock.
type Correction struct {
	ID     int64  `json:"id"`
	From   int64  `json:"from"`
	To     int64  `json:"to"`
	Reason string `json:"reason"`
}

// Status is a clock's state.
type Status string

// The statuses of a clock.
const (
	StatusNotStarted Status = "not_started"
	StatusRunning    Status = "running"
	StatusPaused     Status = "paused"
	StatusMet        Status = "met"      // stopped within its target
	StatusBreached   Status = "breached" // running or stopped past its target
	StatusCancelled  Status = "cancelled"
)

// Interval is a stretch of a clock's life.
type Interval struct {
	From int64  `json:"from"`
	To   int64  `json:"to"` // 0: still open at the time of computing
	Kind string `json:"kind"`
}

// Clock is one target's clock on one record, computed at At.
type Clock struct {
	TargetID  int64         `json:"targetId"`
	Kind      Kind          `json:"kind"`
	Status    Status        `json:"status"`
	At        int64         `json:"at"` // computed as of
	StartedAt int64         `json:"startedAt"`
	StoppedAt int64         `json:"stoppedAt"`
	Target    time.Duration `json:"target"`
	Elapsed   time.Duration `json:"elapsed"` // business time counted
	Paused    time.Duration `json:"paused"`  // business time paused
	// Remaining is Target-Elapsed (negative once breached).
	Remaining time.Duration `json:"remaining"`
	// DueAt is when the clock reaches 100% if it runs on (0 while paused,
	// stopped or not started); BreachedAt when it did reach 100%.
	DueAt      int64 `json:"dueAt"`
	BreachedAt int64 `json:"breachedAt"`
	// Cycle counts resets: thresholds fire once per threshold per cycle.
	Cycle int `json:"cycle"`
	// NextThreshold is the next threshold not yet passed in this cycle (0: none)
	// and NextAt when it is reached if the clock runs on (0: not running).
	NextThreshold int   `json:"nextThreshold"`
	NextAt        int64 `json:"nextAt"`
	// Passed are the thresholds already reached in this cycle, ascending.
	Passed    []int      `json:"passed"`
	Intervals []Interval `json:"intervals"`
}
