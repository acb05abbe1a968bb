package sites

import (
	"context"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// MaxMissingRange bounds the range one Missing call may ask about.
const MaxMissingRange = 31 * 24 * time.Hour

// MissingJoin is the largest hole between two recorded segments that
// Missing does not report: the cloud's and an agent's times of one frame
// differ by about the live relay's latency, so where a backfilled
// segment meets a recorded one a sliver that holds no frame may show.
// The timeline joins holes up to 2 s (playback.SpanGap); Missing must
// not, or a lost segment of 2 s or less would never be asked for.
const MissingJoin = 250 * time.Millisecond

// Missing returns the parts of [from, to) of camera cameraID that the
// cloud has no recording of, in order, for the agent whose credential
// this is: what the agent would have to upload. A camera not at the
// agent's site is ErrNotFound.
func (s *Service) Missing(ctx context.Context, credential, cameraID string, from, to time.Time) ([]store.Span, error) {
	a, err := s.Authenticate(ctx, credential)
	if err != nil {
		return nil, err
	}
	switch {
	case !from.Before(to):
		return nil, invalid("from must be before to")
	case to.Sub(from) > MaxMissingRange:
		return nil, invalid("at most %s from from to to", MaxMissingRange)
	case to.After(s.c.Now().Add(time.Minute)):
		return nil, invalid("to is in the future")
	}
	cam, err := s.c.Dir.GetCamera(ctx, cameraID)
	if err != nil {
		return nil, err
	}
	if err := authz.AgentCamera(a, cam); err != nil {
		return nil, err
	}
	if s.c.Spans == nil {
		return nil, errNoSpans
	}
	have, err := s.c.Spans(ctx, cam, from, to)
	if err != nil {
		return nil, err
	}
	return Complement(have, from, to), nil
}

// Complement returns the parts of [from, to) that no span of have (in
// order of start, possibly overlapping or reaching outside) covers.
func Complement(have []store.Span, from, to time.Time) []store.Span {
	out := []store.Span{}
	at := from
	for _, sp := range have {
		if !sp.End.After(at) {
			continue
		}
		if sp.Start.After(at) {
			out = append(out, store.Span{Start: at, End: minTime(sp.Start, to)})
		}
		at = sp.End
		if !at.Before(to) {
			return out
		}
	}
	if at.Before(to) {
		out = append(out, store.Span{Start: at, End: to})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
