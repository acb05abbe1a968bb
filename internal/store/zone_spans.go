package store

import (
	"context"
	"time"
)

// Spans merges the segments overlapping [from, to) whose gaps are at most
// maxGap into contiguous spans, clipped to [from, to). It reads only the
// start and end columns, never the fragment lists.
func (r *zone) Spans(ctx context.Context, cameraID string, from, to time.Time, maxGap time.Duration) ([]Span, error) {
	if !to.After(from) {
		return nil, nil
	}
	f, t := toMicros(from), toMicros(to)
	gap := max(maxGap, 0).Microseconds()
	rows, err := r.db.QueryContext(ctx, `SELECT start_us, end_us FROM segments
 WHERE camera_id = ? AND start_us > ? AND start_us < ? AND end_us > ? ORDER BY start_us`,
		cameraID, f-MaxSegmentDuration.Microseconds(), t, f)
	if err != nil {
		return nil, r.mapErr(err)
	}
	defer rows.Close()
	var out []Span
	var curStart, curEnd int64
	open := false
	for rows.Next() {
		var s, e int64
		if err := rows.Scan(&s, &e); err != nil {
			return nil, r.mapErr(err)
		}
		switch {
		case !open:
			curStart, curEnd, open = s, e, true
		case s-curEnd <= gap:
			curEnd = max(curEnd, e)
		default:
			out = append(out, clipSpan(curStart, curEnd, f, t))
			curStart, curEnd = s, e
		}
	}
	if err := rows.Err(); err != nil {
		return nil, r.mapErr(err)
	}
	if open {
		out = append(out, clipSpan(curStart, curEnd, f, t))
	}
	return out, nil
}

// clipSpan returns [s, e) clipped to [from, to), all in microseconds.
func clipSpan(s, e, from, to int64) Span {
	return Span{Start: fromMicros(max(s, from)), End: fromMicros(min(e, to))}
}
