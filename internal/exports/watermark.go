package exports

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// watermark re-encodes in into out with the wall-clock time of each frame
// (from first, the time of the clip's first frame) and the exporter
// burned in at the bottom left, with ffmpeg's drawtext filter (libx264,
// audio copied).
func (s *Service) watermark(ctx context.Context, in, out string, first time.Time, exporter string) error {
	text := "exported by " + exporter
	vf := fmt.Sprintf(`drawtext=text='%%{pts\:gmtime\:%d} UTC  %s':x=10:y=h-th-10:fontsize=h/24:fontcolor=white:box=1:boxcolor=black@0.5`,
		first.Unix(), drawtextSafe(text))
	cmd := exec.CommandContext(ctx, s.c.FFmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", in,
		"-vf", vf, "-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-c:a", "copy", "-movflags", "+faststart", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 400 {
			msg = msg[len(msg)-400:]
		}
		return fmt.Errorf("watermark: ffmpeg: %v: %s", err, msg)
	}
	return nil
}

// drawtextSafe keeps the characters of s that need no escaping in a
// drawtext text (letters, digits, space, @ . _ + -); others become '?'.
func drawtextSafe(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune(" @._+-", c):
			b.WriteRune(c)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
