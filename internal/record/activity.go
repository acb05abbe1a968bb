package record

import (
	"sync"
	"time"
)

// activity remembers, per camera, when the recorder last committed a
// fragment of it and why it last gave up on its stream, so that a camera
// server can tell a camera that is connected but not recorded (no key
// frame yet, a track it cannot write, a failing spool) from one that is.
// It holds an entry per camera recorded since the process started.
type activity struct {
	mu   sync.Mutex
	last map[string]time.Time
	why  map[string]string
}

// recorded notes a committed fragment of cam at at; it clears a failure.
func (a *activity) recorded(cam string, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		a.last, a.why = map[string]time.Time{}, map[string]string{}
	}
	a.last[cam] = at
	delete(a.why, cam)
}

// failed notes why the recorder stopped recording cam's stream.
func (a *activity) failed(cam, why string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last == nil {
		a.last, a.why = map[string]time.Time{}, map[string]string{}
	}
	a.why[cam] = why
}

// LastRecorded returns when a fragment of cameraID was last committed to
// the spool (zero when none was since the process started) and, when the
// recorder gave up on the camera's current stream, why.
func (r *Recorder) LastRecorded(cameraID string) (time.Time, string) {
	r.act.mu.Lock()
	defer r.act.mu.Unlock()
	return r.act.last[cameraID], r.act.why[cameraID]
}
