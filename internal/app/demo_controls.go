package app

// The demo's story of the common process controls (DESMF §6) over three
// months: policies and procedures drafted by process managers and approved —
// or sent back — by process owners, findings with corrective actions, and
// evaluations of process performance.

import (
	"fmt"
	"time"

	"steward/internal/improvement/controls"
)

func f64(v float64) *float64 { return &v }

// quarterBefore names the three months before t, such as "January to March 2026".
func quarterBefore(t time.Time) string {
	from, to := t.AddDate(0, -3, 0), t.AddDate(0, -1, 0)
	if from.Year() == to.Year() {
		return fmt.Sprintf("%s to %s %d", from.Month(), to.Month(), to.Year())
	}
	return fmt.Sprintf("%s %d to %s %d", from.Month(), from.Year(), to.Month(), to.Year())
}

// monthBefore names the month before t, such as "March 2026".
func monthBefore(t time.Time) string {
	m := t.AddDate(0, -1, 0)
	return fmt.Sprintf("%s %d", m.Month(), m.Year())
}

// scheduleControls tells the story of the process controls.
func (d *demo) scheduleControls() {
	d.incidentControls()
	d.requestAndProblemControls()
	d.changeControls()
	d.securityAndContinuityControls()
	d.otherControls()
}

func (d *demo) incidentControls() {
	policy := d.document("IM", d.day(88, 9, 30), controls.NewDocument{Kind: controls.Policy,
		Title:       "Incident Management Policy",
		Description: "What an incident is, who may log one, how it is prioritised and when it is closed.",
		Body: "Scope: every unplanned interruption to, or reduction in the quality of, a JESC service.\n" +
			"- The Service Desk is the single point of contact; every incident is logged, whoever reports it.\n" +
			"- Priority follows impact and urgency (matrix in the procedure); priority 1 targets restoration in 4 hours.\n" +
			"- An incident is closed only when the user confirms, or after three working days without an answer.\n" +
			"- Incidents touching classified systems are handled on the classified enclave only."})
	policy.note(d.day(88, 11, 5), "angela.ruiz", "Checked against DESMF §9.5.1: scope and closure rules are covered; the priority matrix belongs in the procedure.")
	policy.submit(d.day(88, 14, 0), "Ready for approval: reviewed with the shift leads and the NOC.")
	policy.approve(d.day(87, 9, 10), "Approved. Brief all three shifts before the end of the week.")

	procedure := d.document("IM", d.day(86, 10, 0), controls.NewDocument{Kind: controls.Procedure,
		Title:       "Incident Handling Procedure",
		Description: "Step by step: log, categorise, prioritise, diagnose, escalate, resolve and close.",
		Body: "1. Log the incident with the caller's details and the affected service.\n" +
			"2. Categorise and set impact and urgency; the priority follows from the matrix.\n" +
			"3. Search known errors and knowledge articles; resolve at first contact where possible.\n" +
			"4. Escalate to the resolver group when the first-line target passes.\n" +
			"5. Record the resolution and confirm it with the caller before closing."})
	procedure.submit(d.day(86, 15, 30), "For approval.")
	procedure.reject(d.day(85, 8, 45), "Add the functional escalation times for priority 1 and 2 incidents and the hand-off to the NOC.")
	procedure.revise(d.day(85, 13, 0), "1. Log the incident with the caller's details and the affected service.\n"+
		"2. Categorise and set impact and urgency; the priority follows from the matrix.\n"+
		"3. Search known errors and knowledge articles; resolve at first contact where possible.\n"+
		"4. Escalate to the resolver group: priority 1 at once, priority 2 after 30 minutes, others after 4 hours.\n"+
		"5. Network incidents go to the NOC duty officer by phone and by the queue; the desk keeps the caller informed.\n"+
		"6. Record the resolution and confirm it with the caller before closing.", "Added the escalation times and the NOC hand-off as asked.")
	procedure.submit(d.day(85, 13, 20), "Escalation times added; please approve.")
	procedure.approve(d.day(84, 9, 0), "Approved.")

	kpi := d.document("IM", d.day(80, 10, 30), controls.NewDocument{Kind: controls.KPIDefinition,
		Title:       "Incidents resolved within target",
		Description: "Share of incidents resolved within their priority's target time.",
		Body:        "Count the incidents resolved in the month; divide those resolved within the target of their priority by all of them.",
		KPI:         &controls.KPI{Unit: "%", Target: 90, Direction: controls.HigherIsBetter, Frequency: "monthly"}})
	kpi.submit(d.day(80, 11, 0), "Target as agreed in the service level review.")
	kpi.approve(d.day(79, 16, 20), "Approved; report it monthly to the service review board.")

	breach := d.finding("IM", "priya.natarajan", d.day(75, 10, 15), controls.NewFinding{Severity: controls.High,
		Title:       "Priority 1 incidents breached the restoration target",
		Description: "Three of eleven priority 1 incidents last month were restored after more than 4 hours.",
		Observation: "In all three the hand-off from the Service Desk to the NOC took more than 45 minutes: the duty officer was not paged, only queued."})
	breach.assign(d.day(75, 13, 30), teamDesk, "marcus.bell")
	breach.action(d.day(75, 14, 0), "ethan.brooks", 21, "Agree a 15-minute hand-off rule with the NOC and page the duty officer automatically for priority 1.")
	breach.action(d.day(75, 14, 5), "marcus.bell", 30, "Brief all shifts on the new hand-off rule and add it to the procedure.")
	breach.plan(d.day(75, 14, 10), "Two actions: the NOC rule, then the briefing.")
	breach.progress(d.day(70, 9, 0), 0, controls.ActionInProgress, "Paging rule drafted with the NOC watch officers.")
	breach.progress(d.day(60, 16, 0), 0, controls.ActionDone, "Rule agreed; the duty officer is paged automatically for priority 1.")
	breach.progress(d.day(55, 11, 30), 1, controls.ActionDone, "All three shifts briefed; the procedure says it in step 5.")
	breach.close(d.day(54, 9, 15), "Verified: no priority 1 hand-off took longer than 15 minutes in the last four weeks.")

	notes := d.finding("IM", "tom.kowalski", d.day(40, 9, 40), controls.NewFinding{Severity: controls.Medium,
		Title:       "Incidents closed without resolution notes",
		Description: "A sample of last month's closed incidents lacks resolution notes.",
		Observation: "18% of the incidents closed last month have an empty resolution note, so the known-error search finds nothing for them."})
	notes.assign(d.day(40, 12, 30), teamDesk, "jasmine.carter")
	notes.action(d.day(40, 13, 0), "jasmine.carter", 14, "Make the resolution note mandatory in the closure checklist and coach the agents who skip it.")
	notes.plan(d.day(40, 13, 5), "")
	notes.progress(d.day(35, 10, 0), 0, controls.ActionInProgress, "Checklist drafted; coaching sessions wait for the new shift rota.")

	eval := d.evaluation("IM", d.day(30, 9, 0), controls.NewEvaluation{
		Title:       "Incident Management performance review",
		Description: "Quarterly review of Incident Management against its KPIs.",
		Period:      quarterBefore(d.day(30, 9, 0)),
		Feedback: []controls.Feedback{
			{Source: "Service Desk", Text: "The new NOC hand-off rule made priority 1 calls much calmer; priority 3 escalations still wait too long."},
			{Source: "Logistics Directorate (mission partner)", Text: "Updates during outages are better; we would like an outage notice on the portal."},
		},
		Measurements: []controls.Measurement{
			{Name: "Incidents resolved within target", Value: 86.4, Unit: "%", Target: f64(90), Direction: controls.HigherIsBetter},
			{Name: "First-contact resolution", Value: 71, Unit: "%", Target: f64(70), Direction: controls.HigherIsBetter},
			{Name: "Mean time to restore, priority 1", Value: 3.6, Unit: "hours", Target: f64(4), Direction: controls.LowerIsBetter},
			{Name: "Reopened incidents", Value: 4.1, Unit: "%", Target: f64(5), Direction: controls.LowerIsBetter},
		},
		GapAnalysis: "Resolution within target is 3.6 points short, all of it in priority 3: escalations to Server & Storage wait in the queue overnight.",
		Initiatives: []controls.Initiative{
			{Title: "Overnight queue review for priority 3", Description: "The night shift reviews resolver queues at 02:00 and escalates stale incidents.", Priority: "high"},
			{Title: "Outage notice on the service portal", Priority: "medium"},
		}})
	eval.submit(d.day(29, 15, 0), "Submitted for acceptance.")
	eval.accept(d.day(28, 10, 30), "Accepted. The overnight queue review starts next month.")

	policy2 := policy.newVersion(d.day(22, 10, 0), "Scope: every unplanned interruption to, or reduction in the quality of, a JESC service.\n"+
		"- The Service Desk is the single point of contact; every incident is logged, whoever reports it.\n"+
		"- Priority follows impact and urgency (matrix in the procedure); priority 1 targets restoration in 4 hours.\n"+
		"- A major incident is declared by the incident manager when a mission-critical service is down or more than 200 users are affected; "+
		"the incident manager informs the mission partners within 30 minutes and every hour after.\n"+
		"- An incident is closed only when the user confirms, or after three working days without an answer.\n"+
		"- Incidents touching classified systems are handled on the classified enclave only.",
		"Version 2 adds the major incident declaration and the 30-minute communication rule.")
	policy2.submit(d.day(22, 11, 30), "Major incident rules added after the review; please approve.")
	policy2.approve(d.day(21, 8, 50), "Approved; this replaces version 1.")

	d.evaluation("IM", d.day(3, 14, 0), controls.NewEvaluation{
		Title:       "Incident Management monthly check",
		Description: "Monthly check of the KPIs between quarterly reviews.",
		Period:      monthBefore(d.day(3, 14, 0)),
		Measurements: []controls.Measurement{
			{Name: "Incidents resolved within target", Value: 88.9, Unit: "%", Target: f64(90), Direction: controls.HigherIsBetter},
			{Name: "First-contact resolution", Value: 73, Unit: "%", Target: f64(70), Direction: controls.HigherIsBetter},
		}})
}

func (d *demo) requestAndProblemControls() {
	d.document("RF", d.day(12, 10, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "Request Fulfillment Policy",
		Description: "Which requests are standard, who approves the others, and how fast each is fulfilled.",
		Body: "- Standard requests (accounts, software from the approved list, peripherals) need no further approval.\n" +
			"- Other requests need the requester's supervisor's approval, and the ISSO's for privileged access.\n" +
			"- Standard requests are fulfilled within 3 working days."}).
		submit(d.day(12, 15, 0), "Drafted with the desk; waiting for your approval.")
	d.document("RF", d.day(5, 9, 30), controls.NewDocument{Kind: controls.Procedure,
		Title:       "Standard service request procedure",
		Description: "How the desk fulfils a request from the catalogue.",
		Body:        "1. Check the request is in the catalogue and the requester is entitled.\n2. Fulfil, or route to the fulfilment group.\n3. Confirm with the requester and close."})

	d.document("PM", d.day(84, 10, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "Problem Management Policy",
		Description: "When a problem is raised and how known errors are published.",
		Body: "- A problem is raised for every priority 1 incident and for any incident that recurs three times in a month.\n" +
			"- Root cause analysis is finished within 10 working days of raising the problem.\n" +
			"- Known errors and their workarounds are published to the Service Desk."}).
		submit(d.day(84, 14, 0), "For approval.").
		approve(d.day(82, 9, 30), "Approved.")
	d.document("PM", d.day(65, 9, 0), controls.NewDocument{Kind: controls.Procedure,
		Title:       "Root Cause Analysis Procedure",
		Description: "Raising a problem, analysing it and recording the known error.",
		Body:        "1. Raise the problem and link its incidents.\n2. Analyse with the resolver groups (5 whys, fault tree).\n3. Record the known error and workaround.\n4. Raise a change for the permanent fix."}).
		submit(d.day(65, 16, 0), "").
		approve(d.day(63, 10, 0), "Approved.")

	known := d.finding("PM", "hannah.schultz", d.day(50, 11, 0), controls.NewFinding{Severity: controls.Medium,
		Title:       "Known errors not reaching the Service Desk",
		Description: "Agents do not find known errors when they log incidents.",
		Observation: "Nine known errors recorded since the start of the quarter were never published; agents escalated 37 incidents that had a workaround."})
	known.assign(d.day(50, 14, 30), teamSMO, "james.whitaker")
	known.action(d.day(50, 15, 0), "james.whitaker", 20, "Publish every known error to the knowledge base weekly.")
	known.action(d.day(50, 15, 5), "jasmine.carter", 60, "Add a known-error search to the incident logging form.")
	known.plan(d.day(50, 15, 10), "")
	known.progress(d.day(33, 10, 0), 0, controls.ActionDone, "Weekly publication in place since last Monday; the nine backlog items are published.")
	known.progress(d.day(20, 14, 0), 1, controls.ActionInProgress, "Search box designed with the desk; waiting for the next release.")

	d.evaluation("PM", d.day(20, 9, 0), controls.NewEvaluation{
		Title:       "Problem Management performance review",
		Description: "Quarterly review of Problem Management.",
		Period:      quarterBefore(d.day(20, 9, 0)),
		Measurements: []controls.Measurement{
			{Name: "Root cause found within 10 working days", Value: 64, Unit: "%", Target: f64(80), Direction: controls.HigherIsBetter},
			{Name: "Incidents with a known-error match", Value: 22, Unit: "%"},
		},
		GapAnalysis: "Analysis waits for resolver groups' time; half the late problems waited for Server & Storage.",
		Initiatives: []controls.Initiative{{Title: "Reserve two analysis hours a week in each resolver group", Priority: "high"}}}).
		submit(d.day(19, 11, 0), "").
		accept(d.day(18, 9, 0), "Accepted; raise the reserved hours with the team leads.")
}

func (d *demo) changeControls() {
	d.document("ChM", d.day(89, 9, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "Change Management Policy",
		Description: "Change types, authorities and the change advisory board.",
		Body: "- Standard changes are pre-authorised; normal changes are authorised by the change authority for their risk.\n" +
			"- Emergency changes are reserved for restoring service or closing an actively exploited vulnerability."}).
		submit(d.day(89, 15, 0), "For approval.").
		reject(d.day(88, 10, 0), "State who chairs the CAB and the quorum of the emergency CAB.").
		revise(d.day(87, 9, 30), "- Standard changes are pre-authorised; normal changes are authorised by the change authority for their risk.\n"+
			"- The CAB meets every Tuesday, chaired by the Change Manager; the emergency CAB needs the Change Manager, the ISSO and the owner of the affected service.\n"+
			"- Emergency changes are reserved for restoring service or closing an actively exploited vulnerability.", "Added the CAB chair and the ECAB quorum.").
		submit(d.day(87, 10, 0), "Revised as asked.").
		approve(d.day(86, 14, 30), "Approved.")
	d.document("ChM", d.day(83, 10, 0), controls.NewDocument{Kind: controls.KPIDefinition,
		Title:       "Change success rate",
		Description: "Share of implemented changes that caused no incident and needed no back-out.",
		Body:        "Changes implemented in the month without a linked incident or a back-out, divided by all changes implemented.",
		KPI:         &controls.KPI{Unit: "%", Target: 95, Direction: controls.HigherIsBetter, Frequency: "monthly"}}).
		submit(d.day(83, 11, 0), "").
		approve(d.day(82, 9, 0), "Approved.")
	d.document("ChM", d.day(78, 9, 0), controls.NewDocument{Kind: controls.Procedure,
		Title:       "Normal Change Procedure",
		Description: "From request for change to post-implementation review.",
		Body:        "1. Raise the RFC with its risk assessment and back-out plan.\n2. Assess and schedule.\n3. Authorise at the CAB.\n4. Implement in the window.\n5. Review within five days."}).
		submit(d.day(78, 13, 0), "").
		approve(d.day(76, 9, 45), "Approved.")

	emergency := d.finding("ChM", "natalie.cho", d.day(45, 10, 0), controls.NewFinding{Severity: controls.High,
		Title:       "Emergency changes above the ceiling",
		Description: "Too many changes bypass the CAB as emergencies.",
		Observation: "14 of 61 changes last month were emergency changes (23%) against a 10% ceiling; 9 of them were raised to meet release dates, not to restore service."})
	emergency.assign(d.day(45, 13, 0), teamChange, "patricia.moore")
	emergency.action(d.day(45, 14, 0), "patricia.moore", 14, "Publish the forward schedule of change four weeks ahead and agree release dates with Applications.")
	emergency.action(d.day(45, 14, 5), "olivia.bennett", 21, "Plan application releases into the change schedule instead of raising emergency changes.")
	emergency.plan(d.day(45, 14, 10), "")
	emergency.progress(d.day(30, 16, 0), 1, controls.ActionInProgress, "Release calendar drafted; two releases still clash with the CAB dates.")

	d.evaluation("ChM", d.day(25, 9, 30), controls.NewEvaluation{
		Title:       "Change Management performance review",
		Description: "Quarterly review of Change Management.",
		Period:      quarterBefore(d.day(25, 9, 30)),
		Feedback:    []controls.Feedback{{Source: "Applications", Text: "The weekly CAB is too slow for urgent fixes; a pre-approved list would help."}},
		Measurements: []controls.Measurement{
			{Name: "Change success rate", Value: 96.2, Unit: "%", Target: f64(95), Direction: controls.HigherIsBetter},
			{Name: "Emergency changes", Value: 19, Unit: "%", Target: f64(10), Direction: controls.LowerIsBetter},
		},
		GapAnalysis: "Success is on target; emergency changes are nearly twice the ceiling because releases are not planned into the schedule.",
		Initiatives: []controls.Initiative{{Title: "Catalogue of standard changes for Applications", Priority: "high"}}}).
		submit(d.day(24, 10, 0), "").
		accept(d.day(23, 15, 0), "Accepted.")
}

func (d *demo) securityAndContinuityControls() {
	d.document("AcM", d.day(82, 9, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "Access Management Policy",
		Description: "Least privilege, access requests and recertification.",
		Body: "- Access is granted on a signed DD Form 2875 (SAAR) and the least privilege the duties need.\n" +
			"- Accounts unused for 30 days are disabled; privileged accounts are recertified every quarter.\n" +
			"- Leavers lose access on their last working day."}).
		submit(d.day(82, 11, 0), "").
		approve(d.day(81, 9, 0), "Approved.")
	dormant := d.finding("AcM", "priya.natarajan", d.day(60, 9, 0), controls.NewFinding{Severity: controls.Critical,
		Title:       "Dormant accounts still enabled",
		Description: "The quarterly access review found enabled accounts unused for more than 35 days.",
		Observation: "14 accounts unused for more than 35 days are still enabled; 2 of them hold privileged access to the logistics system."})
	dormant.assign(d.day(60, 9, 20), teamIA, "daniel.foster")
	dormant.action(d.day(60, 9, 30), "priya.natarajan", 3, "Disable the 14 dormant accounts, the two privileged ones first.")
	dormant.action(d.day(60, 9, 35), "daniel.foster", 30, "Automate the 30-day dormant account report and disable job.")
	dormant.plan(d.day(60, 9, 40), "Privileged accounts today.")
	dormant.progress(d.day(59, 11, 0), 0, controls.ActionDone, "All 14 disabled; the two privileged accounts at 09:50 yesterday.")
	dormant.progress(d.day(40, 15, 0), 1, controls.ActionDone, "The nightly job disables accounts unused for 30 days and reports them to the ISSO.")
	dormant.close(d.day(38, 10, 0), "Verified: the job ran every night this week and disabled 3 accounts.")

	d.document("ISM", d.day(58, 10, 0), controls.NewDocument{Kind: controls.ToolRequirement,
		Title:       "Security event forwarding to the SIEM",
		Description: "What the security information and event management system must receive.",
		Body:        "Every server, network device and application forwards its security events to the SIEM within 5 minutes, time-synchronised, kept one year online."}).
		submit(d.day(58, 14, 0), "").
		approve(d.day(57, 9, 0), "Approved.")

	d.document("ITSCM", d.day(80, 9, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "IT Service Continuity Policy",
		Description: "Which services need a disaster recovery plan and how often it is tested.",
		Body:        "- Every mission-critical service has a disaster recovery plan with its RTO and RPO.\n- Each plan is tested at least once a year, and after a major change."}).
		submit(d.day(80, 11, 0), "").
		approve(d.day(78, 10, 0), "Approved.")
	d.document("ITSCM", d.day(70, 9, 0), controls.NewDocument{Kind: controls.Procedure,
		Title:       "Disaster Recovery Test Procedure",
		Description: "Planning, running and reporting a DR test.",
		Body:        "1. Agree the test scope and window with the service owner.\n2. Fail over to the alternate site.\n3. Measure recovery time and data loss against the plan.\n4. Fail back and report."}).
		submit(d.day(70, 15, 0), "").
		approve(d.day(68, 9, 0), "Approved.")
	drTest := d.finding("ITSCM", "kevin.nguyen", d.day(52, 9, 30), controls.NewFinding{Severity: controls.High,
		Title:       "Logistics system DR test not performed",
		Description: "The annual disaster recovery test of the logistics system is overdue.",
		Observation: "The test due last quarter did not take place; the 8-hour recovery time objective has not been verified for 14 months."})
	drTest.assign(d.day(52, 10, 30), teamContinuity, "kevin.nguyen")
	drTest.action(d.day(52, 11, 0), "kevin.nguyen", 30, "Schedule and run the DR test with Server & Storage.")
	drTest.plan(d.day(52, 11, 5), "")
	drTest.progress(d.day(35, 9, 0), 0, controls.ActionInProgress, "Window requested; Server & Storage cannot give one before the storage migration.")
	d.evaluation("ITSCM", d.day(14, 10, 0), controls.NewEvaluation{
		Title:       "Continuity readiness review",
		Description: "Readiness of the disaster recovery plans.",
		Period:      quarterBefore(d.day(14, 10, 0)),
		Measurements: []controls.Measurement{
			{Name: "Mission-critical services with a tested plan", Value: 5, Unit: "of 7", Target: f64(7), Direction: controls.HigherIsBetter},
			{Name: "Plans reviewed in the last 12 months", Value: 100, Unit: "%", Target: f64(100), Direction: controls.HigherIsBetter},
		},
		GapAnalysis: "Two plans are untested: the logistics system (finding open) and the new HR portal.",
		Initiatives: []controls.Initiative{{Title: "Joint DR test window with the storage migration", Priority: "high"}}}).
		submit(d.day(13, 16, 0), "Please accept before the service review board.")
}

func (d *demo) otherControls() {
	d.document("CfM", d.day(76, 9, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "Configuration Management Policy",
		Description: "What is a configuration item and who keeps its record.",
		Body:        "- Every service, server, network device, application and contract is a configuration item.\n- Its record is updated by the change that alters it."}).
		submit(d.day(76, 13, 0), "").
		approve(d.day(75, 9, 0), "Approved.")
	d.finding("CfM", "hannah.schultz", d.day(18, 10, 0), controls.NewFinding{Severity: controls.Medium,
		Title:       "CMDB accuracy below target",
		Description: "The monthly sample audit of configuration records.",
		Observation: "174 of 200 sampled configuration items (87%) match what is installed, against a 95% target; most differences are decommissioned virtual servers."})

	d.document("SLM", d.day(73, 9, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "Service Level Management Policy",
		Description: "How service levels are agreed, measured and reviewed.",
		Body:        "- Every service in the catalogue has a service level agreement with its mission partners.\n- Service levels are reported monthly and reviewed with the partner quarterly."}).
		submit(d.day(73, 14, 0), "").
		approve(d.day(71, 11, 0), "Approved.")
	d.evaluation("SLM", d.day(6, 10, 0), controls.NewEvaluation{
		Title:       "Service level management review",
		Description: "Draft of the quarterly review.",
		Period:      quarterBefore(d.day(6, 10, 0)),
		Feedback:    []controls.Feedback{{Source: "Logistics Directorate (mission partner)", Text: "The monthly report is clear; we want availability per site."}}})

	d.document("EM", d.day(69, 10, 0), controls.NewDocument{Kind: controls.Policy,
		Title:       "Event Management Policy",
		Description: "Which events are monitored and which ones raise incidents.",
		Body:        "- Every network device and server is monitored.\n- Warning events are reviewed by the NOC each shift; exceptions raise an incident automatically."}).
		submit(d.day(69, 11, 0), "").
		approve(d.day(67, 9, 0), "Approved.")

	d.document("KM", d.day(9, 10, 0), controls.NewDocument{Kind: controls.Procedure,
		Title:       "Knowledge Article Lifecycle",
		Description: "Drafting, reviewing, publishing and retiring knowledge articles.",
		Body:        "1. Any agent drafts an article from a resolved incident.\n2. The knowledge manager reviews it within 5 days.\n3. Articles unused for a year are reviewed or retired."})
}
