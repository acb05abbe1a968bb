package agent

import (
	"context"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// backlog is how much of the ring buffer the cloud lacks: the time and
// bytes of local segments inside the ranges the cloud reports missing.
type backlog struct {
	Covered time.Duration
	Bytes   int64
}

// maxAsk bounds the range of one question to the cloud (its own bound is
// 31 days).
const maxAsk = 30 * 24 * time.Hour

// measureBacklog compares each camera's local segments with what the
// cloud lacks of their range.
func (a *Agent) measureBacklog(ctx context.Context) (backlog, error) {
	var b backlog
	for _, c := range a.cfg.Cameras {
		segs, err := a.idx.ListSegments(ctx, c.ID, time.Now().Add(-maxAsk), time.Now().Add(time.Hour), 100000)
		if err != nil || len(segs) == 0 {
			if err != nil {
				return b, err
			}
			continue
		}
		gaps, err := a.bapi.Missing(ctx, c.ID, segs[0].Start, minTime(segs[len(segs)-1].End, time.Now()))
		if err != nil {
			return b, err
		}
		add := overlap(segs, gaps)
		b.Covered += add.Covered
		b.Bytes += add.Bytes
	}
	return b, nil
}

// overlap is the time and (pro rata) bytes of segs inside gaps; both are
// in order of start.
func overlap(segs []store.Segment, gaps []store.Span) backlog {
	var b backlog
	j := 0
	for _, s := range segs {
		for j < len(gaps) && !gaps[j].End.After(s.Start) {
			j++
		}
		for k := j; k < len(gaps) && gaps[k].Start.Before(s.End); k++ {
			lo, hi := maxTime(s.Start, gaps[k].Start), minTime(s.End, gaps[k].End)
			if d := hi.Sub(lo); d > 0 {
				b.Covered += d
				if l := s.End.Sub(s.Start); l > 0 {
					b.Bytes += int64(float64(s.Size) * float64(d) / float64(l))
				}
			}
		}
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
