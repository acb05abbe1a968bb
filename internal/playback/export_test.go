package playback_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/testenv"
)

// startAPI runs an api node of the deployment conf with more flags.
func startAPI(t testing.TB, conf string, args ...string) *env {
	t.Helper()
	return envOf(t, apptest.Start(t, append([]string{"--config", conf, "--role", "api", "--max-clip", "2h", "--media-key", string(testKey)}, args...)...))
}

// waitExport polls job id as tok until it is no longer queued or running.
func (e *env) waitExport(tok, id string) resp {
	e.t.Helper()
	var last resp
	testenv.Eventually(e.t, 120*time.Second, "export "+id+" done", func() bool {
		last = e.must(e.do("GET", "/api/v1/exports/"+id, tok, nil), 200)
		s := last.str("state")
		return s != "queued" && s != "running"
	})
	return last
}

// download fetches a ready job's package in two ranged requests, as a
// resumed download would, and checks it is the whole file.
func (e *env) download(tok, id string) []byte {
	e.t.Helper()
	get := func(rng string) *http.Response {
		req, _ := http.NewRequest("GET", e.base+"/api/v1/exports/"+id+"/download", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			e.t.Fatal(err)
		}
		return res
	}
	read := func(res *http.Response, status int) []byte {
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != status {
			e.t.Fatalf("download: %d, want %d: %.200s", res.StatusCode, status, b)
		}
		return b
	}
	head := read(get("bytes=0-999"), http.StatusPartialContent)
	rest := read(get("bytes=1000-"), http.StatusPartialContent)
	whole := read(get(""), http.StatusOK)
	if !bytes.Equal(append(head, rest...), whole) || len(head) != 1000 {
		e.t.Fatalf("ranged halves (%d+%d bytes) differ from the whole (%d)", len(head), len(rest), len(whole))
	}
	return whole
}

// videoOf returns the video entry of a package.
func videoOf(t *testing.T, pkg []byte) []byte {
	t.Helper()
	b, _ := testenv.ZipEntry(t, pkg, evidence.VideoEntry)
	return b
}

// TestEvidenceExport: an export job created on one api node, which stops
// before running it (no export workers) and leaves it claimed by a node
// that dies, is finished by the next node on the same data; its package
// downloads in ranges, verifies with the served key, holds the frames of
// the range and the bookmarks in it; bad input and other tenants are
// refused.
func TestEvidenceExport(t *testing.T) {
	testenv.Tool(t, "ffprobe")
	conf := newConf(t)
	e1 := startAPI(t, conf, "--export-workers", "0")
	w := e1.world()
	recordSessions(t, e1.zone, w.camA, 10*time.Second, session{at: epoch, loops: 2})
	op := w.tok["operator"]
	camPath := "/api/v1/cameras/" + w.camA

	// A bookmark inside the range and one outside.
	e1.must(e1.do("POST", camPath+"/bookmarks", op, map[string]any{"name": "Forklift tipped over", "note": "aisle 4", "start": ts(5 * time.Second)}), 201)
	e1.must(e1.do("POST", camPath+"/bookmarks", op, map[string]any{"name": "outside", "start": ts(15 * time.Second)}), 201)

	// Bad input and other tenants.
	exp := func(from, to time.Duration) map[string]any {
		return map[string]any{"from": ts(from), "to": ts(to), "evidence": true}
	}
	if r := e1.do("POST", camPath+"/exports", op, exp(0, 3*time.Hour)); r.Status != 400 || r.errCode() != "range_too_long" {
		t.Errorf("3 h export: %d %s", r.Status, r.Raw)
	}
	for _, q := range []map[string]any{exp(time.Minute, time.Minute), exp(time.Minute, 0), {"from": "yesterday", "to": ts(0)}, {"to": ts(0)}} {
		if r := e1.do("POST", camPath+"/exports", op, q); r.Status != 400 {
			t.Errorf("export %v: %d %s, want 400", q, r.Status, r.Raw)
		}
	}
	if r := e1.do("POST", camPath+"/exports", w.tok["other"], exp(0, 10*time.Second)); r.Status != 404 {
		t.Errorf("another organisation's camera: %d, want 404", r.Status)
	}
	if r := e1.do("POST", camPath+"/exports", w.tok["viewer"], exp(0, 10*time.Second)); r.Status != 403 {
		t.Errorf("a viewer's export: %d, want 403", r.Status)
	}

	job := e1.must(e1.do("POST", camPath+"/exports", op, exp(2*time.Second, 12*time.Second)), 202)
	id := job.str("id")
	if job.str("state") != "queued" || job.Body["audit_seq"].(float64) <= 0 {
		t.Fatalf("new job %s", job.Raw)
	}
	// A plain MP4 export (no evidence) takes the organisation's second
	// slot; a third job is refused until one is done.
	plain := e1.must(e1.do("POST", camPath+"/exports", op, map[string]any{"from": ts(4 * time.Second), "to": ts(6 * time.Second)}), 202).str("id")
	if r := e1.do("POST", camPath+"/exports", op, exp(0, time.Second)); r.Status != 429 || r.errCode() != "too_many_exports" {
		t.Errorf("a third job at once: %d %s, want 429", r.Status, r.Raw)
	}
	if r := e1.do("GET", "/api/v1/exports/"+id, w.tok["other"], nil); r.Status != 404 {
		t.Errorf("another organisation's export: %d, want 404", r.Status)
	}
	if r := e1.do("GET", "/api/v1/exports/"+id+"/download", op, nil); r.Status != 409 {
		t.Errorf("download of a queued export: %d, want 409", r.Status)
	}
	e1.node.Stop()
	// A node took the job and died: its lease has a few seconds left.
	now := time.Now()
	if _, ok, err := e1.node.App.Dir.ClaimExport(t.Context(), "dead-node", now.Add(3*time.Second), now); err != nil || !ok {
		t.Fatalf("claim as a dead node: %v %v", ok, err)
	}

	e2 := startAPI(t, conf)
	done := e2.waitExport(op, id)
	if done.str("state") != "ready" || done.Body["progress"].(float64) != 1 {
		t.Fatalf("job after the restart: %s", done.Raw)
	}
	pkg := e2.download(op, id)
	if sum := sha256.Sum256(pkg); hex.EncodeToString(sum[:]) != done.str("sha256") {
		t.Errorf("package SHA-256 differs from the job's")
	}

	if p := e2.waitExport(op, plain); p.str("state") != "ready" {
		t.Fatalf("plain export: %s", p.Raw)
	}
	mp4 := e2.download(op, plain)
	if probe := testenv.FFprobe(t, mp4); probe.Frames != 50 {
		t.Errorf("plain export of 2 s: %d frames, want 50", probe.Frames)
	}

	// The served public key verifies it, anonymously fetched.
	var key struct {
		PEM   string `json:"pem"`
		KeyID string `json:"key_id"`
	}
	kr := e2.must(e2.do("GET", "/api/v1/evidence/public-key", "", nil), 200)
	if err := json.Unmarshal(kr.Raw, &key); err != nil {
		t.Fatal(err)
	}
	pub, err := evidence.ParsePublicKey([]byte(key.PEM))
	if err != nil {
		t.Fatal(err)
	}
	m, err := evidence.Verify(bytes.NewReader(pkg), int64(len(pkg)), pub)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if m.Camera.ID != w.camA || m.Organisation.ID != w.orgA || m.Exporter.Email != "operator@example.com" || m.KeyID != key.KeyID ||
		int64(job.Body["audit_seq"].(float64)) != m.AuditSeq || !m.From.Equal(epoch.Add(2*time.Second)) {
		t.Errorf("manifest %+v", m)
	}
	if !m.FirstFrame.Equal(epoch.Add(2*time.Second)) || !m.LastFrameEnd.Equal(epoch.Add(12*time.Second)) {
		t.Errorf("frames %v..%v, want the range (keyframes every 2 s)", m.FirstFrame, m.LastFrameEnd)
	}
	if len(m.Bookmarks) != 1 || m.Bookmarks[0].Name != "Forklift tipped over" {
		t.Errorf("bookmarks %+v, want the one in the range", m.Bookmarks)
	}
	// The audit entry the manifest names is the export's.
	audit := e2.must(e2.do("GET", "/api/v1/audit?camera="+w.camA, w.admin, nil), 200)
	if !bytes.Contains(audit.Raw, []byte(fmt.Sprintf(`"seq":%d`, m.AuditSeq))) || !bytes.Contains(audit.Raw, []byte("export.create")) {
		t.Errorf("audit lacks the export's entry %d: %.400s", m.AuditSeq, audit.Raw)
	}

	// The video has every frame of the recording in the range: 10 s at 25 fps,
	// as the clip route's own clip of it.
	video := videoOf(t, pkg)
	probe := testenv.FFprobe(t, video)
	clip := e2.must(e2.do("GET", camPath+"/clip.mp4?from="+ts(2*time.Second)+"&to="+ts(12*time.Second), op, nil), 200)
	if want := testenv.FFprobe(t, clip.Raw).Frames; probe.Frames != 250 || probe.Frames != want {
		t.Errorf("export has %d frames, the recording's range %d, want 250", probe.Frames, want)
	}
	if !bytes.Equal(video, clip.Raw) {
		t.Errorf("the export's MP4 differs from the clip export's (%d and %d bytes)", len(video), len(clip.Raw))
	}

	// export.ready was recorded on the camera.
	evs := e2.must(e2.do("GET", camPath+"/events?type=export.ready&from="+time.Now().Add(-time.Hour).Format(time.RFC3339), op, nil), 200)
	if !bytes.Contains(evs.Raw, []byte(id)) {
		t.Errorf("no export.ready event for %s: %.300s", id, evs.Raw)
	}

	t.Run("watermark", func(t *testing.T) {
		testenv.Tool(t, "ffmpeg")
		r := e2.must(e2.do("POST", camPath+"/exports", op, map[string]any{"from": ts(2 * time.Second), "to": ts(12 * time.Second), "evidence": true, "watermark": true}), 202)
		done := e2.waitExport(op, r.str("id"))
		if done.str("state") != "ready" {
			t.Fatalf("watermarked export: %s", done.Raw)
		}
		pkg := e2.download(op, r.str("id"))
		m, err := evidence.Verify(bytes.NewReader(pkg), int64(len(pkg)), pub)
		if err != nil || !m.Video.Watermarked {
			t.Fatalf("verify: %v, watermarked %v", err, m.Video.Watermarked)
		}
		video := videoOf(t, pkg)
		if p := testenv.FFprobe(t, video); p.Frames != 250 || bytes.Equal(video, clip.Raw) {
			t.Errorf("watermarked video: %d frames (want 250), re-encoded %v", p.Frames, !bytes.Equal(video, clip.Raw))
		}
	})

	t.Run("nothing recorded fails the job", func(t *testing.T) {
		r := e2.must(e2.do("POST", camPath+"/exports", op, exp(time.Hour, time.Hour+time.Minute)), 202)
		if done := e2.waitExport(op, r.str("id")); done.str("state") != "failed" || done.str("error") == "" {
			t.Errorf("empty range: %s", done.Raw)
		}
	})
}
