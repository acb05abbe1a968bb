package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
)

// server is a Router with a real account service on a fresh SQLite
// directory, and a session token of one user.
type server struct {
	url   string
	token string
	dir   store.Directory
}

func start(t *testing.T, register func(rt *httpapi.Router)) server {
	t.Helper()
	ctx := context.Background()
	log := testLog()
	dir, err := store.OpenDirectory(ctx, "sqlite:"+filepath.Join(t.TempDir(), "dir.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dir.Close() })
	accts, err := account.New(dir, log, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := accts.CreateUser(ctx, "u@example.com", "password-u-1", false); err != nil {
		t.Fatal(err)
	}
	tok, _, _, err := accts.Login(ctx, "u@example.com", "password-u-1", "", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	rt := httpapi.New(httpapi.Config{Accounts: accts, Audit: audit.New(dir, log), Log: log})
	register(rt)
	hs := httptest.NewServer(rt)
	t.Cleanup(hs.Close)
	return server{url: hs.URL, token: tok, dir: dir}
}

// call sends a request with header pairs and returns status, error code
// (when the body is an error) and body.
func call(t *testing.T, method, u, body string, hdr ...string) (int, string, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var e struct{ Error httpapi.Error }
	_ = json.Unmarshal(raw, &e)
	return res.StatusCode, e.Error.Code, string(raw)
}

// TestAuthentication: bearer tokens and session cookies reach the handler
// with the caller's principal; anything else is refused before it, and a
// cookie needs the CSRF header on anything but GET and HEAD.
func TestAuthentication(t *testing.T) {
	s := start(t, func(rt *httpapi.Router) {
		h := func(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
			httpapi.WriteJSON(w, http.StatusOK, map[string]any{"email": rq.P.Email, "cookie": rq.ViaCookie})
		}
		rt.Handle("GET /x", h)
		rt.Handle("POST /x", h)
	})
	cookie := httpapi.SessionCookie + "=" + s.token
	cases := []struct {
		name, method string
		hdr          []string
		status       int
		code         string
	}{
		{"no token", "GET", nil, 401, "unauthorized"},
		{"not bearer", "GET", []string{"Authorization", "Basic abc"}, 401, "unauthorized"},
		{"unknown token", "GET", []string{"Authorization", "Bearer cc_s_nope"}, 401, "unauthorized"},
		{"bearer", "POST", []string{"Authorization", "Bearer " + s.token}, 200, ""},
		{"cookie GET", "GET", []string{"Cookie", cookie}, 200, ""},
		{"cookie POST without CSRF", "POST", []string{"Cookie", cookie}, 403, "csrf"},
		{"cookie POST with a wrong CSRF", "POST", []string{"Cookie", cookie, httpapi.CSRFHeader, httpapi.CSRFFor("other")}, 403, "csrf"},
		{"cookie POST with CSRF", "POST", []string{"Cookie", cookie, httpapi.CSRFHeader, httpapi.CSRFFor(s.token)}, 200, ""},
	}
	for _, c := range cases {
		status, code, body := call(t, c.method, s.url+"/x", "", c.hdr...)
		if status != c.status || code != c.code {
			t.Errorf("%s: %d %q %s, want %d %q", c.name, status, code, body, c.status, c.code)
		}
		if status == 200 && !strings.Contains(body, `"email":"u@example.com"`) {
			t.Errorf("%s: the handler saw %s", c.name, body)
		}
	}
}

// TestFail: service errors map to the contract's statuses and codes;
// anything unexpected is a 500 that tells nothing.
func TestFail(t *testing.T) {
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{httpapi.Errorf(http.StatusTeapot, "teapot", "short and stout"), 418, "teapot"},
		{fmt.Errorf("wrapped: %w", httpapi.BadRequest("no")), 400, "bad_request"},
		{&cameras.ValidationError{Msg: "name is required"}, 400, "bad_request"},
		{authz.ErrNotFound, 404, "not_found"},
		{fmt.Errorf("store: %w", store.ErrNotFound), 404, "not_found"},
		{authz.ErrForbidden, 403, "forbidden"},
		{store.ErrLastOwner, 409, "last_owner"},
		{store.ErrConflict, 409, "conflict"},
		{account.ErrUnauthenticated, 401, "unauthorized"},
		{errors.New("disk on fire"), 500, "internal"},
	}
	var next error
	s := start(t, func(rt *httpapi.Router) {
		rt.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) { httpapi.Fail(w, r, next) })
	})
	for _, c := range cases {
		next = c.err
		status, code, body := call(t, "GET", s.url+"/fail", "")
		if status != c.status || code != c.code {
			t.Errorf("%v: %d %q, want %d %q", c.err, status, code, c.status, c.code)
		}
		if c.status == 500 && strings.Contains(body, "fire") {
			t.Errorf("a 500 tells the cause: %s", body)
		}
	}
}

// TestDecode: request bodies are one bounded JSON object of known fields.
func TestDecode(t *testing.T) {
	s := start(t, func(rt *httpapi.Router) {
		rt.HandleFunc("POST /d", func(w http.ResponseWriter, r *http.Request) {
			var v struct {
				N int `json:"n"`
			}
			if err := httpapi.Decode(w, r, &v); err != nil {
				httpapi.Fail(w, r, err)
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, v)
		})
	})
	cases := []struct {
		name, body, ctype string
		status            int
		code              string
	}{
		{"ok", `{"n":1}`, "application/json", 200, ""},
		{"no content type", `{"n":1}`, "", 200, ""},
		{"other content type", `{"n":1}`, "text/plain", 415, "unsupported_media_type"},
		{"empty", "", "application/json", 400, "bad_request"},
		{"malformed", `{"n":`, "application/json", 400, "bad_request"},
		{"wrong type", `{"n":"x"}`, "application/json", 400, "bad_request"},
		{"unknown field", `{"m":1}`, "application/json", 400, "bad_request"},
		{"two objects", `{"n":1}{"n":2}`, "application/json", 400, "bad_request"},
		{"too large", `{"n":1,"pad":"` + strings.Repeat("x", 70<<10) + `"}`, "application/json", 413, "too_large"},
	}
	for _, c := range cases {
		var hdr []string
		if c.ctype != "" {
			hdr = []string{"Content-Type", c.ctype}
		}
		status, code, body := call(t, "POST", s.url+"/d", c.body, hdr...)
		if status != c.status || code != c.code {
			t.Errorf("%s: %d %q %.200s, want %d %q", c.name, status, code, body, c.status, c.code)
		}
	}
}

// TestDecodeStrict: field names match in their exact case and no key
// appears twice in one object, at any depth, on every route that decodes
// a body; the refusal names the field.
func TestDecodeStrict(t *testing.T) {
	s := start(t, func(rt *httpapi.Router) {
		rt.HandleFunc("POST /d", func(w http.ResponseWriter, r *http.Request) {
			var v struct {
				Name   string `json:"name"`
				Source *struct {
					Type string `json:"type"`
				} `json:"source"`
				Items []struct {
					ID int `json:"id"`
				} `json:"items"`
				At   *time.Time     `json:"at"`
				Meta map[string]any `json:"meta"`
			}
			if err := httpapi.Decode(w, r, &v); err != nil {
				httpapi.Fail(w, r, err)
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, v)
		})
	})
	deep := strings.Repeat(`{"a":`, 40) + "1" + strings.Repeat("}", 40)
	cases := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"ok", `{"name":"a","source":{"type":"push"},"items":[{"id":1},{"id":2}],"at":"2026-01-01T00:00:00Z","meta":{"k":1,"K":2}}`, 200, ""},
		{"other case", `{"Name":"a"}`, 400, `unknown field "Name": field names are case-sensitive, did you mean "name"?`},
		{"other case nested", `{"source":{"TYPE":"push"}}`, 400, `"source.TYPE"`},
		{"other case in a list", `{"items":[{"id":1},{"Id":2}]}`, 400, `"items[1].Id"`},
		{"same field in two cases", `{"name":"a","NAME":"b"}`, 400, "case-sensitive"},
		{"duplicate key", `{"name":"a","name":"b"}`, 400, `duplicate key "name"`},
		{"duplicate nested", `{"source":{"type":"push","type":"pull"}}`, 400, `duplicate key "source.type"`},
		{"duplicate in a map", `{"meta":{"k":1,"k":2}}`, 400, `duplicate key "meta.k"`},
		{"duplicate inside any", `{"meta":{"x":[{"y":1,"y":2}]}}`, 400, `duplicate key "meta.x[0].y"`},
		{"too deep", `{"meta":` + deep + `}`, 400, "nested deeper"},
	}
	for _, c := range cases {
		status, code, body := call(t, "POST", s.url+"/d", c.body, "Content-Type", "application/json")
		var e struct {
			Error struct{ Message string } `json:"error"`
		}
		_ = json.Unmarshal([]byte(body), &e)
		if status != c.status || (c.status != 200 && (code != "bad_request" || !strings.Contains(e.Error.Message, c.msg))) {
			t.Errorf("%s: %d %q %.300s, want %d with %s", c.name, status, code, body, c.status, c.msg)
		}
	}
}

// TestRouter: every answer carries the security headers, a panic answers
// 500 in the error shape, the probes answer, PathID refuses what is not an
// id, and Record writes the audit entry of the caller.
func TestRouter(t *testing.T) {
	ready := errors.New("draining")
	s := start(t, func(rt *httpapi.Router) {
		rt.Probes(func(context.Context) error { return ready }, nil)
		rt.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
		rt.Handle("POST /things/{id}", func(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
			id, err := httpapi.PathID(r, "id")
			if err != nil {
				httpapi.Fail(w, r, err)
				return
			}
			httpapi.Record(r, rq, "thing.touch", "thing:"+id, "", "", "")
			w.WriteHeader(http.StatusNoContent)
		})
	})
	res, err := http.Get(s.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	if status, code, _ := call(t, "GET", s.url+"/panic", ""); status != 500 || code != "internal" {
		t.Errorf("panic: %d %q", status, code)
	}
	if status, _, body := call(t, "GET", s.url+"/readyz", ""); status != 503 || !strings.Contains(body, "draining") {
		t.Errorf("readyz while not ready: %d %s", status, body)
	}
	ready = nil
	if status, _, _ := call(t, "GET", s.url+"/readyz", ""); status != 200 {
		t.Errorf("readyz: %d", status)
	}
	bearer := []string{"Authorization", "Bearer " + s.token}
	if status, code, _ := call(t, "POST", s.url+"/things/nope", "", bearer...); status != 400 || code != "bad_request" {
		t.Errorf("bad id: %d %q", status, code)
	}
	id := account.NewID()
	if status, _, body := call(t, "POST", s.url+"/things/"+id, "", bearer...); status != 204 {
		t.Fatalf("touch: %d %s", status, body)
	}
	es, err := s.dir.ListAudit(context.Background(), store.AuditFilter{Limit: 10})
	if err != nil || len(es) != 1 || es[0].Action != "thing.touch" || es[0].Target != "thing:"+id || es[0].Actor != "u@example.com" {
		t.Fatalf("audit: %+v %v", es, err)
	}
}

func testLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// TestRoutes: the router lists every route registered on it, however it
// was added, with its method, path and whether the router authenticates it.
func TestRoutes(t *testing.T) {
	rt := httpapi.New(httpapi.Config{Accounts: &account.Service{}})
	nop := func(http.ResponseWriter, *http.Request) {}
	rt.Handle("GET /things/{id}", func(http.ResponseWriter, *http.Request, *httpapi.Request) {})
	rt.HandleFunc("POST /media/{key...}", nop)
	rt.HandlePublic("/", http.HandlerFunc(nop))
	rt.Probes(nil, http.HandlerFunc(nop))
	want := []httpapi.Route{
		{Pattern: "GET /things/{id}", Method: "GET", Path: "/things/{id}", Authenticated: true},
		{Pattern: "POST /media/{key...}", Method: "POST", Path: "/media/{key...}"},
		{Pattern: "/", Path: "/"},
		{Pattern: "GET /healthz", Method: "GET", Path: "/healthz"},
		{Pattern: "GET /readyz", Method: "GET", Path: "/readyz"},
		{Pattern: "GET /metrics", Method: "GET", Path: "/metrics"},
	}
	if got := rt.Routes(); !slices.Equal(got, want) {
		t.Fatalf("Routes() = %+v\nwant %+v", got, want)
	}
}
