package store

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestZoneEvents(t *testing.T) {
	forEngines(t, func(t *testing.T, dsn string) {
		z := openZone(t, dsn)
		t.Run("log", func(t *testing.T) { testEventLog(t, z) })
		t.Run("ranged", func(t *testing.T) { testRangedEvents(t, z) })
		t.Run("retention", func(t *testing.T) { testEventRetention(t, z) })
		t.Run("presence", func(t *testing.T) { testPresence(t, z) })
		t.Run("validation", func(t *testing.T) { testEventValidation(t, z) })
		t.Run("concurrent tail", func(t *testing.T) { testConcurrentTail(t, z, openZone(t, dsn)) })
	})
}

// ev returns an event of camera (org "org-a") at base+s seconds.
func ev(id, camera, typ string, base time.Time, s int) Event {
	return Event{ID: id, CameraID: camera, OrgID: "org-a", Type: typ, Start: base.Add(time.Duration(s) * time.Second),
		Detail: `{"n":` + fmt.Sprint(s) + `}`, Source: "system"}
}

func ids(es []Event) []string {
	out := []string{}
	for _, e := range es {
		out = append(out, e.ID)
	}
	return out
}

func wantIDs(t *testing.T, what string, es []Event, want ...string) {
	t.Helper()
	if got := ids(es); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

func testEventLog(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0
	head, err := z.LastEventSeq(ctx)
	must(t, err)
	last := head
	for i, e := range []Event{
		ev("e1", "cam-log-1", "camera.online", base, 0),
		ev("e2", "cam-log-1", "camera.offline", base, 10),
		ev("e3", "cam-log-2", "custom", base, 5),
		ev("e4", "cam-log-1", "custom.door", base, 10), // same start as e2
	} {
		if i == 2 {
			e.OrgID = "org-b"
		}
		got, err := z.InsertEvent(ctx, e)
		must(t, err)
		if got.Seq <= last {
			t.Fatalf("seq %d after %d", got.Seq, last)
		}
		last = got.Seq
	}
	e, err := z.GetEvent(ctx, "e2")
	must(t, err)
	if !e.Start.Equal(base.Add(10*time.Second)) || e.Detail != `{"n":10}` || e.Type != "camera.offline" || e.OrgID != "org-a" || e.Ongoing || !e.End.IsZero() {
		t.Fatalf("got %+v", e)
	}
	_, err = z.GetEvent(ctx, "missing")
	wantErr(t, err, ErrNotFound)
	_, err = z.InsertEvent(ctx, ev("e1", "cam-log-9", "custom", base, 99))
	wantErr(t, err, ErrConflict)

	all, err := z.ListEvents(ctx, EventFilter{OrgIDs: []string{"org-a", "org-b"}})
	must(t, err)
	wantIDs(t, "newest first", all, "e4", "e2", "e3", "e1")
	es, err := z.ListEvents(ctx, EventFilter{OrgIDs: []string{"org-a"}})
	must(t, err)
	wantIDs(t, "org a", es, "e4", "e2", "e1")
	es, err = z.ListEvents(ctx, EventFilter{OrgIDs: []string{}})
	must(t, err)
	wantIDs(t, "no org", es)
	es, err = z.ListEvents(ctx, EventFilter{CameraID: "cam-log-1", Types: []string{"camera.online", "camera.offline"}})
	must(t, err)
	wantIDs(t, "camera and types", es, "e2", "e1")
	es, err = z.ListEvents(ctx, EventFilter{CameraID: "cam-log-1", From: base.Add(time.Second), To: base.Add(10 * time.Second)})
	must(t, err)
	wantIDs(t, "from to", es)
	es, err = z.ListEvents(ctx, EventFilter{OrgIDs: []string{"org-a", "org-b"}, Limit: 2})
	must(t, err)
	wantIDs(t, "page 1", es, "e4", "e2")
	es, err = z.ListEvents(ctx, EventFilter{OrgIDs: []string{"org-a", "org-b"}, Limit: 2, After: &es[1]})
	must(t, err)
	wantIDs(t, "page 2", es, "e3", "e1")

	tail, err := z.TailEvents(ctx, head, 10)
	must(t, err)
	wantIDs(t, "tail", tail, "e1", "e2", "e3", "e4")
	tail, err = z.TailEvents(ctx, tail[1].Seq, 1)
	must(t, err)
	wantIDs(t, "tail after", tail, "e3")
	n, err := z.LastEventSeq(ctx)
	must(t, err)
	if n != last {
		t.Fatalf("last seq %d, want %d", n, last)
	}
}

func testRangedEvents(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0.Add(time.Hour)
	open := ev("r1", "cam-r", "motion", base, 0)
	open.Ongoing = true
	got, err := z.InsertEvent(ctx, open)
	must(t, err)
	other := ev("r2", "cam-r", "recording.gap", base, 1)
	other.Ongoing = true
	_, err = z.InsertEvent(ctx, other)
	must(t, err)
	on, err := z.OngoingEvents(ctx, "cam-r", "motion")
	must(t, err)
	wantIDs(t, "ongoing motion", on, "r1")
	on, err = z.OngoingEvents(ctx, "cam-r", "")
	must(t, err)
	wantIDs(t, "ongoing any", on, "r1", "r2")
	closed, err := z.CloseEvent(ctx, "r1", base.Add(7*time.Second))
	must(t, err)
	if closed.Seq <= got.Seq || closed.Ongoing || !closed.End.Equal(base.Add(7*time.Second)) {
		t.Fatalf("closed %+v after %+v", closed, got)
	}
	_, err = z.CloseEvent(ctx, "r1", base.Add(8*time.Second))
	wantErr(t, err, ErrNotFound)
	tail, err := z.TailEvents(ctx, got.Seq, 10)
	must(t, err)
	wantIDs(t, "tail sees the close", tail, "r2", "r1")
	// An end before the start is the start.
	c2, err := z.CloseEvent(ctx, "r2", base)
	must(t, err)
	if !c2.End.Equal(c2.Start) {
		t.Fatalf("end %s, start %s", c2.End, c2.Start)
	}
	on, err = z.OngoingEvents(ctx, "cam-r", "")
	must(t, err)
	wantIDs(t, "none ongoing", on)
}

func testEventRetention(t *testing.T, z Zone) {
	ctx := ctxT(t)
	base := t0.Add(2 * time.Hour)
	for i := range 7 {
		_, err := z.InsertEvent(ctx, ev(fmt.Sprintf("d%d", i), "cam-del", "custom", base, i))
		must(t, err)
	}
	n, err := z.DeleteEvents(ctx, "cam-del", base.Add(5*time.Second), 2)
	must(t, err)
	if n != 2 {
		t.Fatalf("deleted %d, want 2", n)
	}
	n, err = z.DeleteEvents(ctx, "cam-del", base.Add(5*time.Second), 100)
	must(t, err)
	if n != 3 {
		t.Fatalf("deleted %d, want 3", n)
	}
	es, err := z.ListEvents(ctx, EventFilter{CameraID: "cam-del"})
	must(t, err)
	wantIDs(t, "kept", es, "d6", "d5")
	cams, err := z.EventCameras(ctx)
	must(t, err)
	found := false
	for _, c := range cams {
		found = found || c == "cam-del"
	}
	if !found {
		t.Fatalf("event cameras %v lack cam-del", cams)
	}
}

func testPresence(t *testing.T, z Zone) {
	ctx := ctxT(t)
	now := t0.Add(3 * time.Hour)
	cam := "cam-p"
	p, err := z.GetPresence(ctx, cam)
	must(t, err)
	if p.State != "" {
		t.Fatalf("presence %+v", p)
	}
	changed, e, err := z.MarkOnline(ctx, cam, "s1", now, ev("p1", cam, "camera.online", now, 0))
	must(t, err)
	if !changed || e.Seq == 0 {
		t.Fatalf("first online: %v %+v", changed, e)
	}
	// Online again, from another server: no event, the holder moves.
	changed, _, err = z.MarkOnline(ctx, cam, "s2", now, ev("p2", cam, "camera.online", now, 1))
	must(t, err)
	if changed {
		t.Fatal("online twice made an event")
	}
	p, err = z.GetPresence(ctx, cam)
	must(t, err)
	if p.State != PresenceOnline || p.Server != "s2" || !p.Since.Equal(now) {
		t.Fatalf("presence %+v", p)
	}
	// Status online and fresh: not gone.
	must(t, z.PutStatus(ctx, CameraStatus{CameraID: cam, Online: true, LastSeen: now.Add(10 * time.Second), Server: "s2"}))
	off := ev("p3", cam, "camera.offline", now, 20)
	changed, st, _, err := z.MarkOffline(ctx, cam, now.Add(15*time.Second), now.Add(5*time.Second), off)
	must(t, err)
	if changed || !st.Online {
		t.Fatalf("marked offline a camera reported online: %v %+v", changed, st)
	}
	away, err := z.AwayCameras(ctx, now.Add(15*time.Second), now.Add(5*time.Second), 10)
	must(t, err)
	if len(away) != 0 {
		t.Fatalf("away %+v", away)
	}
	// Online but stale (its server stopped): gone.
	away, err = z.AwayCameras(ctx, now, now.Add(20*time.Second), 10)
	must(t, err)
	if len(away) != 1 || away[0].Status.CameraID != cam || away[0].Presence.Server != "s2" {
		t.Fatalf("away %+v", away)
	}
	// Offline, but more recently than awayBefore: not yet.
	must(t, z.PutStatus(ctx, CameraStatus{CameraID: cam, Online: false, LastSeen: now.Add(12 * time.Second)}))
	changed, _, _, err = z.MarkOffline(ctx, cam, now.Add(11*time.Second), now, off)
	must(t, err)
	if changed {
		t.Fatal("offline within the debounce")
	}
	changed, st, e, err = z.MarkOffline(ctx, cam, now.Add(12*time.Second), now, off)
	must(t, err)
	if !changed || st.Online || e.ID != "p3" {
		t.Fatalf("offline: %v %+v %+v", changed, st, e)
	}
	changed, _, _, err = z.MarkOffline(ctx, cam, now.Add(time.Hour), now.Add(time.Hour), ev("p4", cam, "camera.offline", now, 30))
	must(t, err)
	if changed {
		t.Fatal("offline twice made an event")
	}
	p, err = z.GetPresence(ctx, cam)
	must(t, err)
	if p.State != PresenceOffline {
		t.Fatalf("presence %+v", p)
	}
	changed, _, err = z.MarkOnline(ctx, cam, "s1", now, ev("p5", cam, "camera.online", now, 40))
	must(t, err)
	if !changed {
		t.Fatal("back online made no event")
	}
	es, err := z.ListEvents(ctx, EventFilter{CameraID: cam})
	must(t, err)
	wantIDs(t, "presence events", es, "p5", "p3", "p1")
	must(t, z.DeletePresence(ctx, cam))
	p, err = z.GetPresence(ctx, cam)
	must(t, err)
	if p.State != "" {
		t.Fatalf("presence after delete %+v", p)
	}
	// A camera never seen is not marked offline.
	changed, _, _, err = z.MarkOffline(ctx, "cam-never", now.Add(time.Hour), now.Add(time.Hour), ev("p6", "cam-never", "camera.offline", now, 0))
	must(t, err)
	if changed {
		t.Fatal("unknown camera marked offline")
	}
}

func testEventValidation(t *testing.T, z Zone) {
	ctx := ctxT(t)
	bad := []Event{
		{},
		{ID: "v1", CameraID: "c", OrgID: "o", Type: "custom", Source: "s"},                                                            // no start
		{ID: "v2", CameraID: "c", OrgID: "o", Type: "custom", Source: "s", Start: t0, End: t0.Add(-time.Second)},                      // end before start
		{ID: "v3", CameraID: "c", OrgID: "o", Type: "custom", Source: "s", Start: t0, End: t0.Add(time.Second), Ongoing: true},        // ongoing with end
		{ID: "v4", CameraID: "c", OrgID: "o", Type: "custom", Source: "s", Start: t0, Detail: string(make([]byte, MaxEventDetail+1))}, // too large
		{ID: "v5", CameraID: "c", OrgID: "", Type: "custom", Source: "s", Start: t0},
	}
	for i, e := range bad {
		if _, err := z.InsertEvent(ctx, e); err == nil {
			t.Errorf("bad event %d accepted", i)
		}
	}
	if _, err := z.ListEvents(ctx, EventFilter{Types: make([]string, maxEventTypes+1)}); err == nil {
		t.Error("too many types accepted")
	}
}

// testConcurrentTail: writers on two connection pools insert at once
// while a reader tails; the reader sees every event exactly once, in seq
// order, although it only ever asks for seq > the last it saw.
func testConcurrentTail(t *testing.T, a, b Zone) {
	ctx := ctxT(t)
	start, err := a.LastEventSeq(ctx)
	must(t, err)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		z := a
		if w%2 == 1 {
			z = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := z.InsertEvent(ctx, ev(fmt.Sprintf("c%d-%d", w, i), fmt.Sprintf("cam-c%d", w), "custom", t0, i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	seen := map[string]bool{}
	cursor := start
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	finished := false
	for !finished {
		select {
		case <-done:
			finished = true
		default:
		}
		es, err := b.TailEvents(ctx, cursor, 7)
		must(t, err)
		for _, e := range es {
			if e.Seq <= cursor || seen[e.ID] {
				t.Fatalf("event %s seq %d after cursor %d (seen %v)", e.ID, e.Seq, cursor, seen[e.ID])
			}
			seen[e.ID], cursor = true, e.Seq
		}
		if finished && len(es) == 7 {
			finished = false // drain what is left
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(seen) != writers*each {
		t.Fatalf("tailed %d events of %d", len(seen), writers*each)
	}
}
