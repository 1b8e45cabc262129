package raci

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"github.com/danielgtaylor/huma/v2"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
)

// RegisterAPI adds the process and RACI endpoints to a. Reads need a signed-in caller;
// writes are checked in the service (process owner or administrator). The CSV export is an
// ordinary operation whose 200 response is text/csv.
func RegisterAPI(a *httpx.API, s *Service) {
	registerProcesses(a, s)
	registerMatrix(a, s)
	registerTailoring(a, s)
	registerRoles(a, s)
}

// maxCode bounds every code the API accepts (process, activity, role).
const maxCode = 64

// ---- processes ----

// DomainItem is a lifecycle domain with its processes.
type DomainItem struct {
	Code        string   `json:"code"`
	Name        string   `json:"name"`
	Section     string   `json:"section"`
	Description string   `json:"description"`
	Processes   []string `json:"processes" doc:"Codes of the domain's processes, DESMF then TAXUD sub-processes."`
}

// ActivityItem is an activity in a process list.
type ActivityItem struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
	Local  bool   `json:"local"`
}

// ProcessItem is a process in the process list.
type ProcessItem struct {
	Code       string         `json:"code"`
	Name       string         `json:"name"`
	Domain     string         `json:"domain"`
	Framework  string         `json:"framework" enum:"DESMF,TAXUD"`
	Parent     string         `json:"parent,omitempty" doc:"For a TAXUD sub-process, the DESMF process it details."`
	Section    string         `json:"section"`
	Activities []ActivityItem `json:"activities"`
}

// DomainRef names a domain.
type DomainRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// ProcessDetail is one process as the organisation tailored it.
type ProcessDetail struct {
	Code             string            `json:"code"`
	Name             string            `json:"name"`
	Domain           DomainRef         `json:"domain"`
	Framework        string            `json:"framework" enum:"DESMF,TAXUD"`
	Parent           string            `json:"parent,omitempty"`
	VariantOf        string            `json:"variantOf,omitempty"`
	SubProcesses     []string          `json:"subProcesses,omitempty"`
	Section          string            `json:"section"`
	Purpose          string            `json:"purpose"`
	Scope            string            `json:"scope"`
	Benefits         []string          `json:"benefits"`
	Outcomes         []string          `json:"outcomes"`
	ActivitiesStatus string            `json:"activitiesStatus,omitempty"`
	ControlException string            `json:"controlException,omitempty"`
	Version          int64             `json:"version" doc:"The process's tailoring version; its ETag."`
	Tailored         bool              `json:"tailored" doc:"Whether the RACI matrix differs from the default."`
	Activities       []ProcessActivity `json:"activities"`
	Roles            []ProcessRole     `json:"roles"`
}

// CodePath is the {code} of a process path.
type CodePath struct {
	Code string `path:"code" maxLength:"64" doc:"Process code, e.g. IM, ChM or ITSCM.2."`
}

type raciDomainsOut struct {
	Body struct {
		Items []DomainItem `json:"items"`
	}
}

type raciProcessesOut struct {
	Body struct {
		Items []ProcessItem `json:"items"`
	}
}

type raciProcessOut struct {
	ETag string `header:"ETag"`
	Body ProcessDetail
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// allProcesses lists the DESMF processes in seed order, then the TAXUD sub-processes.
func allProcesses(m *framework.Model) []*framework.Process {
	return append(m.Processes(), m.TAXUD().SubProcesses()...)
}

func registerProcesses(a *httpx.API, s *Service) {
	tag := []string{"Processes"}
	m := s.Model()
	httpx.Register(a, huma.Operation{OperationID: "list-domains", Method: http.MethodGet, Path: "/api/v1/domains",
		Summary: "The five lifecycle domains and their processes", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*raciDomainsOut, error) {
			out := &raciDomainsOut{}
			out.Body.Items = []DomainItem{}
			for _, d := range m.Domains() {
				it := DomainItem{Code: d.Code, Name: d.Name, Section: d.Section, Description: d.Description, Processes: []string{}}
				for _, p := range allProcesses(m) {
					if p.Domain == d.Code {
						it.Processes = append(it.Processes, p.Code)
					}
				}
				out.Body.Items = append(out.Body.Items, it)
			}
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "list-processes", Method: http.MethodGet, Path: "/api/v1/processes",
		Summary: "Every DESMF process and TAXUD sub-process with its activities", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, _ *struct{}) (*raciProcessesOut, error) {
			out := &raciProcessesOut{}
			out.Body.Items = []ProcessItem{}
			for _, p := range allProcesses(m) {
				acts, err := s.Activities(ctx, p.Code)
				if err != nil {
					return nil, err
				}
				it := ProcessItem{Code: p.Code, Name: p.Name, Domain: p.Domain, Framework: string(p.Framework), Parent: p.Parent,
					Section: p.Section, Activities: make([]ActivityItem, 0, len(acts))}
				for _, a := range acts {
					it.Activities = append(it.Activities, ActivityItem{Code: a.Code, Name: a.Name, Parent: a.Parent, Local: a.Local})
				}
				out.Body.Items = append(out.Body.Items, it)
			}
			return out, nil
		})
	httpx.Register(a, huma.Operation{OperationID: "get-process", Method: http.MethodGet, Path: "/api/v1/processes/{code}",
		Summary: "A process: purpose, scope, benefits, outcomes, activities with their settings, and roles", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *CodePath) (*raciProcessOut, error) {
			d, err := processDetail(ctx, s, in.Code)
			if err != nil {
				return nil, err
			}
			return &raciProcessOut{ETag: httpx.ETag(d.Version), Body: d}, nil
		})
}

func processDetail(ctx context.Context, s *Service, code string) (ProcessDetail, error) {
	m := s.Model()
	p := m.Process(code)
	if p == nil {
		return ProcessDetail{}, errs.E(errs.NotFound, "no process with code %q", code)
	}
	_, version, tailored, err := s.Matrix(ctx, code)
	if err != nil {
		return ProcessDetail{}, err
	}
	acts, err := s.Activities(ctx, code)
	if err != nil {
		return ProcessDetail{}, err
	}
	roles, err := s.Roles(ctx, code)
	if err != nil {
		return ProcessDetail{}, err
	}
	d := ProcessDetail{Code: p.Code, Name: p.Name, Domain: DomainRef{Code: p.Domain}, Framework: string(p.Framework),
		Parent: p.Parent, VariantOf: p.VariantOf, Section: p.Section, Purpose: p.Purpose, Scope: p.Scope,
		Benefits: nonNil(p.Benefits), Outcomes: nonNil(p.Outcomes), ActivitiesStatus: p.ActivitiesStatus,
		ControlException: p.ControlException, Version: version, Tailored: tailored, Activities: acts, Roles: roles}
	if dom := m.Domain(p.Domain); dom != nil {
		d.Domain.Name = dom.Name
	}
	if p.Code == m.TAXUD().Parent {
		for _, sp := range m.TAXUD().SubProcesses() {
			d.SubProcesses = append(d.SubProcesses, sp.Code)
		}
	}
	return d, nil
}

// ---- the matrix ----

// MatrixRow is one activity's row: letters per role code.
type MatrixRow struct {
	Activity string            `json:"activity" maxLength:"64" doc:"Activity code."`
	Cells    map[string]string `json:"cells" doc:"Letters per role code: R, A, C and I, each at most once (\"A/R\" or \"RA\"); empty or absent for none."`
}

// MatrixBody is a matrix as a client sends it.
type MatrixBody struct {
	Roles []string    `json:"roles" maxItems:"100" doc:"Role codes: the matrix's columns, in order."`
	Rows  []MatrixRow `json:"rows" maxItems:"1000" doc:"One row per activity of the process."`
}

// MatrixDoc is a process's matrix as the API returns it; its roles and rows can be sent
// back with PUT.
type MatrixDoc struct {
	Process       string            `json:"process"`
	Version       int64             `json:"version" doc:"The process's tailoring version; its ETag."`
	Tailored      bool              `json:"tailored" doc:"Whether the matrix differs from the default (Table 7.10(B) or TAXUD Table 4-1)."`
	Roles         []string          `json:"roles"`
	RoleNames     map[string]string `json:"roleNames" doc:"Display name per role code."`
	ActivityNames map[string]string `json:"activityNames" doc:"Name per activity code."`
	Rows          []MatrixRow       `json:"rows"`
}

type raciMatrixOut struct {
	ETag string `header:"ETag"`
	Body MatrixDoc
}

type raciMatrixPutIn struct {
	CodePath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
	Body    MatrixBody
}

type raciIfMatchIn struct {
	CodePath
	IfMatch string `header:"If-Match" doc:"The ETag you read; required."`
}

type raciCsvOut struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	ETag               string `header:"ETag"`
	Body               []byte
}

func matrixDoc(ctx context.Context, s *Service, code string) (*raciMatrixOut, error) {
	mx, version, tailored, err := s.Matrix(ctx, code)
	if err != nil {
		return nil, err
	}
	acts, err := s.Activities(ctx, code)
	if err != nil {
		return nil, err
	}
	d := MatrixDoc{Process: code, Version: version, Tailored: tailored, Roles: mx.Roles, RoleNames: map[string]string{},
		ActivityNames: map[string]string{}, Rows: make([]MatrixRow, 0, len(mx.Rows))}
	for _, r := range mx.Roles {
		if d.RoleNames[r], err = s.RoleName(ctx, code, r); err != nil {
			return nil, err
		}
	}
	for _, a := range acts {
		d.ActivityNames[a.Code] = a.Name
	}
	for _, r := range mx.Rows {
		cells := make(map[string]string, len(r.Cells))
		for role, c := range r.Cells {
			cells[role] = c.String()
		}
		d.Rows = append(d.Rows, MatrixRow{Activity: r.Activity, Cells: cells})
	}
	return &raciMatrixOut{ETag: httpx.ETag(version), Body: d}, nil
}

// parseMatrix turns a request body into a matrix, reporting bad letters and over-long codes.
func parseMatrix(code string, b MatrixBody) (framework.Matrix, []errs.FieldError) {
	mx := framework.Matrix{Process: code, Roles: make([]string, 0, len(b.Roles)), Rows: make([]framework.RACIRow, 0, len(b.Rows))}
	var f []errs.FieldError
	for i, r := range b.Roles {
		if len(r) > maxCode {
			f = append(f, errs.FieldError{Location: "body.roles[" + strconv.Itoa(i) + "]", Message: "unknown role: a role code has at most 64 characters"})
		}
		mx.Roles = append(mx.Roles, r)
	}
	for i, r := range b.Rows {
		loc := "body.rows[" + strconv.Itoa(i) + "].cells"
		cells := map[string]string{}
		for k, v := range r.Cells {
			if len(k) > maxCode {
				f = append(f, errs.FieldError{Location: loc, Message: "unknown role: a role code has at most 64 characters"})
				continue
			}
			cells[k] = v
		}
		parsed, bad := parseCells(loc, cells)
		f = append(f, bad...)
		mx.Rows = append(mx.Rows, framework.RACIRow{Activity: r.Activity, Cells: parsed})
	}
	return mx, f
}

func registerMatrix(a *httpx.API, s *Service) {
	tag := []string{"Processes"}
	httpx.Register(a, huma.Operation{OperationID: "get-raci", Method: http.MethodGet, Path: "/api/v1/processes/{code}/raci",
		Summary: "A process's RACI matrix (tailored, or the default)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *CodePath) (*raciMatrixOut, error) {
			return matrixDoc(ctx, s, in.Code)
		})
	httpx.Register(a, huma.Operation{OperationID: "set-raci", Method: http.MethodPut, Path: "/api/v1/processes/{code}/raci",
		Summary: "Replace a process's RACI matrix (process owner or administrator)", Tags: tag,
		Description: "Every activity needs a row with exactly one A and at least one R; unknown roles and activities are refused. " +
			"All problems are reported, each naming the activity and the rule."},
		httpx.Authenticated, func(ctx context.Context, in *raciMatrixPutIn) (*raciMatrixOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			p := auth.PrincipalFrom(ctx)
			mx, bad := parseMatrix(in.Code, in.Body)
			if len(bad) > 0 {
				// Report the letters that do not parse together with every other problem.
				if err := s.MayTailor(ctx, p, in.Code); err != nil {
					return nil, err
				}
				verr := s.ValidateMatrix(ctx, in.Code, mx)
				if e, ok := errs.As(verr); ok && e.Kind == errs.Invalid {
					bad = append(bad, e.Fields...)
				} else if verr != nil {
					return nil, verr
				}
				return nil, errs.WithFields(bad)
			}
			if _, err := s.SetMatrix(ctx, p, in.Code, v, mx); err != nil {
				return nil, err
			}
			return matrixDoc(ctx, s, in.Code)
		})
	httpx.Register(a, huma.Operation{OperationID: "reset-raci", Method: http.MethodDelete, Path: "/api/v1/processes/{code}/raci",
		Summary: "Return a process's RACI matrix to the default (process owner or administrator)", Tags: tag},
		httpx.Authenticated, func(ctx context.Context, in *raciIfMatchIn) (*raciMatrixOut, error) {
			v, err := httpx.IfMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			if _, err := s.ResetMatrix(ctx, auth.PrincipalFrom(ctx), in.Code, v); err != nil {
				return nil, err
			}
			return matrixDoc(ctx, s, in.Code)
		})
	httpx.Register(a, huma.Operation{OperationID: "export-raci-csv", Method: http.MethodGet, Path: "/api/v1/processes/{code}/raci.csv",
		Summary: "A process's RACI matrix as CSV", Tags: tag,
		Responses: map[string]*huma.Response{"200": {Description: "The matrix: a header row of role names, one row per activity; " +
			"the classification marking is the first and last line.", Content: map[string]*huma.MediaType{"text/csv": {Schema: &huma.Schema{Type: "string"}}}}}},
		httpx.Authenticated, func(ctx context.Context, in *CodePath) (*raciCsvOut, error) {
			var buf bytes.Buffer
			v, err := s.WriteCSV(ctx, &buf, in.Code)
			if err != nil {
				return nil, err
			}
			return &raciCsvOut{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="raci-` + safeFileName(in.Code) + `.csv"`,
				ETag: httpx.ETag(v), Body: buf.Bytes()}, nil
		})
}

// safeFileName keeps letters, digits, '.', '-' and '_' of a code for a file name.
func safeFileName(s string) string {
	b := []byte(s)
	out := b[:0]
	for _, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_' {
			out = append(out, c)
		}
	}
	return string(out)
}
