package playback_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/testenv"
)

// gop is the keyframe interval of the sample; fragDur the recorder's fragment.
const (
	gop     = 2 * time.Second
	fragDur = time.Second
)

// recorded is a running server with camera A recorded from epoch for 40 s,
// a 20 s hole, then (after a publisher restart) 30 s more.
type recorded struct {
	*env
	w      world
	ffmpeg string
	conf   string // configuration file of the node, to start more
}

func startRecorded(t *testing.T) recorded {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	conf := newConf(t)
	e := start(t, conf)
	w := e.world()
	recordSessions(t, e.zone, w.camA, 10*time.Second,
		session{at: epoch, loops: 4},
		session{at: epoch.Add(60 * time.Second), loops: 3})
	return recorded{env: e, w: w, ffmpeg: ffmpeg, conf: conf}
}

func ts(d time.Duration) string { return epoch.Add(d).Format(time.RFC3339Nano) }

// playbackURL opens a playback session as tok and returns the absolute
// playlist URL.
func (r recorded) playbackURL(tok string, from, to time.Duration) string {
	r.t.Helper()
	res := r.must(r.do("POST", "/api/v1/cameras/"+r.w.camA+"/playback", tok, map[string]string{"from": ts(from), "to": ts(to)}), 200)
	u := res.str("hls_url")
	// Absolute, like the live hls_url: a player needs no base to resolve it.
	if !strings.HasPrefix(u, r.base+"/media/v1/playback/"+r.w.camA+"/index.m3u8?token=") {
		r.t.Fatalf("hls_url %q, want it under %s", u, r.base)
	}
	if exp, err := time.Parse(time.RFC3339, res.str("expires_at")); err != nil || exp.Before(time.Now().Add(50*time.Minute)) {
		r.t.Fatalf("expires_at %q", res.str("expires_at"))
	}
	return u
}

// playlistLines fetches a playlist.
func (r recorded) playlistLines(u string) []string {
	r.t.Helper()
	res := r.must(r.do("GET", u, "", nil), 200)
	if ct := res.Header.Get("Content-Type"); ct != "application/vnd.apple.mpegurl" {
		r.t.Fatalf("playlist Content-Type %q", ct)
	}
	return strings.Split(strings.TrimSpace(string(res.Raw)), "\n")
}

// programDates returns the EXT-X-PROGRAM-DATE-TIME values of a playlist.
func programDates(t *testing.T, lines []string) []time.Time {
	t.Helper()
	var out []time.Time
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			tm, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				t.Fatalf("bad date %q", v)
			}
			out = append(out, tm)
		}
	}
	return out
}

func count(lines []string, prefix string) int {
	n := 0
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func within(got, want, lo, hi time.Duration) bool { return got >= want+lo && got <= want+hi }

func TestPlayback(t *testing.T) {
	r := startRecorded(t)
	camA := r.w.camA

	t.Run("timeline", func(t *testing.T) {
		res := r.must(r.do("GET", "/api/v1/cameras/"+camA+"/recordings?from="+ts(-time.Hour)+"&to="+ts(time.Hour), r.w.tok["viewer"], nil), 200)
		var body struct {
			Spans []struct{ Start, End time.Time }
		}
		if err := json.Unmarshal(res.Raw, &body); err != nil {
			t.Fatal(err)
		}
		want := [][2]time.Duration{{0, 40 * time.Second}, {60 * time.Second, 90 * time.Second}}
		if len(body.Spans) != len(want) {
			t.Fatalf("spans %s, want %v", res.Raw, want)
		}
		for i, s := range body.Spans {
			if !s.Start.Equal(epoch.Add(want[i][0])) || !s.End.Equal(epoch.Add(want[i][1])) {
				t.Errorf("span %d = %v..%v, want %v..%v", i, s.Start, s.End, epoch.Add(want[i][0]), epoch.Add(want[i][1]))
			}
		}
		// Default range is the last 24 h: nothing recorded then.
		res = r.must(r.do("GET", "/api/v1/cameras/"+camA+"/recordings", r.w.tok["viewer"], nil), 200)
		if strings.TrimSpace(string(res.Raw)) != `{"spans":[]}` {
			t.Errorf("default timeline %s", res.Raw)
		}
		for _, q := range []string{"?from=yesterday", "?from=" + ts(0) + "&to=" + ts(-time.Second), "?from=" + ts(0) + "&to=" + ts(32*24*time.Hour)} {
			if res := r.do("GET", "/api/v1/cameras/"+camA+"/recordings"+q, r.w.tok["viewer"], nil); res.Status != 400 {
				t.Errorf("%s: %d %s, want 400", q, res.Status, res.Raw)
			}
		}
	})

	t.Run("hls seek into an object plays from there", func(t *testing.T) {
		from, to := 13500*time.Millisecond, 33500*time.Millisecond // 13.5 s is inside the 10..20 s object
		u := r.playbackURL(r.w.tok["viewer"], from, to)
		lines := r.playlistLines(u)
		for _, tag := range []string{"#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-ENDLIST"} {
			if !slices.Contains(lines, tag) {
				t.Errorf("playlist lacks %s", tag)
			}
		}
		if n := count(lines, "#EXT-X-MAP:"); n != 1 {
			t.Errorf("%d EXT-X-MAP, want 1", n)
		}
		if n := count(lines, "#EXT-X-DISCONTINUITY"); n != 0 {
			t.Errorf("%d discontinuities in a continuous range", n)
		}
		if count(lines, "#EXT-X-BYTERANGE:") != count(lines, "#EXTINF:") {
			t.Errorf("segments without byte ranges")
		}
		pdt := programDates(t, lines)
		if len(pdt) == 0 || count(lines, "#EXTINF:") != len(pdt) {
			t.Fatalf("%d program dates for %d segments", len(pdt), count(lines, "#EXTINF:"))
		}
		if d := pdt[0].Sub(epoch.Add(from)); d > 0 || d <= -gop {
			t.Errorf("first segment starts %v from `from`, want within one GOP before it", d)
		}
		frames := ffmpegFrames(t, r.ffmpeg, u)
		got := time.Duration(frames) * 40 * time.Millisecond
		if !within(got, to-from, 0, gop+fragDur) {
			t.Errorf("ffmpeg decoded %d frames (%v), want %v (+ up to a GOP before and a fragment after)", frames, got, to-from)
		}
	})

	t.Run("hls across a gap has a discontinuity and plays", func(t *testing.T) {
		u := r.playbackURL(r.w.tok["operator"], 30*time.Second, 70*time.Second)
		lines := r.playlistLines(u)
		if n := count(lines, "#EXT-X-DISCONTINUITY"); n != 1 {
			t.Fatalf("%d discontinuities, want 1:\n%s", n, strings.Join(lines, "\n"))
		}
		pdt := programDates(t, lines)
		if !pdt[0].Equal(epoch.Add(30*time.Second)) || !pdt[len(pdt)-1].Before(epoch.Add(70*time.Second)) {
			t.Errorf("program dates %v .. %v", pdt[0], pdt[len(pdt)-1])
		}
		// Every packet of both sides arrives...
		if n := ffmpegFrames(t, r.ffmpeg, u, "-c", "copy"); n != 20*25 {
			t.Errorf("ffmpeg read %d video packets, want %d (10 s before the hole, 10 s after)", n, 20*25)
		}
		// ...and decodes. ffmpeg's HLS demuxer ignores EXT-X-DISCONTINUITY, so
		// it drops the first fragment after the decode times restart; players
		// that honour the tag (hls.js, Safari, VLC) do not.
		if n := ffmpegFrames(t, r.ffmpeg, u); n < 20*25-int(fragDur/(40*time.Millisecond)) || n > 20*25 {
			t.Errorf("ffmpeg decoded %d frames, want about %d", n, 20*25)
		}
	})

	t.Run("object route", func(t *testing.T) {
		u := r.playbackURL(r.w.tok["viewer"], 0, 20*time.Second)
		lines := r.playlistLines(u)
		var seg, br string
		for i, l := range lines {
			if strings.HasPrefix(l, "#EXT-X-BYTERANGE:") {
				br, seg = strings.TrimPrefix(l, "#EXT-X-BYTERANGE:"), lines[i+1]
				break
			}
		}
		n, off, _ := strings.Cut(br, "@")
		segURL, _ := url.Parse(u)
		segURL, _ = segURL.Parse(seg)
		req, _ := http.NewRequest("GET", segURL.String(), nil)
		o, _ := strconv.Atoi(off)
		ln, _ := strconv.Atoi(n)
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", o, o+ln-1))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 206 || res.ContentLength != int64(ln) {
			t.Errorf("range read: %d, %d bytes, want 206 with %d", res.StatusCode, res.ContentLength, ln)
		}
		tok := segURL.Query().Get("token")
		key := strings.TrimPrefix(segURL.Path, "/media/v1/playback/"+camA+"/obj/")
		base := r.base + "/media/v1/playback/" + camA + "/obj/"
		cases := []struct {
			name, url string
			status    int
		}{
			{"own object", base + key + "?token=" + tok, 200},
			{"other camera's prefix", base + strings.Replace(key, camA, r.w.camB, 1) + "?token=" + tok, 403},
			{"outside cam/", base + "other/x.m4s?token=" + tok, 403},
			{"dot dot", base + "cam/" + camA + "/%2e%2e/" + r.w.camB + "/x.m4s?token=" + tok, 403},
			{"object outside the token's range", base + "cam/" + camA + "/2026/03/01/" + strconv.FormatInt(epoch.Add(70*time.Second).UnixMicro(), 10) + ".m4s?token=" + tok, 403},
			{"no token", base + key, 401},
		}
		for _, c := range cases {
			res := r.do("GET", c.url, "", nil)
			if res.Status != c.status {
				t.Errorf("%s: %d %.200s, want %d", c.name, res.Status, res.Raw, c.status)
			}
		}
	})

	t.Run("a token admits only the objects overlapping its range", func(t *testing.T) {
		// objects returns the init and segment URLs of a range's playlist.
		objects := func(from, to time.Duration) (inits, segs []string) {
			u := r.playbackURL(r.w.tok["viewer"], from, to)
			base, _ := url.Parse(u)
			for _, l := range r.playlistLines(u) {
				if m, ok := strings.CutPrefix(l, "#EXT-X-MAP:URI="); ok {
					ref, _ := base.Parse(strings.Trim(m, `"`))
					inits = append(inits, ref.String())
				} else if l != "" && !strings.HasPrefix(l, "#") {
					ref, _ := base.Parse(l)
					segs = append(segs, ref.String())
				}
			}
			return inits, segs
		}
		// One second near the end of the recording, and the first seconds.
		lateInits, lateSegs := objects(85*time.Second, 86*time.Second)
		_, earlySegs := objects(0, time.Second)
		if len(lateInits) != 1 || len(lateSegs) != 1 || len(earlySegs) != 1 {
			t.Fatalf("playlists name inits %v, segments %v and %v", lateInits, lateSegs, earlySegs)
		}
		lateURL, _ := url.Parse(lateSegs[0])
		tok := lateURL.Query().Get("token")
		withToken := func(raw string) string {
			u, _ := url.Parse(raw)
			q := u.Query()
			q.Set("token", tok)
			u.RawQuery = q.Encode()
			return u.String()
		}
		for _, c := range []struct {
			name, url string
			status    int
		}{
			{"the segment of the range", lateSegs[0], 200},
			{"its init segment", lateInits[0], 200},
			{"a segment 85 s before the range", withToken(earlySegs[0]), 403},
			{"a segment name in the range that is not indexed", nextMicro(t, lateSegs[0]), 403},
			{"another object of the camera", withToken(strings.Replace(lateInits[0], "/init/", "/other/", 1)), 403},
		} {
			if res := r.do("GET", c.url, "", nil); res.Status != c.status {
				t.Errorf("%s: %d %.200s, want %d", c.name, res.Status, res.Raw, c.status)
			}
		}
	})

	t.Run("bad tokens are refused", func(t *testing.T) {
		u := r.playbackURL(r.w.tok["viewer"], 0, 20*time.Second)
		good := strings.SplitN(u, "token=", 2)[1]
		good, _ = url.QueryUnescape(good)
		sign := func(c auth.MediaClaims) string {
			tok, err := r.signer.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
		other, _ := auth.NewSigner([]byte("another key that is long enough, 32+ bytes"))
		forged, _ := other.Sign(auth.MediaClaims{CameraID: camA, Perm: "playback", From: epoch, To: epoch.Add(time.Hour), Expires: time.Now().Add(time.Hour)})
		tampered := good[:len(good)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(good, "AA")]
		cases := map[string]string{
			"forged":       forged,
			"tampered":     tampered,
			"expired":      sign(auth.MediaClaims{CameraID: camA, Perm: "playback", From: epoch, To: epoch.Add(time.Hour), Expires: time.Now().Add(-time.Second)}),
			"other camera": sign(auth.MediaClaims{CameraID: r.w.camB, Perm: "playback", From: epoch, To: epoch.Add(time.Hour), Expires: time.Now().Add(time.Hour)}),
			"live token":   sign(auth.MediaClaims{CameraID: camA, Perm: "live", Expires: time.Now().Add(time.Hour)}),
			"no range":     sign(auth.MediaClaims{CameraID: camA, Perm: "playback", Expires: time.Now().Add(time.Hour)}),
			"garbage":      "x.y",
		}
		for name, tok := range cases {
			for _, p := range []string{"index.m3u8", "obj/cam/" + camA + "/init/x.mp4"} {
				res := r.do("GET", "/media/v1/playback/"+camA+"/"+p+"?token="+url.QueryEscape(tok), "", nil)
				if res.Status != 401 || res.errCode() != "unauthorized" {
					t.Errorf("%s on %s: %d %s, want 401", name, p, res.Status, res.Raw)
				}
			}
		}
		// A genuine token on another camera's path.
		res := r.do("GET", "/media/v1/playback/"+r.w.camB+"/index.m3u8?token="+url.QueryEscape(good), "", nil)
		if res.Status != 401 {
			t.Errorf("token on another camera's path: %d", res.Status)
		}
	})

	t.Run("clip across objects", func(t *testing.T) {
		from, to := 5500*time.Millisecond, 35500*time.Millisecond
		path := fmt.Sprintf("/api/v1/cameras/%s/clip.mp4?from=%s&to=%s", camA, ts(from), ts(to))
		res := r.must(r.do("GET", path, r.w.tok["operator"], nil), 200)
		if ct := res.Header.Get("Content-Type"); ct != "video/mp4" {
			t.Errorf("Content-Type %q", ct)
		}
		if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename=Front-door_20260301T120004Z.mp4` {
			t.Errorf("Content-Disposition %q", cd)
		}
		start, err := time.Parse(time.RFC3339Nano, res.Header.Get("X-Camcloud-Clip-Start"))
		if err != nil {
			t.Fatal(err)
		}
		if d := start.Sub(epoch.Add(from)); d > 0 || d <= -gop {
			t.Errorf("clip starts %v from `from`, want within one GOP before", d)
		}
		p := probeFile(t, res.Raw)
		if !within(p.duration, to-from, 0, gop+fragDur) || p.start != 0 {
			t.Errorf("ffprobe: start %v duration %v, want 0 and %v (+ up to a GOP and a fragment)", p.start, p.duration, to-from)
		}
		if want := int(p.duration / (40 * time.Millisecond)); p.videoPackets != want {
			t.Errorf("%d video packets in %v", p.videoPackets, p.duration)
		}
	})

	t.Run("clip across a publisher restart stays continuous", func(t *testing.T) {
		path := fmt.Sprintf("/api/v1/cameras/%s/clip.mp4?from=%s&to=%s", camA, ts(30*time.Second), ts(70*time.Second))
		res := r.must(r.do("GET", path, r.w.tok["operator"], nil), 200)
		p := probeFile(t, res.Raw)
		if !within(p.duration, 20*time.Second, 0, 50*time.Millisecond) || p.videoPackets != 500 {
			t.Errorf("clip lasts %v with %d video packets, want 20s and 500 (the hole skipped)", p.duration, p.videoPackets)
		}
		if p.maxStep > 100*time.Millisecond {
			t.Errorf("video decode times jump by %v", p.maxStep)
		}
		frames := ffmpegFrames(t, r.ffmpeg, writeTemp(t, res.Raw))
		if frames != 500 {
			t.Errorf("ffmpeg decoded %d frames, want 500", frames)
		}
		if n, back := audioSteps(t, res.Raw); n == 0 || back > 0 {
			t.Errorf("audio of the clip: %d packets, %d of them not after the one before (the join overlaps)", n, back)
		}
	})

	t.Run("clip bounds", func(t *testing.T) {
		for _, c := range []struct {
			q      string
			status int
			code   string
		}{
			{"from=" + ts(0) + "&to=" + ts(2*time.Hour+time.Second), 400, "range_too_long"},
			{"from=" + ts(0), 400, "bad_request"},
			{"from=" + ts(10*time.Second) + "&to=" + ts(0), 400, "bad_request"},
			{"from=" + ts(45*time.Second) + "&to=" + ts(55*time.Second), 404, "not_found"},
		} {
			res := r.do("GET", "/api/v1/cameras/"+camA+"/clip.mp4?"+c.q, r.w.tok["operator"], nil)
			if res.Status != c.status || res.errCode() != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.q, res.Status, res.Raw, c.status, c.code)
			}
		}
	})

	t.Run("image", func(t *testing.T) {
		res := r.must(r.do("GET", "/api/v1/cameras/"+camA+"/image?at="+ts(7*time.Second), r.w.tok["viewer"], nil), 200)
		if res.Header.Get("Content-Type") != "image/jpeg" || len(res.Raw) < 1000 || res.Raw[0] != 0xff || res.Raw[1] != 0xd8 {
			t.Errorf("not a JPEG: %s, %d bytes", res.Header.Get("Content-Type"), len(res.Raw))
		}
		if got := res.Header.Get("X-Camcloud-Image-Time"); got != ts(6*time.Second) {
			t.Errorf("image time %s, want the keyframe at %s", got, ts(6*time.Second))
		}
		for _, at := range []time.Duration{50 * time.Second, -time.Hour, 2 * time.Hour} {
			if res := r.do("GET", "/api/v1/cameras/"+camA+"/image?at="+ts(at), r.w.tok["viewer"], nil); res.Status != 404 {
				t.Errorf("image at %v: %d, want 404", at, res.Status)
			}
		}
	})

	t.Run("image without ffmpeg", func(t *testing.T) {
		t.Setenv("PATH", "") // the second node finds no ffmpeg
		bare := start(t, r.conf)
		res := r.do("GET", bare.base+"/api/v1/cameras/"+camA+"/image?at="+ts(7*time.Second), r.w.tok["viewer"], nil)
		if res.Status != 501 || res.errCode() != "not_implemented" {
			t.Errorf("%d %s, want 501 not_implemented", res.Status, res.Raw)
		}
	})

	t.Run("permissions", func(t *testing.T) {
		q := "?from=" + ts(0) + "&to=" + ts(10*time.Second)
		body := map[string]string{"from": ts(0), "to": ts(10 * time.Second)}
		routes := []struct {
			method, path string
			body         any
		}{
			{"GET", "/recordings" + q, nil},
			{"POST", "/playback", body},
			{"GET", "/clip.mp4" + q, nil},
			{"GET", "/image?at=" + ts(time.Second), nil},
		}
		for _, rt := range routes {
			if res := r.do(rt.method, "/api/v1/cameras/"+camA+rt.path, r.w.tok["other"], rt.body); res.Status != 404 {
				t.Errorf("member of another org %s %s: %d, want 404", rt.method, rt.path, res.Status)
			}
			if res := r.do(rt.method, "/api/v1/cameras/"+camA+rt.path, "", rt.body); res.Status != 401 {
				t.Errorf("anonymous %s %s: %d, want 401", rt.method, rt.path, res.Status)
			}
		}
		if res := r.do("GET", "/api/v1/cameras/"+camA+"/clip.mp4"+q, r.w.tok["viewer"], nil); res.Status != 403 || res.errCode() != "forbidden" {
			t.Errorf("viewer export: %d %s, want 403", res.Status, res.Raw)
		}
		for _, b := range []any{map[string]string{"from": ts(0)}, map[string]string{"from": ts(0), "to": ts(25 * time.Hour)}, map[string]string{"from": ts(time.Hour), "to": ts(2 * time.Hour)}} {
			if res := r.do("POST", "/api/v1/cameras/"+camA+"/playback", r.w.tok["viewer"], b); res.Status != 400 && res.Status != 404 {
				t.Errorf("playback %v: %d %s, want 400 or 404", b, res.Status, res.Raw)
			}
		}
	})

	t.Run("audit", func(t *testing.T) {
		res := r.must(r.do("GET", "/api/v1/audit?camera="+camA, r.w.admin, nil), 200)
		var body struct {
			Entries []struct {
				Actor, Action, Target string
				CameraID              string `json:"camera_id"`
			}
		}
		if err := json.Unmarshal(res.Raw, &body); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, e := range body.Entries {
			seen[e.Action+" by "+e.Actor] = true
			if strings.HasPrefix(e.Action, "media.") && e.Target != "camera:"+camA {
				t.Errorf("entry %+v", e)
			}
		}
		for _, want := range []string{"media.playback by viewer@example.com", "media.playback by operator@example.com",
			"media.export by operator@example.com", "media.image by viewer@example.com"} {
			if !seen[want] {
				t.Errorf("no audit entry %q in %v", want, seen)
			}
		}
		if seen["media.export by viewer@example.com"] {
			t.Errorf("a refused export was audited as done")
		}
	})
}

// probed is what ffprobe says of an MP4 file.
type probed struct {
	start, duration time.Duration
	videoPackets    int
	maxStep         time.Duration // largest step between consecutive video DTS
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "clip.mp4")
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// audioSteps counts the audio packets of an MP4 and those whose decode
// time is not after the one before.
func audioSteps(t *testing.T, b []byte) (n, back int) {
	t.Helper()
	ffprobe := testenv.Tool(t, "ffprobe")
	out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "a:0", "-show_entries", "packet=dts",
		"-of", "csv=p=0", writeTemp(t, b)).Output()
	if err != nil {
		t.Fatalf("ffprobe: %v", err)
	}
	prev := int64(-1 << 62)
	for _, line := range strings.Fields(string(out)) {
		v, err := strconv.ParseInt(strings.TrimSuffix(line, ","), 10, 64)
		if err != nil {
			continue
		}
		if v <= prev {
			back++
		}
		prev = v
		n++
	}
	return n, back
}

func probeFile(t *testing.T, b []byte) probed {
	t.Helper()
	ffprobe := testenv.Tool(t, "ffprobe")
	p := writeTemp(t, b)
	out, err := exec.Command(ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "format=start_time,duration:packet=dts_time",
		"-of", "compact=p=0:nk=0", p).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe: %v\n%s", err, out)
	}
	var res probed
	prev := -1.0
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "dts_time="); ok {
			f, _ := strconv.ParseFloat(v, 64)
			if prev >= 0 {
				res.maxStep = max(res.maxStep, time.Duration((f-prev)*float64(time.Second)))
			}
			prev = f
			res.videoPackets++
			continue
		}
		for _, kv := range strings.Split(line, "|") {
			k, v, _ := strings.Cut(kv, "=")
			f, _ := strconv.ParseFloat(v, 64)
			switch k {
			case "start_time":
				res.start = time.Duration(f * float64(time.Second)).Round(time.Millisecond)
			case "duration":
				res.duration = time.Duration(f * float64(time.Second)).Round(time.Millisecond)
			}
		}
	}
	return res
}

// nextMicro returns a segment URL whose object name starts 1 µs later.
func nextMicro(t *testing.T, raw string) string {
	t.Helper()
	u, _ := url.Parse(raw)
	dir, name := path.Split(u.Path)
	us, err := strconv.ParseInt(strings.TrimSuffix(name, ".m4s"), 10, 64)
	if err != nil {
		t.Fatalf("segment URL %s", raw)
	}
	u.Path = dir + strconv.FormatInt(us+1, 10) + ".m4s"
	return u.String()
}
