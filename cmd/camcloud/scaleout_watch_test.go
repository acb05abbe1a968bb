package main

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/camcloud/camcloud/internal/blob"
	"github.com/camcloud/camcloud/internal/sim"
	"github.com/camcloud/camcloud/internal/store"
)

// soZone is one zone of the scale-out test as the test sees it directly.
type soZone struct {
	name    string
	dsn     string
	bucket  string
	db      store.Zone
	blobs   blob.Store
	servers []*node
}

// soCam is one camera of the scale-out test.
type soCam struct {
	id    string
	zone  *soZone
	kind  string     // "push" or "pull"
	stats *sim.Stats // push: the simulated camera's counters
	urls  []string   // push: the ingest URLs it pushes to, in turn
}

// outage is a time a camera was not being received by a running server.
type outage struct{ from, to time.Time }

// monitor samples, every 100 ms, whether each camera is online on a camera
// server that runs and is not draining, and keeps the intervals when not.
type monitor struct {
	mu   sync.Mutex
	out  map[string][]outage
	open map[string]time.Time
}

func newMonitor() *monitor {
	return &monitor{out: map[string][]outage{}, open: map[string]time.Time{}}
}

// run samples until ctx ends.
func (m *monitor) run(ctx context.Context, zones []*soZone, cams []*soCam) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		up := map[string]bool{}
		status := map[string]store.CameraStatus{}
		for _, z := range zones {
			for _, n := range z.servers {
				if id := n.serverID(); n.up() && id != "" {
					up[id] = true
				}
			}
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			st, err := z.db.ListStatus(qctx, nil)
			cancel()
			if err != nil {
				continue
			}
			for k, v := range st {
				status[k] = v
			}
		}
		now := time.Now()
		m.mu.Lock()
		for _, c := range cams {
			s := status[c.id]
			served := s.Online && up[s.Server]
			from, isOpen := m.open[c.id]
			switch {
			case !served && !isOpen:
				m.open[c.id] = now
			case served && isOpen:
				m.out[c.id] = append(m.out[c.id], outage{from, now})
				delete(m.open, c.id)
			}
		}
		m.mu.Unlock()
	}
}

// longest is the longest outage of camera id that overlaps [from, to]; an
// outage still going on counts until now.
func (m *monitor) longest(id string, from, to time.Time) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	list := append([]outage(nil), m.out[id]...)
	if o, ok := m.open[id]; ok {
		list = append(list, outage{o, time.Now()})
	}
	var best time.Duration
	for _, o := range list {
		if o.to.Before(from) || o.from.After(to) {
			continue
		}
		best = max(best, o.to.Sub(o.from))
	}
	return best
}

// holder returns the server that the zone DB says receives the camera.
func holder(ctx context.Context, c *soCam) string {
	st, err := c.zone.db.GetStatus(ctx, c.id)
	if err != nil || !st.Online {
		return ""
	}
	return st.Server
}

// segments returns the camera's index rows in its zone, by start.
func segments(ctx context.Context, z store.Zone, camID string) ([]store.Segment, error) {
	rows, err := z.ListSegments(ctx, camID, time.Unix(0, 0), time.Now().Add(time.Hour), 100000)
	if err != nil {
		return nil, err
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Start.Before(rows[j].Start) })
	return rows, nil
}

// gapReport is what the index says about one camera around one fault.
type gapReport struct {
	gap     time.Duration // longest hole in the recording in the window
	lost    time.Duration // recording missing just before the fault instant
	resumed bool          // a row ends after the window: recording went on
}

// gapsAround measures the index of one camera around a fault at t0 whose
// effects last until t1: the longest hole whose start lies in
// [t0-lookback, t1], and how long before t0 the recording stops (0 when it
// runs through t0). Rows of two servers may overlap for a moment, so a hole
// is measured from the latest end seen so far.
func gapsAround(rows []store.Segment, t0, t1 time.Time, lookback time.Duration) gapReport {
	var r gapReport
	var last, maxEnd time.Time
	for i, s := range rows {
		if s.Start.Before(t0) && s.End.After(last) {
			last = s.End
		}
		if i > 0 && !maxEnd.Before(t0.Add(-lookback)) && !maxEnd.After(t1) {
			r.gap = max(r.gap, s.Start.Sub(maxEnd))
		}
		if s.End.After(maxEnd) {
			maxEnd = s.End
		}
	}
	r.resumed = maxEnd.After(t1)
	if !last.IsZero() && last.Before(t0) {
		r.lost = t0.Sub(last)
	}
	return r
}
