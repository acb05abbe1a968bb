// Package web is camcloud's browser UI: plain JavaScript modules, CSS and
// vendored libraries (hls.js, qrcode-generator; see vendor.sh) embedded into
// the binary, so that `camcloud serve` shows the UI at / with no build step,
// no Node and no request leaving the server. The UI talks only to the public
// API of docs/api.md.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/camcloud/camcloud/internal/httpapi"
)

//go:embed static
var static embed.FS

// csp allows only this origin for scripts, styles and fonts. Media and
// connections may also go to camera servers and object stores on other
// hosts (multi-node setups hand out absolute URLs); blob: carries MSE video
// and fetched images, data: the QR code.
const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"media-src 'self' blob: http: https:; connect-src 'self' http: https:; worker-src 'self' blob:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file with its validator.
type asset struct {
	body  []byte
	gz    []byte // gzip of body, nil when it does not pay
	ctype string
	etag  string
}

// Handler serves the UI: index.html at /, the share viewer share.html at
// /s/ and the files under /assets/.
// Other paths answer 404; the API's own routes are more specific and win.
func Handler() http.Handler {
	files := map[string]asset{}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	_ = fs.WalkDir(sub, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(sub, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		switch path.Ext(p) {
		case ".mjs", ".js":
			ct = "text/javascript; charset=utf-8"
		case "":
			ct = "text/plain; charset=utf-8"
		}
		if strings.HasSuffix(p, ".txt") || path.Base(p) == "VERSIONS" {
			ct = "text/plain; charset=utf-8"
		}
		files[p] = asset{body: b, gz: gzipped(b), ctype: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name := ""
		switch {
		case r.URL.Path == "/" || r.URL.Path == "/index.html":
			name = "index.html"
		case r.URL.Path == "/s/":
			// The share viewer: the link's token is in the fragment, so
			// it never reaches the server's logs or a Referer.
			name = "share.html"
		case strings.HasPrefix(r.URL.Path, "/assets/"):
			name = strings.TrimPrefix(r.URL.Path, "/assets/")
		}
		a, ok := files[name]
		if !ok || strings.HasSuffix(name, ".html") && strings.HasPrefix(r.URL.Path, "/assets/") {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("Content-Type", a.ctype)
		// Revalidate every time: a new binary may ship new files under the
		// same names, and the check costs one small request.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", a.etag)
		h.Set("Vary", "Accept-Encoding")
		body := a.body
		if a.gz != nil && acceptsGzip(r) {
			h.Set("Content-Encoding", "gzip")
			body = a.gz
		}
		h.Set("Content-Length", strconv.Itoa(len(body)))
		if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}

// Register adds the UI to an api node's router. The pattern has no method
// so that it does not collide with the API's catch-all "/api/" route.
func Register(rt *httpapi.Router) {
	rt.HandlePublic("/", Handler())
}

// gzipped compresses b once at start; small or incompressible files stay as
// they are.
func gzipped(b []byte) []byte {
	if len(b) < 1024 {
		return nil
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil || zw.Close() != nil || buf.Len() >= len(b)*9/10 {
		return nil
	}
	return buf.Bytes()
}

// acceptsGzip reports whether the request's Accept-Encoding names gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(q, " ", "") != "q=0" {
			return true
		}
	}
	return false
}
