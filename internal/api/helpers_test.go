package api_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/apptest"
)

const adminEmail = apptest.AdminEmail
const adminPW = apptest.AdminPassword

// env is a running camcloud API on 127.0.0.1 with a fresh data dir.
type env struct {
	t    testing.TB
	base string
	app  *app.App
}

// start runs camcloud with all roles, so that the media routes exist too;
// args add to or override apptest.Start's flags.
func start(t testing.TB, args ...string) *env {
	t.Helper()
	n := apptest.Start(t, args...)
	return &env{t: t, base: n.Base, app: n.App}
}

// resp is a decoded answer.
type resp struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

func (r resp) str(k string) string { s, _ := r.Body[k].(string); return s }

func (r resp) errCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// do sends a request with a bearer token (may be empty) and a body that is
// JSON-encoded unless it is a string (sent raw).
func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	return e.doWith(http.DefaultClient, method, path, token, body)
}

// doWith is do through client c.
func (e *env) doWith(c *http.Client, method, path, token string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.base+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var raw []byte
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		// A stream does not end: its first message is the answer.
		raw = readSSEMessage(res.Body)
	} else {
		raw, _ = io.ReadAll(res.Body)
	}
	out := resp{Status: res.StatusCode, Raw: raw, Header: res.Header}
	_ = json.Unmarshal(raw, &out.Body)
	return out
}

func (e *env) must(r resp, status int) resp {
	e.t.Helper()
	if r.Status != status {
		e.t.Fatalf("want %d, got %d: %s", status, r.Status, r.Raw)
	}
	return r
}

func (e *env) login(email, pw string) string {
	e.t.Helper()
	r := e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw}), 200)
	return r.str("token")
}

// world is two organisations with one member of each role in org A, an
// owner in org B, and a camera in each.
type world struct {
	admin      string
	orgA, orgB string
	tok        map[string]string // role -> token (org A), "other" -> owner of B
	ids        map[string]string // role -> user id
	camA, camB string
	secretURL  string
}

func (e *env) world() world {
	e.t.Helper()
	w := world{tok: map[string]string{}, ids: map[string]string{}}
	w.admin = e.login(adminEmail, adminPW)
	w.orgA = e.must(e.do("POST", "/api/v1/orgs", w.admin, map[string]string{"name": "A"}), 201).str("id")
	w.orgB = e.must(e.do("POST", "/api/v1/orgs", w.admin, map[string]string{"name": "B"}), 201).str("id")
	for _, role := range []string{"owner", "admin", "operator", "viewer"} {
		email := role + "@a.example"
		r := e.must(e.do("POST", "/api/v1/orgs/"+w.orgA+"/members", w.admin, map[string]string{"email": email, "password": "password-" + role, "role": role}), 201)
		w.ids[role] = r.str("user_id")
		w.tok[role] = e.login(email, "password-"+role)
	}
	r := e.must(e.do("POST", "/api/v1/orgs/"+w.orgB+"/members", w.admin, map[string]string{"email": "owner@b.example", "password": "password-other", "role": "owner"}), 201)
	w.ids["other"] = r.str("user_id")
	w.tok["other"] = e.login("owner@b.example", "password-other")
	ca := e.must(e.do("POST", "/api/v1/cameras", w.tok["admin"], map[string]any{"org_id": w.orgA, "name": "front door", "source": map[string]string{"type": "push"}, "retention_days": 7, "recording": "continuous"}), 201)
	w.camA = ca.str("id")
	ing, _ := ca.Body["ingest"].(map[string]any)
	w.secretURL, _ = ing["rtsp_url"].(string)
	w.camB = e.must(e.do("POST", "/api/v1/cameras", w.tok["other"], map[string]any{"org_id": w.orgB, "name": "b cam"}), 201).str("id")
	return w
}

// readSSEMessage reads a Server-Sent Events stream up to the blank line
// that ends its first message.
func readSSEMessage(r io.Reader) []byte {
	br := bufio.NewReader(r)
	var out []byte
	for {
		line, err := br.ReadBytes('\n')
		out = append(out, line...)
		if err != nil || len(bytes.TrimSpace(line)) == 0 {
			return out
		}
	}
}
