package app

import (
	"net/http"
	"strings"
)

// cameraServerRoutes lets through what a camera-server-only process serves:
// health, readiness, metrics and live media of the cameras it holds. The
// rest of the public API (logins, accounts, cameras) is the api role's, so a
// camera server that is reachable by viewers for live media does not also
// expose it.
func cameraServerRoutes(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if p == "/healthz" || p == "/readyz" || p == "/metrics" || strings.HasPrefix(p, "/live/v1/") {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"this is a camera server: use an api node"}}` + "\n"))
	})
}

// zoneIngest is the configured public ingest address of a zone's cameras.
func (a *App) zoneIngest(zone string) (rtsp, rtmp string) {
	z, ok := a.Cfg.ZoneByName(zone)
	if !ok {
		return "", ""
	}
	return z.Ingest.RTSP, z.Ingest.RTMP
}
