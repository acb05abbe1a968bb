package backfill

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/camcloud/camcloud/internal/events"
	"github.com/camcloud/camcloud/internal/store"
)

// ReasonRingFull is the one reason of a loss report: the agent's ring
// buffer dropped the segments (oldest first) before they could be
// uploaded. The event's detail says "agent_ring_full".
const ReasonRingFull = "ring_full"

// Loss is what an agent reports of video it recorded but lost before the
// cloud had it.
type Loss struct {
	Start, End time.Time
	Reason     string
	Segments   int64
	Bytes      int64
}

// SourceAgent is the source of the events agents' reports record.
const SourceAgent = "agent"

// Lost records a loss of camera cameraID that the agent of credential
// reports, as a ranged recording.gap event. The same range reported again
// is the same event (its id is derived from the camera and the range):
// created reports whether this call recorded it.
func (s *Service) Lost(ctx context.Context, credential, cameraID string, l Loss) (ev events.Event, created bool, err error) {
	a, err := s.c.Sites.Authenticate(ctx, credential)
	if err != nil {
		return events.Event{}, false, err
	}
	switch {
	case l.Start.IsZero() || l.End.IsZero() || !l.End.After(l.Start):
		return events.Event{}, false, invalid("start and end are required, start before end")
	case l.End.Sub(l.Start) > MaxLostRange:
		return events.Event{}, false, invalid("a loss report covers at most %s", MaxLostRange)
	case l.End.After(s.c.Now().Add(time.Minute)):
		return events.Event{}, false, invalid("end is in the future")
	case l.Reason != ReasonRingFull:
		return events.Event{}, false, invalid("reason must be %q", ReasonRingFull)
	case l.Segments < 0 || l.Segments > 1<<31 || l.Bytes < 0 || l.Bytes > 1<<50:
		return events.Event{}, false, invalid("segments and bytes out of range")
	}
	cam, _, err := s.camera(ctx, credential, cameraID)
	if err != nil {
		return events.Event{}, false, err
	}
	if s.c.Events == nil {
		return events.Event{}, false, errors.New("backfill: no event service")
	}
	start, end := l.Start.UTC().Truncate(time.Microsecond), l.End.UTC().Truncate(time.Microsecond)
	sum := sha256.Sum256([]byte("agent-lost\x00" + cam.ID + "\x00" + start.Format(time.RFC3339Nano) + "\x00" + end.Format(time.RFC3339Nano)))
	e := events.Event{ID: hex.EncodeToString(sum[:16]), CameraID: cam.ID, Type: events.TypeRecordingGap, Start: start, End: end,
		Source: SourceAgent, Detail: events.Detail(map[string]any{"reason": "agent_ring_full", "segments": l.Segments, "bytes": l.Bytes,
			"site_id": a.SiteID})}
	got, err := s.c.Events.Record(ctx, e)
	if errors.Is(err, store.ErrConflict) {
		e.OrgID, e.Zone = cam.OrgID, cam.Zone
		return e, false, nil // reported before: one event
	}
	return got, err == nil, err
}
