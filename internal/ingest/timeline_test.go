package ingest

import (
	"testing"
	"time"
)

// TestTimelineJumped decides, for one step of a 48 kHz audio track, whether
// it is a late frame (dropped by the caller), a normal step, or a break of
// the source's clock (spliced).
func TestTimelineJumped(t *testing.T) {
	t0 := time.Unix(1000, 0)
	cases := []struct {
		name string
		step int64         // input ticks after the last unit
		wall time.Duration // wall-clock time after it
		want bool
	}{
		{"next frame", 1024, 20 * time.Millisecond, false},
		{"burst after a stall", 48000 * 3, 0, false},
		{"late frame", -1024, 0, false},
		{"real gap in the source", 48000 * 30, 30 * time.Second, false},
		{"restart", -48000 * 60, 0, true},
		{"leap ahead", 48000 * 3600, time.Second, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tl := timeline{clock: 48000}
			tl.start(5_000_000, 0, t0)
			if got := tl.jumped(5_000_000+tc.step, t0.Add(tc.wall), audioReorder); got != tc.want {
				t.Fatalf("jumped = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestTimelineSplice continues the output after the wall-clock time that
// passed, whatever the source's clock did.
func TestTimelineSplice(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tl := timeline{clock: 90000}
	tl.start(900_000, 0, t0)
	tl.apply(903_600, t0.Add(40*time.Millisecond))
	at := t0.Add(1040 * time.Millisecond)
	tl.splice(990, at)
	if got := tl.apply(990, at); got != 3600+90000 {
		t.Fatalf("spliced output %d, want %d (last output + 1 s of wall clock)", got, 3600+90000)
	}
	if got := tl.apply(990+3600, at.Add(40*time.Millisecond)); got != 3600+90000+3600 {
		t.Fatalf("next output %d, want %d", got, 3600+90000+3600)
	}
}
