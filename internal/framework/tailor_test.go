package framework

import (
	"errors"
	"testing"
)

func TestValidateLocal(t *testing.T) {
	t.Parallel()
	m, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	mx := m.DefaultRACI("IM")
	mx.Roles = append(mx.Roles, "incident-coordinator")
	mx.Rows = append(mx.Rows, RACIRow{Activity: "IM5.1", Cells: map[string]Cell{"process-manager": A, "incident-coordinator": R}})
	local := Local{Roles: map[string]bool{"incident-coordinator": true}, Activities: map[string]string{"IM5.1": "IM", "CHM-X": "ChM"}}

	if err := m.Validate(mx); err == nil {
		t.Fatal("Validate accepts a local role and activity")
	}
	if err := m.ValidateLocal(mx, local); err != nil {
		t.Fatalf("ValidateLocal refuses the local role and activity: %v", err)
	}

	rules := func(err error) map[Rule]int {
		out := map[Rule]int{}
		for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
			var re *RACIError
			if errors.As(e, &re) {
				out[re.Rule]++
			}
		}
		return out
	}
	// The other rules still apply: a local activity of another process, a local role outside
	// the columns, two A's, an unknown role.
	bad := mx.Clone()
	bad.Rows = append(bad.Rows, RACIRow{Activity: "CHM-X", Cells: map[string]Cell{"process-manager": A | R}})
	bad.Rows[4].Cells["process-owner"] = A
	bad.Roles = bad.Roles[:4]
	bad.Rows[1].Cells["wizard"] = C
	got := rules(m.ValidateLocal(bad, local))
	want := map[Rule]int{RuleKnownActivity: 1, RuleRoleColumn: 1, RuleOneAccountable: 1, RuleKnownRole: 1}
	for r, n := range want {
		if got[r] != n {
			t.Errorf("rule %q: %d errors, want %d (all: %v)", r, got[r], n, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("rules broken: %v, want %v", got, want)
	}
}

func TestRoleTitle(t *testing.T) {
	t.Parallel()
	m, err := Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ process, role, want string }{
		{"IM", "process-analyst", "Incident Management Process Analyst/Practitioner"},
		{"RF", "process-owner", "Request Fulfillment Process Owner"},
		{"FM", "process-manager", "Financial Management for IT Services Process Manager"},
		{"ChM", "change-manager", "Change Manager"},
		{"ITSCM.2", "itsm-service-continuity-manager", "ITSM Service Continuity Manager"},
		{"", "process-owner", "Process Owner"},
		{"IM", "wizard", ""},
	} {
		if got := m.RoleTitle(c.process, c.role); got != c.want {
			t.Errorf("RoleTitle(%q, %q) = %q, want %q", c.process, c.role, got, c.want)
		}
	}
}
