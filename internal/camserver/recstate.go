package camserver

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/camcloud/camcloud/internal/store"
)

// recentlyRecorded is how recent the last committed fragment of a
// connected camera must be for it to count as being recorded: a few
// fragments and more than one status report (every 5 s).
const recentlyRecorded = 10 * time.Second

// recordingState says whether camera cameraID, connected to this server,
// is being recorded at now, and if not why: a camera that is connected but
// not recorded must not pass for a recorded one.
func (s *Server) recordingState(cameraID string, now time.Time) (state, reason string) {
	st := s.c.Hub.Get(cameraID)
	if st == nil {
		return "", ""
	}
	s.mu.Lock()
	running, off := s.recs[st] != nil, s.off[cameraID]
	s.mu.Unlock()
	last, why := s.rec.LastRecorded(cameraID)
	switch {
	case !running && off:
		return store.RecordingOff, "recording is turned off for this camera"
	case why != "":
		return store.RecordingFailing, why
	case !running:
		return store.RecordingWaiting, "the recorder has not started on this stream yet"
	case now.Sub(last) <= recentlyRecorded:
		return store.RecordingOn, ""
	case last.IsZero():
		return store.RecordingWaiting, "connected; waiting for the camera's first key frame"
	}
	return store.RecordingWaiting, fmt.Sprintf("connected, but nothing recorded for %s (waiting for a key frame)",
		now.Sub(last).Round(time.Second))
}

// recordingStates is camcloud_camserver_cameras{recording}: the cameras
// connected to this server by recording state, computed when scraped, so
// that "connected but not recorded" is an alert, not a surprise.
type recordingStates struct {
	s    *Server
	desc *prometheus.Desc
}

func newRecordingStates(s *Server) *recordingStates {
	return &recordingStates{s: s, desc: prometheus.NewDesc("camcloud_camserver_cameras",
		"Cameras connected to this camera server, by recording state (recording, waiting, failing, off).",
		[]string{"recording"}, nil)}
}

// Describe implements prometheus.Collector.
func (c *recordingStates) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *recordingStates) Collect(ch chan<- prometheus.Metric) {
	n := map[string]float64{store.RecordingOn: 0, store.RecordingWaiting: 0, store.RecordingFailing: 0, store.RecordingOff: 0}
	now := time.Now()
	for _, id := range c.s.c.Hub.Cameras() {
		if state, _ := c.s.recordingState(id, now); state != "" {
			n[state]++
		}
	}
	for state, v := range n {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, v, state)
	}
}
