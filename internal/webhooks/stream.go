package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
)

// Stream bounds.
const (
	// window is the most events of the zone's log one round reads past
	// the cursor; a failing event holds the cursor back, so at most this
	// many later ones are sent meanwhile.
	window = 200
	// maxPendingLog bounds the log rows kept while the directory cannot
	// be written.
	maxPendingLog = 1000
	// trimEvery is how many log rows a node writes for a webhook between
	// trims of its log to KeepDeliveries.
	trimEvery = 100
	// saveTimeout bounds the last save of a stopping stream.
	saveTimeout = 5 * time.Second
)

// streamKey names one webhook's delivery of one zone's events.
type streamKey struct{ webhook, zone string }

// stream delivers one zone's events to one webhook while this node holds
// its cursor's lease.
type stream struct {
	s      *Service
	key    streamKey
	hook   atomic.Pointer[hook]
	cancel context.CancelFunc
	done   chan struct{}
	wake   chan struct{} // the webhook changed
	// until is the lease's end (UnixNano) as last renewed.
	until   atomic.Int64
	backlog atomic.Int64

	// mu guards what follows while a round's sends and its flusher run.
	mu        sync.Mutex
	cur       store.WebhookCursor
	delivered map[int64]bool // sent past cur.Seq (this lease, or logged by an earlier holder)
	tries     map[int64]int  // attempts per event during this lease
	log       []store.WebhookDelivery
	lastSave  time.Time
	// unsaved is set while the last save failed (the directory is out
	// of reach): no new sends until one succeeds, since another node
	// would send them again.
	unsaved bool
}

// failure is the first failed send of a round.
type failure struct {
	d      store.WebhookDelivery
	camera string
}

// poke wakes the stream (its webhook changed).
func (st *stream) poke() {
	select {
	case st.wake <- struct{}{}:
	default:
	}
}

// leaseValid reports whether the lease still has a second to run.
func (st *stream) leaseValid() bool {
	return st.s.c.Now().Add(time.Second).UnixNano() < st.until.Load()
}

// renewDue reports whether a third of the lease has passed since the
// last save.
func (st *stream) renewDue() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.s.c.Now().Sub(st.lastSave) >= st.s.c.LeaseTTL/3
}

// run delivers from cursor c until ctx ends, the lease is lost or the
// webhook is turned off; then it saves and releases.
func (st *stream) run(ctx context.Context, c store.WebhookCursor) {
	s := st.s
	st.cur, st.delivered, st.tries, st.lastSave = c, map[int64]bool{}, map[int64]int{}, s.c.Now()
	st.preload(ctx)
	defer func() {
		s.mu.Lock()
		delete(s.streams, st.key)
		s.mu.Unlock()
		close(st.done)
	}()
	defer st.finish()
	for ctx.Err() == nil && st.leaseValid() {
		now := s.c.Now()
		if st.unsaved {
			if !st.sleep(ctx, 500*time.Millisecond, nil) || !st.save(ctx) {
				return
			}
			continue
		}
		if st.cur.NextAttempt.After(now) {
			wait := min(st.cur.NextAttempt.Sub(now), s.c.LeaseTTL/3)
			if !st.sleep(ctx, wait, nil) || st.renewDue() && !st.save(ctx) {
				return
			}
			continue
		}
		evs, head, changed, err := s.c.Events.Feed(ctx, st.key.zone, st.cur.Seq, window)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("webhooks: read zone log", "zone", st.key.zone, "err", err)
			}
			if !st.sleep(ctx, time.Second, nil) || st.renewDue() && !st.save(ctx) {
				return
			}
			continue
		}
		h := st.hook.Load()
		var pending []events.Event
		for _, e := range evs {
			if !st.delivered[e.Seq] && h.matches(e) {
				pending = append(pending, e)
			}
		}
		if len(pending) == 0 {
			st.advance(h, evs)
			st.backlog.Store(max(0, head-st.cur.Seq))
			if st.renewDue() && !st.save(ctx) {
				return
			}
			if len(evs) == window {
				continue
			}
			if !st.sleep(ctx, s.c.LeaseTTL/3, changed) {
				return
			}
			continue
		}
		if !st.round(ctx, h, evs, pending) {
			return
		}
		st.backlog.Store(max(0, head-st.cur.Seq))
	}
}

// preload marks delivered what an earlier holder of the lease logged as
// delivered past the cursor (it sends out of order across cameras, and
// saves its log more often than the cursor can move), so that a node
// taking over after a crash sends again only what was in flight or not
// yet logged.
func (st *stream) preload(ctx context.Context) {
	rows, err := st.s.c.Dir.ListWebhookDeliveries(ctx, st.key.webhook, nil, MaxDeliveries)
	if err != nil {
		st.s.log.Warn("webhooks: read delivery log", "webhook", st.key.webhook, "err", err)
		return
	}
	for _, d := range rows {
		if d.Zone == st.key.zone && d.Seq > st.cur.Seq && d.Status >= 200 && d.Status < 300 {
			st.delivered[d.Seq] = true
		}
	}
}

// sleep waits d, or until changed is closed or the webhook changes; false
// when ctx ended.
func (st *stream) sleep(ctx context.Context, d time.Duration, changed <-chan struct{}) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
	case <-changed:
	case <-st.wake:
	}
	return true
}

// advance moves the cursor over the events of evs, in order, that are
// delivered or that h does not want, and forgets what it passed; it
// reports whether the cursor moved.
func (st *stream) advance(h *hook, evs []events.Event) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	from := st.cur.Seq
	for _, e := range evs {
		if e.Seq <= st.cur.Seq {
			continue
		}
		if !st.delivered[e.Seq] && h.matches(e) {
			break
		}
		delete(st.delivered, e.Seq)
		delete(st.tries, e.Seq)
		st.cur.Seq = e.Seq
	}
	return st.cur.Seq != from
}

// round sends pending (the events of evs h wants, not yet delivered),
// moves the cursor, updates the retry state and saves; false when the
// stream must end.
func (st *stream) round(ctx context.Context, h *hook, evs, pending []events.Event) bool {
	s := st.s
	failed := st.deliver(ctx, h, evs, pending)
	st.advance(h, evs)
	now := s.c.Now()
	st.mu.Lock()
	if failed == nil {
		st.cur.Attempts, st.cur.FailingSince, st.cur.NextAttempt = 0, time.Time{}, time.Time{}
	} else {
		st.cur.Attempts++
		if st.cur.FailingSince.IsZero() {
			st.cur.FailingSince = failed.d.At
		}
		st.cur.NextAttempt = now.Add(s.backoff(st.cur.Attempts))
	}
	failingFor := now.Sub(st.cur.FailingSince)
	st.mu.Unlock()
	if !st.save(ctx) {
		return false
	}
	if failed != nil && failingFor >= s.c.DisableAfter {
		st.disable(ctx, h, *failed)
		return false
	}
	return true
}

// flushInterval is how often a round in progress saves what it has
// delivered (its log, and the cursor as far as it can move).
const flushInterval = 250 * time.Millisecond

// deliver sends pending, each camera's events one after another and up
// to Parallel cameras at once; a camera's first failure ends its turn.
// It stops starting sends a third of a lease after it began, and saves
// its progress every flushInterval meanwhile (which renews the lease).
// It returns the first failure, nil when every send succeeded.
func (st *stream) deliver(ctx context.Context, h *hook, evs, pending []events.Event) *failure {
	s := st.s
	var order []string
	lanes := map[string][]events.Event{}
	for _, e := range pending {
		if _, ok := lanes[e.CameraID]; !ok {
			order = append(order, e.CameraID)
		}
		lanes[e.CameraID] = append(lanes[e.CameraID], e)
	}
	// Sends are not cut off by ctx (a stopping node finishes them: a send
	// cut off may have arrived, and would be sent again by the next node);
	// each is bounded by Timeout.
	sendCtx := context.WithoutCancel(ctx)
	stopBy := s.c.Now().Add(s.c.LeaseTTL / 3)
	stopFlush := st.flushWhile(ctx, h, evs)
	var failed *failure
	sem := make(chan struct{}, s.c.Parallel)
	var wg sync.WaitGroup
	for _, cam := range order {
		sem <- struct{}{}
		wg.Add(1)
		go func(lane []events.Event) {
			defer wg.Done()
			defer func() { <-sem }()
			for _, e := range lane {
				st.mu.Lock()
				stop := st.unsaved || ctx.Err() != nil || !st.leaseValid() || s.c.Now().After(stopBy)
				if !stop {
					st.tries[e.Seq]++
				}
				n := st.tries[e.Seq]
				st.mu.Unlock()
				if stop {
					return
				}
				at := s.c.Now()
				r := s.send(sendCtx, h, eventBody(e), e.ID, e.Seq, n)
				d := store.WebhookDelivery{WebhookID: h.w.ID, ID: newID(), EventID: e.ID, EventType: e.Type, Zone: st.key.zone, Seq: e.Seq,
					Attempt: n, Status: r.Status, Duration: r.Duration, Error: r.Err, At: at.UTC(), Node: s.c.Node}
				if r.ok() {
					s.c.Meter.Add(st.key.zone, h.w.OrgID, e.CameraID, usage.WebhookDeliveries, 1)
					d.Lag = max(0, s.c.Now().Sub(eventTime(e)))
					s.m.lag.Observe(d.Lag.Seconds())
				}
				st.mu.Lock()
				st.addLog(d)
				if r.ok() {
					st.delivered[e.Seq] = true
				} else if failed == nil {
					failed = &failure{d: d, camera: e.CameraID}
				}
				st.mu.Unlock()
				if !r.ok() {
					return
				}
			}
		}(lanes[cam])
	}
	wg.Wait()
	stopFlush()
	return failed
}

// eventTime is when e happened as a delivery's lag counts it: its end
// for an ended ranged event (that is when this version of it was
// written), else its start.
func eventTime(e events.Event) time.Time {
	if !e.End.IsZero() {
		return e.End
	}
	return e.Start
}

// flushWhile saves the progress of the round over evs every
// flushInterval (when something was delivered, or a third of the lease
// passed) until the returned function is called.
func (st *stream) flushWhile(ctx context.Context, h *hook, evs []events.Event) func() {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(flushInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-ctx.Done():
				return
			case <-t.C:
			}
			moved := st.advance(h, evs)
			st.mu.Lock()
			due := moved || len(st.log) > 0
			st.mu.Unlock()
			if (due || st.renewDue()) && !st.save(ctx) {
				return
			}
		}
	}()
	return func() { close(stop); wg.Wait() }
}

// addLog queues a log row for the next save (bounded); st.mu is held.
func (st *stream) addLog(d store.WebhookDelivery) {
	if len(st.log) >= maxPendingLog {
		st.log = st.log[1:]
	}
	st.log = append(st.log, d)
}

// save writes the cursor, the queued log and a renewed lease; false when
// the lease is lost (or the webhook turned off or deleted). Other errors
// are logged and the stream goes on while its lease lasts, sending
// nothing new.
func (st *stream) save(ctx context.Context) bool {
	s := st.s
	if ctx.Err() != nil {
		return false // finish saves
	}
	st.mu.Lock()
	cur, log := st.cur, st.log
	st.log = nil
	st.mu.Unlock()
	until := s.c.Now().Add(s.c.LeaseTTL)
	err := s.c.Dir.SaveWebhookCursor(ctx, cur, s.c.Node, until, log)
	switch {
	case errors.Is(err, store.ErrNotFound):
		st.until.Store(0)
		return false
	case err != nil:
		st.mu.Lock()
		if !st.unsaved {
			s.log.Warn("webhooks: save cursor", "webhook", st.key.webhook, "zone", st.key.zone, "err", err)
		}
		st.unsaved = true
		st.log = append(log, st.log...)
		if n := len(st.log) - maxPendingLog; n > 0 {
			st.log = st.log[n:]
		}
		st.mu.Unlock()
		return true
	}
	st.mu.Lock()
	st.unsaved = false
	st.lastSave = s.c.Now()
	st.mu.Unlock()
	st.until.Store(until.UnixNano())
	s.trimLog(ctx, st.key.webhook, len(log))
	return true
}

// finish saves and releases the lease of a stream that ends.
func (st *stream) finish() {
	s := st.s
	if st.until.Load() == 0 {
		return // lost: nothing of ours to write
	}
	ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
	defer cancel()
	err := s.c.Dir.SaveWebhookCursor(ctx, st.cur, s.c.Node, s.c.Now().Add(s.c.LeaseTTL), st.log)
	if err == nil {
		err = s.c.Dir.ReleaseWebhookCursor(ctx, st.key.webhook, st.key.zone, s.c.Node)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.Warn("webhooks: release cursor", "webhook", st.key.webhook, "zone", st.key.zone, "err", err)
	}
}

// trimLog counts n log rows written for webhook id and trims its log to
// KeepDeliveries every trimEvery rows.
func (s *Service) trimLog(ctx context.Context, id string, n int) {
	if n == 0 {
		return
	}
	s.mu.Lock()
	s.trims[id] += n
	due := s.trims[id] >= trimEvery
	if due {
		delete(s.trims, id)
	}
	s.mu.Unlock()
	if due {
		if _, err := s.c.Dir.TrimWebhookDeliveries(ctx, id, s.c.KeepDeliveries); err != nil {
			s.log.Warn("webhooks: trim delivery log", "webhook", id, "err", err)
		}
	}
}

// disable turns the webhook off after failing for DisableAfter, records
// a webhook.disabled event on the camera whose event it could not take
// and audits it.
func (st *stream) disable(ctx context.Context, h *hook, f failure) {
	s := st.s
	// Turned off, the webhook's stream is stopped by the next scan: what
	// follows must not be cut off with it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	now := s.c.Now()
	reason := fmt.Sprintf("turned off after failing since %s (last: %s)", st.cur.FailingSince.UTC().Format(time.RFC3339), f.d.Error)
	ok, err := s.c.Dir.DisableWebhook(ctx, h.w.ID, reason, now)
	if err != nil || !ok {
		if err != nil {
			s.log.Error("webhooks: disable", "webhook", h.w.ID, "err", err)
		}
		return
	}
	st.until.Store(0) // its cursor can no longer be saved
	s.m.disabled.Inc()
	s.log.Warn("webhooks: webhook turned off after failing", "webhook", h.w.ID, "org", h.w.OrgID, "since", st.cur.FailingSince, "last", f.d.Error)
	cam := f.camera
	_, err = s.c.Events.Record(ctx, events.Event{CameraID: cam, Type: events.TypeWebhookDisabled, Source: events.SourceSystem,
		Detail: events.Detail(map[string]any{"webhook_id": h.w.ID, "failing_since": st.cur.FailingSince.UTC(),
			"last_status": f.d.Status, "last_error": f.d.Error, "attempts": st.cur.Attempts})})
	if err != nil {
		s.log.Error("webhooks: record webhook.disabled", "webhook", h.w.ID, "camera", cam, "err", err)
	}
	if s.c.Audit != nil {
		if _, err := s.c.Audit.Record(ctx, store.AuditEntry{Actor: "system", Action: "webhook.disable", Target: "webhook:" + h.w.ID,
			OrgID: h.w.OrgID, CameraID: cam, Detail: reason}); err != nil {
			s.log.Error("webhooks: audit webhook.disable", "webhook", h.w.ID, "err", err)
		}
	}
}
