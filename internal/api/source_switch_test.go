package api_test

import (
	"context"
	"testing"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestPatchPullToPushHandsOutURLs: PATCHing a pull camera to push answers
// with ingest URLs carrying a new secret that works (no rotate-key needed);
// other PATCHes answer without ingest, as before.
func TestPatchPullToPushHandsOutURLs(t *testing.T) {
	e := start(t, "--pull-allow", testenv.LoopbackAllow)
	w := e.world()
	cam, tok := "/api/v1/cameras/"+w.camA, w.tok["admin"]
	pull := e.must(e.do("PATCH", cam, tok, map[string]any{"source": map[string]string{"type": "pull", "url": "rtsp://127.0.0.1:1/a"}}), 200)
	if pull.Body["ingest"] != nil {
		t.Fatalf("push -> pull answered ingest URLs: %s", pull.Raw)
	}
	push := e.must(e.do("PATCH", cam, tok, map[string]any{"source": map[string]string{"type": "push"}}), 200)
	ing, _ := push.Body["ingest"].(map[string]any)
	rtsp, _ := ing["rtsp_url"].(string)
	if rtsp == "" || ing["rtmp_url"] == nil {
		t.Fatalf("pull -> push answered no ingest URLs: %s", push.Raw)
	}
	if err := e.app.Cameras.AuthorizePublish(context.Background(), w.camA, secretOf(t, rtsp)); err != nil {
		t.Fatalf("the handed-out secret is refused: %v", err)
	}
	if again := e.must(e.do("PATCH", cam, tok, map[string]any{"source": map[string]string{"type": "push"}, "name": "still push"}), 200); again.Body["ingest"] != nil {
		t.Fatalf("push -> push answered ingest URLs: %s", again.Raw)
	}
	if err := e.app.Cameras.AuthorizePublish(context.Background(), w.camA, secretOf(t, rtsp)); err != nil {
		t.Fatalf("push -> push replaced the secret: %v", err)
	}
}
