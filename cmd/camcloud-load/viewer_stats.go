package main

import (
	"sort"
	"sync"
	"time"

	"github.com/pion/rtp"
)

// viewerStats is what one viewer received. WebRTC viewers count packets
// and frames; HLS viewers count parts and bytes.
type viewerStats struct {
	mu         sync.Mutex
	connect    time.Duration // WebRTC: offer to connected
	first      time.Duration // start to the first complete frame (WebRTC) or first media byte (HLS)
	packets    int64
	bytes      int64
	frames     int64 // complete frames (WebRTC) or parts (HLS)
	lostPkts   int64 // RTP sequence gaps
	missed     int64 // HLS parts listed but never fetched
	sessFrames int64
	firstTS    uint32
	lastTS     uint32
	minDelta   uint32
	lastSeq    uint16
	started    bool
	gotFrame   bool
	errs       int64
	lastError  string
	sessions   int64
	expDone    int64 // frames expected of the sessions before this one
}

// newSession starts counting a new session of the viewer: sequence
// numbers and timestamps start afresh.
// It returns the session's number: packets of an older session, still
// being read as it closes, are not counted.
func (s *viewerStats) newSession() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		s.expDone += s.sessionExpected()
	}
	s.sessions++
	s.started, s.sessFrames, s.minDelta = false, 0, 0
	return s.sessions
}

func (s *viewerStats) connected(d time.Duration) {
	s.mu.Lock()
	s.connect = d
	s.mu.Unlock()
}

// packet counts one RTP packet of a video track (from a key frame on).
func (s *viewerStats) packet(session int64, p *rtp.Packet, t0 time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if session != s.sessions {
		return
	}
	s.packets++
	s.bytes += int64(len(p.Payload))
	if s.started {
		if gap := p.SequenceNumber - s.lastSeq - 1; gap > 0 && gap < 1<<15 {
			s.lostPkts += int64(gap)
		}
	}
	if !s.started || int16(p.SequenceNumber-s.lastSeq) > 0 {
		s.lastSeq = p.SequenceNumber
	}
	if !s.started {
		s.started, s.firstTS = true, p.Timestamp
	}
	if p.Marker {
		if s.sessFrames > 0 {
			if d := p.Timestamp - s.lastTS; d > 0 && d < 1<<31 && (s.minDelta == 0 || d < s.minDelta) {
				s.minDelta = d
			}
		}
		s.lastTS = p.Timestamp
		s.frames++
		s.sessFrames++
		if !s.gotFrame {
			s.gotFrame, s.first = true, time.Since(t0)
		}
	}
}

// part counts one fetched HLS part (or segment) of n bytes.
func (s *viewerStats) part(n int64, t0 time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames++
	s.bytes += n
	if !s.gotFrame && n > 0 {
		s.gotFrame, s.first = true, time.Since(t0)
	}
}

func (s *viewerStats) miss(n int64) {
	s.mu.Lock()
	s.missed += n
	s.mu.Unlock()
}

func (s *viewerStats) fail(err error) {
	s.mu.Lock()
	s.errs++
	s.lastError = err.Error()
	s.mu.Unlock()
}

// expectedFrames is how many frames the span of timestamps received holds
// (the smallest step between frames is one frame).
func (s *viewerStats) expectedFrames() int64 {
	if !s.started {
		return s.expDone
	}
	return s.expDone + s.sessionExpected()
}

func (s *viewerStats) sessionExpected() int64 {
	if s.sessFrames < 2 || s.minDelta == 0 {
		return s.sessFrames
	}
	return int64((s.lastTS-s.firstTS)/s.minDelta) + 1
}

// viewerSummary sums up the viewers of a run.
type viewerSummary struct {
	viewers, ok      int // ok: got a first frame / byte
	frames, expected int64
	lostPkts, missed int64
	bytes            int64
	errs             int64
	minFrames        int64
	firstP50         time.Duration
	firstP95         time.Duration
	lastError        string
}

func summarize(vs []*viewerStats) viewerSummary {
	out := viewerSummary{viewers: len(vs), minFrames: -1}
	var firsts []time.Duration
	for _, v := range vs {
		v.mu.Lock()
		if v.gotFrame {
			out.ok++
			firsts = append(firsts, v.first)
		}
		out.frames += v.frames
		out.expected += v.expectedFrames()
		out.lostPkts += v.lostPkts
		out.missed += v.missed
		out.bytes += v.bytes
		out.errs += v.errs
		if out.minFrames < 0 || v.frames < out.minFrames {
			out.minFrames = v.frames
		}
		if v.lastError != "" {
			out.lastError = v.lastError
		}
		v.mu.Unlock()
	}
	out.firstP50, out.firstP95 = percentile(firsts, 0.5), percentile(firsts, 0.95)
	return out
}

func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[min(len(d)-1, int(q*float64(len(d))))]
}
