package blob

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/camcloud/camcloud/internal/testenv"
)

// benchPutGet stores and reads back a 2 MB object (about one minute of a
// low-bitrate camera) per iteration.
func benchPutGet(b *testing.B, s Store) {
	const size = 2 << 20
	data := pattern(9, size)
	ctx := context.Background()
	b.SetBytes(2 * size) // written and read
	b.ResetTimer()
	for b.Loop() {
		if err := s.Put(ctx, "bench/seg.m4s", bytes.NewReader(data), size); err != nil {
			b.Fatal(err)
		}
		rc, err := s.Get(ctx, "bench/seg.m4s")
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(io.Discard, rc)
		_ = rc.Close()
		if err != nil || n != size {
			b.Fatalf("read %d bytes: %v", n, err)
		}
	}
}

func BenchmarkPutGet2MB(b *testing.B) {
	b.Run("Local", func(b *testing.B) { benchPutGet(b, newLocal(b)) })
	b.Run("S3", func(b *testing.B) {
		srv := testenv.StartS3(b)
		benchPutGet(b, newS3(b, srv, "bench", "zone"))
	})
}
