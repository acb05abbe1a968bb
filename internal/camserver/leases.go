package camserver

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// leases claims and renews pulled cameras of the zone (cams, as just
// listed) up to PullCapacity, starts pulling the ones won and stops the ones
// lost, deleted, turned off or changed. Candidates are tried in random order
// so that servers spread the cameras between them instead of the first one
// taking all it can.
func (s *Server) leases(ctx context.Context, cams []store.Camera) {
	want := map[string]string{}
	for _, c := range cams {
		if c.SourceType == "pull" && c.Recording != "off" {
			want[c.ID] = c.SourceURL
		}
	}
	now := time.Now()
	s.mu.Lock()
	held := make(map[string]string, len(s.pulled))
	for k, v := range s.pulled {
		held[k] = v
	}
	s.mu.Unlock()
	// Renew or drop what we hold.
	for id, url := range held {
		newURL, ok := want[id]
		if ok && newURL == url {
			if won, err := s.c.Zone.DB.ClaimLease(ctx, id, s.c.ServerID, s.c.LeaseTTL, now); err == nil && won {
				continue
			} else if err != nil {
				// Cannot tell: keep pulling; the lease expires if the DB is gone for long.
				continue
			}
		}
		s.puller.Stop(id)
		s.mu.Lock()
		delete(s.pulled, id)
		s.mu.Unlock()
		delete(held, id)
	}
	// Claim new ones while there is room.
	ids := make([]string, 0, len(want))
	for id := range want {
		if _, ok := held[id]; !ok {
			ids = append(ids, id)
		}
	}
	rand.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, id := range ids {
		if len(held) >= s.c.PullCapacity {
			return
		}
		won, err := s.c.Zone.DB.ClaimLease(ctx, id, s.c.ServerID, s.c.LeaseTTL, now)
		if err != nil || !won {
			continue
		}
		held[id] = want[id]
		s.mu.Lock()
		s.pulled[id] = want[id]
		s.mu.Unlock()
		s.puller.Start(id, want[id])
		s.log.Info("leased pulled camera", "camera", id)
	}
}
