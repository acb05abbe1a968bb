package agent

import (
	"context"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/agent/backfill"
	"github.com/camcloud/camcloud/internal/sim"
)

// liveMeter counts what the live relays send and takes it from the
// uplink cap's bucket (backfill.Pacer.Live), so that backfill gets the cap
// minus live and live is never held back.
type liveMeter struct {
	mu    sync.Mutex
	stats []*sim.Stats
}

// liveSample is how often the relays' bytes are taken from the bucket.
const liveSample = 50 * time.Millisecond

// add registers one relay's counters.
func (m *liveMeter) add() *sim.Stats {
	st := &sim.Stats{}
	m.mu.Lock()
	m.stats = append(m.stats, st)
	m.mu.Unlock()
	return st
}

// total is the bytes every relay sent so far.
func (m *liveMeter) total() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, st := range m.stats {
		n += st.Bytes.Load()
	}
	return n
}

// run takes the relays' new bytes from p every liveSample until ctx ends.
func (m *liveMeter) run(ctx context.Context, p *backfill.Pacer) {
	t := time.NewTicker(liveSample)
	defer t.Stop()
	last := m.total()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n := m.total()
		p.Live(int(n - last))
		last = n
	}
}

// signal wakes every waiter at once each time it is fired.
type signal struct {
	mu sync.Mutex
	ch chan struct{}
}

// wait returns a channel closed at the next fire.
func (s *signal) wait() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch == nil {
		s.ch = make(chan struct{})
	}
	return s.ch
}

// fire wakes the current waiters.
func (s *signal) fire() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ch != nil {
		close(s.ch)
	}
	s.ch = make(chan struct{})
}
