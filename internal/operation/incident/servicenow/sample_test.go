package servicenow

import (
	"bytes"
	"encoding/csv"
	"os"
	"reflect"
	"testing"
)

// sharedSample is the shared ServiceNow sample, relative to this package's directory.
const sharedSample = "../../../../../shared/data/incident_event_log.sample.csv"

// readSharedSample reads the shared sample, or skips the test when it is absent.
func readSharedSample(t *testing.T) []byte {
	t.Helper()
	data, err := readFileOrSkip(t, sharedSample)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readFileOrSkip reads a file, or skips the test or benchmark when it is absent.
func readFileOrSkip(tb testing.TB, path string) ([]byte, error) {
	tb.Helper()
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		tb.Skipf("%s absent", path)
	}
	return data, err
}

// distinctNumbers counts the distinct values of the number column, read independently
// of Parse with the standard CSV reader.
func distinctNumbers(t *testing.T) (numbers, rows int) {
	t.Helper()
	recs := readCSV(t, sharedSample)
	col := -1
	for i, h := range recs[0] {
		if h == "number" {
			col = i
		}
	}
	if col < 0 {
		t.Fatal("no number column in the shared sample")
	}
	seen := map[string]bool{}
	for _, rec := range recs[1:] {
		seen[rec[col]] = true
	}
	return len(seen), len(recs) - 1
}

// TestParseSharedSample reads the whole shared sample: one incident per distinct number, none skipped, no duplicates, INC0000045 as read by hand.
func TestParseSharedSample(t *testing.T) {
	t.Parallel()
	data := readSharedSample(t)
	incs, rep := mustParse(t, data, Options{})
	checkInvariants(t, incs, rep)

	distinct, rows := distinctNumbers(t)
	if rep.Rows != rows {
		t.Errorf("read %d rows, the file has %d", rep.Rows, rows)
	}
	if len(incs) != distinct-rep.SkippedIncidents {
		t.Errorf("%d incidents, want %d distinct numbers minus %d skipped", len(incs), distinct, rep.SkippedIncidents)
	}
	// The sample is clean: every row and every incident loads.
	if rep.SkippedRows != 0 || rep.SkippedIncidents != 0 || len(incs) != distinct {
		t.Errorf("skipped %d rows and %d incidents: %v", rep.SkippedRows, rep.SkippedIncidents, rep.Skipped)
	}
	folded, closed := 0, 0
	for _, in := range byNumber(t, incs) {
		folded += in.Rows
		if in.State == StateClosed {
			closed++
		}
	}
	if folded != rows {
		t.Errorf("incidents fold %d rows, the file has %d", folded, rows)
	}
	// Every incident of the sample ends Closed once rows are ordered by sys_mod_count and
	// then sys_updated_at (INC0000135 needs the second key: two of its rows have count 7).
	if closed != len(incs) {
		t.Errorf("%d of %d incidents closed", closed, len(incs))
	}
	got := byNumber(t, incs)["INC0000045"]
	if !reflect.DeepEqual(got, inc45) {
		t.Errorf("INC0000045 =\n%+v\nwant\n%+v", got, inc45)
	}
	if got := byNumber(t, incs)["INC0000135"]; got.State != StateClosed {
		t.Errorf("INC0000135 ends %q, want closed", got.State)
	}

	// Parsing twice gives the same incidents: nothing depends on map order.
	again, _ := mustParse(t, data, Options{})
	if d := diffIncidents(incs, again); d != "" {
		t.Errorf("second parse differs:\n%s", d)
	}
}

// TestParseSharedSampleVariants rewrites the whole shared sample with other date and
// boolean formats and shuffled columns, and expects identical incidents.
func TestParseSharedSampleVariants(t *testing.T) {
	t.Parallel()
	data := readSharedSample(t)
	want, _ := mustParse(t, data, Options{})
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	testVariants(t, recs, want)
}
