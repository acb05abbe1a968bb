package playback_test

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/record"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestSeekPointsAreKeyframes records ffmpeg-made media with a keyframe
// every 1, 2 and 4 s (25 fps, no B-frames, AAC) through the real recorder
// at the default fragment duration (0.9 s), then checks against the known
// source times, as ffprobe reads them: an image is exactly the keyframe at
// or before `at`; a clip's first frame is the keyframe at or before `from`
// and its last the last frame presented before `to`, with the audio ending
// there too; every HLS VOD segment starts at a keyframe and lasts at most
// two GOPs plus the 4 s target, and ffmpeg plays the playlist whole.
func TestSeekPointsAreKeyframes(t *testing.T) {
	const (
		fps   = 25
		frame = time.Second / fps
		loop  = 24 * time.Second // one pass of the media
	)
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	for _, gopFrames := range []int{25, 50, 100} {
		gop := time.Duration(gopFrames) * frame
		t.Run(fmt.Sprintf("gop=%v", gop), func(t *testing.T) {
			smp, err := sample.Load(testenv.GOPMedia(t, fps, gopFrames, int(loop/gop)))
			if err != nil {
				t.Fatal(err)
			}
			e := start(t, newConf(t))
			w := e.world()
			recordSample(t, e.zone, w.camA, smp, record.Config{SegmentDuration: 10 * time.Second, FragmentDuration: 900 * time.Millisecond},
				session{at: epoch, loops: 2})
			keyAt := func(d time.Duration) time.Duration { return d / gop * gop }

			for _, at := range []time.Duration{0, ms(7300), 8 * time.Second, ms(15980), loop, ms(33100), ms(47900)} {
				res := e.must(e.do("GET", "/api/v1/cameras/"+w.camA+"/image?at="+ts(at), w.tok["viewer"], nil), 200)
				got, err := time.Parse(time.RFC3339Nano, res.Header.Get("X-Camcloud-Image-Time"))
				if err != nil {
					t.Fatal(err)
				}
				if want := epoch.Add(keyAt(at)); !got.Equal(want) {
					t.Errorf("image at %v is the frame of %v, want the keyframe of %v", at, got.Sub(epoch), want.Sub(epoch))
				}
			}

			for _, c := range []struct{ from, to time.Duration }{
				{ms(7300), ms(13900)}, {8 * time.Second, ms(8500)}, {ms(11900), ms(20040)}, {ms(23500), ms(30500)}, {ms(2100), ms(45700)},
			} {
				path := fmt.Sprintf("/api/v1/cameras/%s/clip.mp4?from=%s&to=%s", w.camA, ts(c.from), ts(c.to))
				res := e.must(e.do("GET", path, w.tok["operator"], nil), 200)
				first := keyAt(c.from)
				last := (c.to+frame-1)/frame*frame - frame // the last frame presented before to
				if got, _ := time.Parse(time.RFC3339Nano, res.Header.Get("X-Camcloud-Clip-Start")); !got.Equal(epoch.Add(first)) {
					t.Errorf("clip %v..%v: X-Camcloud-Clip-Start %v, want %v", c.from, c.to, got.Sub(epoch), first)
				}
				v, audioEnd := probeTimes(t, writeTemp(t, res.Raw))
				wantN := int((last-first)/frame) + 1
				if len(v) != wantN || v[0].pts != 0 || !v[0].key || v[len(v)-1].pts != last-first {
					t.Errorf("clip %v..%v: %d frames from %v (key %v) to %v, want %d from 0 (the keyframe of %v) to %v (the frame of %v)",
						c.from, c.to, len(v), v[0].pts, v[0].key, v[len(v)-1].pts, wantN, first, last-first, last)
				}
				for i := 1; i < len(v); i++ {
					if v[i].pts-v[i-1].pts != frame {
						t.Errorf("clip %v..%v: frame %d at %v follows %v", c.from, c.to, i, v[i].pts, v[i-1].pts)
						break
					}
				}
				if end := last - first + frame; audioEnd < end-50*time.Millisecond || audioEnd > end+25*time.Millisecond {
					t.Errorf("clip %v..%v: audio ends at %v, video at %v", c.from, c.to, audioEnd, end)
				}
			}

			rec := recorded{env: e, w: w}
			pl := rec.playbackURL(w.tok["viewer"], 0, 2*loop)
			lines := rec.playlistLines(pl)
			pdt := programDates(t, lines)
			var durs []time.Duration
			for _, l := range lines {
				if v, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
					f, _ := strconv.ParseFloat(strings.TrimSuffix(v, ","), 64)
					durs = append(durs, time.Duration(f*float64(time.Second)).Round(time.Millisecond))
				}
			}
			if len(durs) != len(pdt) || len(durs) < int(2*loop/(2*gop+4*time.Second)) {
				t.Fatalf("%d segments, %d program dates", len(durs), len(pdt))
			}
			var total time.Duration
			for i, d := range durs {
				if at := pdt[i].Sub(epoch); at != keyAt(at) {
					t.Errorf("segment %d starts at %v, not a keyframe", i, at)
				}
				if d > 2*gop+4*time.Second {
					t.Errorf("segment %d lasts %v, more than two GOPs and the 4 s target", i, d)
				}
				total += d
			}
			if total != 2*loop {
				t.Errorf("segments last %v in all, want %v", total, 2*loop)
			}
			if n, want := ffmpegFrames(t, testenv.Tool(t, "ffmpeg"), pl), int(2*loop/frame); n != want {
				t.Errorf("ffmpeg decoded %d frames of the playlist, want %d", n, want)
			}
		})
	}
}

// frameTime is one decoded video frame as ffprobe reports it.
type frameTime struct {
	pts time.Duration
	key bool
}

// probeTimes returns the video frames of a file with ffprobe (decoded, in
// presentation order) and where its audio ends.
func probeTimes(t *testing.T, file string) (video []frameTime, audioEnd time.Duration) {
	t.Helper()
	ffprobe := testenv.Tool(t, "ffprobe")
	run := func(args ...string) [][]string {
		out, err := exec.Command(ffprobe, append([]string{"-v", "error", "-of", "csv=p=0"}, append(args, file)...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ffprobe: %v\n%s", err, out)
		}
		var rows [][]string
		for _, l := range strings.Split(string(out), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				rows = append(rows, strings.Split(l, ","))
			}
		}
		return rows
	}
	sec := func(s string) time.Duration {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("ffprobe time %q of %s", s, file)
		}
		return time.Duration(f * float64(time.Second)).Round(time.Millisecond)
	}
	for _, r := range run("-select_streams", "v:0", "-show_entries", "frame=key_frame,pts_time") {
		if len(r) < 2 {
			t.Fatalf("ffprobe frame %q", r)
		}
		video = append(video, frameTime{pts: sec(r[1]), key: r[0] == "1"})
	}
	for _, r := range run("-select_streams", "a:0", "-show_entries", "packet=pts_time,duration_time") {
		if len(r) < 2 {
			t.Fatalf("ffprobe packet %q", r)
		}
		if r[1] != "N/A" { // ffprobe 5 gives the first packet no duration
			audioEnd = max(audioEnd, sec(r[0])+sec(r[1]))
		}
	}
	if len(video) == 0 {
		t.Fatal("ffprobe found no video frames")
	}
	return video, audioEnd
}
