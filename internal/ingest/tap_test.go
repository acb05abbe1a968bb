package ingest_test

import (
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestRTSPGluedNALUnitsFallBack publishes key frames whose NAL units are
// glued into one with Annex-B start codes (a vendor quirk camcloud's fast
// path leaves to the RTSP library): the video still reaches the hub as
// separate NAL units, and the camera is counted on the library's path.
func TestRTSPGluedNALUnitsFallBack(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	e := startServer(t, nil)
	u, _ := e.urls(camID, secret)

	pushH264(t, u, smp, func(au [][]byte, key bool) ([][]byte, error) {
		if !key || len(au) < 2 {
			return au, nil
		}
		// The parameter sets and the picture glued into one NAL unit.
		rest, err := h264.AnnexB(au[1:]).Marshal()
		if err != nil {
			return nil, err
		}
		return [][]byte{append(append([]byte(nil), au[0]...), rest...)}, nil
	})
	s := waitStream(t, e.hub, camID, 10*time.Second)
	units := readUnits(t, s, 120, 15*time.Second)
	video, _, keys := checkUnits(t, s, units)
	if video < 30 || keys < 1 {
		t.Fatalf("video units = %d, key frames = %d", video, keys)
	}
	for _, un := range units {
		if un.Key != isIDR(un.Payload) {
			t.Fatal("key flag does not match the IDR presence: NAL units not split")
		}
	}
	// The camera moved from the fast path to the library's.
	waitVideoCameras(t, e.reg, "rtsp", 0, 1)
}

// TestRTSPVideoOnlyOutlivesReadTimeout: with the video read by the fast
// path, the RTSP library sees almost nothing of a video-only publisher;
// the connection must still not time out while video flows.
func TestRTSPVideoOnlyOutlivesReadTimeout(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	e := startServer(t, func(c *ingest.Config) { c.ReadTimeout = time.Second })
	u, _ := e.urls(camID, secret)
	pushH264(t, u, smp, nil)
	s := waitStream(t, e.hub, camID, 10*time.Second)
	units := readUnits(t, s, 125, 15*time.Second) // 5 s of video
	if video, _, _ := checkUnits(t, s, units); video < 100 {
		t.Fatalf("video units = %d", video)
	}
	select {
	case <-s.Done():
		t.Fatal("the stream ended while the camera was sending")
	default:
	}
}

// TestRTSPOnePacketFramesKeepTheirTime publishes frames that each fit in
// one RTP packet after key frames that take several: every frame reaches
// the hub one frame duration after the one before (the frame after a key
// frame used to get the key frame's time, and the recorder cut a segment
// at every key frame).
func TestRTSPOnePacketFramesKeepTheirTime(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	e := startServer(t, nil)
	u, _ := e.urls(camID, secret)
	pushH264(t, u, smp, func(au [][]byte, key bool) ([][]byte, error) {
		if key {
			return au, nil
		}
		// A small picture: the slice header and a little data, one packet.
		last := au[len(au)-1]
		return [][]byte{last[:min(len(last), 200)]}, nil
	})
	s := waitStream(t, e.hub, camID, 10*time.Second)
	units := readUnits(t, s, 100, 15*time.Second)
	frame := int64(90000 / 25)
	keys := 0
	for i := 1; i < len(units); i++ {
		if units[i-1].Key {
			keys++
		}
		if d := units[i].DTS - units[i-1].DTS; d < frame/2 || d > 2*frame {
			t.Fatalf("unit %d (after a key frame: %v) is %d ticks after the one before, want about %d", i, units[i-1].Key, d, frame)
		}
	}
	if keys == 0 {
		t.Fatal("no key frame among the units read")
	}
}
