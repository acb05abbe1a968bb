package camserver_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// sseEvent is an event as the stream delivers it, with when it arrived.
type sseEvent struct {
	ID       string    `json:"id"`
	Type     string    `json:"type"`
	CameraID string    `json:"camera_id"`
	Time     time.Time `json:"time"`
	arrived  time.Time
}

// sseClient reads GET path as Server-Sent Events with a plain HTTP
// client, parsing each message's data into an event on the channel.
func sseClient(t *testing.T, base, token, path string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan sseEvent, 100)
	go func() {
		defer res.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(res.Body)
		var data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			case line == "" && data != "":
				var e sseEvent
				if json.Unmarshal([]byte(data), &e) == nil {
					e.arrived = time.Now()
					out <- e
				}
				data = ""
			}
		}
	}()
	return out
}

// expectEvent waits up to d for the next event on ch, which must be of typ.
func expectEvent(t *testing.T, ch <-chan sseEvent, typ string, d time.Duration) sseEvent {
	t.Helper()
	select {
	case e, ok := <-ch:
		if !ok {
			t.Fatalf("stream ended waiting for %s", typ)
		}
		if e.Type != typ {
			t.Fatalf("got %s (%s), want %s", e.Type, e.Time, typ)
		}
		return e
	case <-time.After(d):
		t.Fatalf("no %s within %s", typ, d)
	}
	return sseEvent{}
}

// expectNone fails if an event arrives on ch within d.
func expectNone(t *testing.T, ch <-chan sseEvent, d time.Duration, why string) {
	t.Helper()
	select {
	case e := <-ch:
		t.Fatalf("%s: got %s at %s", why, e.Type, e.Time)
	case <-time.After(d):
	}
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
	stream := sseClient(t, n.base, n.token, "/api/v1/events/stream?camera="+cam.ID)

	publish := func() context.CancelFunc {
		ctx, cancel := context.WithCancel(context.Background())
		go func() { _ = sim.PublishOnce(ctx, cam.Ingest.RTSP, smp, nil) }()
		return cancel
	}
	stop := publish()
	on := expectEvent(t, stream, "camera.online", 15*time.Second)
	if on.CameraID != cam.ID {
		t.Fatalf("event of camera %s", on.CameraID)
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
	expectNone(t, stream, 9*time.Second, "a reconnect within the debounce")

	// A stop: camera.offline within 10 s.
	stop()
	stopped := time.Now()
	off := expectEvent(t, stream, "camera.offline", 12*time.Second)
	if d := off.arrived.Sub(stopped); d > 10*time.Second {
		t.Errorf("camera.offline %s after the camera stopped, want within 10 s", d)
	}
	if off.Time.Before(stopped.Add(-5*time.Second)) || off.Time.After(stopped.Add(2*time.Second)) {
		t.Errorf("camera.offline at %s, the camera stopped at %s", off.Time, stopped)
	}
	t.Logf("camera.offline arrived %s after the publisher stopped", off.arrived.Sub(stopped).Round(10*time.Millisecond))

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
