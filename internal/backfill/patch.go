package backfill

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// Progress is Patch's answer: the acknowledged offset, and whether the
// upload is complete and its segment stored.
type Progress struct {
	Offset int64
	Stored bool
	// Upload is the upload as it was when the chunk came.
	Upload store.Upload
}

// upload returns upload id of the agent of credential, with its camera
// and zone; store.ErrNotFound when it is not an upload of a camera of the
// agent's site.
func (s *Service) upload(ctx context.Context, credential, id string) (store.Upload, store.Camera, *zone.Zone, error) {
	if _, err := s.c.Sites.Authenticate(ctx, credential); err != nil {
		return store.Upload{}, store.Camera{}, nil, err
	}
	for _, name := range s.c.Zones.Names() {
		z, err := s.c.Zones.Get(name)
		if err != nil {
			return store.Upload{}, store.Camera{}, nil, err
		}
		u, err := z.DB.GetUpload(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return store.Upload{}, store.Camera{}, nil, err
		}
		cam, cz, err := s.camera(ctx, credential, u.CameraID)
		if err != nil {
			return store.Upload{}, store.Camera{}, nil, err
		}
		if cz.Name != z.Name { // the camera moved zones: not this upload's
			return store.Upload{}, store.Camera{}, nil, store.ErrNotFound
		}
		return u, cam, z, nil
	}
	return store.Upload{}, store.Camera{}, nil, store.ErrNotFound
}

// Head returns upload id of the agent of credential.
func (s *Service) Head(ctx context.Context, credential, id string) (store.Upload, error) {
	u, _, _, err := s.upload(ctx, credential, id)
	return u, err
}

// Patch takes one chunk of upload id: length bytes of body, which must
// start at the acknowledged offset (an *OffsetError says where to go on)
// and carry at most ChunkSize bytes, never past the upload's size. The
// chunk is staged in the zone's object store, then the offset moves; the
// last chunk completes the upload (see complete). A chunk of 0 bytes at
// the end completes an upload whose completion was cut off.
func (s *Service) Patch(ctx context.Context, credential, id string, offset int64, body io.Reader, length int64) (Progress, error) {
	u, cam, z, err := s.upload(ctx, credential, id)
	if err != nil {
		return Progress{}, err
	}
	if offset != u.Offset {
		if offset < u.Offset && length > 0 {
			s.m.duplicate.Add(float64(min(length, u.Offset-offset)))
		}
		return Progress{}, &OffsetError{Offset: u.Offset}
	}
	switch {
	case length < 0:
		return Progress{}, invalid("Content-Length is required")
	case length > s.c.ChunkSize:
		return Progress{}, fmt.Errorf("%w: a chunk carries at most %d bytes", ErrTooLarge, s.c.ChunkSize)
	case length > u.Size-offset:
		return Progress{}, invalid("the chunk runs %d bytes past the upload's size %d", length-(u.Size-offset), u.Size)
	case length == 0 && offset < u.Size:
		return Progress{Offset: offset}, nil
	}
	if length > 0 {
		key := stagedChunk(id, offset, offset+length)
		cr := &countingReader{r: io.LimitReader(body, length)}
		err := z.Blobs.Put(ctx, key, cr, length)
		s.m.received.Add(float64(cr.n))
		if err != nil && cr.err != nil && cr.n < length {
			return Progress{}, invalid("the chunk ended after %d of its %d bytes", cr.n, length) // the agent went away
		}
		if err != nil {
			return Progress{}, fmt.Errorf("backfill: staging %d bytes at %d: %w", length, offset, err)
		}
		if err := z.DB.AdvanceUpload(ctx, id, offset, offset+length); err != nil {
			if !errors.Is(err, store.ErrConflict) {
				return Progress{}, err
			}
			// Another request moved it first: ours was a duplicate.
			s.m.duplicate.Add(float64(length))
			now, gerr := z.DB.GetUpload(ctx, id)
			if gerr != nil {
				return Progress{}, gerr
			}
			if now.Offset != offset+length {
				_ = z.Blobs.Delete(ctx, key) // not the range the winner staged
			}
			return Progress{}, &OffsetError{Offset: now.Offset}
		}
		u.Offset = offset + length
	}
	if u.Offset < u.Size {
		return Progress{Offset: u.Offset}, nil
	}
	if err := s.complete(ctx, cam, z, u); err != nil {
		var se *SegmentError
		if errors.As(err, &se) || errors.Is(err, ErrNotMissing) {
			s.m.segments.WithLabelValues(resultInvalid).Inc()
			s.c.Log.Warn("backfill upload refused", "camera", cam.ID, "upload", id, "err", err)
			s.discard(ctx, z, id)
		}
		return Progress{}, err
	}
	return Progress{Offset: u.Size, Stored: true, Upload: u}, nil
}

// discard deletes an upload's staged objects, then its row.
func (s *Service) discard(ctx context.Context, z *zone.Zone, id string) {
	if err := s.deleteStaged(ctx, z, id); err != nil {
		s.c.Log.Warn("backfill: deleting staged chunks", "upload", id, "err", err)
	}
	if err := z.DB.DeleteUpload(ctx, id); err != nil {
		s.c.Log.Warn("backfill: deleting an upload", "upload", id, "err", err)
	}
}

// deleteStaged deletes every object staged under upload id.
func (s *Service) deleteStaged(ctx context.Context, z *zone.Zone, id string) error {
	var keys []string
	if err := z.Blobs.List(ctx, stagedPrefix(id), func(key string, _ int64) error {
		keys = append(keys, key)
		return nil
	}); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	return z.Blobs.Delete(ctx, keys...)
}

// countingReader counts what was read through it, and keeps the error
// its reader gave (a body cut short, not a store that failed).
type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}
