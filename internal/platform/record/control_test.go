package record_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/record"
)

// reviewType is a record of any process whose steps name common controls:
// submit and approve (approval-gated) perform the record's Establish activity,
// flag its Monitor activity, and the system step supersede is applied only as
// the follow-up of approving a record whose description reads "replaces NUMBER".
// Submitting needs a description.
func reviewType(svc **record.Service) record.Type {
	est := framework.ControlEstablish
	return record.Type{Name: "review", Label: "Review", Prefix: "REV", ProcessPerRecord: true, Initial: "draft",
		States: []record.State{{Name: "draft", Label: "Draft"}, {Name: "in_review", Label: "In review"},
			{Name: "approved", Label: "Approved"}, {Name: "superseded", Label: "Superseded", Terminal: true}},
		Transitions: []record.Transition{
			{Action: "submit", From: []string{"draft"}, To: "in_review", Control: est, Label: "Submit"},
			{Action: "flag", From: []string{"draft"}, To: "draft", Control: framework.ControlMonitor, Label: "Flag"},
			{Action: "approve", From: []string{"in_review"}, To: "approved", Control: est, Label: "Approve", Approval: true},
			{Action: "supersede", From: []string{"approved"}, To: "superseded", Control: est, Label: "Supersede", System: true},
		},
		CreateControl: est, UpdateControl: est, AssignControl: framework.ControlMonitor,
		Editable: func(r record.Record) error {
			if r.State == "superseded" {
				return errs.E(errs.Conflict, "%s is superseded", r.Number)
			}
			return nil
		},
		Check: func(_ context.Context, _ db.Queryer, r record.Record, tr record.Transition) error {
			if tr.Action == "submit" && r.Description == "" {
				return errs.E(errs.Conflict, "describe it first")
			}
			return nil
		},
		AfterApply: func(ctx context.Context, tx *db.Tx, a record.AppliedStep) error {
			old, ok := strings.CutPrefix(a.Record.Description, "replaces ")
			if a.Transition.Action != "approve" || !ok {
				return nil
			}
			_, err := (*svc).FollowUp(ctx, tx, old, "supersede", a)
			return err
		}}
}

func TestTypeValidateControls(t *testing.T) {
	t.Parallel()
	var svc *record.Service
	for _, tc := range []struct {
		name string
		edit func(*record.Type)
		want string
	}{
		{"valid", func(*record.Type) {}, ""},
		{"own process", func(t *record.Type) { t.Process = "IM" }, "type.process"},
		{"activity code", func(t *record.Type) { t.Transitions[0].Control, t.Transitions[0].Activity = "", "IM1" }, "type.transitions[0].activity"},
		{"both", func(t *record.Type) { t.Transitions[0].Activity = "IM1" }, "type.transitions[0].activity"},
		{"neither", func(t *record.Type) { t.Transitions[0].Control = "" }, "type.transitions[0].activity"},
		{"specific", func(t *record.Type) { t.Transitions[0].Control = framework.ControlSpecific }, "type.transitions[0].activity"},
		{"update code", func(t *record.Type) { t.UpdateControl, t.UpdateActivity = "", "IM1" }, "type.updateActivity"},
		{"create kind", func(t *record.Type) { t.CreateControl = "review" }, "type.createActivity"},
	} {
		typ := reviewType(&svc)
		tc.edit(&typ)
		err := typ.Validate()
		e, _ := errs.As(err)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.want != "" && (e == nil || !slices.ContainsFunc(e.Fields, func(f errs.FieldError) bool { return f.Location == tc.want })):
			t.Errorf("%s: want an error at %s, got %v (%+v)", tc.name, tc.want, err, e)
		}
	}
	typ := reviewType(&svc)
	if got := typ.Controls(); !slices.Equal(got, []framework.ControlKind{framework.ControlEstablish, framework.ControlMonitor}) {
		t.Errorf("controls: %v", got)
	}
	if got := typ.Activities(); len(got) != 0 {
		t.Errorf("activities: %v", got)
	}
	// A type of one process may name a control too; its process must have it.
	fixed := ticketType()
	fixed.Transitions[0].Activity, fixed.Transitions[0].Control = "", framework.ControlMonitor
	if err := fixed.Validate(); err != nil {
		t.Errorf("fixed type with a control: %v", err)
	}
}

// TestControlsResolvePerRecord runs records of one type in two processes: the
// guard, approvals, informed holders, journal, audit and Actions all see the
// record's own process's control activity (IM1 for an IM review, PM1 for a PM one).
func TestControlsResolvePerRecord(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		svc := e.svc
		if err := svc.Register(reviewType(&svc)); err != nil {
			t.Fatal(err)
		}
		// A fixed-process type whose control its process lacks is refused.
		bad := ticketType()
		bad.Name, bad.Prefix, bad.Process = "evalticket", "EVT", "EVAL"
		bad.Transitions = []record.Transition{{Action: "go", From: []string{"new"}, To: "closed", Control: framework.ControlEstablish}}
		if err := svc.Register(bad); err == nil || !strings.Contains(err.Error(), "no establish control activity") {
			t.Fatalf("EVAL type: %v", err)
		}

		manager, mctx := e.user("manager", false)
		owner, octx := e.user("owner", false)
		dev, _ := e.user("developer", false)
		pm, pctx := e.user("problem-manager", false)
		_, sctx := e.user("stranger", false)
		e.guard.give("IM1", framework.R, manager, "IM Manager")
		e.guard.give("IM1", framework.A, owner, "IM Owner")
		e.guard.give("IM1", framework.I, dev, "IM Developer")
		e.guard.give("PM1", framework.R|framework.A, pm, "PM Owner")

		// Creating needs a known process with the controls, and R or A for its Establish activity.
		for _, p := range []string{"", "NOPE", "EVAL", "CSI"} {
			_, err := svc.Create(mctx, "review", record.NewRecord{Title: "x", Process: p})
			if ee, ok := errs.As(err); !ok || ee.Kind != errs.Invalid || ee.Fields[0].Location != "body.process" {
				t.Errorf("process %q: %v", p, err)
			}
		}
		if _, err := svc.Create(sctx, "review", record.NewRecord{Title: "x", Process: "IM"}); !errs.Is(err, errs.Forbidden) ||
			!strings.Contains(err.Error(), "IM1") || !strings.Contains(err.Error(), "IM Manager (R)") {
			t.Fatalf("stranger creates: %v", err)
		}
		if len(e.audits("record.denied")) != 1 {
			t.Errorf("the refusal is not audited")
		}
		if _, err := svc.Create(mctx, "review", record.NewRecord{Title: "x", Process: "PM"}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("IM manager creates a PM review: %v", err)
		}
		var own []audit.Change
		im, err := svc.Create(mctx, "review", record.NewRecord{Title: "IM policy", Process: "IM",
			With: func(ctx context.Context, tx *db.Tx, r record.Record) ([]audit.Change, error) {
				own = []audit.Change{{Field: "body", New: "text of " + r.Number}}
				return own, nil
			}})
		if err != nil || im.Process != "IM" {
			t.Fatalf("create IM review: %+v, %v", im, err)
		}
		if c, ok := changeOf(e.audits("record.create")[0], "body"); !ok || c.New != "text of "+im.Number {
			t.Errorf("the area's change is not audited with the record: %+v", e.audits("record.create"))
		}
		pmr, err := svc.Create(pctx, "review", record.NewRecord{Title: "PM policy", Description: "d", Process: "PM"})
		if err != nil || pmr.Process != "PM" {
			t.Fatalf("create PM review: %+v, %v", pmr, err)
		}
		tk := e.ticket(mctx, "an incident")
		if tk.Process != "IM" {
			t.Errorf("a fixed type's record reads its type's process: %q", tk.Process)
		}

		// Actions name the resolved activities and hide the system step.
		acts, err := svc.Actions(mctx, im.Number)
		if err != nil || len(acts) != 2 || acts[0].Activity != "IM1" || acts[1].Activity != "IM7" || !acts[0].Decision.Allowed {
			t.Fatalf("IM actions: %+v, %v", acts, err)
		}
		acts, err = svc.Actions(pctx, pmr.Number)
		if err != nil || acts[0].Activity != "PM1" || acts[0].Decision.Process != "PM" {
			t.Fatalf("PM actions: %+v, %v", acts, err)
		}

		// Assigning performs the Monitor activity here, which the manager lacks.
		if _, err := svc.Assign(mctx, im.Number, 0, manager.ID, im.Version); !errs.Is(err, errs.Forbidden) || !strings.Contains(err.Error(), "IM7") {
			t.Fatalf("assign: %v", err)
		}

		// The type's Check refuses a step; Update needs R or A for Establish.
		if _, err := perform(e, mctx, im, "submit"); !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "describe it") {
			t.Fatalf("check: %v", err)
		}
		if _, err := svc.Update(sctx, im.Number, im.Version, record.Update{Description: ptr("d")}); !errs.Is(err, errs.Forbidden) {
			t.Fatalf("stranger updates: %v", err)
		}
		im, err = svc.Update(mctx, im.Number, im.Version, record.Update{Description: ptr("described")})
		if err != nil {
			t.Fatal(err)
		}
		res := mustPerform(e, mctx, im, "submit", record.OutcomeApplied)
		res = mustPerform(e, mctx, res.Record, "approve", record.OutcomeAwaitingApproval)
		if res.Step.Activity != "IM1" || !slices.Equal(res.Step.Approvers, []int64{owner.ID}) {
			t.Fatalf("approval step: %+v", res.Step)
		}
		done, err := svc.Approve(octx, res.Step.ID, "")
		if err != nil || done.Record.State != "approved" {
			t.Fatalf("approve: %+v, %v", done, err)
		}
		informed := e.events("raci.informed")
		last := informed[len(informed)-1]
		if last.Data["process"] != "IM" || last.Data["activity"] != "IM1" || !slices.Equal(usernames(last), []string{"developer"}) {
			t.Fatalf("informed: %+v", last)
		}
		moved := e.events("record.transitioned")
		if ev := moved[len(moved)-1]; ev.Data["process"] != "IM" || ev.Data["activity"] != "IM1" {
			t.Fatalf("transitioned: %+v", ev)
		}

		// The system step is not performed on its own; the follow-up applies it.
		if _, err := perform(e, octx, done.Record, "supersede"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("perform a system step: %v", err)
		}
		next, err := svc.Create(mctx, "review", record.NewRecord{Title: "IM policy v2", Description: "replaces " + im.Number, Process: "IM"})
		if err != nil {
			t.Fatal(err)
		}
		res = mustPerform(e, mctx, next, "submit", record.OutcomeApplied)
		mustPerform(e, octx, res.Record, "approve", record.OutcomeApplied)
		old, _ := svc.Get(mctx, im.Number)
		if old.State != "superseded" || !old.Closed {
			t.Fatalf("the old version: %+v", old)
		}
		if _, err := svc.Update(octx, old.Number, old.Version, record.Update{Title: ptr("rewritten")}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("update a record its type froze: %v", err)
		}
		var followed bool
		for _, it := range e.audits("record.transition") {
			if c, ok := changeOf(it, "decision"); ok && it.ObjectID == im.Number && strings.Contains(c.New.(string), "follow-up of Approve on "+next.Number) {
				followed = true
			}
		}
		if !followed {
			t.Errorf("the follow-up is not audited with its cause")
		}

		// A follow-up must perform its cause's activity.
		pmDone := mustPerform(e, pctx, pmr, "submit", record.OutcomeApplied)
		pmDone = mustPerform(e, pctx, pmDone.Record, "approve", record.OutcomeApplied)
		cross, _ := svc.Create(mctx, "review", record.NewRecord{Title: "IM v3", Description: "replaces " + pmr.Number, Process: "IM"})
		res = mustPerform(e, mctx, cross, "submit", record.OutcomeApplied)
		if _, err := perform(e, octx, res.Record, "approve"); err == nil || !strings.Contains(err.Error(), "follow-up must perform") {
			t.Fatalf("cross-process follow-up: %v", err)
		}
		if r, _ := svc.Get(mctx, pmr.Number); r.State != "approved" {
			t.Fatalf("the refused follow-up moved %s: %s", pmr.Number, r.State)
		}

		// Records list by process.
		page, total, err := svc.Search(mctx, record.Filter{Type: "review", Process: "PM"}, listing.Params{})
		if err != nil || total != 1 || page.Items[0].Number != pmr.Number {
			t.Fatalf("search by process: %+v %d %v", page, total, err)
		}
	})
}

// TestAmend changes a record's own and area fields in one transaction and lets
// Permit through a caller the update guard would refuse.
func TestAmend(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		t.Parallel()
		e := newEnv(t, d)
		svc := e.svc
		if err := svc.Register(reviewType(&svc)); err != nil {
			t.Fatal(err)
		}
		manager, mctx := e.user("manager", false)
		helper, hctx := e.user("helper", false)
		e.guard.give("IM1", framework.R, manager, "IM Manager")
		r, err := svc.Create(mctx, "review", record.NewRecord{Title: "x", Process: "IM"})
		if err != nil {
			t.Fatal(err)
		}
		apply := func(ctx context.Context, tx *db.Tx, cur record.Record) ([]audit.Change, error) {
			return []audit.Change{{Field: "body", Old: "a", New: "b"}}, nil
		}
		// Nothing changed: no new version.
		same, err := svc.Amend(mctx, r.Number, record.Amendment{Version: r.Version,
			Apply: func(context.Context, *db.Tx, record.Record) ([]audit.Change, error) { return nil, nil }})
		if err != nil || same.Version != r.Version {
			t.Fatalf("no-op amend: %+v, %v", same, err)
		}
		if _, err := svc.Amend(hctx, r.Number, record.Amendment{Version: r.Version, Verb: "add a note to", Apply: apply}); !errs.Is(err, errs.Forbidden) ||
			!strings.Contains(err.Error(), "may not add a note to "+r.Number) {
			t.Fatalf("helper without permit: %v", err)
		}
		permit := func(p *auth.Principal, _ record.Record) bool { return p.UserID == helper.ID }
		got, err := svc.Amend(hctx, r.Number, record.Amendment{Version: r.Version, Permit: permit, Apply: apply,
			Fields: record.Update{Title: ptr("y")}})
		if err != nil || got.Version != r.Version+1 || got.Title != "y" {
			t.Fatalf("permitted amend: %+v, %v", got, err)
		}
		if _, err := svc.Amend(mctx, r.Number, record.Amendment{Version: r.Version, Apply: apply}); !errs.Is(err, errs.PreconditionFailed) {
			t.Fatalf("stale amend: %v", err)
		}
		upd := e.audits("record.update")
		if len(upd) != 1 {
			t.Fatalf("audits: %+v", upd)
		}
		if c, ok := changeOf(upd[0], "body"); !ok || c.New != "b" {
			t.Errorf("area change not audited: %+v", upd[0])
		}
		if c, ok := changeOf(upd[0], "title"); !ok || c.New != "y" {
			t.Errorf("title change not audited: %+v", upd[0])
		}
		refused := errs.E(errs.Conflict, "no")
		if _, err := svc.Amend(mctx, r.Number, record.Amendment{Version: got.Version, Fields: record.Update{Title: ptr("z")},
			Apply: func(context.Context, *db.Tx, record.Record) ([]audit.Change, error) { return nil, refused }}); !errs.Is(err, errs.Conflict) {
			t.Fatalf("refusing apply: %v", err)
		}
		if cur, _ := svc.Get(mctx, r.Number); cur.Title != "y" || cur.Version != got.Version {
			t.Fatalf("a refused amendment changed the record: %+v", cur)
		}
	})
}

func ptr[T any](v T) *T { return &v }
