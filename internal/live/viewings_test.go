package live

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camcloud/camcloud/internal/store"
)

// TestViewingsCoalesce: hand-outs of one viewer and camera make one entry
// with how long it was watched, written once it has been idle; another
// viewer, another camera or a later visit make entries of their own.
func TestViewingsCoalesce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var written []store.AuditEntry
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	v := newViewings(func(_ context.Context, e store.AuditEntry) { mu.Lock(); written = append(written, e); mu.Unlock() }, clock, time.Hour)
	defer v.close()
	entries := func() []store.AuditEntry {
		mu.Lock()
		defer mu.Unlock()
		return append([]store.AuditEntry(nil), written...)
	}
	live := func(cam string) store.AuditEntry {
		return store.AuditEntry{Action: "media.live", Target: "camera:" + cam, CameraID: cam, Actor: "v@example.com"}
	}

	for range 16 { // one grid visit: the tile, reloaded, and its pings
		v.handout(context.Background(), "session:a", live("c1"))
		advance(10 * time.Second)
	}
	v.handout(context.Background(), "session:b", live("c1"))
	v.handout(context.Background(), "session:a", live("c2"))
	if n := len(entries()); n != 0 {
		t.Fatalf("%d entries written while the viewings are open", n)
	}
	advance(time.Hour)
	v.flush(clock().Add(-time.Hour))
	got := entries()
	if len(got) != 3 {
		t.Fatalf("%d entries, want 3 (a/c1, b/c1, a/c2): %+v", len(got), got)
	}
	var a1 store.AuditEntry
	for _, e := range got {
		if e.CameraID == "c1" && strings.Contains(e.Detail, "16 URL hand-outs") {
			a1 = e
		}
	}
	if !strings.HasPrefix(a1.Detail, "watched live for 2m30s (from 2026-12-01 12:00:00 to 2026-12-01 12:02:30 UTC") {
		t.Fatalf("entry of session a and camera c1: %+v", got)
	}
	v.handout(context.Background(), "session:a", live("c1")) // a later visit
	v.close()
	if got := entries(); len(got) != 4 || !strings.Contains(got[3].Detail, "1 URL hand-outs") {
		t.Fatalf("after a later visit and close: %+v", got)
	}
	v.handout(context.Background(), "session:a", live("c1")) // after close: written at once
	if got := entries(); len(got) != 5 || !strings.Contains(got[4].Detail, "not coalesced") {
		t.Fatalf("a hand-out after close: %+v", got)
	}
}
