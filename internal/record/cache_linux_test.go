package record

import (
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

// Recorded fragments leave the page cache once they are synced: a
// recording server's memory does not fill with video nobody reads.
func TestSyncedFragmentsLeaveThePageCache(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SegmentDuration = time.Minute })
	var fs unix.Statfs_t
	if err := unix.Statfs(e.spool, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("the spool directory is on tmpfs, whose pages are the files themselves")
	}
	e.run(t)
	f := startRecording(t, e.rec, "cam1", loadSample(t, "sample-h264.ts"))
	f.feed(0, 2) // 2 loops: several fragments, one open segment

	path, frags := openSegment(t, e.rec, "cam1")
	var committed int64
	if len(frags) > 0 {
		committed = frags[len(frags)-1].Offset + frags[len(frags)-1].Size
	}
	if committed < 1<<20 {
		t.Fatalf("only %d bytes committed in the open segment, want over 1 MiB", committed)
	}
	page := int64(os.Getpagesize())
	resident, total := residentPages(t, path, committed-committed%page)
	if resident > 0 {
		t.Errorf("%d of the %d pages of synced fragments are still in the page cache, want 0", resident, total)
	}

	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	checkSegments(t, e.store, e.index.sorted(), []string{"h264", "aac"})
}

// A data file is allocated ahead of its writes while it is recorded, and
// what was allocated past its end is freed once it is stored: the stored
// segment takes no more disk than its bytes.
func TestSpoolPreallocatesAndTrims(t *testing.T) {
	// The local store itself (not the test's wrapper), so that the spool
	// file is linked into place as in production.
	blobs := t.TempDir()
	local, err := blob.NewLocal(blobs)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, func(c *Config) {
		c.SegmentDuration = time.Minute
		c.Store = local
	})
	e.run(t)
	f := startRecording(t, e.rec, "cam1", loadSample(t, "sample-h264.ts"))
	f.feed(0, 1)

	path, _ := openSegment(t, e.rec, "cam1")
	size, disk := diskUse(t, path)
	if disk < preallocChunk || disk <= size {
		t.Errorf("while recording: %d bytes on disk for %d bytes of data, want a preallocation of at least %d past them",
			disk, size, preallocChunk)
	}

	if err := f.end(); err != nil {
		t.Fatal(err)
	}
	drain(t, e.rec)
	rows := e.index.sorted()
	if len(rows) != 1 {
		t.Fatalf("%d segments, want 1", len(rows))
	}
	size, disk = diskUse(t, filepath.Join(blobs, filepath.FromSlash(rows[0].Key)))
	if size != rows[0].Size || disk > size+4096 {
		t.Errorf("stored segment: %d bytes on disk for %d bytes (index: %d), want no block past its end", disk, size, rows[0].Size)
	}
	checkSegments(t, local, rows, []string{"h264", "aac"})
}

// openSegment returns the data file and the committed fragments of cam's
// open segment.
func openSegment(t *testing.T, rec *Recorder, cam string) (string, []store.Fragment) {
	t.Helper()
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for sg := range rec.open {
		if sg.cam == cam {
			return sg.dataPath, slices.Clone(sg.seg.Fragments)
		}
	}
	t.Fatalf("no open segment of %s", cam)
	return "", nil
}

// diskUse returns a file's size and the bytes of disk it holds.
func diskUse(t *testing.T, path string) (size, disk int64) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size(), st.Sys().(*syscall.Stat_t).Blocks * 512
}

// residentPages counts the pages of path's first n bytes that are in the
// page cache (mincore(2) of a read-only mapping).
func residentPages(t *testing.T, path string, n int64) (resident, total int) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	m, err := unix.Mmap(int(file.Fd()), 0, int(n), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	vec := make([]byte, (n+int64(os.Getpagesize())-1)/int64(os.Getpagesize()))
	if _, _, errno := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)),
		uintptr(unsafe.Pointer(&vec[0]))); errno != 0 {
		t.Fatal("mincore:", errno)
	}
	for _, v := range vec {
		if v&1 != 0 {
			resident++
		}
	}
	return resident, len(vec)
}
