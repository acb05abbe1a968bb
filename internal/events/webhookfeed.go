package events

import "context"

// TypeWebhookDisabled is recorded by the webhook deliverer on the camera
// whose event a webhook failed to take for too long (24 h by default),
// when it turns the webhook off: its detail names the webhook, when the
// failures began and the last answer. Its organisation's owners and
// admins see it in the event listings and stream (as does whoever may
// view that camera), and other webhooks may subscribe to it.
const TypeWebhookDisabled = "webhook.disabled"

// Feed returns up to max events of zone zn with a sequence number above
// after, in sequence order, as Tail does, but read from this process's
// ring of the zone's recent events while it reaches back (one tailer per
// zone and process, shared with the event streams), so that many readers
// of one zone (webhooks) cost no query each. It also returns the highest
// sequence number known of the zone (at least the last event's), and a
// channel that is closed when some zone's log moves on after the read:
// wait on it before asking again.
func (s *Service) Feed(ctx context.Context, zn string, after int64, max int) ([]Event, int64, <-chan struct{}, error) {
	b := s.broker
	if err := b.follow(ctx); err != nil {
		return nil, 0, nil, err
	}
	b.mu.Lock()
	changed := b.changed
	b.mu.Unlock()
	evs, head, ok := b.since(zn, after, max)
	if ok && len(evs) > 0 {
		return evs, head, changed, nil
	}
	// Nothing in the ring: it may not have read yet what is in the zone's
	// log (it polls), or no longer reach back to after.
	head, err := s.Head(ctx, zn)
	if err != nil || head <= after {
		return nil, head, changed, err
	}
	evs, err = s.Tail(ctx, zn, after, max)
	return evs, head, changed, err
}
