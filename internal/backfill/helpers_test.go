package backfill_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/camcloud/camcloud/internal/app"
	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/testenv"
)

// env is a running camcloud (all roles) on 127.0.0.1 with a fresh data dir.
type env struct {
	t    testing.TB
	base string
	app  *app.App
}

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

// do sends a JSON request with a bearer token (may be empty); the
// answer must be JSON.
func (e *env) do(method, path, token string, body any) resp {
	e.t.Helper()
	var out map[string]any
	st := testenv.APIStatus(e.t, e.base, token, method, path, body, &out)
	raw, _ := json.Marshal(out)
	return resp{Status: st, Body: out, Raw: raw}
}

// send sends req and reads the answer, whatever it is.
func (e *env) send(req *http.Request) resp {
	e.t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
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
	return e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": pw}), 200).str("token")
}

// world is organisation A (an admin and a viewer, a camera) and B (its
// owner, a camera).
type world struct {
	orgA, orgB string
	tok        map[string]string // "admin", "viewer" of A; "other": B's owner
	camA, camB string
}

func (e *env) world() world {
	e.t.Helper()
	w := world{tok: map[string]string{}}
	root := e.login(apptest.AdminEmail, apptest.AdminPassword)
	w.orgA = e.must(e.do("POST", "/api/v1/orgs", root, map[string]string{"name": "A"}), 201).str("id")
	w.orgB = e.must(e.do("POST", "/api/v1/orgs", root, map[string]string{"name": "B"}), 201).str("id")
	for org, users := range map[string][][2]string{w.orgA: {{"admin", "admin"}, {"viewer", "viewer"}}, w.orgB: {{"other", "owner"}}} {
		for _, u := range users {
			email := u[0] + "@example.org"
			e.must(e.do("POST", "/api/v1/orgs/"+org+"/members", root, map[string]string{"email": email, "password": "password-" + u[0], "role": u[1]}), 201)
			w.tok[u[0]] = e.login(email, "password-"+u[0])
		}
	}
	w.camA = e.must(e.do("POST", "/api/v1/cameras", w.tok["admin"], map[string]any{"org_id": w.orgA, "name": "front door"}), 201).str("id")
	w.camB = e.must(e.do("POST", "/api/v1/cameras", w.tok["other"], map[string]any{"org_id": w.orgB, "name": "b cam"}), 201).str("id")
	return w
}

// enrolSite creates a site of organisation A, enrols an agent at it and
// puts cams at the site; it returns the agent's site credential.
func (e *env) enrolSite(w world, cams ...string) string {
	e.t.Helper()
	admin := w.tok["admin"]
	site := e.must(e.do("POST", "/api/v1/sites", admin, map[string]string{"org_id": w.orgA, "name": "shop"}), 201)
	cred := e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": site.str("enrolment_token")}), 200).str("credential")
	for _, cam := range cams {
		e.must(e.do("PATCH", "/api/v1/cameras/"+cam, admin, map[string]string{"site_id": site.str("id")}), 200)
	}
	return cred
}
