package camserver_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// expectEvent waits up to d for the next event on s, which must be of typ.
func expectEvent(t *testing.T, s *testenv.SSEStream, typ string, d time.Duration) testenv.SSEMessage {
	t.Helper()
	m := s.Next(t, d)
	if m.Type() != typ {
		t.Fatalf("got %s (%v), want %s", m.Type(), m.Data, typ)
	}
	return m
}

// eventTime is an event's time.
func eventTime(t *testing.T, m testenv.SSEMessage) time.Time {
	t.Helper()
	s, _ := m.Data["time"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("event time %q", s)
	}
	return at
}

// TestPresenceEvents: a camera publishing for real (RTSP over TCP, the
// simulator) yields camera.online; a reconnect within the debounce yields
// nothing; a stop yields camera.offline within 10 s; its return yields
// camera.online again. An SSE client with a plain HTTP client receives
// them as they happen, and the listing has them newest first.
func TestPresenceEvents(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	n := startNode(t, t.TempDir()) // default offline debounce (5 s)
	cam := n.camera("presence", nil)
	stream := testenv.SSE(t, n.base, n.token, "/api/v1/events/stream?camera="+cam.ID, "")

	publish := func() context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = sim.PublishOnce(ctx, cam.Ingest.RTSP, smp, nil) }()
		return cancel
	}
	stop := publish()
	on := expectEvent(t, stream, "camera.online", 15*time.Second)
	if on.Data["camera_id"] != cam.ID {
		t.Fatalf("event of camera %v", on.Data["camera_id"])
	}

	// A reconnect within the debounce: neither event.
	time.Sleep(2 * time.Second)
	stop()
	testenv.Eventually(t, 5*time.Second, "camera seen offline", func() bool {
		var c camResp
		n.call("GET", "/api/v1/cameras/"+cam.ID, nil, &c)
		return !c.Status.Online
	})
	time.Sleep(time.Second)
	stop = publish()
	stream.None(t, 9*time.Second, "a reconnect within the debounce")

	// A stop: camera.offline within 10 s.
	stop()
	stopped := time.Now()
	off := expectEvent(t, stream, "camera.offline", 12*time.Second)
	if d := off.Arrived.Sub(stopped); d > 10*time.Second {
		t.Errorf("camera.offline %s after the camera stopped, want within 10 s", d)
	}
	if at := eventTime(t, off); at.Before(stopped.Add(-5*time.Second)) || at.After(stopped.Add(2*time.Second)) {
		t.Errorf("camera.offline at %s, the camera stopped at %s", at, stopped)
	}
	t.Logf("camera.offline arrived %s after the publisher stopped", off.Arrived.Sub(stopped).Round(10*time.Millisecond))

	// Back: camera.online.
	stop = publish()
	defer stop()
	expectEvent(t, stream, "camera.online", 15*time.Second)

	var list struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if s := n.call("GET", "/api/v1/cameras/"+cam.ID+"/events?type=camera.online,camera.offline", nil, &list); s != 200 {
		t.Fatalf("list: %d", s)
	}
	var got []string
	for _, e := range list.Events {
		got = append(got, e.Type)
	}
	if strings.Join(got, " ") != "camera.online camera.offline camera.online" {
		t.Fatalf("listed %v", got)
	}
}

// TestStalledPublisherGoesOffline: a publisher whose media stops while
// its connection stays open (a frozen encoder) is dropped after the media
// timeout, and camera.offline comes within 10 s of its last frame, timed
// at that frame, not at the drop.
func TestStalledPublisherGoesOffline(t *testing.T) {
	t.Parallel()
	smp := testenv.Sample(t, "sample-h264.ts")
	n := startNode(t, t.TempDir()) // default debounce (5 s) and media timeout (8 s)
	cam := n.camera("stall", nil)
	stream := testenv.SSE(t, n.base, n.token, "/api/v1/events/stream?camera="+cam.ID, "")
	const sendFor = 6 * time.Second
	done := make(chan error, 1)
	// The stall starts sendFor after the publisher starts (its connection
	// on 127.0.0.1 takes milliseconds).
	stalled := time.Now().Add(sendFor)
	go func() {
		done <- sim.PublishStalling(context.Background(), cam.Ingest.RTSP, smp, sendFor, 60*time.Second)
	}()
	expectEvent(t, stream, "camera.online", 15*time.Second)
	off := expectEvent(t, stream, "camera.offline", 25*time.Second)
	arrived := off.Arrived.Sub(stalled)
	t.Logf("camera.offline arrived %s after the publisher's media stopped (its connection open)", arrived.Round(10*time.Millisecond))
	if arrived > 10*time.Second {
		t.Errorf("camera.offline %s after the media stopped, want within 10 s", arrived)
	}
	if at := eventTime(t, off); at.Before(stalled.Add(-2*time.Second)) || at.After(stalled.Add(2*time.Second)) {
		t.Errorf("camera.offline timed %s, the media stopped about %s", at, stalled)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Logf("the stalled publisher's session ended: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Error("the server did not drop the stalled publisher's session")
	}
}
