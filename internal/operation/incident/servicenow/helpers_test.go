package servicenow

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// readCSV reads a CSV file of the tests into records, header first.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return recs
}

// writeCSV writes records as CSV.
func writeCSV(t *testing.T, recs [][]string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// mustParse parses data with opt and fails the test on an error.
func mustParse(t *testing.T, data []byte, opt Options) ([]Incident, Report) {
	t.Helper()
	incs, rep, err := Parse(bytes.NewReader(data), opt)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return incs, rep
}

// byNumber indexes incidents by number, failing on a duplicate.
func byNumber(t *testing.T, incs []Incident) map[string]Incident {
	t.Helper()
	m := make(map[string]Incident, len(incs))
	for _, in := range incs {
		if _, dup := m[in.Number]; dup {
			t.Errorf("incident %s returned twice", in.Number)
		}
		m[in.Number] = in
	}
	return m
}

// variant rewrites an export as another tool would write the same data: every date with
// formatDate, every boolean with formatBool, and the columns in another order (a shuffle
// from seed). Values of other columns stay as they are.
func variant(t *testing.T, recs [][]string, seed uint64, formatDate func(time.Time) string, formatBool func(bool) string) [][]string {
	t.Helper()
	header := recs[0]
	kind := make([]string, len(header))
	for i, h := range header {
		switch h {
		case "opened_at", "sys_created_at", "sys_updated_at", "resolved_at", "closed_at":
			kind[i] = "date"
		case "active", "made_sla", "knowledge", "u_priority_confirmation":
			kind[i] = "bool"
		}
	}
	perm := make([]int, len(header))
	for i := range perm {
		perm[i] = i
	}
	rand.New(rand.NewPCG(seed, seed)).Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
	out := make([][]string, len(recs))
	for r, rec := range recs {
		row := make([]string, len(rec))
		for to, from := range perm {
			v := rec[from]
			if r > 0 && v != "?" {
				switch kind[from] {
				case "date":
					d, err := time.Parse("02-01-2006 15:04", v)
					if err != nil {
						t.Fatalf("line %d: %v", r+1, err)
					}
					v = formatDate(d)
				case "bool":
					v = formatBool(map[string]bool{"TRUE": true, "FALSE": false}[v])
				}
			}
			row[to] = v
		}
		out[r] = row
	}
	return out
}

// diffIncidents describes the first differences between two incident lists, or "".
func diffIncidents(a, b []Incident) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d incidents against %d", len(a), len(b))
	}
	var diffs []string
	for i := range a {
		if !reflect.DeepEqual(a[i], b[i]) {
			diffs = append(diffs, fmt.Sprintf("%s:\n  %+v\n  %+v", a[i].Number, a[i], b[i]))
		}
		if len(diffs) == 3 {
			break
		}
	}
	return strings.Join(diffs, "\n")
}

// validStates are Steward's incident states.
var validStates = []string{StateNew, StateInProgress, StateOnHold, StateResolved, StateClosed, StateCancelled}

// validChannels are Steward's contact channels.
var validChannels = []string{ChannelDesk, ChannelPhone, ChannelPortal, ChannelEmail, ChannelAPI, ChannelEvent, ChannelChat, ChannelWalkIn, ChannelImport}

// keyPattern is the shape of a taxonomy key.
var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// checkInvariants asserts what holds for every successful parse.
func checkInvariants(t *testing.T, incs []Incident, rep Report) {
	t.Helper()
	if rep.Incidents != len(incs) {
		t.Errorf("report says %d incidents, got %d", rep.Incidents, len(incs))
	}
	if rep.SkippedRows > rep.Rows {
		t.Errorf("%d rows skipped of %d", rep.SkippedRows, rep.Rows)
	}
	if want := min(rep.SkippedRows+rep.SkippedIncidents, MaxSkips); len(rep.Skipped) != want {
		t.Errorf("%d skips listed, want %d", len(rep.Skipped), want)
	}
	folded := 0
	seen := map[string]bool{}
	for _, in := range incs {
		folded += in.Rows
		if seen[in.Number] {
			t.Errorf("incident %s returned twice", in.Number)
		}
		seen[in.Number] = true
		if in.Number == "" || in.Rows < 1 || in.Line < 2 {
			t.Errorf("incident %+v: empty number, no rows or no line", in)
		}
		if !slices.Contains(validStates, in.State) {
			t.Errorf("incident %s: state %q", in.Number, in.State)
		}
		if !slices.Contains(validChannels, in.Channel) {
			t.Errorf("incident %s: channel %q", in.Number, in.Channel)
		}
		if in.Impact < 0 || in.Impact > 3 || in.Urgency < 0 || in.Urgency > 3 || in.Priority < 0 || in.Priority > 5 {
			t.Errorf("incident %s: impact %d, urgency %d, priority %d", in.Number, in.Impact, in.Urgency, in.Priority)
		}
		for _, k := range []string{in.Category, in.Subcategory, in.Symptom} {
			if k != "" && !keyPattern.MatchString(k) {
				t.Errorf("incident %s: taxonomy key %q", in.Number, k)
			}
		}
		for _, tm := range []time.Time{in.OpenedAt, in.CreatedAt, in.UpdatedAt, in.ResolvedAt, in.ClosedAt} {
			if !tm.IsZero() && tm.Location() != time.UTC {
				t.Errorf("incident %s: time %v not in UTC", in.Number, tm)
			}
		}
	}
	if folded > rep.Rows-rep.SkippedRows {
		t.Errorf("incidents fold %d rows, but only %d rows were read and not skipped", folded, rep.Rows-rep.SkippedRows)
	}
}
