package sites

import (
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

func TestComplement(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	sp := func(a, b int) store.Span { return store.Span{Start: at(a), End: at(b)} }
	cases := []struct {
		name     string
		have     []store.Span
		from, to int
		want     []store.Span
	}{
		{"nothing recorded", nil, 0, 10, []store.Span{sp(0, 10)}},
		{"all recorded", []store.Span{sp(-5, 15)}, 0, 10, []store.Span{}},
		{"a hole", []store.Span{sp(0, 3), sp(6, 10)}, 0, 10, []store.Span{sp(3, 6)}},
		{"head and tail", []store.Span{sp(2, 4)}, 0, 10, []store.Span{sp(0, 2), sp(4, 10)}},
		{"overlapping spans", []store.Span{sp(0, 5), sp(3, 7), sp(8, 20)}, 0, 10, []store.Span{sp(7, 8)}},
		{"spans before and after", []store.Span{sp(-9, -1), sp(12, 14)}, 0, 10, []store.Span{sp(0, 10)}},
	}
	for _, c := range cases {
		got := Complement(c.have, at(c.from), at(c.to))
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if !got[i].Start.Equal(c.want[i].Start) || !got[i].End.Equal(c.want[i].End) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
}
