package usage

import (
	"context"

	"github.com/camcloud/camcloud/internal/store"
)

// SegmentIndex is where a recorder writes the index row of each uploaded
// segment (record.Index, store.Zone).
type SegmentIndex interface {
	InsertSegment(ctx context.Context, s store.Segment) error
}

// meteredIndex counts each row it writes as recorded time and stored bytes.
type meteredIndex struct {
	m    *Meter
	zone string
	next SegmentIndex
}

// RecordIndex wraps a recorder's index so that every segment indexed
// counts its duration as recorded time (and its size in the node's
// stored-bytes metric), once the row is written (an upload retried after
// a crash writes the same row again and is counted again: rare, and at
// most one segment). The stored bytes of reports are not counted here:
// the index keeps them exactly (segment_usage). With m nil it returns
// next.
func RecordIndex(m *Meter, zone string, next SegmentIndex) SegmentIndex {
	if m == nil {
		return next
	}
	return &meteredIndex{m: m, zone: zone, next: next}
}

func (x *meteredIndex) InsertSegment(ctx context.Context, s store.Segment) error {
	if err := x.next.InsertSegment(ctx, s); err != nil {
		return err
	}
	c := x.m.Camera(x.zone, "", s.CameraID)
	c.Add(RecordedMs, s.End.Sub(s.Start).Milliseconds())
	c.Add(Stored, s.Size)
	return nil
}

// DeletedSegments is a retention sweeper's OnDeleted: the segments'
// bytes count in the node's deleted-bytes metric. Nil when m is.
func DeletedSegments(m *Meter, zone string) func(cameraID string, segs []store.Segment) {
	if m == nil {
		return nil
	}
	return func(cameraID string, segs []store.Segment) {
		var n int64
		for _, s := range segs {
			n += s.Size
		}
		m.Add(zone, "", cameraID, Stored, -n)
	}
}
