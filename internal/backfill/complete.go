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
// of the upload row. Where the segment overlaps the recording at its
// edges, a seam (seam.go) keeps only the frames the cloud lacks. A
// *SegmentError (or ErrNotMissing) says why it was refused; the caller
// then discards the upload.
func (s *Service) complete(ctx context.Context, cam store.Camera, z *zone.Zone, u store.Upload) error {
	chain, err := stagedChain(ctx, z.Blobs, u)
	if err != nil {
		return err
	}
	seg, init, err := s.verify(ctx, z.Blobs, chain, u)
	if err != nil {
		return err
	}
	n, err := s.neighbours(ctx, z, cam.ID, seg.Start, seg.End)
	if errors.Is(err, ErrNotMissing) {
		return badSegment("the range is no longer missing in the cloud: %s", err.Error())
	} else if err != nil {
		return err
	}
	if head, tail := n.overlaps(seg.Start, seg.End); head > 0 || tail > 0 {
		err := s.completeSeam(ctx, cam, z, u, chain, seg, init, n)
		if !errors.Is(err, errNoSeam) {
			return err
		}
		if !fitsTolerance(head, tail) {
			return badSegment("the segment overlaps the recording by %s at its start and %s at its end, more than %s, and its frames could not be matched to it: %s",
				max(head, 0), max(tail, 0), Tolerance, err.Error())
		}
		s.c.Log.Info("backfill: storing a segment whole over the recording's edge", "camera", cam.ID, "start", seg.Start,
			"overlap_start", head, "overlap_end", tail, "why", err)
	}
	seg.CameraID, seg.SHA256, seg.Backfilled = cam.ID, u.SHA256, true
	seg.Key, seg.InitKey = SegmentKey(cam.ID, seg.Start), initKey(cam.ID, init)
	// The object: the upload's bytes after the init segment they may begin with.
	r := &chainReader{ctx: ctx, st: z.Blobs, keys: chain}
	defer r.Close()
	if _, err := io.CopyN(io.Discard, r, u.Size-seg.Size); err != nil {
		return err
	}
	return s.keep(ctx, cam, z, u, seg, init, r, nil)
}

// completeSeam stores what a seam keeps of an upload that overlaps its
// recorded neighbours n; errNoSeam when its frames could not be matched.
func (s *Service) completeSeam(ctx context.Context, cam store.Camera, z *zone.Zone, u store.Upload, chain []string, seg store.Segment,
	init []byte, n neighbours) error {
	if seg.Size > maxSeamBytes {
		return fmt.Errorf("%w: the segment is %d bytes", errNoSeam, seg.Size)
	}
	r := &chainReader{ctx: ctx, st: z.Blobs, keys: chain}
	defer r.Close()
	if _, err := io.CopyN(io.Discard, r, u.Size-seg.Size); err != nil {
		return err
	}
	obj, err := io.ReadAll(io.LimitReader(r, seg.Size))
	if err != nil {
		return err
	}
	res, err := s.seam(ctx, z, n, obj, init, seg.Start)
	if err != nil {
		return err
	}
	if res.empty {
		s.m.segments.WithLabelValues(resultAlreadyStored).Inc()
		s.c.Log.Info("backfill: the cloud has every frame of the segment", "camera", cam.ID, "start", seg.Start)
		s.discard(ctx, z, u.ID)
		return nil
	}
	tr, err := initTracks(res.init)
	if err != nil {
		return fmt.Errorf("%w: %v", errNoSeam, err)
	}
	frags, err := fmp4.ScanSegment(bytes.NewReader(res.obj), int64(len(res.obj)), tr.lengthPrefixed)
	if err != nil {
		return fmt.Errorf("%w: the joined segment does not scan: %v", errNoSeam, err)
	}
	row := store.Segment{CameraID: cam.ID, Start: seg.Start, Size: int64(len(res.obj)), Codec: tr.codecs, Backfilled: true, SHA256: u.SHA256,
		InitKey: initKey(cam.ID, res.init)}
	if res.onto != nil {
		row.Start, row.InitKey, row.Codec = res.onto.Start, res.onto.InitKey, res.onto.Codec
	}
	var dur time.Duration
	if row.Fragments, dur, err = table(frags, tr); err != nil {
		return fmt.Errorf("%w: the joined segment: %v", errNoSeam, err)
	}
	row.End, row.Key = row.Start.Add(dur), SegmentKey(cam.ID, row.Start)
	return s.keep(ctx, cam, z, u, row, res.init, bytes.NewReader(res.obj), res.onto)
}

// initKey is the object key of camera cam's init segment init, as the
// recorder names it.
func initKey(cam string, init []byte) string {
	sum := sha256.Sum256(init)
	return "cam/" + cam + "/init/" + hex.EncodeToString(sum[:])[:16] + ".mp4"
}

// keep stores a checked segment: its init segment (unless onto's, which
// is stored), its object from body, and its index row in place of the
// upload row (replacing onto's row, when set, whose object then goes);
// then it meters what the cloud gained and deletes what was staged.
func (s *Service) keep(ctx context.Context, cam store.Camera, z *zone.Zone, u store.Upload, row store.Segment, init []byte, body io.Reader,
	onto *store.Segment) error {
	if onto == nil {
		if _, err := z.Blobs.Stat(ctx, row.InitKey); errors.Is(err, blob.ErrNotFound) {
			if err := z.Blobs.Put(ctx, row.InitKey, bytes.NewReader(init), int64(len(init))); err != nil {
				return fmt.Errorf("backfill: storing the init segment: %w", err)
			}
		} else if err != nil {
			return err
		}
	}
	if err := z.Blobs.Put(ctx, row.Key, body, row.Size); err != nil {
		return fmt.Errorf("backfill: storing the segment: %w", err)
	}
	finish := func() error { return z.DB.FinishUpload(ctx, u.ID, row) }
	gained, from := row.Size, row.Start
	if onto != nil {
		finish = func() error { return z.DB.FinishUploadOver(ctx, u.ID, row, *onto) }
		gained, from = row.Size-onto.Size, onto.End
	}
	switch err := finish(); {
	case errors.Is(err, store.ErrNotFound):
		// Finished meanwhile by another request (same bytes, same key).
		if ok, serr := storedAlready(ctx, z, cam.ID, u.Start, u.SHA256); serr != nil || !ok {
			return fmt.Errorf("backfill: upload %s vanished while it was being stored", u.ID)
		}
	case errors.Is(err, store.ErrConflict):
		// The recorded segment changed under the seam; the agent sends
		// the last chunk again and the seam is made anew.
		return fmt.Errorf("backfill: segment %s changed while a backfilled one was joined to it; try again", onto.Key)
	case err != nil:
		return err
	default:
		if onto != nil && onto.Key != row.Key {
			if err := z.Blobs.Delete(ctx, onto.Key); err != nil {
				s.c.Log.Warn("backfill: deleting a joined segment's old object", "key", onto.Key, "err", err)
			}
		}
		if s.c.Meter != nil {
			c := s.c.Meter.Camera(cam.Zone, cam.OrgID, cam.ID)
			c.Add(usage.IngestBytes, u.Size)
			c.Add(usage.RecordedMs, row.End.Sub(from).Milliseconds())
			c.Add(usage.Stored, gained)
		}
		s.m.segments.WithLabelValues(resultStored).Inc()
		s.c.Log.Info("backfilled segment stored", "camera", cam.ID, "start", row.Start, "end", row.End, "bytes", row.Size,
			"fragments", len(row.Fragments), "joined_to_recorded", onto != nil)
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

// index builds the index row of a scanned upload (table), whose length
// must be the announced one within Tolerance.
func index(frags []fmp4.ScannedFragment, tr segmentTracks, u store.Upload) (store.Segment, error) {
	fr, dur, err := table(frags, tr)
	if err != nil {
		return store.Segment{}, err
	}
	want := u.End.Sub(u.Start)
	if dur-want > Tolerance || want-dur > Tolerance {
		return store.Segment{}, badSegment("the samples last %s, the upload announced %s", dur, want)
	}
	return store.Segment{Start: u.Start, End: u.Start.Add(dur), Codec: tr.codecs, Fragments: fr}, nil
}

// table builds the fragment table of a scanned segment as the recorder
// would have written it: each fragment's start and duration on the lead
// (video) track, from the first fragment's decode time, and whether it
// starts with a keyframe; and the lead's length. The lead's decode times
// must run on without a jump, and the segment must start with a keyframe.
func table(frags []fmp4.ScannedFragment, tr segmentTracks) ([]store.Fragment, time.Duration, error) {
	lead, clock := uint32(tr.lead.ID), int64(tr.lead.TimeScale)
	first, ok := frags[0].Traf(lead)
	if !ok || !first.FirstSync {
		return nil, 0, badSegment("the segment does not start with a video keyframe")
	}
	tol := uint64(Tolerance.Seconds() * float64(clock))
	next := first.Base
	var out []store.Fragment
	for i, f := range frags {
		fr := store.Fragment{Offset: f.Offset, Size: f.Size, Start: ticks(next-first.Base, clock)}
		if t, ok := f.Traf(lead); ok {
			if t.Base+tol < next || t.Base > next+tol {
				return nil, 0, badSegment("video decode times jump at fragment %d (%s from where the previous ended)", i,
					ticks(t.Base, clock)-ticks(next, clock))
			}
			fr.Start, fr.Duration, fr.Key = ticks(t.Base-first.Base, clock), ticks(t.Dur, clock), t.FirstSync
			next = t.Base + t.Dur
		}
		out = append(out, fr)
	}
	return out, ticks(next-first.Base, clock), nil
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
