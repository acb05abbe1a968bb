package ingest_test

import (
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/camcloud/camcloud/internal/ingest"
)

// TestRTSPGluedNALUnitsFallBack publishes key frames whose NAL units are
// glued into one with Annex-B start codes (a vendor quirk camcloud's fast
// path leaves to the RTSP library): the video still reaches the hub as
// separate NAL units, and the camera is counted on the library's path.
func TestRTSPGluedNALUnitsFallBack(t *testing.T) {
	t.Parallel()
	smp := loadSample(t, "sample-h264.ts")
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
	smp := loadSample(t, "sample-h264.ts")
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
