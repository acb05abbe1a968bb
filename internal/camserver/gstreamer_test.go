package camserver_test

import (
	"context"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestPulledGStreamerClockRestart pulls a real gst-rtsp-server camera whose
// factory is shared, then connects a second client to it, which restarts
// the camera's timestamps at zero mid-stream. Recording must go on through
// the restart, losing at most one GOP plus a second, and the camera must
// stay truthfully online (it is being recorded).
func TestPulledGStreamerClockRestart(t *testing.T) {
	t.Parallel()
	ffprobe := testenv.Tool(t, "ffprobe")
	const gop = 2 * time.Second
	url := testenv.GstRTSPCamera(t, int(gop/(40*time.Millisecond)), true)
	n := startNode(t, t.TempDir(), "--pull-allow", testenv.LoopbackAllow)
	cam := n.camera("gst", map[string]string{"type": "pull", "url": url})
	testenv.Eventually(t, 30*time.Second, "pulled camera online", func() bool {
		var c camResp
		n.call("GET", "/api/v1/cameras/"+cam.ID, nil, &c)
		return c.Status.Online
	})
	// Long enough that waiting for the old clock would leave a clear hole.
	time.Sleep(15 * time.Second)

	// A second client of the shared pipeline restarts its timestamps.
	restart := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	_ = exec.CommandContext(ctx, ffprobe, "-v", "error", "-rtsp_transport", "tcp", "-i", url,
		"-show_entries", "packet=pts_time", "-of", "csv").Run()
	cancel()
	time.Sleep(12 * time.Second)
	var c camResp
	n.call("GET", "/api/v1/cameras/"+cam.ID, nil, &c)
	if !c.Status.Online || c.Status.BitrateKbps == 0 || c.Status.Recording != "recording" {
		t.Errorf("after the restart the camera shows online=%v at %d kbps, recording %q (%s)",
			c.Status.Online, c.Status.BitrateKbps, c.Status.Recording, c.Status.Reason)
	}
	if b := metricValue(t, n.base, `camcloud_ingest_timestamp_breaks_total{protocol="rtsp-pull"}`); b < 1 {
		t.Errorf("the restart was not counted: timestamp_breaks_total = %v", b)
	}
	end := time.Now()
	n.stop()

	rows := n.segments(cam.ID)
	if len(rows) == 0 {
		t.Fatal("nothing recorded")
	}
	if g := gaps(rows, gop+time.Second); len(g) > 0 {
		t.Errorf("recording gaps longer than one GOP plus 1 s: %v", g)
	}
	// What was recorded after the restart: the camera ran on for 12 s.
	var after time.Duration
	for _, r := range rows {
		s, e := r.Start, r.End
		if s.Before(restart) {
			s = restart
		}
		if e.After(end) {
			e = end
		}
		if e.After(s) {
			after += e.Sub(s)
		}
	}
	if want := end.Sub(restart) - gop - 2*time.Second; after < want {
		t.Errorf("recorded %s of the %s after the restart, want at least %s", after.Round(time.Millisecond),
			end.Sub(restart).Round(time.Millisecond), want.Round(time.Millisecond))
	}
	checkRecording(t, n, cam.ID, "h264")
}

// metricValue reads one series from the node's /metrics.
func metricValue(t *testing.T, base, series string) float64 {
	t.Helper()
	for _, line := range testenv.MetricLines(t, base, series+" ") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("%s is not on /metrics", series)
	return 0
}
