package motion

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// series builds a synthetic stream of frame sizes: fps frames a second,
// a keyframe every gop frames, each P frame's size given by size(t).
type series struct {
	fps, gop int
	dur      time.Duration
	size     func(t time.Duration, i int) int
}

func (s series) run(d *Detector) []Edge {
	var out []Edge
	step := time.Second / time.Duration(s.fps)
	for i := 0; time.Duration(i)*step < s.dur; i++ {
		t := time.Duration(i) * step
		key := s.gop > 0 && i%s.gop == 0
		size := s.size(t, i)
		if key {
			size *= 20
		}
		if e, ok := d.Feed(t, size, key); ok {
			out = append(out, e)
		}
	}
	if e, ok := d.Flush(); ok {
		out = append(out, e)
	}
	return out
}

// jitter is a deterministic noise of relative amplitude amp.
func jitter(seed uint64, amp float64) func(i int) float64 {
	r := rand.New(rand.NewPCG(seed, 1))
	return func(int) float64 { return 1 + amp*(2*r.Float64()-1) }
}

func within(t time.Duration, sec, tol float64) bool {
	return math.Abs(t.Seconds()-sec) <= tol
}

func TestDetectorSeries(t *testing.T) {
	type want struct{ start, end float64 } // seconds; end < 0: not checked
	between := func(t time.Duration, a, b float64) bool { return t.Seconds() >= a && t.Seconds() < b }
	n := jitter(1, 0.2)
	cases := []struct {
		name   string
		s      series
		sens   int
		events []want
	}{
		{"constant", series{fps: 25, gop: 50, dur: 10 * time.Minute, size: func(time.Duration, int) int { return 40 }}, 5, nil},
		{"noise", series{fps: 15, gop: 30, dur: 5 * time.Minute, size: func(_ time.Duration, i int) int { return int(2000 * n(i)) }}, 5, nil},
		{"burst", series{fps: 25, gop: 50, dur: 60 * time.Second, size: func(t time.Duration, i int) int {
			if between(t, 20, 26) {
				return 120
			}
			return 40
		}}, 5, []want{{20, 26}}},
		{"noisy burst", series{fps: 15, gop: 15, dur: 90 * time.Second, size: func(t time.Duration, i int) int {
			v := 2000 * n(i)
			if between(t, 30, 35) || between(t, 60, 61.5) {
				v *= 2.5
			}
			return int(v)
		}}, 5, []want{{30, 35}, {60, 61.5}}},
		{"one large frame", series{fps: 25, gop: 50, dur: 60 * time.Second, size: func(t time.Duration, i int) int {
			if i == 500 {
				return 4000
			}
			return 40
		}}, 10, nil},
		{"two bursts close together are one event", series{fps: 25, gop: 50, dur: 60 * time.Second, size: func(t time.Duration, i int) int {
			if between(t, 20, 23) || between(t, 24, 27) {
				return 200
			}
			return 40
		}}, 5, []want{{20, 27}}},
		{"level that stays closes and is learnt", series{fps: 25, gop: 50, dur: 120 * time.Second, size: func(t time.Duration, i int) int {
			if t > 30*time.Second {
				return 100
			}
			return 40
		}}, 5, []want{{30, -1}}},
		{"slow rise is no motion", series{fps: 25, gop: 50, dur: 120 * time.Second, size: func(t time.Duration, i int) int {
			return int(1000 * (1 + 0.3*min(t.Seconds()/100, 1)))
		}}, 5, nil},
		{"small rise at sensitivity 10", series{fps: 25, gop: 50, dur: 60 * time.Second, size: func(t time.Duration, i int) int {
			if between(t, 20, 25) {
				return 1300
			}
			return 1000
		}}, 10, []want{{20, 25}}},
		{"small rise at sensitivity 1", series{fps: 25, gop: 50, dur: 60 * time.Second, size: func(t time.Duration, i int) int {
			if between(t, 20, 25) {
				return 1300
			}
			return 1000
		}}, 1, nil},
		{"motion at the end is closed by Flush", series{fps: 25, gop: 50, dur: 30 * time.Second, size: func(t time.Duration, i int) int {
			if t > 20*time.Second {
				return 200
			}
			return 40
		}}, 5, []want{{20, 30}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			edges := c.s.run(New(c.sens))
			var closes []Edge
			for i, e := range edges {
				if e.Open != (i%2 == 0) {
					t.Fatalf("edges do not alternate open, close: %+v", edges)
				}
				if !e.Open {
					closes = append(closes, e)
				}
			}
			if len(closes) != len(c.events) {
				t.Fatalf("%d events %+v, want %d", len(closes), closes, len(c.events))
			}
			for i, w := range c.events {
				e := closes[i]
				if !within(e.Start, w.start, 1) || (w.end >= 0 && !within(e.End, w.end, 1.5)) {
					t.Errorf("event %d: %.2f-%.2f s, want %.1f-%.1f", i, e.Start.Seconds(), e.End.Seconds(), w.start, w.end)
				}
				if e.End < e.Start+minEvent || e.Peak < 1 {
					t.Errorf("event %d: %+v", i, e)
				}
			}
		})
	}
}

func TestDetectorGapClosesEvent(t *testing.T) {
	d := New(5)
	ms := time.Millisecond
	var got []Edge
	for i := 0; i < 25*40; i++ {
		size := 40
		if i > 25*30 {
			size = 300
		}
		if e, ok := d.Feed(time.Duration(i)*40*ms, size, i%50 == 0); ok {
			got = append(got, e)
		}
	}
	if len(got) != 1 || !got[0].Open {
		t.Fatalf("before the gap: %+v", got)
	}
	e, ok := d.Feed(60*time.Second, 40, true)
	if !ok || e.Open || e.End > 40*time.Second {
		t.Fatalf("after a 20 s gap: %+v %v, want the event closed at the last frame", e, ok)
	}
	if d.Open() {
		t.Fatal("still open")
	}
}

func TestDetectorTimeGoingBack(t *testing.T) {
	d := New(5)
	for i := 0; i < 2000; i++ {
		at := time.Duration(i%300) * 40 * time.Millisecond // loops back every 12 s
		if e, ok := d.Feed(at, 40+i%7, i%50 == 0); ok && (e.End != 0 && e.End < e.Start) {
			t.Fatalf("edge %+v", e)
		}
	}
}

func TestThresholds(t *testing.T) {
	for s := MinSensitivity; s < MaxSensitivity; s++ {
		if Threshold(s+1) >= Threshold(s) || MinRatio(s+1) >= MinRatio(s) {
			t.Errorf("sensitivity %d: thresholds do not fall", s)
		}
	}
	if Threshold(-3) != Threshold(MinSensitivity) || MinRatio(99) != MinRatio(MaxSensitivity) {
		t.Error("out-of-range sensitivities are not clamped")
	}
}

func TestFeedDoesNotAllocate(t *testing.T) {
	d := New(5)
	i := 0
	allocs := testing.AllocsPerRun(10000, func() {
		size := 1000 + (i*7919)%400
		if i%1000 > 800 {
			size *= 3
		}
		d.Feed(time.Duration(i)*40*time.Millisecond, size, i%50 == 0)
		i++
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame", allocs)
	}
}

func BenchmarkFeed(b *testing.B) {
	d := New(5)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Feed(time.Duration(i)*40*time.Millisecond, 1000+(i*7919)%400, i%50 == 0)
	}
}

// FuzzDetector feeds arbitrary frame sequences: the detector must not
// panic, its edges alternate open and close, an event ends no earlier than
// it starts, and peaks are finite.
func FuzzDetector(f *testing.F) {
	f.Add([]byte{0, 10, 200, 3, 40, 40, 40, 255, 255, 1, 0, 0})
	f.Add([]byte("a steady scene, then something moves ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d := New(int(len(data) % 12))
		var at time.Duration
		open := false
		check := func(e Edge) {
			if e.Open == open {
				t.Fatalf("edge %+v while open=%v", e, open)
			}
			open = e.Open
			if !e.Open && e.End < e.Start {
				t.Fatalf("event ends before it starts: %+v", e)
			}
			if math.IsNaN(e.Peak) || math.IsInf(e.Peak, 0) || e.Peak < 0 {
				t.Fatalf("peak %v", e.Peak)
			}
		}
		for i := 0; i+1 < len(data); i += 2 {
			// The first byte: time step (some backwards, some long gaps);
			// the second: a size over three decades, the key flag.
			switch step := data[i]; {
			case step == 0:
				at -= time.Second
			case step == 255:
				at += 30 * time.Second
			default:
				at += time.Duration(step) * time.Millisecond
			}
			for k := 0; k < 8; k++ { // repeat to get past the warm-up
				size := int(math.Pow(10, float64(data[i+1]&0x7f)/40))
				if e, ok := d.Feed(at+time.Duration(k)*40*time.Millisecond, size, data[i+1]&0x80 != 0 && k == 0); ok {
					check(e)
				}
			}
			at += 8 * 40 * time.Millisecond
		}
		if e, ok := d.Flush(); ok {
			check(e)
		}
		if d.Open() {
			t.Fatal("open after Flush")
		}
	})
}
