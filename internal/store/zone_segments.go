package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// zone implements Zone over database/sql for every dialect.
type zone struct{ *base }

// MaxSegmentDuration is the longest segment InsertSegment accepts. Range
// reads look back this far before from for segments that started earlier
// but still overlap, so the bound keeps them index range scans.
const MaxSegmentDuration = 3 * time.Hour

// Segment listing bounds: the default and the most rows one call returns.
const (
	defaultSegmentLimit = 10_000
	maxSegmentLimit     = 100_000
	deleteBatch         = 500
)

// segmentCols is the column list scanSegment reads.
const segmentCols = "camera_id, start_us, end_us, size, obj_key, init_key, codec, fragments, backfilled, sha256"

// scanSegment reads one row of segmentCols.
func scanSegment(row interface{ Scan(...any) error }) (Segment, error) {
	var s Segment
	var start, end int64
	var frags []byte
	if err := row.Scan(&s.CameraID, &start, &end, &s.Size, &s.Key, &s.InitKey, &s.Codec, &frags, &s.Backfilled, &s.SHA256); err != nil {
		return Segment{}, err
	}
	s.Start, s.End = fromMicros(start), fromMicros(end)
	var err error
	if s.Fragments, err = decodeFragments(frags); err != nil {
		return Segment{}, fmt.Errorf("segment %s@%d: %w", s.CameraID, start, err)
	}
	return s, nil
}

// checkSegment validates s before it is written.
func checkSegment(s Segment) error {
	var c check
	c.id("camera id", s.CameraID)
	c.str("object key", s.Key, maxText, true)
	c.str("init key", s.InitKey, maxText, false)
	c.str("codec", s.Codec, maxKey, false)
	c.str("sha256", s.SHA256, maxID, false)
	c.ok(!s.Start.IsZero() && !s.End.Before(s.Start), "segment end before start")
	c.ok(s.End.Sub(s.Start) <= MaxSegmentDuration, fmt.Sprintf("segment longer than %s", MaxSegmentDuration))
	c.ok(s.Size >= 0, "negative segment size")
	for _, f := range s.Fragments {
		c.ok(f.Offset >= 0 && f.Size >= 0 && f.Start >= 0 && f.Duration >= 0, "negative fragment offset, size or time")
	}
	return c.err
}

// InsertSegment adds an index row; a second insert of the same (camera,
// start), as after a retried upload, replaces the first. The camera's
// segment_usage row changes in the same transaction.
func (r *zone) InsertSegment(ctx context.Context, s Segment) error {
	return r.inTx(ctx, func(tx *sql.Tx) error { return r.insertSegment(ctx, tx, s) })
}

// insertSegment is InsertSegment on any execer (benchmarks fill in a
// transaction): the row, and the camera's use by what it adds (its size,
// less that of a row it replaces).
func (r *zone) insertSegment(ctx context.Context, ex execer, s Segment) error {
	if err := checkSegment(s); err != nil {
		return err
	}
	frags, err := encodeFragments(s.Fragments)
	if err != nil {
		return err
	}
	var old int64
	n := int64(1)
	switch err := ex.QueryRowContext(ctx, "SELECT size FROM segments WHERE camera_id = ? AND start_us = ?"+r.d.forUpdate,
		s.CameraID, toMicros(s.Start)).Scan(&old); {
	case err == nil:
		n = 0
	case !errors.Is(err, sql.ErrNoRows):
		return r.mapErr(err)
	}
	// indexed_us, last, is not updated when the row is replaced: the
	// export saw the row at its first indexing.
	cols := []string{"camera_id", "start_us", "end_us", "size", "obj_key", "init_key", "codec", "fragments", "backfilled", "sha256", "indexed_us"}
	if _, err = ex.ExecContext(ctx, r.d.upsert("segments", cols[:2], cols, cols[2:len(cols)-1]),
		s.CameraID, toMicros(s.Start), toMicros(s.End), s.Size, s.Key, s.InitKey, s.Codec, frags, s.Backfilled, s.SHA256, toMicros(time.Now())); err != nil {
		return r.mapErr(err)
	}
	return r.addSegmentUsage(ctx, ex, s.CameraID, s.Size-old, n)
}

// ListSegments returns the segments overlapping [from, to), by start: at
// most limit, 10000 when unset, never more than 100000.
func (r *zone) ListSegments(ctx context.Context, cameraID string, from, to time.Time, limit int) ([]Segment, error) {
	if !to.After(from) {
		return nil, nil
	}
	f, t := toMicros(from), toMicros(to)
	return r.segments(ctx, "SELECT "+segmentCols+` FROM segments
 WHERE camera_id = ? AND start_us > ? AND start_us < ? AND end_us > ? ORDER BY start_us LIMIT ?`,
		cameraID, f-MaxSegmentDuration.Microseconds(), t, f, clampLimit(limit, defaultSegmentLimit, maxSegmentLimit))
}

// SegmentAt returns the last segment that starts at or before t: the one
// containing t, or else the last one before it; ErrNotFound if none.
func (r *zone) SegmentAt(ctx context.Context, cameraID string, t time.Time) (Segment, error) {
	s, err := scanSegment(r.db.QueryRowContext(ctx, "SELECT "+segmentCols+
		" FROM segments WHERE camera_id = ? AND start_us <= ? ORDER BY start_us DESC LIMIT 1", cameraID, toMicros(t)))
	return s, r.mapErr(err)
}

// ExpiredSegments returns up to limit (at most 100000) of a camera's
// segments that start at or after from and ended before before, oldest
// first: from is the cursor of a caller that keeps some (held) segments.
func (r *zone) ExpiredSegments(ctx context.Context, cameraID string, from, before time.Time, limit int) ([]Segment, error) {
	b := toMicros(before)
	// start_us <= end_us < before: the bound on start keeps this a range scan.
	return r.segments(ctx, "SELECT "+segmentCols+
		" FROM segments WHERE camera_id = ? AND start_us >= ? AND start_us < ? AND end_us < ? ORDER BY start_us LIMIT ?",
		cameraID, from.UnixMicro(), b, b, clampLimit(limit, defaultSegmentLimit, maxSegmentLimit))
}

// OldestSegments returns up to limit (at most 100000) segments of any
// camera that end at or after endFrom, those that ended first first.
func (r *zone) OldestSegments(ctx context.Context, endFrom time.Time, limit int) ([]Segment, error) {
	return r.segments(ctx, "SELECT "+segmentCols+" FROM segments WHERE end_us >= ? ORDER BY end_us, camera_id, start_us LIMIT ?",
		endFrom.UnixMicro(), clampLimit(limit, defaultSegmentLimit, maxSegmentLimit))
}

// DeleteSegments removes a camera's segments with the given starts, in
// batches, each batch with its bytes taken off the camera's use in the
// same transaction; missing ones are ignored.
func (r *zone) DeleteSegments(ctx context.Context, cameraID string, starts []time.Time) error {
	for len(starts) > 0 {
		n := min(len(starts), deleteBatch)
		args := make([]any, 0, n+1)
		args = append(args, cameraID)
		for _, s := range starts[:n] {
			args = append(args, toMicros(s))
		}
		where := " FROM segments WHERE camera_id = ? AND start_us IN (" + placeholders(n) + ")"
		err := r.inTx(ctx, func(tx *sql.Tx) error {
			var bytes, count int64
			if err := tx.QueryRowContext(ctx, "SELECT COALESCE(SUM(size), 0), COUNT(*)"+where+r.d.forUpdate, args...).Scan(&bytes, &count); err != nil {
				return err
			}
			if count == 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, "DELETE"+where, args...); err != nil {
				return err
			}
			return r.addSegmentUsage(ctx, tx, cameraID, -bytes, -count)
		})
		if err != nil {
			return err
		}
		starts = starts[n:]
	}
	return nil
}

// SegmentCameras lists the cameras that have any segment, by id.
func (r *zone) SegmentCameras(ctx context.Context) ([]string, error) {
	return r.cameraIDs(ctx, "segments")
}

func (r *zone) segments(ctx context.Context, q string, args ...any) ([]Segment, error) {
	rows, err := r.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, r.mapErr(err)
	}
	return collect(rows, r.mapErr, func(rows *sql.Rows) (Segment, error) { return scanSegment(rows) })
}
