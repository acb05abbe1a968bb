package backfill

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// SweepInterval is how often Run sweeps.
const SweepInterval = 10 * time.Minute

// Run sweeps every SweepInterval until ctx ends.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(SweepInterval)
	defer t.Stop()
	for {
		if n, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.c.Log.Warn("backfill sweep", "err", err)
		} else if n > 0 {
			s.c.Log.Info("backfill sweep: expired uploads deleted", "uploads", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes, in every zone, the pending uploads that expired with
// what they staged, and staged objects whose upload is gone (a node that
// stopped between storing a segment and deleting its chunks). It returns
// how many uploads expired. Any number of nodes may sweep at once.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	n := 0
	var errs []error
	for _, name := range s.c.Zones.Names() {
		z, err := s.c.Zones.Get(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		old, err := z.DB.ExpiredUploads(ctx, s.c.Now(), 1000)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, u := range old {
			s.discard(ctx, z, u.ID)
			n++
		}
		ids := map[string]bool{}
		if err := z.Blobs.List(ctx, "uploads/", func(key string, _ int64) error {
			if id, _, ok := strings.Cut(strings.TrimPrefix(key, "uploads/"), "/"); ok && len(ids) < 10000 {
				ids[id] = true
			}
			return nil
		}); err != nil {
			errs = append(errs, err)
			continue
		}
		for id := range ids {
			if _, err := z.DB.GetUpload(ctx, id); errors.Is(err, store.ErrNotFound) {
				if err := s.deleteStaged(ctx, z, id); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return n, errors.Join(errs...)
}
