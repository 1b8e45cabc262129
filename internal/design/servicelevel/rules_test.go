package servicelevel_test

import (
	"slices"
	"testing"

	"steward/internal/design/servicelevel"
	"steward/internal/design/servicelevel/sla"
	"steward/internal/platform/errs"
)

// TestValidateTargets refuses each kind of bad target naming its field, and
// fills the defaults of a good one.
func TestValidateTargets(t *testing.T) {
	t.Parallel()
	good := func() []servicelevel.Target {
		return []servicelevel.Target{
			{Name: "P1 resolution", Kind: servicelevel.Resolution, Priority: 1, DurationMs: hours(4)},
			{Name: "Availability", Kind: servicelevel.Availability, Percent: 99.9},
		}
	}
	stop := sla.Rule{Stop: sla.Condition{States: []string{"done"}}}
	for _, tc := range []struct {
		name   string
		change func(ts []servicelevel.Target)
		loc    string
	}{
		{"no name", func(ts []servicelevel.Target) { ts[0].Name = " " }, "body.targets[0].name"},
		{"same name", func(ts []servicelevel.Target) { ts[1].Name = "p1 RESOLUTION" }, "body.targets[1].name"},
		{"unknown kind", func(ts []servicelevel.Target) { ts[0].Kind = "speed" }, "body.targets[0].kind"},
		{"priority 6", func(ts []servicelevel.Target) { ts[0].Priority = 6 }, "body.targets[0].priority"},
		{"no duration", func(ts []servicelevel.Target) { ts[0].DurationMs = 0 }, "body.targets[0].durationMs"},
		{"two years", func(ts []servicelevel.Target) { ts[0].DurationMs = hours(2 * 366 * 24) }, "body.targets[0].durationMs"},
		{"goal above 100", func(ts []servicelevel.Target) { ts[0].Percent = 101 }, "body.targets[0].percent"},
		{"availability 0", func(ts []servicelevel.Target) { ts[1].Percent = 0 }, "body.targets[1].percent"},
		{"availability with a duration", func(ts []servicelevel.Target) { ts[1].DurationMs = 5 }, "body.targets[1].durationMs"},
		{"availability per priority", func(ts []servicelevel.Target) { ts[1].Priority = 1 }, "body.targets[1].priority"},
		{"availability of records", func(ts []servicelevel.Target) { ts[1].RecordTypes = []string{"incident"} }, "body.targets[1].recordTypes"},
		{"availability rule", func(ts []servicelevel.Target) { ts[1].Rule = &stop }, "body.targets[1].rule"},
		{"bad record type", func(ts []servicelevel.Target) { ts[0].RecordTypes = []string{"Incident!"} }, "body.targets[0].recordTypes[0]"},
		{"default rule, two types", func(ts []servicelevel.Target) { ts[0].RecordTypes = []string{"incident", "problem"} }, "body.targets[0].recordTypes"},
		{"bad category", func(ts []servicelevel.Target) { ts[0].Categories = []string{"Net work"} }, "body.targets[0].categories[0]"},
		{"bad team", func(ts []servicelevel.Target) { ts[0].CustomerTeams = []int64{0} }, "body.targets[0].customerTeams[0]"},
		{"custom without rule", func(ts []servicelevel.Target) { ts[0].Kind = servicelevel.Custom }, "body.targets[0].rule"},
		{"rule that never stops", func(ts []servicelevel.Target) { ts[0].Rule = &sla.Rule{} }, "body.targets[0].rule.stop"},
		{"rule on an unknown field", func(ts []servicelevel.Target) {
			ts[0].Rule = &sla.Rule{Stop: stop.Stop, Pause: sla.Condition{Fields: map[string][]string{"colour": {"red"}}}}
		}, "body.targets[0].rule.pause.fields.colour"},
		{"warning 100", func(ts []servicelevel.Target) { ts[0].Warnings = []int{50, 100} }, "body.targets[0].warnings[1]"},
		{"warnings descending", func(ts []servicelevel.Target) { ts[0].Warnings = []int{80, 50} }, "body.targets[0].warnings[1]"},
		{"escalation off a threshold", func(ts []servicelevel.Target) {
			ts[0].Escalations = []sla.Escalation{{Threshold: 60, Action: "notify", Audience: []string{"team"}}}
		}, "body.targets[0].escalations[0].threshold"},
		{"unknown action", func(ts []servicelevel.Target) {
			ts[0].Escalations = []sla.Escalation{{Threshold: 100, Action: "page"}}
		}, "body.targets[0].escalations[0].action"},
		{"reassign nowhere", func(ts []servicelevel.Target) {
			ts[0].Escalations = []sla.Escalation{{Threshold: 100, Action: "reassign"}}
		}, "body.targets[0].escalations[0].teamId"},
		{"notify nobody", func(ts []servicelevel.Target) {
			ts[0].Escalations = []sla.Escalation{{Threshold: 75, Action: "notify"}}
		}, "body.targets[0].escalations[0].audience"},
		{"id twice", func(ts []servicelevel.Target) { ts[0].ID, ts[1].ID = 4, 4 }, "body.targets[1].id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := good()
			tc.change(ts)
			err := servicelevel.ValidateTargets(ts)
			if errs.KindOf(err) != errs.Invalid || !fieldAt(err, tc.loc) {
				t.Fatalf("%v, want 422 at %s", err, tc.loc)
			}
		})
	}
	ts := good()
	if err := servicelevel.ValidateTargets(ts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ts[0].Warnings, []int{75}) || ts[0].RecordTypes == nil || len(ts[1].Warnings) != 0 {
		t.Fatalf("defaults: %+v", ts)
	}
}

// TestValidateTerms refuses bad terms naming the field.
func TestValidateTerms(t *testing.T) {
	t.Parallel()
	targets := []servicelevel.Target{{ID: 7, Kind: servicelevel.Resolution}, {ID: 8, Kind: servicelevel.Availability}}
	good := servicelevel.Term{TargetID: 7, Kind: servicelevel.Penalty, Trigger: servicelevel.BreachesOver, Threshold: 2, Amount: 10, Currency: "EUR"}
	for _, tc := range []struct {
		name   string
		change func(*servicelevel.Term)
		loc    string
	}{
		{"kind", func(x *servicelevel.Term) { x.Kind = "fine" }, "body.terms[0].kind"},
		{"trigger", func(x *servicelevel.Term) { x.Trigger = "always" }, "body.terms[0].trigger"},
		{"fractional breaches", func(x *servicelevel.Term) { x.Threshold = 1.5 }, "body.terms[0].threshold"},
		{"achievement 0", func(x *servicelevel.Term) { x.Trigger, x.Threshold = servicelevel.AchievementBelow, 0 }, "body.terms[0].threshold"},
		{"negative amount", func(x *servicelevel.Term) { x.Amount = -1 }, "body.terms[0].amount"},
		{"no currency", func(x *servicelevel.Term) { x.Currency = "" }, "body.terms[0].currency"},
		{"bad currency", func(x *servicelevel.Term) { x.Currency = "euro" }, "body.terms[0].currency"},
		{"unknown target", func(x *servicelevel.Term) { x.TargetID = 9 }, "body.terms[0].targetId"},
		{"availability target", func(x *servicelevel.Term) { x.TargetID = 8 }, "body.terms[0].targetId"},
	} {
		term := good
		tc.change(&term)
		if err := servicelevel.ValidateTerms([]servicelevel.Term{term}, targets); !fieldAt(err, tc.loc) {
			t.Fatalf("%s: %v, want 422 at %s", tc.name, err, tc.loc)
		}
	}
	if err := servicelevel.ValidateTerms([]servicelevel.Term{good}, targets); err != nil {
		t.Fatal(err)
	}
}
