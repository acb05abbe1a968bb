package playback_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/store"
)

// benchEnv is a server whose camera has one real recorded 60 s object and
// its init segment; benchmarks index copies of it.
type benchEnv struct {
	*env
	cam  string
	real store.Segment
	obj  []byte
}

func startBench(b *testing.B) benchEnv {
	b.Helper()
	e := start(b, newConf(b))
	tok := e.login(adminEmail, adminPW)
	org := e.must(e.do("POST", "/api/v1/orgs", tok, map[string]string{"name": "bench"}), 201).str("id")
	cam := e.must(e.do("POST", "/api/v1/cameras", tok, map[string]any{"org_id": org, "name": "bench"}), 201).str("id")
	recordSessions(b, e.zone, cam, 60*time.Second, session{at: epoch, loops: 6})
	segs, err := e.zone.DB.ListSegments(context.Background(), cam, epoch, epoch.Add(time.Hour), 0)
	if err != nil || len(segs) != 1 {
		b.Fatalf("recorded %d segments (%v), want one of 60 s", len(segs), err)
	}
	rc, err := e.zone.Blobs.Get(context.Background(), segs[0].Key)
	if err != nil {
		b.Fatal(err)
	}
	obj, _ := io.ReadAll(rc)
	rc.Close()
	return benchEnv{env: e, cam: cam, real: segs[0], obj: obj}
}

// copyAt indexes a copy of the real segment starting at start; the object
// itself is stored only when store is set.
func (be benchEnv) copyAt(b *testing.B, start time.Time, store bool) {
	s := be.real
	s.Start, s.End = start, start.Add(be.real.End.Sub(be.real.Start))
	s.Key = fmt.Sprintf("cam/%s/%s/%d.m4s", be.cam, start.UTC().Format("2006/01/02"), start.UnixMicro())
	if store {
		if err := be.zone.Blobs.Put(context.Background(), s.Key, bytes.NewReader(be.obj), int64(len(be.obj))); err != nil {
			b.Fatal(err)
		}
	}
	if err := be.zone.DB.InsertSegment(context.Background(), s); err != nil {
		b.Fatal(err)
	}
}

func (be benchEnv) token(from, to time.Time) string {
	tok, err := be.signer.Sign(auth.MediaClaims{CameraID: be.cam, Perm: "playback", From: from, To: to, Expires: time.Now().Add(time.Hour)})
	if err != nil {
		panic(err)
	}
	return tok
}

func get(b *testing.B, u string, hdr ...string) int64 {
	req, _ := http.NewRequest("GET", u, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	n, _ := io.Copy(io.Discard, res.Body)
	if res.StatusCode/100 != 2 {
		b.Fatalf("GET %s: %d", u, res.StatusCode)
	}
	return n
}

// BenchmarkSeek90Days: one camera with 90 days of 60 s objects indexed
// (129600 rows in SQLite); each iteration opens the playlist of one hour
// in the middle and fetches its first HLS segment by byte range.
func BenchmarkSeek90Days(b *testing.B) {
	be := startBench(b)
	days := 90
	base := epoch.Add(-time.Duration(days) * 24 * time.Hour)
	t0 := time.Now()
	seek := base.Add(45*24*time.Hour + 30*time.Second)
	for i := range days * 1440 {
		at := base.Add(time.Duration(i) * time.Minute)
		be.copyAt(b, at, !at.Before(seek.Add(-time.Minute)) && at.Before(seek.Add(2*time.Minute)))
	}
	b.Logf("prefilled %d rows in %v", days*1440, time.Since(t0))
	from, to := seek, seek.Add(time.Hour)
	pl := be.base + "/media/v1/playback/" + be.cam + "/index.m3u8?token=" + url.QueryEscape(be.token(from, to))
	b.Run("playlist", func(b *testing.B) {
		for b.Loop() {
			get(b, pl)
		}
	})
	b.Run("playlist+first-segment", func(b *testing.B) {
		for b.Loop() {
			res, err := http.Get(pl)
			if err != nil {
				b.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			lines := strings.Split(string(body), "\n")
			var seg, rng string
			for i, l := range lines {
				if r, ok := strings.CutPrefix(l, "#EXT-X-BYTERANGE:"); ok {
					rng, seg = r, lines[i+1]
					break
				}
			}
			n, off, _ := strings.Cut(rng, "@")
			var ni, oi int64
			fmt.Sscan(n, &ni)
			fmt.Sscan(off, &oi)
			u, _ := url.Parse(pl)
			u, _ = u.Parse(seg)
			if got := get(b, u.String(), "Range", fmt.Sprintf("bytes=%d-%d", oi, oi+ni-1)); got != ni {
				b.Fatalf("segment: %d bytes, want %d", got, ni)
			}
		}
	})
}

// BenchmarkClipExport1h streams a one-hour clip made of 60 copies of a real
// recorded 60 s object and reports throughput and the peak heap in use.
func BenchmarkClipExport1h(b *testing.B) {
	be := startBench(b)
	start := epoch.Add(24 * time.Hour)
	for i := range 60 {
		be.copyAt(b, start.Add(time.Duration(i)*time.Minute), true)
	}
	tok := be.login(adminEmail, adminPW)
	u := fmt.Sprintf("%s/api/v1/cameras/%s/clip.mp4?from=%s&to=%s", be.base, be.cam,
		start.Format(time.RFC3339), start.Add(time.Hour).Format(time.RFC3339))
	// Measure from a collected heap (login's argon2 leaves 64 MiB of garbage).
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	var n int64
	for b.Loop() {
		n = get(b, u, "Authorization", "Bearer "+tok)
	}
	close(stop)
	wg.Wait()
	b.SetBytes(n)
	b.ReportMetric(float64(n)/(1<<20), "clip-MiB")
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(before.HeapInuse)/(1<<20), "idle-heap-MiB")
}
