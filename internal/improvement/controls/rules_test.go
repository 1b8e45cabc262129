package controls

import (
	"strings"
	"testing"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/errs"
)

func locations(err error) []string {
	e, ok := errs.As(err)
	if !ok {
		return nil
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Location)
	}
	return out
}

func TestValidateDocument(t *testing.T) {
	t.Parallel()
	kpi := &KPI{Unit: "%", Target: 70, Direction: HigherIsBetter, Frequency: "monthly"}
	for _, tc := range []struct {
		name string
		kind DocumentKind
		body string
		kpi  *KPI
		want string
	}{
		{"policy", Policy, "text", nil, ""},
		{"unknown kind", "memo", "", nil, "body.kind"},
		{"policy with KPI", Policy, "", kpi, "body.kpi"},
		{"KPI without KPI", KPIDefinition, "", nil, "body.kpi"},
		{"KPI", KPIDefinition, "", kpi, ""},
		{"bad direction", KPIDefinition, "", &KPI{Unit: "%", Direction: "up", Frequency: "monthly"}, "body.kpi.direction"},
		{"no unit", KPIDefinition, "", &KPI{Direction: LowerIsBetter, Frequency: "daily"}, "body.kpi.unit"},
		{"long body", Procedure, strings.Repeat("x", maxText+1), nil, "body.body"},
		{"bad UTF-8", ToolRequirement, "\xff", nil, "body.body"},
	} {
		got := locations(validateDocument(tc.kind, tc.body, tc.kpi))
		if (tc.want == "") != (len(got) == 0) || (tc.want != "" && got[0] != tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFindingRules(t *testing.T) {
	t.Parallel()
	a := func(id int64, s ActionStatus) CorrectiveAction {
		return CorrectiveAction{ID: id, Status: s, DueDate: "2025-03-10"}
	}
	if err := findingClosable([]CorrectiveAction{a(1, ActionDone), a(2, ActionInProgress), a(3, ActionOpen)}); !errs.Is(err, errs.Conflict) ||
		!strings.Contains(err.Error(), "#2, #3") {
		t.Errorf("open actions: %v", err)
	}
	if err := findingClosable([]CorrectiveAction{a(1, ActionCancelled)}); !errs.Is(err, errs.Conflict) {
		t.Errorf("only cancelled: %v", err)
	}
	if err := findingClosable(nil); err == nil {
		t.Error("no actions closes")
	}
	if err := findingClosable([]CorrectiveAction{a(1, ActionDone), a(2, ActionCancelled)}); err != nil {
		t.Errorf("done: %v", err)
	}
	if findingPlanned([]CorrectiveAction{a(1, ActionCancelled)}) == nil || findingPlanned([]CorrectiveAction{a(1, ActionOpen)}) != nil {
		t.Error("planning rule")
	}
	now := time.Date(2025, 3, 10, 23, 0, 0, 0, time.UTC)
	if overdue(a(1, ActionOpen), now) || !overdue(a(1, ActionOpen), now.Add(2*time.Hour)) || overdue(a(1, ActionDone), now.Add(48*time.Hour)) {
		t.Error("overdue rule")
	}
	u := applyActionUpdate(a(1, ActionOpen), ActionUpdate{Status: ptrTo(ActionDone)}, now)
	if u.CompletedAt.IsZero() {
		t.Error("done without completion time")
	}
	if u = applyActionUpdate(u, ActionUpdate{Status: ptrTo(ActionInProgress)}, now); !u.CompletedAt.IsZero() {
		t.Error("reopened keeps its completion time")
	}
	for _, tc := range []struct {
		in   NewAction
		want string
	}{
		{NewAction{Description: "d", OwnerID: 1, DueDate: "2025-03-10"}, ""},
		{NewAction{Description: "d", OwnerID: 1, DueDate: "2025-03-09"}, "body.dueDate"},
		{NewAction{Description: "d", OwnerID: 1, DueDate: "10/03/2025"}, "body.dueDate"},
		{NewAction{Description: " ", OwnerID: 1, DueDate: "2025-04-01"}, "body.description"},
		{NewAction{Description: "d", DueDate: "2025-04-01"}, "body.ownerId"},
	} {
		_, err := validateAction(tc.in, now)
		got := locations(err)
		if (tc.want == "") != (len(got) == 0) || (tc.want != "" && got[0] != tc.want) {
			t.Errorf("%+v: %v, want %q", tc.in, got, tc.want)
		}
	}
}

func TestEvaluationRules(t *testing.T) {
	t.Parallel()
	target := 5.0
	for _, tc := range []struct {
		m    Measurement
		want *bool
	}{
		{Measurement{Value: 6, Target: &target, Direction: HigherIsBetter}, ptrTo(true)},
		{Measurement{Value: 6, Target: &target, Direction: LowerIsBetter}, ptrTo(false)},
		{Measurement{Value: 5, Target: &target, Direction: LowerIsBetter}, ptrTo(true)},
		{Measurement{Value: 6, Target: &target}, nil},
		{Measurement{Value: 6, Direction: HigherIsBetter}, nil},
	} {
		got := met(tc.m)
		if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%+v: %v", tc.m, got)
		}
	}
	if err := evaluationReady(Evaluation{}); err == nil || !strings.Contains(err.Error(), "measurements or stakeholder feedback and a gap analysis") {
		t.Errorf("empty evaluation: %v", err)
	}
	if err := evaluationReady(Evaluation{Feedback: []Feedback{{Source: "a", Text: "b"}}, GapAnalysis: "g"}); err != nil {
		t.Errorf("ready: %v", err)
	}
	got := locations(validateEvaluation("", []Feedback{{Source: "", Text: "t"}}, []Measurement{{Name: "n", Direction: "up"}}, "",
		[]Initiative{{Title: "t", Priority: "urgent"}}))
	want := []string{"body.feedback[0].source", "body.measurements[0].direction", "body.initiatives[0].priority"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("evaluation fields: %v", got)
	}
}

func TestControlActivityNamesTheField(t *testing.T) {
	t.Parallel()
	m, err := framework.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]string{"IM": "IM1", "ChM": "ChM1", "SEC": "SEC1"} {
		a, err := ControlActivity(m, "path.code", code, framework.ControlEstablish)
		if err != nil || a.Code != want {
			t.Errorf("%s: %v, %v", code, a, err)
		}
	}
	if a, err := ControlActivity(m, "path.code", "IM", framework.ControlMonitor); err != nil || a.Code != "IM7" {
		t.Errorf("IM monitor: %v %v", a, err)
	}
	_, err = ControlActivity(m, "path.code", "EVAL", framework.ControlEvaluate)
	if got := locations(err); len(got) != 1 || got[0] != "path.code" || !strings.Contains(err.(*errs.Error).Fields[0].Message, "IM") {
		t.Errorf("EVAL: %v", err)
	}
}

func ptrTo[T any](v T) *T { return &v }
