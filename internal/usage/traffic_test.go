package usage_test

import (
	"bufio"
	"context"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// client fetches media like a player would, counting the body bytes of
// its successful answers. Compression is off so that what is counted is
// what came over the wire.
type client struct {
	t     *testing.T
	base  string
	hc    *http.Client
	bytes int64
}

func (c *client) abs(u string) string {
	if strings.HasPrefix(u, "/") {
		return c.base + u
	}
	return u
}

// get fetches u (absolute or relative to the node) and returns the body
// of a 2xx answer, counted; nil otherwise.
func (c *client) get(u, token string) []byte {
	c.t.Helper()
	req, err := http.NewRequest("GET", c.abs(u), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatalf("GET %s: %v", u, err)
	}
	if res.StatusCode/100 != 2 {
		return nil
	}
	c.bytes += int64(len(b))
	return b
}

// playlistURIs lists the URIs of a playlist (media lines, EXT-X-MAP and
// LL-HLS parts), resolved against its own URL.
func playlistURIs(t *testing.T, self string, body []byte) []string {
	base, err := url.Parse(self)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(u string) {
		ref, err := url.Parse(u)
		if err != nil {
			t.Fatalf("playlist URI %q: %v", u, err)
		}
		out = append(out, base.ResolveReference(ref).String())
	}
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "":
		case strings.HasPrefix(l, "#EXT-X-MAP:"), strings.HasPrefix(l, "#EXT-X-PART:"):
			if i := strings.Index(l, `URI="`); i >= 0 {
				rest := l[i+5:]
				add(rest[:strings.IndexByte(rest, '"')])
			}
		case !strings.HasPrefix(l, "#"):
			add(l)
		}
	}
	return out
}

// within1pc fails unless metered is within 1 % of received (and both are
// more than nothing).
func within1pc(t *testing.T, what string, metered, received int64) {
	t.Helper()
	t.Logf("%s: metered %d bytes, clients received %d", what, metered, received)
	if received <= 0 || math.Abs(float64(metered-received)) > 0.01*float64(received) {
		t.Errorf("%s: metered %d bytes, the clients received %d: not within 1 %%", what, metered, received)
	}
}

// TestMeteredTrafficMatchesClients runs real traffic through one node (a
// simulated camera pushing RTSP, a pion WebRTC viewer, live HLS, recorded
// HLS, a clip and an image fetched over HTTP) and checks that what the
// usage route reports after a flush is what the clients received, kind by
// kind, within 1 %, and that the camera's stored bytes are what the
// object store lists under its prefix, within 1 %.
func TestMeteredTrafficMatchesClients(t *testing.T) {
	testenv.Tool(t, "ffmpeg") // images
	n := apptest.Start(t, "--segment-duration", "4s", "--usage-flush", "1h")
	admin := login(t, n.Base, apptest.AdminEmail, apptest.AdminPassword)
	var org struct{ ID string }
	testenv.APICall(t, n.Base, admin, "POST", "/api/v1/orgs", map[string]string{"name": "metered"}, &org)
	var cam struct {
		ID     string
		Ingest struct {
			RTSPURL string `json:"rtsp_url"`
		}
	}
	testenv.APICall(t, n.Base, admin, "POST", "/api/v1/cameras", map[string]any{"org_id": org.ID, "name": "gate",
		"labels": map[string]string{"site": "shibuya"}}, &cam)

	smp := testenv.Sample(t, "sample-h264.ts")
	ctx, cancel := context.WithCancel(context.Background())
	pushed := make(chan struct{})
	go func() { defer close(pushed); _ = sim.Push(ctx, []string{cam.Ingest.RTSPURL}, smp, nil) }()
	stopPush := func() { cancel(); <-pushed }
	t.Cleanup(stopPush)
	since := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
	testenv.Eventually(t, 40*time.Second, "two segments recorded", func() bool {
		var rec struct {
			Spans []struct{ Start, End time.Time }
		}
		testenv.APICall(t, n.Base, admin, "GET", "/api/v1/cameras/"+cam.ID+"/recordings?from="+since.Format(time.RFC3339), nil, &rec)
		return len(rec.Spans) > 0 && rec.Spans[len(rec.Spans)-1].End.Sub(rec.Spans[0].Start) > 9*time.Second
	})

	hc := &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
	var live struct {
		HLSURL  string `json:"hls_url"`
		WHEPURL string `json:"whep_url"`
	}
	testenv.APICall(t, n.Base, admin, "POST", "/api/v1/cameras/"+cam.ID+"/live", nil, &live)

	// WebRTC: a viewer for a few seconds, then its session deleted by the
	// server side and the packets in flight let in.
	hlsC := &client{t: t, base: n.Base, hc: hc}
	viewer := testenv.WatchWHEP(t, hlsC.abs(live.WHEPURL))
	// Live HLS meanwhile: the playlists and everything they list, a few
	// times over.
	for round := 0; round < 4; round++ {
		mv := hlsC.abs(live.HLSURL)
		body := hlsC.get(mv, "")
		for i := 0; body == nil && i < 40; i++ { // the muxer waits for a keyframe
			time.Sleep(250 * time.Millisecond)
			body = hlsC.get(mv, "")
		}
		if body == nil {
			t.Fatal("live HLS playlist never answered")
		}
		for _, media := range playlistURIs(t, mv, body) {
			mb := hlsC.get(media, "")
			for _, u := range playlistURIs(t, media, mb) {
				hlsC.get(u, "")
			}
		}
		time.Sleep(1500 * time.Millisecond)
	}
	if viewer.Packets() == 0 {
		testenv.Eventually(t, 20*time.Second, "WebRTC packets", func() bool { return viewer.Packets() > 0 })
	}
	req, _ := http.NewRequest("DELETE", hlsC.abs(viewer.Location), nil)
	if res, err := hc.Do(req); err == nil {
		res.Body.Close()
	}
	// What was sent before the delete may still be on its way or queued
	// in the viewer (slow under -race): wait until nothing more arrives.
	for last, still := viewer.PayloadBytes(), 0; still < 3; {
		time.Sleep(500 * time.Millisecond)
		if now := viewer.PayloadBytes(); now == last {
			still++
		} else {
			last, still = now, 0
		}
	}
	viewer.Close()

	// Recorded HLS: a session of what is recorded, every URI of it.
	vod := &client{t: t, base: n.Base, hc: hc}
	var rec struct {
		Spans []struct{ Start, End time.Time }
	}
	testenv.APICall(t, n.Base, admin, "GET", "/api/v1/cameras/"+cam.ID+"/recordings?from="+since.Format(time.RFC3339), nil, &rec)
	from, to := rec.Spans[0].Start, rec.Spans[len(rec.Spans)-1].End
	var pb struct {
		HLSURL string `json:"hls_url"`
	}
	testenv.APICall(t, n.Base, admin, "POST", "/api/v1/cameras/"+cam.ID+"/playback", map[string]any{"from": from, "to": to}, &pb)
	pl := vod.abs(pb.HLSURL)
	uris := playlistURIs(t, pl, vod.get(pl, ""))
	if len(uris) < 2 {
		t.Fatalf("VOD playlist lists %v", uris)
	}
	for _, u := range uris {
		if vod.get(u, "") == nil {
			t.Fatalf("VOD object %s not served", u)
		}
	}
	// A clip and an image.
	clip := &client{t: t, base: n.Base, hc: hc}
	q := url.Values{"from": {from.Add(time.Second).Format(time.RFC3339Nano)}, "to": {from.Add(7 * time.Second).Format(time.RFC3339Nano)}}
	if clip.get("/api/v1/cameras/"+cam.ID+"/clip.mp4?"+q.Encode(), admin) == nil {
		t.Fatal("clip not served")
	}
	img := &client{t: t, base: n.Base, hc: hc}
	if img.get("/api/v1/cameras/"+cam.ID+"/image?at="+url.QueryEscape(from.Add(3*time.Second).Format(time.RFC3339Nano)), admin) == nil {
		t.Fatal("image not served")
	}

	// The camera stops; its last segment is uploaded. Stored bytes are
	// compared once the index has everything the store lists.
	stopPush()
	z, err := n.App.Zones.Get("local")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Key         string
		StoredBytes int64   `json:"stored_bytes"`
		Recorded    float64 `json:"recorded_seconds"`
		Ingest      int64   `json:"ingest_bytes"`
		Egress      struct {
			WebRTC  int64 `json:"webrtc"`
			LiveHLS int64 `json:"live_hls"`
			VOD     int64 `json:"vod"`
			Clip    int64 `json:"clip"`
			Image   int64 `json:"image"`
			Share   int64 `json:"share"`
		}
		Exports int64
		Events  int64
	}
	report := func() row {
		n.App.UsageFlusher.Flush(context.Background())
		var rep struct{ Rows []row }
		testenv.APICall(t, n.Base, admin, "GET", "/api/v1/orgs/"+org.ID+"/usage?group_by=camera", nil, &rep)
		if len(rep.Rows) != 1 || rep.Rows[0].Key != cam.ID {
			t.Fatalf("usage rows: %+v", rep.Rows)
		}
		return rep.Rows[0]
	}
	listed := func() int64 {
		var sum int64
		if err := z.Blobs.List(context.Background(), "cam/"+cam.ID+"/", func(_ string, size int64) error { sum += size; return nil }); err != nil {
			t.Fatal(err)
		}
		return sum
	}
	var got row
	testenv.Eventually(t, 60*time.Second, "stored bytes within 1 % of the store's listing", func() bool {
		got = report()
		l := listed()
		return l > 0 && math.Abs(float64(got.StoredBytes-l)) <= 0.01*float64(l)
	})
	t.Logf("stored: metered %d bytes, the store lists %d under cam/%s/", got.StoredBytes, listed(), cam.ID)

	within1pc(t, "WebRTC", got.Egress.WebRTC, viewer.PayloadBytes())
	within1pc(t, "live HLS", got.Egress.LiveHLS, hlsC.bytes)
	within1pc(t, "recorded HLS", got.Egress.VOD, vod.bytes)
	within1pc(t, "clip", got.Egress.Clip, clip.bytes)
	within1pc(t, "image", got.Egress.Image, img.bytes)
	if got.Exports != 1 || got.Egress.Share != 0 {
		t.Errorf("exports %d (want 1), share egress %d (want 0)", got.Exports, got.Egress.Share)
	}
	if got.Recorded < 9 || got.Ingest <= got.StoredBytes/2 || got.Events < 1 {
		t.Errorf("recorded %.1f s, ingest %d bytes, events %d: want at least 9 s, about the stored bytes, the online event", got.Recorded, got.Ingest, got.Events)
	}
}

// login returns a session token.
func login(t *testing.T, base, email, pw string) string {
	var out struct{ Token string }
	testenv.APICall(t, base, "", "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw}, &out)
	return out.Token
}
