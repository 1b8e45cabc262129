package raci

import (
	"context"
	"maps"
	"regexp"
	"strings"
	"unicode/utf8"

	"steward/internal/framework"
	"steward/internal/platform/audit"
	"steward/internal/platform/auth"
	"steward/internal/platform/db"
	"steward/internal/platform/errs"
	"steward/internal/platform/outbox"
)

// NewRole is a local role to add: to one process (a new matrix column), or to the catalogue.
type NewRole struct {
	// Code is the role's identifier: lower-case words joined by '-', not a seed code.
	Code string
	// Name is the role's display name.
	Name string
	// Description says what the role does.
	Description string
	// Cells gives a process role's letters per activity code, e.g. {"IM5": "C"}.
	Cells map[string]string
}

// NewActivity is a local activity or sub-step to add to a process.
type NewActivity struct {
	// Code is "<parent>.<n>" for a sub-step (e.g. "IM5.1") or "LOC-…" for a local activity.
	Code string
	// Parent is the activity a sub-step details; for a code like "IM5.1" it defaults to "IM5".
	Parent string
	// After is the activity it is listed after; by default its parent, else the last
	// process-specific activity (before the Monitor and Evaluate controls).
	After string
	// Name and Description say what the activity is.
	Name, Description string
	// RequiresApproval and RequiresConsultation are its workflow settings.
	RequiresApproval, RequiresConsultation bool
	// Cells gives its letters per role code, e.g. {"process-manager": "A", "process-analyst": "R"};
	// by default the row of its parent, else of the activity it follows, else the generic
	// template's process-specific row.
	Cells map[string]string
}

// ActivitySettings changes an activity's workflow settings; a nil field stays as it is.
type ActivitySettings struct {
	RequiresApproval     *bool
	RequiresConsultation *bool
}

var (
	roleCodeRE = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)
	locCodeRE  = regexp.MustCompile(`^LOC-[A-Za-z0-9][A-Za-z0-9._-]{0,47}$`)
	subStepRE  = regexp.MustCompile(`^(.+)\.([1-9][0-9]{0,2})$`)
)

// change is what one tailoring did: its audit entries and the detail of its event.
type change struct {
	kind    string
	detail  any
	entries []audit.Entry
}

// tailor runs one tailoring of a process in one transaction: it checks that p may tailor the
// process, locks the head and checks the version the caller read (0 skips the check), gives
// fn the tailored model as it is in the transaction, then advances the version, records the
// audit entries and emits raci.changed. It returns the new version.
func (s *Service) tailor(ctx context.Context, p *auth.Principal, process string, expect int64, doing string,
	fn func(tx *db.Tx, st *state, pv *procView, w *headWrite) (change, error)) (int64, error) {
	_, pv0, err := s.view(ctx, process)
	if err != nil {
		return 0, err
	}
	if err := s.mayTailor(ctx, p, pv0, doing); err != nil {
		return 0, err
	}
	var version int64
	err = s.db.InTx(ctx, func(tx *db.Tx) error {
		now := s.clock.Now().UnixMilli()
		cur, err := lockHead(ctx, tx, process, expect, now)
		if err != nil {
			return err
		}
		st, err := s.loadState(ctx, tx)
		if err != nil {
			return err
		}
		pv := st.process(process)
		w := headWrite{process: process, tailored: pv.tailored, by: p.UserID, now: now}
		if pv.tailored {
			w.columns = pv.matrix.Roles
		}
		ch, err := fn(tx, st, pv, &w)
		if err != nil {
			return err
		}
		if version, err = advanceHead(ctx, tx, w, cur); err != nil {
			return err
		}
		s.trail.Record(ctx, tx, ch.entries...)
		tx.OnCommit(func() { s.invalidate(ctx) })
		return s.events.Emit(ctx, tx, outbox.Event{Type: "raci.changed", Subject: "process/" + process,
			Data: map[string]any{"process": process, "version": version, "change": ch.kind, "detail": ch.detail}})
	})
	return version, err
}

// loadState builds the tailored model from q (a transaction sees its own writes).
func (s *Service) loadState(ctx context.Context, q db.Queryer) (*state, error) {
	t, err := loadTailoring(ctx, q)
	if err != nil {
		return nil, err
	}
	return buildState(s.model, t), nil
}

// storeMatrix makes mx the process's stored matrix.
func storeMatrix(ctx context.Context, tx *db.Tx, w *headWrite, mx framework.Matrix) error {
	w.tailored, w.columns = true, mx.Roles
	return writeCells(ctx, tx, w.process, &mx)
}

// matrixEntry is the audit entry of a matrix edit: the columns if they changed, and the old
// and new letters of every cell that changed, as "IM5/process-manager".
func matrixEntry(action, process string, old, new framework.Matrix, diff []cellChange) audit.Entry {
	e := audit.Entry{Action: action, ObjectType: "raci", ObjectID: process}
	if strings.Join(old.Roles, ",") != strings.Join(new.Roles, ",") {
		e.Changes = append(e.Changes, audit.Change{Field: "roles", Old: old.Roles, New: new.Roles})
	}
	for _, c := range diff {
		e.Changes = append(e.Changes, audit.Change{Field: c.Activity + "/" + c.Role, Old: c.Old, New: c.New})
	}
	return e
}

// SetMatrix replaces a process's RACI matrix, if version is still current. Only the
// process's owner or an administrator may. The matrix must have a row for every activity,
// exactly one A and at least one R per row, and only known roles and activities; every
// problem is reported (errs.Invalid, one field error each, located in the request body
// {roles, rows}). Every changed cell is audited. It returns the new version.
func (s *Service) SetMatrix(ctx context.Context, p *auth.Principal, process string, version int64, m framework.Matrix) (v int64, err error) {
	defer errs.Wrap(&err, "set the RACI matrix of %s", process)
	return s.tailor(ctx, p, process, version, "change the RACI matrix of "+process,
		func(tx *db.Tx, st *state, pv *procView, w *headWrite) (change, error) {
			m.Process = process
			if f := st.matrixProblems(pv, m, newBodyLocator(m)); len(f) > 0 {
				return change{}, errs.WithFields(f)
			}
			nm := pv.normalise(m)
			diff := diffMatrices(pv.matrix, nm)
			if err := storeMatrix(ctx, tx, w, nm); err != nil {
				return change{}, err
			}
			e := matrixEntry("raci.update", process, pv.matrix, nm, diff)
			if !pv.tailored {
				e.Changes = append(e.Changes, audit.Change{Field: "tailored", Old: false, New: true})
			}
			return change{kind: "matrix", detail: diff, entries: []audit.Entry{e}}, nil
		})
}

// ResetMatrix returns a process's matrix to its default (see DefaultMatrix), if version is
// still current. Local roles stay in the catalogue but are no longer columns.
func (s *Service) ResetMatrix(ctx context.Context, p *auth.Principal, process string, version int64) (v int64, err error) {
	defer errs.Wrap(&err, "reset the RACI matrix of %s", process)
	return s.tailor(ctx, p, process, version, "reset the RACI matrix of "+process,
		func(tx *db.Tx, st *state, pv *procView, w *headWrite) (change, error) {
			def := st.defaultMatrix(pv)
			diff := diffMatrices(pv.matrix, def)
			w.tailored, w.columns = false, nil
			if err := writeCells(ctx, tx, process, nil); err != nil {
				return change{}, err
			}
			e := matrixEntry("raci.reset", process, pv.matrix, def, diff)
			e.Changes = append(e.Changes, audit.Change{Field: "tailored", Old: pv.tailored, New: false})
			return change{kind: "reset", detail: diff, entries: []audit.Entry{e}}, nil
		})
}

// checkNewRole checks a new role's fields.
func checkNewRole(m *framework.Model, r *NewRole) []errs.FieldError {
	var f []errs.FieldError
	r.Code, r.Name, r.Description = strings.TrimSpace(r.Code), strings.TrimSpace(r.Name), strings.TrimSpace(r.Description)
	switch {
	case len(r.Code) < 2 || len(r.Code) > 63 || !roleCodeRE.MatchString(r.Code):
		f = append(f, errs.FieldError{Location: "body.code", Message: "a role code is 2 to 63 lower-case letters and digits in words joined by '-'", Value: r.Code})
	case m.Role(r.Code) != nil:
		f = append(f, errs.FieldError{Location: "body.code", Message: "a seed role has this code; rename it in the process instead", Value: r.Code})
	}
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 {
		f = append(f, errs.FieldError{Location: "body.name", Message: "a role name has 1 to 100 characters", Value: r.Name})
	}
	if utf8.RuneCountInString(r.Description) > 2000 {
		f = append(f, errs.FieldError{Location: "body.description", Message: "at most 2000 characters"})
	}
	return f
}

// AddRole adds a local role. With a process it becomes a column of the process's matrix
// (with r.Cells' letters; the result must keep the RACI rules), which only the process's
// owner or an administrator may do; with process "" it joins the catalogue, which only an
// administrator may do. It returns the role and the process's new version (0 for the catalogue).
func (s *Service) AddRole(ctx context.Context, p *auth.Principal, process string, r NewRole) (out ProcessRole, version int64, err error) {
	defer errs.Wrap(&err, "add role %q to %q", r.Code, process)
	f := checkNewRole(s.model, &r)
	if process == "" {
		return s.addCatalogueRole(ctx, p, r, f)
	}
	version, err = s.tailor(ctx, p, process, 0, "add roles to "+process, func(tx *db.Tx, st *state, pv *procView, w *headWrite) (change, error) {
		cells, bad := parseCells("body.cells", r.Cells)
		f = append(f, bad...)
		for _, a := range sortedKeys(cells) {
			if _, ok := pv.activity(a); !ok {
				f = append(f, errs.FieldError{Location: "body.cells." + a, Message: "unknown activity: " + a + " is not an activity of " + process, Value: a})
				delete(cells, a)
			}
		}
		if len(f) > 0 {
			return change{}, errs.WithFields(f)
		}
		if err := insertLocalRole(ctx, tx, localRole{process: process, code: r.Code, name: r.Name, description: r.Description}, p.UserID, w.now); err != nil {
			return change{}, err
		}
		st2, err := s.loadState(ctx, tx)
		if err != nil {
			return change{}, err
		}
		pv2 := st2.process(process)
		mx := pv.matrix.Clone()
		mx.Roles = append(mx.Roles, r.Code)
		for i := range mx.Rows {
			if c := cells[mx.Rows[i].Activity]; c != 0 {
				mx.Rows[i].Cells[r.Code] = c
			}
		}
		if f := st2.matrixProblems(pv2, mx, prefixLocator{field: "body.cells"}); len(f) > 0 {
			return change{}, errs.WithFields(f)
		}
		nm := pv2.normalise(mx)
		diff := diffMatrices(pv.matrix, nm)
		if err := storeMatrix(ctx, tx, w, nm); err != nil {
			return change{}, err
		}
		out = st2.role(pv2, r.Code)
		out.Column = true
		return change{kind: "role", detail: out, entries: []audit.Entry{
			{Action: "process-role.create", ObjectType: "process-role", ObjectID: process + "/" + r.Code,
				Changes: []audit.Change{{Field: "name", New: r.Name}, {Field: "description", New: r.Description}}},
			matrixEntry("raci.update", process, pv.matrix, nm, diff),
		}}, nil
	})
	return out, version, err
}

func (s *Service) addCatalogueRole(ctx context.Context, p *auth.Principal, r NewRole, f []errs.FieldError) (ProcessRole, int64, error) {
	if p == nil || !p.Admin {
		return ProcessRole{}, 0, errs.E(errs.Forbidden, "only an administrator may add roles to the catalogue; a process owner adds roles to their process")
	}
	if len(r.Cells) > 0 {
		f = append(f, errs.FieldError{Location: "body.cells", Message: "a catalogue role has no cells; add it to a process's matrix instead"})
	}
	if err := errs.WithFields(f); err != nil {
		return ProcessRole{}, 0, err
	}
	var out ProcessRole
	err := s.db.InTx(ctx, func(tx *db.Tx) error {
		if err := insertLocalRole(ctx, tx, localRole{code: r.Code, name: r.Name, description: r.Description}, p.UserID, s.clock.Now().UnixMilli()); err != nil {
			return err
		}
		if err := bumpGeneration(ctx, tx); err != nil {
			return err
		}
		out = ProcessRole{Code: r.Code, Name: r.Name, Kind: "local", Local: true, Description: r.Description}
		s.trail.Record(ctx, tx, audit.Entry{Action: "process-role.create", ObjectType: "process-role", ObjectID: r.Code,
			Changes: []audit.Change{{Field: "name", New: r.Name}, {Field: "description", New: r.Description}}})
		tx.OnCommit(func() { s.invalidate(ctx) })
		return s.events.Emit(ctx, tx, outbox.Event{Type: "raci.changed", Subject: "process-role/" + r.Code,
			Data: map[string]any{"process": "", "change": "role", "detail": out}})
	})
	return out, 0, err
}

// RenameRole gives a role (seed or local) a display name in a process, if version is still
// current; the empty name restores the default. Its code stays as it is. It returns the role
// and the new version.
func (s *Service) RenameRole(ctx context.Context, p *auth.Principal, process string, version int64, role, name string) (out ProcessRole, v int64, err error) {
	defer errs.Wrap(&err, "rename role %q in %s", role, process)
	name = strings.TrimSpace(name)
	v, err = s.tailor(ctx, p, process, version, "rename the roles of "+process, func(tx *db.Tx, st *state, pv *procView, w *headWrite) (change, error) {
		if !st.roleKnown(pv, role) {
			return change{}, errs.Field("path.role", "unknown role: "+role+" is not a role of the catalogue or of "+process, role)
		}
		if utf8.RuneCountInString(name) > 100 {
			return change{}, errs.Field("body.name", "a role name has at most 100 characters (empty restores the default)", name)
		}
		old, _ := st.roleName(pv, role)
		if err := writeRoleName(ctx, tx, process, role, name, w.now); err != nil {
			return change{}, err
		}
		names := maps.Clone(pv.names)
		if names == nil {
			names = map[string]string{}
		}
		if name == "" {
			delete(names, role)
		} else {
			names[role] = name
		}
		pv.names = names
		out = st.role(pv, role)
		return change{kind: "rename", detail: out, entries: []audit.Entry{{Action: "process-role.rename", ObjectType: "process-role",
			ObjectID: process + "/" + role, Changes: []audit.Change{{Field: "name", Old: old, New: out.Name}}}}}, nil
	})
	return out, v, err
}

// checkNewActivity checks a new activity's fields against pv, filling in Parent and After.
func (st *state) checkNewActivity(pv *procView, a *NewActivity) []errs.FieldError {
	var f []errs.FieldError
	a.Code, a.Parent, a.After = strings.TrimSpace(a.Code), strings.TrimSpace(a.Parent), strings.TrimSpace(a.After)
	a.Name, a.Description = strings.TrimSpace(a.Name), strings.TrimSpace(a.Description)
	if m := subStepRE.FindStringSubmatch(a.Code); m != nil && a.Parent == "" && !locCodeRE.MatchString(a.Code) {
		if _, ok := pv.activity(m[1]); ok {
			a.Parent = m[1]
		}
	}
	if a.Parent != "" {
		if _, ok := pv.activity(a.Parent); !ok {
			f = append(f, errs.FieldError{Location: "body.parent", Message: "unknown activity: " + a.Parent + " is not an activity of " + pv.proc.Code, Value: a.Parent})
		}
	}
	switch {
	case st.model.Activity(a.Code) != nil:
		f = append(f, errs.FieldError{Location: "body.code", Message: "a seed activity has this code; seed codes cannot be changed", Value: a.Code})
	case locCodeRE.MatchString(a.Code):
	case a.Parent != "" && strings.HasPrefix(a.Code, a.Parent+".") && subStepRE.MatchString(a.Code) && !strings.Contains(strings.TrimPrefix(a.Code, a.Parent+"."), "."):
	default:
		f = append(f, errs.FieldError{Location: "body.code",
			Message: "a local activity's code is a sub-step of an activity of the process (e.g. IM5.1 under IM5) or starts with LOC-", Value: a.Code})
	}
	if a.After == "" {
		a.After = a.Parent
	}
	if a.After == "" {
		seed := pv.proc.Activities()
		switch {
		case len(seed) >= 3 && pv.proc.ControlException == "" && pv.proc.Framework == framework.DESMF:
			a.After = seed[len(seed)-3].Code
		case len(seed) > 0:
			a.After = seed[len(seed)-1].Code
		}
	} else if _, ok := pv.activity(a.After); !ok {
		f = append(f, errs.FieldError{Location: "body.after", Message: "unknown activity: " + a.After + " is not an activity of " + pv.proc.Code, Value: a.After})
	}
	if a.Name == "" || utf8.RuneCountInString(a.Name) > 200 {
		f = append(f, errs.FieldError{Location: "body.name", Message: "an activity name has 1 to 200 characters", Value: a.Name})
	}
	if utf8.RuneCountInString(a.Description) > 4000 {
		f = append(f, errs.FieldError{Location: "body.description", Message: "at most 4000 characters"})
	}
	return f
}

// defaultRow is a new local activity's row when the caller gives none: its parent's, else
// that of the activity it follows, else the generic template's process-specific row.
func (st *state) defaultRow(pv *procView, a NewActivity) map[string]framework.Cell {
	for _, src := range []string{a.Parent, a.After} {
		if r, ok := pv.matrix.Row(src); ok && src != "" {
			return maps.Clone(r.Cells)
		}
	}
	if pv.proc.Framework == framework.DESMF {
		t, _ := st.model.RACITemplate().Row(framework.ControlSpecific)
		return maps.Clone(t.Cells)
	}
	return map[string]framework.Cell{}
}

// AddLocalActivity adds a local activity or sub-step to a process, with its row of the
// matrix (which must keep the RACI rules). Only the process's owner or an administrator may.
// It returns the activity and the process's new version.
func (s *Service) AddLocalActivity(ctx context.Context, p *auth.Principal, process string, a NewActivity) (out ProcessActivity, version int64, err error) {
	defer errs.Wrap(&err, "add activity %q to %s", a.Code, process)
	version, err = s.tailor(ctx, p, process, 0, "add activities to "+process, func(tx *db.Tx, st *state, pv *procView, w *headWrite) (change, error) {
		f := st.checkNewActivity(pv, &a)
		cells, bad := parseCells("body.cells", a.Cells)
		f = append(f, bad...)
		if len(f) > 0 {
			return change{}, errs.WithFields(f)
		}
		if a.Cells == nil {
			cells = st.defaultRow(pv, a)
		}
		la := localActivity{process: process, code: a.Code, parent: a.Parent, after: a.After, name: a.Name, description: a.Description}
		if err := insertLocalActivity(ctx, tx, la, p.UserID, w.now); err != nil {
			return change{}, err
		}
		fl := flags{approval: a.RequiresApproval, consultation: a.RequiresConsultation}
		if fl != (flags{}) {
			if err := writeSettings(ctx, tx, process, a.Code, fl, w.now); err != nil {
				return change{}, err
			}
		}
		st2, err := s.loadState(ctx, tx)
		if err != nil {
			return change{}, err
		}
		pv2 := st2.process(process)
		mx := pv.matrix.Clone()
		mx.Rows = append(mx.Rows, framework.RACIRow{Activity: a.Code, Cells: cells})
		if f := st2.matrixProblems(pv2, mx, prefixLocator{field: "body.cells", byRole: true}); len(f) > 0 {
			return change{}, errs.WithFields(f)
		}
		nm := pv2.normalise(mx)
		diff := diffMatrices(pv.matrix, nm)
		if err := storeMatrix(ctx, tx, w, nm); err != nil {
			return change{}, err
		}
		out, _ = pv2.activity(a.Code)
		return change{kind: "activity", detail: out, entries: []audit.Entry{
			{Action: "process-activity.create", ObjectType: "process-activity", ObjectID: a.Code, Changes: []audit.Change{
				{Field: "process", New: process}, {Field: "parent", New: a.Parent}, {Field: "after", New: a.After},
				{Field: "name", New: a.Name}, {Field: "description", New: a.Description},
				{Field: "requiresApproval", New: a.RequiresApproval}, {Field: "requiresConsultation", New: a.RequiresConsultation}}},
			matrixEntry("raci.update", process, pv.matrix, nm, diff),
		}}, nil
	})
	return out, version, err
}

// SetActivitySettings changes an activity's workflow settings (seed or local), if version is
// still current. Only the process's owner or an administrator may. It returns the activity
// and the new version.
func (s *Service) SetActivitySettings(ctx context.Context, p *auth.Principal, process string, version int64, activity string, in ActivitySettings) (out ProcessActivity, v int64, err error) {
	defer errs.Wrap(&err, "set the settings of %s", activity)
	v, err = s.tailor(ctx, p, process, version, "change the activity settings of "+process, func(tx *db.Tx, st *state, pv *procView, w *headWrite) (change, error) {
		old, ok := pv.activity(activity)
		if !ok {
			return change{}, errs.Field("path.activity", "unknown activity: "+activity+" is not an activity of "+process, activity)
		}
		out = old
		if in.RequiresApproval != nil {
			out.RequiresApproval = *in.RequiresApproval
		}
		if in.RequiresConsultation != nil {
			out.RequiresConsultation = *in.RequiresConsultation
		}
		if err := writeSettings(ctx, tx, process, activity, flags{approval: out.RequiresApproval, consultation: out.RequiresConsultation}, w.now); err != nil {
			return change{}, err
		}
		return change{kind: "settings", detail: out, entries: []audit.Entry{{Action: "process-activity.update", ObjectType: "process-activity",
			ObjectID: activity, Changes: audit.Diff([]string{"requiresApproval", "requiresConsultation"},
				map[string]any{"requiresApproval": old.RequiresApproval, "requiresConsultation": old.RequiresConsultation},
				map[string]any{"requiresApproval": out.RequiresApproval, "requiresConsultation": out.RequiresConsultation})}}}, nil
	})
	return out, v, err
}
