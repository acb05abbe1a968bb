package record

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestRecoverUploadsCrashedRecording: what a recorder left in its spool
// when it stopped mid-segment (the torn tail of a crash included) is
// uploaded by the next recorder as playable video, from its start. The
// cases of torn spools are internal/spool's recovery tests.
func TestRecoverUploadsCrashedRecording(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SegmentDuration = time.Minute })
	f := startRecording(t, e.rec, "cam1", testenv.Sample(t, "sample-h264.ts"))
	f.feed(0, 1) // 10 s
	dir := t.TempDir()
	testenv.CopyDir(t, e.spool, dir)
	f.cancel() // the recorder stops mid-segment
	<-f.errc
	data, _ := filepath.Glob(filepath.Join(dir, "cam1", "*.m4s"))
	if len(data) != 1 {
		t.Fatalf("spooled data files %v, want one", data)
	}
	torn, err := os.OpenFile(data[0], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	torn.Write(bytes.Repeat([]byte{0, 0, 0x10, 0, 'm', 'o', 'o', 'f', 0xde, 0xad}, 300))
	torn.Close()

	next := newEnv(t, func(cfg *Config) { cfg.SpoolDir = dir })
	if err := next.rec.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	next.run(t)
	drain(t, next.rec)
	rows := next.index.sorted()
	if len(rows) != 1 || !rows[0].Start.Equal(epoch) {
		t.Fatalf("rows %+v, want one from %v", rows, epoch)
	}
	frames := checkSegments(t, next.store, rows, []string{"h264", "aac"})
	if want := int(rows[0].End.Sub(rows[0].Start).Seconds() * 25); frames != want || frames < 8*24 {
		t.Errorf("%d frames recovered for %d fragments", frames, len(rows[0].Fragments))
	}
	if left := testenv.Files(t, dir); len(left) != 0 {
		t.Errorf("spool files left after upload: %v", left)
	}
}
