package record

import (
	"os"
	"syscall"
)

// datasync flushes f's data (not its metadata, unless needed to read the data
// back) to stable storage: fdatasync(2), cheaper than fsync for appends.
func datasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.Fdatasync(int(fd)) }); err != nil {
		return err
	}
	return serr
}
