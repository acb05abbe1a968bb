package spool

import (
	"os"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Recorded fragments leave the page cache once they are synced: a
// recording server's memory does not fill with video nobody reads.
func TestSyncedFragmentsLeaveThePageCache(t *testing.T) {
	s, _ := newSpool(t, "", nil)
	var fs unix.Statfs_t
	if err := unix.Statfs(s.cfg.Dir, &fs); err != nil {
		t.Fatal(err)
	}
	if fs.Type == unix.TMPFS_MAGIC {
		t.Skip("the spool directory is on tmpfs, whose pages are the files themselves")
	}
	w := &testWriter{sg: openTest(t, s, "cam1", epoch)}
	w.write(t, 20) // several fragments, one open segment
	s.Flush()

	committed := w.sg.Written()
	if committed < 1<<20 {
		t.Fatalf("only %d bytes committed in the open segment, want over 1 MiB", committed)
	}
	page := int64(os.Getpagesize())
	resident, total := residentPages(t, w.sg.DataPath(), committed-committed%page)
	if resident > 0 {
		t.Errorf("%d of the %d pages of synced fragments are still in the page cache, want 0", resident, total)
	}
	w.sg.Close()
	s.Flush()
	if rows, _ := takeAll(t, s); len(rows) != 1 || len(rows[0].Fragments) != 20 {
		t.Errorf("rows %+v, want one of 20 fragments", rows)
	}
}

// A data file is allocated ahead of its writes while it is recorded, and
// what was allocated past its end is freed once it is closed: the segment
// to store takes no more disk than its bytes.
func TestSpoolPreallocatesAndTrims(t *testing.T) {
	s, _ := newSpool(t, "", nil)
	w := &testWriter{sg: openTest(t, s, "cam1", epoch)}
	w.write(t, 10)
	s.Flush()

	size, disk := diskUse(t, w.sg.DataPath())
	if disk < preallocChunk || disk <= size {
		t.Errorf("while recording: %d bytes on disk for %d bytes of data, want a preallocation of at least %d past them",
			disk, size, preallocChunk)
	}

	path := w.sg.DataPath()
	w.sg.Close()
	s.Flush()
	sg, _ := s.Next()
	if sg == nil {
		t.Fatal("the closed segment is not queued")
	}
	size, disk = diskUse(t, path)
	if size != sg.Row().Size || disk > size+4096 {
		t.Errorf("closed segment: %d bytes on disk for %d bytes (index: %d), want no block past its end", disk, size, sg.Row().Size)
	}
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
