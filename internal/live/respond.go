package live

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/httpapi"
)

// maxCameraID bounds the camera path segment before anything looks at it.
const maxCameraID = 128

// fail answers an error in the contract's shape: {"error":{code,message}}.
func fail(w http.ResponseWriter, status int, code, msg string) {
	httpapi.WriteJSON(w, status, map[string]*httpapi.Error{"error": {Code: code, Message: msg}})
}

// cors lets browser players on another origin (the web UI served by an api
// node) use the camera server's media routes. Media routes are authorised by
// the token in the URL, never by cookies, so any origin is safe.
func cors(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "Location, Content-Type, Link, Retry-After")
}

// preflight answers CORS preflight requests on every media route.
func preflight(w http.ResponseWriter, r *http.Request) {
	cors(w)
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// requestToken is the media token of r: the token query parameter, or an
// "Authorization: Bearer" header as WHEP clients send.
func requestToken(r *http.Request) string {
	if t := r.URL.Query().Get("token"); t != "" {
		return t
	}
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(t)
	}
	return ""
}

// authorize checks the camera path value and the media token of r, and
// answers the error itself when they do not pass: 400 for a malformed camera
// id, 401 for a missing, forged or expired token, 403 for a token of another
// camera or permission, 410 for a token of a share link that no longer
// holds. p is who the request counts against.
func (s *Service) authorize(w http.ResponseWriter, r *http.Request) (camera string, p principal, ok bool) {
	cors(w)
	camera = r.PathValue("camera")
	if camera == "" || len(camera) > maxCameraID {
		fail(w, http.StatusBadRequest, "bad_request", "malformed camera id")
		return "", principal{}, false
	}
	tok := requestToken(r)
	if tok == "" {
		fail(w, http.StatusUnauthorized, "unauthorized", "a media token is required (token query parameter)")
		return "", principal{}, false
	}
	now := s.d.Now()
	v, cached := s.tokens.get(tok)
	c, err := v.claims, error(nil)
	if !cached {
		c, err = s.d.Signer.Verify(tok, now)
		if err == nil {
			v = verifiedToken{claims: c, p: principalOf(tok, c)}
			s.tokens.put(tok, v)
		}
	} else if !now.Before(c.Expires) {
		err = auth.ErrTokenExpired
	}
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		fail(w, http.StatusUnauthorized, "token_expired", "the media token has expired; ask the API for a new live URL")
		return "", principal{}, false
	case err != nil:
		fail(w, http.StatusUnauthorized, "invalid_token", "the media token is not valid")
		return "", principal{}, false
	case c.CameraID != camera || c.Perm != "live":
		fail(w, http.StatusForbidden, "forbidden", "the media token was issued for another camera or permission")
		return "", principal{}, false
	case c.Share != "" && !s.shares.alive(r.Context(), c.Share):
		fail(w, http.StatusGone, "share_ended", "this share link was revoked or has expired")
		return "", principal{}, false
	}
	return camera, v.p, true
}

// notLive answers 404 for a camera that is not published here.
func notLive(w http.ResponseWriter, camera string) {
	fail(w, http.StatusNotFound, "not_live", "camera "+camera+" is not streaming on this server")
}

// retryAfter sets Retry-After in whole seconds.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(d/time.Second)))
}
