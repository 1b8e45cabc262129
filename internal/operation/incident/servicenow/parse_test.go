package servicenow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"steward/internal/platform/errs"
)

// smallSample is three incidents copied from the shared sample: INC0000045, INC0000135
// (two rows share sys_mod_count 7: Active, then Closed, told apart by sys_updated_at)
// and INC0001155 (reopened once, SLA missed, no symptom).
const smallSample = "testdata/three_incidents.csv"

// minute is a UTC time to the minute.
func minute(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, time.UTC)
}

// boolp points at b.
func boolp(b bool) *bool { return &b }

// inc45 is INC0000045 as the shared sample's last row (line 5) gives it, read by hand:
// INC0000045,Closed,FALSE,0,0,4,TRUE,Caller 2403,Opened by  8,29-02-2016 01:16,Created by 6,
// 29-02-2016 01:23,Updated by 908,05-03-2016 12:00,Phone,Location 143,Category 55,Subcategory 170,
// Symptom 72,?,2 - Medium,2 - Medium,3 - Moderate,Group 56,?,TRUE,FALSE,Do Not Notify,?,?,?,?,
// code 5,Resolved by 149,29-02-2016 11:29,05-03-2016 12:00
var inc45 = Incident{
	Number: "INC0000045", State: StateClosed, SourceState: "Closed", Active: false,
	Impact: 2, Urgency: 2, Priority: 3,
	Category: "category-55", Subcategory: "subcategory-170", Symptom: "symptom-72",
	CategoryLabel: "Category 55", SubcategoryLabel: "Subcategory 170", SymptomLabel: "Symptom 72",
	Channel: ChannelPhone, SourceChannel: "Phone",
	Caller: "Caller 2403", OpenedBy: "Opened by  8", AssignmentGroup: "Group 56", AssignedTo: "",
	ResolvedBy: "Resolved by 149", Location: "Location 143", CI: "",
	CreatedBy: "Created by 6", UpdatedBy: "Updated by 908",
	ReassignmentCount: 0, ReopenCount: 0, ModCount: 4, MadeSLA: boolp(true),
	ClosedCode: "code 5",
	OpenedAt:   minute(2016, 2, 29, 1, 16), CreatedAt: minute(2016, 2, 29, 1, 23),
	UpdatedAt: minute(2016, 3, 5, 12, 0), ResolvedAt: minute(2016, 2, 29, 11, 29), ClosedAt: minute(2016, 3, 5, 12, 0),
	Rows: 4, Line: 5,
}

// TestParseSmallSample reads three incidents copied from the shared sample and checks every field of one by hand.
func TestParseSmallSample(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(smallSample)
	if err != nil {
		t.Fatal(err)
	}
	incs, rep := mustParse(t, data, Options{})
	checkInvariants(t, incs, rep)
	if rep.Rows != 18 || rep.Incidents != 3 || rep.SkippedRows != 0 || rep.SkippedIncidents != 0 || len(rep.Skipped) != 0 {
		t.Fatalf("report = %+v, want 18 rows, 3 incidents, nothing skipped", rep)
	}
	if rep.DateOrder != DayFirst {
		t.Errorf("date order = %q, want day first", rep.DateOrder)
	}
	if got := []string{incs[0].Number, incs[1].Number, incs[2].Number}; !reflect.DeepEqual(got, []string{"INC0000045", "INC0000135", "INC0001155"}) {
		t.Errorf("numbers in order %v", got)
	}
	if !reflect.DeepEqual(incs[0], inc45) {
		t.Errorf("INC0000045 =\n%+v\nwant\n%+v", incs[0], inc45)
	}

	// INC0000135: its first row (line 6, Active) has sys_mod_count 7 like its last row (line 13,
	// Closed); the later sys_updated_at makes Closed the last state.
	in := incs[1]
	if in.State != StateClosed || in.SourceState != "Closed" || in.Line != 13 || in.Rows != 8 || in.ModCount != 7 ||
		in.UpdatedBy != "Updated by 908" || !in.UpdatedAt.Equal(minute(2016, 3, 5, 17, 0)) || in.AssignedTo != "Resolver 216" ||
		in.Category != "category-53" || in.Subcategory != "subcategory-271" || in.Symptom != "symptom-470" || in.ClosedCode != "code 9" {
		t.Errorf("INC0000135 = %+v", in)
	}

	// INC0001155: reopened once, SLA missed on the last row only, symptom "?".
	in = incs[2]
	if in.State != StateClosed || in.Line != 19 || in.Rows != 6 || in.ModCount != 22 || in.ReopenCount != 1 ||
		in.MadeSLA == nil || *in.MadeSLA || in.Symptom != "" || in.SymptomLabel != "" ||
		!in.OpenedAt.Equal(minute(2016, 3, 2, 11, 7)) || !in.ResolvedAt.Equal(minute(2016, 4, 25, 9, 43)) ||
		!in.ClosedAt.Equal(minute(2016, 4, 30, 10, 7)) || in.AssignmentGroup != "Group 10" || in.Caller != "Caller 2764" {
		t.Errorf("INC0001155 = %+v", in)
	}
}

// TestParseRowOrder checks that the last state comes from sys_mod_count and
// sys_updated_at, not from where a row sits in the file.
func TestParseRowOrder(t *testing.T) {
	t.Parallel()
	recs := readCSV(t, smallSample)
	want, _ := mustParse(t, writeCSV(t, recs), Options{})

	reversed := [][]string{recs[0]}
	for i := len(recs) - 1; i >= 1; i-- {
		reversed = append(reversed, recs[i])
	}
	got, rep := mustParse(t, writeCSV(t, reversed), Options{})
	checkInvariants(t, got, rep)
	// Reversed, the incidents come in the other order and their rows sit on other lines.
	slicesReverse(got)
	for i := range got {
		got[i].Line = want[i].Line
	}
	if d := diffIncidents(want, got); d != "" {
		t.Errorf("reversed rows give other incidents:\n%s", d)
	}
}

// slicesReverse reverses incidents in place.
func slicesReverse(s []Incident) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// TestParseVariants checks that the same export written by other tools (ISO or US dates,
// 1/0 or yes/no booleans, columns in another order) gives identical incidents.
func TestParseVariants(t *testing.T) {
	t.Parallel()
	recs := readCSV(t, smallSample)
	want, _ := mustParse(t, writeCSV(t, recs), Options{})
	testVariants(t, recs, want)
}

// testVariants parses variants of recs and compares them with want.
func testVariants(t *testing.T, recs [][]string, want []Incident) {
	t.Helper()
	oneZero := func(b bool) string { return map[bool]string{true: "1", false: "0"}[b] }
	yesNo := func(b bool) string { return map[bool]string{true: "yes", false: "no"}[b] }
	lowerTF := func(b bool) string { return map[bool]string{true: "t", false: "f"}[b] }
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	variants := []struct {
		name string
		date func(time.Time) string
		bool func(bool) string
		opt  Options
	}{
		{"iso space seconds, 1/0", func(d time.Time) string { return d.Format("2006-01-02 15:04:05") }, oneZero, Options{}},
		{"iso T Z, yes/no", func(d time.Time) string { return d.Format("2006-01-02T15:04:05Z") }, yesNo, Options{}},
		{"iso offset in Paris time, t/f", func(d time.Time) string { return d.In(paris).Format(time.RFC3339) }, lowerTF, Options{}},
		{"US month first, true/false", func(d time.Time) string { return d.Format("01/02/2006 15:04") }, func(b bool) string { return fmt.Sprint(b) }, Options{}},
		{"US with AM/PM", func(d time.Time) string { return d.Format("1/2/2006 3:04 PM") }, oneZero, Options{}},
		{"local Paris time without offset", func(d time.Time) string { return d.In(paris).Format("02-01-2006 15:04") }, oneZero, Options{Location: paris}},
	}
	for i, v := range variants {
		data := writeCSV(t, variant(t, recs, uint64(i+1), v.date, v.bool))
		got, rep, err := Parse(bytes.NewReader(data), v.opt)
		if err != nil {
			t.Errorf("%s: %v", v.name, err)
			continue
		}
		if rep.SkippedRows != 0 || rep.SkippedIncidents != 0 {
			t.Errorf("%s: skipped %v", v.name, rep.Skipped[:min(len(rep.Skipped), 3)])
		}
		if d := diffIncidents(want, got); d != "" {
			t.Errorf("%s: incidents differ:\n%s", v.name, d)
		}
	}
}

// TestParseDateOrderLookahead checks that month-first dates that are all ambiguous at the
// start of a file are read month first once a later date shows the order.
func TestParseDateOrderLookahead(t *testing.T) {
	t.Parallel()
	csvText := "number,incident_state,sys_updated_at,opened_at\n" +
		"INC1,New,03/04/2016 10:00,03/04/2016 09:00\n" + // ambiguous: 4 March or 3 April
		"INC1,Resolved,03/05/2016 10:00,03/04/2016 09:00\n" + // ambiguous
		"INC2,New,03/25/2016 10:00,03/25/2016 09:00\n" // 25 is no month: month first
	incs, rep := mustParse(t, []byte(csvText), Options{})
	if rep.DateOrder != MonthFirst {
		t.Fatalf("date order = %q, want month first", rep.DateOrder)
	}
	if len(incs) != 2 || incs[0].State != StateResolved || !incs[0].OpenedAt.Equal(minute(2016, 3, 4, 9, 0)) ||
		!incs[0].UpdatedAt.Equal(minute(2016, 3, 5, 10, 0)) {
		t.Errorf("incidents = %+v", incs)
	}

	// Forced day first, the same file reads its ambiguous dates day first and skips INC2's row.
	incs, rep = mustParse(t, []byte(csvText), Options{DateOrder: DayFirst})
	if len(incs) != 1 || !incs[0].OpenedAt.Equal(minute(2016, 4, 3, 9, 0)) || rep.SkippedRows != 1 ||
		!strings.Contains(rep.Skipped[0].Reason, "month first, but the file's dates are day first") || rep.Skipped[0].Line != 4 {
		t.Errorf("forced day first: incidents %+v, report %+v", incs, rep)
	}

	// A file that contradicts itself: the first proof wins and the contradicting row is skipped.
	mixed := "number,incident_state,sys_updated_at\nINC1,New,25-03-2016 10:00\nINC2,New,03/25/2016 10:00\n"
	incs, rep = mustParse(t, []byte(mixed), Options{})
	if len(incs) != 1 || incs[0].Number != "INC1" || rep.SkippedRows != 1 || rep.Skipped[0].Number != "INC2" {
		t.Errorf("mixed orders: incidents %+v, report %+v", incs, rep)
	}

	if _, _, err := Parse(strings.NewReader(mixed), Options{DateOrder: "ymd"}); !errs.Is(err, errs.Invalid) {
		t.Errorf("unknown date order: err = %v, want invalid", err)
	}
}

// TestParseMalformedRows checks that each kind of bad row is skipped with its line,
// number and reason while the good rows still load.
func TestParseMalformedRows(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxFieldBytes+1)
	lines := []string{
		"number,incident_state,sys_mod_count,sys_updated_at,impact,made_sla,caller_id",
		"INC1,New,0,01-03-2016 10:00,2 - Medium,TRUE,Alice",         // 2 good
		"INC1,Resolved,1,01-03-2016 11:00,2 - Medium,TRUE",          // 3 six fields
		"INC1,Closed,2,31-02-2016 12:00,2 - Medium,TRUE,Alice",      // 4 no 31 February
		",New,0,01-03-2016 10:00,2,TRUE,Alice",                      // 5 empty number
		"INC2,New,0,01-03-2016 10:00,7 - Huge,TRUE,Bob",             // 6 impact out of range
		"INC2,Active,1,01-03-2016 10:05,1 - High,maybe,Bob",         // 7 not a boolean
		`INC2,Active,2,01-03-2016 10:10,1,TRUE,"Bo"b"`,              // 8 bad quoting
		"INC2,Active,3,01-03-2016 10:15,1,TRUE," + long,             // 9 field too long
		"INC2,Resolved,4,01-03-2016 10:20,1,TRUE,Bob",               // 10 good
		"INC3,Frozen,0,01-03-2016 10:00,1,TRUE,Carol",               // 11 unknown state: incident skipped
		"INC4,-100,0,01-03-2016 10:00,1,TRUE,Dan",                   // 12 only "-100": incident skipped
		"INC5,New,0,01-03-2016 10:00,3 - Low,?,Eve",                 // 13 good
		"INC5,-100,5,01-03-2016 12:00,3 - Low,?,Eve",                // 14 "-100" never the last state
		"INC6,Closed,?,?,?,?,?",                                     // 15 good: no order but the file's
		"INC 7,New,0,01-03-2016 10:00,1,TRUE,Frank",                 // 16 space in the number
		"INC8,New,x,01-03-2016 10:00,1,TRUE,Grace",                  // 17 not a count
		"INC9,New,0,01-03-2016 10:00,1,TRUE,Hei\x00di",              // 18 NUL byte
		"INC10,,0,01-03-2016 10:00,1,TRUE,Ivan",                     // 19 empty state
		"INC11,New,0,01-03-2016 10:00,1,TRUE,\xffJudy",              // 20 not UTF-8
		"INC1,New,1,01-03-2016 10:30,2 - Medium,TRUE,Alice,surplus", // 21 eight fields
	}
	incs, rep := mustParse(t, []byte(strings.Join(lines, "\n")+"\n"), Options{})
	checkInvariants(t, incs, rep)

	got := map[string]string{}
	for _, in := range incs {
		got[in.Number] = fmt.Sprintf("%s line %d rows %d", in.State, in.Line, in.Rows)
	}
	want := map[string]string{
		"INC1": "new line 2 rows 1",
		"INC2": "resolved line 10 rows 1",
		"INC5": "new line 13 rows 2",
		"INC6": "closed line 15 rows 1",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("incidents = %v, want %v", got, want)
	}
	wantSkips := []struct {
		line          int
		number, cause string
	}{
		{3, "INC1", "6 fields, but the header has 7 columns"},
		{4, "INC1", `column sys_updated_at: cannot read date "31-02-2016 12:00": no such day`},
		{5, "", "empty number"},
		{6, "INC2", `column impact: level "7 - Huge" is outside 1 to 3`},
		{7, "INC2", `column made_sla: cannot read "maybe" as true or false`},
		{8, "", "malformed CSV"},
		{9, "INC2", "column caller_id is longer than 4096 bytes"},
		{16, "INC 7", `malformed number "INC 7"`},
		{17, "INC8", `column sys_mod_count: cannot read "x" as a count`},
		{18, "INC9", "column caller_id holds a NUL byte"},
		{19, "INC10", "empty incident_state"},
		{20, "INC11", "column caller_id holds a NUL byte or text that is not UTF-8"},
		{21, "INC1", "8 fields, but the header has 7 columns"},
		{11, "INC3", `unknown state "Frozen"`},
		{12, "INC4", `all 1 rows have state -100`},
	}
	if rep.Rows != 20 || rep.Incidents != 4 || rep.SkippedRows != 13 || rep.SkippedIncidents != 2 || len(rep.Skipped) != len(wantSkips) {
		t.Fatalf("report = %+v", rep)
	}
	for i, w := range wantSkips {
		s := rep.Skipped[i]
		if s.Line != w.line || s.Number != w.number || !strings.Contains(s.Reason, w.cause) {
			t.Errorf("skip %d = %+v, want line %d, number %q, reason with %q", i, s, w.line, w.number, w.cause)
		}
	}
	inc5 := incs[2]
	if inc5.Number != "INC5" || inc5.Impact != 3 || inc5.MadeSLA != nil || !inc5.Active || inc5.Channel != ChannelImport {
		t.Errorf("INC5 = %+v", inc5)
	}
	if inc6 := incs[3]; inc6.Active || inc6.Impact != 0 || inc6.Caller != "" || !inc6.UpdatedAt.IsZero() || inc6.ModCount != 0 {
		t.Errorf("INC6 = %+v", inc6)
	}
}

// TestParseOrderingColumns checks files that carry only one of sys_mod_count and sys_updated_at.
func TestParseOrderingColumns(t *testing.T) {
	t.Parallel()
	// Only sys_updated_at: the later update wins wherever it sits.
	incs, rep := mustParse(t, []byte("number,incident_state,sys_updated_at\n"+
		"INC1,Closed,02-03-2016 10:00\nINC1,Active,01-03-2016 10:00\nINC1,Resolved,?\n"), Options{})
	if len(incs) != 1 || incs[0].State != StateClosed || incs[0].Rows != 2 || rep.SkippedRows != 1 ||
		!strings.Contains(rep.Skipped[0].Reason, "no sys_mod_count to order the rows by") {
		t.Errorf("updated only: %+v %+v", incs, rep)
	}
	// Only sys_mod_count: the higher count wins; an empty one cannot be placed.
	incs, rep = mustParse(t, []byte("number,incident_state,sys_mod_count\n"+
		"INC1,Resolved,3\nINC1,Active,1\nINC1,Closed,?\n"), Options{})
	if len(incs) != 1 || incs[0].State != StateResolved || incs[0].ModCount != 3 || rep.SkippedRows != 1 ||
		!strings.Contains(rep.Skipped[0].Reason, "no sys_updated_at to order the rows by") {
		t.Errorf("mod count only: %+v %+v", incs, rep)
	}
	// Same count and same time: the later row of the file wins.
	incs, _ = mustParse(t, []byte("number,incident_state,sys_mod_count,sys_updated_at\n"+
		"INC1,Resolved,3,01-03-2016 10:00\nINC1,Closed,3,01-03-2016 10:00\n"), Options{})
	if len(incs) != 1 || incs[0].State != StateClosed || incs[0].Line != 3 {
		t.Errorf("tie: %+v", incs)
	}
}

// TestParseStates checks the state table end to end, with Active derived when absent.
func TestParseStates(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("number,incident_state,sys_mod_count\n")
	states := []struct{ source, state string }{
		{"New", StateNew}, {"Active", StateInProgress}, {"Awaiting User Info", StateOnHold},
		{"Awaiting Problem", StateOnHold}, {"Awaiting Vendor", StateOnHold}, {"Awaiting Evidence", StateOnHold},
		{"Resolved", StateResolved}, {"Closed", StateClosed}, {"Canceled", StateCancelled},
	}
	for i, s := range states {
		fmt.Fprintf(&b, "INC%d,%s,0\n", i, s.source)
	}
	incs, rep := mustParse(t, []byte(b.String()), Options{})
	if len(incs) != len(states) || rep.SkippedIncidents != 0 {
		t.Fatalf("got %d incidents, report %+v", len(incs), rep)
	}
	for i, s := range states {
		wantActive := s.state != StateClosed && s.state != StateCancelled
		if incs[i].State != s.state || incs[i].SourceState != s.source || incs[i].Active != wantActive {
			t.Errorf("%s: state %q active %v, want %q active %v", s.source, incs[i].State, incs[i].Active, s.state, wantActive)
		}
	}
}

// TestParseHeader checks how columns are found, and the files refused for their header.
func TestParseHeader(t *testing.T) {
	t.Parallel()
	// BOM, upper case, spaces, other order, unknown columns, aliases of the incident table.
	incs, _ := mustParse(t, []byte("\ufeff Extra ,SYS_MOD_COUNT,State , Number,Contact Type,sys_updated_on\n"+
		"x,1,Closed,INC9,Self service,2016-03-01 10:00:00\n"), Options{})
	if len(incs) != 1 || incs[0].Number != "INC9" || incs[0].State != StateClosed || incs[0].Channel != ChannelPortal ||
		!incs[0].UpdatedAt.Equal(minute(2016, 3, 1, 10, 0)) {
		t.Errorf("incidents = %+v", incs)
	}
	// Semicolons and tabs as separators, found from the header; or given.
	for _, sep := range []string{";", "\t"} {
		text := strings.ReplaceAll("number,incident_state,sys_mod_count,caller_id\nINC1,New,0,\"Doe, Jane\"\n", ",", sep)
		text = strings.ReplaceAll(text, "Doe"+sep+" Jane", "Doe, Jane")
		incs, _ := mustParse(t, []byte(text), Options{})
		if len(incs) != 1 || incs[0].Caller != "Doe, Jane" {
			t.Errorf("separator %q: %+v", sep, incs)
		}
	}
	incs, _ = mustParse(t, []byte("number|incident_state|sys_mod_count\nINC1|New|0\n"), Options{Comma: '|'})
	if len(incs) != 1 {
		t.Errorf("separator given: %+v", incs)
	}

	bad := []struct{ name, text, msg string }{
		{"empty", "", "empty file"},
		{"blank lines", "\n\n", "empty file"},
		{"no number", "incident_state,sys_mod_count\nNew,0\n", "missing required column number"},
		{"no state", "number,sys_updated_at\nINC1,?\n", "missing required column incident_state"},
		{"no order", "number,incident_state,opened_at\nINC1,New,?\n", "missing required column sys_updated_at (or sys_mod_count)"},
		{"nothing", "a,b\n1,2\n", "missing required column number, incident_state, sys_updated_at (or sys_mod_count)"},
		{"twice", "number,incident_state,sys_mod_count,Number\n", "column number appears twice (columns 1 and 4)"},
		{"alias twice", "number,incident_state,state,sys_mod_count\n", "column incident_state appears twice"},
		{"long name", "number,incident_state,sys_mod_count," + strings.Repeat("n", MaxFieldBytes+1) + "\n", "longer than 4096 bytes"},
		{"bad quoting", "number,\"incident_state\"x,sys_mod_count\n", "header (line 1): malformed CSV"},
	}
	for _, tt := range bad {
		_, _, err := Parse(strings.NewReader(tt.text), Options{})
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !errs.Is(err, errs.Invalid) {
			t.Errorf("%s: err = %v, want invalid with %q", tt.name, err, tt.msg)
		}
	}
	if _, _, err := Parse(strings.NewReader("number\n"), Options{Comma: '"'}); !errs.Is(err, errs.Invalid) {
		t.Errorf("quote as separator: err = %v, want invalid", err)
	}

	// A header alone is a file with no incidents.
	incs, rep := mustParse(t, []byte("number,incident_state,sys_mod_count\n"), Options{})
	if len(incs) != 0 || rep.Rows != 0 || rep.Skipped == nil {
		t.Errorf("header only: %+v %+v", incs, rep)
	}
}

// TestParseLimits checks the row limit, the record limit and the cap on listed skips.
func TestParseLimits(t *testing.T) {
	t.Parallel()
	head := "number,incident_state,sys_mod_count\n"
	_, rep, err := Parse(strings.NewReader(head+"INC1,New,0\nINC1,New,1\nINC1,New,2\nINC1,New,3\n"), Options{MaxRows: 3})
	if !errs.Is(err, errs.TooLarge) || !strings.Contains(err.Error(), "more than 3 rows") || rep.Rows != 4 {
		t.Errorf("row limit: err = %v, report %+v", err, rep)
	}
	if _, _, err := Parse(strings.NewReader(head+"INC1,New,0\nINC1,New,1\nINC1,New,2\n"), Options{MaxRows: 3}); err != nil {
		t.Errorf("at the row limit: %v", err)
	}

	// An unclosed quote swallows the rest of the file; past MaxRecordBytes the file is refused.
	huge := head + "INC1,New,0\nINC2,\"New,0\n" + strings.Repeat("INC3,New,0\n", MaxRecordBytes/10)
	_, _, err = Parse(strings.NewReader(huge), Options{})
	if !errs.Is(err, errs.TooLarge) || !strings.Contains(err.Error(), "longer than 1048576 bytes") {
		t.Errorf("record limit: err = %v", err)
	}
	// So is a line with no end.
	_, _, err = Parse(io.MultiReader(strings.NewReader(head), strings.NewReader(strings.Repeat("x", 3*MaxRecordBytes))), Options{})
	if !errs.Is(err, errs.TooLarge) {
		t.Errorf("endless line: err = %v", err)
	}
	// Below the limit, an unclosed quote at the end is one malformed row.
	incs, rep, err := Parse(strings.NewReader(head+"INC1,New,0\nINC2,\"New,0\nINC3,New,0\n"), Options{})
	if err != nil || len(incs) != 1 || rep.SkippedRows != 1 || !strings.Contains(rep.Skipped[0].Reason, "malformed CSV") {
		t.Errorf("unclosed quote: %+v %+v %v", incs, rep, err)
	}

	// Skips beyond MaxSkips are counted, not listed.
	var b strings.Builder
	b.WriteString(head)
	for i := range MaxSkips + 500 {
		fmt.Fprintf(&b, "INC%d,New,bad\n", i)
	}
	b.WriteString("INC1,New,0\n")
	incs, rep = mustParse(t, []byte(b.String()), Options{})
	if len(incs) != 1 || rep.SkippedRows != MaxSkips+500 || len(rep.Skipped) != MaxSkips || rep.Rows != MaxSkips+501 {
		t.Errorf("many skips: %d incidents, report rows %d skipped %d listed %d", len(incs), rep.Rows, rep.SkippedRows, len(rep.Skipped))
	}
}

// TestParseMaxRows reads MaxRows rows and one more: the file is refused by default, and a
// larger Options.MaxRows cannot raise the limit. The rows are one field each (malformed
// rows, the cheapest to read); they count towards the limit all the same.
func TestParseMaxRows(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("reads five million rows: not in -short or -race runs")
	}
	t.Parallel()
	_, rep, err := Parse(&repeatReader{head: "number,incident_state,sys_mod_count\n", row: "x\n", rows: MaxRows + 1}, Options{MaxRows: 2 * MaxRows})
	if !errs.Is(err, errs.TooLarge) || !strings.Contains(err.Error(), "more than 5000000 rows") || rep.Rows != MaxRows+1 {
		t.Errorf("err = %v, rows %d", err, rep.Rows)
	}
}

// repeatReader yields a header and then the same row a number of times, without holding them.
type repeatReader struct {
	head, row string
	rows      int
	buf       []byte
}

// Read fills b from the header and the repeated rows.
func (r *repeatReader) Read(b []byte) (int, error) {
	for len(r.buf) < len(b) && (r.head != "" || r.rows > 0) {
		if r.head != "" {
			r.buf, r.head = append(r.buf, r.head...), ""
			continue
		}
		r.buf = append(r.buf, r.row...)
		r.rows--
	}
	if len(r.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(b, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// TestParseReadError checks that a failing reader is an error, not a partial import.
func TestParseReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	r := io.MultiReader(strings.NewReader("number,incident_state,sys_mod_count\nINC1,New,0\n"), &failReader{err: boom})
	if _, _, err := Parse(r, Options{}); !errors.Is(err, boom) {
		t.Errorf("err = %v, want the read error", err)
	}
}

// failReader fails every read.
type failReader struct{ err error }

// Read returns the reader's error.
func (f *failReader) Read([]byte) (int, error) { return 0, f.err }
