package backfill

import (
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

// segs are n segments of cam of d each from t0 + at, back to back.
func segs(at time.Duration, n int, d time.Duration) []store.Segment {
	var out []store.Segment
	for i := range n {
		s := t0.Add(at + time.Duration(i)*d)
		out = append(out, store.Segment{CameraID: "c", Start: s, End: s.Add(d), Size: 100})
	}
	return out
}

func span(a, b time.Duration) store.Span { return store.Span{Start: t0.Add(a), End: t0.Add(b)} }

func starts(ss []store.Segment) []time.Duration {
	var out []time.Duration
	for _, s := range ss {
		out = append(out, s.Start.Sub(t0))
	}
	return out
}

func TestPick(t *testing.T) {
	all := segs(0, 10, 10*time.Second) // 0..100 s
	missing := []store.Span{span(25*time.Second, 41*time.Second), span(60*time.Second, 60*time.Second), span(90*time.Second, 200*time.Second)}
	got := starts(Pick(all, missing, OldestFirst))
	want := []time.Duration{20 * time.Second, 30 * time.Second, 40 * time.Second, 90 * time.Second}
	if len(got) != len(want) {
		t.Fatalf("picked %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("picked %v, want %v", got, want)
		}
	}
	newest := starts(Pick(all, missing, NewestFirst))
	if len(newest) != 4 || newest[0] != 90*time.Second || newest[3] != 20*time.Second {
		t.Errorf("newest first: %v", newest)
	}
	// A gap that only touches a segment's end does not pick it.
	if p := Pick(all, []store.Span{span(100*time.Second, 110*time.Second), span(-5*time.Second, 0)}, OldestFirst); len(p) != 0 {
		t.Errorf("touching gaps picked %v", starts(p))
	}
	if p := Pick(nil, missing, OldestFirst); len(p) != 0 {
		t.Errorf("picked from nothing: %v", p)
	}
}

func TestBatch(t *testing.T) {
	in := append(segs(0, 3, 10*time.Second), segs(31*time.Second, 2, 10*time.Second)...) // a 1 s hole: still one run
	in = append(in, segs(100*time.Second, 1, 10*time.Second)...)                         // far: a new run
	runs := Batch(in)
	if len(runs) != 2 || len(runs[0]) != 5 || len(runs[1]) != 1 {
		t.Fatalf("runs %d: %v", len(runs), runs)
	}
	if r := Range(runs[0]); !r.Start.Equal(t0) || !r.End.Equal(t0.Add(51*time.Second)) {
		t.Errorf("range of the first run %v", r)
	}
}

func TestParseOrder(t *testing.T) {
	for in, want := range map[string]Order{"": OldestFirst, "oldest": OldestFirst, "newest": NewestFirst} {
		if got, err := ParseOrder(in); err != nil || got != want {
			t.Errorf("order %q: %v %v", in, got, err)
		}
	}
	if _, err := ParseOrder("random"); err == nil {
		t.Error("order random accepted")
	}
}

// TestRememberedGaps: the gaps the cloud reported, joined, less what was
// stored since, keep the tail of a gap that has become too short for the
// cloud to report.
func TestRememberedGaps(t *testing.T) {
	known := Union([]store.Span{span(10*time.Second, 20*time.Second)}, []store.Span{span(15*time.Second, 30*time.Second), span(40*time.Second, 50*time.Second)})
	if len(known) != 2 || known[0] != span(10*time.Second, 30*time.Second) || known[1] != span(40*time.Second, 50*time.Second) {
		t.Fatalf("union %v", known)
	}
	known = Subtract(known, t0.Add(10*time.Second), t0.Add(28*time.Second)) // backfill stored 10..28 s
	if len(known) != 2 || known[0] != span(28*time.Second, 30*time.Second) {
		t.Fatalf("after subtracting: %v", known)
	}
	// The 2 s left of the first gap still picks the segment there.
	if p := starts(Pick(segs(0, 6, 10*time.Second), known, OldestFirst)); len(p) != 2 || p[0] != 20*time.Second || p[1] != 40*time.Second {
		t.Errorf("picked %v", p)
	}
	if got := Subtract(known, t0, t0.Add(time.Hour)); len(got) != 0 {
		t.Errorf("all subtracted: %v", got)
	}
	if got := Union(nil, []store.Span{span(5*time.Second, 5*time.Second)}); len(got) != 0 {
		t.Errorf("an empty span kept: %v", got)
	}
}
