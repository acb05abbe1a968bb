package app

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/camcloud/camcloud/internal/bookmarks"
	"github.com/camcloud/camcloud/internal/config"
	"github.com/camcloud/camcloud/internal/evidence"
	"github.com/camcloud/camcloud/internal/exports"
	"github.com/camcloud/camcloud/internal/playback"
	"github.com/camcloud/camcloud/internal/store"
)

// startExports builds the bookmark and export services of a process that
// serves the API, with the deployment's evidence key (made by the first
// process, sealed under the media key), and runs this node's export
// workers until ctx ends. Packages are built in the data directory's
// exports-tmp and stored in the camera's zone's object store.
func (a *App) startExports(ctx context.Context) error {
	if a.Cfg.Role == config.RoleCameraServer {
		return nil
	}
	a.Bookmarks = bookmarks.New(a.Zones, nil)
	secret, err := a.MediaKey()
	if err != nil {
		return err
	}
	box, err := evidence.Box(secret)
	if err != nil {
		return err
	}
	key, err := evidence.LoadKey(ctx, a.Dir, box, time.Now())
	if err != nil {
		return err
	}
	ffmpeg, _ := exec.LookPath("ffmpeg")
	pb := a.clips
	clip := func(ctx context.Context, cam store.Camera, from, to time.Time, subject string, w io.Writer, progress func(done, total int64)) (time.Time, time.Time, error) {
		info, err := pb.WriteClip(ctx, cam, from, to, subject, w, progress)
		if errors.Is(err, playback.ErrNothingRecorded) {
			err = exports.ErrNothingRecorded
		}
		return info.Start, info.End, err
	}
	// What a killed process left of the packages it was making.
	tmp := filepath.Join(a.Cfg.DataDir, "exports-tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	a.Exports, err = exports.New(exports.Config{Dir: a.Dir, Zones: a.Zones, Audit: a.Audit, Events: a.Events, Key: key, Clip: clip,
		FFmpeg: ffmpeg, TempDir: tmp, Log: a.Log, MaxRange: a.Cfg.MaxClip,
		MaxActive: a.Cfg.ExportMaxActive, TTL: a.Cfg.ExportTTL, Workers: a.Cfg.ExportWorkers})
	if err != nil {
		return err
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); a.Exports.Run(rctx) }()
	a.closers = append(a.closers, func() { cancel(); <-done })
	return nil
}
