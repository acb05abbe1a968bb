package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// eventTypes lists the types of an event listing's answer.
func eventTypes(t *testing.T, r resp) []string {
	t.Helper()
	list, ok := r.Body["events"].([]any)
	if !ok {
		t.Fatalf("no events in %s", r.Raw)
	}
	out := []string{}
	for _, e := range list {
		m, _ := e.(map[string]any)
		out = append(out, fmt.Sprint(m["type"]))
	}
	return out
}

// TestEventsTenantIsolation: another organisation's owner gets 404 from
// the camera's event routes and nothing from the listing and the stream;
// members of A see A's events.
func TestEventsTenantIsolation(t *testing.T) {
	e := start(t)
	w := e.world()
	e.must(e.do("POST", "/api/v1/cameras/"+w.camA+"/events", w.tok["operator"], map[string]any{"type": "custom.door", "detail": map[string]string{"door": "front"}}), 201)
	e.must(e.do("POST", "/api/v1/cameras/"+w.camB+"/events", w.tok["other"], map[string]any{"type": "custom.b"}), 201)
	other := w.tok["other"]
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/cameras/" + w.camA + "/events", nil},
		{"POST", "/api/v1/cameras/" + w.camA + "/events", map[string]string{"type": "custom"}},
	} {
		if r := e.do(c.method, c.path, other, c.body); r.Status != 404 {
			t.Errorf("%s %s as another org: %d %s", c.method, c.path, r.Status, r.Raw)
		}
	}
	for _, q := range []string{"", "?camera=" + w.camA, "?org=" + w.orgA} {
		got := eventTypes(t, e.must(e.do("GET", "/api/v1/events"+q, other, nil), 200))
		for _, typ := range got {
			if typ != "custom.b" {
				t.Errorf("another org lists %v with %q", got, q)
			}
		}
	}
	if got := eventTypes(t, e.must(e.do("GET", "/api/v1/events", w.tok["viewer"], nil), 200)); strings.Join(got, ",") != "custom.door" {
		t.Errorf("viewer of A lists %v", got)
	}
	if got := eventTypes(t, e.must(e.do("GET", "/api/v1/cameras/"+w.camA+"/events", w.tok["viewer"], nil), 200)); strings.Join(got, ",") != "custom.door" {
		t.Errorf("viewer of A lists %v on the camera", got)
	}
	// The stream of B's owner, even asking for A's camera, carries nothing of A.
	bStream := testenv.SSE(t, e.base, other, "/api/v1/events/stream", "")
	bCamA := testenv.SSE(t, e.base, other, "/api/v1/events/stream?camera="+w.camA, "")
	aStream := testenv.SSE(t, e.base, w.tok["viewer"], "/api/v1/events/stream", "")
	e.must(e.do("POST", "/api/v1/cameras/"+w.camA+"/events", w.tok["admin"], map[string]string{"type": "custom.secret"}), 201)
	e.must(e.do("POST", "/api/v1/cameras/"+w.camB+"/events", other, map[string]string{"type": "custom.b2"}), 201)
	if m := aStream.Next(t, 5*time.Second); m.Type() != "custom.secret" {
		t.Fatalf("A's stream got %v", m.Data)
	}
	if m := bStream.Next(t, 5*time.Second); m.Type() != "custom.b2" {
		t.Fatalf("B's stream got %v", m.Data)
	}
	bCamA.None(t, time.Second, "another org's camera")
	bStream.None(t, 100*time.Millisecond, "A's event")
}

// TestEventsBadInput: clear 400s for bad events and queries.
func TestEventsBadInput(t *testing.T) {
	e := start(t)
	w := e.world()
	tok := w.tok["admin"]
	now := time.Now().UTC()
	post := "/api/v1/cameras/" + w.camA + "/events"
	for name, body := range map[string]any{
		"unknown type":    map[string]any{"type": "door"},
		"system type":     map[string]any{"type": "camera.offline"},
		"bad custom name": map[string]any{"type": "custom.Door Bell"},
		"no type":         map[string]any{},
		"far future":      map[string]any{"type": "custom", "time": now.Add(time.Hour)},
		"too old":         map[string]any{"type": "custom", "time": now.Add(-30 * 24 * time.Hour)},
		"end before":      map[string]any{"type": "custom", "time": now, "end": now.Add(-time.Minute)},
		"oversized":       map[string]any{"type": "custom", "detail": map[string]string{"x": strings.Repeat("a", 5000)}},
		"detail array":    map[string]any{"type": "custom", "detail": []int{1}},
		"unknown field":   map[string]any{"type": "custom", "colour": "red"},
		"bad time":        map[string]any{"type": "custom", "time": "yesterday"},
	} {
		r := e.do("POST", post, tok, body)
		if r.Status != 400 || r.errCode() != "bad_request" {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	for _, q := range []string{"?type=nope", "?limit=0", "?limit=5000", "?from=yesterday", "?cursor=%21%21", "?camera=x",
		"?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z"} {
		if r := e.do("GET", "/api/v1/events"+q, tok, nil); r.Status != 400 {
			t.Errorf("GET /events%s: %d %s", q, r.Status, r.Raw)
		}
	}
	if r := e.do("GET", "/api/v1/events/stream?type=nope", tok, nil); r.Status != 400 {
		t.Errorf("stream with a bad type: %d %s", r.Status, r.Raw)
	}
	req, _ := http.NewRequest("GET", e.base+"/api/v1/events/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Last-Event-ID", "local=notanumber")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 400 {
		t.Errorf("bad Last-Event-ID: %d", res.StatusCode)
	}
}

// TestEventsPostAndPage: an API key posts; a read-only key may not; a
// viewer may not; listings page newest first.
func TestEventsPostAndPage(t *testing.T) {
	e := start(t)
	w := e.world()
	key := e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["operator"], map[string]string{"name": "integration"}), 201)
	k := key.str("key")
	keyID, _ := key.Body["api_key"].(map[string]any)["id"].(string)
	ro := e.must(e.do("POST", "/api/v1/me/api-keys", w.tok["operator"], map[string]string{"name": "ro", "scope": "read"}), 201).str("key")
	post := "/api/v1/cameras/" + w.camA + "/events"
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 5 {
		r := e.must(e.do("POST", post, k, map[string]any{"type": "custom.n", "time": base.Add(time.Duration(i) * time.Minute),
			"end": base.Add(time.Duration(i)*time.Minute + 10*time.Second), "detail": map[string]int{"i": i}}), 201)
		if r.str("source") != "api_key:"+keyID || r.str("end") == "" {
			t.Fatalf("posted %s", r.Raw)
		}
	}
	e.must(e.do("POST", post, ro, map[string]string{"type": "custom"}), 403)
	e.must(e.do("POST", post, w.tok["viewer"], map[string]string{"type": "custom"}), 403)
	e.must(e.do("GET", "/api/v1/cameras/"+w.camA+"/events", ro, nil), 200)
	var got []float64
	cursor := ""
	for range 5 {
		r := e.must(e.do("GET", "/api/v1/events?type=custom.n&limit=2&cursor="+cursor, w.tok["viewer"], nil), 200)
		for _, ev := range r.Body["events"].([]any) {
			d := ev.(map[string]any)["detail"].(map[string]any)
			got = append(got, d["i"].(float64))
		}
		if cursor = r.str("next_cursor"); cursor == "" {
			break
		}
	}
	if fmt.Sprint(got) != "[4 3 2 1 0]" {
		t.Fatalf("pages %v", got)
	}
	r := e.must(e.do("GET", "/api/v1/events?from="+base.Add(time.Minute).Format(time.RFC3339)+"&to="+base.Add(3*time.Minute).Format(time.RFC3339), w.tok["viewer"], nil), 200)
	if n := len(eventTypes(t, r)); n != 2 {
		t.Fatalf("from/to: %d events", n)
	}
}

// TestEventStreamResumeAndLimit: a stream resumed with Last-Event-ID gets
// what it missed; a user's ninth stream is refused with 429.
func TestEventStreamResumeAndLimit(t *testing.T) {
	e := start(t)
	w := e.world()
	tok := w.tok["viewer"]
	post := "/api/v1/cameras/" + w.camA + "/events"
	s := testenv.SSE(t, e.base, tok, "/api/v1/events/stream", "")
	e.must(e.do("POST", post, w.tok["admin"], map[string]string{"type": "custom.one"}), 201)
	first := s.Next(t, 5*time.Second)
	s.Close()
	e.must(e.do("POST", post, w.tok["admin"], map[string]string{"type": "custom.two"}), 201)
	e.must(e.do("POST", post, w.tok["admin"], map[string]string{"type": "custom.three"}), 201)
	again := testenv.SSE(t, e.base, tok, "/api/v1/events/stream", first.ID)
	if m := again.Next(t, 5*time.Second); m.Type() != "custom.two" {
		t.Fatalf("resumed with %v after %v", m.Data, first.Data)
	}
	if m := again.Next(t, 5*time.Second); m.Type() != "custom.three" {
		t.Fatalf("then %v", m.Data)
	}
	var open []*testenv.SSEStream
	for range 7 { // with again: 8
		open = append(open, testenv.SSE(t, e.base, tok, "/api/v1/events/stream", ""))
	}
	r := e.do("GET", "/api/v1/events/stream", tok, nil)
	if r.Status != 429 || r.errCode() != "too_many_streams" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("ninth stream: %d %s", r.Status, r.Raw)
	}
	open[0].Close()
	testWaitStatus(t, e, tok, "/api/v1/events/stream", 200)
}

// testWaitStatus polls path until it answers status (the server notices
// a closed stream when it next writes or its client's connection ends).
func testWaitStatus(t *testing.T, e *env, tok, path string, status int) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if e.do("GET", path, tok, nil).Status == status {
			return
		}
	}
	t.Fatalf("%s never answered %d", path, status)
}
