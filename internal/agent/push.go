package agent

import (
	"context"
	"crypto/subtle"
	"fmt"

	"github.com/camcloud/camcloud/internal/ingest"
	"github.com/camcloud/camcloud/internal/ingesturl"
)

// minPushSecret bounds a local push secret from below: the agent's
// listeners are on the site's network, where the secret is all that
// stops another device from publishing as a camera.
const minPushSecret = 16

// pushAuth admits local pushes (RTSP or RTMP, to the agent's listeners)
// of the cameras configured with a push_secret, each with its own secret
// compared in constant time; any other camera is unknown here.
type pushAuth map[string]string

// AuthorizePublish implements ingest.Authorizer.
func (p pushAuth) AuthorizePublish(_ context.Context, cameraID, secret string) error {
	want, ok := p[cameraID]
	if !ok {
		return fmt.Errorf("%w: %s is not a pushed camera of this agent", ingest.ErrUnknownCamera, cameraID)
	}
	if subtle.ConstantTimeCompare([]byte(want), []byte(secret)) != 1 {
		return fmt.Errorf("camera %s: wrong push secret", cameraID)
	}
	return nil
}

// startPushes opens the local RTSP and RTMP listeners for the cameras
// that push to the agent, when any does; the hub gets their streams as it
// gets the pulled ones, so they are recorded and relayed the same way.
// It returns the server to close at the end, or nil when none is needed.
func (a *Agent) startPushes() (*ingest.Server, error) {
	auth := pushAuth{}
	for _, c := range a.cfg.Cameras {
		if c.PushSecret != "" {
			auth[c.ID] = c.PushSecret
		}
	}
	if len(auth) == 0 || (a.cfg.ListenRTSP == "" && a.cfg.ListenRTMP == "") {
		return nil, nil
	}
	srv, err := ingest.NewServer(ingest.Config{RTSPAddr: a.cfg.ListenRTSP, RTMPAddr: a.cfg.ListenRTMP, Hub: a.hub, Auth: auth, Log: a.log, ReadBatch: a.cfg.ReadBatch})
	if err != nil {
		return nil, err
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("agent: local push listeners: %w", err)
	}
	return srv, nil
}

// PushURLs are where a camera configured with a push secret publishes to
// the agent (rtsp and rtmp, "" for a listener that is off), for the
// camera's set-up and for tests.
func (a *Agent) PushURLs(cameraID string) (rtspURL, rtmpURL string) {
	var secret string
	for _, c := range a.cfg.Cameras {
		if c.ID == cameraID {
			secret = c.PushSecret
		}
	}
	if secret == "" {
		return "", ""
	}
	rtspBase, rtmpBase := "", ""
	if srv := a.push.Load(); srv != nil {
		if addr := srv.RTSPAddr(); addr != "" {
			rtspBase = "rtsp://" + addr
		}
		if addr := srv.RTMPAddr(); addr != "" {
			rtmpBase = "rtmp://" + addr
		}
	}
	rtspURL, rtmpURL = ingesturl.URLs(rtspBase, rtmpBase, cameraID, secret)
	if rtspBase == "" {
		rtspURL = ""
	}
	if rtmpBase == "" {
		rtmpURL = ""
	}
	return rtspURL, rtmpURL
}
