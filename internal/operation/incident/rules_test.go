package incident

import (
	"strings"
	"testing"
	"time"

	"steward/internal/operation/incident/servicenow"
	"steward/internal/platform/errs"
)

func namesField(err error, loc string) bool {
	e, ok := errs.As(err)
	if !ok {
		return false
	}
	for _, f := range e.Fields {
		if f.Location == loc {
			return true
		}
	}
	return false
}

// TestPriorityMatrix is ITIL's 3×3 matrix, and every value outside it named.
func TestPriorityMatrix(t *testing.T) {
	m := DefaultMatrix()
	for _, tc := range []struct {
		impact, urgency, want int
		bad                   []string
	}{
		{1, 1, 1, nil}, {1, 2, 2, nil}, {1, 3, 3, nil},
		{2, 1, 2, nil}, {2, 2, 3, nil}, {2, 3, 4, nil},
		{3, 1, 3, nil}, {3, 2, 4, nil}, {3, 3, 5, nil},
		{4, 1, 0, []string{"body.impact"}},
		{0, 1, 0, []string{"body.impact"}},
		{1, 4, 0, []string{"body.urgency"}},
		{-1, 0, 0, []string{"body.impact", "body.urgency"}},
	} {
		got, err := Priority(m, tc.impact, tc.urgency)
		if len(tc.bad) == 0 {
			if err != nil || got != tc.want {
				t.Errorf("impact %d × urgency %d = P%d, %v; want P%d", tc.impact, tc.urgency, got, err, tc.want)
			}
			continue
		}
		if errs.KindOf(err) != errs.Invalid {
			t.Errorf("impact %d × urgency %d: %v, want Invalid", tc.impact, tc.urgency, err)
		}
		for _, loc := range tc.bad {
			if !namesField(err, loc) {
				t.Errorf("impact %d × urgency %d: %v does not name %s", tc.impact, tc.urgency, err, loc)
			}
		}
	}
	// A configured 2×4 matrix.
	small := [][]int{{1, 2, 3, 4}, {2, 3, 4, 5}}
	if p, err := Priority(small, 2, 4); err != nil || p != 5 {
		t.Errorf("2×4: P%d, %v", p, err)
	}
	if _, err := Priority(small, 3, 1); !namesField(err, "body.impact") {
		t.Errorf("2×4 impact 3: %v", err)
	}
}

func TestValidateSettings(t *testing.T) {
	if err := ValidateSettings(DefaultSettings()); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(*IncidentSettings)
		loc  string
	}{
		{"no matrix", func(s *IncidentSettings) { s.Matrix = nil }, "body.matrix"},
		{"six rows", func(s *IncidentSettings) { s.Matrix = [][]int{{1}, {1}, {1}, {1}, {1}, {1}} }, "body.matrix"},
		{"ragged", func(s *IncidentSettings) { s.Matrix = [][]int{{1, 2}, {1}} }, "body.matrix[1]"},
		{"priority 6", func(s *IncidentSettings) { s.Matrix[2][2] = 6 }, "body.matrix[2][2]"},
		{"no codes", func(s *IncidentSettings) { s.ResolutionCodes = nil }, "body.resolutionCodes"},
		{"bad code", func(s *IncidentSettings) { s.ResolutionCodes[0].Key = "Fixed It" }, "body.resolutionCodes[0].key"},
		{"twice", func(s *IncidentSettings) { s.ResolutionCodes[1].Key = s.ResolutionCodes[0].Key }, "body.resolutionCodes[1].key"},
		{"no label", func(s *IncidentSettings) { s.ResolutionCodes[0].Label = "" }, "body.resolutionCodes[0].label"},
		{"auto-close", func(s *IncidentSettings) { s.AutoCloseDays = -1 }, "body.autoCloseDays"},
		{"reopen", func(s *IncidentSettings) { s.ReopenDays = 400 }, "body.reopenDays"},
		{"major", func(s *IncidentSettings) { s.MajorPriority = 6 }, "body.majorPriority"},
		{"security key", func(s *IncidentSettings) { s.SecurityCategories = []string{"CAT 1"} }, "body.securityCategories[0]"},
		{"role", func(s *IncidentSettings) { s.SecurityRoles = []string{"Boss"} }, "body.securityRoles[0]"},
	} {
		s := DefaultSettings()
		tc.mod(&s)
		if err := ValidateSettings(s); !namesField(err, tc.loc) {
			t.Errorf("%s: %v does not name %s", tc.name, err, tc.loc)
		}
	}
}

func TestPathFor(t *testing.T) {
	s := DefaultSettings()
	for _, tc := range []struct {
		current, category string
		prio              int
		child             bool
		want              string
	}{
		{"", "software", 3, false, PathNormal},
		{"", "software", 1, false, PathMajor},
		{"", "software", 1, true, PathNormal},
		{"", "cnd-cat-1", 1, false, PathSecurity},
		{PathMajor, "software", 5, false, PathMajor},
		{PathSecurity, "network", 3, false, PathNormal},
		{PathNormal, "cnd-cat-9", 2, false, PathSecurity},
	} {
		if got := pathFor(s, tc.current, tc.category, tc.prio, tc.child); got != tc.want {
			t.Errorf("pathFor(%q, %q, P%d, child %v) = %s, want %s", tc.current, tc.category, tc.prio, tc.child, got, tc.want)
		}
	}
	s.MajorPriority = 0
	if got := pathFor(s, "", "software", 1, false); got != PathNormal {
		t.Errorf("threshold off: %s", got)
	}
	s.MajorPriority = 2
	if got := pathFor(s, "", "software", 2, false); got != PathMajor {
		t.Errorf("threshold P2: %s", got)
	}
}

func TestValidateStep(t *testing.T) {
	s := DefaultSettings()
	for _, tc := range []struct {
		action string
		f      StepFields
		loc    string // "" for valid
	}{
		{"investigate", StepFields{}, ""},
		{"investigate", StepFields{Reason: "x"}, "body.reason"},
		{"hold", StepFields{HoldReason: "awaiting_supplier"}, ""},
		{"hold", StepFields{}, "body.holdReason"},
		{"hold", StepFields{HoldReason: "lunch"}, "body.holdReason"},
		{"resolve", StepFields{ResolutionCode: "workaround", ResolutionNotes: "done", EffortMinutes: 5, FirstContact: true}, ""},
		{"resolve", StepFields{ResolutionCode: "workaround"}, "body.resolutionNotes"},
		{"resolve", StepFields{ResolutionCode: "nope", ResolutionNotes: "x"}, "body.resolutionCode"},
		{"resolve", StepFields{ResolutionCode: "workaround", ResolutionNotes: "x", EffortMinutes: -1}, "body.effortMinutes"},
		{"reject_resolution", StepFields{}, "body.reason"},
		{"reject_resolution", StepFields{Reason: "still broken"}, ""},
		{"close", StepFields{ClosureCategory: "network", ClosureSubcategory: "dns"}, ""},
		{"close", StepFields{ClosureSubcategory: "dns"}, "body.closureSubcategory"},
		{"confirm", StepFields{ClosureCategory: "Bad Key"}, "body.closureCategory"},
		{"confirm", StepFields{HoldReason: "awaiting_caller"}, "body.holdReason"},
		{"reopen", StepFields{Reason: strings.Repeat("x", 5000)}, "body.reason"},
		{"reclassify", StepFields{CatalogItemID: -1}, "body.catalogItemId"},
		{"reclassify", StepFields{CatalogItemID: 3}, ""},
	} {
		err := validateStep(tc.action, tc.f, s)
		if tc.loc == "" && err != nil {
			t.Errorf("%s %+v: %v", tc.action, tc.f, err)
		}
		if tc.loc != "" && !namesField(err, tc.loc) {
			t.Errorf("%s %+v: %v does not name %s", tc.action, tc.f, err, tc.loc)
		}
	}
}

func TestReopenWindowAndEscalation(t *testing.T) {
	closed := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	if err := checkReopen("INC1", closed, closed.Add(10*24*time.Hour), 10); err != nil {
		t.Errorf("on the last moment: %v", err)
	}
	if err := checkReopen("INC1", closed, closed.Add(10*24*time.Hour+time.Second), 10); errs.KindOf(err) != errs.Conflict {
		t.Errorf("after the window: %v", err)
	}
	if err := checkReopen("INC1", closed, closed, 0); errs.KindOf(err) != errs.Conflict {
		t.Errorf("switched off: %v", err)
	}
	for level := range 3 {
		if n, err := nextEscalation("INC1", level); err != nil || n != level+1 {
			t.Errorf("escalate from %d: %d, %v", level, n, err)
		}
	}
	if _, err := nextEscalation("INC1", 3); errs.KindOf(err) != errs.Conflict {
		t.Errorf("escalate from 3: %v", err)
	}
}

func TestSearchTermsAndKeys(t *testing.T) {
	got := searchTerms(`DNS "timeout" OR name:* (mail)`)
	want := []string{"dns", "timeout", "or", "name", "mail"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("terms %v, want %v", got, want)
	}
	for k, ok := range map[string]bool{"network": true, "cnd-cat-1": true, "a_b": true, "": false, "-x": false, "Network": false,
		strings.Repeat("a", 41): false, "category-55": true} {
		if ValidKey(k) != ok {
			t.Errorf("ValidKey(%q) = %v", k, !ok)
		}
	}
}

func TestMapServiceNow(t *testing.T) {
	s := DefaultSettings()
	yes := true
	opened := time.Date(2016, 2, 29, 1, 16, 0, 0, time.UTC)
	in := servicenow.Incident{Number: "INC0000045", State: "closed", SourceState: "Closed", Impact: 2, Urgency: 1, Priority: 3,
		Category: "category-55", CategoryLabel: "Category 55", Subcategory: "subcategory-170", SubcategoryLabel: "Subcategory 170",
		Symptom: "Symptom 72", Channel: "phone", Caller: "Caller 2403", AssignmentGroup: "Group 56", ReassignmentCount: 2,
		ReopenCount: 1, MadeSLA: &yes, ClosedCode: "code 5", OpenedAt: opened, UpdatedAt: opened.Add(time.Hour),
		ResolvedAt: opened.Add(10 * time.Hour), ClosedAt: opened.Add(5 * 24 * time.Hour)}
	m, err := mapServiceNow(s, in)
	if err != nil {
		t.Fatal(err)
	}
	w := m.Row
	if m.Priority != 2 || w.ExternalPriority != 3 || m.State != StateClosed || m.CreatedAt != opened.UnixMilli() ||
		w.ClosedAt != in.ClosedAt.UnixMilli() || w.ResolvedAt != in.ResolvedAt.UnixMilli() || w.ResolutionCode != "code-5" ||
		w.Category != "category-55" || w.Channel != "phone" || m.Reassignments != 2 || w.ReopenCount != 1 || w.MadeSLA == nil ||
		!*w.MadeSLA || w.ExternalCaller != "Caller 2403" || m.Title != "Category 55 / Subcategory 170 (INC0000045)" ||
		!strings.Contains(m.Description, "Symptom 72") || w.Path != PathNormal {
		t.Fatalf("mapped: %+v", m)
	}
	if m.hash() != m.hash() {
		t.Fatal("hash is not stable")
	}
	in2 := in
	in2.ReassignmentCount = 3
	m2, _ := mapServiceNow(s, in2)
	if m2.hash() == m.hash() {
		t.Fatal("hash ignores a change")
	}
	held := in
	held.State, held.SourceState, held.Impact, held.Urgency, held.Channel = StateOnHold, "Awaiting Vendor", 0, 0, "smoke signal"
	m, err = mapServiceNow(s, held)
	if err != nil || m.Row.HoldReason != "awaiting_supplier" || m.Row.Impact != 2 || m.Row.Urgency != 2 || m.Row.Channel != "import" {
		t.Fatalf("held: %+v, %v", m.Row, err)
	}
	for _, bad := range []servicenow.Incident{{State: "new", OpenedAt: opened}, {Number: "X", State: "gone", OpenedAt: opened},
		{Number: "X", State: "new"}, {Number: "X", State: "new", Impact: 5, OpenedAt: opened}} {
		if _, err := mapServiceNow(s, bad); err == nil {
			t.Errorf("%+v mapped", bad)
		}
	}
	for src, want := range map[string]string{"Awaiting User Info": "awaiting_caller", "Awaiting Problem": "awaiting_change",
		"Awaiting Evidence": "awaiting_caller", "Awaiting Change": "awaiting_change"} {
		if got := holdReasonOf(src); got != want {
			t.Errorf("holdReasonOf(%q) = %s, want %s", src, got, want)
		}
	}
}
