// Package retention deletes recordings and events that have outlived
// their camera's retention_days (and those of deleted cameras), in
// batches, from a zone's index, event log and object store; on a local-disk store it also deletes the oldest
// recordings first when free space falls under a threshold.
package retention

import (
	"context"
	"fmt"
	"log/slog"
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
}

// Sweeper runs retention for one zone.
type Sweeper struct {
	c          Config
	expired    prometheus.Counter
	events     prometheus.Counter
	diskFreed  prometheus.Counter
	deleteErrs prometheus.Counter
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
	lbl := prometheus.Labels{"zone": c.Zone}
	s := &Sweeper{
		c: c,
		expired: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "expired_segments_total",
			Help: "Segments deleted because they outlived their camera's retention.", ConstLabels: lbl}),
		events: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "expired_events_total",
			Help: "Events deleted because they outlived their camera's retention (or their camera).", ConstLabels: lbl}),
		diskFreed: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "disk_pressure_segments_total",
			Help: "Segments deleted early because local free space fell below min_free_bytes.", ConstLabels: lbl}),
		deleteErrs: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "retention", Name: "object_delete_errors_total",
			Help: "Object deletions that failed after their index rows were removed (orphaned objects).", ConstLabels: lbl}),
	}
	if c.Registerer != nil {
		c.Registerer.MustRegister(s.expired, s.events, s.diskFreed, s.deleteErrs)
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
	DiskPressure int // oldest first, for free space
}

// Sweep runs one pass.
func (s *Sweeper) Sweep(ctx context.Context) (Result, error) {
	var res Result
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
	n, err := s.relieveDisk(ctx)
	res.DiskPressure = n
	return res, err
}

// expire deletes a camera's segments that ended before cutoff, batch by batch.
func (s *Sweeper) expire(ctx context.Context, cameraID string, cutoff time.Time) (int, error) {
	total := 0
	for {
		segs, err := s.c.Index.ExpiredSegments(ctx, cameraID, cutoff, s.c.Batch)
		if err != nil {
			return total, fmt.Errorf("camera %s: expired segments: %w", cameraID, err)
		}
		if len(segs) == 0 {
			return total, nil
		}
		if err := s.remove(ctx, cameraID, segs); err != nil {
			return total, err
		}
		total += len(segs)
		s.expired.Add(float64(len(segs)))
		if len(segs) < s.c.Batch {
			return total, nil
		}
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

// relieveDisk deletes the zone's oldest segments while a local store is
// short of free space.
func (s *Sweeper) relieveDisk(ctx context.Context) (int, error) {
	fs, ok := s.c.Blobs.(FreeSpacer)
	if !ok || s.c.MinFreeBytes <= 0 {
		return 0, nil
	}
	total := 0
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
		segs, err := s.c.Index.OldestSegments(ctx, min(s.c.Batch, 50))
		if err != nil {
			return total, fmt.Errorf("oldest segments: %w", err)
		}
		if len(segs) == 0 {
			s.c.Log.Error("retention: disk is short of free space and no recordings are left to delete", "zone", s.c.Zone, "free_bytes", free)
			return total, nil
		}
		byCam := map[string][]store.Segment{}
		for _, sg := range segs {
			byCam[sg.CameraID] = append(byCam[sg.CameraID], sg)
		}
		for cam, ss := range byCam {
			if err := s.remove(ctx, cam, ss); err != nil {
				return total, err
			}
			if s.c.OnDiskPressure != nil {
				s.c.OnDiskPressure(cam, len(ss), ss[0].Start, ss[len(ss)-1].End)
			}
		}
		total += len(segs)
		s.diskFreed.Add(float64(len(segs)))
	}
}
