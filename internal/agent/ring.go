package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/store"
)

// ring is the agent's local ring buffer: the recorder's closed segments
// in a local blob directory, indexed in a local SQLite zone database,
// bounded by size and age. It is the recorder's Index, so that it counts
// every segment as it is indexed; sweep drops the oldest segments (of any
// camera) until both bounds hold. Everything is on disk, so the buffer
// survives restarts; the byte count is read back from the index on start
// and every rescanEvery sweeps (an index row written twice by a retried
// upload is then counted once again).
type ring struct {
	idx      store.Zone
	blobs    blob.Store
	maxBytes int64
	maxAge   time.Duration
	// spooled tells the bytes the recorder's spool holds (open segments
	// and closed ones not yet in the ring): they count against maxBytes.
	spooled func() int64
	log     *slog.Logger

	mu      sync.Mutex
	used    int64 // bytes of indexed segments
	sweeps  int
	dropped dropStats
}

// dropStats counts what the ring dropped: the segments, their bytes and
// the time they covered.
type dropStats struct {
	Segments int64
	Bytes    int64
	Covered  time.Duration
}

// rescanEvery is how many sweeps pass between two recounts of the index.
const rescanEvery = 60

// sweepBatch is how many of the oldest segments one query reads.
const sweepBatch = 64

// InsertSegment indexes a segment the recorder stored (record.Index).
func (r *ring) InsertSegment(ctx context.Context, s store.Segment) error {
	if err := r.idx.InsertSegment(ctx, s); err != nil {
		return err
	}
	r.mu.Lock()
	r.used += s.Size
	r.mu.Unlock()
	return nil
}

// recount reads the bytes of every indexed segment.
func (r *ring) recount(ctx context.Context) error {
	cams, err := r.idx.SegmentCameras(ctx)
	if err != nil {
		return err
	}
	var total int64
	for _, cam := range cams {
		from := time.Time{}
		for {
			segs, err := r.idx.ListSegments(ctx, cam, from, time.Now().Add(24*time.Hour), 10000)
			if err != nil {
				return err
			}
			for _, s := range segs {
				total += s.Size
			}
			if len(segs) < 10000 {
				break
			}
			from = segs[len(segs)-1].End
		}
	}
	r.mu.Lock()
	r.used = total
	r.mu.Unlock()
	return nil
}

// usage returns the bytes the buffer holds (indexed and spooled).
func (r *ring) usage() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.used
	if r.spooled != nil {
		n += r.spooled()
	}
	return n
}

// sweep drops the oldest segments while the buffer is over maxBytes or
// holds segments that ended before now - maxAge, and returns what it
// dropped this time.
func (r *ring) sweep(ctx context.Context, now time.Time) ([]store.Segment, error) {
	r.mu.Lock()
	r.sweeps++
	rescan := r.sweeps%rescanEvery == 1
	r.mu.Unlock()
	if rescan {
		if err := r.recount(ctx); err != nil {
			return nil, err
		}
	}
	var gone []store.Segment
	cutoff := now.Add(-r.maxAge)
	for {
		segs, err := r.idx.OldestSegments(ctx, time.Time{}, sweepBatch)
		if err != nil || len(segs) == 0 {
			return gone, err
		}
		for _, s := range segs {
			if r.usage() <= r.maxBytes && !s.End.Before(cutoff) {
				return gone, nil
			}
			if err := r.drop(ctx, s); err != nil {
				return gone, err
			}
			gone = append(gone, s)
		}
	}
}

// drop deletes one segment: its object, then its index row.
func (r *ring) drop(ctx context.Context, s store.Segment) error {
	if err := r.blobs.Delete(ctx, s.Key); err != nil {
		return err
	}
	if err := r.idx.DeleteSegments(ctx, s.CameraID, []time.Time{s.Start}); err != nil {
		return err
	}
	r.mu.Lock()
	r.used -= s.Size
	r.dropped.Segments++
	r.dropped.Bytes += s.Size
	r.dropped.Covered += s.End.Sub(s.Start)
	r.mu.Unlock()
	r.log.Warn("ring buffer full or segment too old: dropped the oldest segment", "camera", s.CameraID, "start", s.Start, "end", s.End,
		"bytes", s.Size)
	return nil
}

// drops returns what the ring dropped since the agent started.
func (r *ring) drops() dropStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}
