package gen

import (
	"context"
	"slices"

	"steward/internal/framework"
	"steward/internal/platform/db"
	"steward/internal/platform/raci"
)

// busiestFirst ranks the DESMF processes by how much day-to-day work they see,
// so that long-tail draws (which processes a group works in, where findings
// fall) favour the operational ones. Processes the model adds later rank last.
func busiestFirst(m *framework.Model) []*framework.Process {
	order := []string{"IM", "RF", "ChM", "PM", "EM", "AcM", "SLM", "CfM", "KM", "ISM", "SEC", "AvM", "CapM", "RDM",
		"SVT", "ITSCM", "SUP", "AM", "TPS", "DC", "BRM", "SCM", "SPM", "FM", "DM", "SGM", "CSI", "EVAL"}
	var out []*framework.Process
	for _, code := range order {
		if p := m.Process(code); p != nil {
			out = append(out, p)
		}
	}
	for _, p := range m.Processes() {
		if !slices.Contains(order, p.Code) {
			out = append(out, p)
		}
	}
	return out
}

// assignKey is what makes a role assignment unique.
type assignKey struct {
	subject, role     string
	user, team, scope int64
}

// assigner writes role assignments once each.
type assigner struct {
	w    *World
	seen map[assignKey]bool
}

// assign writes one assignment unless it exists; user or team is 0, scope 0 is everywhere.
func (a *assigner) assign(subject, role string, user, team, scope int64) error {
	k := assignKey{subject, role, user, team, scope}
	if a.seen[k] {
		return nil
	}
	a.seen[k] = true
	at := EpochMillis - 3*365*day + a.w.R.Int64N(2*365*day)
	return a.w.add("raci_assignments", a.w.nextID("raci_assignments"), subject, role, db.NullID(user), db.NullID(team),
		db.NullID(scope), int64(0), int64(0), at)
}

// staffPicker draws enabled staff, each once until all were drawn.
type staffPicker struct {
	w    *World
	pool []int
}

func (s *staffPicker) next() int {
	if len(s.pool) == 0 {
		s.pool = slices.Clone(s.w.staff)
	}
	i := s.w.R.IntN(len(s.pool))
	ui := s.pool[i]
	s.pool[i] = s.pool[len(s.pool)-1]
	s.pool = s.pool[:len(s.pool)-1]
	return ui
}

// genProcessRoles puts people and groups in the DESMF process roles through
// the RACI tables: one owner per domain and per process, unscoped managers,
// analysts and developers of every process, the process-specific roles (the
// Change Manager, the CAB …), and the assignment groups as analysts of the
// processes they work in, scoped to their own records, with a scoped manager
// in each larger group. At scale 100k that is about 900 assignments.
func genProcessRoles(ctx context.Context, w *World) error {
	r := w.R
	a := &assigner{w: w, seen: map[assignKey]bool{}}
	pick := &staffPicker{w: w}
	uid := func(ui int) int64 { return w.users[ui].id }
	for _, d := range w.Model.Domains() {
		if err := a.assign(d.Code, raci.RoleDomainOwner, uid(pick.next()), 0, 0); err != nil {
			return err
		}
	}
	ranked := busiestFirst(w.Model)
	for k, p := range ranked {
		h := &processHolders{owner: pick.next()}
		w.holders[p.Code] = h
		if err := a.assign(p.Code, raci.RoleProcessOwner, uid(h.owner), 0, 0); err != nil {
			return err
		}
		managers := 1 + w.Plan.Staff/5000
		if k < 5 {
			managers++
		}
		for range managers {
			h.managers = append(h.managers, pick.next())
		}
		for range 1 + r.IntN(3) {
			h.analysts = append(h.analysts, pick.next())
		}
		h.developers = append(h.developers, pick.next())
		for _, x := range []struct {
			role string
			uis  []int
		}{{"process-manager", h.managers}, {"process-analyst", h.analysts}, {"process-developer", h.developers}} {
			for _, ui := range x.uis {
				if err := a.assign(p.Code, x.role, uid(ui), 0, 0); err != nil {
					return err
				}
			}
		}
		for _, role := range p.Roles {
			if role == raci.RoleProcessOwner || role == "process-manager" {
				continue
			}
			n := 1
			if role == "change-advisory-board" {
				n = 5
			}
			for range n {
				if err := a.assign(p.Code, role, uid(pick.next()), 0, 0); err != nil {
					return err
				}
			}
		}
	}
	// The groups work in one to three processes, mostly the busy ones.
	var operational []*framework.Process
	for _, p := range ranked {
		if len(p.Activities()) > 0 {
			operational = append(operational, p)
		}
	}
	pickProcess := Zipf(len(operational), 1.1)
	for _, t := range w.teams {
		n := 1 + Poisson(r, 0.8)
		var mine []string
		for range n {
			if code := operational[pickProcess.Sample(r)].Code; !slices.Contains(mine, code) {
				mine = append(mine, code)
			}
		}
		for _, code := range mine {
			if err := a.assign(code, "process-analyst", 0, t.id, t.id); err != nil {
				return err
			}
		}
		if len(t.members) >= 5 {
			if err := a.assign(mine[0], "process-manager", uid(t.members[0]), 0, t.id); err != nil {
				return err
			}
		}
	}
	return nil
}
