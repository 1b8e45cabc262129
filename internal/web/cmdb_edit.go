package web

import (
	"net/http"
	"strconv"
	"strings"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/transition/cmdb"
)

// Editing a CI: the edit form on the CI's page and the POST that saves it
// with If-Match semantics (the version the user read travels in the form).

// attrField is one attribute's input in the edit form.
type attrField struct {
	ID, Label, Value string
	// Kind picks the input: text, textarea, select (enum and boolean), date.
	Kind     string
	Options  []string
	Required bool
	Hint     string
}

// statusOption is a status the edit form offers: the current one and those the lifecycle allows next.
type statusOption struct {
	Value    string
	Selected bool
}

// ciEdit is the edit form of a CI.
type ciEdit struct {
	Form      *form
	Version   int64
	Statuses  []statusOption
	Fields    []attrField
	ShowMinUp bool
	// Open shows the form unfolded (after an error).
	Open bool
}

// The edit form's own fields; attribute inputs are "attr-" + the attribute's name.
const (
	fieldName    = "ci-name"
	fieldStatus  = "ci-status"
	fieldMinUp   = "ci-minup"
	fieldMarking = "ci-marking"
	fieldChange  = "ci-change"
)

// editForm prepares the edit form of c: the submitted values after a failed
// try, else the CI's current ones.
func editForm(c cmdb.CI, class *cmdb.Class, failed *form, cluster bool) *ciEdit {
	f := failed
	if f == nil {
		f = newForm()
		f.Values[fieldName], f.Values[fieldStatus], f.Values[fieldMarking] = c.Name, string(c.Status), c.Marking
		f.Values[fieldMinUp] = strconv.FormatInt(c.MinUp, 10)
		for _, a := range class.Attributes {
			f.Values["attr-"+a.Name] = valueText(c.Attrs[a.Name])
		}
	}
	e := &ciEdit{Form: f, Version: c.Version, Open: failed != nil, ShowMinUp: c.MinUp != 1 || cluster}
	for _, st := range cmdb.Statuses {
		if st == c.Status || cmdb.CheckStatusChange(c.Status, st) == nil {
			e.Statuses = append(e.Statuses, statusOption{Value: string(st), Selected: f.Value(fieldStatus) == string(st)})
		}
	}
	for _, a := range class.Attributes {
		af := attrField{ID: "attr-" + a.Name, Label: a.Label, Value: f.Value("attr-" + a.Name), Kind: "text", Required: a.Required}
		switch a.Type {
		case cmdb.TypeText:
			af.Kind = "textarea"
		case cmdb.TypeEnum:
			af.Kind, af.Options = "select", a.Enum
		case cmdb.TypeBoolean:
			af.Kind, af.Options = "select", []string{"true", "false"}
		case cmdb.TypeDate:
			af.Kind = "date"
		case cmdb.TypeDateTime:
			af.Hint = "RFC 3339, such as 2026-01-31T12:00:00Z"
		case cmdb.TypeReference:
			af.Hint = "The id of a CI (" + a.RefClass + ")"
		}
		e.Fields = append(e.Fields, af)
	}
	return e
}

// cmdbUpdateCI serves POST /cmdb/cis/{id}: it saves the edit form at the
// version the user read (If-Match semantics). An error shows the form again
// with the user's input and the errors next to the fields.
func (s *site) cmdbUpdateCI(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, err := ciPathID(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	cur, err := s.CMDB.GetCI(ctx, id)
	if err != nil {
		return err
	}
	class, err := s.CMDB.Class(ctx, cur.Class)
	if err != nil {
		return err
	}
	f := newForm()
	for _, k := range []string{fieldName, fieldStatus, fieldMinUp, fieldMarking, fieldChange} {
		f.Values[k] = r.PostFormValue(k)
	}
	in := cmdb.CIUpdate{Attrs: cmdb.Attrs{}, ChangeRef: strings.TrimSpace(f.Values[fieldChange])}
	name, marking, st := f.Values[fieldName], strings.TrimSpace(f.Values[fieldMarking]), cmdb.Status(f.Values[fieldStatus])
	in.Name, in.Marking, in.Status = &name, &marking, &st
	if v := strings.TrimSpace(f.Values[fieldMinUp]); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			f.Set(fieldMinUp, "Give a whole number of members, 1 or more.")
		} else {
			in.MinUp = &n
		}
	}
	for _, a := range class.Attributes {
		key := "attr-" + a.Name
		v := strings.ReplaceAll(r.PostFormValue(key), "\r\n", "\n")
		f.Values[key] = v
		old, had := cur.Attrs[a.Name]
		switch {
		case v == valueText(old):
		case strings.TrimSpace(v) == "" && had:
			in.Attrs[a.Name] = nil
		case strings.TrimSpace(v) != "":
			in.Attrs[a.Name] = v
		}
	}
	version, _ := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if version <= 0 {
		f.Error = "The form lacks the CI's version. The page now shows the CI as it is; try again."
		return s.renderCI(w, r, p, http.StatusUnprocessableEntity, id, f, false)
	}
	if f.Failed() {
		return s.renderCI(w, r, p, http.StatusUnprocessableEntity, id, f, false)
	}
	out, err := s.CMDB.UpdateCI(ctx, id, version, in)
	if err != nil {
		e, ok := errs.As(err)
		if !ok || e.Kind == errs.NotFound || e.Kind == errs.Internal {
			return err
		}
		switch e.Kind {
		case errs.Invalid:
			ciFieldErrors(f, e, &class)
		case errs.PreconditionFailed:
			f.Error = "Someone else changed this CI since you opened it, so nothing was saved. The page shows the CI as it is now, with what you typed in the form: check it, then save again."
		case errs.Conflict:
			f.Error = sentence(e.Message)
			if strings.Contains(e.Message, "status") || strings.Contains(e.Message, "become") {
				f.Set(fieldStatus, sentence(e.Message))
			}
		default:
			f.Error = sentence(e.Message)
		}
		return s.renderCI(w, r, p, httpx.Status(e.Kind), id, f, false)
	}
	saved := "1"
	if out.Version == version {
		saved = "none"
	}
	redirect(w, r, "/cmdb/cis/"+itoa(id)+"?saved="+saved)
	return nil
}

// ciFieldErrors puts a validation error's messages on the edit form's fields,
// each named by its label so that the summary at the top says which field.
func ciFieldErrors(f *form, e *errs.Error, class *cmdb.Class) {
	fields := map[string]string{"name": fieldName, "status": fieldStatus, "minUp": fieldMinUp, "marking": fieldMarking}
	labels := map[string]string{fieldName: "Name", fieldStatus: "Status", fieldMinUp: "Members that must be up", fieldMarking: "Marking"}
	for _, a := range class.Attributes {
		labels["attr-"+a.Name] = a.Label
	}
	set := func(id, msg string) {
		if l := labels[id]; l != "" {
			msg = l + ": " + msg
		}
		f.Set(id, sentence(msg))
	}
	for _, fe := range e.Fields {
		loc := strings.TrimPrefix(fe.Location, "body.")
		switch {
		case strings.HasPrefix(loc, "attributes."):
			set("attr-"+strings.TrimPrefix(loc, "attributes."), fe.Message)
		case fields[loc] != "":
			set(fields[loc], fe.Message)
		default:
			f.Error = sentence(fe.Message)
		}
	}
	if len(e.Fields) == 0 {
		f.Error = sentence(e.Message)
	}
}
