// Package usage meters what each organisation's cameras use (recorded
// seconds, stored bytes, ingest and egress bytes by kind, exports, events,
// webhook deliveries) and reports it per organisation, camera, day or
// camera label.
//
// Counting is in memory: a Meter holds one set of atomic counters per
// camera, which the media paths add to without a lock; about once a minute
// (and on a graceful stop) Run flushes what was counted to each zone's
// database as additive upserts, one transaction per zone (never a write
// per request). A process that dies loses at most the unflushed minute; a
// flush that fails puts its counts back for the next one.
package usage

import (
	"sync"
	"sync/atomic"

	"github.com/camcloud/camcloud/internal/store"
)

// Kind is one counter of a camera.
type Kind int

// The counters a Meter keeps. All but Stored are store.UsageCounts
// columns; Stored is the change of stored bytes this node made (uploads
// minus deletes), for its metrics only: what a camera stores is kept
// exactly by the zone's segment index (store segment_usage), which the
// flush copies into each day.
const (
	RecordedMs        Kind = store.UsageRecordedMs
	IngestBytes       Kind = store.UsageIngestBytes
	EgressWebRTC      Kind = store.UsageEgressWebRTC
	EgressLiveHLS     Kind = store.UsageEgressLiveHLS
	EgressVOD         Kind = store.UsageEgressVOD
	EgressClip        Kind = store.UsageEgressClip
	EgressImage       Kind = store.UsageEgressImage
	EgressShare       Kind = store.UsageEgressShare
	Exports           Kind = store.UsageExports
	Events            Kind = store.UsageEvents
	WebhookDeliveries Kind = store.UsageWebhookDeliveries
	Stored            Kind = store.NumUsageCounters
	numKinds               = store.NumUsageCounters + 1
)

// Counter is the counters of one camera. A nil *Counter (metering off)
// counts nothing, so callers need no check.
type Counter struct {
	zone, id string
	org      atomic.Pointer[string]
	n        [numKinds]atomic.Int64
}

// Add counts n of kind k; safe from any goroutine, no lock.
func (c *Counter) Add(k Kind, n int64) {
	if c == nil || n == 0 {
		return
	}
	c.n[k].Add(n)
}

// Meter is a process's usage counters, per camera. The zero value is not
// usable; a nil *Meter is metering off.
type Meter struct {
	mu   sync.Mutex
	cams map[camKey]*Counter
}

type camKey struct{ zone, id string }

// NewMeter returns an empty meter.
func NewMeter() *Meter { return &Meter{cams: map[camKey]*Counter{}} }

// Camera returns the counters of camera id in zone, made on first use
// (org may be "" when the caller does not know it: the flush looks it
// up). Callers take it once per session or request, not per packet. A
// camera's counters stay for the life of the process (a few hundred bytes
// each), so that no holder ever adds to counters no longer flushed.
func (m *Meter) Camera(zone, org, id string) *Counter {
	if m == nil || id == "" {
		return nil
	}
	m.mu.Lock()
	c := m.cams[camKey{zone, id}]
	if c == nil {
		c = &Counter{zone: zone, id: id}
		m.cams[camKey{zone, id}] = c
	}
	m.mu.Unlock()
	if org != "" && c.org.Load() == nil {
		c.org.Store(&org)
	}
	return c
}

// Add counts n of kind k for camera id of org in zone: Camera then Add,
// for callers that count once per request.
func (m *Meter) Add(zone, org, id string, k Kind, n int64) { m.Camera(zone, org, id).Add(k, n) }

// counters lists every camera's counters.
func (m *Meter) counters() []*Counter {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Counter, 0, len(m.cams))
	for _, c := range m.cams {
		out = append(out, c)
	}
	return out
}

// Totals are the counts not yet flushed, summed over every camera (tests
// and the metrics read them).
func (m *Meter) Totals() [numKinds]int64 {
	var t [numKinds]int64
	for _, c := range m.counters() {
		for k := range t {
			t[k] += c.n[k].Load()
		}
	}
	return t
}
