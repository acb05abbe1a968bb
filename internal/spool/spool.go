// Package spool is the recorder's durable local spool: the files of each
// segment being recorded or waiting for upload, the room they take (bounded
// by Config.MaxBytes, dropping the oldest waiting segment when full), the
// group commit that makes the fragments of all cameras durable together
// (commit.go), the sidecar that says which fragments are durable
// (sidecar.go), and recovery of what an earlier process left (recover.go).
//
// A segment writer (internal/record) opens a Segment, writes each fragment's
// bytes at its place, commits the fragment and closes the segment; the
// uploader takes closed segments with Next and gives them back with Done.
// A fragment counts (joins the segment's index row) only once the commit
// made it durable.
//
// Layout, one directory per camera under Config.Dir:
//
//	<cam>/<start µs>.m4s     fragments (moof+mdat pairs), fdatasync'd by the group commit
//	<cam>/<start µs>.idx     sidecar: JSON header line, then one line per fragment, written once its data is synced
//	<cam>/<init hash>.init   init segment bytes, shared by that camera's segments
//
// When the spool is full the oldest closed segment still waiting for upload
// is dropped (logged at Error and counted), so that recording of what
// happens now continues: during a long store outage the newest video is the
// most valuable. If nothing can be dropped (everything is being written or
// uploaded), the new write fails with ErrFull.
package spool

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Spool. Zero values take the defaults.
type Config struct {
	// Dir holds the spool, one directory per camera.
	Dir string
	// MaxBytes bounds the spool on disk (default 2 GiB).
	MaxBytes int64
	// CommitInterval is how long written fragments of all cameras gather
	// before one group commit syncs them (default 100 ms).
	CommitInterval time.Duration
	// Log receives the spool's logs (default: slog.Default()).
	Log *slog.Logger
	// Metrics are updated as the spool changes; nil ones are not exported.
	Metrics Metrics
	// OnDrop, when set, is told of every segment dropped unuploaded
	// because the spool was full: recorded video that is lost, which
	// the camera server reports as a recording.gap event. It is called
	// outside the spool's lock and must not block for long.
	OnDrop func(camera string, start, end time.Time)
}

// Metrics are the series a Spool keeps; the recorder registers them under
// its own names.
type Metrics struct {
	Bytes         prometheus.Gauge    // bytes in the spool
	Dropped       prometheus.Counter  // segments or fragments dropped because the spool was full
	Frames        prometheus.Counter  // access units of durable fragments
	CommitSeconds prometheus.Observer // duration of each group commit
}

// Defaults of Config.
const (
	DefaultMaxBytes       = 2 << 30
	DefaultCommitInterval = 100 * time.Millisecond
)

// Errors of a Segment's writes.
var (
	// ErrFull is returned when a write does not fit in the spool.
	ErrFull = errors.New("spool: full")
	// ErrCommitFailed is returned for a write to a segment whose earlier
	// fragment could not be made durable (the committer logged why).
	ErrCommitFailed = errors.New("spool: sync failed")
)

// Spool is the spool of one camera server; it is safe for concurrent use.
type Spool struct {
	cfg Config
	log *slog.Logger
	m   Metrics

	mu       sync.Mutex
	open     map[*Segment]struct{} // being written
	queue    []*Segment            // closed, waiting for upload, oldest first
	known    map[string]bool       // data paths owned by this process
	initRefs map[string]int        // spooled init file -> segments using it
	bytes    int64
	// pressed is set while the spool is above pressureDivisor-1 quarters of
	// its bound (see Pressed).
	pressed    atomic.Bool
	pressedLog time.Time     // last "spool under pressure" log, under mu
	changed    chan struct{} // closed and replaced on every state change

	commit *committer
}

// New checks cfg, fills its defaults and creates the spool directory.
func New(cfg Config) (*Spool, error) {
	if cfg.Dir == "" {
		return nil, errors.New("spool: Dir is required")
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = DefaultCommitInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	m := cfg.Metrics
	if m.Bytes == nil {
		m.Bytes = prometheus.NewGauge(prometheus.GaugeOpts{Name: "spool_bytes"})
	}
	if m.Dropped == nil {
		m.Dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "spool_dropped"})
	}
	if m.Frames == nil {
		m.Frames = prometheus.NewCounter(prometheus.CounterOpts{Name: "spool_frames"})
	}
	if m.CommitSeconds == nil {
		m.CommitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "spool_commit_seconds"})
	}
	if err := os.MkdirAll(cfg.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("spool: creating the directory: %w", err)
	}
	return &Spool{
		cfg:      cfg,
		log:      cfg.Log,
		m:        m,
		open:     map[*Segment]struct{}{},
		known:    map[string]bool{},
		initRefs: map[string]int{},
		changed:  make(chan struct{}),
		commit:   newCommitter(),
	}, nil
}

// Pending reports the segments in the spool (being written or waiting for
// upload) and their bytes on disk.
func (s *Spool) Pending() (segments int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open) + len(s.queue), s.bytes
}

// State reports the segments being written and those waiting for upload,
// with a channel closed at the next change of either.
func (s *Spool) State() (open, queued int, changed <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.open), len(s.queue), s.changed
}

// notifyLocked wakes everyone waiting for a state change. s.mu is held.
func (s *Spool) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Spool) setBytesLocked(delta int64) {
	s.bytes += delta
	s.m.Bytes.Set(float64(s.bytes))
	pressed := s.bytes > s.cfg.MaxBytes/pressureDivisor*(pressureDivisor-1)
	if pressed && !s.pressed.Load() && time.Since(s.pressedLog) > time.Minute {
		s.pressedLog = time.Now()
		s.log.Warn("spool above 3/4 of max_spool_bytes: closing segments early so that they upload sooner",
			"spool_bytes", s.bytes, "max_spool_bytes", s.cfg.MaxBytes)
	}
	s.pressed.Store(pressed)
}

// The spool is under pressure above (pressureDivisor-1)/pressureDivisor of
// MaxBytes. Open segments count against the bound (they are on disk), so
// many cameras with long segments can fill it while the store is healthy;
// closing segments early lets them upload and frees the room before any
// video has to be dropped.
const pressureDivisor = 4

// Pressed reports whether the spool is under pressure: writers should
// close their segments early.
func (s *Spool) Pressed() bool { return s.pressed.Load() }
