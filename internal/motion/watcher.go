package motion

import (
	"context"
	"errors"
	"log/slog"
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
	defaultReaderBuffer = 512
	emitTimeout         = 10 * time.Second
)

// WatcherConfig configures a Watcher.
type WatcherConfig struct {
	// Hub is where cameras publish.
	Hub *hub.Hub
	// Lookup returns a camera's setting; an error leaves the camera
	// unwatched until the next Refresh.
	Lookup func(ctx context.Context, cameraID string) (Settings, error)
	// Emit receives every open and close, in order per camera, from the
	// camera's own goroutine: while it runs the camera's units wait in the
	// hub reader's buffer (ReaderBuffer), so it should not take seconds.
	Emit func(ctx context.Context, t Transition)
	// AttachDelay is how long after a publish the watcher attaches its
	// reader (default 5 s). The hub hands the units written before the
	// first reader attached to that reader, which must be the recorder;
	// the detector learns the scene for its first seconds anyway. Negative:
	// attach at once.
	AttachDelay time.Duration
	// Refresh is how often a camera's setting is read again (default 1 min).
	Refresh time.Duration
	// ReaderBuffer is the hub reader's room in units (default 512: about
	// 7 s of 25 fps video with AAC). A watcher that falls further behind is
	// dropped by the hub, and reattaches.
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
	return &Watcher{c: c, m: m}, nil
}

// Start watches every stream published from now on until ctx ends.
func (w *Watcher) Start(ctx context.Context) {
	w.c.Hub.OnPublish(func(s *hub.Stream) {
		if ctx.Err() != nil {
			return
		}
		w.wg.Add(1)
		defer w.wg.Done()
		w.watch(ctx, s)
	})
}

// Wait waits for the streams' goroutines to end after the context of
// Start ended (their open events closed).
func (w *Watcher) Wait() { w.wg.Wait() }

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

// watch follows s until it ends or ctx ends.
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
	tick := time.NewTicker(w.c.Refresh)
	defer tick.Stop()
	defer c.detach(ctx)
	c.refresh(ctx)
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
			c.refresh(ctx)
		case u, ok := <-units:
			if !ok {
				if !errors.Is(c.rd.Err(), hub.ErrOverflow) {
					return // the stream ended
				}
				c.w.m.overflow.Inc()
				c.log.Warn("motion detection fell behind the stream: reattaching")
				c.detach(ctx)
				c.attach()
				continue
			}
			c.feed(ctx, u)
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

// refresh reads the camera's setting and attaches, retunes or detaches.
func (c *camera) refresh(ctx context.Context) {
	set, err := c.lookup(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("motion detection: reading the camera's setting failed", "err", err)
		}
		return
	}
	c.set = set
	switch {
	case !set.Enabled:
		c.detach(ctx)
	case c.rd == nil:
		c.attach()
	default:
		c.det.SetSensitivity(set.Sensitivity)
	}
}

// lookup runs Lookup on a goroutine of its own and waits for it: a
// database call needs a deep stack, which the camera's long-lived
// goroutine would then keep (a few tens of KB per camera).
func (c *camera) lookup(ctx context.Context) (Settings, error) {
	type result struct {
		set Settings
		err error
	}
	ch := make(chan result, 1)
	go func() {
		set, err := c.w.c.Lookup(ctx, c.s.CameraID)
		ch <- result{set, err}
	}()
	r := <-ch
	return r.set, r.err
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
func (c *camera) detach(ctx context.Context) {
	if c.rd == nil {
		return
	}
	c.rd.Close()
	c.rd = nil
	c.w.m.cameras.Dec()
	if e, ok := c.det.Flush(); ok {
		c.emit(ctx, e)
	}
}

// feed hands one unit of the video track to the detector.
func (c *camera) feed(ctx context.Context, u *hub.Unit) {
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
		c.emit(ctx, e)
	}
}

// emit hands one edge to Emit as a Transition. It runs even as ctx ends
// (an event still open when the server stops is closed), bounded.
func (c *camera) emit(ctx context.Context, e Edge) {
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
	ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), emitTimeout)
	defer cancel()
	c.w.c.Emit(ectx, t)
}

// mediaTime converts a timestamp in clock units to a duration without
// overflowing for long streams.
func mediaTime(ticks int64, clock int) time.Duration {
	c := int64(clock)
	return time.Duration(ticks/c)*time.Second + time.Duration(ticks%c)*time.Second/time.Duration(c)
}
