// Package events is the event service: what happens to cameras (online,
// offline, recording gaps, storage pressure, motion, custom events posted
// by integrations), written to the camera's zone DB with a zone-wide
// sequence number, listed for a principal, and fanned out to streams that
// tail each zone's log once per process.
//
// Producers call Record (an instantaneous event), Open and Close (a
// ranged one, such as motion), MarkOnline and MarkOffline (presence, which
// decide atomically across a zone's camera servers whether the change is
// news). Readers call List (a page, newest first), Tail (a zone's log
// after a sequence number: webhooks and other nodes) and Subscribe (a
// live stream, as the SSE route serves it).
package events

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/zone"
)

// Event types.
const (
	TypeOnline  = "camera.online"
	TypeOffline = "camera.offline"
	// TypeRecordingGap is ranged: a connected camera that should be
	// recorded is not (from its last recorded fragment until recording
	// resumes or it disconnects).
	TypeRecordingGap = "recording.gap"
	// TypeRecordingStorage: spool pressure on its camera server (ranged)
	// or recordings deleted early for free disk space (instantaneous).
	TypeRecordingStorage = "recording.storage"
	// TypeMotion is ranged, opened and closed by the motion detector.
	TypeMotion = "motion"
	// TypeCustom is posted by integrations, as is any "custom.NAME".
	TypeCustom = "custom"
)

// Sources of events that are not posted through the API (those say
// "user:ID" or "api_key:ID").
const (
	SourceSystem = "system"
	SourceMotion = "motion"
)

// MaxDetail bounds an event's detail: a JSON object of at most this many
// bytes once compacted.
const MaxDetail = store.MaxEventDetail

// Event is one event of a camera.
type Event struct {
	ID       string
	Zone     string
	OrgID    string
	CameraID string
	Type     string
	Start    time.Time
	// End is when a ranged event ended; zero for an instantaneous event
	// and for a ranged one going on (Ongoing).
	End     time.Time
	Ongoing bool
	// Detail is a JSON object (nil: none).
	Detail json.RawMessage
	Source string
	// Seq is the event's place in its zone's log (see Tail). An event
	// that is closed gets a new one: a reader that tailed it opened sees
	// it again, ended (one that comes later sees it ended only).
	Seq int64
}

// InputError is a refused event or query: the API answers 400.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

func invalid(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }

// ErrTooManyStreams refuses a subscription beyond the per-user or
// per-organisation bound; the API answers 429.
var ErrTooManyStreams = errors.New("events: too many event streams open")

// Config configures a Service.
type Config struct {
	Dir   store.Directory
	Zones *zone.Registry
	Log   *slog.Logger
	// Registerer receives the metrics; nil: none.
	Registerer prometheus.Registerer
	// Now is the clock (time.Now by default).
	Now func() time.Time
	// PollInterval is how often a process tails each zone's log while it
	// has subscribers (default 500 ms).
	PollInterval time.Duration
	// MaxStreamsPerUser and MaxStreamsPerOrg bound the streams open at
	// once on this process (defaults 8 and 200).
	MaxStreamsPerUser, MaxStreamsPerOrg int
	// Meter counts the events written per camera (usage); nil: not counted.
	Meter *usage.Meter
}

// Service records, lists and streams events.
type Service struct {
	c        Config
	log      *slog.Logger
	recorded *prometheus.CounterVec
	broker   *broker

	mu   sync.Mutex
	cams map[string]camInfo // camera lookups, see camera
}

// New returns the service; its metrics are registered on c.Registerer.
func New(c Config) (*Service, error) {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 500 * time.Millisecond
	}
	if c.MaxStreamsPerUser <= 0 {
		c.MaxStreamsPerUser = 8
	}
	if c.MaxStreamsPerOrg <= 0 {
		c.MaxStreamsPerOrg = 200
	}
	s := &Service{c: c, log: c.Log, cams: map[string]camInfo{},
		recorded: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "events", Name: "recorded_total",
			Help: "Events recorded by this process, by type (custom.* counted as custom; a ranged event counts when opened)."}, []string{"type"})}
	s.broker = newBroker(s)
	if c.Registerer != nil {
		if err := c.Registerer.Register(s.recorded); err != nil {
			return nil, err
		}
		if err := c.Registerer.Register(s.broker.subscribers); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Stop ends the stream fan-out; open subscriptions end.
func (s *Service) Stop() { s.broker.close() }

// newID returns a random 32-hex-character id.
func newID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system random source never fails on Linux
	}
	return hex.EncodeToString(b[:])
}

// camInfo is what events need of a camera, cached (an organisation and
// zone never change).
type camInfo struct {
	cam store.Camera
	at  time.Time
}

// camCacheTTL bounds how long a camera lookup is reused; camCacheMax how
// many are kept.
const (
	camCacheTTL = time.Minute
	camCacheMax = 20000
)

// camera returns camera id from the directory, through a small cache.
func (s *Service) camera(ctx context.Context, id string) (store.Camera, error) {
	now := s.c.Now()
	s.mu.Lock()
	ci, ok := s.cams[id]
	s.mu.Unlock()
	if ok && now.Sub(ci.at) < camCacheTTL {
		return ci.cam, nil
	}
	cam, err := s.c.Dir.GetCamera(ctx, id)
	if err != nil {
		return store.Camera{}, err
	}
	s.mu.Lock()
	if len(s.cams) >= camCacheMax {
		clear(s.cams)
	}
	s.cams[id] = camInfo{cam: cam, at: now}
	s.mu.Unlock()
	return cam, nil
}

// zoneDB returns a zone's database.
func (s *Service) zoneDB(name string) (store.Zone, error) {
	z, err := s.c.Zones.Get(name)
	if err != nil {
		return nil, err
	}
	return z.DB, nil
}

// fromRow turns a stored row of zone zn into an Event.
func fromRow(zn string, r store.Event) Event {
	e := Event{ID: r.ID, Zone: zn, OrgID: r.OrgID, CameraID: r.CameraID, Type: r.Type, Start: r.Start, End: r.End,
		Ongoing: r.Ongoing, Source: r.Source, Seq: r.Seq}
	if r.Detail != "" {
		e.Detail = json.RawMessage(r.Detail)
	}
	return e
}

// metricType is the type label of the recorded counter.
func metricType(t string) string {
	if IsCustom(t) {
		return TypeCustom
	}
	return t
}

// JSON is an event's public form: the API's listings and stream, and
// what integrations receive.
type JSON struct {
	ID       string          `json:"id"`
	Type     string          `json:"type"`
	OrgID    string          `json:"org_id"`
	CameraID string          `json:"camera_id"`
	Time     time.Time       `json:"time"`
	End      *time.Time      `json:"end,omitempty"`
	Ongoing  bool            `json:"ongoing,omitempty"`
	Detail   json.RawMessage `json:"detail,omitempty"`
	Source   string          `json:"source"`
	Zone     string          `json:"zone"`
	Seq      int64           `json:"seq"`
}

// Wire returns e's public form.
func (e Event) Wire() JSON {
	j := JSON{ID: e.ID, Type: e.Type, OrgID: e.OrgID, CameraID: e.CameraID, Time: e.Start.UTC(), Ongoing: e.Ongoing,
		Detail: e.Detail, Source: e.Source, Zone: e.Zone, Seq: e.Seq}
	if !e.End.IsZero() {
		end := e.End.UTC()
		j.End = &end
	}
	return j
}
