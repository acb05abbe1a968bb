package evidence_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/testenv"
)

func newKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return priv
}

func pkg(t *testing.T, priv ed25519.PrivateKey, video []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	m := evidence.Manifest{ExportID: "e1", Camera: evidence.Named{ID: "c1", Name: "Gate"}, CreatedAt: time.Unix(1700000000, 0).UTC(),
		Bookmarks: []evidence.Bookmark{{ID: "b1", Name: "forklift", Start: time.Unix(1700000001, 0).UTC()}}}
	if _, err := evidence.Write(&b, bytes.NewReader(video), m, priv); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestVerify(t *testing.T) {
	priv := newKey(t)
	pub := priv.Public().(ed25519.PublicKey)
	video := bytes.Repeat([]byte("mdat"), 4096)
	p := pkg(t, priv, video)
	m, err := evidence.Verify(bytes.NewReader(p), int64(len(p)), pub)
	if err != nil {
		t.Fatalf("fresh package: %v", err)
	}
	if m.Video.Size != int64(len(video)) || m.KeyID != evidence.KeyID(pub) || len(m.Bookmarks) != 1 {
		t.Fatalf("manifest: %+v", m)
	}

	// One byte of the video changed.
	bad := append([]byte(nil), p...)
	_, voff := testenv.ZipEntry(t, bad, evidence.VideoEntry)
	bad[voff+100] ^= 1
	if _, err := evidence.Verify(bytes.NewReader(bad), int64(len(bad)), pub); !errors.Is(err, evidence.ErrVideoChanged) {
		t.Fatalf("changed video: %v", err)
	}

	// The manifest edited in place (same length: the camera's name).
	bad = append([]byte(nil), p...)
	_, off := testenv.ZipEntry(t, bad, evidence.ManifestEntry)
	i := bytes.Index(bad[off:], []byte(`"Gate"`))
	copy(bad[off+int64(i):], `"Door"`)
	if _, err := evidence.Verify(bytes.NewReader(bad), int64(len(bad)), pub); !errors.Is(err, evidence.ErrManifestChanged) {
		t.Fatalf("edited manifest: %v", err)
	}

	// Another deployment's key.
	other := newKey(t).Public().(ed25519.PublicKey)
	_, err = evidence.Verify(bytes.NewReader(p), int64(len(p)), other)
	if !errors.Is(err, evidence.ErrForeignKey) || !strings.Contains(err.Error(), evidence.KeyID(pub)) {
		t.Fatalf("foreign key: %v", err)
	}

	// Not a package.
	if _, err := evidence.Verify(bytes.NewReader(video), int64(len(video)), pub); !errors.Is(err, evidence.ErrMalformed) {
		t.Fatalf("not a zip: %v", err)
	}
}

func TestPublicKeyForms(t *testing.T) {
	pub := newKey(t).Public().(ed25519.PublicKey)
	for _, form := range []string{evidence.PublicPEM(pub)} {
		got, err := evidence.ParsePublicKey([]byte(form))
		if err != nil || !got.Equal(pub) {
			t.Fatalf("%q: %v", form, err)
		}
	}
	if _, err := evidence.ParsePublicKey([]byte("not a key")); err == nil {
		t.Fatal("garbage accepted")
	}
}
