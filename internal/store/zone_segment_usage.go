package store

import (
	"context"
	"database/sql"
)

// SegmentUsage is what a camera's indexed recordings take in its zone's store:
// the sum of its segments' sizes and their number.
type SegmentUsage struct {
	Bytes    int64
	Segments int64
}

// SegmentUsageStore reads the per-camera use that the segment index keeps
// (segment_usage, zone migration 5), changed in the transaction of every
// InsertSegment and DeleteSegments.
type SegmentUsageStore interface {
	// CameraUsage returns the use of each of cameraIDs that has any
	// recording (others are missing from the map).
	CameraUsage(ctx context.Context, cameraIDs []string) (map[string]SegmentUsage, error)
}

// addSegmentUsage adds bytes and segments (negative to subtract) to a camera's
// use, in ex (the transaction that changes its segment rows).
func (r *zone) addSegmentUsage(ctx context.Context, ex execer, cameraID string, bytes, segments int64) error {
	if bytes == 0 && segments == 0 {
		return nil
	}
	q := "INSERT INTO segment_usage (camera_id, bytes, segments) VALUES (?, ?, ?) "
	if r.d.name == "sqlite" {
		q += "ON CONFLICT (camera_id) DO UPDATE SET bytes = bytes + excluded.bytes, segments = segments + excluded.segments"
	} else {
		q += "ON DUPLICATE KEY UPDATE bytes = bytes + VALUES(bytes), segments = segments + VALUES(segments)"
	}
	_, err := ex.ExecContext(ctx, q, cameraID, bytes, segments)
	return r.mapErr(err)
}

// CameraUsage returns the use of each of cameraIDs with recordings, in
// queries of at most 1000 ids.
func (r *zone) CameraUsage(ctx context.Context, cameraIDs []string) (map[string]SegmentUsage, error) {
	out := map[string]SegmentUsage{}
	for len(cameraIDs) > 0 {
		n := min(len(cameraIDs), 1000)
		ph, args, err := inList(cameraIDs[:n])
		if err != nil {
			return nil, err
		}
		rows, err := r.db.QueryContext(ctx, "SELECT camera_id, bytes, segments FROM segment_usage WHERE camera_id IN ("+ph+")", args...)
		if err != nil {
			return nil, r.mapErr(err)
		}
		type row struct {
			id string
			u  SegmentUsage
		}
		list, err := collect(rows, r.mapErr, func(rows *sql.Rows) (row, error) {
			var x row
			err := rows.Scan(&x.id, &x.u.Bytes, &x.u.Segments)
			return x, err
		})
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			if x.u.Segments > 0 {
				out[x.id] = x.u
			}
		}
		cameraIDs = cameraIDs[n:]
	}
	return out, nil
}
