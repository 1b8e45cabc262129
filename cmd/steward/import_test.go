package main

// The ServiceNow import through the CLI (issue 6): the shared sample export
// loads its 890 incidents from 5,998 state-change rows, a second import of
// the same file creates and changes nothing, and a file with malformed rows
// still loads the rest and reports each skipped line.

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sampleExport is the shared ServiceNow sample, relative to this package; the test skips without it.
func sampleExport(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", "incident_event_log.sample.csv")
	if _, err := os.Stat(p); err != nil {
		t.Skipf("the shared ServiceNow sample is absent: %v", err)
	}
	return p
}

// withAdmin prepares a fresh data directory or database with the administrator the import acts as.
func withAdmin(t *testing.T, s storage) {
	t.Helper()
	mustCLI(t, alicePassword+"\n", args(s, "user", "create", "admin", "--admin")...)
}

func TestImportServiceNowSample(t *testing.T) {
	t.Parallel()
	file := sampleExport(t)
	engines(t, func(t *testing.T, s storage) {
		withAdmin(t, s)
		start := time.Now()
		out := mustCLI(t, "", args(s, "import", "incidents", "--format", "servicenow", file)...)
		first := time.Since(start)
		if !strings.Contains(out, "read 5998 rows: 890 incidents, 0 rows and 0 incidents skipped\n") ||
			!regexp.MustCompile(`imported: 890 created, 0 updated, 0 unchanged, 0 skipped; \d+ categories added\n`).MatchString(out) {
			t.Fatalf("first import printed:\n%s", out)
		}
		t.Logf("%s: first import of the sample in %v", s.engine, first)

		a := openApp(t, s)
		ctx := context.Background()
		var n, refs, caller int64
		if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE type = 'incident'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 890 {
			t.Fatalf("incidents in the database = %d, want 890", n)
		}
		// INC0000045 is there once, in its last state (Closed in the sample), with ServiceNow's number kept.
		if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM incidents WHERE external_ref = 'INC0000045'`).Scan(&refs); err != nil {
			t.Fatal(err)
		}
		if refs != 1 {
			t.Fatalf("incidents imported from INC0000045 = %d", refs)
		}
		var state string
		if err := a.DB.QueryRowContext(ctx, `SELECT r.state, COALESCE(r.requester_id, 0) FROM records r JOIN incidents i ON i.record_id = r.id
			WHERE i.external_ref = 'INC0000045'`).Scan(&state, &caller); err != nil {
			t.Fatal(err)
		}
		if state != "closed" || caller != 0 {
			t.Errorf("INC0000045 imported as state %q, requester %d", state, caller)
		}

		// Again: nothing created, nothing changed.
		start = time.Now()
		out = mustCLI(t, "", args(s, "import", "incidents", "--format", "servicenow", file)...)
		t.Logf("%s: second import in %v", s.engine, time.Since(start))
		if !strings.Contains(out, "read 5998 rows: 890 incidents, 0 rows and 0 incidents skipped\n") ||
			!strings.Contains(out, "imported: 0 created, 0 updated, 890 unchanged, 0 skipped; 0 categories added\n") {
			t.Fatalf("second import printed:\n%s", out)
		}
		if err := a.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE type = 'incident'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 890 {
			t.Fatalf("incidents after the second import = %d, want 890", n)
		}

		// The report as JSON, the flag written before the file as the usage shows it.
		out = mustCLI(t, "", args(s, "import", "incidents", "--format", "servicenow", "--json", file)...)
		var rep struct {
			File struct {
				Rows      int   `json:"rows"`
				Incidents int   `json:"incidents"`
				Skipped   []any `json:"skipped"`
			} `json:"file"`
			Import struct {
				Created   int   `json:"created"`
				Updated   int   `json:"updated"`
				Unchanged int   `json:"unchanged"`
				Skipped   []any `json:"skipped"`
			} `json:"import"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("the JSON report: %v\n%s", err, out)
		}
		if rep.File.Rows != 5998 || rep.File.Incidents != 890 || len(rep.File.Skipped) != 0 || rep.Import.Created != 0 ||
			rep.Import.Updated != 0 || rep.Import.Unchanged != 890 || len(rep.Import.Skipped) != 0 {
			t.Fatalf("the JSON report = %+v", rep)
		}
	})
}

func TestImportServiceNowMalformedRows(t *testing.T) {
	t.Parallel()
	sample := sampleExport(t)
	raw, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	// The header and the first 40 rows, with two malformed rows put in at file lines 6 and 21.
	var rows []string
	rows = append(rows, lines[:41]...)
	numbers := map[string]bool{}
	for _, l := range rows[1:] {
		numbers[strings.SplitN(l, ",", 2)[0]] = true
	}
	short := "INC9999990,New,TRUE,0,0"                                  // too few fields
	badDate := strings.Replace(rows[3], "29-02-2016", "99-99-2016", -1) // dates that are not dates
	badDate = "INC9999991" + badDate[strings.Index(badDate, ","):]
	rows = append(rows[:5], append([]string{short}, rows[5:]...)...)     // line 6
	rows = append(rows[:20], append([]string{badDate}, rows[20:]...)...) // line 21
	file := filepath.Join(t.TempDir(), "export.csv")
	if err := os.WriteFile(file, []byte(strings.Join(rows, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	engines(t, func(t *testing.T, s storage) {
		withAdmin(t, s)
		out := mustCLI(t, "", args(s, "import", "incidents", "--format", "servicenow", file)...)
		t.Logf("%s: import printed:\n%s", s.engine, out)
		want := []string{
			"read 42 rows: " + itoa(len(numbers)) + " incidents, 2 rows and 0 incidents skipped\n",
			"imported: " + itoa(len(numbers)) + " created, 0 updated, 0 unchanged, 0 skipped;",
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("import printed:\n%s\nwant %q", out, w)
			}
		}
		for _, re := range []string{`(?m)^  skipped line 6 INC9999990: .+$`, `(?m)^  skipped line 21 INC9999991: .+$`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("import printed:\n%s\nwant a line matching %s", out, re)
			}
		}
		a := openApp(t, s)
		var n int
		if err := a.DB.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM records WHERE type = 'incident'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(numbers) {
			t.Errorf("incidents loaded = %d, want %d", n, len(numbers))
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }
