// Package record is the camera-server recorder: it turns each hub stream
// into keyframe-aligned fragmented MP4, appends every ~1 s fragment to a
// local spool file, makes the fragments of every camera durable together
// every 100 ms (group commit: a crash loses at most the fragment in flight
// plus about 100 ms, see commit.go), closes a segment at the first keyframe after its
// target duration, uploads closed segments to the object store with retry,
// and only then writes their index rows. Leftover spool files are recovered
// at start.
//
// Spool layout, one directory per camera under Config.SpoolDir:
//
//	<cam>/<start µs>.m4s     fragments (moof+mdat pairs), appended, fdatasync'd by the group commit
//	<cam>/<start µs>.idx     sidecar: JSON header line, then one line per fragment, written once its data is synced
//	<cam>/<init hash>.init   init segment bytes, shared by that camera's segments
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
// The spool is bounded by Config.MaxSpoolBytes. When it is full the oldest
// closed segment still waiting for upload is dropped (logged at Error and
// counted), so that recording of what happens now continues: during a long
// store outage the newest video is the most valuable, and the oldest is the
// one the outage already made stale. If nothing can be dropped (everything is
// being written or uploaded), the new fragment is dropped instead and the
// segment restarts at the next keyframe.
package record

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/blob"
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
	// what a crash may lose at most.
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
	// CommitInterval is how long written fragments of all cameras gather
	// before one group commit syncs them (default 100 ms): what a crash may
	// lose on top of the fragment being built (see commit.go).
	CommitInterval time.Duration
}

// Defaults of Config.
const (
	DefaultSegmentDuration  = 60 * time.Second
	DefaultFragmentDuration = time.Second
	DefaultMaxSpoolBytes    = 2 << 30
	DefaultUploadWorkers    = 4
	DefaultRetryBackoff     = 250 * time.Millisecond
	DefaultCommitInterval   = 100 * time.Millisecond
	maxRetryBackoff         = 10 * time.Second
)

// ErrDraining is returned by Record once Drain was called.
var ErrDraining = errors.New("record: draining")

// errSpoolFull is returned when a fragment does not fit in the spool.
var errSpoolFull = errors.New("record: spool full")

// Recorder records hub streams to the spool and uploads them. One Recorder
// serves every camera of a camera server.
type Recorder struct {
	cfg Config
	log *slog.Logger
	m   *metrics

	mu         sync.Mutex
	open       map[*spoolSeg]struct{} // being written
	queue      []*spoolSeg            // closed, waiting for upload, oldest first
	known      map[string]bool        // data paths owned by this process
	initRefs   map[string]int         // spooled init file -> segments using it
	spoolBytes int64
	// pressed is set while the spool is above pressureFraction of its
	// bound: writers then close their segments early (see spoolPressed).
	pressed    atomic.Bool
	pressedLog time.Time // last "spool under pressure" log, under mu
	sessions   int
	draining   bool
	drainCh    chan struct{}
	changed    chan struct{} // closed and replaced on every state change

	bufs   *fragmentBuffers // fragment assembly buffers, shared by all cameras
	commit *committer       // group commit of written fragments

	initMu       sync.Mutex
	initUploaded map[string]bool // init object keys known to be in the store

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
	if err := os.MkdirAll(cfg.SpoolDir, 0o750); err != nil {
		return nil, fmt.Errorf("record: creating spool: %w", err)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, fmt.Errorf("record: registering metrics: %w", err)
	}
	return &Recorder{
		cfg:          cfg,
		log:          cfg.Log.With("component", "record"),
		m:            m,
		open:         map[*spoolSeg]struct{}{},
		known:        map[string]bool{},
		initRefs:     map[string]int{},
		drainCh:      make(chan struct{}),
		changed:      make(chan struct{}),
		initUploaded: map[string]bool{},
		bufs:         newFragmentBuffers(),
		commit:       newCommitter(),
	}, nil
}

// Pending reports the segments in the spool (being written or waiting for
// upload) and their bytes on disk.
func (r *Recorder) Pending() (segments int, bytes int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.open) + len(r.queue), r.spoolBytes
}

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
		done := r.sessions == 0 && len(r.open) == 0 && len(r.queue) == 0
		closing := r.sessions == 0 && len(r.open) > 0 // closed, not yet committed
		ch := r.changed
		r.mu.Unlock()
		if done {
			return nil
		}
		if closing {
			r.flush() // commit them now rather than at the next interval
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// notifyLocked wakes everyone waiting for a state change. r.mu is held.
func (r *Recorder) notifyLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *Recorder) setSpoolBytesLocked(delta int64) {
	r.spoolBytes += delta
	r.m.spoolBytes.Set(float64(r.spoolBytes))
	pressed := r.spoolBytes > r.cfg.MaxSpoolBytes/pressureDivisor*(pressureDivisor-1)
	if pressed && !r.pressed.Load() && time.Since(r.pressedLog) > time.Minute {
		r.pressedLog = time.Now()
		r.log.Warn("spool above 3/4 of max_spool_bytes: closing segments early so that they upload sooner",
			"spool_bytes", r.spoolBytes, "max_spool_bytes", r.cfg.MaxSpoolBytes)
	}
	r.pressed.Store(pressed)
}

// The spool is under pressure above (pressureDivisor-1)/pressureDivisor of
// MaxSpoolBytes. Open segments count against the bound (they are on disk),
// so many cameras with long segments can fill it while the store is
// healthy; closing segments early lets them upload and frees the room
// before any video has to be dropped.
const pressureDivisor = 4

// minPressedSegment is the shortest segment closed because of spool
// pressure, so that pressure never turns the index into tiny objects.
const minPressedSegment = 10 * time.Second

// spoolPressed reports whether segments should close early.
func (r *Recorder) spoolPressed() bool { return r.pressed.Load() }
