package cmdb

import "steward/internal/platform/record"

// remediationType is the record type of a configuration remediation task: a
// finding of a verification audit (a missing, unexpected or mismatched CI)
// to put right, performed as CfM5.
func remediationType() record.Type {
	return record.Type{
		Name: "config_remediation", Label: "Configuration remediation", Prefix: "CREM", Process: Process,
		Initial: "open",
		States: []record.State{
			{Name: "open", Label: "Open"},
			{Name: "in_progress", Label: "In progress"},
			{Name: "resolved", Label: "Resolved", Terminal: true},
			{Name: "dismissed", Label: "Dismissed", Terminal: true},
		},
		Transitions: []record.Transition{
			{Action: "start", From: []string{"open"}, To: "in_progress", Activity: ActVerify, Label: "Start"},
			{Action: "resolve", From: []string{"open", "in_progress"}, To: "resolved", Activity: ActVerify, Label: "Resolve"},
			{Action: "dismiss", From: []string{"open", "in_progress"}, To: "dismissed", Activity: ActVerify, Label: "Dismiss"},
		},
		CreateActivity: ActVerify, AssignActivity: ActVerify, UpdateActivity: ActVerify,
	}
}
