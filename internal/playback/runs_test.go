package playback

import (
	"bytes"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/store"
)

// row makes a segment of n 1 s fragments of 1000 bytes starting at start
// seconds after epoch, with a keyframe every other second.
func row(start, n int, init string) store.Segment {
	s := store.Segment{CameraID: "c", Start: epoch.Add(time.Duration(start) * time.Second), InitKey: init,
		Key: "cam/c/" + strings.Repeat("x", start+1) + ".m4s"}
	for i := range n {
		s.Fragments = append(s.Fragments, store.Fragment{Offset: int64(i) * 1000, Size: 1000,
			Start: time.Duration(i) * time.Second, Duration: time.Second, Key: i%2 == 0})
	}
	s.End, s.Size = s.Start.Add(time.Duration(n)*time.Second), int64(n)*1000
	return s
}

func sec(s float64) time.Time { return epoch.Add(time.Duration(s * float64(time.Second))) }

func TestKeyRuns(t *testing.T) {
	segs := []store.Segment{row(0, 10, "i1"), row(10, 10, "i1"), row(30, 10, "i2")}
	cases := []struct {
		name     string
		from, to float64
		starts   []float64 // run starts, seconds
		lastEnd  float64
	}{
		{"inside a GOP starts at its keyframe", 3.5, 7.2, []float64{2, 4, 6}, 8},
		{"on a keyframe starts there", 4, 6, []float64{4}, 6},
		{"across objects", 17, 23, []float64{16, 18}, 20},
		{"from in a gap starts after it", 22, 33, []float64{30, 32}, 33},
		{"to cuts the last run after its fragment", 30, 30.5, []float64{30}, 31},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			runs := keyRuns(segs, sec(c.from), sec(c.to))
			var starts []float64
			for _, r := range runs {
				starts = append(starts, r.start.Sub(epoch).Seconds())
				if !r.keyed {
					t.Errorf("run at %v does not start at a keyframe", r.start)
				}
				if r.size != int64(len(r.frags))*1000 || r.off != r.frags[0].Offset {
					t.Errorf("run at %v: %d bytes at %d for %d fragments", r.start, r.size, r.off, len(r.frags))
				}
			}
			if len(starts) != len(c.starts) {
				t.Fatalf("runs start at %v, want %v", starts, c.starts)
			}
			for i := range starts {
				if starts[i] != c.starts[i] {
					t.Fatalf("runs start at %v, want %v", starts, c.starts)
				}
			}
			if got := runs[len(runs)-1].end().Sub(epoch).Seconds(); got != c.lastEnd {
				t.Errorf("last run ends at %v, want %v", got, c.lastEnd)
			}
		})
	}
	if runs := keyRuns(segs, sec(20), sec(30)); len(runs) != 0 {
		t.Errorf("%d runs in the hole", len(runs))
	}
}

func TestMergeRuns(t *testing.T) {
	segs := []store.Segment{row(0, 10, "i1"), row(10, 3, "i1")}
	runs := mergeRuns(keyRuns(segs, sec(1), sec(13)), 4*time.Second)
	var got []string
	for _, r := range runs {
		got = append(got, r.start.Sub(epoch).String()+"+"+r.dur.String())
		if r.size != int64(len(r.frags))*1000 {
			t.Errorf("run %v: %d bytes for %d fragments", r.start, r.size, len(r.frags))
		}
	}
	// Runs never cross objects; the first keeps its keyframe before from.
	want := "0s+4s 4s+4s 8s+2s 10s+3s"
	if strings.Join(got, " ") != want {
		t.Errorf("merged runs %v, want %s", got, want)
	}
}

func TestWritePlaylist(t *testing.T) {
	segs := []store.Segment{row(0, 10, "i1"), row(10, 10, "i1"), row(30, 10, "i2"), row(40, 4, "i2")}
	runs := mergeRuns(keyRuns(segs, sec(5), sec(43)), 4*time.Second)
	var buf bytes.Buffer
	if err := writePlaylist(&buf, runs, func(k string) string { return "u/" + k }); err != nil {
		t.Fatal(err)
	}
	pl := buf.String()
	for _, want := range []string{
		"#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n",
		"#EXT-X-MAP:URI=\"u/i1\"\n#EXT-X-PROGRAM-DATE-TIME:2026-03-01T12:00:04.000Z\n#EXTINF:4.000,\n#EXT-X-BYTERANGE:4000@4000\nu/cam/c/x.m4s\n",
		"#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"u/i2\"\n#EXT-X-PROGRAM-DATE-TIME:2026-03-01T12:00:30.000Z\n",
		"#EXT-X-ENDLIST\n",
	} {
		if !strings.Contains(pl, want) {
			t.Errorf("playlist lacks %q:\n%s", want, pl)
		}
	}
	// Contiguous objects with the same init need neither tag.
	if n := strings.Count(pl, "#EXT-X-DISCONTINUITY"); n != 1 {
		t.Errorf("%d discontinuities, want 1:\n%s", n, pl)
	}
	if n := strings.Count(pl, "#EXT-X-MAP"); n != 2 {
		t.Errorf("%d maps, want 2", n)
	}
	// Not starting at a keyframe: not independent.
	segs[0].Fragments[4].Key = false
	segs[0].Fragments[0].Key = false
	buf.Reset()
	_ = writePlaylist(&buf, keyRuns(segs[:1], sec(0), sec(3)), func(k string) string { return k })
	if strings.Contains(buf.String(), "INDEPENDENT") {
		t.Errorf("independent segments claimed without keyframes:\n%s", buf.String())
	}
}

func TestAllowedKey(t *testing.T) {
	c := claims("cam1", sec(100), sec(200))
	for key, ok := range map[string]bool{
		"cam/cam1/init/abc.mp4":                               true,
		"cam/cam1/2026/03/01/" + us(sec(150)) + ".m4s":        true,
		"cam/cam1/2026/03/01/" + us(sec(90)) + ".m4s":         true, // may still overlap from
		"cam/cam1/2026/03/01/" + us(sec(200)) + ".m4s":        false,
		"cam/cam1/2026/03/01/" + us(sec(100-4*3600)) + ".m4s": false,
		"cam/cam2/init/abc.mp4":                               false,
		"cam/cam1/../cam2/x.mp4":                              false,
		"cam/cam1//x.mp4":                                     false,
		"cam/cam10/init/abc.mp4":                              false,
		"other/cam/cam1/x.mp4":                                false,
		"cam/cam1/./init/x.mp4":                               false,
		"cam/cam1/init/x\x00.mp4":                             false,
	} {
		if err := allowedKey(c, key); (err == nil) != ok {
			t.Errorf("allowedKey(%q) = %v, want allowed %v", key, err, ok)
		}
	}
}

func claims(cam string, from, to time.Time) auth.MediaClaims {
	return auth.MediaClaims{CameraID: cam, Perm: "playback", From: from, To: to, Expires: to}
}

func us(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }
