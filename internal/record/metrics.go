package record

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/spool"
)

// metrics are the recorder's Prometheus series (namespace camcloud_record),
// the spool's among them. They exist even without a Registerer, so the code
// never checks for nil.
type metrics struct {
	spool            spool.Metrics
	segmentsUploaded prometheus.Counter
	uploadFailures   prometheus.Counter
	bytesUploaded    prometheus.Counter
	spoolBytes       prometheus.Gauge
	spoolDropped     prometheus.Counter
	earlyCloses      prometheus.Counter
	framesRecorded   prometheus.Counter
	overflowDrops    prometheus.Counter
	commitSeconds    prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns = "camcloud_record"
	m := &metrics{
		segmentsUploaded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "segments_uploaded_total", Help: "Segments uploaded to the object store and indexed."}),
		uploadFailures: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "upload_failures_total", Help: "Failed attempts to upload a segment or write its index row (retried)."}),
		bytesUploaded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "uploaded_bytes_total", Help: "Bytes of segment objects uploaded."}),
		spoolBytes: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns,
			Name: "spool_bytes", Help: "Bytes in the local spool waiting for upload (open and closed segments)."}),
		spoolDropped: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "spool_dropped_segments_total", Help: "Spooled segments (or fragments) dropped because the spool was full."}),
		earlyCloses: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "segments_closed_early_total", Help: "Segments closed before segment_duration because the spool was above 3/4 of max_spool_bytes."}),
		framesRecorded: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "frames_recorded_total", Help: "Access units written to the spool and synced."}),
		overflowDrops: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns,
			Name: "overflow_drops_total", Help: "Times the recorder fell behind a stream and was dropped by the hub."}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: ns,
			Name: "commit_seconds", Help: "Duration of one group commit (sync of the fragments written since the previous one).",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10}}),
	}
	m.spool = spool.Metrics{Bytes: m.spoolBytes, Dropped: m.spoolDropped, Frames: m.framesRecorded, CommitSeconds: m.commitSeconds}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.segmentsUploaded, m.uploadFailures, m.bytesUploaded,
			m.spoolBytes, m.spoolDropped, m.earlyCloses, m.framesRecorded, m.overflowDrops, m.commitSeconds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
