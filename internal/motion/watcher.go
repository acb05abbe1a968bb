package motion

import (
	"context"
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
	defaultAttachDelay = 5 * time.Second
	defaultRefresh     = time.Minute
	emitTimeout        = 10 * time.Second
	// emitQueue is the room of the transitions queue: when Emit is slower
	// than the cameras' events for that long, the cameras' goroutines
	// wait (never the streams: edges wait in each camera's ring).
	emitQueue = 1024
	// edgeRing is the room for one camera's edges between the stream's
	// writes and its goroutine: edges come at least half a second apart,
	// so it is full only when the goroutine did not run for many seconds;
	// an edge that finds it full is dropped and counted.
	edgeRing = 16
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Lookup returns a camera's setting; an error leaves the camera
	// unwatched until the next Refresh.
	Lookup func(ctx context.Context, cameraID string) (Settings, error)
	// Emit receives every open and close, in order, from one goroutine
	// of the watcher (each call bounded by a 10 s context); while it runs
	// the next transitions wait in a queue, and when the queue is full the
	// cameras' goroutines wait.
	Emit func(ctx context.Context, t Transition)
	// AttachDelay is how long after a publish the watcher starts looking
	// at the stream's frames (default 5 s): the first seconds of a publish
	// are often a camera settling. Negative: at once.
	AttachDelay time.Duration
	// Refresh is how often a camera's setting is read again (default 1 min).
	Refresh time.Duration
	Log     *slog.Logger
	// Registerer, when set, gets the camcloud_motion_* series.
	Registerer prometheus.Registerer
}

// Watcher runs a Detector on the video of every stream published on a hub
// whose camera has motion detection enabled, and emits the transitions.
// It sees the frames as the hub's Observer (see Observe, and
// hub.NewObserved): inside the stream's write, with no reader or queue of
// frames of its own.
type Watcher struct {
	c  WatcherConfig
	m  *metrics
	wg sync.WaitGroup
	// queue carries the transitions to the emitter; emitted is closed
	// when it has handed on the last one.
	queue   chan Transition
	emitted chan struct{}

	mu       sync.Mutex
	ctx      context.Context // set by Start: streams published before are not watched
	stopped  bool            // Wait closed the queue: no stream goroutine may start
	stopOnce sync.Once
	// attached, when set (tests), is called once a stream's frames are
	// looked at.
	attached func(cameraID string)
}

// NewWatcher returns a watcher; Start starts it, and Observe, given to
// hub.NewObserved, hands it the hub's streams. It fails only when its
// metrics cannot be registered.
func NewWatcher(c WatcherConfig) (*Watcher, error) {
	if c.AttachDelay == 0 {
		c.AttachDelay = defaultAttachDelay
	}
	if c.Refresh <= 0 {
		c.Refresh = defaultRefresh
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
	w.mu.Lock()
	w.ctx = ctx
	w.mu.Unlock()
	go w.emitter(ctx)
	w.wg.Add(1) // held until ctx ends, so that Wait can close the queue
	go func() { <-ctx.Done(); w.wg.Done() }()
}

// Observe is the hub's observer factory (hub.NewObserved): for a stream
// with a video track, published while the watcher runs, it starts the
// camera's goroutine (its setting, its events) and returns what sees the
// stream's frames; nil otherwise.
func (w *Watcher) Observe(s *hub.Stream) hub.Observer {
	var track hub.Track
	found := false
	for _, t := range s.Tracks {
		if t.IsVideo() && t.ClockRate > 0 {
			track, found = t, true
			break
		}
	}
	if !found {
		return nil
	}
	ctx := w.join()
	if ctx == nil {
		return nil
	}
	c := &camera{w: w, s: s, track: track, log: w.c.Log.With("camera", s.CameraID), wake: make(chan struct{}, 1)}
	go func() {
		defer w.wg.Done()
		c.watch(ctx)
	}()
	return c
}

// join counts one more stream goroutine and returns the watcher's context,
// unless it is not started, ended or stopped (nil).
func (w *Watcher) join() context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.ctx == nil || w.ctx.Err() != nil || w.stopped {
		return nil
	}
	w.wg.Add(1)
	return w.ctx
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

// camera is the watch of one stream: Observe runs its detector on the
// stream's writes; its goroutine (watch) reads the setting and hands the
// edges on.
type camera struct {
	w     *Watcher
	s     *hub.Stream
	track hub.Track
	log   *slog.Logger
	wake  chan struct{} // a token when edges wait in the ring

	// mu guards what follows, between Observe (the stream's writes) and
	// the goroutine; each holds it for a few hundred nanoseconds.
	mu  sync.Mutex
	on  bool // looking at the frames (enabled, attach delay over)
	set Settings
	det *Detector
	// sens is the sensitivity of the open event; base the wall-clock time
	// of media time zero; openStart the Start of the open event, repeated
	// by its close.
	sens      int
	base      time.Time
	openStart time.Time
	ring      [edgeRing]Transition // edges for the goroutine
	head, n   int
}

// watch follows the stream until it ends or ctx ends: it reads the
// setting on its own beat and hands the edges Observe found to the
// watcher's emitter. Nothing here holds up the stream.
func (c *camera) watch(ctx context.Context) {
	if !sleep(ctx, c.s, c.w.c.AttachDelay) {
		return
	}
	defer c.detach()
	// Every camera reads its setting on its own beat (Refresh, give or
	// take a fifth), so that cameras published together do not all ask
	// the database at once.
	every := c.w.c.Refresh - c.w.c.Refresh/5 + rand.N(2*c.w.c.Refresh/5+1)
	tick := time.NewTicker(every)
	defer tick.Stop()
	settings := make(chan lookupResult, 1)
	pending := true
	go c.lookup(ctx, settings)
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.s.Done():
			return
		case <-tick.C:
			if !pending {
				pending = true
				go c.lookup(ctx, settings)
			}
		case r := <-settings:
			pending = false
			c.apply(ctx, r)
		case <-c.wake:
			c.handOn()
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
	if !r.set.Enabled {
		c.detach()
		return
	}
	c.mu.Lock()
	c.set = r.set
	attach := !c.on
	if attach {
		// A fresh detector learns the scene.
		c.det, c.base, c.on = New(r.set.Sensitivity), time.Time{}, true
	} else {
		c.det.SetSensitivity(r.set.Sensitivity)
	}
	c.mu.Unlock()
	if attach {
		c.w.m.cameras.Inc()
		if c.w.attached != nil {
			c.w.attached(c.s.CameraID)
		}
	}
}

// detach stops looking at the frames, closing an open event at the last
// frame seen, and hands on what is left.
func (c *camera) detach() {
	c.mu.Lock()
	was := c.on
	if was {
		c.on = false
		if e, ok := c.det.Flush(); ok {
			c.push(e)
		}
	}
	c.mu.Unlock()
	if was {
		c.w.m.cameras.Dec()
	}
	c.handOn()
}

// Observe takes one unit of the stream, inside its write: the size of a
// video frame goes to the detector, and an edge to the ring. It is O(1)
// (a sum over the unit's NAL units) and allocates nothing.
func (c *camera) Observe(u *hub.Unit) {
	if u.Track != c.track.ID {
		return
	}
	size := 0
	for _, p := range u.Payload {
		size += len(p)
	}
	at := mediaTime(u.DTS, c.track.ClockRate)
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.on {
		return
	}
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
		}
		c.push(e)
		select {
		case c.wake <- struct{}{}:
		default: // a token is already there
		}
	}
}

// push turns an edge into a Transition in the ring; c.mu is held. An edge
// that finds the ring full is dropped and counted.
func (c *camera) push(e Edge) {
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
	if c.n == len(c.ring) {
		c.w.m.overflow.Inc()
		return
	}
	c.ring[(c.head+c.n)%len(c.ring)] = t
	c.n++
}

// handOn moves the edges in the ring to the watcher's emitter, in order;
// it may wait for room in the emitter's queue (never holding c.mu).
func (c *camera) handOn() {
	for {
		c.mu.Lock()
		if c.n == 0 {
			c.mu.Unlock()
			return
		}
		t := c.ring[c.head]
		c.head, c.n = (c.head+1)%len(c.ring), c.n-1
		c.mu.Unlock()
		if t.Open {
			c.w.m.opened.Inc()
		}
		c.log.Debug("motion", "open", t.Open, "start", t.Start, "end", t.End, "peak", t.Peak)
		c.w.queue <- t
	}
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
