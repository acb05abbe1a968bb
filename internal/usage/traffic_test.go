package usage_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// trafficKind names the usage kind of a request that players make
// through the counting proxy ("" for the API calls around them).
func trafficKind(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/live/v1/"):
		return "live_hls"
	case strings.HasPrefix(p, "/media/v1/playback/"):
		return "vod"
	case strings.HasSuffix(p, "/clip.mp4"):
		return "clip"
	case strings.HasSuffix(p, "/image"):
		return "image"
	}
	return ""
}

// ffmpegRead runs ffmpeg as a player of u (through the proxy) until it
// ends or limit passes, reading every stream and writing nothing;
// headers are sent with every request. It returns ffmpeg's error, if
// any, with the end of its output.
func ffmpegRead(ctx context.Context, bin, u, headers string, limit time.Duration, extra ...string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	args := []string{"-nostdin", "-v", "error", "-y"}
	if headers != "" {
		args = append(args, "-headers", headers)
	}
	args = append(append(append(args, "-i", u), extra...), "-map", "0", "-c", "copy", "-f", "null", "-")
	var out strings.Builder
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		o := out.String()
		return fmt.Errorf("ffmpeg %s: %v: %s", u, err, o[max(0, len(o)-400):])
	}
	return nil
}

// within1pc fails unless metered is within 1 % of received (and both are
// more than nothing).
func within1pc(t *testing.T, what string, metered, received int64) {
	t.Helper()
	t.Logf("%s: metered %d bytes, clients received %d (%+.3f %%)", what, metered, received, 100*float64(metered-received)/math.Max(1, float64(received)))
	if received <= 0 || math.Abs(float64(metered-received)) > 0.01*float64(received) {
		t.Errorf("%s: metered %d bytes, the clients received %d: not within 1 %%", what, metered, received)
	}
}

// trafficDuration is how long TestMeteredTrafficMatchesClients runs its
// players: about three minutes in strict mode (CI), one otherwise.
func trafficDuration() time.Duration {
	if testenv.Strict() {
		return 3 * time.Minute
	}
	return time.Minute
}

// TestMeteredTrafficMatchesClients runs a few minutes of real traffic
// through one node whose zone stores on S3 (versitygw), with its recorded
// HLS proxied (proxy_playback) so that it is the node's egress: a
// simulated camera pushes RTSP; a pion WebRTC viewer watches all along;
// ffmpeg plays live HLS all along and, every few seconds, plays recorded
// HLS of what is recorded so far, reads a clip and an image; the players
// fetch through a proxy that counts what they received. After a flush,
// what the usage route reports is what the clients received, kind by
// kind, within 1 %, and the camera's stored bytes are what the object
// store lists under its prefix, within 1 %.
func TestMeteredTrafficMatchesClients(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	s3 := testenv.StartS3(t)
	cfg := filepath.Join(t.TempDir(), "camcloud.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("zones:\n  - name: local\n    store: %s\n", s3.ZoneStore("metered", "proxy_playback: true"))), 0o600); err != nil {
		t.Fatal(err)
	}
	n := apptest.Start(t, "--config", cfg, "--segment-duration", "4s", "--usage-flush", "1h")
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
	spans := func() (from, to time.Time) {
		var rec struct {
			Spans []struct{ Start, End time.Time }
		}
		testenv.APICall(t, n.Base, admin, "GET", "/api/v1/cameras/"+cam.ID+"/recordings?from="+since.Format(time.RFC3339), nil, &rec)
		if len(rec.Spans) == 0 {
			return
		}
		return rec.Spans[0].Start, rec.Spans[len(rec.Spans)-1].End
	}
	testenv.Eventually(t, 60*time.Second, "two segments recorded", func() bool {
		from, to := spans()
		return to.Sub(from) > 9*time.Second
	})

	px := testenv.NewCountingProxy(t, n.Base, trafficKind)
	viaProxy := func(u string) string {
		if strings.HasPrefix(u, "/") {
			return px.URL + u
		}
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		return px.URL + pu.RequestURI()
	}
	var live struct {
		HLSURL  string `json:"hls_url"`
		WHEPURL string `json:"whep_url"`
	}
	testenv.APICall(t, n.Base, admin, "POST", "/api/v1/cameras/"+cam.ID+"/live", nil, &live)
	dur := trafficDuration()
	began := time.Now()
	t.Logf("players run for %s", dur)

	// WebRTC all along (straight to the node: its media is UDP).
	abs := func(u string) string {
		if strings.HasPrefix(u, "/") {
			return n.Base + u
		}
		return u
	}
	viewer := testenv.WatchWHEP(t, abs(live.WHEPURL))
	// Live HLS all along: ffmpeg, started again if it stops early.
	liveDone := make(chan struct{})
	var liveErrs []error
	go func() {
		defer close(liveDone)
		for left := dur; left > 5*time.Second; left = dur - time.Since(began) {
			if err := ffmpegRead(ctx, ffmpeg, viaProxy(live.HLSURL), "", left+30*time.Second, "-t", fmt.Sprint(int(left.Seconds()))); err != nil {
				liveErrs = append(liveErrs, err)
				time.Sleep(time.Second)
			}
		}
	}()
	// Recorded HLS, a clip and an image, every few seconds.
	auth := "Authorization: Bearer " + admin + "\r\n"
	rounds := 0
	for time.Since(began) < dur {
		from, to := spans()
		if to.Sub(from) > 30*time.Second {
			from = to.Add(-30 * time.Second)
		}
		var pb struct {
			HLSURL string `json:"hls_url"`
		}
		testenv.APICall(t, n.Base, admin, "POST", "/api/v1/cameras/"+cam.ID+"/playback", map[string]any{"from": from, "to": to}, &pb)
		if rounds == 0 {
			// proxy_playback: the playlist names the node's own object
			// route, never the store (whose fetches no one would count).
			res, err := http.Get(viaProxy(pb.HLSURL))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(body), s3.Endpoint) || !strings.Contains(string(body), "obj/") {
				t.Fatalf("the VOD playlist of a proxy_playback store names other objects than the node's:\n%s", body)
			}
		}
		if err := ffmpegRead(ctx, ffmpeg, viaProxy(pb.HLSURL), "", time.Minute); err != nil {
			t.Errorf("recorded HLS: %v", err)
		}
		q := url.Values{"from": {from.Add(time.Second).Format(time.RFC3339Nano)}, "to": {from.Add(7 * time.Second).Format(time.RFC3339Nano)}}
		if err := ffmpegRead(ctx, ffmpeg, px.URL+"/api/v1/cameras/"+cam.ID+"/clip.mp4?"+q.Encode(), auth, time.Minute); err != nil {
			t.Errorf("clip: %v", err)
		}
		at := url.QueryEscape(from.Add(3 * time.Second).Format(time.RFC3339Nano))
		if err := ffmpegRead(ctx, ffmpeg, px.URL+"/api/v1/cameras/"+cam.ID+"/image?at="+at, auth, time.Minute, "-f", "image2pipe"); err != nil {
			t.Errorf("image: %v", err)
		}
		rounds++
		time.Sleep(5 * time.Second)
	}
	<-liveDone
	t.Logf("%d rounds of recorded HLS, clip and image; live HLS restarts: %d %v", rounds, len(liveErrs), liveErrs)

	// The WebRTC session ends (deleted, as a player leaving does), and
	// the packets in flight are let in.
	req, _ := http.NewRequest("DELETE", abs(viewer.Location), nil)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
	for last, still := viewer.PayloadBytes(), 0; still < 3; {
		time.Sleep(500 * time.Millisecond)
		if now := viewer.PayloadBytes(); now == last {
			still++
		} else {
			last, still = now, 0
		}
	}
	viewer.Close()

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
	// listed sums what the store holds under the camera's prefix: its
	// segment objects, and everything (init segments too, which the
	// index does not count).
	listed := func() (segs, all int64) {
		if err := z.Blobs.List(context.Background(), "cam/"+cam.ID+"/", func(key string, size int64) error {
			all += size
			if !strings.Contains(key, "/init/") {
				segs += size
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return segs, all
	}
	// Once the last segment is uploaded and indexed, the index counts
	// every segment object the store lists.
	var got row
	var segs, all int64
	testenv.Eventually(t, 90*time.Second, "stored bytes equal to the segment objects the store lists", func() bool {
		got = report()
		segs, all = listed()
		return segs > 0 && got.StoredBytes == segs
	})
	t.Logf("stored: metered %d bytes; the S3 store lists %d under cam/%s/, %d of them segment objects (the rest init segments)", got.StoredBytes, all, cam.ID, segs)
	if math.Abs(float64(got.StoredBytes-all)) > 0.01*float64(all) {
		t.Errorf("stored: metered %d bytes, the store lists %d: not within 1 %%", got.StoredBytes, all)
	}

	within1pc(t, "WebRTC", got.Egress.WebRTC, viewer.PayloadBytes())
	for _, k := range []struct {
		name    string
		metered int64
	}{{"live_hls", got.Egress.LiveHLS}, {"vod", got.Egress.VOD}, {"clip", got.Egress.Clip}, {"image", got.Egress.Image}} {
		if cut := px.CutBytes(k.name); cut > 0 {
			t.Logf("%s: %d bytes received in answers the player left before their end", k.name, cut)
		}
		within1pc(t, k.name, k.metered, px.Bytes(k.name))
	}
	// ffmpeg may read a clip in more than one request (a range to find
	// the end): each counts as an export.
	if got.Exports < int64(rounds) || got.Egress.Share != 0 {
		t.Errorf("exports %d (want at least the %d clips), share egress %d (want 0)", got.Exports, rounds, got.Egress.Share)
	}
	if got.Recorded < dur.Seconds()/2 || got.Ingest <= got.StoredBytes/2 || got.Events < 1 {
		t.Errorf("recorded %.1f s, ingest %d bytes, events %d: want at least %.0f s, about the stored bytes, the online event", got.Recorded, got.Ingest, got.Events, dur.Seconds()/2)
	}
}

// login returns a session token.
func login(t *testing.T, base, email, pw string) string {
	var out struct{ Token string }
	testenv.APICall(t, base, "", "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": pw}, &out)
	return out.Token
}
