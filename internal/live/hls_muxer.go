package live

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/bluenviron/gohlslib/v2"

	"github.com/camcloud/camcloud/internal/hub"
)

// HLS muxer settings. The window keeps about the last minute so that viewers
// can scroll back over what the recorder has not uploaded yet.
const (
	hlsSegmentMin  = time.Second
	hlsPartMin     = 200 * time.Millisecond
	hlsWindow      = time.Minute
	hlsReaderBuf   = 1024             // units: several seconds of audio and video
	hlsStartWait   = 15 * time.Second // first keyframe must come within this
	hlsKeyWait     = 3 * time.Second  // a request waits this long for the first keyframe, then 503
	hlsKeyRetry    = 2 * time.Second  // Retry-After of that 503
	hlsViewerAlive = 15 * time.Second // a player polling within this counts as a viewer
	hlsMaxViewers  = 10000            // bound on the viewer table of one muxer
)

// hlsMuxer is the one LL-HLS muxer of one published stream, shared by all
// of the camera's HLS viewers.
type hlsMuxer struct {
	s      *Service
	camera string
	stream *hub.Stream
	reader *hub.Reader
	muxer  *gohlslib.Muxer
	tracks map[int]*hlsTrack
	log    *slog.Logger

	mu       sync.Mutex
	inflight int
	last     time.Time            // last request start or end
	viewers  map[string]time.Time // viewer key -> last request
	keyed    bool                 // first video keyframe written
	keyedCh  chan struct{}        // closed when keyed is set
	closed   bool
	done     chan struct{}
}

// startMuxer attaches a reader to stream and starts segmenting it.
func (s *Service) startMuxer(camera string, stream *hub.Stream) (*hlsMuxer, error) {
	byID, list, skipped, err := hlsTracks(stream.Tracks)
	if err != nil {
		return nil, err
	}
	m := &hlsMuxer{s: s, camera: camera, stream: stream, tracks: byID,
		log:  s.log.With("camera", camera, "proto", "hls"),
		last: time.Now(), viewers: map[string]time.Time{}, done: make(chan struct{}), keyedCh: make(chan struct{})}
	if len(skipped) > 0 {
		m.log.Info("tracks left out of live HLS", "tracks", skipped)
	}
	encErrs := 0
	m.muxer = &gohlslib.Muxer{
		Tracks:             list,
		Variant:            gohlslib.MuxerVariantLowLatency,
		SegmentCount:       int(hlsWindow / hlsSegmentMin),
		SegmentMinDuration: hlsSegmentMin,
		PartMinDuration:    hlsPartMin,
		SegmentMaxSize:     64 << 20,
		OnEncodeError: func(err error) {
			// Called from the write goroutine only.
			if encErrs++; encErrs <= 5 {
				m.log.Warn("live HLS encode error", "err", err)
			}
		},
	}
	if err := m.muxer.Start(); err != nil {
		return nil, err
	}
	r, err := stream.NewLiveReader(hlsReaderBuf)
	if err != nil {
		m.muxer.Close()
		return nil, err
	}
	m.reader = r
	go m.run()
	go m.janitor()
	return m, nil
}

// run feeds the muxer until the stream ends, the reader falls behind or the
// muxer is closed. It alone writes to and finally closes the muxer, so that
// no write races with Close.
func (m *hlsMuxer) run() {
	defer func() {
		m.reader.Close()
		m.muxer.Close()
	}()
	errs := 0
	start := time.NewTimer(hlsStartWait)
	defer start.Stop()
	for {
		select {
		case u, ok := <-m.reader.C():
			if !ok {
				why := "stream ended"
				if errors.Is(m.reader.Err(), hub.ErrOverflow) {
					why = "muxer fell behind the stream"
				}
				m.close(why)
				return
			}
			t := m.tracks[u.Track]
			if t == nil {
				continue
			}
			if u.Key && t.track.Codec.IsVideo() {
				m.mu.Lock()
				if !m.keyed {
					m.keyed = true
					close(m.keyedCh)
				}
				m.mu.Unlock()
			}
			if err := t.write(m.muxer, u); err != nil {
				if errs++; errs <= 5 {
					m.log.Warn("live HLS write failed", "track", u.Track, "err", err)
				}
			}
		case <-start.C:
			m.mu.Lock()
			keyed := m.keyed
			m.mu.Unlock()
			if !keyed {
				m.close("no keyframe within " + hlsStartWait.String())
				return
			}
		case <-m.done:
			return
		}
	}
}

// waitKeyed waits up to d for the first video keyframe; it reports false
// when none came, the muxer closed or ctx ended first.
func (m *hlsMuxer) waitKeyed(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-m.keyedCh:
		return true
	case <-m.done:
	case <-t.C:
	case <-ctx.Done():
	}
	return false
}

// janitor closes the muxer once nobody asked for anything for IdleTimeout.
func (m *hlsMuxer) janitor() {
	idle := m.s.d.IdleTimeout
	tick := max(idle/4, 20*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-m.done:
			return
		case now := <-t.C:
			m.mu.Lock()
			expired := m.inflight == 0 && now.Sub(m.last) >= idle
			for k, at := range m.viewers {
				if now.Sub(at) > hlsViewerAlive {
					delete(m.viewers, k)
				}
			}
			m.mu.Unlock()
			if expired {
				m.close("idle")
				return
			}
		}
	}
}

// begin marks a request start; it reports false when the muxer is closed.
func (m *hlsMuxer) begin(viewer string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false
	}
	now := time.Now()
	m.inflight++
	m.last = now
	if _, ok := m.viewers[viewer]; ok || len(m.viewers) < hlsMaxViewers {
		m.viewers[viewer] = now
	}
	return true
}

// end marks a request end.
func (m *hlsMuxer) end() {
	m.mu.Lock()
	m.inflight--
	m.last = time.Now()
	m.mu.Unlock()
}

// viewerCount is the number of players that polled recently.
func (m *hlsMuxer) viewerCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	now := time.Now()
	for _, at := range m.viewers {
		if now.Sub(at) <= hlsViewerAlive {
			n++
		}
	}
	return n
}

// close stops the muxer once: it leaves the service at once, and run
// releases the requests blocked in it.
func (m *hlsMuxer) close(why string) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	close(m.done)
	m.mu.Unlock()
	m.s.mu.Lock()
	if m.s.muxers[m.camera] == m {
		delete(m.s.muxers, m.camera)
	}
	m.s.mu.Unlock()
	m.log.Info("live HLS muxer closed", "reason", why)
}
