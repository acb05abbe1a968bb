package live

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestAPILive: POST /api/v1/cameras/{id}/live hands a member signed URLs
// that play on the media routes, audits it (one media.live entry for the
// viewer's session and the camera however often it asks), answers 404 to
// outsiders and 409 "offline" when no server holds the camera.
func TestAPILive(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	log := testLogger(t)
	dir, err := store.OpenDirectory(ctx, "sqlite:"+filepath.Join(t.TempDir(), "dir.db"), log)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	accts, err := account.New(dir, log, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	org := store.Org{ID: account.NewID(), Name: "A", CreatedAt: time.Now()}
	if err := dir.CreateOrg(ctx, org); err != nil {
		t.Fatal(err)
	}
	cam := store.Camera{ID: account.NewID(), OrgID: org.ID, Name: "door", Zone: "local", SourceType: "push",
		RetentionDays: 1, Recording: "continuous", CreatedAt: time.Now()}
	if err := dir.CreateCamera(ctx, cam); err != nil {
		t.Fatal(err)
	}
	users := map[string]string{}
	for _, who := range []string{"viewer", "outsider"} {
		u, err := accts.CreateUser(ctx, who+"@example.com", "password-"+who, false)
		if err != nil {
			t.Fatal(err)
		}
		if who == "viewer" {
			if err := dir.PutMembership(ctx, store.Membership{OrgID: org.ID, UserID: u.ID, Role: store.RoleViewer}); err != nil {
				t.Fatal(err)
			}
		}
		tok, _, _, err := accts.Login(ctx, who+"@example.com", "password-"+who, "", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		users[who] = tok
	}

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	sig, _ := auth.NewSigner(key)
	h := hub.New()
	offline := true
	svc := New(Deps{Hub: h, Signer: sig, Log: log, Locate: func(ctx context.Context, c store.Camera) (string, error) {
		if offline {
			return "", ErrOffline
		}
		return "", nil
	}})
	closeSvc := sync.OnceFunc(svc.Close)
	defer closeSvc()
	srv := httpapi.New(httpapi.Config{Accounts: accts, Audit: audit.New(dir, log), Log: log})
	svc.RegisterAPI(srv, cameras.New(dir, nil, log), "")
	svc.RegisterMedia(srv)
	ts := httptest.NewServer(srv)
	defer ts.Close()

	post := func(tok, id string) (int, map[string]any) {
		var v map[string]any
		status := testenv.APIStatus(t, ts.URL, tok, http.MethodPost, "/api/v1/cameras/"+id+"/live", nil, &v)
		return status, v
	}
	code := func(v map[string]any) string {
		e, _ := v["error"].(map[string]any)
		s, _ := e["code"].(string)
		return s
	}

	if c, v := post(users["viewer"], cam.ID); c != 409 || code(v) != "offline" {
		t.Fatalf("offline camera: %d %v", c, v)
	}
	offline = false
	publish(t, h, cam.ID, "sample-h264.ts", nil)
	c, v := post(users["viewer"], cam.ID)
	if c != 200 {
		t.Fatalf("viewer: %d %v", c, v)
	}
	hlsURL, _ := v["hls_url"].(string)
	whepURL, _ := v["whep_url"].(string)
	exp, err := time.Parse(time.RFC3339, v["expires_at"].(string))
	if err != nil || time.Until(exp) < 5*time.Minute || time.Until(exp) > 15*time.Minute {
		t.Fatalf("expires_at %v (%v)", v["expires_at"], err)
	}
	if !strings.HasPrefix(hlsURL, ts.URL+"/live/v1/"+cam.ID+"/index.m3u8?token=") || !strings.HasPrefix(whepURL, ts.URL+"/live/v1/"+cam.ID+"/whep?token=") {
		t.Fatalf("urls %q %q", hlsURL, whepURL)
	}
	if st, body := get(t, hlsURL); st != 200 || !strings.HasPrefix(string(body), "#EXTM3U") {
		t.Fatalf("handed-out HLS URL: %d %s", st, body)
	}
	wc := newWHEPClient(t, whepURL, false, true)
	if wc.status != 201 {
		t.Fatalf("handed-out WHEP URL: %d %s", wc.status, wc.body)
	}
	wc.waitPackets(t, 10, 15*time.Second)

	if c, v := post(users["outsider"], cam.ID); c != 404 {
		t.Fatalf("outsider: %d %v, want 404", c, v)
	}
	if c, _ := post("", cam.ID); c != 401 {
		t.Fatalf("anonymous: %d, want 401", c)
	}
	for range 2 { // the grid shown again, then paged back to
		if c, v := post(users["viewer"], cam.ID); c != 200 {
			t.Fatalf("viewer again: %d %v", c, v)
		}
	}
	closeSvc() // the node stops: the open viewing is written
	entries, err := dir.ListAudit(ctx, store.AuditFilter{CameraID: cam.ID})
	if err != nil {
		t.Fatal(err)
	}
	var live []store.AuditEntry
	for _, e := range entries {
		if e.Action == "media.live" && e.Actor == "viewer@example.com" {
			live = append(live, e)
		}
	}
	if len(live) != 1 || !strings.Contains(live[0].Detail, "3 URL hand-outs") || !strings.HasPrefix(live[0].Detail, "watched live for ") {
		t.Fatalf("media.live audit entries %+v, want 1 for 3 hand-outs", live)
	}
}
