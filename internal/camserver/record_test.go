package camserver_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// checkRecording asserts that a camera's rows and objects agree and that
// every object (init + segment) decodes in ffprobe with the row's duration
// within one GOP (2 s), and returns the total recorded time.
func checkRecording(t *testing.T, n *node, cam string, wantCodecs ...string) time.Duration {
	t.Helper()
	rows := n.segments(cam)
	if len(rows) < 2 {
		t.Fatalf("camera %s: %d segments recorded, want several", cam, len(rows))
	}
	for _, r := range rows {
		seg := n.object(r.Key)
		if int64(len(seg)) != r.Size {
			t.Errorf("%s: object is %d bytes, row says %d", r.Key, len(seg), r.Size)
		}
		init := n.object(r.InitKey)
		p := testenv.FFprobe(t, append(slices.Clone(init), seg...))
		want := r.End.Sub(r.Start)
		if d := p.Duration - want; d > 2*time.Second || d < -2*time.Second {
			t.Errorf("%s: ffprobe duration %s, row %s", r.Key, p.Duration, want)
		}
		if p.Frames == 0 {
			t.Errorf("%s: no video frame decoded", r.Key)
		}
		for _, c := range wantCodecs {
			if !slices.Contains(p.Codecs, c) {
				t.Errorf("%s: codecs %v, want %s", r.Key, p.Codecs, c)
			}
		}
	}
	return recorded(rows)
}

// TestSimPushRTSPAndRTMP: one simulated camera pushes over RTSP and another
// over RTMP for 20 s; both are recorded continuously.
func TestSimPushRTSPAndRTMP(t *testing.T) {
	t.Parallel()
	testenv.Tool(t, "ffprobe")
	n := startNode(t, t.TempDir())
	smp := testenv.Sample(t, "sample-h264.ts")
	a, b := n.camera("rtsp cam", nil), n.camera("rtmp cam", nil)
	ctx, cancel := context.WithCancel(context.Background())
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	stA, stB := &sim.Stats{}, &sim.Stats{}
	go func() { _ = sim.PushStats(ctx, []string{a.Ingest.RTSP}, smp, log, stA) }()
	go func() { _ = sim.PushStats(ctx, []string{b.Ingest.RTMP}, smp, log, stB) }()
	testenv.Eventually(t, 15*time.Second, "both cameras online", func() bool {
		var ca, cb camResp
		n.call("GET", "/api/v1/cameras/"+a.ID, nil, &ca)
		n.call("GET", "/api/v1/cameras/"+b.ID, nil, &cb)
		return ca.Status.Online && cb.Status.Online
	})
	time.Sleep(20 * time.Second)
	var ca camResp
	n.call("GET", "/api/v1/cameras/"+a.ID, nil, &ca)
	if ca.Status.Codec == "" || ca.Status.Server == "" || ca.Status.BitrateKbps <= 0 || time.Since(ca.Status.LastSeen) > 10*time.Second {
		t.Errorf("status of a streaming camera: %+v", ca.Status)
	}
	cancel()
	n.stop() // drain: the open segments are closed and uploaded
	for name, c := range map[string]string{"rtsp": a.ID, "rtmp": b.ID} {
		total := checkRecording(t, n, c, "h264", "aac")
		if total < 16*time.Second {
			t.Errorf("%s: recorded %s of about 20 s", name, total)
		}
		if g := gaps(n.segments(c), 100*time.Millisecond); len(g) > 0 {
			t.Errorf("%s: gaps in a continuous recording: %v", name, g)
		}
	}
	if stA.Frames.Load() == 0 || stB.Frames.Load() == 0 {
		t.Fatal("sim sent nothing")
	}
}
