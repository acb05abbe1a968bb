package sample

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/hub"
)

func testdata(name string) string { return filepath.Join("..", "..", "testdata", name) }

func TestLoad(t *testing.T) {
	cases := []struct {
		file      string
		duration  time.Duration
		video     string
		audio     bool
		keyframes int
	}{
		{"sample-h264.ts", 10 * time.Second, "h264", true, 5},
		{"sample-h265.ts", 6 * time.Second, "h265", false, 3},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			s, err := Load(testdata(c.file))
			if err != nil {
				t.Fatal(err)
			}
			if d := s.Duration - c.duration; d < -50*time.Millisecond || d > 50*time.Millisecond {
				t.Errorf("duration %v, want about %v", s.Duration, c.duration)
			}
			wantTracks := 1
			if c.audio {
				wantTracks = 2
			}
			if len(s.Tracks) != wantTracks {
				t.Fatalf("%d tracks, want %d", len(s.Tracks), wantTracks)
			}
			v := s.Tracks[0]
			if v.ID != 1 || v.ClockRate != 90000 || !v.IsVideo() {
				t.Fatalf("video track %+v", v)
			}
			switch c.video {
			case "h264":
				cd, ok := v.Codec.(*codecs.H264)
				if !ok || len(cd.SPS) == 0 || len(cd.PPS) == 0 {
					t.Fatalf("codec %#v", v.Codec)
				}
			case "h265":
				cd, ok := v.Codec.(*codecs.H265)
				if !ok || len(cd.VPS) == 0 || len(cd.SPS) == 0 || len(cd.PPS) == 0 {
					t.Fatalf("codec %#v", v.Codec)
				}
			}
			if c.audio {
				a := s.Tracks[1]
				cd, ok := a.Codec.(*codecs.MPEG4Audio)
				if !ok || a.ClockRate != 48000 || cd.Config.SampleRate != 48000 || a.IsVideo() {
					t.Fatalf("audio track %+v %#v", a, a.Codec)
				}
			}
			frames, keys, audio := 0, 0, 0
			last := map[int]int64{}
			for i, u := range s.Units {
				if i == 0 && (u.Track != 1 || !u.Key) {
					t.Errorf("first unit %+v is not a video keyframe", u)
				}
				if p, ok := last[u.Track]; ok && u.DTS <= p {
					t.Fatalf("track %d DTS %d after %d", u.Track, u.DTS, p)
				}
				last[u.Track] = u.DTS
				if len(u.Payload) == 0 || len(u.Payload[0]) == 0 {
					t.Fatalf("empty payload in %+v", u)
				}
				if u.Track == 1 {
					frames++
					if u.Key {
						keys++
					}
				} else {
					audio++
				}
			}
			if want := int(c.duration.Seconds() * 25); frames != want {
				t.Errorf("%d video frames, want %d", frames, want)
			}
			if keys != c.keyframes {
				t.Errorf("%d keyframes, want %d", keys, c.keyframes)
			}
			if c.audio && (audio < 460 || audio > 470) {
				t.Errorf("%d AAC frames, want about 469", audio)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.ts")
	if err := os.WriteFile(garbage, []byte("this is not an mpeg-ts file at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, "missing.ts"), garbage} {
		if _, err := Load(p); err == nil {
			t.Errorf("Load(%s) succeeded", p)
		}
	}
}

func TestLoopMonotonicFresh(t *testing.T) {
	s, err := Load(testdata("sample-h264.ts"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := s.Loop(0), s.Loop(1)
	if a[0] == b[0] || a[0] == s.Units[0] {
		t.Fatal("Loop reuses unit values")
	}
	last := map[int]int64{}
	for _, u := range append(a, b...) {
		if p, ok := last[u.Track]; ok && u.DTS <= p {
			t.Fatalf("track %d DTS %d after %d across loops", u.Track, u.DTS, p)
		}
		last[u.Track] = u.DTS
	}
	if got, want := b[0].DTS-a[0].DTS, int64(s.Duration.Seconds()*90000); got != want {
		t.Errorf("loop shift %d, want %d", got, want)
	}
}

func TestPlay(t *testing.T) {
	s, err := Load(testdata("sample-h265.ts"))
	if err != nil {
		t.Fatal(err)
	}
	// Shrink the sample to a few frames so that two loops take little time.
	short := &Sample{Tracks: s.Tracks, Units: s.Units[:5], Duration: 200 * time.Millisecond}
	var got []*hub.Unit
	stop := errors.New("stop")
	start := time.Now()
	err = short.Play(context.Background(), func(u *hub.Unit) error {
		got = append(got, u)
		if len(got) == 8 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Fatalf("Play returned %v, want fn's error", err)
	}
	if got[5] == got[0] || got[5].DTS != got[0].DTS+18000 {
		t.Errorf("second loop unit %+v, first %+v", got[5], got[0])
	}
	for i, u := range got {
		if u.NTP.Before(start) {
			t.Errorf("unit %d NTP %v before start", i, u.NTP)
		}
		if i > 0 && u.NTP.Before(got[i-1].NTP) {
			t.Errorf("unit %d NTP goes back", i)
		}
	}
	// Pacing: the 6th unit is due 200 ms after the first.
	if d := got[5].NTP.Sub(got[0].NTP); d < 190*time.Millisecond {
		t.Errorf("second loop started %v after the first, want >= 200ms", d)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := short.Play(ctx, func(*hub.Unit) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Play with a cancelled context returned %v", err)
	}
}

// TestParseEmbedded: the sample embedded in the binary parses like the file.
func TestParseEmbedded(t *testing.T) {
	s, err := Parse(camcloud.SampleH264)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Tracks) != 2 || s.Duration < 9*time.Second || len(s.Units) == 0 || !s.Units[0].Key {
		t.Fatalf("embedded sample: %d tracks, %s, %d units", len(s.Tracks), s.Duration, len(s.Units))
	}
	if _, err := Parse([]byte("not a transport stream")); err == nil {
		t.Fatal("garbage parsed")
	}
}
