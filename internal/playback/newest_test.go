package playback_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
)

// newestSegment is the segment duration of the newest-minute tests: long
// enough that the first checks run while nothing is indexed yet.
const (
	newestSegment = 20 * time.Second
	frame         = 40 * time.Millisecond // the sample's 25 fps
	// spanLag bounds how far before now the timeline of a streaming
	// camera may end: a fragment (1 s), the group commit (0.1 s) and the
	// read batching of ingest (0.1 s), with room for a loaded machine.
	spanLag = 2500 * time.Millisecond
)

// newest is a deployment with a camera streaming the sample (2 s GOP, 25
// fps, AAC) in real time: an api node and, in the split layout, a separate
// camera server process (separate App, HTTP between them), or one process
// with every role.
type newest struct {
	*env
	w      world
	holder string // base URL of the camera server's HTTP
	began  time.Time
	ffmpeg string
}

func startNewest(t *testing.T, layout string) *newest {
	t.Helper()
	ffmpeg := testenv.Tool(t, "ffmpeg")
	testenv.Tool(t, "ffprobe")
	conf := newConf(t)
	seg := "--segment-duration=" + newestSegment.String()
	var e *env
	var cs *apptest.Node
	switch layout {
	case "split":
		e = start(t, conf)
		cs = apptest.Start(t, "--config", conf, "--role", "camera-server", "--media-key", string(testKey), seg)
	case "all":
		cs = apptest.Start(t, "--config", conf, "--max-clip", "2h", "--media-key", string(testKey), seg)
		e = envOf(t, cs)
	}
	n := &newest{env: e, w: e.world(), holder: cs.Base, ffmpeg: ffmpeg}
	var created struct {
		Ingest struct {
			RTSP string `json:"rtsp_url"`
		}
	}
	testenv.APICall(t, e.base, n.w.admin, "POST", "/api/v1/cameras/"+n.w.camA+"/rotate-key", nil, &created)
	u, err := url.Parse(created.Ingest.RTSP)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = cs.App.CamServer.RTSPAddr()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	n.began = time.Now()
	go func() {
		defer close(done)
		_ = sim.Push(ctx, []string{u.String()}, testenv.Sample(t, "sample-h264.ts"), nil)
	}()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 30*time.Second, "the camera online on its server", func() bool {
		var c struct{ Status struct{ Online bool } }
		testenv.APICall(t, e.base, n.w.admin, "GET", "/api/v1/cameras/"+n.w.camA, nil, &c)
		return c.Status.Online
	})
	return n
}

// indexed returns the camera's index rows.
func (n *newest) indexed() []store.Segment {
	n.t.Helper()
	segs, err := n.zone.DB.ListSegments(context.Background(), n.w.camA, n.began.Add(-time.Minute), time.Now().Add(time.Minute), 1000)
	if err != nil {
		n.t.Fatal(err)
	}
	return segs
}

// spans returns the camera's timeline of the last 5 minutes, and when it
// was asked for.
func (n *newest) spans(tok string) ([]store.Span, time.Time) {
	n.t.Helper()
	now := time.Now()
	q := "?from=" + now.Add(-5*time.Minute).UTC().Format(time.RFC3339Nano) + "&to=" + now.UTC().Format(time.RFC3339Nano)
	res := n.must(n.do("GET", "/api/v1/cameras/"+n.w.camA+"/recordings"+q, tok, nil), 200)
	var body struct{ Spans []store.Span }
	if err := json.Unmarshal(res.Raw, &body); err != nil {
		n.t.Fatal(err)
	}
	return body.Spans, now
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// image gets the image at at; it returns the JPEG and its keyframe's time.
func (n *newest) image(at time.Time) ([]byte, time.Time) {
	n.t.Helper()
	res := n.must(n.do("GET", "/api/v1/cameras/"+n.w.camA+"/image?at="+rfc(at), n.w.tok["viewer"], nil), 200)
	if res.Header.Get("Content-Type") != "image/jpeg" || !bytes.HasPrefix(res.Raw, []byte{0xff, 0xd8}) {
		n.t.Fatalf("not a JPEG: %s, %d bytes", res.Header.Get("Content-Type"), len(res.Raw))
	}
	kt, err := time.Parse(time.RFC3339Nano, res.Header.Get("X-Camcloud-Image-Time"))
	if err != nil {
		n.t.Fatal(err)
	}
	return res.Raw, kt
}

// clip exports [from, to) and checks its frames against the range with
// ffprobe: the first is a keyframe at most a GOP before from, the last is
// within one frame before to, every frame follows the one before by one
// frame, and the audio never steps back. It returns the file and where it
// starts.
func (n *newest) clip(from, to time.Time) ([]byte, time.Time) {
	t := n.t.(*testing.T)
	t.Helper()
	res := n.must(n.do("GET", fmt.Sprintf("/api/v1/cameras/%s/clip.mp4?from=%s&to=%s", n.w.camA, rfc(from), rfc(to)), n.w.tok["operator"], nil), 200)
	start, err := time.Parse(time.RFC3339Nano, res.Header.Get("X-Camcloud-Clip-Start"))
	if err != nil {
		t.Fatal(err)
	}
	if d := from.Sub(start); d < 0 || d >= gop {
		t.Errorf("clip of %v..%v starts %v before from, want the keyframe at or before it (less than a GOP)", from, to, d)
	}
	v, _ := probeTimes(t, writeTemp(t, res.Raw))
	last := start.Add(v[len(v)-1].pts)
	if !v[0].key || v[0].pts != 0 {
		t.Errorf("clip's first frame at %v (key %v), want a keyframe at 0", v[0].pts, v[0].key)
	}
	if d := to.Sub(last); d <= 0 || d > frame+time.Millisecond {
		t.Errorf("clip's last frame is %v before to, want within one frame (%d frames from %v)", d, len(v), start)
	}
	for i := 1; i < len(v); i++ {
		if v[i].pts-v[i-1].pts != frame {
			t.Errorf("frame %d at %v follows %v", i, v[i].pts, v[i-1].pts)
			break
		}
	}
	if p := probeFile(t, res.Raw); p.maxStep > frame+time.Millisecond || p.videoPackets != len(v) {
		t.Errorf("video decode times step by up to %v; %d packets for %d frames", p.maxStep, p.videoPackets, len(v))
	}
	if na, back := audioSteps(t, res.Raw); na == 0 || back > 0 {
		t.Errorf("audio: %d packets, %d not after the one before", na, back)
	}
	return res.Raw, start
}

// TestNewestMinute: while a camera streams, and before its segment closes,
// the timeline reaches to within about two seconds of now, an image of 3 s
// ago and a clip of the last seconds come from the open segment (the
// holder's spool), HLS VOD of the range plays them, and once a segment is
// indexed a clip of the last 10 s runs continuously across the closed and
// the open one. Once everything is uploaded, the same image and clips come
// back byte for byte from the store: they were the same frames. Run with a
// separate camera server process and with every role in one.
func TestNewestMinute(t *testing.T) {
	for _, layout := range []string{"split", "all"} {
		t.Run(layout, func(t *testing.T) {
			n := startNewest(t, layout)
			testNewest(t, n)
		})
	}
}

func testNewest(t *testing.T, n *newest) {
	camA := n.w.camA
	// 1. Only the open segment: nothing is indexed yet.
	testenv.Eventually(t, 30*time.Second, "7 s recorded", func() bool {
		sp, _ := n.spans(n.w.tok["viewer"])
		return len(sp) == 1 && sp[0].End.Sub(sp[0].Start) >= 7*time.Second
	})
	sp, asked := n.spans(n.w.tok["viewer"])
	if lag := asked.Sub(sp[len(sp)-1].End); lag > spanLag || lag < 0 {
		t.Errorf("timeline ends %v before now, want at most %v", lag, spanLag)
	} else {
		t.Logf("timeline ends %v before now", lag)
	}
	imgAt := time.Now().Add(-3 * time.Second)
	img, imgKey := n.image(imgAt)
	if d := imgAt.Sub(imgKey); d < 0 || d >= gop {
		t.Errorf("image at %v is of %v, want the keyframe at or before it", imgAt, imgKey)
	}
	clipTo := time.Now()
	clipFrom := clipTo.Add(-5 * time.Second)
	clip1, _ := n.clip(clipFrom, clipTo)
	// VOD of the whole recording so far plays every frame. The range ends
	// where the timeline did, so that ffmpeg, reading the playlist again,
	// finds the same segments.
	res := n.must(n.do("POST", "/api/v1/cameras/"+camA+"/playback", n.w.tok["viewer"],
		map[string]string{"from": rfc(n.began.Add(-time.Minute)), "to": rfc(sp[len(sp)-1].End)}), 200)
	rec := recorded{env: n.env, w: n.w}
	lines := rec.playlistLines(res.str("hls_url"))
	var total time.Duration
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			f, _ := strconv.ParseFloat(strings.TrimSuffix(v, ","), 64)
			total += time.Duration(f * float64(time.Second)).Round(time.Millisecond)
		}
	}
	if want := sp[len(sp)-1].End.Sub(sp[0].Start); total < want-5*time.Millisecond || total > want+5*time.Millisecond {
		t.Errorf("the playlist lasts %v, the timeline %v", total, want)
	}
	if frames := ffmpegFrames(t, n.ffmpeg, res.str("hls_url")); frames != int(total/frame) || total < 7*time.Second {
		t.Errorf("ffmpeg decoded %d frames of a %v playlist:\n%s", frames, total, strings.Join(lines, "\n"))
	}
	if segs := n.indexed(); len(segs) != 0 {
		t.Fatalf("a segment was indexed before the open-segment checks ended (%v): make newestSegment longer", segs[0].End.Sub(segs[0].Start))
	}

	// Another organisation sees nothing; the holder takes only genuine tokens.
	for _, p := range []string{"/recordings", "/image?at=" + rfc(imgAt), "/clip.mp4?from=" + rfc(clipFrom) + "&to=" + rfc(clipTo)} {
		if res := n.do("GET", "/api/v1/cameras/"+camA+p, n.w.tok["other"], nil); res.Status != 404 {
			t.Errorf("another org's owner GET %s: %d, want 404", p, res.Status)
		}
	}
	n.holderTokens(clipFrom, clipTo)

	// 2. A closed segment and the open one.
	testenv.Eventually(t, 2*newestSegment, "a segment indexed and 4 s of the next recorded", func() bool {
		segs := n.indexed()
		return len(segs) > 0 && time.Since(segs[len(segs)-1].End) > 4*time.Second
	})
	segs := n.indexed()
	to := time.Now()
	from := to.Add(-10 * time.Second)
	clip2, start2 := n.clip(from, to)
	if closed := segs[len(segs)-1].End; !start2.Before(closed) {
		t.Errorf("the clip of the last 10 s starts at %v, after the indexed end %v: it does not span both", start2, closed)
	}
	sp, asked = n.spans(n.w.tok["viewer"])
	if lag := asked.Sub(sp[len(sp)-1].End); len(sp) != 1 || lag > spanLag {
		t.Errorf("timeline %v ends %v before now, want one span to within %v", sp, lag, spanLag)
	}

	// 3. Uploaded: the same frames, from the store.
	testenv.Eventually(t, 2*newestSegment, "the checked range indexed", func() bool {
		segs := n.indexed()
		return len(segs) > 0 && segs[len(segs)-1].End.After(to)
	})
	if again, key := n.image(imgAt); !key.Equal(imgKey) || !bytes.Equal(again, img) {
		t.Errorf("image at %v from the store is of %v (%d bytes), from the spool it was %v (%d bytes)", imgAt, key, len(again), imgKey, len(img))
	}
	for _, c := range []struct {
		from, to time.Time
		spooled  []byte
	}{{clipFrom, clipTo, clip1}, {from, to, clip2}} {
		if again, _ := n.clip(c.from, c.to); !bytes.Equal(again, c.spooled) {
			t.Errorf("clip %v..%v from the store differs from the one made from the spool (%d and %d bytes)", c.from, c.to, len(again), len(c.spooled))
		}
	}
}

// holderTokens checks the camera server's spool routes: a genuine token of
// the camera and range lists the open segment and reads its bytes; no
// token, a forged, expired, other camera's or live token are refused, and
// objects outside the camera or range are not served.
func (n *newest) holderTokens(from, to time.Time) {
	t := n.t.(*testing.T)
	t.Helper()
	sign := func(c auth.MediaClaims) string {
		tok, err := n.signer.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return url.QueryEscape(tok)
	}
	good := sign(auth.MediaClaims{CameraID: n.w.camA, Perm: "playback", From: from, To: to, Expires: time.Now().Add(time.Minute)})
	base := n.holder + "/media/v1/spool/" + n.w.camA
	res := n.must(n.do("GET", base+"/segments?token="+good, "", nil), 200)
	var body struct {
		Segments []struct {
			Key       string `json:"key"`
			InitKey   string `json:"init_key"`
			Fragments []struct {
				Offset int64 `json:"offset"`
				Size   int64 `json:"size"`
			} `json:"fragments"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(res.Raw, &body); err != nil || len(body.Segments) != 1 || len(body.Segments[0].Fragments) == 0 {
		t.Fatalf("holder listing %.300s (%v), want the open segment", res.Raw, err)
	}
	sg := body.Segments[0]
	f := sg.Fragments[len(sg.Fragments)-1]
	if res := n.must(n.do("GET", base+"/obj/"+sg.Key+"?token="+good, "", nil), 200); int64(len(res.Raw)) < f.Offset+f.Size {
		t.Errorf("holder served %d bytes of the open segment, its fragments take %d", len(res.Raw), f.Offset+f.Size)
	}
	n.must(n.do("GET", base+"/obj/"+sg.InitKey+"?token="+good, "", nil), 200)
	other, _ := auth.NewSigner([]byte("another key that is long enough, 32+ bytes"))
	forged, _ := other.Sign(auth.MediaClaims{CameraID: n.w.camA, Perm: "playback", From: from, To: to, Expires: time.Now().Add(time.Minute)})
	for name, tok := range map[string]string{
		"none":         "",
		"forged":       url.QueryEscape(forged),
		"expired":      sign(auth.MediaClaims{CameraID: n.w.camA, Perm: "playback", From: from, To: to, Expires: time.Now().Add(-time.Second)}),
		"other camera": sign(auth.MediaClaims{CameraID: n.w.camB, Perm: "playback", From: from, To: to, Expires: time.Now().Add(time.Minute)}),
		"live":         sign(auth.MediaClaims{CameraID: n.w.camA, Perm: "live", Expires: time.Now().Add(time.Minute)}),
	} {
		for _, p := range []string{"/segments", "/obj/" + sg.Key} {
			if res := n.do("GET", base+p+"?token="+tok, "", nil); res.Status != 401 {
				t.Errorf("holder %s with a %s token: %d %.200s, want 401", p, name, res.Status, res.Raw)
			}
		}
	}
	early := sign(auth.MediaClaims{CameraID: n.w.camA, Perm: "playback", From: from.Add(-time.Hour), To: from.Add(-50 * time.Minute), Expires: time.Now().Add(time.Minute)})
	for name, u := range map[string]string{
		"another camera's key":      base + "/obj/" + strings.Replace(sg.Key, n.w.camA, n.w.camB, 1) + "?token=" + good,
		"a token of an older range": base + "/obj/" + sg.Key + "?token=" + early,
	} {
		if res := n.do("GET", u, "", nil); res.Status != 403 && res.Status != 404 {
			t.Errorf("holder, %s: %d %.200s, want 403 or 404", name, res.Status, res.Raw)
		}
	}
}
