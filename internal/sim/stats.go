// Package sim runs simulated cameras: each pushes a real H.264 (+AAC) sample
// over RTSP or RTMP, looping it in real time and reconnecting like a camera
// would, or is served over RTSP for the server to pull. The camcloud sim
// command and load tests use it; its counters let a test check that no
// frame was lost.
package sim

import (
	"sync/atomic"

	"github.com/camcloud/camcloud/internal/hub"
)

// Stats counts what one simulated camera did. It is safe for concurrent use.
type Stats struct {
	// Frames counts video access units sent.
	Frames atomic.Int64
	// Units counts all access units sent (video and audio).
	Units atomic.Int64
	// Bytes counts the payload bytes of the units sent (what an uplink
	// cap shared with other traffic counts).
	Bytes atomic.Int64
	// Sessions counts sessions that got to sending media.
	Sessions atomic.Int64
	// Reconnects counts connection attempts after the first.
	Reconnects atomic.Int64
	// Connected tells whether a session is sending right now.
	Connected atomic.Bool
}

// sent counts one unit; isVideo tells whether it is a video frame.
func (s *Stats) sent(u *hub.Unit, isVideo bool) {
	if s == nil {
		return
	}
	s.Units.Add(1)
	var n int
	for _, p := range u.Payload {
		n += len(p)
	}
	s.Bytes.Add(int64(n))
	if isVideo {
		s.Frames.Add(1)
	}
}

// Snapshot is a copy of Stats at one instant.
type Snapshot struct {
	CameraID   string `json:"camera_id,omitempty"`
	Frames     int64  `json:"frames"`
	Units      int64  `json:"units"`
	Sessions   int64  `json:"sessions"`
	Reconnects int64  `json:"reconnects"`
	Connected  bool   `json:"connected"`
}

// Snapshot copies the counters.
func (s *Stats) Snapshot() Snapshot {
	return Snapshot{Frames: s.Frames.Load(), Units: s.Units.Load(), Sessions: s.Sessions.Load(),
		Reconnects: s.Reconnects.Load(), Connected: s.Connected.Load()}
}
