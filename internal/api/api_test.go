package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestQuickStartFlow is the README's curl walk: log in, create an
// organisation, a member and a camera, and read them back.
func TestQuickStartFlow(t *testing.T) {
	e := start(t)
	tok := e.login(adminEmail, adminPW)
	me := e.must(e.do("GET", "/api/v1/me", tok, nil), 200)
	if u, _ := me.Body["user"].(map[string]any); u["email"] != adminEmail || u["platform_admin"] != true {
		t.Fatalf("me: %s", me.Raw)
	}
	if strings.Contains(string(me.Raw), "argon2") {
		t.Fatal("password hash leaked in /me")
	}
	org := e.must(e.do("POST", "/api/v1/orgs", tok, map[string]string{"name": "Acme"}), 201).str("id")
	orgs := e.must(e.do("GET", "/api/v1/orgs", tok, nil), 200)
	if !strings.Contains(string(orgs.Raw), org) {
		t.Fatalf("org not listed: %s", orgs.Raw)
	}
	e.must(e.do("POST", "/api/v1/orgs/"+org+"/members", tok, map[string]string{"email": "Bob@Example.com", "password": "bob-password-1", "role": "viewer"}), 201)
	members := e.must(e.do("GET", "/api/v1/orgs/"+org+"/members", tok, nil), 200)
	if !strings.Contains(string(members.Raw), "bob@example.com") {
		t.Fatalf("member not listed: %s", members.Raw)
	}
	cam := e.must(e.do("POST", "/api/v1/cameras", tok, map[string]any{"org_id": org, "name": "Gate", "source": map[string]string{"type": "push"}, "retention_days": 30, "recording": "continuous"}), 201)
	id := cam.str("id")
	ing, _ := cam.Body["ingest"].(map[string]any)
	rtsp, _ := ing["rtsp_url"].(string)
	rtmp, _ := ing["rtmp_url"].(string)
	if !strings.HasPrefix(rtsp, "rtsp://") || !strings.Contains(rtsp, id) || !strings.HasPrefix(rtmp, "rtmp://") {
		t.Fatalf("ingest urls: %s", cam.Raw)
	}
	got := e.must(e.do("GET", "/api/v1/cameras/"+id, tok, nil), 200)
	if got.str("name") != "Gate" || got.Body["ingest"] != nil {
		t.Fatalf("camera read back (must not show ingest secret again): %s", got.Raw)
	}
	if _, ok := got.Body["status"].(map[string]any); !ok {
		t.Fatalf("camera has no status: %s", got.Raw)
	}
	list := e.must(e.do("GET", "/api/v1/cameras", tok, nil), 200)
	if !strings.Contains(string(list.Raw), id) {
		t.Fatalf("camera not listed: %s", list.Raw)
	}
	rot := e.must(e.do("POST", "/api/v1/cameras/"+id+"/rotate-key", tok, nil), 200)
	ing2, _ := rot.Body["ingest"].(map[string]any)
	if ing2["rtsp_url"] == rtsp {
		t.Fatal("rotate-key must change the secret")
	}
	e.must(e.do("POST", "/api/v1/auth/logout", tok, nil), 204)
	e.must(e.do("GET", "/api/v1/me", tok, nil), 401)
}

// TestOtherOrgCameraIs404 walks every camera route as an owner of another
// organisation: each answers 404, never 403, so ids cannot be probed.
func TestOtherOrgCameraIs404(t *testing.T) {
	e := start(t)
	w := e.world()
	routes := []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/cameras/%s", nil},
		{"PATCH", "/api/v1/cameras/%s", map[string]any{"name": "x"}},
		{"PATCH", "/api/v1/cameras/%s", map[string]any{"motion": map[string]any{"enabled": false, "sensitivity": 1}}},
		{"DELETE", "/api/v1/cameras/%s", nil},
		{"POST", "/api/v1/cameras/%s/rotate-key", nil},
		{"GET", "/api/v1/cameras/%s/grants", nil},
		{"PUT", "/api/v1/cameras/%s/grants/" + w.ids["viewer"], map[string]any{"permissions": []string{"live"}}},
		{"DELETE", "/api/v1/cameras/%s/grants/" + w.ids["viewer"], nil},
		{"POST", "/api/v1/cameras/%s/live", nil},
		{"GET", "/api/v1/cameras/%s/recordings?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", nil},
		{"POST", "/api/v1/cameras/%s/playback", map[string]any{"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T00:10:00Z"}},
		{"GET", "/api/v1/cameras/%s/clip.mp4?from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:30Z", nil},
		{"GET", "/api/v1/cameras/%s/image?at=2026-01-01T00:00:00Z", nil},
	}
	for _, rt := range routes {
		path := fmt.Sprintf(rt.path, w.camA)
		r := e.do(rt.method, path, w.tok["other"], rt.body)
		if r.Status != http.StatusNotFound || r.errCode() == "" || strings.Contains(string(r.Raw), "no route") {
			t.Errorf("%s %s as other org: got %d %s, want 404 with error body", rt.method, path, r.Status, r.Raw)
		}
	}
	list := e.must(e.do("GET", "/api/v1/cameras", w.tok["other"], nil), 200)
	if strings.Contains(string(list.Raw), w.camA) {
		t.Fatal("other org's camera is listed")
	}
	// Members and audit of another org are hidden too.
	for _, p := range []string{"/api/v1/orgs/" + w.orgA + "/members", "/api/v1/orgs/" + w.orgA + "/members/" + w.ids["viewer"]} {
		if r := e.do("GET", p, w.tok["other"], nil); r.Status != 404 {
			t.Errorf("GET %s as other org: %d", p, r.Status)
		}
	}
	if r := e.do("GET", "/api/v1/audit?org="+w.orgA, w.tok["other"], nil); r.Status != 404 {
		t.Errorf("audit of other org: %d %s", r.Status, r.Raw)
	}
}

// TestRoleTable checks what each role of an organisation may change, as a
// user would meet it through the API.
func TestRoleTable(t *testing.T) {
	e := start(t)
	w := e.world()
	type check struct {
		name   string
		method string
		path   string
		body   any
		want   map[string]int // role -> status
	}
	newMember := func(role string) map[string]string {
		return map[string]string{"email": "new-" + role + "@a.example", "password": "password-new-1", "role": "viewer"}
	}
	checks := []check{
		{"list cameras", "GET", "/api/v1/cameras", nil, map[string]int{"owner": 200, "admin": 200, "operator": 200, "viewer": 200}},
		{"get camera", "GET", "/api/v1/cameras/" + w.camA, nil, map[string]int{"owner": 200, "admin": 200, "operator": 200, "viewer": 200}},
		{"rename camera", "PATCH", "/api/v1/cameras/" + w.camA, map[string]any{"name": "renamed"}, map[string]int{"owner": 200, "admin": 200, "operator": 403, "viewer": 403}},
		{"create camera", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "new"}, map[string]int{"owner": 201, "admin": 201, "operator": 403, "viewer": 403}},
		{"rotate key", "POST", "/api/v1/cameras/" + w.camA + "/rotate-key", nil, map[string]int{"owner": 200, "admin": 200, "operator": 403, "viewer": 403}},
		{"grant", "PUT", "/api/v1/cameras/" + w.camA + "/grants/" + w.ids["viewer"], map[string]any{"permissions": []string{"export"}}, map[string]int{"owner": 200, "admin": 200, "operator": 403, "viewer": 403}},
		{"list members", "GET", "/api/v1/orgs/" + w.orgA + "/members", nil, map[string]int{"owner": 200, "admin": 200, "operator": 200, "viewer": 200}},
		{"change role", "PATCH", "/api/v1/orgs/" + w.orgA + "/members/" + w.ids["viewer"], map[string]string{"role": "viewer"}, map[string]int{"owner": 200, "admin": 200, "operator": 403, "viewer": 403}},
		{"read audit", "GET", "/api/v1/audit?org=" + w.orgA, nil, map[string]int{"owner": 200, "admin": 200, "operator": 403, "viewer": 403}},
		{"create org", "POST", "/api/v1/orgs", map[string]string{"name": "mine"}, map[string]int{"owner": 403, "admin": 403, "operator": 403, "viewer": 403}},
	}
	for _, c := range checks {
		for _, role := range []string{"viewer", "operator", "admin", "owner"} {
			r := e.do(c.method, c.path, w.tok[role], c.body)
			if r.Status != c.want[role] {
				t.Errorf("%s as %s: got %d want %d: %s", c.name, role, r.Status, c.want[role], r.Raw)
			}
		}
	}
	for _, role := range []string{"viewer", "operator", "admin", "owner"} {
		r := e.do("POST", "/api/v1/orgs/"+w.orgA+"/members", w.tok[role], newMember(role))
		want := map[string]int{"owner": 201, "admin": 201, "operator": 403, "viewer": 403}[role]
		if r.Status != want {
			t.Errorf("add member as %s: got %d want %d: %s", role, r.Status, want, r.Raw)
		}
	}
	// Admins cannot make owners; the last owner cannot be removed.
	if r := e.do("PATCH", "/api/v1/orgs/"+w.orgA+"/members/"+w.ids["viewer"], w.tok["admin"], map[string]string{"role": "owner"}); r.Status != 403 {
		t.Errorf("admin promoting to owner: %d", r.Status)
	}
	// Org A has two owners (the creating platform admin and owner@a): one
	// may go, the last one may not.
	e.must(e.do("DELETE", "/api/v1/orgs/"+w.orgA+"/members/"+w.ids["owner"], w.tok["owner"], nil), 204)
	me := e.must(e.do("GET", "/api/v1/me", w.admin, nil), 200)
	adminID, _ := me.Body["user"].(map[string]any)["id"].(string)
	if r := e.do("DELETE", "/api/v1/orgs/"+w.orgA+"/members/"+adminID, w.admin, nil); r.Status != 409 || r.errCode() != "last_owner" {
		t.Errorf("removing last owner: %d %s", r.Status, r.Raw)
	}
	// A viewer still cannot delete a camera, and the camera is still there.
	if r := e.do("DELETE", "/api/v1/cameras/"+w.camA, w.tok["viewer"], nil); r.Status != 403 {
		t.Errorf("viewer delete camera: %d", r.Status)
	}
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, w.tok["viewer"], nil), 200)
}

// TestBadInput sends what clients get wrong and checks each answer is a
// clear 4xx in the contract's error shape.
func TestBadInput(t *testing.T) {
	e := start(t)
	w := e.world()
	tok := w.tok["admin"]
	cases := []struct {
		name, method, path string
		body               any
		status             int
		msg                string
	}{
		{"malformed json", "POST", "/api/v1/cameras", `{"org_id": `, 400, "JSON"},
		{"unknown field", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "colour": "red"}, 400, "colour"},
		{"wrong type", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "retention_days": "ten"}, 400, "retention_days"},
		{"two objects", "POST", "/api/v1/orgs/" + w.orgA + "/members", `{"email":"a@b.c","role":"viewer"}{}`, 400, "one JSON object"},
		{"oversized body", "POST", "/api/v1/cameras", `{"org_id":"` + strings.Repeat("a", 100<<10) + `"}`, 413, "larger"},
		{"empty body", "POST", "/api/v1/cameras", "", 400, "empty"},
		{"bad id", "GET", "/api/v1/cameras/not-an-id", nil, 400, "valid id"},
		{"sql-ish id", "GET", "/api/v1/cameras/1'%20OR%20'1'='1", nil, 400, "valid id"},
		{"bad rtsp url scheme", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "source": map[string]string{"type": "pull", "url": "http://cam/stream"}}, 400, "rtsp://"},
		{"rtsp url without host", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "source": map[string]string{"type": "pull", "url": "rtsp:///x"}}, 400, "host"},
		{"pull without url", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "source": map[string]string{"type": "pull"}}, 400, "url"},
		{"bad source type", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "source": map[string]string{"type": "carrier pigeon"}}, 400, "push"},
		{"retention too long", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "retention_days": 99999}, 400, "retention_days"},
		{"bad recording", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "recording": "sometimes"}, 400, "recording"},
		{"motion sensitivity too high", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "motion": map[string]any{"sensitivity": 11}}, 400, "motion.sensitivity must be between 1 and 10"},
		{"motion sensitivity zero", "PATCH", "/api/v1/cameras/" + w.camA, map[string]any{"motion": map[string]any{"sensitivity": 0}}, 400, "motion.sensitivity"},
		{"motion sensitivity not a number", "PATCH", "/api/v1/cameras/" + w.camA, map[string]any{"motion": map[string]any{"sensitivity": "high"}}, 400, "sensitivity"},
		{"motion enabled not a bool", "PATCH", "/api/v1/cameras/" + w.camA, map[string]any{"motion": map[string]any{"enabled": "yes"}}, 400, "enabled"},
		{"motion unknown field", "PATCH", "/api/v1/cameras/" + w.camA, map[string]any{"motion": map[string]any{"zones": []int{1}}}, 400, "zones"},
		{"no name", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA}, 400, "name"},
		{"unknown zone", "POST", "/api/v1/cameras", map[string]any{"org_id": w.orgA, "name": "x", "zone": "mars"}, 400, "zone"},
		{"duplicate email", "POST", "/api/v1/orgs/" + w.orgA + "/members", map[string]string{"email": "VIEWER@a.example", "password": "another-pass-1", "role": "viewer"}, 409, "exists"},
		{"bad email", "POST", "/api/v1/orgs/" + w.orgA + "/members", map[string]string{"email": "nobody", "password": "another-pass-1", "role": "viewer"}, 400, "email"},
		{"short password", "POST", "/api/v1/orgs/" + w.orgA + "/members", map[string]string{"email": "x@a.example", "password": "short", "role": "viewer"}, 400, "password"},
		{"bad role", "POST", "/api/v1/orgs/" + w.orgA + "/members", map[string]string{"email": "x@a.example", "password": "another-pass-1", "role": "king"}, 400, "role"},
		{"bad permission", "PUT", "/api/v1/cameras/" + w.camA + "/grants/" + w.ids["viewer"], map[string]any{"permissions": []string{"fly"}}, 400, "fly"},
		{"bad audit time", "GET", "/api/v1/audit?org=" + w.orgA + "&from=yesterday", nil, 400, "RFC 3339"},
		{"unknown route", "GET", "/api/v1/nothing", nil, 404, "no route"},
		{"no auth", "GET", "/api/v1/cameras", nil, 401, "log in"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := tok
			if c.name == "no auth" {
				tk = ""
			}
			r := e.do(c.method, c.path, tk, c.body)
			errObj, _ := r.Body["error"].(map[string]any)
			msg, _ := errObj["message"].(string)
			if r.Status != c.status || errObj["code"] == nil || !strings.Contains(msg, c.msg) {
				t.Fatalf("got %d %s; want %d with message containing %q", r.Status, r.Raw, c.status, c.msg)
			}
		})
	}
	// The SQL-looking value is stored literally and nothing else changed.
	name := "x'); DROP TABLE cameras; --"
	r := e.must(e.do("POST", "/api/v1/cameras", tok, map[string]any{"org_id": w.orgA, "name": name}), 201)
	got := e.must(e.do("GET", "/api/v1/cameras/"+r.str("id"), tok, nil), 200)
	if got.str("name") != name {
		t.Fatalf("name round trip: %q", got.str("name"))
	}
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, tok, nil), 200)
}

// TestLoginRateLimit: repeated wrong passwords get 429, per account and per
// address, and the right password is refused while limited.
func TestLoginRateLimit(t *testing.T) {
	e := start(t)
	limited := false
	for i := 0; i < 30; i++ {
		r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": "wrong-password"})
		if r.Status == 429 {
			limited = true
			if r.Header.Get("Retry-After") == "" || r.errCode() != "rate_limited" {
				t.Fatalf("429 without Retry-After or code: %s", r.Raw)
			}
			break
		}
		if r.Status != 401 {
			t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
		}
	}
	if !limited {
		t.Fatal("30 wrong passwords were never rate limited")
	}
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW}); r.Status != 429 {
		t.Fatalf("login while limited: %d", r.Status)
	}
}

// TestRefusedAccessIsAudited: another organisation's owner asking for a
// camera gets 404 and leaves an "access.refused" entry that only platform
// admins read (the camera's owners are not shown who probed it), at most a
// few however often it asks.
func TestRefusedAccessIsAudited(t *testing.T) {
	e := start(t)
	w := e.world()
	for range 20 {
		if r := e.do("GET", "/api/v1/cameras/"+w.camA, w.tok["other"], nil); r.Status != http.StatusNotFound {
			t.Fatalf("other org's camera: %d", r.Status)
		}
	}
	type entries struct {
		Entries []struct {
			Actor, Action, Target, Detail string
			OrgID                         string `json:"org_id"`
		}
	}
	var all entries
	testenv.APICall(t, e.base, w.admin, "GET", "/api/v1/audit", nil, &all)
	n := 0
	for _, x := range all.Entries {
		if x.Action == "access.refused" {
			n++
			if x.Actor != "owner@b.example" || x.Target != "camera:"+w.camA || x.OrgID != "" || !strings.Contains(x.Detail, "view") {
				t.Errorf("refused entry %+v", x)
			}
		}
	}
	if n == 0 || n > 5 {
		t.Fatalf("%d access.refused entries for 20 refused requests, want 1 to 5", n)
	}
	var orgs entries
	testenv.APICall(t, e.base, w.tok["owner"], "GET", "/api/v1/audit?org="+w.orgA, nil, &orgs)
	for _, x := range orgs.Entries {
		if x.Action == "access.refused" {
			t.Fatalf("the camera's organisation sees who probed it: %+v", x)
		}
	}
}

// TestCameraMotionSetting: a camera shows its motion setting (on at the
// default sensitivity unless set), and POST and PATCH set it, a field at
// a time.
func TestCameraMotionSetting(t *testing.T) {
	e := start(t)
	w := e.world()
	tok := w.tok["admin"]
	motion := func(r resp) map[string]any {
		m, _ := r.Body["motion"].(map[string]any)
		return m
	}
	got := motion(e.must(e.do("GET", "/api/v1/cameras/"+w.camA, tok, nil), 200))
	if got["enabled"] != true || got["sensitivity"] != 5.0 {
		t.Fatalf("default motion setting %v", got)
	}
	c := e.must(e.do("POST", "/api/v1/cameras", tok, map[string]any{"org_id": w.orgA, "name": "yard",
		"motion": map[string]any{"enabled": false, "sensitivity": 2}}), 201)
	if got := motion(c); got["enabled"] != false || got["sensitivity"] != 2.0 {
		t.Fatalf("created with %v", got)
	}
	e.must(e.do("PATCH", "/api/v1/cameras/"+c.str("id"), tok, map[string]any{"motion": map[string]any{"enabled": true}}), 200)
	got = motion(e.must(e.do("GET", "/api/v1/cameras/"+c.str("id"), tok, nil), 200))
	if got["enabled"] != true || got["sensitivity"] != 2.0 {
		t.Fatalf("after enabling: %v, want the sensitivity kept", got)
	}
	// A viewer sees the setting and may not change it.
	if r := e.do("PATCH", "/api/v1/cameras/"+c.str("id"), w.tok["viewer"], map[string]any{"motion": map[string]any{"sensitivity": 9}}); r.Status != 403 {
		t.Fatalf("viewer PATCH motion: %d", r.Status)
	}
}
