package web

import (
	"net/http"

	"steward/internal/platform/auth"
)

// passwordData is the content of the change-password page.
type passwordData struct {
	// Forced is set when the password must be changed before anything else.
	Forced bool
	// MinLength and MaxBytes state the password policy.
	MinLength, MaxBytes int
	Form                *form
}

// passwordForm serves GET /account/password.
func (s *site) passwordForm(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	s.renderPassword(w, r, p, http.StatusOK, newForm())
	return nil
}

func (s *site) renderPassword(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, f *form) {
	d := passwordData{Forced: p.MustChangePassword, MinLength: auth.MinPasswordLength, MaxBytes: auth.MaxPasswordLength, Form: f}
	s.render(w, r, status, "password", &view{Title: "Change your password", Section: "account", User: p,
		Restricted: p.MustChangePassword, Data: d})
}

// changePassword serves POST /account/password. The user's other sessions
// end; after a forced change the browser goes home, else back to the account.
func (s *site) changePassword(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := newForm()
	current := r.PostFormValue("currentPassword")
	next := r.PostFormValue("newPassword")
	confirm := r.PostFormValue("confirmPassword")
	if current == "" {
		f.Set("currentPassword", "Enter your current password.")
	}
	if next == "" {
		f.Set("newPassword", "Enter a new password.")
	} else if next != confirm {
		f.Set("confirmPassword", "The two new passwords differ. Type the same new password twice.")
	}
	if !f.Failed() {
		err := s.Auth.ChangePassword(r.Context(), p, current, next)
		if err != nil && !f.FromError(err) {
			return err
		}
	}
	if f.Failed() {
		s.renderPassword(w, r, p, http.StatusUnprocessableEntity, f)
		return nil
	}
	if p.MustChangePassword {
		redirect(w, r, "/")
		return nil
	}
	redirect(w, r, "/account?m=password-changed")
	return nil
}
