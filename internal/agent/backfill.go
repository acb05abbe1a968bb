package agent

import (
	"context"
	"path/filepath"

	"github.com/camcloud/camcloud/internal/agent/backfill"
	"github.com/camcloud/camcloud/internal/blob"
)

// openBackfill opens the backfill state (data_dir/backfill.db, the
// agent's own SQLite file) and makes the uploader of the ring buffer's
// segments, its cloud client and the uplink cap it shares with the live
// relay.
func (a *Agent) openBackfill(ctx context.Context, blobs blob.Store) error {
	st, err := backfill.OpenState(ctx, filepath.Join(a.cfg.DataDir, "backfill.db"))
	if err != nil {
		return err
	}
	a.bstate = st
	a.pacer = backfill.NewPacer(a.cfg.Backfill.RateBPS)
	a.bapi = backfill.NewClient(a.cfg.Cloud, a.cloud.credential)
	cams := make([]string, 0, len(a.cfg.Cameras))
	for _, c := range a.cfg.Cameras {
		cams = append(cams, c.ID)
	}
	a.bf = backfill.NewWorker(a.cfg.Backfill.worker(), cams, a.idx, blobs, st, a.bapi, a.pacer, a.uplinkUp.Load,
		a.log.With("component", "backfill"))
	return nil
}
