package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/httpapi"
)

// Event stream timing defaults.
const (
	// defaultHeartbeat is how often an idle stream sends a comment, so
	// that proxies and clients see it alive.
	defaultHeartbeat = 15 * time.Second
	// defaultStreamMaxAge ends a stream after this long; the client
	// reconnects with Last-Event-ID (EventSource does so by itself),
	// which authenticates it and loads its permissions again.
	defaultStreamMaxAge = 30 * time.Minute
)

// streamEvents serves GET /events/stream: Server-Sent Events of the
// events the caller may see, from now on or from Last-Event-ID.
func (s *server) streamEvents(w http.ResponseWriter, r *http.Request, rq *httpapi.Request) {
	cam, err := optionalID(r, "camera")
	if err != nil {
		httpapi.Fail(w, r, err)
		return
	}
	last := r.Header.Get("Last-Event-ID")
	if last == "" {
		last = r.URL.Query().Get("last_event_id")
	}
	sub, err := s.Events.Subscribe(r.Context(), rq.P, events.StreamFilter{CameraID: cam, Types: types(r)}, last)
	if err != nil {
		failEvents(w, r, err)
		return
	}
	defer sub.Close()
	beat, age := s.EventHeartbeat, s.EventStreamMaxAge
	if beat <= 0 {
		beat = defaultHeartbeat
	}
	if age <= 0 {
		age = defaultStreamMaxAge
	}
	ctx, cancel := context.WithTimeout(r.Context(), age)
	defer cancel()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer
	w.WriteHeader(http.StatusOK)
	flush := func() {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
	}
	// The position now, so that a reconnect before any event resumes here.
	fmt.Fprintf(w, "retry: 2000\nid: %s\n: connected\n\n", sub.Position())
	flush()
	for {
		ds, err := sub.Next(ctx, beat)
		if err != nil {
			return
		}
		if len(ds) == 0 {
			if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
				return
			}
		}
		for _, d := range ds {
			b, err := json.Marshal(d.Event.Wire())
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %s\ndata: %s\n\n", d.ID, b); err != nil {
				return
			}
		}
		flush()
	}
}
