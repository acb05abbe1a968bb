package camserver

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/store"
)

// Presence timing.
const (
	// DefaultOfflineDebounce is how long a camera must stay away before it
	// is offline, unless Config.OfflineDebounce says otherwise.
	DefaultOfflineDebounce = 5 * time.Second
	// staleStatus is how old an online camera's status may be before its
	// server counts as gone (statuses are refreshed every 5 s).
	staleStatus = 20 * time.Second
	// reconfirm is how often a camera held here has its presence checked
	// again (a presence made offline while its status could not be
	// written is set right within this).
	reconfirm = 30 * time.Second
	// serverAlive is how recent a server's heartbeat (every 5 s) must be.
	serverAlive = 15 * time.Second
)

// presence turns what this server sees of its cameras into events:
// camera.online when one connects after being offline, camera.offline
// when one stays away for the debounce, recording.gap while one that
// should be recorded is not, recording.storage while the spool is
// pressed. Online and offline are decided by the events service in one
// transaction with the zone's camera status, so a camera that moves to
// another server of the zone within the debounce makes no event, whoever
// looks first.
type presence struct {
	s        *Server
	ev       *events.Service
	debounce time.Duration

	mu        sync.Mutex
	stopped   bool
	timers    map[string]*time.Timer // offline checks due
	confirmed map[string]time.Time   // cameras held here: presence last confirmed online
	recState  map[string]string      // last recording state seen
	gaps      map[string]string      // open recording.gap event ids
	storage   map[string]string      // open recording.storage (spool) event ids
	pressed   bool
}

func newPresence(s *Server) *presence {
	d := s.c.OfflineDebounce
	if d <= 0 {
		d = DefaultOfflineDebounce
	}
	return &presence{s: s, ev: s.c.Events, debounce: d, timers: map[string]*time.Timer{}, confirmed: map[string]time.Time{},
		recState: map[string]string{}, gaps: map[string]string{}, storage: map[string]string{}}
}

// bg is a bounded context for event writes made outside a request.
func bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// warn logs a failed event write, unless the camera is gone.
func (p *presence) warn(what, cameraID string, err error) {
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		p.s.log.Warn("events: "+what, "camera", cameraID, "err", err)
	}
}

// online is called with every status report of a camera held here (at
// its connection, then every 5 s), after the status is written.
func (p *presence) online(cameraID string, info ingest.StreamInfo, state, reason string) {
	if p.ev == nil {
		return
	}
	now := time.Now()
	p.mu.Lock()
	if t := p.timers[cameraID]; t != nil {
		t.Stop()
		delete(p.timers, cameraID)
	}
	last, held := p.confirmed[cameraID]
	prev := p.recState[cameraID]
	p.recState[cameraID] = state
	gap := p.gaps[cameraID]
	p.mu.Unlock()
	ctx, cancel := bg()
	defer cancel()
	if !held {
		// Whatever an earlier holder left open (it died) ends now.
		for _, typ := range []string{events.TypeRecordingGap, events.TypeRecordingStorage} {
			_, err := p.ev.CloseOngoing(ctx, cameraID, typ, now)
			p.warn("close ongoing events", cameraID, err)
		}
	}
	if !held || now.Sub(last) > reconfirm {
		_, err := p.ev.MarkOnline(ctx, cameraID, p.s.c.ServerID, now, events.Detail(map[string]string{
			"server": p.s.c.ServerID, "protocol": info.Protocol}))
		p.warn("camera online", cameraID, err)
		if err == nil {
			p.mu.Lock()
			p.confirmed[cameraID] = now
			p.mu.Unlock()
		}
	}
	p.recording(ctx, cameraID, prev, state, reason, gap, now)
}

// recording opens a recording.gap when a recorded camera stops being
// recorded while connected, and closes it when recording resumes or is
// turned off.
func (p *presence) recording(ctx context.Context, cameraID, prev, state, reason, gap string, now time.Time) {
	switch {
	case gap == "" && prev == store.RecordingOn && (state == store.RecordingWaiting || state == store.RecordingFailing):
		start, _ := p.s.rec.LastRecorded(cameraID)
		if start.IsZero() || start.After(now) {
			start = now
		}
		id, err := p.ev.Open(ctx, events.Event{CameraID: cameraID, Type: events.TypeRecordingGap, Start: start,
			Detail: events.Detail(map[string]string{"state": state, "reason": reason, "server": p.s.c.ServerID})})
		p.warn("open recording gap", cameraID, err)
		if err == nil {
			p.mu.Lock()
			p.gaps[cameraID] = id
			p.mu.Unlock()
		}
	case gap != "" && (state == store.RecordingOn || state == store.RecordingOff):
		p.closeGap(ctx, cameraID, gap, now)
	}
}

// closeGap ends an open recording.gap.
func (p *presence) closeGap(ctx context.Context, cameraID, id string, at time.Time) {
	p.mu.Lock()
	if p.gaps[cameraID] == id {
		delete(p.gaps, cameraID)
	}
	p.mu.Unlock()
	p.warn("close recording gap", cameraID, p.ev.Close(ctx, id, at))
}

// offline is called when a camera held here disconnects (and no other
// publish of it took over here), after its status is written with
// lastSeen, when its media last flowed: its recording gap ends, and it is
// checked again once the debounce from lastSeen is over (at once for a
// publish dropped as stalled, which was quiet for longer).
func (p *presence) offline(cameraID string, lastSeen time.Time) {
	if p.ev == nil {
		return
	}
	now := time.Now()
	due := p.debounce
	if !lastSeen.IsZero() && lastSeen.Before(now) {
		due = max(lastSeen.Add(p.debounce).Sub(now), 0)
	}
	p.mu.Lock()
	delete(p.confirmed, cameraID)
	delete(p.recState, cameraID)
	gap := p.gaps[cameraID]
	p.scheduleLocked(cameraID, due)
	p.mu.Unlock()
	if gap != "" {
		ctx, cancel := bg()
		defer cancel()
		p.closeGap(ctx, cameraID, gap, now)
	}
}

// scheduleLocked (p.mu held) checks cameraID after d.
func (p *presence) scheduleLocked(cameraID string, d time.Duration) {
	if p.stopped {
		return
	}
	if t := p.timers[cameraID]; t != nil {
		t.Stop()
	}
	p.timers[cameraID] = time.AfterFunc(d+100*time.Millisecond, func() { p.check(cameraID) })
}

// grace is how long cameraID, last held by server, may stay away before
// it is offline: the debounce, and a lease's time more when that server
// is draining or gone (its cameras are being taken over by others).
func (p *presence) grace(server string, alive map[string]store.Server) time.Duration {
	if sv, ok := alive[server]; server != "" && (!ok || sv.Draining) {
		return p.debounce + p.s.c.LeaseTTL
	}
	return p.debounce
}

// aliveServers returns the zone's servers with a recent heartbeat.
func (p *presence) aliveServers(ctx context.Context, now time.Time) map[string]store.Server {
	out := map[string]store.Server{}
	list, err := p.s.c.Zone.DB.ListServers(ctx, now.Add(-serverAlive))
	if err != nil {
		p.s.log.Warn("events: list servers", "err", err)
	}
	for _, sv := range list {
		out[sv.ID] = sv
	}
	return out
}

// check makes cameraID offline if it is still away once its grace is
// over, and looks again later while it is away but not for long enough.
func (p *presence) check(cameraID string) {
	p.mu.Lock()
	delete(p.timers, cameraID)
	p.mu.Unlock()
	ctx, cancel := bg()
	defer cancel()
	now := time.Now()
	pr, err := p.ev.Presence(ctx, p.s.c.Zone.Name, cameraID)
	if err != nil {
		p.warn("read presence", cameraID, err)
		return // the sweep looks again
	}
	if pr.State != store.PresenceOnline {
		return
	}
	g := p.grace(pr.Server, p.aliveServers(ctx, now))
	_, st, err := p.markOffline(ctx, cameraID, pr.Server, now, g)
	if err == nil && !st.Online && st.LastSeen.After(now.Add(-g)) {
		p.mu.Lock()
		p.scheduleLocked(cameraID, st.LastSeen.Add(g).Sub(now))
		p.mu.Unlock()
	}
}

// markOffline asks the events service to make cameraID offline if it has
// been away for g (or its status is stale).
func (p *presence) markOffline(ctx context.Context, cameraID, server string, now time.Time, g time.Duration) (bool, store.CameraStatus, error) {
	reason := "disconnected"
	if g > p.debounce {
		reason = "server_gone"
	}
	changed, st, err := p.ev.MarkOffline(ctx, cameraID, now.Add(-g), now.Add(-staleStatus),
		events.Detail(map[string]string{"reason": reason, "server": server}))
	if errors.Is(err, store.ErrNotFound) {
		// The camera was deleted: forget it.
		err = p.ev.ForgetPresence(ctx, p.s.c.Zone.Name, cameraID)
	}
	p.warn("camera offline", cameraID, err)
	return changed, st, err
}

// sweep finds the zone's cameras announced online that are gone, however
// they went (their server died, a check was missed), and makes those away
// for long enough offline. Every camera server of the zone sweeps; the
// events service's transaction makes one event of each change.
func (p *presence) sweep(ctx context.Context) {
	if p.ev == nil {
		return
	}
	now := time.Now()
	away, err := p.ev.AwayCameras(ctx, p.s.c.Zone.Name, now.Add(-p.debounce), now.Add(-staleStatus), 1000)
	if err != nil {
		if ctx.Err() == nil {
			p.s.log.Warn("events: presence sweep", "err", err)
		}
		return
	}
	if len(away) == 0 {
		return
	}
	alive := p.aliveServers(ctx, now)
	for _, a := range away {
		cam := a.Presence.CameraID
		if p.s.c.Hub.Get(cam) != nil {
			continue // held here: its next report settles it
		}
		g := p.grace(a.Presence.Server, alive)
		if !a.Status.Online && a.Status.LastSeen.After(now.Add(-g)) {
			continue
		}
		_, _, _ = p.markOffline(ctx, cam, a.Presence.Server, now, g)
	}
}

// spool opens a recording.storage event for every camera held here when
// the spool passes 3/4 of its bound (uploads are not keeping up: the
// store is slow or down, and the oldest video will be dropped when it is
// full), and closes them when it is back under half.
func (p *presence) spool() {
	max := p.s.c.MaxSpoolBytes
	if p.ev == nil || max <= 0 {
		return
	}
	_, used := p.s.rec.Pending()
	p.mu.Lock()
	pressed := p.pressed
	p.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	now := time.Now()
	switch {
	case !pressed && used > max/4*3:
		p.s.log.Warn("spool under pressure: recording.storage events opened", "spool_bytes", used, "max_spool_bytes", max)
		opened := map[string]string{}
		for _, cam := range p.s.c.Hub.Cameras() {
			id, err := p.ev.Open(ctx, events.Event{CameraID: cam, Type: events.TypeRecordingStorage, Start: now,
				Detail: events.Detail(map[string]any{"reason": "spool_pressure", "server": p.s.c.ServerID, "spool_bytes": used, "max_spool_bytes": max})})
			p.warn("open recording.storage", cam, err)
			if err == nil {
				opened[cam] = id
			}
		}
		p.mu.Lock()
		p.pressed = true
		p.storage = opened
		p.mu.Unlock()
	case pressed && used < max/2:
		p.mu.Lock()
		open := p.storage
		p.pressed, p.storage = false, map[string]string{}
		p.mu.Unlock()
		for cam, id := range open {
			p.warn("close recording.storage", cam, p.ev.Close(ctx, id, now))
		}
	}
}

// spoolDrop records the recorded video lost when the spool was full and
// dropped a segment that was never uploaded: a recording.gap over the
// segment's range, with the reason, so that the hole in the timeline is
// explained (and the spool's pressure event says why).
func (p *presence) spoolDrop(cameraID string, start, end time.Time) {
	p.lostVideo(cameraID, start, end, "spool_full")
}

// lostVideo records a recording.gap over video lost on its way to the
// store: a segment the full spool dropped (spool_full), or new video it had
// no room for (record.ReasonSpoolFullNew) or could not write
// (record.ReasonSpoolError). The spool and the recorder call it on the
// recording path, so the event is written on a goroutine of its own.
func (p *presence) lostVideo(cameraID string, start, end time.Time, reason string) {
	if p.ev == nil {
		return
	}
	go func() {
		ctx, cancel := bg()
		defer cancel()
		_, err := p.ev.Record(ctx, events.Event{CameraID: cameraID, Type: events.TypeRecordingGap, Start: start, End: end,
			Detail: events.Detail(map[string]any{"reason": reason, "server": p.s.c.ServerID,
				"max_spool_bytes": p.s.c.MaxSpoolBytes})})
		p.warn("record recording.gap", cameraID, err)
	}()
}

// diskPressure records that retention deleted a camera's recordings
// early for free disk space.
func (p *presence) diskPressure(cameraID string, segments int, from, to time.Time) {
	if p.ev == nil {
		return
	}
	ctx, cancel := bg()
	defer cancel()
	_, err := p.ev.Record(ctx, events.Event{CameraID: cameraID, Type: events.TypeRecordingStorage,
		Detail: events.Detail(map[string]any{"reason": "disk_pressure", "deleted_segments": segments,
			"deleted_from": from.UTC(), "deleted_to": to.UTC(), "min_free_bytes": p.s.c.MinFreeBytes})})
	p.warn("record recording.storage", cameraID, err)
}

// stop cancels the checks due; other servers' sweeps take over.
func (p *presence) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopped = true
	for id, t := range p.timers {
		t.Stop()
		delete(p.timers, id)
	}
}
