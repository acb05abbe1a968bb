package testenv

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// FFprobeFrameTimes writes data to a temp file and returns the
// presentation times of its video frames as ffprobe reads them, in
// order. It skips or fails the test when ffprobe is missing.
func FFprobeFrameTimes(t testing.TB, data []byte) []time.Duration {
	t.Helper()
	bin := Tool(t, "ffprobe")
	p := filepath.Join(t.TempDir(), "frames.mp4")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time", "-of", "json", p)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffprobe %s: %v: %s", p, err, errb.String())
	}
	var r struct {
		Packets []struct {
			PTS string `json:"pts_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("ffprobe output: %v: %.300s", err, out.String())
	}
	times := make([]time.Duration, 0, len(r.Packets))
	for _, pk := range r.Packets {
		if f, err := strconv.ParseFloat(pk.PTS, 64); err == nil {
			times = append(times, time.Duration(f*float64(time.Second)))
		}
	}
	slices.Sort(times)
	return times
}

// FrameRate measures frame times (in order): the fewest frames in any
// window of the given length that lies inside them, scaled to frames a
// second, and the largest hole between two frames.
func FrameRate(times []time.Duration, window time.Duration) (perSecond float64, hole time.Duration) {
	if len(times) < 2 {
		return 0, 0
	}
	fewest := len(times)
	j := 0
	for i, at := range times {
		if at+window > times[len(times)-1] {
			break
		}
		for j < len(times) && times[j] < at+window {
			j++
		}
		fewest = min(fewest, j-i)
	}
	for i := 1; i < len(times); i++ {
		hole = max(hole, times[i]-times[i-1])
	}
	return float64(fewest) * float64(time.Second) / float64(window), hole
}
