package testenv

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// SSEMessage is one message of a Server-Sent Events stream: its id, its
// data decoded as a JSON object, and when it arrived.
type SSEMessage struct {
	ID      string
	Data    map[string]any
	Arrived time.Time
}

// Type is the message's data's "type" (an event's type).
func (m SSEMessage) Type() string { s, _ := m.Data["type"].(string); return s }

// SSEStream reads a stream with a plain HTTP client, as any integration
// would, until Close or the end of the test.
type SSEStream struct {
	msgs   chan SSEMessage
	cancel context.CancelFunc
}

// SSE opens GET base+path as an event stream with a bearer token,
// resuming after lastID when it is not empty; the answer must be 200
// text/event-stream.
func SSE(t testing.TB, base, token, path, lastID string) *SSEStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		t.Fatalf("stream %s: %d %s", path, res.StatusCode, res.Header.Get("Content-Type"))
	}
	s := &SSEStream{msgs: make(chan SSEMessage, 1000), cancel: cancel}
	go func() {
		defer res.Body.Close()
		defer close(s.msgs)
		sc := bufio.NewScanner(res.Body)
		var id, data string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "data: "):
				data += strings.TrimPrefix(line, "data: ")
			case line == "":
				var m map[string]any
				if data != "" && json.Unmarshal([]byte(data), &m) == nil {
					s.msgs <- SSEMessage{ID: id, Data: m, Arrived: time.Now()}
				}
				data = ""
			}
		}
	}()
	return s
}

// Next returns the next message within d, or fails the test.
func (s *SSEStream) Next(t testing.TB, d time.Duration) SSEMessage {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			t.Fatal("event stream ended")
		}
		return m
	case <-time.After(d):
		t.Fatalf("no event within %s", d)
	}
	return SSEMessage{}
}

// None fails the test if a message arrives within d.
func (s *SSEStream) None(t testing.TB, d time.Duration, why string) {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if ok {
			t.Fatalf("%s: got %v", why, m.Data)
		}
	case <-time.After(d):
	}
}

// Close ends the stream.
func (s *SSEStream) Close() { s.cancel() }
