package framework

import (
	"errors"
	"strings"
)

// Local is what an organisation added to the reference model, which matrix validation
// must accept: roles and activities the seeds do not have. Seed codes stay as they are.
type Local struct {
	// Roles holds the codes of local roles that may be matrix columns.
	Roles map[string]bool
	// Activities maps the code of each local activity to the process it belongs to.
	Activities map[string]string
}

// ValidateLocal checks mx as Validate does, but also accepts local's roles as columns and
// local's activities of mx's process as rows. Every other rule (one A, at least one R,
// columns listed once, cells only in columns, one row per activity) applies unchanged.
func (m *Model) ValidateLocal(mx Matrix, local Local) error {
	err := m.Validate(mx)
	if err == nil {
		return nil
	}
	all := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		all = j.Unwrap()
	}
	cols := make(map[string]bool, len(mx.Roles))
	for _, r := range mx.Roles {
		cols[r] = true
	}
	var keep []error
	for _, e := range all {
		var re *RACIError
		if !errors.As(e, &re) {
			keep = append(keep, e)
			continue
		}
		switch {
		case re.Rule == RuleKnownRole && local.Roles[re.Role]:
			if re.Activity != "" && !cols[re.Role] {
				// A known local role used in a cell outside the columns.
				keep = append(keep, &RACIError{Process: re.Process, Activity: re.Activity, Role: re.Role,
					Rule: RuleRoleColumn, Detail: "\"" + re.Role + "\" is not a column of the matrix"})
			}
		case re.Rule == RuleKnownActivity && local.Activities[re.Activity] == mx.Process && mx.Process != "":
		default:
			keep = append(keep, e)
		}
	}
	return errors.Join(keep...)
}

// RoleTitle is the name of a role within a process: for a role of the generic RACI template
// its Table 7.10(B) column title with the process's name, e.g. "Incident Management Process
// Analyst/Practitioner" or "Request Fulfillment Process Owner"; for any other role its name.
// It returns "" for an unknown role.
func (m *Model) RoleTitle(processCode, roleCode string) string {
	r := m.Role(roleCode)
	if r == nil {
		return ""
	}
	p := m.Process(processCode)
	if p == nil || r.TemplateTitle == "" || !strings.Contains(r.TemplateTitle, "[Process]") {
		return r.Name
	}
	title := strings.Replace(r.TemplateTitle, "[Process] Management", p.Name, 1)
	return strings.Replace(title, "[Process]", p.Name, 1)
}
