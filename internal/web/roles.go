package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
)

// rolesData is the content of a process's role assignment page.
type rolesData struct {
	Process *framework.Process
	Roles   []roleRow
	// MayAssign is set when the user may assign the process's roles; else Refusal says who may.
	MayAssign bool
	Refusal   string
	Users     []auth.User
	Teams     []auth.Team
	Form      *form
}

// processRoles serves GET /processes/{code}/roles: who holds each role of the
// process and, for its owner or an administrator, the form to assign one.
func (s *site) processRoles(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	return s.renderRoles(w, r, p, proc, http.StatusOK, newForm())
}

func (s *site) renderRoles(w http.ResponseWriter, r *http.Request, p *auth.Principal, proc *framework.Process, status int, f *form) error {
	ctx := r.Context()
	roles, err := s.RACI.Roles(ctx, proc.Code)
	if err != nil {
		return err
	}
	d := &rolesData{Process: proc, Form: f}
	if d.Roles, err = s.roleRows(ctx, proc, roles); err != nil {
		return err
	}
	if err := s.RACI.MayTailor(ctx, p, proc.Code); err == nil {
		d.MayAssign = true
	} else if e, ok := errs.As(err); ok && e.Kind == errs.Forbidden {
		d.Refusal = sentence(e.Message)
	} else {
		return err
	}
	if d.MayAssign {
		users, _, err := s.Auth.ListUsers(ctx, listing.Params{Limit: maxPick, Sort: "username"}, nil)
		if err != nil {
			return err
		}
		for _, u := range users.Items {
			if !u.Disabled {
				d.Users = append(d.Users, u)
			}
		}
		if d.Teams, err = s.allTeams(ctx); err != nil {
			return err
		}
	}
	s.render(w, r, status, "process-roles", &view{Title: "Roles of " + proc.Name, Section: "processes", User: p, Data: d})
	return nil
}

// assignRole serves POST /processes/{code}/roles: it puts a user or a team in
// a role of the process, optionally only for one team's records.
func (s *site) assignRole(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{"role", "holder", "scope"} {
		f.Values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	a := raci.RoleAssignment{Subject: proc.Code, Role: f.Values["role"]}
	if a.Role == "" {
		f.Set("role", "Choose a role.")
	}
	kind, id, _ := strings.Cut(f.Values["holder"], ":")
	n, nerr := strconv.ParseInt(id, 10, 64)
	switch {
	case nerr != nil || n <= 0:
		f.Set("holder", "Choose a user or a team.")
	case kind == "u":
		a.UserID = n
	case kind == "t":
		a.TeamID = n
	default:
		f.Set("holder", "Choose a user or a team.")
	}
	if v := f.Values["scope"]; v != "" {
		if a.Scope.TeamID, err = strconv.ParseInt(v, 10, 64); err != nil || a.Scope.TeamID <= 0 {
			f.Set("scope", "Choose a team, or every record.")
		}
	}
	if f.Failed() {
		return s.renderRoles(w, r, p, proc, http.StatusUnprocessableEntity, f)
	}
	if _, err := s.RACI.Assign(r.Context(), p, a); err != nil {
		e, ok := errs.As(err)
		if !ok || (e.Kind != errs.Invalid && e.Kind != errs.Conflict && e.Kind != errs.Forbidden) {
			return err
		}
		for _, fe := range e.Fields {
			name := "role"
			switch {
			case strings.HasPrefix(fe.Location, "body.scope"):
				name = "scope"
			case fe.Location == "body.userId" || fe.Location == "body.teamId":
				name = "holder"
			case fe.Location != "body.role":
				name = ""
			}
			if name == "" {
				f.Error = sentence(fe.Message)
			} else {
				f.Set(name, sentence(fe.Message))
			}
		}
		if len(e.Fields) == 0 {
			f.Error = sentence(e.Message)
			if strings.HasPrefix(e.Message, " ") {
				// The service names the holder only when it has read them; here it has not.
				f.Error = "The chosen holder" + e.Message
			}
			f.Error = sentence(f.Error)
		}
		return s.renderRoles(w, r, p, proc, httpx.Status(e.Kind), f)
	}
	redirect(w, r, "/processes/"+proc.Code+"/roles?m=role-assigned#holders")
	return nil
}

// unassignRole serves POST /processes/{code}/roles/{id}/remove.
func (s *site) unassignRole(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	id, ok := pathID(r)
	if !ok {
		return errs.E(errs.NotFound, "no such role assignment")
	}
	err = s.RACI.Unassign(r.Context(), p, id)
	switch {
	case errs.Is(err, errs.NotFound):
		redirect(w, r, "/processes/"+proc.Code+"/roles?m=role-missing#holders")
	case err != nil:
		return err
	default:
		redirect(w, r, "/processes/"+proc.Code+"/roles?m=role-removed#holders")
	}
	return nil
}

// roleProcess is one process a role has a part in, with who holds the role there.
type roleProcess struct {
	Process *framework.Process
	// Title is the role's name in the process.
	Title string
	// Letters counts the activities per letter, such as "R 6 · A 1".
	Letters string
	Holders []holderView
}

// roleData is the content of a role's page.
type roleData struct {
	Role raci.ProcessRole
	// Seed is the reference model's role, for a seed role.
	Seed      *framework.Role
	Processes []roleProcess
	// Unplaced are assignments to subjects where the role has no column, such as a domain.
	Unplaced []holderView
}

// rolePage serves GET /roles/{code}: what a role is, and who holds it in each
// process where it is a column of the matrix or has holders.
func (s *site) rolePage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	ctx := r.Context()
	code := r.PathValue("code")
	catalogue, err := s.RACI.Roles(ctx, "")
	if err != nil {
		return err
	}
	d := &roleData{Seed: s.Model.Role(code)}
	found := false
	for _, ro := range catalogue {
		if ro.Code == code {
			d.Role, found = ro, true
		}
	}
	if !found {
		return errs.E(errs.NotFound, "there is no role with the code %q", code)
	}
	as, err := s.RACI.Assignments(ctx, raci.RoleAssignmentFilter{Role: code})
	if err != nil {
		return err
	}
	teams, err := s.scopeTeamNames(ctx, as)
	if err != nil {
		return err
	}
	placed := make([]bool, len(as))
	for _, proc := range append(s.Model.Processes(), s.Model.TAXUD().SubProcesses()...) {
		rp, err := s.roleInProcess(ctx, proc, code, as, placed, teams)
		if err != nil {
			return err
		}
		if rp != nil {
			d.Processes = append(d.Processes, *rp)
		}
	}
	for i, a := range as {
		if !placed[i] {
			d.Unplaced = append(d.Unplaced, s.holderView(a, nil, teams))
		}
	}
	s.render(w, r, http.StatusOK, "role", &view{Title: d.Role.Name, Section: "processes", User: p, Data: d})
	return nil
}

// roleInProcess describes role in proc, or returns nil when the role is
// neither a column of its matrix nor held there. It marks the assignments it used.
func (s *site) roleInProcess(ctx context.Context, proc *framework.Process, role string, as []raci.RoleAssignment,
	placed []bool, teams map[int64]string) (*roleProcess, error) {
	mx, _, _, err := s.RACI.Matrix(ctx, proc.Code)
	if err != nil {
		return nil, err
	}
	rp := &roleProcess{Process: proc}
	counts := map[string]int{}
	column := false
	for _, c := range mx.Roles {
		column = column || c == role
	}
	for _, row := range mx.Rows {
		for _, l := range []framework.Cell{framework.R, framework.A, framework.C, framework.I} {
			if row.Cells[role].Has(l) {
				counts[l.String()]++
			}
		}
	}
	for i, a := range as {
		if appliesTo(a.Subject, proc) && (column || a.Subject == proc.Code) {
			rp.Holders = append(rp.Holders, s.holderView(a, proc, teams))
			placed[i] = true
		}
	}
	if !column && len(rp.Holders) == 0 {
		return nil, nil
	}
	var parts []string
	for _, l := range []string{"R", "A", "C", "I"} {
		if counts[l] > 0 {
			parts = append(parts, l+" "+strconv.Itoa(counts[l]))
		}
	}
	rp.Letters = strings.Join(parts, " · ")
	if rp.Title, err = s.RACI.RoleName(ctx, proc.Code, role); err != nil {
		return nil, err
	}
	return rp, nil
}

// personData is the content of a "who does what" page.
type personData struct {
	Person auth.User
	// Self is set on the user's own page.
	Self  bool
	Roles []responsibility
}

// responsibility is one role a person holds, where it counts and what it does there.
type responsibility struct {
	raci.Responsibility
	Holder holderView
}

// personPage serves GET /people/{id}: who does what for one user.
func (s *site) personPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, ok := pathID(r)
	if !ok {
		return errs.E(errs.NotFound, "there is no such person")
	}
	return s.renderPerson(w, r, p, id, "processes")
}

// myResponsibilities serves GET /account/responsibilities: who does what for the signed-in user.
func (s *site) myResponsibilities(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	return s.renderPerson(w, r, p, p.UserID, "responsibilities")
}

func (s *site) renderPerson(w http.ResponseWriter, r *http.Request, p *auth.Principal, id int64, section string) error {
	ctx := r.Context()
	u, err := s.Auth.GetUser(ctx, id)
	if err != nil {
		return err
	}
	rs, err := s.RACI.Responsibilities(ctx, id)
	if err != nil {
		return err
	}
	as := make([]raci.RoleAssignment, len(rs))
	for i, x := range rs {
		as[i] = x.Assignment
	}
	teams, err := s.scopeTeamNames(ctx, as)
	if err != nil {
		return err
	}
	d := &personData{Person: auth.User{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName}, Self: id == p.UserID}
	for _, x := range rs {
		d.Roles = append(d.Roles, responsibility{Responsibility: x, Holder: s.holderView(x.Assignment, nil, teams)})
	}
	title := "Who does what: " + u.Username
	if d.Self {
		title = "My responsibilities"
	}
	s.render(w, r, http.StatusOK, "person", &view{Title: title, Section: section, User: p, Data: d})
	return nil
}
