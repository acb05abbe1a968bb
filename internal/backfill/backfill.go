// Package backfill is the cloud side of edge-agent backfill: an agent
// that recorded a camera through an uplink outage uploads the segments the
// cloud lacks, resumably and idempotently, and reports what its ring
// buffer lost before it could.
//
// An upload is announced (Begin: camera, range, size, SHA-256 and the
// init segment the segment needs), sent in chunks (Patch, each at the
// offset acknowledged so far; the offset moves by one conditional UPDATE
// of the upload's row in the camera's zone DB, so two racing chunks
// cannot both land), and checked when its last byte arrives: SHA-256 over
// the whole, the fMP4 structure (fmp4.ScanSegment), an H.264 or H.265
// video track, sample times that fill the announced range, and the range
// still missing from the cloud's index (where it overlaps recorded
// segments at its edges, only the frames the cloud lacks are kept: see
// seam.go). Then the segment object and its
// init go to the zone's object store and its index row (marked
// backfilled) replaces the upload row in one transaction. Chunks are
// staged in the zone's object store under uploads/<id>/, so any api node
// takes any chunk; pending uploads expire after a day and are swept with
// what they staged.
package backfill

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/sites"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// Defaults and bounds.
const (
	DefaultChunkSize = 8 << 20
	DefaultMaxSize   = 256 << 20
	// MinChunkSize and MaxChunkSize bound the configured chunk size.
	MinChunkSize = 16 << 10
	MaxChunkSize = 64 << 20
	// MaxSegmentSpan is the longest segment an agent may upload.
	MaxSegmentSpan = 30 * time.Minute
	// Tolerance is how far a segment may reach into recorded video
	// where its frames cannot be matched to it (seam.go), how far
	// behind the agent's the cloud's clock may be for a recorded
	// segment to begin at an upload's first frame, and how far an
	// upload's sample times may differ from the range it announced.
	Tolerance = time.Second
	// MaxInit bounds the init segment sent with an upload.
	MaxInit = 32 << 10
	// DefaultTTL is how long a pending upload lives.
	DefaultTTL = 24 * time.Hour
	// MaxLostRange bounds the range of one loss report.
	MaxLostRange = 31 * 24 * time.Hour
	// MinChunkRate is the slowest a chunk may arrive (bytes a second):
	// a chunk's body may take ChunkDeadline, longer than the server's
	// http_body_timeout, for agents on capped uplinks.
	MinChunkRate = 32 << 10
)

// ChunkDeadline is how long a chunk of n bytes may take to arrive: 30 s,
// and as long as n takes at MinChunkRate (an 8 MiB chunk: 4 min 46 s).
func ChunkDeadline(n int64) time.Duration {
	return 30*time.Second + time.Duration(n)*time.Second/MinChunkRate
}

// Refusals; the API maps them to statuses.
var (
	// ErrTooLarge: the announced size is over the configured bound (413).
	ErrTooLarge = errors.New("backfill: segment too large")
	// ErrNotMissing: the range is not (all) missing in the cloud (409).
	ErrNotMissing = errors.New("backfill: the range is not missing in the cloud")
)

// InputError is a refused field (400).
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// OffsetError refuses a chunk that is not at the acknowledged offset
// (409, with the offset to continue from).
type OffsetError struct{ Offset int64 }

func (e *OffsetError) Error() string {
	return fmt.Sprintf("backfill: the upload's acknowledged offset is %d", e.Offset)
}

// SegmentError is a completed upload that failed its checks (422): the
// staged bytes and the upload are gone, nothing was stored.
type SegmentError struct{ Msg string }

func (e *SegmentError) Error() string { return e.Msg }

func badSegment(format string, a ...any) error { return &SegmentError{Msg: fmt.Sprintf(format, a...)} }

// Config configures a Service.
type Config struct {
	Dir   store.Directory
	Zones *zone.Registry
	// Sites authenticates agents and computes what the cloud lacks
	// (Missing, the same computation as GET .../missing).
	Sites *sites.Service
	// Events records the losses agents report; nil: refused.
	Events *events.Service
	// Meter counts backfilled bytes as ingest, and the segments as
	// recorded time and stored bytes; nil: not counted.
	Meter *usage.Meter
	// Registerer receives the camcloud_backfill_* metrics; nil: none.
	Registerer prometheus.Registerer
	Log        *slog.Logger
	// ChunkSize is the most bytes one PATCH may carry (default 8 MiB);
	// MaxSize bounds a segment (default 256 MiB); TTL is how long a
	// pending upload lives (default 24 h).
	ChunkSize, MaxSize int64
	TTL                time.Duration
	Now                func() time.Time
}

// Service takes agents' uploads.
type Service struct {
	c Config
	m metrics
}

type metrics struct {
	received, duplicate prometheus.Counter
	segments            *prometheus.CounterVec
}

// Results of camcloud_backfill_segments_total.
const (
	resultStored        = "stored"
	resultAlreadyStored = "already_stored"
	resultInvalid       = "invalid"
)

// New returns a Service; its metrics are registered on c.Registerer.
func New(c Config) (*Service, error) {
	if c.ChunkSize == 0 {
		c.ChunkSize = DefaultChunkSize
	}
	if c.MaxSize == 0 {
		c.MaxSize = DefaultMaxSize
	}
	if c.TTL <= 0 {
		c.TTL = DefaultTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.ChunkSize < MinChunkSize || c.ChunkSize > MaxChunkSize {
		return nil, fmt.Errorf("backfill: chunk size %d must be in [%d, %d]", c.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if c.MaxSize < c.ChunkSize {
		return nil, fmt.Errorf("backfill: max segment size %d is below the chunk size %d", c.MaxSize, c.ChunkSize)
	}
	s := &Service{c: c, m: metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{Name: "camcloud_backfill_received_bytes_total",
			Help: "Bytes of backfill chunks received from edge agents (read from PATCH bodies, also of chunks cut off or refused after reading)."}),
		duplicate: prometheus.NewCounter(prometheus.CounterOpts{Name: "camcloud_backfill_duplicate_bytes_total",
			Help: "Bytes of backfill PATCHes whose range was already acknowledged (sent again by an agent that missed the answer)."}),
		segments: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camcloud_backfill_segments_total",
			Help: "Backfilled segments by result: stored, already_stored (a repeated upload), invalid (refused by the checks)."}, []string{"result"}),
	}}
	for _, r := range []string{resultStored, resultAlreadyStored, resultInvalid} {
		s.m.segments.WithLabelValues(r)
	}
	if c.Registerer != nil {
		for _, col := range []prometheus.Collector{s.m.received, s.m.duplicate, s.m.segments} {
			if err := c.Registerer.Register(col); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// ChunkSize is the most bytes one chunk may carry.
func (s *Service) ChunkSize() int64 { return s.c.ChunkSize }

// newID returns a random 128-bit id as 32 lower-case hex characters.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

// camera returns the camera id of the agent of credential with its
// zone, or store.ErrNotFound when it is not a camera of the agent's site.
func (s *Service) camera(ctx context.Context, credential, id string) (store.Camera, *zone.Zone, error) {
	a, err := s.c.Sites.Authenticate(ctx, credential)
	if err != nil {
		return store.Camera{}, nil, err
	}
	cam, err := s.c.Dir.GetCamera(ctx, id)
	if err != nil {
		return store.Camera{}, nil, err
	}
	if err := authz.AgentCamera(a, cam); err != nil {
		return store.Camera{}, nil, err
	}
	z, err := s.c.Zones.Get(cam.Zone)
	if err != nil {
		return store.Camera{}, nil, err
	}
	return cam, z, nil
}
