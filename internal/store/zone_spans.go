package store

import (
	"context"
	"time"
)

// Spans merges the segments overlapping [from, to) whose gaps are at most
// maxGap into contiguous spans, clipped to [from, to). A run of backfilled
// segments (uploaded by an edge agent) is a span of its own, marked so,
// even where it touches recorded ones; a gap of at most maxGap at such a
// change is closed (the next span starts where the previous ended), so
// that the spans cover what they would cover unsplit. It reads only the
// start, end and backfilled columns, never the fragment lists.
func (r *zone) Spans(ctx context.Context, cameraID string, from, to time.Time, maxGap time.Duration) ([]Span, error) {
	if !to.After(from) {
		return nil, nil
	}
	f, t := toMicros(from), toMicros(to)
	gap := max(maxGap, 0).Microseconds()
	rows, err := r.db.QueryContext(ctx, `SELECT start_us, end_us, backfilled FROM segments
 WHERE camera_id = ? AND start_us > ? AND start_us < ? AND end_us > ? ORDER BY start_us`,
		cameraID, f-MaxSegmentDuration.Microseconds(), t, f)
	if err != nil {
		return nil, r.mapErr(err)
	}
	defer rows.Close()
	var out []Span
	var curStart, curEnd int64
	var curBF bool
	open := false
	for rows.Next() {
		var s, e int64
		var bf bool
		if err := rows.Scan(&s, &e, &bf); err != nil {
			return nil, r.mapErr(err)
		}
		switch {
		case !open:
			curStart, curEnd, curBF, open = s, e, bf, true
		case s-curEnd <= gap && bf == curBF:
			curEnd = max(curEnd, e)
		case s-curEnd <= gap: // touching, but backfilled on one side only
			if e <= curEnd {
				continue // inside the span already
			}
			out = appendSpan(out, curStart, curEnd, curBF, f, t)
			curStart, curEnd, curBF = curEnd, e, bf
		default:
			out = appendSpan(out, curStart, curEnd, curBF, f, t)
			curStart, curEnd, curBF = s, e, bf
		}
	}
	if err := rows.Err(); err != nil {
		return nil, r.mapErr(err)
	}
	if open {
		out = appendSpan(out, curStart, curEnd, curBF, f, t)
	}
	return out, nil
}

// appendSpan appends [s, e) clipped to [from, to) unless it is empty there.
func appendSpan(out []Span, s, e int64, bf bool, from, to int64) []Span {
	sp := clipSpan(s, e, from, to)
	if !sp.End.After(sp.Start) {
		return out
	}
	sp.Backfilled = bf
	return append(out, sp)
}

// clipSpan returns [s, e) clipped to [from, to), all in microseconds.
func clipSpan(s, e, from, to int64) Span {
	return Span{Start: fromMicros(max(s, from)), End: fromMicros(min(e, to))}
}
