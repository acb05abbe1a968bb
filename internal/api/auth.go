package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
)

type loginReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty"`
}

type loginResp struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userWire  `json:"user"`
	CSRFToken string    `json:"csrf_token"`
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	var req loginReq
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if req.Email == "" || req.Password == "" || len(req.Password) > 1024 || len(req.Email) > 254 || len(req.TOTP) > 64 {
		httpapi.Fail(w, r, httpapi.BadRequest("email and password are required"))
		return
	}
	addr := httpapi.ClientAddr(r)
	tok, sess, u, err := s.Accounts.Login(r.Context(), req.Email, req.Password, req.TOTP, addr)
	switch {
	case errors.Is(err, account.ErrRateLimited):
		w.Header().Set("Retry-After", "60")
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusTooManyRequests, "rate_limited", "%s", err.Error()))
		return
	case errors.Is(err, account.ErrTOTPRequired):
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusUnauthorized, "totp_required", "%s", err.Error()))
		return
	case errors.Is(err, account.ErrBadCredentials):
		s.recordFailure(r, nil, "auth.login_failed", req.Email, "addr:"+addr, "")
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "%s", err.Error()))
		return
	case errors.Is(err, account.ErrBadTOTP):
		s.recordFailure(r, nil, "auth.totp_failed", req.Email, "user:"+u.ID, "login")
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "%s", err.Error()))
		return
	case err != nil:
		httpapi.Fail(w, r, err)
		return
	}
	secure := s.SecureCookies || httpapi.Secure(r)
	http.SetCookie(w, &http.Cookie{Name: httpapi.SessionCookie, Value: tok, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: httpapi.CSRFCookie, Value: httpapi.CSRFFor(tok), Path: "/", Expires: sess.ExpiresAt,
		Secure: secure, SameSite: http.SameSiteStrictMode})
	httpapi.Record(r, &httpapi.Request{User: u, Addr: addr}, "auth.login", "user:"+u.ID, "", "", "")
	httpapi.WriteJSON(w, http.StatusOK, loginResp{Token: tok, ExpiresAt: sess.ExpiresAt, User: userJSON(u), CSRFToken: httpapi.CSRFFor(tok)})
}

// recordFailure audits a failed attempt (of rq, or of email when rq is
// nil) unless failures of this action and key (the user or address they
// concern) were audited often enough lately: they are on record, but
// cannot flood the log.
func (s *server) recordFailure(r *http.Request, rq *httpapi.Request, action, email, key, detail string) {
	if !s.Accounts.AuditFailure(action + "|" + key) {
		return
	}
	if rq == nil {
		email = strings.ToValidUTF8(email, "?")
		if len(email) > 254 {
			email = email[:254]
		}
		rq = &httpapi.Request{User: store.User{Email: email}, Addr: httpapi.ClientAddr(r)}
	}
	httpapi.Record(r, rq, action, "email:"+rq.User.Email, "", "", detail)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	if rq.Session.TokenHash == "" {
		httpapi.Fail(w, r, httpapi.BadRequest("API keys have no session to end; delete the key instead"))
		return
	}
	if err := s.Accounts.Logout(r.Context(), rq.Token); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	for _, n := range []string{httpapi.SessionCookie, httpapi.CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: n, Value: "", Path: "/", MaxAge: -1, Secure: s.SecureCookies || httpapi.Secure(r)})
	}
	httpapi.Record(r, rq, "auth.logout", "user:"+rq.User.ID, "", "", "")
	w.WriteHeader(http.StatusNoContent)
}

type meResp struct {
	User        userWire     `json:"user"`
	Memberships []memberWire `json:"memberships"`
	ExpiresAt   *time.Time   `json:"expires_at,omitempty"`
	ActingAs    *memberWire  `json:"acting_as,omitempty"`
}

func (s *server) me(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	ms, err := s.Orgs.Memberships(r.Context(), rq.User.ID)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	resp := meResp{User: userJSON(rq.User), Memberships: listJSON(ms, memberJSON)}
	if !rq.Session.ExpiresAt.IsZero() {
		resp.ExpiresAt = &rq.Session.ExpiresAt
	}
	if rq.P.ActingOrgID != "" {
		resp.ActingAs = &memberWire{OrgID: rq.P.ActingOrgID, UserID: rq.User.ID, Role: rq.P.ActingRole}
	}
	httpapi.WriteJSON(w, http.StatusOK, resp)
}

func (s *server) changePassword(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	var req struct {
		Old string `json:"old_password"`
		New string `json:"new_password"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.Accounts.ChangePassword(r.Context(), rq.User, req.Old, req.New, rq.Session.TokenHash); err != nil {
		var pe *account.PasswordError
		switch {
		case errors.Is(err, account.ErrBadCredentials):
			s.recordFailure(r, rq, "auth.reauth_failed", "", "user:"+rq.User.ID, "user.password")
			err = httpapi.Errorf(http.StatusUnauthorized, "unauthorized", "old password is wrong")
		case errors.As(err, &pe):
			err = httpapi.BadRequest("%s", err.Error())
		}
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "user.password", "user:"+rq.User.ID, "", "", "other sessions ended")
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) listAPIKeys(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	ks, err := s.Accounts.ListAPIKeys(r.Context(), rq.User.ID)
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"api_keys": httpapi.NonNil(listJSON(ks, apiKeyJSON))})
}

func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	if rq.APIKey != nil {
		httpapi.Fail(w, r, httpapi.Errorf(http.StatusForbidden, "forbidden", "API keys cannot create API keys: use a login session"))
		return
	}
	var req struct {
		Name      string    `json:"name"`
		Scope     string    `json:"scope,omitempty"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if req.Name == "" || len(req.Name) > 100 {
		httpapi.Fail(w, r, httpapi.BadRequest("name must be 1 to 100 characters"))
		return
	}
	k, tok, err := s.Accounts.CreateAPIKey(r.Context(), rq.User, req.Name, req.Scope, req.ExpiresAt)
	if errors.Is(err, account.ErrBadKeyRequest) {
		err = httpapi.BadRequest("%s", err.Error())
	}
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "apikey.create", "apikey:"+k.ID, "", "", k.Name+" ("+k.Scope+")")
	httpapi.WriteJSON(w, http.StatusCreated, map[string]any{"api_key": apiKeyJSON(k), "key": tok})
}

func (s *server) deleteAPIKey(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	id, err := httpapi.PathID(r, "key")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.Accounts.DeleteAPIKey(r.Context(), rq.User.ID, id); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "apikey.delete", "apikey:"+id, "", "", "")
	w.WriteHeader(http.StatusNoContent)
}

// assumeRole lets a platform operator act as an organisation's admin for
// support, after proving their second factor; it lasts as long as the
// session (at most 12 h) and every action is audited under both identities.
func (s *server) assumeRole(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	var req struct {
		OrgID string `json:"org_id"`
		TOTP  string `json:"totp"`
	}
	if err := httpapi.Decode(w, r, &req); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if rq.Session.TokenHash == "" {
		httpapi.Fail(w, r, httpapi.BadRequest("support access needs an interactive session, not an API key"))
		return
	}
	if len(req.TOTP) > 64 {
		httpapi.Fail(w, r, httpapi.BadRequest("totp must be a 6-digit code"))
		return
	}
	refused := httpapi.Errorf(http.StatusForbidden, "forbidden", "support access needs a platform admin with a valid TOTP code")
	if err := authz.AssumeRole(rq.P, true); err != nil {
		httpapi.Fail(w, r, refused)
		return
	}
	if err := s.Accounts.CheckTOTP(r.Context(), rq.User, req.TOTP); err != nil {
		switch {
		case errors.Is(err, account.ErrBadTOTP):
			s.recordFailure(r, rq, "auth.totp_failed", "", "user:"+rq.User.ID, "support.assume")
			err = refused
		case errors.Is(err, account.ErrTOTPNotEnabled):
			err = refused
		}
		httpapi.Fail(w, r, err)
		return
	}
	if _, err := s.Orgs.Get(r.Context(), req.OrgID); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	if err := s.Accounts.SetActing(r.Context(), rq.Session, req.OrgID, store.RoleAdmin); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	rq.P.ActingOrgID, rq.P.ActingRole = req.OrgID, store.RoleAdmin
	httpapi.Record(r, rq, "support.assume", "org:"+req.OrgID, req.OrgID, "", "")
	httpapi.WriteJSON(w, http.StatusOK, map[string]any{"org_id": req.OrgID, "role": store.RoleAdmin, "expires_at": rq.Session.ExpiresAt})
}

func (s *server) endAssume(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	if rq.Session.ActingOrgID == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := s.Accounts.SetActing(r.Context(), rq.Session, "", ""); err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	httpapi.Record(r, rq, "support.end", "org:"+rq.Session.ActingOrgID, rq.Session.ActingOrgID, "", "")
	w.WriteHeader(http.StatusNoContent)
}
