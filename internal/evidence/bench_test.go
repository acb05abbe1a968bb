package evidence_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"testing"

	"github.com/camcloud/camcloud/internal/evidence"
)

// BenchmarkPackage writes and verifies the package of 64 MiB of video:
// the cost an export adds to its clip (one SHA-256 pass and a copy to
// write, one SHA-256 pass to verify).
func BenchmarkPackage(b *testing.B) {
	video := make([]byte, 64<<20)
	if _, err := rand.Read(video); err != nil {
		b.Fatal(err)
	}
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	var pkg bytes.Buffer
	b.Run("write", func(b *testing.B) {
		b.SetBytes(int64(len(video)))
		for b.Loop() {
			pkg.Reset()
			if _, err := evidence.Write(&pkg, bytes.NewReader(video), evidence.Manifest{}, priv); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("verify", func(b *testing.B) {
		b.SetBytes(int64(len(video)))
		r := bytes.NewReader(pkg.Bytes())
		for b.Loop() {
			if _, err := evidence.Verify(r, int64(pkg.Len()), priv.Public().(ed25519.PublicKey)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
