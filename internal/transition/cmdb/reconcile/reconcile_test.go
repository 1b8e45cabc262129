package reconcile_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"steward/internal/transition/cmdb/reconcile"
)

var rules = []reconcile.Rule{
	{Name: "serial", Fields: []string{"serial_number"}},
	{Name: "host", Fields: []string{"hostname", "domain"}},
}

var compare = []string{"name", "serial_number", "hostname", "domain", "cpus", "virtual", "os"}

func item(id int64, kv ...string) reconcile.Item {
	return reconcile.Item{ID: id, Fields: fields(kv...)}
}

func row(line int, kv ...string) reconcile.Row {
	return reconcile.Row{Line: line, Fields: fields(kv...)}
}

// summary renders findings compactly so table tests can state them in one line each.
func summary(rep reconcile.Report) []string {
	var out []string
	for _, f := range rep.Findings {
		s := fmt.Sprintf("%s item=%d", f.Kind, f.ItemID)
		if f.Row != nil {
			s += fmt.Sprintf(" line=%d", f.Row.Line)
		}
		if f.Rule != "" {
			s += " rule=" + f.Rule
		}
		for _, d := range f.Differences {
			s += fmt.Sprintf(" %s:%q→%q", d.Field, d.Recorded, d.Observed)
		}
		if f.Candidates != nil {
			s += fmt.Sprintf(" candidates=%v", f.Candidates)
		}
		out = append(out, s)
	}
	return out
}

func TestReconcile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		recorded []reconcile.Item
		observed []reconcile.Row
		counts   reconcile.Report // Findings ignored
		findings []string
	}{
		{
			name: "serial number match, normalised, equal attributes",
			recorded: []reconcile.Item{
				item(1, "name", "web1", "serial_number", "ABC 123", "cpus", "4", "virtual", "true"),
			},
			observed: []reconcile.Row{
				row(2, "name", "web1", "serial_number", "  abc   123 ", "cpus", "4.0", "virtual", "TRUE"),
			},
			counts: reconcile.Report{Observed: 1, Matched: 1},
		},
		{
			name: "falls back to hostname and domain when the serial is absent",
			recorded: []reconcile.Item{
				item(1, "serial_number", "S1", "hostname", "web1", "domain", "example.com"),
				item(2, "serial_number", "S2", "hostname", "web2", "domain", "example.com"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "S1", "hostname", "web1"),
				row(3, "serial_number", " ", "hostname", "WEB2", "domain", "Example.COM."),
			},
			counts:   reconcile.Report{Observed: 2, Matched: 2},
			findings: nil,
		},
		{
			name: "serial present but unknown falls through to hostname",
			recorded: []reconcile.Item{
				item(1, "serial_number", "S1", "hostname", "web1", "domain", "example.com"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "S9", "hostname", "web1", "domain", "example.com"),
			},
			counts:   reconcile.Report{Observed: 1, Matched: 1, Mismatched: 1},
			findings: []string{`mismatched item=1 line=2 rule=host serial_number:"S1"→"S9"`},
		},
		{
			name: "mismatch lists differences in compare order; numbers by value; empty observed skipped",
			recorded: []reconcile.Item{
				item(7, "name", "db1", "serial_number", "S7", "cpus", "8", "virtual", "false", "os", "Linux"),
			},
			observed: []reconcile.Row{
				row(4, "name", "db1 ", "serial_number", "s7", "cpus", "16", "virtual", "False", "os", "linux", "hostname", ""),
			},
			counts:   reconcile.Report{Observed: 1, Matched: 1, Mismatched: 1},
			findings: []string{`mismatched item=7 line=4 rule=serial cpus:"8"→"16" os:"Linux"→"linux"`},
		},
		{
			name: "observed value for an attribute the CMDB leaves empty",
			recorded: []reconcile.Item{
				item(1, "serial_number", "S1"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "S1", "cpus", "2", "colour", "red"),
			},
			counts:   reconcile.Report{Observed: 1, Matched: 1, Mismatched: 1},
			findings: []string{`mismatched item=1 line=2 rule=serial cpus:""→"2"`},
		},
		{
			name: "missing and unexpected",
			recorded: []reconcile.Item{
				item(3, "serial_number", "S3"),
				item(1, "serial_number", "S1"),
				item(2, "serial_number", "S2"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "S2"),
				row(3, "serial_number", "S9"),
				row(4, "name", "no identification at all"),
			},
			counts: reconcile.Report{Observed: 3, Matched: 1, Missing: 2, Unexpected: 2},
			findings: []string{
				"missing item=1",
				"missing item=3",
				"unexpected item=0 line=3",
				"unexpected item=0 line=4",
			},
		},
		{
			name: "duplicate: the first row keeps the item",
			recorded: []reconcile.Item{
				item(1, "serial_number", "S1", "hostname", "web1", "domain", "example.com", "cpus", "4"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "S1", "cpus", "4"),
				row(3, "hostname", "web1", "domain", "example.com", "cpus", "8"),
			},
			counts:   reconcile.Report{Observed: 2, Matched: 1, Duplicates: 1},
			findings: []string{"duplicate item=1 line=3 rule=host"},
		},
		{
			name: "ambiguous key stops the search and names the candidates",
			recorded: []reconcile.Item{
				item(5, "serial_number", "DUP", "hostname", "a", "domain", "x"),
				item(4, "serial_number", "dup", "hostname", "b", "domain", "x"),
				item(6, "serial_number", "S6"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "Dup", "hostname", "a", "domain", "x"),
				row(3, "serial_number", "S6"),
			},
			counts:   reconcile.Report{Observed: 2, Matched: 1, Ambiguous: 1},
			findings: []string{"ambiguous item=0 line=2 rule=serial candidates=[4 5]"},
		},
		{
			name: "ambiguous on a later rule",
			recorded: []reconcile.Item{
				item(1, "hostname", "web", "domain", "example.com"),
				item(2, "hostname", "WEB", "domain", "example.com."),
			},
			observed: []reconcile.Row{
				row(9, "serial_number", "unknown", "hostname", "web", "domain", "example.com"),
			},
			counts:   reconcile.Report{Observed: 1, Ambiguous: 1},
			findings: []string{"ambiguous item=0 line=9 rule=host candidates=[1 2]"},
		},
		{
			name: "rule priority: serial beats hostname when they point at different items",
			recorded: []reconcile.Item{
				item(1, "serial_number", "S1", "hostname", "web1", "domain", "example.com"),
				item(2, "serial_number", "S2", "hostname", "web2", "domain", "example.com"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "S2", "hostname", "web1", "domain", "example.com"),
			},
			counts: reconcile.Report{Observed: 1, Matched: 1, Mismatched: 1, Missing: 1},
			findings: []string{
				`mismatched item=2 line=2 rule=serial hostname:"web2"→"web1"`,
				"missing item=1",
			},
		},
		{
			name: "another rule's fields compare in identification form",
			recorded: []reconcile.Item{
				item(1, "serial_number", "S1", "hostname", "web1", "domain", "example.com", "name", "Web1"),
			},
			observed: []reconcile.Row{
				row(2, "serial_number", "S1", "hostname", " WEB1", "domain", "Example.com.", "name", "web1"),
			},
			counts:   reconcile.Report{Observed: 1, Matched: 1, Mismatched: 1},
			findings: []string{`mismatched item=1 line=2 rule=serial name:"Web1"→"web1"`},
		},
		{
			name: "multi-field keys do not run together",
			recorded: []reconcile.Item{
				item(1, "hostname", "ab", "domain", "c"),
			},
			observed: []reconcile.Row{
				row(2, "hostname", "a", "domain", "bc"),
			},
			counts:   reconcile.Report{Observed: 1, Missing: 1, Unexpected: 1},
			findings: []string{"missing item=1", "unexpected item=0 line=2"},
		},
		{
			name:     "nothing recorded, nothing observed",
			counts:   reconcile.Report{},
			findings: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep := reconcile.Reconcile(rules, tt.recorded, tt.observed, compare)
			got := rep
			got.Findings = nil
			if !reflect.DeepEqual(got, tt.counts) {
				t.Errorf("counts = %+v, want %+v", got, tt.counts)
			}
			if s := summary(rep); !reflect.DeepEqual(s, tt.findings) {
				t.Errorf("findings:\n got %s\nwant %s", strings.Join(s, "\n     "), strings.Join(tt.findings, "\n     "))
			}
			if rep.Observed != rep.Matched+rep.Duplicates+rep.Unexpected+rep.Ambiguous {
				t.Errorf("Observed %d != Matched+Duplicates+Unexpected+Ambiguous in %+v", rep.Observed, got)
			}
		})
	}
}

func TestReconcileRuleWithoutFieldsNeverMatches(t *testing.T) {
	t.Parallel()
	rep := reconcile.Reconcile([]reconcile.Rule{{Name: "empty"}},
		[]reconcile.Item{item(1, "serial_number", "S1")},
		[]reconcile.Row{row(2, "serial_number", "S1")}, nil)
	if rep.Matched != 0 || rep.Missing != 1 || rep.Unexpected != 1 {
		t.Errorf("got %v, want one missing and one unexpected", summary(rep))
	}
}

func TestReconcileRowPointsIntoObserved(t *testing.T) {
	t.Parallel()
	observed := []reconcile.Row{row(2, "serial_number", "S9")}
	rep := reconcile.Reconcile(rules, nil, observed, nil)
	if len(rep.Findings) != 1 || rep.Findings[0].Row != &observed[0] {
		t.Fatalf("Findings = %+v, want one pointing at observed[0]", rep.Findings)
	}
}

func TestReconcileDeterministicOrder(t *testing.T) {
	t.Parallel()
	var recorded []reconcile.Item
	var observed []reconcile.Row
	for i := 20; i >= 1; i-- {
		recorded = append(recorded, item(int64(i), "serial_number", fmt.Sprintf("S%d", i), "cpus", "2"))
	}
	// Every third item is observed with a difference, every fifth is observed twice, the
	// rest are missing; plus unknown serials.
	line := 2
	for i := 1; i <= 20; i++ {
		switch {
		case i%5 == 0:
			observed = append(observed, row(line, "serial_number", fmt.Sprintf("S%d", i)), row(line+1, "serial_number", fmt.Sprintf("s%d", i)))
			line += 2
		case i%3 == 0:
			observed = append(observed, row(line, "serial_number", fmt.Sprintf("S%d", i), "cpus", "4"))
			line++
		}
		if i%7 == 0 {
			observed = append(observed, row(line, "serial_number", fmt.Sprintf("X%d", i)))
			line++
		}
	}
	first := summary(reconcile.Reconcile(rules, recorded, observed, compare))
	for range 5 {
		if again := summary(reconcile.Reconcile(rules, recorded, observed, compare)); !reflect.DeepEqual(first, again) {
			t.Fatalf("order differs between runs:\n%s\n---\n%s", strings.Join(first, "\n"), strings.Join(again, "\n"))
		}
	}
	rank := map[string]int{}
	for i, k := range []reconcile.DiffKind{reconcile.KindAmbiguous, reconcile.KindDuplicate, reconcile.KindMismatched, reconcile.KindMissing, reconcile.KindUnexpected} {
		rank[string(k)] = i
	}
	rep := reconcile.Reconcile(rules, recorded, observed, compare)
	for i := 1; i < len(rep.Findings); i++ {
		a, b := rep.Findings[i-1], rep.Findings[i]
		ka, kb := rank[string(a.Kind)], rank[string(b.Kind)]
		la, lb := 0, 0
		if a.Row != nil {
			la = a.Row.Line
		}
		if b.Row != nil {
			lb = b.Row.Line
		}
		if ka > kb || (ka == kb && a.ItemID > b.ItemID) || (ka == kb && a.ItemID == b.ItemID && la > lb) {
			t.Errorf("findings %d and %d out of order: %s / %s", i-1, i, first[i-1], first[i])
		}
	}
	if got, want := len(rep.Findings), rep.Mismatched+rep.Missing+rep.Unexpected+rep.Duplicates+rep.Ambiguous; got != want {
		t.Errorf("%d findings, want %d", got, want)
	}
}

func TestValidateRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		rules []reconcile.Rule
		want  []string // substrings of the error; nil for no error
	}{
		{name: "valid", rules: rules},
		{name: "none", rules: nil, want: []string{"at least one"}},
		{name: "no fields", rules: []reconcile.Rule{{Name: "x"}}, want: []string{"0 fields"}},
		{name: "too many fields", rules: []reconcile.Rule{{Name: "x", Fields: []string{"a", "b", "c", "d", "e"}}}, want: []string{"5 fields"}},
		{name: "four fields is fine", rules: []reconcile.Rule{{Name: "x", Fields: []string{"a", "b", "c", "d"}}}},
		{name: "empty field", rules: []reconcile.Rule{{Name: "x", Fields: []string{"a", " "}}}, want: []string{"field name is empty"}},
		{name: "repeated field", rules: []reconcile.Rule{{Name: "x", Fields: []string{"a", "a"}}}, want: []string{`"a" is listed twice`}},
		{name: "unnamed", rules: []reconcile.Rule{{Fields: []string{"a"}}}, want: []string{"name is required"}},
		{
			name:  "duplicate names, every problem reported",
			rules: []reconcile.Rule{{Name: "serial", Fields: []string{"a"}}, {Name: "Serial", Fields: nil}},
			want:  []string{`"Serial" is used twice`, "0 fields"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := reconcile.ValidateRules(tt.rules)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("ValidateRules = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ValidateRules = nil, want an error containing %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("ValidateRules = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestReconcileValueComparison(t *testing.T) {
	t.Parallel()
	tests := []struct {
		recorded, observed string
		same               bool
	}{
		{"4", "4.0", true},
		{"4", "04", true},
		{"1000", "1e3", true},
		{"1000", "1E+3", true},
		{"0.5", ".5", true},
		{"1", "1.", true},
		{"2.5", "2.50", true},
		{"0", "-0.0", true},
		{"-3", "+3", false},
		{"12345678901234567890", "12345678901234567891", false},
		{"4", "four", false},
		{"0x10", "16", false},
		{"1_000", "1000", false},
		{"inf", "Inf", false},
		{"NaN", "NaN", true},
		{"true", "TRUE", true},
		{"False", " false ", true},
		{"true", "false", false},
		{"yes", "Yes", false},
		{" Linux ", "Linux", true},
		{"Linux", "linux", false},
		{"a  b", "a b", false},
	}
	for _, tt := range tests {
		t.Run(tt.recorded+"/"+tt.observed, func(t *testing.T) {
			t.Parallel()
			rep := reconcile.Reconcile(rules,
				[]reconcile.Item{item(1, "serial_number", "S1", "os", tt.recorded)},
				[]reconcile.Row{row(2, "serial_number", "S1", "os", tt.observed)},
				compare)
			if same := rep.Mismatched == 0; same != tt.same || rep.Matched != 1 {
				t.Errorf("%q vs %q: Matched %d, Mismatched %d; want same=%v", tt.recorded, tt.observed, rep.Matched, rep.Mismatched, tt.same)
			}
		})
	}
}

func TestReconcileIdentificationNormalisation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		recorded, seen string
		rule           reconcile.Rule
		wantMatch      bool
	}{
		{name: "case and inner space", recorded: "Ab  C\t9", seen: " aB c 9 ", rule: rules[0], wantMatch: true},
		{name: "unicode case and no-break space", recorded: "ÜNÏ\u00a0\u2003Serial", seen: "ünï serial", rule: rules[0], wantMatch: true},
		{name: "space is not removed", recorded: "AB C", seen: "ABC", rule: rules[0], wantMatch: false},
		{name: "serial keeps its trailing dot", recorded: "ABC.", seen: "ABC", rule: rules[0], wantMatch: false},
		{name: "invalid UTF-8 compared bytewise", recorded: "A\xff", seen: "a\xfe", rule: rules[0], wantMatch: false},
		{name: "fqdn drops its trailing dot", recorded: "Web1.Example.com.", seen: "web1.example.com", rule: reconcile.Rule{Name: "fqdn", Fields: []string{"fqdn"}}, wantMatch: true},
		{name: "only one trailing dot dropped", recorded: "web1.", seen: "web1..", rule: reconcile.Rule{Name: "fqdn", Fields: []string{"fqdn"}}, wantMatch: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := tt.rule.Fields[0]
			rep := reconcile.Reconcile([]reconcile.Rule{tt.rule},
				[]reconcile.Item{item(1, f, tt.recorded)},
				[]reconcile.Row{row(2, f, tt.seen)}, nil)
			if got := rep.Matched == 1; got != tt.wantMatch {
				t.Errorf("%q vs %q: matched=%v, want %v (%v)", tt.recorded, tt.seen, got, tt.wantMatch, summary(rep))
			}
		})
	}
}
