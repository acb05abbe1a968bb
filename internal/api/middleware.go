package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Cookie names of browser sessions.
const (
	sessionCookie = "camcloud_session"
	csrfCookie    = "camcloud_csrf"
	csrfHeader    = "X-CSRF-Token"
)

// Request is what authentication learned about the caller.
type Request struct {
	User      store.User
	Session   store.Session // zero for API keys
	Token     string
	ViaCookie bool
	P         *authz.Principal
	Addr      string
}

// csrfFor derives the CSRF token of a session token, so the server checks
// it without storing anything (double-submit cookie bound to the session).
func csrfFor(token string) string {
	h := sha256.Sum256([]byte("camcloud-csrf|" + token))
	return hex.EncodeToString(h[:16])
}

// authed wraps a handler with authentication, CSRF protection for cookie
// sessions, and the loading of the caller's memberships and grants.
func (s *Server) authed(h func(http.ResponseWriter, *http.Request, *Request)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := &Request{Addr: clientAddr(r)}
		if a := r.Header.Get("Authorization"); a != "" {
			tok, ok := strings.CutPrefix(a, "Bearer ")
			if !ok {
				s.fail(w, r, errf(http.StatusUnauthorized, "unauthorized", "Authorization must be \"Bearer <token>\""))
				return
			}
			rq.Token = strings.TrimSpace(tok)
		} else if c, err := r.Cookie(sessionCookie); err == nil {
			rq.Token, rq.ViaCookie = c.Value, true
		}
		if rq.Token == "" {
			s.fail(w, r, errf(http.StatusUnauthorized, "unauthorized", "log in first"))
			return
		}
		if rq.ViaCookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(csrfHeader)
			if subtle.ConstantTimeCompare([]byte(got), []byte(csrfFor(rq.Token))) != 1 {
				s.fail(w, r, errf(http.StatusForbidden, "csrf", "missing or wrong %s header", csrfHeader))
				return
			}
		}
		u, sess, err := s.Accounts.Authenticate(r.Context(), rq.Token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rq.User, rq.Session = u, sess
		p, err := s.principal(r, u, sess)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rq.P = p
		h(w, r, rq)
	}
}

func (s *Server) principal(r *http.Request, u store.User, sess store.Session) (*authz.Principal, error) {
	ms, err := s.Dir.ListMemberships(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	gs, err := s.Dir.ListGrantsForUser(r.Context(), u.ID)
	if err != nil {
		return nil, err
	}
	p := &authz.Principal{UserID: u.ID, Email: u.Email, PlatformAdmin: u.PlatformAdmin,
		Roles: map[string]string{}, Grants: map[string][]string{},
		ActingOrgID: sess.ActingOrgID, ActingRole: sess.ActingRole}
	for _, m := range ms {
		p.Roles[m.OrgID] = m.Role
	}
	for _, g := range gs {
		p.Grants[g.CameraID] = g.Permissions
	}
	if !u.PlatformAdmin {
		p.ActingOrgID, p.ActingRole = "", ""
	}
	return p, nil
}

// record writes an audit entry for what rq did; a failure to audit fails
// loudly in the log but does not undo the change already made.
func (s *Server) record(r *http.Request, rq *Request, action, target, orgID, cameraID, detail string) {
	e := store.AuditEntry{Actor: rq.User.Email, Address: rq.Addr, Action: action, Target: target,
		OrgID: orgID, CameraID: cameraID, Detail: detail}
	if rq.P != nil && rq.P.ActingOrgID != "" {
		e.ActorAs = rq.P.ActingRole + "@" + rq.P.ActingOrgID
	}
	if _, err := s.Audit.RecordDetached(r.Context(), e); err != nil { // the change is made: record it even if the client left
		s.log.Error("audit write failed", "action", action, "target", target, "err", err)
	}
}

// Record lets media handlers in other packages write audit entries.
func (s *Server) Record(r *http.Request, rq *Request, action, target, orgID, cameraID, detail string) {
	s.record(r, rq, action, target, orgID, cameraID, detail)
}

// Fail answers an error in the contract's shape (for other packages).
func (s *Server) Fail(w http.ResponseWriter, r *http.Request, err error) { s.fail(w, r, err) }

// WriteJSON answers v (for other packages).
func WriteJSON(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v) }

// Decode reads a bounded JSON body (for other packages).
func Decode(w http.ResponseWriter, r *http.Request, v any) error { return decode(w, r, v) }

// Errorf builds a contract error (for other packages).
func Errorf(status int, code, format string, a ...any) error { return errf(status, code, format, a...) }
