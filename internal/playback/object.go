package playback

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// object answers GET /media/v1/playback/{camera}/obj/{key...}?token=: one
// stored object (segment or init) of the token's camera, with Range
// support. Only keys under cam/<camera>/ are served, and of those only the
// objects the token's range needs (allowedObject).
func (s *Service) object(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("key")
	c, cam, z, err := s.tokenCamera(r, authz.PermPlayback, "", func(c auth.MediaClaims) error { return allowedKey(c, key) })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.serveCachedInit(w, r, cam, key, c.Share) {
		return
	}
	err = allowedObject(r.Context(), z, c, key)
	if errors.Is(err, errOutOfRange) {
		// Not indexed: it may be in the holder's spool still.
		rs := s.recent(r.Context(), cam, c.From, c.To, c.Subject, false)
		if seg, ok := rs.object(key); ok {
			s.serveSpooled(s.egress(w, cam, usage.EgressVOD, c.Share), r, &recentObjects{blobs: z.Blobs, src: rs.src}, seg, key)
			return
		}
		err = allowedObject(r.Context(), z, c, key) // uploaded and indexed meanwhile
	}
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
	rs := blob.NewSeeker(r.Context(), z.Blobs, key, size)
	defer func() { _ = rs.Close() }()
	http.ServeContent(s.egress(w, cam, usage.EgressVOD, c.Share), r, "", time.Time{}, rs)
}

// serveSpooled serves key, a spooled segment seg (its committed bytes,
// with Range support) or its init segment, read through objs. It is not
// cached: the segment grows while it is written.
func (s *Service) serveSpooled(w http.ResponseWriter, r *http.Request, objs objects, seg store.Segment, key string) {
	h := w.Header()
	h.Set("Content-Type", contentType(key))
	h.Set("Cache-Control", "private, no-store")
	if key != seg.Key {
		b, err := readInit(r.Context(), objs, key)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		return
	}
	last := seg.Fragments[len(seg.Fragments)-1]
	rs := blob.NewSeeker(r.Context(), objs, key, last.Offset+last.Size)
	defer func() { _ = rs.Close() }()
	http.ServeContent(w, r, "", time.Time{}, rs)
}

// errOutOfRange refuses an object the token's range does not need.
var errOutOfRange = httpapi.Errorf(http.StatusForbidden, "forbidden", "this object is outside the token's time range")

// allowedKey refuses, before anything is read, keys outside the camera's
// prefix and segment objects whose name says they start too early or too
// late to overlap the token's range; allowedObject decides the rest.
func allowedKey(c auth.MediaClaims, key string) error {
	prefix := "cam/" + c.CameraID + "/"
	if !strings.HasPrefix(key, prefix) || path.Clean(key) != key || blob.ValidateKey(key) != nil {
		return httpapi.Errorf(http.StatusForbidden, "forbidden", "this token does not grant that object")
	}
	if start, ok := segmentStart(key); ok && (!start.After(c.From.Add(-store.MaxSegmentDuration)) || !start.Before(c.To)) {
		return errOutOfRange
	}
	return nil
}

// segmentStart is the start a segment object's name (<start µs>.m4s)
// tells; ok is false for other keys.
func segmentStart(key string) (start time.Time, ok bool) {
	digits, ok := strings.CutSuffix(path.Base(key), ".m4s")
	if !ok {
		return time.Time{}, false
	}
	us, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.UnixMicro(us), true
}

// allowedObject admits, by the zone's index, only the objects a player of
// the token's range [From, To] needs: a segment object whose indexed span
// overlaps the range, and an init object that such a segment uses. The
// start in a segment's name is not trusted alone: a segment may start up
// to store.MaxSegmentDuration before the range and still end before it.
func allowedObject(ctx context.Context, z *zone.Zone, c auth.MediaClaims, key string) error {
	if start, ok := segmentStart(key); ok {
		seg, err := z.DB.SegmentAt(ctx, c.CameraID, start)
		if errors.Is(err, store.ErrNotFound) {
			return errOutOfRange
		}
		if err != nil {
			return err
		}
		if seg.Key != key || !overlaps(seg, c.From, c.To) {
			return errOutOfRange
		}
		return nil
	}
	segs, err := listSegments(ctx, z, c.CameraID, c.From, c.To)
	if err != nil {
		return err
	}
	for _, seg := range segs {
		if seg.InitKey == key && overlaps(seg, c.From, c.To) {
			return nil
		}
	}
	return errOutOfRange
}

// overlaps reports whether seg's span [Start, End) meets [from, to].
func overlaps(seg store.Segment, from, to time.Time) bool {
	return seg.Start.Before(to) && seg.End.After(from)
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
