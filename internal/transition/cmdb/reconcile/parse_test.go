package reconcile_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"steward/internal/transition/cmdb/reconcile"
)

func fields(kv ...string) map[string]string {
	m := make(map[string]string, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestParseCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want reconcile.Table
	}{
		{
			name: "comma",
			in:   "name,serial_number\nweb1,S1\nweb2,S2\n",
			want: reconcile.Table{Columns: []string{"name", "serial_number"}, Rows: []reconcile.Row{
				{Line: 2, Fields: fields("name", "web1", "serial_number", "S1")},
				{Line: 3, Fields: fields("name", "web2", "serial_number", "S2")},
			}},
		},
		{
			name: "semicolon with CRLF and no final line end",
			in:   "name;cpus\r\nweb1;4\r\nweb2;2,5",
			want: reconcile.Table{Columns: []string{"name", "cpus"}, Rows: []reconcile.Row{
				{Line: 2, Fields: fields("name", "web1", "cpus", "4")},
				{Line: 3, Fields: fields("name", "web2", "cpus", "2,5")},
			}},
		},
		{
			name: "byte order mark and quoted delimiters",
			in:   "\ufeffname;note\nweb1;\"a, b; c\"\n",
			want: reconcile.Table{Columns: []string{"name", "note"}, Rows: []reconcile.Row{
				{Line: 2, Fields: fields("name", "web1", "note", "a, b; c")},
			}},
		},
		{
			name: "quoted semicolon in header does not count",
			in:   "\"a;b\",c\n1,2\n",
			want: reconcile.Table{Columns: []string{"a;b", "c"}, Rows: []reconcile.Row{
				{Line: 2, Fields: fields("a;b", "1", "c", "2")},
			}},
		},
		{
			name: "escaped quotes and a line end inside a field",
			in:   "name,note\nweb1,\"say \"\"hi\"\"\nthere\"\nweb2,x\n",
			want: reconcile.Table{Columns: []string{"name", "note"}, Rows: []reconcile.Row{
				{Line: 2, Fields: fields("name", "web1", "note", "say \"hi\"\nthere")},
				{Line: 4, Fields: fields("name", "web2", "note", "x")},
			}},
		},
		{
			name: "column names trimmed, values kept, blank lines skipped",
			in:   " name , Serial \n\n web1 , s1 \n",
			want: reconcile.Table{Columns: []string{"name", "Serial"}, Rows: []reconcile.Row{
				{Line: 3, Fields: fields("name", " web1 ", "Serial", " s1 ")},
			}},
		},
		{
			name: "blank lines before a semicolon header",
			in:   "\n\r\na;b\n1;2\n",
			want: reconcile.Table{Columns: []string{"a", "b"}, Rows: []reconcile.Row{
				{Line: 4, Fields: fields("a", "1", "b", "2")},
			}},
		},
		{
			name: "header only",
			in:   "name,serial_number\r\n",
			want: reconcile.Table{Columns: []string{"name", "serial_number"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := reconcile.Parse(strings.NewReader(tt.in), reconcile.FormatCSV, reconcile.Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want reconcile.Table
	}{
		{
			name: "scalars: string, numbers in text form, booleans, null absent",
			in:   `[{"name":"web1","cpus":4,"ram_gb":2.50,"big":1e3,"virtual":true,"retired":false,"owner":null}]`,
			want: reconcile.Table{
				Columns: []string{"name", "cpus", "ram_gb", "big", "virtual", "retired", "owner"},
				Rows: []reconcile.Row{{Line: 1, Fields: fields(
					"name", "web1", "cpus", "4", "ram_gb", "2.50", "big", "1e3", "virtual", "true", "retired", "false")}},
			},
		},
		{
			name: "items wrapper, other members ignored, key union in first-seen order",
			in: "\ufeff" + `{"exported": {"at": "2024-01-01"}, "items": [
				{" name ": "web1", "serial_number": "S1"},
				{"hostname": "web2.example.com.", "name": "web2"}
			], "count": 2}`,
			want: reconcile.Table{
				Columns: []string{"name", "serial_number", "hostname"},
				Rows: []reconcile.Row{
					{Line: 1, Fields: fields("name", "web1", "serial_number", "S1")},
					{Line: 2, Fields: fields("hostname", "web2.example.com.", "name", "web2")},
				},
			},
		},
		{
			name: "escapes, white space and number forms",
			in:   "[ {\"na\\u006de\" : \"a\\\"b\\n\" , \"emoji\":\"\\ud83d\\ude00\",\n\"bad\":\"x\xffy\", \"n\" :-1.5E-3 } ,{ \"name\":\"\"}]",
			want: reconcile.Table{
				Columns: []string{"name", "emoji", "bad", "n"},
				Rows: []reconcile.Row{
					{Line: 1, Fields: fields("name", "a\"b\n", "emoji", "😀", "bad", "x\ufffdy", "n", "-1.5E-3")},
					{Line: 2, Fields: fields("name", "")},
				},
			},
		},
		{
			name: "empty array",
			in:   " [ ] ",
			want: reconcile.Table{},
		},
		{
			name: "empty object row",
			in:   `[{}]`,
			want: reconcile.Table{Rows: []reconcile.Row{{Line: 1, Fields: map[string]string{}}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := reconcile.Parse(strings.NewReader(tt.in), reconcile.FormatJSON, reconcile.Limits{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func TestParseNullIsAbsent(t *testing.T) {
	t.Parallel()
	got, err := reconcile.Parse(strings.NewReader(`[{"name":"web1","owner":null}]`), reconcile.FormatJSON, reconcile.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := got.Rows[0].Fields["owner"]; ok || v != "" {
		t.Errorf(`Fields["owner"] = %q, %v; want "", false`, v, ok)
	}
	if !reflect.DeepEqual(got.Columns, []string{"name", "owner"}) {
		t.Errorf("Columns = %q, want the null column listed", got.Columns)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("x", reconcile.MaxValueBytes+1)
	tests := []struct {
		name    string
		format  reconcile.Format
		in      string
		lim     reconcile.Limits
		line    int
		column  string
		message string // substring
	}{
		{name: "unknown format", format: "xml", in: "<a/>", message: "unknown format"},
		{name: "csv empty", format: reconcile.FormatCSV, in: "", message: "no header"},
		{name: "csv only a byte order mark", format: reconcile.FormatCSV, in: "\ufeff", message: "no header"},
		{name: "csv ragged row", format: reconcile.FormatCSV, in: "a,b\n1,2\n1,2,3\n", line: 3, message: "3 fields"},
		{name: "csv short row", format: reconcile.FormatCSV, in: "a;b;c\r\n1;2;3\r\n1;2\r\n", line: 3, message: "2 fields"},
		{name: "csv duplicate column", format: reconcile.FormatCSV, in: "name,serial,Name\n", line: 1, column: "Name", message: "duplicate column"},
		{name: "csv exact duplicate column", format: reconcile.FormatCSV, in: "name, name\n", line: 1, column: "name", message: "duplicate column"},
		{name: "csv empty column name", format: reconcile.FormatCSV, in: "name, ,x\n", line: 1, message: "column 2 has an empty name"},
		{name: "csv bare quote", format: reconcile.FormatCSV, in: "a,b\n1,x\"y\n", line: 2, message: "bare"},
		{name: "csv unterminated quote", format: reconcile.FormatCSV, in: "a,b\n1,\"open\n", line: 2, message: "quote"},
		{name: "csv too many rows", format: reconcile.FormatCSV, in: "a\n1\n2\n3\n", lim: reconcile.Limits{MaxRows: 2}, line: 4, message: "more than 2 rows"},
		{name: "csv too many columns", format: reconcile.FormatCSV, in: "a,b,c\n", lim: reconcile.Limits{MaxColumns: 2}, line: 1, message: "limit of 2"},
		{name: "csv too large", format: reconcile.FormatCSV, in: "a,b\n1,2\n3,4\n", lim: reconcile.Limits{MaxBytes: 10}, message: "larger than 10 bytes"},
		{name: "csv value too long", format: reconcile.FormatCSV, in: "a,b\n1," + big + "\n", line: 2, column: "b", message: "longer than"},
		{name: "json empty", format: reconcile.FormatJSON, in: "  ", message: "empty file"},
		{name: "json scalar", format: reconcile.FormatJSON, in: `"x"`, message: "got string"},
		{name: "json nested object", format: reconcile.FormatJSON, in: `[{"name":"a"},{"name":"b","os":{"family":"linux"}}]`, line: 2, column: "os", message: "nested object"},
		{name: "json nested array", format: reconcile.FormatJSON, in: `{"items":[{"ips":["10.0.0.1"]}]}`, line: 1, column: "ips", message: "nested array"},
		{name: "json element not an object", format: reconcile.FormatJSON, in: `[{"a":1}, 2]`, line: 2, message: "want an object, got number"},
		{name: "json exact duplicate key", format: reconcile.FormatJSON, in: `[{"a":1},{"b":1,"b ":2}]`, line: 2, column: "b", message: "duplicate key"},
		{name: "json duplicate key", format: reconcile.FormatJSON, in: `[{"Name":"a"," name":"b"}]`, line: 1, column: "name", message: "duplicate key"},
		{name: "json case clash across rows", format: reconcile.FormatJSON, in: `[{"name":"a"},{"Name":"b"}]`, line: 2, column: "Name", message: "only in letter case"},
		{name: "json empty key", format: reconcile.FormatJSON, in: `[{" ":"a"}]`, line: 1, message: "empty key"},
		{name: "json no items", format: reconcile.FormatJSON, in: `{"rows":[]}`, message: `no "items"`},
		{name: "json items twice", format: reconcile.FormatJSON, in: `{"items":[],"items":[]}`, message: "twice"},
		{name: "json items not an array", format: reconcile.FormatJSON, in: `{"items":{}}`, message: "must be an array"},
		{name: "json trailing data", format: reconcile.FormatJSON, in: `[] []`, message: "after the top-level value"},
		{name: "json syntax error", format: reconcile.FormatJSON, in: `[{"a":1},{"b" 2}]`, line: 2, message: "invalid JSON"},
		{name: "json truncated", format: reconcile.FormatJSON, in: `[{"a":1},{"b":`, line: 2, message: "end of file"},
		{name: "json too many rows", format: reconcile.FormatJSON, in: `[{},{},{}]`, lim: reconcile.Limits{MaxRows: 2}, line: 3, message: "more than 2 rows"},
		{name: "json too many columns", format: reconcile.FormatJSON, in: `[{"a":1},{"b":1,"c":1}]`, lim: reconcile.Limits{MaxColumns: 2}, line: 2, column: "c", message: "more than 2 columns"},
		{name: "json too large", format: reconcile.FormatJSON, in: `[{"a":"0123456789"}]`, lim: reconcile.Limits{MaxBytes: 12}, message: "larger than 12 bytes"},
		{name: "json value too long", format: reconcile.FormatJSON, in: `[{"a":"` + big + `"}]`, line: 1, column: "a", message: "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := reconcile.Parse(strings.NewReader(tt.in), tt.format, tt.lim)
			var pe *reconcile.Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %#v, %v; want an *Error", got, err)
			}
			if pe.Line != tt.line || pe.Column != tt.column || !strings.Contains(pe.Message, tt.message) {
				t.Errorf("Parse error = {Line: %d, Column: %q, Message: %q}; want {Line: %d, Column: %q, Message containing %q}",
					pe.Line, pe.Column, pe.Message, tt.line, tt.column, tt.message)
			}
			if !reflect.DeepEqual(got, reconcile.Table{}) {
				t.Errorf("Parse returned a table with its error: %#v", got)
			}
		})
	}
}

func TestParseLimitsAtBoundary(t *testing.T) {
	t.Parallel()
	in := "a,b\n1,2\n3,4\n" // 12 bytes, 2 rows, 2 columns
	lim := reconcile.Limits{MaxRows: 2, MaxColumns: 2, MaxBytes: int64(len(in))}
	got, err := reconcile.Parse(strings.NewReader(in), reconcile.FormatCSV, lim)
	if err != nil {
		t.Fatalf("Parse at the limits: %v", err)
	}
	if len(got.Rows) != 2 {
		t.Errorf("got %d rows, want 2", len(got.Rows))
	}
	if _, err := reconcile.Parse(strings.NewReader(in), reconcile.FormatJSON, reconcile.Limits{MaxBytes: math.MaxInt64}); err == nil || strings.Contains(err.Error(), "larger") {
		t.Errorf("Parse with MaxBytes = MaxInt64: %v, want a JSON error", err)
	}
	full := strings.Repeat("x", reconcile.MaxValueBytes)
	if _, err := reconcile.Parse(strings.NewReader("a\n"+full+"\n"), reconcile.FormatCSV, reconcile.Limits{}); err != nil {
		t.Errorf("Parse of a value of exactly MaxValueBytes: %v", err)
	}
}

func TestParseReadError(t *testing.T) {
	t.Parallel()
	for _, f := range []reconcile.Format{reconcile.FormatCSV, reconcile.FormatJSON} {
		_, err := reconcile.Parse(iotest.ErrReader(errors.New("disk on fire")), f, reconcile.Limits{})
		var pe *reconcile.Error
		if !errors.As(err, &pe) || !strings.Contains(pe.Message, "disk on fire") {
			t.Errorf("%s: Parse = %v, want an *Error carrying the read error", f, err)
		}
	}
}

func TestErrorString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  reconcile.Error
		want string
	}{
		{reconcile.Error{Message: "empty file"}, "empty file"},
		{reconcile.Error{Line: 3, Message: "3 fields"}, "line 3: 3 fields"},
		{reconcile.Error{Line: 2, Column: "os", Message: "nested object"}, `line 2: column "os": nested object`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestCheckColumns(t *testing.T) {
	t.Parallel()
	known := map[string]bool{"name": true, "serial_number": true, "hostname": true}
	tests := []struct {
		name string
		cols []string
		want []string
	}{
		{name: "all known", cols: []string{"hostname", "name"}, want: nil},
		{name: "none", cols: nil, want: nil},
		{name: "unknown sorted", cols: []string{"zone", "name", "Serial", "colour"}, want: []string{"Serial", "colour", "zone"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := reconcile.CheckColumns(tt.cols, func(c string) bool { return known[c] })
			if len(got) != len(tt.want) || (len(got) > 0 && !reflect.DeepEqual(got, tt.want)) {
				t.Errorf("CheckColumns(%q) = %q, want %q", tt.cols, got, tt.want)
			}
		})
	}
}
