// Package app assembles a camcloud process from its configuration: it opens
// the databases and stores, builds the services and runs the roles the
// configuration selects, and shuts them down in order.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/camcloud/camcloud/internal/account"
	"github.com/camcloud/camcloud/internal/audit"
	"github.com/camcloud/camcloud/internal/backfill"
	"github.com/camcloud/camcloud/internal/bookmarks"
	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/camserver"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/dataexport"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/exports"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/motion"
	"github.com/camcloud/camcloud/internal/netpolicy"
	"github.com/camcloud/camcloud/internal/orgs"
	"github.com/camcloud/camcloud/internal/playback"
	"github.com/camcloud/camcloud/internal/shares"
	"github.com/camcloud/camcloud/internal/sites"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/usage"
	"github.com/camcloud/camcloud/internal/webhooks"
	"github.com/camcloud/camcloud/internal/zone"
)

// App is one running camcloud process.
type App struct {
	Cfg      config.Config
	Log      *slog.Logger
	Dir      store.Directory
	Zones    *zone.Registry
	Accounts *account.Service
	Cameras  *cameras.Service
	Orgs     *orgs.Service
	Audit    *audit.Log
	// Events records, lists and streams events (both roles).
	Events *events.Service
	// Webhooks manages and delivers webhooks (api role; webhooks.go).
	Webhooks *webhooks.Service
	// Usage counts what cameras use (nil with usage metering off), and
	// UsageFlusher writes it to the zone databases (usage.go).
	Usage        *usage.Meter
	UsageFlusher *usage.Flusher
	// Exports runs evidence exports and Bookmarks keeps bookmarks (api
	// role; exports.go).
	Exports   *exports.Service
	Bookmarks *bookmarks.Service
	// Shares makes, opens and admits share links (every role: camera
	// servers ask it whether a live link still holds; media.go).
	Shares *shares.Service
	// Sites is the site service: sites, their agents' enrolment,
	// credentials and status.
	Sites *sites.Service
	// Backfill takes edge agents' uploads of what the cloud lacks.
	Backfill *backfill.Service
	// AuditKey keys the audit chain and signs its checkpoints.
	AuditKey audit.Key
	Registry *prometheus.Registry
	// HTTP is the router of every route this process serves.
	HTTP *httpapi.Router
	// PullPolicy decides where pulled cameras may be reached (pull_allow,
	// and this process's own listeners refused).
	PullPolicy *netpolicy.Policy
	// Hub and CamServer are set when the process runs the camera-server role.
	Hub       *hub.Hub
	CamServer *camserver.Server
	// MotionEvents receives the motion events of the cameras this camera
	// server holds (--motion); set it before Start. Nil: they are
	// recorded as ranged `motion` events by Events.
	MotionEvents func(context.Context, motion.Transition)

	motion *motion.Watcher   // nil unless --motion on a camera server
	clips  *playback.Service // the api role's playback, which writes exports' clips
	// exportMetrics are the data export's series, registered once.
	exportMetrics *dataexport.Metrics

	out      io.Writer
	env      func(string) (string, bool)
	httpLn   net.Listener
	httpSrv  *http.Server
	draining atomic.Bool
	demo     []DemoCamera
	closers  []func()
}

// Options tweak a process beyond its configuration.
type Options struct {
	// Out receives what is printed once for the operator (admin password).
	Out io.Writer
	// Env reads environment variables (os.LookupEnv by default).
	Env func(string) (string, bool)
}

// New opens everything the configuration names. Nothing listens yet.
func New(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) (*App, error) {
	if opt.Out == nil {
		opt.Out = os.Stdout
	}
	if opt.Env == nil {
		opt.Env = os.LookupEnv
	}
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	a := &App{Cfg: cfg, Log: log, Registry: prometheus.NewRegistry(), out: opt.Out}
	a.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var err error
	if a.Dir, err = store.OpenDirectory(ctx, cfg.Directory, log); err != nil {
		return nil, fmt.Errorf("directory db: %w", err)
	}
	a.closers = append(a.closers, func() { _ = a.Dir.Close() })
	// An api node holds no camera: an empty id also keeps the live locator
	// from taking a camera server's status for its own.
	a.Cfg.ServerID = ""
	if cfg.Role != config.RoleAPI {
		if a.Cfg.ServerID, err = serverID(cfg.ServerID, cfg.DataDir); err != nil {
			a.Close()
			return nil, err
		}
	}
	if a.Zones, err = zone.Open(ctx, zonesToOpen(cfg), log); err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, a.Zones.Close)
	if a.Accounts, err = account.New(a.Dir, log, cfg.SessionTTL); err != nil {
		a.Close()
		return nil, err
	}
	if err := a.sealTOTPSecrets(); err != nil {
		a.Close()
		return nil, err
	}
	allow, err := netpolicy.ParseAllow(cfg.PullAllow)
	if err != nil {
		a.Close()
		return nil, fmt.Errorf("pull_allow: %w", err)
	}
	a.PullPolicy = netpolicy.New(allow)
	a.Cameras = cameras.New(a.Dir, a.Zones, log)
	a.Cameras.PullPolicy = a.PullPolicy
	if cfg.Role != config.RoleCameraServer {
		// the fleet's counts come from api nodes, which open every zone
		a.Registry.MustRegister(a.Cameras.Collector(cfg.MetricsCameraHealth))
	}
	a.Orgs = orgs.New(a.Dir, a.Accounts)
	a.Sites = sites.New(sites.Config{Dir: a.Dir, Spans: a.cameraSpans})
	if cfg.Role != config.RoleCameraServer {
		a.Registry.MustRegister(a.Sites.Collector())
	}
	if a.AuditKey, err = a.auditKey(); err != nil {
		a.Close()
		return nil, err
	}
	a.Audit = audit.NewKeyed(a.Dir, log, a.AuditKey)
	if cfg.Usage {
		a.Usage = usage.NewMeter()
	}
	if a.Events, err = events.New(events.Config{Dir: a.Dir, Zones: a.Zones, Log: log, Registerer: a.Registry, Meter: a.Usage}); err != nil {
		a.Close()
		return nil, err
	}
	a.closers = append(a.closers, a.Events.Stop)
	if a.Backfill, err = backfill.New(backfill.Config{Dir: a.Dir, Zones: a.Zones, Sites: a.Sites, Events: a.Events, Meter: a.Usage,
		Registerer: a.Registry, Log: log.With("part", "backfill"), ChunkSize: cfg.BackfillChunkSize, MaxSize: cfg.BackfillMaxSegmentBytes}); err != nil {
		a.Close()
		return nil, err
	}

	a.env = opt.Env
	return a, nil
}

// bootstrapAdmin creates the platform admin when the directory has no
// user yet and prints its password once. Start calls it only after every
// listener is bound, so that a port already in use cannot lose a password
// that is never shown again.
func (a *App) bootstrapAdmin(ctx context.Context) error {
	email, _ := a.env("CAMCLOUD_ADMIN_EMAIL")
	pw, _ := a.env("CAMCLOUD_ADMIN_PASSWORD")
	created, gen, err := a.Accounts.Bootstrap(ctx, email, pw)
	if errors.Is(err, store.ErrConflict) {
		created, err = false, nil // another api node created it at the same moment
	}
	if err != nil {
		return fmt.Errorf("admin bootstrap: %w", err)
	}
	if !created {
		return nil
	}
	if email == "" {
		email = account.DefaultAdminEmail
	}
	if pw == "" {
		fmt.Fprintf(a.out, "\ncamcloud: created platform admin %s with password %s\n(shown once: change it after logging in; `camcloud admin reset-password %s` sets a new one)\n\n", email, gen, email)
	} else {
		fmt.Fprintf(a.out, "camcloud: created platform admin %s (password from CAMCLOUD_ADMIN_PASSWORD)\n", email)
	}
	a.Log.Info("platform admin created", "email", email)
	return nil
}

// zonesToOpen is every zone for the api (any api node serves any camera),
// only its own zone for a camera server: it touches no other zone, and its
// readiness must not depend on one.
func zonesToOpen(cfg config.Config) []config.Zone {
	if cfg.Role != config.RoleCameraServer {
		return cfg.Zones
	}
	z, _ := cfg.ZoneByName(cfg.Zone) // Finish checked it exists
	return []config.Zone{z}
}

// MediaKey returns the key that signs media URLs: the configured one, or
// one generated once into the data directory.
func (a *App) MediaKey() ([]byte, error) {
	if a.Cfg.MediaKey != "" {
		if len(a.Cfg.MediaKey) < 32 {
			return nil, errors.New("media_key must be at least 32 characters")
		}
		return []byte(a.Cfg.MediaKey), nil
	}
	p := filepath.Join(a.Cfg.DataDir, "media.key")
	if b, err := os.ReadFile(p); err == nil && len(b) >= 32 {
		return b, nil
	}
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return nil, err
	}
	b := []byte(hex.EncodeToString(k[:]))
	if err := os.WriteFile(p, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// sealTOTPSecrets makes the accounts service keep TOTP secrets encrypted
// with the configured totp_key, else with a key derived from the media key
// (which every api node shares already).
func (a *App) sealTOTPSecrets() error {
	key := []byte(a.Cfg.TOTPKey)
	if len(key) == 0 {
		k, err := a.MediaKey()
		if err != nil {
			return fmt.Errorf("totp key from media key: %w", err)
		}
		key = k
	}
	if err := a.Accounts.SetSecretKey(key); err != nil {
		return fmt.Errorf("totp_key: %w", err)
	}
	return nil
}

// Ready reports whether this process should get traffic.
func (a *App) Ready(ctx context.Context) error {
	if a.draining.Load() {
		return errors.New("draining")
	}
	if err := a.Dir.Ping(ctx); err != nil {
		return fmt.Errorf("directory db: %w", err)
	}
	return a.Zones.Ping(ctx)
}

// Listen binds the HTTP address and builds the router: health, readiness
// and metrics for every role, the API's resource routes on api nodes, and
// routes, which each register their own (media, UI).
func (a *App) Listen(routes ...func(*httpapi.Router)) error {
	a.HTTP = httpapi.New(httpapi.Config{Accounts: a.Accounts, Audit: a.Audit, Log: a.Log, HTTPS: a.Cfg.HTTPS})
	a.HTTP.Probes(a.Ready, promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
	if a.Cfg.Role != config.RoleCameraServer {
		a.registerAPI(a.HTTP)
	}
	for _, fn := range routes {
		fn(a.HTTP)
	}
	if a.Cfg.Role == config.RoleCameraServer {
		a.HTTP.HandleFunc("/", cameraServerOnly)
	}
	if err := a.bindHTTP(); err != nil {
		return err
	}
	a.httpSrv = newHTTPServer(a.Cfg, a.HTTP)
	return nil
}

// bindHTTP binds the HTTP address once, early enough for a camera server to
// advertise the bound port (the configured one may be :0).
func (a *App) bindHTTP() error {
	if a.httpLn != nil {
		return nil
	}
	ln, err := net.Listen("tcp", a.Cfg.HTTP)
	if err != nil {
		return fmt.Errorf("http listen: %w", err)
	}
	a.PullPolicy.AddSelf(ln.Addr().String())
	ll := limitListener(a.Cfg, ln)
	a.registerHTTPMetrics(ll)
	a.httpLn = ll
	a.closers = append(a.closers, func() { _ = ln.Close() })
	return nil
}

// HTTPAddr is the bound HTTP address.
func (a *App) HTTPAddr() string { return a.httpLn.Addr().String() }

// Serve serves HTTP until ctx ends, then shuts down gracefully.
func (a *App) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.httpSrv.Serve(a.httpLn) }()
	a.Log.Info("camcloud serving", "http", a.HTTPAddr(), "role", a.Cfg.Role, "zones", strings.Join(a.Zones.Names(), ","))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.draining.Store(true)
	a.Log.Info("shutting down: draining")
	derr := a.drain()
	if derr != nil {
		a.Log.Error("drain incomplete", "err", derr)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.httpSrv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return errors.Join(derr, err)
}

// SetDraining turns readiness off (first step of a graceful stop).
func (a *App) SetDraining() { a.draining.Store(true) }

// Close releases databases and stores.
func (a *App) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// cameraSpans is the recorded spans of a camera from its zone's index,
// joined over holes of at most sites.MissingJoin, for the agents'
// missing ranges.
func (a *App) cameraSpans(ctx context.Context, cam store.Camera, from, to time.Time) ([]store.Span, error) {
	z, err := a.Zones.Get(cam.Zone)
	if err != nil {
		return nil, err
	}
	return z.DB.Spans(ctx, cam.ID, from, to, sites.MissingJoin)
}
