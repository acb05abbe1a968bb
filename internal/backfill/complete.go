package backfill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// complete checks a fully received upload and stores its segment: the
// object and its init in the zone's store, then the index row in place
// of the upload row. A *SegmentError (or ErrNotMissing) says why it was
// refused; the caller then discards the upload.
func (s *Service) complete(ctx context.Context, credential string, cam store.Camera, z *zone.Zone, u store.Upload) error {
	chain, err := stagedChain(ctx, z.Blobs, u)
	if err != nil {
		return err
	}
	seg, init, err := s.verify(ctx, z.Blobs, chain, u)
	if err != nil {
		return err
	}
	if err := s.inGap(ctx, credential, cam.ID, seg.Start, seg.End); err != nil {
		if errors.Is(err, ErrNotMissing) {
			return badSegment("the range is no longer missing in the cloud: %s", err.Error())
		}
		return err
	}
	initHash := sha256.Sum256(init)
	seg.CameraID, seg.SHA256, seg.Backfilled = cam.ID, u.SHA256, true
	seg.Key = SegmentKey(cam.ID, seg.Start)
	seg.InitKey = "cam/" + cam.ID + "/init/" + hex.EncodeToString(initHash[:])[:16] + ".mp4"
	if _, err := z.Blobs.Stat(ctx, seg.InitKey); errors.Is(err, blob.ErrNotFound) {
		if err := z.Blobs.Put(ctx, seg.InitKey, bytes.NewReader(init), int64(len(init))); err != nil {
			return fmt.Errorf("backfill: storing the init segment: %w", err)
		}
	} else if err != nil {
		return err
	}
	// The object: the upload's bytes after the init segment they may begin with.
	skip := u.Size - seg.Size
	r := &chainReader{ctx: ctx, st: z.Blobs, keys: chain}
	defer r.Close()
	if _, err := io.CopyN(io.Discard, r, skip); err != nil {
		return err
	}
	if err := z.Blobs.Put(ctx, seg.Key, r, seg.Size); err != nil {
		return fmt.Errorf("backfill: storing the segment: %w", err)
	}
	switch err := z.DB.FinishUpload(ctx, u.ID, seg); {
	case errors.Is(err, store.ErrNotFound):
		// Finished meanwhile by another request (same bytes, same key).
		if ok, serr := storedAlready(ctx, z, cam.ID, seg.Start, u.SHA256); serr != nil || !ok {
			return fmt.Errorf("backfill: upload %s vanished while it was being stored", u.ID)
		}
	case err != nil:
		return err
	default:
		if s.c.Meter != nil {
			c := s.c.Meter.Camera(cam.Zone, cam.OrgID, cam.ID)
			c.Add(usage.IngestBytes, u.Size)
			c.Add(usage.RecordedMs, seg.End.Sub(seg.Start).Milliseconds())
			c.Add(usage.Stored, seg.Size)
		}
		s.m.segments.WithLabelValues(resultStored).Inc()
		s.c.Log.Info("backfilled segment stored", "camera", cam.ID, "start", seg.Start, "end", seg.End, "bytes", seg.Size,
			"fragments", len(seg.Fragments))
	}
	if err := s.deleteStaged(ctx, z, u.ID); err != nil {
		s.c.Log.Warn("backfill: deleting staged chunks", "upload", u.ID, "err", err) // the sweep retries
	}
	return nil
}

// SegmentKey is the object key of a backfilled segment:
// cam/<id>/bf/<YYYY>/<MM>/<DD>/<start µs>.m4s (UTC), beside but never
// equal to the keys the camera servers' recorder writes, and named by
// its start as they are (playback reads it from the name).
func SegmentKey(cam string, start time.Time) string {
	t := start.UTC()
	return fmt.Sprintf("cam/%s/bf/%04d/%02d/%02d/%d.m4s", cam, t.Year(), int(t.Month()), t.Day(), start.UnixMicro())
}

// verify reads the staged bytes once: their SHA-256, the init segment
// (staged apart, or at the start of the bytes) and the segment object
// (fmp4.ScanSegment), and returns the index row the segment gets (without
// its camera and keys) and the init segment.
func (s *Service) verify(ctx context.Context, st blob.Store, chain []string, u store.Upload) (store.Segment, []byte, error) {
	r := &chainReader{ctx: ctx, st: st, keys: chain}
	defer r.Close()
	h := sha256.New()
	in := &hashReader{r: r, h: h}
	var init []byte
	var err error
	if u.InitHash != "" {
		if init, err = readStagedInit(ctx, st, u); err != nil {
			return store.Segment{}, nil, err
		}
	} else if init, err = fmp4.ReadInit(in, MaxInit); err != nil {
		return store.Segment{}, nil, badSegment("the upload neither came with an init segment nor begins with one: %s", err.Error())
	}
	tr, err := initTracks(init)
	if err != nil {
		return store.Segment{}, nil, badSegment("init segment: %s", err.Error())
	}
	size := u.Size - int64(len(init))
	if u.InitHash != "" {
		size = u.Size
	}
	frags, scanErr := fmp4.ScanSegment(in, size, tr.lengthPrefixed)
	if _, err := io.Copy(io.Discard, in); err != nil { // the rest, for the hash
		return store.Segment{}, nil, err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != u.SHA256 {
		return store.Segment{}, nil, badSegment("sha256 mismatch: the bytes received hash to %s, the upload announced %s", got, u.SHA256)
	}
	if scanErr != nil {
		return store.Segment{}, nil, badSegment("not a valid segment: %s", scanErr.Error())
	}
	seg, err := index(frags, tr, u)
	if err != nil {
		return store.Segment{}, nil, err
	}
	seg.Size = size
	return seg, init, nil
}

// index builds the fragment table of a scanned segment as the recorder
// would have written it: each fragment's start and duration on the lead
// (video) track, from the first fragment's decode time, and whether it
// starts with a keyframe. The lead's decode times must run on without a
// jump, the segment must start with a keyframe, and its length must be
// the announced one within Tolerance.
func index(frags []fmp4.ScannedFragment, tr segmentTracks, u store.Upload) (store.Segment, error) {
	lead, clock := uint32(tr.lead.ID), int64(tr.lead.TimeScale)
	first, ok := frags[0].Traf(lead)
	if !ok || !first.FirstSync {
		return store.Segment{}, badSegment("the segment does not start with a video keyframe")
	}
	tol := uint64(Tolerance.Seconds() * float64(clock))
	next := first.Base
	out := store.Segment{Start: u.Start, Codec: tr.codecs}
	for i, f := range frags {
		fr := store.Fragment{Offset: f.Offset, Size: f.Size, Start: ticks(next-first.Base, clock)}
		if t, ok := f.Traf(lead); ok {
			if t.Base+tol < next || t.Base > next+tol {
				return store.Segment{}, badSegment("video decode times jump at fragment %d (%s from where the previous ended)", i,
					ticks(t.Base, clock)-ticks(next, clock))
			}
			fr.Start, fr.Duration, fr.Key = ticks(t.Base-first.Base, clock), ticks(t.Dur, clock), t.FirstSync
			next = t.Base + t.Dur
		}
		out.Fragments = append(out.Fragments, fr)
	}
	dur := ticks(next-first.Base, clock)
	want := u.End.Sub(u.Start)
	if dur-want > Tolerance || want-dur > Tolerance {
		return store.Segment{}, badSegment("the samples last %s, the upload announced %s", dur, want)
	}
	out.End = u.Start.Add(dur)
	return out, nil
}

// ticks converts a count of a track's clock to a duration.
func ticks(n uint64, clock int64) time.Duration {
	return time.Duration(n/uint64(clock))*time.Second + time.Duration(n%uint64(clock))*time.Second/time.Duration(clock)
}

// readStagedInit reads the init segment staged with u and checks that it
// is the one announced.
func readStagedInit(ctx context.Context, st blob.Store, u store.Upload) ([]byte, error) {
	rc, err := st.Get(ctx, stagedInit(u.ID))
	if errors.Is(err, blob.ErrNotFound) {
		return nil, badSegment("the upload's init segment is gone")
	}
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxInit+1))
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(b)
	if len(b) > MaxInit || hex.EncodeToString(sum[:])[:16] != u.InitHash {
		return nil, badSegment("the upload's staged init segment is not the one announced")
	}
	return b, nil
}

// stagedChain returns the keys of the chunks staged for u that, in order,
// make its bytes from 0 to its size (chunks of a request that lost a race
// for the same offset may be staged beside them).
func stagedChain(ctx context.Context, st blob.Store, u store.Upload) ([]string, error) {
	next := map[int64][]int64{}
	keys := map[[2]int64]string{}
	err := st.List(ctx, stagedPrefix(u.ID), func(key string, size int64) error {
		from, to, ok := parseChunk(strings.TrimPrefix(key, stagedPrefix(u.ID)))
		if ok && to-from == size {
			next[from] = append(next[from], to)
			keys[[2]int64{from, to}] = key
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, tos := range next {
		sort.Slice(tos, func(i, j int) bool { return tos[i] > tos[j] })
	}
	var path []string
	seen := map[int64]bool{}
	var walk func(at int64) bool
	walk = func(at int64) bool {
		if at == u.Size {
			return true
		}
		if seen[at] {
			return false
		}
		seen[at] = true
		for _, to := range next[at] {
			path = append(path, keys[[2]int64{at, to}])
			if walk(to) {
				return true
			}
			path = path[:len(path)-1]
		}
		return false
	}
	if !walk(0) {
		return nil, badSegment("the staged chunks of the upload do not add up to its %d bytes", u.Size)
	}
	return path, nil
}

// parseChunk reads "<from>-<to>", the name of a staged chunk.
func parseChunk(name string) (from, to int64, ok bool) {
	a, b, found := strings.Cut(name, "-")
	if !found {
		return 0, 0, false
	}
	f, err1 := strconv.ParseInt(a, 10, 64)
	t, err2 := strconv.ParseInt(b, 10, 64)
	return f, t, err1 == nil && err2 == nil && f >= 0 && t > f
}

// chainReader reads objects one after the other.
type chainReader struct {
	ctx  context.Context
	st   blob.Store
	keys []string
	cur  io.ReadCloser
}

func (c *chainReader) Read(p []byte) (int, error) {
	for {
		if c.cur == nil {
			if len(c.keys) == 0 {
				return 0, io.EOF
			}
			rc, err := c.st.Get(c.ctx, c.keys[0])
			if err != nil {
				return 0, fmt.Errorf("backfill: reading staged chunk %s: %w", c.keys[0], err)
			}
			c.cur, c.keys = rc, c.keys[1:]
		}
		n, err := c.cur.Read(p)
		if errors.Is(err, io.EOF) {
			c.cur.Close()
			c.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// Close closes the object being read.
func (c *chainReader) Close() {
	if c.cur != nil {
		c.cur.Close()
		c.cur = nil
	}
}

// hashReader hashes what is read through it.
type hashReader struct {
	r io.Reader
	h hash.Hash
}

func (x *hashReader) Read(p []byte) (int, error) {
	n, err := x.r.Read(p)
	x.h.Write(p[:n])
	return n, err
}
