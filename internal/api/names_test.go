package api_test

import (
	"strings"
	"testing"
)

// TestNamesAndStrictJSON: camera and organisation names are bounded in
// characters and in the bytes the directory holds, refuse control and
// bidirectional formatting characters, and request bodies match field
// names exactly and hold each key once; every refusal is a 400 that says
// why, never a 500.
func TestNamesAndStrictJSON(t *testing.T) {
	e := start(t)
	w := e.world()
	four := "\U0001F4F7" // 4 bytes of UTF-8
	cam := func(name string) map[string]any {
		return map[string]any{"org_id": w.orgA, "name": name, "source": map[string]string{"type": "push"}}
	}
	cases := []struct {
		what, method, path, token string
		body                      any
		status                    int
		msg                       string
	}{
		{"camera name of 80 four-byte characters (320 bytes)", "POST", "/api/v1/cameras", w.tok["admin"], cam(strings.Repeat(four, 80)), 201, ""},
		{"camera name of 100 four-byte characters", "POST", "/api/v1/cameras", w.tok["admin"], cam(strings.Repeat(four, 100)), 400, "bytes"},
		{"camera name of 81 four-byte characters", "POST", "/api/v1/cameras", w.tok["admin"], cam(strings.Repeat(four, 81)), 400, "bytes"},
		{"camera name with NUL", "POST", "/api/v1/cameras", w.tok["admin"], cam("gate\x00"), 400, "control"},
		{"camera name with a right-to-left override", "POST", "/api/v1/cameras", w.tok["admin"], cam("gate\u202Egpj.exe"), 400, "bidirectional"},
		{"camera renamed with a newline", "PATCH", "/api/v1/cameras/" + w.camA, w.tok["admin"], map[string]any{"name": "a\nb"}, 400, "control"},
		{"camera renamed to 100 four-byte characters", "PATCH", "/api/v1/cameras/" + w.camA, w.tok["admin"], map[string]any{"name": strings.Repeat(four, 100)}, 400, "bytes"},
		{"org name of 100 four-byte characters", "POST", "/api/v1/orgs", w.admin, map[string]any{"name": strings.Repeat(four, 100)}, 400, "bytes"},
		{"org name with NUL", "POST", "/api/v1/orgs", w.admin, map[string]any{"name": "acme\x00"}, 400, "control"},
		{"org name with an isolate", "POST", "/api/v1/orgs", w.admin, map[string]any{"name": "acme\u2067"}, 400, "bidirectional"},
		{"field name in another case", "POST", "/api/v1/cameras", w.tok["admin"], `{"org_id":"` + w.orgA + `","Name":"x","source":{"type":"push"}}`, 400, "case-sensitive"},
		{"nested field name in another case", "POST", "/api/v1/cameras", w.tok["admin"], `{"org_id":"` + w.orgA + `","name":"x","source":{"TYPE":"push"}}`, 400, "case-sensitive"},
		{"duplicate key", "PATCH", "/api/v1/cameras/" + w.camA, w.tok["admin"], `{"name":"a","name":"b"}`, 400, "duplicate key"},
		{"duplicate key on login", "POST", "/api/v1/auth/login", "", `{"email":"a@b.c","email":"d@e.f","password":"x"}`, 400, "duplicate key"},
	}
	for _, c := range cases {
		res := e.do(c.method, c.path, c.token, c.body)
		msg := ""
		if er, ok := res.Body["error"].(map[string]any); ok {
			msg, _ = er["message"].(string)
		}
		if res.Status != c.status || (c.status == 400 && (res.errCode() != "bad_request" || !strings.Contains(msg, c.msg))) {
			t.Errorf("%s: %d %.300s, want %d mentioning %q", c.what, res.Status, res.Raw, c.status, c.msg)
		}
	}
	// The camera of 320 bytes is stored whole.
	for _, c := range e.must(e.do("GET", "/api/v1/cameras", w.tok["admin"], nil), 200).Body["cameras"].([]any) {
		if n := c.(map[string]any)["name"].(string); strings.HasPrefix(n, four) && n != strings.Repeat(four, 80) {
			t.Errorf("stored name is %d bytes, want 320", len(n))
		}
	}
}
