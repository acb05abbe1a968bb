package spool

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The spool's file helpers: durable whole-file writes and bounded reads.

// writeFileSync writes b to path atomically (temporary file, fsync, rename,
// directory fsync), unless path already exists.
func writeFileSync(path string, b []byte) error {
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return replaceFileSync(path, b)
}

// replaceFileSync writes b to path atomically: temporary file, fsync,
// rename, directory fsync.
func replaceFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// readFileMax reads a whole file of at most limit bytes.
func readFileMax(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is over %d bytes", path, limit)
	}
	return b, nil
}
