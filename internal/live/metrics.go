package live

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the service's Prometheus series (namespace camcloud_live).
type metrics struct {
	muxers        prometheus.GaugeFunc
	hlsViewers    prometheus.GaugeFunc
	rtcViewers    prometheus.GaugeFunc
	muxersStarted prometheus.Counter
	sessions      prometheus.Counter
	skips         prometheus.Counter
}

func newMetrics(s *Service) *metrics {
	const ns, sub = "camcloud", "live"
	return &metrics{
		muxers: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "muxers",
			Help: "Live HLS muxers running (one per watched camera)."}, func() float64 { return float64(s.muxerCount()) }),
		hlsViewers: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "viewers",
			Help: "Live viewers: HLS players that polled in the last 15 s, WebRTC sessions open.", ConstLabels: prometheus.Labels{"protocol": "hls"}},
			func() float64 { return float64(s.hlsViewerCount()) }),
		rtcViewers: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "viewers",
			Help: "Live viewers: HLS players that polled in the last 15 s, WebRTC sessions open.", ConstLabels: prometheus.Labels{"protocol": "webrtc"}},
			func() float64 { return float64(s.sessionCount()) }),
		muxersStarted: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "muxers_started_total",
			Help: "Live HLS muxers started."}),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "webrtc_sessions_total",
			Help: "WebRTC (WHEP) sessions started."}),
		skips: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "webrtc_skips_total",
			Help: "Times a WebRTC viewer fell behind and skipped to the next keyframe."}),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{m.muxers, m.hlsViewers, m.rtcViewers, m.muxersStarted, m.sessions, m.skips} {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

// muxerCount is the number of running HLS muxers.
func (s *Service) muxerCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.muxers)
}

// hlsViewerCount sums the recent HLS players of every muxer.
func (s *Service) hlsViewerCount() int {
	s.mu.Lock()
	ms := make([]*hlsMuxer, 0, len(s.muxers))
	for _, m := range s.muxers {
		ms = append(ms, m)
	}
	s.mu.Unlock()
	n := 0
	for _, m := range ms {
		n += m.viewerCount()
	}
	return n
}

// sessionCount is the number of open WebRTC sessions.
func (s *Service) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}
