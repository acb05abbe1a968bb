package ingest

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// videoPath is where the video of an RTSP camera is depacketised.
type videoPath uint8

const (
	pathNone    videoPath = iota // not decided yet, or the publication ended
	pathFast                     // read straight from the connection (fastpath, depack)
	pathLibrary                  // gortsplib's packet path and decoder
)

// videoPaths counts the RTSP cameras publishing now by the path their
// video takes, as camcloud_ingest_rtsp_video_cameras{protocol, path}: an
// operator sees how many cameras the fast path serves, and a rise of
// "library" after an upgrade shows streams it gave back. A nil
// *videoPaths counts nothing.
type videoPaths struct{ fast, library prometheus.Gauge }

// newVideoPaths makes the gauges of one protocol ("rtsp" for pushed
// cameras, "rtsp-pull" for pulled ones, as in StreamInfo.Protocol) and
// registers them with reg unless it is nil.
func newVideoPaths(reg prometheus.Registerer, protocol string) (*videoPaths, error) {
	vec := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "camcloud", Subsystem: "ingest",
		Name:        "rtsp_video_cameras",
		Help:        "RTSP cameras publishing now, by the path of their video: fast (read straight from the connection) or library (the RTSP library's decoder).",
		ConstLabels: prometheus.Labels{"protocol": protocol}}, []string{"path"})
	if reg != nil {
		if err := reg.Register(vec); err != nil {
			return nil, err
		}
	}
	return &videoPaths{fast: vec.WithLabelValues("fast"), library: vec.WithLabelValues("library")}, nil
}

// RegisterMetrics registers the camcloud_ingest_* metrics of the pulled
// cameras (protocol "rtsp-pull") with reg. Call it once, before the first
// Start; without it nothing is counted.
func (p *Puller) RegisterMetrics(reg prometheus.Registerer) error {
	paths, err := newVideoPaths(reg, "rtsp-pull")
	if err != nil {
		return err
	}
	breaks, err := newBreaks(reg, "rtsp-pull")
	if err != nil {
		return err
	}
	p.paths, p.breaks = paths, breaks.Inc
	return nil
}

func (v *videoPaths) gauge(p videoPath) prometheus.Gauge {
	switch {
	case v == nil:
		return nil
	case p == pathFast:
		return v.fast
	case p == pathLibrary:
		return v.library
	}
	return nil
}

// pathSlot is the place of one publication in videoPaths: the camera is
// counted on one path at a time, from the moment its video path is
// decided until the publication is closed.
type pathSlot struct {
	mu     sync.Mutex
	paths  *videoPaths
	on     videoPath
	closed bool
}

// move counts the camera on path p (in paths, the first time) instead of
// where it was. It does nothing once released.
func (s *pathSlot) move(paths *videoPaths, p videoPath) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if s.paths == nil {
		s.paths = paths
	}
	s.moveLocked(p)
}

// release stops counting the camera, for good.
func (s *pathSlot) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.moveLocked(pathNone)
	s.closed = true
}

func (s *pathSlot) moveLocked(p videoPath) {
	if s.on == p {
		return
	}
	if g := s.paths.gauge(s.on); g != nil {
		g.Dec()
	}
	if g := s.paths.gauge(p); g != nil {
		g.Inc()
	}
	s.on = p
}

// newBreaks makes camcloud_ingest_timestamp_breaks_total{protocol}: breaks
// in a source's timestamps (a restarted or leaping clock) that a
// publication spliced over, so that an operator sees which kind of camera
// jumps (the log names the camera). It registers it with reg unless nil.
func newBreaks(reg prometheus.Registerer, protocol string) (prometheus.Counter, error) {
	c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "camcloud", Subsystem: "ingest",
		Name:        "timestamp_breaks_total",
		Help:        "Breaks in a camera's timestamps (its clock restarted or leapt) that ingest spliced over, resuming at the next key frame.",
		ConstLabels: prometheus.Labels{"protocol": protocol}})
	if reg != nil {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}
