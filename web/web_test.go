package web_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/web"
)

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	var r io.Reader = res.Body
	if res.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRoutes(t *testing.T) {
	h := web.Handler()
	cases := []struct {
		method, path string
		status       int
		ctype        string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8"},
		{"HEAD", "/", 200, "text/html; charset=utf-8"},
		{"GET", "/index.html", 200, "text/html; charset=utf-8"},
		{"GET", "/assets/app.css", 200, "text/css; charset=utf-8"},
		{"GET", "/assets/js/app.js", 200, "text/javascript; charset=utf-8"},
		{"GET", "/assets/vendor/hls.light.min.mjs", 200, "text/javascript; charset=utf-8"},
		{"GET", "/assets/vendor/LICENSE.hls.js.txt", 200, "text/plain; charset=utf-8"},
		{"GET", "/assets/icon.svg", 200, "image/svg+xml"},
		{"GET", "/assets/index.html", 404, ""},
		{"GET", "/assets/js/missing.js", 404, ""},
		{"GET", "/assets/../web.go", 404, ""},
		{"GET", "/something", 404, ""},
		{"POST", "/", 405, ""},
		{"DELETE", "/assets/app.css", 405, ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			res := get(t, h, c.method, c.path, nil)
			if res.StatusCode != c.status {
				t.Fatalf("status %d, want %d", res.StatusCode, c.status)
			}
			if c.status != 200 {
				return
			}
			if ct := res.Header.Get("Content-Type"); ct != c.ctype {
				t.Errorf("Content-Type %q, want %q", ct, c.ctype)
			}
			csp := res.Header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

func TestCaching(t *testing.T) {
	h := web.Handler()
	res := get(t, h, "GET", "/assets/js/player.js", map[string]string{"Accept-Encoding": "gzip, br"})
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, res.Header.Get("Cache-Control"))
	}
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("not gzipped for a client that accepts gzip")
	}
	if !strings.Contains(body(t, res), "class LivePlayer") {
		t.Error("gzipped body does not decode to the file")
	}
	if res := get(t, h, "GET", "/assets/js/player.js", map[string]string{"If-None-Match": etag}); res.StatusCode != 304 {
		t.Errorf("If-None-Match: status %d, want 304", res.StatusCode)
	}
	plain := get(t, h, "GET", "/assets/js/player.js", map[string]string{"Accept-Encoding": "gzip;q=0"})
	if plain.Header.Get("Content-Encoding") != "" {
		t.Error("gzipped although the client refused gzip")
	}
}

var importRe = regexp.MustCompile(`(?m)^import\s+(?:[^'"]*from\s+)?['"]([^'"]+)['"]`)

// TestModulesResolve follows every import of every UI module and checks
// that the file is served, so a renamed file cannot break the UI silently;
// and that nothing is loaded from another origin.
func TestModulesResolve(t *testing.T) {
	h := web.Handler()
	index := body(t, get(t, h, "GET", "/", nil))
	if regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(index) {
		t.Error("index.html loads something from another origin")
	}
	seen := map[string]bool{}
	todo := []string{"/assets/js/app.js"}
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		res := get(t, h, "GET", p, nil)
		if res.StatusCode != 200 {
			t.Errorf("%s: status %d", p, res.StatusCode)
			continue
		}
		src := body(t, res)
		for _, m := range importRe.FindAllStringSubmatch(src, -1) {
			if !strings.HasPrefix(m[1], ".") {
				t.Errorf("%s imports %q: only relative imports of embedded files", p, m[1])
				continue
			}
			todo = append(todo, path.Join(path.Dir(p), m[1]))
		}
	}
	for _, want := range []string{"/assets/js/grid.js", "/assets/js/camera.js", "/assets/vendor/hls.light.min.mjs", "/assets/vendor/qrcode.mjs"} {
		if !seen[want] {
			t.Errorf("%s is not reached from app.js", want)
		}
	}
	if !bytes.Contains([]byte(index), []byte(`src="/assets/js/app.js"`)) {
		t.Error("index.html does not load app.js")
	}
}

func TestRegisterKeepsAPIRoutes(t *testing.T) {
	mux := httpapi.New(httpapi.Config{})
	mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	web.Register(mux) // must not panic next to the API's catch-all
	if res := get(t, mux, "GET", "/api/v1/anything", nil); res.StatusCode != http.StatusTeapot {
		t.Errorf("API route answered %d through the UI", res.StatusCode)
	}
	if res := get(t, mux, "GET", "/", nil); res.StatusCode != 200 {
		t.Errorf("UI: %d", res.StatusCode)
	}
}
