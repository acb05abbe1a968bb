package sample

import (
	"context"
	"errors"
	"time"

	"github.com/camcloud/camcloud/internal/hub"
)

// Loop returns fresh units for the k-th pass (k >= 0) over the sample, with
// PTS and DTS shifted by k times Duration, so that timestamps keep growing
// across passes. NTP is left zero for the caller to fill. The units share
// their payload slices with s.Units.
func (s *Sample) Loop(k int) []*hub.Unit {
	shift := make([]int64, len(s.Tracks))
	for i, t := range s.Tracks {
		shift[i] = durToTicks(time.Duration(k)*s.Duration, t.ClockRate)
	}
	vals := make([]hub.Unit, len(s.Units))
	out := make([]*hub.Unit, len(s.Units))
	for i, u := range s.Units {
		v := &vals[i]
		*v = *u
		off := shift[u.Track-1]
		v.PTS += off
		v.DTS += off
		v.NTP = time.Time{}
		out[i] = v
	}
	return out
}

// Play hands the sample's units to fn in a loop until ctx ends or fn fails,
// paced in real time by decode timestamp. Timestamps continue monotonically
// across passes and each unit's NTP is the wall-clock time it is handed out.
// It returns ctx.Err() or fn's error.
func (s *Sample) Play(ctx context.Context, fn func(u *hub.Unit) error) error {
	if len(s.Units) == 0 || s.Duration <= 0 {
		return errors.New("sample: nothing to play")
	}
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for k := 0; ; k++ {
		loopStart := start.Add(time.Duration(k) * s.Duration)
		for i, u := range s.Loop(k) {
			at := loopStart.Add(s.unitTime(s.Units[i]))
			if wait := time.Until(at); wait > 0 {
				timer.Reset(wait)
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-timer.C:
				}
			} else if err := ctx.Err(); err != nil {
				return err
			}
			u.NTP = time.Now()
			if err := fn(u); err != nil {
				return err
			}
		}
	}
}
