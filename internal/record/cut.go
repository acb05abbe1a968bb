package record

// Where fragments are cut. Players can start only at a fragment that starts
// with a keyframe (an HLS segment is a byte range of whole fragments; a clip
// or an image starts at a fragment), so every keyframe should start one; and
// a crash loses the fragment being built, so none should last much more than
// FragmentDuration (F), whatever the GOP. The rules, on the lead track:
//
//   - a keyframe cuts, unless the fragment started with a keyframe less than
//     F/2 ago (very short GOPs: a fragment then holds several, and only its
//     first is a seek point);
//   - without a keyframe, a fragment is cut at about F: when the GOP is known
//     (the distance between the last two keyframes) and longer than F + F/8,
//     it is split into equal pieces of at most F + F/8, so that the next
//     keyframe lands on a cut instead of leaving a sliver of a fragment
//     before it (a 2 s GOP makes two 1 s fragments, not 0.9 + 0.9 + 0.2);
//     when the next keyframe is due within F + F/8 the fragment waits for
//     it, up to F + F/8 (a 1 s GOP makes 1 s fragments with F = 0.9 s);
//     when the GOP is not known yet (a recording's first) or the keyframe
//     is late, it is cut after F.
//
// A fragment therefore lasts at most F + F/8 (or one frame, where frames
// are longer), which bounds what a crash can lose. An audio-only recording,
// where every frame is a sync sample, is cut every F.

// keyClock follows where the lead track's keyframes fall.
type keyClock struct {
	last int64 // lead DTS of the last keyframe
	gop  int64 // ticks between the last two keyframes; 0 when unknown
	set  bool
}

// see notes a keyframe at dts; a step back or a jump over maxGap ticks
// forgets the GOP.
func (k *keyClock) see(dts, maxGap int64) {
	k.gop = 0
	if d := dts - k.last; k.set && d > 0 && d <= maxGap {
		k.gop = d
	}
	k.last, k.set = dts, true
}

// cutBefore tells whether the lead unit at dts (a keyframe when key) starts
// a new fragment.
func (w *writer) cutBefore(dts int64, key bool) bool {
	if key && w.lead.video {
		return !w.fragKey || dts-w.fragDTS >= durToTicks(w.r.cfg.FragmentDuration/2, w.lead.clock)
	}
	return dts >= w.fragEnd
}

// forcedCut returns the lead DTS from which a unit starts a new fragment when
// the fragment started at start and no keyframe comes first: F after start
// when the GOP is unknown, else the piece boundary nearest to a frame, never
// so late that the fragment would last more than F + F/8.
func (w *writer) forcedCut(start int64) int64 {
	f := durToTicks(w.r.cfg.FragmentDuration, w.lead.clock)
	long := max(f+f/8, 1)
	k := w.keys
	pos := start - k.last // where in the GOP the fragment starts
	if !k.set || k.gop <= 0 || pos < 0 || pos >= k.gop {
		return start + f
	}
	frame := int64(defaultDuration(w.lead))
	limit := start + long - frame + 1 // a unit there would end past start + long
	if k.gop-pos <= long {
		return limit
	}
	n := (k.gop + long - 1) / long
	piece := k.gop / n
	next := (pos+frame/2)/piece + 1 // the piece boundary after start
	return min(k.last+next*piece-frame/2, limit)
}
