package problem_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"steward/internal/operation/problem"
	"steward/internal/platform/errs"
)

func TestPriority(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ impact, urgency, want int }{
		{1, 1, 1}, {1, 2, 2}, {1, 3, 3},
		{2, 1, 2}, {2, 2, 3}, {2, 3, 4},
		{3, 1, 3}, {3, 2, 4}, {3, 3, 5},
		{0, 1, 0}, {4, 1, 0}, {1, 0, 0}, {1, 4, 0}, {-1, -1, 0},
	} {
		if got := problem.Priority(tc.impact, tc.urgency); got != tc.want {
			t.Errorf("Priority(%d, %d) = %d, want %d", tc.impact, tc.urgency, got, tc.want)
		}
	}
}

// locations lists the field locations of a classified error.
func locations(err error) []string {
	e, ok := errs.As(err)
	if !ok {
		return nil
	}
	out := []string{}
	for _, f := range e.Fields {
		out = append(out, f.Location)
	}
	return out
}

func TestValidateDetails(t *testing.T) {
	t.Parallel()
	ok := problem.Details{Category: "network", Subcategory: "dns", Impact: 1, Urgency: 3}
	for _, tc := range []struct {
		name string
		d    problem.Details
		want []string
	}{
		{"fine", ok, nil},
		{"no category at all", problem.Details{Impact: 2, Urgency: 2}, nil},
		{"upper-case key", problem.Details{Category: "Network", Impact: 2, Urgency: 2}, []string{"body.category"}},
		{"subcategory alone", problem.Details{Subcategory: "dns", Impact: 2, Urgency: 2}, []string{"body.subcategory"}},
		{"bad subcategory", problem.Details{Category: "network", Subcategory: "d n s", Impact: 2, Urgency: 2}, []string{"body.subcategory"}},
		{"impact off the matrix", problem.Details{Impact: 4, Urgency: 2}, []string{"body.impact"}},
		{"urgency off the matrix", problem.Details{Impact: 1, Urgency: 0}, []string{"body.urgency"}},
		{"negative CI", problem.Details{Impact: 1, Urgency: 1, CIID: -3}, []string{"body.ci"}},
	} {
		got := locations(problem.ValidateDetails(tc.d))
		if tc.want == nil && got != nil || tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%s: locations %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNormalizeNumbers(t *testing.T) {
	t.Parallel()
	got, err := problem.NormalizeNumbers("body.incidents", []string{" inc0000001", "INC0000002"})
	if err != nil || !slices.Equal(got, []string{"INC0000001", "INC0000002"}) {
		t.Fatalf("normalised %v, %v", got, err)
	}
	_, err = problem.NormalizeNumbers("body.incidents", []string{"INC0000001", "nope", "inc0000001"})
	if !slices.Equal(locations(err), []string{"body.incidents[1]", "body.incidents[2]"}) {
		t.Fatalf("bad and twice: %v", err)
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = "INC0000001"
	}
	if _, err := problem.NormalizeNumbers("body.incidents", many); !slices.Equal(locations(err), []string{"body.incidents"}) {
		t.Fatalf("too many: %v", err)
	}
}

func TestValidateTrend(t *testing.T) {
	t.Parallel()
	from := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 1, 0)
	for _, tc := range []struct {
		name string
		tr   *problem.ProblemTrend
		want []string
	}{
		{"none", nil, nil},
		{"fine", &problem.ProblemTrend{By: problem.TrendByCI, Key: "42", From: from, To: to, Count: 9}, nil},
		{"unknown grouping", &problem.ProblemTrend{By: "team", Key: "x", From: from, To: to}, []string{"body.trend.by"}},
		{"no key", &problem.ProblemTrend{By: problem.TrendByCategory, Key: "  ", From: from, To: to}, []string{"body.trend.key"}},
		{"backwards", &problem.ProblemTrend{By: problem.TrendByService, Key: "7", From: to, To: from}, []string{"body.trend.to"}},
		{"no period", &problem.ProblemTrend{By: problem.TrendByService, Key: "7", Count: -1},
			[]string{"body.trend.from", "body.trend.to", "body.trend.count"}},
	} {
		got := locations(problem.ValidateTrend(tc.tr))
		if tc.want == nil && got != nil || tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%s: locations %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateRCA(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   problem.NewRCA
		want []string
	}{
		{"findings only", problem.NewRCA{Method: problem.FiveWhys, Findings: "why, why, why"}, nil},
		{"root cause only", problem.NewRCA{Method: problem.Fishbone, RootCause: "expired certificate"}, nil},
		{"evidence of both kinds", problem.NewRCA{Method: problem.Timeline, RootCause: "x",
			Evidence: []problem.RCAEvidence{{Text: "log excerpt"}, {AttachmentID: 4}}}, nil},
		{"unknown method", problem.NewRCA{Method: "guessing", RootCause: "x"}, []string{"body.method"}},
		{"nothing found", problem.NewRCA{Method: problem.FaultTree, Findings: "  "}, []string{"body.findings"}},
		{"evidence of neither kind", problem.NewRCA{Method: problem.OtherMethod, RootCause: "x",
			Evidence: []problem.RCAEvidence{{Text: " "}}}, []string{"body.evidence[0]"}},
		{"evidence of both at once", problem.NewRCA{Method: problem.OtherMethod, RootCause: "x",
			Evidence: []problem.RCAEvidence{{Text: "a"}, {Text: "b", AttachmentID: 3}}}, []string{"body.evidence[1]"}},
		{"control characters", problem.NewRCA{Method: problem.KepnerTregoe, RootCause: "bad\x00cause"}, []string{"body.rootCause"}},
	} {
		got := locations(problem.ValidateRCA(&tc.in))
		if tc.want == nil && got != nil || tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%s: locations %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestValidateReview(t *testing.T) {
	t.Parallel()
	in := problem.NewReview{Summary: " went well ", FollowUps: []string{" train the desk "}}
	if err := problem.ValidateReview(&in); err != nil || in.Summary != "went well" || in.FollowUps[0] != "train the desk" {
		t.Fatalf("fine review: %+v %v", in, err)
	}
	in = problem.NewReview{Summary: "", FollowUps: []string{"ok", " "}}
	if got := locations(problem.ValidateReview(&in)); !slices.Equal(got, []string{"body.summary", "body.followUps[1]"}) {
		t.Fatalf("bad review: %v", got)
	}
}

func TestValidateRFC(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		ref string
		ok  bool
	}{
		{"RFC-2026-0042", true},
		{"https://changes.example.org/rfc/42", true},
		{"http://cab.local/42", true},
		{"", false},
		{"   ", false},
		{"ftp://changes.example.org/42", false},
		{"http://", false},
		{"javascript://alert(1)", false},
		{"RFC-1\nRFC-2", false},
		{strings.Repeat("x", 501), false},
	} {
		err := problem.ValidateRFC("body.rfc", tc.ref)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v, want ok=%v", tc.ref, err, tc.ok)
		}
	}
}

func TestValidateStep(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action string
		in     problem.StepInput
		want   []string
	}{
		{"raise_rfc", problem.StepInput{RFC: " RFC-7 "}, nil},
		{"raise_rfc", problem.StepInput{}, []string{"body.rfc"}},
		{"resolve", problem.StepInput{Resolution: "patched"}, nil},
		{"resolve", problem.StepInput{RFC: "RFC-7"}, []string{"body.rfc"}},
		{"close", problem.StepInput{Resolution: "patched"}, []string{"body.resolution"}},
	} {
		got := locations(problem.ValidateStep(tc.action, &tc.in))
		if tc.want == nil && got != nil || tc.want != nil && !slices.Equal(got, tc.want) {
			t.Errorf("%s %+v: locations %v, want %v", tc.action, tc.in, got, tc.want)
		}
	}
}

func TestPublishable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		symptoms, rootCause, workaround string
		ok                              bool
	}{
		{"VPN drops", "MTU", "", true},
		{"VPN drops", "", "reconnect", true},
		{"VPN drops", " ", " ", false},
		{"", "MTU", "reconnect", false},
	} {
		err := problem.Publishable("KE0000001", tc.symptoms, tc.rootCause, tc.workaround)
		if (err == nil) != tc.ok || (err != nil && !errs.Is(err, errs.Conflict)) {
			t.Errorf("%+v: %v", tc, err)
		}
	}
}
