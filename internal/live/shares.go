package live

import (
	"context"
	"sync"
	"time"
)

// shareRecheck is how long a camera server trusts what it last heard of
// a share link: a revoked link's requests are refused, and its WebRTC
// sessions ended, within about this much (plus a sweep).
const shareRecheck = time.Second

// ShareCheck tells a camera server whether a share link still holds
// (package shares reads the directory).
type ShareCheck interface {
	// Alive reports whether link id still holds: not revoked, not
	// expired, its camera there.
	Alive(ctx context.Context, id string) (bool, error)
}

// shareGate caches Alive answers for shareRecheck, so that an LL-HLS
// player's requests (several a second) cost one directory read a second
// per link and server.
type shareGate struct {
	check ShareCheck
	now   func() time.Time
	mu    sync.Mutex
	seen  map[string]shareSeen
}

// shareSeen is the last answer about one link.
type shareSeen struct {
	alive bool
	at    time.Time
}

// alive answers whether link id holds, from the cache when fresh. A
// directory that does not answer refuses (deny by default).
func (g *shareGate) alive(ctx context.Context, id string) bool {
	if g == nil || g.check == nil {
		return false
	}
	now := g.now()
	g.mu.Lock()
	v, ok := g.seen[id]
	g.mu.Unlock()
	if ok && now.Sub(v.at) < shareRecheck {
		return v.alive
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	a, err := g.check.Alive(ctx, id)
	if err != nil {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for k, old := range g.seen { // forget links not asked about lately
		if now.Sub(old.at) > time.Minute {
			delete(g.seen, k)
		}
	}
	g.seen[id] = shareSeen{alive: a, at: now}
	return a
}

// sweepShares ends, every shareRecheck, the WebRTC sessions of links that
// no longer hold, until stop is closed.
func (s *Service) sweepShares(stop <-chan struct{}) {
	t := time.NewTicker(shareRecheck)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		var shared []*whepSession
		for _, w := range s.sessions {
			if w.share != "" {
				shared = append(shared, w)
			}
		}
		s.mu.Unlock()
		for _, w := range shared {
			if !s.shares.alive(context.Background(), w.share) {
				w.close("its share link was revoked or expired")
			}
		}
	}
}
