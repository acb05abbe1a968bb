package backfill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// Request announces one segment an agent wants to upload.
type Request struct {
	Start, End time.Time
	Size       int64
	SHA256     string
	// Init is the init segment the segment object needs (as the agent's
	// store keeps it at the row's init key); empty when the uploaded
	// bytes are the init segment followed by the segment object.
	Init []byte
}

// Answer is Begin's: the segment is stored already, or the upload to
// continue (new at offset 0, or the pending one of the same segment).
type Answer struct {
	Stored bool
	Upload store.Upload
}

// Begin starts, or finds again, the upload of a segment of camera
// cameraID for the agent of credential.
func (s *Service) Begin(ctx context.Context, credential, cameraID string, req Request) (Answer, error) {
	if _, err := s.c.Sites.Authenticate(ctx, credential); err != nil {
		return Answer{}, err // 401 before anything else is said
	}
	req.SHA256 = strings.ToLower(req.SHA256)
	if err := s.check(req); err != nil {
		return Answer{}, err
	}
	cam, z, err := s.camera(ctx, credential, cameraID)
	if err != nil {
		return Answer{}, err
	}
	start, end := req.Start.UTC().Truncate(time.Microsecond), req.End.UTC().Truncate(time.Microsecond)
	if stored, err := storedAlready(ctx, z, cam.ID, start, req.SHA256); err != nil || stored {
		if stored {
			s.m.segments.WithLabelValues(resultAlreadyStored).Inc()
		}
		return Answer{Stored: stored}, err
	}
	if _, err := s.neighbours(ctx, z, cam.ID, start, end); err != nil {
		return Answer{}, err
	}
	var initHash string
	if len(req.Init) > 0 {
		if _, err := initTracks(req.Init); err != nil {
			return Answer{}, invalid("init: %s", err.Error())
		}
		sum := sha256.Sum256(req.Init)
		initHash = hex.EncodeToString(sum[:])[:16] // as the recorder names init segments
	}
	now := s.c.Now().UTC().Truncate(time.Microsecond)
	u := store.Upload{ID: newID(), CameraID: cam.ID, Start: start, End: end, Size: req.Size, SHA256: req.SHA256, InitHash: initHash,
		Created: now, Expires: now.Add(s.c.TTL)}
	got, isNew, err := z.DB.CreateUpload(ctx, u)
	if err == nil && !isNew && !got.Expires.After(now) {
		// Expired, not swept yet: the sweep would take it away mid-way.
		s.discard(ctx, z, got.ID)
		got, isNew, err = z.DB.CreateUpload(ctx, u)
	}
	if err != nil || !isNew {
		return Answer{Upload: got}, err
	}
	if initHash != "" {
		// After the row: staged objects without a row are the sweep's.
		if err := z.Blobs.Put(ctx, stagedInit(u.ID), bytes.NewReader(req.Init), int64(len(req.Init))); err != nil {
			_ = z.DB.DeleteUpload(ctx, u.ID)
			return Answer{}, fmt.Errorf("backfill: staging the init segment: %w", err)
		}
	}
	s.c.Log.Info("backfill upload started", "camera", cam.ID, "upload", u.ID, "start", start, "end", end, "bytes", req.Size)
	return Answer{Upload: got}, nil
}

// check bounds an announced segment.
func (s *Service) check(req Request) error {
	switch {
	case req.Start.IsZero() || req.End.IsZero():
		return invalid("start and end are required (RFC 3339)")
	case !req.End.After(req.Start):
		return invalid("end must be after start")
	case req.End.Sub(req.Start) > MaxSegmentSpan:
		return invalid("a segment lasts at most %s", MaxSegmentSpan)
	case req.End.After(s.c.Now().Add(time.Minute)):
		return invalid("end is in the future")
	case req.Size <= 0:
		return invalid("size must be positive")
	case req.Size > s.c.MaxSize:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrTooLarge, req.Size, s.c.MaxSize)
	case len(req.SHA256) != 64 || !isHex(req.SHA256):
		return invalid("sha256 must be 64 hex digits")
	case len(req.Init) > MaxInit:
		return invalid("init: at most %d bytes", MaxInit)
	}
	return nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// storedAlready reports whether camera cam has the segment of the upload
// that started at start with the given SHA-256: a row of that start, or
// one before it that a seam joined the upload to (rows keep the SHA-256
// of the upload that made them).
func storedAlready(ctx context.Context, z *zone.Zone, cam string, start time.Time, sha string) (bool, error) {
	sg, err := z.DB.SegmentAt(ctx, cam, start)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sg.SHA256 == sha && !sg.Start.After(start) && sg.End.After(start), nil
}

// segmentTracks is what the checks need of an init segment.
type segmentTracks struct {
	lead           fmp4.InitTrack // the first H.264 or H.265 track: the recorder's lead
	lengthPrefixed map[uint32]bool
	codecs         string
}

// initTracks parses an init segment; it must have an H.264 or H.265
// video track.
func initTracks(b []byte) (segmentTracks, error) {
	ts, err := fmp4.ParseInit(b)
	if err != nil {
		return segmentTracks{}, fmt.Errorf("not an fMP4 init segment: %w", err)
	}
	out := segmentTracks{lengthPrefixed: map[uint32]bool{}}
	var names []string
	for _, t := range ts {
		if t.ID <= 0 || t.TimeScale == 0 {
			return segmentTracks{}, fmt.Errorf("track %d has no timescale", t.ID)
		}
		video := false
		switch t.Codec.(type) {
		case *codecs.H264, *codecs.H265:
			video = true
			if out.lead.ID == 0 {
				out.lead = t
			}
		}
		out.lengthPrefixed[uint32(t.ID)] = video
		if n := fmp4.CodecString(t.Codec); n != "" {
			names = append(names, n)
		}
	}
	if out.lead.ID == 0 {
		return segmentTracks{}, errors.New("no H.264 or H.265 video track")
	}
	out.codecs = strings.Join(names, ",")
	return out, nil
}

// Staged object keys of upload id.
func stagedPrefix(id string) string { return "uploads/" + id + "/" }
func stagedInit(id string) string   { return stagedPrefix(id) + "init" }
func stagedChunk(id string, from, to int64) string {
	return fmt.Sprintf("%s%012d-%012d", stagedPrefix(id), from, to)
}
