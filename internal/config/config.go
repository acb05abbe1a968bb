// Package config merges defaults, an optional YAML file, CAMCLOUD_*
// environment variables and command-line flags (in rising precedence) into
// one Config value that the rest of camcloud is built from.
package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/netpolicy"
)

// Roles a process can run.
const (
	RoleAll          = "all"
	RoleAPI          = "api"
	RoleCameraServer = "camera-server"
)

// Values of Config.HTTPS.
const (
	HTTPSAuto = "auto"
	HTTPSOn   = "on"
	HTTPSOff  = "off"
)

// MaxMetricsCameraHealth bounds Config.MetricsCameraHealth: the most
// per-camera series /metrics exports.
const MaxMetricsCameraHealth = 1000

// maxLiveBound bounds the live viewer limits of Config.
const maxLiveBound = 100000

// Config is the whole configuration of one camcloud process.
type Config struct {
	// DataDir holds the SQLite files, local blobs, the spool and generated keys.
	DataDir string `yaml:"data_dir"`
	// HTTP, RTSP and RTMP are listen addresses.
	HTTP string `yaml:"http"`
	RTSP string `yaml:"rtsp"`
	RTMP string `yaml:"rtmp"`
	// RTSPUDP is the RTP port address of the RTSP UDP transport (RTCP uses
	// the next port); empty disables UDP.
	RTSPUDP string `yaml:"rtsp_udp"`
	// Demo seeds a demo organisation and simulated cameras.
	Demo bool `yaml:"demo"`
	// Motion runs motion detection (from compressed frame sizes) on the
	// cameras this camera server holds whose motion setting is enabled.
	Motion bool `yaml:"motion"`
	// Usage meters what each organisation's cameras use (in memory,
	// flushed to the zone databases every UsageFlush).
	Usage      bool          `yaml:"usage"`
	UsageFlush time.Duration `yaml:"usage_flush"`
	// Role selects what this process runs: all, api or camera-server.
	Role string `yaml:"role"`
	// Zone is the zone a camera-server belongs to.
	Zone string `yaml:"zone"`
	// ServerID names this camera server in its zone. Default: the host name
	// and a random suffix, generated once into DataDir so that a restarted
	// server keeps its name (and its leases) while two servers on one
	// machine never share one.
	ServerID string `yaml:"server_id"`
	// PublicHost is the host name cameras and players use to reach this
	// process (in ingest and media URLs); default: the host of the request.
	PublicHost string `yaml:"public_host"`
	// AdvertiseURL is the base URL api nodes use to reach this camera server.
	AdvertiseURL string `yaml:"advertise_url"`
	// Directory is the DSN of the directory DB (sqlite:PATH or mysql://...).
	Directory string `yaml:"directory"`
	// Zones lists every zone; empty means one zone "local" in DataDir.
	Zones []Zone `yaml:"zones"`
	// SegmentDuration is the target length of one recorded object.
	SegmentDuration time.Duration `yaml:"segment_duration"`
	// FragmentDuration is how much video is flushed to the spool at once.
	FragmentDuration time.Duration `yaml:"fragment_duration"`
	// MaxSpoolBytes bounds the local spool of not-yet-uploaded video.
	MaxSpoolBytes int64 `yaml:"max_spool_bytes"`
	// IngestReadBatch is how long a camera's TCP connection lets media
	// gather between reads (fewer wake-ups and system calls per camera, at
	// the cost of that much live latency); 0 reads as data arrives.
	IngestReadBatch time.Duration `yaml:"ingest_read_batch"`
	// LiveMaxSessions bounds the WebRTC viewers of this camera server;
	// LiveMaxSessionsPerUser and LiveMaxSessionsPerToken those of one user
	// and one media token; LiveMaxHLSPerToken the concurrent LL-HLS
	// requests of one token. 0: the live package's defaults.
	LiveMaxSessions         int `yaml:"live_max_sessions"`
	LiveMaxSessionsPerUser  int `yaml:"live_max_sessions_per_user"`
	LiveMaxSessionsPerToken int `yaml:"live_max_sessions_per_token"`
	LiveMaxHLSPerToken      int `yaml:"live_max_hls_per_token"`
	// MinFreeBytes: below this free space on a local store, the oldest
	// recordings are deleted first.
	MinFreeBytes int64 `yaml:"min_free_bytes"`
	// RetentionInterval is how often the retention sweeper runs.
	RetentionInterval time.Duration `yaml:"retention_interval"`
	// MaxClip bounds the length of one exported clip.
	MaxClip time.Duration `yaml:"max_clip"`
	// PullCapacity is how many pulled cameras this camera server leases.
	PullCapacity int `yaml:"pull_capacity"`
	// LeaseTTL is how long a pulled camera's lease lasts without renewal.
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// OfflineDebounce is how long a camera must stay away (stop
	// publishing, or its pull fail) before it is offline and a
	// camera.offline event is recorded; a camera back within it makes no
	// event. 1s to 10m.
	OfflineDebounce time.Duration `yaml:"offline_debounce"`
	// MetricsCameraHealth is how many cameras (at most MaxMetricsCameraHealth,
	// the first by id) /metrics gives a last-frame age of its own
	// (camcloud_camera_last_frame_age_seconds{zone,camera}); 0, the
	// default, leaves the per-camera series out, so that the number of
	// series stays bounded whatever the fleet's size.
	MetricsCameraHealth int `yaml:"metrics_camera_health"`
	// PullAllow lists CIDR prefixes (or addresses) that pulled cameras may
	// be reached at although the destination policy refuses them by
	// default: private ranges of an on-premises network, or 127.0.0.0/8
	// for tests. Empty: public addresses only (internal/netpolicy).
	PullAllow []string `yaml:"pull_allow"`
	// MediaKey signs media URLs; all nodes must share it. Default: a key
	// generated once into DataDir.
	MediaKey string `yaml:"media_key"`
	// HTTPHeaderTimeout bounds the time a request's headers take to arrive.
	HTTPHeaderTimeout time.Duration `yaml:"http_header_timeout"`
	// HTTPBodyTimeout bounds the time a request body takes to arrive, after
	// its headers; responses are not bounded (downloads, blocking playlist
	// reloads and event streams last as long as they need).
	HTTPBodyTimeout time.Duration `yaml:"http_body_timeout"`
	// HTTPMaxConns bounds the HTTP connections open at once; 0: no bound.
	HTTPMaxConns int `yaml:"http_max_conns"`
	// HTTPMaxConnsPerIP bounds the HTTP connections open at once from one
	// IPv4 address or IPv6 /64; 0: no bound (behind a proxy or load
	// balancer every connection comes from its address).
	HTTPMaxConnsPerIP int `yaml:"http_max_conns_per_ip"`
	// AuditKey keys the audit log's hash chain and signs its checkpoints;
	// it must not be kept in the database. Default: derived from MediaKey
	// when that is configured, else a key generated once into DataDir
	// (audit.key, mode 0600).
	AuditKey string `yaml:"audit_key"`
	// AuditCheckpointInterval is how often api nodes publish a signed
	// checkpoint of the audit log's head to the first zone's object store.
	AuditCheckpointInterval time.Duration `yaml:"audit_checkpoint_interval"`
	// SessionTTL is the lifetime of a login session (at most 12 h).
	SessionTTL time.Duration `yaml:"session_ttl"`
	// HTTPS says whether browsers reach this service over HTTPS, for the
	// Secure flag of session cookies and the Strict-Transport-Security
	// header: "auto" (the default) when the request came over TLS or
	// through a proxy that sent X-Forwarded-Proto: https; "on" always (a
	// TLS proxy that does not send the header); "off" never (plain HTTP
	// only, e.g. on a private network).
	HTTPS string `yaml:"https"`
	// TOTPKey encrypts users' TOTP secrets at rest (at least 32
	// characters). Default: derived from the media key. Changing it makes
	// the secrets sealed with the old one unreadable (TOTP must be
	// enrolled again).
	TOTPKey string `yaml:"totp_key"`
	// DebugAddr, when set, serves Go's pprof profiles there (keep it private).
	DebugAddr string `yaml:"debug_addr"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`
	// Webhooks configures webhook delivery (webhooks.go).
	Webhooks `yaml:",inline"`
	// Export configures the analytics data export (export.go).
	Export Export `yaml:"export"`
	// Exports configures evidence exports (exports.go).
	Exports `yaml:",inline"`
	// Backfill configures edge agents' backfill uploads (backfill.go).
	Backfill `yaml:",inline"`
	// GCPercent is the Go garbage collector's target (GOGC), 10 to 1000;
	// the GOGC environment variable wins when set. The default is Go's,
	// 100: since video no longer waits in the heap for its fragment, 50
	// saves little memory (0.31 against 0.24 MiB per camera) for about a
	// fifth more CPU (docs/benchmarks.md).
	GCPercent int `yaml:"gc_percent"`
}

// Zone configures one zone: its database, its object store and the address
// its cameras push to.
type Zone struct {
	Name  string `yaml:"name"`
	DB    string `yaml:"db"`
	Store Store  `yaml:"store"`
	// Ingest is where the zone's cameras push: typically a layer-4 load
	// balancer or DNS name in front of the zone's camera servers. The api
	// puts it into the ingest URLs of the zone's cameras; empty: the api's
	// own public host and configured RTSP/RTMP ports.
	Ingest Ingest `yaml:"ingest"`
}

// Ingest names the public host:port addresses of a zone's RTSP and RTMP
// ingest.
type Ingest struct {
	RTSP string `yaml:"rtsp"`
	RTMP string `yaml:"rtmp"`
}

// Store configures an object store: a local directory or S3.
type Store struct {
	Type      string `yaml:"type"` // "local" or "s3"
	Dir       string `yaml:"dir"`
	Endpoint  string `yaml:"endpoint"`
	Region    string `yaml:"region"`
	Bucket    string `yaml:"bucket"`
	Prefix    string `yaml:"prefix"`
	AccessKey string `yaml:"access_key"`
	SecretKey string `yaml:"secret_key"`
	UseTLS    bool   `yaml:"use_tls"`
	PathStyle bool   `yaml:"path_style"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		DataDir:           "data",
		HTTP:              ":8080",
		RTSP:              ":8554",
		RTMP:              ":1935",
		RTSPUDP:           ":8000",
		Role:              RoleAll,
		Motion:            true,
		Usage:             true,
		UsageFlush:        time.Minute,
		Zone:              "local",
		SegmentDuration:   60 * time.Second,
		FragmentDuration:  900 * time.Millisecond, // + the 100 ms group commit: RPO about 1 s
		MaxSpoolBytes:     2 << 30,
		IngestReadBatch:   100 * time.Millisecond,
		MinFreeBytes:      1 << 30,
		RetentionInterval: 5 * time.Minute,
		MaxClip:           2 * time.Hour,
		PullCapacity:      500,
		LeaseTTL:          15 * time.Second,
		OfflineDebounce:   5 * time.Second,
		HTTPHeaderTimeout: 10 * time.Second,
		HTTPBodyTimeout:   30 * time.Second,
		HTTPMaxConns:      8192,
		HTTPMaxConnsPerIP: 512,
		SessionTTL:        12 * time.Hour,
		HTTPS:             HTTPSAuto,

		AuditCheckpointInterval: 5 * time.Minute,
		Webhooks:                defaultWebhooks(),
		Export:                  defaultExport(),
		Exports:                 defaultExports(),
		Backfill:                defaultBackfill(),
		LogLevel:                "info",
		GCPercent:               100,
	}
}

// Finish fills values derived from others (paths in DataDir, the default
// zone) and checks the result.
func (c *Config) Finish() error {
	if c.DataDir == "" {
		return errors.New("data_dir must not be empty")
	}
	abs, err := filepath.Abs(c.DataDir)
	if err != nil {
		return fmt.Errorf("data_dir: %w", err)
	}
	c.DataDir = abs
	switch c.Role {
	case RoleAll, RoleAPI, RoleCameraServer:
	default:
		return fmt.Errorf("unknown role %q: the roles are all, api and camera-server", c.Role)
	}
	switch strings.ToLower(c.LogLevel) {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("unknown log_level %q: the levels are debug, info, warn and error", c.LogLevel)
	}
	if c.Role != RoleAll {
		// Separate processes must share their databases and media key: the
		// per-process defaults (SQLite in the data dir, a generated key)
		// would silently give each process its own.
		if c.Directory == "" || len(c.Zones) == 0 {
			return fmt.Errorf("role %s: directory and zones must be configured (each process would otherwise have its own databases)", c.Role)
		}
		if c.MediaKey == "" {
			return fmt.Errorf("role %s: media_key must be configured and shared by all nodes (media URLs signed by an api node are checked by camera servers)", c.Role)
		}
	}
	if c.Directory == "" {
		c.Directory = "sqlite:" + filepath.Join(c.DataDir, "directory.db")
	}
	if len(c.Zones) == 0 {
		c.Zones = []Zone{{Name: "local"}}
	}
	for i := range c.Zones {
		z := &c.Zones[i]
		if !validName(z.Name) {
			return fmt.Errorf("zone %d: name %q must be 1-32 of a-z 0-9 -", i, z.Name)
		}
		if z.DB == "" {
			z.DB = "sqlite:" + filepath.Join(c.DataDir, "zone-"+z.Name+".db")
		}
		if z.Store.Type == "" {
			z.Store.Type = "local"
		}
		switch z.Store.Type {
		case "local":
			if z.Store.Dir == "" {
				z.Store.Dir = filepath.Join(c.DataDir, "blobs", z.Name)
			}
		case "s3":
			if z.Store.Endpoint == "" || z.Store.Bucket == "" {
				return fmt.Errorf("zone %s: s3 store needs endpoint and bucket", z.Name)
			}
		default:
			return fmt.Errorf("zone %s: store type %q is not local or s3", z.Name, z.Store.Type)
		}
		for _, a := range []struct{ name, v string }{{"rtsp", z.Ingest.RTSP}, {"rtmp", z.Ingest.RTMP}} {
			if a.v == "" {
				continue
			}
			if h, p, err := net.SplitHostPort(a.v); err != nil || h == "" || p == "" || p == "0" {
				return fmt.Errorf("zone %s: ingest %s %q must be host:port", z.Name, a.name, a.v)
			}
		}
		for j := range i {
			if c.Zones[j].Name == z.Name {
				return fmt.Errorf("zone %s is configured twice", z.Name)
			}
		}
	}
	if c.Role != RoleAPI {
		if _, ok := c.ZoneByName(c.Zone); !ok {
			return fmt.Errorf("zone %q is not configured", c.Zone)
		}
	}
	if c.SessionTTL <= 0 || c.SessionTTL > 12*time.Hour {
		return fmt.Errorf("session_ttl %s must be in (0, 12h]", c.SessionTTL)
	}
	switch c.HTTPS {
	case HTTPSAuto, HTTPSOn, HTTPSOff:
	default:
		return fmt.Errorf("https %q is not auto, on or off", c.HTTPS)
	}
	if c.TOTPKey != "" && len(c.TOTPKey) < 32 {
		return errors.New("totp_key must be at least 32 characters")
	}
	if c.SegmentDuration < 2*time.Second || c.FragmentDuration <= 0 || c.FragmentDuration > c.SegmentDuration {
		return fmt.Errorf("segment_duration %s must be >= 2s and fragment_duration %s in (0, segment]", c.SegmentDuration, c.FragmentDuration)
	}
	if c.UsageFlush < time.Second || c.UsageFlush > time.Hour {
		return fmt.Errorf("usage_flush %s must be in [1s, 1h]", c.UsageFlush)
	}
	if c.OfflineDebounce < time.Second || c.OfflineDebounce > 10*time.Minute {
		return fmt.Errorf("offline_debounce %s must be in [1s, 10m]", c.OfflineDebounce)
	}
	if c.MetricsCameraHealth < 0 || c.MetricsCameraHealth > MaxMetricsCameraHealth {
		return fmt.Errorf("metrics_camera_health %d must be in [0, %d] (0: off)", c.MetricsCameraHealth, MaxMetricsCameraHealth)
	}
	if c.IngestReadBatch < 0 || c.IngestReadBatch > time.Second {
		return fmt.Errorf("ingest_read_batch %s must be in [0, 1s]", c.IngestReadBatch)
	}
	for _, b := range []struct {
		name string
		v    int
	}{{"live_max_sessions", c.LiveMaxSessions}, {"live_max_sessions_per_user", c.LiveMaxSessionsPerUser},
		{"live_max_sessions_per_token", c.LiveMaxSessionsPerToken}, {"live_max_hls_per_token", c.LiveMaxHLSPerToken}} {
		if b.v < 0 || b.v > maxLiveBound {
			return fmt.Errorf("%s %d must be in [0, %d] (0: the default)", b.name, b.v, maxLiveBound)
		}
	}
	for _, a := range []struct{ name, v string }{{"http", c.HTTP}, {"rtsp", c.RTSP}, {"rtmp", c.RTMP}} {
		if _, _, err := net.SplitHostPort(a.v); err != nil {
			return fmt.Errorf("%s address %q: %w", a.name, a.v, err)
		}
	}
	if c.RTSPUDP != "" {
		if _, err := c.RTSPUDPPair(); err != nil {
			return err
		}
	}
	if c.ServerID != "" && !validServerID(c.ServerID) {
		return fmt.Errorf("server_id %q must be 1-64 of A-Z a-z 0-9 . _ : -", c.ServerID)
	}
	if c.HTTPHeaderTimeout <= 0 || c.HTTPBodyTimeout <= 0 {
		return fmt.Errorf("http_header_timeout %s and http_body_timeout %s must be positive", c.HTTPHeaderTimeout, c.HTTPBodyTimeout)
	}
	if c.HTTPMaxConns < 0 || c.HTTPMaxConnsPerIP < 0 {
		return errors.New("http_max_conns and http_max_conns_per_ip must not be negative (0: no bound)")
	}
	if _, err := netpolicy.ParseAllow(c.PullAllow); err != nil {
		return fmt.Errorf("pull_allow: %w", err)
	}
	if err := c.Exports.check(); err != nil {
		return err
	}
	if err := c.Backfill.check(); err != nil {
		return err
	}
	if err := c.Webhooks.check(); err != nil {
		return err
	}
	if err := c.Export.finish(c.DataDir); err != nil {
		return err
	}
	if c.AuditKey != "" && len(c.AuditKey) < 32 {
		return errors.New("audit_key must be at least 32 characters")
	}
	if c.AuditCheckpointInterval < time.Second {
		return fmt.Errorf("audit_checkpoint_interval %s must be at least 1s", c.AuditCheckpointInterval)
	}
	if c.MediaKey != "" && len(c.MediaKey) < 32 {
		return errors.New("media_key must be at least 32 characters")
	}
	return nil
}

// ZoneByName returns the named zone.
func (c *Config) ZoneByName(name string) (Zone, bool) {
	for _, z := range c.Zones {
		if z.Name == name {
			return z, true
		}
	}
	return Zone{}, false
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	return strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// validServerID accepts host-name-like ids.
func validServerID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._:-", r)
		if !ok {
			return false
		}
	}
	return true
}

// RTSPUDPPair returns the RTP and RTCP addresses of the RTSP UDP transport.
func (c *Config) RTSPUDPPair() ([2]string, error) {
	host, port, err := net.SplitHostPort(c.RTSPUDP)
	if err != nil {
		return [2]string{}, fmt.Errorf("rtsp_udp %q: %w", c.RTSPUDP, err)
	}
	var p int
	if _, err := fmt.Sscanf(port, "%d", &p); err != nil || p <= 0 || p%2 != 0 || p > 65534 {
		return [2]string{}, fmt.Errorf("rtsp_udp %q: the RTP port must be even and non-zero (RTCP takes the next one)", c.RTSPUDP)
	}
	return [2]string{net.JoinHostPort(host, port), net.JoinHostPort(host, fmt.Sprint(p+1))}, nil
}
