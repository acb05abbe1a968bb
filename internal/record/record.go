// Package record is the camera-server recorder: it turns each hub stream
// into keyframe-aligned fragmented MP4 (writer.go, boxes by internal/fmp4),
// writes every ~1 s fragment to its segment in the durable local spool
// (internal/spool: files, room, group commit every 100 ms, sidecar,
// recovery), closes a segment at the first keyframe after its target
// duration, and uploads closed segments to the object store with retry,
// then writes their index rows (upload.go).
//
// Timeline: each track's tfdt counts from the first keyframe of the
// recording (one Record call), so the segments of one recording play
// back-to-back from one init, and their index rows are contiguous
// (row.Start == previous row.End: a continuing segment's Start is snapped to
// the previous End when its wall clock is within 1 s of it). A new recording
// (reconnect, replaced publisher) starts again at zero, and a restart after
// an overflow or a timestamp jump leaves a gap: wherever row.Start !=
// previous row.End, HLS needs EXT-X-DISCONTINUITY and an exporter must
// rebase timestamps. Init segments are content-addressed,
// so a codec change (new SPS/PPS) gives a new InitKey.
//
// The spool is bounded by Config.MaxSpoolBytes: when it is full the oldest
// segment waiting for upload is dropped (see internal/spool); if nothing can
// be dropped, the new fragment is, and the segment restarts at the next
// keyframe. Above 3/4 of the bound, segments close early so that they
// upload sooner.
package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/spool"
	"github.com/camcloud/camcloud/internal/store"
)

// Index receives the index row of each uploaded segment (store.Zone does).
type Index interface {
	InsertSegment(ctx context.Context, s store.Segment) error
}

// Config configures a Recorder. Zero durations and sizes take the defaults.
type Config struct {
	// SpoolDir holds the spool, one directory per camera.
	SpoolDir string
	// SegmentDuration is the target length of a segment object (default
	// 60 s); a segment closes at the first video keyframe after it.
	SegmentDuration time.Duration
	// FragmentDuration is the target length of a fragment (default 1 s):
	// about what a crash may lose. Fragments are cut at keyframes and
	// in between into equal pieces, so one may last up to 1/8 more to end
	// at a keyframe (see cut.go).
	FragmentDuration time.Duration
	// MaxSpoolBytes bounds the spool on disk (default 2 GiB).
	MaxSpoolBytes int64
	// Store receives segment objects and init segments.
	Store blob.Store
	// Index receives the index rows, written after each upload succeeded.
	Index Index
	// Log receives the recorder's logs (default: slog.Default()).
	Log *slog.Logger
	// Registerer, when not nil, registers the camcloud_record_* metrics.
	Registerer prometheus.Registerer
	// Now tells the wall-clock time (default time.Now); used when a unit has no NTP time.
	Now func() time.Time
	// UploadWorkers is the number of concurrent uploads (default 4).
	UploadWorkers int
	// RetryBackoff is the first retry delay after a failed upload or index
	// write (default 250 ms); it doubles up to 10 s.
	RetryBackoff time.Duration
	// OnSpoolDrop, when set, is told of every segment dropped unuploaded
	// because the spool was full (see spool.Config.OnDrop).
	OnSpoolDrop func(camera string, start, end time.Time)
	// OnVideoLost, when set, is told of new video that could not be
	// written (the spool was full with nothing it may drop, or a write
	// failed): the range from the end of what was kept to where recording
	// resumed (or the stream ended), with the reason (ReasonSpoolFullNew or
	// ReasonSpoolError). It is called on the camera's recording goroutine,
	// once per loss, and must not block.
	OnVideoLost func(camera string, start, end time.Time, reason string)
	// CommitInterval is how long written fragments of all cameras gather
	// before one group commit syncs them (default 100 ms): what a crash may
	// lose on top of the fragment being built (see internal/spool, commit.go).
	CommitInterval time.Duration
}

// Defaults of Config.
const (
	DefaultSegmentDuration  = 60 * time.Second
	DefaultFragmentDuration = time.Second
	DefaultMaxSpoolBytes    = spool.DefaultMaxBytes
	DefaultUploadWorkers    = 4
	DefaultRetryBackoff     = 250 * time.Millisecond
	DefaultCommitInterval   = spool.DefaultCommitInterval
	maxRetryBackoff         = 10 * time.Second
)

// Reasons given to Config.OnVideoLost.
const (
	// ReasonSpoolFullNew: the spool was full and had nothing it could drop
	// (its oldest segments were being uploaded), so new video was lost.
	ReasonSpoolFullNew = "spool_full_new"
	// ReasonSpoolError: the spool could not be written (disk error).
	ReasonSpoolError = "spool_error"
	// ReasonBehind: the recorder fell too far behind the stream and the
	// hub dropped it; it resumed at the next keyframe.
	ReasonBehind = "recorder_behind"
)

// ErrDraining is returned by Record once Drain was called.
var ErrDraining = errors.New("record: draining")

// Recorder records hub streams to the spool and uploads them. One Recorder
// serves every camera of a camera server.
type Recorder struct {
	cfg   Config
	log   *slog.Logger
	m     *metrics
	spool *spool.Spool
	segs  segmentSpool // what writers reach the spool through
	up    *uploader

	mu       sync.Mutex
	sessions int
	draining bool
	drainCh  chan struct{}
	changed  chan struct{} // closed and replaced when sessions end

	bufs *fragmentBuffers // fragment assembly buffers, shared by all cameras
	act  activity         // per camera: last fragment committed, why recording stopped

	// test hooks: units taken from hub readers, and readers attached.
	consumed atomic.Int64
	readers  atomic.Int32
}

// New checks cfg, fills its defaults and creates the spool directory.
func New(cfg Config) (*Recorder, error) {
	if cfg.SpoolDir == "" {
		return nil, errors.New("record: SpoolDir is required")
	}
	if cfg.Store == nil || cfg.Index == nil {
		return nil, errors.New("record: Store and Index are required")
	}
	if cfg.SegmentDuration <= 0 {
		cfg.SegmentDuration = DefaultSegmentDuration
	}
	if cfg.FragmentDuration <= 0 {
		cfg.FragmentDuration = DefaultFragmentDuration
	}
	if cfg.FragmentDuration > cfg.SegmentDuration {
		cfg.FragmentDuration = cfg.SegmentDuration
	}
	if cfg.MaxSpoolBytes <= 0 {
		cfg.MaxSpoolBytes = DefaultMaxSpoolBytes
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.UploadWorkers <= 0 {
		cfg.UploadWorkers = DefaultUploadWorkers
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = DefaultRetryBackoff
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = DefaultCommitInterval
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("record: registering metrics: %w", err)
	}
	log := cfg.Log.With("component", "record")
	sp, err := spool.New(spool.Config{Dir: cfg.SpoolDir, MaxBytes: cfg.MaxSpoolBytes, CommitInterval: cfg.CommitInterval,
		Log: log, Metrics: m.spool, OnDrop: cfg.OnSpoolDrop})
	if err != nil {
		return nil, fmt.Errorf("record: %w", err)
	}
	return &Recorder{
		cfg:     cfg,
		log:     log,
		m:       m,
		spool:   sp,
		segs:    spoolSegments{sp},
		up:      newUploader(cfg, sp, m, log),
		drainCh: make(chan struct{}),
		changed: make(chan struct{}),
		bufs:    newFragmentBuffers(),
	}, nil
}

// Recover queues for upload the segments an earlier process left in the
// spool, cut back to their last complete fragment (see spool.Recover). Call
// it at start, before Record.
func (r *Recorder) Recover(ctx context.Context) error { return r.spool.Recover(ctx) }

// Spool is the recorder's spool, for readers of what is not uploaded yet
// (spool.Spool's Spooled, OpenSpooled, SpooledInit): they never block the
// writers beyond a short hold of the spool's lock.
func (r *Recorder) Spool() *spool.Spool { return r.spool }

// Run uploads closed segments with Config.UploadWorkers workers until ctx
// ends. Segments not yet uploaded then stay in the spool for the next start.
func (r *Recorder) Run(ctx context.Context) { r.up.run(ctx) }

// Pending reports the segments in the spool (being written or waiting for
// upload) and their bytes on disk.
func (r *Recorder) Pending() (segments int, bytes int64) { return r.spool.Pending() }

// Drain stops every recording (closing its open segment, which goes to the
// upload queue) and waits until the spool is empty, for rolling restarts.
// Run must be running for the spool to empty. After Drain, Record returns
// ErrDraining at once.
func (r *Recorder) Drain(ctx context.Context) error {
	r.mu.Lock()
	if !r.draining {
		r.draining = true
		close(r.drainCh)
		r.notifyLocked()
	}
	r.mu.Unlock()
	for {
		r.mu.Lock()
		sessions, ch := r.sessions, r.changed
		r.mu.Unlock()
		open, queued, spoolCh := r.spool.State()
		if sessions == 0 && open == 0 && queued == 0 {
			return nil
		}
		if sessions == 0 && open > 0 { // closed, not yet committed
			r.spool.Flush() // commit them now rather than at the next interval
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		case <-spoolCh:
		}
	}
}

// notifyLocked wakes everyone waiting for a state change. r.mu is held.
func (r *Recorder) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// minPressedSegment is the shortest segment closed because of spool
// pressure, so that pressure never turns the index into tiny objects.
const minPressedSegment = 10 * time.Second
