// Package evidence is the signed evidence package of an export: the MP4,
// a manifest that says what it is (camera, organisation, range, frames,
// exporter, the MP4's SHA-256, the audit entry of the export, the
// bookmarks in the range) and an Ed25519 signature over the manifest; how
// it is written and verified (offline, with the deployment's public key);
// and that key, made once per deployment and kept sealed in the
// directory.
//
// A package is a zip file (entries stored, not compressed: video does
// not shrink, and a stored entry can be read and checked in one pass)
// holding, in this order:
//
//	video.mp4      the clip
//	manifest.json  the manifest (UTF-8 JSON), its Video.SHA256 that of video.mp4
//	manifest.sig   the base64 Ed25519 signature of manifest.json's bytes
package evidence

import (
	"archive/zip"
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Format names the package format in its manifest.
const Format = "camcloud-evidence/1"

// Entry names of a package.
const (
	VideoEntry     = "video.mp4"
	ManifestEntry  = "manifest.json"
	SignatureEntry = "manifest.sig"
)

// maxManifest bounds a manifest read from a package.
const maxManifest = 4 << 20

// Manifest says what a package holds. Its JSON bytes are what is signed.
type Manifest struct {
	Format       string `json:"format"`
	ExportID     string `json:"export_id"`
	Camera       Named  `json:"camera"`
	Organisation Named  `json:"organisation"`
	// From and To are the range asked for; FirstFrame the time of the
	// first frame (the keyframe at or before From), LastFrameEnd when the
	// last frame's display ends (at most To).
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	FirstFrame   time.Time `json:"first_frame"`
	LastFrameEnd time.Time `json:"last_frame_end"`
	Exporter     Exporter  `json:"exporter"`
	CreatedAt    time.Time `json:"created_at"`
	Video        Video     `json:"video"`
	// AuditSeq is the sequence number of the export's entry in the
	// deployment's audit log (camcloud audit verify checks that log).
	AuditSeq  int64      `json:"audit_seq"`
	Bookmarks []Bookmark `json:"bookmarks"`
	// KeyID names the key that signed the package (KeyID of its public
	// half), so that a package signed by another deployment is told from
	// an edited one.
	KeyID string `json:"key_id"`
}

// Named is a camera or organisation: id and name.
type Named struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Exporter is who made the export.
type Exporter struct {
	UserID string `json:"user_id"`
	Email  string `json:"email"`
}

// Video describes video.mp4.
type Video struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Watermarked: re-encoded with the time and exporter burned in.
	Watermarked bool `json:"watermarked"`
}

// Bookmark is a bookmark of the camera within the range.
type Bookmark struct {
	ID    string     `json:"id"`
	Name  string     `json:"name"`
	Note  string     `json:"note,omitempty"`
	Start time.Time  `json:"start"`
	End   *time.Time `json:"end,omitempty"`
}

// KeyID is the short name of a public key: the first 8 bytes of its
// SHA-256, in hex.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// Write writes a package of video (read to its end) and m to w, signed
// with priv: m's Format, KeyID and Video size and hash are filled in. It
// returns the manifest as signed.
func Write(w io.Writer, video io.Reader, m Manifest, priv ed25519.PrivateKey) (Manifest, error) {
	zw := zip.NewWriter(w)
	vw, err := zw.CreateHeader(&zip.FileHeader{Name: VideoEntry, Method: zip.Store, Modified: m.CreatedAt})
	if err != nil {
		return m, err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(vw, h), video)
	if err != nil {
		return m, fmt.Errorf("evidence: video: %w", err)
	}
	m.Format, m.KeyID = Format, KeyID(priv.Public().(ed25519.PublicKey))
	m.Video.Name, m.Video.Size, m.Video.SHA256 = VideoEntry, n, hex.EncodeToString(h.Sum(nil))
	if m.Bookmarks == nil {
		m.Bookmarks = []Bookmark{}
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	body = append(body, '\n')
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, body)) + "\n"
	for _, e := range []struct {
		name string
		b    []byte
	}{{ManifestEntry, body}, {SignatureEntry, []byte(sig)}} {
		ew, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store, Modified: m.CreatedAt})
		if err != nil {
			return m, err
		}
		if _, err := ew.Write(e.b); err != nil {
			return m, err
		}
	}
	return m, zw.Close()
}

// Reasons a package fails verification; errors of Verify wrap one.
var (
	// ErrMalformed: not a package (not a zip, an entry missing or doubled,
	// a manifest that is not JSON).
	ErrMalformed = errors.New("not a well-formed evidence package")
	// ErrForeignKey: signed by a key other than the one given.
	ErrForeignKey = errors.New("signed by another key")
	// ErrManifestChanged: the signature does not match the manifest.
	ErrManifestChanged = errors.New("the manifest was changed after it was signed")
	// ErrVideoChanged: video.mp4 is not the video the manifest describes.
	ErrVideoChanged = errors.New("the video was changed after it was signed")
)

// Verify checks the package of size bytes in r against pub: the
// signature of the manifest, then the video's size and SHA-256 against
// it. It returns the manifest; on failure an error wrapping one of the
// Err reasons above, which says what differs.
func Verify(r io.ReaderAt, size int64, pub ed25519.PublicKey) (Manifest, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	files := map[string]*zip.File{}
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return Manifest{}, fmt.Errorf("%w: %s appears twice", ErrMalformed, f.Name)
		}
		files[f.Name] = f
	}
	for _, name := range []string{VideoEntry, ManifestEntry, SignatureEntry} {
		if files[name] == nil {
			return Manifest{}, fmt.Errorf("%w: no %s", ErrMalformed, name)
		}
	}
	body, err := readEntry(files[ManifestEntry], maxManifest)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrMalformed, ManifestEntry, err)
	}
	sigText, err := readEntry(files[SignatureEntry], 1024)
	if err != nil {
		return Manifest{}, fmt.Errorf("%w: %s: %v", ErrMalformed, SignatureEntry, err)
	}
	var m Manifest
	jsonErr := json.Unmarshal(body, &m)
	sig, sigErr := base64.StdEncoding.DecodeString(strings.TrimSpace(string(sigText)))
	if sigErr != nil || len(sig) != ed25519.SignatureSize || !ed25519.Verify(pub, body, sig) {
		if jsonErr == nil && m.KeyID != "" && m.KeyID != KeyID(pub) {
			return m, fmt.Errorf("%w: the manifest names key %s, the public key given is %s", ErrForeignKey, m.KeyID, KeyID(pub))
		}
		return m, fmt.Errorf("%w: the signature in %s does not match %s for key %s", ErrManifestChanged, SignatureEntry, ManifestEntry, KeyID(pub))
	}
	if jsonErr != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrMalformed, ManifestEntry, jsonErr)
	}
	if m.Format != Format {
		return m, fmt.Errorf("%w: format %q, want %q", ErrMalformed, m.Format, Format)
	}
	rc, err := files[VideoEntry].Open()
	if err != nil {
		return m, fmt.Errorf("%w: %s: %v", ErrMalformed, VideoEntry, err)
	}
	defer rc.Close()
	h := sha256.New()
	n, err := io.Copy(h, rc)
	// A changed byte also fails the zip's CRC at the end of the entry:
	// the hash, over every byte, is what tells.
	if err != nil && !errors.Is(err, zip.ErrChecksum) {
		return m, fmt.Errorf("%w: %s: %v", ErrMalformed, VideoEntry, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != m.Video.Size || got != m.Video.SHA256 {
		return m, fmt.Errorf("%w: %s has %d bytes with SHA-256 %s, the manifest says %d bytes with SHA-256 %s",
			ErrVideoChanged, VideoEntry, n, got, m.Video.Size, m.Video.SHA256)
	}
	return m, nil
}

// readEntry reads a whole entry of at most limit bytes, whatever its CRC.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	var b bytes.Buffer
	// A changed byte fails the zip's CRC: the signature says what changed.
	if _, err := io.Copy(&b, io.LimitReader(rc, limit+1)); err != nil && !errors.Is(err, zip.ErrChecksum) {
		return nil, err
	}
	if int64(b.Len()) > limit {
		return nil, fmt.Errorf("over %d bytes", limit)
	}
	return b.Bytes(), nil
}
