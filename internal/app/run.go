package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/camserver"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/hub"
)

// Run opens, listens and serves until ctx ends, then drains and shuts down
// in order: readiness off, camera server drained (spool uploaded), HTTP
// stopped, databases closed.
func Run(ctx context.Context, cfg config.Config, log *slog.Logger, opt Options) error {
	a, err := New(ctx, cfg, log, opt)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.Start(ctx); err != nil {
		return err
	}
	return a.Serve(ctx)
}

// Start binds every listener, then creates the platform admin (api roles)
// and seeds the demo (--demo), starts the roles of the configuration and
// prints where the UI is.
func (a *App) Start(ctx context.Context) error {
	a.Hub = hub.New()
	if err := a.startDebug(ctx); err != nil {
		return err
	}
	if err := a.bindHTTP(); err != nil {
		return err
	}
	a.warnSplitDefaults()
	var extra []func(*httpapi.Router)
	if a.Cfg.Role != config.RoleAPI {
		if err := a.startCameraServer(ctx); err != nil {
			return err
		}
	}
	// Before the routes and webhooks: its closer then runs after theirs.
	if err := a.startUsage(); err != nil {
		return err
	}
	key, err := a.MediaKey()
	if err != nil {
		return err
	}
	signer, err := auth.NewSigner(key)
	if err != nil {
		return err
	}
	extra = append(extra, a.mediaRoutes(signer)...)
	if a.Cfg.Role != config.RoleCameraServer {
		if err := a.bootstrapAdmin(ctx); err != nil {
			return err
		}
	}
	if a.Cfg.Demo {
		if err := a.SeedDemo(ctx); err != nil {
			return err
		}
	}
	if err := a.startWebhooks(ctx); err != nil {
		return err
	}
	if err := a.startExports(ctx); err != nil {
		return err
	}
	a.startBackfillSweep(ctx)
	if err := a.Listen(extra...); err != nil {
		return err
	}
	a.printWelcome()
	if a.Cfg.Demo && a.CamServer != nil {
		a.startDemoCameras(ctx)
	}
	if a.Cfg.Role != config.RoleCameraServer {
		if err := a.startAuditCheckpoints(ctx); err != nil {
			return err
		}
		if err := a.startDataExport(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) startCameraServer(ctx context.Context) error {
	z, err := a.Zones.Get(a.Cfg.Zone)
	if err != nil {
		return err
	}
	var udp [2]string
	if a.Cfg.RTSPUDP != "" {
		if udp, err = a.Cfg.RTSPUDPPair(); err != nil {
			return err
		}
	}
	cs, err := camserver.New(camserver.Config{
		UDPRTP: udp[0], UDPRTCP: udp[1],
		ServerID: a.Cfg.ServerID, AdvertiseURL: a.advertiseURL(), RTSPAddr: a.Cfg.RTSP, RTMPAddr: a.Cfg.RTMP,
		SpoolDir:        filepath.Join(a.Cfg.DataDir, "spool", z.Name),
		SegmentDuration: a.Cfg.SegmentDuration, FragmentDuration: a.Cfg.FragmentDuration, MaxSpoolBytes: a.Cfg.MaxSpoolBytes,
		ReadBatch:    a.Cfg.IngestReadBatch,
		PullCapacity: a.Cfg.PullCapacity, LeaseTTL: a.Cfg.LeaseTTL, PullPolicy: a.PullPolicy,
		Events: a.Events, OfflineDebounce: a.Cfg.OfflineDebounce,
		RetentionInterval: a.Cfg.RetentionInterval, MinFreeBytes: a.Cfg.MinFreeBytes,
		Dir: a.Dir, Zone: z, Cameras: a.Cameras, Hub: a.Hub, Log: a.Log, Registerer: a.Registry, Meter: a.Usage,
	})
	if err != nil {
		return fmt.Errorf("camera server: %w", err)
	}
	if err := cs.Start(ctx); err != nil {
		return fmt.Errorf("camera server: %w", err)
	}
	a.CamServer = cs
	if err := a.startMotion(ctx); err != nil {
		return fmt.Errorf("motion detection: %w", err)
	}
	return nil
}

// advertiseURL is the base URL other nodes use to reach this one's HTTP.
func (a *App) advertiseURL() string {
	if a.Cfg.AdvertiseURL != "" {
		return a.Cfg.AdvertiseURL
	}
	host, port, _ := net.SplitHostPort(a.HTTPAddr())
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// warnSplitDefaults says when a process of a split deployment relies on a
// default that only fits one machine.
func (a *App) warnSplitDefaults() {
	switch a.Cfg.Role {
	case config.RoleCameraServer:
		if a.Cfg.AdvertiseURL == "" {
			a.Log.Warn("advertise_url is not set: api nodes and viewers will be sent to " + a.advertiseURL() +
				" for live video, which only works on this machine")
		}
	case config.RoleAPI:
		for _, z := range a.Cfg.Zones {
			if z.Ingest.RTSP == "" || z.Ingest.RTMP == "" {
				a.Log.Warn("zone has no ingest address: cameras are told to push to this api node's public host and rtsp/rtmp ports",
					"zone", z.Name)
			}
		}
	}
}

// drain runs the camera server's drain with a bound, then waits for the
// motion watcher to close the events still open.
func (a *App) drain() error {
	if a.CamServer == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := a.CamServer.Drain(ctx)
	if a.motion != nil {
		a.motion.Wait() // the streams ended: their open events are closed
	}
	return err
}

// startBackfillSweep runs the sweep of expired backfill uploads on a
// process that serves the API, until ctx ends or the process closes.
func (a *App) startBackfillSweep(ctx context.Context) {
	if a.Cfg.Role == config.RoleCameraServer {
		return
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Backfill.Run(rctx) }()
	a.closers = append(a.closers, func() { cancel(); <-done })
}
