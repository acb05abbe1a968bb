// Package motion detects activity in a camera's video without decoding it:
// a scene that changes costs the encoder more bits, so the size of each
// non-key frame, against a running baseline of the camera's own frame
// sizes, tells when something moves. The Detector is pure (no I/O, no
// allocation per frame); the Watcher attaches one to every published
// stream of a hub and hands the open and close of each motion event to a
// function.
package motion

import (
	"math"
	"slices"
	"time"
)

// Sensitivity bounds and the default of a camera's motion sensitivity.
const (
	MinSensitivity     = 1
	MaxSensitivity     = 10
	DefaultSensitivity = 5
)

// Tuning of the detector. The figures behind them are in docs/benchmarks.md
// ("Motion detection").
const (
	// warmup is how much video the detector learns from before it may open
	// an event (and the least it learns again after a reset), in time and
	// in P frames; it learns from at most len(Detector.learnt) frames.
	warmup       = 3 * time.Second
	warmupFrames = 10
	// tauShort smooths the frame sizes that are compared with the baseline:
	// sustained change, not one large frame, is motion.
	tauShort = 400 * time.Millisecond
	// tauBase is how fast the baseline follows the scene while nothing
	// moves; tauBaseActive while an event is open, so that a change that
	// stays (lights on, a parked car in the wind) becomes the baseline
	// after a while and the event closes (an object that came in and
	// stands still, a light switched on); tauBaseDown when the scene
	// became much cheaper (fewer bits is never motion).
	tauBase       = 20 * time.Second
	tauBaseActive = 8 * time.Second
	tauBaseDown   = 2 * time.Second
	// tauDev is the time constant of the spread estimate: the mean
	// absolute deviation of the smoothed size from its own recent level
	// (smoothed over tauLevel), so that the baseline catching up with a
	// scene that changed does not count as spread.
	tauDev   = 20 * time.Second
	tauLevel = 4 * time.Second
	// minDev floors the spread (log units): an encoder's frames of a still
	// scene can be of nearly equal size, and a few bytes more must not be
	// taken for motion.
	minDev = 0.04
	// openAfter is how long the smoothed size must stay over the threshold
	// to open an event; closeAfter how long it must then stay under half
	// the threshold, never over it, to close it.
	openAfter  = 500 * time.Millisecond
	closeAfter = 3 * time.Second
	// minEvent is the shortest event reported: its end is never earlier
	// than its start plus minEvent.
	minEvent = time.Second
	// maxEvent closes an event that lasts this long and learns the scene
	// anew: the change is the new normal.
	maxEvent = 10 * time.Minute
	// maxGap is the longest pause between two frames taken as one stream;
	// after a longer one the detector starts over (closing an open event).
	maxGap = 10 * time.Second
)

// Threshold is the detection threshold of a sensitivity, in units of the
// baseline's spread: sensitivity 1 needs 9 spreads, 10 needs 2.25. Values
// out of range are clamped.
func Threshold(sensitivity int) float64 {
	s := min(max(sensitivity, MinSensitivity), MaxSensitivity)
	return 9 * math.Pow(0.857, float64(s-1))
}

// MinRatio is the least ratio of the (smoothed) frame size to the
// baseline that opens an event at a sensitivity: 2 at 1, 1.5 at 5, 1.21 at
// 10. However steady the scene, motion must cost the encoder that much
// more: a slow fade of the light costs a little more for a while, and is
// no motion. Values out of range are clamped.
func MinRatio(sensitivity int) float64 {
	s := min(max(sensitivity, MinSensitivity), MaxSensitivity)
	return 1 + math.Pow(0.84, float64(s-1))
}

// Edge is an event opening or closing, in the detector's time base.
type Edge struct {
	// Open is true when an event opened, false when it closed.
	Open bool
	// Start is when the activity began (before it was confirmed).
	Start time.Duration
	// End is when the activity ended; zero on an open.
	End time.Duration
	// Peak is the largest ratio of the smoothed frame size to the
	// baseline so far (at close: over the whole event).
	Peak float64
}

// Detector follows one camera's video frame sizes. Its zero value is not
// ready: use New.
type Detector struct {
	thr      float64 // threshold, spreads
	minRatio float64 // least ratio of frame size to baseline that opens an event

	started  bool
	last     time.Duration // time of the previous frame
	learning bool          // in the warm-up
	learnAt  time.Duration // time learning (re)started
	learnN   int           // P frames learnt since learnAt
	learnt   [64]float64   // their log sizes
	skip     int           // frames still to skip after a keyframe
	med      [3]float64    // last log sizes, for the median of three
	medN     int

	short float64 // smoothed log size
	base  float64 // baseline log size
	level float64 // short smoothed over tauLevel
	dev   float64 // mean absolute deviation of short from level

	aboveFor time.Duration // time over the threshold (reset under half of it)
	belowFor time.Duration // time under half the threshold (reset over it)
	rising   bool          // short is over half the threshold
	riseAt   time.Duration // when it last rose over half the threshold
	lastHi   time.Duration // when it was last over the threshold
	open     bool
	start    time.Duration
	peak     float64
}

// New returns a detector with the given sensitivity (MinSensitivity to
// MaxSensitivity; out-of-range values are clamped).
func New(sensitivity int) *Detector {
	d := &Detector{}
	d.SetSensitivity(sensitivity)
	return d
}

// SetSensitivity changes the threshold; what was learnt is kept.
func (d *Detector) SetSensitivity(sensitivity int) {
	d.thr, d.minRatio = Threshold(sensitivity), MinRatio(sensitivity)
}

// Open reports whether an event is open.
func (d *Detector) Open() bool { return d.open }

// SkipAfterKey is how many frames after a keyframe are left out of the
// statistics: with a capped bitrate the encoder starves the frame after a
// large keyframe, and it is no sign of the scene.
const SkipAfterKey = 1

// Feed takes one video access unit: its decode time (any monotonic time
// base), its size in bytes and whether it is a keyframe. It returns an
// Edge and true when an event opened or closed with this frame.
func (d *Detector) Feed(at time.Duration, size int, key bool) (Edge, bool) {
	if !d.started {
		d.started, d.last = true, at
		d.relearn(at)
	}
	dt := at - d.last
	if dt < 0 {
		dt, at = 0, d.last // out of order (B-frames, a clock step): no time passes
	}
	var edge Edge
	var ok bool
	if dt > maxGap {
		edge, ok = d.Flush()
		d.relearn(at)
		dt = 0
	}
	d.last = at
	if key {
		d.skip = SkipAfterKey
		return edge, ok
	}
	if d.skip > 0 {
		d.skip--
		return edge, ok
	}
	x := d.median(math.Log(float64(max(size, 1))))
	if d.learning {
		if d.learnN < len(d.learnt) && (d.learnN < warmupFrames || at-d.learnAt < warmup) {
			d.learnt[d.learnN] = x
			d.learnN++
			return edge, ok
		}
		d.settle()
	}
	e, o := d.step(at, dt, x)
	if o {
		return e, o
	}
	return edge, ok
}

// Flush closes an open event at the last frame seen (the stream ended).
func (d *Detector) Flush() (Edge, bool) {
	if !d.open {
		return Edge{}, false
	}
	end := d.lastHi
	if d.rising {
		end = d.last // still active when the video stopped
	}
	return d.close(end), true
}

// relearn starts learning the scene anew at time at.
func (d *Detector) relearn(at time.Duration) {
	d.learning, d.learnAt, d.learnN, d.medN = true, at, 0, 0
	d.aboveFor, d.belowFor, d.rising = 0, 0, false
}

// median returns the median of x and the two sizes before it: one odd
// frame (a light switched, a frame the encoder refreshed) is no motion.
func (d *Detector) median(x float64) float64 {
	d.med[d.medN%3] = x
	d.medN++
	if d.medN < 3 {
		return x
	}
	a, b, c := d.med[0], d.med[1], d.med[2]
	return max(min(a, b), min(max(a, b), c))
}

// settle ends the warm-up: the baseline is the median of the sizes learnt
// and the spread their median deviation from it, robust to the first
// frames of a stream, which an encoder often makes larger while it
// settles.
func (d *Detector) settle() {
	xs := d.learnt[:d.learnN]
	slices.Sort(xs)
	m := xs[len(xs)/2]
	for i, x := range xs {
		xs[i] = math.Abs(x - m)
	}
	slices.Sort(xs)
	// 1.19 turns a median absolute deviation into a mean one (normal law).
	d.base, d.short, d.level, d.dev = m, m, m, max(1.19*xs[len(xs)/2], minDev)
	d.learning = false
}

// alpha is the weight of a new sample in a moving average of time
// constant tau after dt.
func alpha(dt, tau time.Duration) float64 {
	return float64(dt) / float64(tau+dt)
}

// step advances the detector by one P frame of log size x, dt after the
// previous frame.
func (d *Detector) step(at, dt time.Duration, x float64) (Edge, bool) {
	d.short += alpha(dt, tauShort) * (x - d.short)
	dev := d.dev
	z := (d.short - d.base) / dev
	hi, lo := d.thr, d.thr/2

	// The baseline learns from what it sees, clipped so that motion moves
	// it little, and slower still while an event is open.
	r := d.short - d.base
	tb := tauBase
	switch {
	case r < -lo*dev:
		tb = tauBaseDown
	case d.open:
		tb = tauBaseActive
	default:
		r = min(r, lo*dev)
	}
	d.base += alpha(dt, tb) * r
	d.level += alpha(dt, tauLevel) * (d.short - d.level)
	if !d.open && z < hi {
		a := min(math.Abs(d.short-d.level), hi*dev) - d.dev
		d.dev = max(d.dev+alpha(dt, tauDev)*a, minDev)
	}

	switch {
	case z > hi:
		d.aboveFor += dt
		d.belowFor = 0
		d.lastHi = at
	case z <= lo:
		d.aboveFor = 0
		d.belowFor += dt
	}
	if z > lo && !d.rising {
		d.rising, d.riseAt = true, at
	} else if z <= lo {
		d.rising = false
	}
	if !d.open {
		if d.aboveFor < openAfter {
			return Edge{}, false
		}
		ratio := math.Exp(d.short - d.base)
		if ratio < d.minRatio {
			return Edge{}, false
		}
		d.open, d.start, d.peak = true, d.riseAt, ratio
		return Edge{Open: true, Start: d.start, Peak: ratio}, true
	}
	d.peak = max(d.peak, math.Exp(d.short-d.base))
	switch {
	case d.belowFor >= closeAfter:
		return d.close(d.lastHi), true
	case at-d.start >= maxEvent:
		e := d.close(at)
		d.relearn(at)
		return e, true
	}
	return Edge{}, false
}

// close ends the open event at end (at least minEvent after its start).
func (d *Detector) close(end time.Duration) Edge {
	end = max(end, d.start+minEvent)
	e := Edge{Start: d.start, End: end, Peak: d.peak}
	d.open, d.aboveFor = false, 0
	return e
}
