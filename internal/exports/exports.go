// Package exports runs evidence exports as jobs: a member with export
// permission on a camera asks for a range; the job (a row of the
// directory's exports table) is run by one api node at a time, under a
// lease, and restarted from the beginning by another node when the one
// that ran it stops or dies. A job writes the clip (playback's clip
// export, through Config.Clip), optionally re-encodes it with a burned-in
// watermark (ffmpeg), packs it with its signed manifest (package
// evidence) and stores the package in the camera's zone's object store,
// where every api node can serve it (with Range) until it expires. A
// finished job records an export.ready event on its camera.
package exports

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// ClipFunc writes the MP4 clip of cam's [from, to) to w on behalf of
// subject (a user id), telling progress the bytes written of the total,
// and returns the time of its first frame and the end of its last
// (playback.Service.WriteClip). ErrNothingRecorded, wrapped or not, when
// nothing is recorded there.
type ClipFunc func(ctx context.Context, cam store.Camera, from, to time.Time, subject string, w io.Writer, progress func(done, total int64)) (first, end time.Time, err error)

// ErrNothingRecorded is what a ClipFunc answers for an empty range.
var ErrNothingRecorded = errors.New("nothing is recorded in the range")

// Config is what the service needs.
type Config struct {
	Dir   store.Directory
	Zones *zone.Registry
	Audit *audit.Log
	// Events receives export.ready; nil: no event.
	Events *events.Service
	Key    *evidence.Key
	Clip   ClipFunc
	// FFmpeg is the ffmpeg binary for watermarks; "": refused.
	FFmpeg string
	// TempDir holds packages while they are built (the data directory's
	// exports-tmp).
	TempDir string
	Log     *slog.Logger
	Now     func() time.Time
	// Node names this process in leases (random by default).
	Node string
	// MaxRange bounds an export's range.
	MaxRange time.Duration
	// MaxActive bounds an organisation's jobs queued or running.
	MaxActive int
	// TTL is how long a finished package is kept.
	TTL time.Duration
	// Workers is how many jobs this node runs at once (0: none).
	Workers int
	// LeaseTTL is how long a lease holds without renewal (default 30 s);
	// ScanInterval how often idle workers look for jobs (default 2 s).
	LeaseTTL, ScanInterval time.Duration
}

// MaxAttempts is how often a job is started before it is failed (a job
// that kills its node must not kill every node in turn).
const MaxAttempts = 3

// Service creates, lists, runs and serves export jobs.
type Service struct {
	c    Config
	log  *slog.Logger
	wake chan struct{}
}

// New returns the service; Run runs its workers.
func New(c Config) (*Service, error) {
	if c.Dir == nil || c.Zones == nil || c.Audit == nil || c.Key == nil || c.Clip == nil {
		return nil, fmt.Errorf("exports: Dir, Zones, Audit, Key and Clip are required")
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Node == "" {
		c.Node = "export-" + newID()[:12]
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 30 * time.Second
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = 2 * time.Second
	}
	if c.MaxActive <= 0 {
		c.MaxActive = 2
	}
	if c.TTL <= 0 {
		c.TTL = 72 * time.Hour
	}
	if c.TempDir == "" {
		c.TempDir = os.TempDir()
	}
	if err := os.MkdirAll(c.TempDir, 0o750); err != nil {
		return nil, fmt.Errorf("exports: %w", err)
	}
	return &Service{c: c, log: c.Log.With("component", "exports"), wake: make(chan struct{}, 1)}, nil
}

// PublicKey is the deployment's evidence public key.
func (s *Service) PublicKey() *evidence.Key { return s.c.Key }

// Watermarks reports whether this node can burn in watermarks.
func (s *Service) Watermarks() bool { return s.c.FFmpeg != "" }

// InputError is a refused export request: the API answers 400.
type InputError struct{ Code, Msg string }

func (e *InputError) Error() string { return e.Msg }

// ErrNoFFmpeg refuses a watermark on a node without ffmpeg: 501.
var ErrNoFFmpeg = errors.New("a watermark re-encodes the video with ffmpeg, which is not installed on this api node")

// ErrNotReady refuses the download of a job not finished: 409.
var ErrNotReady = errors.New("the export is not ready")

// Request is an export asked for.
type Request struct {
	From, To            time.Time
	Evidence, Watermark bool
}

// Actor is who asks, for the job and its audit entry.
type Actor struct {
	P       *authz.Principal
	Email   string
	Address string
	ActorAs string
}

// Create queues an export of cam (which the caller found for a with
// export permission) and audits it; the entry's sequence number goes in
// the manifest. store.ErrLimit when the organisation has MaxActive jobs
// going.
func (s *Service) Create(ctx context.Context, a Actor, cam store.Camera, q Request) (store.Export, error) {
	if err := authz.Camera(a.P, cam, authz.PermExport); err != nil {
		return store.Export{}, err
	}
	now := s.c.Now().UTC()
	q.From, q.To = q.From.UTC().Truncate(time.Microsecond), q.To.UTC().Truncate(time.Microsecond)
	switch {
	case q.From.IsZero() || q.To.IsZero():
		return store.Export{}, &InputError{"bad_request", "from and to are required (RFC 3339)"}
	case !q.To.After(q.From):
		return store.Export{}, &InputError{"bad_request", "to must be after from"}
	case q.To.Sub(q.From) > s.c.MaxRange:
		return store.Export{}, &InputError{"range_too_long", fmt.Sprintf("an export may cover at most %s, asked for %s", s.c.MaxRange, q.To.Sub(q.From).Round(time.Second))}
	case q.From.After(now):
		return store.Export{}, &InputError{"bad_request", "from is in the future"}
	case q.Watermark && s.c.FFmpeg == "":
		return store.Export{}, ErrNoFFmpeg
	}
	e := store.Export{ID: newID(), OrgID: cam.OrgID, CameraID: cam.ID, Zone: cam.Zone, From: q.From, To: q.To,
		Evidence: q.Evidence, Watermark: q.Watermark, State: store.ExportQueued, CreatedEmail: a.Email,
		CreatedAt: now, UpdatedAt: now}
	if a.P != nil {
		e.CreatedBy = a.P.UserID
	}
	entry, err := s.c.Audit.Record(ctx, store.AuditEntry{Actor: a.Email, ActorAs: a.ActorAs, Address: a.Address, Action: "export.create",
		Target: "export:" + e.ID, OrgID: cam.OrgID, CameraID: cam.ID,
		Detail: fmt.Sprintf("%s..%s evidence=%t watermark=%t", q.From.Format(time.RFC3339), q.To.Format(time.RFC3339), q.Evidence, q.Watermark)})
	if err != nil {
		return store.Export{}, err
	}
	e.AuditSeq = entry.Seq
	if err := s.c.Dir.CreateExport(ctx, e, s.c.MaxActive); err != nil {
		return store.Export{}, err
	}
	s.poke()
	return e, nil
}

// Get returns job id if p may export its camera; store.ErrNotFound
// otherwise (another organisation's job is not found).
func (s *Service) Get(ctx context.Context, p *authz.Principal, id string) (store.Export, store.Camera, error) {
	e, err := s.c.Dir.GetExport(ctx, id)
	if err != nil {
		return store.Export{}, store.Camera{}, err
	}
	cam, err := s.c.Dir.GetCamera(ctx, e.CameraID)
	if err != nil {
		return store.Export{}, store.Camera{}, err
	}
	if authz.Camera(p, cam, authz.PermExport) != nil {
		return store.Export{}, store.Camera{}, store.ErrNotFound
	}
	return e, cam, nil
}

// List returns the newest jobs of cam (found by the caller with export
// permission).
func (s *Service) List(ctx context.Context, cam store.Camera) ([]store.Export, error) {
	return s.c.Dir.ListExports(ctx, cam.ID, 20)
}

// Open returns the store holding a ready job's package and its key.
func (s *Service) Open(e store.Export) (blob.Store, error) {
	if e.State != store.ExportReady {
		return nil, ErrNotReady
	}
	z, err := s.c.Zones.Get(e.Zone)
	if err != nil {
		return nil, err
	}
	return z.Blobs, nil
}

// poke wakes an idle worker.
func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// newID returns a random 32-hex-character id.
func newID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return hex.EncodeToString(b)
}
