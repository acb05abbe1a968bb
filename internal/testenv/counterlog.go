package testenv

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// CounterLog samples a growing counter (frames a simulated camera sent,
// say) every few milliseconds, so that a test can later ask what it was
// at an instant it learns afterwards (the start of a recorded segment).
// It stops at cleanup.
type CounterLog struct {
	mu sync.Mutex
	at []time.Time
	v  []int64
}

// counterLogEvery is the sampling interval: well under a video frame.
const counterLogEvery = 5 * time.Millisecond

// LogCounter starts sampling f.
func LogCounter(t testing.TB, f func() int64) *CounterLog {
	c := &CounterLog{}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(counterLogEvery)
		defer tk.Stop()
		for {
			c.mu.Lock()
			c.at, c.v = append(c.at, time.Now()), append(c.v, f())
			c.mu.Unlock()
			select {
			case <-stop:
				return
			case <-tk.C:
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return c
}

// At is the counter's value at the last sample at or before t (0 before
// the first).
func (c *CounterLog) At(t time.Time) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := sort.Search(len(c.at), func(i int) bool { return c.at[i].After(t) })
	if i == 0 {
		return 0
	}
	return c.v[i-1]
}
