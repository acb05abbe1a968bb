package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/dataexport"
	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// DataExporter builds the analytics data export of the configuration:
// the directory and every zone database as sources, each configured
// audience with its store opened. The CLI's `data export` and the
// scheduled job of serve both run it.
func (a *App) DataExporter(ctx context.Context) (*dataexport.Exporter, error) {
	if len(a.Cfg.Export.Audiences) == 0 {
		return nil, errors.New("no export audience is configured (export.audiences in the config file)")
	}
	dir, ok := a.Dir.(store.Snapshotter)
	if !ok {
		return nil, errors.New("the directory store cannot take snapshots")
	}
	e := &dataexport.Exporter{Audit: a.Audit, Log: a.Log, SegmentLag: a.Cfg.Export.SegmentLag}
	if l, ok := a.Dir.(store.JobLocker); ok {
		e.Lock = l // one run at a time across every api node and CLI run
	}
	e.Sources = append(e.Sources, dataexport.Source{DB: "directory", Policy: store.DirectoryPolicy(), Repo: dir})
	for _, name := range a.Zones.Names() {
		z, err := a.Zones.Get(name)
		if err != nil {
			return nil, err
		}
		zs, ok := z.DB.(store.Snapshotter)
		if !ok {
			return nil, fmt.Errorf("zone %s store cannot take snapshots", name)
		}
		e.Sources = append(e.Sources, dataexport.Source{DB: "zone-" + name, Policy: store.ZonePolicy(), Repo: zs})
	}
	for _, ac := range a.Cfg.Export.Audiences {
		bs, err := zone.OpenStore(ctx, ac.Store)
		if err != nil {
			return nil, fmt.Errorf("export audience %s store: %w", ac.Name, err)
		}
		e.Audiences = append(e.Audiences, dataexport.Audience{Name: ac.Name, Clear: ac.Clear, Pseudonymise: ac.Pseudonymise,
			Key: []byte(ac.Key), Store: bs})
	}
	if a.exportMetrics == nil {
		a.exportMetrics = dataexport.NewMetrics(a.Registry)
	}
	e.Metrics = a.exportMetrics
	return e, nil
}

// startDataExport runs the data export every export.interval (api role),
// the first run one interval after start. When several api nodes run it,
// one runs at a time (a lock in the directory database), and a node skips
// a round that another finished less than half an interval ago (the
// latest manifest of the first audience says when).
func (a *App) startDataExport(ctx context.Context) error {
	every := a.Cfg.Export.Interval
	if every == 0 {
		return nil
	}
	e, err := a.DataExporter(ctx)
	if err != nil {
		return fmt.Errorf("data export: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			first := e.Audiences[0]
			if m, err := dataexport.ReadLatest(ctx, first.Store, first.Name); err == nil && m != nil && time.Since(m.Finished) < every/2 {
				a.Log.Info("data export: another node ran it recently, skipped", "run", m.RunID)
				continue
			}
			if _, err := e.Run(ctx); errors.Is(err, dataexport.ErrBusy) {
				a.Log.Info("data export: another node is running it, skipped")
			} else if err != nil && ctx.Err() == nil {
				a.Log.Error("scheduled data export failed", "err", err)
			}
		}
	}()
	a.closers = append(a.closers, func() { cancel(); <-done })
	return nil
}
