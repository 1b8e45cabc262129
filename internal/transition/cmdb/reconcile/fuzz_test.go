package reconcile_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"strconv"
	"strings"
	"testing"

	"steward/internal/transition/cmdb/reconcile"
)

// fuzzLimits keep fuzzed inputs cheap while still reaching every limit.
var fuzzLimits = reconcile.Limits{MaxRows: 64, MaxColumns: 16, MaxBytes: 4 << 10}

// checkTable fails unless err is an *Error, or the table is well formed: unique,
// trimmed, non-empty columns within the limits, increasing lines, and rows holding
// only known columns (all of them, for CSV).
func checkTable(t *testing.T, f reconcile.Format, tab reconcile.Table, err error) {
	t.Helper()
	if err != nil {
		var pe *reconcile.Error
		if !errors.As(err, &pe) {
			t.Fatalf("error %v (%T) is not an *Error", err, err)
		}
		if pe.Message == "" {
			t.Fatalf("error without a message: %#v", pe)
		}
		return
	}
	if len(tab.Columns) > fuzzLimits.MaxColumns || len(tab.Rows) > fuzzLimits.MaxRows {
		t.Fatalf("limits exceeded: %d columns, %d rows", len(tab.Columns), len(tab.Rows))
	}
	known := make(map[string]bool, len(tab.Columns))
	folded := make(map[string]bool, len(tab.Columns))
	for _, c := range tab.Columns {
		if c == "" || c != strings.TrimSpace(c) {
			t.Fatalf("column %q empty or untrimmed", c)
		}
		if folded[strings.ToLower(c)] {
			t.Fatalf("column %q repeated", c)
		}
		known[c], folded[strings.ToLower(c)] = true, true
	}
	last := 0
	for _, r := range tab.Rows {
		if r.Line <= last {
			t.Fatalf("row line %d after %d", r.Line, last)
		}
		last = r.Line
		if f == reconcile.FormatCSV && len(r.Fields) != len(tab.Columns) {
			t.Fatalf("line %d: %d fields for %d columns", r.Line, len(r.Fields), len(tab.Columns))
		}
		for k, v := range r.Fields {
			if !known[k] {
				t.Fatalf("line %d: unknown column %q", r.Line, k)
			}
			if len(v) > reconcile.MaxValueBytes {
				t.Fatalf("line %d: value of %d bytes", r.Line, len(v))
			}
		}
	}
}

// FuzzParseCSV checks that no CSV input panics Parse or yields a malformed table.
func FuzzParseCSV(f *testing.F) {
	for _, s := range []string{
		"name,serial_number\nweb1,S1\n",
		"\ufeffname;cpus\r\nweb1;4\r\nweb2;\"2;5\"\r\n",
		"a,b\n1,\"x\"\"y\nz\"\n",
		"a,b\n1,2,3\n",
		"name,Name\n",
		"\"a;b\",c\n1,2\n",
		"a\n\n\n1\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := reconcile.Parse(bytes.NewReader(data), reconcile.FormatCSV, fuzzLimits)
		checkTable(t, reconcile.FormatCSV, tab, err)
		if err == nil && len(data) > 0 && tab.Rows != nil && tab.Rows[0].Line < 2 {
			t.Fatalf("first data row on line %d", tab.Rows[0].Line)
		}
	})
}

// FuzzParseJSON checks that no JSON input panics Parse or yields a malformed table,
// and that accepted input reads as encoding/json reads it.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`[{"name":"web1","cpus":4,"ram":2.5,"virtual":true,"owner":null}]`,
		`{"meta":{"x":[1,2]},"items":[{"a":"1"},{"b":2}]}`,
		"\ufeff[]",
		`[{"a":{"b":1}}]`,
		`[{"Name":1},{"name":2}]`,
		`[{"a":1},`,
		`{"items":[], "items":[]}`,
		`"scalar"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := reconcile.Parse(bytes.NewReader(data), reconcile.FormatJSON, fuzzLimits)
		checkTable(t, reconcile.FormatJSON, tab, err)
		if err == nil {
			checkAgainstEncodingJSON(t, data, tab)
		}
	})
}

// checkAgainstEncodingJSON decodes data with encoding/json and fails unless every
// row holds exactly the values Parse found.
func checkAgainstEncodingJSON(t *testing.T, data []byte, tab reconcile.Table) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(data, []byte("\ufeff"))))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("Parse accepted what encoding/json refuses: %v", err)
	}
	items, ok := doc.([]any)
	if !ok {
		items, _ = doc.(map[string]any)["items"].([]any)
	}
	if len(items) != len(tab.Rows) {
		t.Fatalf("%d rows, encoding/json sees %d", len(tab.Rows), len(items))
	}
	for i, it := range items {
		want := map[string]string{}
		for k, v := range it.(map[string]any) {
			switch x := v.(type) {
			case string:
				want[strings.TrimSpace(k)] = x
			case json.Number:
				want[strings.TrimSpace(k)] = x.String()
			case bool:
				want[strings.TrimSpace(k)] = strconv.FormatBool(x)
			}
		}
		if got := tab.Rows[i].Fields; !maps.Equal(got, want) {
			t.Fatalf("row %d: Parse %q, encoding/json %q", i+1, got, want)
		}
	}
}
