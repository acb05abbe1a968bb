package camserver_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// ffmpegPublish runs a real ffmpeg looping a sample into url until ctx ends.
func ffmpegPublish(ctx context.Context, t *testing.T, file, format, url string, extra ...string) {
	t.Helper()
	bin := testenv.Tool(t, "ffmpeg")
	args := []string{"-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1", "-i", testenv.RepoFile("testdata/" + file), "-c", "copy"}
	args = append(append(args, extra...), "-f", format, url)
	cmd := exec.CommandContext(ctx, bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t.Cleanup(func() {
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("ffmpeg -f %s said: %s", format, stderr.String())
		}
	})
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait() }()
}

// TestFFmpegPublishers: real ffmpeg publishing H.264 over RTSP (TCP and
// UDP) and RTMP, and H.265 over RTSP, is recorded and decodes. (ffmpeg's
// RTSP muxer cannot copy AAC out of MPEG-TS, "AAC with no global headers",
// so for RTSP the audio is re-encoded and the video copied.)
func TestFFmpegPublishers(t *testing.T) {
	t.Parallel()
	testenv.Tool(t, "ffprobe")
	n := startNode(t, t.TempDir(), "--rtsp-udp", freeUDPPair(t))
	cases := []struct {
		name, file, proto string
		extra             []string
		codecs            []string
	}{
		{"rtsp-tcp", "sample-h264.ts", "rtsp", []string{"-c:a", "aac", "-rtsp_transport", "tcp"}, []string{"h264", "aac"}},
		{"rtsp-udp", "sample-h264.ts", "rtsp", []string{"-c:a", "aac", "-rtsp_transport", "udp"}, []string{"h264", "aac"}},
		{"rtmp", "sample-h264.ts", "flv", nil, []string{"h264", "aac"}},
		{"rtsp-h265", "sample-h265.ts", "rtsp", []string{"-rtsp_transport", "tcp"}, []string{"hevc"}},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ids := map[string]string{}
	for _, c := range cases {
		cam := n.camera(c.name, nil)
		ids[c.name] = cam.ID
		url := cam.Ingest.RTSP
		if c.proto == "flv" {
			url = cam.Ingest.RTMP
		}
		ffmpegPublish(ctx, t, c.file, c.proto, url, c.extra...)
	}
	time.Sleep(16 * time.Second)
	cancel()
	n.stop()
	for _, c := range cases {
		total := checkRecording(t, n, ids[c.name], c.codecs...)
		if total < 10*time.Second {
			t.Errorf("%s: recorded %s of about 16 s", c.name, total)
		}
	}
}

// TestPulledCameraResumes: a pulled camera is leased and recorded, and
// recording resumes by itself when the camera goes away and comes back.
func TestPulledCameraResumes(t *testing.T) {
	t.Parallel()
	testenv.Tool(t, "ffprobe")
	smp := testenv.Sample(t, "sample-h264.ts")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ps, err := sim.ServePull(addr, 1, smp, log)
	if err != nil {
		t.Fatal(err)
	}
	n := startNode(t, t.TempDir(), "--pull-allow", testenv.LoopbackAllow)
	cam := n.camera("pulled", map[string]string{"type": "pull", "url": ps.URL(0)})
	testenv.Eventually(t, 20*time.Second, "pulled camera online", func() bool {
		var c camResp
		n.call("GET", "/api/v1/cameras/"+cam.ID, nil, &c)
		return c.Status.Online
	})
	time.Sleep(8 * time.Second)
	ps.Close()
	down := time.Now()
	time.Sleep(3 * time.Second)
	ps, err = sim.ServePull(addr, 1, smp, log)
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	up := time.Now()
	testenv.Eventually(t, 40*time.Second, "recording after the camera came back", func() bool {
		rows := n.segments(cam.ID)
		return len(rows) > 0 && rows[len(rows)-1].Start.After(up)
	})
	time.Sleep(8 * time.Second)
	n.stop()
	checkRecording(t, n, cam.ID, "h264")
	rows := n.segments(cam.ID)
	var before, after bool
	for _, r := range rows {
		before = before || r.End.Before(down.Add(time.Second))
		after = after || r.Start.After(up)
	}
	if !before || !after {
		t.Fatalf("want recordings before the outage and after it: %d rows", len(rows))
	}
}
