package httpapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Cookie and header names of browser sessions.
const (
	// SessionCookie carries the session token (HttpOnly).
	SessionCookie = "camcloud_session"
	// CSRFCookie carries the CSRF token the UI echoes in CSRFHeader.
	CSRFCookie = "camcloud_csrf"
	// CSRFHeader must carry CSRFFor(session token) on cookie-authenticated
	// requests that change something.
	CSRFHeader = "X-CSRF-Token"
)

// Request is what authentication learned about the caller.
type Request struct {
	User      store.User
	Session   store.Session // zero for API keys
	APIKey    *store.APIKey // the key used, nil for sessions
	Token     string
	ViaCookie bool
	P         *authz.Principal
	Addr      string
}

// CSRFFor derives the CSRF token of a session token, so the server checks
// it without storing anything (double-submit cookie bound to the session).
func CSRFFor(token string) string {
	h := sha256.Sum256([]byte("camcloud-csrf|" + token))
	return hex.EncodeToString(h[:16])
}

// authed wraps a handler with authentication, CSRF protection for cookie
// sessions, and the loading of the caller's memberships and grants.
func (rt *Router) authed(h HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rq := &Request{Addr: ClientAddr(r)}
		if a := r.Header.Get("Authorization"); a != "" {
			tok, ok := strings.CutPrefix(a, "Bearer ")
			if !ok {
				Fail(w, r, Errorf(http.StatusUnauthorized, "unauthorized", "Authorization must be \"Bearer <token>\""))
				return
			}
			rq.Token = strings.TrimSpace(tok)
		} else if c, err := r.Cookie(SessionCookie); err == nil {
			rq.Token, rq.ViaCookie = c.Value, true
		}
		if rq.Token == "" {
			Fail(w, r, Errorf(http.StatusUnauthorized, "unauthorized", "log in first"))
			return
		}
		if rq.ViaCookie && r.Method != http.MethodGet && r.Method != http.MethodHead {
			got := r.Header.Get(CSRFHeader)
			if subtle.ConstantTimeCompare([]byte(got), []byte(CSRFFor(rq.Token))) != 1 {
				Fail(w, r, Errorf(http.StatusForbidden, "csrf", "missing or wrong %s header", CSRFHeader))
				return
			}
		}
		c, err := rt.cfg.Accounts.Resolve(r.Context(), rq.Token)
		if err != nil {
			Fail(w, r, err)
			return
		}
		rq.User, rq.Session, rq.APIKey = c.User, c.Session, c.APIKey
		if c.APIKey != nil && c.APIKey.Scope == store.ScopeRead && r.Method != http.MethodGet && r.Method != http.MethodHead {
			Fail(w, r, Errorf(http.StatusForbidden, "forbidden", "this API key is read-only (GET and HEAD)"))
			return
		}
		if rq.P, err = rt.cfg.Accounts.Principal(r.Context(), c.User, c.Session); err != nil {
			Fail(w, r, err)
			return
		}
		h(w, r, rq)
	}
}

// BearerToken returns the token of an "Authorization: Bearer" header, for
// the routes that authenticate a credential of their own (an edge agent's
// site credential); ok is false when there is none.
func BearerToken(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	tok = strings.TrimSpace(tok)
	return tok, ok && tok != ""
}
