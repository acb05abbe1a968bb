package api_test

import (
	"strings"
	"testing"
)

// TestAuditNames: the audit listing names the cameras, users and
// organisations its entries are about (their current names), beside the
// raw ids, and the name follows a rename.
func TestAuditNames(t *testing.T) {
	e := start(t)
	w := e.world()
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, w.tok["admin"], map[string]any{"name": "back door"}), 200)
	r := e.must(e.do("GET", "/api/v1/audit?org="+w.orgA, w.tok["owner"], nil), 200)
	entries, _ := r.Body["entries"].([]any)
	seen := map[string]bool{}
	for _, x := range entries {
		en := x.(map[string]any)
		name, _ := en["target_name"].(string)
		switch en["action"] {
		case "camera.create", "camera.update":
			if name != "back door" || en["camera_name"] != "back door" || en["target"] != "camera:"+w.camA {
				t.Errorf("camera entry names %q / %v: %v", name, en["camera_name"], en)
			}
			seen["camera"] = true
		case "member.add":
			if !strings.HasSuffix(name, "@a.example") {
				t.Errorf("member entry named %q: %v", name, en)
			}
			seen["user"] = true
		}
	}
	if !seen["camera"] || !seen["user"] {
		t.Fatalf("entries seen %v in %s", seen, r.Raw)
	}
	// another organisation's reader sees none of these names
	other := e.must(e.do("GET", "/api/v1/audit", w.tok["other"], nil), 200)
	if s := string(other.Raw); strings.Contains(s, "back door") || strings.Contains(s, "@a.example") {
		t.Fatalf("org B's owner sees org A's names: %s", s)
	}
}
