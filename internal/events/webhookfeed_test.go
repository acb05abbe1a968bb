package events_test

import (
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/events"
)

// TestFeed: Feed reads a zone's log after a position, in order, from the
// ring or the database, says the head, and its channel closes when the
// log moves on; webhook.disabled is a type events may have.
func TestFeed(t *testing.T) {
	forEngines(t, func(t *testing.T, f *fixture) {
		ctx := ctxT(t)
		if !events.ValidType(events.TypeWebhookDisabled) {
			t.Fatal("webhook.disabled is not a valid type")
		}
		first, err := f.svc.Record(ctx, events.Event{CameraID: f.camA.ID, Type: events.TypeWebhookDisabled})
		if err != nil {
			t.Fatal(err)
		}
		evs, head, _, err := f.svc.Feed(ctx, "z1", first.Seq-1, 10)
		if err != nil || len(evs) != 1 || evs[0].ID != first.ID || head != first.Seq {
			t.Fatalf("feed from before the first event: %+v head %d, %v", evs, head, err)
		}
		evs, _, changed, _ := f.svc.Feed(ctx, "z1", first.Seq, 10)
		if len(evs) != 0 {
			t.Fatalf("feed past the head: %+v", evs)
		}
		var seqs []int64
		for i := range 3 {
			e, err := f.svc.Record(ctx, events.Event{CameraID: f.camB.ID, Type: events.TypeOnline, Detail: events.Detail(map[string]int{"i": i})})
			if err != nil {
				t.Fatal(err)
			}
			seqs = append(seqs, e.Seq)
		}
		// The channel closes when the feed learns of new events; it may
		// learn of them one notice at a time, so a reader (as the webhook
		// deliverer does) reads again and waits on the new channel until
		// what it wants is there.
		deadline := time.After(5 * time.Second)
		for {
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("the feed did not show two of the new events within 5 s: %+v head %d", evs, head)
			}
			evs, head, changed, err = f.svc.Feed(ctx, "z1", first.Seq, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 2 {
				break
			}
		}
		if evs[0].Seq != seqs[0] || evs[1].Seq != seqs[1] || head < seqs[1] {
			t.Fatalf("feed of two: %+v head %d", evs, head)
		}
	})
}
