package live

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/pion/webrtc/v4"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestWHEPReceivesVideo: a pion viewer negotiates over WHEP on loopback and
// receives H.264 RTP; DELETE on the Location ends the session.
func TestWHEPReceivesVideo(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	c := newWHEPClient(t, e.base+"/live/v1/cam/whep?token="+url.QueryEscape(e.token("cam", "live", time.Minute)), false, true)
	if c.status != http.StatusCreated {
		t.Fatalf("WHEP POST: %d %s", c.status, c.body)
	}
	if !strings.HasPrefix(c.location, "/live/v1/cam/whep/") {
		t.Fatalf("Location %q", c.location)
	}
	got := c.waitPackets(t, 50, 15*time.Second)
	if len(got) < 50 {
		t.Fatal("too few packets")
	}
	select {
	case m := <-c.mimes:
		if !strings.EqualFold(m, webrtc.MimeTypeH264) {
			t.Fatalf("first track is %s, want H264 (AAC audio must be left out)", m)
		}
	default:
		t.Fatal("no track reported")
	}
	select {
	case m := <-c.mimes:
		t.Fatalf("a second track (%s) was sent: AAC cannot go to WebRTC", m)
	default:
	}
	if n := e.svc.sessionCount(); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	if code := deleteURL(t, e.base, c.location); code != http.StatusOK {
		t.Fatalf("DELETE: %d", code)
	}
	if n := e.svc.sessionCount(); n != 0 {
		t.Fatalf("%d sessions after DELETE", n)
	}
	if code := deleteURL(t, e.base, c.location); code != http.StatusNotFound {
		t.Fatalf("second DELETE: %d, want 404", code)
	}
	req, _ := http.NewRequest(http.MethodPatch, e.base+c.location, strings.NewReader("a=candidate:x"))
	req.Header.Set("Content-Type", "application/trickle-ice-sdpfrag")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("PATCH: %d, want 405", res.StatusCode)
	}
}

// TestWHEPH265 : an H.265 camera is refused to a viewer without H265 in its
// offer, with a clear error, and sent to one that offers it.
func TestWHEPH265(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h265.ts", nil)
	u := e.base + "/live/v1/cam/whep?token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	c := newWHEPClient(t, u, true, true)
	if c.status != http.StatusNotAcceptable || errCode(c.body) != "codec_unsupported" || !strings.Contains(string(c.body), "H.265") {
		t.Fatalf("H.265 to an H.264-only viewer: %d %s", c.status, c.body)
	}
	c = newWHEPClient(t, u, false, true)
	if c.status != http.StatusCreated {
		t.Fatalf("H.265 viewer: %d %s", c.status, c.body)
	}
	c.waitPackets(t, 20, 15*time.Second)
	if m := <-c.mimes; !strings.EqualFold(m, webrtc.MimeTypeH265) {
		t.Fatalf("track is %s, want H265", m)
	}
}

// TestWHEPBadRequests: wrong content type, garbage SDP, oversized body.
func TestWHEPBadRequests(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	u := e.base + "/live/v1/cam/whep?token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	for _, tc := range []struct {
		name, ct, body string
		status         int
		code           string
	}{
		{"json", "application/json", "{}", 415, "unsupported_media_type"},
		{"garbage", "application/sdp", "hello", 400, "bad_sdp"},
		{"no video", "application/sdp", "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", 406, "codec_unsupported"},
		{"huge", "application/sdp", strings.Repeat("a", maxOfferSize+10), 413, "too_large"},
	} {
		res, err := http.Post(u, tc.ct, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4096)
		n, _ := res.Body.Read(b)
		res.Body.Close()
		if res.StatusCode != tc.status || errCode(b[:n]) != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, res.StatusCode, b[:n], tc.status, tc.code)
		}
	}
	if n := e.svc.sessionCount(); n != 0 {
		t.Fatalf("%d sessions left by refused offers", n)
	}
}

// TestWHEPStalledViewerDoesNotBlock: a viewer that never reads what it is
// sent, while the publisher writes as fast as it can, never holds up the
// publisher or another reader; the stalled session skips ahead instead.
func TestWHEPStalledViewerDoesNotBlock(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	smp := testenv.Sample(t, "sample-h264.ts")
	st := e.hub.Publish("cam", smp.Tracks)
	defer st.Close()
	c := newWHEPClient(t, e.base+"/live/v1/cam/whep?token="+url.QueryEscape(e.token("cam", "live", time.Minute)), false, false)
	if c.status != http.StatusCreated {
		t.Fatalf("WHEP POST: %d %s", c.status, c.body)
	}
	testenv.Eventually(t, 10*time.Second, "the viewer to connect", func() bool {
		return c.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	})
	other, err := st.NewReader(100000)
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	go func() {
		for range other.C() {
			got.Add(1)
		}
	}()
	const passes = 20
	start := time.Now()
	written := 0
	for k := range passes {
		for _, u := range smp.Loop(k) {
			u.NTP = time.Now()
			st.Write(u)
			written++
		}
	}
	t.Logf("publisher wrote %d units (%d MB of video) in %s with a stalled WebRTC viewer", written, passes*2700/1000, time.Since(start))
	testenv.Eventually(t, 10*time.Second, "the other reader to get every unit", func() bool { return got.Load() == int64(written) })
	if e.svc.sessionCount() != 1 {
		t.Fatal("the stalled session was dropped instead of skipping ahead")
	}
	t.Logf("stalled viewer skips: %v", testCounter(e.svc.m.skips))
}

// TestWHEPUnitsToRTP: the H.264 packetizer adds parameter sets to a
// keyframe that lacks them (the stream's current ones, as the hub hands
// them out) and stamps every packet with the unit's PTS.
func TestWHEPUnitsToRTP(t *testing.T) {
	p, err := newVideoPacketizer(&codecs.H264{SPS: []byte{0x67, 1, 2}, PPS: []byte{0x68, 3}})
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := p.packetize(&hub.Unit{PTS: 9000, Key: true, Payload: [][]byte{{0x65, 9, 9, 9}}})
	if err != nil || len(pkts) != 1 {
		t.Fatalf("%v %d packets", err, len(pkts))
	}
	if pkts[0].Payload[0]&0x1F != 24 { // STAP-A with SPS, PPS, IDR
		t.Fatalf("payload type %d, want STAP-A (24)", pkts[0].Payload[0]&0x1F)
	}
	if !bytes.Contains(pkts[0].Payload, []byte{0x67, 1, 2}) {
		t.Fatalf("STAP-A %x lacks the SPS", pkts[0].Payload)
	}
	// The camera changed its parameter sets: the next key frame gets the new ones.
	changed := &codecs.H264{SPS: []byte{0x67, 7, 7}, PPS: []byte{0x68, 8}}
	again, err := p.packetize(&hub.Unit{PTS: 12000, Key: true, Codec: changed, Payload: [][]byte{{0x65, 9, 9, 9}}})
	if err != nil || len(again) != 1 || !bytes.Contains(again[0].Payload, []byte{0x67, 7, 7}) || bytes.Contains(again[0].Payload, []byte{0x67, 1, 2}) {
		t.Fatalf("key frame after a change of parameter sets: %v %x", err, again[0].Payload)
	}
	if pkts[0].Timestamp != 9000+p.offset || !pkts[0].Marker {
		t.Fatalf("timestamp %d marker %v", pkts[0].Timestamp, pkts[0].Marker)
	}
	g := newG711Packetizer(true)
	pcm := make([]byte, 2*400) // 400 samples -> 160+160+80
	pk, err := g.packetize(&hub.Unit{PTS: 800, Payload: [][]byte{pcm}})
	if err != nil || len(pk) != 3 || len(pk[0].Payload) != 160 || len(pk[2].Payload) != 80 || pk[1].Timestamp-pk[0].Timestamp != 160 {
		t.Fatalf("G.711: %v %d packets", err, len(pk))
	}
}

// TestWHEPPortRange: with a UDP port range set, every candidate of the
// answer uses a port inside it.
func TestWHEPPortRange(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	svc := New(Deps{Hub: e.hub, Signer: e.sig, Log: testLogger(t), ICEPortMin: 41000, ICEPortMax: 41100})
	defer svc.Close()
	mux := http.NewServeMux()
	svc.RegisterMedia(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	c := newWHEPClient(t, srv.URL+"/live/v1/cam/whep?token="+url.QueryEscape(e.token("cam", "live", time.Minute)), false, true)
	if c.status != http.StatusCreated {
		t.Fatalf("WHEP POST: %d %s", c.status, c.body)
	}
	n := 0
	for _, line := range strings.Split(string(c.body), "\n") {
		if !strings.HasPrefix(line, "a=candidate:") {
			continue
		}
		f := strings.Fields(line)
		port, err := strconv.Atoi(f[5])
		if err != nil || port < 41000 || port > 41100 {
			t.Fatalf("candidate outside the range: %s", line)
		}
		n++
	}
	if n == 0 {
		t.Fatalf("no candidates in the answer:\n%s", c.body)
	}
	c.waitPackets(t, 10, 15*time.Second)
}
