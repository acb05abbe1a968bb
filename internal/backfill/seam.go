package backfill

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/store"
	"github.com/camcloud/camcloud/internal/zone"
)

// Seams: where an uploaded segment meets the recording.
//
// The agent cuts its segments where its recorder did and the camera
// server where its own did, so the agent segment that straddles an
// outage's start begins (at its keyframe) inside the last segment the
// cloud recorded live, and the one that straddles the return ends inside
// the first segment recorded after it. Where they overlap, both hold the
// same frames: the agent relayed them. The seam finds the recorded
// segment's last video frame in the upload by its bytes (and the next
// one's first frame), and keeps only the upload's frames in between:
// appended to the recorded segment before it (they continue its video
// and need its reference frames, so they cannot begin a segment of
// their own), or as a segment of its own that ends where the next
// recorded one begins. Every frame is then in the cloud once.

// Bounds of a seam.
const (
	// maxNeighbours bounds the recorded segments one upload's range is
	// read against (a range overlapping more is refused anyway).
	maxNeighbours = 16
	// maxSeamBytes bounds the bytes a seam holds in memory: the upload's
	// segment and the recorded segment it appends to, each.
	maxSeamBytes = 64 << 20
	// maxSeamSkew is how far apart the agent's and the cloud's times of
	// one frame may be (their clocks, and the relay's latency).
	maxSeamSkew = 5 * time.Second
)

// errNoSeam: the overlap could not be matched frame by frame (another
// stream, another track layout, or too large to hold).
var errNoSeam = errors.New("backfill: no seam")

// neighbours are the recorded segments a range overlaps at its edges:
// next starts inside the range and reaches its end; prev is the one
// before the range's gap, which ends inside the range (and starts before
// it, or, the cloud's clock being up to Tolerance behind the agent's, at
// its first frame: the seam checks that). Either may be nil.
type neighbours struct {
	prev, next *store.Segment
}

// overlaps tells how far prev reaches into [start, end) and next back
// into it (zero without them).
func (n neighbours) overlaps(start, end time.Time) (head, tail time.Duration) {
	if n.prev != nil {
		head = n.prev.End.Sub(start)
	}
	if n.next != nil {
		tail = end.Sub(n.next.Start)
	}
	return head, tail
}

// neighbours reads the recorded segments overlapping [start, end) of cam
// and returns those at its edges; ErrNotMissing when the cloud has all of
// the range, or more recorded video inside it than one segment before a
// gap and one after (a range fills one gap).
func (s *Service) neighbours(ctx context.Context, z *zone.Zone, cam string, start, end time.Time) (neighbours, error) {
	segs, err := z.DB.ListSegments(ctx, cam, start, end, maxNeighbours)
	if err != nil {
		return neighbours{}, err
	}
	var n neighbours
	var rest []*store.Segment
	for i := range segs {
		r := &segs[i]
		switch {
		case !r.End.After(start) || !r.Start.Before(end):
			continue // touches the range only
		case !r.Start.After(start) && !r.End.Before(end):
			return neighbours{}, notMissing(start, end, "is recorded")
		case r.Start.After(start) && !r.End.Before(end) && n.next == nil:
			n.next = r
		default:
			rest = append(rest, r)
		}
	}
	// prev is the last of the rest; any before it must end where it
	// starts, within Tolerance (they reach into the range only by the
	// clocks' difference and the recorder's timing of segment edges:
	// the seam checks that prev begins with the upload's first frame
	// when it begins inside the upload).
	if len(rest) > 0 {
		n.prev = rest[len(rest)-1]
		if n.prev.Start.After(start.Add(Tolerance)) {
			return neighbours{}, notMissing(start, end, "holds recorded video")
		}
		for _, r := range rest[:len(rest)-1] {
			if r.End.After(n.prev.Start.Add(Tolerance)) {
				return neighbours{}, notMissing(start, end, "holds recorded video")
			}
		}
	}
	if n.prev != nil && n.next != nil && !n.next.Start.After(n.prev.End) {
		return neighbours{}, notMissing(start, end, "is recorded")
	}
	return n, nil
}

func notMissing(start, end time.Time, what string) error {
	return fmt.Errorf("%w: [%s, %s) %s in the cloud", ErrNotMissing, start.Format(time.RFC3339Nano), end.Format(time.RFC3339Nano), what)
}

// fitsTolerance reports whether an upload overlapping the recording by
// head and tail may be stored whole, where no seam matched: the overlap
// Tolerance admits at each edge (its frames are then played twice).
func fitsTolerance(head, tail time.Duration) bool {
	return head <= Tolerance && tail <= Tolerance
}
