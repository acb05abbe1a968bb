package api_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
)

// TestCookieSessionNeedsCSRF: a browser session (cookie) may read, but may
// change nothing without the CSRF header that only our own pages can send.
func TestCookieSessionNeedsCSRF(t *testing.T) {
	e := start(t)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Post(e.base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"email":"`+adminEmail+`","password":"`+adminPW+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var csrf string
	for _, ck := range res.Cookies() {
		if ck.Name == "camcloud_session" && !ck.HttpOnly {
			t.Fatal("session cookie must be HttpOnly")
		}
		if ck.Name == "camcloud_csrf" {
			csrf = ck.Value
		}
	}
	if csrf == "" {
		t.Fatal("no csrf cookie")
	}
	get, _ := c.Get(e.base + "/api/v1/me")
	get.Body.Close()
	if get.StatusCode != 200 {
		t.Fatalf("cookie GET /me: %d", get.StatusCode)
	}
	post := func(h string) int {
		req, _ := http.NewRequest("POST", e.base+"/api/v1/orgs", strings.NewReader(`{"name":"x"}`))
		req.Header.Set("Content-Type", "application/json")
		if h != "" {
			req.Header.Set("X-CSRF-Token", h)
		}
		r, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if s := post(""); s != 403 {
		t.Fatalf("cookie POST without CSRF header: %d, want 403", s)
	}
	if s := post("0123456789abcdef0123456789abcdef"); s != 403 {
		t.Fatalf("cookie POST with wrong CSRF header: %d, want 403", s)
	}
	if s := post(csrf); s != 201 {
		t.Fatalf("cookie POST with CSRF header: %d, want 201", s)
	}
}

// TestTOTPLogin enrols TOTP and then needs the code to log in.
func TestTOTPLogin(t *testing.T) {
	e := start(t)
	tok := e.login(adminEmail, adminPW)
	r := e.must(e.do("POST", "/api/v1/me/totp", tok, map[string]string{"password": adminPW}), 200)
	secret := r.str("secret")
	if secret == "" || !strings.HasPrefix(r.str("otpauth_url"), "otpauth://totp/") {
		t.Fatalf("totp enrol: %s", r.Raw)
	}
	e.must(e.do("POST", "/api/v1/me/totp/confirm", tok, map[string]string{"code": "000000"}), 400)
	code, err := auth.TOTPCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	e.must(e.do("POST", "/api/v1/me/totp/confirm", tok, map[string]string{"code": code}), 204)
	nr := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW})
	if nr.Status != 401 || nr.errCode() != "totp_required" {
		t.Fatalf("login without code: %d %s", nr.Status, nr.Raw)
	}
	// The code used to confirm cannot be used again (replay)...
	if r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": code}); r.Status != 401 {
		t.Fatalf("replayed TOTP code: %d %s", r.Status, r.Raw)
	}
	// ...but the next one, as an authenticator shows it, works once.
	code, _ = auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": code}), 200)
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": code}), 401)
}

// TestAPIKeys: a key works as a bearer token, is shown once, and stops
// working when deleted.
func TestAPIKeys(t *testing.T) {
	e := start(t)
	tok := e.login(adminEmail, adminPW)
	r := e.must(e.do("POST", "/api/v1/me/api-keys", tok, map[string]string{"name": "ci"}), 201)
	key := r.str("key")
	k, _ := r.Body["api_key"].(map[string]any)
	id, _ := k["id"].(string)
	if !strings.HasPrefix(key, "cc_k_") || id == "" {
		t.Fatalf("api key: %s", r.Raw)
	}
	e.must(e.do("GET", "/api/v1/me", key, nil), 200)
	list := e.must(e.do("GET", "/api/v1/me/api-keys", tok, nil), 200)
	if strings.Contains(string(list.Raw), key) {
		t.Fatal("listing shows the key itself")
	}
	e.must(e.do("DELETE", "/api/v1/me/api-keys/"+id, tok, nil), 204)
	e.must(e.do("GET", "/api/v1/me", key, nil), 401)
}

// TestAuditTrail: changes are audited with actor and address, and members
// without audit rights cannot read it.
func TestAuditTrail(t *testing.T) {
	e := start(t)
	w := e.world()
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, w.tok["admin"], map[string]any{"retention_days": 9}), 200)
	r := e.must(e.do("GET", "/api/v1/audit?org="+w.orgA+"&camera="+w.camA, w.tok["owner"], nil), 200)
	es, _ := r.Body["entries"].([]any)
	found := false
	for _, x := range es {
		m, _ := x.(map[string]any)
		if m["action"] == "camera.update" && m["actor"] == "admin@a.example" && m["address"] == "127.0.0.1" {
			found = true
		}
		if m["org_id"] != w.orgA {
			t.Errorf("entry of another org leaked: %v", m)
		}
	}
	if !found {
		t.Fatalf("camera.update not audited: %s", r.Raw)
	}
	all := e.must(e.do("GET", "/api/v1/audit", w.admin, nil), 200)
	if !strings.Contains(string(all.Raw), "org.create") {
		t.Fatalf("platform admin sees full log: %s", all.Raw)
	}
	e.must(e.do("GET", "/api/v1/audit", w.tok["viewer"], nil), 403)
}

// TestHealth: liveness, readiness and metrics answer.
func TestHealth(t *testing.T) {
	e := start(t)
	e.must(e.do("GET", "/healthz", "", nil), 200)
	e.must(e.do("GET", "/readyz", "", nil), 200)
	m := e.must(e.do("GET", "/metrics", "", nil), 200)
	if !strings.Contains(string(m.Raw), "go_goroutines") {
		t.Fatal("metrics missing")
	}
	e.app.SetDraining()
	if r := e.do("GET", "/readyz", "", nil); r.Status != 503 || !strings.Contains(string(r.Raw), "draining") {
		t.Fatalf("readyz while draining: %d %s", r.Status, r.Raw)
	}
}

// TestSupportAccess: a platform admin sees no organisation's cameras until
// they assume its admin role with their second factor; then they do, and
// their actions are audited under both identities.
func TestSupportAccess(t *testing.T) {
	e := start(t)
	w := e.world()
	// A second platform-level operator who is a member of nothing.
	op, err := e.app.Accounts.CreateUser(context.Background(), "ops@example.com", "ops-password-1", true)
	if err != nil {
		t.Fatal(err)
	}
	tok := e.login(op.Email, "ops-password-1")
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, tok, nil), 404)
	// Without TOTP enrolled, support access is refused.
	e.must(e.do("POST", "/api/v1/support/assume", tok, map[string]string{"org_id": w.orgA, "totp": "123456"}), 403)
	secret := e.must(e.do("POST", "/api/v1/me/totp", tok, map[string]string{"password": "ops-password-1"}), 200).str("secret")
	code, _ := auth.TOTPCode(secret, time.Now())
	e.must(e.do("POST", "/api/v1/me/totp/confirm", tok, map[string]string{"code": code}), 204)
	e.must(e.do("POST", "/api/v1/support/assume", tok, map[string]string{"org_id": w.orgA, "totp": "000000"}), 403)
	code, _ = auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	e.must(e.do("POST", "/api/v1/support/assume", tok, map[string]string{"org_id": w.orgA, "totp": code}), 200)
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, tok, map[string]any{"name": "fixed by support"}), 200)
	// Still nothing of the other organisation.
	e.must(e.do("GET", "/api/v1/cameras/"+w.camB, tok, nil), 404)
	r := e.must(e.do("GET", "/api/v1/audit?org="+w.orgA+"&actor=ops@example.com", w.tok["owner"], nil), 200)
	if !strings.Contains(string(r.Raw), `"actor_as":"admin@`+w.orgA) || !strings.Contains(string(r.Raw), "camera.update") {
		t.Fatalf("support action not audited under both identities: %s", r.Raw)
	}
	e.must(e.do("DELETE", "/api/v1/support/assume", tok, nil), 204)
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, tok, nil), 404)
	// An ordinary owner cannot assume roles.
	e.must(e.do("POST", "/api/v1/support/assume", w.tok["owner"], map[string]string{"org_id": w.orgB, "totp": code}), 403)
}
