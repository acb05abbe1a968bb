package app

import (
	"net/http"
	"os/exec"
	"time"

	"github.com/camcloud/camcloud/internal/auth"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/live"
	"github.com/camcloud/camcloud/internal/playback"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/web"
)

// mediaRoutes returns the live and playback routes of this process's roles:
// api nodes hand out signed URLs, serve recorded media and the browser UI;
// camera servers serve live media for the cameras they hold.
func (a *App) mediaRoutes(signer *auth.Signer) []func(*httpapi.Router) {
	ffmpeg, _ := exec.LookPath("ffmpeg")
	hub := a.Hub
	lv := live.New(live.Deps{Hub: hub, Signer: signer, Log: a.Log, Registerer: a.Registry,
		Locate: live.ZoneLocator(func(n string) (store.Zone, error) {
			z, err := a.Zones.Get(n)
			if err != nil {
				return nil, err
			}
			return z.DB, nil
		}, a.Cfg.ServerID, 30*time.Second)})
	a.closers = append(a.closers, lv.Close)
	var out []func(*httpapi.Router)
	if a.Cfg.Role != config.RoleCameraServer {
		pb := playback.New(playback.Deps{Cameras: a.Cameras, Zones: a.Zones, Signer: signer, Log: a.Log, MaxClip: a.Cfg.MaxClip, FFmpeg: ffmpeg,
			PublicBase: func(r *http.Request) string { return httpapi.RequestBase(r, a.Cfg.PublicHost) }})
		out = append(out, pb.Register, func(rt *httpapi.Router) { lv.RegisterAPI(rt, a.Cameras, a.Cfg.PublicHost) }, web.Register)
	}
	if a.CamServer != nil {
		out = append(out, func(rt *httpapi.Router) { lv.RegisterMedia(rt) })
	}
	return out
}
