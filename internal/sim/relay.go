package sim

import (
	"context"

	"github.com/camcloud/camcloud/internal/coalesce"
	"github.com/camcloud/camcloud/internal/hub"
)

// relayBuffer is the hub reader's room of a relay, in units (a few
// seconds): a relay that falls further behind its uplink is dropped by the
// hub and starts again at the next keyframe, so that live stays live.
const relayBuffer = 256

// Relay publishes the units of a hub stream to rawURL over RTSP
// (ANNOUNCE/RECORD over TCP, writes gathered by package coalesce), from its next video keyframe on, until the
// stream ends (nil), ctx ends, the connection fails or the reader falls
// behind (the error). The edge agent relays its cameras to the cloud's
// normal ingest with it; sent units are counted in st (may be nil). The
// relays of a process share bufs (coalesce.NewBuffers) to gather writes.
func Relay(ctx context.Context, rawURL string, s *hub.Stream, st *Stats, bufs *coalesce.Buffers) error {
	if bufs == nil {
		bufs = coalesce.NewBuffers(0)
	}
	out, c, err := startRecording(rawURL, s.Tracks, bufs)
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := s.NewReader(relayBuffer)
	if err != nil {
		return nil // the stream ended meanwhile
	}
	defer r.Close()
	if st == nil {
		st = &Stats{}
	}
	defer started(st)()
	failed := make(chan error, 1)
	go func() { failed <- c.Wait() }()
	video := func(u *hub.Unit) bool { return s.Tracks[u.Track-1].IsVideo() }
	keyed := false
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-failed:
			return err
		case u, ok := <-r.C():
			if !ok {
				if err := r.Err(); err != hub.ErrClosed {
					return err
				}
				return nil
			}
			if !keyed && !(video(u) && u.Key) {
				continue
			}
			keyed = true
			m, pkts, err := out.packets(u)
			if err != nil {
				return err
			}
			for _, p := range pkts {
				if err := c.WritePacketRTPWithNTP(m, p, u.NTP); err != nil {
					return err
				}
			}
			st.sent(u, video(u))
		}
	}
}
