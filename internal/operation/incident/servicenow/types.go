package servicenow

import "time"

// Incident is one incident of a ServiceNow export: the last state-change row of its number,
// mapped to Steward's vocabulary. Empty ("?") fields are zero.
type Incident struct {
	Number      string // INC0000045, as in the file
	State       string // Steward state: new, in_progress, on_hold, resolved, closed, cancelled
	SourceState string // as in the file: New, Active, Awaiting User Info, Resolved, Closed, ...
	Active      bool
	Impact      int // 1 high .. 3 low; 0 when absent
	Urgency     int // 1 .. 3
	Priority    int // 1 .. 5 as ServiceNow computed it ("1 - Critical" .. "4 - Low")

	Category, Subcategory, Symptom  string // taxonomy keys: "category-55", "subcategory-170", "symptom-72"
	CategoryLabel, SubcategoryLabel string // "Category 55", "Subcategory 170"
	SymptomLabel                    string // "Symptom 72"

	Channel       string // contact_type mapped to a Steward channel (phone, email, portal, ...)
	SourceChannel string // contact_type as in the file: Phone, Email, Self service, ...

	Caller, OpenedBy, AssignmentGroup, AssignedTo, ResolvedBy, Location, CI string // names as in the file
	CreatedBy, UpdatedBy                                                    string // sys_created_by, sys_updated_by as in the file

	ReassignmentCount, ReopenCount, ModCount int
	MadeSLA                                  *bool // nil when absent

	ClosedCode                       string
	ProblemID, RFC, Vendor, CausedBy string

	OpenedAt, CreatedAt, UpdatedAt, ResolvedAt, ClosedAt time.Time // UTC; zero when absent

	Rows int // how many rows of the file this incident folded
	Line int // the file line of the row taken
}

// Skip is a row or an incident left out, and why.
type Skip struct {
	Line   int    `json:"line"`
	Number string `json:"number,omitempty"`
	Reason string `json:"reason"`
}

// Report says what Parse read.
type Report struct {
	// Rows counts the data rows read (the header excluded), skipped ones included.
	Rows int `json:"rows"`
	// Incidents counts the incidents returned.
	Incidents int `json:"incidents"`
	// Skipped lists the rows and incidents left out, in file order for rows, then incidents;
	// it keeps at most MaxSkips entries (the counts below stay exact).
	Skipped []Skip `json:"skipped"`
	// SkippedRows counts the malformed rows left out.
	SkippedRows int `json:"skippedRows"`
	// SkippedIncidents counts the incidents left out because their last row could not be mapped.
	SkippedIncidents int `json:"skippedIncidents"`
	// DateOrder is the order of day and month the numeric dates were read in: "dmy" or "mdy".
	DateOrder DateOrder `json:"dateOrder"`
}

// DateOrder says how a numeric date such as 03-04-2016 is read: day first or month first.
type DateOrder string

// The date orders. Auto (the zero value) decides from the file: the first date whose
// day or month is above 12 sets the order; without one, dates are read day first.
const (
	DateOrderAuto DateOrder = ""
	DayFirst      DateOrder = "dmy"
	MonthFirst    DateOrder = "mdy"
)

// Options tunes the parser; the zero value reads the shared sample's format and guesses others.
type Options struct {
	// Location is the time zone of the file's dates (default UTC). Dates that name their
	// own offset (2016-02-29T01:16:00Z) keep it.
	Location *time.Location
	// DateOrder forces day-first or month-first numeric dates; the default decides from the file.
	DateOrder DateOrder
	// Comma is the field separator; zero means the one the header uses: ',' or else ';' or tab.
	Comma rune
	// MaxRows caps the data rows; zero means MaxRows (5 million). Larger values are lowered to it.
	MaxRows int
}

// Limits of what Parse accepts.
const (
	// MaxFieldBytes is the longest value a field may hold; a longer one skips its row
	// (or, in the header, refuses the file).
	MaxFieldBytes = 4 << 10
	// MaxRows is the most data rows a file may hold.
	MaxRows = 5_000_000
	// MaxRecordBytes is the longest a single CSV record may be; a longer one (an unclosed
	// quote, say) refuses the file, since where the next row starts is then unknown.
	MaxRecordBytes = 1 << 20
	// MaxSkips is how many skips the report lists; the counts stay exact beyond it.
	MaxSkips = 1000
	// MaxNumberBytes is the longest incident number accepted.
	MaxNumberBytes = 64
)
