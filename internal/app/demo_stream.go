package app

import (
	"context"
	"net"

	camcloud "github.com/camcloud/camcloud"
	"github.com/camcloud/camcloud/internal/ingesturl"
	"github.com/camcloud/camcloud/internal/sample"
	"github.com/camcloud/camcloud/internal/sim"
)

// startDemoCameras makes the demo cameras stream the built-in samples into
// this process over RTSP, as real cameras would, until ctx ends: the first
// camera the moving scene (a motion event every 30 s), the others the test
// pattern.
func (a *App) startDemoCameras(ctx context.Context) {
	pattern, err := sample.Parse(camcloud.SampleH264)
	if err != nil {
		a.Log.Error("demo: built-in sample", "err", err)
		return
	}
	moving, err := sample.Parse(camcloud.SampleMovingH264)
	if err != nil {
		a.Log.Error("demo: built-in moving sample", "err", err)
		return
	}
	_, port, _ := net.SplitHostPort(a.CamServer.RTSPAddr())
	for i, c := range a.demo {
		smp := pattern
		if i == 0 {
			smp = moving
		}
		rtsp, _ := ingesturl.URLs("rtsp://"+net.JoinHostPort("127.0.0.1", port), "rtmp://unused", c.Camera.ID, c.Secret)
		go func() { _ = sim.Push(ctx, []string{rtsp}, smp, a.Log.With("demo_camera", c.Camera.Name)) }()
	}
	a.Log.Info("demo: simulated cameras streaming", "cameras", len(a.demo))
}
