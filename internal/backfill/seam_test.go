package backfill_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestSeams uploads the agent segments that straddle an outage's edges
// over a recording that the real recorder made of the same frames, cut
// elsewhere, its clock 45 ms behind the agent's (the relay's latency):
// the one at the outage's start begins at the keyframe the cloud's last
// live segment began with, 1.3 s before its last live frame (more than
// Tolerance), the one at its return ends 2 s into the first segment
// recorded after it. The cloud keeps each frame once: the clip of the whole range
// decodes, frame for frame (ffmpeg's framemd5), to the clip of a
// reference camera that has only the agent's segments; the straddling
// segment's new frames are joined to the recorded segment before it
// (whose old object goes), the other one ends where the recording
// resumes, and the timeline is one span.
func TestSeams(t *testing.T) {
	ffmpeg := testenv.Tool(t, "ffmpeg")
	e := start(t, "--backfill-chunk-size", "262144", "--backfill-max-segment-bytes", "67108864")
	w := e.world()
	admin := w.tok["admin"]
	ref := e.must(e.do("POST", "/api/v1/cameras", admin, map[string]any{"org_id": w.orgA, "name": "reference"}), 201).str("id")
	cred := e.enrolSite(w, w.camA, ref)

	// The sample has a keyframe every 2 s. The agent cuts 4 s segments
	// at 0, 4, 8, ...; the cloud recorded live from 2 s in 2 s segments
	// up to 9.3 s, when the uplink went, and again from the keyframe
	// after 17.5 s (18) on.
	at := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	const skew = 45 * time.Millisecond
	sec := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	agent := recordAs(t, w.camA, at, 3, 4*time.Second)
	live := recordAs(t, w.camA, at.Add(skew), 3, 2*time.Second, [2]time.Duration{sec(2), sec(9.3)}, [2]time.Duration{sec(17.5), sec(30)})
	z, err := e.app.Zones.Get("local")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, s := range live {
		for key, b := range map[string][]byte{s.row.Key: s.obj, s.row.InitKey: s.init} {
			if err := z.Blobs.Put(ctx, key, bytes.NewReader(b), int64(len(b))); err != nil {
				t.Fatal(err)
			}
		}
		if err := z.DB.InsertSegment(ctx, s.row); err != nil {
			t.Fatal(err)
		}
	}
	var prev, next agentSegment // the live segments at the outage's edges
	for _, s := range live {
		if s.row.Start.Before(at.Add(sec(9))) {
			prev = s
		} else if next.obj == nil {
			next = s
		}
	}
	if !prev.row.Start.Equal(at.Add(sec(8)+skew)) || !next.row.Start.Equal(at.Add(sec(18)+skew)) {
		t.Fatalf("live segments at the edges start at %s and %s, want 8 s and 18 s in (and the skew)", prev.row.Start.Sub(at), next.row.Start.Sub(at))
	}

	upload := func(cam string, s agentSegment) resp {
		t.Helper()
		b := e.do("POST", "/api/v1/agent/cameras/"+cam+"/uploads", cred, s.announce())
		if b.Status != 201 {
			return b
		}
		return e.uploadFrom(cred, b.str("upload_id"), s.obj, 0)
	}
	for _, s := range agent {
		// The reference camera has the agent's segments only.
		e.must(upload(ref, s), 201)
		// The agent sends what overlaps the outage, [9.3 s, 18 s).
		if s.row.End.After(at.Add(sec(9.3))) && s.row.Start.Before(at.Add(sec(18))) {
			if r := upload(w.camA, s); r.Status != 201 || r.str("status") != "stored" {
				t.Fatalf("upload of the agent's segment at %s: %d %s", s.row.Start.Sub(at), r.Status, r.Raw)
			}
		}
	}

	// The rows at the seams.
	joined, err := z.DB.SegmentAt(ctx, w.camA, at.Add(sec(11)))
	if err != nil {
		t.Fatal(err)
	}
	if !joined.Start.Equal(prev.row.Start) || joined.End.Sub(at.Add(sec(12)+skew)).Abs() > 5*time.Millisecond || !joined.Backfilled {
		t.Errorf("the recorded segment the straddling upload joined: %s..%s backfilled %v, want 8 s..12 s (cloud time), backfilled",
			joined.Start.Sub(at), joined.End.Sub(at), joined.Backfilled)
	}
	if keys := e.keys(prev.row.Key); len(keys) != 0 {
		t.Errorf("the joined segment's old object is still there: %v", keys)
	}
	tail, err := z.DB.SegmentAt(ctx, w.camA, at.Add(sec(17)))
	if err != nil {
		t.Fatal(err)
	}
	if !tail.Start.Equal(at.Add(sec(16))) || tail.End.Sub(at.Add(sec(18))).Abs() > 5*time.Millisecond {
		t.Errorf("the upload ending inside the next recorded segment: %s..%s, want 16 s..18 s", tail.Start.Sub(at), tail.End.Sub(at))
	}
	var spans struct {
		Spans []struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"spans"`
	}
	q := "?from=" + url.QueryEscape(at.Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(at.Add(sec(40)).Format(time.RFC3339Nano))
	testenv.APICall(t, e.base, admin, "GET", "/api/v1/cameras/"+w.camA+"/recordings"+q, nil, &spans)
	for i := 1; i < len(spans.Spans); i++ {
		if gap := spans.Spans[i].Start.Sub(spans.Spans[i-1].End); gap > 5*time.Millisecond {
			t.Errorf("a gap of %s in the timeline at %s", gap, spans.Spans[i-1].End.Sub(at))
		}
	}

	// Frame for frame, from the first live keyframe (2 s) to 28 s (the
	// recording's ends are in the cloud's time).
	clip := func(cam string, from, shift time.Duration) string {
		t.Helper()
		q := "?from=" + url.QueryEscape(at.Add(from+shift).Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(at.Add(sec(28)+shift).Format(time.RFC3339Nano))
		req, _ := http.NewRequest("GET", e.base+"/api/v1/cameras/"+cam+"/clip.mp4"+q, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		r := e.send(req)
		if r.Status != 200 {
			t.Fatalf("clip of %s: %d %.300s", cam, r.Status, r.Raw)
		}
		p := filepath.Join(t.TempDir(), "clip.mp4")
		if err := os.WriteFile(p, r.Raw, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	frames := func(p string) []string {
		t.Helper()
		out, err := exec.Command(ffmpeg, "-v", "error", "-i", p, "-map", "0:v", "-f", "framemd5", "-").Output()
		if err != nil {
			t.Fatalf("ffmpeg framemd5 of %s: %v", p, err)
		}
		var hashes []string
		for _, l := range strings.Split(string(out), "\n") {
			if f := strings.Split(l, ","); len(f) == 6 && !strings.HasPrefix(l, "#") {
				hashes = append(hashes, strings.TrimSpace(f[5]))
			}
		}
		return hashes
	}
	got, want := frames(clip(w.camA, sec(2), skew)), frames(clip(ref, sec(2), 0))
	t.Logf("the clip of the seamed timeline decodes to %d video frames, the reference's to %d", len(got), len(want))
	if len(want) != 26*25 {
		t.Errorf("the reference clip has %d frames, want %d (26 s at 25 fps)", len(want), 26*25)
	}
	if !slices.Equal(got, want) {
		i := 0
		for i < min(len(got), len(want)) && got[i] == want[i] {
			i++
		}
		t.Errorf("the seamed clip differs from the reference from frame %d on (%d frames against %d)", i, len(got), len(want))
	}
	// Audio across both seams (from after the first live keyframe: a
	// clip's first audio frames depend on where its first segment began).
	bin := testenv.Tool(t, "ffprobe")
	if a, b := testenv.FFprobeURL(t, bin, clip(w.camA, sec(4.05), skew)).AudioFrames, testenv.FFprobeURL(t, bin, clip(ref, sec(4.05), 0)).AudioFrames; a != b {
		t.Errorf("audio: the seamed clip has %d frames, the reference %d", a, b)
	} else {
		t.Logf("audio: the seamed clip has %d frames, the reference %d", a, b)
	}
}

// TestCompletionRetried: an upload whose completion failed in the cloud
// (here its object's directory cannot be made) keeps every byte, and a
// chunk of 0 bytes at its end, as the agent then sends, completes it.
func TestCompletionRetried(t *testing.T) {
	e := start(t, "--backfill-chunk-size", "262144", "--backfill-max-segment-bytes", "67108864")
	w := e.world()
	cred := e.enrolSite(w, w.camA)
	seg := recordAsAgent(t, w.camA, time.Now().UTC().Add(-30*time.Minute).Truncate(time.Second), 1)[0]
	block := filepath.Join(e.app.Cfg.DataDir, "blobs", "local", "cam", w.camA, "bf")
	if err := os.MkdirAll(filepath.Dir(block), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(block, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	id := e.must(e.do("POST", "/api/v1/agent/cameras/"+w.camA+"/uploads", cred, seg.announce()), 201).str("upload_id")
	if r := e.uploadFrom(cred, id, seg.obj, 0); r.Status != 500 {
		t.Fatalf("the last chunk with the store failing: %d %s", r.Status, r.Raw)
	}
	if h := e.must(e.head(cred, id), 200); h.Header.Get("Upload-Offset") != strconv.Itoa(len(seg.obj)) {
		t.Fatalf("after a failed completion the cloud holds %s of %d bytes", h.Header.Get("Upload-Offset"), len(seg.obj))
	}
	if err := os.Remove(block); err != nil {
		t.Fatal(err)
	}
	if r := e.patch(cred, id, int64(len(seg.obj)), nil); r.Status != 201 || r.str("status") != "stored" {
		t.Fatalf("a chunk of 0 bytes at the end: %d %s", r.Status, r.Raw)
	}
	if keys := e.keys("cam/" + w.camA + "/bf/"); len(keys) != 1 {
		t.Fatalf("backfilled objects after the retried completion: %v", keys)
	}
}
