package camserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestRecordingStateIsTruthful: a camera that streams and is recorded says
// "recording"; one that streams without a key frame is online but says
// "waiting" and why; turning recording off while it streams says "off";
// and /metrics counts the cameras by state.
func TestRecordingStateIsTruthful(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	noKeys := *smp
	noKeys.Units = nil
	for _, u := range smp.Units {
		if !u.Key {
			noKeys.Units = append(noKeys.Units, u)
		}
	}
	n := startNode(t, t.TempDir())
	good, keyless := n.camera("good", nil), n.camera("keyless", nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = sim.Push(ctx, []string{good.Ingest.RTSP}, smp, nil) }()
	go func() { _ = sim.Push(ctx, []string{keyless.Ingest.RTSP}, &noKeys, nil) }()
	status := func(id string) camResp {
		var c camResp
		n.call("GET", "/api/v1/cameras/"+id, nil, &c)
		return c
	}
	testenv.Eventually(t, 30*time.Second, "the good camera recording", func() bool {
		return status(good.ID).Status.Recording == "recording"
	})
	// Online, it first says the recorder has not started (the camera
	// server is still looking it up: CI saw that state under load), then
	// that it waits for a key frame; never that it records.
	var seen []string
	defer func() { t.Logf("the keyless camera's states while online: %q", seen) }()
	testenv.Eventually(t, 30*time.Second, "the keyless camera online and waiting for a key frame", func() bool {
		c := status(keyless.ID)
		if c.Status.Recording == "recording" {
			t.Fatalf("camera without key frames says recording (%q)", c.Status.Reason)
		}
		if st := c.Status.Recording + " (" + c.Status.Reason + ")"; c.Status.Online && (len(seen) == 0 || seen[len(seen)-1] != st) {
			seen = append(seen, st)
		}
		return c.Status.Online && c.Status.Recording == "waiting" && strings.Contains(c.Status.Reason, "key frame")
	})
	if v := metricValue(t, n.base, `camcloud_camserver_cameras{recording="waiting"}`); v != 1 {
		t.Errorf("cameras waiting on /metrics: %v, want 1", v)
	}
	if v := metricValue(t, n.base, `camcloud_camserver_cameras{recording="recording"}`); v != 1 {
		t.Errorf("cameras recording on /metrics: %v, want 1", v)
	}
	if s := n.call("PATCH", "/api/v1/cameras/"+good.ID, map[string]any{"recording": "off"}, nil); s != 200 {
		t.Fatalf("recording off: %d", s)
	}
	testenv.Eventually(t, 30*time.Second, "the good camera saying recording off", func() bool {
		c := status(good.ID)
		return c.Status.Online && c.Status.Recording == "off"
	})
}
