package playback

import (
	"context"
	"errors"
	"io"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
)

// object answers GET /media/v1/playback/{camera}/obj/{key...}?token=: one
// stored object (segment or init) of the token's camera, with Range
// support. Only keys under cam/<camera>/ are served, and segment objects
// (named <start µs>.m4s) only when they can overlap the token's range.
func (s *Service) object(w http.ResponseWriter, r *http.Request) {
	c, err := s.verifyToken(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key := r.PathValue("key")
	if err := allowedKey(c, key); err != nil {
		s.fail(w, r, err)
		return
	}
	z, err := s.mediaZone(r, c.CameraID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	size, err := z.Blobs.Stat(r.Context(), key)
	if errors.Is(err, blob.ErrNotFound) {
		s.fail(w, r, httpapi.Errorf(http.StatusNotFound, "not_found", "no such object"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", contentType(key))
	h.Set("Cache-Control", "private, max-age=3600, immutable")
	rs := &blobSeeker{ctx: r.Context(), st: z.Blobs, key: key, size: size}
	defer func() { _ = rs.Close() }()
	http.ServeContent(w, r, "", time.Time{}, rs)
}

// allowedKey refuses keys outside the camera's prefix, and segment objects
// that start outside the token's range.
func allowedKey(c auth.MediaClaims, key string) error {
	prefix := "cam/" + c.CameraID + "/"
	if !strings.HasPrefix(key, prefix) || path.Clean(key) != key || blob.ValidateKey(key) != nil {
		return httpapi.Errorf(http.StatusForbidden, "forbidden", "this token does not grant that object")
	}
	base := path.Base(key)
	if digits, ok := strings.CutSuffix(base, ".m4s"); ok {
		us, err := strconv.ParseInt(digits, 10, 64)
		if err == nil {
			start := time.UnixMicro(us)
			if !start.After(c.From.Add(-store.MaxSegmentDuration)) || !start.Before(c.To) {
				return httpapi.Errorf(http.StatusForbidden, "forbidden", "this object is outside the token's time range")
			}
		}
	}
	return nil
}

// contentType is the media type of a stored object, by its extension.
func contentType(key string) string {
	switch path.Ext(key) {
	case ".m4s":
		return "video/iso.segment"
	case ".mp4":
		return "video/mp4"
	}
	return "application/octet-stream"
}

// blobSeeker is an io.ReadSeeker over a stored object for http.ServeContent:
// a Seek only records the position, and the next Read opens a ranged read
// from there, so serving a byte range reads only that range.
type blobSeeker struct {
	ctx  context.Context
	st   blob.Store
	key  string
	size int64
	pos  int64
	rc   io.ReadCloser
}

// Read reads from the current position, opening the object there if needed.
func (b *blobSeeker) Read(p []byte) (int, error) {
	if b.pos >= b.size {
		return 0, io.EOF
	}
	if b.rc == nil {
		rc, err := b.st.GetRange(b.ctx, b.key, b.pos, -1)
		if err != nil {
			return 0, err
		}
		b.rc = rc
	}
	n, err := b.rc.Read(p)
	b.pos += int64(n)
	return n, err
}

// Seek moves the position; the open read, if any, is closed.
func (b *blobSeeker) Seek(off int64, whence int) (int64, error) {
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = off
	case io.SeekCurrent:
		abs = b.pos + off
	case io.SeekEnd:
		abs = b.size + off
	default:
		return 0, errors.New("playback: bad whence")
	}
	if abs < 0 {
		return 0, errors.New("playback: negative position")
	}
	if abs != b.pos {
		_ = b.Close()
		b.pos = abs
	}
	return abs, nil
}

// Close closes the open read, if any.
func (b *blobSeeker) Close() error {
	if b.rc == nil {
		return nil
	}
	err := b.rc.Close()
	b.rc = nil
	return err
}
