package webhooks

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/store"
)

// resolveTimeout bounds the name lookup of a URL being set.
const resolveTimeout = 3 * time.Second

// checkURL validates a webhook URL being set: https (http only when
// AllowHTTP), a host, no credentials or fragment, at most MaxWebhookURL
// bytes, and every address its host resolves to allowed by the policy
// (the dialler checks again on every connection, for names that change).
// It returns the URL as it will be stored.
func (s *Service) checkURL(ctx context.Context, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", invalid("url is required")
	}
	if len(raw) > store.MaxWebhookURL {
		return "", invalid("url is longer than %d bytes", store.MaxWebhookURL)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" {
		return "", invalid("url is not a valid absolute URL")
	}
	switch u.Scheme = strings.ToLower(u.Scheme); {
	case u.Scheme == "https":
	case u.Scheme == "http" && s.c.AllowHTTP:
	case u.Scheme == "http":
		return "", invalid("url must be https (http is refused unless the server's webhook_allow_http is set)")
	default:
		return "", invalid("url must be an https URL")
	}
	if u.User != nil {
		return "", invalid("url must not carry credentials: webhooks are authenticated by their signature")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return "", invalid("url must not have a fragment")
	}
	host := u.Hostname()
	if host == "" {
		return "", invalid("url has no host")
	}
	port := uint16(443)
	if u.Scheme == "http" {
		port = 80
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil || n == 0 {
			return "", invalid("url port %q is not a port", p)
		}
		port = uint16(n)
	}
	if err := s.c.Policy.CheckHost(host, port); err != nil {
		return "", invalid("url %s", refusal(err))
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil {
		if err := s.checkName(ctx, host, port); err != nil {
			return "", err
		}
	}
	return u.String(), nil
}

// checkName resolves a host name and checks each of its addresses.
func (s *Service) checkName(ctx context.Context, host string, port uint16) error {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	addrs, err := s.c.Resolver.LookupNetIP(ctx, "ip", host)
	if err != nil || len(addrs) == 0 {
		return invalid("url host %q does not resolve", host)
	}
	for _, a := range addrs {
		if err := s.c.Policy.Check(netip.AddrPortFrom(a, port)); err != nil {
			return invalid("url host %q resolves to a refused address: %s", host, refusal(err))
		}
	}
	return nil
}

// refusal is the policy's reason without its "destination refused: ".
func refusal(err error) string {
	var re *netpolicy.RefusedError
	if errors.As(err, &re) {
		return re.Addr + " is " + re.Reason
	}
	return err.Error()
}

// Bounds of a delivery's exchange.
const (
	maxAnswer   = 4096 // bytes of an answer read (then dropped)
	dialTimeout = 5 * time.Second
	userAgent   = "camcloud-webhook/1"
)

// client sends deliveries: every connection through the destination
// policy's dialler (no proxy, which would dial on its own), redirects not
// followed (an answer of 3xx is a failure, so an allowed endpoint cannot
// send the request on to a refused one), a timeout per request.
type client struct {
	hc *http.Client
}

func newClient(p *netpolicy.Policy, timeout time.Duration) *client {
	d := p.Dialer()
	d.Timeout = dialTimeout
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   dialTimeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConnsPerHost:   8,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	return &client{hc: &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// result is the outcome of one delivery attempt.
type result struct {
	Status   int
	Duration time.Duration
	Err      string
}

// ok reports a 2xx answer.
func (r result) ok() bool { return r.Status >= 200 && r.Status < 300 }

// outcome is r's label in the deliveries metric.
func (r result) outcome() string {
	switch {
	case r.ok():
		return "ok"
	case r.Status != 0:
		return "http_error"
	case strings.Contains(r.Err, "destination refused"):
		return "refused"
	case strings.Contains(r.Err, "timeout"):
		return "timeout"
	}
	return "network_error"
}

// post sends body to target with headers and reads at most maxAnswer
// bytes of the answer.
func (c *client) post(ctx context.Context, target string, body []byte, header http.Header) result {
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return result{Err: "bad url: " + err.Error()}
	}
	req.Header = header
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	res, err := c.hc.Do(req)
	if err != nil {
		return result{Duration: time.Since(start), Err: deliveryError(err)}
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxAnswer))
	res.Body.Close()
	r := result{Status: res.StatusCode, Duration: time.Since(start)}
	if !r.ok() {
		r.Err = "HTTP " + strconv.Itoa(res.StatusCode)
		if res.StatusCode >= 300 && res.StatusCode < 400 {
			r.Err += " (redirects are not followed)"
		}
	}
	return r
}

// deliveryError is a transport error as the log keeps it: without the
// request's method and URL (the URL is the webhook's; it may carry a
// token in its query).
func deliveryError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	msg := err.Error()
	if errors.As(err, &ne) && ne.Timeout() {
		msg = "timeout: " + msg
	}
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}

// DisplayURL is a webhook URL as logs and audit entries show it: scheme,
// host and path, without a query (which may carry a token).
func DisplayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.RawQuery, u.ForceQuery, u.User, u.Fragment = "", false, nil, ""
	return u.String()
}
