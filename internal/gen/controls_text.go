package gen

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"steward/internal/framework"
	"steward/internal/improvement/controls"
)

// kpiSpec is a KPI a process measures.
type kpiSpec struct {
	name      string
	unit      string
	target    float64
	direction controls.Direction
	frequency string
}

// kpis lists the KPIs of a process: its own where the model's processes have
// well-known ones, else generic ones in its words.
func kpis(p *framework.Process) []kpiSpec {
	hi, lo := controls.HigherIsBetter, controls.LowerIsBetter
	own := map[string][]kpiSpec{
		"IM": {{"First contact resolution rate", "%", 70, hi, "monthly"}, {"Mean time to restore service (P1)", "hours", 4, lo, "monthly"},
			{"Incidents resolved within SLA", "%", 95, hi, "monthly"}, {"Incidents reopened", "%", 3, lo, "monthly"}},
		"RF": {{"Requests fulfilled within target time", "%", 90, hi, "monthly"}, {"Average fulfilment time", "days", 3, lo, "monthly"}},
		"ChM": {{"Changes causing incidents", "%", 2, lo, "monthly"}, {"Emergency changes", "%", 5, lo, "monthly"},
			{"Changes implemented on schedule", "%", 90, hi, "monthly"}},
		"PM":   {{"Problems with root cause identified within 30 days", "%", 80, hi, "quarterly"}, {"Recurring incidents", "count", 20, lo, "monthly"}},
		"EM":   {{"Events auto-correlated", "%", 85, hi, "monthly"}, {"False-positive alerts", "%", 10, lo, "weekly"}},
		"AcM":  {{"Access requests granted within 2 days", "%", 95, hi, "monthly"}, {"Accounts without review in 90 days", "count", 0, lo, "quarterly"}},
		"SLM":  {{"Service level targets met", "%", 95, hi, "monthly"}, {"Services with an agreed SLA", "%", 100, hi, "quarterly"}},
		"CfM":  {{"CI records verified by audit", "%", 98, hi, "quarterly"}, {"Unauthorised configuration changes", "count", 0, lo, "monthly"}},
		"KM":   {{"Incidents resolved with a knowledge article", "%", 40, hi, "monthly"}, {"Articles past review date", "count", 25, lo, "monthly"}},
		"AvM":  {{"Network availability", "%", 99.9, hi, "monthly"}, {"Unplanned downtime", "hours", 4, lo, "monthly"}},
		"CapM": {{"Capacity-related incidents", "count", 2, lo, "monthly"}, {"Storage utilisation", "%", 80, lo, "weekly"}},
		"ISM":  {{"Critical vulnerabilities patched within 15 days", "%", 95, hi, "monthly"}, {"Security incidents", "count", 3, lo, "monthly"}},
		"ITSCM": {{"Continuity plans tested in the last 12 months", "%", 100, hi, "yearly"},
			{"Recovery time objective met in tests", "%", 100, hi, "quarterly"}},
		"RDM": {{"Releases deployed without rollback", "%", 97, hi, "monthly"}},
		"SUP": {{"Suppliers reviewed against contract", "%", 100, hi, "yearly"}},
		"FM":  {{"Return on investment of service improvements", "%", 15, hi, "yearly"}},
	}
	if k := own[p.Code]; len(k) > 0 {
		return k
	}
	name := p.Name
	return []kpiSpec{
		{name + " records completed within target time", "%", 90, hi, "monthly"},
		{name + " findings open longer than 90 days", "count", 5, lo, "quarterly"},
		{"Stakeholder satisfaction with " + name, "score", 4, hi, "quarterly"},
	}
}

// toolTopics are the technology needs a process states.
func toolTopics() []string {
	return []string{"workflow automation", "reporting dashboards", "integration with the CMDB", "notification and escalation",
		"self-service portal", "audit evidence export", "mobile access for field staff"}
}

// policyBody is the text of a process policy, in the words of its process.
func policyBody(p *framework.Process, version int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Purpose. %s\n\n", p.Purpose)
	if p.Scope != "" {
		fmt.Fprintf(&b, "Scope. %s\n\n", p.Scope)
	}
	fmt.Fprintf(&b, "Policy statements.\n- Every %s record is logged, owned and closed in Steward.\n", p.Name)
	b.WriteString("- Roles and responsibilities follow the process RACI; the Process Owner is accountable for this policy.\n")
	b.WriteString("- Deviations are recorded as findings and corrected under the Monitor, Manage and Report activity.\n")
	b.WriteString("- Performance is evaluated every quarter against the KPIs defined for the process.\n\n")
	fmt.Fprintf(&b, "Review. Reviewed at least yearly by the %s Process Owner. Version %d.", p.Name, version)
	return b.String()
}

// procedureBody is the text of a procedure for one activity.
func procedureBody(p *framework.Process, a *framework.Activity, version int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This procedure details activity %s, %s, of %s.\n\n", a.Code, a.Name, p.Name)
	if a.Description != "" {
		fmt.Fprintf(&b, "%s\n\n", a.Description)
	}
	b.WriteString("Steps.\n1. Confirm the record and its scope.\n2. Perform the activity and record the outcome in the journal.\n")
	b.WriteString("3. Inform the roles marked I in the RACI.\n4. Escalate to the Process Manager when a target is at risk.\n\n")
	fmt.Fprintf(&b, "Version %d.", version)
	return b.String()
}

// findingTemplate is a kind of finding: its title and observation (with the
// process name as %[1]s and a count as %[2]d) and the corrective actions it calls for.
type findingTemplate struct {
	title, observation string
	actions            []string
}

func findingTemplates() []findingTemplate {
	return []findingTemplate{
		{"Backlog above threshold in %[1]s", "The monthly review found %[2]d %[1]s records open past their target date, above the agreed threshold.",
			[]string{"Triage the aged backlog with the assignment groups", "Add a weekly backlog review to the process calendar"}},
		{"%[1]s records closed without resolution notes", "Sampling found %[2]d closed %[1]s records without resolution notes.",
			[]string{"Make resolution notes mandatory at closure", "Brief the service desk on closure standards"}},
		{"KPI target missed for two periods in %[1]s", "A %[1]s KPI missed its target in two consecutive reporting periods (%[2]d points below).",
			[]string{"Analyse the root cause of the missed target", "Propose a corrective initiative to the Process Owner"}},
		{"Roles unassigned in %[1]s", "%[2]d RACI roles of %[1]s had no holder in at least one assignment group.",
			[]string{"Assign the missing roles", "Review role assignments quarterly"}},
		{"Procedure out of date in %[1]s", "The %[1]s procedure still references a tool retired %[2]d days ago.",
			[]string{"Revise the procedure and submit it for review"}},
		{"Escalations not recorded in %[1]s", "%[2]d escalations were handled by e-mail and never recorded in %[1]s records.",
			[]string{"Record escalations in the journal", "Configure escalation notifications"}},
		{"Audit evidence incomplete for %[1]s", "The inspection could not trace %[2]d %[1]s decisions to an approving authority.",
			[]string{"Collect the missing approval evidence", "Require approval steps for these decisions"}},
		{"Duplicate records in %[1]s", "Reporting counted %[2]d duplicate %[1]s records created through e-mail and the portal.",
			[]string{"Merge the duplicates", "Deduplicate inbound e-mail by thread"}},
	}
}

// feedbackSources are the stakeholders who give feedback on a process.
func feedbackSources() []string {
	return []string{"Service Desk", "Mission partner", "Process Owner", "Customer survey", "Inspector General", "Assignment group leads"}
}

func feedbackTexts() []string {
	return []string{
		"Turnaround has improved since the last quarter, but status updates are still inconsistent.",
		"Handoffs between groups lose context; the journal is not always read before acting.",
		"The process works well for routine work; urgent cases still rely on phone calls.",
		"Reports arrive late and in different formats from each site.",
		"Users find the self-service forms confusing and call the desk instead.",
	}
}

// gapAnalysis writes the gap analysis of an evaluation with missed measurements.
func gapAnalysis(p *framework.Process, missed []string) string {
	if len(missed) == 0 {
		return fmt.Sprintf("%s met every measured target this period. The remaining gap is consistency across sites.", p.Name)
	}
	return fmt.Sprintf("%s missed these targets: %s. The main causes are staffing at the smaller sites and manual handoffs "+
		"between assignment groups.", p.Name, strings.Join(missed, "; "))
}

func initiativeTitles() []string {
	return []string{"Automate routing by category", "Train assignment group leads on the process", "Publish a weekly KPI dashboard",
		"Consolidate duplicate intake channels", "Review and retire unused record categories"}
}

// fiscalQuarter names the US federal fiscal quarter of a time in ms: "FY2025 Q3".
func fiscalQuarter(ms int64) string {
	y, m, _ := msTime(ms).Date()
	fy, q := y, (int(m)+2)/3+1
	if m >= 10 {
		fy, q = y+1, 1
	}
	return fmt.Sprintf("FY%d Q%d", fy, q)
}

// pick returns a random element.
func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }
