package app

import (
	"context"
	"net"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
)

// startDemoCameras makes the demo cameras stream the built-in sample into
// this process over RTSP, as real cameras would, until ctx ends.
func (a *App) startDemoCameras(ctx context.Context) {
	smp, err := sample.Parse(camcloud.SampleH264)
	if err != nil {
		a.Log.Error("demo: built-in sample", "err", err)
		return
	}
	_, port, _ := net.SplitHostPort(a.CamServer.RTSPAddr())
	for _, c := range a.demo {
		rtsp, _ := ingesturl.URLs("rtsp://"+net.JoinHostPort("127.0.0.1", port), "rtmp://unused", c.Camera.ID, c.Secret)
		go func() { _ = sim.Push(ctx, []string{rtsp}, smp, a.Log.With("demo_camera", c.Camera.Name)) }()
	}
	a.Log.Info("demo: simulated cameras streaming", "cameras", len(a.demo))
}
