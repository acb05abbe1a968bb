package events

import (
	"context"
	"encoding/json"
	"time"

	"github.com/camcloud/camcloud/internal/authz"
	"github.com/camcloud/camcloud/internal/store"
)

// Bounds of a custom event's times.
const (
	// MaxAhead is how far in the future a custom event may start or end
	// (clocks of integrations differ a little).
	MaxAhead = 5 * time.Minute
	// MaxCustomDuration bounds a ranged custom event.
	MaxCustomDuration = 24 * time.Hour
)

// Custom is a custom event as an integration posts it.
type Custom struct {
	Type string
	// Start defaults to now; End is optional (a ranged event).
	Start, End time.Time
	Detail     json.RawMessage
	// Source says who posted it: "user:ID" or "api_key:ID".
	Source string
}

// Post records a custom event on camera cam (as the caller found it) for
// p, who must be allowed to post events there (authz.PostEvent: another
// organisation's camera is not found, a viewer is forbidden). The type must be "custom" or "custom.NAME"; the
// times within the camera's retention and at most MaxAhead in the future,
// the end not before the start and at most MaxCustomDuration after it;
// the detail a JSON object of at most MaxDetail bytes: else *InputError.
func (s *Service) Post(ctx context.Context, p *authz.Principal, cam store.Camera, in Custom) (Event, error) {
	if err := authz.PostEvent(p, cam); err != nil {
		return Event{}, err
	}
	if err := s.checkCustom(cam, &in); err != nil {
		return Event{}, err
	}
	return s.Record(ctx, Event{CameraID: cam.ID, Type: in.Type, Start: in.Start, End: in.End, Detail: in.Detail, Source: in.Source})
}

// checkCustom validates a custom event of cam, defaulting its start.
func (s *Service) checkCustom(cam store.Camera, in *Custom) error {
	if !IsCustom(in.Type) {
		return invalid("type must be \"custom\" or \"custom.NAME\" (NAME: a-z, 0-9, '_', '.', '-', at most 56 characters); got %q", in.Type)
	}
	now := s.c.Now()
	if in.Start.IsZero() {
		in.Start = now
	}
	if in.Start.After(now.Add(MaxAhead)) {
		return invalid("time is more than %s in the future", MaxAhead)
	}
	oldest := now.Add(-time.Duration(cam.RetentionDays) * 24 * time.Hour)
	if in.Start.Before(oldest) {
		return invalid("time is older than the camera's retention (%d days)", cam.RetentionDays)
	}
	if !in.End.IsZero() {
		switch {
		case in.End.Before(in.Start):
			return invalid("end is before time")
		case in.End.After(now.Add(MaxAhead)):
			return invalid("end is more than %s in the future", MaxAhead)
		case in.End.Sub(in.Start) > MaxCustomDuration:
			return invalid("an event lasts at most %s", MaxCustomDuration)
		}
	}
	if _, err := compactDetail(in.Detail); err != nil {
		return err
	}
	return nil
}
