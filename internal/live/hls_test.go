package live

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// playlistURIs returns the URIs of a playlist: plain lines and URI="..."
// attributes.
func playlistURIs(pl string) []string {
	var out []string
	for _, line := range strings.Split(pl, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "":
		case !strings.HasPrefix(line, "#"):
			out = append(out, line)
		default:
			for _, m := range uriAttr.FindAllStringSubmatch(line, -1) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

var uriAttr = regexp.MustCompile(`URI="([^"]+)"`)

// authRefused matches ffmpeg's report of an HTTP 401 or 403 answer.
var authRefused = regexp.MustCompile(`(?i)(HTTP error|Server returned) 40[13]`)

// TestHLSFFmpegPlays: ffmpeg, following the playlists with nothing but the
// URL handed out, reads H.264 video from the live muxer.
func TestHLSFFmpegPlays(t *testing.T) {
	t.Parallel()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	u := e.base + "/live/v1/cam/index.m3u8?token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-i", u, "-t", "3", "-c", "copy", "-f", "null", "-")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("ffmpeg failed: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("Video: h264")) {
		t.Fatalf("ffmpeg saw no H.264 video:\n%s", out)
	}
	frames := regexp.MustCompile(`frame=\s*(\d+)`).FindAllSubmatch(out, -1)
	if len(frames) == 0 {
		t.Fatalf("ffmpeg reported no frames:\n%s", out)
	}
	n, _ := strconv.Atoi(string(frames[len(frames)-1][1]))
	if n < 25 {
		t.Fatalf("ffmpeg copied %d video frames in 3 s of stream, want at least 25:\n%s", n, out)
	}
	// ffmpeg reports a refused request as "HTTP error 403 Forbidden" or
	// "Server returned 401 Unauthorized"; a bare 401 or 403 can be part of
	// the server's random port.
	if authRefused.Match(out) {
		t.Fatalf("ffmpeg hit an auth error on a sub-URL:\n%s", out)
	}
}

// TestHLSTokenReachesEverySubURL: every URI in the multivariant and media
// playlists carries the token, and the files they name are served.
func TestHLSTokenReachesEverySubURL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	tok := e.token("cam", "live", time.Minute)
	q := "token=" + url.QueryEscape(tok)
	code, body := get(t, e.base+"/live/v1/cam/index.m3u8?"+q)
	if code != 200 {
		t.Fatalf("index.m3u8: %d %s", code, body)
	}
	uris := playlistURIs(string(body))
	if len(uris) == 0 {
		t.Fatalf("no URIs in multivariant playlist:\n%s", body)
	}
	var media string
	for _, u := range uris {
		if !strings.Contains(u, q) {
			t.Fatalf("URI %q lacks the token\n%s", u, body)
		}
		if strings.Contains(u, "video") {
			media = u
		}
	}
	code, body = get(t, e.base+"/live/v1/cam/"+media)
	if code != 200 || !strings.Contains(string(body), "#EXT-X-PART:") || !strings.Contains(string(body), "#EXT-X-MAP:") {
		t.Fatalf("media playlist: %d\n%s", code, body)
	}
	if !strings.Contains(string(body), "#EXT-X-PROGRAM-DATE-TIME:") {
		t.Fatalf("media playlist has no program date-time:\n%s", body)
	}
	fetched := 0
	for _, u := range playlistURIs(string(body)) {
		if u == "gap.mp4" {
			continue // EXT-X-GAP placeholders are never fetched
		}
		if !strings.Contains(u, q) {
			t.Fatalf("URI %q lacks the token\n%s", u, body)
		}
		if strings.Contains(u, "_part") && fetched > 3 {
			continue
		}
		c, b := get(t, e.base+"/live/v1/cam/"+u)
		if c != 200 || len(b) < 8 {
			t.Fatalf("GET %s: %d (%d bytes)", u, c, len(b))
		}
		if box := string(b[4:8]); box != "ftyp" && box != "moof" && box != "styp" {
			t.Fatalf("GET %s: starts with box %q, want fMP4", u, box)
		}
		fetched++
	}
	if fetched < 2 {
		t.Fatalf("fetched %d files, want the init segment and media", fetched)
	}
	// Without the token, the same sub-URL is refused.
	if c, _ := get(t, e.base+"/live/v1/cam/"+strings.Split(media, "?")[0]); c != 401 {
		t.Fatalf("media playlist without token: %d, want 401", c)
	}
	if c, b := get(t, e.base+"/live/v1/cam/nope_seg1.mp4?"+q); c != 404 || errCode(b) != "not_found" {
		t.Fatalf("unknown file: %d %s", c, b)
	}
}

// TestHLSViewersShareOneMuxer: two players of one camera use one muxer.
func TestHLSViewersShareOneMuxer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok := e.token("cam", "live", time.Minute)
			codes[i], _ = get(t, e.base+"/live/v1/cam/index.m3u8?token="+url.QueryEscape(tok))
		}()
	}
	wg.Wait()
	if codes[0] != 200 || codes[1] != 200 {
		t.Fatalf("statuses %v", codes)
	}
	if n := e.svc.muxerCount(); n != 1 {
		t.Fatalf("%d muxers, want 1", n)
	}
	if v := testCounter(e.svc.m.muxersStarted); v != 1 {
		t.Fatalf("%v muxers started, want 1", v)
	}
	if n := e.svc.hlsViewerCount(); n != 2 {
		t.Fatalf("%d HLS viewers counted, want 2", n)
	}
}

// TestHLSMuxerLifecycle: an idle muxer closes after IdleTimeout; a muxer
// whose stream ended closes, and the next publish gets a new one.
func TestHLSMuxerLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 400*time.Millisecond)
	_, stop := publish(t, e.hub, "cam", "sample-h264.ts", nil)
	u := e.base + "/live/v1/cam/index.m3u8?token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	if c, b := get(t, u); c != 200 {
		t.Fatalf("index: %d %s", c, b)
	}
	testenv.Eventually(t, 5*time.Second, "the idle muxer to close", func() bool { return e.svc.muxerCount() == 0 })

	if c, _ := get(t, u); c != 200 {
		t.Fatal("restart after idle failed")
	}
	if v := testCounter(e.svc.m.muxersStarted); v != 2 {
		t.Fatalf("%v muxers started, want 2", v)
	}
	stop()
	testenv.Eventually(t, 5*time.Second, "the muxer of the ended stream to close", func() bool { return e.svc.muxerCount() == 0 })
	if c, b := get(t, u); c != 404 || errCode(b) != "not_live" {
		t.Fatalf("after the stream ended: %d %s, want 404 not_live", c, b)
	}
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	if c, b := get(t, u); c != 200 {
		t.Fatalf("after a new publish: %d %s", c, b)
	}
	if v := testCounter(e.svc.m.muxersStarted); v != 3 {
		t.Fatalf("%v muxers started, want 3", v)
	}
}

// TestHLSReplacedStreamGetsNewMuxer: a second publisher replacing the first
// (without the first ending on its own) gets its own muxer at once.
func TestHLSReplacedStreamGetsNewMuxer(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 10*time.Second)
	publish(t, e.hub, "cam", "sample-h264.ts", nil)
	u := e.base + "/live/v1/cam/index.m3u8?token=" + url.QueryEscape(e.token("cam", "live", time.Minute))
	if c, _ := get(t, u); c != 200 {
		t.Fatal("first publish")
	}
	st2, _ := publish(t, e.hub, "cam", "sample-h264.ts", nil)
	if c, _ := get(t, u); c != 200 {
		t.Fatal("second publish")
	}
	e.svc.mu.Lock()
	m := e.svc.muxers["cam"]
	e.svc.mu.Unlock()
	if m == nil || m.stream != st2 {
		t.Fatal("the muxer does not follow the new stream")
	}
	if n := e.svc.muxerCount(); n != 1 {
		t.Fatalf("%d muxers", n)
	}
}

func TestValidHLSFile(t *testing.T) {
	for f, want := range map[string]bool{"index.m3u8": true, "video1_stream.m3u8": true, "ab12_video1_part3.mp4": true,
		"": false, "../x.mp4": false, "x.ts": false, "a b.mp4": false, strings.Repeat("a", 200) + ".mp4": false} {
		if got := validHLSFile(f); got != want {
			t.Errorf("validHLSFile(%q) = %v", f, got)
		}
	}
}

var _ = fmt.Sprint

// The auth check of TestHLSFFmpegPlays matches ffmpeg's reports of a
// refused request and nothing else (a port such as 34403 once failed it).
func TestAuthRefusedMatchesFFmpegReports(t *testing.T) {
	for _, c := range []struct {
		line string
		want bool
	}{
		{"[http @ 0x5634] HTTP error 403 Forbidden", true},
		{"http://127.0.0.1:8080/x.m3u8: Server returned 401 Unauthorized (authorization failed)", true},
		{"[http @ 0x5634] HTTP error 404 File not found", false},
		{"[hls @ 0x55a4] Opening 'http://127.0.0.1:34403/live/v1/cam/video1_stream.m3u8?token=x' for reading", false},
		{"frame=  401 fps=0.0 q=-1.0 size=N/A", false},
	} {
		if got := authRefused.MatchString(c.line); got != c.want {
			t.Errorf("%q: matched %v, want %v", c.line, got, c.want)
		}
	}
}
