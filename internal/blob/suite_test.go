package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// newStoreFunc makes an empty store for one subtest.
type newStoreFunc func(t *testing.T) Store

// runSuite checks every Store behaviour that callers rely on, for any backend.
func runSuite(t *testing.T, newStore newStoreFunc) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("Overwrite", func(t *testing.T) { testOverwrite(t, newStore(t)) })
	t.Run("Ranges", func(t *testing.T) { testRanges(t, newStore(t)) })
	t.Run("NotFound", func(t *testing.T) { testNotFound(t, newStore(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newStore(t)) })
	t.Run("ListOrder", func(t *testing.T) { testListOrder(t, newStore(t)) })
	t.Run("ConcurrentPuts", func(t *testing.T) { testConcurrentPuts(t, newStore(t)) })
	t.Run("ShortBody", func(t *testing.T) { testShortBody(t, newStore(t)) })
	t.Run("BadKeys", func(t *testing.T) { testBadKeys(t, newStore(t)) })
	t.Run("Ping", func(t *testing.T) {
		if err := newStore(t).Ping(context.Background()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
	})
}

// pattern returns n bytes that differ by position and by seed, so a wrong
// offset or a mix of two writes shows.
func pattern(seed byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7+i/251) ^ seed
	}
	return b
}

func put(t testing.TB, s Store, key string, data []byte) {
	t.Helper()
	if err := s.Put(context.Background(), key, bytes.NewReader(data), int64(len(data))); err != nil {
		t.Fatalf("Put %q: %v", key, err)
	}
}

func readAll(t testing.TB, rc io.ReadCloser, err error) []byte {
	t.Helper()
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return b
}

func get(t testing.TB, s Store, key string) []byte {
	t.Helper()
	rc, err := s.Get(context.Background(), key)
	return readAll(t, rc, err)
}

func listAll(t testing.TB, s Store, prefix string) []string {
	t.Helper()
	var keys []string
	err := s.List(context.Background(), prefix, func(k string, size int64) error {
		keys = append(keys, fmt.Sprintf("%s=%d", k, size))
		return nil
	})
	if err != nil {
		t.Fatalf("List %q: %v", prefix, err)
	}
	return keys
}

func testRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	for _, n := range []int{0, 1, 4096, 300_000} {
		key := fmt.Sprintf("cam/1/2026/11/25/13/%06d.m4s", n)
		data := pattern(1, n)
		put(t, s, key, data)
		if got := get(t, s, key); !bytes.Equal(got, data) {
			t.Fatalf("Get %q: %d bytes, want %d identical bytes", key, len(got), n)
		}
		size, err := s.Stat(ctx, key)
		if err != nil || size != int64(n) {
			t.Fatalf("Stat %q = %d, %v; want %d", key, size, err, n)
		}
	}
}

func testOverwrite(t *testing.T, s Store) {
	put(t, s, "k/obj", pattern(1, 5000))
	put(t, s, "k/obj", pattern(2, 100))
	if got := get(t, s, "k/obj"); !bytes.Equal(got, pattern(2, 100)) {
		t.Fatalf("after overwrite got %d bytes, want the second object's 100", len(got))
	}
	if got := listAll(t, s, ""); strings.Join(got, ",") != "k/obj=100" {
		t.Fatalf("List after overwrite = %v", got)
	}
}

func testRanges(t *testing.T, s Store) {
	data := pattern(3, 1000)
	put(t, s, "r/obj", data)
	cases := []struct {
		name           string
		offset, length int64
		want           []byte
	}{
		{"middle", 100, 50, data[100:150]},
		{"start", 0, 10, data[:10]},
		{"to end", 990, -1, data[990:]},
		{"whole", 0, -1, data},
		{"offset to end", 1, -1, data[1:]},
		{"runs past end", 950, 500, data[950:]},
		{"last byte", 999, 1, data[999:]},
		{"starts at end", 1000, 10, nil},
		{"starts past end", 5000, 10, nil},
		{"past end to end", 5000, -1, nil},
		{"zero length", 10, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rc, err := s.GetRange(context.Background(), "r/obj", c.offset, c.length)
			got := readAll(t, rc, err)
			if !bytes.Equal(got, c.want) {
				t.Fatalf("GetRange(%d, %d) = %d bytes, want %d", c.offset, c.length, len(got), len(c.want))
			}
		})
	}
	if _, err := s.GetRange(context.Background(), "r/obj", -1, 10); err == nil {
		t.Fatal("negative offset accepted")
	}
}

func testNotFound(t *testing.T, s Store) {
	ctx := context.Background()
	put(t, s, "a/b", []byte("x"))
	for _, key := range []string{"missing", "a/missing", "a/b/c", "a"} {
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get %q: %v, want ErrNotFound", key, err)
		}
		if _, err := s.GetRange(ctx, key, 1, 2); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetRange %q: %v, want ErrNotFound", key, err)
		}
		if _, err := s.GetRange(ctx, key, 1, 0); !errors.Is(err, ErrNotFound) {
			t.Errorf("GetRange %q zero length: %v, want ErrNotFound", key, err)
		}
		if _, err := s.Stat(ctx, key); !errors.Is(err, ErrNotFound) {
			t.Errorf("Stat %q: %v, want ErrNotFound", key, err)
		}
	}
}

func testDelete(t *testing.T, s Store) {
	ctx := context.Background()
	put(t, s, "d/1", []byte("1"))
	put(t, s, "d/2", []byte("2"))
	put(t, s, "d/sub/3", []byte("3"))
	put(t, s, "e/keep", []byte("4"))
	if err := s.Delete(ctx, "d/1", "d/missing", "d/sub/3", "nowhere/at/all"); err != nil {
		t.Fatalf("Delete existing+missing: %v", err)
	}
	if err := s.Delete(ctx); err != nil {
		t.Fatalf("Delete of nothing: %v", err)
	}
	if got := strings.Join(listAll(t, s, ""), ","); got != "d/2=1,e/keep=1" {
		t.Fatalf("after Delete List = %s", got)
	}
	if _, err := s.Stat(ctx, "d/1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Stat deleted: %v", err)
	}
	// Many keys at once: S3 batches them 1000 per request.
	var keys []string
	for i := range 1205 {
		keys = append(keys, fmt.Sprintf("many/%04d", i))
	}
	for _, k := range keys[:30] {
		put(t, s, k, []byte("x"))
	}
	if err := s.Delete(ctx, keys...); err != nil {
		t.Fatalf("Delete of %d keys: %v", len(keys), err)
	}
	if got := listAll(t, s, "many/"); len(got) != 0 {
		t.Fatalf("after batch Delete still listed: %v", got)
	}
}

func testListOrder(t *testing.T, s Store) {
	keys := []string{"b/2", "a/b", "a.txt", "a-b", "b/10", "b/1/x", "c", "ab"}
	for i, k := range keys {
		put(t, s, k, pattern(byte(i), i+1))
	}
	want := map[string]string{
		"":    "a-b=4,a.txt=3,a/b=2,ab=8,b/1/x=6,b/10=5,b/2=1,c=7",
		"a":   "a-b=4,a.txt=3,a/b=2,ab=8",
		"a/":  "a/b=2",
		"b/1": "b/1/x=6,b/10=5",
		"b/":  "b/1/x=6,b/10=5,b/2=1",
		"zz":  "",
	}
	for prefix, w := range want {
		if got := strings.Join(listAll(t, s, prefix), ","); got != w {
			t.Errorf("List(%q) = %s, want %s", prefix, got, w)
		}
	}
	stop := errors.New("stop")
	n := 0
	err := s.List(context.Background(), "", func(string, int64) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Fatalf("List with failing callback: err %v after %d calls", err, n)
	}
}

func testConcurrentPuts(t *testing.T, s Store) {
	const writers, size = 6, 256 << 10
	var wg sync.WaitGroup
	errs := make(chan error, writers*3)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := pattern(byte(w+1), size)
			for range 3 {
				if err := s.Put(context.Background(), "same/key", bytes.NewReader(data), size); err != nil {
					errs <- err
				}
			}
		}()
		wg.Add(1)
		go func() { // readers must never see a mix or a partial object
			defer wg.Done()
			for range 5 {
				rc, err := s.Get(context.Background(), "same/key")
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					errs <- err
					continue
				}
				got, err := io.ReadAll(rc)
				_ = rc.Close()
				if err != nil {
					errs <- err
					continue
				}
				if err := wholeWrite(got, writers, size); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := wholeWrite(get(t, s, "same/key"), writers, size); err != nil {
		t.Fatalf("final object: %v", err)
	}
	if got := listAll(t, s, ""); len(got) != 1 {
		t.Fatalf("List after concurrent puts = %v, want one key", got)
	}
}

// wholeWrite checks got is exactly one writer's object.
func wholeWrite(got []byte, writers, size int) error {
	for w := range writers {
		if bytes.Equal(got, pattern(byte(w+1), size)) {
			return nil
		}
	}
	return fmt.Errorf("torn object: %d bytes matching no single writer", len(got))
}

func testShortBody(t *testing.T, s Store) {
	put(t, s, "short", []byte("old"))
	err := s.Put(context.Background(), "short", strings.NewReader("12345"), 10)
	if err == nil {
		t.Fatal("Put with a body shorter than size succeeded")
	}
	if got := get(t, s, "short"); string(got) != "old" {
		t.Fatalf("failed Put changed the object to %q", got)
	}
	if err := s.Put(context.Background(), "neg", strings.NewReader(""), -1); err == nil {
		t.Fatal("negative size accepted")
	}
}

func testBadKeys(t *testing.T, s Store) {
	ctx := context.Background()
	bad := []string{"", "/abs", "a/../b", "..", "../x", `a\b`, "a\x00b", "a//b", "a/", "./a",
		"x/" + tmpPrefix + "1", strings.Repeat("k", MaxKeyLen+1), "bad\xffutf8"}
	for _, key := range bad {
		if err := s.Put(ctx, key, strings.NewReader("x"), 1); err == nil {
			t.Errorf("Put %q accepted", key)
		} else if !strings.Contains(err.Error(), "invalid key") {
			t.Errorf("Put %q: unclear error %v", key, err)
		}
		if _, err := s.Get(ctx, key); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Get %q: %v, want an invalid key error", key, err)
		}
		if _, err := s.Stat(ctx, key); err == nil || errors.Is(err, ErrNotFound) {
			t.Errorf("Stat %q: %v, want an invalid key error", key, err)
		}
		if err := s.Delete(ctx, key); err == nil {
			t.Errorf("Delete %q accepted", key)
		}
	}
	if err := s.List(ctx, "../", func(string, int64) error { return nil }); err == nil {
		t.Error("List with prefix ../ accepted")
	}
}
