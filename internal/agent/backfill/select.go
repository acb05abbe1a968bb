package backfill

import (
	"fmt"
	"slices"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// Order is the order in which backfill uploads the segments it picked.
type Order string

// The orders: oldest first (the default: the timeline fills in from the
// start of the outage) or newest first (the most recent video is in the
// cloud soonest).
const (
	OldestFirst Order = "oldest"
	NewestFirst Order = "newest"
)

// ParseOrder reads a configured order ("" is oldest).
func ParseOrder(s string) (Order, error) {
	switch Order(s) {
	case "", OldestFirst:
		return OldestFirst, nil
	case NewestFirst:
		return NewestFirst, nil
	}
	return "", fmt.Errorf("order %q: want oldest or newest", s)
}

// Pick returns the segments of segs (one camera's, in order of start)
// that overlap a span of missing (in order of start), in the given order.
func Pick(segs []store.Segment, missing []store.Span, order Order) []store.Segment {
	var out []store.Segment
	j := 0
	for _, s := range segs {
		for j < len(missing) && !missing[j].End.After(s.Start) {
			j++
		}
		if j < len(missing) && missing[j].Start.Before(s.End) && s.End.After(s.Start) {
			out = append(out, s)
		}
	}
	if order == NewestFirst {
		slices.Reverse(out)
	}
	return out
}

// Range is the time a list of segments (in order of start) covers, from
// the first start to the last end; zero for none.
func Range(segs []store.Segment) store.Span {
	if len(segs) == 0 {
		return store.Span{}
	}
	sp := store.Span{Start: segs[0].Start, End: segs[0].End}
	for _, s := range segs[1:] {
		if s.End.After(sp.End) {
			sp.End = s.End
		}
	}
	return sp
}

// adjacency is how far apart two dropped segments may be and still be
// reported as one lost range (the recorder's segments of one recording
// touch; a reconnect leaves a short hole).
const adjacency = 2 * time.Second

// Batch groups segments of one camera (in order of start) into runs of
// adjacent ones.
func Batch(segs []store.Segment) [][]store.Segment {
	var out [][]store.Segment
	for _, s := range segs {
		if n := len(out); n > 0 {
			last := out[n-1]
			if !s.Start.After(last[len(last)-1].End.Add(adjacency)) {
				out[n-1] = append(last, s)
				continue
			}
		}
		out = append(out, []store.Segment{s})
	}
	return out
}

// Union returns the spans of a and b merged: in order of start, with
// overlapping or touching spans joined.
func Union(a, b []store.Span) []store.Span {
	all := append(append([]store.Span{}, a...), b...)
	slices.SortFunc(all, func(x, y store.Span) int { return x.Start.Compare(y.Start) })
	var out []store.Span
	for _, sp := range all {
		if !sp.End.After(sp.Start) {
			continue
		}
		if n := len(out); n > 0 && !sp.Start.After(out[n-1].End) {
			if sp.End.After(out[n-1].End) {
				out[n-1].End = sp.End
			}
			continue
		}
		out = append(out, sp)
	}
	return out
}

// Subtract returns spans (in order of start) without [from, to).
func Subtract(spans []store.Span, from, to time.Time) []store.Span {
	var out []store.Span
	for _, sp := range spans {
		if !sp.End.After(from) || !sp.Start.Before(to) {
			out = append(out, sp)
			continue
		}
		if sp.Start.Before(from) {
			out = append(out, store.Span{Start: sp.Start, End: from})
		}
		if sp.End.After(to) {
			out = append(out, store.Span{Start: to, End: sp.End})
		}
	}
	return out
}
