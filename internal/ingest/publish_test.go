package ingest_test

import (
	"bytes"
	"context"
	"math"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestPublishReachesHub pushes the H.264+AAC sample with the gortsplib and
// gortmplib clients and checks what a hub reader gets.
func TestPublishReachesHub(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	want := smp.Tracks[0].Codec.(*codecs.H264)
	for _, proto := range []string{"rtsp", "rtmp"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			e := startServer(t, nil)
			rtspURL, rtmpURL := e.urls(camID, secret)
			u := rtspURL
			if proto == "rtmp" {
				u = rtmpURL
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- sim.PublishOnce(ctx, u, smp, nil) }()

			s := waitStream(t, e.hub, camID, 10*time.Second)
			if len(s.Tracks) != 2 {
				t.Fatalf("tracks = %d, want video+audio", len(s.Tracks))
			}
			waitGathers(t, s)
			got, ok := s.Tracks[0].Codec.(*codecs.H264)
			if !ok || !bytes.Equal(got.SPS, want.SPS) || !bytes.Equal(got.PPS, want.PPS) {
				t.Fatalf("video codec = %#v, want H264 with the sample's SPS/PPS", s.Tracks[0].Codec)
			}
			if s.Tracks[0].ClockRate != 90000 {
				t.Fatalf("video clock %d", s.Tracks[0].ClockRate)
			}
			aac, ok := s.Tracks[1].Codec.(*codecs.MPEG4Audio)
			if !ok || aac.Config.SampleRate != 48000 || s.Tracks[1].ClockRate != 48000 {
				t.Fatalf("audio = %#v at %d Hz, want AAC 48 kHz", s.Tracks[1].Codec, s.Tracks[1].ClockRate)
			}
			// 60 frames at 25 fps with a 2 s GOP: at least one more key frame.
			units := readUnits(t, s, 150, 15*time.Second)
			video, audio, keys := checkUnits(t, s, units)
			if video < 50 || audio < 50 || keys < 1 {
				t.Fatalf("video=%d audio=%d keys=%d", video, audio, keys)
			}
			for _, u := range units {
				if s.Tracks[u.Track-1].IsVideo() && u.Key != isIDR(u.Payload) {
					t.Fatalf("key flag %v does not match the IDR presence", u.Key)
				}
			}
			checkAVSync(t, s, units)
			// Over RTSP/TCP the video is read by camcloud's own fast path
			// (rtsp_tap.go), the audio by the RTSP library; RTMP is not
			// counted.
			if proto == "rtsp" {
				waitVideoCameras(t, e.reg, "rtsp", 1, 0)
			} else if f, l := videoCameras(t, e.reg, "rtsp"); f != 0 || l != 0 {
				t.Fatalf("rtmp publish counted as rtsp video: fast %v, library %v", f, l)
			}
			e.ev.waitInfo(camID, func(i ingest.StreamInfo) bool { return i.Protocol == proto })
			on, off, info := e.ev.counts(camID)
			if on < 1 || off != 0 || info.Protocol != proto || info.Codec != "H264/AAC" {
				t.Fatalf("events: online=%d offline=%d info=%+v", on, off, info)
			}
			cancel()
			<-done
			select {
			case <-s.Done():
			case <-time.After(10 * time.Second):
				t.Fatal("stream not closed after the publisher left")
			}
			waitVideoCameras(t, e.reg, "rtsp", 0, 0)
			deadline := time.Now().Add(5 * time.Second)
			for {
				if _, off, _ := e.ev.counts(camID); off == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("Offline not reported")
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// checkAVSync checks that audio and video share one time base: units
// that arrive next to each other are less than a second apart.
func checkAVSync(t *testing.T, s *hub.Stream, units []*hub.Unit) {
	t.Helper()
	var last [2]float64
	var seen [2]bool
	for _, u := range units {
		tr := s.Tracks[u.Track-1]
		k := 0
		if !tr.IsVideo() {
			k = 1
		}
		last[k], seen[k] = float64(u.PTS)/float64(tr.ClockRate), true
		if seen[0] && seen[1] && math.Abs(last[0]-last[1]) > 1 {
			t.Fatalf("audio at %.2f s and video at %.2f s arrive together", last[1], last[0])
		}
	}
}

func isIDR(au [][]byte) bool {
	for _, n := range au {
		if len(n) > 0 && n[0]&0x1f == 5 {
			return true
		}
	}
	return false
}

// TestRTSPParamsInBand announces H.264 without sprop-parameter-sets: the hub
// must get SPS/PPS from the first IDR.
func TestRTSPParamsInBand(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	want := smp.Tracks[0].Codec.(*codecs.H264)
	e := startServer(t, nil)
	u, _ := e.urls(camID, secret)

	pushH264(t, u, smp, nil)
	s := waitStream(t, e.hub, camID, 10*time.Second)
	got := s.Tracks[0].Codec.(*codecs.H264)
	if !bytes.Equal(got.SPS, want.SPS) || !bytes.Equal(got.PPS, want.PPS) {
		t.Fatalf("SPS/PPS not taken from the bitstream: %x / %x", got.SPS, got.PPS)
	}
	units := readUnits(t, s, 80, 10*time.Second)
	if video, _, keys := checkUnits(t, s, units); video < 30 || keys < 1 {
		t.Fatalf("video units = %d", video)
	}
}

// TestH265OverRTSP pushes the H.265 sample.
func TestH265OverRTSP(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h265.ts")
	e := startServer(t, nil)
	u, _ := e.urls(camID, secret)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go sim.PublishOnce(ctx, u, smp, nil)
	s := waitStream(t, e.hub, camID, 10*time.Second)
	if c, ok := s.Tracks[0].Codec.(*codecs.H265); !ok || len(c.SPS) == 0 || len(c.VPS) == 0 {
		t.Fatalf("codec = %#v, want H265 with parameters", s.Tracks[0].Codec)
	}
	units := readUnits(t, s, 80, 10*time.Second)
	if video, _, keys := checkUnits(t, s, units); video < 30 || keys < 1 {
		t.Fatalf("video=%d keys=%d", video, keys)
	}
}

// TestSecondPublisherReplaces checks that a new publish of the same camera
// takes over and that the old network session is dropped.
func TestSecondPublisherReplaces(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	e := startServer(t, nil)
	rtspURL, rtmpURL := e.urls(camID, secret)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := make(chan error, 1)
	go func() { first <- sim.PublishOnce(ctx, rtspURL, smp, nil) }()
	s1 := waitStream(t, e.hub, camID, 10*time.Second)
	readUnits(t, s1, 5, 10*time.Second)

	go sim.PublishOnce(ctx, rtmpURL, smp, nil)
	select {
	case <-s1.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("first stream not replaced")
	}
	select {
	case err := <-first:
		if err == nil || ctx.Err() != nil {
			t.Fatalf("first publisher ended with %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("first publisher's session not dropped")
	}
	s2 := waitStream(t, e.hub, camID, 5*time.Second)
	if s2 == s1 {
		t.Fatal("same stream")
	}
	readUnits(t, s2, 10, 10*time.Second)
	e.ev.waitInfo(camID, func(i ingest.StreamInfo) bool { return i.Protocol == "rtmp" })
	if _, off, info := e.ev.counts(camID); off != 0 || info.Protocol != "rtmp" {
		t.Fatalf("offline=%d info=%+v; want no offline and rtmp current", off, info)
	}
}

// pushH264 publishes the video of smp over RTSP/TCP with the RTSP
// library's client, announcing H.264 without parameter sets, until the
// test ends. glue, when set, rewrites each access unit before it is
// packetised.
func pushH264(t *testing.T, u string, smp *sample.Sample, glue func(au [][]byte, key bool) ([][]byte, error)) {
	t.Helper()
	f := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
	desc := &description.Session{Medias: []*description.Media{{Type: description.MediaTypeVideo, Formats: []format.Format{f}}}}
	tcp := gortsplib.ProtocolTCP
	c := &gortsplib.Client{Protocol: &tcp}
	if err := c.StartRecording(u, desc); err != nil {
		t.Fatal(err)
	}
	enc, err := f.CreateEncoder()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() {
		cancel()
		<-done
		c.Close()
	})
	go func() {
		defer close(done)
		_ = smp.Play(ctx, func(un *hub.Unit) error {
			if un.Track != 1 {
				return nil
			}
			au := un.Payload
			if glue != nil {
				if au, err = glue(au, un.Key); err != nil {
					return err
				}
			}
			pkts, err := enc.Encode(au)
			if err != nil {
				return err
			}
			for _, p := range pkts {
				p.Timestamp += uint32(un.PTS)
				if err := c.WritePacketRTP(desc.Medias[0], p); err != nil {
					return err
				}
			}
			return nil
		})
	}()
}
