package camserver_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestStoreOutageLosesNothing: the S3 store (a real versitygw) goes away
// for 30 s while two cameras record; when it is back, every second recorded
// meanwhile ends up in the store and the index.
func TestStoreOutageLosesNothing(t *testing.T) {
	t.Parallel()
	testenv.Tool(t, "ffprobe")
	s3, n := startS3Node(t, "outage")
	smp := testenv.Sample(t, "sample-h264.ts")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var cams []string
	for i := range 2 {
		c := n.camera(fmt.Sprintf("cam %d", i), nil)
		cams = append(cams, c.ID)
		go func() { _ = sim.Push(ctx, []string{c.Ingest.RTSP}, smp, log) }()
	}
	time.Sleep(8 * time.Second)
	s3.Stop()
	outageStart := time.Now()
	time.Sleep(30 * time.Second)
	s3.Start()
	outageEnd := time.Now()
	time.Sleep(8 * time.Second)
	cancel()
	n.stop() // drain waits until the spool is uploaded
	for _, cam := range cams {
		rows := n.segments(cam)
		if g := gaps(rows, 100*time.Millisecond); len(g) > 0 {
			t.Errorf("camera %s: gaps %v", cam, g)
		}
		first, last := rows[0].Start, rows[len(rows)-1].End
		if first.After(outageStart) || last.Before(outageEnd) {
			t.Errorf("camera %s: recorded %s..%s, outage %s..%s", cam, first, last, outageStart, outageEnd)
		}
		total := checkRecording(t, n, cam, "h264", "aac")
		if span := last.Sub(first); total < span-time.Second {
			t.Errorf("camera %s: %s recorded of a %s span", cam, total, span)
		}
	}
}

// startS3Node starts a node whose zone stores into bucket of a real S3
// server (versitygw) of its own, which the test can stop and start.
func startS3Node(t *testing.T, bucket string, extra ...string) (testenv.S3Server, *node) {
	t.Helper()
	s3 := testenv.StartS3(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "camcloud.yaml")
	yaml := fmt.Sprintf("zones:\n  - name: local\n    store: %s\n", s3.ZoneStore(bucket))
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return s3, startNode(t, filepath.Join(dir, "data"), append([]string{"--config", cfg}, extra...)...)
}
