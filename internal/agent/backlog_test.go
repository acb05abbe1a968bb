package agent

import (
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

func TestOverlap(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	segs := []store.Segment{{Start: at(0), End: at(10), Size: 1000}, {Start: at(10), End: at(20), Size: 2000}, {Start: at(30), End: at(40), Size: 500}}
	gaps := []store.Span{{Start: at(5), End: at(15)}, {Start: at(18), End: at(35)}}
	got := overlap(segs, gaps)
	// 5 s of the first (500 B), 5 + 2 s of the second (1400 B), 5 s of the third (250 B).
	if got.Covered != 17*time.Second || got.Bytes != 2150 {
		t.Fatalf("overlap %+v, want 17 s and 2150 bytes", got)
	}
	if got := overlap(segs, nil); got.Covered != 0 || got.Bytes != 0 {
		t.Fatalf("no gaps: %+v", got)
	}
}
