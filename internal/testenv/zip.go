package testenv

import (
	"archive/zip"
	"bytes"
	"io"
	"testing"
)

// ZipEntry returns the bytes of entry name of the zip file data, and
// where they start in data (so that a test can change one in place).
func ZipEntry(t testing.TB, data []byte, name string) ([]byte, int64) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if f.Name != name {
			continue
		}
		off, err := f.DataOffset()
		if err != nil {
			t.Fatal(err)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return b, off
	}
	t.Fatalf("the zip file has no %s", name)
	return nil, 0
}
