package app

import (
	"context"

	"github.com/camcloud/camcloud/internal/usage"
)

// startUsage runs the flusher of the usage meter (when metering is on)
// until the process closes: it is stopped by a closer, after the camera
// server drained (its last uploads counted) and HTTP stopped, so that its
// last flush has everything.
func (a *App) startUsage() error {
	if a.Usage == nil {
		return nil
	}
	f := &usage.Flusher{Meter: a.Usage, Zones: a.Zones, Interval: a.Cfg.UsageFlush, Log: a.Log,
		OrgOf: func(ctx context.Context, id string) (string, error) {
			c, err := a.Dir.GetCamera(ctx, id)
			return c.OrgID, err
		}}
	if err := f.Register(a.Registry); err != nil {
		return err
	}
	a.UsageFlusher = f
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx) }()
	a.closers = append(a.closers, func() { cancel(); <-done })
	return nil
}
