package testenv

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Probe is what ffprobe says of a media file.
type Probe struct {
	// Duration is the media's length: ffprobe's end minus its start time
	// (fragments of a longer recording start later than 0).
	Duration time.Duration
	// Start is the first timestamp.
	Start  time.Duration
	Codecs []string // codec_name of each stream, e.g. "h264", "aac"
	Frames int      // decoded video frames (when counted)
	// AudioFrames is the number of decoded audio frames.
	AudioFrames int
}

// FFprobe writes data to a temp file and runs ffprobe on it, decoding every
// video frame (-count_frames), so a broken file fails. It skips or fails the
// test when ffprobe is missing.
func FFprobe(t testing.TB, data []byte) Probe {
	t.Helper()
	bin := Tool(t, "ffprobe")
	p := filepath.Join(t.TempDir(), "probe.mp4")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return FFprobeURL(t, bin, p)
}

// FFprobeURL runs ffprobe on a file path or URL.
func FFprobeURL(t testing.TB, bin, target string) Probe {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command(bin, "-v", "error", "-count_frames", "-show_entries",
		"format=duration,start_time:stream=codec_name,codec_type,nb_read_frames", "-of", "json", target)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("ffprobe %s: %v: %s", target, err, errb.String())
	}
	var r struct {
		Format struct {
			Duration string `json:"duration"`
			Start    string `json:"start_time"`
		} `json:"format"`
		Streams []struct {
			CodecName string `json:"codec_name"`
			CodecType string `json:"codec_type"`
			Frames    string `json:"nb_read_frames"`
		} `json:"streams"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("ffprobe output: %v: %s", err, out.String())
	}
	var p Probe
	if f, err := strconv.ParseFloat(r.Format.Start, 64); err == nil {
		p.Start = time.Duration(f * float64(time.Second))
	}
	if f, err := strconv.ParseFloat(r.Format.Duration, 64); err == nil {
		p.Duration = time.Duration(f*float64(time.Second)) - p.Start
	}
	for _, s := range r.Streams {
		p.Codecs = append(p.Codecs, s.CodecName)
		n, _ := strconv.Atoi(s.Frames)
		switch s.CodecType {
		case "video":
			p.Frames += n
		case "audio":
			p.AudioFrames += n
		}
	}
	return p
}
