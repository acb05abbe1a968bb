package live

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/camcloud/camcloud/internal/hub"
)

// TestHLSSlowReaderDoesNotHurtOthers: readers that ask for many segments
// on one connection and never read the answers (the server's writes to
// them block) do not hold up a player following the live playlist with
// blocking reloads, which gets every part announced, nor a recorder's
// reader, which gets every unit.
func TestHLSSlowReaderDoesNotHurtOthers(t *testing.T) {
	t.Parallel()
	e := newEnvDeps(t, Deps{IdleTimeout: 10 * time.Second, MaxHLSPerToken: 1000})
	var units atomic.Int64
	st, _ := publish(t, e.hub, "cam", "sample-h264.ts", func(*hub.Unit) { units.Add(1) })
	rec, err := st.NewReader(100000)
	if err != nil {
		t.Fatal(err)
	}
	var recorded atomic.Int64
	go func() {
		for range rec.C() {
			recorded.Add(1)
		}
	}()
	q := "token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	if c, body := get(t, e.base+"/live/v1/cam/index.m3u8?"+q); c != 200 {
		t.Fatalf("index: %d %s", c, body)
	}
	media := e.base + "/live/v1/cam/video1_stream.m3u8?" + q
	// Wait for a complete segment for the slow readers to ask for.
	var seg string
	for deadline := time.Now().Add(20 * time.Second); seg == "" && time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		c, body := get(t, media)
		if c != 200 {
			continue
		}
		if pl, err := playlist.Unmarshal(body); err == nil && len(pl.(*playlist.Media).Segments) > 0 {
			seg = pl.(*playlist.Media).Segments[0].URI
		}
	}
	if seg == "" {
		t.Fatal("no segment in the live playlist")
	}
	host := strings.TrimPrefix(e.base, "http://")
	for range 3 {
		c, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		_ = c.(*net.TCPConn).SetReadBuffer(4096)
		var req strings.Builder
		for range 200 { // pipelined, never read: megabytes the server cannot write
			fmt.Fprintf(&req, "GET /live/v1/cam/%s HTTP/1.1\r\nHost: %s\r\n\r\n", seg, host)
		}
		if _, err := c.Write([]byte(req.String())); err != nil {
			t.Fatal(err)
		}
	}

	// A player at the live edge for 4 s: every part announced is fetched.
	fetched, before, failed, missed := map[string]bool{}, map[string]bool{}, 0, 0
	next := ""
	for end := time.Now().Add(4 * time.Second); time.Now().Before(end); {
		c, body := get(t, media+next)
		if c != 200 {
			t.Fatalf("blocking reload: %d %s", c, body)
		}
		pl, err := playlist.Unmarshal(body)
		if err != nil {
			t.Fatal(err)
		}
		m := pl.(*playlist.Media)
		var uris []string
		for _, s := range m.Segments {
			for _, p := range s.Parts {
				uris = append(uris, p.URI)
			}
		}
		for _, p := range m.Parts {
			uris = append(uris, p.URI)
		}
		for k, u := range uris {
			if next == "" {
				before[u] = true // announced before the player came
			}
			if before[u] || fetched[u] {
				continue
			}
			if k < len(uris)-10 { // it should have been fetched by now
				missed++
				continue
			}
			fetched[u] = true
			if c, _ := get(t, e.base+"/live/v1/cam/"+u); c != 200 {
				failed++
			}
		}
		next = fmt.Sprintf("&_HLS_msn=%d&_HLS_part=%d", m.MediaSequence+len(m.Segments), len(m.Parts))
	}
	if failed > 0 || missed > 0 || len(fetched) < 10 {
		t.Fatalf("the player fetched %d parts, %d of them failed and %d announced were never seen new, beside stalled readers", len(fetched), failed, missed)
	}
	want := units.Load()
	deadline := time.Now().Add(10 * time.Second)
	for recorded.Load() < want && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if recorded.Load() < want {
		t.Fatalf("the recorder's reader got %d units of %d", recorded.Load(), want)
	}
}
