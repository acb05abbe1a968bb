package testenv

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// GOPMedia makes an MPEG-TS file of gops GOPs with ffmpeg: H.264 test
// pattern at fps frames per second with a keyframe exactly every gop frames
// and no B-frames (as most cameras send), and AAC audio. Noise keeps every
// frame several kilobytes, several RTP packets when pushed, like a camera's
// at its usual bitrates. Tests of seeking use it to know where every
// keyframe is. It skips or fails the test when ffmpeg is missing.
func GOPMedia(t testing.TB, fps, gop, gops int) string {
	t.Helper()
	bin := Tool(t, "ffmpeg")
	out := filepath.Join(t.TempDir(), "gop"+strconv.Itoa(gop)+".ts")
	g := strconv.Itoa(gop)
	cmd := exec.Command(bin, "-hide_banner", "-v", "error", "-nostdin",
		"-f", "lavfi", "-i", "testsrc=size=320x240:rate="+strconv.Itoa(fps),
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-frames:v", strconv.Itoa(gop*gops), "-t", strconv.FormatFloat(float64(gop*gops)/float64(fps), 'f', 3, 64),
		"-vf", "noise=alls=12:allf=t", "-pix_fmt", "yuv420p",
		"-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-g", g, "-keyint_min", g, "-sc_threshold", "0", "-bf", "0",
		"-c:a", "aac", "-b:a", "64k", "-f", "mpegts", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg making %d-frame GOP media: %v: %s", gop, err, b)
	}
	return out
}
