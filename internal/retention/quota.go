package retention

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// Retention by size. An organisation's quota bounds what its recordings
// take in all zones together. Each zone's sweeper knows its own zone
// exactly (the per-camera use the segment index keeps, store.SegmentUsageStore)
// and the other zones as their sweepers last wrote them to the directory
// (store.OrgStorage: bytes, and the end of the oldest recording a quota
// may delete there). Over the quota, a zone deletes its oldest unheld
// recordings of the organisation, oldest first across its cameras: first
// those older than every other zone's oldest, then its share of what is
// still over, in proportion to the bytes it holds. A single-zone
// organisation so loses exactly its oldest recordings first; one spread
// over zones loses the oldest of each zone, the zones in step as far as
// their recordings are of like age, and the quota is met after one pass
// of every zone without two zones deleting for the same excess.

// enforceQuotas runs the quota of every organisation that has cameras in
// the zone and a quota, and writes each one's use in the zone to the
// directory.
func (s *Sweeper) enforceQuotas(ctx context.Context, cams []store.Camera) (int, error) {
	byOrg := map[string][]string{}
	for _, c := range cams {
		byOrg[c.OrgID] = append(byOrg[c.OrgID], c.ID)
	}
	orgs := make([]string, 0, len(byOrg))
	for id := range byOrg {
		orgs = append(orgs, id)
	}
	slices.Sort(orgs)
	total := 0
	for _, id := range orgs {
		o, err := s.c.Dir.GetOrg(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return total, fmt.Errorf("org %s: %w", id, err)
		}
		if o.StorageQuotaBytes <= 0 {
			continue
		}
		n, err := s.enforceQuota(ctx, o, byOrg[id])
		total += n
		if err != nil {
			return total, fmt.Errorf("org %s: quota: %w", id, err)
		}
	}
	return total, nil
}

// enforceQuota deletes the oldest unheld recordings of o's cameras ids
// in this zone while o uses more than its quota, and records its use.
func (s *Sweeper) enforceQuota(ctx context.Context, o store.Org, ids []string) (int, error) {
	usage, err := s.c.Index.CameraUsage(ctx, ids)
	if err != nil {
		return 0, err
	}
	var mine, segs int64
	for _, u := range usage {
		mine, segs = mine+u.Bytes, segs+u.Segments
	}
	rows, err := s.c.Dir.ListOrgStorage(ctx, o.ID)
	if err != nil {
		return 0, err
	}
	now := s.c.Now()
	var others int64
	var bound time.Time // the oldest recording of another zone; zero: none
	for _, r := range rows {
		if r.Zone == s.c.Zone {
			continue
		}
		others += r.Bytes
		if r.Bytes > 0 && !r.Oldest.IsZero() && now.Sub(r.UpdatedAt) <= s.c.QuotaStale && (bound.IsZero() || r.Oldest.Before(bound)) {
			bound = r.Oldest
		}
	}
	q := &oldestQueue{s: s, limit: now.Add(100 * 365 * 24 * time.Hour)}
	for _, id := range ids {
		if _, ok := usage[id]; ok {
			q.cams = append(q.cams, &camCursor{id: id})
		}
	}
	if err := q.fill(ctx); err != nil {
		return 0, err
	}
	excess := mine + others - o.StorageQuotaBytes
	deleted := 0
	var batch []store.Segment
	flush := func() error {
		if err := s.removeSegments(ctx, batch, s.c.OnQuota); err != nil {
			return err
		}
		deleted += len(batch)
		s.quotaFreed.Add(float64(len(batch)))
		batch = batch[:0]
		return nil
	}
	take := func(sg store.Segment) error {
		if err := q.next(ctx); err != nil {
			return err
		}
		batch = append(batch, sg)
		excess -= sg.Size
		mine, segs = mine-sg.Size, segs-1
		if len(batch) >= s.c.Batch {
			return flush()
		}
		return nil
	}
	// First what is older than every other zone's oldest: it goes first
	// whatever the shares.
	for excess > 0 && q.Len() > 0 {
		sg := q.cams[0].segs[0]
		if !bound.IsZero() && sg.End.After(bound) {
			break
		}
		if err := take(sg); err != nil {
			return deleted, err
		}
	}
	// Then this zone's share of what is left, in proportion to what it
	// holds: each zone takes its part on its own pass, so the quota is
	// met within one pass of every zone, never deleting twice for one
	// excess.
	if excess > 0 && mine > 0 {
		share := int64(float64(excess) * float64(mine) / float64(mine+others))
		for share > 0 && q.Len() > 0 {
			sg := q.cams[0].segs[0]
			share -= sg.Size
			if err := take(sg); err != nil {
				return deleted, err
			}
		}
	}
	if err := flush(); err != nil {
		return deleted, err
	}
	var oldest time.Time
	if q.Len() > 0 {
		oldest = q.cams[0].segs[0].End
	}
	if deleted > 0 {
		s.c.Log.Info("retention: deleted oldest recordings of an organisation over its storage quota", "zone", s.c.Zone, "org", o.ID,
			"segments", deleted, "quota_bytes", o.StorageQuotaBytes, "used_bytes", mine+others)
	}
	if excess > 0 && q.Len() == 0 {
		s.c.Log.Error("retention: organisation over its storage quota with nothing left to delete here but held recordings", "zone", s.c.Zone, "org", o.ID,
			"quota_bytes", o.StorageQuotaBytes, "used_bytes", mine+others)
	}
	return deleted, s.c.Dir.PutOrgStorage(ctx, store.OrgStorage{OrgID: o.ID, Zone: s.c.Zone, Bytes: mine, Segments: segs, Oldest: oldest, UpdatedAt: now})
}

// removeSegments deletes segs of any cameras, grouped by camera, telling
// tell (when set) what went of each.
func (s *Sweeper) removeSegments(ctx context.Context, segs []store.Segment, tell func(string, int, time.Time, time.Time)) error {
	byCam := map[string][]store.Segment{}
	var cams []string
	for _, sg := range segs {
		if byCam[sg.CameraID] == nil {
			cams = append(cams, sg.CameraID)
		}
		byCam[sg.CameraID] = append(byCam[sg.CameraID], sg)
	}
	for _, cam := range cams {
		ss := byCam[cam]
		if err := s.remove(ctx, cam, ss); err != nil {
			return err
		}
		if tell != nil {
			tell(cam, len(ss), ss[0].Start, ss[len(ss)-1].End)
		}
	}
	return nil
}

// camCursor is one camera's next unheld segments, oldest first, and where
// its next page starts.
type camCursor struct {
	id   string
	from time.Time
	segs []store.Segment
	done bool
}

// oldestQueue yields the unheld segments of several cameras, those that
// ended first first: a heap of cameras by their next segment's end, each
// read a page at a time along its primary key (no scan).
type oldestQueue struct {
	s     *Sweeper
	limit time.Time
	cams  []*camCursor // a heap; cameras with nothing left are dropped
}

const quotaPage = 50

func (q *oldestQueue) Len() int           { return len(q.cams) }
func (q *oldestQueue) Less(i, j int) bool { return q.cams[i].segs[0].End.Before(q.cams[j].segs[0].End) }
func (q *oldestQueue) Swap(i, j int)      { q.cams[i], q.cams[j] = q.cams[j], q.cams[i] }
func (q *oldestQueue) Push(x any)         { q.cams = append(q.cams, x.(*camCursor)) }
func (q *oldestQueue) Pop() any {
	c := q.cams[len(q.cams)-1]
	q.cams = q.cams[:len(q.cams)-1]
	return c
}

// fill reads every camera's first page and builds the heap.
func (q *oldestQueue) fill(ctx context.Context) error {
	kept := q.cams[:0]
	for _, c := range q.cams {
		if err := q.load(ctx, c); err != nil {
			return err
		}
		if len(c.segs) > 0 {
			kept = append(kept, c)
		}
	}
	q.cams = kept
	heap.Init(q)
	return nil
}

// load reads pages of camera c until it has an unheld segment or none
// are left.
func (q *oldestQueue) load(ctx context.Context, c *camCursor) error {
	for len(c.segs) == 0 && !c.done {
		page, err := q.s.c.Index.ExpiredSegments(ctx, c.id, c.from, q.limit, quotaPage)
		if err != nil {
			return err
		}
		if len(page) < quotaPage {
			c.done = true
		}
		if len(page) == 0 {
			return nil
		}
		hs, err := q.s.holds(ctx)
		if err != nil {
			return err
		}
		c.segs, c.from = hs.unheld(page)
	}
	return nil
}

// next drops the oldest segment (the caller took it) and reorders.
func (q *oldestQueue) next(ctx context.Context) error {
	c := q.cams[0]
	c.segs = c.segs[1:]
	if err := q.load(ctx, c); err != nil {
		return err
	}
	if len(c.segs) == 0 {
		heap.Pop(q)
		return nil
	}
	heap.Fix(q, 0)
	return nil
}
