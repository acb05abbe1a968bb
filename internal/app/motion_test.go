package app

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/motion"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestMotionSensitivityBoundsAgree: the camera setting's bounds are the
// detector's.
func TestMotionSensitivityBoundsAgree(t *testing.T) {
	if cameras.MinMotionSensitivity != motion.MinSensitivity || cameras.MaxMotionSensitivity != motion.MaxSensitivity ||
		cameras.DefaultMotionSensitivity != motion.DefaultSensitivity {
		t.Fatal("internal/cameras and internal/motion disagree on the sensitivity bounds")
	}
}

// TestMotionEventsFromAPushedCamera: a camera pushing the moving scene over
// RTSP into a whole process gets a ranged motion event in its zone when
// the box crosses the picture, 12 s into the sample, opened and then
// closed; a camera whose motion setting is off gets none.
func TestMotionEventsFromAPushedCamera(t *testing.T) {
	cfg, err := config.Load("serve", []string{"--data-dir", t.TempDir(), "--http", "127.0.0.1:0", "--rtsp", "127.0.0.1:0",
		"--rtmp", "127.0.0.1:0", "--rtsp-udp", ""}, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CAMCLOUD_ADMIN_EMAIL": "admin@example.com", "CAMCLOUD_ADMIN_PASSWORD": "admin-password-1"}
	a, err := New(context.Background(), cfg, slog.New(slog.DiscardHandler), Options{Out: io.Discard,
		Env: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = a.Serve(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	if err := a.Dir.CreateOrg(ctx, store.Org{ID: "o", Name: "o", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	smp, err := sample.Parse(camcloud.SampleMovingH264)
	if err != nil {
		t.Fatal(err)
	}
	off := false
	names := map[string]string{}
	watched := ""
	for _, name := range []string{"watched", "unwatched"} {
		sp := cameras.Spec{Name: &name}
		if name == "unwatched" {
			sp.Motion = &cameras.Motion{Enabled: &off}
		}
		c, secret, err := a.Cameras.Create(ctx, "o", sp)
		if err != nil {
			t.Fatal(err)
		}
		names[c.ID] = name
		if name == "watched" {
			watched = c.ID
		}
		rtsp, _ := ingesturl.URLs("rtsp://"+a.CamServer.RTSPAddr(), "rtmp://unused", c.ID, secret)
		go func() { _ = sim.Push(ctx, []string{rtsp}, smp, slog.New(slog.DiscardHandler)) }()
	}
	start := time.Now()
	motionEvents := func() []events.Event {
		evs, err := a.Events.Tail(ctx, "local", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []events.Event
		for _, e := range evs {
			if e.Type == events.TypeMotion {
				out = append(out, e)
			}
		}
		return out
	}
	var ev events.Event
	testenv.Eventually(t, 40*time.Second, "a motion event", func() bool {
		evs := motionEvents()
		if len(evs) > 0 {
			ev = evs[0]
		}
		return len(evs) > 0
	})
	if ev.CameraID != watched || ev.Source != events.SourceMotion || !strings.Contains(string(ev.Detail), "peak_ratio") {
		t.Fatalf("motion event %+v of the %s camera", ev, names[ev.CameraID])
	}
	// The box enters 12 s into the sample, which began with the push.
	if at := ev.Start.Sub(start); at < 10*time.Second || at > 15*time.Second {
		t.Errorf("motion began %v after the push, want about 12 s", at)
	}
	testenv.Eventually(t, 20*time.Second, "the motion event closed", func() bool {
		for _, e := range motionEvents() {
			if e.ID == ev.ID && !e.Ongoing && !e.End.IsZero() {
				ev = e
				return true
			}
		}
		return false
	})
	if d := ev.End.Sub(ev.Start); d < 3*time.Second || d > 8*time.Second {
		t.Errorf("the event lasted %v, want about the box's 5 s", d)
	}
	for _, e := range motionEvents() {
		if e.CameraID != watched {
			t.Errorf("a motion event of the %s camera: %+v", names[e.CameraID], e)
		}
	}
}
