package agent_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/agent"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestAgentTakesLocalPushes: two cameras of the site push to the agent,
// one over RTSP and one over RTMP, with their own secrets; the agent
// records both locally and relays them live to the cloud, as it does
// with pulled cameras. A push with a wrong secret, or of a camera that is
// not configured to push, is refused.
func TestAgentTakesLocalPushes(t *testing.T) {
	s := newSite(t)
	secrets := []string{"till-push-secret-0123", "door-push-secret-4567"}
	cfg := agent.Config{Cloud: s.cloud.Base, AllowHTTP: true, EnrolmentToken: s.enrol, DataDir: t.TempDir(),
		SegmentDuration: 2 * time.Second, Heartbeat: 500 * time.Millisecond, ListenRTSP: "127.0.0.1:0", ListenRTMP: "127.0.0.1:0"}
	for i, cam := range s.cameras {
		cfg.Cameras = append(cfg.Cameras, agent.Camera{ID: cam, PushSecret: secrets[i], IngestURL: s.ingest[i]})
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := agent.New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("agent run: %v", err)
		}
	})
	testenv.Eventually(t, 10*time.Second, "the push listeners", func() bool { r, _ := a.PushURLs(s.cameras[0]); return r != "" })
	rtsp0, _ := a.PushURLs(s.cameras[0])
	_, rtmp1 := a.PushURLs(s.cameras[1])
	if !strings.HasPrefix(rtmp1, "rtmp://127.0.0.1:") {
		t.Fatalf("RTMP push URL %q", rtmp1)
	}
	smp := testenv.Sample(t, "sample-h264.ts")
	pctx, stop := context.WithCancel(context.Background())
	defer stop()
	for _, u := range []string{rtsp0, rtmp1} {
		go func() { _ = sim.PublishOnce(pctx, u, smp, nil) }()
	}
	from := time.Now().Add(-time.Minute)
	for i, cam := range s.cameras {
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" recorded by the agent", func() bool { return !localEnd(t, cfg.DataDir, cam).IsZero() })
		testenv.Eventually(t, 60*time.Second, "camera "+cam+" relayed to the cloud", func() bool {
			return s.recordedAfter(t, cam, from, time.Now().Add(-6*time.Second))
		})
		t.Logf("camera %d recorded locally and in the cloud", i)
	}

	// Refused: a wrong secret, and a camera the agent does not take pushes of.
	wrong := strings.Replace(rtsp0, secrets[0], "wrong-secret-000000000", 1)
	stranger := strings.Replace(rtsp0, s.cameras[0], "0123456789abcdef0123456789abcdef", 1)
	for _, u := range []string{wrong, stranger} {
		rctx, rcancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := sim.PublishOnce(rctx, u, smp, nil)
		timedOut := rctx.Err() != nil
		rcancel()
		if err == nil || timedOut {
			t.Errorf("a push to %s was not refused (err %v)", ingesturl.LogPath(u[strings.Index(u[7:], "/")+7:]), err)
		}
	}
}

// TestPushConfig: a camera is pulled or pushed, not both; a push secret
// is long enough and URL-safe; a pushing camera needs a listener.
func TestPushConfig(t *testing.T) {
	const cam = "0123456789abcdef0123456789abcdef"
	cases := []struct {
		name string
		cam  agent.Camera
		rtsp string
		want string
	}{
		{"pull and push", agent.Camera{ID: cam, URL: "rtsp://10.0.0.2/s", PushSecret: "0123456789abcdefgh"}, ":8554", "not both"},
		{"short secret", agent.Camera{ID: cam, PushSecret: "short"}, ":8554", "at least 16"},
		{"secret with a slash", agent.Camera{ID: cam, PushSecret: "0123456789/abcdefgh"}, ":8554", "at least 16"},
		{"no listener", agent.Camera{ID: cam, PushSecret: "0123456789abcdefgh"}, "", "neither listen_rtsp nor listen_rtmp"},
		{"neither url nor secret", agent.Camera{ID: cam}, ":8554", "url must be rtsp://"},
		{"push", agent.Camera{ID: cam, PushSecret: "0123456789abcdefgh"}, ":8554", ""},
	}
	for _, c := range cases {
		cfg := agent.Config{Cloud: "https://cloud.example", DataDir: t.TempDir(), ListenRTSP: c.rtsp, Cameras: []agent.Camera{c.cam}}
		err := cfg.Check()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
}
