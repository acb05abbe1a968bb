package blob

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func newLocal(t testing.TB) *Local {
	t.Helper()
	l, err := NewLocal(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatalf("NewLocal: %v", err)
	}
	return l
}

func TestLocalStore(t *testing.T) {
	runSuite(t, func(t *testing.T) Store { return newLocal(t) })
}

func TestLocalLeftoverTempIsInvisible(t *testing.T) {
	l := newLocal(t)
	put(t, l, "cam/1/a.m4s", []byte("whole"))
	// A crash after writing the temp file and before the rename leaves this.
	dir := filepath.Join(l.Dir(), "cam", "1")
	for _, name := range []string{tmpPrefix + "123", tmpPrefix + "b.m4s"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(l.Dir(), "cam", "2"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(l.Dir(), "cam", "2", tmpPrefix+"9"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(listAll(t, l, ""), ","); got != "cam/1/a.m4s=5" {
		t.Fatalf("List shows %s, want only the complete object", got)
	}
	if _, err := l.Get(context.Background(), "cam/1/"+tmpPrefix+"123"); err == nil || errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a temp file: %v, want refused", err)
	}
	if _, err := l.Get(context.Background(), "cam/2/b.m4s"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of an object never renamed: %v, want ErrNotFound", err)
	}
}

func TestLocalDeletePrunesEmptyDirs(t *testing.T) {
	l := newLocal(t)
	put(t, l, "cam/1/2026/11/25/a", []byte("a"))
	put(t, l, "cam/1/2026/11/26/b", []byte("b"))
	if err := l.Delete(context.Background(), "cam/1/2026/11/25/a"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), "cam/1/2026/11/25")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("empty day directory left behind: %v", err)
	}
	if _, err := os.Stat(filepath.Join(l.Dir(), "cam/1/2026/11")); err != nil {
		t.Fatalf("non-empty parent pruned: %v", err)
	}
	if err := l.Delete(context.Background(), "cam/1/2026/11/26/b"); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(l.Dir())
	if err != nil {
		t.Fatalf("store root removed: %v", err)
	}
	if len(ents) != 0 {
		t.Fatalf("root still holds %d entries after deleting everything", len(ents))
	}
	put(t, l, "cam/1/2026/11/26/c", []byte("c")) // directories come back
	if got := string(get(t, l, "cam/1/2026/11/26/c")); got != "c" {
		t.Fatalf("Get after prune = %q", got)
	}
}

func TestLocalKeyAndDirectoryConflict(t *testing.T) {
	l := newLocal(t)
	put(t, l, "a", []byte("x"))
	if err := l.Put(context.Background(), "a/b", strings.NewReader("y"), 1); err == nil {
		t.Fatal("Put under an object's key succeeded")
	}
	if got := string(get(t, l, "a")); got != "x" {
		t.Fatalf("object changed to %q", got)
	}
}

func TestLocalFreeBytesAndPing(t *testing.T) {
	l := newLocal(t)
	free, err := l.FreeBytes()
	if err != nil || free == 0 {
		t.Fatalf("FreeBytes = %d, %v", free, err)
	}
	if err := l.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if ents, _ := os.ReadDir(l.Dir()); len(ents) != 0 {
		t.Fatalf("Ping left %d files behind", len(ents))
	}
	if err := os.RemoveAll(l.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := l.Ping(context.Background()); err == nil {
		t.Fatal("Ping succeeded with the directory gone")
	}
}

func TestNewLocalRejectsFile(t *testing.T) {
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewLocal(f); err == nil {
		t.Fatal("NewLocal on a regular file succeeded")
	}
	if _, err := NewLocal(""); err == nil {
		t.Fatal("NewLocal with an empty path succeeded")
	}
}

func TestLocalPutFile(t *testing.T) {
	ctx := context.Background()
	l := newLocal(t)
	src := filepath.Join(l.Dir(), "..", "spool.m4s") // same file system as the store
	content := []byte("fragment fragment fragment")
	if err := os.WriteFile(src, content, 0o640); err != nil {
		t.Fatal(err)
	}
	put(t, l, "cam/1/seg.m4s", []byte("an older object with this key"))

	// Exactly the file's size: linked into place, replacing the old object.
	if err := l.PutFile(ctx, "cam/1/seg.m4s", src, int64(len(content))); err != nil {
		t.Fatal(err)
	}
	if got := get(t, l, "cam/1/seg.m4s"); string(got) != string(content) {
		t.Fatalf("object holds %q", got)
	}
	a, _ := os.Stat(src)
	b, _ := os.Stat(filepath.Join(l.Dir(), "cam", "1", "seg.m4s"))
	if !os.SameFile(a, b) {
		t.Error("the object is a copy, want the file linked into place")
	}
	// The caller drops its own name; the object stays.
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
	if got := get(t, l, "cam/1/seg.m4s"); string(got) != string(content) {
		t.Fatalf("after removing the source the object holds %q", got)
	}

	// A file longer than size (say, bytes past the last committed
	// fragment) is copied, only size bytes of it.
	if err := os.WriteFile(src, content, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := l.PutFile(ctx, "cam/1/short.m4s", src, 8); err != nil {
		t.Fatal(err)
	}
	if got := get(t, l, "cam/1/short.m4s"); string(got) != "fragment" {
		t.Fatalf("object holds %q, want the first 8 bytes", got)
	}
	c, _ := os.Stat(filepath.Join(l.Dir(), "cam", "1", "short.m4s"))
	if os.SameFile(a, c) {
		t.Error("a longer file was linked")
	}

	// Refused: a missing file, a bad key. Neither leaves anything behind.
	if err := l.PutFile(ctx, "cam/1/missing.m4s", filepath.Join(t.TempDir(), "nope"), 1); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want ErrNotExist", err)
	}
	if err := l.PutFile(ctx, "../escape", src, int64(len(content))); err == nil {
		t.Error("bad key accepted")
	}
	if got := strings.Join(listAll(t, l, ""), ","); got != "cam/1/seg.m4s=26,cam/1/short.m4s=8" {
		t.Errorf("store lists %s", got)
	}
}
