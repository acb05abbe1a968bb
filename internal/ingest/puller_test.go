package ingest_test

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestPullerReconnects pulls from an RTSP server, restarts that server on
// the same port and expects units to flow again.
func TestPullerReconnects(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	ps, err := sim.ServePull("127.0.0.1:0", 1, smp, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	addr := ps.Addr()
	h := hub.New()
	ev := newEvents()
	reg := prometheus.NewRegistry()
	p := ingest.NewPuller(h, ev, testLog(t))
	p.Dest = testenv.AllowLoopback()
	if err := p.RegisterMetrics(reg); err != nil {
		t.Fatal(err)
	}
	defer p.StopAll()
	p.Start(camID, ps.URL(0))
	if got := p.Active(); !slices.Equal(got, []string{camID}) {
		t.Fatalf("Active = %v", got)
	}

	s1 := waitStream(t, h, camID, 10*time.Second)
	if _, ok := s1.Tracks[0].Codec.(*codecs.H264); !ok || len(s1.Tracks) != 2 {
		t.Fatalf("tracks %+v", s1.Tracks)
	}
	waitGathers(t, s1)
	units := readUnits(t, s1, 40, 10*time.Second)
	if video, _, keys := checkUnits(t, s1, units); video < 10 || keys < 1 {
		t.Fatalf("video=%d keys=%d", video, keys)
	}
	checkAVSync(t, s1, units)
	waitVideoCameras(t, reg, "rtsp-pull", 1, 0) // pulled video read by the fast path
	if info := ev.waitInfo(camID, func(i ingest.StreamInfo) bool { return i.Protocol == "rtsp-pull" }); info.Protocol != "rtsp-pull" {
		t.Fatalf("info %+v", info)
	}

	ps.Close()
	select {
	case <-s1.Done():
	case <-time.After(15 * time.Second):
		t.Fatal("stream did not end when the camera went away")
	}
	ps2, err := sim.ServePull(addr, 1, smp, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer ps2.Close()
	var s2 *hub.Stream
	deadline := time.Now().Add(15 * time.Second)
	for s2 == nil || s2 == s1 {
		if time.Now().After(deadline) {
			t.Fatal("puller did not reconnect")
		}
		time.Sleep(50 * time.Millisecond)
		s2 = h.Get(camID)
	}
	units = readUnits(t, s2, 40, 10*time.Second)
	if video, _, _ := checkUnits(t, s2, units); video < 10 {
		t.Fatalf("video=%d after reconnect", video)
	}

	p.Stop(camID)
	select {
	case <-s2.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Stop did not end the stream")
	}
	if len(p.Active()) != 0 {
		t.Fatalf("Active after Stop = %v", p.Active())
	}
	waitVideoCameras(t, reg, "rtsp-pull", 0, 0)
	if _, off, _ := ev.counts(camID); off < 1 {
		t.Fatal("Offline not reported")
	}
}

// TestPullerBadURL keeps retrying without crashing and stops on request.
func TestPullerBadURL(t *testing.T) {
	t.Parallel()
	p := ingest.NewPuller(hub.New(), nil, testLog(t))
	p.Dest = testenv.AllowLoopback()
	p.Start("x", "rtsp://user:pa55word@127.0.0.1:1/nothing")
	p.Start("y", "::not a url")
	time.Sleep(200 * time.Millisecond)
	if got := p.Active(); !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("Active = %v", got)
	}
	p.StopAll()
	if len(p.Active()) != 0 {
		t.Fatal("still active")
	}
}

// TestPullerDestinationPolicy: by default a pull does not connect to a
// loopback address (nor, through a name, to what it resolves to), nor to
// the server's own listeners even when loopback is allowed; the refusal is
// logged with the URL's credentials (userinfo and query) hidden.
func TestPullerDestinationPolicy(t *testing.T) {
	t.Parallel()
	lnAddr, accepted := testenv.AcceptCounter(t)
	_, port, _ := net.SplitHostPort(lnAddr)

	var logs logLines
	p := ingest.NewPuller(hub.New(), nil, logs.logger(t))
	p.Start("lit", "rtsp://admin:hunter2@127.0.0.1:"+port+"/s?password=hunter3&channel=1")
	p.Start("name", "rtsp://localhost:"+port+"/s?token=hunter4")
	self := testenv.AllowLoopback()
	self.AddSelf(lnAddr)
	ps := ingest.NewPuller(hub.New(), nil, logs.logger(t))
	ps.Dest = self
	ps.Start("self", "rtsp://127.0.0.1:"+port+"/s")
	deadline := time.Now().Add(10 * time.Second)
	for !logs.has("camera=lit") || !logs.has("camera=name") || !logs.has("camera=self") {
		if time.Now().After(deadline) {
			t.Fatal("no pull failure logged")
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.StopAll()
	ps.StopAll()
	select {
	case <-accepted:
		t.Fatal("a refused pull connected")
	default:
	}
	if !logs.has("destination refused") || !logs.has("own listeners") {
		t.Fatal("refusal not logged")
	}
	for _, secret := range []string{"hunter2", "hunter3", "hunter4"} {
		if logs.has(secret) {
			t.Errorf("log shows %s", secret)
		}
	}
	if !logs.has("channel=1") {
		t.Error("harmless query parameters hidden too")
	}

	allowed := ingest.NewPuller(hub.New(), nil, testLog(t))
	allowed.Dest = testenv.AllowLoopback()
	allowed.Start("ok", "rtsp://localhost:"+port+"/s")
	defer allowed.StopAll()
	select {
	case <-accepted:
	case <-time.After(10 * time.Second):
		t.Fatal("an allowed pull did not connect")
	}
}
