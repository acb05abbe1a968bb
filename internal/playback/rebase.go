package playback

import (
	"fmt"

	"github.com/camcloud/camcloud/internal/fmp4"
)

// rebaser renumbers moof boxes and re-bases their decode times so that a
// clip made of fragments from several objects and recordings starts at 0
// and runs on without jumps. Within one recording the stored decode times
// already continue from fragment to fragment; a fragment whose lead-track
// time does not continue the previous one (a publisher restart, or a hole
// in the recording) starts a new shift that puts it right after what was
// written, so holes are skipped. Every track moves by the same wall-clock
// amount, which keeps audio and video in sync, except that a track whose
// samples begin before the lead track's at the start of the clip (audio
// captured a little before the first keyframe) is delayed to 0 rather
// than cut, and stays delayed by that much for the rest of the clip, so
// that its times never go back (at most that fragment's lead, tens of ms).
type rebaser struct {
	lead   uint32            // track whose times drive the shifts
	clocks map[uint32]uint32 // timescale per track ID
	seq    uint32

	started  bool
	shift    int64             // added to lead times (lead timescale)
	expectIn uint64            // lead time the next fragment continues from
	nextOut  map[uint32]uint64 // end of what was written, per track
	delay    map[uint32]int64  // added to a track that would have started before 0
}

// newRebaser returns a rebaser for the tracks of one init segment.
func newRebaser(lead uint32, clocks map[uint32]uint32) *rebaser {
	return &rebaser{lead: lead, clocks: clocks, nextOut: map[uint32]uint64{}, delay: map[uint32]int64{}}
}

// rewrite patches the moof box b (exactly one box) in place.
func (rb *rebaser) rewrite(b []byte) error {
	m, err := fmp4.ParseMoof(b)
	if err != nil {
		return err
	}
	for _, t := range m.Trafs {
		if rb.clocks[t.TrackID] == 0 {
			return fmt.Errorf("%w: track %d is not in the init segment", fmp4.ErrMalformed, t.TrackID)
		}
	}
	leadAt := -1
	for i, t := range m.Trafs {
		if t.TrackID == rb.lead {
			leadAt = i
		}
	}
	switch {
	case leadAt >= 0:
		t := m.Trafs[leadAt]
		if !rb.started || t.Base != rb.expectIn {
			rb.shift = rb.restartShift(m.Trafs, t)
		}
		rb.expectIn = t.Base + t.Dur
		rb.started = true
	case !rb.started && len(m.Trafs) > 0:
		t := m.Trafs[0]
		rb.shift = -convert(int64(t.Base), rb.clocks[t.TrackID], rb.clocks[rb.lead])
		rb.started = true
	}
	for i, t := range m.Trafs {
		out := int64(t.Base) + convert(rb.shift, rb.clocks[rb.lead], rb.clocks[t.TrackID]) + rb.delay[t.TrackID]
		if out < 0 {
			rb.delay[t.TrackID] -= out
			out = 0
		}
		if err := m.SetBase(b, i, uint64(out)); err != nil {
			return err
		}
		rb.nextOut[t.TrackID] = uint64(out) + t.Dur
	}
	rb.seq++
	m.SetSeq(b, rb.seq)
	return nil
}

// delayOf is the delay of track id: the one it has, or, before the first
// fragment, the one the first fragment m will give it (the clip's cut at
// its end, see fragWriter.trimTo, needs it before m is rewritten).
func (rb *rebaser) delayOf(m fmp4.Moof, id uint32) int64 {
	if rb.started {
		return rb.delay[id]
	}
	for _, lt := range m.Trafs {
		if lt.TrackID != rb.lead {
			continue
		}
		for _, t := range m.Trafs {
			if t.TrackID == id {
				return max(0, convert(int64(lt.Base), rb.clocks[rb.lead], rb.clocks[id])-int64(t.Base))
			}
		}
	}
	return 0
}

// restartShift is the shift that puts a fragment whose lead track (lead)
// does not continue the previous one right after what was written: after
// the lead track's end, and late enough that no other track starts before
// its own end either (the audio of the earlier recording may run past its
// video), so that every track's times keep increasing across the join.
func (rb *rebaser) restartShift(trafs []fmp4.Traf, lead fmp4.Traf) int64 {
	shift := int64(rb.nextOut[rb.lead]) - int64(lead.Base)
	cl := rb.clocks[rb.lead]
	for _, t := range trafs {
		next, ok := rb.nextOut[t.TrackID]
		if t.TrackID == rb.lead || !ok {
			continue
		}
		c := rb.clocks[t.TrackID]
		d := int64(next) - int64(t.Base)
		need := convert(d, c, cl)
		if convert(need, cl, c) < d {
			need++ // round up: the track must not start a tick early
		}
		shift = max(shift, need)
	}
	return shift
}

// convert changes v from timescale from to timescale to without overflow
// for any time a recording can reach.
func convert(v int64, from, to uint32) int64 {
	if from == to || from == 0 {
		return v
	}
	f, t := int64(from), int64(to)
	return v/f*t + v%f*t/f
}
