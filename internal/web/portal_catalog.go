package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"steward/internal/operation/request"
	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
	"steward/internal/platform/listing"
	"steward/internal/transition/cmdb"
)

// The portal's catalog: the offered items by category, and an item's form
// rendered from its typed variables (text, choice, date, user, CI, number).
// A user variable takes a username and a CI variable a CI's exact name (or
// id); the form turns them into the ids the request keeps. A refused form is
// shown again with every value and the error at its field.

// catalogGroup is one category of the catalog with its items.
type catalogGroup struct {
	Category string
	Label    string
	Items    []request.CatalogItem
}

// catalogData is the content of the catalog page.
type catalogData struct {
	Groups []catalogGroup
	Total  int
}

// portalCatalog serves GET /portal/catalog: every active item, by category then name.
func (s *site) portalCatalog(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if s.Requests == nil {
		return errs.E(errs.NotFound, "request fulfilment is not set up on this server")
	}
	active := true
	page, _, err := s.Requests.Items(r.Context(), request.ItemFilter{Active: &active}, listing.Params{Limit: listing.MaxLimit, Sort: "category,name"})
	if err != nil {
		return err
	}
	d := &catalogData{Total: len(page.Items)}
	for _, it := range page.Items {
		if n := len(d.Groups); n == 0 || d.Groups[n-1].Category != it.Category {
			label := words(strings.ReplaceAll(it.Category, "-", " "))
			if label == "" {
				label = "Other"
			}
			d.Groups = append(d.Groups, catalogGroup{Category: it.Category, Label: label})
		}
		d.Groups[len(d.Groups)-1].Items = append(d.Groups[len(d.Groups)-1].Items, it)
	}
	s.render(w, r, http.StatusOK, "portal-catalog", &view{Title: "Request something", Section: "portal", User: p, Data: d})
	return nil
}

// itemField is one variable of an item's form, as the page asks for it.
type itemField struct {
	request.FormVariable
	// ID is the input's id and name: "var-" and the variable's name.
	ID      string
	Label   string
	Value   string
	Error   string
	Options []option
	// Min and Max are a number's bounds, as text ("" for none).
	Min, Max string
	// Hint says what to type: the bounds of a number, that a user is a username.
	Hint string
}

// itemData is the content of a catalog item's page.
type itemData struct {
	Item   request.CatalogItem
	Form   *form
	Fields []itemField
	// Approvals say who approves, in order; Tasks how many teams fulfil it.
	Approvals []string
	Users     []string
}

// varID is the form input of a variable.
func varID(name string) string { return "var-" + name }

// portalItem serves GET /portal/catalog/{id}: the item's form.
func (s *site) portalItem(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	it, err := s.catalogItem(r)
	if err != nil {
		return err
	}
	return s.renderItem(w, r, p, http.StatusOK, it, newForm())
}

// catalogItem reads the active item the path names.
func (s *site) catalogItem(r *http.Request) (request.CatalogItem, error) {
	if s.Requests == nil {
		return request.CatalogItem{}, errs.E(errs.NotFound, "request fulfilment is not set up on this server")
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return request.CatalogItem{}, errs.E(errs.NotFound, "there is no such catalog item")
	}
	it, err := s.Requests.Item(r.Context(), id)
	if err != nil {
		return it, err
	}
	if !it.Active {
		return it, errs.E(errs.NotFound, "%s is no longer offered", it.Name)
	}
	return it, nil
}

// portalSubmit serves POST /portal/catalog/{id}: the request, with the form's values.
func (s *site) portalSubmit(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	it, err := s.catalogItem(r)
	if err != nil {
		return err
	}
	if err := parseForm(w, r); err != nil {
		return err
	}
	ctx := r.Context()
	f := newForm()
	f.Values["description"] = r.PostFormValue("description")
	values := map[string]any{}
	for _, v := range it.Variables {
		id := varID(v.Name)
		raw := r.PostFormValue(id)
		f.Values[id] = raw
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		val, msg, err := s.formValue(ctx, v, raw)
		if err != nil {
			return err
		}
		if msg != "" {
			f.Set(id, msg)
			continue
		}
		values[v.Name] = val
	}
	if f.Failed() {
		labelErrors(f, it)
		return s.renderItem(w, r, p, http.StatusUnprocessableEntity, it, f)
	}
	req, err := s.Requests.Submit(ctx, request.NewRequest{CatalogItemID: it.ID, Variables: values, Description: f.Values["description"], Channel: "portal"})
	if err != nil {
		if !f.FromError(err) {
			return err
		}
		for _, v := range it.Variables {
			renameErr(f, v.Name, varID(v.Name))
		}
		labelErrors(f, it)
		return s.renderItem(w, r, p, httpx.Status(errs.KindOf(err)), it, f)
	}
	redirect(w, r, "/portal/records/"+req.Number+"?m=requested")
	return nil
}

// labelErrors names each variable's error by the variable's label, so that
// the summary at the top of the form says which field is wrong.
func labelErrors(f *form, it request.CatalogItem) {
	for _, v := range it.Variables {
		id := varID(v.Name)
		msg, ok := f.Errors[id]
		if !ok {
			continue
		}
		label := v.Label
		if label == "" {
			label = words(v.Name)
		}
		if strings.HasPrefix(msg, "Required: ") {
			msg = "required"
		}
		f.Errors[id] = label + ": " + strings.ToLower(msg[:1]) + msg[1:]
	}
}

// formValue turns what was typed for a variable into the value the request
// takes: a number, a user's or a CI's id, or the text. msg says what is wrong.
func (s *site) formValue(ctx context.Context, v request.FormVariable, raw string) (val any, msg string, err error) {
	switch v.Type {
	case request.Number:
		n, err := strconv.ParseFloat(strings.ReplaceAll(raw, ",", ""), 64)
		if err != nil {
			return nil, "Give a number.", nil
		}
		return n, "", nil
	case request.UserRef:
		u, err := s.Auth.UserByName(ctx, raw)
		if errs.KindOf(err) == errs.NotFound {
			return nil, fmt.Sprintf("There is no user named %q: give their username.", raw), nil
		}
		if err != nil {
			return nil, "", err
		}
		return u.ID, "", nil
	case request.CIRef:
		if s.CMDB == nil {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n <= 0 {
				return nil, "Give the configuration item's id.", nil
			}
			return n, "", nil
		}
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil && n > 0 {
			c, err := s.CMDB.GetCI(ctx, n)
			if err == nil && c.Status != cmdb.StatusDisposed {
				return c.ID, "", nil
			}
		}
		id, err := s.exactCI(ctx, raw)
		if err != nil {
			return nil, "", err
		}
		if id == 0 {
			return nil, fmt.Sprintf("No configuration item is named %q: give its exact name.", raw), nil
		}
		return id, "", nil
	}
	return raw, "", nil
}

// renderItem writes a catalog item's form.
func (s *site) renderItem(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, it request.CatalogItem, f *form) error {
	ctx := r.Context()
	d := &itemData{Item: it, Form: f}
	needUsers := false
	for _, v := range it.Variables {
		id := varID(v.Name)
		fd := itemField{FormVariable: v, ID: id, Label: v.Label, Value: f.Value(id), Error: f.Err(id), Hint: v.Help}
		if fd.Label == "" {
			fd.Label = words(v.Name)
		}
		switch v.Type {
		case request.Choice:
			for _, c := range v.Choices {
				fd.Options = append(fd.Options, option{Value: c, Label: c, Selected: fd.Value == c})
			}
		case request.Number:
			if v.Min != nil {
				fd.Min = strconv.FormatFloat(*v.Min, 'f', -1, 64)
			}
			if v.Max != nil {
				fd.Max = strconv.FormatFloat(*v.Max, 'f', -1, 64)
			}
			if fd.Min != "" || fd.Max != "" {
				fd.Hint = strings.TrimSpace(fd.Hint + " " + bounds(fd.Min, fd.Max))
			}
		case request.UserRef:
			needUsers = true
			fd.Hint = strings.TrimSpace(fd.Hint + " A username.")
		case request.CIRef:
			fd.Hint = strings.TrimSpace(fd.Hint + " The configuration item's exact name.")
		}
		d.Fields = append(d.Fields, fd)
	}
	if needUsers {
		users, _, err := s.Auth.ListUsers(ctx, listing.Params{Limit: maxPick, Sort: "username"}, nil)
		if err != nil {
			return err
		}
		for _, u := range users.Items {
			if !u.Disabled {
				d.Users = append(d.Users, u.Username)
			}
		}
	}
	for _, a := range it.Approvals {
		switch a.Kind {
		case request.ManagerApproval:
			d.Approvals = append(d.Approvals, "your manager")
		case request.ServiceOwnerApproval:
			d.Approvals = append(d.Approvals, "the service owner")
		case request.GroupApproval:
			name := "a team"
			if t, err := s.Auth.GetTeam(ctx, a.TeamID); err == nil {
				name = t.Name
			}
			d.Approvals = append(d.Approvals, name)
		}
	}
	s.render(w, r, status, "portal-item", &view{Title: it.Name, Section: "portal", User: p, Data: d})
	return nil
}

// bounds says a number's bounds for people.
func bounds(lo, hi string) string {
	switch {
	case lo != "" && hi != "":
		return "From " + lo + " to " + hi + "."
	case lo != "":
		return "At least " + lo + "."
	}
	return "At most " + hi + "."
}
