// Package httpapi is the HTTP layer every camcloud route sits on: one
// router that adds security headers, recovers panics and logs failures,
// authenticates callers into a Request (session cookie with CSRF check, or
// bearer token), answers errors in the contract's shape and reads and
// writes bounded JSON. It holds no resource handlers: packages api, live,
// playback and web each register their own routes on a Router, and none of
// them imports another.
package httpapi

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/audit"
)

// Config is what a Router needs.
type Config struct {
	// Accounts authenticates callers of the routes added with Handle; a
	// router with only public routes (a camera server) may leave it nil.
	Accounts *account.Service
	// Audit receives the entries of Record; nil: Record only logs.
	Audit *audit.Log
	// Log receives failed requests and panics; nil discards them.
	Log *slog.Logger
	// HTTPS is config.HTTPS: "on" marks every response as served over
	// HTTPS (Secure cookies, HSTS), "off" none, "auto" or "" those whose
	// request came over TLS or with X-Forwarded-Proto: https.
	HTTPS string
}

// HandlerFunc is a route that runs once the caller is authenticated.
type HandlerFunc func(w http.ResponseWriter, r *http.Request, rq *Request)

// Router routes requests to the handlers registered on it.
type Router struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	routes []Route
}

// Route is one registered route, as Routes lists it.
type Route struct {
	// Pattern is the http.ServeMux pattern as registered, e.g.
	// "GET /api/v1/cameras/{id}" or "/" (any method).
	Pattern string
	// Method is the pattern's method, "" when it has none.
	Method string
	// Path is the pattern's path (with its {wildcards}).
	Path string
	// Authenticated tells a route added with Handle (the router
	// authenticates the caller) from a public one, which checks its
	// caller itself or needs none.
	Authenticated bool
}

// Routes lists every route registered on rt, in registration order, so
// that tests can walk them all (the authorisation table of docs/api.md).
func (rt *Router) Routes() []Route {
	return append([]Route(nil), rt.routes...)
}

// add registers h for pattern on the mux and remembers the route.
func (rt *Router) add(pattern string, h http.Handler, authenticated bool) {
	rt.mux.Handle(pattern, h)
	method, path, ok := strings.Cut(pattern, " ")
	if !ok {
		method, path = "", pattern
	}
	rt.routes = append(rt.routes, Route{Pattern: pattern, Method: method, Path: strings.TrimSpace(path), Authenticated: authenticated})
}

// New returns a router with no routes.
func New(c Config) *Router {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Router{cfg: c, log: c.Log, mux: http.NewServeMux()}
}

// Handle registers an authenticated route (pattern as for http.ServeMux).
// The router must have Accounts: a route that could never authenticate
// anybody is a wiring mistake, refused at start.
func (rt *Router) Handle(pattern string, h HandlerFunc) {
	if rt.cfg.Accounts == nil {
		panic("httpapi: Handle(" + pattern + ") on a router without Accounts")
	}
	rt.add(pattern, rt.authed(h), true)
}

// HandlePublic registers a route that authenticates itself or needs no
// caller (health, login, media routes carrying a signed token, the UI).
func (rt *Router) HandlePublic(pattern string, h http.Handler) {
	rt.add(pattern, h, false)
}

// HandleFunc is HandlePublic for a function, so that a Router serves
// where an http.ServeMux would.
func (rt *Router) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	rt.add(pattern, http.HandlerFunc(h), false)
}

// routerKey finds the serving Router in a request's context, for Fail and
// Record.
type routerKey struct{}

// fromContext returns the Router serving ctx's request, or nil.
func fromContext(ctx context.Context) *Router {
	rt, _ := ctx.Value(routerKey{}).(*Router)
	return rt
}

// ServeHTTP adds security headers, recovers panics and logs slow or failed
// requests.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	if rt.secure(r) {
		h.Set("Strict-Transport-Security", "max-age="+hstsMaxAge)
	}
	r = r.WithContext(context.WithValue(r.Context(), routerKey{}, rt))
	sw := &statusWriter{ResponseWriter: w, status: 200}
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			rt.log.Error("panic in handler", "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			if !sw.wrote {
				Fail(sw, r, Errorf(http.StatusInternalServerError, "internal", "internal error"))
			}
		}
		if sw.status >= 500 {
			rt.log.Warn("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
		} else {
			rt.log.Debug("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "dur", time.Since(start))
		}
	}()
	rt.mux.ServeHTTP(sw, r)
}

// hstsMaxAge is how long browsers keep to HTTPS for this host: one year.
const hstsMaxAge = "31536000"

// secure reports whether the browser reached rt over HTTPS.
func (rt *Router) secure(r *http.Request) bool {
	switch rt.cfg.HTTPS {
	case "on":
		return true
	case "off":
		return false
	}
	// A client that is not behind a proxy may send the header itself; it
	// then only makes its own cookies Secure.
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// Secure reports whether the browser reached the Router serving r over
// HTTPS, so that cookies set on the answer must be Secure.
func Secure(r *http.Request) bool {
	rt := fromContext(r.Context())
	return rt != nil && rt.secure(r)
}

// statusWriter remembers the status a handler answered, for the log.
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

// ClientAddr is the request's source address (without port), for audit and
// rate limits. A reverse proxy in front is expected to be configured to
// overwrite, not append, what it forwards; we trust only the socket address.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Probes registers GET /healthz (the process runs), GET /readyz (ready
// reports nil: it should get traffic) and, when metrics is set, GET
// /metrics. Every role serves them.
func (rt *Router) Probes(ready func(ctx context.Context) error, metrics http.Handler) {
	rt.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	rt.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
		defer cancel()
		if ready != nil {
			if err := ready(ctx); err != nil {
				WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": err.Error()})
				return
			}
		}
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	})
	if metrics != nil {
		rt.HandlePublic("GET /metrics", metrics)
	}
}
