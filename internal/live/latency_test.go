package live

import (
	"fmt"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/camcloud/camcloud/internal/hub"
)

// latencyStats summarises delays.
type latencyStats struct{ p50, p95, max time.Duration }

func stats(ds []time.Duration) latencyStats {
	if len(ds) == 0 {
		return latencyStats{}
	}
	slices.Sort(ds)
	return latencyStats{p50: ds[len(ds)/2], p95: ds[len(ds)*95/100], max: ds[len(ds)-1]}
}

func (s latencyStats) report(b *testing.B, what string) {
	b.ReportMetric(float64(s.p50.Microseconds())/1000, what+"-p50-ms")
	b.ReportMetric(float64(s.p95.Microseconds())/1000, what+"-p95-ms")
	b.ReportMetric(float64(s.max.Microseconds())/1000, what+"-max-ms")
	b.Logf("%s: p50 %s, p95 %s, max %s", what, s.p50, s.p95, s.max)
}

// BenchmarkLatencyWHEP measures, for every video frame, the time from its
// hub write (publish) to the arrival of its last RTP packet at a pion
// viewer on loopback. Run with -benchtime=1x: each run lasts ~6 s of real
// time whatever b.N is.
func BenchmarkLatencyWHEP(b *testing.B) {
	e := newEnv(b, 10*time.Second)
	var mu sync.Mutex
	published := map[int64]time.Time{} // video PTS -> write time
	publish(b, e.hub, "cam", "sample-h264.ts", func(u *hub.Unit) {
		if u.Track == 1 {
			mu.Lock()
			published[u.PTS] = u.NTP
			mu.Unlock()
		}
	})
	tok := e.token("cam", "live", time.Minute)
	c := newWHEPClient(b, e.base+"/live/v1/cam/whep?token="+url.QueryEscape(tok), false, true)
	if c.status != 201 {
		b.Fatalf("WHEP: %d %s", c.status, c.body)
	}
	got := c.waitPackets(b, 1, 15*time.Second)
	off := feedVideoOffset(b, e.svc, "cam")
	deadline := time.After(6 * time.Second)
	var ds []time.Duration
	for done := false; !done; {
		select {
		case p := <-c.packets:
			got = append(got, p)
		case <-deadline:
			done = true
		}
	}
	mu.Lock()
	for _, p := range got {
		if !p.marker {
			continue
		}
		if at, ok := published[int64(p.ts-off)]; ok {
			ds = append(ds, p.at.Sub(at))
		}
	}
	mu.Unlock()
	if len(ds) < 50 {
		b.Fatalf("only %d frames matched", len(ds))
	}
	stats(ds).report(b, "webrtc-frame")
}

// BenchmarkLatencyHLS follows the live media playlist as an LL-HLS player
// does (blocking reloads for the next part) and measures, for each new
// part, the delay from the hub write of the frame that completes it (the
// part's end in program date-time) to the playlist announcing it, and to
// the part's bytes being received. A player adds its PART-HOLD-BACK (3
// parts) on top. Run with -benchtime=1x.
func BenchmarkLatencyHLS(b *testing.B) {
	e := newEnv(b, 10*time.Second)
	publish(b, e.hub, "cam", "sample-h264.ts", nil)
	q := "token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	if c, body := get(b, e.base+"/live/v1/cam/index.m3u8?"+q); c != 200 {
		b.Fatalf("index: %d %s", c, body)
	}
	media := e.base + "/live/v1/cam/video1_stream.m3u8?" + q
	var announce, fetched, oldest []time.Duration
	var partDur time.Duration
	next := ""
	end := time.Now().Add(8 * time.Second)
	for time.Now().Before(end) {
		c, body := get(b, media+next)
		at := time.Now()
		if c != 200 {
			b.Fatalf("media playlist: %d %s", c, body)
		}
		pl, err := playlist.Unmarshal(body)
		if err != nil {
			b.Fatal(err)
		}
		m := pl.(*playlist.Media)
		if m.PartInf != nil {
			partDur = m.PartInf.PartTarget
		}
		var last *playlist.MediaSegment
		for _, s := range m.Segments {
			if !s.Gap {
				last = s
			}
		}
		if last != nil && last.DateTime != nil {
			partEnd := last.DateTime.Add(last.Duration)
			lastURI, lastDur := "", time.Duration(0)
			if len(last.Parts) > 0 {
				lastURI, lastDur = last.Parts[len(last.Parts)-1].URI, last.Parts[len(last.Parts)-1].Duration
			}
			for _, p := range m.Parts {
				partEnd = partEnd.Add(p.Duration)
				lastURI, lastDur = p.URI, p.Duration
			}
			if next != "" { // only blocking reloads measure the announcement
				announce = append(announce, at.Sub(partEnd))
				if lastURI != "" {
					if c, _ := get(b, e.base+"/live/v1/cam/"+lastURI); c == 200 {
						fetched = append(fetched, time.Since(partEnd))
						oldest = append(oldest, time.Since(partEnd.Add(-lastDur)))
					}
				}
			}
		}
		msn := m.MediaSequence + len(m.Segments)
		next = fmt.Sprintf("&_HLS_msn=%d&_HLS_part=%d", msn, len(m.Parts))
	}
	if len(announce) < 10 {
		b.Fatalf("only %d parts observed", len(announce))
	}
	b.Logf("part target %s (a player holds back %s)", partDur, 3*partDur)
	stats(announce).report(b, "hls-part-announced")
	stats(fetched).report(b, "hls-part-fetched")
	stats(oldest).report(b, "hls-part-first-frame-age")
}
