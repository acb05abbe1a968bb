package api_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestRemovedMemberLosesGrants: a member's per-camera grants go when they
// leave the organisation; added back, they have their role's rights only.
func TestRemovedMemberLosesGrants(t *testing.T) {
	e := start(t)
	w := e.world()
	cam, viewer := "/api/v1/cameras/"+w.camA, w.ids["viewer"]
	e.must(e.do("PUT", cam+"/grants/"+viewer, w.tok["admin"], map[string]any{"permissions": []string{"manage"}}), 200)
	e.must(e.do("PATCH", cam, w.tok["viewer"], map[string]any{"name": "granted"}), 200)
	e.must(e.do("DELETE", "/api/v1/orgs/"+w.orgA+"/members/"+viewer, w.tok["admin"], nil), 204)
	// An existing account comes back by accepting an invitation.
	inv := e.must(e.do("POST", "/api/v1/orgs/"+w.orgA+"/members", w.tok["admin"], map[string]string{"email": "viewer@a.example", "role": "viewer"}), 202)
	id, _ := inv.Body["invitation"].(map[string]any)["id"].(string)
	e.must(e.do("POST", "/api/v1/invitations/"+id+"/accept", w.tok["viewer"], nil), 200)
	if r := e.do("PATCH", cam, w.tok["viewer"], map[string]any{"name": "regained"}); r.Status != 403 {
		t.Fatalf("re-added viewer PATCHes with the grant of their former membership: %d %s", r.Status, r.Raw)
	}
	r := e.must(e.do("GET", cam+"/grants", w.tok["admin"], nil), 200)
	if strings.Contains(string(r.Raw), viewer) {
		t.Fatalf("the old grant is listed again: %s", r.Raw)
	}
}

// TestCameraUpdateAudit: a camera.update entry says which fields changed,
// old and new, and never shows a pull URL's password.
func TestCameraUpdateAudit(t *testing.T) {
	e := start(t, "--pull-allow", testenv.LoopbackAllow)
	w := e.world()
	cam, tok := "/api/v1/cameras/"+w.camA, w.tok["admin"]
	detail := func() string {
		r := e.must(e.do("GET", "/api/v1/audit?org="+w.orgA+"&camera="+w.camA, w.tok["owner"], nil), 200)
		es, _ := r.Body["entries"].([]any)
		for _, x := range es { // newest first
			if m, _ := x.(map[string]any); m["action"] == "camera.update" {
				d, _ := m["detail"].(string)
				return d
			}
		}
		t.Fatalf("no camera.update entry: %s", r.Raw)
		return ""
	}
	cases := []struct {
		patch map[string]any
		want  []string
		never []string
	}{
		{map[string]any{"recording": "off", "retention_days": 1}, []string{`recording: "continuous" -> "off"`, `retention_days: 7 -> 1`}, nil},
		{map[string]any{"name": "porch", "recording": "off"}, []string{`name: "front door" -> "porch"`}, []string{"recording"}},
		{map[string]any{"motion": map[string]any{"enabled": false, "sensitivity": 9}}, []string{"motion.enabled: true -> false", "motion.sensitivity: 5 -> 9"}, nil},
		{map[string]any{"source": map[string]string{"type": "pull", "url": "rtsp://u:hunter2@127.0.0.1:8554/a"}},
			[]string{`source.type: "push" -> "pull"`, `source.url: "" -> "rtsp://u:xxxxx@127.0.0.1:8554/a"`}, []string{"hunter2"}},
		{map[string]any{"source": map[string]string{"type": "pull", "url": "rtsp://u:swordfish@127.0.0.1:8554/a"}},
			[]string{`source.url: "rtsp://u:xxxxx@127.0.0.1:8554/a" -> "rtsp://u:xxxxx@127.0.0.1:8554/a"`}, []string{"hunter2", "swordfish"}},
	}
	for _, c := range cases {
		e.must(e.do("PATCH", cam, tok, c.patch), 200)
		d := detail()
		for _, s := range c.want {
			if !strings.Contains(d, s) {
				t.Errorf("PATCH %v: detail %q lacks %q", c.patch, d, s)
			}
		}
		for _, s := range c.never {
			if strings.Contains(d, s) {
				t.Errorf("PATCH %v: detail %q holds %q", c.patch, d, s)
			}
		}
	}
}

// TestSlowPatchKeepsRotation: a PATCH whose body arrives after a key
// rotation does not bring the old secret back, on SQLite and MariaDB: the
// PATCH reads the camera before its body arrives, the rotation commits,
// then the body comes.
func TestSlowPatchKeepsRotation(t *testing.T) {
	engines := map[string]func(t *testing.T) []string{
		"sqlite": func(*testing.T) []string { return nil },
		"mysql": func(t *testing.T) []string {
			return []string{"--directory", testenv.MySQLDatabases(t, "lifecycle")[0]}
		},
	}
	for name, args := range engines {
		t.Run(name, func(t *testing.T) {
			e := start(t, args(t)...)
			w := e.world()
			tok := w.tok["admin"]
			for round := range 3 {
				oldURL := e.must(e.do("POST", "/api/v1/cameras/"+w.camA+"/rotate-key", tok, nil), 200).Body["ingest"].(map[string]any)["rtsp_url"].(string)
				pr, pw := io.Pipe()
				req, _ := http.NewRequest("PATCH", e.base+"/api/v1/cameras/"+w.camA, pr)
				req.Header.Set("Authorization", "Bearer "+tok)
				req.Header.Set("Content-Type", "application/json")
				done := make(chan int, 1)
				go func() {
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						done <- 0
						return
					}
					res.Body.Close()
					done <- res.StatusCode
				}()
				if _, err := pw.Write([]byte(`{"name": `)); err != nil { // the request is under way
					t.Fatal(err)
				}
				time.Sleep(300 * time.Millisecond) // the handler has loaded the camera and waits for the body
				newURL := e.must(e.do("POST", "/api/v1/cameras/"+w.camA+"/rotate-key", tok, nil), 200).Body["ingest"].(map[string]any)["rtsp_url"].(string)
				_, _ = pw.Write([]byte(`"slow patch"}`))
				pw.Close()
				if s := <-done; s != 200 {
					t.Fatalf("round %d: slow PATCH answered %d", round, s)
				}
				ctx := context.Background()
				if err := e.app.Cameras.AuthorizePublish(ctx, w.camA, secretOf(t, newURL)); err != nil {
					t.Fatalf("round %d: the rotated secret stopped working after a slow PATCH: %v", round, err)
				}
				if err := e.app.Cameras.AuthorizePublish(ctx, w.camA, secretOf(t, oldURL)); err == nil {
					t.Fatalf("round %d: the replaced secret works again after a slow PATCH", round)
				}
			}
		})
	}
}

// secretOf is the ingest secret in an ingest URL.
func secretOf(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := ingesturl.ParsePath(u.Path)
	if err != nil {
		t.Fatalf("ingest URL %q: %v", raw, err)
	}
	return secret
}
