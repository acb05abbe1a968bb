package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/apptest"
	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/testenv"
)

// TestEvidenceVerifyCommand: `camcloud evidence verify` accepts a package
// signed with a deployment's key (given as the file `camcloud evidence
// public-key` prints, or fetched from the server) and rejects, naming
// why, one changed byte of the MP4, an edited manifest and a package
// signed with another key. (internal/playback's TestEvidenceExport makes
// a package through the API and verifies it.)
func TestEvidenceVerifyCommand(t *testing.T) {
	n := apptest.Start(t)
	video, err := os.ReadFile(testenv.GOPMedia(t, 25, 25, 4))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, priv ed25519.PrivateKey) string {
		var b bytes.Buffer
		m := evidence.Manifest{ExportID: "e1", Camera: evidence.Named{ID: "c1", Name: "Gate"}, From: time.Unix(1700000000, 0).UTC(),
			To: time.Unix(1700000004, 0).UTC(), CreatedAt: time.Now().UTC(), Exporter: evidence.Exporter{Email: "op@example.com"}}
		if _, err := evidence.Write(&b, bytes.NewReader(video), m, priv); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	fresh := write("fresh.zip", n.App.Exports.PublicKey().Private())

	// The public key as the command prints it, into a file.
	var code int
	// Stdout and stderr together: the key id line follows the PEM block.
	keyOut := captureStderr(t, func() { code = run([]string{"evidence", "public-key", "--data-dir", n.App.Cfg.DataDir}) })
	if code != 0 {
		t.Fatalf("public-key exited %d: %s", code, keyOut)
	}
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, []byte(keyOut), 0o600); err != nil {
		t.Fatal(err)
	}

	verify := func(pkg string, key ...string) (int, string) {
		var code int
		out := captureStderr(t, func() { code = run(append([]string{"evidence", "verify", pkg}, key...)) })
		return code, out
	}
	for _, key := range [][]string{{"--public-key", keyFile}, {"--server", n.Base}} {
		if code, out := verify(fresh, key...); code != 0 || !contains(out, "evidence package OK") {
			t.Fatalf("fresh package with %v: exit %d: %s", key, code, out)
		}
	}

	pkg, err := os.ReadFile(fresh)
	if err != nil {
		t.Fatal(err)
	}
	changed := func(name string, edit func(b []byte, off int64)) string {
		b := append([]byte(nil), pkg...)
		_, off := testenv.ZipEntry(t, b, name)
		edit(b, off)
		p := filepath.Join(dir, "changed-"+name+".zip")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	otherPriv := func() ed25519.PrivateKey {
		_, k, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}()
	cases := []struct {
		name, pkg, want string
	}{
		{"one byte of the MP4", changed(evidence.VideoEntry, func(b []byte, off int64) { b[off+int64(len(video)/2)] ^= 0x01 }), "the video was changed"},
		{"an edited manifest", changed(evidence.ManifestEntry, func(b []byte, off int64) {
			i := bytes.Index(b[off:], []byte(`"Gate"`))
			copy(b[off+int64(i):], `"Door"`)
		}), "the manifest was changed"},
		{"another key", write("other.zip", otherPriv), "signed by another key"},
	}
	for _, c := range cases {
		code, out := verify(c.pkg, "--public-key", keyFile)
		if code != 1 || !contains(out, "REJECTED") || !contains(out, c.want) {
			t.Errorf("%s: exit %d: %s, want a rejection naming %q", c.name, code, out, c.want)
		}
	}
	if code, _ := verify(fresh); code != 2 {
		t.Errorf("verify without a key: exit %d, want 2", code)
	}
}
