package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/webhooks"
)

// webhookFlags let webhooks reach 127.0.0.1 over http, as the test
// receivers are.
var webhookFlags = []string{"--webhook-allow", testenv.LoopbackAllow, "--webhook-allow-http"}

// TestWebhooksAPI: create (the secret shown once), list, get, patch,
// rotate, test, the delivery of a custom event posted through the API
// with a valid signature, the delivery log, delete; and their audit.
func TestWebhooksAPI(t *testing.T) {
	e := start(t, webhookFlags...)
	w := e.world()
	rcv := testenv.NewHookReceiver(t)
	base := "/api/v1/orgs/" + w.orgA + "/webhooks"
	tok := w.tok["admin"]
	created := e.must(e.do("POST", base, tok, map[string]any{"url": rcv.URL, "types": []string{"custom.*"}, "description": "ops"}), 201)
	id, secret := created.str("id"), created.str("secret")
	rcv.SetSecret(secret)
	if !strings.HasPrefix(secret, "whsec_") || created.str("url") != rcv.URL || created.Body["enabled"] != true {
		t.Fatalf("created %s", created.Raw)
	}
	list := e.must(e.do("GET", base, tok, nil), 200)
	if hooks, _ := list.Body["webhooks"].([]any); len(hooks) != 1 || strings.Contains(string(list.Raw), secret) {
		t.Fatalf("list %s", list.Raw)
	}
	got := e.must(e.do("GET", base+"/"+id, tok, nil), 200)
	if strings.Contains(string(got.Raw), "whsec_") || got.Body["streams"] == nil {
		t.Fatalf("get %s", got.Raw)
	}

	e.must(e.do("POST", "/api/v1/cameras/"+w.camA+"/events", w.tok["operator"], map[string]any{"type": "custom.doorbell", "detail": map[string]string{"who": "x"}}), 201)
	e.must(e.do("POST", "/api/v1/cameras/"+w.camA+"/events", w.tok["operator"], map[string]any{"type": "custom.doorbell"}), 201)
	rcv.WaitAccepted(t, 2, 20*time.Second)
	for i, d := range rcv.Accepted() {
		if d.Type != "custom.doorbell" || d.CameraID != w.camA {
			t.Errorf("delivery %d: %s", i, d.Body)
		}
		if err := webhooks.Verify(d.Header.Get("Camcloud-Signature"), d.Body, secret, time.Minute, time.Now()); err != nil || !d.SignatureOK {
			t.Errorf("delivery %d: %v (independent check %v)", i, err, d.SignatureOK)
		}
	}
	testenv.Eventually(t, 10*time.Second, "two rows in the delivery log", func() bool {
		res := e.do("GET", base+"/"+id+"/deliveries?limit=10", tok, nil)
		ds, _ := res.Body["deliveries"].([]any)
		return res.Status == 200 && len(ds) == 2
	})

	p := e.must(e.do("PATCH", base+"/"+id, tok, map[string]any{"enabled": false, "types": []string{}}), 200)
	if p.Body["enabled"] != false || p.str("disabled_reason") == "" {
		t.Fatalf("patch %s", p.Raw)
	}
	rot := e.must(e.do("POST", base+"/"+id+"/rotate-secret", tok, nil), 200)
	if s := rot.str("secret"); !strings.HasPrefix(s, "whsec_") || s == secret {
		t.Fatalf("rotate %s", rot.Raw)
	}
	ping := e.must(e.do("POST", base+"/"+id+"/test", tok, nil), 200)
	if d, _ := ping.Body["delivery"].(map[string]any); d["ok"] != true || d["event_type"] != "webhook.test" {
		t.Fatalf("test %s", ping.Raw)
	}
	e.must(e.do("DELETE", base+"/"+id, tok, nil), 204)
	e.must(e.do("GET", base+"/"+id, tok, nil), 404)

	audit := e.must(e.do("GET", "/api/v1/audit", tok, nil), 200)
	for _, action := range []string{"webhook.create", "webhook.update", "webhook.rotate_secret", "webhook.test", "webhook.delete"} {
		if !strings.Contains(string(audit.Raw), `"`+action+`"`) {
			t.Errorf("no %s audit entry", action)
		}
	}
}

// TestWebhooksBadInput: URLs that are not https or point at refused
// addresses, unknown types, other organisations' cameras, unknown fields
// are clear 400s (with the default destination policy); the
// organisation's limit is a 409.
func TestWebhooksBadInput(t *testing.T) {
	e := start(t)
	w := e.world()
	base := "/api/v1/orgs/" + w.orgA + "/webhooks"
	for _, c := range []struct {
		body any
		want string
	}{
		{map[string]any{"url": "http://203.0.113.5/hook"}, "must be https"},
		{map[string]any{"url": "https://127.0.0.1:9/hook"}, "loopback"},
		{map[string]any{"url": "https://169.254.169.254/"}, "link-local"},
		{map[string]any{"url": "https://192.168.0.10/"}, "private"},
		{map[string]any{"url": "https://[fe80::1]/"}, "link-local"},
		{map[string]any{"url": "gopher://203.0.113.5/"}, "https"},
		{map[string]any{}, "url is required"},
		{map[string]any{"url": "https://203.0.113.5/", "types": []string{"motion", "bogus"}}, "unknown event type"},
		{map[string]any{"url": "https://203.0.113.5/", "cameras": []string{w.camB}}, "not a camera of this organisation"},
		{map[string]any{"url": "https://203.0.113.5/", "secret": "mine"}, "unknown field"},
		{`{"url": "https://203.0.113.5/", "url": "https://203.0.113.6/"}`, "duplicate"},
	} {
		res := e.do("POST", base, w.tok["owner"], c.body)
		if res.Status != 400 || res.errCode() == "" || !strings.Contains(strings.ToLower(string(res.Raw)), strings.ToLower(c.want)) {
			t.Errorf("POST %v: %d %s, want 400 about %q", c.body, res.Status, res.Raw, c.want)
		}
	}
	id := e.must(e.do("POST", base, w.tok["owner"], map[string]any{"url": "https://203.0.113.5/", "enabled": false}), 201).str("id")
	res := e.do("PATCH", base+"/"+id, w.tok["owner"], map[string]any{"url": "https://10.0.0.1/"})
	if res.Status != 400 {
		t.Errorf("PATCH to a private address: %d %s", res.Status, res.Raw)
	}
	if res := e.do("GET", base+"/"+id+"/deliveries?limit=0", w.tok["owner"], nil); res.Status != 400 {
		t.Errorf("limit=0: %d", res.Status)
	}
	for i := 1; i < 20; i++ {
		e.must(e.do("POST", base, w.tok["owner"], map[string]any{"url": "https://203.0.113.5/", "enabled": false}), 201)
	}
	if res := e.do("POST", base, w.tok["owner"], map[string]any{"url": "https://203.0.113.5/"}); res.Status != 409 || res.errCode() != "limit" {
		t.Errorf("21st webhook: %d %s", res.Status, res.Raw)
	}
}

// TestWebhooksTenants: another organisation's owner gets 404 on every
// webhook route of org A, also through its own organisation's path;
// viewers and operators 403.
func TestWebhooksTenants(t *testing.T) {
	e := start(t)
	w := e.world()
	base := "/api/v1/orgs/" + w.orgA + "/webhooks"
	id := e.must(e.do("POST", base, w.tok["owner"], map[string]any{"url": "https://203.0.113.5/", "enabled": false}), 201).str("id")
	routes := []struct{ method, path string }{
		{"GET", ""}, {"POST", ""}, {"GET", "/" + id}, {"PATCH", "/" + id}, {"DELETE", "/" + id},
		{"POST", "/" + id + "/rotate-secret"}, {"POST", "/" + id + "/test"}, {"GET", "/" + id + "/deliveries"},
	}
	body := map[string]any{"url": "https://203.0.113.5/", "enabled": false}
	for _, r := range routes {
		if res := e.do(r.method, base+r.path, w.tok["other"], body); res.Status != 404 {
			t.Errorf("%s %s as another organisation: %d", r.method, r.path, res.Status)
		}
		if r.path != "" {
			if res := e.do(r.method, "/api/v1/orgs/"+w.orgB+"/webhooks"+r.path, w.tok["other"], body); res.Status != 404 {
				t.Errorf("%s %s through org B: %d", r.method, r.path, res.Status)
			}
		}
		for _, role := range []string{"viewer", "operator"} {
			if res := e.do(r.method, base+r.path, w.tok[role], body); res.Status != 403 {
				t.Errorf("%s %s as %s: %d", r.method, r.path, role, res.Status)
			}
		}
	}
	e.must(e.do("GET", base+"/"+id, w.tok["owner"], nil), 200)
}
