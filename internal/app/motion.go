package app

import (
	"context"
	"errors"
	"log/slog"
	"math"

	"github.com/camcloud/camcloud/internal/cameras"
	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/hub"
	"github.com/camcloud/camcloud/internal/motion"
	"github.com/camcloud/camcloud/internal/store"
)

// startMotion runs motion detection on the streams of this camera server's
// hub (--motion): a.Hub becomes a hub observed by the watcher, which reads
// each camera's setting from the directory and hands every open and close
// to a.MotionEvents, by default the events service (ranged `motion`
// events).
func (a *App) startMotion(ctx context.Context) error {
	if !a.Cfg.Motion {
		return nil
	}
	emit := a.MotionEvents
	switch {
	case emit != nil:
	case a.Events != nil:
		emit = (&motionEvents{ev: a.Events, log: a.Log, open: map[string]string{}}).emit
	default:
		emit = func(_ context.Context, t motion.Transition) {
			a.Log.Debug("motion event", "camera", t.CameraID, "open", t.Open, "start", t.Start, "end", t.End, "peak", t.Peak)
		}
	}
	w, err := motion.NewWatcher(motion.WatcherConfig{Emit: emit, Log: a.Log.With("part", "motion"), Registerer: a.Registry,
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
	a.Hub = hub.NewObserved(w.Observe)
	a.motion = w
	a.Log.Info("motion detection on for the cameras held that have it enabled")
	return nil
}

// motionEvents records the watcher's transitions as ranged `motion`
// events: an open opens one, after closing any motion event of the camera
// still ongoing (left by a camera server that died mid-event), and a close
// closes it. The watcher calls emit from one goroutine.
type motionEvents struct {
	ev   *events.Service
	log  *slog.Logger
	open map[string]string // camera id -> id of its ongoing motion event
}

func (m *motionEvents) emit(ctx context.Context, t motion.Transition) {
	if !t.Open {
		id, ok := m.open[t.CameraID]
		if !ok {
			return // its open was not recorded
		}
		delete(m.open, t.CameraID)
		if err := m.ev.Close(ctx, id, t.End); err != nil && !errors.Is(err, store.ErrNotFound) {
			m.log.Warn("events: close a motion event", "camera", t.CameraID, "err", err)
		}
		return
	}
	if _, err := m.ev.CloseOngoing(ctx, t.CameraID, events.TypeMotion, t.Start); err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log.Warn("events: close ongoing motion events", "camera", t.CameraID, "err", err)
	}
	id, err := m.ev.Open(ctx, events.Event{CameraID: t.CameraID, Type: events.TypeMotion, Start: t.Start, Source: events.SourceMotion,
		Detail: events.Detail(map[string]any{"peak_ratio": math.Round(t.Peak*100) / 100, "sensitivity": t.Sensitivity})})
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			m.log.Warn("events: open a motion event", "camera", t.CameraID, "err", err)
		}
		return
	}
	m.open[t.CameraID] = id
}
