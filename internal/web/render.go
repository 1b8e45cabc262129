package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
)

// pageTemplate is one page's template set: the layout plus the page's blocks.
type pageTemplate = template.Template

// view is what the layout needs on every page, plus the page's own data.
type view struct {
	// Title is the page's heading and the first part of the document title.
	Title string
	// Section names the active navigation entry.
	Section string
	// User is the signed-in user; nil shows the page without navigation.
	User *auth.Principal
	// Restricted hides the navigation from a user who must change their password.
	Restricted bool
	// Flash is a one-line confirmation of what the previous request did.
	Flash string
	// Banner is the classification text shown at the top and bottom.
	Banner string
	// BannerCSS is the URL of the banner stylesheet, versioned with the settings.
	BannerCSS string
	// CSS are the URLs of the site's stylesheets, versioned with their content.
	CSS []string
	// Version is the build's version.
	Version string
	// RequestID identifies the request in the logs.
	RequestID string
	// Nav is the navigation.
	Nav []navItem
	// Data is the page's own data.
	Data any
}

// navItem is one entry of the left navigation.
type navItem struct {
	Key, Path, Label string
	// Group starts a new labelled group of entries.
	Group string
}

// navigation is the left-hand menu: the five DESMF lifecycle domains and the
// process list, the user's work queue, then the user's own pages.
func navigation() []navItem {
	items := []navItem{{Key: "home", Path: "/", Label: "Overview", Group: "Service lifecycle"}}
	for _, d := range domains {
		items = append(items, navItem{Key: d.Key, Path: d.Path, Label: d.Name})
	}
	return append(items,
		navItem{Key: "processes", Path: "/processes", Label: "Processes"},
		navItem{Key: "approvals", Path: "/approvals", Label: "My approvals", Group: "Work"},
		navItem{Key: "account", Path: "/account", Label: "Account", Group: "You"},
		navItem{Key: "responsibilities", Path: "/account/responsibilities", Label: "My responsibilities"},
		navItem{Key: "apidocs", Path: "/api/docs", Label: "API reference"})
}

var templateFuncs = template.FuncMap{
	// when formats a time for people: UTC, to the minute; zero is "—".
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	// machine formats a time for a <time datetime> attribute.
	"machine": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"lower":   strings.ToLower,
	// blocks splits a reference-model text into paragraphs and lists.
	"blocks": blocks,
	// summary shortens a text to its first sentence, at most n characters.
	"summary": func(n int, text string) string { return summary(text, n) },
	// sentence capitalises a service message and ends it with a full stop.
	"sentence": sentence,
	// clause drops a text's final full stop, for text the template ends itself.
	"clause": func(s string) string { return strings.TrimRight(strings.TrimSpace(s), ".") },
	// letters splits a RACI cell such as "A/R" into its letters.
	"letters": func(cell string) []string {
		if cell == "" {
			return nil
		}
		return strings.Split(cell, "/")
	},
	// letterName is what a RACI letter stands for.
	"letterName": func(l string) string { return letterNames[l] },
	// decisionForm prepares the approve/reject ("step"), "answer" or "waive"
	// form of one step or consultation, with its error if the last try failed.
	"decisionForm": func(kind string, id int64, next, what string, ie *itemError) decisionForm {
		f := decisionForm{ID: id, Next: next, What: what, Answer: kind == "answer"}
		itemKind := "consultation"
		if kind == "step" {
			itemKind = "step"
		}
		if ie.For(itemKind, id) {
			f.Error = ie
		}
		return f
	},
}

// decisionForm is the data of a decision form about one step or consultation.
type decisionForm struct {
	ID int64
	// Next is the page to return to; What names the item for screen readers.
	Next, What string
	// Answer picks the answer form of a consultation over the waive form.
	Answer bool
	Error  *itemError
}

// letterNames are the words the RACI letters stand for.
var letterNames = map[string]string{"R": "Responsible", "A": "Accountable", "C": "Consulted", "I": "Informed"}

// parseTemplates parses every page with the layout and the shared partials
// (files named _*.html). A page file defines the block "content".
func (s *site) parseTemplates() error {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return err
	}
	s.pages = map[string]*pageTemplate{}
	for _, n := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if base == "layout" || strings.HasPrefix(base, "_") {
			continue
		}
		t, err := template.New(base).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", "templates/_*.html", n)
		if err != nil {
			return fmt.Errorf("parse template %s: %w", n, err)
		}
		s.pages[base] = t
	}
	return nil
}

// render writes page name with status. The page is rendered to a buffer first,
// so that a template error becomes an error page rather than half a page.
func (s *site) render(w http.ResponseWriter, r *http.Request, status int, name string, v *view) {
	if err := s.fill(r, v); err != nil {
		s.internalError(w, r, v.User, err)
		return
	}
	var buf bytes.Buffer
	t := s.pages[name]
	if t == nil {
		s.internalError(w, r, v.User, fmt.Errorf("no template %q", name))
		return
	}
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		s.internalError(w, r, v.User, fmt.Errorf("render %s: %w", name, err))
		return
	}
	writeHTML(w, status, buf.Bytes())
}

func writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// fill sets the layout's fields that every page shares.
func (s *site) fill(r *http.Request, v *view) error {
	pres, err := s.Settings.Presentation(r.Context())
	if err != nil {
		return fmt.Errorf("read the classification banner: %w", err)
	}
	v.Banner = pres.BannerText
	v.BannerCSS = fmt.Sprintf("/banner.css?v=%d", pres.Version)
	v.CSS = s.cssURLs
	v.Version = s.Version
	v.RequestID = httpx.RequestID(r.Context())
	if v.User != nil && !v.Restricted {
		v.Nav = navigation()
	}
	if v.Flash == "" {
		v.Flash = flashes[r.URL.Query().Get("m")]
	}
	return nil
}

// flashes are the confirmations a redirect may ask for with ?m=; only these
// fixed texts are ever shown, so the query cannot inject content.
var flashes = map[string]string{
	"signed-out":            "You have signed out.",
	"signed-out-everywhere": "You have signed out of every session.",
	"session-revoked":       "The session was ended.",
	"session-missing":       "That session had already ended.",
	"token-revoked":         "The token was revoked. It no longer works.",
	"token-missing":         "That token had already been revoked.",
	"password-changed":      "Your password was changed. Your other sessions were ended.",
	"raci-saved":            "The RACI matrix was saved.",
	"raci-unchanged":        "Nothing changed: the matrix and the settings are as they were.",
	"raci-reset":            "The RACI matrix is back to the reference model's default.",
	"role-assigned":         "The role was assigned.",
	"role-removed":          "The assignment was removed.",
	"role-missing":          "That assignment had already been removed.",
	"action-applied":        "Done: the record moved on.",
	"action-consulting":     "Requested: the step waits for the consulted (C) holders first.",
	"action-approval":       "Requested: the step waits for an accountable (A) holder's approval.",
	"note-added":            "The journal entry was added.",
	"step-approved":         "Approved: the step was applied.",
	"step-rejected":         "Rejected: the record stays where it was.",
	"consultation-answered": "Your answer was recorded.",
	"consultation-waived":   "The consultation was waived.",
}

// redirect answers 303 See Other: the POST-redirect-GET step.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// errorData is the content of an error page.
type errorData struct {
	Status  int
	Message string
}

// fail shows err as an error page: its kind picks the status, and an internal
// error is logged and shown only as a generic message with the request id.
func (s *site) fail(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error) {
	status := httpx.Status(errs.KindOf(err))
	if status >= 500 {
		s.internalError(w, r, p, err)
		return
	}
	msg := "The request could not be completed."
	if e, ok := errs.As(err); ok && e.Message != "" {
		msg = sentence(e.Message)
	}
	s.errorPage(w, r, p, status, msg)
}

// internalError logs err and answers 500 with a page that names only the request id.
func (s *site) internalError(w http.ResponseWriter, r *http.Request, p *auth.Principal, err error) {
	rid := httpx.RequestID(r.Context())
	s.Log.Error("web page failed", "error", err.Error(), "request_id", rid, "method", r.Method, "path", r.URL.Path)
	v := &view{Title: "Something went wrong", User: p, Restricted: p != nil && p.MustChangePassword,
		Data: errorData{Status: http.StatusInternalServerError, Message: "Steward could not complete the request. If it keeps happening, give your administrator the request id below."}}
	var buf bytes.Buffer
	// The banner must never show a guessed classification: without the settings, say so.
	v.Banner, v.BannerCSS, v.CSS, v.Version, v.RequestID = "CLASSIFICATION UNAVAILABLE", "/banner.css?v=error", s.cssURLs, s.Version, rid
	if pres, perr := s.Settings.Presentation(r.Context()); perr == nil {
		v.Banner, v.BannerCSS = pres.BannerText, fmt.Sprintf("/banner.css?v=%d", pres.Version)
	}
	if v.User != nil && !v.Restricted {
		v.Nav = navigation()
	}
	if t := s.pages["error"]; t == nil || t.ExecuteTemplate(&buf, "layout", v) != nil {
		http.Error(w, "internal error; request id "+rid, http.StatusInternalServerError)
		return
	}
	writeHTML(w, http.StatusInternalServerError, buf.Bytes())
}

// errorPage answers status with a page that says msg.
func (s *site) errorPage(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, msg string) {
	v := &view{Title: http.StatusText(status), User: p, Restricted: p != nil && p.MustChangePassword,
		Data: errorData{Status: status, Message: msg}}
	s.render(w, r, status, "error", v)
}

// notFound answers every path no other route claims: 405 with Allow when the
// path exists for other methods, else a 404 page.
func (s *site) notFound(w http.ResponseWriter, r *http.Request) {
	p := pagePrincipal(r)
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		if m == r.Method || (m == http.MethodGet && r.Method == http.MethodHead) {
			continue
		}
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, pat := s.mux.Handler(r2); pat != "" && pat != "/" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		s.errorPage(w, r, p, http.StatusMethodNotAllowed, "This address does not accept "+r.Method+" requests.")
		return
	}
	s.errorPage(w, r, p, http.StatusNotFound, "There is no page at this address. Check the address, or use the navigation.")
}

// sentence makes a service message read as a sentence: capital first letter, full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}
