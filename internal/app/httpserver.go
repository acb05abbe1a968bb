package app

import (
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/netlimit"
)

// busyBody is the answer to a connection over the connection limits.
const busyBody = `{"error":{"code":"too_many_connections","message":"too many connections from your address"}}` + "\n"

// limitListener bounds the connections of the public HTTP listener; those
// over the bounds are answered 503 and closed.
func limitListener(cfg config.Config, ln net.Listener) *netlimit.Listener {
	busy := fmt.Sprintf("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		len(busyBody), busyBody)
	return netlimit.Listen(ln, netlimit.Limits{Max: cfg.HTTPMaxConns, PerSource: cfg.HTTPMaxConnsPerIP, Refusal: []byte(busy)})
}

// newHTTPServer is the public HTTP server: headers must arrive within
// http_header_timeout and the body within http_body_timeout after them,
// else the connection is closed. ReadTimeout bounds reading only: net/http
// lifts the read deadline once a request's body has been read (at once for
// requests without one), so long responses (clip downloads, blocking
// LL-HLS reloads, event streams) are never cut by it, and there is no
// WriteTimeout. TestHTTPLongResponsesNotCut holds this.
func newHTTPServer(cfg config.Config, h http.Handler) *http.Server {
	return &http.Server{Handler: h,
		ReadHeaderTimeout: cfg.HTTPHeaderTimeout,
		ReadTimeout:       cfg.HTTPHeaderTimeout + cfg.HTTPBodyTimeout,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10}
}

// registerHTTPMetrics exports the connection counts of l.
func (a *App) registerHTTPMetrics(l *netlimit.Listener) {
	a.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "camcloud_http_connections_refused_total",
			Help: "HTTP connections closed at once for being over http_max_conns or http_max_conns_per_ip."},
			func() float64 { return float64(l.Refused()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "camcloud_http_connections_open",
			Help: "HTTP connections open (admitted by the connection limits)."},
			func() float64 { return float64(l.Open()) }))
}
