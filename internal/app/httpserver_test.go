package app

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/config"
)

// TestHTTPLongResponsesNotCut: with short read bounds, responses that last
// many times them (as clip downloads, blocking playlist reloads and event
// streams do) complete, after a request body and without one, and the
// request's context stays alive throughout.
func TestHTTPLongResponsesNotCut(t *testing.T) {
	t.Parallel()
	cfg := config.Default()
	cfg.HTTPHeaderTimeout, cfg.HTTPBodyTimeout = 150*time.Millisecond, 150*time.Millisecond
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		for i := range 8 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
			_, _ = w.Write([]byte{'0' + byte(i)})
			_ = http.NewResponseController(w).Flush()
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := newHTTPServer(cfg, h)
	go func() { _ = srv.Serve(limitListener(cfg, ln)) }()
	defer srv.Close()
	for _, body := range []string{"", `{"a":1}`} {
		method := http.MethodGet
		var rd io.Reader = http.NoBody
		if body != "" {
			method, rd = http.MethodPost, strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, "http://"+ln.Addr().String()+"/", rd)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil || string(got) != "01234567" {
			t.Fatalf("%s: %q %v, want the whole response", method, got, err)
		}
	}
}
