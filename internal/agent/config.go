package agent

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/camcloud/camcloud/internal/agent/backfill"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/netpolicy"
)

// Config is an agent's configuration (agent.yaml).
type Config struct {
	// Cloud is the base URL of the cloud's API (https://...; http only
	// with AllowHTTP, for tests and a local cloud).
	Cloud     string `yaml:"cloud"`
	AllowHTTP bool   `yaml:"allow_http"`
	// EnrolmentToken is the site's one-time enrolment token, used on the
	// first start only (the credential it is exchanged for is kept in
	// DataDir/credential).
	EnrolmentToken string `yaml:"enrolment_token"`
	// DataDir holds the ring buffer (spool, segments, index) and the
	// credential.
	DataDir string `yaml:"data_dir"`
	// BufferMaxBytes and BufferMaxAge bound the local ring buffer: the
	// oldest segments go first when either is passed (defaults 10 GiB,
	// 7 days).
	BufferMaxBytes int64         `yaml:"buffer_max_bytes"`
	BufferMaxAge   time.Duration `yaml:"buffer_max_age"`
	// SegmentDuration is the length of a local segment (default 60 s).
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// Heartbeat is how often the agent reports to the cloud (default 10 s).
	Heartbeat time.Duration `yaml:"heartbeat"`
	// ReadBatch is how long a camera's TCP connection lets media gather
	// in the kernel before it is read (default 100 ms, as the cloud's
	// ingest_read_batch; at most 1 s; "0s" is taken as the default):
	// one read system call per batch rather than per packet burst, the
	// agent's largest CPU cost (2 to 3 times less recording only).
	ReadBatch time.Duration `yaml:"read_batch"`
	// CommitInterval is how often the ring buffer's written fragments are
	// made durable (one fdatasync a camera a commit; default 1 s, at most
	// 5 s): with what is being built, what a power cut at the site may
	// lose of the local copy. The cloud's recorder commits every 100 ms;
	// the agent's copy is a buffer on what is often flash (an SD card,
	// eMMC), where ten journal commits a second a camera wear the medium
	// and cost about a tenth of the agent's CPU at 20 cameras.
	CommitInterval time.Duration `yaml:"commit_interval"`
	// PullAllow lists the prefixes (or addresses) on the site's network
	// the agent may pull cameras from; private addresses are normal here,
	// but nothing is allowed that is not listed.
	PullAllow []string `yaml:"pull_allow"`
	// ListenRTSP and ListenRTMP are the site-network addresses where
	// cameras configured with a push_secret publish to the agent
	// (":8554", ":1935"); empty turns a listener off. They are only
	// opened when a camera pushes.
	ListenRTSP string `yaml:"listen_rtsp"`
	ListenRTMP string `yaml:"listen_rtmp"`
	// GCPercent is the garbage collector's GOGC (default
	// DefaultGCPercent; -1: collect only at MemoryLimit), applied by
	// TuneRuntime.
	GCPercent int `yaml:"gc_percent"`
	// MemoryLimit is a soft limit, in bytes, of the memory of the Go
	// runtime (debug.SetMemoryLimit; default none): a device short of
	// memory sets it to what the agent may use, and the collector runs
	// more often as the heap nears it. It does not cover the executable's
	// own pages.
	MemoryLimit int64 `yaml:"memory_limit_bytes"`
	// Cameras are the cameras the agent pulls or that push to it.
	Cameras []Camera `yaml:"cameras"`
	// Backfill configures the upload of what the cloud lacks after an
	// outage.
	Backfill Backfill `yaml:"backfill"`
}

// Backfill configures backfill (internal/agent/backfill).
type Backfill struct {
	// Order is "oldest" (default: the timeline fills in from the start of
	// the outage) or "newest" (the latest video first).
	Order string `yaml:"order"`
	// RateBPS caps the agent's uplink use in bits per second (default 10
	// Mbit/s): backfill gets the cap minus what the live relay sends; live
	// is never held back.
	RateBPS int64 `yaml:"rate_bps"`
	// Schedule is an optional daily window, "22:00-06:00" in the agent's
	// local time (it may wrap past midnight); empty: at any time.
	Schedule string `yaml:"schedule"`
	// Interval is how often the agent asks the cloud what it lacks when
	// there is nothing to upload (default 30 s).
	Interval time.Duration `yaml:"interval"`
	// Settle is how old a local segment must be before backfill asks about
	// it (default 3 min): longer than the cloud's segment duration plus its
	// upload, so that video the live relay brought is not sent again.
	Settle time.Duration `yaml:"settle"`
}

// Camera is one camera of the site.
type Camera struct {
	// ID is the camera's id in the cloud (its site_id is this site).
	ID string `yaml:"id"`
	// URL is where the agent pulls it (rtsp:// on the site's network);
	// empty for a camera that pushes to the agent.
	URL string `yaml:"url"`
	// PushSecret, instead of URL, makes the camera push to the agent's
	// listeners at rtsp://AGENT:PORT/cam/ID/SECRET (or the RTMP
	// equivalent); at least 16 characters, never logged.
	PushSecret string `yaml:"push_secret"`
	// IngestURL is the camera's ingest URL in the cloud (rtsp://.../cam/ID/SECRET),
	// where the agent relays it live while the uplink is up.
	IngestURL string `yaml:"ingest_url"`
}

// Defaults and bounds of Config.
const (
	DefaultBufferMaxBytes = 10 << 30
	DefaultBufferMaxAge   = 7 * 24 * time.Hour
	DefaultHeartbeat      = 10 * time.Second
	DefaultReadBatch      = 100 * time.Millisecond
	DefaultCommitInterval = time.Second
	minMemoryLimit        = 8 << 20
	minBufferBytes        = 1 << 20
	maxCameras            = 256
	// DefaultBackfillBPS is the default uplink cap (10 Mbit/s).
	DefaultBackfillBPS = 10_000_000
	minBackfillBPS     = 64_000
	maxBackfillBPS     = 100_000_000_000
	maxBackfillWait    = 24 * time.Hour
)

// LoadConfig reads and checks an agent.yaml file (unknown fields are
// refused, so a misspelt setting is not silently ignored).
func LoadConfig(path string) (Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return Config{}, fmt.Errorf("agent: %s: %w", path, err)
	}
	if c.DataDir != "" && !filepath.IsAbs(c.DataDir) {
		c.DataDir = filepath.Join(filepath.Dir(path), c.DataDir)
	}
	return c, c.Check()
}

// Check validates c and fills its defaults.
func (c *Config) Check() error {
	u, err := url.Parse(c.Cloud)
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && !(c.AllowHTTP && u.Scheme == "http")):
		return errors.New("agent: cloud must be an https:// URL (http:// only with allow_http)")
	case u.User != nil:
		return errors.New("agent: cloud must not carry credentials")
	case c.DataDir == "":
		return errors.New("agent: data_dir is required")
	case len(c.Cameras) > maxCameras:
		return fmt.Errorf("agent: at most %d cameras", maxCameras)
	}
	c.Cloud = strings.TrimRight(c.Cloud, "/")
	if c.BufferMaxBytes == 0 {
		c.BufferMaxBytes = DefaultBufferMaxBytes
	}
	if c.BufferMaxBytes < minBufferBytes {
		return fmt.Errorf("agent: buffer_max_bytes must be at least %d", minBufferBytes)
	}
	if c.BufferMaxAge <= 0 {
		c.BufferMaxAge = DefaultBufferMaxAge
	}
	if c.Heartbeat <= 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	switch {
	case c.ReadBatch == 0:
		c.ReadBatch = DefaultReadBatch
	case c.ReadBatch < 0 || c.ReadBatch > time.Second:
		return fmt.Errorf("agent: read_batch %s must be in (0, 1s]", c.ReadBatch)
	}
	switch {
	case c.CommitInterval == 0:
		c.CommitInterval = DefaultCommitInterval
	case c.CommitInterval < 0 || c.CommitInterval > 5*time.Second:
		return fmt.Errorf("agent: commit_interval %s must be in (0, 5s]", c.CommitInterval)
	}
	if err := c.checkRuntime(); err != nil {
		return err
	}
	if err := c.Backfill.check(); err != nil {
		return err
	}
	if _, err := netpolicy.ParseAllow(c.PullAllow); err != nil {
		return fmt.Errorf("agent: pull_allow: %w", err)
	}
	seen := map[string]bool{}
	for i, cam := range c.Cameras {
		if cam.ID == "" || seen[cam.ID] {
			return fmt.Errorf("agent: camera %d: an id is required, once", i+1)
		}
		seen[cam.ID] = true
		switch {
		case cam.PushSecret != "" && cam.URL != "":
			return fmt.Errorf("agent: camera %s: give url (pulled) or push_secret (pushed), not both", cam.ID)
		case cam.PushSecret != "":
			if len(cam.PushSecret) < minPushSecret || !ingesturl.ValidID(cam.PushSecret) {
				return fmt.Errorf("agent: camera %s: push_secret must be at least %d letters, digits, '-' or '_'", cam.ID, minPushSecret)
			}
			if c.ListenRTSP == "" && c.ListenRTMP == "" {
				return fmt.Errorf("agent: camera %s pushes, but neither listen_rtsp nor listen_rtmp is set", cam.ID)
			}
		default:
			if pu, err := url.Parse(cam.URL); err != nil || (pu.Scheme != "rtsp" && pu.Scheme != "rtsps") || pu.Host == "" {
				return fmt.Errorf("agent: camera %s: url must be rtsp:// or rtsps:// with a host (or give push_secret for a camera that pushes)", cam.ID)
			}
		}
		if iu, err := url.Parse(cam.IngestURL); cam.IngestURL != "" && (err != nil || (iu.Scheme != "rtsp" && iu.Scheme != "rtsps")) {
			return fmt.Errorf("agent: camera %s: ingest_url must be the camera's rtsp:// ingest URL", cam.ID)
		}
	}
	return nil
}

// checkRuntime validates the garbage collector settings and fills their
// defaults.
func (c *Config) checkRuntime() error {
	if c.GCPercent == 0 {
		c.GCPercent = DefaultGCPercent
	}
	switch {
	case c.GCPercent < -1:
		return errors.New("agent: gc_percent must be -1 (off until memory_limit_bytes) or more than 0")
	case c.MemoryLimit < 0 || (c.MemoryLimit > 0 && c.MemoryLimit < minMemoryLimit):
		return fmt.Errorf("agent: memory_limit_bytes must be at least %d (or 0: none)", minMemoryLimit)
	case c.GCPercent == -1 && c.MemoryLimit == 0:
		return errors.New("agent: gc_percent -1 turns the collector off, which needs memory_limit_bytes")
	}
	return nil
}

// check validates b and fills its defaults.
func (b *Backfill) check() error {
	if _, err := backfill.ParseOrder(b.Order); err != nil {
		return fmt.Errorf("agent: backfill.%w", err)
	}
	if _, err := backfill.ParseSchedule(b.Schedule); err != nil {
		return fmt.Errorf("agent: backfill.%w", err)
	}
	if b.RateBPS == 0 {
		b.RateBPS = DefaultBackfillBPS
	}
	if b.RateBPS < minBackfillBPS || b.RateBPS > maxBackfillBPS {
		return fmt.Errorf("agent: backfill.rate_bps %d: must be between %d and %d bits per second", b.RateBPS, minBackfillBPS, maxBackfillBPS)
	}
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{{"interval", &b.Interval, backfill.DefaultInterval}, {"settle", &b.Settle, backfill.DefaultSettle}} {
		if *d.v == 0 {
			*d.v = d.def
		}
		if *d.v < 0 || *d.v > maxBackfillWait {
			return fmt.Errorf("agent: backfill.%s %s: must be more than 0 and at most %s", d.name, *d.v, maxBackfillWait)
		}
	}
	return nil
}

// worker is the backfill configuration c describes (checked by Check).
func (b Backfill) worker() backfill.Config {
	order, _ := backfill.ParseOrder(b.Order)
	sched, _ := backfill.ParseSchedule(b.Schedule)
	return backfill.Config{Order: order, Schedule: sched, Interval: b.Interval, Settle: b.Settle}
}
