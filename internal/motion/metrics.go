package motion

import "github.com/prometheus/client_golang/prometheus"

// metrics are the watcher's Prometheus series (namespace camcloud_motion).
// They exist even without a Registerer, so the code never checks for nil.
type metrics struct {
	cameras  prometheus.Gauge
	opened   prometheus.Counter
	overflow prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns = "camcloud_motion"
	m := &metrics{
		cameras: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns,
			Name: "cameras", Help: "Cameras whose video the motion detector looks at now."}),
		opened: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "events_opened_total", Help: "Motion events opened."}),
		overflow: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "overflow_drops_total", Help: "Motion edges dropped because a camera's ring of edges was full (its goroutine did not run for many seconds)."}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.cameras, m.opened, m.overflow} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
