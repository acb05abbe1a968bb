package ingest

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/sample"
)

// TestParamsChangeRestartsStream announces stale parameters (as some
// cameras do in their SDP): the stream restarts with the in-band ones at the
// first key frame, and units are rebased to start at zero.
func TestParamsChangeRestartsStream(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	smp, err := sample.Load(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-h264.ts"))
	if err != nil {
		t.Fatal(err)
	}
	real := smp.Tracks[0].Codec.(*codecs.H264)
	h := hub.New()
	stale := &codecs.H264{SPS: []byte{0x67, 0x4d, 0x00, 0x1f}, PPS: []byte{0x68, 0xee}}
	p := newPublication(pubConfig{hub: h, events: nopEvents{}, log: slog.New(slog.DiscardHandler),
		cameraID: "c", dropSession: func() {}}, []trackSpec{{codec: stale, clockRate: 90000, name: "H264"}})
	p.start()
	s1 := h.Get("c")
	if s1 == nil || !bytes.Equal(s1.Tracks[0].Codec.(*codecs.H264).SPS, stale.SPS) {
		t.Fatal("not published at start with the announced parameters")
	}
	const offset = 1_000_000
	var video []*hub.Unit
	for _, u := range smp.Units {
		if u.Track == 1 {
			video = append(video, u)
		}
	}
	if video[0].DTS != 0 || !video[0].Key {
		t.Fatal("sample does not start with a key frame at 0")
	}
	for _, u := range video[:10] {
		p.writeVideo(u.PTS+offset, 0, false, u.Payload, time.Now())
	}
	select {
	case <-s1.Done():
	default:
		t.Fatal("stale stream not replaced")
	}
	s2 := h.Get("c")
	got := s2.Tracks[0].Codec.(*codecs.H264)
	if !bytes.Equal(got.SPS, real.SPS) || !bytes.Equal(got.PPS, real.PPS) {
		t.Fatal("restarted stream does not carry the in-band parameters")
	}
	// The stream's first reader also gets the units written since the
	// restart (the hub keeps them for it); the newest one is checked.
	r, _ := s2.NewReader(16)
	u := video[10]
	p.writeVideo(u.PTS+offset, 0, false, u.Payload, time.Now())
	var last *hub.Unit
	for len(r.C()) > 0 {
		last = <-r.C()
	}
	if last == nil {
		t.Fatal("unit not written")
	}
	if last.DTS != u.DTS || last.PTS != u.PTS {
		t.Fatalf("unit not rebased: PTS %d DTS %d, want %d %d", last.PTS, last.DTS, u.PTS, u.DTS)
	}
	p.close()
	if h.Get("c") != nil {
		t.Fatal("stream still published after close")
	}
}

func TestTimeConversions(t *testing.T) {
	for _, c := range []struct {
		ticks int64
		clock int
	}{{0, 90000}, {90000, 90000}, {1 << 40, 90000}, {48000 * 3600 * 24 * 30, 48000}, {12345, 8000}, {-90000, 90000}, {-7, 48000}} {
		d := ticksToDur(c.ticks, c.clock)
		if back := durToTicks(d, c.clock); back != c.ticks {
			t.Errorf("%d@%d -> %v -> %d", c.ticks, c.clock, d, back)
		}
	}
}

// TestSourceClockBreakIsSpliced restarts the source's clock mid-GOP (as a
// shared gst-rtsp-server factory does when a second client connects) and
// leaps it an hour ahead (a camera's clock reset): the stream resumes at
// the next key frame, with timestamps that run on from where they were, and
// the break is counted once; nothing waits for the old clock to catch up.
func TestSourceClockBreakIsSpliced(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	smp, err := sample.Load(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-h264.ts"))
	if err != nil {
		t.Fatal(err)
	}
	var video []*hub.Unit
	var keys []int
	for _, u := range smp.Units {
		if u.Track == 1 {
			if u.Key {
				keys = append(keys, len(video))
			}
			video = append(video, u)
		}
	}
	if len(keys) < 3 {
		t.Fatalf("sample has %d key frames, need 3", len(keys))
	}
	breakAt := keys[1] + 3 // inside the second GOP
	cases := []struct {
		name   string
		before int64 // added to the source's timestamps before the break
		after  int64 // and after it
	}{
		{"restart", 6_657_390, 990},
		{"leap ahead", 1_000_000, 1_000_000 + 3600*90000},
		{"wrap to zero", 1<<32 - 90000, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := hub.New()
			breaks := 0
			p := newPublication(pubConfig{hub: h, events: nopEvents{}, log: slog.New(slog.DiscardHandler),
				cameraID: "c", dropSession: func() {}, discontinuity: func() { breaks++ }},
				[]trackSpec{{codec: smp.Tracks[0].Codec, clockRate: 90000, name: "H264"}})
			p.start()
			r, _ := h.Get("c").NewReader(len(video) + 1)
			for i, u := range video {
				off := tc.before
				if i >= breakAt {
					off = tc.after - video[breakAt].PTS // the new clock starts near zero
				}
				p.writeVideo(u.PTS+off, 0, false, u.Payload, time.Now())
			}
			var got []*hub.Unit
			for len(r.C()) > 0 {
				got = append(got, <-r.C())
			}
			// Everything but the frames from the break to the next key frame.
			want := len(video) - (keys[2] - breakAt)
			if len(got) != want {
				t.Fatalf("got %d units, want %d (the break loses only the rest of its GOP)", len(got), want)
			}
			if breaks != 1 {
				t.Fatalf("counted %d breaks, want 1", breaks)
			}
			for i := 1; i < len(got); i++ {
				if got[i].DTS <= got[i-1].DTS {
					t.Fatalf("unit %d: DTS %d after %d: not monotonic", i, got[i].DTS, got[i-1].DTS)
				}
				if step := got[i].DTS - got[i-1].DTS; step > 90000 {
					t.Fatalf("unit %d: DTS leaps %d ticks", i, step)
				}
			}
			if first := got[breakAt]; !first.Key {
				t.Fatal("the stream did not resume at a key frame")
			}
		})
	}
}

// TestRunsOfEqualDecodeTimesKeepEveryFrame: under load flvmux gives runs of
// three and more video frames one (millisecond) decode time. Every frame of
// a run is kept, each one tick after the last, and a frame whose decode
// time really goes back is still dropped as late.
func TestRunsOfEqualDecodeTimesKeepEveryFrame(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	smp, err := sample.Load(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-h264.ts"))
	if err != nil {
		t.Fatal(err)
	}
	var video []*hub.Unit
	for _, u := range smp.Units {
		if u.Track == 1 {
			video = append(video, u)
		}
	}
	h := hub.New()
	p := newPublication(pubConfig{hub: h, events: nopEvents{}, log: slog.New(slog.DiscardHandler),
		cameraID: "c", dropSession: func() {}}, []trackSpec{{codec: smp.Tracks[0].Codec, clockRate: 90000, name: "H264"}})
	p.start()
	r, _ := h.Get("c").NewReader(len(video) + 1)
	// DTS of the first 12 frames (in 90 kHz ticks): runs of 1, 3, 4 and 2
	// equal times, then one that steps back (late) and one after it.
	dts := []int64{0, 3600, 3600, 3600, 7200, 7200, 7200, 7200, 10800, 10800, 9000, 14400}
	for i, d := range dts {
		p.writeVideo(d+1800, d, true, video[i].Payload, time.Now())
	}
	var got []*hub.Unit
	for len(r.C()) > 0 {
		got = append(got, <-r.C())
	}
	if len(got) != len(dts)-1 {
		t.Fatalf("got %d frames, want %d (all but the late one)", len(got), len(dts)-1)
	}
	for i := 1; i < len(got); i++ {
		if got[i].DTS <= got[i-1].DTS {
			t.Fatalf("frame %d: DTS %d after %d: not monotonic", i, got[i].DTS, got[i-1].DTS)
		}
		if got[i].PTS < got[i].DTS {
			t.Fatalf("frame %d: PTS %d before DTS %d", i, got[i].PTS, got[i].DTS)
		}
	}
	if last := got[len(got)-1].DTS; last != 14400 {
		t.Fatalf("last frame at DTS %d, want 14400", last)
	}
	p.close()
}

// TestAudioBeforeTheFirstKeyFrame: audio frames that arrive before the
// first video key frame (an RTMP muxer sends the key frame's instant's
// audio first; a loaded video encoder starts late) are kept when they are
// timed at or after the key frame, and only those timed before it go.
func TestAudioBeforeTheFirstKeyFrame(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	smp, err := sample.Load(filepath.Join(filepath.Dir(file), "..", "..", "testdata", "sample-h264.ts"))
	if err != nil {
		t.Fatal(err)
	}
	var key *hub.Unit
	for _, u := range smp.Units {
		if u.Track == 1 && u.Key {
			key = u
			break
		}
	}
	h := hub.New()
	p := newPublication(pubConfig{hub: h, events: nopEvents{}, log: slog.New(slog.DiscardHandler),
		cameraID: "c", dropSession: func() {}}, []trackSpec{
		{codec: smp.Tracks[0].Codec, clockRate: 90000, name: "H264"},
		{codec: &codecs.MPEG4Audio{}, clockRate: 48000, name: "AAC"},
	})
	p.start()
	r, _ := h.Get("c").NewReader(16)
	// The key frame is at media time 1 s; audio frames (1024 samples at
	// 48 kHz) from 0.957 s to 1.021 s arrive before it.
	for _, a := range []int64{45952, 46976, 48000, 49024} {
		p.writeAudio(1, a, []byte{0x21, 0x10}, time.Now())
	}
	p.writeVideo(90000, 90000, true, key.Payload, time.Now())
	var audio []int64
	for len(r.C()) > 0 {
		if u := <-r.C(); u.Track == 2 {
			audio = append(audio, u.DTS)
		}
	}
	if len(audio) != 2 || audio[0] != 0 || audio[1] != 1024 {
		t.Fatalf("audio written at %v, want [0 1024] (the two frames timed at or after the key frame)", audio)
	}
	p.close()
}
