package ingest

import (
	"testing"
	"time"
)

func TestStallClock(t *testing.T) {
	t0 := time.Unix(1_800_000_000, 0)
	s := time.Second
	for _, tc := range []struct {
		name   string
		checks []time.Duration // offsets of the checks from t0
		moved  []bool
		want   time.Duration // quiet time at the last check
	}{
		{"on time, quiet", []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s}, make([]bool, 6), 6 * s},
		{"on time, media at 4 s", []time.Duration{1 * s, 2 * s, 3 * s, 4 * s, 5 * s, 6 * s}, []bool{false, false, false, true, false, false}, 2 * s},
		{"starved 10 s: not counted", []time.Duration{1 * s, 2 * s, 12 * s}, make([]bool, 3), 3 * s}, // the late check counts one period
		{"starved, then quiet on time", []time.Duration{1 * s, 11 * s, 12 * s, 13 * s, 14 * s, 15 * s, 16 * s, 17 * s}, make([]bool, 8), 8 * s},
		{"a little late is on time", []time.Duration{1 * s, 2*s + 400*time.Millisecond, 3*s + 400*time.Millisecond}, make([]bool, 3), 3*s + 400*time.Millisecond},
	} {
		c := newStallClock(t0)
		var got time.Duration
		for i, at := range tc.checks {
			got = c.check(t0.Add(at), tc.moved[i])
		}
		if got != tc.want {
			t.Errorf("%s: quiet %s, want %s", tc.name, got, tc.want)
		}
	}
}
