package web

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"steward/internal/framework"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/raci"
)

// raciEditData is the content of the RACI editor.
type raciEditData struct {
	Process *framework.Process
	// Version is the matrix version the form was read at; it travels in a hidden field.
	Version  int64
	Tailored bool
	Columns  []raci.ProcessRole
	Rows     []editRow
	Form     *form
	// Stale is set when someone else saved the matrix after the form was read.
	Stale bool
	// Letters are the definitions of R, A, C and I.
	Letters []framework.RACIDefinition
}

// editRow is one activity's row of the editor.
type editRow struct {
	Index    int
	Activity raci.ProcessActivity
	Cells    []editCell
	// Approval and Consultation are the activity's workflow settings as the form holds them.
	Approval, Consultation bool
	// Errors are the row's own problems (one A, at least one R), shown in its header cell.
	Errors []string
}

// ErrorID is the id of the element that holds the row's errors.
func (r editRow) ErrorID() string { return "row-" + strconv.Itoa(r.Index) + "-error" }

// editCell is one cell of the editor.
type editCell struct {
	// Name is the form field; ID the input's id.
	Name, ID string
	// Value is what the input holds: the matrix's letters, or what the user typed.
	Value string
	Error string
	// Flagged marks a cell that takes part in its row's error, such as one of two As.
	Flagged bool
	// Yours is, after a concurrent change, what the user had typed where it differs from the current letters.
	Yours string
}

func cellName(activity, role string) string { return "cell:" + activity + ":" + role }

func cellID(row, col int) string { return "c-" + strconv.Itoa(row) + "-" + strconv.Itoa(col) }

// editorFor builds the editor over the process's current matrix and settings.
func (s *site) editorFor(r *http.Request, proc *framework.Process) (*raciEditData, error) {
	ctx := r.Context()
	mx, version, tailored, err := s.RACI.Matrix(ctx, proc.Code)
	if err != nil {
		return nil, err
	}
	roles, err := s.RACI.Roles(ctx, proc.Code)
	if err != nil {
		return nil, err
	}
	acts, err := s.RACI.Activities(ctx, proc.Code)
	if err != nil {
		return nil, err
	}
	d := &raciEditData{Process: proc, Version: version, Tailored: tailored, Form: newForm(), Letters: s.Model.RACITemplate().Definitions}
	byCode := map[string]raci.ProcessRole{}
	for _, ro := range roles {
		byCode[ro.Code] = ro
	}
	for _, c := range mx.Roles {
		d.Columns = append(d.Columns, byCode[c])
	}
	for i, a := range acts {
		row := editRow{Index: i, Activity: a, Approval: a.RequiresApproval, Consultation: a.RequiresConsultation}
		for j, c := range mx.Roles {
			row.Cells = append(row.Cells, editCell{Name: cellName(a.Code, c), ID: cellID(i, j), Value: mx.Cell(a.Code, c).String()})
		}
		d.Rows = append(d.Rows, row)
	}
	return d, nil
}

// raciEditForm serves GET /processes/{code}/raci/edit to the process owner or an administrator.
func (s *site) raciEditForm(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	if err := s.RACI.MayTailor(r.Context(), p, proc.Code); err != nil {
		return err
	}
	d, err := s.editorFor(r, proc)
	if err != nil {
		return err
	}
	s.renderEditor(w, r, p, http.StatusOK, d)
	return nil
}

func (s *site) renderEditor(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, d *raciEditData) {
	s.render(w, r, status, "raci-edit", &view{Title: "Edit the RACI matrix of " + d.Process.Name, Section: "processes", User: p, Data: d})
}

// bodyRowRE reads where the service located a matrix problem in the rows it was given.
var bodyRowRE = regexp.MustCompile(`^body\.rows\[(\d+)\]\.(?:cells|activity)(?:\.(.+))?$`)

// raciEdit serves POST /processes/{code}/raci/edit. It saves the matrix when a
// cell changed, then each activity setting that changed. Problems re-show the
// grid with what was typed and each error next to its cell or row; a change
// someone else saved meanwhile re-shows the current matrix with the user's
// differing entries beside it.
func (s *site) raciEdit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := s.RACI.MayTailor(ctx, p, proc.Code); err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	d, err := s.editorFor(r, proc)
	if err != nil {
		return err
	}
	current, _, _, err := s.RACI.Matrix(ctx, proc.Code)
	if err != nil {
		return err
	}
	posted, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if posted != d.Version {
		return s.staleEditor(w, r, p, d)
	}
	mx := framework.Matrix{Process: proc.Code, Roles: current.Roles}
	cellsChanged, flagsChanged := false, map[string]raci.ActivitySettings{}
	for i := range d.Rows {
		row := &d.Rows[i]
		cells := map[string]framework.Cell{}
		for j, role := range current.Roles {
			c := &row.Cells[j]
			c.Value = strings.TrimSpace(r.PostFormValue(c.Name))
			letters, err := framework.ParseCell(normaliseCell(c.Value))
			if err != nil {
				c.Error = "Use the letters R, A, C and I, each at most once (such as A/R)."
				d.Form.Set(c.ID, row.Activity.Code+", "+d.Columns[j].Name+": "+strings.ToLower(c.Error[:1])+c.Error[1:])
				continue
			}
			if letters != 0 {
				cells[role] = letters
			}
			if letters != current.Cell(row.Activity.Code, role) {
				cellsChanged = true
			}
		}
		mx.Rows = append(mx.Rows, framework.RACIRow{Activity: row.Activity.Code, Cells: cells})
		approval, consultation := r.PostFormValue("approval:"+row.Activity.Code) != "", r.PostFormValue("consultation:"+row.Activity.Code) != ""
		if approval != row.Approval || consultation != row.Consultation {
			flagsChanged[row.Activity.Code] = raci.ActivitySettings{RequiresApproval: &approval, RequiresConsultation: &consultation}
		}
		row.Approval, row.Consultation = approval, consultation
	}
	if d.Form.Failed() {
		// Report every other problem of the matrix with the letters that do not parse.
		if err := s.RACI.ValidateMatrix(ctx, proc.Code, mx); err != nil && !s.placeMatrixErrors(d, err) {
			return err
		}
		d.Form.Error = "The matrix was not saved: correct the cells marked below."
		s.renderEditor(w, r, p, http.StatusUnprocessableEntity, d)
		return nil
	}
	version := d.Version
	if cellsChanged {
		version, err = s.RACI.SetMatrix(ctx, p, proc.Code, version, mx)
		switch {
		case errs.Is(err, errs.PreconditionFailed):
			return s.staleEditor(w, r, p, d)
		case err != nil:
			if !s.placeMatrixErrors(d, err) {
				return err
			}
			d.Form.Error = "The matrix was not saved: correct the rows and cells marked below."
			s.renderEditor(w, r, p, http.StatusUnprocessableEntity, d)
			return nil
		}
	}
	for _, row := range d.Rows {
		set, ok := flagsChanged[row.Activity.Code]
		if !ok {
			continue
		}
		_, version, err = s.RACI.SetActivitySettings(ctx, p, proc.Code, version, row.Activity.Code, set)
		if errs.Is(err, errs.PreconditionFailed) {
			return s.staleEditor(w, r, p, d)
		}
		if err != nil {
			return err
		}
	}
	m := "raci-saved"
	if !cellsChanged && len(flagsChanged) == 0 {
		m = "raci-unchanged"
	}
	redirect(w, r, "/processes/"+proc.Code+"?m="+m+"#raci")
	return nil
}

// placeMatrixErrors puts the service's matrix problems next to their rows and
// cells; it reports false when err is not a validation error.
func (s *site) placeMatrixErrors(d *raciEditData, err error) bool {
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid {
		return false
	}
	col := map[string]int{}
	for j, c := range d.Columns {
		col[c.Code] = j
	}
	for _, fe := range e.Fields {
		msg := sentence(fe.Message)
		m := bodyRowRE.FindStringSubmatch(fe.Location)
		i := -1
		if m != nil {
			i, _ = strconv.Atoi(m[1])
		}
		if i < 0 || i >= len(d.Rows) {
			if d.Form.Error == "" {
				d.Form.Error = msg
			}
			d.Form.Set("matrix", msg)
			continue
		}
		row := &d.Rows[i]
		if j, ok := col[m[2]]; ok && m[2] != "" {
			c := &row.Cells[j]
			if c.Error == "" {
				c.Error = msg
			}
			d.Form.Set(c.ID, msg)
			continue
		}
		row.Errors = append(row.Errors, msg)
		if strings.Contains(fe.Message, string(framework.RuleOneAccountable)) {
			for j := range row.Cells {
				if c, err := framework.ParseCell(normaliseCell(row.Cells[j].Value)); err == nil && c.Has(framework.A) {
					row.Cells[j].Flagged = true
				}
			}
		}
		anchor := row.ErrorID()
		if len(row.Cells) > 0 {
			anchor = row.Cells[0].ID
		}
		d.Form.Set(anchor, msg)
	}
	return true
}

// staleEditor answers 412: someone else saved the matrix or the settings after
// the form was read. Nothing (more) was saved; the editor shows the current
// matrix, and beside each cell the user's entry where it differs.
func (s *site) staleEditor(w http.ResponseWriter, r *http.Request, p *auth.Principal, mine *raciEditData) error {
	proc := mine.Process
	d, err := s.editorFor(r, proc)
	if err != nil {
		return err
	}
	d.Stale = true
	typed := map[string]string{}
	for _, row := range mine.Rows {
		for _, c := range row.Cells {
			typed[c.Name] = strings.TrimSpace(r.PostFormValue(c.Name))
		}
	}
	for i := range d.Rows {
		for j := range d.Rows[i].Cells {
			c := &d.Rows[i].Cells[j]
			v, ok := typed[c.Name]
			if !ok {
				continue
			}
			if parsed, err := framework.ParseCell(normaliseCell(v)); err != nil || parsed.String() != c.Value {
				c.Yours = v
				if c.Yours == "" {
					c.Yours = "(empty)"
				}
			}
		}
	}
	d.Form.Error = "Someone else changed this process's matrix or settings while you were editing (it is now at version " +
		strconv.FormatInt(d.Version, 10) + "). Your changes were not saved. The grid shows the matrix as it is now; " +
		"where you had entered something else, your entry is shown under the cell. Make your changes again and save."
	s.renderEditor(w, r, p, http.StatusPreconditionFailed, d)
	return nil
}

// raciReset serves POST /processes/{code}/raci/reset: the matrix goes back to
// the reference model's default, if the version is still current.
func (s *site) raciReset(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	proc, err := s.lookupProcess(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if version <= 0 {
		return errs.E(errs.Invalid, "the form lacks the matrix version; reload the editor and try again")
	}
	if _, err := s.RACI.ResetMatrix(r.Context(), p, proc.Code, version); err != nil {
		if errs.Is(err, errs.PreconditionFailed) {
			return errs.E(errs.PreconditionFailed, "someone else changed the matrix of %s meanwhile; nothing was reset. Open the editor again to see the current matrix", proc.Code)
		}
		return err
	}
	redirect(w, r, "/processes/"+proc.Code+"?m=raci-reset#raci")
	return nil
}
