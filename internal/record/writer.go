package record

import (
	"log/slog"
	"slices"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/fmp4"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/nalu"
	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
)

// Bounds on one fragment, whatever the stream sends.
const (
	maxFragBytes   = 32 << 20
	maxFragSamples = 20000
	// maxGap is the largest DTS step taken as continuous; a bigger jump (or
	// a step back) on the lead track closes the segment.
	maxGap = 10 * time.Second
	// snapTolerance: a segment that continues the previous one without a
	// break starts exactly at the previous End when its wall-clock time is
	// within this of it, so that rows of one recording are contiguous;
	// clock drift beyond it re-anchors to the wall clock.
	snapTolerance = time.Second
)

// trackState is the fMP4 muxing state of one recorded track.
type trackState struct {
	id, clock int
	codec     codecs.Codec
	video     bool
	base      int64 // DTS, in this track's clock, of the recording's time zero

	pending  *hub.Unit // last unit, waiting for the next DTS to get its duration
	prevDur  uint32
	frag     fmp4.Track // samples of the fragment being built
	firstDTS int64      // DTS of frag.samples[0]
	leadDur  int64      // sum of sample durations in the fragment
}

// writer turns the units of one stream into spooled segments. It is used by
// one goroutine (Record) only.
type writer struct {
	r      *Recorder
	cam    string
	log    *slog.Logger
	tracks []*trackState
	byID   map[int]*trackState
	lead   *trackState
	frags  []*fmp4.Track // &tracks[i].frag

	started bool
	seq     uint32
	seg     segmentFile // nil while waiting for a keyframe
	segDTS  int64       // lead DTS of the segment's first sample
	fragDTS int64       // lead DTS of the fragment's first sample
	fragKey bool        // the fragment starts with a keyframe
	fragEnd int64       // lead DTS at which the fragment is cut without a keyframe (see cut.go)
	keys    keyClock    // where the lead track's keyframes fall
	fragB   int         // payload bytes buffered in the fragment
	fragN   int         // samples buffered in the fragment

	// The lead track's payload (the video, nearly all the bytes) goes to
	// the spool as it arrives rather than waiting in memory for the cut
	// (see stageLead): room bytes are left at fragStart for the moof and
	// mdat header, written at the cut.
	stage     *[]byte // lead payload not written yet, from r.bufs
	inFrag    bool    // the fragment has lead payload in the file or stage
	fragStart int64   // file offset of the fragment
	room      int     // bytes left at fragStart for the header
	leadOut   int64   // lead payload bytes of the fragment, written or staged
	taken     int64   // spool room taken by the fragment's writes
	lastHead  int     // moof + mdat header size of the last fragment

	initCodecs []codecs.Codec // codecs the cached init was built from
	init       []byte
	initHash   string
	codecStr   string
	noParams   bool         // logged that the video has no parameter sets yet
	prevEnd    time.Time    // End of the previous segment when the next continues it
	segStart   time.Time    // wall-clock start of the open segment
	lostFrom   time.Time    // end of what was kept before video was lost; zero when none is
	lostWhy    string       // the loss's reason (ReasonSpoolFullNew or ReasonSpoolError)
	lastAt     time.Time    // wall-clock time of the last lead unit that had one
	rejected   codecs.Codec // in-band parameters that could not be used
}

func newWriter(r *Recorder, s *hub.Stream) *writer {
	w := &writer{r: r, cam: s.CameraID, log: r.log.With("camera", s.CameraID), byID: map[int]*trackState{},
		lastHead: initialHead}
	for _, t := range s.Tracks {
		if !supported(t.Codec) || t.ClockRate <= 0 || t.ID < 1 {
			w.log.Warn("not recording a track with an unsupported codec", "track", t.ID, "codec", codecName(t.Codec))
			continue
		}
		if _, dup := w.byID[t.ID]; dup {
			w.log.Warn("not recording a duplicate track ID", "track", t.ID)
			continue
		}
		ts := &trackState{id: t.ID, clock: t.ClockRate, codec: t.Codec, video: t.IsVideo()}
		ts.frag = fmp4.Track{ID: t.ID, LengthPrefixed: ts.video}
		w.tracks = append(w.tracks, ts)
		w.frags = append(w.frags, &ts.frag)
		w.byID[t.ID] = ts
		if w.lead == nil || (ts.video && !w.lead.video) {
			w.lead = ts
		}
	}
	// The lead track's samples come first in mdat: its payload is written
	// ahead of the others'.
	for i, f := range w.frags {
		if w.lead != nil && f == &w.lead.frag {
			copy(w.frags[1:i+1], w.frags[:i])
			w.frags[0] = f
			break
		}
	}
	return w
}

// initialHead is the header size assumed for a writer's first fragment
// (25 fps video with AAC in 0.9 s fragments needs about 850 bytes).
const initialHead = 1024

// stageLead appends a lead sample's payload to the stage, the first one of
// a fragment leaving room for its header, and returns the sample's size.
// Staged bytes reach the spool file at the next idle or cut.
func (w *writer) stageLead(payload [][]byte) int {
	if !w.inFrag {
		w.inFrag = true
		w.fragStart = w.seg.Written()
		w.room = (w.lastHead + w.lastHead/4 + 64) &^ 3
		w.leadOut, w.taken = 0, 0
	}
	if w.stage == nil {
		w.stage = w.r.bufs.get()
	}
	n := len(*w.stage)
	*w.stage = w.lead.frag.AppendPayload(*w.stage, payload)
	size := len(*w.stage) - n
	w.leadOut += int64(size)
	return size
}

// idle writes the staged lead payload out: the recorder has taken every
// unit the hub had, so that each batch of frames costs one write and
// nothing waits in memory.
func (w *writer) idle() {
	if w.stage != nil && len(*w.stage) > 0 {
		w.flushLead()
	}
}

// flushLead writes the stage to its place in the spool file. On a spool
// error the segment is abandoned (see fail) and it reports false.
func (w *writer) flushLead() bool {
	if w.stage == nil {
		return true
	}
	b := *w.stage
	var err error
	if len(b) > 0 && w.seg != nil {
		var n int64
		n, err = w.seg.WriteAt(b, w.fragStart+int64(w.room)+w.leadOut-int64(len(b)))
		w.taken += n
	}
	w.r.bufs.put(w.stage)
	w.stage = nil
	if err != nil {
		w.fail(err)
		return false
	}
	return true
}

// fail abandons the open segment after a spool error: it is closed with
// the fragments already committed, and recording resumes at the next
// keyframe.
func (w *writer) fail(err error) {
	if err != spool.ErrFull && err != spool.ErrCommitFailed {
		w.log.Error("cannot write the spool: video is being lost", "err", err)
	}
	w.r.act.failed(w.cam, "cannot write the spool: "+err.Error())
	if w.seg != nil {
		w.seg.Release(w.taken)
		// The hole in the index starts where the segment's committed
		// fragments end (its start when it has none).
		from, why := w.seg.End(), ReasonSpoolError
		if from.IsZero() {
			from = w.segStart
		}
		if err == spool.ErrFull {
			why = ReasonSpoolFullNew
		}
		w.lost(from, why)
	}
	w.taken, w.inFrag = 0, false
	if w.stage != nil {
		w.r.bufs.put(w.stage)
		w.stage = nil
	}
	for _, t := range w.tracks {
		t.pending = nil
		t.frag.Reset()
	}
	w.fragB, w.fragN = 0, 0
	if w.seg != nil {
		w.seg.Close()
		w.seg = nil
	}
}

// handle takes one unit from the hub.
func (w *writer) handle(u *hub.Unit) {
	t := w.byID[u.Track]
	if t == nil || !validPayload(u.Payload) {
		return
	}
	if t == w.lead {
		w.handleLead(u)
	} else {
		w.handleOther(t, u)
	}
}

func (w *writer) handleLead(u *hub.Unit) {
	t := w.lead
	if !u.NTP.IsZero() {
		w.lastAt = u.NTP
	}
	if w.seg != nil && t.pending != nil {
		d := u.DTS - t.pending.DTS
		if d <= 0 || d > durToTicks(maxGap, t.clock) {
			w.log.Warn("timestamp discontinuity: closing the segment", "step", ticksToDur(d, t.clock))
			w.finishSegment(0, false)
		}
	}
	// The flag is checked on the NAL units themselves, not trusted alone.
	key := u.Key && (!t.video || nalu.RandomAccess(t.codec, u.Payload))
	if key && t.video {
		w.keys.see(u.DTS, durToTicks(maxGap, t.clock))
	}
	if w.seg == nil {
		if key && w.startSegment(u) {
			w.addLead(u, true, true)
		}
		return
	}
	if key {
		if newParams(t.codec, w.rejected, u) != nil {
			w.log.Info("codec parameters changed: starting a new segment")
			w.finishSegment(u.DTS, true)
			if w.startSegment(u) {
				w.addLead(u, true, true)
			}
			return
		}
		if d := ticksToDur(u.DTS-w.segDTS, t.clock); d >= w.r.cfg.SegmentDuration ||
			(d >= minPressedSegment && w.r.segs.Pressed()) {
			if d < w.r.cfg.SegmentDuration {
				w.r.m.earlyCloses.Inc()
			}
			w.finishSegment(u.DTS, true)
			if w.startSegment(u) {
				w.addLead(u, true, true)
			}
			return
		}
	}
	first := false
	if w.cutBefore(u.DTS, key) || w.fragB >= maxFragBytes || w.fragN >= maxFragSamples {
		if t.pending != nil {
			w.push(t, uint32(u.DTS-t.pending.DTS))
		}
		if !w.cutFragment() {
			return
		}
		first = true
	}
	w.addLead(u, first && key, first)
}

// addLead queues u on the lead track; first marks the fragment's first
// sample, key that it is a keyframe.
func (w *writer) addLead(u *hub.Unit, key, first bool) {
	t := w.lead
	if t.pending != nil {
		w.push(t, uint32(u.DTS-t.pending.DTS))
	}
	if first {
		w.fragDTS = u.DTS
		w.fragKey = key
		w.fragEnd = w.forcedCut(u.DTS)
	}
	t.pending = u
}

func (w *writer) handleOther(t *trackState, u *hub.Unit) {
	if w.seg == nil || u.DTS < t.base || w.fragB >= maxFragBytes || w.fragN >= maxFragSamples {
		return
	}
	if t.pending != nil {
		d := u.DTS - t.pending.DTS
		if d <= 0 {
			return // out of order: drop
		}
		if d > durToTicks(maxGap, t.clock) {
			d = int64(t.prevDur) // the next fragment's base time resyncs it
		}
		w.push(t, uint32(d))
	}
	t.pending = u
}

// push moves t's pending unit into the fragment with the given duration.
func (w *writer) push(t *trackState, dur uint32) {
	p := t.pending
	t.pending = nil
	if p == nil {
		return
	}
	if dur == 0 {
		dur = defaultDuration(t)
	}
	if len(t.frag.Samples) == 0 {
		t.firstDTS = p.DTS
		t.leadDur = 0
	}
	var size int
	if t == w.lead && w.seg != nil {
		size = w.stageLead(p.Payload)
		t.frag.Samples = append(t.frag.Samples, fmp4.Sample{Duration: dur, CTO: int32(p.PTS - p.DTS),
			NonSync: t.video && !p.Key, Size: uint32(size)})
	} else {
		// Referenced, not copied: hub units are immutable.
		size = t.frag.Add(dur, int32(p.PTS-p.DTS), t.video && !p.Key, p.Payload)
	}
	t.prevDur = dur
	t.leadDur += int64(dur)
	w.fragB += size
	w.fragN++
}

// defaultDuration is used for a track's last sample when no previous
// duration is known.
func defaultDuration(t *trackState) uint32 {
	if t.prevDur > 0 {
		return t.prevDur
	}
	switch t.codec.(type) {
	case *codecs.MPEG4Audio:
		return 1024
	case *codecs.Opus:
		return uint32(t.clock / 50)
	}
	return uint32(t.clock / 25)
}

// startSegment opens a new segment whose first sample is the keyframe u.
func (w *writer) startSegment(u *hub.Unit) bool {
	t := w.lead
	old := t.codec
	if nc := newParams(t.codec, w.rejected, u); nc != nil {
		t.codec = nc
	}
	if !hub.HasParams(t.codec) {
		if !w.noParams {
			w.noParams = true
			w.log.Warn("video has no parameter sets yet: waiting for a keyframe that carries them")
		}
		return false
	}
	if !w.started || u.DTS < t.base {
		for _, tr := range w.tracks {
			tr.base = u.DTS * int64(tr.clock) / int64(t.clock)
		}
		w.started = true
	}
	if err := w.buildInit(); err != nil {
		if t.codec == old {
			w.log.Error("cannot record: bad codec parameters", "err", err)
			return false
		}
		// Unusable in-band parameters: keep the previous ones.
		w.log.Warn("ignoring unusable in-band codec parameters", "err", err)
		w.rejected, t.codec = t.codec, old
		if !hub.HasParams(t.codec) || w.buildInit() != nil {
			return false
		}
	}
	start := u.NTP
	if start.IsZero() {
		start = w.r.cfg.Now()
	}
	if d := start.Sub(w.prevEnd); !w.prevEnd.IsZero() && d > -snapTolerance && d < snapTolerance {
		start = w.prevEnd
	}
	w.prevEnd = time.Time{}
	sg, err := w.r.segs.Open(w.cam, start, w.init, w.initHash, w.codecStr)
	if err != nil {
		w.log.Error("cannot open a spool segment: video is being lost", "err", err)
		return false
	}
	for _, tr := range w.tracks {
		tr.pending = nil
		tr.frag.Reset()
	}
	w.fragB, w.fragN = 0, 0
	w.seg, w.segDTS, w.segStart = sg, u.DTS, start
	return true
}

// buildInit rebuilds the init segment when a codec changed.
func (w *writer) buildInit() error {
	same := len(w.initCodecs) == len(w.tracks)
	for i := 0; same && i < len(w.tracks); i++ {
		same = w.initCodecs[i] == w.tracks[i].codec
	}
	if same {
		return nil
	}
	b, hash, err := buildInit(w.tracks)
	if err != nil {
		return err
	}
	w.init, w.initHash, w.codecStr = b, hash, codecsString(w.tracks)
	w.initCodecs = w.initCodecs[:0]
	for _, t := range w.tracks {
		w.initCodecs = append(w.initCodecs, t.codec)
	}
	return nil
}

// finishSegment writes the last fragment and closes the segment. When exact,
// nextDTS is the lead DTS that follows the segment; otherwise the last lead
// sample repeats the previous duration.
func (w *writer) finishSegment(nextDTS int64, exact bool) {
	if w.seg == nil {
		return
	}
	lead := w.lead
	if lead.pending != nil {
		if exact {
			w.push(lead, uint32(nextDTS-lead.pending.DTS))
		} else {
			w.push(lead, 0)
		}
	}
	for _, t := range w.tracks {
		if t != lead && t.pending != nil {
			w.push(t, 0)
		}
	}
	if !w.cutFragment() {
		return
	}
	if exact {
		w.prevEnd = w.seg.End()
	}
	w.seg.Close()
	w.seg = nil
}

// cutFragment writes the buffered samples as one fragment (moof+mdat) to
// the open segment. On a write failure the segment is closed with what it
// has and recording resumes at the next keyframe; it then reports false.
func (w *writer) cutFragment() bool {
	if w.seg == nil {
		return false
	}
	lead := w.lead
	n := 0
	for _, t := range w.tracks {
		if len(t.frag.Samples) > 0 {
			t.frag.BaseTime = uint64(max(0, t.firstDTS-t.base))
			n += len(t.frag.Samples)
		}
	}
	if n == 0 {
		return true
	}
	var leadDur int64
	if len(lead.frag.Samples) > 0 {
		leadDur = lead.leadDur
	}
	if !w.flushLead() {
		return false
	}
	frag := store.Fragment{
		Offset:   w.seg.Written(),
		Start:    ticksToDur(w.fragDTS-w.segDTS, lead.clock),
		Duration: ticksToDur(leadDur, lead.clock),
		Key:      w.fragKey,
	}
	err := w.writeFragment(&frag)
	for _, t := range w.tracks {
		t.frag.Reset()
	}
	w.fragB, w.fragN, w.inFrag = 0, 0, false
	if err == nil {
		taken := w.taken
		w.taken = 0 // Commit gives it back on failure
		err = w.seg.Commit(frag, n, taken)
	}
	if err != nil {
		w.fail(err)
		return false
	}
	w.seq++
	w.r.act.recorded(w.cam, w.r.cfg.Now())
	w.reportLost(w.segStart.Add(frag.Start))
	return true
}

// lost marks video lost from from on (unless a loss is open already),
// for why: reportLost tells of it when recording resumes.
func (w *writer) lost(from time.Time, why string) {
	if w.lostFrom.IsZero() && !from.IsZero() {
		w.lostFrom, w.lostWhy = from, why
	}
}

// reportLost tells Config.OnVideoLost of the video lost since lostFrom,
// up to resume (where recording resumed, or the stream ended), once.
func (w *writer) reportLost(resume time.Time) {
	if w.lostFrom.IsZero() {
		return
	}
	from := w.lostFrom
	w.lostFrom = time.Time{}
	if f := w.r.cfg.OnVideoLost; f != nil && resume.After(from) {
		f(w.cam, from, resume, w.lostWhy)
	}
}

// writeFragment writes what the spool file lacks of the fragment: all of
// it when no lead payload was written ahead; otherwise the header into its
// room and the other tracks' payload after the lead's, or, when the header
// outgrew its room, the whole fragment again from its start with the lead
// payload read back. It sets frag's offset and size.
func (w *writer) writeFragment(frag *store.Fragment) error {
	buf := w.r.bufs.get()
	defer w.r.bufs.put(buf)
	write := func(b []byte, off int64) error {
		n, err := w.seg.WriteAt(b, off)
		w.taken += n
		return err
	}
	seq := w.seq + 1
	if !w.inFrag {
		*buf = fmp4.AppendFragment(*buf, seq, w.frags)
		frag.Size = int64(len(*buf))
		return write(*buf, frag.Offset)
	}
	moof, _ := fmp4.FragmentSize(w.frags)
	head := moof + fmp4.BoxHeaderSize
	w.lastHead = head
	frag.Offset = w.fragStart
	if head <= w.room {
		*buf = fmp4.AppendFragmentHead(*buf, seq, w.frags, w.room-head)
		if err := write(*buf, w.fragStart); err != nil {
			return err
		}
		*buf = fmp4.AppendPayloads((*buf)[:0], w.frags) // the other tracks
		frag.Size = int64(w.room) + w.leadOut + int64(len(*buf))
		return write(*buf, w.fragStart+int64(w.room)+w.leadOut)
	}
	*buf = fmp4.AppendFragmentHead(*buf, seq, w.frags, 0)
	*buf = slices.Grow(*buf, int(w.leadOut))[:head+int(w.leadOut)]
	if err := w.seg.ReadBack((*buf)[head:], w.fragStart+int64(w.room)); err != nil {
		return err
	}
	*buf = fmp4.AppendPayloads(*buf, w.frags)
	frag.Size = int64(len(*buf))
	return write(*buf, w.fragStart)
}

// ticksToDur converts ticks of clock to a Duration without overflowing for
// long streams.
func ticksToDur(ticks int64, clock int) time.Duration {
	c := int64(clock)
	return time.Duration(ticks/c)*time.Second + time.Duration(ticks%c*int64(time.Second)/c)
}

func durToTicks(d time.Duration, clock int) int64 {
	c := int64(clock)
	return int64(d/time.Second)*c + int64(d%time.Second)*c/int64(time.Second)
}

// validPayload rejects units the muxer and codec helpers cannot take: no
// payload, an empty NAL unit or frame, or more than maxFragBytes in all.
func validPayload(p [][]byte) bool {
	if len(p) == 0 {
		return false
	}
	n := 0
	for _, b := range p {
		if len(b) == 0 {
			return false
		}
		n += len(b)
	}
	return n <= maxFragBytes
}
