package backfill

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	mcfmp4 "github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// The frame-level half of a seam (seam.go says what and why). Segments
// are read into samples with mediacommon's fMP4 parser and the kept
// samples written back with its muxer: a seam happens once per outage
// edge, so clarity wins over the recorder's hand-written speed.

// seamResult is what a seam keeps of an upload.
type seamResult struct {
	// obj is the object to store; onto, when set, is the recorded
	// segment it replaces: obj is onto's bytes, unchanged, followed by
	// the upload's new frames. Otherwise obj is a segment of its own.
	obj  []byte
	onto *store.Segment
	// init is the init segment obj plays with (onto's, or the upload's).
	init []byte
	// empty: the upload holds no frame the cloud lacks.
	empty bool
}

// recorded is a recorded segment read for a seam: its row, its samples
// (all of them for the one before the upload, the first fragment's for
// the one after) and its init segment's tracks.
type recorded struct {
	seg    store.Segment
	obj    []byte
	init   []byte
	tracks map[int]*timeline
	// lastSeq is the sequence number of its last fragment read.
	lastSeq uint32
}

// timeline is one track's samples in decode order.
type timeline struct {
	clock   uint32
	samples []timed
}

// timed is one sample, its fragment and its decode time.
type timed struct {
	part int
	dts  uint64
	s    *mcfmp4.Sample
}

// at is sample i's decode time on the track's clock, as a duration.
func (t *timeline) at(i int) time.Duration { return ticks(t.samples[i].dts, int64(t.clock)) }

// end is where the track's last sample ends.
func (t *timeline) end() time.Duration {
	last := t.samples[len(t.samples)-1]
	return ticks(last.dts+uint64(last.s.Duration), int64(t.clock))
}

// timelines lays out the samples of parts by track.
func timelines(parts mcfmp4.Parts, tracks []fmp4.InitTrack) (map[int]*timeline, error) {
	out := map[int]*timeline{}
	for _, t := range tracks {
		out[t.ID] = &timeline{clock: t.TimeScale}
	}
	for pi, p := range parts {
		for _, pt := range p.Tracks {
			tl, ok := out[pt.ID]
			if !ok {
				return nil, fmt.Errorf("fragment %d has track %d, which the init segment lacks", pi, pt.ID)
			}
			dts := pt.BaseTime
			for _, sm := range pt.Samples {
				tl.samples = append(tl.samples, timed{part: pi, dts: dts, s: sm})
				dts += uint64(sm.Duration)
			}
		}
	}
	return out, nil
}

// seam matches an upload (its segment object, init segment and
// announced start) against its recorded neighbours frame by frame.
func (s *Service) seam(ctx context.Context, z *zone.Zone, n neighbours, obj, init []byte, start time.Time) (seamResult, error) {
	tr, err := initTracks(init)
	if err != nil {
		return seamResult{}, err
	}
	upTracks, err := fmp4.ParseInit(init)
	if err != nil {
		return seamResult{}, err
	}
	var parts mcfmp4.Parts
	if err := parts.Unmarshal(obj); err != nil {
		return seamResult{}, fmt.Errorf("%w: the upload's fragments: %v", errNoSeam, err)
	}
	up, err := timelines(parts, upTracks)
	if err != nil {
		return seamResult{}, err
	}
	lead := up[tr.lead.ID]
	if len(lead.samples) == 0 {
		return seamResult{}, fmt.Errorf("%w: no video samples", errNoSeam)
	}
	at := func(i int) time.Time { return start.Add(lead.at(i) - lead.at(0)) }
	// keep[id] is the range of each track's samples the seam keeps, out
	// the decode time the first kept one gets (the upload's own, or
	// where the recorded segment's track ends).
	keep := map[int][2]int{}
	out := map[int]uint64{}
	for id, tl := range up {
		keep[id] = [2]int{0, len(tl.samples)}
		if len(tl.samples) > 0 {
			out[id] = tl.samples[0].dts
		}
	}
	var prev *recorded
	if n.prev != nil {
		if prev, err = s.readRecorded(ctx, z.Blobs, *n.prev, false); err != nil {
			return seamResult{}, err
		}
		pl, ok := prev.tracks[tr.lead.ID]
		if !ok || len(pl.samples) == 0 || pl.clock != lead.clock {
			return seamResult{}, fmt.Errorf("%w: the recorded segment has another video track", errNoSeam)
		}
		if prev.seg.Start.After(start) {
			// It began after the upload did: only as the same frame (the
			// cloud's clock behind the agent's), or the upload's frames
			// before it would be lost.
			if i, ok := findFrame(lead, at, pl.samples[0].s.Payload, prev.seg.Start); !ok || i != 0 {
				return seamResult{}, fmt.Errorf("%w: the recorded segment inside the upload does not begin with its first frame", errNoSeam)
			}
		}
		last := len(pl.samples) - 1
		j, ok := findFrame(lead, at, pl.samples[last].s.Payload, prev.seg.Start.Add(pl.at(last)-pl.at(0)))
		if !ok {
			return seamResult{}, fmt.Errorf("%w: the recorded segment's last frame is not in the upload", errNoSeam)
		}
		shift := pl.at(last) - lead.at(j) // recorded time = upload time + shift
		for id, tl := range up {
			pt, ok := prev.tracks[id]
			if !ok || pt.clock != tl.clock || len(pt.samples) == 0 {
				return seamResult{}, fmt.Errorf("%w: the recorded segment has another track layout", errNoSeam)
			}
			from := j + 1
			if id != tr.lead.ID {
				from = firstFrom(tl, shift, pt.end())
			}
			keep[id] = [2]int{from, keep[id][1]}
			last := pt.samples[len(pt.samples)-1]
			out[id] = last.dts + uint64(last.s.Duration)
		}
	}
	if n.next != nil {
		next, err := s.readRecorded(ctx, z.Blobs, *n.next, true)
		if err != nil {
			return seamResult{}, err
		}
		nl, ok := next.tracks[tr.lead.ID]
		if !ok || len(nl.samples) == 0 || nl.clock != lead.clock {
			return seamResult{}, fmt.Errorf("%w: the next recorded segment has another video track", errNoSeam)
		}
		k, ok := findFrame(lead, at, nl.samples[0].s.Payload, next.seg.Start)
		if !ok {
			return seamResult{}, fmt.Errorf("%w: the next recorded segment's first frame is not in the upload", errNoSeam)
		}
		shift := nl.at(0) - lead.at(k) // next's time = upload time + shift
		for id, tl := range up {
			to := k
			if id != tr.lead.ID {
				if nt, ok := next.tracks[id]; ok && len(nt.samples) > 0 && nt.clock == tl.clock {
					to = firstFrom(tl, shift, nt.at(0))
				} else {
					to = firstFrom(tl, 0, lead.at(k))
				}
			}
			keep[id] = [2]int{keep[id][0], min(keep[id][1], to)}
		}
	}
	if r := keep[tr.lead.ID]; r[0] >= r[1] {
		return seamResult{empty: true}, nil
	}
	seq := -1 // the upload's own sequence numbers
	if prev != nil {
		seq = int(prev.lastSeq) + 1
	}
	kept := keptParts(parts, up, keep, out, seq)
	var buf seekablebuffer.Buffer
	if err := kept.Marshal(&buf); err != nil {
		return seamResult{}, fmt.Errorf("backfill: writing the seam's fragments: %w", err)
	}
	if prev == nil {
		return seamResult{obj: buf.Bytes(), init: init}, nil
	}
	return seamResult{obj: append(prev.obj[:len(prev.obj):len(prev.obj)], buf.Bytes()...), onto: n.prev, init: prev.init}, nil
}

// findFrame returns the index of the video sample of tl whose bytes are
// payload and whose time (by at) is nearest want, within maxSeamSkew.
func findFrame(tl *timeline, at func(int) time.Time, payload []byte, want time.Time) (int, bool) {
	best, bestD := -1, maxSeamSkew+1
	for i, sm := range tl.samples {
		if !bytes.Equal(sm.s.Payload, payload) {
			continue
		}
		d := at(i).Sub(want)
		if d < 0 {
			d = -d
		}
		if d < bestD {
			best, bestD = i, d
		}
	}
	return best, best >= 0
}

// firstFrom returns the index of tl's first sample whose middle, moved
// by shift, is at or after t: the cut for a track other than the video.
func firstFrom(tl *timeline, shift, t time.Duration) int {
	for i, sm := range tl.samples {
		half := ticks(uint64(sm.s.Duration), int64(tl.clock)) / 2
		if tl.at(i)+shift+half >= t {
			return i
		}
	}
	return len(tl.samples)
}

// keptParts rebuilds the fragments of parts with the kept samples of
// each track, decode times from out on, numbered from seq (or as they
// were, seq < 0). Fragments left with no sample are dropped.
func keptParts(parts mcfmp4.Parts, up map[int]*timeline, keep map[int][2]int, out map[int]uint64, seq int) mcfmp4.Parts {
	cursor := map[int]int{}
	var kept mcfmp4.Parts
	for pi, p := range parts {
		np := &mcfmp4.Part{SequenceNumber: p.SequenceNumber}
		for _, pt := range p.Tracks {
			tl, r := up[pt.ID], keep[pt.ID]
			var samples []*mcfmp4.Sample
			for ; cursor[pt.ID] < len(tl.samples) && tl.samples[cursor[pt.ID]].part == pi; cursor[pt.ID]++ {
				if i := cursor[pt.ID]; i >= r[0] && i < r[1] {
					samples = append(samples, tl.samples[i].s)
				}
			}
			if len(samples) == 0 {
				continue
			}
			np.Tracks = append(np.Tracks, &mcfmp4.PartTrack{ID: pt.ID, BaseTime: out[pt.ID], Samples: samples})
			for _, sm := range samples {
				out[pt.ID] += uint64(sm.Duration)
			}
		}
		if len(np.Tracks) == 0 {
			continue
		}
		if seq >= 0 {
			np.SequenceNumber = uint32(seq + len(kept))
		}
		kept = append(kept, np)
	}
	return kept
}

// readRecorded reads a recorded segment for a seam: all of it, or (first)
// its first fragment only, and its init segment.
func (s *Service) readRecorded(ctx context.Context, st blob.Store, seg store.Segment, first bool) (*recorded, error) {
	size := seg.Size
	if first && len(seg.Fragments) > 0 {
		size = seg.Fragments[0].Offset + seg.Fragments[0].Size
	}
	if size > maxSeamBytes || size <= 0 {
		return nil, fmt.Errorf("%w: the recorded segment is %d bytes", errNoSeam, size)
	}
	obj, err := readPrefix(ctx, st, seg.Key, size)
	if err != nil {
		return nil, err
	}
	init, err := readPrefix(ctx, st, seg.InitKey, MaxInit)
	if err != nil {
		return nil, err
	}
	tracks, err := fmp4.ParseInit(init)
	if err != nil {
		return nil, fmt.Errorf("%w: the recorded segment's init: %v", errNoSeam, err)
	}
	body := obj
	if first && len(seg.Fragments) > 0 {
		body = obj[seg.Fragments[0].Offset:]
	}
	var parts mcfmp4.Parts
	if err := parts.Unmarshal(body); err != nil {
		return nil, fmt.Errorf("%w: the recorded segment's fragments: %v", errNoSeam, err)
	}
	tl, err := timelines(parts, tracks)
	if err != nil {
		return nil, fmt.Errorf("%w: the recorded segment: %v", errNoSeam, err)
	}
	r := &recorded{seg: seg, obj: obj, init: init, tracks: tl}
	if len(parts) > 0 {
		r.lastSeq = parts[len(parts)-1].SequenceNumber
	}
	return r, nil
}

// readPrefix reads up to n bytes of an object: all of it when shorter.
func readPrefix(ctx context.Context, st blob.Store, key string, n int64) ([]byte, error) {
	rc, err := st.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("backfill: reading %s for a seam: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, n))
	if err != nil {
		return nil, fmt.Errorf("backfill: reading %s for a seam: %w", key, err)
	}
	return b, nil
}
