package raci_test

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/db"
	"steward/internal/platform/db/dbtest"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
)

// TestDefaultMatrices: every process of both seeds starts with the reference model's
// default, valid, untailored, at version 1.
func TestDefaultMatrices(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		procs := append(f.m.Processes(), f.m.TAXUD().SubProcesses()...)
		if len(procs) != 32 {
			t.Fatalf("%d processes, want 28 DESMF + 4 TAXUD", len(procs))
		}
		for _, p := range procs {
			mx, v, tailored, err := f.s.Matrix(f.ctx, p.Code)
			if err != nil {
				t.Fatal(err)
			}
			if v != 1 || tailored {
				t.Errorf("%s: version %d, tailored %v; want 1, false", p.Code, v, tailored)
			}
			if want := f.m.DefaultRACI(p.Code); !reflect.DeepEqual(want, mx) {
				t.Errorf("%s: matrix differs from the default:\n got %+v\nwant %+v", p.Code, mx, want)
			}
			if err := f.s.ValidateMatrix(f.ctx, p.Code, mx); err != nil {
				t.Errorf("%s: the default matrix is invalid: %v", p.Code, err)
			}
			acts, err := f.s.Activities(f.ctx, p.Code)
			if err != nil {
				t.Fatal(err)
			}
			if len(acts) != len(p.Activities()) {
				t.Errorf("%s: %d activities, want %d", p.Code, len(acts), len(p.Activities()))
			}
		}
		_, _, _, err := f.s.Matrix(f.ctx, "NOPE")
		wantKind(t, err, errs.NotFound, "unknown process")
	})
}

// TestMatrixValidation: every broken rule is reported, each naming the activity and the
// rule, located in the request body; nothing is saved.
func TestMatrixValidation(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		def, _, _, _ := f.s.Matrix(f.ctx, "IM")
		row := func(act string) int {
			for i, r := range def.Rows {
				if r.Activity == act {
					return i
				}
			}
			t.Fatalf("no row %s", act)
			return -1
		}
		im5, im3 := "body.rows["+strconv.Itoa(row("IM5"))+"].cells", "body.rows["+strconv.Itoa(row("IM3"))+"].cells"

		// Two A's.
		_, err := f.s.SetMatrix(f.ctx, f.admin, "IM", 1, edit(def, "IM5", "process-owner", framework.A))
		wantField(t, err, im5, "IM5 (Resolve and Recover Incident)", string(framework.RuleOneAccountable), "found 2")
		// No R.
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, edit(def, "IM3", "process-analyst", framework.C))
		wantField(t, err, im3, "IM3", string(framework.RuleResponsible))
		// No A at all.
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, edit(def, "IM5", "process-manager", framework.I))
		wantField(t, err, im5, "IM5", string(framework.RuleOneAccountable), "found 0")
		// An unknown role as a column, and in a cell.
		bad := def.Clone()
		bad.Roles = append(bad.Roles, "chief-wizard")
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, bad)
		wantField(t, err, "body.roles[4]", "chief-wizard", string(framework.RuleKnownRole))
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, edit(def, "IM5", "chief-wizard", framework.C))
		wantField(t, err, im5+".chief-wizard", "IM5", "chief-wizard", string(framework.RuleKnownRole))
		// A known role that is not a column.
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, edit(def, "IM5", "change-manager", framework.C))
		wantField(t, err, im5+".change-manager", string(framework.RuleRoleColumn))
		// An unknown activity, and an activity of another process.
		bad = def.Clone()
		bad.Rows = append(bad.Rows, framework.RACIRow{Activity: "IM99", Cells: map[string]framework.Cell{"process-manager": framework.A | framework.R}},
			framework.RACIRow{Activity: "ChM5", Cells: map[string]framework.Cell{"process-manager": framework.A | framework.R}})
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, bad)
		wantField(t, err, "body.rows[8].activity", "IM99", string(framework.RuleKnownActivity))
		wantField(t, err, "body.rows[9].activity", "ChM5", string(framework.RuleKnownActivity))
		// A missing row.
		bad = def.Clone()
		bad.Rows = slices.DeleteFunc(bad.Rows, func(r framework.RACIRow) bool { return r.Activity == "IM6" })
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, bad)
		wantField(t, err, "body.rows", "IM6 (Close Incident)", "needs a row")

		// Everything at once: every problem is reported.
		bad = edit(edit(def, "IM5", "process-owner", framework.A), "IM3", "process-analyst", framework.C)
		bad.Roles = append(bad.Roles, "chief-wizard")
		_, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 1, bad)
		if e, _ := errs.As(err); e == nil || len(e.Fields) != 3 {
			t.Fatalf("want 3 problems, got %v", err)
		}

		// Nothing was saved or audited.
		if _, v, tailored, _ := f.s.Matrix(f.ctx, "IM"); v != 1 || tailored {
			t.Fatalf("a refused matrix changed the process: version %d, tailored %v", v, tailored)
		}
		if n := f.countAudit(t, "raci.update", "IM"); n != 0 {
			t.Fatalf("%d audit entries for refused edits", n)
		}
	})
}

// TestMatrixEdits: the owner and administrators edit, others are refused with who may;
// a stale version is refused; every edit is audited cell by cell and announced.
func TestMatrixEdits(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		owner, other := f.user(t, "olga", false), f.user(t, "oscar", false)
		def, _, _, _ := f.s.Matrix(f.ctx, "IM")
		mx := edit(edit(def, "IM5", "process-analyst", framework.R|framework.C), "IM5", "process-developer", 0)

		_, err := f.s.SetMatrix(f.ctx, other, "IM", 1, mx)
		e := wantKind(t, err, errs.Forbidden, "no owner yet")
		if !strings.Contains(e.Message, "process owner of IM") || !strings.Contains(e.Message, "administrator") {
			t.Errorf("the refusal does not say who may: %q", e.Message)
		}
		f.assign(t, raci.RoleAssignment{Subject: "IM", Role: raci.RoleProcessOwner, UserID: owner.UserID})
		_, err = f.s.SetMatrix(f.ctx, other, "IM", 1, mx)
		if e := wantKind(t, err, errs.Forbidden, "not the owner"); !strings.Contains(e.Message, "olga") {
			t.Errorf("the refusal does not name the owner: %q", e.Message)
		}
		// The owner of IM does not own ChM.
		chm, _, _, _ := f.s.Matrix(f.ctx, "ChM")
		_, err = f.s.SetMatrix(f.ctx, owner, "ChM", 1, chm)
		wantKind(t, err, errs.Forbidden, "owner of another process")

		v, err := f.s.SetMatrix(f.ctx, owner, "IM", 1, mx)
		if err != nil || v != 2 {
			t.Fatalf("owner's edit: version %d, %v", v, err)
		}
		got, gv, tailored, _ := f.s.Matrix(f.ctx, "IM")
		if gv != 2 || !tailored || got.Cell("IM5", "process-analyst") != framework.R|framework.C || got.Cell("IM5", "process-developer") != 0 {
			t.Fatalf("after the edit: version %d tailored %v IM5 %v", gv, tailored, got.Cell("IM5", "process-analyst"))
		}
		// Another node sees the edit once it re-checks.
		other2 := f.node()
		if _, nv, _, _ := other2.Matrix(f.ctx, "IM"); nv != 2 {
			t.Fatalf("a fresh node reads version %d", nv)
		}

		// A stale version is refused, and so is the second of two edits from the same read.
		_, err = f.s.SetMatrix(f.ctx, owner, "IM", 1, def)
		wantKind(t, err, errs.PreconditionFailed, "stale version")
		if v, err = f.s.SetMatrix(f.ctx, f.admin, "IM", 2, edit(mx, "IM6", "process-owner", framework.C|framework.I)); err != nil || v != 3 {
			t.Fatalf("admin's edit: %d, %v", v, err)
		}

		// Every edit is audited with the old and new letters of every changed cell.
		items, _, err := audit.List(f.ctx, f.d, audit.Filter{ObjectType: "raci", ObjectID: "IM", Limit: 10})
		if err != nil || len(items) != 2 {
			t.Fatalf("audit: %d items, %v", len(items), err)
		}
		first := items[1]
		want := map[string][2]string{"IM5/process-analyst": {"R", "C/R"}, "IM5/process-developer": {"I", ""}, "tailored": {"false", "true"}}
		for _, c := range first.ChangeList {
			w, ok := want[c.Field]
			if !ok {
				t.Errorf("unexpected audited change %+v", c)
				continue
			}
			if str(c.Old) != w[0] || str(c.New) != w[1] {
				t.Errorf("%s audited as %v → %v, want %s → %s", c.Field, c.Old, c.New, w[0], w[1])
			}
			delete(want, c.Field)
		}
		if len(want) > 0 || first.Action != "raci.update" {
			t.Errorf("changes not audited: %v (entry %+v)", want, first.Row)
		}
		if n := f.countEvents(t, "raci.changed"); n != 2 {
			t.Errorf("%d raci.changed events, want 2", n)
		}

		// Reset returns to the default, audited too.
		if v, err = f.s.ResetMatrix(f.ctx, owner, "IM", 3); err != nil || v != 4 {
			t.Fatalf("reset: %d, %v", v, err)
		}
		got, _, tailored, _ = f.s.Matrix(f.ctx, "IM")
		if tailored || !reflect.DeepEqual(def, got) {
			t.Fatalf("reset left %v tailored=%v", got, tailored)
		}
		if n := f.countAudit(t, "raci.reset", "IM"); n != 1 {
			t.Errorf("reset audited %d times", n)
		}
		_, err = f.s.ResetMatrix(f.ctx, other, "IM", 4)
		wantKind(t, err, errs.Forbidden, "reset by a stranger")
	})
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	return "?"
}

// TestTailoring: local roles with cells, local activities and sub-steps, renames and
// settings are stored, listed in order, survive a restart, and keep the seed codes.
func TestTailoring(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		owner := f.user(t, "olga", false)
		f.assign(t, raci.RoleAssignment{Subject: "IM", Role: raci.RoleProcessOwner, UserID: owner.UserID})

		// A local role with cells becomes a column.
		r, v, err := f.s.AddRole(f.ctx, owner, "IM", raci.NewRole{Code: "incident-coordinator", Name: "Incident Coordinator",
			Description: "Coordinates major incidents.", Cells: map[string]string{"IM4": "C", "IM5": "I"}})
		if err != nil || v != 2 || !r.Local || !r.Column || r.Name != "Incident Coordinator" || r.Process != "IM" {
			t.Fatalf("add role: %+v v%d %v", r, v, err)
		}
		_, _, err = f.s.AddRole(f.ctx, owner, "IM", raci.NewRole{Code: "major-incident-manager", Name: "MIM", Cells: map[string]string{"IM5": "A"}})
		wantField(t, err, "body.cells.IM5", "IM5", string(framework.RuleOneAccountable))
		_, _, err = f.s.AddRole(f.ctx, owner, "IM", raci.NewRole{Code: "process-owner", Name: "Boss"})
		wantField(t, err, "body.code", "seed role")
		_, _, err = f.s.AddRole(f.ctx, owner, "IM", raci.NewRole{Code: "x-role", Name: "X", Cells: map[string]string{"ChM5": "C", "IM4": "Q"}})
		wantField(t, err, "body.cells.ChM5", "unknown activity")
		wantField(t, err, "body.cells.IM4", "letters")
		_, _, err = f.s.AddRole(f.ctx, owner, "IM", raci.NewRole{Code: "incident-coordinator", Name: "Again"})
		wantKind(t, err, errs.Conflict, "duplicate local role")
		_, _, err = f.s.AddRole(f.ctx, owner, "", raci.NewRole{Code: "quality-officer", Name: "Quality Officer"})
		wantKind(t, err, errs.Forbidden, "catalogue role by a process owner")
		if _, _, err = f.s.AddRole(f.ctx, f.admin, "", raci.NewRole{Code: "quality-officer", Name: "Quality Officer"}); err != nil {
			t.Fatal(err)
		}

		// A sub-step inherits its parent's row and is listed after it; a LOC activity goes
		// before the monitor and evaluate controls.
		a, v, err := f.s.AddLocalActivity(f.ctx, owner, "IM", raci.NewActivity{Code: "IM5.1", Name: "Verify resolution with the caller", RequiresApproval: true})
		if err != nil || v != 3 || a.Parent != "IM5" || !a.Local || !a.RequiresApproval {
			t.Fatalf("add sub-step: %+v v%d %v", a, v, err)
		}
		if _, _, err = f.s.AddLocalActivity(f.ctx, owner, "IM", raci.NewActivity{Code: "LOC-major-review", Name: "Major incident review",
			Cells: map[string]string{"process-owner": "A", "process-manager": "R", "incident-coordinator": "R"}}); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct {
			a   raci.NewActivity
			loc string
		}{
			{raci.NewActivity{Code: "IM5", Name: "x"}, "body.code"},
			{raci.NewActivity{Code: "ChM5.1", Name: "x"}, "body.code"},
			{raci.NewActivity{Code: "IM5.1.x", Name: "x"}, "body.code"},
			{raci.NewActivity{Code: "IM4.1", Parent: "IM5", Name: "x"}, "body.code"},
			{raci.NewActivity{Code: "LOC-x", Parent: "IM99", Name: "x"}, "body.parent"},
			{raci.NewActivity{Code: "LOC-y", Name: " "}, "body.name"},
			{raci.NewActivity{Code: "LOC-z", Name: "z", Cells: map[string]string{"process-manager": "A"}}, "body.cells"},
			{raci.NewActivity{Code: "LOC-w", Name: "w", Cells: map[string]string{"process-manager": "AR", "nobody": "C"}}, "body.cells.nobody"},
		} {
			_, _, err := f.s.AddLocalActivity(f.ctx, owner, "IM", bad.a)
			wantField(t, err, bad.loc)
		}
		_, _, err = f.s.AddLocalActivity(f.ctx, owner, "IM", raci.NewActivity{Code: "IM5.1", Name: "again"})
		wantKind(t, err, errs.Conflict, "duplicate local activity")

		// A rename keeps the code; the empty name restores the default.
		_, _, err = f.s.RenameRole(f.ctx, owner, "IM", 3, "process-analyst", "Resolver")
		wantKind(t, err, errs.PreconditionFailed, "rename with a stale version")
		r, v, err = f.s.RenameRole(f.ctx, owner, "IM", 4, "process-analyst", "Resolver")
		if err != nil || r.Name != "Resolver" || !r.Renamed || r.SeedName != "Process Analyst/Practitioner" || v != 5 {
			t.Fatalf("rename: %+v v%d %v", r, v, err)
		}
		_, _, err = f.s.RenameRole(f.ctx, owner, "IM", 5, "chief-wizard", "x")
		wantField(t, err, "path.role", "unknown role")

		// Settings of a seed activity.
		yes := true
		act, v, err := f.s.SetActivitySettings(f.ctx, owner, "IM", 5, "IM6", raci.ActivitySettings{RequiresConsultation: &yes})
		if err != nil || !act.RequiresConsultation || act.RequiresApproval || v != 6 {
			t.Fatalf("settings: %+v v%d %v", act, v, err)
		}
		_, _, err = f.s.SetActivitySettings(f.ctx, owner, "IM", 6, "IM99", raci.ActivitySettings{RequiresConsultation: &yes})
		wantField(t, err, "path.activity", "unknown activity")

		check := func(s *raci.Service, what string) {
			t.Helper()
			acts, err := s.Activities(f.ctx, "IM")
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, a := range acts {
				codes = append(codes, a.Code)
			}
			want := []string{"IM1", "IM2", "IM3", "IM4", "IM5", "IM5.1", "IM6", "LOC-major-review", "IM7", "IM8"}
			if !slices.Equal(codes, want) {
				t.Fatalf("%s: activities %v, want %v", what, codes, want)
			}
			if !acts[5].RequiresApproval || !acts[6].RequiresConsultation {
				t.Errorf("%s: settings lost: %+v %+v", what, acts[5], acts[6])
			}
			mx, _, _, _ := s.Matrix(f.ctx, "IM")
			if mx.Cell("IM4", "incident-coordinator") != framework.C || mx.Cell("LOC-major-review", "incident-coordinator") != framework.R {
				t.Errorf("%s: the local role's cells are lost: %+v", what, mx)
			}
			if mx.Cell("IM5.1", "process-manager") != mx.Cell("IM5", "process-manager") || mx.Cell("IM5.1", "process-analyst") != framework.R {
				t.Errorf("%s: the sub-step did not inherit IM5's row", what)
			}
			roles, _ := s.Roles(f.ctx, "IM")
			names := map[string]string{}
			for _, r := range roles {
				names[r.Code] = r.Name
			}
			if names["process-analyst"] != "Resolver" || names["incident-coordinator"] != "Incident Coordinator" ||
				names["process-manager"] != "Incident Management Process Manager" {
				t.Errorf("%s: role names %v", what, names)
			}
			cat, _ := s.Roles(f.ctx, "")
			if !slices.ContainsFunc(cat, func(r raci.ProcessRole) bool { return r.Code == "quality-officer" && r.Local }) ||
				!slices.ContainsFunc(cat, func(r raci.ProcessRole) bool { return r.Code == "incident-coordinator" && r.Process == "IM" }) {
				t.Errorf("%s: the catalogue lacks the local roles", what)
			}
			if err := s.ValidateMatrix(f.ctx, "IM", mx); err != nil {
				t.Errorf("%s: the tailored matrix is invalid: %v", what, err)
			}
		}
		check(f.s, "this node")
		check(f.node(), "a restarted node")

		// Every tailoring is in the audit trail.
		for _, a := range []struct{ action, id string }{{"process-role.create", "IM/incident-coordinator"}, {"process-role.create", "quality-officer"},
			{"process-activity.create", "IM5.1"}, {"process-role.rename", "IM/process-analyst"}, {"process-activity.update", "IM6"}} {
			if n := f.countAudit(t, a.action, a.id); n != 1 {
				t.Errorf("%s %s audited %d times", a.action, a.id, n)
			}
		}

		// Reset keeps the local activities (with their default rows) but drops the local column.
		if _, err := f.s.ResetMatrix(f.ctx, owner, "IM", 6); err != nil {
			t.Fatal(err)
		}
		mx, _, _, _ := f.s.Matrix(f.ctx, "IM")
		if slices.Contains(mx.Roles, "incident-coordinator") || len(mx.Rows) != 10 || mx.Cell("LOC-major-review", "process-analyst") != framework.R {
			t.Errorf("after reset: %+v", mx)
		}
		if err := f.s.ValidateMatrix(f.ctx, "IM", mx); err != nil {
			t.Errorf("the reset matrix is invalid: %v", err)
		}
	})
}

// TestOtherNodesSeeChanges: a node re-checks the generation after RecheckAfter.
func TestOtherNodesSeeChanges(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := setup(t, d)
		b := f.node()
		if _, v, _, _ := b.Matrix(f.ctx, "PM"); v != 1 {
			t.Fatal(v)
		}
		def, _, _, _ := f.s.Matrix(f.ctx, "PM")
		if _, err := f.s.SetMatrix(f.ctx, f.admin, "PM", 1, edit(def, "PM3", "process-owner", framework.C)); err != nil {
			t.Fatal(err)
		}
		if _, v, _, _ := b.Matrix(f.ctx, "PM"); v != 1 {
			t.Fatalf("node b re-read before RecheckAfter: version %d", v)
		}
		f.clk.Advance(raci.RecheckAfter + time.Millisecond)
		if mx, v, _, _ := b.Matrix(f.ctx, "PM"); v != 2 || mx.Cell("PM3", "process-owner") != framework.C {
			t.Fatalf("node b after RecheckAfter: version %d", v)
		}
	})
}
