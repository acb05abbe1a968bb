package retention

import (
	"context"
	"fmt"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// holdsRefresh is how old the sweeper's copy of its zone's holds may be
// before a deletion: it is read again before a batch when older, so that
// a hold placed while a sweep runs protects what it covers within about
// this long (see docs/operations.md, "Legal holds").
const holdsRefresh = time.Second

// heldSet is a zone's holds by camera, as read at one time.
type heldSet struct {
	read  time.Time
	byCam map[string][]store.Hold
}

// holds returns the zone's holds, read again when the copy is older than
// holdsRefresh (wall-clock time, whatever Config.Now says).
func (s *Sweeper) holds(ctx context.Context) (*heldSet, error) {
	if s.held != nil && time.Since(s.held.read) < holdsRefresh {
		return s.held, nil
	}
	list, err := s.c.Dir.ListZoneHolds(ctx, s.c.Zone)
	if err != nil {
		return nil, fmt.Errorf("list holds: %w", err)
	}
	hs := &heldSet{read: time.Now(), byCam: map[string][]store.Hold{}}
	for _, h := range list {
		hs.byCam[h.CameraID] = append(hs.byCam[h.CameraID], h)
	}
	s.held = hs
	return hs, nil
}

// holding returns the hold that keeps sg, if any.
func (hs *heldSet) holding(sg store.Segment) (store.Hold, bool) {
	for _, h := range hs.byCam[sg.CameraID] {
		if h.Covers(sg.Start, sg.End) {
			return h, true
		}
	}
	return store.Hold{}, false
}

// unheld splits a page of one camera's segments, ordered by start, into
// those no hold keeps and the cursor past the page: after its last
// segment, or after the end of the hold that keeps the last one (the
// segments in between overlap that hold too, so they are skipped without
// being read).
func (hs *heldSet) unheld(segs []store.Segment) (free []store.Segment, next time.Time) {
	for _, sg := range segs {
		if _, ok := hs.holding(sg); !ok {
			free = append(free, sg)
		}
	}
	last := segs[len(segs)-1]
	next = last.Start.Add(time.Microsecond)
	if h, ok := hs.holding(last); ok && h.To.After(next) {
		next = h.To
	}
	return free, next
}
