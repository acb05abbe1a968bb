package app

import (
	"net/http"
	"os/exec"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/live"
	"github.com/camcloud/camcloud/internal/playback"
	"github.com/camcloud/camcloud/internal/shares"
	"github.com/camcloud/camcloud/internal/zone"
	"github.com/camcloud/camcloud/web"
)

// mediaRoutes returns the live and playback routes of this process's roles:
// api nodes hand out signed URLs, serve recorded media and the browser UI;
// camera servers serve live media for the cameras they hold and, to api
// nodes, the recordings still in their spool.
func (a *App) mediaRoutes(signer *auth.Signer) []func(*httpapi.Router) {
	ffmpeg, _ := exec.LookPath("ffmpeg")
	hub := a.Hub
	// One way to find a camera's holder, for live video and for playback
	// of what its spool still holds.
	locate := a.Zones.Locator(a.Cfg.ServerID, zone.HolderAlive)
	a.Shares = shares.New(shares.Deps{Dir: a.Dir, Cameras: a.Cameras, Signer: signer, Audit: a.Audit, Locate: locate,
		MaxRange: a.Cfg.MaxClip, Log: a.Log})
	lv := live.New(live.Deps{Hub: hub, Signer: signer, Log: a.Log, Registerer: a.Registry, Locate: locate, Meter: a.Usage, Zone: a.Cfg.Zone,
		Shares:      a.Shares,
		MaxSessions: a.Cfg.LiveMaxSessions, MaxSessionsPerUser: a.Cfg.LiveMaxSessionsPerUser,
		MaxSessionsPerToken: a.Cfg.LiveMaxSessionsPerToken, MaxHLSPerToken: a.Cfg.LiveMaxHLSPerToken})
	a.closers = append(a.closers, lv.Close)
	var out []func(*httpapi.Router)
	if a.Cfg.Role != config.RoleCameraServer {
		deps := playback.Deps{Meter: a.Usage, Cameras: a.Cameras, Zones: a.Zones, Signer: signer, Log: a.Log, MaxClip: a.Cfg.MaxClip, FFmpeg: ffmpeg,
			PublicBase: func(r *http.Request) string { return httpapi.RequestBase(r, a.Cfg.PublicHost) }, Locate: locate,
			Shares: a.Shares}
		if a.CamServer != nil {
			deps.Local = a.CamServer.Spool()
		}
		pb := playback.New(deps)
		a.clips = pb
		out = append(out, pb.Register, func(rt *httpapi.Router) { lv.RegisterAPI(rt, a.Cameras, a.Cfg.PublicHost) }, web.Register,
			a.Backfill.Register)
	}
	if a.CamServer != nil {
		holder := playback.NewHolder(playback.HolderDeps{Spool: a.CamServer.Spool(), Signer: signer, Log: a.Log})
		out = append(out, func(rt *httpapi.Router) { lv.RegisterMedia(rt) }, holder.Register)
	}
	return out
}
