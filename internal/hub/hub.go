// Package hub fans the access units of each camera's one publisher out to
// its readers (recorder, live muxers) without copying payloads per reader and
// without letting a slow reader stall the publisher. It follows the
// parameter sets of H.264 and H.265 tracks carried in-band (Params), once
// for every reader. An Observer, given to NewObserved, sees every unit
// inside Stream.Write, for work too small for a reader of its own (motion
// detection reads frame sizes).
package hub

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/camcloud/camcloud/internal/nalu"
)

// Track describes one elementary stream of a published camera stream.
type Track struct {
	// ID is 1-based and stable for the life of a Stream.
	ID int
	// Codec carries the parameters an fMP4 writer needs (SPS/PPS, AAC config...).
	Codec codecs.Codec
	// ClockRate is the time base of Unit.PTS and Unit.DTS for this track.
	ClockRate int
}

// IsVideo reports whether the track carries video.
func (t Track) IsVideo() bool { return t.Codec != nil && t.Codec.IsVideo() }

// Unit is one access unit. A Unit is immutable once written: readers share it.
type Unit struct {
	// Track is the ID of the Track the unit belongs to.
	Track int
	// PTS and DTS are in the track's ClockRate, counted from the stream start.
	PTS, DTS int64
	// NTP is the wall-clock time of the unit (from RTCP or arrival).
	NTP time.Time
	// Key marks a random access point: an IDR frame for video, every audio frame.
	Key bool
	// Payload holds the NAL units of a video access unit (no start codes), or a
	// single audio frame as its only element.
	Payload [][]byte
	// Codec is set by Stream.Write on the random access points of H.264
	// and H.265 tracks (Key set, and an IDR or CRA picture in Payload): the
	// track's codec with the parameter sets carried in-band up to and
	// including this unit. It is the same value from one random access
	// point to the next until a unit brings different parameter sets, and
	// then a new one (see Params), so that a reader tells a change by
	// comparing pointers. Publishers leave it nil; a unit written again
	// keeps the codec of its first write.
	Codec codecs.Codec
}

// ErrClosed is returned by Reader.Read once the stream ended or the reader
// was dropped for falling behind.
var ErrClosed = errors.New("hub: stream closed")

// ErrOverflow is returned by Reader.Read when the reader fell too far behind
// and was dropped; the publisher never waits for it.
var ErrOverflow = errors.New("hub: reader fell behind and was dropped")

// Hub holds the current Stream of every published camera.
type Hub struct {
	mu        sync.Mutex
	streams   map[string]*Stream
	listeners []func(*Stream)
	observe   func(*Stream) Observer // nil: no observer
}

// Observer sees the units written to one stream, in order, inside
// Stream.Write (under the stream's lock, on the publisher's goroutine), with
// no queue of its own: what it needs of a unit (its size, whether it is a
// key frame) it must take at once. Observe must not block, wait on a lock
// anyone holds for long, do I/O or allocate: it delays the publisher and
// every reader of the stream.
type Observer interface {
	Observe(u *Unit)
}

// New returns an empty hub.
func New() *Hub {
	return &Hub{streams: map[string]*Stream{}}
}

// NewObserved returns an empty hub that calls observe in Publish, before
// the stream is visible, with every new Stream; the Observer it returns
// (nil for none) sees every unit written to that stream. observe must
// return at once.
func NewObserved(observe func(*Stream) Observer) *Hub {
	h := New()
	h.observe = observe
	return h
}

// OnPublish registers fn to be called (in its own goroutine) with every new
// Stream. The recorder uses it to start recording each publish.
func (h *Hub) OnPublish(fn func(*Stream)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.listeners = append(h.listeners, fn)
}

// Publish starts a new Stream for a camera. A Stream already published for the
// same camera is closed first: a second publisher replaces the first.
func (h *Hub) Publish(cameraID string, tracks []Track) *Stream {
	s := &Stream{CameraID: cameraID, Tracks: tracks, Started: time.Now(), hub: h,
		readers: map[*Reader]struct{}{}, done: make(chan struct{})}
	for _, t := range tracks {
		if p := NewParams(t.Codec); p != nil {
			s.params = append(s.params, trackParams{id: t.ID, p: p})
		}
	}
	if h.observe != nil {
		s.obs = h.observe(s)
	}
	h.mu.Lock()
	old := h.streams[cameraID]
	h.streams[cameraID] = s
	ls := append([]func(*Stream){}, h.listeners...)
	h.mu.Unlock()
	if old != nil {
		old.close()
	}
	for _, fn := range ls {
		go fn(s)
	}
	return s
}

// Get returns the camera's current Stream, or nil when it is not published.
func (h *Hub) Get(cameraID string) *Stream {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.streams[cameraID]
}

// Cameras returns the IDs of the cameras currently published.
func (h *Hub) Cameras() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]string, 0, len(h.streams))
	for id := range h.streams {
		out = append(out, id)
	}
	return out
}

// CloseAll ends every stream, as on drain.
func (h *Hub) CloseAll() {
	h.mu.Lock()
	all := make([]*Stream, 0, len(h.streams))
	for _, s := range h.streams {
		all = append(all, s)
	}
	h.mu.Unlock()
	for _, s := range all {
		s.Close()
	}
}

// Stream is one publish session of one camera.
type Stream struct {
	CameraID string
	Tracks   []Track
	Started  time.Time

	hub     *Hub
	mu      sync.Mutex
	readers map[*Reader]struct{}
	closed  bool
	done    chan struct{}

	// early holds the units written before the first reader attached, for
	// that reader: the recorder attaches a moment after the publish starts
	// (after a database lookup), and must not lose the stream's first
	// frames. It is bounded by maxEarly and dropped when full.
	early     []*Unit
	earlyDone bool

	// params follows the parameter sets of the H.264 and H.265 tracks.
	params []trackParams

	// live counts the attached readers made by NewLiveReader (changed
	// under mu, read without it by Watched).
	live atomic.Int32
	// obs, when set, sees every unit written (see Observer); set once in
	// Publish.
	obs Observer

	// gather, once set (Gather), holds the units written for the readers
	// in held until Flush, so that the readers wake once for a batch of
	// units rather than once a unit.
	gather bool
	held   []*Unit
}

// maxHeld bounds Stream.held: a batch of more units is handed on at once.
const maxHeld = 64

// Gather makes the stream hold the units written for its readers until
// Flush (or maxHeld of them, a new reader or the end of the stream). The
// observer and the units kept for the first reader see each unit at once.
// An ingest that reads its camera in batches (fastpath) gathers, and
// flushes before each read of the socket: the recorder and the relays
// then wake once a batch (about 10 times a second) instead of once a
// frame, each wake-up being a thread hand-over that costs more than the
// unit's own work. The added delay is the batch's parsing, microseconds.
func (s *Stream) Gather() {
	s.mu.Lock()
	s.gather = true
	s.mu.Unlock()
}

// Gathers reports whether the stream holds its readers' units until Flush
// (Gather was called).
func (s *Stream) Gathers() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gather
}

// Flush hands the units held (see Gather) to the readers.
func (s *Stream) Flush() {
	s.mu.Lock()
	s.flushLocked()
	s.mu.Unlock()
}

// flushLocked hands the held units on; s.mu is held.
func (s *Stream) flushLocked() {
	if len(s.held) == 0 {
		return
	}
	for i, u := range s.held {
		s.dispatchLocked(u)
		s.held[i] = nil
	}
	s.held = s.held[:0]
}

// Watched reports whether a live viewer's reader (NewLiveReader) is
// attached: the ingest then reads the camera as its data arrives, for
// latency, rather than in batches. Safe to call from any goroutine; it
// takes no lock.
func (s *Stream) Watched() bool { return s.live.Load() > 0 }

// detachLocked removes r from the readers; s.mu is held.
func (s *Stream) detachLocked(r *Reader) {
	delete(s.readers, r)
	if r.live {
		s.live.Add(-1)
	}
}

// trackParams are the parameter sets of the track with ID id.
type trackParams struct {
	id int
	p  *Params
}

// maxEarly bounds Stream.early: about 3.5 s of 25 fps video with AAC.
const maxEarly = 256

// Done is closed when the stream ends.
func (s *Stream) Done() <-chan struct{} { return s.done }

// Write hands one unit to the stream's Observer and every reader (at once,
// or at the next Flush when the stream gathers). It never blocks: a reader
// whose buffer is full is dropped and sees ErrOverflow. On the random
// access points of H.264 and H.265 tracks it first takes the parameter
// sets the unit carries and sets Unit.Codec.
func (s *Stream) Write(u *Unit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if u.Key && u.Codec == nil && len(s.params) > 0 {
		s.followParams(u)
	}
	if s.obs != nil {
		s.obs.Observe(u)
	}
	if !s.earlyDone {
		if len(s.early) < maxEarly {
			s.early = append(s.early, u)
		} else {
			s.early, s.earlyDone = nil, true // nobody came: stop holding video
		}
	}
	if s.gather {
		s.held = append(s.held, u)
		if len(s.held) >= maxHeld {
			s.flushLocked()
		}
		return
	}
	s.dispatchLocked(u)
}

// dispatchLocked hands u to every reader, dropping a reader whose buffer
// is full; s.mu is held.
func (s *Stream) dispatchLocked(u *Unit) {
	for r := range s.readers {
		select {
		case r.ch <- u:
		default:
			s.detachLocked(r)
			r.overflow = true
			close(r.ch)
		}
	}
}

// followParams updates the parameter sets of u's track from u, when the
// track has them and u is a random access point, and gives u the track's
// codec.
func (s *Stream) followParams(u *Unit) {
	for _, tp := range s.params {
		if tp.id != u.Track {
			continue
		}
		if nalu.RandomAccess(tp.p.Codec(), u.Payload) {
			tp.p.Update(u.Payload)
			u.Codec = tp.p.Codec()
		}
		return
	}
}

// Close ends the stream for its readers and removes it from the hub if it is
// still the camera's current stream.
func (s *Stream) Close() {
	s.hub.mu.Lock()
	if s.hub.streams[s.CameraID] == s {
		delete(s.hub.streams, s.CameraID)
	}
	s.hub.mu.Unlock()
	s.close()
}

func (s *Stream) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.flushLocked()
	s.closed = true
	for r := range s.readers {
		close(r.ch)
	}
	s.readers = nil
	s.live.Store(0)
	close(s.done)
}

// NewReader attaches a reader with room for buf units. A reader that falls
// more than buf units behind is dropped. The stream's first reader also
// gets the units written before it attached (at most the newest buf of
// them, and none after the first few seconds), so that a recorder that
// attaches a moment after the publish started loses nothing.
func (s *Stream) NewReader(buf int) (*Reader, error) {
	return s.newReader(buf, false)
}

// NewLiveReader is NewReader for a live view (WebRTC, live HLS): while it
// is attached the stream is Watched.
func (s *Stream) NewLiveReader(buf int) (*Reader, error) {
	return s.newReader(buf, true)
}

func (s *Stream) newReader(buf int, live bool) (*Reader, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	// The held units go to the readers that were there when they were
	// written; the new reader starts after them (or with the early units,
	// which hold them too).
	s.flushLocked()
	r := &Reader{s: s, ch: make(chan *Unit, buf), live: live}
	if live {
		s.live.Add(1)
	}
	if !s.earlyDone {
		early := s.early
		if len(early) > buf {
			early = early[len(early)-buf:]
		}
		for _, u := range early {
			r.ch <- u
		}
		s.early, s.earlyDone = nil, true
	}
	s.readers[r] = struct{}{}
	return r, nil
}

// Reader receives the units of one Stream in order.
type Reader struct {
	s        *Stream
	ch       chan *Unit
	overflow bool
	live     bool // made by NewLiveReader
}

// C exposes the unit channel for select loops; it is closed at the end.
// After it closes, Err tells why.
func (r *Reader) C() <-chan *Unit { return r.ch }

// Err tells why the channel closed: ErrOverflow or ErrClosed.
func (r *Reader) Err() error {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if r.overflow {
		return ErrOverflow
	}
	return ErrClosed
}

// Read returns the next unit, or an error once the reader is closed.
func (r *Reader) Read() (*Unit, error) {
	u, ok := <-r.ch
	if !ok {
		return nil, r.Err()
	}
	return u, nil
}

// Close detaches the reader.
func (r *Reader) Close() {
	r.s.mu.Lock()
	defer r.s.mu.Unlock()
	if _, ok := r.s.readers[r]; ok {
		r.s.detachLocked(r)
		close(r.ch)
	}
}
