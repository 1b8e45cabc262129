package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"steward/internal/platform/auth"
	"steward/internal/platform/errs"
)

// defaultTokenDays is the expiry the token form suggests.
const defaultTokenDays = 90

// maxTokenDays is the longest expiry the token form accepts (the API's limit).
const maxTokenDays = 3650

// accountData is the content of the account page.
type accountData struct {
	Account  auth.User
	Sessions []auth.Session
	Tokens   []tokenRow
	// TokenForm is the create-token form, with what was typed if it failed.
	TokenForm *form
	// NewToken is set only in the response that created it: the secret is shown once.
	NewToken *newToken
}

// tokenRow is one API token in the list, with its state worked out.
type tokenRow struct {
	auth.Token
	// State is "active", "expired" or "revoked".
	State string
}

// newToken is a token just created, with its secret.
type newToken struct {
	Name, Prefix, Secret string
	ExpiresAt            time.Time
}

// account serves GET /account: the profile, live sessions and API tokens.
func (s *site) account(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	f := newForm()
	f.Values["expiresInDays"] = strconv.Itoa(defaultTokenDays)
	return s.renderAccount(w, r, p, http.StatusOK, f, nil)
}

func (s *site) renderAccount(w http.ResponseWriter, r *http.Request, p *auth.Principal, status int, f *form, nt *newToken) error {
	ctx := r.Context()
	u, err := s.Auth.GetUser(ctx, p.UserID)
	if err != nil {
		return err
	}
	sessions, err := s.Auth.Sessions(ctx, p.UserID, p.SessionID)
	if err != nil {
		return err
	}
	tokens, err := s.Auth.Tokens(ctx, p.UserID)
	if err != nil {
		return err
	}
	now := time.Now()
	rows := make([]tokenRow, len(tokens))
	for i, t := range tokens {
		state := "active"
		switch {
		case !t.RevokedAt.IsZero():
			state = "revoked"
		case !t.Active(now):
			state = "expired"
		}
		rows[i] = tokenRow{Token: t, State: state}
	}
	d := accountData{Account: u, Sessions: sessions, Tokens: rows, TokenForm: f, NewToken: nt}
	s.render(w, r, status, "account", &view{Title: "Account", Section: "account", User: p, Data: d})
	return nil
}

// pathID reads the {id} of the route as a positive integer.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// revokeSession serves POST /account/sessions/{id}/revoke. Revoking the
// current session signs the user out.
func (s *site) revokeSession(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, ok := pathID(r)
	if !ok {
		return errs.E(errs.NotFound, "no such session")
	}
	err := s.Auth.RevokeSession(r.Context(), p.UserID, id)
	switch {
	case errs.Is(err, errs.NotFound):
		redirect(w, r, "/account?m=session-missing#sessions")
	case err != nil:
		return err
	case id == p.SessionID:
		auth.ClearSessionCookie(w, r)
		redirect(w, r, "/login?m=signed-out")
	default:
		redirect(w, r, "/account?m=session-revoked#sessions")
	}
	return nil
}

// revokeAllSessions serves POST /account/sessions/revoke-all: every session
// ends, this one too, so the browser goes to the login page.
func (s *site) revokeAllSessions(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := s.Auth.RevokeAllSessions(r.Context(), p.UserID); err != nil {
		return err
	}
	auth.ClearSessionCookie(w, r)
	redirect(w, r, "/login?m=signed-out-everywhere")
	return nil
}

// createToken serves POST /account/tokens. The response itself shows the new
// secret, once: it is never put in a URL, a cookie or a log.
func (s *site) createToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	if err := parseForm(w, r); err != nil {
		return err
	}
	f := newForm()
	name := strings.TrimSpace(r.PostFormValue("name"))
	daysText := strings.TrimSpace(r.PostFormValue("expiresInDays"))
	f.Values["name"], f.Values["expiresInDays"] = name, daysText
	if name == "" {
		f.Set("name", "Name the token, so that you can recognise it later.")
	} else if utf8.RuneCountInString(name) > 100 {
		f.Set("name", "At most 100 characters.")
	}
	days, err := strconv.Atoi(daysText)
	if err != nil || days < 0 || days > maxTokenDays {
		f.Set("expiresInDays", "Enter a whole number from 0 to "+strconv.Itoa(maxTokenDays)+".")
	}
	if f.Failed() {
		return s.renderAccount(w, r, p, http.StatusUnprocessableEntity, f, nil)
	}
	secret, t, err := s.Auth.CreateToken(r.Context(), p.UserID, name, time.Duration(days)*24*time.Hour)
	if err != nil {
		if f.FromError(err) {
			return s.renderAccount(w, r, p, http.StatusUnprocessableEntity, f, nil)
		}
		return err
	}
	fresh := newForm()
	fresh.Values["expiresInDays"] = strconv.Itoa(defaultTokenDays)
	return s.renderAccount(w, r, p, http.StatusOK, fresh, &newToken{Name: t.Name, Prefix: t.Prefix, Secret: secret, ExpiresAt: t.ExpiresAt})
}

// revokeToken serves POST /account/tokens/{id}/revoke.
func (s *site) revokeToken(w http.ResponseWriter, r *http.Request, p *auth.Principal) error {
	id, ok := pathID(r)
	if !ok {
		return errs.E(errs.NotFound, "no such token")
	}
	err := s.Auth.RevokeToken(r.Context(), p.UserID, strconv.FormatInt(id, 10))
	switch {
	case errs.Is(err, errs.NotFound):
		redirect(w, r, "/account?m=token-missing#tokens")
	case err != nil:
		return err
	default:
		redirect(w, r, "/account?m=token-revoked#tokens")
	}
	return nil
}
