package backfill_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestBackfillAcrossNodesOnS3 runs the cloud as deployed at scale: two
// api nodes sharing a directory and a zone on MariaDB, the zone's store
// on S3 (versitygw). An upload is announced on one node (its init staged
// in the bucket there) and its chunks alternate between the nodes, the
// last on the other, which reads the staged chain back from S3 to check
// and store it; of one chunk sent to both nodes at once exactly one
// lands (the other is refused with the offset and counted as duplicate
// bytes). Afterwards nothing is left staged in the bucket, the segments
// are under the camera's backfill keys, and a clip through either node
// holds every frame of both segments.
func TestBackfillAcrossNodesOnS3(t *testing.T) {
	s3 := testenv.StartS3(t)
	dsns := testenv.MySQLDatabases(t, "bfdir", "bfzone")
	var r [4]byte
	_, _ = rand.Read(r[:])
	run := hex.EncodeToString(r[:])
	conf := filepath.Join(t.TempDir(), "camcloud.yaml")
	y := fmt.Sprintf("directory: %q\nmedia_key: %q\nzones:\n  - name: local\n    db: %q\n    store: %s\n",
		dsns[0], "backfill-nodes-media-key-"+run+run+run, dsns[1], s3.ZoneStore("bf-"+run))
	if err := os.WriteFile(conf, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--config", conf, "--role", "api", "--backfill-chunk-size", strconv.Itoa(backfillChunk),
		"--backfill-max-segment-bytes", strconv.Itoa(64 << 20)}
	a, b := start(t, args...), start(t, args...)
	w := a.world()
	admin := w.tok["admin"]
	cred := a.enrolSite(w, w.camA)

	at := time.Now().UTC().Add(-30 * time.Minute).Truncate(time.Second)
	segs := recordAsAgent(t, w.camA, at, 3)
	uploads := "/api/v1/agent/cameras/" + w.camA + "/uploads"
	dup := func() float64 {
		return a.metric("camcloud_backfill_duplicate_bytes_total") + b.metric("camcloud_backfill_duplicate_bytes_total")
	}

	// Chunks alternate between the nodes; the last lands on b.
	s0 := segs[0]
	id := a.must(a.do("POST", uploads, cred, s0.announce()), 201).str("upload_id")
	n := (len(s0.obj) + backfillChunk - 1) / backfillChunk
	if n < 3 {
		t.Fatalf("a segment of %d bytes makes %d chunks: too few to alternate", len(s0.obj), n)
	}
	for i := range n {
		node := []*env{a, b}[(n-1-i)%2]
		off := i * backfillChunk
		res := node.patch(cred, id, int64(off), s0.obj[off:min(off+backfillChunk, len(s0.obj))])
		want := 204
		if i == n-1 {
			want = 201
		}
		node.must(res, want)
	}

	// One chunk to both nodes at once: exactly one lands.
	s1 := segs[1]
	id = b.must(b.do("POST", uploads, cred, s1.announce()), 201).str("upload_id")
	before := dup()
	var wg sync.WaitGroup
	status := make([]int, 2)
	for i, node := range []*env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status[i] = node.patch(cred, id, 0, s1.obj[:backfillChunk]).Status
		}()
	}
	wg.Wait()
	if !(status[0] == 204 && status[1] == 409 || status[0] == 409 && status[1] == 204) {
		t.Fatalf("one chunk sent to both nodes at once: %v, want one 204 and one 409", status)
	}
	if got := dup() - before; got != backfillChunk {
		t.Errorf("duplicate bytes counted across the nodes: %v, want %d", got, backfillChunk)
	}
	t.Logf("one chunk to both nodes at once: %v; %d chunks of the first segment alternated between them", status, n)
	a.must(a.uploadFrom(cred, id, s1.obj, backfillChunk), 201)

	// Nothing staged is left; the segments are the camera's backfill objects.
	if left := a.keys("uploads/"); len(left) != 0 {
		t.Errorf("staged objects left in the bucket: %v", left)
	}
	stored := b.keys("cam/" + w.camA + "/bf/")
	if len(stored) != 2 {
		t.Errorf("backfilled objects in the bucket: %v, want 2", stored)
	}
	for _, node := range []*env{a, b} {
		q := "?from=" + url.QueryEscape(s0.row.Start.Format(time.RFC3339Nano)) + "&to=" + url.QueryEscape(s1.row.End.Format(time.RFC3339Nano))
		req, _ := http.NewRequest("GET", node.base+"/api/v1/cameras/"+w.camA+"/clip.mp4"+q, nil)
		req.Header.Set("Authorization", "Bearer "+admin)
		res := node.send(req)
		if res.Status != 200 {
			t.Fatalf("clip through %s: %d %.200s", node.base, res.Status, res.Raw)
		}
		p := testenv.FFprobe(t, res.Raw)
		want := int(s1.row.End.Sub(s0.row.Start) / (40 * time.Millisecond))
		t.Logf("clip through %s: %d video frames of %v (want %d)", node.base, p.Frames, p.Codecs, want)
		if p.Frames != want || !strings.Contains(strings.Join(p.Codecs, ","), "aac") {
			t.Errorf("clip through %s: %d video frames (want %d), codecs %v", node.base, p.Frames, want, p.Codecs)
		}
	}
}
