package config

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxConfigFile bounds the YAML file read at start.
const maxConfigFile = 1 << 20

// Load builds the Config for a subcommand from args, the environment (env
// returns a variable's value, os.LookupEnv in production) and the YAML file
// named by --config or CAMCLOUD_CONFIG. Precedence: flag > env > file > default.
func Load(name string, args []string, env func(string) (string, bool)) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var file string
	fs.StringVar(&file, "config", "", "YAML configuration file")
	bind(fs, &c)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["config"] {
		if v, ok := env("CAMCLOUD_CONFIG"); ok {
			file = v
		}
	}
	if file != "" {
		// Re-bind onto the file's values, then re-apply env and flags on top.
		fileCfg := Default()
		if err := readYAML(file, &fileCfg); err != nil {
			return c, err
		}
		c = fileCfg
		fs2 := flag.NewFlagSet(name, flag.ContinueOnError)
		fs2.String("config", "", "")
		bind(fs2, &c)
		if err := applyEnv(fs2, set, env); err != nil {
			return c, err
		}
		if err := fs2.Parse(args); err != nil {
			return c, err
		}
	} else {
		if err := applyEnv(fs, set, env); err != nil {
			return c, err
		}
		if err := fs.Parse(args); err != nil {
			return c, err
		}
	}
	if err := c.Finish(); err != nil {
		return c, err
	}
	return c, nil
}

// EnvName is the environment variable for a flag: CAMCLOUD_ + upper snake case.
func EnvName(flagName string) string {
	return "CAMCLOUD_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

func applyEnv(fs *flag.FlagSet, set map[string]bool, env func(string) (string, bool)) error {
	var first error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || f.Name == "config" {
			return
		}
		if v, ok := env(EnvName(f.Name)); ok {
			if err := f.Value.Set(v); err != nil && first == nil {
				first = fmt.Errorf("%s: %w", EnvName(f.Name), err)
			}
		}
	})
	return first
}

func readYAML(path string, c *Config) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	buf := make([]byte, maxConfigFile+1)
	n, _ := f.Read(buf)
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil || m == 0 {
			break
		}
	}
	if n > maxConfigFile {
		return fmt.Errorf("config file %s is larger than %d bytes", path, maxConfigFile)
	}
	dec := yaml.NewDecoder(bytes.NewReader(buf[:n]))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	return nil
}

func bind(fs *flag.FlagSet, c *Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "directory for databases, local recordings and spool")
	fs.StringVar(&c.HTTP, "http", c.HTTP, "HTTP listen address (API, UI, HLS, WHEP)")
	fs.StringVar(&c.RTSP, "rtsp", c.RTSP, "RTSP listen address (camera ingest)")
	fs.StringVar(&c.RTMP, "rtmp", c.RTMP, "RTMP listen address (camera ingest)")
	fs.StringVar(&c.RTSPUDP, "rtsp-udp", c.RTSPUDP, "RTP port address of RTSP over UDP (RTCP on the next port); empty disables UDP")
	fs.BoolVar(&c.Demo, "demo", c.Demo, "seed a demo organisation with simulated cameras")
	fs.BoolVar(&c.Motion, "motion", c.Motion, "detect motion on the cameras held (from compressed frame sizes; per camera setting)")
	fs.BoolVar(&c.Usage, "usage", c.Usage, "meter usage per organisation, camera and day (recorded time, storage, ingest, egress by kind)")
	fs.DurationVar(&c.UsageFlush, "usage-flush", c.UsageFlush, "how often the usage counted in memory is written to the zone databases, 1s..1h")
	fs.StringVar(&c.Role, "role", c.Role, "roles to run: all, api or camera-server")
	fs.StringVar(&c.Zone, "zone", c.Zone, "zone of this camera server")
	fs.StringVar(&c.ServerID, "server-id", c.ServerID, "name of this camera server in its zone")
	fs.StringVar(&c.PublicHost, "public-host", c.PublicHost, "host name cameras and players use to reach this server")
	fs.StringVar(&c.AdvertiseURL, "advertise-url", c.AdvertiseURL, "base URL at which api nodes reach this camera server")
	fs.StringVar(&c.Directory, "directory", c.Directory, "directory DB DSN (sqlite:PATH or mysql://user:pass@tcp(host:port)/db)")
	fs.DurationVar(&c.SegmentDuration, "segment-duration", c.SegmentDuration, "target length of one recorded object")
	fs.DurationVar(&c.FragmentDuration, "fragment-duration", c.FragmentDuration, "video flushed to the spool at once (the most a crash can lose)")
	fs.Int64Var(&c.MaxSpoolBytes, "max-spool-bytes", c.MaxSpoolBytes, "bound on not-yet-uploaded video kept on local disk")
	fs.DurationVar(&c.IngestReadBatch, "ingest-read-batch", c.IngestReadBatch, "let camera media gather this long between reads of a TCP connection (CPU for live latency); 0: read as it arrives")
	fs.IntVar(&c.LiveMaxSessions, "live-max-sessions", c.LiveMaxSessions, "WebRTC viewers this camera server admits (0: 500)")
	fs.IntVar(&c.LiveMaxSessionsPerUser, "live-max-sessions-per-user", c.LiveMaxSessionsPerUser, "WebRTC viewers of one user (0: 16)")
	fs.IntVar(&c.LiveMaxSessionsPerToken, "live-max-sessions-per-token", c.LiveMaxSessionsPerToken, "WebRTC viewers of one live URL (0: 3)")
	fs.IntVar(&c.LiveMaxHLSPerToken, "live-max-hls-per-token", c.LiveMaxHLSPerToken, "concurrent LL-HLS requests of one live URL (0: 12)")
	fs.Int64Var(&c.MinFreeBytes, "min-free-bytes", c.MinFreeBytes, "local store: delete oldest recordings when free space falls below this")
	fs.DurationVar(&c.RetentionInterval, "retention-interval", c.RetentionInterval, "how often the retention sweeper runs")
	fs.DurationVar(&c.MaxClip, "max-clip", c.MaxClip, "longest clip an export may cover")
	fs.IntVar(&c.PullCapacity, "pull-capacity", c.PullCapacity, "pulled cameras this camera server may lease")
	fs.DurationVar(&c.LeaseTTL, "lease-ttl", c.LeaseTTL, "lease time of a pulled camera")
	fs.DurationVar(&c.OfflineDebounce, "offline-debounce", c.OfflineDebounce, "how long a camera must stay away before a camera.offline event (a reconnect within it makes none), 1s..10m")
	fs.IntVar(&c.MetricsCameraHealth, "metrics-camera-health", c.MetricsCameraHealth, "cameras (the first by id, at most 1000) given a last-frame age series on /metrics; 0: none")
	fs.Var((*listFlag)(&c.PullAllow), "pull-allow", "comma-separated CIDR prefixes of private addresses pulled cameras may be at (default: public addresses only)")
	fs.StringVar(&c.MediaKey, "media-key", c.MediaKey, "key that signs media URLs (shared by all nodes; default generated in data dir)")
	fs.DurationVar(&c.HTTPHeaderTimeout, "http-header-timeout", c.HTTPHeaderTimeout, "time an HTTP request's headers may take to arrive")
	fs.DurationVar(&c.HTTPBodyTimeout, "http-body-timeout", c.HTTPBodyTimeout, "time an HTTP request body may take to arrive after its headers (responses are not bounded)")
	fs.IntVar(&c.HTTPMaxConns, "http-max-conns", c.HTTPMaxConns, "HTTP connections open at once; 0: no bound")
	fs.IntVar(&c.HTTPMaxConnsPerIP, "http-max-conns-per-ip", c.HTTPMaxConnsPerIP, "HTTP connections open at once from one IPv4 address or IPv6 /64; 0: no bound (use 0 or more behind a proxy)")
	fs.StringVar(&c.AuditKey, "audit-key", c.AuditKey, "key of the audit log's chain and checkpoints, kept out of the database (default: derived from media_key, else generated in data dir)")
	fs.DurationVar(&c.AuditCheckpointInterval, "audit-checkpoint-interval", c.AuditCheckpointInterval, "how often a signed checkpoint of the audit log is published to the first zone's store")
	fs.DurationVar(&c.SessionTTL, "session-ttl", c.SessionTTL, "login session lifetime (at most 12h)")
	fs.StringVar(&c.HTTPS, "https", c.HTTPS, "browsers reach this service over HTTPS (Secure cookies, HSTS): auto (request over TLS or X-Forwarded-Proto: https), on or off")
	fs.StringVar(&c.TOTPKey, "totp-key", c.TOTPKey, "key that encrypts TOTP secrets at rest, at least 32 characters (default: derived from the media key)")
	fs.StringVar(&c.DebugAddr, "debug-addr", c.DebugAddr, "serve pprof profiles at this address (keep it private); empty: off")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.IntVar(&c.GCPercent, "gc-percent", c.GCPercent, "Go garbage collector target, 10..1000 (GOGC wins when set)")
	bindWebhooks(fs, &c.Webhooks)
	bindExport(fs, &c.Export)
	bindExports(fs, &c.Exports)
	bindBackfill(fs, &c.Backfill)
}

// listFlag is a comma-separated list flag; setting it replaces the list
// (a flag or variable overrides the file's list rather than adding to it).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	*l = nil
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
