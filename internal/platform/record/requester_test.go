package record_test

import (
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// claimType is a ticket whose requester confirms or rejects its resolution.
func claimType() record.Type {
	return record.Type{Name: "claim", Label: "Claim", Prefix: "CLM", Process: "IM", Initial: "open",
		States: []record.State{{Name: "open", Label: "Open"}, {Name: "resolved", Label: "Resolved"},
			{Name: "closed", Label: "Closed", Closed: true}},
		Transitions: []record.Transition{
			{Action: "resolve", From: []string{"open"}, To: "resolved", Activity: "IM5", Label: "Resolve"},
			{Action: "confirm", From: []string{"resolved"}, To: "closed", Activity: "IM6", Label: "Confirm", Requester: true},
			{Action: "reject", From: []string{"resolved"}, To: "open", Activity: "IM5", Label: "Reject", Requester: true},
			{Action: "close", From: []string{"resolved"}, To: "closed", Activity: "IM6", Label: "Close"},
			{Action: "reopen", From: []string{"closed"}, To: "open", Activity: "IM5", Label: "Reopen", Requester: true},
		}}
}

// TestRequesterSteps checks steps a requester may take without a role: the
// caller confirms, a stranger may not, an approval gate does not hold the
// caller up, and Actions explains the caller's right.
func TestRequesterSteps(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		if err := e.svc.Register(claimType()); err != nil {
			t.Fatal(err)
		}
		agent, agentCtx := e.user("agent", false)
		_, callerCtx := e.user("caller", false)
		_, strangerCtx := e.user("stranger", false)
		e.guard.give("IM5", framework.R, agent, "analyst")
		e.guard.give("IM6", framework.A, agent, "manager")
		e.setGate("IM6", record.Gate{Approval: true})
		r, err := e.svc.Create(callerCtx, "claim", record.NewRecord{Title: "printer jammed"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Perform(agentCtx, r.Number, "resolve", record.PerformInput{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Perform(strangerCtx, r.Number, "confirm", record.PerformInput{}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("a stranger confirmed: %v", err)
		}
		acts, err := e.svc.Actions(callerCtx, r.Number)
		if err != nil {
			t.Fatal(err)
		}
		byAction := map[string]record.Action{}
		for _, a := range acts {
			byAction[a.Action] = a
		}
		if c := byAction["confirm"]; !c.Decision.Allowed || c.Approval || !strings.Contains(c.Decision.Explanation, "requester") {
			t.Fatalf("confirm for the caller: %+v", c)
		}
		if c := byAction["close"]; c.Decision.Allowed {
			t.Fatalf("the caller may close without a role: %+v", c)
		}
		res, err := e.svc.Perform(callerCtx, r.Number, "confirm", record.PerformInput{Comment: "works now"})
		if err != nil || res.Outcome != record.OutcomeApplied || res.Record.State != "closed" || !res.Record.Closed {
			t.Fatalf("the caller's confirmation: %+v, %v", res, err)
		}
		// The caller reads back the comment they gave with their step; the journal's work notes stay hidden.
		j, err := e.svc.Journal(callerCtx, r.Number, true)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, entry := range j {
			found = found || entry.Body == "works now"
			if entry.Internal() {
				t.Fatalf("the caller reads an internal entry: %+v", entry)
			}
		}
		if !found {
			t.Fatalf("the caller's own comment is not in their journal: %+v", j)
		}
		// A closed (not terminal) state may be left by a declared step.
		if res, err = e.svc.Perform(callerCtx, r.Number, "reopen", record.PerformInput{}); err != nil || res.Record.Closed {
			t.Fatalf("reopen: %+v, %v", res, err)
		}
	})
}

// TestPerformAsSystem checks the timers' step: no guard, the state the timer
// saw is required, and the journal names the system.
func TestPerformAsSystem(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		if err := e.svc.Register(claimType()); err != nil {
			t.Fatal(err)
		}
		agent, agentCtx := e.user("agent", false)
		_, callerCtx := e.user("caller", false)
		e.guard.give("IM5", framework.R, agent, "analyst")
		r, err := e.svc.Create(callerCtx, "claim", record.NewRecord{Title: "vpn drops"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.PerformAsSystem(agentCtx, r.Number, "close", "resolved", "auto-close"); !errs.Is(err, errs.Conflict) {
			t.Fatalf("a timer acted on a record that moved on: %v", err)
		}
		if _, err := e.svc.Perform(agentCtx, r.Number, "resolve", record.PerformInput{}); err != nil {
			t.Fatal(err)
		}
		out, err := e.svc.PerformAsSystem(agentCtx, r.Number, "close", "resolved", "not confirmed within 5 days")
		if err != nil || out.State != "closed" {
			t.Fatalf("system close: %+v, %v", out, err)
		}
		j, err := e.svc.Journal(agentCtx, r.Number, true)
		if err != nil {
			t.Fatal(err)
		}
		last := j[len(j)-1]
		if last.AuthorName != "system" || !strings.Contains(last.Body, "IM6") {
			t.Fatalf("last journal entry: %+v", last)
		}
	})
}
