package ingest_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestFFmpegPublish publishes the sample with a real ffmpeg over RTSP/TCP,
// RTSP/UDP and RTMP, with the exact ingest URLs.
func TestFFmpegPublish(t *testing.T) {
	t.Parallel()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	_, file, _, _ := runtime.Caller(0)
	in := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-h264.ts")
	cases := []struct {
		name   string
		proto  string
		tracks int
		// fast and library are the cameras counted on each video path:
		// RTSP over TCP takes the fast one, UDP the library's.
		fast, library float64
		args          func(rtsp, rtmp string) []string
	}{
		// ffmpeg's RTSP muxer needs the AAC config at header time, which
		// "-c copy" from MPEG-TS does not give it ("AAC with no global
		// headers"): the audio is re-encoded, the video is copied.
		{"rtsp-tcp", "rtsp", 2, 1, 0, func(u, _ string) []string {
			return []string{"-c:a", "aac", "-f", "rtsp", "-rtsp_transport", "tcp", u}
		}},
		{"rtsp-udp", "rtsp", 2, 0, 1, func(u, _ string) []string {
			return []string{"-c:a", "aac", "-f", "rtsp", "-rtsp_transport", "udp", u}
		}},
		{"rtsp-tcp-video-copy", "rtsp", 1, 1, 0, func(u, _ string) []string {
			return []string{"-an", "-f", "rtsp", "-rtsp_transport", "tcp", u}
		}},
		{"rtmp", "rtmp", 2, 0, 0, func(_, u string) []string { return []string{"-f", "flv", u} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			e := startServer(t, func(cfg *ingest.Config) {
				if c.name == "rtsp-udp" {
					cfg.UDPRTPAddr, cfg.UDPRTCPAddr = freeUDPPair(t)
				}
			})
			rtspURL, rtmpURL := e.urls(camID, secret)
			ctx, cancel := context.WithCancel(context.Background())
			args := append([]string{"-hide_banner", "-loglevel", "error", "-re", "-stream_loop", "-1",
				"-i", in, "-c", "copy"}, c.args(rtspURL, rtmpURL)...)
			cmd := exec.CommandContext(ctx, ffmpeg, args...)
			var out strings.Builder
			var mu sync.Mutex
			cmd.Stderr = &lockedWriter{w: &out, mu: &mu}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer func() {
				cancel()
				cmd.Wait()
			}()
			s := waitStreamOr(t, e.hub, camID, 15*time.Second, func() string {
				mu.Lock()
				defer mu.Unlock()
				return "ffmpeg: " + out.String()
			})
			if _, ok := s.Tracks[0].Codec.(*codecs.H264); !ok {
				t.Fatalf("video codec %T", s.Tracks[0].Codec)
			}
			if len(s.Tracks) != c.tracks {
				t.Fatalf("want %d tracks, got %d", c.tracks, len(s.Tracks))
			}
			units := readUnits(t, s, 100, 15*time.Second)
			video, audio, keys := checkUnits(t, s, units)
			if video < 25 || (c.tracks == 2 && audio < 25) || keys < 1 {
				mu.Lock()
				t.Fatalf("video=%d audio=%d keys=%d; ffmpeg: %s", video, audio, keys, out.String())
			}
			if info := e.ev.waitInfo(camID, func(i ingest.StreamInfo) bool { return i.Protocol == c.proto }); info.Protocol != c.proto {
				t.Fatalf("protocol %q", info.Protocol)
			}
			waitVideoCameras(t, e.reg, "rtsp", c.fast, c.library)
		})
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	w  *strings.Builder
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() > 1<<16 {
		return len(p), nil
	}
	return l.w.Write(p)
}
