package ingest

import "time"

// jumpTolerance is how far a track's timestamps may run ahead of the wall
// clock between two units before the step counts as a leap of the source's
// clock rather than a burst of buffered media. Bursts after a stall (RTMP
// sends what it buffered, batched reads) stay well under it.
const jumpTolerance = 5 * time.Second

// videoBack is how far a video frame may step back before it counts as a
// break: not at all for a key frame (the stream restarts there), and as far
// as audioReorder for others, which writeLocked drops as late instead of
// throwing away the rest of their GOP.
func videoBack(key bool) time.Duration {
	if key {
		return 0
	}
	return audioReorder
}

// audioReorder is how far an audio frame may arrive behind the newest one
// and still be taken as late (and dropped) rather than as a clock restart.
const audioReorder = 500 * time.Millisecond

// timeline maps one track's input timestamps, in its clock units, onto the
// published stream's timeline, which starts near zero and never goes back
// or leaps: when the source's clock restarts (a shared gst-rtsp-server
// factory gaining a client, a camera rebooting its encoder, a wrap-around)
// or jumps ahead (a clock reset), the track is spliced on where it left
// off, after the wall-clock time that really passed, instead of waiting for
// the old clock to catch up or leaving an hour-long sample in a recording.
type timeline struct {
	clock    int
	offset   int64 // output = input - offset
	lastIn   int64
	lastOut  int64
	lastWall time.Time
	have     bool
}

// start anchors the timeline so that input in maps to output out.
func (t *timeline) start(in, out int64, now time.Time) {
	t.offset = in - out
	t.lastIn, t.lastOut, t.lastWall, t.have = in, out, now, true
}

// jumped reports whether in, arriving at now, breaks the track's clock:
// it goes back by more than back, or runs ahead of the wall clock by more
// than jumpTolerance. A smaller step back is a late or repeated unit, which
// the caller drops.
func (t *timeline) jumped(in int64, now time.Time, back time.Duration) bool {
	if !t.have {
		return false
	}
	d := in - t.lastIn
	if d < 0 {
		return ticksToDur(-d, t.clock) > back
	}
	wall := now.Sub(t.lastWall)
	if wall < 0 {
		wall = 0
	}
	return ticksToDur(d, t.clock) > wall+jumpTolerance
}

// splice re-anchors the timeline at a discontinuity: input in maps to the
// last output plus the wall-clock time since it (at least one tick), and
// returns how far the source's clock jumped.
func (t *timeline) splice(in int64, now time.Time) time.Duration {
	wall := now.Sub(t.lastWall)
	step := durToTicks(wall, t.clock)
	if step < 1 {
		step = 1
	}
	jump := ticksToDur(in-t.lastIn, t.clock) - wall
	t.start(in, t.lastOut+step, now)
	return jump
}

// apply maps in onto the output timeline and remembers it as the newest.
func (t *timeline) apply(in int64, now time.Time) int64 {
	out := in - t.offset
	if out > t.lastOut || !t.have {
		t.lastIn, t.lastOut, t.lastWall = in, out, now
	}
	t.have = true
	return out
}
