package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/record"
)

// The desk's changes: saving and deleting a saved filter, and a bulk change of
// the ticked records (assign, workflow action or journal note), which shows
// what became of each record.

// deskFlashes are the confirmations the desk shows after a redirect (?m=…);
// only these fixed texts are ever shown.
var deskFlashes = map[string]string{
	"filter-saved":    "The filter was saved.",
	"filter-deleted":  "The filter was deleted.",
	"incident-logged": "The incident was logged.",
}

// deskBack reads the desk query a form came from (its hidden "back" field),
// keeping only the desk's own parameters.
func deskBack(raw string) string {
	v, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
	if err != nil {
		return ""
	}
	q := readDeskQuery(v, newForm())
	return q.values().Encode()
}

// deskAddress is the desk's address with a query and an optional confirmation.
func deskAddress(query, m string) string {
	v, _ := url.ParseQuery(query)
	if m != "" {
		v.Set("m", m)
	}
	if len(v) == 0 {
		return "/desk"
	}
	return "/desk?" + v.Encode()
}

// saveDeskFilter serves POST /desk/filters: it saves the current query under a name.
func (s *site) saveDeskFilter(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	back := deskBack(r.PostFormValue("query"))
	f := newForm()
	f.Values["name"], f.Values["shared"] = r.PostFormValue("name"), r.PostFormValue("shared")
	_, err := s.Records.SaveFilter(r.Context(), record.SavedFilter{Page: deskPage, Name: f.Values["name"], Query: back,
		Shared: f.Values["shared"] != ""})
	if err != nil {
		if !f.FromError(err) {
			return err
		}
		if msg := f.Errors["name"]; msg != "" {
			f.Errors["name"] = "Name the filter: " + strings.TrimSuffix(msg, ".") + "."
		}
		r.URL.RawQuery = back
		return s.renderDesk(w, r, p, http.StatusUnprocessableEntity, f, newForm())
	}
	redirect(w, r, deskAddress(back, "filter-saved"))
	return nil
}

// deleteDeskFilter serves POST /desk/filters/{id}/delete: it deletes one of the user's filters.
func (s *site) deleteDeskFilter(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return errs.E(errs.NotFound, "there is no such filter")
	}
	if err := s.Records.DeleteSavedFilter(r.Context(), id); err != nil {
		return err
	}
	redirect(w, r, deskAddress(deskBack(r.PostFormValue("back")), "filter-deleted"))
	return nil
}

// bulkResultView is what became of one record of a bulk change, for people.
type bulkResultView struct {
	record.BulkResult
	OK bool
	// Message is the error as a sentence.
	Message string
}

// bulkData is the content of the bulk-change result page.
type bulkData struct {
	// What describes the change: "Assigned to Network team".
	What    string
	Results []bulkResultView
	Done    int
	Failed  int
	// Back is the queue the change came from.
	Back string
}

// deskBulk serves POST /desk/bulk: one change to each ticked record, each in
// its own transaction with its own guard decision; the page says what became
// of each. A form that names no record or no change re-shows the queue with
// the error, the ticks and what was typed.
func (s *site) deskBulk(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	back := deskBack(r.PostFormValue("back"))
	f := newForm()
	for _, k := range []string{"op", "team", "assignee", "action", "note", "noteKind"} {
		f.Values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	if f.Values["noteKind"] == "" {
		f.Values["noteKind"] = string(record.WorkNote)
	}
	in := record.BulkInput{Versions: map[string]int64{}}
	for _, v := range r.PostForm["n"] {
		number, ver, _ := strings.Cut(v, "@")
		number = record.NormalizeNumber(number)
		if number == "" {
			continue
		}
		in.Numbers = append(in.Numbers, number)
		f.Values["n:"+number] = "on"
		if n, err := strconv.ParseInt(ver, 10, 64); err == nil && n > 0 {
			in.Versions[number] = n
		}
	}
	switch {
	case len(in.Numbers) == 0:
		f.Set("rows", "Tick at least one record in the queue.")
	case len(in.Numbers) > record.MaxBulk:
		f.Set("rows", "Tick at most 200 records.")
	}
	var what string
	switch f.Values["op"] {
	case "assign":
		team, err := strconv.ParseInt(f.Values["team"], 10, 64)
		if err != nil || team <= 0 {
			f.Set("bulk-team", "Pick the team to assign the records to.")
		}
		var assignee int64
		what = "Assigned to the team"
		if name := f.Values["assignee"]; name != "" {
			u, err := s.Auth.UserByName(ctx, name)
			switch {
			case err == nil:
				assignee = u.ID
				what = "Assigned to " + u.Username
			case errs.KindOf(err) == errs.NotFound:
				f.Set("bulk-assignee", "There is no user named "+strconv.Quote(name)+".")
			default:
				return err
			}
		}
		in.Assign = &record.BulkAssign{TeamID: team, AssigneeID: assignee}
	case "action":
		if f.Values["action"] == "" {
			f.Set("bulk-action", "Pick the action to take.")
		}
		in.Action, in.Note = f.Values["action"], f.Values["note"]
		what = "Action " + f.Values["action"]
	case "note":
		if f.Values["note"] == "" {
			f.Set("bulk-note", "Write the note.")
		}
		in.Note, in.NoteKind = f.Values["note"], record.JournalKind(f.Values["noteKind"])
		what = "Journal entry added"
		if in.NoteKind == record.Comment {
			what = "Comment added"
		}
	default:
		f.Error = "Choose a change: assign, take an action, or add a note."
	}
	if f.Failed() {
		r.URL.RawQuery = back
		return s.renderDesk(w, r, p, http.StatusUnprocessableEntity, newForm(), f)
	}
	results, err := s.Records.Bulk(ctx, in)
	if err != nil {
		if !f.FromError(err) {
			return err
		}
		r.URL.RawQuery = back
		return s.renderDesk(w, r, p, http.StatusUnprocessableEntity, newForm(), f)
	}
	d := &bulkData{What: what, Back: deskAddress(back, "")}
	for _, res := range results {
		v := bulkResultView{BulkResult: res, OK: res.Error == ""}
		if v.OK {
			d.Done++
		} else {
			d.Failed++
			v.Message = sentence(res.Error)
		}
		d.Results = append(d.Results, v)
	}
	s.render(w, r, http.StatusOK, "desk-bulk", &view{Title: "Bulk change", Section: "desk", User: p, Data: d})
	return nil
}
