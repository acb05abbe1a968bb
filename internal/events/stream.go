package events

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Fan-out bounds.
const (
	// ringSize is how many recent events of each zone a process keeps for
	// its subscribers; one further behind reads the zone DB until it is
	// within them again.
	ringSize = 4096
	// tailBatch is the most events one read of a zone's log takes.
	tailBatch = 1000
	// maxDeliveries is the most events one Next returns.
	maxDeliveries = 500
)

// errClosed ends subscriptions of a closed service.
var errClosed = errors.New("events: service closed")

// broker tails each zone's log once per process, while anybody
// subscribes, into a ring of recent events that every subscription reads.
type broker struct {
	s           *Service
	subscribers prometheus.Gauge

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	zones   map[string]*zoneTail
	changed chan struct{} // closed and replaced when a zone's head moves
	perUser map[string]int
	perOrg  map[string]int
}

// zoneTail is what a process knows of one zone's recent log.
type zoneTail struct {
	ring []Event // by seq: every event with base < seq <= head
	base int64
	head int64
	poke chan struct{}
}

func newBroker(s *Service) *broker {
	ctx, cancel := context.WithCancel(context.Background())
	return &broker{s: s, ctx: ctx, cancel: cancel, zones: map[string]*zoneTail{}, changed: make(chan struct{}),
		perUser: map[string]int{}, perOrg: map[string]int{},
		subscribers: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "camcloud", Subsystem: "events", Name: "stream_subscribers",
			Help: "Event streams (SSE) open on this process."})}
}

func (b *broker) close() {
	b.cancel()
	b.wg.Wait()
}

// poke makes zone zn's tailer read now (an event was written here).
func (b *broker) poke(zn string) {
	b.mu.Lock()
	zt := b.zones[zn]
	b.mu.Unlock()
	if zt != nil {
		select {
		case zt.poke <- struct{}{}:
		default:
		}
	}
}

// follow starts the tailer of every zone not followed yet; a tailer
// starts at the zone's current head.
func (b *broker) follow(ctx context.Context) error {
	for _, zn := range b.s.Zones() {
		b.mu.Lock()
		_, ok := b.zones[zn]
		b.mu.Unlock()
		if ok {
			continue
		}
		head, err := b.s.Head(ctx, zn)
		if err != nil {
			return err
		}
		b.mu.Lock()
		if _, ok := b.zones[zn]; !ok && b.ctx.Err() == nil {
			zt := &zoneTail{base: head, head: head, poke: make(chan struct{}, 1)}
			b.zones[zn] = zt
			b.wg.Add(1)
			go b.tail(zn, zt)
		}
		b.mu.Unlock()
	}
	return nil
}

// tail reads zone zn's log every PollInterval, or at once when poked.
func (b *broker) tail(zn string, zt *zoneTail) {
	defer b.wg.Done()
	t := time.NewTicker(b.s.c.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
		case <-zt.poke:
		}
		for {
			b.mu.Lock()
			head := zt.head
			b.mu.Unlock()
			evs, err := b.s.Tail(b.ctx, zn, head, tailBatch)
			if err != nil {
				if b.ctx.Err() == nil {
					b.s.log.Warn("events: tail zone", "zone", zn, "err", err)
				}
				break
			}
			if len(evs) == 0 {
				break
			}
			b.mu.Lock()
			zt.ring = append(zt.ring, evs...)
			zt.head = evs[len(evs)-1].Seq
			if len(zt.ring) > 2*ringSize {
				drop := len(zt.ring) - ringSize
				zt.base = zt.ring[drop-1].Seq
				zt.ring = append([]Event(nil), zt.ring[drop:]...)
			}
			close(b.changed)
			b.changed = make(chan struct{})
			b.mu.Unlock()
			if len(evs) < tailBatch {
				break
			}
		}
	}
}

// since returns up to max events of zone zn after seq from the ring, and
// false when the ring no longer reaches back to seq.
func (b *broker) since(zn string, seq int64, max int) ([]Event, int64, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	zt := b.zones[zn]
	if zt == nil {
		return nil, seq, true
	}
	if seq < zt.base {
		return nil, zt.head, false
	}
	i := sort.Search(len(zt.ring), func(i int) bool { return zt.ring[i].Seq > seq })
	n := min(len(zt.ring)-i, max)
	return append([]Event(nil), zt.ring[i:i+n]...), zt.head, true
}

// StreamFilter narrows a subscription; zero fields do not filter.
type StreamFilter struct {
	CameraID string
	Types    []string
}

// Delivery is one event of a stream, with the stream position after it
// (what a client sends back as Last-Event-ID to resume there).
type Delivery struct {
	Event Event
	ID    string
}

// Subscription is one open stream of the events a principal may see.
type Subscription struct {
	b      *broker
	p      *authz.Principal
	f      StreamFilter
	cursor map[string]int64
	orgs   []string
	once   sync.Once
}

// Subscribe opens a stream of the events p may see (those of cameras of
// its organisations that authz lets it view) that match f, from the
// position lastEventID (a Delivery.ID; "" for events from now on). At
// most Config.MaxStreamsPerUser streams per user and MaxStreamsPerOrg per
// organisation are open at once on this process (ErrTooManyStreams).
// Close it when done.
func (s *Service) Subscribe(ctx context.Context, p *authz.Principal, f StreamFilter, lastEventID string) (*Subscription, error) {
	if len(f.Types) > MaxTypes {
		return nil, invalid("at most %d types", MaxTypes)
	}
	for _, t := range f.Types {
		if !ValidType(t) {
			return nil, invalid("unknown event type %q", t)
		}
	}
	resume, err := parsePosition(lastEventID)
	if err != nil {
		return nil, err
	}
	b := s.broker
	if err := b.follow(ctx); err != nil {
		return nil, err
	}
	sub := &Subscription{b: b, p: p, f: f, cursor: map[string]int64{}, orgs: p.Orgs()}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.perUser[p.UserID] >= s.c.MaxStreamsPerUser {
		return nil, ErrTooManyStreams
	}
	for _, o := range sub.orgs {
		if b.perOrg[o] >= s.c.MaxStreamsPerOrg {
			return nil, ErrTooManyStreams
		}
	}
	b.perUser[p.UserID]++
	for _, o := range sub.orgs {
		b.perOrg[o]++
	}
	b.subscribers.Inc()
	for zn, zt := range b.zones {
		c, ok := resume[zn]
		if !ok || c > zt.head {
			c = zt.head
		}
		sub.cursor[zn] = c
	}
	return sub, nil
}

// Close ends the subscription.
func (sub *Subscription) Close() {
	sub.once.Do(func() {
		b := sub.b
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.perUser[sub.p.UserID]--; b.perUser[sub.p.UserID] <= 0 {
			delete(b.perUser, sub.p.UserID)
		}
		for _, o := range sub.orgs {
			if b.perOrg[o]--; b.perOrg[o] <= 0 {
				delete(b.perOrg, o)
			}
		}
		b.subscribers.Dec()
	})
}

// Next waits up to wait for events of the subscription and returns them
// (none when wait passed: time for a heartbeat). It ends with ctx's error
// or when the service closes.
func (sub *Subscription) Next(ctx context.Context, wait time.Duration) ([]Delivery, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		sub.b.mu.Lock()
		ch := sub.b.changed
		sub.b.mu.Unlock()
		out, err := sub.collect(ctx)
		if len(out) > 0 || err != nil {
			return out, err
		}
		select {
		case <-ch:
		case <-timer.C:
			return nil, nil
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-sub.b.ctx.Done():
			return nil, errClosed
		}
	}
}

// collect reads what each zone has after the subscription's cursor: from
// the ring, or from the zone DB while the ring does not reach back.
func (sub *Subscription) collect(ctx context.Context) ([]Delivery, error) {
	zones := make([]string, 0, len(sub.cursor))
	for zn := range sub.cursor {
		zones = append(zones, zn)
	}
	slices.Sort(zones)
	var out []Delivery
	for _, zn := range zones {
		room := maxDeliveries - len(out)
		if room <= 0 {
			break
		}
		evs, head, ok := sub.b.since(zn, sub.cursor[zn], room)
		if !ok {
			var err error
			if evs, err = sub.b.s.Tail(ctx, zn, sub.cursor[zn], room); err != nil {
				return out, err
			}
		}
		for _, e := range evs {
			sub.cursor[zn] = e.Seq
			if sub.match(e) {
				out = append(out, Delivery{Event: e, ID: formatPosition(sub.cursor)})
			}
		}
		if len(evs) == 0 && ok && head > sub.cursor[zn] {
			sub.cursor[zn] = head
		}
	}
	return out, nil
}

// match reports whether the subscriber may see e and asked for it.
func (sub *Subscription) match(e Event) bool {
	if sub.f.CameraID != "" && e.CameraID != sub.f.CameraID {
		return false
	}
	if len(sub.f.Types) > 0 && !slices.Contains(sub.f.Types, e.Type) {
		return false
	}
	return authz.Camera(sub.p, store.Camera{ID: e.CameraID, OrgID: e.OrgID}, authz.PermView) == nil
}

// Position returns the subscription's current position (a Last-Event-ID).
func (sub *Subscription) Position() string { return formatPosition(sub.cursor) }

// formatPosition encodes per-zone cursors as "zone=seq&zone=seq".
func formatPosition(c map[string]int64) string {
	v := url.Values{}
	for zn, seq := range c {
		v.Set(zn, strconv.FormatInt(seq, 10))
	}
	return v.Encode()
}

// parsePosition reads formatPosition's form.
func parsePosition(s string) (map[string]int64, error) {
	out := map[string]int64{}
	if s == "" {
		return out, nil
	}
	if len(s) > 4096 {
		return nil, invalid("Last-Event-ID is too long")
	}
	v, err := url.ParseQuery(s)
	if err != nil {
		return nil, invalid("malformed Last-Event-ID")
	}
	for zn, vals := range v {
		n, err := strconv.ParseInt(vals[0], 10, 64)
		if err != nil || n < 0 || len(vals) != 1 {
			return nil, invalid("malformed Last-Event-ID")
		}
		out[zn] = n
	}
	return out, nil
}
