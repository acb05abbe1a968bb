package httpapi

import (
	"net"
	"net/http"
	"strings"
)

// RequestBase is the scheme and host this request reached
// ("https://host:port"), to make absolute the URLs handed to players that
// this very deployment serves. publicHost, when set, names the host (it may
// carry a port).
func RequestBase(r *http.Request, publicHost string) string {
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	host := r.Host
	if publicHost != "" {
		host = publicHost
		_, _, noPort := net.SplitHostPort(publicHost)
		if _, port, err := net.SplitHostPort(r.Host); err == nil && noPort != nil {
			host = net.JoinHostPort(publicHost, port)
		}
	}
	return scheme + "://" + host
}
