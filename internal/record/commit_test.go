package record

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// sidecarLines counts the fragment lines of camera cam's only sidecar, and
// the bytes of its data file.
func sidecarLines(t *testing.T, spool, cam string) (lines int, data int64) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(spool, cam, "*.idx"))
	if len(m) != 1 {
		t.Fatalf("%s: sidecars %v, want one", cam, m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(m[0][:len(m[0])-len(".idx")] + ".m4s")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte{'\n'}) - 1, st.Size()
}

// TestGroupCommit: fragments are written at once but count (sidecar line,
// frames recorded, upload) only once a commit synced them, and one commit
// covers the fragments of every camera.
func TestGroupCommit(t *testing.T) {
	e := newEnv(t, func(c *Config) {
		c.SegmentDuration = time.Minute
		c.CommitInterval = time.Hour // commits only when flushed
	})
	smp := testenv.Sample(t, "sample-h264.ts")
	cams := []string{"cam1", "cam2", "cam3"}
	var feeders []*feeder
	for _, cam := range cams {
		f := startRecording(t, e.rec, cam, smp)
		// Units are counted across cameras; then 10 s: about nine 1 s fragments.
		f.written = e.rec.consumed.Load()
		f.write(0, 1)
		feeders = append(feeders, f)
	}
	for _, cam := range cams {
		lines, data := sidecarLines(t, e.spool, cam)
		if lines != 0 || data == 0 {
			t.Errorf("%s before the commit: %d sidecar lines, %d data bytes; want 0 lines and written data", cam, lines, data)
		}
	}
	if got := counter(t, e.reg, "camcloud_record_frames_recorded_total"); got != 0 {
		t.Errorf("frames_recorded_total = %v before the commit, want 0", got)
	}

	e.rec.spool.Flush()
	if got := counter(t, e.reg, "camcloud_record_commit_seconds"); got != 1 {
		t.Errorf("%v commits for %d cameras, want 1", got, len(cams))
	}
	for _, cam := range cams {
		if lines, _ := sidecarLines(t, e.spool, cam); lines < 8 {
			t.Errorf("%s after the commit: %d sidecar lines, want at least 8", cam, lines)
		}
	}
	if got := counter(t, e.reg, "camcloud_record_frames_recorded_total"); got == 0 {
		t.Error("frames_recorded_total = 0 after the commit")
	}

	// Ending the streams commits their last fragments and queues the segments.
	for _, f := range feeders {
		if err := f.end(); err != nil {
			t.Fatal(err)
		}
	}
	e.run(t)
	drain(t, e.rec)
	rows := e.index.sorted()
	if len(rows) != len(cams) {
		t.Fatalf("%d rows, want %d", len(rows), len(cams))
	}
	for _, row := range rows {
		if d := row.End.Sub(row.Start); d < 9*time.Second || d > 11*time.Second {
			t.Errorf("%s covers %v, want the 10 s fed", row.Key, d)
		}
		var off int64
		for _, f := range row.Fragments {
			if f.Offset != off {
				t.Fatalf("%s: fragment at %d, want %d (contiguous)", row.Key, f.Offset, off)
			}
			off += f.Size
		}
		if off != row.Size {
			t.Errorf("%s: fragments end at %d, size %d", row.Key, off, row.Size)
		}
	}
}
