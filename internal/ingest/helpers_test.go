package ingest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/testenv"
)

// fakeAuth knows camera secrets.
type fakeAuth map[string]string

func (a fakeAuth) AuthorizePublish(_ context.Context, cameraID, secret string) error {
	s, ok := a[cameraID]
	if !ok {
		return fmt.Errorf("camera %s: %w", cameraID, ingest.ErrUnknownCamera)
	}
	if s != secret {
		return fmt.Errorf("camera %s: wrong secret", cameraID)
	}
	return nil
}

// events records presence calls.
type events struct {
	mu      sync.Mutex
	online  map[string]int
	offline map[string]int
	last    map[string]ingest.StreamInfo
}

func newEvents() *events {
	return &events{online: map[string]int{}, offline: map[string]int{}, last: map[string]ingest.StreamInfo{}}
}

func (e *events) Online(id string, info ingest.StreamInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.online[id]++
	e.last[id] = info
}

func (e *events) Offline(id string, _ time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.offline[id]++
}

func (e *events) counts(id string) (on, off int, info ingest.StreamInfo) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.online[id], e.offline[id], e.last[id]
}

// env is one ingest server on 127.0.0.1 with its hub and its metrics.
type env struct {
	srv *ingest.Server
	hub *hub.Hub
	ev  *events
	reg *prometheus.Registry
}

const (
	camID  = "cam1"
	secret = "s3cret"
)

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testWriter sends logs to t.Log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}

func startServer(t *testing.T, mod func(*ingest.Config)) *env {
	t.Helper()
	h := hub.New()
	ev := newEvents()
	reg := prometheus.NewRegistry()
	cfg := ingest.Config{RTSPAddr: "127.0.0.1:0", RTMPAddr: "127.0.0.1:0", Hub: h,
		Auth: fakeAuth{camID: secret, "cam2": "other"}, Events: ev, Log: testLog(t), ReadTimeout: 3 * time.Second,
		Registerer: reg}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := ingest.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &env{srv: srv, hub: h, ev: ev, reg: reg}
}

func (e *env) urls(id, sec string) (rtsp, rtmp string) {
	return ingesturl.URLs("rtsp://"+e.srv.RTSPAddr(), "rtmp://"+e.srv.RTMPAddr(), id, sec)
}

// waitStream waits for the camera's stream in the hub.
func waitStream(t *testing.T, h *hub.Hub, id string, d time.Duration) *hub.Stream {
	t.Helper()
	return waitStreamOr(t, h, id, d, func() string { return "" })
}

// waitStreamOr is waitStream adding why() to the failure.
func waitStreamOr(t *testing.T, h *hub.Hub, id string, d time.Duration, why func() string) *hub.Stream {
	t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if s := h.Get(id); s != nil {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("camera %s never published to the hub %s", id, why())
	return nil
}

// readUnits reads n units of the stream from the next video key frame on
// (or fails after d).
func readUnits(t *testing.T, s *hub.Stream, n int, d time.Duration) []*hub.Unit {
	t.Helper()
	r, err := s.NewReader(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []*hub.Unit
	timeout := time.After(d)
	for len(out) < n {
		select {
		case u, ok := <-r.C():
			if !ok {
				t.Fatalf("stream ended after %d units: %v", len(out), r.Err())
			}
			if len(out) == 0 && !(u.Key && s.Tracks[u.Track-1].IsVideo()) {
				continue
			}
			out = append(out, u)
		case <-timeout:
			t.Fatalf("got %d of %d units in %v", len(out), n, d)
		}
	}
	return out
}

// checkUnits asserts what a recorder relies on, from the first video key
// frame on (a reader may attach mid-GOP): DTS grows per track, PTS >= DTS,
// key frames carry parameter sets, units carry a wall-clock time.
func checkUnits(t *testing.T, s *hub.Stream, units []*hub.Unit) (video, audio, keys int) {
	t.Helper()
	for len(units) > 0 && !(s.Tracks[units[0].Track-1].IsVideo() && units[0].Key) {
		units = units[1:]
	}
	last := map[int]int64{}
	for i, u := range units {
		tr := s.Tracks[u.Track-1]
		if tr.ID != u.Track {
			t.Fatalf("unit %d: track %d not in stream", i, u.Track)
		}
		if prev, ok := last[u.Track]; ok && u.DTS < prev {
			t.Fatalf("unit %d: DTS went back on track %d: %d < %d", i, u.Track, u.DTS, prev)
		}
		last[u.Track] = u.DTS
		if u.PTS < u.DTS {
			t.Fatalf("unit %d: PTS %d < DTS %d", i, u.PTS, u.DTS)
		}
		if u.NTP.IsZero() {
			t.Fatalf("unit %d: no NTP time", i)
		}
		if tr.IsVideo() {
			video++
			if u.Key {
				keys++
				if !hasParamSets(u.Payload) {
					t.Fatalf("key frame %d without parameter sets", i)
				}
			}
		} else {
			audio++
		}
	}
	return video, audio, keys
}

// hasParamSets reports whether an H.264 or H.265 unit carries an SPS.
func hasParamSets(au [][]byte) bool {
	for _, n := range au {
		if len(n) > 0 && (n[0]&0x1f == 7 || (n[0]>>1)&0x3f == 33) {
			return true
		}
	}
	return false
}

// freeUDPPair finds an even UDP port whose successor is free too.
func freeUDPPair(t *testing.T) (rtp, rtcp string) {
	t.Helper()
	for i := 0; i < 50; i++ {
		c, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := c.LocalAddr().(*net.UDPAddr).Port
		c.Close()
		if p%2 == 1 {
			p++
		}
		a, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		b, err := net.ListenPacket("udp", fmt.Sprintf("127.0.0.1:%d", p+1))
		a.Close()
		if err != nil {
			continue
		}
		b.Close()
		return fmt.Sprintf("127.0.0.1:%d", p), fmt.Sprintf("127.0.0.1:%d", p+1)
	}
	t.Fatal("no free UDP port pair")
	return "", ""
}

// noPublish records any publish the hub sees.
func noPublish(h *hub.Hub) func() []string {
	var mu sync.Mutex
	var got []string
	h.OnPublish(func(s *hub.Stream) {
		mu.Lock()
		got = append(got, s.CameraID)
		mu.Unlock()
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// parseBaseURL parses an RTSP URL for the gortsplib client.
func parseBaseURL(s string) (*base.URL, error) { return base.ParseURL(s) }

// waitInfo waits (up to 5 s) until the last Online event of id satisfies
// ok and returns it: events are sent from a goroutine of their own, so
// they may trail the media a test has already read.
func (e *events) waitInfo(id string, ok func(ingest.StreamInfo) bool) ingest.StreamInfo {
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, info := e.counts(id)
		if ok(info) || time.Now().After(deadline) {
			return info
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// videoCameras reads camcloud_ingest_rtsp_video_cameras of protocol from
// reg: the cameras whose video takes the fast path, and the library's.
func videoCameras(t *testing.T, reg prometheus.Gatherer, protocol string) (fast, library float64) {
	t.Helper()
	const name = "camcloud_ingest_rtsp_video_cameras"
	return testenv.GatheredValue(t, reg, name, map[string]string{"protocol": protocol, "path": "fast"}),
		testenv.GatheredValue(t, reg, name, map[string]string{"protocol": protocol, "path": "library"})
}

// waitVideoCameras waits (up to 5 s) until videoCameras gives fast and
// library, and fails the test otherwise.
func waitVideoCameras(t *testing.T, reg prometheus.Gatherer, protocol string, fast, library float64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		f, l := videoCameras(t, reg, protocol)
		if f == fast && l == library {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s cameras on the fast path %v, on the library path %v; want %v and %v", protocol, f, l, fast, library)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logLines is a logger for a test server that also keeps its messages.
type logLines struct {
	mu   sync.Mutex
	msgs []string
}

// logger returns a logger writing to t.Log and to l.
func (l *logLines) logger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(io.MultiWriter(testWriter{t}, l), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, string(p))
	return len(p), nil
}

// has reports whether a logged line contains s.
func (l *logLines) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// waitGathers fails unless the stream gathers its units for its readers
// within a few seconds (the ingest connection flushes them once a read:
// hub.Stream.Gather).
func waitGathers(t *testing.T, s *hub.Stream) {
	t.Helper()
	testenv.Eventually(t, 5*time.Second, "the stream gathering its units for its readers (hub.Stream.Gather), not handing them on one at a time", s.Gathers)
}
