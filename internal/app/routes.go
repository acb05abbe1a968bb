package app

import (
	"net"
	"net/http"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/api"
	"github.com/camcloud/camcloud/internal/holds"
	"github.com/camcloud/camcloud/internal/httpapi"
	"github.com/camcloud/camcloud/internal/quota"
	"github.com/camcloud/camcloud/internal/usage"
)

// registerAPI adds the API's resource routes (accounts, organisations,
// cameras, audit) of an api node.
func (a *App) registerAPI(rt *httpapi.Router) {
	rtspAddr, rtmpAddr := a.Cfg.RTSP, a.Cfg.RTMP
	if a.CamServer != nil { // the bound ports, when configured as :0
		rtspAddr, rtmpAddr = a.CamServer.RTSPAddr(), a.CamServer.RTMPAddr()
	}
	_, rtspPort, _ := net.SplitHostPort(rtspAddr)
	_, rtmpPort, _ := net.SplitHostPort(rtmpAddr)
	api.Register(rt, api.Deps{
		Accounts: a.Accounts, Orgs: a.Orgs, Cameras: a.Cameras, Audit: a.Audit, Events: a.Events, Webhooks: a.Webhooks, Shares: a.Shares, Sites: a.Sites,
		Usage:   &usage.Reporter{Dir: a.Dir, Zones: a.Zones},
		Exports: a.Exports, Bookmarks: a.Bookmarks,
		Holds: holds.New(a.Dir, nil), Quota: quota.New(a.Dir, a.Zones, a.Log),
		PublicHost: a.Cfg.PublicHost, RTSPPort: rtspPort, RTMPPort: rtmpPort, ZoneIngest: a.zoneIngest,
		OpenAPI: camcloud.OpenAPI,
	})
}

// cameraServerOnly answers every path a camera-server-only process does not
// serve. It serves health, readiness, metrics and live media of the cameras
// it holds; the public API (logins, accounts, cameras) is the api role's, so
// a camera server reachable by viewers for live media does not expose it.
func cameraServerOnly(w http.ResponseWriter, r *http.Request) {
	httpapi.Fail(w, r, httpapi.Errorf(http.StatusNotFound, "not_found", "this is a camera server: use an api node"))
}

// zoneIngest is the configured public ingest address of a zone's cameras.
func (a *App) zoneIngest(zone string) (rtsp, rtmp string) {
	z, ok := a.Cfg.ZoneByName(zone)
	if !ok {
		return "", ""
	}
	return z.Ingest.RTSP, z.Ingest.RTMP
}
