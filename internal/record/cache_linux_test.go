package record

import (
	"os"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
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

	e.rec.mu.Lock()
	var path string
	var committed int64
	for sg := range e.rec.open {
		if frags := sg.seg.Fragments; sg.cam == "cam1" && len(frags) > 0 {
			last := frags[len(frags)-1]
			path, committed = sg.dataPath, last.Offset+last.Size
		}
	}
	e.rec.mu.Unlock()
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
