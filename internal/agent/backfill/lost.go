package backfill

import (
	"context"
	"errors"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// reportLost checks the segments the ring buffer dropped against what
// the cloud lacks: those it lacked are lost for good, and reported, in
// runs of adjacent segments, as lost ranges (reason ring_full); then all
// are forgotten.
func (w *Worker) reportLost(ctx context.Context) error {
	drops, err := w.state.Dropped(ctx)
	if err != nil {
		return err
	}
	for cam, segs := range drops {
		if err := w.reportCamera(ctx, cam, segs); err != nil {
			return err
		}
	}
	return nil
}

func (w *Worker) reportCamera(ctx context.Context, cam string, segs []store.Segment) error {
	var lost []store.Segment
	for from := 0; from < len(segs); {
		// One question covers at most maxAsk.
		to := from + 1
		for to < len(segs) && segs[to].End.Sub(segs[from].Start) <= maxAsk {
			to++
		}
		part := segs[from:to]
		r := Range(part)
		missing, err := w.client.Missing(ctx, cam, r.Start, minTime(r.End, time.Now()))
		var se *StatusError
		if errors.As(err, &se) && se.Status == 404 {
			w.log.Warn("backfill: dropped segments of a camera the cloud does not list at the site are not reported", "camera", cam,
				"segments", len(segs))
			return w.state.ForgetDropped(ctx, segs)
		}
		if err != nil {
			return err
		}
		lost = append(lost, Pick(part, missing, OldestFirst)...)
		from = to
	}
	for _, run := range Batch(lost) {
		r := LostReport{Start: run[0].Start, End: Range(run).End, Segments: len(run)}
		for _, s := range run {
			r.Bytes += s.Size
		}
		if err := w.client.Lost(ctx, cam, r); err != nil {
			return err
		}
		if err := w.state.ForgetDropped(ctx, run); err != nil {
			return err
		}
		w.stats.lostSegments.Add(int64(r.Segments))
		w.stats.lostBytes.Add(r.Bytes)
		w.stats.lostReports.Add(1)
		w.log.Warn("backfill: video dropped from the ring buffer before the cloud had it; reported as lost", "camera", cam,
			"start", r.Start, "end", r.End, "segments", r.Segments, "bytes", r.Bytes)
	}
	return w.state.ForgetDropped(ctx, segs)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
