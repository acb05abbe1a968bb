package motion

import (
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/testenv"
)

// TestShippedSamples runs the detector over the shipped samples, looped as
// simulated cameras loop them: the moving scene gives one event per
// 30 s pass, starting when the box enters (12 s into the pass), and the
// test pattern, which changes a little every frame, none.
func TestShippedSamples(t *testing.T) {
	for _, c := range []struct {
		name   string
		loops  int
		starts []float64
	}{
		{"sample-moving-h264.ts", 4, []float64{12, 42, 72, 102}},
		{"sample-h264.ts", 30, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			smp := testenv.Sample(t, c.name)
			video := smp.Tracks[0]
			d := New(DefaultSensitivity)
			var got []Edge
			for k := range c.loops {
				for _, u := range smp.Loop(k) {
					if u.Track != video.ID {
						continue
					}
					size := 0
					for _, p := range u.Payload {
						size += len(p)
					}
					if e, ok := d.Feed(mediaTime(u.DTS, video.ClockRate), size, u.Key); ok && !e.Open {
						got = append(got, e)
					}
				}
			}
			if len(got) != len(c.starts) {
				t.Fatalf("%d events %+v, want starts at %v s", len(got), got, c.starts)
			}
			for i, e := range got {
				if (e.Start - time.Duration(c.starts[i]*float64(time.Second))).Abs() > 2*time.Second {
					t.Errorf("event %d starts at %v, want %v s", i, e.Start, c.starts[i])
				}
			}
		})
	}
}
