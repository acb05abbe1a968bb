package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/auth"
)

// startNode runs a node with extra flags.
func startNode(t *testing.T, args ...string) *apptest.Node { return apptest.Start(t, args...) }

// statMode is the permission bits of path.
func statMode(path string) (os.FileMode, error) {
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Mode().Perm(), nil
}

// fromAddr is a client whose connections leave from the loopback address
// ip, so that the server sees a distinct source address.
func fromAddr(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}, Timeout: 30 * time.Second}
}

// TestLockoutFromOtherAddress: attackers on 127.0.0.2 and beyond spend
// every failure budget of the platform admin's account; the admin, logging
// in from 127.0.0.1 where they logged in before, still gets in.
func TestLockoutFromOtherAddress(t *testing.T) {
	e := start(t)
	login := func(c *http.Client, pw string) int {
		return e.doWith(c, "POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": pw}).Status
	}
	victim := fromAddr("127.0.0.1")
	if s := login(victim, adminPW); s != 200 {
		t.Fatalf("first login: %d", s)
	}
	attacker := fromAddr("127.0.0.2")
	limited := 0
	for range 60 {
		switch s := login(attacker, "wrong-password-1"); s {
		case 429:
			limited++
		case 401:
		default:
			t.Fatalf("attacker: %d", s)
		}
	}
	if limited == 0 {
		t.Fatal("60 wrong passwords from one address were never rate-limited")
	}
	// The attacker's right guess from its address is refused...
	if s := login(attacker, adminPW); s != 429 {
		t.Fatalf("attacker's address after its failures: %d, want 429", s)
	}
	// ...but the owner gets in from their address.
	if s := login(victim, adminPW); s != 200 {
		t.Fatalf("owner after one attacking address: %d, want 200", s)
	}
	// More attacking addresses spend the account-wide budget too: then
	// addresses never seen are refused, but the owner's is only slowed.
	for i := 3; i <= 8; i++ {
		c := fromAddr(fmt.Sprintf("127.0.0.%d", i))
		for range 10 {
			login(c, "wrong-password-1")
		}
	}
	if s := login(fromAddr("127.0.0.9"), adminPW); s != 429 {
		t.Fatalf("a new address while the account is under attack: %d, want 429", s)
	}
	if s := login(victim, adminPW); s != 200 {
		t.Fatalf("owner while the account is under attack: %d, want 200", s)
	}
	// A wrong password from the owner's address is still only a 401.
	if s := login(victim, "typo-password"); s != 401 {
		t.Fatalf("owner's typo: %d, want 401", s)
	}
}

// enrolTOTP enrols TOTP for the session tok (whose password is pw) and
// returns the secret; the step of now is used up.
func (e *env) enrolTOTP(tok, pw string) string {
	e.t.Helper()
	secret := e.must(e.do("POST", "/api/v1/me/totp", tok, map[string]string{"password": pw}), 200).str("secret")
	code, err := auth.TOTPCode(secret, time.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	e.must(e.do("POST", "/api/v1/me/totp/confirm", tok, map[string]string{"code": code}), 204)
	return secret
}

// auditCount counts entries of action readable by the platform admin.
func (e *env) auditCount(admin, action string) int {
	e.t.Helper()
	r := e.must(e.do("GET", "/api/v1/audit?limit=5000", admin, nil), 200)
	n := 0
	for _, x := range r.Body["entries"].([]any) {
		if x.(map[string]any)["action"] == action {
			n++
		}
	}
	return n
}

// TestAssumeTOTPLimited: guessing the TOTP code of support access is
// rate-limited, and failures are audited (but cannot flood the log).
func TestAssumeTOTPLimited(t *testing.T) {
	e := start(t)
	w := e.world()
	e.enrolTOTP(w.admin, adminPW)
	limited := 0
	for i := range 300 {
		code := "000000"
		if i%2 == 1 {
			code = "999999"
		}
		r := e.do("POST", "/api/v1/support/assume", w.admin, map[string]string{"org_id": w.orgA, "totp": code})
		switch r.Status {
		case 429:
			limited++
		case 403:
		default:
			t.Fatalf("guess %d: %d %s", i, r.Status, r.Raw)
		}
	}
	if limited < 250 {
		t.Fatalf("%d of 300 TOTP guesses rate-limited; want nearly all", limited)
	}
	n := e.auditCount(w.admin, "auth.totp_failed")
	if n == 0 || n > 50 {
		t.Fatalf("%d auth.totp_failed entries for 300 guesses; want some, bounded", n)
	}
}

// TestAssumedRoleCannotJoin: a platform admin on support duty cannot make
// itself a member, nor change its own role.
func TestAssumedRoleCannotJoin(t *testing.T) {
	e := start(t)
	w := e.world()
	op, err := e.app.Accounts.CreateUser(context.Background(), "ops@example.com", "ops-password-1", true)
	if err != nil {
		t.Fatal(err)
	}
	tok := e.login(op.Email, "ops-password-1")
	secret := e.enrolTOTP(tok, "ops-password-1")
	code, _ := auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	e.must(e.do("POST", "/api/v1/support/assume", tok, map[string]string{"org_id": w.orgA, "totp": code}), 200)
	r := e.do("POST", "/api/v1/orgs/"+w.orgA+"/members", tok, map[string]string{"email": op.Email, "role": "admin"})
	if r.Status != 403 {
		t.Fatalf("assumed admin adding itself: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/v1/orgs/"+w.orgA+"/members/"+op.ID, tok, map[string]string{"role": "admin"}); r.Status != 403 && r.Status != 404 {
		t.Fatalf("assumed admin changing its own role: %d %s", r.Status, r.Raw)
	}
	// Other members it may still manage.
	e.must(e.do("PATCH", "/api/v1/orgs/"+w.orgA+"/members/"+w.ids["viewer"], tok, map[string]string{"role": "operator"}), 200)
	e.must(e.do("DELETE", "/api/v1/support/assume", tok, nil), 204)
	e.must(e.do("GET", "/api/v1/orgs/"+w.orgA+"/members/"+op.ID, w.tok["owner"], nil), 404)
	for _, inv := range e.must(e.do("GET", "/api/v1/invitations", tok, nil), 200).Body["invitations"].([]any) {
		t.Fatalf("assumed admin invited itself: %v", inv)
	}
}

// TestInviteExistingAccount: an admin cannot add another organisation's
// account without its consent, and the answer is the same whether or not
// the email has an account.
func TestInviteExistingAccount(t *testing.T) {
	e := start(t)
	w := e.world()
	add := func(email string) resp {
		return e.do("POST", "/api/v1/orgs/"+w.orgA+"/members", w.tok["admin"], map[string]string{"email": email, "role": "viewer"})
	}
	existing, missing := add("owner@b.example"), add("nobody@nowhere.example")
	if existing.Status != missing.Status || existing.Status != http.StatusAccepted {
		t.Fatalf("answers differ or are not 202: existing %d %s, missing %d %s", existing.Status, existing.Raw, missing.Status, missing.Raw)
	}
	if existing.errCode() != "" || len(existing.Body) != len(missing.Body) {
		t.Fatalf("answer shapes differ: %s vs %s", existing.Raw, missing.Raw)
	}
	// Not a member until it accepts.
	e.must(e.do("GET", "/api/v1/orgs/"+w.orgA+"/members/"+w.ids["other"], w.tok["admin"], nil), 404)
	if r := e.do("GET", "/api/v1/cameras/"+w.camA, w.tok["other"], nil); r.Status != 404 {
		t.Fatalf("invited user sees the camera before accepting: %d", r.Status)
	}
	list := e.must(e.do("GET", "/api/v1/invitations", w.tok["other"], nil), 200).Body["invitations"].([]any)
	if len(list) != 1 {
		t.Fatalf("invitations: %v", list)
	}
	inv := list[0].(map[string]any)
	id, _ := inv["id"].(string)
	if inv["org_id"] != w.orgA || inv["org_name"] != "A" || inv["role"] != "viewer" {
		t.Fatalf("invitation: %v", inv)
	}
	// The organisation's pending invitations: its admins see and withdraw
	// them; other organisations' members get 404, its viewers 403.
	pending := missing.Body["invitation"].(map[string]any)["id"].(string)
	orgInv := "/api/v1/orgs/" + w.orgA + "/invitations"
	if r := e.must(e.do("GET", orgInv, w.tok["admin"], nil), 200); !strings.Contains(string(r.Raw), pending) || !strings.Contains(string(r.Raw), id) {
		t.Fatalf("org invitations: %s", r.Raw)
	}
	e.must(e.do("GET", orgInv, w.tok["viewer"], nil), 403)
	e.must(e.do("GET", orgInv, w.tok["other"], nil), 404)
	e.must(e.do("DELETE", orgInv+"/"+pending, w.tok["other"], nil), 404)
	e.must(e.do("DELETE", "/api/v1/orgs/"+w.orgB+"/invitations/"+pending, w.tok["other"], nil), 404)
	e.must(e.do("DELETE", orgInv+"/"+pending, w.tok["admin"], nil), 204)
	e.must(e.do("DELETE", orgInv+"/"+pending, w.tok["admin"], nil), 404)
	// Nobody else can see or accept it.
	if r := e.do("GET", "/api/v1/invitations", w.tok["viewer"], nil); strings.Contains(string(r.Raw), id) {
		t.Fatalf("another user lists the invitation: %s", r.Raw)
	}
	e.must(e.do("POST", "/api/v1/invitations/"+id+"/accept", w.tok["viewer"], nil), 404)
	e.must(e.do("POST", "/api/v1/invitations/"+id+"/accept", w.tok["other"], nil), 200)
	e.must(e.do("GET", "/api/v1/orgs/"+w.orgA+"/members/"+w.ids["other"], w.tok["admin"], nil), 200)
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, w.tok["other"], nil), 200)
	e.must(e.do("POST", "/api/v1/invitations/"+id+"/accept", w.tok["other"], nil), 404)

	// An invitation can be declined by its invitee only.
	toB := e.must(e.do("POST", "/api/v1/orgs/"+w.orgB+"/members", w.tok["other"], map[string]string{"email": "viewer@a.example", "role": "viewer"}), 202)
	again := toB.Body["invitation"].(map[string]any)["id"].(string)
	e.must(e.do("POST", "/api/v1/invitations/"+again+"/decline", w.tok["admin"], nil), 404)
	e.must(e.do("POST", "/api/v1/invitations/"+again+"/decline", w.tok["viewer"], nil), 204)
	e.must(e.do("POST", "/api/v1/invitations/"+again+"/accept", w.tok["viewer"], nil), 404)
	// The declined invitation is in organisation B's audit log, for its owner.
	if r := e.must(e.do("GET", "/api/v1/audit?org="+w.orgB, w.tok["other"], nil), 200); !strings.Contains(string(r.Raw), "member.decline") {
		t.Fatalf("member.decline not in the organisation's audit: %s", r.Raw)
	}
	if n := e.auditCount(w.admin, "member.invite"); n != 3 {
		t.Fatalf("%d member.invite entries, want 3", n)
	}
}

// TestSecureCookiesBehindTLS: behind a TLS proxy (X-Forwarded-Proto), the
// session cookies are Secure and HSTS is sent; over plain HTTP they are not.
func TestSecureCookiesBehindTLS(t *testing.T) {
	e := start(t)
	login := func(proto string) *http.Response {
		req, _ := http.NewRequest("POST", e.base+"/api/v1/auth/login", strings.NewReader(`{"email":"`+adminEmail+`","password":"`+adminPW+`"}`))
		if proto != "" {
			req.Header.Set("X-Forwarded-Proto", proto)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("login: %d", res.StatusCode)
		}
		return res
	}
	res := login("https")
	for _, c := range res.Cookies() {
		if !c.Secure {
			t.Errorf("cookie %s behind TLS is not Secure", c.Name)
		}
	}
	if h := res.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(h, "max-age=") {
		t.Errorf("no HSTS behind TLS: %q", h)
	}
	res = login("")
	for _, c := range res.Cookies() {
		if c.Secure {
			t.Errorf("cookie %s over plain HTTP is Secure (auto mode)", c.Name)
		}
	}
	if h := res.Header.Get("Strict-Transport-Security"); h != "" {
		t.Errorf("HSTS over plain HTTP: %q", h)
	}
}

// TestSecureCookiesForced: with https on, cookies are Secure and HSTS is
// sent whatever the request looked like; with https off, never.
func TestSecureCookiesForced(t *testing.T) {
	for _, c := range []struct {
		mode, proto string
		want        bool
	}{{"on", "", true}, {"off", "https", false}} {
		t.Run(c.mode, func(t *testing.T) {
			n := startNode(t, "--https", c.mode)
			req, _ := http.NewRequest("POST", n.Base+"/api/v1/auth/login", strings.NewReader(`{"email":"`+adminEmail+`","password":"`+adminPW+`"}`))
			if c.proto != "" {
				req.Header.Set("X-Forwarded-Proto", c.proto)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if len(res.Cookies()) == 0 {
				t.Fatal("no cookies")
			}
			for _, ck := range res.Cookies() {
				if ck.Secure != c.want {
					t.Errorf("cookie %s Secure = %v, want %v", ck.Name, ck.Secure, c.want)
				}
			}
			if h := res.Header.Get("Strict-Transport-Security"); strings.HasPrefix(h, "max-age=") != c.want {
				t.Errorf("HSTS %q with https %s", h, c.mode)
			}
		})
	}
}

// TestTOTPLifecycle: enrolment needs the current password; the secret is
// encrypted at rest; recovery codes are shown once and work once; TOTP can
// be disabled with a current code.
func TestTOTPLifecycle(t *testing.T) {
	e := start(t)
	tok := e.login(adminEmail, adminPW)
	e.must(e.do("POST", "/api/v1/me/totp", tok, nil), 400)
	e.must(e.do("POST", "/api/v1/me/totp", tok, map[string]string{"password": "wrong-password-1"}), 401)
	secret := e.enrolTOTP(tok, adminPW)
	u, err := e.app.Dir.GetUserByEmail(context.Background(), adminEmail)
	if err != nil {
		t.Fatal(err)
	}
	if u.TOTPSecret == secret || strings.Contains(u.TOTPSecret, secret) || !strings.HasPrefix(u.TOTPSecret, "enc:") {
		t.Fatalf("TOTP secret stored as %q", u.TOTPSecret)
	}
	e.must(e.do("POST", "/api/v1/me/totp/recovery-codes", tok, map[string]string{"password": "wrong-password-1"}), 401)
	rc := e.must(e.do("POST", "/api/v1/me/totp/recovery-codes", tok, map[string]string{"password": adminPW}), 200)
	codes, _ := rc.Body["recovery_codes"].([]any)
	if len(codes) < 8 {
		t.Fatalf("recovery codes: %s", rc.Raw)
	}
	first := codes[0].(string)
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": first}), 200)
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": first}), 401)
	// Disabling needs a current code.
	e.must(e.do("POST", "/api/v1/me/totp/disable", tok, map[string]string{"code": "000000"}), 400)
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": "000000"}), 401)
	if n := e.auditCount(tok, "auth.totp_failed"); n != 3 {
		t.Fatalf("%d auth.totp_failed entries after a used recovery code and wrong codes on disable and on login; want 3", n)
	}
	code, _ := auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	e.must(e.do("POST", "/api/v1/me/totp/disable", tok, map[string]string{"code": code}), 204)
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW}), 200)
	// The remaining recovery codes died with it.
	u, _ = e.app.Dir.GetUserByEmail(context.Background(), adminEmail)
	if u.TOTPEnabled || u.TOTPSecret != "" {
		t.Fatalf("after disable: %+v", u)
	}
}

// TestLegacyPlaintextTOTP: a secret stored in plaintext before secrets were
// encrypted still works, and is encrypted when next written.
func TestLegacyPlaintextTOTP(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	u, _ := e.app.Dir.GetUserByEmail(ctx, adminEmail)
	secret, _, _ := auth.NewTOTP("camcloud", adminEmail)
	u.TOTPSecret, u.TOTPEnabled = secret, true
	if err := e.app.Dir.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	code, _ := auth.TOTPCode(secret, time.Now())
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": code}), 200)
	u, _ = e.app.Dir.GetUserByEmail(ctx, adminEmail)
	if !strings.HasPrefix(u.TOTPSecret, "enc:") {
		t.Fatalf("plaintext secret not encrypted after use: %q", u.TOTPSecret)
	}
	code, _ = auth.TOTPCode(secret, time.Now().Add(30*time.Second))
	e.must(e.do("POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPW, "totp": code}), 200)
}

// TestAPIKeyScopes: a key cannot create keys; a read-only key may only
// read; an expired key no longer works.
func TestAPIKeyScopes(t *testing.T) {
	e := start(t)
	w := e.world()
	full := e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["admin"], map[string]string{"name": "full"}), 201)
	if k := full.Body["api_key"].(map[string]any); k["scope"] != "full" {
		t.Fatalf("default scope: %s", full.Raw)
	}
	fullKey := full.str("key")
	if r := e.do("POST", "/api/v1/me/api-keys", fullKey, map[string]string{"name": "child"}); r.Status != 403 {
		t.Fatalf("a key created a key: %d %s", r.Status, r.Raw)
	}
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, fullKey, map[string]any{"name": "by full key"}), 200)
	ro := e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["admin"], map[string]string{"name": "ro", "scope": "read"}), 201).str("key")
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, ro, nil), 200)
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"PATCH", "/api/v1/cameras/" + w.camA, map[string]any{"name": "by ro key"}},
		{"POST", "/api/v1/cameras/" + w.camA + "/live", nil},
		{"DELETE", "/api/v1/cameras/" + w.camA, nil},
	} {
		if r := e.do(c.method, c.path, ro, c.body); r.Status != 403 {
			t.Errorf("%s %s with a read-only key: %d %s", c.method, c.path, r.Status, r.Raw)
		}
	}
	// A read-only key of another organisation's owner still sees nothing of A.
	roB := e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["other"], map[string]string{"name": "ro", "scope": "read"}), 201).str("key")
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA, roB, nil), 404)
	e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["admin"], map[string]string{"name": "bad", "scope": "admin"}), 400)
	e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["admin"], map[string]any{"name": "past", "expires_at": time.Now().Add(-time.Hour)}), 400)
	soon := e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["admin"], map[string]any{"name": "soon", "expires_at": time.Now().Add(2 * time.Second)}), 201).str("key")
	e.must(e.do("GET", "/api/v1/me", soon, nil), 200)
	time.Sleep(2500 * time.Millisecond)
	e.must(e.do("GET", "/api/v1/me", soon, nil), 401)
}

// TestPasswordChangeEndsSessions: changing the password ends the user's
// other sessions, keeps the one that changed it, and leaves API keys alone
// (they are separate credentials, revoked one by one).
func TestPasswordChangeEndsSessions(t *testing.T) {
	e := start(t)
	a, b := e.login(adminEmail, adminPW), e.login(adminEmail, adminPW)
	key := e.must(e.do("POST", "/api/v1/me/api-keys", a, map[string]string{"name": "ci"}), 201).str("key")
	e.must(e.do("POST", "/api/v1/me/password", a, map[string]string{"old_password": "wrong-password", "new_password": "new-admin-password"}), 401)
	e.must(e.do("POST", "/api/v1/me/password", a, map[string]string{"old_password": adminPW, "new_password": "short"}), 400)
	e.must(e.do("GET", "/api/v1/me", b, nil), 200) // refused changes end nothing
	e.must(e.do("POST", "/api/v1/me/password", a, map[string]string{"old_password": adminPW, "new_password": "new-admin-password"}), 204)
	e.must(e.do("GET", "/api/v1/me", a, nil), 200)
	e.must(e.do("GET", "/api/v1/me", b, nil), 401)
	e.must(e.do("GET", "/api/v1/me", key, nil), 200)
}

// TestDatabaseFileMode: the SQLite directory database is created 0600.
func TestDatabaseFileMode(t *testing.T) {
	n := startNode(t)
	dsn := n.App.Cfg.Directory
	path, ok := strings.CutPrefix(dsn, "sqlite:")
	if !ok {
		t.Skipf("directory is not SQLite: %s", dsn)
	}
	path, _, _ = strings.Cut(path, "?")
	st, err := statMode(path)
	if err != nil {
		t.Fatal(err)
	}
	if st&0o077 != 0 {
		t.Fatalf("%s has mode %o; want 0600", path, st)
	}
}
