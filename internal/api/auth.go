package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

type loginReq struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	TOTP     string `json:"totp,omitempty"`
}

type loginResp struct {
	Token     string     `json:"token"`
	ExpiresAt time.Time  `json:"expires_at"`
	User      store.User `json:"user"`
	CSRFToken string     `json:"csrf_token"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req loginReq
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Email == "" || req.Password == "" || len(req.Password) > 1024 || len(req.Email) > 254 {
		s.fail(w, r, badRequest("email and password are required"))
		return
	}
	addr := clientAddr(r)
	tok, sess, u, err := s.Accounts.Login(r.Context(), req.Email, req.Password, req.TOTP, addr)
	switch {
	case errors.Is(err, account.ErrRateLimited):
		w.Header().Set("Retry-After", "60")
		s.fail(w, r, errf(http.StatusTooManyRequests, "rate_limited", "%s", err.Error()))
		return
	case errors.Is(err, account.ErrTOTPRequired):
		s.fail(w, r, errf(http.StatusUnauthorized, "totp_required", "%s", err.Error()))
		return
	case errors.Is(err, account.ErrBadCredentials), errors.Is(err, account.ErrBadTOTP):
		s.recordAnon(r, "auth.login_failed", req.Email)
		s.fail(w, r, errf(http.StatusUnauthorized, "unauthorized", "%s", err.Error()))
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: tok, Path: "/", Expires: sess.ExpiresAt,
		HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrfFor(tok), Path: "/", Expires: sess.ExpiresAt,
		Secure: s.SecureCookies, SameSite: http.SameSiteStrictMode})
	s.record(r, &Request{User: u, Addr: addr}, "auth.login", "user:"+u.ID, "", "", "")
	writeJSON(w, http.StatusOK, loginResp{Token: tok, ExpiresAt: sess.ExpiresAt, User: u, CSRFToken: csrfFor(tok)})
}

func (s *Server) recordAnon(r *http.Request, action, email string) {
	if len(email) > 254 {
		email = email[:254]
	}
	s.record(r, &Request{User: store.User{Email: email}, Addr: clientAddr(r)}, action, "email:"+email, "", "", "")
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request, rq *Request) {
	if rq.Session.TokenHash == "" {
		s.fail(w, r, badRequest("API keys have no session to end; delete the key instead"))
		return
	}
	if err := s.Accounts.Logout(r.Context(), rq.Token); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, n := range []string{sessionCookie, csrfCookie} {
		http.SetCookie(w, &http.Cookie{Name: n, Value: "", Path: "/", MaxAge: -1})
	}
	s.record(r, rq, "auth.logout", "user:"+rq.User.ID, "", "", "")
	w.WriteHeader(http.StatusNoContent)
}

type meResp struct {
	User        store.User         `json:"user"`
	Memberships []store.Membership `json:"memberships"`
	ExpiresAt   *time.Time         `json:"expires_at,omitempty"`
	ActingAs    *store.Membership  `json:"acting_as,omitempty"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request, rq *Request) {
	ms, err := s.Dir.ListMemberships(r.Context(), rq.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	resp := meResp{User: rq.User, Memberships: ms}
	if !rq.Session.ExpiresAt.IsZero() {
		resp.ExpiresAt = &rq.Session.ExpiresAt
	}
	if rq.P.ActingOrgID != "" {
		resp.ActingAs = &store.Membership{OrgID: rq.P.ActingOrgID, UserID: rq.User.ID, Role: rq.P.ActingRole}
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request, rq *Request) {
	var req struct {
		Old string `json:"old_password"`
		New string `json:"new_password"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.ChangePassword(r.Context(), rq.User, req.Old, req.New); err != nil {
		if errors.Is(err, account.ErrBadCredentials) {
			s.fail(w, r, errf(http.StatusUnauthorized, "unauthorized", "old password is wrong"))
			return
		}
		s.fail(w, r, badRequest("%s", err.Error()))
		return
	}
	s.record(r, rq, "user.password", "user:"+rq.User.ID, "", "", "")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request, rq *Request) {
	if rq.User.TOTPEnabled {
		s.fail(w, r, errf(http.StatusConflict, "conflict", "TOTP is already enabled"))
		return
	}
	secret, url, err := s.Accounts.BeginTOTP(r.Context(), rq.User)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "user.totp_begin", "user:"+rq.User.ID, "", "", "")
	writeJSON(w, http.StatusOK, map[string]string{"secret": secret, "otpauth_url": url})
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request, rq *Request) {
	var req struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.ConfirmTOTP(r.Context(), rq.User, req.Code); err != nil {
		s.fail(w, r, errf(http.StatusBadRequest, "bad_totp", "%s", err.Error()))
		return
	}
	s.record(r, rq, "user.totp_enabled", "user:"+rq.User.ID, "", "", "")
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request, rq *Request) {
	ks, err := s.Dir.ListAPIKeys(r.Context(), rq.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"api_keys": nonNil(ks)})
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, rq *Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Name == "" || len(req.Name) > 100 {
		s.fail(w, r, badRequest("name must be 1 to 100 characters"))
		return
	}
	k, tok, err := s.Accounts.CreateAPIKey(r.Context(), rq.User, req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "apikey.create", "apikey:"+k.ID, "", "", k.Name)
	writeJSON(w, http.StatusCreated, map[string]any{"api_key": k, "key": tok})
}

func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request, rq *Request) {
	id, err := pathID(r, "key")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Dir.DeleteAPIKey(r.Context(), rq.User.ID, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "apikey.delete", "apikey:"+id, "", "", "")
	w.WriteHeader(http.StatusNoContent)
}

// assumeRole lets a platform operator act as an organisation's admin for
// support, after proving their second factor; it lasts as long as the
// session (at most 12 h) and every action is audited under both identities.
func (s *Server) assumeRole(w http.ResponseWriter, r *http.Request, rq *Request) {
	var req struct {
		OrgID string `json:"org_id"`
		TOTP  string `json:"totp"`
	}
	if err := decode(w, r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if rq.Session.TokenHash == "" {
		s.fail(w, r, badRequest("support access needs an interactive session, not an API key"))
		return
	}
	if err := authz.AssumeRole(rq.P, s.Accounts.CheckTOTP(r.Context(), rq.User, req.TOTP)); err != nil {
		s.fail(w, r, errf(http.StatusForbidden, "forbidden", "support access needs a platform admin with a valid TOTP code"))
		return
	}
	if _, err := s.Dir.GetOrg(r.Context(), req.OrgID); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Accounts.SetActing(r.Context(), rq.Session, req.OrgID, store.RoleAdmin); err != nil {
		s.fail(w, r, err)
		return
	}
	rq.P.ActingOrgID, rq.P.ActingRole = req.OrgID, store.RoleAdmin
	s.record(r, rq, "support.assume", "org:"+req.OrgID, req.OrgID, "", "")
	writeJSON(w, http.StatusOK, map[string]any{"org_id": req.OrgID, "role": store.RoleAdmin, "expires_at": rq.Session.ExpiresAt})
}

func (s *Server) endAssume(w http.ResponseWriter, r *http.Request, rq *Request) {
	if rq.Session.ActingOrgID == "" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err := s.Accounts.SetActing(r.Context(), rq.Session, "", ""); err != nil {
		s.fail(w, r, err)
		return
	}
	s.record(r, rq, "support.end", "org:"+rq.Session.ActingOrgID, rq.Session.ActingOrgID, "", "")
	w.WriteHeader(http.StatusNoContent)
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
