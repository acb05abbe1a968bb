package ingest

import (
	"bytes"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/ingest/fastpath"
)

// reportPeriod is how often Events.Online is repeated with the bitrate.
const reportPeriod = 5 * time.Second

// stallCheck is how often a publication looks whether media still flows.
const stallCheck = time.Second

// DefaultMediaTimeout is how long a publish may send no media (while its
// connection stays up, for example on RTSP keep-alives alone) before it is
// dropped as stalled, unless configured otherwise. It is below the
// connection's read timeout, so that a stalled camera is offline (after
// the debounce, counted from its last frame) within 10 s.
const DefaultMediaTimeout = 6 * time.Second

// trackSpec is one track a session offers, before it is published.
type trackSpec struct {
	codec     codecs.Codec
	clockRate int
	name      string // for StreamInfo.Codec: "H264", "AAC", "G711"...
}

// pubConfig is what a publication needs from its session.
type pubConfig struct {
	hub      *hub.Hub
	events   Events
	log      *slog.Logger
	cameraID string
	info     StreamInfo
	// discontinuity, if set, counts a break in the source's timestamps that
	// the publication spliced over.
	discontinuity func()
	// dropSession closes the network session when the hub stream ends without
	// the session asking (replaced by another publisher, or drained), or
	// when it stalls.
	dropSession func()
	// mediaTimeout drops a session that has written no media for this
	// long (0: DefaultMediaTimeout).
	mediaTimeout time.Duration
}

// publication turns the media of one publish session into a hub stream: it
// waits for the video parameters, starts at the first key frame, computes
// DTS, rebases timestamps to the stream start and reports presence.
type publication struct {
	cfg pubConfig

	mu      sync.Mutex
	video   *videoTrack
	tracks  []*pubTrack // tracks[0] is the video track
	stream  *hub.Stream
	started bool          // a first video key frame was written
	base    time.Duration // media time of that key frame
	bytes   int64
	// units counts the units the source sent (written or not: a camera
	// that sends no key frame is waiting, not stalled); lastMedia is when
	// watch last saw it move (or the publish began), seenUnits the count
	// it saw then.
	units     int64
	seenUnits int64
	lastMedia time.Time
	// early holds the audio that arrives before the first video key
	// frame, up to maxEarlyAudio frames: an RTMP muxer sends the audio of
	// the key frame's instant before it, and under load a video encoder
	// starts after its audio. What is timed at or after the key frame is
	// written once it comes.
	early  []earlyAudio
	online bool
	closed bool
	done   chan struct{}
	// watched is closed when the watch goroutine has ended.
	watched chan struct{}
	// path counts an RTSP camera by the path of its video (videoPaths).
	path pathSlot
	// current is stream, for readers that take no lock (watchedNow).
	current atomic.Pointer[hub.Stream]
	// gather is set once the connection flushes the stream's held units
	// before its reads (readLive): the streams published are then gathered.
	gather atomic.Bool
}

// watchedNow reports whether the camera's current hub stream has live
// viewers (hub.Stream.Watched); the ingest connection asks it before each
// batched wait (fastpath.SetWatched).
func (p *publication) watchedNow() bool {
	s := p.current.Load()
	return s != nil && s.Watched()
}

// flushNow hands the units the camera's current hub stream holds to its
// readers (hub.Stream.Flush); the ingest connection calls it before each
// read of its socket (fastpath.SetBeforeRead).
func (p *publication) flushNow() {
	if s := p.current.Load(); s != nil {
		s.Flush()
	}
}

// readLive has the fast-path connection conn (when it is one) read as
// data arrives while the publication's camera has live viewers, and hand
// the units of a batch to the stream's readers together (hub.Stream.Gather:
// the connection flushes them before each read). The RTSP server calls it
// at RECORD, when the stream may already be published from the SDP's
// parameter sets: that stream is made to gather too.
func (p *publication) readLive(conn net.Conn) {
	if conn == nil {
		return
	}
	fastpath.SetWatched(conn, p.watchedNow)
	if fastpath.SetBeforeRead(conn, p.flushNow) {
		p.gather.Store(true)
		if s := p.current.Load(); s != nil {
			s.Gather()
		}
	}
}

// maxEarlyAudio bounds publication.early: about 1.4 s of AAC at 48 kHz.
const maxEarlyAudio = 64

// earlyAudio is an audio frame held until the first video key frame.
type earlyAudio struct {
	track int
	pts   int64
	frame []byte
	ntp   time.Time
}

// pubTrack is one track of a publication.
type pubTrack struct {
	id        int
	codec     codecs.Codec
	clockRate int
	lastDTS   int64 // the last DTS written, after any move (writeLocked)
	lastInDTS int64 // the DTS the source gave that unit
	written   bool
	// tl maps the source's timestamps onto the stream's, across restarts
	// and leaps of the source's clock.
	tl timeline
}

// newPublication prepares a publication; specs[0] must be a video track.
func newPublication(cfg pubConfig, specs []trackSpec) *publication {
	p := &publication{cfg: cfg, done: make(chan struct{})}
	for i, s := range specs {
		p.tracks = append(p.tracks, &pubTrack{id: i + 1, codec: s.codec, clockRate: s.clockRate, tl: timeline{clock: s.clockRate}})
	}
	p.video = newVideoTrack(p.tracks[0].codec)
	return p
}

// start publishes at once when the video parameters are already known.
func (p *publication) start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.video.ready() && p.stream == nil && !p.closed {
		p.publishLocked()
	}
}

// publishLocked starts (or, after a parameter change, restarts) the hub stream.
func (p *publication) publishLocked() {
	p.tracks[0].codec = p.video.codec()
	tracks := make([]hub.Track, len(p.tracks))
	for i, t := range p.tracks {
		tracks[i] = hub.Track{ID: t.id, Codec: t.codec, ClockRate: t.clockRate}
		t.written = false
		t.tl = timeline{clock: t.clockRate}
	}
	first := p.stream == nil
	if first {
		p.lastMedia = time.Now()
	}
	p.started = false
	p.stream = p.cfg.hub.Publish(p.cfg.cameraID, tracks)
	p.current.Store(p.stream)
	if p.gather.Load() {
		p.stream.Gather()
	}
	p.video.needKey = true
	if first {
		p.online = true
		p.watched = make(chan struct{})
		p.cfg.log.Info("publish started", "camera", p.cfg.cameraID, "protocol", p.cfg.info.Protocol,
			"remote", p.cfg.info.Remote, "codec", p.cfg.info.Codec)
		go p.watch()
	} else {
		p.cfg.log.Info("video parameters changed, stream restarted", "camera", p.cfg.cameraID)
	}
}

// watch reports presence (at once, then with the bitrate every
// reportPeriod), drops a session that has sent no media for its media
// timeout, and drops the session when its hub stream ends without the
// session ending (another publisher took over, or a drain). Events are
// sent from here so that a slow Events never holds up the media path.
func (p *publication) watch() {
	defer close(p.watched)
	p.cfg.events.Online(p.cfg.cameraID, p.cfg.info)
	timeout := p.cfg.mediaTimeout
	if timeout <= 0 {
		timeout = DefaultMediaTimeout
	}
	tick := time.NewTicker(stallCheck)
	defer tick.Stop()
	last := time.Now()
	clock := newStallClock(last)
	for {
		p.mu.Lock()
		s := p.stream
		p.mu.Unlock()
		select {
		case <-p.done:
			return
		case now := <-tick.C:
			p.mu.Lock()
			moved := p.units != p.seenUnits
			if moved {
				p.seenUnits, p.lastMedia = p.units, now
			}
			quiet := clock.check(now, moved)
			b := p.bytes
			report := now.Sub(last) >= reportPeriod-stallCheck/2
			if report {
				p.bytes = 0
			}
			p.mu.Unlock()
			if quiet >= timeout {
				p.cfg.log.Warn("no media: dropping the stalled session", "camera", p.cfg.cameraID, "protocol", p.cfg.info.Protocol,
					"remote", p.cfg.info.Remote, "quiet", quiet.Round(time.Second).String())
				p.cfg.dropSession()
				return
			}
			if !report {
				continue
			}
			info := p.cfg.info
			info.Bytes = b
			if secs := now.Sub(last).Seconds(); secs > 0 {
				info.BitrateKbps = int(float64(b) * 8 / 1000 / secs)
			}
			last = now
			p.cfg.events.Online(p.cfg.cameraID, info)
		case <-s.Done():
			p.mu.Lock()
			replacedByUs := p.stream != s
			closed := p.closed
			p.mu.Unlock()
			if closed {
				return
			}
			if replacedByUs {
				continue
			}
			p.cfg.log.Info("stream taken over or closed by the server, dropping the session",
				"camera", p.cfg.cameraID, "protocol", p.cfg.info.Protocol, "remote", p.cfg.info.Remote)
			p.cfg.dropSession()
			return
		}
	}
}

// writeVideo takes one video access unit. Without haveDTS the DTS is
// computed from the bitstream.
func (p *publication) writeVideo(pts, dts int64, haveDTS bool, au [][]byte, ntp time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.units++
	au = p.video.absorb(au)
	if au == nil || !p.video.ready() {
		return
	}
	// The parameter sets changed since the stream started: its readers
	// start again with the new ones, at a key frame.
	if p.stream == nil || (p.video.codec() != p.tracks[0].codec && p.video.isKey(au)) {
		p.publishLocked()
	}
	au, key := p.video.prepare(au)
	if au == nil {
		return
	}
	t := p.tracks[0]
	first := !p.started
	if !haveDTS {
		var err error
		dts, err = p.video.extractDTS(au, pts)
		if err != nil {
			p.cfg.log.Debug("cannot compute DTS, waiting for the next key frame", "camera", p.cfg.cameraID, "error", err)
			return
		}
	}
	now := time.Now()
	if !p.started {
		if !key {
			return
		}
		p.started = true
		p.base = ticksToDur(dts, t.clockRate)
		t.tl.start(dts, 0, now)
	} else if t.tl.jumped(dts, now, videoBack(key)) {
		if !key {
			// Frames after the break cannot be decoded on their own:
			// resume at the next key frame.
			p.video.needKey = true
			return
		}
		p.spliceLocked(t, dts, now)
	}
	off := t.tl.offset
	t.tl.apply(dts, now)
	p.writeLocked(t, &hub.Unit{PTS: pts - off, DTS: dts - off, NTP: ntp, Key: key, Payload: au})
	if first {
		for _, e := range p.early {
			p.writeAudioLocked(e.track, e.pts, e.frame, e.ntp)
		}
		p.early = nil
	}
}

// writeAudio takes one audio frame of tracks[i].
func (p *publication) writeAudio(i int, pts int64, frame []byte, ntp time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || i <= 0 || i >= len(p.tracks) || len(frame) == 0 {
		return
	}
	p.units++
	if !p.started {
		if len(p.early) == maxEarlyAudio {
			p.early = p.early[1:]
		}
		p.early = append(p.early, earlyAudio{track: i, pts: pts, frame: bytes.Clone(frame), ntp: ntp})
		return
	}
	p.writeAudioLocked(i, pts, frame, ntp)
}

// writeAudioLocked writes one audio frame of tracks[i] once the video has
// started; a frame timed before the first key frame has no place.
func (p *publication) writeAudioLocked(i int, pts int64, frame []byte, ntp time.Time) {
	t := p.tracks[i]
	now := time.Now()
	switch {
	case !t.tl.have:
		// The audio clock shares the video's origin, so that the tracks
		// stay in sync from the first key frame.
		out := pts - durToTicks(p.base, t.clockRate)
		if out < 0 {
			return
		}
		t.tl.start(pts, out, now)
	case t.tl.jumped(pts, now, audioReorder):
		p.spliceLocked(t, pts, now)
	}
	out := t.tl.apply(pts, now)
	p.writeLocked(t, &hub.Unit{PTS: out, DTS: out, NTP: ntp, Key: true, Payload: [][]byte{frame}})
}

// spliceLocked continues track t after a break in the source's clock at
// input time in, and logs and counts it.
func (p *publication) spliceLocked(t *pubTrack, in int64, now time.Time) {
	jump := t.tl.splice(in, now)
	p.cfg.log.Info("source timestamps jumped; the stream continues from here",
		"camera", p.cfg.cameraID, "track", t.id, "jump", jump.Round(time.Millisecond).String())
	if p.cfg.discontinuity != nil {
		p.cfg.discontinuity()
	}
}

// writeLocked keeps DTS monotonic per track and hands the unit to the hub.
func (p *publication) writeLocked(t *pubTrack, u *hub.Unit) {
	in := u.DTS
	if t.written && u.DTS <= t.lastDTS {
		if in < t.lastInDTS || t != p.tracks[0] {
			return // late, or a repeated audio time: drop it
		}
		// Video frames with the same decode time: flvmux clamps the
		// negative decode times of the first B-frame GOP to 0, and under
		// load it gives runs of several frames one millisecond time.
		// Each frame must come after the last, so it moves one tick on
		// from the last one written (not from the source's time, which
		// would drop the third of a run); dropping it would lose the GOP.
		u.DTS = t.lastDTS + 1
		if u.PTS < u.DTS {
			u.PTS = u.DTS
		}
	}
	t.lastInDTS = in
	t.written, t.lastDTS = true, u.DTS
	u.Track = t.id
	for _, b := range u.Payload {
		p.bytes += int64(len(b))
	}
	p.stream.Write(u)
}

// close ends the hub stream and reports the camera offline unless another
// publish of it has taken over.
func (p *publication) close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	close(p.done)
	p.path.release()
	s, online, watched := p.stream, p.online, p.watched
	lastMedia := p.lastMedia
	if p.units != p.seenUnits {
		lastMedia = time.Now()
	}
	p.mu.Unlock()
	if s == nil {
		return
	}
	s.Close()
	<-watched // no Online after Offline
	if online && p.cfg.hub.Get(p.cfg.cameraID) == nil {
		p.cfg.events.Offline(p.cfg.cameraID, lastMedia)
	}
	p.cfg.log.Info("publish ended", "camera", p.cfg.cameraID, "protocol", p.cfg.info.Protocol, "remote", p.cfg.info.Remote)
}

// codecsName joins the codec names of specs: "H264/AAC".
func codecsName(specs []trackSpec) string {
	names := make([]string, len(specs))
	for i, t := range specs {
		names[i] = t.name
	}
	return strings.Join(names, "/")
}

// ticksToDur converts a timestamp in clock units to a duration without overflow.
func ticksToDur(t int64, clock int) time.Duration {
	c := int64(clock)
	return time.Duration(t/c)*time.Second + time.Duration(t%c)*time.Second/time.Duration(c)
}

// durToTicks converts a duration to clock units without overflow, rounding
// to the nearest tick so that durToTicks(ticksToDur(t)) == t.
func durToTicks(d time.Duration, clock int) int64 {
	s, r := int64(d/time.Second), int64(d%time.Second)
	half := int64(time.Second / 2)
	if r < 0 {
		half = -half
	}
	return s*int64(clock) + (r*int64(clock)+half)/int64(time.Second)
}
