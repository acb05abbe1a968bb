package testenv

import (
	"bytes"
	"context"
	"io"
	"os/exec"
	"testing"
	"time"
)

// Geometry of ClockCamera's frames: ClockBits bits as white or black
// blocks of ClockBlockW x ClockBlockH pixels, ClockCols to a row, rows 0
// to 2 for the bits (bit i at row i/8, column i%8) and row 3 for the low 8
// bits again, inverted (a check that a frame was read whole).
const (
	ClockWidth  = 320
	ClockHeight = 240
	ClockCols   = 8
	ClockBlockW = ClockWidth / ClockCols
	ClockBlockH = ClockHeight / 4
	ClockBits   = 24
)

// ClockFrame draws the gray frame that shows ms (below 2^24).
func ClockFrame(ms int64) []byte {
	f := make([]byte, ClockWidth*ClockHeight)
	on := func(row, col int) bool {
		if row == 3 {
			return ms>>col&1 == 0
		}
		return ms>>(row*ClockCols+col)&1 == 1
	}
	for y := range ClockHeight {
		row := y / ClockBlockH
		for x := range ClockWidth {
			if on(row, x/ClockBlockW) {
				f[y*ClockWidth+x] = 235
			} else {
				f[y*ClockWidth+x] = 16
			}
		}
	}
	return f
}

// ClockCamera is a live camera whose every frame shows when it was made:
// this process draws a frame every 40 ms (25 fps) holding the milliseconds
// since epoch (ClockFrame), and ffmpeg (libx264, ultrafast, zerolatency,
// a key frame every second, as an IP camera encodes) publishes them to
// rtspURL over TCP. A viewer that reads the blocks of the frame it shows
// knows the frame's age: glass-to-glass latency, encoding included. It
// runs until ctx ends or the test does.
func ClockCamera(t testing.TB, ctx context.Context, ffmpeg, rtspURL string, epoch time.Time) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-loglevel", "error",
		"-f", "rawvideo", "-pix_fmt", "gray", "-s", "320x240", "-framerate", "25", "-i", "-",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-qp", "18", "-pix_fmt", "yuv420p",
		"-f", "rtsp", "-rtsp_transport", "tcp", rtspURL)
	in, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start ffmpeg: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer in.Close()
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := io.Copy(in, bytes.NewReader(ClockFrame(time.Since(epoch).Milliseconds()))); err != nil {
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = cmd.Wait()
		if t.Failed() && out.Len() > 0 {
			t.Logf("clock camera ffmpeg:\n%s", out.String())
		}
	})
}
