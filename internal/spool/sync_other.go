//go:build !linux

package spool

import (
	"errors"
	"os"
)

// datasync flushes f to stable storage (fsync where fdatasync is missing).
func datasync(f *os.File) error { return f.Sync() }

// startWriteback does nothing where sync_file_range(2) is missing: datasync
// alone makes the data durable.
func startWriteback(*os.File) error { return nil }

// dropCache does nothing where posix_fadvise(2) is missing.
func dropCache(*os.File, int64, int64) error { return nil }

// allocate is not supported where fallocate(2) is missing: files grow as
// they are written.
func allocate(*os.File, int64, int64) error { return errors.ErrUnsupported }
