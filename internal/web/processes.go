package web

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/listing"
	"steward/internal/platform/raci"
	"steward/internal/platform/record"
)

// processItem is a process in a list: its code, name and the first sentence of its purpose.
type processItem struct {
	Code, Name, Purpose string
	// Activities counts the process's activities in the reference model.
	Activities int
	// TAXUD marks a TAXUD sub-process.
	TAXUD bool
	// Sub lists the TAXUD sub-processes that detail the process.
	Sub []processItem
	// RecordTypes names the record types whose workflows the process governs.
	RecordTypes []string
	// Home is the page where the process's own work is done, such as /cmdb, or "".
	Home string
}

// recordKinds says which record types exist: those governed by one process,
// and those whose records may belong to any process (the process controls).
type recordKinds struct {
	// Own maps a process code to the labels of the types it governs.
	Own map[string][]string
	// AnyProcess lists the labels of the types whose records name their process.
	AnyProcess []string
	// Labels maps every type name to its label.
	Labels map[string]string
	// Names maps a process code to the names of the types it governs, and ""
	// to those of the types whose records name their process.
	Names map[string][]string
}

// recordKinds reads the registered record types.
func (s *site) recordKinds(ctx context.Context) (recordKinds, error) {
	k := recordKinds{Own: map[string][]string{}, Labels: map[string]string{}, Names: map[string][]string{}}
	types, err := s.Records.Types(ctx)
	if err != nil {
		return k, err
	}
	for _, t := range types {
		label := t.Label
		if label == "" {
			label = t.Name
		}
		k.Labels[t.Name] = label
		if t.ProcessPerRecord {
			k.AnyProcess = append(k.AnyProcess, label)
			k.Names[""] = append(k.Names[""], t.Name)
		} else {
			k.Own[t.Process] = append(k.Own[t.Process], label)
			k.Names[t.Process] = append(k.Names[t.Process], t.Name)
		}
	}
	return k, nil
}

// processItems lists a domain's DESMF processes in seed order, each with the
// TAXUD sub-processes that detail it.
func (s *site) processItems(ctx context.Context, domainCode string) ([]processItem, error) {
	kinds, err := s.recordKinds(ctx)
	if err != nil {
		return nil, err
	}
	item := func(p *framework.Process) processItem {
		return processItem{Code: p.Code, Name: p.Name, Purpose: summary(p.Purpose, 220), Activities: len(p.Activities()),
			TAXUD: p.Framework == framework.TAXUD, RecordTypes: kinds.Own[p.Code], Home: s.processHome(p.Code)}
	}
	var out []processItem
	for _, p := range s.Model.ProcessesIn(domainCode) {
		it := item(p)
		for _, sp := range s.Model.TAXUD().SubProcesses() {
			if sp.Parent == p.Code {
				it.Sub = append(it.Sub, item(sp))
			}
		}
		out = append(out, it)
	}
	return out, nil
}

// processHome is the page where a process's own work is done, when Steward has one.
func (s *site) processHome(code string) string {
	switch {
	case code == "CfM" && s.CMDB != nil:
		return "/cmdb"
	case code == "IM" && s.Incidents != nil:
		return "/desk?type=incident"
	case code == "RF" && s.Requests != nil:
		return "/desk?type=service_request"
	case code == "PM":
		return "/desk?type=problem"
	case code == "SLM" && s.Levels != nil:
		return "/sla"
	case code == "AvM" && s.Availability != nil:
		return "/availability"
	}
	return ""
}

// processListData is the content of the process list: the domains with their processes.
type processListData struct {
	Domains []domainData
}

// processList serves GET /processes: every process, by lifecycle domain.
func (s *site) processList(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	var d processListData
	for _, dom := range domains {
		items, err := s.processItems(r.Context(), dom.Code)
		if err != nil {
			return err
		}
		d.Domains = append(d.Domains, domainData{domain: dom, Processes: items})
	}
	s.render(w, r, http.StatusOK, "processes", &view{Title: "Processes", Section: "processes", User: p, Data: d})
	return nil
}

// activityRow is one activity of a process with what the signed-in user may do.
type activityRow struct {
	raci.ProcessActivity
	// Index numbers the row from 0, for element ids.
	Index int
	// Decision is the guard's verdict for the signed-in user, on records of any team.
	Decision raci.Decision
	// Cells are the row's letters, one per matrix column.
	Cells []string
	// Parts lists, per letter, the roles that hold it for the activity.
	Parts []letterRoles
}

// letterRoles are the roles that hold one RACI letter for an activity.
type letterRoles struct {
	Letter, Name string
	Roles        []string
}

// holderView is one assignment that puts someone in a role of a process.
type holderView struct {
	raci.RoleAssignment
	// Where says which subject the assignment is for: this process, its parent, its domain or everywhere.
	Where string
	// ScopeText narrows it to one team's or service's records, or is "".
	ScopeText string
}

// roleRow is a role of a process with the assignments that put people in it.
type roleRow struct {
	raci.ProcessRole
	Holders []holderView
}

// processData is the content of a process's page and of its guide.
type processData struct {
	Process *framework.Process
	// Domain is the process's lifecycle domain.
	Domain domain
	// Parent is the DESMF process a TAXUD sub-process details.
	Parent *framework.Process
	// SubProcesses are the TAXUD sub-processes that detail the process.
	SubProcesses []*framework.Process
	Version      int64
	Tailored     bool
	// Columns are the matrix's roles, in column order.
	Columns    []raci.ProcessRole
	Activities []activityRow
	Roles      []roleRow
	// MayTailor is set when the user may edit the matrix and assign roles; else Refusal says who may.
	MayTailor bool
	Refusal   string
	// RecordTypes names the record types the process governs; ControlTypes
	// those whose records may belong to any process, this one too.
	RecordTypes, ControlTypes []string
	// Records are the latest records of the process, when it has any types.
	Records []recordRow
	// MoreRecords is set when there are more records than shown.
	MoreRecords bool
	// Home is the page where the process's own work is done (the desk, the CMDB), or "".
	Home string
	// Letters are the definitions of R, A, C and I.
	Letters []framework.RACIDefinition
}

// lookupProcess returns the process of the route's {code}, or a not-found error.
func (s *site) lookupProcess(r *http.Request) (*framework.Process, error) {
	code := r.PathValue("code")
	p := s.Model.Process(code)
	if p == nil {
		return nil, errs.E(errs.NotFound, "there is no process with the code %q", code)
	}
	return p, nil
}

// processData gathers a process's reference text, tailored activities and
// matrix, role holders and, when decide is set, the guard's verdict on each
// activity for p. Role resolution is cached for the request, so the verdicts
// cost no query after the first.
func (s *site) processData(ctx context.Context, p *auth.Principal, proc *framework.Process, decide bool) (*processData, error) {
	d := &processData{Process: proc, Letters: s.Model.RACITemplate().Definitions, Home: s.processHome(proc.Code)}
	d.Domain, _ = domainByCode(proc.Domain)
	if proc.Parent != "" {
		d.Parent = s.Model.Process(proc.Parent)
	}
	for _, sp := range s.Model.TAXUD().SubProcesses() {
		if sp.Parent == proc.Code {
			d.SubProcesses = append(d.SubProcesses, sp)
		}
	}
	mx, version, tailored, err := s.RACI.Matrix(ctx, proc.Code)
	if err != nil {
		return nil, err
	}
	d.Version, d.Tailored = version, tailored
	roles, err := s.RACI.Roles(ctx, proc.Code)
	if err != nil {
		return nil, err
	}
	byCode := map[string]raci.ProcessRole{}
	for _, r := range roles {
		byCode[r.Code] = r
	}
	for _, c := range mx.Roles {
		d.Columns = append(d.Columns, byCode[c])
	}
	acts, err := s.RACI.Activities(ctx, proc.Code)
	if err != nil {
		return nil, err
	}
	for i, a := range acts {
		row := activityRow{ProcessActivity: a, Index: i}
		for _, c := range mx.Roles {
			row.Cells = append(row.Cells, mx.Cell(a.Code, c).String())
		}
		for _, l := range []framework.Cell{framework.R, framework.A, framework.C, framework.I} {
			lr := letterRoles{Letter: l.String(), Name: letterNames[l.String()]}
			for j, c := range mx.Roles {
				if mx.Cell(a.Code, c).Has(l) {
					lr.Roles = append(lr.Roles, d.Columns[j].Name)
				}
			}
			if len(lr.Roles) > 0 {
				row.Parts = append(row.Parts, lr)
			}
		}
		if decide {
			if row.Decision, err = s.RACI.Decide(ctx, p, proc.Code, a.Code, raci.Scope{}); err != nil {
				return nil, err
			}
		}
		d.Activities = append(d.Activities, row)
	}
	if d.Roles, err = s.roleRows(ctx, proc, roles); err != nil {
		return nil, err
	}
	if err := s.RACI.MayTailor(ctx, p, proc.Code); err == nil {
		d.MayTailor = true
	} else if e, ok := errs.As(err); ok && e.Kind == errs.Forbidden {
		d.Refusal = sentence(e.Message)
	} else {
		return nil, err
	}
	kinds, err := s.recordKinds(ctx)
	if err != nil {
		return nil, err
	}
	d.RecordTypes, d.ControlTypes = kinds.Own[proc.Code], kinds.AnyProcess
	if decide && (len(d.RecordTypes) > 0 || len(d.ControlTypes) > 0) {
		// The latest records of each type, so that a busy type (incidents) does
		// not crowd the process's control records off the page.
		var rows []record.Record
		for _, name := range append(slices.Clone(kinds.Names[proc.Code]), kinds.Names[""]...) {
			page, _, err := s.Records.Search(ctx, record.Filter{Process: proc.Code, Type: name},
				listing.Params{Limit: processRecordsPerType, Sort: "-updatedAt"})
			if err != nil {
				return nil, err
			}
			rows = append(rows, page.Items...)
			d.MoreRecords = d.MoreRecords || page.NextCursor != ""
		}
		slices.SortStableFunc(rows, func(a, b record.Record) int { return b.UpdatedAt.Compare(a.UpdatedAt) })
		for _, rec := range rows {
			d.Records = append(d.Records, s.recordRow(rec, kinds.Labels))
		}
	}
	return d, nil
}

// processRecordsPerType is how many of its latest records of each type a process page lists.
const processRecordsPerType = 10

// recordRow is a record in a list.
type recordRow struct {
	record.Record
	TypeLabel, StateLabel string
}

// recordRow describes a record for a list, with its type's and state's labels.
func (s *site) recordRow(rec record.Record, labels map[string]string) recordRow {
	row := recordRow{Record: rec, TypeLabel: labels[rec.Type], StateLabel: rec.State}
	if t, err := s.Records.Type(rec.Type); err == nil {
		if st, ok := t.State(rec.State); ok {
			row.StateLabel = st.Label
		}
	}
	return row
}

// appliesTo reports whether an assignment to subject counts in process p: to
// the process, the DESMF process it details, its domain, or everywhere.
func appliesTo(subject string, p *framework.Process) bool {
	return subject == raci.Everywhere || subject == p.Code || subject == p.Domain || (p.Parent != "" && subject == p.Parent)
}

// roleRows lists the process's roles with the assignments that count in it,
// read with one query for the assignments and, only when one is scoped to a
// team, one for the team names.
func (s *site) roleRows(ctx context.Context, proc *framework.Process, roles []raci.ProcessRole) ([]roleRow, error) {
	all, err := s.RACI.Assignments(ctx, raci.RoleAssignmentFilter{})
	if err != nil {
		return nil, err
	}
	names, err := s.scopeTeamNames(ctx, all)
	if err != nil {
		return nil, err
	}
	out := make([]roleRow, 0, len(roles))
	for _, role := range roles {
		row := roleRow{ProcessRole: role}
		for _, a := range all {
			if a.Role == role.Code && appliesTo(a.Subject, proc) {
				row.Holders = append(row.Holders, s.holderView(a, proc, names))
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// holderView describes an assignment as it counts in proc (nil: for any process).
func (s *site) holderView(a raci.RoleAssignment, proc *framework.Process, teams map[int64]string) holderView {
	h := holderView{RoleAssignment: a}
	switch {
	case a.Subject == raci.Everywhere:
		h.Where = "everywhere"
	case proc != nil && a.Subject == proc.Code:
		h.Where = "this process"
	case s.Model.Process(a.Subject) != nil && (proc == nil || a.Subject == proc.Parent):
		h.Where = "process " + a.Subject
	default:
		h.Where = "domain " + a.Subject
		if d, ok := domainByCode(a.Subject); ok {
			h.Where = d.Name
		}
	}
	h.ScopeText = scopeText(a.Scope, teams)
	return h
}

// scopeText writes an assignment's scope for people, or "" when it covers every record.
func scopeText(sc raci.Scope, teams map[int64]string) string {
	var parts []string
	if sc.TeamID != 0 {
		name := teams[sc.TeamID]
		if name == "" {
			name = "team " + itoa(sc.TeamID)
		}
		parts = append(parts, "records of "+name)
	}
	if sc.ServiceID != 0 {
		parts = append(parts, "service "+itoa(sc.ServiceID))
	}
	if len(parts) == 0 {
		return ""
	}
	return "only " + strings.Join(parts, ", ")
}

// scopeTeamNames reads the team names the assignments' scopes need, or nothing
// when no assignment is scoped to a team.
func (s *site) scopeTeamNames(ctx context.Context, as []raci.RoleAssignment) (map[int64]string, error) {
	if !slices.ContainsFunc(as, func(a raci.RoleAssignment) bool { return a.Scope.TeamID != 0 }) {
		return nil, nil
	}
	teams, err := s.allTeams(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]string, len(teams))
	for _, t := range teams {
		out[t.ID] = t.Name
	}
	return out, nil
}

// allTeams lists the teams by name, as many as one page of the listing allows.
func (s *site) allTeams(ctx context.Context) ([]auth.Team, error) {
	page, _, err := s.Auth.ListTeams(ctx, listing.Params{Limit: maxPick, Sort: "name"}, nil)
	return page.Items, err
}

// processPage serves GET /processes/{code}: the process's purpose, scope,
// benefits and outcomes, its activities with what the user may do in each,
// its RACI matrix and who holds its roles.
func (s *site) processPage(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	d, err := s.processData(r.Context(), p, proc, true)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "process", &view{Title: proc.Name, Section: "processes", User: p, Data: d})
	return nil
}

// processGuide serves GET /processes/{code}/guide: the process guide as one
// printable page, with the classification marking at its top and bottom.
func (s *site) processGuide(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	d, err := s.processData(r.Context(), p, proc, false)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "guide", &view{Title: proc.Name + " — process guide", Section: "processes", User: p, Data: d})
	return nil
}
