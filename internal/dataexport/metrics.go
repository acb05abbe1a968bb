package dataexport

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the export's Prometheus series. A nil *Metrics counts
// nothing.
type Metrics struct {
	runs     *prometheus.CounterVec
	rowsRead *prometheus.CounterVec
	bytes    prometheus.Counter
	running  prometheus.Gauge
	last     prometheus.Gauge
	duration prometheus.Gauge
}

// NewMetrics registers the export's series with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camcloud_export_runs_total",
			Help: "Data export runs, by result (ok, failed)."}, []string{"result"}),
		rowsRead: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "camcloud_export_rows_total",
			Help: "Rows the data export read from database snapshots (counted as they stream), by database and table."}, []string{"db", "table"}),
		bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "camcloud_export_bytes_total",
			Help: "Bytes of Parquet files written by successful data export runs, over all audiences."}),
		running: prometheus.NewGauge(prometheus.GaugeOpts{Name: "camcloud_export_running",
			Help: "1 while a data export runs."}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "camcloud_export_last_success_timestamp_seconds",
			Help: "When the last successful data export finished (Unix time)."}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "camcloud_export_last_duration_seconds",
			Help: "How long the last data export run took."}),
	}
	reg.MustRegister(m.runs, m.rowsRead, m.bytes, m.running, m.last, m.duration)
	return m
}

func (m *Metrics) start() {
	if m != nil {
		m.running.Set(1)
	}
}

func (m *Metrics) rows(db, table string, n int64) {
	if m != nil && n > 0 {
		m.rowsRead.WithLabelValues(db, table).Add(float64(n))
	}
}

func (m *Metrics) done(ok bool, took time.Duration, bytes int64) {
	if m == nil {
		return
	}
	m.running.Set(0)
	m.duration.Set(took.Seconds())
	if !ok {
		m.runs.WithLabelValues("failed").Inc()
		return
	}
	m.runs.WithLabelValues("ok").Inc()
	m.bytes.Add(float64(bytes))
	m.last.SetToCurrentTime()
}
