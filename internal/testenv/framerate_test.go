package testenv

import (
	"testing"
	"time"
)

func TestFrameRate(t *testing.T) {
	every := func(n int, step time.Duration, skip ...int) []time.Duration {
		var out []time.Duration
		for i := range n {
			if len(skip) > 0 && i >= skip[0] && i < skip[1] {
				continue
			}
			out = append(out, time.Duration(i)*step)
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		times []time.Duration
		rate  float64
		hole  time.Duration
	}{
		{"steady 25 fps", every(250, 40*time.Millisecond), 25, 40 * time.Millisecond},
		{"5 frames dropped", every(250, 40*time.Millisecond, 100, 105), 20, 240 * time.Millisecond},
		{"none", nil, 0, 0},
	} {
		rate, hole := FrameRate(tc.times, time.Second)
		if rate != tc.rate || hole != tc.hole {
			t.Errorf("%s: rate %v hole %s, want %v and %s", tc.name, rate, hole, tc.rate, tc.hole)
		}
	}
}
