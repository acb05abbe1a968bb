package sites

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metricsTimeout bounds the directory query of one scrape.
const metricsTimeout = 5 * time.Second

// Collector returns the fleet's site series: sites by state and, summed
// over the online sites, what their agents last reported (ring buffer
// use, what the cloud still lacks, upload rate). They are read from the
// directory at scrape time, so every api node shows the same figures; a
// directory that does not answer makes the scrape report an error for
// these series instead of stale ones.
func (s *Service) Collector() prometheus.Collector {
	return &siteMetrics{s: s,
		sites: prometheus.NewDesc("camcloud_sites", "Sites by state: online (an enrolled agent reported in the last 30 s), offline (enrolled, silent), waiting (an enrolment token pending, no agent) or none (no agent, no token; revoked or expired).",
			[]string{"state"}, nil),
		buffer:       prometheus.NewDesc("camcloud_sites_buffer_used_bytes", "Bytes in the ring buffers of the online sites' agents.", nil, nil),
		backlog:      prometheus.NewDesc("camcloud_sites_backlog_seconds", "Seconds of recorded video the online sites' agents hold that the cloud lacks (summed over cameras).", nil, nil),
		backlogBytes: prometheus.NewDesc("camcloud_sites_backlog_bytes", "Bytes of recorded video the online sites' agents hold that the cloud lacks.", nil, nil),
		upload:       prometheus.NewDesc("camcloud_sites_upload_bits_per_second", "Upload rate the online sites' agents reported, summed.", nil, nil),
	}
}

type siteMetrics struct {
	s                                            *Service
	sites, buffer, backlog, backlogBytes, upload *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (m *siteMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.sites, m.buffer, m.backlog, m.backlogBytes, m.upload} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *siteMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), metricsTimeout)
	defer cancel()
	rows, err := m.s.c.Dir.ListSites(ctx, nil)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(m.sites, err)
		return
	}
	states := map[string]float64{"online": 0, "offline": 0, "waiting": 0, "none": 0}
	var buffer, backlog, backlogBytes, upload float64
	for _, r := range rows {
		st := m.s.fromRow(r)
		switch {
		case st.Online:
			states["online"]++
			buffer += float64(st.Status.BufferUsed)
			backlog += st.Status.Backlog.Seconds()
			backlogBytes += float64(st.Status.BacklogBytes)
			upload += float64(st.Status.UploadBPS)
		case st.Enrolled:
			states["offline"]++
		case st.EnrolPending:
			states["waiting"]++
		default:
			states["none"]++
		}
	}
	for state, n := range states {
		ch <- prometheus.MustNewConstMetric(m.sites, prometheus.GaugeValue, n, state)
	}
	ch <- prometheus.MustNewConstMetric(m.buffer, prometheus.GaugeValue, buffer)
	ch <- prometheus.MustNewConstMetric(m.backlog, prometheus.GaugeValue, backlog)
	ch <- prometheus.MustNewConstMetric(m.backlogBytes, prometheus.GaugeValue, backlogBytes)
	ch <- prometheus.MustNewConstMetric(m.upload, prometheus.GaugeValue, upload)
}
