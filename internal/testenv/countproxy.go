package testenv

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
)

// CountingProxy is an HTTP reverse proxy on 127.0.0.1 in front of one
// node, for real players (ffmpeg) to fetch through: it counts, per kind
// of request, the body bytes of 2xx answers it delivered to its clients,
// which is what they received. It asks the node for no compression
// (Accept-Encoding is removed), so that the bytes are the node's own. It
// stops at cleanup.
type CountingProxy struct {
	// URL is the proxy's base, http://127.0.0.1:PORT.
	URL string

	kind func(*http.Request) string
	mu   sync.Mutex
	n    map[string]int64
	cut  map[string]int64 // bytes of answers the client left before their end
}

// NewCountingProxy starts a proxy to the node at base (http://host:port);
// kind names the counter of each request ("" counts nothing).
func NewCountingProxy(t testing.TB, base string, kind func(*http.Request) string) *CountingProxy {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &CountingProxy{kind: kind, n: map[string]int64{}, cut: map[string]int64{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
			pr.Out.Header.Del("Accept-Encoding")
		},
		FlushInterval: -1, // live playlists block: pass bytes on at once
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := p.kind(r)
		cw := &countingWriter{ResponseWriter: w}
		rp.ServeHTTP(cw, r)
		if k == "" || cw.status/100 != 2 {
			return
		}
		p.mu.Lock()
		p.n[k] += cw.n
		if r.Context().Err() != nil {
			p.cut[k] += cw.n
		}
		p.mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// Bytes is what the clients received of kind.
func (p *CountingProxy) Bytes(kind string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.n[kind]
}

// CutBytes is what the clients received of kind in answers they left
// before the end (a player stopped mid-segment): the node sent more of
// those than was received.
func (p *CountingProxy) CutBytes(kind string) int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cut[kind]
}

// countingWriter counts the body bytes written through it.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (c *countingWriter) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *countingWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	n, err := c.ResponseWriter.Write(b)
	c.n += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach Flush.
func (c *countingWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }
