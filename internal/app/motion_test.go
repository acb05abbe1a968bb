package app

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/motion"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
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
// RTSP into a whole process yields a motion event through MotionEvents
// when the box crosses the picture, 12 s into the sample; a camera whose
// motion setting is off yields none.
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
	got := make(chan motion.Transition, 16)
	a.MotionEvents = func(_ context.Context, tr motion.Transition) { got <- tr }
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
	push := map[string]string{}
	for _, name := range []string{"watched", "unwatched"} {
		sp := cameras.Spec{Name: &name}
		if name == "unwatched" {
			sp.Motion = &cameras.Motion{Enabled: &off}
		}
		c, secret, err := a.Cameras.Create(ctx, "o", sp)
		if err != nil {
			t.Fatal(err)
		}
		push[c.ID] = name
		rtsp, _ := ingesturl.URLs("rtsp://"+a.CamServer.RTSPAddr(), "rtmp://unused", c.ID, secret)
		go func() { _ = sim.Push(ctx, []string{rtsp}, smp, slog.New(slog.DiscardHandler)) }()
	}
	start := time.Now()
	select {
	case tr := <-got:
		if push[tr.CameraID] != "watched" || !tr.Open || tr.Peak < 1.5 {
			t.Fatalf("transition %+v of the %s camera", tr, push[tr.CameraID])
		}
		// The box enters 12 s into the sample, which began with the push.
		if at := tr.Start.Sub(start); at < 10*time.Second || at > 15*time.Second {
			t.Errorf("motion began %v after the push, want about 12 s", at)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("no motion event within 40 s of pushing the moving scene")
	}
	select {
	case tr := <-got:
		if push[tr.CameraID] != "watched" || tr.Open {
			t.Fatalf("then %+v of the %s camera, want the close", tr, push[tr.CameraID])
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the motion event did not close")
	}
}
