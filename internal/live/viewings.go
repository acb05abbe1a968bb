package live

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// Bounds of the coalescing of media.live audit entries.
const (
	// ViewingIdle is how long a viewing stays open without a hand-out of
	// live URLs to its viewer; players ask again every ViewingPing while
	// they play, so a viewing ends about this long after its player did.
	ViewingIdle = 3 * time.Minute
	// ViewingPing is how often the UI's players ask for live URLs again
	// while they play (web/static/js/player.js), which keeps a viewing open.
	ViewingPing = time.Minute
	// maxViewings bounds the viewings open on one api node; past it a
	// hand-out is audited at once, on its own, as before coalescing.
	maxViewings = 20000
)

// viewKey is one viewer (a login session or an API key) watching one
// camera.
type viewKey struct{ viewer, camera string }

// viewing is a viewer's live view of one camera, from the first hand-out
// of its live URLs to the last.
type viewing struct {
	entry       store.AuditEntry
	first, last time.Time
	handouts    int
}

// viewings coalesces the hand-outs of live URLs into one media.live
// audit entry per viewer and camera: a grid of 16 tiles, reloaded or
// paged, writes one entry per camera with how long it was watched, not one
// per tile per visit. An entry is written when its viewing has had no
// hand-out for ViewingIdle, and every open one when the node stops.
type viewings struct {
	write func(context.Context, store.AuditEntry)
	now   func() time.Time
	idle  time.Duration

	mu     sync.Mutex
	open   map[viewKey]*viewing
	stop   chan struct{}
	done   chan struct{}
	closed bool
}

// newViewings starts the sweeper that ends idle viewings; close stops it.
func newViewings(write func(context.Context, store.AuditEntry), now func() time.Time, idle time.Duration) *viewings {
	v := &viewings{write: write, now: now, idle: idle, open: map[viewKey]*viewing{}, stop: make(chan struct{}), done: make(chan struct{})}
	go v.sweeper()
	return v
}

// handout notes that viewer was given camera's live URLs; e is the audit
// entry of the hand-out (action media.live).
func (v *viewings) handout(ctx context.Context, viewer string, e store.AuditEntry) {
	now := v.now()
	k := viewKey{viewer, e.CameraID}
	v.mu.Lock()
	if w := v.open[k]; w != nil {
		w.last, w.entry.Address = now, e.Address
		w.handouts++
		v.mu.Unlock()
		return
	}
	if !v.closed && viewer != "" && len(v.open) < maxViewings {
		v.open[k] = &viewing{entry: e, first: now, last: now, handouts: 1}
		v.mu.Unlock()
		return
	}
	v.mu.Unlock()
	e.Detail = "live URLs handed out (not coalesced: too many viewings open, or the node stopping)"
	v.write(ctx, e)
}

// sweeper ends the viewings idle for v.idle, checking every idle/6.
func (v *viewings) sweeper() {
	defer close(v.done)
	t := time.NewTicker(max(v.idle/6, 10*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-v.stop:
			return
		case <-t.C:
			v.flush(v.now().Add(-v.idle))
		}
	}
}

// flush writes and forgets the viewings whose last hand-out is at or
// before idleBefore (every one for the zero time's opposite, see close).
func (v *viewings) flush(idleBefore time.Time) {
	v.mu.Lock()
	var ended []*viewing
	for k, w := range v.open {
		if !w.last.After(idleBefore) {
			ended = append(ended, w)
			delete(v.open, k)
		}
	}
	v.mu.Unlock()
	for _, w := range ended {
		e := w.entry
		e.Detail = viewingDetail(w)
		v.write(context.Background(), e)
	}
}

// viewingDetail says how long a viewing lasted: from the first hand-out
// to the last, which players repeat every ViewingPing while they play.
func viewingDetail(w *viewing) string {
	d := w.last.Sub(w.first).Round(time.Second)
	return fmt.Sprintf("watched live for %s (from %s to %s UTC, %d URL hand-outs)", d,
		w.first.UTC().Format(time.DateTime), w.last.UTC().Format(time.DateTime), w.handouts)
}

// close stops the sweeper and writes every open viewing.
func (v *viewings) close() {
	v.mu.Lock()
	if v.closed {
		v.mu.Unlock()
		return
	}
	v.closed = true
	v.mu.Unlock()
	close(v.stop)
	<-v.done
	v.flush(time.Unix(1<<40, 0))
}
