package usage

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// DefaultInterval is how often a Flusher writes the counts.
const DefaultInterval = time.Minute

// Flusher writes a Meter's counts to the zone databases.
type Flusher struct {
	// Meter is what is flushed.
	Meter *Meter
	// Zones are the zones written to; a camera of a zone not among them
	// keeps its counts (logged).
	Zones *zone.Registry
	// OrgOf finds the organisation of a camera counted without one (a
	// camera server counts by camera id): the directory. A camera it
	// answers store.ErrNotFound for (deleted) has its counts dropped, its
	// stored bytes still moved.
	OrgOf func(ctx context.Context, cameraID string) (string, error)
	// Interval is how often to flush (DefaultInterval when zero); flushes
	// also happen just after each UTC midnight, so that no flush spans two
	// days.
	Interval time.Duration
	Log      *slog.Logger
	Now      func() time.Time

	flushed *prometheus.CounterVec
	flushes *prometheus.CounterVec
	last    prometheus.Gauge
}

// Register adds the flusher's metrics to reg (call once, before Run).
func (f *Flusher) Register(reg prometheus.Registerer) error {
	f.flushed = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "usage", Name: "flushed_total",
		Help: "Usage this node counted and flushed to the zone databases, by kind (bytes, milliseconds or counts; stored_bytes: bytes of segments this node indexed, stored_deleted_bytes: deleted; the stored figure of reports is the zone's segment_usage)."}, []string{"kind"})
	f.flushes = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "usage", Name: "flushes_total",
		Help: "Usage flushes per zone, by result (ok, error: the counts are kept for the next flush)."}, []string{"zone", "result"})
	f.last = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "camcloud", Subsystem: "usage", Name: "last_flush_timestamp_seconds",
		Help: "When the last usage flush ended."})
	if reg == nil {
		return nil
	}
	return errors.Join(reg.Register(f.flushed), reg.Register(f.flushes), reg.Register(f.last))
}

// KindNames are the names of the kinds in metrics and reports.
var KindNames = [numKinds]string{
	"recorded_ms", "ingest_bytes", "egress_webrtc", "egress_live_hls", "egress_vod", "egress_clip", "egress_image",
	"egress_share", "exports", "events", "webhook_deliveries", "stored_bytes",
}

func (f *Flusher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

func (f *Flusher) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}

// Day is the UTC day (its midnight) that t falls in.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Run flushes every Interval and just after each UTC midnight until ctx
// ends, then once more (with a fresh 10 s bound): a graceful stop loses
// nothing counted before it. Stop the media paths first.
func (f *Flusher) Run(ctx context.Context) {
	every := f.Interval
	if every <= 0 {
		every = DefaultInterval
	}
	for {
		now := f.now()
		wait := every
		if mid := Day(now).AddDate(0, 0, 1).Add(time.Millisecond).Sub(now); mid < wait {
			wait = mid
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			f.Flush(fctx)
			cancel()
			return
		case <-t.C:
			f.Flush(ctx)
		}
	}
}

// taken is one camera's counts swapped out of its counters.
type taken struct {
	c *Counter
	n [numKinds]int64
}

// putBack returns counts to the counters they were taken from.
func (t taken) putBack() {
	for k, v := range t.n {
		t.c.n[k].Add(v)
	}
}

// Flush writes what was counted since the last flush, one transaction
// per zone, to the UTC day of now (a flush just after midnight writes to
// the day before); what a zone fails to take is kept for the next flush.
// Every zone of Zones is written, also with nothing counted, so that each
// camera's stored bytes (the zone's segment_usage) reach the day.
func (f *Flusher) Flush(ctx context.Context) {
	day := Day(f.now().Add(-time.Millisecond))
	byZone := map[string][]taken{}
	for _, c := range f.Meter.counters() {
		var t taken
		t.c = c
		any := false
		for k := range t.n {
			if t.n[k] = c.n[k].Swap(0); t.n[k] != 0 {
				any = true
			}
		}
		if any {
			byZone[c.zone] = append(byZone[c.zone], t)
		}
	}
	var names []string
	if f.Zones != nil {
		names = f.Zones.Names()
	}
	for zn := range byZone {
		if f.Zones == nil || !contains(names, zn) {
			f.log().Warn("usage: counted for a zone this process does not open; kept", "zone", zn)
			for _, t := range byZone[zn] {
				t.putBack()
			}
		}
	}
	for _, zn := range names {
		f.flushZone(ctx, zn, day, byZone[zn])
	}
	if f.last != nil {
		f.last.SetToCurrentTime()
	}
}

// flushZone writes one zone's counts.
func (f *Flusher) flushZone(ctx context.Context, zn string, day time.Time, ts []taken) {
	z, err := f.Zones.Get(zn)
	if err != nil {
		return
	}
	deltas := make([]store.UsageDelta, 0, len(ts))
	kept := ts[:0]
	for _, t := range ts {
		org, err := f.orgOf(ctx, t.c)
		if err != nil {
			f.log().Warn("usage: organisation of a camera not found; counts kept", "camera", t.c.id, "err", err)
			t.putBack()
			continue
		}
		d := store.UsageDelta{OrgID: org, CameraID: t.c.id}
		copy(d.Counts[:], t.n[:store.NumUsageCounters])
		deltas = append(deltas, d)
		kept = append(kept, t)
	}
	if err := z.DB.AddUsage(ctx, day, deltas); err != nil {
		f.log().Warn("usage: flush failed; counts kept for the next flush", "zone", zn, "cameras", len(deltas), "err", err)
		for _, t := range kept {
			t.putBack()
		}
		if f.flushes != nil {
			f.flushes.WithLabelValues(zn, "error").Inc()
		}
		return
	}
	if f.flushes != nil {
		f.flushes.WithLabelValues(zn, "ok").Inc()
		for _, t := range kept {
			for k, v := range t.n {
				switch {
				case v > 0:
					f.flushed.WithLabelValues(KindNames[k]).Add(float64(v))
				case v < 0: // stored bytes deleted (a counter only grows)
					f.flushed.WithLabelValues("stored_deleted_bytes").Add(float64(-v))
				}
			}
		}
	}
}

// orgOf is the organisation of c, looked up once; "" for a deleted camera.
func (f *Flusher) orgOf(ctx context.Context, c *Counter) (string, error) {
	if p := c.org.Load(); p != nil {
		return *p, nil
	}
	if f.OrgOf == nil {
		return "", nil
	}
	org, err := f.OrgOf(ctx, c.id)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	c.org.Store(&org)
	return org, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
