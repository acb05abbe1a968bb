package playback_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkShareViewers: 100 viewers of one share link of a 5 min
// recorded range (5 real 60 s objects) on one api node, each playing the
// whole range at once: its playlist, then every HLS segment by byte range
// (through the api node: a link's objects are never presigned). One
// iteration is the 100 plays. "share" authorises with the links' media
// tokens (one directory read per request: is the link still there);
// "user" with a user's playback token, the same bytes without that read.
// Reported: bytes/s, requests/s and the process's CPU (server and the 100
// clients, which only read and discard) per wall second and per GB served.
func BenchmarkShareViewers(b *testing.B) {
	be := startBench(b)
	start := epoch.Add(48 * time.Hour)
	for i := range 5 {
		be.copyAt(b, start.Add(time.Duration(i)*time.Minute), true)
	}
	from, to := start, start.Add(5*time.Minute)
	tok := be.login(adminEmail, adminPW)
	link := be.must(be.do("POST", "/api/v1/cameras/"+be.cam+"/shares", tok,
		map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)}), 201).str("url")
	_, token, _ := strings.Cut(link, "/s/#")
	const viewers = 100
	shareURLs := make([]string, viewers)
	for i := range shareURLs {
		o := be.must(be.do("POST", "/api/v1/shares/open", "", map[string]string{"token": token}), 200)
		shareURLs[i] = o.str("hls_url")
	}
	userURL := be.base + "/media/v1/playback/" + be.cam + "/index.m3u8?token=" + url.QueryEscape(be.token(from, to))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: viewers}}
	for _, c := range []struct {
		name string
		urls func(i int) string
	}{
		{"share", func(i int) string { return shareURLs[i] }},
		{"user", func(int) string { return userURL }},
	} {
		b.Run(c.name, func(b *testing.B) {
			var bytes, reqs atomic.Int64
			cpu0, wall0 := cpuTime(), time.Now()
			for b.Loop() {
				var wg sync.WaitGroup
				for i := range viewers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						n, r, err := playAll(client, c.urls(i))
						if err != nil {
							b.Error(err)
						}
						bytes.Add(n)
						reqs.Add(r)
					}()
				}
				wg.Wait()
			}
			wall := time.Since(wall0).Seconds()
			b.ReportMetric(float64(bytes.Load())/wall/1e6, "MB/s")
			b.ReportMetric(float64(reqs.Load())/wall, "req/s")
			cpu := (cpuTime() - cpu0).Seconds()
			b.ReportMetric(cpu/wall, "cpu-cores")
			b.ReportMetric(cpu/(float64(bytes.Load())/1e9), "cpu-s/GB")
			b.ReportMetric(float64(bytes.Load())/float64(b.N)/viewers/1e6, "MB/viewer")
		})
	}
}

// playAll fetches a VOD playlist and every segment it lists by byte
// range, and returns the bytes and requests it took.
func playAll(c *http.Client, playlist string) (n, reqs int64, err error) {
	res, err := c.Get(playlist)
	if err != nil {
		return 0, 0, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		return 0, 1, fmt.Errorf("playlist: %d %s", res.StatusCode, body)
	}
	n, reqs = int64(len(body)), 1
	base, _ := url.Parse(playlist)
	lines := strings.Split(string(body), "\n")
	for i, l := range lines {
		rng, ok := strings.CutPrefix(l, "#EXT-X-BYTERANGE:")
		if !ok || i+1 >= len(lines) {
			continue
		}
		var size, off int64
		if _, err := fmt.Sscanf(rng, "%d@%d", &size, &off); err != nil {
			return n, reqs, err
		}
		u, _ := base.Parse(lines[i+1])
		req, _ := http.NewRequest("GET", u.String(), nil)
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", off, off+size-1))
		res, err := c.Do(req)
		if err != nil {
			return n, reqs, err
		}
		got, _ := io.Copy(io.Discard, res.Body)
		res.Body.Close()
		reqs++
		n += got
		if res.StatusCode != http.StatusPartialContent || got != size {
			return n, reqs, fmt.Errorf("segment: %d, %d of %d bytes", res.StatusCode, got, size)
		}
	}
	return n, reqs, nil
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
