// Package retention deletes recordings and events that have outlived
// their camera's retention_days (and those of deleted cameras), in
// batches, from a zone's index, event log and object store; it deletes an
// organisation's oldest recordings while the organisation uses more than
// its storage quota (summed over every zone, quota.go); on a local-disk
// store it also deletes the oldest recordings first when free space falls
// under a threshold. Recordings under a legal hold (holds.go) are never
// deleted by any of the three.
package retention

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

// FreeSpacer is implemented by stores on a local file system.
type FreeSpacer interface {
	FreeBytes() (uint64, error)
}

// Config configures a Sweeper for one zone.
type Config struct {
	Zone  string
	Dir   store.Directory
	Index store.Zone
	Blobs blob.Store
	Log   *slog.Logger
	// MinFreeBytes: when Blobs is a FreeSpacer with less free space than
	// this, the zone's oldest recordings are deleted until it is not. 0: off.
	MinFreeBytes int64
	// Batch bounds the rows deleted per query (default 500).
	Batch int
	// Registerer receives the metrics; may be nil.
	Registerer prometheus.Registerer
	Now        func() time.Time
	// OnDiskPressure, when set, is told of the segments of a camera
	// deleted early for free space (how many, and the time they covered).
	OnDiskPressure func(cameraID string, segments int, from, to time.Time)
	// OnDeleted, when set, is told of every segment whose index row was
	// deleted (usage moves the camera's stored bytes).
	OnDeleted func(cameraID string, segs []store.Segment)
	// OnQuota, when set, is told of the segments of a camera deleted
	// early because its organisation used more than its storage quota.
	OnQuota func(cameraID string, segments int, from, to time.Time)
	// QuotaStale is how old another zone's count of an organisation's
	// storage may be and still hold this zone back from deleting
	// recordings newer than that zone's oldest (default 15 min): a zone
	// whose sweeper stopped must not stop the quota everywhere.
	QuotaStale time.Duration
}

// Sweeper runs retention for one zone.
type Sweeper struct {
	c          Config
	expired    prometheus.Counter
	events     prometheus.Counter
	diskFreed  prometheus.Counter
	quotaFreed prometheus.Counter
	deleteErrs prometheus.Counter
	mu         sync.Mutex // one pass at a time: held belongs to the pass
	held       *heldSet   // the zone's holds, as last read (holds.go)
}

// New returns a sweeper.
func New(c Config) *Sweeper {
	if c.Batch <= 0 {
		c.Batch = 500
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.QuotaStale <= 0 {
		c.QuotaStale = 15 * time.Minute
	}
	lbl := prometheus.Labels{"zone": c.Zone}
	s := &Sweeper{
		c: c,
		expired: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "expired_segments_total",
			Help: "Segments deleted because they outlived their camera's retention.", ConstLabels: lbl}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "expired_events_total",
			Help: "Events deleted because they outlived their camera's retention (or their camera).", ConstLabels: lbl}),
		diskFreed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "disk_pressure_segments_total",
			Help: "Segments deleted early because local free space fell below min_free_bytes.", ConstLabels: lbl}),
		quotaFreed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "quota_segments_total",
			Help: "Segments deleted, oldest first, because their organisation used more than its storage quota.", ConstLabels: lbl}),
		deleteErrs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "object_delete_errors_total",
			Help: "Object deletions that failed after their index rows were removed (orphaned objects).", ConstLabels: lbl}),
	}
	if c.Registerer != nil {
		c.Registerer.MustRegister(s.expired, s.events, s.diskFreed, s.quotaFreed, s.deleteErrs)
	}
	return s
}

// Run sweeps every interval until ctx ends.
func (s *Sweeper) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.c.Log.Error("retention sweep failed", "zone", s.c.Zone, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Result counts what one sweep deleted.
type Result struct {
	Expired      int // past retention or of deleted cameras
	Quota        int // oldest first, for organisations over their quota
	DiskPressure int // oldest first, for free space
}

// Sweep runs one pass: retention, quotas, then the disk guard.
func (s *Sweeper) Sweep(ctx context.Context) (Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res Result
	s.held = nil // read the holds afresh
	cams, err := s.c.Dir.ListCamerasByZone(ctx, s.c.Zone)
	if err != nil {
		return res, fmt.Errorf("list cameras: %w", err)
	}
	now := s.c.Now()
	known := map[string]bool{}
	for _, c := range cams {
		known[c.ID] = true
		cutoff := now.Add(-time.Duration(c.RetentionDays) * 24 * time.Hour)
		n, err := s.expire(ctx, c.ID, cutoff)
		res.Expired += n
		if err != nil {
			return res, err
		}
		if err := s.expireEvents(ctx, c.ID, cutoff); err != nil {
			return res, err
		}
		if err := s.expireBookmarks(ctx, c.ID, cutoff); err != nil {
			return res, err
		}
	}
	// Recordings of cameras that no longer exist go entirely.
	withRows, err := s.c.Index.SegmentCameras(ctx)
	if err != nil {
		return res, fmt.Errorf("list recorded cameras: %w", err)
	}
	for _, id := range withRows {
		if known[id] {
			continue
		}
		n, err := s.expire(ctx, id, now.Add(100*365*24*time.Hour))
		res.Expired += n
		if err != nil {
			return res, err
		}
	}
	// Events of cameras that no longer exist go too.
	withEvents, err := s.c.Index.EventCameras(ctx)
	if err != nil {
		return res, fmt.Errorf("list cameras with events: %w", err)
	}
	for _, id := range withEvents {
		if !known[id] {
			if err := s.expireEvents(ctx, id, now.Add(100*365*24*time.Hour)); err != nil {
				return res, err
			}
		}
	}
	if err := s.orphanBookmarks(ctx, known, now); err != nil {
		return res, err
	}
	if res.Expired > 0 {
		s.c.Log.Info("retention: deleted expired recordings", "zone", s.c.Zone, "segments", res.Expired)
	}
	n, err := s.enforceQuotas(ctx, cams)
	res.Quota = n
	if err != nil {
		return res, err
	}
	n, err = s.relieveDisk(ctx)
	res.DiskPressure = n
	return res, err
}

// expire deletes a camera's segments that ended before cutoff and that no
// hold keeps, page by page.
func (s *Sweeper) expire(ctx context.Context, cameraID string, cutoff time.Time) (int, error) {
	total := 0
	var from time.Time
	for {
		segs, err := s.c.Index.ExpiredSegments(ctx, cameraID, from, cutoff, s.c.Batch)
		if err != nil {
			return total, fmt.Errorf("camera %s: expired segments: %w", cameraID, err)
		}
		if len(segs) == 0 {
			return total, nil
		}
		hs, err := s.holds(ctx)
		if err != nil {
			return total, err
		}
		free, next := hs.unheld(segs)
		if err := s.remove(ctx, cameraID, free); err != nil {
			return total, err
		}
		total += len(free)
		s.expired.Add(float64(len(free)))
		if len(segs) < s.c.Batch {
			return total, nil
		}
		from = next
	}
}

// expireEvents deletes a camera's events that started before cutoff,
// batch by batch.
func (s *Sweeper) expireEvents(ctx context.Context, cameraID string, cutoff time.Time) error {
	for {
		n, err := s.c.Index.DeleteEvents(ctx, cameraID, cutoff, s.c.Batch)
		if err != nil {
			return fmt.Errorf("camera %s: expired events: %w", cameraID, err)
		}
		s.events.Add(float64(n))
		if n < s.c.Batch {
			return nil
		}
	}
}

// remove deletes index rows first, then objects: the index must never point
// at missing data, while an object whose delete failed is only wasted space
// (counted in object_delete_errors_total).
func (s *Sweeper) remove(ctx context.Context, cameraID string, segs []store.Segment) error {
	if len(segs) == 0 {
		return nil
	}
	starts := make([]time.Time, len(segs))
	keys := make([]string, len(segs))
	for i, sg := range segs {
		starts[i], keys[i] = sg.Start, sg.Key
	}
	if err := s.c.Index.DeleteSegments(ctx, cameraID, starts); err != nil {
		return fmt.Errorf("camera %s: delete rows: %w", cameraID, err)
	}
	if s.c.OnDeleted != nil {
		s.c.OnDeleted(cameraID, segs)
	}
	if err := s.c.Blobs.Delete(ctx, keys...); err != nil {
		s.deleteErrs.Add(float64(len(keys)))
		s.c.Log.Error("retention: objects left behind after their rows were deleted", "camera", cameraID, "objects", len(keys), "err", err)
	}
	return nil
}

// relieveDisk deletes the zone's oldest unheld segments while a local
// store is short of free space.
func (s *Sweeper) relieveDisk(ctx context.Context) (int, error) {
	fs, ok := s.c.Blobs.(FreeSpacer)
	if !ok || s.c.MinFreeBytes <= 0 {
		return 0, nil
	}
	total := 0
	var endFrom time.Time
	for {
		free, err := fs.FreeBytes()
		if err != nil {
			return total, fmt.Errorf("free space: %w", err)
		}
		if free >= uint64(s.c.MinFreeBytes) {
			if total > 0 {
				s.c.Log.Warn("retention: deleted oldest recordings to keep free disk space", "zone", s.c.Zone, "segments", total, "free_bytes", free, "min_free_bytes", s.c.MinFreeBytes)
			}
			return total, nil
		}
		segs, err := s.c.Index.OldestSegments(ctx, endFrom, min(s.c.Batch, 50))
		if err != nil {
			return total, fmt.Errorf("oldest segments: %w", err)
		}
		if len(segs) == 0 {
			s.c.Log.Error("retention: disk is short of free space and no recordings are left to delete but held ones", "zone", s.c.Zone, "free_bytes", free)
			return total, nil
		}
		hs, err := s.holds(ctx)
		if err != nil {
			return total, err
		}
		var unheld []store.Segment
		for _, sg := range segs {
			if _, held := hs.holding(sg); !held {
				unheld = append(unheld, sg)
			}
		}
		// A page of held segments only: go on past it. Otherwise read
		// from the same end again, the deleted ones being gone.
		last := segs[len(segs)-1].End
		if len(unheld) == 0 {
			endFrom = last.Add(time.Microsecond)
		} else {
			endFrom = last
		}
		if err := s.removeSegments(ctx, unheld, s.c.OnDiskPressure); err != nil {
			return total, err
		}
		n := len(unheld)
		total += n
		s.diskFreed.Add(float64(n))
	}
}
