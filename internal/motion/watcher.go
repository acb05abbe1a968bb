package motion

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/hub"
)

// Settings is a camera's motion detection setting.
type Settings struct {
	Enabled     bool
	Sensitivity int
}

// Transition is a motion event of a camera opening or closing. A close
// carries the same CameraID and Start as the open it ends.
type Transition struct {
	CameraID string
	// Open is true when the event opened, false when it closed.
	Open bool
	// Start is when the motion began; End when it ended (zero on open).
	Start, End time.Time
	// Peak is the largest ratio of frame size to the camera's baseline
	// seen so far (at close: over the whole event).
	Peak float64
	// Sensitivity is the camera's sensitivity when the event opened.
	Sensitivity int
}

// Watcher defaults.
const (
	defaultAttachDelay  = 5 * time.Second
	defaultRefresh      = time.Minute
	defaultReaderBuffer = 256
	emitTimeout         = 10 * time.Second
	// emitQueue is the room of the transitions queue: when Emit is slower
	// than the cameras' events for that long, cameras wait.
	emitQueue = 1024
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Hub is where cameras publish.
	Hub *hub.Hub
	// Lookup returns a camera's setting; an error leaves the camera
	// unwatched until the next Refresh.
	Lookup func(ctx context.Context, cameraID string) (Settings, error)
	// Emit receives every open and close, in order, from one goroutine
	// of the watcher (each call bounded by a 10 s context); while it runs
	// the next transitions wait in a queue, and when the queue is full the
	// cameras wait.
	Emit func(ctx context.Context, t Transition)
	// AttachDelay is how long after a publish the watcher attaches its
	// reader (default 5 s). The hub hands the units written before the
	// first reader attached to that reader, which must be the recorder;
	// the detector learns the scene for its first seconds anyway. Negative:
	// attach at once.
	AttachDelay time.Duration
	// Refresh is how often a camera's setting is read again (default 1 min).
	Refresh time.Duration
	// ReaderBuffer is the hub reader's room in units (default 256: about
	// 3.5 s of 25 fps video with AAC; it bounds the frames a watcher that
	// lags can hold). A watcher that falls further behind is dropped by the
	// hub, and reattaches.
	ReaderBuffer int
	Log          *slog.Logger
	// Registerer, when set, gets the camcloud_motion_* series.
	Registerer prometheus.Registerer
}

// Watcher runs a Detector on the video of every stream published on a hub
// whose camera has motion detection enabled, and emits the transitions.
type Watcher struct {
	c  WatcherConfig
	m  *metrics
	wg sync.WaitGroup
	// queue carries the transitions to the emitter; emitted is closed
	// when it has handed on the last one.
	queue   chan Transition
	emitted chan struct{}

	mu       sync.Mutex
	stopped  bool // Wait closed the queue: no stream goroutine may start
	stopOnce sync.Once
	// attached, when set (tests), is called once a stream's reader is attached.
	attached func(cameraID string)
}

// NewWatcher returns a watcher; Start attaches it to the hub. It fails only
// when its metrics cannot be registered.
func NewWatcher(c WatcherConfig) (*Watcher, error) {
	if c.AttachDelay == 0 {
		c.AttachDelay = defaultAttachDelay
	}
	if c.Refresh <= 0 {
		c.Refresh = defaultRefresh
	}
	if c.ReaderBuffer <= 0 {
		c.ReaderBuffer = defaultReaderBuffer
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(c.Registerer)
	if err != nil {
		return nil, err
	}
	return &Watcher{c: c, m: m, queue: make(chan Transition, emitQueue), emitted: make(chan struct{})}, nil
}

// Start watches every stream published from now on until ctx ends.
func (w *Watcher) Start(ctx context.Context) {
	go w.emitter(ctx)
	w.wg.Add(1) // held until ctx ends, so that Wait can close the queue
	go func() { <-ctx.Done(); w.wg.Done() }()
	w.c.Hub.OnPublish(func(s *hub.Stream) {
		if !w.join(ctx) {
			return
		}
		defer w.wg.Done()
		w.watch(ctx, s)
	})
}

// join counts one more stream goroutine unless ctx ended.
func (w *Watcher) join(ctx context.Context) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ctx.Err() != nil || w.stopped {
		return false
	}
	w.wg.Add(1)
	return true
}

// Wait waits, after the context of Start ended, for every stream's
// goroutine to end and for their last transitions (the closes of the
// events still open) to be handed to Emit.
func (w *Watcher) Wait() {
	w.stopOnce.Do(func() {
		w.wg.Wait()
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		close(w.queue)
	})
	<-w.emitted
}

// camera is the watch of one stream.
type camera struct {
	w     *Watcher
	s     *hub.Stream
	track hub.Track
	log   *slog.Logger
	set   Settings
	det   *Detector
	sens  int       // sensitivity of the open event
	base  time.Time // wall-clock time of media time zero
	// openStart is the Start of the open event, repeated by its close.
	openStart time.Time
	rd        *hub.Reader
}

// watch follows s until it ends or ctx ends. Nothing in its loop waits
// for anything but the next unit: the setting is read on a goroutine of
// its own and transitions go to the watcher's emitter, so that the
// camera's frames never pile up in the reader behind a slow database.
func (w *Watcher) watch(ctx context.Context, s *hub.Stream) {
	c := &camera{w: w, s: s, log: w.c.Log.With("camera", s.CameraID)}
	found := false
	for _, t := range s.Tracks {
		if t.IsVideo() && t.ClockRate > 0 {
			c.track, found = t, true
			break
		}
	}
	if !found {
		return
	}
	if !sleep(ctx, s, w.c.AttachDelay) {
		return
	}
	defer c.detach()
	// Every camera reads its setting on its own beat (Refresh, give or
	// take a fifth), so that cameras published together do not all ask
	// the database at once.
	every := w.c.Refresh - w.c.Refresh/5 + rand.N(2*w.c.Refresh/5+1)
	tick := time.NewTicker(every)
	defer tick.Stop()
	settings := make(chan lookupResult, 1)
	pending := true
	go c.lookup(ctx, settings)
	for {
		var units <-chan *hub.Unit
		if c.rd != nil {
			units = c.rd.C()
		}
		select {
		case <-ctx.Done():
			return
		case <-s.Done():
			return
		case <-tick.C:
			if !pending {
				pending = true
				go c.lookup(ctx, settings)
			}
		case r := <-settings:
			pending = false
			c.apply(ctx, r)
		case u, ok := <-units:
			if !ok {
				if !errors.Is(c.rd.Err(), hub.ErrOverflow) {
					return // the stream ended
				}
				c.w.m.overflow.Inc()
				c.log.Warn("motion detection fell behind the stream: reattaching")
				c.detach()
				c.attach()
				continue
			}
			c.feed(u)
		}
	}
}

// sleep waits d unless ctx or the stream ends first; it reports whether
// the wait ran out.
func sleep(ctx context.Context, s *hub.Stream, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-s.Done():
		return false
	case <-t.C:
		return true
	}
}

// lookupResult is a camera's setting as Lookup returned it.
type lookupResult struct {
	set Settings
	err error
}

// lookup reads the camera's setting into out.
func (c *camera) lookup(ctx context.Context, out chan<- lookupResult) {
	set, err := c.w.c.Lookup(ctx, c.s.CameraID)
	out <- lookupResult{set, err}
}

// apply attaches, retunes or detaches after a read of the setting.
func (c *camera) apply(ctx context.Context, r lookupResult) {
	if r.err != nil {
		if ctx.Err() == nil {
			c.log.Warn("motion detection: reading the camera's setting failed", "err", r.err)
		}
		return
	}
	c.set = r.set
	switch {
	case !r.set.Enabled:
		c.detach()
	case c.rd == nil:
		c.attach()
	default:
		c.det.SetSensitivity(r.set.Sensitivity)
	}
}

// attach starts reading the stream; a fresh detector learns the scene.
func (c *camera) attach() {
	rd, err := c.s.NewReader(c.w.c.ReaderBuffer)
	if err != nil {
		return // the stream ended; watch sees it
	}
	c.rd = rd
	c.det = New(c.set.Sensitivity)
	c.w.m.cameras.Inc()
	if c.w.attached != nil {
		c.w.attached(c.s.CameraID)
	}
}

// detach stops reading, closing an open event at the last frame seen.
func (c *camera) detach() {
	if c.rd == nil {
		return
	}
	c.rd.Close()
	c.rd = nil
	c.w.m.cameras.Dec()
	if e, ok := c.det.Flush(); ok {
		c.emit(e)
	}
}

// feed hands one unit of the video track to the detector.
func (c *camera) feed(u *hub.Unit) {
	if u.Track != c.track.ID {
		return
	}
	size := 0
	for _, p := range u.Payload {
		size += len(p)
	}
	at := mediaTime(u.DTS, c.track.ClockRate)
	if u.Key || c.base.IsZero() {
		// Media time is steady, the units' wall-clock times jitter with
		// arrival: anchor one on the other at keyframes.
		ntp := u.NTP
		if ntp.IsZero() {
			ntp = time.Now()
		}
		c.base = ntp.Add(-at)
	}
	if e, ok := c.det.Feed(at, size, u.Key); ok {
		if e.Open {
			c.sens = c.set.Sensitivity
			c.w.m.opened.Inc()
		}
		c.emit(e)
	}
}

// emit queues one edge for Emit as a Transition.
func (c *camera) emit(e Edge) {
	t := Transition{CameraID: c.s.CameraID, Open: e.Open, Start: c.base.Add(e.Start), Peak: e.Peak, Sensitivity: c.sens}
	if e.Open {
		c.openStart = t.Start
	} else {
		// The same start as the open said, whatever the anchor did since.
		t.Start, t.End = c.openStart, c.base.Add(e.End)
		if t.End.Before(t.Start) {
			t.End = t.Start
		}
	}
	c.log.Debug("motion", "open", t.Open, "start", t.Start, "end", t.End, "peak", t.Peak)
	c.w.queue <- t
}

// emitter hands the queued transitions to Emit one at a time, in order
// (so in order per camera), until the queue is closed. A close queued as
// the watcher stops is still handed on: ctx's values are kept, its end is
// not, and each Emit is bounded.
func (w *Watcher) emitter(ctx context.Context) {
	defer close(w.emitted)
	base := context.WithoutCancel(ctx)
	for t := range w.queue {
		ectx, cancel := context.WithTimeout(base, emitTimeout)
		w.c.Emit(ectx, t)
		cancel()
	}
}

// mediaTime converts a timestamp in clock units to a duration without
// overflowing for long streams.
func mediaTime(ticks int64, clock int) time.Duration {
	c := int64(clock)
	return time.Duration(ticks/c)*time.Second + time.Duration(ticks%c)*time.Second/time.Duration(c)
}
