package ingest

import "time"

// stallClock tells, at each of watch's checks, how long a publish has
// been quiet for the stall check: the time since media last moved, less
// the time the process itself was starved of CPU. A check that comes
// late by more than half its period means nothing in the process ran
// for that long, the publish's reader included, so the lateness is no
// sign of the camera's; not counting it keeps a loaded machine (a race
// run beside a browser, a busy host) from dropping healthy cameras,
// while a camera that truly sends nothing is still dropped once the
// timeout of on-time checks has passed.
type stallClock struct {
	quietFrom, prevCheck time.Time
}

// newStallClock starts the clock at now, as if media had just moved.
func newStallClock(now time.Time) stallClock { return stallClock{quietFrom: now, prevCheck: now} }

// check takes one check at now (moved: media moved since the last one)
// and returns the quiet time to judge.
func (c *stallClock) check(now time.Time, moved bool) time.Duration {
	if late := now.Sub(c.prevCheck) - stallCheck; late > stallCheck/2 {
		c.quietFrom = c.quietFrom.Add(late)
	}
	c.prevCheck = now
	if moved || c.quietFrom.After(now) {
		c.quietFrom = now
	}
	return now.Sub(c.quietFrom)
}
