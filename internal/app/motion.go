package app

import (
	"context"

	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/motion"
)

// startMotion runs motion detection on the streams of this camera server's
// hub (--motion), reading each camera's setting from the directory and
// handing every open and close to a.MotionEvents, or to the debug log
// when nothing consumes them.
func (a *App) startMotion(ctx context.Context) error {
	if !a.Cfg.Motion || a.Hub == nil {
		return nil
	}
	emit := a.MotionEvents
	if emit == nil {
		emit = func(_ context.Context, t motion.Transition) {
			a.Log.Debug("motion event", "camera", t.CameraID, "open", t.Open, "start", t.Start, "end", t.End, "peak", t.Peak)
		}
	}
	w, err := motion.NewWatcher(motion.WatcherConfig{Hub: a.Hub, Emit: emit, Log: a.Log.With("part", "motion"), Registerer: a.Registry,
		Lookup: func(ctx context.Context, id string) (motion.Settings, error) {
			c, err := a.Dir.GetCamera(ctx, id)
			if err != nil {
				return motion.Settings{}, err
			}
			on, sens := cameras.MotionOf(c)
			return motion.Settings{Enabled: on, Sensitivity: sens}, nil
		}})
	if err != nil {
		return err
	}
	w.Start(ctx)
	a.motion = w
	a.Log.Info("motion detection on for the cameras held that have it enabled")
	return nil
}
