package backfill_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/backfill"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/record"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/testenv"
	"github.com/camcloud/camcloud/internal/usage"
)

// backfillChunk is the chunk size the backfill tests run the cloud with.
const backfillChunk = 256 << 10

// agentSegment is one segment an agent recorded: its index row and the
// bytes of its object and init segment, as the agent's store keeps them.
type agentSegment struct {
	row        store.Segment
	obj, init  []byte
	sha256     string
	start, end string
}

// recordAsAgent records the shipped sample as camera cam with the real
// recorder into a local store and SQLite index, as the edge agent does,
// starting at wall time at, for loops passes, and returns its segments.
func recordAsAgent(t *testing.T, cam string, at time.Time, loops int) []agentSegment {
	t.Helper()
	return recordAs(t, cam, at, loops, 4*time.Second)
}

// recordAs is recordAsAgent with segments of segDur, and only the units
// inside ranges (times from the sample's start; none: all of them), each
// range a publication of its own, as a camera that reconnects makes.
func recordAs(t *testing.T, cam string, at time.Time, loops int, segDur time.Duration, ranges ...[2]time.Duration) []agentSegment {
	t.Helper()
	ctx := context.Background()
	local, err := blob.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	idx, err := store.OpenZone(ctx, "sqlite:"+filepath.Join(t.TempDir(), "agent.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer idx.Close()
	reg := prometheus.NewRegistry()
	rec, err := record.New(record.Config{SpoolDir: t.TempDir(), SegmentDuration: segDur, Store: local, Index: idx,
		Log: slog.New(slog.DiscardHandler), Registerer: reg, RetryBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	runDone := make(chan struct{})
	go func() { rec.Run(rctx); close(runDone) }()
	defer func() { cancel(); <-runDone }()
	smp := testenv.Sample(t, "sample-h264.ts")
	if len(ranges) == 0 {
		ranges = [][2]time.Duration{{0, 1 << 62}}
	}
	h := hub.New()
	frames := func() float64 {
		mfs, _ := reg.Gather()
		for _, mf := range mfs {
			if mf.GetName() == "camcloud_record_frames_recorded_total" {
				return mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		return 0
	}
	written := 0
	for _, rg := range ranges {
		st := h.Publish(cam, smp.Tracks)
		errc := make(chan error, 1)
		go func() { errc <- rec.Record(rctx, st) }()
		time.Sleep(100 * time.Millisecond) // let the recorder attach its reader
		for k := range loops {
			for _, u := range smp.Loop(k) {
				clock := smp.Tracks[u.Track-1].ClockRate
				if d := time.Duration(u.DTS) * time.Second / time.Duration(clock); d < rg[0] || d >= rg[1] {
					continue
				}
				u.NTP = at.Add(time.Duration(u.DTS) * time.Second / time.Duration(clock))
				st.Write(u)
				if written++; written%128 == 0 {
					testenv.WaitFor(t, "the recorder to keep up", func() bool { return frames() >= float64(written-1024) })
				}
			}
		}
		testenv.WaitFor(t, "the recorder to take the sample", func() bool { return frames() >= float64(written-200) })
		st.Close()
		if err := <-errc; err != nil {
			t.Fatalf("Record: %v", err)
		}
	}
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	if err := rec.Drain(dctx); err != nil {
		t.Fatal(err)
	}
	rows, err := idx.ListSegments(ctx, cam, at.Add(-time.Hour), at.Add(time.Hour), 0)
	if err != nil || len(rows) < 2 {
		t.Fatalf("the agent recorded %d segments (%v)", len(rows), err)
	}
	get := func(key string) []byte {
		rc, err := local.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, _ := io.ReadAll(rc)
		return b
	}
	out := make([]agentSegment, 0, len(rows))
	for _, r := range rows {
		s := agentSegment{row: r, obj: get(r.Key), init: get(r.InitKey), start: r.Start.Format(time.RFC3339Nano), end: r.End.Format(time.RFC3339Nano)}
		sum := sha256.Sum256(s.obj)
		s.sha256 = hex.EncodeToString(sum[:])
		out = append(out, s)
	}
	return out
}

// announce is the body of POST .../uploads for s.
func (s agentSegment) announce() map[string]any {
	return map[string]any{"start": s.start, "end": s.end, "size": len(s.obj), "sha256": s.sha256, "init": s.init}
}

// patch sends one chunk of an upload.
func (e *env) patch(cred, id string, off int64, chunk []byte) resp {
	e.t.Helper()
	req, err := http.NewRequest("PATCH", e.base+"/api/v1/agent/uploads/"+id, bytes.NewReader(chunk))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
	return e.send(req)
}

// head asks for an upload's offset.
func (e *env) head(cred, id string) resp {
	e.t.Helper()
	req, err := http.NewRequest("HEAD", e.base+"/api/v1/agent/uploads/"+id, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+cred)
	return e.send(req)
}

// uploadFrom sends b's chunks from offset off to its end and returns the
// last answer.
func (e *env) uploadFrom(cred, id string, b []byte, off int64) resp {
	e.t.Helper()
	for {
		end := min(off+backfillChunk, int64(len(b)))
		r := e.patch(cred, id, off, b[off:end])
		if end == int64(len(b)) {
			return r
		}
		e.must(r, 204)
		if got := r.Header.Get("Upload-Offset"); got != strconv.FormatInt(end, 10) {
			e.t.Fatalf("Upload-Offset %q after a chunk up to %d", got, end)
		}
		off = end
	}
}

// metric reads one sample of /metrics (0 when absent).
func (e *env) metric(name string) float64 {
	e.t.Helper()
	for _, l := range testenv.MetricLines(e.t, e.base, name+" ") {
		v, _ := strconv.ParseFloat(strings.TrimPrefix(l, name+" "), 64)
		return v
	}
	return 0
}

// keys lists the keys under prefix of the cloud's zone store.
func (e *env) keys(prefix string) []string {
	e.t.Helper()
	z, err := e.app.Zones.Get("local")
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	if err := z.Blobs.List(context.Background(), prefix, func(k string, _ int64) error { out = append(out, k); return nil }); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// object reads one object of the cloud's zone store.
func (e *env) object(key string) []byte {
	e.t.Helper()
	z, err := e.app.Zones.Get("local")
	if err != nil {
		e.t.Fatal(err)
	}
	rc, err := z.Blobs.Get(context.Background(), key)
	if err != nil {
		e.t.Fatalf("object %s: %v", key, err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return b
}

// TestBackfill walks the cloud side of an edge agent's backfill with
// segments the real recorder made: uploads in chunks that read back
// through the timeline (marked backfilled) and a clip export; resuming
// after a PATCH cut off mid-body and after a lost answer (the re-sent
// chunk counted as a duplicate); an idempotent repeat; and the refusals
// (another organisation's camera, another site's upload, times the cloud
// has, oversized, malformed and mis-hashed segments: nothing stored; a
// revoked credential), a self-contained upload (init, then the object),
// the sweep of an expired upload, and the report of lost video.
func TestBackfill(t *testing.T) {
	e := start(t, "--backfill-chunk-size", strconv.Itoa(backfillChunk), "--backfill-max-segment-bytes", strconv.Itoa(64<<20))
	w := e.world()
	admin, other := w.tok["admin"], w.tok["other"]
	site := e.must(e.do("POST", "/api/v1/sites", admin, map[string]string{"org_id": w.orgA, "name": "shop"}), 201)
	cred := e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": site.str("enrolment_token")}), 200).str("credential")
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, admin, map[string]string{"site_id": site.str("id")}), 200)
	bSite := e.must(e.do("POST", "/api/v1/sites", other, map[string]string{"org_id": w.orgB, "name": "B"}), 201)
	credB := e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": bSite.str("enrolment_token")}), 200).str("credential")
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camB, other, map[string]string{"site_id": bSite.str("id")}), 200)

	at := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	segs := recordAsAgent(t, w.camA, at, 3)
	uploads := "/api/v1/agent/cameras/" + w.camA + "/uploads"

	// One segment in chunks; the cloud says how large they may be.
	s0 := segs[0]
	if len(s0.obj) <= 2*backfillChunk {
		t.Fatalf("segment of %d bytes: too small to test chunks", len(s0.obj))
	}
	b := e.must(e.do("POST", uploads, cred, s0.announce()), 201)
	if b.str("status") != "pending" || b.Body["offset"] != 0.0 || b.Body["chunk_size"] != float64(backfillChunk) || b.Body["size"] != float64(len(s0.obj)) {
		t.Fatalf("begin %s", b.Raw)
	}
	done := e.must(e.uploadFrom(cred, b.str("upload_id"), s0.obj, 0), 201)
	if done.str("status") != "stored" {
		t.Fatalf("last chunk: %s", done.Raw)
	}
	// A repeat is a no-op.
	stored := e.metric(`camcloud_backfill_segments_total{result="stored"}`)
	e.must(e.do("POST", uploads, cred, s0.announce()), 200)
	if got := e.metric(`camcloud_backfill_segments_total{result="stored"}`); got != stored || stored != 1 {
		t.Fatalf("stored segments %v then %v", stored, got)
	}

	// Resume: a PATCH cut off mid-body moves nothing; HEAD says where to
	// go on; a chunk sent again after a lost answer is refused with the
	// offset, and counted as duplicate bytes.
	s1 := segs[1]
	b = e.must(e.do("POST", uploads, cred, s1.announce()), 201)
	id := b.str("upload_id")
	e.must(e.patch(cred, id, 0, s1.obj[:backfillChunk]), 204)
	received := e.metric("camcloud_backfill_received_bytes_total")
	e.brokenPatch(cred, id, backfillChunk, s1.obj[backfillChunk:2*backfillChunk], 1000)
	testenv.WaitFor(t, "the cut-off chunk to be counted", func() bool {
		return e.metric("camcloud_backfill_received_bytes_total") >= received+1000
	})
	h := e.must(e.head(cred, id), 200)
	if h.Header.Get("Upload-Offset") != strconv.Itoa(backfillChunk) || h.Header.Get("Upload-Length") != strconv.Itoa(len(s1.obj)) {
		t.Fatalf("HEAD after a cut-off chunk: %v", h.Header)
	}
	dup := e.metric("camcloud_backfill_duplicate_bytes_total")
	r := e.must(e.patch(cred, id, 0, s1.obj[:backfillChunk]), 409)
	if r.errCode() != "offset_mismatch" || r.Header.Get("Upload-Offset") != strconv.Itoa(backfillChunk) {
		t.Fatalf("a chunk sent twice: %v %s", r.Header, r.Raw)
	}
	if got := e.metric("camcloud_backfill_duplicate_bytes_total"); got != dup+backfillChunk {
		t.Fatalf("duplicate bytes %v, want %v", got, dup+backfillChunk)
	}
	// An agent that lost its state announces the segment again and goes on.
	if again := e.must(e.do("POST", uploads, cred, s1.announce()), 201); again.str("upload_id") != id || again.Body["offset"] != float64(backfillChunk) {
		t.Fatalf("announced again: %s", again.Raw)
	}
	e.must(e.uploadFrom(cred, id, s1.obj, backfillChunk), 201)

	// The tenants: another organisation's camera, another site's upload.
	e.must(e.do("POST", "/api/v1/agent/cameras/"+w.camB+"/uploads", cred, s0.announce()), 404)
	e.must(e.do("POST", uploads, credB, segs[2].announce()), 404)
	pending := e.must(e.do("POST", uploads, cred, segs[2].announce()), 201).str("upload_id")
	e.must(e.head(credB, pending), 404)
	e.must(e.patch(credB, pending, 0, segs[2].obj[:backfillChunk]), 404)
	e.must(e.head(admin, pending), 401) // a user is no agent

	// What the cloud has is not missing.
	over := s0.announce()
	over["start"] = s0.row.Start.Add(1500 * time.Millisecond).Format(time.RFC3339Nano)
	over["end"] = s1.row.End.Add(time.Second).Format(time.RFC3339Nano)
	over["sha256"] = strings.Repeat("ab", 32)
	if r := e.do("POST", uploads, cred, over); r.Status != 409 || r.errCode() != "not_missing" {
		t.Fatalf("a range the cloud has: %d %s", r.Status, r.Raw)
	}
	// Bounds.
	for name, mod := range map[string]func(m map[string]any){
		"empty":     func(m map[string]any) { m["size"] = 0 },
		"bad sha":   func(m map[string]any) { m["sha256"] = "xyz" },
		"backwards": func(m map[string]any) { m["end"] = s0.start },
		"too long":  func(m map[string]any) { m["end"] = s0.row.Start.Add(31 * time.Minute).Format(time.RFC3339Nano) },
		"bad init":  func(m map[string]any) { m["init"] = []byte("not an init segment") },
	} {
		m := segs[3].announce()
		mod(m)
		if r := e.do("POST", uploads, cred, m); r.Status != 400 {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	big := segs[3].announce()
	big["size"] = 65<<20 + 1
	e.must(e.do("POST", uploads, cred, big), 413)

	// Malformed bytes and a wrong hash: 422, nothing stored, the upload gone.
	objects := len(e.keys("cam/" + w.camA + "/"))
	junk := make([]byte, 3*backfillChunk/2)
	_, _ = rand.Read(junk)
	m := segs[3].announce()
	sum := sha256.Sum256(junk)
	m["size"], m["sha256"] = len(junk), hex.EncodeToString(sum[:])
	jid := e.must(e.do("POST", uploads, cred, m), 201).str("upload_id")
	if r := e.uploadFrom(cred, jid, junk, 0); r.Status != 422 || r.errCode() != "invalid_segment" {
		t.Fatalf("malformed segment: %d %s", r.Status, r.Raw)
	}
	e.must(e.head(cred, jid), 404)
	m = segs[3].announce()
	m["sha256"] = strings.Repeat("0", 64)
	mid := e.must(e.do("POST", uploads, cred, m), 201).str("upload_id")
	if r := e.uploadFrom(cred, mid, segs[3].obj, 0); r.Status != 422 || !strings.Contains(string(r.Raw), "sha256 mismatch") {
		t.Fatalf("wrong hash: %d %s", r.Status, r.Raw)
	}
	if got := len(e.keys("cam/" + w.camA + "/")); got != objects {
		t.Fatalf("refused segments left objects: %d, had %d", got, objects)
	}
	if st := e.keys("uploads/" + jid + "/"); len(st) != 0 {
		t.Fatalf("staged chunks of a refused upload left: %v", st)
	}

	// The rest, then the timeline and an export.
	e.must(e.uploadFrom(cred, pending, segs[2].obj, 0), 201)
	for _, s := range segs[3 : len(segs)-1] {
		id := e.must(e.do("POST", uploads, cred, s.announce()), 201).str("upload_id")
		e.must(e.uploadFrom(cred, id, s.obj, 0), 201)
	}
	// The last one self-contained: its init segment, then the object.
	lastSeg := segs[len(segs)-1]
	whole := append(append([]byte(nil), lastSeg.init...), lastSeg.obj...)
	wsum := sha256.Sum256(whole)
	m = lastSeg.announce()
	delete(m, "init")
	m["size"], m["sha256"] = len(whole), hex.EncodeToString(wsum[:])
	e.must(e.uploadFrom(cred, e.must(e.do("POST", uploads, cred, m), 201).str("upload_id"), whole, 0), 201)
	if got := e.object(backfill.SegmentKey(w.camA, lastSeg.row.Start)); !bytes.Equal(got, lastSeg.obj) {
		t.Fatalf("the self-contained upload stored %d bytes, not the agent's %d-byte object", len(got), len(lastSeg.obj))
	}
	if got := e.object(backfill.SegmentKey(w.camA, s0.row.Start)); !bytes.Equal(got, s0.obj) {
		t.Fatal("the stored object is not the agent's")
	}
	first, last := segs[0].row.Start, segs[len(segs)-1].row.End
	q := "?from=" + url.QueryEscape(first.Add(-time.Minute).Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(last.Add(time.Minute).Format(time.RFC3339Nano))
	spans, _ := e.must(e.do("GET", "/api/v1/cameras/"+w.camA+"/recordings"+q, w.tok["viewer"], nil), 200).Body["spans"].([]any)
	if len(spans) != 1 {
		t.Fatalf("timeline %v", spans)
	}
	sp := spans[0].(map[string]any)
	if sp["backfilled"] != true || sp["start"] != first.Format(time.RFC3339Nano) || sp["end"] != last.Format(time.RFC3339Nano) {
		t.Fatalf("span %v, want backfilled [%s, %s)", sp, first, last)
	}
	if miss, _ := e.must(e.do("GET", "/api/v1/agent/cameras/"+w.camA+"/missing?from="+url.QueryEscape(first.Format(time.RFC3339Nano))+
		"&to="+url.QueryEscape(last.Format(time.RFC3339Nano)), cred, nil), 200).Body["missing"].([]any); len(miss) != 0 {
		t.Fatalf("still missing after backfill: %v", miss)
	}
	creq, _ := http.NewRequest("GET", e.base+"/api/v1/cameras/"+w.camA+"/clip.mp4?from="+url.QueryEscape(first.Format(time.RFC3339Nano))+"&to="+
		url.QueryEscape(last.Format(time.RFC3339Nano)), nil)
	creq.Header.Set("Authorization", "Bearer "+admin)
	clip := e.send(creq)
	if clip.Status != 200 {
		t.Fatalf("clip %d %s", clip.Status, clip.Raw)
	}
	p := testenv.FFprobe(t, clip.Raw)
	want := last.Sub(first)
	if d := p.Duration - want; d > 100*time.Millisecond || d < -100*time.Millisecond || p.Frames < int(want.Seconds()*25)-2 {
		t.Fatalf("clip of %s: %+v", want, p)
	}
	if got := e.app.Usage.Totals()[usage.IngestBytes]; got < int64(len(segs[0].obj)) {
		t.Fatalf("ingest usage %d", got)
	}
	if len(e.keys("uploads/")) != 0 {
		t.Fatalf("staged chunks left after backfill: %v", e.keys("uploads/"))
	}

	// Lost video: one recording.gap event per range, however often it is reported.
	lost := "/api/v1/agent/cameras/" + w.camA + "/lost"
	rep := map[string]any{"start": at.Add(-20 * time.Minute).Format(time.RFC3339Nano), "end": at.Add(-10 * time.Minute).Format(time.RFC3339Nano),
		"reason": "ring_full", "segments": 10, "bytes": 12345}
	ev := e.must(e.do("POST", lost, cred, rep), 201)
	if ev.str("status") != "recorded" || e.must(e.do("POST", lost, cred, rep), 201).str("status") != "already_recorded" {
		t.Fatalf("loss reports: %s", ev.Raw)
	}
	e.must(e.do("POST", "/api/v1/agent/cameras/"+w.camB+"/lost", cred, rep), 404)
	for name, v := range map[string]any{"reason": "bored", "end": time.Now().Add(time.Hour).Format(time.RFC3339Nano),
		"start": at.Add(-40 * 24 * time.Hour).Format(time.RFC3339Nano)} {
		bad := map[string]any{}
		for k, x := range rep {
			bad[k] = x
		}
		bad[name] = v
		if r := e.do("POST", lost, cred, bad); r.Status != 400 {
			t.Errorf("loss report with bad %s: %d %s", name, r.Status, r.Raw)
		}
	}
	evs, _ := e.must(e.do("GET", "/api/v1/cameras/"+w.camA+"/events?type=recording.gap&from="+url.QueryEscape(at.Add(-time.Hour).Format(time.RFC3339Nano)),
		w.tok["viewer"], nil), 200).Body["events"].([]any)
	gaps := 0
	for _, x := range evs {
		en := x.(map[string]any)
		if d, _ := en["detail"].(map[string]any); en["type"] == "recording.gap" && d["reason"] == "agent_ring_full" && d["segments"] == 10.0 {
			gaps++
		}
	}
	if gaps != 1 {
		t.Fatalf("%d agent_ring_full gap events, want 1: %v", gaps, evs)
	}

	// A pending upload that expires is swept with its staged chunks.
	after := last.Add(time.Minute)
	m = map[string]any{"start": after.Format(time.RFC3339Nano), "end": after.Add(4 * time.Second).Format(time.RFC3339Nano), "size": 1000,
		"sha256": strings.Repeat("cd", 32), "init": s0.init}
	sid := e.must(e.do("POST", uploads, cred, m), 201).str("upload_id")
	e.must(e.patch(cred, sid, 0, make([]byte, 500)), 204)
	if len(e.keys("uploads/"+sid+"/")) != 2 { // the init and one chunk
		t.Fatalf("staged %v", e.keys("uploads/"+sid+"/"))
	}
	sweeper, err := backfill.New(backfill.Config{Dir: e.app.Dir, Zones: e.app.Zones, Sites: e.app.Sites,
		Now: func() time.Time { return time.Now().Add(backfill.DefaultTTL + time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := sweeper.Sweep(context.Background()); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	e.must(e.head(cred, sid), 404)
	if k := e.keys("uploads/"); len(k) != 0 {
		t.Fatalf("swept, but staged: %v", k)
	}

	// Revocation refuses the credential at once.
	e.must(e.do("POST", "/api/v1/sites/"+site.str("id")+"/revoke", admin, nil), 200)
	e.must(e.do("POST", uploads, cred, segs[0].announce()), 401)
	e.must(e.head(cred, pending), 401)
	e.must(e.patch(cred, pending, 0, []byte("x")), 401)
	e.must(e.do("POST", lost, cred, rep), 401)
}

// brokenPatch sends a PATCH that announces chunk but sends only n of its
// bytes, then closes the connection, as an agent killed mid-chunk does.
func (e *env) brokenPatch(cred, id string, off int64, chunk []byte, n int) {
	e.t.Helper()
	u, _ := url.Parse(e.base)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		e.t.Fatal(err)
	}
	bw := bufio.NewWriter(c)
	fmt.Fprintf(bw, "PATCH /api/v1/agent/uploads/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: %d\r\nContent-Length: %d\r\n\r\n", id, u.Host, cred, off, len(chunk))
	bw.Write(chunk[:n])
	if err := bw.Flush(); err != nil {
		e.t.Fatal(err)
	}
	c.Close()
}

// TestSlowChunk: a chunk may arrive more slowly than the server's
// http_body_timeout (an agent on a capped uplink), down to
// backfill.MinChunkRate.
func TestSlowChunk(t *testing.T) {
	e := start(t, "--http-header-timeout", "1s", "--http-body-timeout", "1s")
	w := e.world()
	admin := w.tok["admin"]
	site := e.must(e.do("POST", "/api/v1/sites", admin, map[string]string{"org_id": w.orgA, "name": "shop"}), 201)
	cred := e.must(e.do("POST", "/api/v1/agent/enrol", "", map[string]string{"token": site.str("enrolment_token")}), 200).str("credential")
	e.must(e.do("PATCH", "/api/v1/cameras/"+w.camA, admin, map[string]string{"site_id": site.str("id")}), 200)
	at := time.Now().Add(-time.Hour)
	id := e.must(e.do("POST", "/api/v1/agent/cameras/"+w.camA+"/uploads", cred, map[string]any{"start": at.Format(time.RFC3339Nano),
		"end": at.Add(4 * time.Second).Format(time.RFC3339Nano), "size": 100000, "sha256": strings.Repeat("ef", 32)}), 201).str("upload_id")
	chunk := make([]byte, 64<<10)
	u, _ := url.Parse(e.base)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "PATCH /api/v1/agent/uploads/%s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\nContent-Length: %d\r\n\r\n", id, u.Host, cred, len(chunk))
	for i := range 4 { // 3.2 s for 64 KiB: past the 2 s the server gives a request, above 32 KiB/s
		time.Sleep(800 * time.Millisecond)
		if _, err := c.Write(chunk[i*len(chunk)/4 : (i+1)*len(chunk)/4]); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Upload-Offset") != strconv.Itoa(len(chunk)) {
		t.Fatalf("slow chunk: %d %v", res.StatusCode, res.Header)
	}
}
