package servicenow

import (
	"fmt"
	"strings"

	"steward/internal/platform/errs"
)

// column is one field of the export that the importer reads.
type column int

// The columns read, by their ServiceNow names.
const (
	colNumber column = iota
	colState
	colActive
	colReassignmentCount
	colReopenCount
	colModCount
	colMadeSLA
	colCaller
	colOpenedBy
	colOpenedAt
	colCreatedBy
	colCreatedAt
	colUpdatedBy
	colUpdatedAt
	colContactType
	colLocation
	colCategory
	colSubcategory
	colSymptom
	colCI
	colImpact
	colUrgency
	colPriority
	colAssignmentGroup
	colAssignedTo
	colProblemID
	colRFC
	colVendor
	colCausedBy
	colClosedCode
	colResolvedBy
	colResolvedAt
	colClosedAt
	numColumns
)

// columnNames are the canonical header names, as the shared sample writes them.
var columnNames = [numColumns]string{
	colNumber:            "number",
	colState:             "incident_state",
	colActive:            "active",
	colReassignmentCount: "reassignment_count",
	colReopenCount:       "reopen_count",
	colModCount:          "sys_mod_count",
	colMadeSLA:           "made_sla",
	colCaller:            "caller_id",
	colOpenedBy:          "opened_by",
	colOpenedAt:          "opened_at",
	colCreatedBy:         "sys_created_by",
	colCreatedAt:         "sys_created_at",
	colUpdatedBy:         "sys_updated_by",
	colUpdatedAt:         "sys_updated_at",
	colContactType:       "contact_type",
	colLocation:          "location",
	colCategory:          "category",
	colSubcategory:       "subcategory",
	colSymptom:           "u_symptom",
	colCI:                "cmdb_ci",
	colImpact:            "impact",
	colUrgency:           "urgency",
	colPriority:          "priority",
	colAssignmentGroup:   "assignment_group",
	colAssignedTo:        "assigned_to",
	colProblemID:         "problem_id",
	colRFC:               "rfc",
	colVendor:            "vendor",
	colCausedBy:          "caused_by",
	colClosedCode:        "closed_code",
	colResolvedBy:        "resolved_by",
	colResolvedAt:        "resolved_at",
	colClosedAt:          "closed_at",
}

// columnAliases are other names ServiceNow gives the same columns in exports of its
// incident table (rather than of the event log).
var columnAliases = map[string]column{
	"state":              colState,
	"caller":             colCaller,
	"sys_created_on":     colCreatedAt,
	"sys_updated_on":     colUpdatedAt,
	"symptom":            colSymptom,
	"configuration_item": colCI,
	"close_code":         colClosedCode,
}

// dateColumns are the columns holding dates.
var dateColumns = []column{colOpenedAt, colCreatedAt, colUpdatedAt, colResolvedAt, colClosedAt}

// layout says where each column read sits in the file's records.
type layout struct {
	at    [numColumns]int // index in a record, or -1 when the file lacks the column
	width int             // the header's number of columns
	names []string        // the header's names, trimmed, for messages
}

// has reports whether the file has column c.
func (l *layout) has(c column) bool { return l.at[c] >= 0 }

// normalizeHeader makes a header cell comparable: trimmed, lower case, spaces and
// hyphens as underscores ("Incident State" is incident_state).
func normalizeHeader(h string) string {
	h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
	return strings.NewReplacer(" ", "_", "-", "_").Replace(h)
}

// newLayout finds the columns by header name (any order, any letter case, extra columns
// ignored). A missing required column, a repeated column, or an over-long name is an error.
func newLayout(header []string) (*layout, error) {
	l := &layout{width: len(header), names: make([]string, len(header))}
	for i := range l.at {
		l.at[i] = -1
	}
	byName := make(map[string]column, int(numColumns)+len(columnAliases))
	for c, name := range columnNames {
		byName[name] = column(c)
	}
	for name, c := range columnAliases {
		byName[name] = c
	}
	for i, h := range header {
		if len(h) > MaxFieldBytes {
			return nil, errs.E(errs.Invalid, "header: column %d has a name longer than %d bytes", i+1, MaxFieldBytes)
		}
		l.names[i] = shorten(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		c, ok := byName[normalizeHeader(h)]
		if !ok {
			continue
		}
		if l.at[c] >= 0 {
			return nil, errs.E(errs.Invalid, "header: column %s appears twice (columns %d and %d)", columnNames[c], l.at[c]+1, i+1)
		}
		l.at[c] = i
	}
	var missing []string
	for _, c := range []column{colNumber, colState} {
		if !l.has(c) {
			missing = append(missing, columnNames[c])
		}
	}
	if !l.has(colUpdatedAt) && !l.has(colModCount) {
		missing = append(missing, "sys_updated_at (or sys_mod_count)")
	}
	if len(missing) > 0 {
		return nil, errs.E(errs.Invalid, "header: missing required column %s", strings.Join(missing, ", "))
	}
	return l, nil
}

// nameAt names the file's column i for a message: its header, or its position.
func (l *layout) nameAt(i int) string {
	if i < len(l.names) && l.names[i] != "" {
		return l.names[i]
	}
	return fmt.Sprintf("%d", i+1)
}

// name is the canonical name of column c, for messages.
func (c column) name() string {
	if c >= 0 && c < numColumns {
		return columnNames[c]
	}
	return fmt.Sprintf("column %d", int(c))
}
