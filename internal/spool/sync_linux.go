package spool

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// datasync flushes f's data (not its metadata, unless needed to read the data
// back) to stable storage: fdatasync(2), cheaper than fsync for appends.
func datasync(f *os.File) error {
	return control(f, func(fd int) error { return syscall.Fdatasync(fd) })
}

// startWriteback starts writing f's dirty pages to disk without waiting
// (sync_file_range(2) SYNC_FILE_RANGE_WRITE), so that the writebacks of a
// commit's files run together and their block allocations share one journal
// transaction; datasync then waits for them. It guarantees nothing alone.
func startWriteback(f *os.File) error {
	return control(f, func(fd int) error { return unix.SyncFileRange(fd, 0, 0, unix.SYNC_FILE_RANGE_WRITE) })
}

// dropCache asks the kernel to drop the cached pages of f's bytes
// [off, off+n) (posix_fadvise(2) POSIX_FADV_DONTNEED). The caller makes sure
// they are clean (synced); dirty pages would only have their writeback
// started. It is advice: an error changes nothing that matters.
func dropCache(f *os.File, off, n int64) error {
	return control(f, func(fd int) error { return unix.Fadvise(fd, off, n, unix.FADV_DONTNEED) })
}

// allocate allocates the blocks of f's bytes [off, off+n) without changing
// its size (fallocate(2) with FALLOC_FL_KEEP_SIZE).
func allocate(f *os.File, off, n int64) error {
	return control(f, func(fd int) error { return unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, off, n) })
}

// control runs fn on f's descriptor.
func control(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = fn(int(fd)) }); err != nil {
		return err
	}
	return serr
}
