package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/testenv"
)

// roleConfig loads the configuration of one process of a split deployment
// whose shared databases live in shared (SQLite files on one machine).
func roleConfig(t *testing.T, shared, zonesYAML string, args ...string) config.Config {
	t.Helper()
	file := filepath.Join(t.TempDir(), "camcloud.yaml")
	y := "directory: \"sqlite:" + filepath.Join(shared, "directory.db") + "\"\nmedia_key: \"" + strings.Repeat("m", 40) + "\"\nzones:\n" + zonesYAML
	if err := os.WriteFile(file, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"--config", file, "--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--rtsp", "127.0.0.1:0", "--rtmp", "127.0.0.1:0", "--rtsp-udp", ""}
	cfg, err := config.Load("serve", append(base, args...), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startApp runs a process until the test ends.
func startApp(t *testing.T, cfg config.Config) *App {
	t.Helper()
	vars := map[string]string{"CAMCLOUD_ADMIN_EMAIL": "admin@example.com", "CAMCLOUD_ADMIN_PASSWORD": "admin-password-1"}
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{Out: io.Discard,
		Env: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := a.Start(ctx); err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = a.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; a.Close() })
	return a
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestCameraServerRole: a camera-server-only process opens only its zone,
// registers itself under a name kept in its data directory, serves health,
// readiness and metrics but not the public API, and is not ready when its
// object store cannot be reached.
func TestCameraServerRole(t *testing.T) {
	shared := t.TempDir()
	zones := "  - name: a\n    db: \"sqlite:" + filepath.Join(shared, "a.db") + "\"\n    store: {type: local, dir: \"" + filepath.Join(shared, "blobs-a") + "\"}\n" +
		"  - name: b\n    db: \"sqlite:" + filepath.Join(shared, "b.db") + "\"\n    store: {type: s3, endpoint: \"127.0.0.1:1\", bucket: \"unreachable\"}\n"
	cfg := roleConfig(t, shared, zones, "--role", "camera-server", "--zone", "a")
	a := startApp(t, cfg)
	if got := a.Zones.Names(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("camera server of zone a opened zones %v", got)
	}
	base := "http://" + a.HTTPAddr()
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/api/v1/me": 404, "/api/v1/auth/login": 404, "/": 404} {
		if code, body := get(t, base+path); code != want {
			t.Errorf("GET %s: %d %s, want %d", path, code, body, want)
		}
	}
	// The ingest's video-path gauges, pushed and pulled cameras.
	if _, body := get(t, base+"/metrics"); !strings.Contains(body, `camcloud_ingest_rtsp_video_cameras{path="fast",protocol="rtsp"} 0`) ||
		!strings.Contains(body, `camcloud_ingest_rtsp_video_cameras{path="library",protocol="rtsp-pull"} 0`) {
		t.Error("/metrics lacks camcloud_ingest_rtsp_video_cameras")
	}
	id := a.Cfg.ServerID
	if id == "" {
		t.Fatal("no server id")
	}
	z, _ := a.Zones.Get("a")
	servers, err := z.DB.ListServers(context.Background(), time.Now().Add(-time.Minute))
	if err != nil || len(servers) != 1 || servers[0].ID != id || servers[0].Addr != base {
		t.Fatalf("zone registry: %+v %v", servers, err)
	}
	// The same data directory keeps the name across restarts.
	again, err := serverID("", cfg.DataDir)
	if err != nil || again != id {
		t.Fatalf("server id after restart %q, want %q (%v)", again, id, err)
	}

	// Zone b's store is down: its camera server starts but is not ready.
	cfgB := roleConfig(t, shared, zones, "--role", "camera-server", "--zone", "b")
	b := startApp(t, cfgB)
	if code, body := get(t, "http://"+b.HTTPAddr()+"/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "store") {
		t.Fatalf("readyz with the store down: %d %s", code, body)
	}
	if b.Cfg.ServerID == id {
		t.Fatal("two camera servers on one machine got the same id")
	}
}

// TestAPIRole: an api-only process binds no ingest port, holds no camera,
// and hands out each zone's configured ingest address.
func TestAPIRole(t *testing.T) {
	shared := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0") // an ingest port some other process holds
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	zones := "  - name: a\n    db: \"sqlite:" + filepath.Join(shared, "a.db") + "\"\n    ingest: {rtsp: \"ingest-a.example.net:8554\", rtmp: \"ingest-a.example.net:1935\"}\n" +
		"  - name: b\n    db: \"sqlite:" + filepath.Join(shared, "b.db") + "\"\n"
	cfg := roleConfig(t, shared, zones, "--role", "api", "--rtsp", busy.Addr().String(), "--public-host", "cams.example.net")
	a := startApp(t, cfg)
	if a.CamServer != nil || a.Cfg.ServerID != "" {
		t.Fatalf("api node runs a camera server (%q)", a.Cfg.ServerID)
	}
	base := "http://" + a.HTTPAddr()
	var login struct{ Token string }
	testenv.APICall(t, base, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin-password-1"}, &login)
	var org struct{ ID string }
	testenv.APICall(t, base, login.Token, "POST", "/api/v1/orgs", map[string]string{"name": "o"}, &org)
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	for zone, want := range map[string]string{"a": "rtsp://ingest-a.example.net:8554/", "b": "rtsp://cams.example.net:" + busyPort + "/"} {
		var cam struct {
			Zone   string
			Ingest struct {
				RTSP string `json:"rtsp_url"`
				RTMP string `json:"rtmp_url"`
			}
		}
		testenv.APICall(t, base, login.Token, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": "c-" + zone, "zone": zone}, &cam)
		if cam.Zone != zone || !strings.HasPrefix(cam.Ingest.RTSP, want) {
			t.Errorf("zone %s camera: zone %q ingest %q, want prefix %q", zone, cam.Zone, cam.Ingest.RTSP, want)
		}
		if zone == "a" && !strings.HasPrefix(cam.Ingest.RTMP, "rtmp://ingest-a.example.net:1935/") {
			t.Errorf("zone a camera: rtmp ingest %q", cam.Ingest.RTMP)
		}
	}
}
