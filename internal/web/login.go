package web

import (
	"net/http"
	"strings"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
	"steward/internal/platform/httpx"
)

// loginData is the content of the login page.
type loginData struct {
	NoticeTitle string
	// Notice is the system-use notification, one paragraph per entry.
	Notice []string
	Form   *form
}

// loginForm serves GET /login: the system-use notification (AC-8) and the
// sign-in form. A signed-in user is sent home.
func (s *site) loginForm(w http.ResponseWriter, r *http.Request) {
	if pagePrincipal(r) != nil {
		redirect(w, r, "/")
		return
	}
	s.renderLogin(w, r, http.StatusOK, newForm())
}

func (s *site) renderLogin(w http.ResponseWriter, r *http.Request, status int, f *form) {
	pres, err := s.Settings.Presentation(r.Context())
	if err != nil {
		s.internalError(w, r, nil, err)
		return
	}
	d := loginData{NoticeTitle: pres.NoticeTitle, Notice: paragraphs(pres.Notice), Form: f}
	if d.NoticeTitle == "" {
		d.NoticeTitle = "System use notification"
	}
	s.render(w, r, status, "login", &view{Title: "Sign in", Data: d})
}

// login serves POST /login. Without consent to the notice no login is tried.
// On success the session cookie is set and the browser goes home, or to the
// password page when the password must be changed first.
func (s *site) login(w http.ResponseWriter, r *http.Request) {
	if err := parseForm(w, r); err != nil {
		s.fail(w, r, nil, err)
		return
	}
	f := newForm()
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	f.Values["username"] = username
	if r.PostFormValue("consent") != "" {
		f.Values["consent"] = "yes"
	}
	if f.Values["consent"] == "" {
		f.Set("consent", "You must read and consent to the notice before you sign in.")
	}
	if username == "" {
		f.Set("username", "Enter your username.")
	}
	if password == "" {
		f.Set("password", "Enter your password.")
	}
	if f.Failed() {
		s.renderLogin(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	token, u, err := s.Auth.Login(r.Context(), username, password, httpx.ClientAddr(r), r.UserAgent())
	if err != nil {
		if errs.Is(err, errs.Unauthenticated) {
			e, _ := errs.As(err)
			f.Error = sentence(e.Message)
			s.renderLogin(w, r, http.StatusUnauthorized, f)
			return
		}
		s.internalError(w, r, nil, err)
		return
	}
	auth.SetSessionCookie(w, r, token, s.Secure)
	w.Header().Set("Cache-Control", "no-store")
	if u.MustChangePassword {
		redirect(w, r, "/account/password")
		return
	}
	redirect(w, r, "/")
}

// logout serves POST /logout: it ends the session, clears the cookie and
// sends the browser to the login page.
func (s *site) logout(w http.ResponseWriter, r *http.Request) {
	if p := pagePrincipal(r); p != nil {
		if err := s.Auth.Logout(r.Context(), p); err != nil {
			s.internalError(w, r, p, err)
			return
		}
	}
	auth.ClearSessionCookie(w, r)
	redirect(w, r, "/login?m=signed-out")
}

// paragraphs splits text into its paragraphs at blank lines (or at single
// line breaks), dropping empty ones.
func paragraphs(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(text, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
