package playback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sort"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// The api's side of playback of what is not uploaded yet. When a request's
// range reaches past the last indexed segment, the segments the camera's
// holder still spools (its open segment, and closed ones waiting for
// upload) are asked for, merged after the index rows by object key, and
// read through recentObjects: from the spool while it holds them, from the
// store once uploaded (the key is the same). A holder that does not answer
// in time leaves the answer to the index, never an error.

// locateTimeout bounds finding a camera's holder in the zone DB.
const locateTimeout = 2 * time.Second

// errNotSpooled: a holder's spool does not hold that object (any more).
var errNotSpooled = errors.New("playback: not in the holder's spool")

// recentSource is where segments not yet indexed are read from, for one
// camera and range: a holder's spool over HTTP (holderSource) or this
// process's own spool (localSource).
type recentSource interface {
	// segments lists the spooled segments overlapping the range; with
	// wait, once the fragment at the range's end (or now) is committed.
	segments(ctx context.Context, wait bool) ([]store.Segment, error)
	// getRange reads n bytes (n < 0: all committed) of a spooled segment
	// from off; errNotSpooled when not held.
	getRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error)
	// getInit reads a spooled segment's init segment; errNotSpooled when not held.
	getInit(ctx context.Context, key string) ([]byte, error)
}

// localSource reads this process's own spool (api and camera server in
// one process).
type localSource struct {
	sp       SpoolReader
	cam      string
	from, to time.Time
	now      func() time.Time
}

func (l localSource) segments(ctx context.Context, wait bool) ([]store.Segment, error) {
	return spooledIn(ctx, l.sp, l.cam, l.from, l.to, wait, l.now()), nil
}

func (l localSource) getRange(_ context.Context, key string, off, n int64) (io.ReadCloser, error) {
	f, size, err := l.sp.OpenSpooled(l.cam, key)
	if errors.Is(err, spool.ErrNotSpooled) {
		return nil, errNotSpooled
	}
	if err != nil {
		return nil, err
	}
	if n < 0 {
		n = size - off
	}
	if off < 0 || n < 0 || off+n > size {
		f.Close()
		return nil, errors.New("playback: read past the committed fragments of a spooled segment")
	}
	return struct {
		io.Reader
		io.Closer
	}{io.NewSectionReader(f, off, n), f}, nil
}

func (l localSource) getInit(_ context.Context, key string) ([]byte, error) {
	b, err := l.sp.SpooledInit(l.cam, key)
	if errors.Is(err, spool.ErrNotSpooled) {
		return nil, errNotSpooled
	}
	return b, err
}

// recentSet is what the spools hold of one camera and range, not indexed.
type recentSet struct {
	segs []store.Segment
	src  map[string]recentSource // by segment and init key
}

// object returns the listed segment whose object or init key is key.
func (rs recentSet) object(key string) (store.Segment, bool) {
	for _, sg := range rs.segs {
		if sg.Key == key || sg.InitKey == key {
			return sg, true
		}
	}
	return store.Segment{}, false
}

// recent asks the spools that may hold cam's newest video for its segments
// overlapping [from, to): this process's own spool, and the holder's when
// another camera server holds the camera. subject is whom the holder's
// tokens are issued for. A spool that fails is logged and left out.
func (s *Service) recent(ctx context.Context, cam store.Camera, from, to time.Time, subject string, wait bool) recentSet {
	var srcs []recentSource
	if s.d.Local != nil {
		srcs = append(srcs, localSource{sp: s.d.Local, cam: cam.ID, from: from, to: to, now: s.d.Now})
	}
	if s.d.Locate != nil {
		lctx, cancel := context.WithTimeout(ctx, locateTimeout)
		base, err := s.d.Locate(lctx, cam)
		cancel()
		switch {
		case err == nil && base != "":
			srcs = append(srcs, &holderSource{base: base, cam: cam.ID, from: from, to: to, subject: subject,
				signer: s.d.Signer, hc: s.hc, now: s.d.Now})
		case err != nil && !errors.Is(err, zone.ErrOffline) && ctx.Err() == nil:
			s.log.Warn("cannot find the camera's holder: answering from the index only", "camera", cam.ID, "err", err)
		}
	}
	rs := recentSet{src: map[string]recentSource{}}
	for _, src := range srcs {
		segs, err := src.segments(ctx, wait)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("the camera's holder did not list its spool: answering from the index only", "camera", cam.ID, "err", err)
			}
			continue
		}
		for _, sg := range segs {
			if _, dup := rs.src[sg.Key]; dup {
				continue
			}
			rs.segs = append(rs.segs, sg)
			rs.src[sg.Key] = src
			if _, ok := rs.src[sg.InitKey]; !ok {
				rs.src[sg.InitKey] = src
			}
		}
	}
	return rs
}

// indexedEnd is where the last of segs ends (zero when there are none).
func indexedEnd(segs []store.Segment) time.Time {
	var end time.Time
	for _, sg := range segs {
		if sg.End.After(end) {
			end = sg.End
		}
	}
	return end
}

// segmentsOf returns cam's segments overlapping [from, to), by start: the
// index rows, and, when the range reaches past the last of them, the
// segments still spooled; with what to read their objects through.
func (s *Service) segmentsOf(ctx context.Context, z *zone.Zone, cam store.Camera, from, to time.Time, subject string, wait bool) ([]store.Segment, objects, recentSet, error) {
	segs, err := listSegments(ctx, z, cam.ID, from, to)
	if err != nil {
		return nil, nil, recentSet{}, err
	}
	if !indexedEnd(segs).Before(to) {
		return segs, z.Blobs, recentSet{}, nil
	}
	rs := s.recent(ctx, cam, from, to, subject, wait)
	if len(rs.segs) == 0 {
		return segs, z.Blobs, rs, nil
	}
	return mergeSegments(segs, rs.segs), &recentObjects{blobs: z.Blobs, src: rs.src}, rs, nil
}

// mergeSegments adds the spooled segments that are not indexed (by
// object key) to the index rows, ordered by start.
func mergeSegments(indexed, spooled []store.Segment) []store.Segment {
	have := make(map[string]bool, len(indexed))
	for _, sg := range indexed {
		have[sg.Key] = true
	}
	out := append([]store.Segment(nil), indexed...)
	for _, sg := range spooled {
		if !have[sg.Key] {
			out = append(out, sg)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out
}

// mergeSpans adds the spans of spooled segments, clipped to [from, to), to
// the indexed spans, joining what is at most gap apart (a backfilled span
// stays apart from recorded ones, as in store.Zone.Spans).
func mergeSpans(spans []store.Span, spooled []store.Segment, from, to time.Time, gap time.Duration) []store.Span {
	all := append([]store.Span(nil), spans...)
	for _, sg := range spooled {
		sp := store.Span{Start: maxTime(sg.Start, from), End: minTime(sg.End, to)}
		if sp.End.After(sp.Start) {
			all = append(all, sp)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Start.Before(all[j].Start) })
	var out []store.Span
	for _, sp := range all {
		if n := len(out); n > 0 && sp.Start.Sub(out[n-1].End) <= gap {
			last := &out[n-1]
			switch {
			case sp.Backfilled == last.Backfilled:
				last.End = maxTime(last.End, sp.End)
			case sp.End.After(last.End): // backfilled on one side only: a span of its own, from where the last ends
				out = append(out, store.Span{Start: last.End, End: sp.End, Backfilled: sp.Backfilled})
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// objects is what playback reads media through: a zone's blob.Store, or
// recentObjects when some of it is still spooled.
type objects interface {
	Get(ctx context.Context, key string) (io.ReadCloser, error)
	GetRange(ctx context.Context, key string, offset, length int64) (io.ReadCloser, error)
}

// recentObjects reads the keys of spooled segments (and their inits) from
// their spool, the others from the store. A key the spool no longer holds
// (uploaded meanwhile, or the holder gone) is read from the store.
type recentObjects struct {
	blobs blob.Store
	src   map[string]recentSource
}

// GetRange reads a range of an object.
func (o *recentObjects) GetRange(ctx context.Context, key string, off, n int64) (io.ReadCloser, error) {
	src := o.src[key]
	if src == nil {
		return o.blobs.GetRange(ctx, key, off, n)
	}
	rc, err := src.getRange(ctx, key, off, n)
	if err == nil {
		return rc, nil
	}
	rc, berr := o.blobs.GetRange(ctx, key, off, n)
	if berr != nil {
		return nil, errors.Join(err, berr)
	}
	return rc, nil
}

// Get reads a whole object: init segments only, for spooled keys.
func (o *recentObjects) Get(ctx context.Context, key string) (io.ReadCloser, error) {
	src := o.src[key]
	if src == nil {
		return o.blobs.Get(ctx, key)
	}
	b, err := src.getInit(ctx, key)
	if err == nil {
		return io.NopCloser(bytes.NewReader(b)), nil
	}
	rc, berr := o.blobs.Get(ctx, key)
	if berr != nil {
		return nil, errors.Join(err, berr)
	}
	return rc, nil
}
