package spool

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/camcloud/camcloud/internal/testenv"
)

// crashSpool writes 10 fragments of 1 s into an open segment, and the
// payload of the next one ahead of it, and returns a copy of the spool as
// it is on disk at that moment, as a crash would leave it, and the number
// of fragments its sidecar lists.
func crashSpool(t *testing.T) (string, int) {
	t.Helper()
	s, _ := newSpool(t, "", nil)
	w := &testWriter{sg: openTest(t, s, "cam1", epoch)}
	w.write(t, 10)
	s.Flush()
	if _, err := w.sg.WriteAt(make([]byte, 5000), w.sg.Written()+1024); err != nil {
		t.Fatal(err)
	}
	snap := t.TempDir()
	testenv.CopyDir(t, s.cfg.Dir, snap)
	idx, data := spoolPaths(t, snap)
	b, err := os.ReadFile(idx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(data); err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(b, []byte{'\n'}) - 1
	if n != 10 {
		t.Fatalf("%d fragments in the sidecar after 10 were committed", n)
	}
	return snap, n
}

// spoolPaths returns the sidecar and data file of the only spooled segment.
func spoolPaths(t *testing.T, dir string) (idx, data string) {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "cam1", "*.idx"))
	if len(m) != 1 {
		t.Fatalf("spooled sidecars %v, want one", m)
	}
	return m[0], strings.TrimSuffix(m[0], ".idx") + ".m4s"
}

func appendFile(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestRecoverAfterCrash(t *testing.T) {
	snap, frags := crashSpool(t)
	garbage := bytes.Repeat([]byte{0, 0, 0x10, 0, 'm', 'o', 'o', 'f', 0xde, 0xad}, 300)
	cases := []struct {
		name  string
		crash func(t *testing.T, idx, data string)
		want  int // fragments recovered; 0: nothing to upload
	}{
		{"clean", func(*testing.T, string, string) {}, frags},
		{"torn data tail and sidecar line", func(t *testing.T, idx, data string) {
			appendFile(t, data, garbage)
			appendFile(t, idx, []byte(`{"o":123456,"s":99`))
		}, frags},
		{"garbage sidecar line", func(t *testing.T, idx, data string) {
			appendFile(t, idx, []byte("\x00\x01not json\n{\"o\":1,\"s\":2,\"t\":0,\"d\":0,\"k\":true}\n"))
		}, frags},
		{"last fragment torn", func(t *testing.T, idx, data string) {
			// The file may go on past the last fragment (payload written
			// ahead of the next one): tear the fragment itself.
			b, _ := os.ReadFile(idx)
			sc, err := parseSidecar(b)
			if err != nil {
				t.Fatal(err)
			}
			last := sc.Fragments[len(sc.Fragments)-1]
			if err := os.Truncate(data, last.Offset+last.Size-1000); err != nil {
				t.Fatal(err)
			}
		}, frags - 1},
		{"fragment bytes overwritten", func(t *testing.T, idx, data string) {
			f, _ := os.OpenFile(data, os.O_WRONLY, 0)
			defer f.Close()
			// The third fragment's moof header: the rest cannot be trusted.
			b, _ := os.ReadFile(idx)
			sc, err := parseSidecar(b)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteAt([]byte("xxxxxxxx"), sc.Fragments[2].Offset)
		}, 2},
		{"torn sidecar header", func(t *testing.T, idx, data string) {
			b, _ := os.ReadFile(idx)
			os.WriteFile(idx, b[:20], 0o640)
		}, 0},
		{"no data file", func(t *testing.T, idx, data string) { os.Remove(data) }, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			testenv.CopyDir(t, snap, dir)
			idx, data := spoolPaths(t, dir)
			c.crash(t, idx, data)
			// A stray temporary file and a data file without sidecar are cleaned up.
			os.WriteFile(filepath.Join(dir, "cam1", "x.init.tmp"), []byte("junk"), 0o640)
			os.WriteFile(filepath.Join(dir, "cam1", "1.m4s"), []byte("junk"), 0o640)

			s, _ := newSpool(t, dir, nil)
			if err := s.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			n, _ := s.Pending()
			if c.want == 0 {
				if n != 0 {
					t.Errorf("%d segments recovered, want none", n)
				}
				if left := testenv.Files(t, dir); len(left) != 0 {
					t.Errorf("spool files left: %v", left)
				}
				return
			}
			if n != 1 {
				t.Fatalf("%d segments recovered, want 1", n)
			}
			// Recover twice is harmless.
			if err := s.Recover(context.Background()); err != nil {
				t.Fatal(err)
			}
			rows, datas := takeAll(t, s)
			if len(rows) != 1 {
				t.Fatalf("%d rows, want 1", len(rows))
			}
			if len(rows[0].Fragments) != c.want {
				t.Errorf("%d fragments recovered, want %d", len(rows[0].Fragments), c.want)
			}
			if !rows[0].Start.Equal(epoch) {
				t.Errorf("recovered segment starts at %v, want %v", rows[0].Start, epoch)
			}
			if int64(len(datas[0])) != rows[0].Size {
				t.Errorf("row size %d, data file has %d bytes", rows[0].Size, len(datas[0]))
			}
			frames := frames(t, datas[0], rows[0].Fragments)
			if want := int(rows[0].End.Sub(rows[0].Start).Seconds() * 25); frames != want || frames < c.want*24 {
				t.Errorf("%d frames recovered for %d fragments", frames, c.want)
			}
			if left := testenv.Files(t, dir); len(left) != 0 {
				t.Errorf("spool files left after upload: %v", left)
			}
		})
	}
}
