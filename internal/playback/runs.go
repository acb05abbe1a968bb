package playback

import (
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// run is a contiguous byte range of one segment object holding whole
// fragments, normally starting at a keyframe fragment: the unit both HLS
// segments and clips are made of.
type run struct {
	seg   *store.Segment
	frags []store.Fragment // the fragments, in order (a window of the row's table)
	start time.Time        // wall-clock time of the first fragment
	dur   time.Duration
	off   int64 // byte offset in the object
	size  int64 // bytes
	keyed bool  // starts with a keyframe
}

// end is the wall-clock time the run ends.
func (r run) end() time.Time { return r.start.Add(r.dur) }

// fragmentsOf returns a row's fragment table, or one keyframe fragment
// covering the whole object when the row has none.
func fragmentsOf(s *store.Segment) []store.Fragment {
	if len(s.Fragments) > 0 {
		return s.Fragments
	}
	return []store.Fragment{{Offset: 0, Size: s.Size, Duration: s.End.Sub(s.Start), Key: true}}
}

// keyRuns cuts the rows into runs that each start at a keyframe fragment
// and reach up to the next one (a gap in the byte offsets also cuts), and
// keeps those overlapping [from, to): the first run kept is the one holding
// from, i.e. it starts at the keyframe at or before from; fragments starting
// at or after to are left out. Rows must be ordered by start.
func keyRuns(segs []store.Segment, from, to time.Time) []run {
	var out []run
	for i := range segs {
		seg := &segs[i]
		frags := fragmentsOf(seg)
		first := -1 // first fragment of the current run
		emit := func(end int) {
			if first < 0 || end <= first {
				return
			}
			r := run{seg: seg, frags: frags[first:end], start: seg.Start.Add(frags[first].Start),
				off: frags[first].Offset, keyed: frags[first].Key}
			last := frags[end-1]
			r.size = last.Offset + last.Size - r.off
			r.dur = seg.Start.Add(last.Start + last.Duration).Sub(r.start)
			if r.end().After(from) {
				out = append(out, r)
			}
		}
		j := 0
		for ; j < len(frags); j++ {
			f := frags[j]
			if !seg.Start.Add(f.Start).Before(to) {
				break
			}
			if first < 0 || f.Key || f.Offset != frags[j-1].Offset+frags[j-1].Size {
				emit(j)
				first = j
			}
		}
		emit(j)
	}
	return out
}

// mergeRuns joins consecutive runs of the same object, contiguous in bytes,
// until each lasts at least minDur, so that playlists stay short. Each
// merged run keeps the start (and keyframe) of its first part.
func mergeRuns(runs []run, minDur time.Duration) []run {
	var out []run
	for _, r := range runs {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.seg == r.seg && last.dur < minDur && r.off == last.off+last.size {
				last.frags = last.frags[:len(last.frags)+len(r.frags)]
				last.size += r.size
				last.dur = r.end().Sub(last.start)
				continue
			}
		}
		out = append(out, r)
	}
	return out
}
