package webhooks

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the deliverer's Prometheus metrics on this node.
type metrics struct {
	deliveries *prometheus.CounterVec
	lag        prometheus.Histogram
	duration   prometheus.Histogram
	disabled   prometheus.Counter
	backlog    prometheus.GaugeFunc
	streams    prometheus.GaugeFunc
	scans      *prometheus.CounterVec
}

func newMetrics(s *Service) *metrics {
	const ns, sub = "camcloud", "webhooks"
	return &metrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "deliveries_total",
			Help: "Delivery attempts made by this node, by outcome: ok (2xx), http_error (another status), timeout, refused (destination policy), network_error."},
			[]string{"outcome"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "delivery_lag_seconds",
			Help:    "Time from an event (its end, for an ended ranged event) to its delivery's 2xx answer.",
			Buckets: []float64{0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400}}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns, Subsystem: sub, Name: "request_seconds",
			Help:    "Round trip of one delivery attempt (connection, request, answer).",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}}),
		disabled: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "disabled_total",
			Help: "Webhooks this node turned off after they failed for webhook_disable_after."}),
		backlog: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "backlog_events",
			Help: "Events of the zone logs past the cursors of the webhook zones this node delivers (any organisation's: an upper bound of what is due)."},
			func() float64 { return float64(s.backlog()) }),
		streams: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub, Name: "streams",
			Help: "Webhook zones this node delivers now (holds the lease of)."},
			func() float64 { _, n := s.held(streamKey{}); return float64(n) }),
		scans: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub, Name: "scans_total",
			Help: "Looks for webhooks to deliver, by kind: full (every webhook and cursor listed) or changes (only those changed since, and the free or expired cursors)."},
			[]string{"kind"}),
	}
}

func (m *metrics) register(r prometheus.Registerer) error {
	var errs []error
	for _, c := range []prometheus.Collector{m.deliveries, m.lag, m.duration, m.disabled, m.backlog, m.streams, m.scans} {
		errs = append(errs, r.Register(c))
	}
	return errors.Join(errs...)
}

// backlog sums the backlog of this node's streams.
func (s *Service) backlog() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, st := range s.streams {
		n += st.backlog.Load()
	}
	return n
}
