package framework

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
)

func load(t *testing.T) *Model {
	t.Helper()
	m, err := Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return m
}

func codes[T any](xs []T, code func(T) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = code(x)
	}
	return out
}

func TestCounts(t *testing.T) {
	m := load(t)

	if got, want := codes(m.Domains(), func(d *Domain) string { return d.Code }), []string{"SS", "SD", "ST", "SO", "CSI"}; !slices.Equal(got, want) {
		t.Errorf("domains = %v, want %v", got, want)
	}

	wantProcs := []string{
		"SGM", "BRM", "DM", "FM", "SPM", "SCM", // Service Strategy §9.1
		"DC", "AvM", "CapM", "ISM", "ITSCM", "SLM", "SUP", // Service Design §9.2
		"TPS", "AM", "ChM", "EVAL", "CfM", "KM", "RDM", "SVT", // Service Transition §9.3
		"AcM", "EM", "IM", "PM", "RF", // Service Operations §9.4
		"CSI", // Continual Service Improvement §9.5
		"SEC", // Appendix E, NIST RMF variant of ISM
	}
	if got := codes(m.Processes(), func(p *Process) string { return p.Code }); !slices.Equal(got, wantProcs) {
		t.Errorf("processes = %v\nwant %v", got, wantProcs)
	}
	wantDomain := map[string][]string{
		"SS":  {"SGM", "BRM", "DM", "FM", "SPM", "SCM"},
		"SD":  {"DC", "AvM", "CapM", "ISM", "ITSCM", "SLM", "SUP", "SEC"},
		"ST":  {"TPS", "AM", "ChM", "EVAL", "CfM", "KM", "RDM", "SVT"},
		"SO":  {"AcM", "EM", "IM", "PM", "RF"},
		"CSI": {"CSI"},
	}
	for d, want := range wantDomain {
		if got := codes(m.ProcessesIn(d), func(p *Process) string { return p.Code }); !slices.Equal(got, want) {
			t.Errorf("ProcessesIn(%s) = %v, want %v", d, got, want)
		}
	}

	wantActs := map[string]int{
		"SGM": 7, "BRM": 7, "DM": 8, "FM": 7, "SPM": 8, "SCM": 7,
		"DC": 6, "AvM": 8, "CapM": 7, "ISM": 8, "ITSCM": 8, "SLM": 10, "SUP": 9,
		"TPS": 8, "AM": 8, "ChM": 9, "EVAL": 0, "CfM": 7, "KM": 7, "RDM": 9, "SVT": 6,
		"AcM": 6, "EM": 10, "IM": 8, "PM": 8, "RF": 6,
		"CSI": 9, "SEC": 9,
		"ITSCM.1": 4, "ITSCM.2": 11, "ITSCM.3": 7, "ITSCM.4": 11,
	}
	total := 0
	for code, want := range wantActs {
		p := m.Process(code)
		if p == nil {
			t.Errorf("process %s missing", code)
			continue
		}
		if got := len(p.Activities()); got != want {
			t.Errorf("%s has %d activities, want %d", code, got, want)
		}
		total += want
	}
	if got := len(m.Activities()); got != total || total != 243 {
		t.Errorf("activities = %d, want %d (192 of §9 + 9 CSI + 9 SEC + 33 TAXUD = 243)", got, total)
	}

	if got, want := codes(m.Functions(), func(f *Function) string { return f.Code }),
		[]string{"service-desk", "application-management", "engineering", "it-operations", "technical-management"}; !slices.Equal(got, want) {
		t.Errorf("functions = %v, want %v", got, want)
	}
	if got := len(m.Relationships()); got != 53 {
		t.Errorf("relationships = %d, want 53", got)
	}
	tx := m.TAXUD()
	if got, want := codes(tx.SubProcesses(), func(p *Process) string { return p.Code }), []string{"ITSCM.1", "ITSCM.2", "ITSCM.3", "ITSCM.4"}; !slices.Equal(got, want) {
		t.Errorf("TAXUD sub-processes = %v, want %v", got, want)
	}
	if len(tx.Roles) != 13 || len(tx.Interfaces) != 13 {
		t.Errorf("TAXUD roles = %d, interfaces = %d; want 13 and 13", len(tx.Roles), len(tx.Interfaces))
	}
	for _, r := range []string{"process-owner", "process-manager", "process-developer", "process-analyst",
		"executive-sponsor", "domain-owner", "service-owner", "service-manager", "product-owner", "sme",
		"function-owner", "function-manager", "change-manager", "itsm-service-continuity-manager"} {
		if m.Role(r) == nil {
			t.Errorf("role %s missing", r)
		}
	}
}

func TestEveryProcessHasPurposeActivitiesAndValidDefaultRACI(t *testing.T) {
	m := load(t)
	all := append(m.Processes(), m.TAXUD().SubProcesses()...)
	for _, p := range all {
		if strings.TrimSpace(p.Purpose) == "" {
			t.Errorf("%s: no purpose", p.Code)
		}
		acts := p.Activities()
		if len(acts) == 0 {
			// The one explicit exception: DESMF §9.3.4 says Change Evaluation's activity
			// flows are under development.
			if p.Code != "EVAL" || p.ActivitiesStatus == "" {
				t.Errorf("%s: no activities", p.Code)
			}
		}
		mx := m.DefaultRACI(p.Code)
		if mx.Process != p.Code {
			t.Errorf("%s: DefaultRACI process = %q", p.Code, mx.Process)
		}
		if err := m.Validate(mx); err != nil {
			t.Errorf("%s: default RACI invalid: %v", p.Code, err)
		}
		if err := Validate(DefaultRACI(p.Code)); err != nil {
			t.Errorf("%s: package-level default RACI invalid: %v", p.Code, err)
		}
		if len(mx.Rows) != len(acts) {
			t.Errorf("%s: %d RACI rows for %d activities", p.Code, len(mx.Rows), len(acts))
		}
		for i, row := range mx.Rows {
			if row.Activity != acts[i].Code {
				t.Errorf("%s: row %d is %s, want %s", p.Code, i, row.Activity, acts[i].Code)
			}
		}
	}
}

// TestTemplateMapping checks Table 7.10(B) and its mapping onto processes: first activity
// Establish (A,R,I,C), next-to-last Monitor (I,A,I,R), last Evaluate (A,R,R,R), others
// (I,A,I,R); CSI (no common controls) takes (I,A,I,R) throughout.
func TestTemplateMapping(t *testing.T) {
	m := load(t)
	roles := []string{"process-owner", "process-manager", "process-developer", "process-analyst"}
	row := func(mx Matrix, act string) string {
		var s []string
		for _, r := range roles {
			s = append(s, mx.Cell(act, r).String())
		}
		return strings.Join(s, ",")
	}
	const (
		establish = "A,R,I,C"
		specific  = "I,A,I,R"
		monitor   = "I,A,I,R"
		evaluate  = "A,R,R,R"
	)
	for _, p := range m.Processes() {
		mx := m.DefaultRACI(p.Code)
		if !slices.Equal(mx.Roles, roles) {
			t.Fatalf("%s roles = %v", p.Code, mx.Roles)
		}
		acts := p.Activities()
		for i, a := range acts {
			want := specific
			if p.ControlException == "" {
				switch i {
				case 0:
					want = establish
				case len(acts) - 2:
					want = monitor
				case len(acts) - 1:
					want = evaluate
				}
			}
			if got := row(mx, a.Code); got != want {
				t.Errorf("%s (%s): %s, want %s", a.Code, a.Name, got, want)
			}
		}
	}
	ims := m.DefaultRACI("IM")
	if got := row(ims, "IM1"); got != establish {
		t.Errorf("IM1 = %s", got)
	}
	if got := row(ims, "IM8"); got != evaluate {
		t.Errorf("IM8 = %s", got)
	}
	if got := row(m.DefaultRACI("CSI"), "CSI1"); got != specific {
		t.Errorf("CSI1 = %s", got)
	}
	if mx := m.DefaultRACI("EVAL"); len(mx.Rows) != 0 || mx.Process != "EVAL" {
		t.Errorf("EVAL matrix = %+v", mx)
	}
	if mx := m.DefaultRACI("NOPE"); mx.Process != "" || mx.Rows != nil {
		t.Errorf("unknown process matrix = %+v", mx)
	}
}

func TestTAXUDDefaultRACI(t *testing.T) {
	m := load(t)
	mx := m.DefaultRACI("ITSCM.2")
	if len(mx.Roles) != 13 || len(mx.Rows) != 11 {
		t.Fatalf("ITSCM.2 matrix: %d roles, %d rows", len(mx.Roles), len(mx.Rows))
	}
	for _, c := range []struct{ act, role, want string }{
		{"ITSCM.2.6", "dg-taxud-a4-isd", "I/A/R"},
		{"ITSCM.2.6", "itsm-service-continuity-manager", "R"},
		{"ITSCM.2.9", "dg-taxud-a4-isd", "A/R"},
		{"ITSCM.2.4", "nas", "I/C/R"},
		{"ITSCM.2.1", "itsm-service-continuity-manager", "A/R"},
		{"ITSCM.2.1", "nas", ""},
	} {
		if got := mx.Cell(c.act, c.role).String(); got != c.want {
			t.Errorf("%s/%s = %q, want %q", c.act, c.role, got, c.want)
		}
	}
	if got := m.DefaultRACI("ITSCM.3").Cell("ITSCM.3.3", "dg-taxud-a4-isd").String(); got != "A/R" {
		t.Errorf("ITSCM.3.3 A4/ISD = %q", got)
	}
}

func TestDefaultRACIIsACopy(t *testing.T) {
	m := load(t)
	mx := m.DefaultRACI("ChM")
	mx.Rows[0].Cells["process-owner"] = R
	mx.Roles[0] = "x"
	again := m.DefaultRACI("ChM")
	if again.Cell("ChM1", "process-owner") != A || again.Roles[0] != "process-owner" {
		t.Fatal("DefaultRACI shares state between calls")
	}
	if row, _ := m.RACITemplate().Row(ControlEstablish); row.Cells["process-owner"] != A {
		t.Fatal("editing a default matrix changed the template")
	}
	tx := m.DefaultRACI("ITSCM.1")
	tx.Rows[0].Cells["nas"] = A
	if m.DefaultRACI("ITSCM.1").Cell("ITSCM.1.1", "nas") != 0 {
		t.Fatal("DefaultRACI shares TAXUD rows")
	}
}

// raciErrors returns the *RACIError values joined in err.
func raciErrors(err error) []*RACIError {
	var out []*RACIError
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		if re, ok := e.(*RACIError); ok {
			out = append(out, re)
			return
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}

func TestValidatorRefuses(t *testing.T) {
	m := load(t)
	cases := []struct {
		name     string
		edit     func(*Matrix)
		activity string
		rule     Rule
	}{
		{"two A's", func(mx *Matrix) { mx.Rows[2].Cells["process-owner"] = A }, "IM3", RuleOneAccountable},
		{"no A", func(mx *Matrix) { mx.Rows[2].Cells["process-manager"] = I }, "IM3", RuleOneAccountable},
		{"no R", func(mx *Matrix) { mx.Rows[3].Cells["process-analyst"] = C }, "IM4", RuleResponsible},
		{"unknown role in a cell", func(mx *Matrix) { mx.Rows[4].Cells["wizard"] = C }, "IM5", RuleKnownRole},
		{"known role that is not a column", func(mx *Matrix) { mx.Rows[4].Cells["service-owner"] = C }, "IM5", RuleRoleColumn},
		{"unknown activity", func(mx *Matrix) { mx.Rows[1].Activity = "IM99" }, "IM99", RuleKnownActivity},
		{"activity of another process", func(mx *Matrix) { mx.Rows[1].Activity = "PM2" }, "PM2", RuleKnownActivity},
		{"duplicate row", func(mx *Matrix) { mx.Rows[1].Activity = "IM1" }, "IM1", RuleUniqueRow},
		{"invalid cell", func(mx *Matrix) { mx.Rows[5].Cells["process-developer"] = Cell(0x80) }, "IM6", RuleValidCell},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mx := m.DefaultRACI("IM")
			c.edit(&mx)
			err := m.Validate(mx)
			if err == nil {
				t.Fatal("accepted")
			}
			found := false
			for _, re := range raciErrors(err) {
				if re.Activity == c.activity && re.Rule == c.rule {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %q error for %s in: %v", c.rule, c.activity, err)
			}
			if msg := err.Error(); !strings.Contains(msg, c.activity) || !strings.Contains(msg, string(c.rule)) {
				t.Fatalf("message does not name activity %s and rule %q: %s", c.activity, c.rule, msg)
			}
			var re *RACIError
			if !errors.As(err, &re) {
				t.Fatal("errors.As(*RACIError) failed")
			}
		})
	}

	t.Run("two A's message", func(t *testing.T) {
		mx := m.DefaultRACI("IM")
		mx.Rows[2].Cells["process-owner"] = A
		err := Validate(mx)
		want := "framework: RACI IM3 (process IM): exactly one A per activity: found 2 (process-owner, process-manager)"
		if err == nil || err.Error() != want {
			t.Fatalf("got %v\nwant %s", err, want)
		}
	})
	t.Run("unknown column role", func(t *testing.T) {
		mx := m.DefaultRACI("IM")
		mx.Roles = append(mx.Roles, "wizard")
		re := raciErrors(m.Validate(mx))
		if len(re) != 1 || re[0].Rule != RuleKnownRole || re[0].Role != "wizard" {
			t.Fatalf("got %v", re)
		}
	})
	t.Run("duplicate column", func(t *testing.T) {
		mx := m.DefaultRACI("IM")
		mx.Roles = append(mx.Roles, "process-owner")
		if re := raciErrors(m.Validate(mx)); len(re) != 1 || re[0].Rule != RuleUniqueRole {
			t.Fatalf("got %v", re)
		}
	})
	t.Run("unknown process", func(t *testing.T) {
		mx := m.DefaultRACI("IM")
		mx.Process = "XX"
		re := raciErrors(m.Validate(mx))
		if len(re) == 0 || re[0].Rule != RuleKnownProcess {
			t.Fatalf("got %v", re)
		}
	})
	t.Run("edited matrix with extra role is fine", func(t *testing.T) {
		mx := m.DefaultRACI("ChM")
		mx.Roles = append(mx.Roles, "change-manager")
		mx.Rows[4].Cells["change-manager"] = R
		if err := m.Validate(mx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("TAXUD row with two A's", func(t *testing.T) {
		mx := m.DefaultRACI("ITSCM.4")
		mx.Rows[0].Cells["nas"] = A
		re := raciErrors(m.Validate(mx))
		if len(re) != 1 || re[0].Activity != "ITSCM.4.1" || re[0].Rule != RuleOneAccountable {
			t.Fatalf("got %v", re)
		}
	})
}

func TestCell(t *testing.T) {
	for _, c := range []struct {
		in, out string
		cell    Cell
	}{
		{"A", "A", A}, {"A/R", "A/R", A | R}, {"R/A", "A/R", A | R}, {"I/C/R", "I/C/R", I | C | R},
		{"I/A/R", "I/A/R", I | A | R}, {"", "", 0}, {"-", "", 0}, {"RACI", "I/C/A/R", R | A | C | I},
	} {
		got, err := ParseCell(c.in)
		if err != nil || got != c.cell || got.String() != c.out {
			t.Errorf("ParseCell(%q) = %v (%q), %v; want %v (%q)", c.in, got, got.String(), err, c.cell, c.out)
		}
	}
	for _, bad := range []string{"X", "a", "A/A", "R,A"} {
		if _, err := ParseCell(bad); err == nil {
			t.Errorf("ParseCell(%q) accepted", bad)
		}
	}
	b, err := json.Marshal(map[string]Cell{"x": I | C | R})
	if err != nil || string(b) != `{"x":"I/C/R"}` {
		t.Fatalf("marshal = %s, %v", b, err)
	}
	var back map[string]Cell
	if err := json.Unmarshal(b, &back); err != nil || back["x"] != I|C|R {
		t.Fatalf("unmarshal = %v, %v", back, err)
	}
	if (A|R).Has(A) != true || (A).Has(R) || Cell(0).Has(0) {
		t.Fatal("Has")
	}
}

func TestMatrixJSONRoundTrip(t *testing.T) {
	m := load(t)
	mx := m.DefaultRACI("RF")
	b, err := json.Marshal(mx)
	if err != nil {
		t.Fatal(err)
	}
	var back Matrix
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := m.Validate(back); err != nil {
		t.Fatal(err)
	}
	if back.Cell("RF1", "process-analyst") != C {
		t.Fatalf("round trip lost cells: %s", b)
	}
}

func TestLookups(t *testing.T) {
	m := load(t)
	if p := m.Process("ITSCM"); p == nil || p.Framework != DESMF || p.Domain != "SD" {
		t.Errorf("ITSCM = %+v", p)
	}
	if p := m.Process("ITSCM.3"); p == nil || p.Framework != TAXUD || p.Parent != "ITSCM" || p.Name != "Invoke DRP" {
		t.Errorf("ITSCM.3 = %+v", p)
	}
	if a := m.Activity("ChM5"); a == nil || a.Name != "Authorize and Schedule Change" || a.Process != "ChM" {
		t.Errorf("ChM5 = %+v", a)
	}
	if a := m.Activity("ITSCM.4.11"); a == nil || a.Name != "Communicate Test Report" || a.RACIName != "Communicate Test Reports" {
		t.Errorf("ITSCM.4.11 = %+v", a)
	}
	if a := m.Activity("CSI4"); a == nil || !a.CodeAssigned || a.Phase != "Check" {
		t.Errorf("CSI4 = %+v", a)
	}
	if a := m.Activity("SEC8"); a == nil || a.Kind() != ControlMonitor {
		t.Errorf("SEC8 = %+v", a)
	}
	if p := m.Process("SEC"); p == nil || p.VariantOf != "ISM" {
		t.Errorf("SEC = %+v", p)
	}
	if m.Process("nope") != nil || m.Activity("IM0") != nil || m.Role("nope") != nil || m.Domain("XX") != nil || m.Function("nope") != nil {
		t.Error("lookup of unknown code returned a value")
	}
	if f := m.Function("service-desk"); f == nil || f.PrimaryDomain != "SO" || !slices.Contains(f.PrimaryProcesses, "IM") {
		t.Errorf("service desk = %+v", f)
	}
	if got := m.Processes(); &got[0] == &m.Processes()[0] {
		t.Error("Processes returns the internal slice")
	}
	e1, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if e2, _ := Embedded(); e1 != e2 {
		t.Error("Embedded is not shared")
	}
}
