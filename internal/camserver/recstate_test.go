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
	testenv.Eventually(t, 30*time.Second, "the keyless camera online", func() bool {
		c := status(keyless.ID)
		return c.Status.Online && c.Status.Recording != ""
	})
	if c := status(keyless.ID); c.Status.Recording != "waiting" || !strings.Contains(c.Status.Reason, "key frame") {
		t.Errorf("camera without key frames: recording %q (%q), want waiting for a key frame", c.Status.Recording, c.Status.Reason)
	}
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
