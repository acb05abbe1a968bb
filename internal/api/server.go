// Package api is camcloud's public HTTP front door: JSON handlers under
// /api/v1, one file per resource, plus health and metrics. Handlers
// authenticate, ask package authz, and call services; they decide nothing
// about permissions themselves.
package api

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// Deps is everything the handlers need.
type Deps struct {
	Dir      store.Directory
	Zones    *zone.Registry
	Accounts *account.Service
	Cameras  *cameras.Service
	Audit    *audit.Log
	Log      *slog.Logger
	// Ready reports readiness (nil error: ready).
	Ready func(ctx context.Context) error
	// Metrics serves /metrics.
	Metrics http.Handler
	// PublicHost names this service in URLs handed out; empty: the request's host.
	PublicHost string
	// RTSPPort and RTMPPort are the ingest ports cameras push to.
	RTSPPort, RTMPPort string
	// ZoneIngest, when set, names the host:port a zone's cameras push to
	// over RTSP and RTMP (a load balancer in front of the zone's camera
	// servers); an empty answer falls back to PublicHost and the ports.
	ZoneIngest func(zone string) (rtsp, rtmp string)
	// SecureCookies marks cookies Secure (set when served over HTTPS).
	SecureCookies bool
	// Extra registers more routes (media, UI) on the same mux; the
	// registrar receives a wrapper that authenticates requests.
	Extra []func(mux *http.ServeMux, s *Server)
}

// Server routes and serves the API.
type Server struct {
	Deps
	log *slog.Logger
	mux *http.ServeMux
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{Deps: d, log: d.Log, mux: http.NewServeMux()}
	s.routes()
	for _, fn := range d.Extra {
		fn(s.mux, s)
	}
	return s
}

func (s *Server) routes() {
	m := s.mux
	m.HandleFunc("GET /healthz", s.healthz)
	m.HandleFunc("GET /readyz", s.readyz)
	if s.Metrics != nil {
		m.Handle("GET /metrics", s.Metrics)
	}
	m.HandleFunc("POST /api/v1/auth/login", s.login)
	m.HandleFunc("POST /api/v1/auth/logout", s.authed(s.logout))
	m.HandleFunc("GET /api/v1/me", s.authed(s.me))
	m.HandleFunc("POST /api/v1/me/password", s.authed(s.changePassword))
	m.HandleFunc("POST /api/v1/me/totp", s.authed(s.beginTOTP))
	m.HandleFunc("POST /api/v1/me/totp/confirm", s.authed(s.confirmTOTP))
	m.HandleFunc("GET /api/v1/me/api-keys", s.authed(s.listAPIKeys))
	m.HandleFunc("POST /api/v1/me/api-keys", s.authed(s.createAPIKey))
	m.HandleFunc("DELETE /api/v1/me/api-keys/{key}", s.authed(s.deleteAPIKey))
	m.HandleFunc("POST /api/v1/support/assume", s.authed(s.assumeRole))
	m.HandleFunc("DELETE /api/v1/support/assume", s.authed(s.endAssume))

	m.HandleFunc("POST /api/v1/orgs", s.authed(s.createOrg))
	m.HandleFunc("GET /api/v1/orgs", s.authed(s.listOrgs))
	m.HandleFunc("POST /api/v1/orgs/{org}/members", s.authed(s.addMember))
	m.HandleFunc("GET /api/v1/orgs/{org}/members", s.authed(s.listMembers))
	m.HandleFunc("GET /api/v1/orgs/{org}/members/{user}", s.authed(s.getMember))
	m.HandleFunc("PATCH /api/v1/orgs/{org}/members/{user}", s.authed(s.patchMember))
	m.HandleFunc("DELETE /api/v1/orgs/{org}/members/{user}", s.authed(s.deleteMember))

	m.HandleFunc("POST /api/v1/cameras", s.authed(s.createCamera))
	m.HandleFunc("GET /api/v1/cameras", s.authed(s.listCameras))
	m.HandleFunc("GET /api/v1/cameras/{id}", s.authed(s.getCamera))
	m.HandleFunc("PATCH /api/v1/cameras/{id}", s.authed(s.patchCamera))
	m.HandleFunc("DELETE /api/v1/cameras/{id}", s.authed(s.deleteCamera))
	m.HandleFunc("POST /api/v1/cameras/{id}/rotate-key", s.authed(s.rotateKey))
	m.HandleFunc("GET /api/v1/cameras/{id}/grants", s.authed(s.listGrants))
	m.HandleFunc("PUT /api/v1/cameras/{id}/grants/{user}", s.authed(s.putGrant))
	m.HandleFunc("DELETE /api/v1/cameras/{id}/grants/{user}", s.authed(s.deleteGrant))

	m.HandleFunc("GET /api/v1/audit", s.authed(s.listAudit))
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errf(http.StatusNotFound, "not_found", "no route %s %s", r.Method, r.URL.Path))
	})
}

// Handle registers an extra authenticated route (used by media packages).
func (s *Server) Handle(pattern string, h func(http.ResponseWriter, *http.Request, *Request)) {
	s.mux.HandleFunc(pattern, s.authed(h))
}

// ServeHTTP adds security headers, recovers panics and logs slow or failed
// requests.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	sw := &statusWriter{ResponseWriter: w, status: 200}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Error("panic in handler", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if !sw.wrote {
				s.fail(sw, r, errf(http.StatusInternalServerError, "internal", "internal error"))
			}
		}
		if sw.status >= 500 {
			s.log.Warn("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
		} else {
			s.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
		}
	}()
	s.mux.ServeHTTP(sw, r)
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Flush lets streaming handlers (clip export, live) flush.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// clientAddr is the request's source address (without port), for audit and
// rate limits. A reverse proxy in front is expected to be configured to
// overwrite, not append, what it forwards; we trust only the socket address.
func clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	if s.Ready != nil {
		if err := s.Ready(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
