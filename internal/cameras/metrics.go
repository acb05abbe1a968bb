package cameras

import (
	"context"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/store"
)

// metricsTimeout bounds the database reads of one scrape.
const metricsTimeout = 5 * time.Second

// fleetMetrics is the fleet on /metrics, read from the directory and each
// zone's status when scraped: cameras online and offline and cameras
// recorded, per zone, and, for up to health cameras (the first by id, so
// that the series stay the same from scrape to scrape), the age of each
// one's last frame. The number of series is bounded by the zones and by
// health, never by the fleet.
type fleetMetrics struct {
	s      *Service
	health int

	cams, rec, age, left *prometheus.Desc
}

// Collector returns the collector of the fleet's metrics for the zones of
// this service; health (0 to off) is how many cameras get a last-frame
// age series of their own.
func (s *Service) Collector(health int) prometheus.Collector {
	return &fleetMetrics{s: s, health: max(health, 0),
		cams: prometheus.NewDesc("camcloud_cameras", "Cameras by zone and presence (online: a camera server holds its stream).",
			[]string{"zone", "presence"}, nil),
		rec: prometheus.NewDesc("camcloud_cameras_recording", "Cameras by zone that are online and recorded (a fragment committed in the last 10 s).",
			[]string{"zone"}, nil),
		age: prometheus.NewDesc("camcloud_camera_last_frame_age_seconds",
			"Seconds since a camera server last saw the camera's stream (about 5 s resolution), for the first metrics_camera_health cameras by id; absent for a camera never seen.",
			[]string{"zone", "camera"}, nil),
		left: prometheus.NewDesc("camcloud_camera_health_omitted",
			"Cameras left out of camcloud_camera_last_frame_age_seconds by the metrics_camera_health bound.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *fleetMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.cams
	ch <- m.rec
	if m.health > 0 {
		ch <- m.age
		ch <- m.left
	}
}

// Collect implements prometheus.Collector. A zone that cannot answer is
// left out of this scrape (and logged).
func (m *fleetMetrics) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), metricsTimeout)
	defer cancel()
	now := m.s.now()
	type seen struct {
		zone, id string
		at       time.Time
	}
	var health []seen
	total := 0
	for _, name := range m.s.zones {
		cams, err := m.s.dir.ListCamerasByZone(ctx, name)
		if err != nil {
			m.s.log.Warn("fleet metrics: cameras unavailable", "zone", name, "err", err)
			continue
		}
		z, err := m.s.zone(name)
		if err != nil {
			continue
		}
		ids := make([]string, len(cams))
		for i, c := range cams {
			ids[i] = c.ID
		}
		status, err := z.DB.ListStatus(ctx, ids)
		if err != nil {
			m.s.log.Warn("fleet metrics: status unavailable", "zone", name, "err", err)
			continue
		}
		online, recording := 0, 0
		for _, id := range ids {
			st := status[id]
			if st.Online {
				online++
				if st.Recording == store.RecordingOn {
					recording++
				}
			}
			if m.health > 0 {
				health = append(health, seen{zone: name, id: id, at: st.LastSeen})
			}
		}
		total += len(ids)
		ch <- prometheus.MustNewConstMetric(m.cams, prometheus.GaugeValue, float64(online), name, "online")
		ch <- prometheus.MustNewConstMetric(m.cams, prometheus.GaugeValue, float64(len(ids)-online), name, "offline")
		ch <- prometheus.MustNewConstMetric(m.rec, prometheus.GaugeValue, float64(recording), name)
	}
	if m.health == 0 {
		return
	}
	sort.Slice(health, func(i, j int) bool { return health[i].id < health[j].id })
	omitted := max(len(health)-m.health, 0)
	health = health[:min(len(health), m.health)]
	for _, h := range health {
		if h.at.IsZero() {
			continue
		}
		ch <- prometheus.MustNewConstMetric(m.age, prometheus.GaugeValue, max(now.Sub(h.at).Seconds(), 0), h.zone, h.id)
	}
	ch <- prometheus.MustNewConstMetric(m.left, prometheus.GaugeValue, float64(omitted))
}
