package ingest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func gaugeValue(g prometheus.Gauge) float64 {
	var m dto.Metric
	_ = g.Write(&m)
	return m.GetGauge().GetValue()
}

// TestPathSlot: a camera is counted on one path at a time, moves when its
// video is given back to the library, and is not counted once released,
// whatever comes after.
func TestPathSlot(t *testing.T) {
	reg := prometheus.NewRegistry()
	paths, err := newVideoPaths(reg, "rtsp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newVideoPaths(reg, "rtsp-pull"); err != nil {
		t.Fatalf("a second protocol does not register beside the first: %v", err)
	}
	var a, b pathSlot
	steps := []struct {
		do            func()
		fast, library float64
	}{
		{func() { a.move(paths, pathFast) }, 1, 0},
		{func() { b.move(paths, pathLibrary) }, 1, 1},
		{func() { a.move(nil, pathLibrary) }, 0, 2}, // the tap declined
		{func() { a.move(nil, pathLibrary) }, 0, 2},
		{func() { a.release() }, 0, 1},
		{func() { a.move(paths, pathFast) }, 0, 1}, // after the end: ignored
		{func() { b.release(); b.release() }, 0, 0},
	}
	for i, s := range steps {
		s.do()
		if f, l := gaugeValue(paths.fast), gaugeValue(paths.library); f != s.fast || l != s.library {
			t.Fatalf("step %d: fast %v, library %v; want %v and %v", i, f, l, s.fast, s.library)
		}
	}
	var never pathSlot
	never.release() // a publication whose path was never decided
	var uncounted pathSlot
	uncounted.move(nil, pathFast) // no metrics (a Puller without RegisterMetrics)
	uncounted.release()
}
