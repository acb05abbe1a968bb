package app

import (
	"context"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestEventsAcrossServers: a zone with two camera servers and a separate
// api node. A camera moving from one camera server to the other within
// the debounce makes no event; a camera that then stops is offline once,
// made by whichever server looks; the api node's stream carries the
// events the camera servers write.
func TestEventsAcrossServers(t *testing.T) {
	smp := testenv.Sample(t, "sample-h264.ts")
	shared := t.TempDir()
	zones := "  - name: a\n    db: \"sqlite:" + filepath.Join(shared, "a.db") + "\"\n    store: {type: local, dir: \"" + filepath.Join(shared, "blobs-a") + "\"}\n"
	cs1 := startApp(t, roleConfig(t, shared, zones, "--role", "camera-server", "--zone", "a", "--server-id", "cs-1"))
	cs2 := startApp(t, roleConfig(t, shared, zones, "--role", "camera-server", "--zone", "a", "--server-id", "cs-2"))
	api := startApp(t, roleConfig(t, shared, zones, "--role", "api"))
	base := "http://" + api.HTTPAddr()
	var login struct{ Token string }
	testenv.APICall(t, base, "", "POST", "/api/v1/auth/login", map[string]string{"email": "admin@example.com", "password": "admin-password-1"}, &login)
	var org struct{ ID string }
	testenv.APICall(t, base, login.Token, "POST", "/api/v1/orgs", map[string]string{"name": "o"}, &org)
	var cam struct {
		ID     string
		Ingest struct {
			RTSP string `json:"rtsp_url"`
		}
	}
	testenv.APICall(t, base, login.Token, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": "mover", "zone": "a"}, &cam)
	// The camera pushes to one camera server or the other.
	at := func(a *App) string {
		u, err := url.Parse(cam.Ingest.RTSP)
		if err != nil {
			t.Fatal(err)
		}
		u.Host = a.CamServer.RTSPAddr()
		return u.String()
	}
	publish := func(a *App) context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = sim.PublishOnce(ctx, at(a), smp, nil) }()
		return cancel
	}
	stream := testenv.SSE(t, base, login.Token, "/api/v1/events/stream?camera="+cam.ID, "")
	stop := publish(cs1)
	if m := stream.Next(t, 15*time.Second); m.Type() != "camera.online" || m.Data["detail"].(map[string]any)["server"] != "cs-1" {
		t.Fatalf("first event %v", m.Data)
	}
	time.Sleep(2 * time.Second)
	// Moves to cs-2 within a second: no event.
	stop()
	time.Sleep(500 * time.Millisecond)
	stop = publish(cs2)
	stream.None(t, 10*time.Second, "a camera that moved to another server within the debounce")
	z, err := api.Zones.Get("a")
	if err != nil {
		t.Fatal(err)
	}
	if p, err := z.DB.GetPresence(context.Background(), cam.ID); err != nil || p.State != "online" || p.Server != "cs-2" {
		t.Fatalf("presence %+v (%v)", p, err)
	}
	// Stops: offline once, within 10 s.
	stop()
	stopped := time.Now()
	m := stream.Next(t, 12*time.Second)
	if m.Type() != "camera.offline" || m.Arrived.Sub(stopped) > 10*time.Second {
		t.Fatalf("%s after %s: %v", m.Type(), m.Arrived.Sub(stopped), m.Data)
	}
	stream.None(t, 7*time.Second, "one offline, whoever looks")
}
